//! PostgreSQL: the DDL SQLAlchemy's PostgreSQL compiler and Alembic's PostgreSQL implementation
//! write, statement for statement, and what the server does beyond the statement that the
//! schema model must know: the names it gives unnamed constraints (`names.rs`), the sequence
//! behind a SERIAL column, and the unique constraint CREATE TABLE folds into the primary key.
//!
//! Alembic on PostgreSQL: batch blocks run their operations as plain ALTERs; `alter_column`
//! changes the type first, then nullability, default, comment, and renames last, dropping the
//! old type's CHECK before and adding the new type's after; `add_column` adds the column's
//! constraints and index with statements of their own. Native enums get `CREATE TYPE` before
//! the CREATE TABLE that uses them; no `DROP TYPE` follows `drop_table` (Alembic's drop_table
//! knows no columns, and SQLAlchemy 2.1 leaves a table's enum types to its metadata).
//! A `persisted=None` computed column is written STORED, as SQLAlchemy does when
//! connected to PostgreSQL before 18. Limits: a client-side `default=` on an integer primary
//! key (which would stop SERIAL) is not in the IR; `batch_alter_table(recreate="always")` (a
//! table rebuild) is refused; an index name from `index=True` longer than 63 characters is
//! refused (SQLAlchemy would shorten it with a hash suffix).

mod ddl;
pub(crate) use ddl::{create_enum_type_sql, enum_types_in_use};
pub mod keywords;
mod names;
mod unbuilt;

use crate::dialect::{needs_quotes, Dialect, ExprWriter, RenderError};
use crate::ir::{
    AlterColumn, Batch, Column, Constraint, ConstraintKind, IndexPart, Literal, Op, Recreate,
    SqlType, Table,
};
use crate::schema::{schema_type_check, SchemaError, SchemaModel};
use ddl::{column_comment_sql, column_spec, constraint_sql, create_index_sql, type_sql};
use names::Namespace;

#[derive(Debug, Clone, Copy, Default)]
pub struct Postgresql {
    /// The SQLAlchemy line whose spelling is reproduced (collations).
    pub sqlalchemy: crate::dialect::SqlAlchemy,
}

/// An identifier as SQLAlchemy's PostgreSQL dialect writes it: bare unless it is a reserved
/// word, has upper-case or special characters, or starts with a digit or `$`.
pub(crate) fn quote(ident: &str) -> String {
    if needs_quotes(ident, keywords::KEYWORDS) {
        format!("\"{}\"", ident.replace('"', "\"\""))
    } else {
        ident.to_string()
    }
}

/// Core statements (`op.execute(update(...))`): booleans `true`/`false`, and, as SQLAlchemy
/// compiles them, WHERE columns qualified by their table.
pub(crate) fn expr_writer() -> ExprWriter<'static> {
    ExprWriter {
        quote: &quote,
        literal,
        qualify: true,
    }
}

/// A literal for data statements on PostgreSQL.
pub fn literal(v: &Literal) -> String {
    match v {
        Literal::UtcNow => "now()".into(),
        other => crate::dialect::literal(other, ddl::bool_text),
    }
}

fn unsupported(msg: impl Into<String>) -> RenderError {
    RenderError::Unsupported(msg.into())
}

/// A type as the model keeps it on PostgreSQL: variants resolved, and a Boolean without the
/// CHECK `create_constraint=True` asks for (the type is native here, so none is made).
fn model_type(ty: &SqlType) -> SqlType {
    match ty.for_dialect("postgresql") {
        SqlType::Boolean { name, .. } => SqlType::Boolean {
            create_constraint: false,
            name: name.clone(),
        },
        other => other.clone(),
    }
}

fn alter_table(table: &str) -> String {
    format!("ALTER TABLE {}", quote(table))
}

impl Postgresql {
    fn create_table(
        &self,
        model: &mut SchemaModel,
        table: &Table,
    ) -> Result<Vec<String>, RenderError> {
        let mut out = ddl::create_enum_types(model, table)?;
        let autoinc = ddl::autoincrement_column(table)
            .filter(|c| c.identity.is_none())
            .map(|c| c.name.clone());
        // Sequences are named before the table exists.
        let sequence = autoinc
            .as_ref()
            .map(|c| Namespace::of(model).sequence(&table.name, c));
        let mut prepared = table.clone();
        let mut unique_indexes = Vec::new();
        for c in &mut prepared.columns {
            c.ty = model_type(&c.ty);
            // `index=True, unique=True` is one unique index, not a constraint and an index.
            if c.index && c.unique {
                c.unique = false;
                unique_indexes.push(c.name.clone());
            }
        }
        model.apply(&Op::CreateTable { table: prepared })?;
        let t = model.table_mut(&table.name)?;
        mark_unique_indexes(t, &unique_indexes);
        out.push(ddl::create_table_sql(
            t,
            autoinc.as_deref(),
            self.sqlalchemy,
        )?);
        for idx in &t.indexes {
            out.push(create_index_sql(idx)?);
        }
        if let Some(comment) = &t.comment {
            out.push(ddl::table_comment_sql(&t.name, comment));
        }
        for c in &t.columns {
            if let Some(comment) = &c.comment {
                out.push(column_comment_sql(&t.name, &c.name, Some(comment)));
            }
        }
        if let (Some(col), Some(seq)) = (&autoinc, &sequence) {
            if let Some(c) = t.column_mut(col) {
                c.server_default = Some(names::nextval_default(seq));
            }
        }
        names::merge_duplicate_keys(t);
        names::name_constraints(model, &table.name);
        Ok(out)
    }

    fn add_column(
        &self,
        model: &mut SchemaModel,
        table: &str,
        column: &Column,
    ) -> Result<Vec<String>, RenderError> {
        // Alembic puts the column in a table of its own: a lone integer primary key there is
        // that table's autoincrement column, so it is added as SERIAL.
        let mut alone = Table::new(table);
        alone.columns.push(column.clone());
        let serial = column.primary_key && ddl::autoincrement_column(&alone).is_some();
        let mut out = vec![format!(
            "{} ADD COLUMN {}",
            alter_table(table),
            column_spec(column, serial, self.sqlalchemy)?
        )];
        let sequence = serial.then(|| Namespace::of(model).sequence(table, &column.name));
        let mut col = column.clone();
        col.ty = model_type(&col.ty);
        let unique_index = col.index && col.unique;
        if unique_index {
            col.unique = false;
        }
        // Alembic adds no primary key with a column.
        col.primary_key = false;
        let t = model
            .table(table)
            .ok_or_else(|| SchemaError::NoTable(table.to_string()))?;
        let (n_constraints, n_indexes) = (t.constraints.len(), t.indexes.len());
        model.apply(&Op::AddColumn {
            table: table.to_string(),
            column: col,
            insert_before: None,
            insert_after: None,
        })?;
        let t = model.table_mut(table)?;
        // The column's foreign keys, unique constraint and type CHECK, one ALTER each.
        for c in &t.constraints[n_constraints..] {
            out.push(format!(
                "{} ADD {}",
                alter_table(table),
                constraint_sql(c, None)?
            ));
        }
        for idx in &mut t.indexes[n_indexes..] {
            idx.unique = unique_index;
            out.push(create_index_sql(idx)?);
        }
        if let Some(comment) = &column.comment {
            out.push(column_comment_sql(table, &column.name, Some(comment)));
        }
        if let Some(seq) = sequence {
            if let Some(c) = t.column_mut(&column.name) {
                c.server_default = Some(names::nextval_default(&seq));
            }
        }
        names::name_constraints(model, table);
        Ok(out)
    }

    fn alter_column(
        &self,
        model: &mut SchemaModel,
        a: &AlterColumn,
    ) -> Result<Vec<String>, RenderError> {
        let table = alter_table(&a.table);
        let column = quote(&a.column);
        let mut out = Vec::new();
        // A type change drops the old type's CHECK first and adds the new type's after.
        if let (Some(existing), Some(_)) = (&a.existing_type, &a.type_) {
            if let Some(check) = schema_type_check(&a.column, &model_type(existing)) {
                let name = check.name().ok_or_else(|| {
                    unsupported(format!(
                        "alter_column('{}', '{}'): the existing type's CHECK has no name, so Alembic cannot drop it",
                        a.table, a.column
                    ))
                })?;
                out.push(format!(
                    "{table} DROP CONSTRAINT {}",
                    ddl::checked_name(name)?
                ));
                model.apply(&Op::DropConstraint {
                    table: a.table.clone(),
                    name: name.to_string(),
                    kind: Some(ConstraintKind::Check),
                })?;
            }
        }
        if let Some(ty) = &a.type_ {
            let using = a
                .postgresql_using
                .as_ref()
                .map(|u| format!(" USING {u}"))
                .unwrap_or_default();
            out.push(format!(
                "{table} ALTER COLUMN {column} TYPE {}{using}",
                type_sql(ty, self.sqlalchemy)?
            ));
        }
        if let Some(nullable) = a.nullable {
            let what = if nullable {
                "DROP NOT NULL"
            } else {
                "SET NOT NULL"
            };
            out.push(format!("{table} ALTER COLUMN {column} {what}"));
        }
        match &a.server_default {
            Some(Some(d)) => out.push(format!(
                "{table} ALTER COLUMN {column} SET DEFAULT {}",
                ddl::default_sql(d)
            )),
            Some(None) => out.push(format!("{table} ALTER COLUMN {column} DROP DEFAULT")),
            None => {}
        }
        if let Some(comment) = &a.comment {
            out.push(column_comment_sql(&a.table, &a.column, comment.as_deref()));
        }
        if let Some(new) = &a.new_name {
            out.push(format!("{table} RENAME {column} TO {}", quote(new)));
        }
        let mut applied = a.clone();
        applied.type_ = a.type_.as_ref().map(model_type);
        model.apply(&Op::AlterColumn(applied))?;
        if let Some(new) = a.new_name.as_ref().filter(|n| **n != a.column) {
            for c in &mut model.table_mut(&a.table)?.constraints {
                if let Constraint::Check { sqltext, .. } = c {
                    *sqltext = names::rename_in_check(sqltext, &a.column, new);
                }
            }
        }
        if let Some(ty) = &a.type_ {
            if let Some(check) = schema_type_check(&a.column, &model_type(ty)) {
                out.extend(self.add_constraint(model, &a.table, &check)?);
            }
        }
        Ok(out)
    }

    fn add_constraint(
        &self,
        model: &mut SchemaModel,
        table: &str,
        constraint: &Constraint,
    ) -> Result<Vec<String>, RenderError> {
        let existing_pk = model
            .table(table)
            .ok_or_else(|| SchemaError::NoTable(table.to_string()))?
            .primary_key()
            .is_some();
        if constraint.kind() == ConstraintKind::PrimaryKey && existing_pk {
            return Err(unsupported(format!(
                "table '{table}' already has a primary key; PostgreSQL refuses a second one (drop it first)"
            )));
        }
        let sql = format!(
            "{} ADD {}",
            alter_table(table),
            constraint_sql(constraint, None)?
        );
        model.apply(&Op::AddConstraint {
            table: table.to_string(),
            constraint: constraint.clone(),
        })?;
        names::name_constraints(model, table);
        Ok(vec![sql])
    }

    fn drop_column(
        &self,
        model: &mut SchemaModel,
        table: &str,
        column: &str,
    ) -> Result<Vec<String>, RenderError> {
        model.apply(&Op::DropColumn {
            table: table.to_string(),
            column: column.to_string(),
        })?;
        // PostgreSQL drops with the column the CHECKs that use it, and a primary key on it.
        let t = model.table_mut(table)?;
        t.constraints.retain(|c| match c {
            Constraint::Check { sqltext, .. } => !names::check_refers_to(sqltext, column),
            _ => true,
        });
        if t.primary_key().is_none() {
            for c in &mut t.columns {
                c.primary_key = false;
            }
        }
        Ok(vec![format!(
            "{} DROP COLUMN {}",
            alter_table(table),
            quote(column)
        )])
    }

    fn batch(&self, model: &mut SchemaModel, batch: &Batch) -> Result<Vec<String>, RenderError> {
        if batch.recreate == Recreate::Always {
            return Err(unsupported(format!(
                "batch_alter_table('{}', recreate=\"always\") rebuilds the table on PostgreSQL too; that is not modeled",
                batch.table
            )));
        }
        let mut out = Vec::new();
        for op in &batch.ops {
            if let Op::AddColumn {
                insert_before,
                insert_after,
                ..
            } = op
            {
                if insert_before.is_some() || insert_after.is_some() {
                    return Err(unsupported(format!(
                        "batch_alter_table('{}'): Alembic cannot place a column with insert_before/insert_after using ALTER; it needs recreate=\"always\"",
                        batch.table
                    )));
                }
            }
            out.extend(self.render(model, op)?);
        }
        Ok(out)
    }
}

/// Set `unique` on the `ix_<table>_<column>` indexes of columns declared `index=True,
/// unique=True`.
fn mark_unique_indexes(t: &mut Table, columns: &[String]) {
    for idx in &mut t.indexes {
        if let [IndexPart::Column(c)] = idx.parts.as_slice() {
            if columns.contains(c) && idx.name == format!("ix_{}_{c}", t.name) {
                idx.unique = true;
            }
        }
    }
}

impl Dialect for Postgresql {
    fn name(&self) -> &'static str {
        "postgresql"
    }

    fn database(&self) -> crate::dialect::Database {
        crate::dialect::Database::Postgresql
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

    /// An index or key built and dropped later in the run is not built (`unbuilt`).
    fn optimise_across(
        &self,
        ops: &mut [Vec<crate::plan::Statement>],
        triggers: &[&str],
    ) -> Vec<crate::plan::Joined> {
        unbuilt::leave_out(ops, triggers)
    }

    fn wraps_offline_script(&self) -> bool {
        true
    }

    /// A `DO` block: the statement, then `GET DIAGNOSTICS` for its row count, until a run
    /// changes fewer than `at_least` rows; committing after each run in an autocommit block
    /// (a `DO` run outside a transaction block may commit, PostgreSQL 11 and later).
    fn offline_loop(&self, sql: &str, at_least: u64, autocommit: bool) -> Option<String> {
        let mut tag = String::from("$loop$");
        while sql.contains(&tag) {
            tag.insert(tag.len() - 1, '_');
        }
        let commit = if autocommit { "\n        COMMIT;" } else { "" };
        Some(format!(
            "DO {tag}\nDECLARE\n    changed bigint;\nBEGIN\n    LOOP\n        {};\n        \
             GET DIAGNOSTICS changed = ROW_COUNT;\n        EXIT WHEN changed < {at_least};{commit}\n    \
             END LOOP;\nEND\n{tag}",
            sql.trim().trim_end_matches(';')
        ))
    }

    /// SERIAL columns were declared without the `nextval` default the server gives them
    /// (declared so again, a column that was not SERIAL comes out without its default, and the
    /// caller's comparison refuses the table).
    fn declared(&self, table: &Table) -> Table {
        let mut t = crate::schema::declared(table);
        for c in &mut t.columns {
            if c.server_default.as_ref().is_some_and(names::is_nextval) {
                c.server_default = None;
            }
        }
        t
    }

    fn render(&self, model: &mut SchemaModel, op: &Op) -> Result<Vec<String>, RenderError> {
        Ok(match op {
            Op::CreateTable { table } => self.create_table(model, table)?,
            Op::DropTable { table } => {
                model.apply(op)?;
                vec![format!("DROP TABLE {}", quote(table))]
            }
            Op::RenameTable { table, new_name } => {
                model.apply(op)?;
                vec![format!(
                    "{} RENAME TO {}",
                    alter_table(table),
                    quote(new_name)
                )]
            }
            Op::AddColumn {
                table,
                column,
                insert_before,
                insert_after,
            } => {
                if insert_before.is_some() || insert_after.is_some() {
                    return Err(unsupported(format!(
                        "add_column('{table}', '{}'): insert_before/insert_after exist in batch mode only",
                        column.name
                    )));
                }
                self.add_column(model, table, column)?
            }
            Op::DropColumn { table, column } => self.drop_column(model, table, column)?,
            Op::AlterColumn(a) => self.alter_column(model, a)?,
            Op::CreateIndex { index } => {
                let sql = create_index_sql(index)?;
                model.apply(op)?;
                vec![sql]
            }
            Op::DropIndex { name, .. } => {
                model.apply(op)?;
                vec![format!("DROP INDEX {}", quote(name))]
            }
            Op::AddConstraint { table, constraint } => {
                self.add_constraint(model, table, constraint)?
            }
            Op::DropConstraint { table, name, .. } => {
                model.apply(op)?;
                vec![format!(
                    "{} DROP CONSTRAINT {}",
                    alter_table(table),
                    ddl::checked_name(name)?
                )]
            }
            Op::Execute {
                statement: crate::ir::Statement::Sql { text },
            } => crate::dialect::sqltext::split_statements(
                text,
                crate::dialect::sqltext::Family::Postgres,
            ),
            Op::Execute { statement } => vec![expr_writer().statement(statement)],
            Op::BulkInsert {
                table,
                columns,
                rows,
            } => {
                let cols: Vec<String> = columns.iter().map(|c| quote(c)).collect();
                rows.iter()
                    .map(|row| {
                        let values: Vec<String> = row.iter().map(literal).collect();
                        format!(
                            "INSERT INTO {} ({}) VALUES ({})",
                            quote(table),
                            cols.join(", "),
                            values.join(", ")
                        )
                    })
                    .collect()
            }
            Op::Batch(b) => self.batch(model, b)?,
        })
    }
}

#[cfg(test)]
mod tests;
