//! SQLite: the DDL SQLAlchemy's SQLite compiler writes, and Alembic's SQLite behaviour:
//! no ALTER of constraints or column types outside batch mode, and batch mode's
//! "move and copy" rebuild (in `batch.rs`) when `recreate` asks for it.

mod batch;
mod coalesce;
mod copy_order;
pub mod keywords;

use crate::dialect::spelling::Spelling;
use crate::dialect::{needs_quotes, string_literal, Dialect, ExprWriter, RenderError, SqlAlchemy};
use crate::ir::{
    AlterColumn, Column, Constraint, ConstraintKind, Index, IndexPart, Literal, Op, ServerDefault,
    SqlType, Table,
};
use crate::schema::SchemaModel;

#[derive(Debug, Clone, Copy, Default)]
pub struct Sqlite {
    /// The SQLAlchemy line whose spelling is reproduced (collations, `JSONB`).
    pub sqlalchemy: SqlAlchemy,
}

pub(crate) fn quote(ident: &str) -> String {
    if needs_quotes(ident, keywords::KEYWORDS) {
        format!("\"{}\"", ident.replace('"', "\"\""))
    } else {
        ident.to_string()
    }
}

fn bool_text(b: bool) -> &'static str {
    if b {
        "1"
    } else {
        "0"
    }
}

pub(crate) fn expr_writer() -> ExprWriter<'static> {
    ExprWriter {
        quote: &quote,
        literal,
        qualify: false,
    }
}

/// The type name the SQLite type compiler of SQLAlchemy `sa` writes.
pub(crate) fn type_sql(ty: &SqlType, sa: SqlAlchemy) -> Result<String, RenderError> {
    let len = |n: &Option<u32>, base: &str| match n {
        Some(n) => format!("{base}({n})"),
        None => base.to_string(),
    };
    Ok(match ty.for_dialect("sqlite") {
        SqlType::Varchar { length, collation } => {
            let mut s = len(length, "VARCHAR");
            if let Some(c) = collation {
                s += &format!(" COLLATE {}", collation_name(c, sa));
            }
            s
        }
        SqlType::Char { length } => len(length, "CHAR"),
        SqlType::NVarchar { length } => len(length, "NVARCHAR"),
        SqlType::Text { length } => len(length, "TEXT"),
        SqlType::Integer => "INTEGER".into(),
        SqlType::BigInteger => "BIGINT".into(),
        SqlType::SmallInteger => "SMALLINT".into(),
        SqlType::Float { double: true, .. } => "DOUBLE".into(),
        SqlType::Float { .. } => "FLOAT".into(),
        SqlType::Numeric { precision, scale } => match (precision, scale) {
            (Some(p), Some(s)) => format!("NUMERIC({p}, {s})"),
            (Some(p), None) => format!("NUMERIC({p})"),
            _ => "NUMERIC".into(),
        },
        SqlType::Boolean { .. } => "BOOLEAN".into(),
        SqlType::DateTime { .. } | SqlType::Interval => "DATETIME".into(),
        SqlType::Timestamp { .. } => "TIMESTAMP".into(),
        SqlType::Date => "DATE".into(),
        SqlType::Time { .. } => "TIME".into(),
        SqlType::LargeBinary { .. } => "BLOB".into(),
        SqlType::Json => "JSON".into(),
        SqlType::Uuid => "CHAR(32)".into(),
        SqlType::Enum { values, length, .. } => {
            let longest = values.iter().map(|v| v.chars().count()).max().unwrap_or(0) as u32;
            format!("VARCHAR({})", length.unwrap_or(longest))
        }
        SqlType::DialectSpecific { name, .. } if name == "JSONB" && !sa.sqlite_spells_jsonb() => {
            return Err(unsupported(format!(
                "JSONB has no SQLite spelling in SQLAlchemy {sa} (2.1 added SQLite's JSONB); \
                 use with_variant"
            )))
        }
        SqlType::DialectSpecific { dialect, name, .. } if dialect == "sqlite" => name.clone(),
        SqlType::DialectSpecific { dialect, name, .. } => {
            let (dialect, name) = ty.declared().unwrap_or((dialect, name));
            return Err(unsupported(format!(
                "the {dialect} type {name} has no SQLite spelling (SQLAlchemy cannot compile it \
                 either); use with_variant"
            )));
        }
        SqlType::Named(name) | SqlType::Reflected(name) => name.clone(),
        SqlType::Variant { base, .. } => type_sql(base, sa)?,
    })
}

/// A collation's name after `COLLATE`: quoted as names are, or always (SQLAlchemy 2.0).
pub(crate) fn collation_name(name: &str, sa: SqlAlchemy) -> String {
    if sa.quotes_every_collation() {
        format!("\"{}\"", name.replace('"', "\"\""))
    } else {
        quote(name)
    }
}

/// The default clause text SQLAlchemy writes: string literals quoted, SQL text as is, and
/// SQL that is neither quoted nor parenthesized but contains a non-word character wrapped in
/// parentheses.
pub(crate) fn default_sql(d: &ServerDefault) -> String {
    let text = match d {
        ServerDefault::Literal(s) => string_literal(s),
        ServerDefault::Sql(s) => s.clone(),
        ServerDefault::Bool(b) => bool_text(*b).to_string(),
    };
    let starts_quoted = text.trim_start().starts_with(['\'', '"', '(']);
    let has_non_word = text.chars().any(|c| !(c.is_alphanumeric() || c == '_'));
    if !starts_quoted && has_non_word {
        format!("({text})")
    } else {
        text
    }
}

fn column_spec(col: &Column, table: &Table, sa: SqlAlchemy) -> Result<String, RenderError> {
    let mut spec = format!("{} {}", quote(&col.name), type_sql(&col.ty, sa)?);
    if let Some(d) = &col.server_default {
        spec += &format!(" DEFAULT {}", default_sql(d));
    }
    if !col.nullable {
        spec += " NOT NULL";
    }
    let _ = table;
    if let Some(c) = &col.computed {
        spec += &format!(" GENERATED ALWAYS AS ({})", c.sqltext);
        match c.persisted {
            Some(true) => spec += " STORED",
            Some(false) => spec += " VIRTUAL",
            None => {}
        }
    }
    Ok(spec)
}

/// SQLite's spelling: SQLAlchemy's default, names quoted as SQLite needs.
struct Spelled;

impl Spelling for Spelled {
    fn ident(&self, name: &str) -> String {
        quote(name)
    }
}

pub(crate) fn constraint_sql(c: &Constraint) -> String {
    Spelled.constraint_sql(c)
}

/// `CREATE TABLE` for a table as the schema model holds it (constraints already table-level).
pub(crate) fn create_table_sql(
    table: &Table,
    name: &str,
    sa: SqlAlchemy,
) -> Result<String, RenderError> {
    let mut items: Vec<String> = table
        .columns
        .iter()
        .map(|c| column_spec(c, table, sa))
        .collect::<Result<_, _>>()?;
    if let Some(pk) = table.primary_key() {
        items.push(constraint_sql(pk));
    }
    for c in &table.constraints {
        if c.kind() != ConstraintKind::PrimaryKey {
            items.push(constraint_sql(c));
        }
    }
    Ok(format!(
        "CREATE TABLE {} (\n\t{}\n)",
        quote(name),
        items.join(", \n\t")
    ))
}

pub(crate) fn create_index_sql(index: &Index, table: &str) -> String {
    let mut sql = Spelled.create_index_sql(index, table);
    if let Some(crate::ir::DialectOption::Sql(w)) = index.option("sqlite_where") {
        sql += &format!(" WHERE {w}");
    }
    sql
}

fn unsupported(what: String) -> RenderError {
    RenderError::Unsupported(what)
}

impl Sqlite {
    fn add_column(
        &self,
        model: &mut SchemaModel,
        table: &str,
        column: &Column,
    ) -> Result<Vec<String>, RenderError> {
        let t = model
            .table(table)
            .ok_or_else(|| crate::schema::SchemaError::NoTable(table.to_string()))?;
        if column.primary_key {
            return Err(unsupported(format!(
                "SQLite cannot add the primary key column '{table}.{}' with ALTER TABLE; use batch_alter_table",
                column.name
            )));
        }
        if !column.foreign_keys.is_empty() {
            return Err(unsupported(format!(
                "SQLite cannot add the foreign key of '{table}.{}' with ALTER; Alembic refuses it too (use batch_alter_table)",
                column.name
            )));
        }
        let mut plain = column.clone();
        plain.index = false;
        plain.unique = false;
        // Alembic skips (with a warning) the CHECK of a Boolean/Enum added by ALTER on SQLite.
        plain.ty = without_schema_constraint(&plain.ty);
        let mut out = vec![format!(
            "ALTER TABLE {} ADD COLUMN {}",
            quote(table),
            column_spec(&plain, t, self.sqlalchemy)?
        )];
        if column.unique {
            return Err(unsupported(format!(
                "SQLite cannot add the unique constraint of '{table}.{}' with ALTER; Alembic refuses it too (use batch_alter_table)",
                column.name
            )));
        }
        model.apply(&Op::AddColumn {
            table: table.to_string(),
            column: plain,
            insert_before: None,
            insert_after: None,
        })?;
        if column.index {
            let index = Index {
                name: format!("ix_{table}_{}", column.name),
                table: table.to_string(),
                parts: vec![IndexPart::Column(column.name.clone())],
                unique: false,
                dialect_options: Vec::new(),
            };
            out.push(create_index_sql(&index, table));
            model.apply(&Op::CreateIndex { index })?;
        }
        Ok(out)
    }
}

/// SQLite has no native ENUM: SQLAlchemy writes every Enum there as VARCHAR, with its CHECK
/// when `create_constraint=True` whatever `native_enum` says. Restating the op's enums as
/// non-native lets the schema model and batch mode see that CHECK.
fn with_non_native_enums(mut op: Op) -> Op {
    fn restate(ty: &mut SqlType) {
        match ty {
            SqlType::Enum { native, .. } => *native = false,
            SqlType::Variant { base, variants } => {
                restate(base);
                variants.iter_mut().for_each(|(_, t)| restate(t));
            }
            _ => {}
        }
    }
    match &mut op {
        Op::CreateTable { table } => table.columns.iter_mut().for_each(|c| restate(&mut c.ty)),
        Op::AddColumn { column, .. } => restate(&mut column.ty),
        Op::AlterColumn(a) => a
            .type_
            .iter_mut()
            .chain(a.existing_type.iter_mut())
            .for_each(restate),
        Op::Batch(b) => {
            b.ops = std::mem::take(&mut b.ops)
                .into_iter()
                .map(with_non_native_enums)
                .collect()
        }
        _ => {}
    }
    op
}

/// A Boolean or Enum whose CHECK is not created (SQLite ALTER, or a batch copy).
pub(crate) fn without_schema_constraint(ty: &SqlType) -> SqlType {
    match ty {
        SqlType::Boolean { name, .. } => SqlType::Boolean {
            create_constraint: false,
            name: name.clone(),
        },
        SqlType::Enum {
            values,
            name,
            native,
            length,
            ..
        } => SqlType::Enum {
            values: values.clone(),
            name: name.clone(),
            native: *native,
            create_constraint: false,
            length: *length,
        },
        SqlType::Variant { base, variants } => SqlType::Variant {
            base: Box::new(without_schema_constraint(base)),
            variants: variants
                .iter()
                .map(|(d, t)| (d.clone(), without_schema_constraint(t)))
                .collect(),
        },
        other => other.clone(),
    }
}

impl Dialect for Sqlite {
    fn name(&self) -> &'static str {
        "sqlite"
    }

    fn database(&self) -> crate::dialect::Database {
        crate::dialect::Database::Sqlite
    }

    fn sqlalchemy(&self) -> crate::dialect::SqlAlchemy {
        self.sqlalchemy
    }

    fn data_literal(&self, value: &crate::ir::Literal) -> String {
        literal(value)
    }

    fn quote(&self, ident: &str) -> String {
        quote(ident)
    }

    fn transactional_ddl(&self) -> bool {
        true
    }

    /// Consecutive rebuilds of a table become one (`coalesce`), then every rebuild copies its
    /// rows in the new primary key's order (`copy_order`).
    fn optimise_across(
        &self,
        ops: &mut [Vec<crate::plan::Statement>],
        triggers: &[&str],
    ) -> Vec<crate::plan::Joined> {
        let joined = coalesce::coalesce(ops, triggers);
        copy_order::order_copies(ops);
        joined
    }

    fn render(&self, model: &mut SchemaModel, op: &Op) -> Result<Vec<String>, RenderError> {
        let restated;
        let op = match op {
            Op::CreateTable { .. } | Op::AddColumn { .. } | Op::AlterColumn(_) | Op::Batch(_) => {
                restated = with_non_native_enums(op.clone());
                &restated
            }
            _ => op,
        };
        let out = match op {
            Op::CreateTable { table } => create_table(model, op, &table.name, self.sqlalchemy)?,
            Op::DropTable { table } => {
                model.apply(op)?;
                vec![format!("DROP TABLE {}", quote(table))]
            }
            Op::RenameTable { table, new_name } => {
                model.apply(op)?;
                vec![format!("ALTER TABLE {} RENAME TO {}", quote(table), quote(new_name))]
            }
            Op::AddColumn { table, column, .. } => self.add_column(model, table, column)?,
            Op::DropColumn { table, column } => {
                model.apply(op)?;
                vec![format!("ALTER TABLE {} DROP COLUMN {}", quote(table), quote(column))]
            }
            Op::AlterColumn(a) => rename_column(model, op, a)?,
            Op::CreateIndex { index } => {
                model.apply(op)?;
                vec![create_index_sql(index, &index.table)]
            }
            Op::DropIndex { name, .. } => {
                model.apply(op)?;
                vec![format!("DROP INDEX {}", quote(name))]
            }
            Op::AddConstraint { table, constraint } => {
                return Err(unsupported(format!(
                    "SQLite has no ALTER for constraints ({} on '{table}'); the script must use batch_alter_table",
                    describe_constraint(constraint)
                )))
            }
            Op::DropConstraint { table, name, .. } => {
                return Err(unsupported(format!(
                    "SQLite has no ALTER for constraints (dropping '{name}' on '{table}'); the script must use batch_alter_table"
                )))
            }
            Op::Execute {
                statement: crate::ir::Statement::Sql { text },
            } => crate::dialect::sqltext::split_statements(text, crate::dialect::sqltext::Family::Sqlite),
            Op::Execute { statement } => vec![expr_writer().statement(statement)],
            Op::BulkInsert {
                table,
                columns,
                rows,
            } => bulk_insert(table, columns, rows),
            Op::Batch(b) => batch::render(self, model, b)?,
        };
        Ok(out)
    }
}

/// The `CREATE TABLE` of `op` (which creates `name`) as the model records the table, then
/// its indexes.
fn create_table(
    model: &mut SchemaModel,
    op: &Op,
    name: &str,
    sa: SqlAlchemy,
) -> Result<Vec<String>, RenderError> {
    model.apply(op)?;
    let created = model
        .table(name)
        .cloned()
        .ok_or_else(|| crate::schema::SchemaError::NoTable(name.to_string()))?;
    let mut out = vec![create_table_sql(&created, &created.name, sa)?];
    for idx in &created.indexes {
        out.push(create_index_sql(idx, &created.name));
    }
    Ok(out)
}

/// The `RENAME COLUMN` of `op`, an `alter_column` `a` that only renames; an error for any
/// other change, which SQLite can only make in batch mode.
fn rename_column(
    model: &mut SchemaModel,
    op: &Op,
    a: &AlterColumn,
) -> Result<Vec<String>, RenderError> {
    let only_rename = a.nullable.is_none()
        && a.server_default.is_none()
        && a.type_.is_none()
        && a.comment.is_none()
        && a.autoincrement.is_none();
    match (&a.new_name, only_rename) {
        (Some(new), true) => {
            model.apply(op)?;
            Ok(vec![format!(
                "ALTER TABLE {} RENAME COLUMN {} TO {}",
                quote(&a.table),
                quote(&a.column),
                quote(new)
            )])
        }
        _ => Err(unsupported(format!(
            "SQLite cannot ALTER COLUMN '{}.{}' (type, nullability or default); the script must use batch_alter_table",
            a.table, a.column
        ))),
    }
}

/// One `INSERT` per row of a `bulk_insert` into `table`.
fn bulk_insert(table: &str, columns: &[String], rows: &[Vec<Literal>]) -> Vec<String> {
    rows.iter()
        .map(|row| {
            let values: Vec<String> = row.iter().map(literal).collect();
            format!(
                "INSERT INTO {} ({}) VALUES ({})",
                quote(table),
                columns
                    .iter()
                    .map(|c| quote(c))
                    .collect::<Vec<_>>()
                    .join(", "),
                values.join(", ")
            )
        })
        .collect()
}

fn describe_constraint(c: &Constraint) -> String {
    let kind = match c.kind() {
        ConstraintKind::PrimaryKey => "primary key",
        ConstraintKind::ForeignKey => "foreign key",
        ConstraintKind::Unique => "unique constraint",
        ConstraintKind::Check => "check constraint",
    };
    match c.name() {
        Some(n) => format!("{kind} '{n}'"),
        None => kind.to_string(),
    }
}

/// A literal for data statements on SQLite.
pub fn literal(v: &Literal) -> String {
    match v {
        // SQLAlchemy stores a datetime on SQLite as text with microseconds.
        Literal::UtcNow => "strftime('%Y-%m-%d %H:%M:%f000', 'now')".into(),
        other => crate::dialect::literal(other, bool_text),
    }
}
