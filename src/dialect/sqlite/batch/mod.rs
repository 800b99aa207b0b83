//! SQLite batch mode: Alembic's "move and copy".
//!
//! With `recreate="auto"`, a batch runs its operations as plain ALTERs when they are all index
//! changes or column additions whose default is a plain string; anything else rebuilds the
//! table: reflect it (here: read it from the schema model, normalized the way SQLAlchemy's
//! reflection and Alembic's reflection hook see it), apply the operations to that copy,
//! `CREATE TABLE _alembic_tmp_<name>`, copy the rows (CAST where the type family changes),
//! drop the old table, rename the new one, re-create the indexes. What a rebuild keeps follows
//! Alembic: named constraints whose columns survive, unnamed ones except reflected unnamed
//! CHECKs (they cannot be tied to a column), and no triggers.

use super::{
    create_index_sql, create_table_sql, quote, type_sql, without_schema_constraint, Sqlite,
};
use crate::dialect::{Dialect, RenderError};
use crate::ir::{
    AlterColumn, Batch, Column, Constraint, ConstraintKind, ForeignKey, Index, IndexPart, Op,
    Recreate, ServerDefault, SqlType, Table,
};
use crate::schema::{schema_type_check, SchemaError, SchemaModel};

mod finish;

use finish::apply_naming_convention;

/// Whether Alembic would rebuild the table for this batch on SQLite.
pub(crate) fn should_recreate(batch: &Batch) -> bool {
    match batch.recreate {
        Recreate::Always => true,
        Recreate::Never => false,
        Recreate::Auto => batch.ops.iter().any(|op| match op {
            Op::AddColumn { column, .. } => {
                matches!(
                    column.server_default,
                    Some(ServerDefault::Sql(_)) | Some(ServerDefault::Bool(_))
                ) || column
                    .computed
                    .as_ref()
                    .is_some_and(|c| c.persisted == Some(true))
                    || adds_constraints(column)
            }
            Op::CreateIndex { .. } | Op::DropIndex { .. } => false,
            _ => true,
        }),
    }
}

/// A column whose addition also records constraint additions (which force a rebuild).
fn adds_constraints(column: &Column) -> bool {
    !column.foreign_keys.is_empty()
        || column.unique
        || schema_type_check(&column.name, column.ty.for_dialect("sqlite")).is_some()
}

pub(super) fn render(
    dialect: &Sqlite,
    model: &mut SchemaModel,
    batch: &Batch,
) -> Result<Vec<String>, RenderError> {
    if !should_recreate(batch) {
        let mut out = Vec::new();
        for op in &batch.ops {
            if matches!(
                op,
                Op::AddColumn {
                    insert_before: Some(_),
                    ..
                } | Op::AddColumn {
                    insert_after: Some(_),
                    ..
                }
            ) {
                return Err(RenderError::Unsupported(format!(
                    "insert_before/insert_after on '{}' need recreate=\"always\" (Alembic refuses them with ALTER)",
                    batch.table
                )));
            }
            out.extend(dialect.render(model, op)?);
        }
        return Ok(out);
    }
    let existing = model
        .table(&batch.table)
        .cloned()
        .ok_or_else(|| SchemaError::NoTable(batch.table.clone()))?;
    let mut rebuild = Rebuild::new(&existing, batch, dialect.sqlalchemy);
    for op in &batch.ops {
        rebuild.apply(op)?;
    }
    let (new_table, statements) = rebuild.finish(&existing)?;
    model.replace_table(new_table)?;
    model.triggers.retain(|t| t.table != batch.table);
    Ok(statements)
}

/// The temporary table name: `_alembic_tmp_<name>`, cut to 50 characters.
pub(crate) fn temp_name(table: &str) -> String {
    format!("_alembic_tmp_{table}").chars().take(50).collect()
}

/// What `PRAGMA table_info` reports as a column's default: the DEFAULT clause as written,
/// less one pair of enclosing parentheses and the blanks inside them.
fn reported_default(rendered: &str) -> String {
    let t = rendered.trim();
    if t.starts_with('(') && t.ends_with(')') && encloses(t) {
        t[1..t.len() - 1].trim().to_string()
    } else {
        t.to_string()
    }
}

/// Whether the first '(' of `s` is closed by its last character.
fn encloses(s: &str) -> bool {
    let mut depth = 0i32;
    let mut in_str = false;
    for (i, c) in s.char_indices() {
        match c {
            '\'' => in_str = !in_str,
            '(' if !in_str => depth += 1,
            ')' if !in_str => {
                depth -= 1;
                if depth == 0 && i != s.len() - 1 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0
}

/// A default as batch mode re-creates it: the reported text, parenthesized by Alembic's
/// reflection hook unless it is a single digit, a quoted string, or already parenthesized,
/// on one line (the hook's patterns do not match across a newline).
fn reflected_default(d: &ServerDefault) -> ServerDefault {
    let text = reported_default(&super::default_sql(d));
    let one_line = !text.contains('\n');
    let single = text.len() == 1 && text.chars().all(|c| c.is_ascii_digit() || c == '.');
    let quoted = one_line && text.len() >= 3 && text.starts_with('\'') && text.ends_with('\'');
    let parens = one_line && text.len() >= 3 && text.starts_with('(') && text.ends_with(')');
    if text.is_empty() || single || quoted || parens {
        ServerDefault::Sql(text)
    } else {
        ServerDefault::Sql(format!("({text})"))
    }
}

/// The table as SQLAlchemy reflects it from SQLite, before the batch's operations. An index
/// part that SQLite keeps as a column (`n DESC`, `name COLLATE NOCASE`) is reflected as the
/// bare column; an index on an expression is not reflected at all (SQLAlchemy skips it with a
/// warning). A rebuild re-creates what was reflected, as Alembic's does.
fn reflected(table: &Table) -> Table {
    let mut t = table.clone();
    t.indexes = t
        .indexes
        .into_iter()
        .filter_map(|mut i| {
            i.parts = i.parts.iter().map(reflected_part).collect::<Option<_>>()?;
            Some(i)
        })
        .collect();
    for c in &mut t.columns {
        c.ty = without_schema_constraint(&c.ty);
        c.unique = false;
        c.index = false;
        c.server_default = c.server_default.as_ref().map(reflected_default);
    }
    t
}

/// An index part as SQLite's `index_xinfo` reports it: a column, with its collation and order
/// (which SQLAlchemy's reflection leaves out), or `None` for an expression.
fn reflected_part(part: &IndexPart) -> Option<IndexPart> {
    let IndexPart::Expression(e) = part else {
        return Some(part.clone());
    };
    let words: Vec<&str> = e.split_whitespace().collect();
    let (column, rest) = words.split_first()?;
    let rest: Vec<String> = rest.iter().map(|w| w.to_ascii_uppercase()).collect();
    let modifiers_only = match rest.as_slice() {
        [] => true,
        [o] => o == "ASC" || o == "DESC",
        [c, _] => c == "COLLATE",
        [c, _, o] => c == "COLLATE" && (o == "ASC" || o == "DESC"),
        _ => false,
    };
    let name = match column.strip_prefix('"').and_then(|c| c.strip_suffix('"')) {
        Some(quoted) => quoted.replace("\"\"", "\""),
        None if column.chars().all(|c| c.is_alphanumeric() || c == '_') => column.to_string(),
        None => return None,
    };
    modifiers_only.then_some(IndexPart::Column(name))
}

struct Entry {
    /// The column's name in the old table (its key for the whole batch).
    key: String,
    column: Column,
    /// The SQL that fills it from the old table; `None` for a new column.
    source: Option<String>,
}

struct Rebuild {
    table: String,
    /// The SQLAlchemy line the new table is spelled for.
    sqlalchemy: crate::dialect::SqlAlchemy,
    entries: Vec<Entry>,
    existing_ordering: Vec<String>,
    add_col_ordering: Vec<(String, String)>,
    named: Vec<(String, Constraint)>,
    unnamed: Vec<Constraint>,
    indexes: Vec<Index>,
    new_indexes: Vec<Index>,
    table_args: Vec<Constraint>,
    partial_reordering: Vec<Vec<String>>,
}

fn unsupported(msg: String) -> RenderError {
    RenderError::Unsupported(msg)
}

impl Rebuild {
    fn new(existing: &Table, batch: &Batch, sqlalchemy: crate::dialect::SqlAlchemy) -> Self {
        let table = reflected(existing);
        let mut named = Vec::new();
        let mut unnamed = Vec::new();
        let checks_restated = batch
            .table_args
            .iter()
            .any(|c| c.kind() == ConstraintKind::Check);
        for c in &table.constraints {
            match c.name() {
                Some(n) => named.push((n.to_string(), c.clone())),
                // A reflected unnamed CHECK is dropped from the rebuild (Alembic warns unless
                // table_args restates checks).
                None if c.kind() == ConstraintKind::Check => {
                    let _ = checks_restated;
                }
                None => unnamed.push(c.clone()),
            }
        }
        apply_naming_convention(
            &table.name,
            &batch.naming_convention,
            &mut named,
            &mut unnamed,
        );
        Rebuild {
            table: table.name.clone(),
            sqlalchemy,
            entries: table
                .columns
                .iter()
                .map(|c| Entry {
                    key: c.name.clone(),
                    column: c.clone(),
                    source: Some(format!("{}.{}", quote(&table.name), quote(&c.name))),
                })
                .collect(),
            existing_ordering: table.columns.iter().map(|c| c.name.clone()).collect(),
            add_col_ordering: Vec::new(),
            named,
            unnamed,
            indexes: table.indexes.clone(),
            new_indexes: Vec::new(),
            table_args: batch.table_args.clone(),
            partial_reordering: batch.partial_reordering.clone(),
        }
    }

    fn entry_mut(&mut self, key: &str) -> Result<&mut Entry, RenderError> {
        let table = self.table.clone();
        self.entries
            .iter_mut()
            .find(|e| e.key == key)
            .ok_or_else(|| {
                SchemaError::NoColumn {
                    table,
                    column: key.to_string(),
                }
                .into()
            })
    }

    fn add_constraint(&mut self, c: Constraint) -> Result<(), RenderError> {
        if c.kind() == ConstraintKind::PrimaryKey {
            self.unnamed
                .retain(|u| u.kind() != ConstraintKind::PrimaryKey);
        }
        match c.name() {
            Some(n) => {
                let n = n.to_string();
                self.named.retain(|(k, _)| *k != n);
                self.named.push((n, c));
            }
            None => self.unnamed.push(c),
        }
        Ok(())
    }

    fn apply(&mut self, op: &Op) -> Result<(), RenderError> {
        match op {
            Op::AddColumn {
                column,
                insert_before,
                insert_after,
                ..
            } => self.add_column(column, insert_before.as_deref(), insert_after.as_deref()),
            Op::DropColumn { column, .. } => {
                for (_, c) in self.named.iter_mut() {
                    if let Constraint::PrimaryKey { columns, .. } = c {
                        columns.retain(|x| x != column);
                    }
                }
                for c in self.unnamed.iter_mut() {
                    if let Constraint::PrimaryKey { columns, .. } = c {
                        columns.retain(|x| x != column);
                    }
                }
                let before = self.entries.len();
                self.entries.retain(|e| &e.key != column);
                if self.entries.len() == before {
                    return Err(SchemaError::NoColumn {
                        table: self.table.clone(),
                        column: column.clone(),
                    }
                    .into());
                }
                self.existing_ordering.retain(|c| c != column);
                Ok(())
            }
            Op::AlterColumn(a) => self.alter_column(a),
            Op::CreateIndex { index } => {
                self.new_indexes.retain(|i| i.name != index.name);
                self.new_indexes.push(index.clone());
                Ok(())
            }
            Op::DropIndex { name, .. } => {
                let before = self.indexes.len();
                self.indexes.retain(|i| &i.name != name);
                if self.indexes.len() == before {
                    return Err(unsupported(format!(
                        "no such index: '{name}' on '{}'",
                        self.table
                    )));
                }
                Ok(())
            }
            Op::AddConstraint { constraint, .. } => {
                if constraint.name().is_none() {
                    return Err(unsupported(format!(
                        "a constraint added in batch mode on '{}' must have a name",
                        self.table
                    )));
                }
                self.add_constraint(constraint.clone())
            }
            Op::DropConstraint { name, .. } => {
                let pos = self
                    .named
                    .iter()
                    .position(|(n, _)| n == name)
                    .ok_or_else(|| crate::schema::SchemaError::NoConstraint {
                        table: self.table.clone(),
                        name: name.clone(),
                    })?;
                let (_, removed) = self.named.remove(pos);
                if let Constraint::PrimaryKey { columns, .. } = &removed {
                    for e in &mut self.entries {
                        if columns.contains(&e.key) {
                            e.column.primary_key = false;
                        }
                    }
                }
                Ok(())
            }
            other => Err(unsupported(format!(
                "operation {:?} is not allowed inside batch_alter_table('{}')",
                std::mem::discriminant(other),
                self.table
            ))),
        }
    }

    fn add_column(
        &mut self,
        column: &Column,
        insert_before: Option<&str>,
        insert_after: Option<&str>,
    ) -> Result<(), RenderError> {
        self.order_new_column(&column.name, insert_before, insert_after);
        let mut copy = column.clone();
        copy.ty = without_schema_constraint(&copy.ty);
        copy.foreign_keys.clear();
        copy.index = false;
        if copy.primary_key {
            copy.nullable = false;
        }
        // The column's own constraints arrive as constraint additions, as in Alembic.
        for fk in &column.foreign_keys {
            let c = Constraint::ForeignKey(ForeignKey {
                columns: vec![column.name.clone()],
                ..fk.clone()
            });
            if c.name().is_none() {
                return Err(unsupported(format!(
                    "the foreign key of column '{}.{}' added in batch mode must have a name",
                    self.table, column.name
                )));
            }
            self.add_constraint(c)?;
        }
        if column.unique {
            return Err(unsupported(format!(
                "the unique constraint of column '{}.{}' added in batch mode must have a name (use create_unique_constraint)",
                self.table, column.name
            )));
        }
        if let Some(check) = schema_type_check(&column.name, column.ty.for_dialect("sqlite")) {
            self.add_constraint(check)?;
        }
        if column.index {
            self.new_indexes.push(Index {
                name: format!("ix_{}_{}", self.table, column.name),
                table: self.table.clone(),
                parts: vec![IndexPart::Column(column.name.clone())],
                unique: false,
                dialect_options: Vec::new(),
            });
        }
        self.entries.retain(|e| e.key != column.name);
        self.entries.push(Entry {
            key: column.name.clone(),
            column: copy,
            source: None,
        });
        Ok(())
    }

    /// Alembic's placement of a new column: after the last existing column unless told
    /// otherwise, as pairs of a partial order.
    fn order_new_column(&mut self, name: &str, before: Option<&str>, after: Option<&str>) {
        let cols = &self.existing_ordering;
        let index_of = |n: &str| cols.iter().position(|c| c == n);
        let mut before = before.map(str::to_string);
        let mut after = after.map(str::to_string);
        if self.partial_reordering.is_empty() {
            if let (Some(a), None) = (&after, &before) {
                before = match index_of(a) {
                    Some(i) => cols.get(i + 1).cloned(),
                    None => self
                        .add_col_ordering
                        .iter()
                        .find(|(x, _)| x == a)
                        .map(|(_, b)| b.clone()),
                };
            }
            if let (Some(b), None) = (&before, &after) {
                after = match index_of(b) {
                    Some(i) if i > 0 => cols.get(i - 1).cloned(),
                    Some(_) => None,
                    None => self
                        .add_col_ordering
                        .iter()
                        .find(|(_, y)| y == b)
                        .map(|(a, _)| a.clone()),
                };
            }
        }
        if let Some(b) = &before {
            self.add_col_ordering.push((name.to_string(), b.clone()));
        }
        if let Some(a) = &after {
            self.add_col_ordering.push((a.clone(), name.to_string()));
        }
        if self.partial_reordering.is_empty() && before.is_none() && after.is_none() {
            if let Some(last) = cols.last() {
                self.add_col_ordering.push((last.clone(), name.to_string()));
            }
        }
    }

    fn alter_column(&mut self, a: &AlterColumn) -> Result<(), RenderError> {
        let table = self.table.clone();
        // The named CHECK of the column's old Boolean/Enum type: dropped when the type changes
        // (Alembic drops the old type's constraint) or the column is renamed.
        let old_check_name =
            a.existing_type
                .as_ref()
                .map(|t| t.for_dialect("sqlite").clone())
                .and_then(|t| match t {
                    SqlType::Boolean { name: Some(n), .. }
                    | SqlType::Enum { name: Some(n), .. } => Some(n),
                    _ => None,
                });
        let old_type_has_check = a
            .existing_type
            .as_ref()
            .is_some_and(|t| schema_type_check(&a.column, t.for_dialect("sqlite")).is_some());
        let sqlalchemy = self.sqlalchemy;
        let entry = self.entry_mut(&a.column)?;
        if let Some(new) = a.new_name.as_ref().filter(|n| **n != a.column) {
            entry.column.name = new.clone();
        }
        if let Some(ty) = &a.type_ {
            let old = entry.column.ty.for_dialect("sqlite").affinity();
            let new_ty = ty.for_dialect("sqlite");
            if old != new_ty.affinity() && !matches!(new_ty, SqlType::Json) {
                if let Some(src) = &entry.source {
                    entry.source =
                        Some(format!("CAST({src} AS {})", type_sql(new_ty, sqlalchemy)?));
                }
            }
            entry.column.ty = without_schema_constraint(ty);
        }
        if let Some(n) = a.nullable {
            entry.column.nullable = n;
        }
        if let Some(d) = &a.server_default {
            entry.column.server_default = d.clone();
        }
        if let Some(c) = &a.comment {
            entry.column.comment = c.clone();
        }
        let renamed = a.new_name.as_ref().is_some_and(|n| *n != a.column);
        let retyped = a.type_.is_some() && old_type_has_check;
        if renamed || retyped {
            if let Some(n) = old_check_name {
                self.named.retain(|(k, _)| *k != n);
            }
        }
        // A new schema type brings its CHECK, as a constraint addition (unnamed is allowed:
        // a type's own constraint carries Alembic's "no name yet" marker).
        if let Some(ty) = &a.type_ {
            let name = a.new_name.clone().unwrap_or_else(|| a.column.clone());
            if let Some(check) = schema_type_check(&name, ty.for_dialect("sqlite")) {
                let _ = &table;
                self.add_constraint(check)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_are_cut_to_fifty_characters() {
        let long = "a".repeat(60);
        assert_eq!(temp_name(&long).len(), 50);
        assert_eq!(temp_name("metrics"), "_alembic_tmp_metrics");
    }

    #[test]
    fn reflected_defaults_follow_the_reflection_hook() {
        let d = |s: &str| reflected_default(&ServerDefault::Sql(s.into()));
        assert_eq!(d("0"), ServerDefault::Sql("0".into()));
        assert_eq!(d("10"), ServerDefault::Sql("(10)".into()));
        assert_eq!(
            d("CURRENT_TIMESTAMP"),
            ServerDefault::Sql("(CURRENT_TIMESTAMP)".into())
        );
        assert_eq!(
            reflected_default(&ServerDefault::Literal("ACTIVE".into())),
            ServerDefault::Sql("'ACTIVE'".into())
        );
        assert_eq!(d("(lower('A'))"), ServerDefault::Sql("(lower('A'))".into()));
        // SQLite reports the inside of the parentheses without its blanks; the hook's
        // patterns stop at a newline.
        assert_eq!(
            d("(\n  datetime('now')\n)"),
            ServerDefault::Sql("(datetime('now'))".into())
        );
        assert_eq!(d("((\n 1\n))"), ServerDefault::Sql("((\n 1\n))".into()));
    }
}
