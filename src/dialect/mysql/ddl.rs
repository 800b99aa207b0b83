//! CREATE TABLE, column definitions, types, defaults, constraints and indexes as SQLAlchemy's
//! MySQL DDL and type compilers write them.

use super::{bool_text, quote, string_literal, unsupported, Mysql};
use crate::dialect::spelling::Spelling;
use crate::dialect::RenderError;
use crate::ir::{
    Affinity, Autoincrement, Column, Constraint, ConstraintKind, DialectOption, Index, IndexPart,
    ServerDefault, SqlType, Table,
};
use crate::schema::schema_type_check;

/// The type name SQLAlchemy's MySQL type compiler writes; `column` names the column in errors.
/// `native_uuid`: `Uuid` is the server's own `UUID` type (MariaDB, SQLAlchemy 2.1).
pub(crate) fn type_sql(
    ty: &SqlType,
    native_uuid: bool,
    column: &str,
) -> Result<String, RenderError> {
    let sized = |n: &Option<u32>, base: &str| match n {
        Some(n) => format!("{base}({n})"),
        None => base.to_string(),
    };
    let needs_length = |what: &str| {
        unsupported(format!(
            "column '{column}': {what} requires a length on MySQL (a String() without length \
             cannot be created there; give it one, e.g. sa.String(255))"
        ))
    };
    Ok(match ty.for_dialect("mysql") {
        SqlType::Varchar { length: None, .. } => return Err(needs_length("VARCHAR")),
        SqlType::Varchar {
            length: Some(n),
            collation,
        } => match collation {
            Some(c) => format!("VARCHAR({n}) COLLATE {c}"),
            None => format!("VARCHAR({n})"),
        },
        SqlType::Char { length } => sized(length, "CHAR"),
        SqlType::NVarchar { length: None } => return Err(needs_length("NVARCHAR")),
        SqlType::NVarchar { length: Some(n) } => format!("NATIONAL VARCHAR({n})"),
        SqlType::Text { length } => sized(length, "TEXT"),
        SqlType::Integer => "INTEGER".into(),
        SqlType::BigInteger => "BIGINT".into(),
        SqlType::SmallInteger => "SMALLINT".into(),
        SqlType::Float { double: true, .. } => "DOUBLE".into(),
        SqlType::Float { precision, .. } => sized(precision, "FLOAT"),
        SqlType::Numeric { precision, scale } => match (precision, scale) {
            (Some(p), Some(s)) => format!("NUMERIC({p}, {s})"),
            (Some(p), None) => format!("NUMERIC({p})"),
            _ => "NUMERIC".into(),
        },
        SqlType::Boolean { .. } => "BOOL".into(),
        // Interval is emulated with a DATETIME where the database has none.
        SqlType::DateTime { .. } | SqlType::Interval => "DATETIME".into(),
        SqlType::Timestamp { .. } => "TIMESTAMP".into(),
        SqlType::Date => "DATE".into(),
        SqlType::Time { .. } => "TIME".into(),
        SqlType::LargeBinary { length } => sized(length, "BLOB"),
        SqlType::Json => "JSON".into(),
        // MariaDB 10.7+ has a native UUID type, which SQLAlchemy 2.1 uses; MySQL (and
        // SQLAlchemy 2.0 on MariaDB) stores the hex digits.
        SqlType::Uuid if native_uuid => "UUID".into(),
        SqlType::Uuid => "CHAR(32)".into(),
        SqlType::Enum {
            values,
            native: true,
            ..
        } => format!(
            "ENUM({})",
            values
                .iter()
                .map(|v| string_literal(v))
                .collect::<Vec<_>>()
                .join(",")
        ),
        SqlType::Enum { values, length, .. } => {
            let longest = values.iter().map(|v| v.chars().count()).max().unwrap_or(0) as u32;
            format!("VARCHAR({})", length.unwrap_or(longest))
        }
        SqlType::DialectSpecific { dialect, name, .. } if dialect == "mysql" => name.clone(),
        SqlType::DialectSpecific { dialect, name, .. } => {
            let (dialect, name) = ty.declared().unwrap_or((dialect, name));
            return Err(unsupported(format!(
                "column '{column}': the {dialect} type {name} has no MySQL spelling \
                 (add .with_variant(..., \"mysql\"))"
            )));
        }
        SqlType::Named(name) | SqlType::Reflected(name) => name.clone(),
        SqlType::Variant { base, .. } => type_sql(base, native_uuid, column)?,
    })
}

/// A server default as SQLAlchemy writes it after `DEFAULT` (in `MODIFY` and `SET DEFAULT`).
pub(crate) fn default_text(d: &ServerDefault) -> String {
    match d {
        ServerDefault::Literal(s) => string_literal(s),
        ServerDefault::Sql(s) => s.clone(),
        ServerDefault::Bool(b) => bool_text(*b).to_string(),
    }
}

/// A server default in a column definition: an expression that is not quoted, not
/// parenthesized, not an `ON UPDATE` clause nor `now(N)`, and has a non-word character is
/// parenthesized (MySQL 8.0.13+ and MariaDB 10.2+ take expression defaults that way).
pub(super) fn column_default_sql(d: &ServerDefault) -> String {
    let text = default_text(d);
    let lower = text.to_ascii_lowercase();
    let quoted = text.trim_start().starts_with(['\'', '"', '(']);
    let on_update = lower
        .split_whitespace()
        .collect::<Vec<_>>()
        .windows(2)
        .any(|w| w[0] == "on" && w[1].starts_with("update"));
    let precise_now = ["now(", "current_timestamp("].iter().any(|f| {
        lower.strip_prefix(f).is_some_and(|rest| {
            let digits = rest.trim_end_matches(|c: char| c != ')');
            rest.starts_with(|c: char| c.is_ascii_digit()) && digits.ends_with(')')
        })
    });
    let has_non_word = text.chars().any(|c| !(c.is_alphanumeric() || c == '_'));
    if !quoted && !on_update && !precise_now && has_non_word {
        format!("({text})")
    } else {
        text
    }
}

/// `Column(..., unique=True, index=True)` is one unique index `ix_<table>_<column>` in
/// SQLAlchemy, not a unique constraint beside a plain index.
pub(super) fn unique_indexes_restated(table: &Table) -> Table {
    let mut t = table.clone();
    for c in t.columns.iter_mut().filter(|c| c.unique && c.index) {
        c.unique = false;
        c.index = false;
        t.indexes.push(Index {
            name: format!("ix_{}_{}", table.name, c.name),
            table: table.name.clone(),
            parts: vec![IndexPart::Column(c.name.clone())],
            unique: true,
            dialect_options: Vec::new(),
        });
    }
    t
}

/// A primary key made from `primary_key=True` columns lists its AUTO_INCREMENT column first
/// on MySQL (an explicit `PrimaryKeyConstraint` keeps its order).
pub(super) fn autoincrement_first(t: &mut Table) {
    let Some(auto) = autoincrement_column(t) else {
        return;
    };
    for c in &mut t.constraints {
        if let Constraint::PrimaryKey { columns, .. } = c {
            if let Some(pos) = columns.iter().position(|n| *n == auto) {
                let col = columns.remove(pos);
                columns.insert(0, col);
            }
        }
    }
}

/// The column SQLAlchemy would make AUTO_INCREMENT in a table: the single integer primary key
/// column with no default and no foreign key (autoincrement "auto"), or the primary key column
/// marked `autoincrement=True`.
pub(crate) fn autoincrement_column(table: &Table) -> Option<String> {
    let pk = table.primary_key()?.columns();
    let in_fk = |name: &str| {
        table.constraints.iter().any(|c| {
            c.kind() == ConstraintKind::ForeignKey && c.columns().iter().any(|n| n == name)
        })
    };
    let integer = |c: &Column| c.ty.for_dialect("mysql").affinity() == Affinity::Integer;
    match pk {
        [one] => {
            let c = table.column(one)?;
            let auto = c.autoincrement == Autoincrement::Auto
                && integer(c)
                && c.server_default.is_none()
                && c.computed.is_none()
                && !in_fk(&c.name);
            (c.autoincrement == Autoincrement::Yes || auto).then(|| c.name.clone())
        }
        many => many
            .iter()
            .find(|n| table.column(n).map(|c| c.autoincrement) == Some(Autoincrement::Yes))
            .cloned(),
    }
}

fn is_timestamp(ty: &SqlType) -> bool {
    match ty.for_dialect("mysql") {
        SqlType::DialectSpecific { name, .. } | SqlType::Named(name) | SqlType::Reflected(name) => {
            name.to_ascii_uppercase().starts_with("TIMESTAMP")
        }
        SqlType::Timestamp { .. } => true,
        _ => false,
    }
}

impl Mysql {
    fn type_sql(&self, ty: &SqlType, table: &str, column: &str) -> Result<String, RenderError> {
        type_sql(ty, self.native_uuid(), &format!("{table}.{column}"))
    }

    /// `name TYPE [GENERATED ...] [NOT NULL] [COMMENT '...'] [AUTO_INCREMENT | DEFAULT x]`.
    pub(super) fn column_spec(
        &self,
        table: &str,
        col: &Column,
        autoincrement: bool,
    ) -> Result<String, RenderError> {
        let mut spec = format!(
            "{} {}",
            quote(&col.name),
            self.type_sql(&col.ty, table, &col.name)?
        );
        if let Some(c) = &col.computed {
            spec += &format!(" GENERATED ALWAYS AS ({})", c.sqltext);
            match c.persisted {
                Some(true) => spec += " STORED",
                Some(false) => spec += " VIRTUAL",
                None => {}
            }
        }
        if !col.nullable {
            spec += " NOT NULL";
        } else if is_timestamp(&col.ty) {
            spec += " NULL";
        }
        if let Some(c) = &col.comment {
            spec += &format!(" COMMENT {}", string_literal(c));
        }
        match &col.server_default {
            None if autoincrement => spec += " AUTO_INCREMENT",
            Some(d) => spec += &format!(" DEFAULT {}", column_default_sql(d)),
            None => {}
        }
        Ok(spec)
    }

    /// A constraint as it appears in CREATE TABLE and after `ALTER TABLE ... ADD`.
    pub(super) fn constraint_sql(&self, c: &Constraint, table: &Table) -> String {
        Spelled { table: Some(table) }.constraint_sql(c)
    }

    /// CREATE TABLE for a table as the schema model holds it (constraints table-level, names as
    /// the script gave them).
    /// `CREATE TABLE` with `indexes` (already spelled, see `inline_index`) declared last.
    pub(super) fn create_table_sql(
        &self,
        table: &Table,
        indexes: &[String],
    ) -> Result<String, RenderError> {
        let auto = autoincrement_column(table);
        let mut items = Vec::with_capacity(table.columns.len() + table.constraints.len());
        for c in &table.columns {
            items.push(self.column_spec(&table.name, c, auto.as_deref() == Some(&c.name))?);
        }
        if let Some(pk) = table.primary_key() {
            items.push(self.constraint_sql(pk, table));
        }
        for c in &table.constraints {
            if c.kind() != ConstraintKind::PrimaryKey {
                items.push(self.constraint_sql(c, table));
            }
        }
        items.extend(indexes.iter().cloned());
        let options = match &table.comment {
            Some(c) => format!("COMMENT={}", string_literal(c)),
            None => String::new(),
        };
        Ok(format!(
            "CREATE TABLE {} (\n\t{}\n){options}",
            quote(&table.name),
            items.join(", \n\t")
        ))
    }
}

/// A CHECK's text; a Boolean/Enum type's own CHECK (as the schema model words it) is written
/// with the column name quoted as SQLAlchemy does.
fn check_sql(table: &Table, sqltext: &str) -> String {
    for col in &table.columns {
        let ty = col.ty.for_dialect("mysql");
        if let Some(Constraint::Check { sqltext: own, .. }) = schema_type_check(&col.name, ty) {
            if own == sqltext {
                return type_check_sql(&col.name, ty).unwrap_or(own);
            }
        }
    }
    sqltext.to_string()
}

/// The CHECK text of a non-native Boolean or Enum on MySQL.
fn type_check_sql(column: &str, ty: &SqlType) -> Option<String> {
    match ty {
        SqlType::Boolean { .. } => Some(format!("{} IN (0, 1)", quote(column))),
        SqlType::Enum { values, .. } => Some(format!(
            "{} IN ({})",
            quote(column),
            values
                .iter()
                .map(|v| string_literal(v))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        _ => None,
    }
}

/// MySQL's spelling: SQLAlchemy's default, with a CHECK of a column's own type written as
/// the server keeps it, index prefix lengths and index kinds (`mysql_prefix`).
struct Spelled<'a> {
    table: Option<&'a Table>,
}

impl Spelling for Spelled<'_> {
    fn ident(&self, name: &str) -> String {
        quote(name)
    }

    fn check_clause(&self, sqltext: &str) -> String {
        match self.table {
            Some(table) => check_sql(table, sqltext),
            None => sqltext.to_string(),
        }
    }

    fn index_parts(&self, index: &Index) -> Vec<String> {
        let length = index.option("mysql_length");
        index
            .parts
            .iter()
            .map(|p| match p {
                IndexPart::Column(c) => {
                    let n = match length {
                        Some(DialectOption::Int(n)) => Some(*n),
                        Some(DialectOption::PerColumn(per)) => {
                            per.iter().find(|(k, _)| k == c).map(|(_, n)| *n)
                        }
                        _ => None,
                    };
                    match n {
                        Some(n) => format!("{}({n})", quote(c)),
                        None => quote(c),
                    }
                }
                IndexPart::Expression(e) => match length {
                    Some(DialectOption::Int(n)) => format!("{e}({n})"),
                    _ => e.clone(),
                },
            })
            .collect()
    }

    fn index_kind(&self, index: &Index) -> Option<String> {
        text_option(index, "mysql_prefix")
    }
}

/// A text-valued dialect option of an index.
fn text_option(index: &Index, key: &str) -> Option<String> {
    match index.option(key) {
        Some(DialectOption::Str(s)) | Some(DialectOption::Sql(s)) => Some(s.clone()),
        _ => None,
    }
}

/// A `CREATE INDEX name ON table (...)` statement as an index definition inside `CREATE
/// TABLE` (`INDEX name (...)`, options kept), or `None` when it is not of that shape.
pub(super) fn inline_index(create_index: &str, table: &str) -> Option<String> {
    let rest = create_index.strip_prefix("CREATE ")?;
    let on = format!(" ON {} ", quote(table));
    let at = rest.find(&on)?;
    Some(format!("{} {}", &rest[..at], &rest[at + on.len()..]))
}

pub(super) fn create_index_sql(index: &Index, table: &str) -> String {
    let mut sql = Spelled { table: None }.create_index_sql(index, table);
    if let Some(parser) = text_option(index, "mysql_with_parser") {
        sql += &format!(" WITH PARSER {parser}");
    }
    if let Some(using) = text_option(index, "mysql_using") {
        sql += &format!(" USING {}", quote(&using));
    }
    sql
}
