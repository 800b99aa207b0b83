//! `SchemaModel`: the schema a database has at a point of a migration, as reflection sees it,
//! advanced operation by operation.
//!
//! The model is what `sa.inspect(bind)` answers from while a script runs, what batch mode
//! "reflects" to rebuild a table on SQLite, and what drift checks compare a live database with.
//! Names a server gives to unnamed constraints are the dialect's business: the model keeps
//! `None` for them unless the dialect module fills them in.

mod diff;
pub mod effect;
pub mod naming;

use std::collections::BTreeSet;

use serde::Serialize;

use crate::ir::{
    AlterColumn, Column, Constraint, ConstraintKind, ForeignKey, Index, IndexPart, Op, SqlType,
    Table,
};
pub use diff::SchemaDiff;

/// A trigger, kept verbatim (SQLite and MySQL rebuilds must know they exist).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trigger {
    pub name: String,
    pub table: String,
    pub sql: String,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct SchemaModel {
    /// Tables in creation order.
    pub tables: Vec<Table>,
    pub triggers: Vec<Trigger>,
    /// Tables of other applications in the same database (MLflow's tracking tables beside its
    /// auth tables), known by name only: a script's inspector lists them, as Alembic's does,
    /// but their shape is not modeled. The executor leaves out the tables its plan creates
    /// (a resumed run re-plans tables it created before it stopped).
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub other_tables: BTreeSet<String>,
}

/// Applying an operation to a schema that cannot take it: the script and the database disagree.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SchemaError {
    #[error("table '{0}' does not exist")]
    NoTable(String),
    #[error("table '{0}' already exists")]
    TableExists(String),
    #[error("column '{table}.{column}' does not exist")]
    NoColumn { table: String, column: String },
    #[error("column '{table}.{column}' already exists")]
    ColumnExists { table: String, column: String },
    #[error("index '{0}' does not exist")]
    NoIndex(String),
    #[error("index '{0}' already exists")]
    IndexExists(String),
    #[error("table '{table}' has no constraint named '{name}'")]
    NoConstraint { table: String, name: String },
    #[error("{0}")]
    Unsupported(String),
}

impl SchemaModel {
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }

    pub fn table_mut(&mut self, name: &str) -> Result<&mut Table, SchemaError> {
        self.tables
            .iter_mut()
            .find(|t| t.name == name)
            .ok_or_else(|| SchemaError::NoTable(name.to_string()))
    }

    pub fn table_names(&self) -> impl Iterator<Item = &str> {
        self.tables.iter().map(|t| t.name.as_str())
    }

    /// Replace a table wholesale (a batch rebuild computed the new one).
    pub fn replace_table(&mut self, table: Table) -> Result<(), SchemaError> {
        let slot = self.table_mut(&table.name.clone())?;
        *slot = table;
        Ok(())
    }

    pub fn find_index(&self, name: &str) -> Option<(&Table, &Index)> {
        self.tables
            .iter()
            .find_map(|t| t.indexes.iter().find(|i| i.name == name).map(|i| (t, i)))
    }

    /// Rename the index `from` (PostgreSQL's `ALTER INDEX ... RENAME TO`): an index of its
    /// own, or the one behind a primary key or unique constraint, which the constraint's name
    /// follows.
    pub fn rename_index(&mut self, from: &str, to: &str) -> Result<(), SchemaError> {
        if self.find_index(to).is_some() {
            return Err(SchemaError::IndexExists(to.to_string()));
        }
        for t in &mut self.tables {
            if let Some(i) = t.indexes.iter_mut().find(|i| i.name == from) {
                i.name = to.to_string();
                return Ok(());
            }
            let indexed = |c: &&mut crate::ir::Constraint| {
                c.name() == Some(from)
                    && matches!(
                        c.kind(),
                        ConstraintKind::PrimaryKey | ConstraintKind::Unique
                    )
            };
            if let Some(c) = t.constraints.iter_mut().find(indexed) {
                c.set_name(Some(to.to_string()));
                return Ok(());
            }
        }
        Err(SchemaError::NoIndex(from.to_string()))
    }

    /// Apply one operation. Batches are applied op by op, as the same operations outside a
    /// batch (what every dialect but SQLite does); SQLite rebuilds are the dialect's job.
    pub fn apply(&mut self, op: &Op) -> Result<(), SchemaError> {
        match op {
            Op::CreateTable { table } => {
                if self.table(&table.name).is_some() {
                    return Err(SchemaError::TableExists(table.name.clone()));
                }
                self.tables.push(normalize_new_table(table));
            }
            Op::DropTable { table } => {
                let before = self.tables.len();
                self.tables.retain(|t| &t.name != table);
                if self.tables.len() == before {
                    return Err(SchemaError::NoTable(table.clone()));
                }
                self.triggers.retain(|t| &t.table != table);
            }
            Op::RenameTable { table, new_name } => self.rename_table(table, new_name)?,
            Op::AddColumn { table, column, .. } => self.add_column(table, column)?,
            Op::DropColumn { table, column } => self.drop_column(table, column)?,
            Op::AlterColumn(alter) => self.alter_column(alter)?,
            Op::CreateIndex { index } => {
                if self.find_index(&index.name).is_some() {
                    return Err(SchemaError::IndexExists(index.name.clone()));
                }
                self.table_mut(&index.table)?.indexes.push(index.clone());
            }
            Op::DropIndex { name, .. } => {
                let table = self
                    .find_index(name)
                    .map(|(t, _)| t.name.clone())
                    .ok_or_else(|| SchemaError::NoIndex(name.clone()))?;
                self.table_mut(&table)?.indexes.retain(|i| &i.name != name);
            }
            Op::AddConstraint { table, constraint } => self.add_constraint(table, constraint)?,
            Op::DropConstraint { table, name, kind } => self.drop_constraint(table, name, *kind)?,
            Op::Execute { .. } | Op::BulkInsert { .. } => {}
            Op::Batch(batch) => {
                for inner in &batch.ops {
                    self.apply(inner)?;
                }
            }
        }
        Ok(())
    }

    /// Renames a table, and every index and foreign key that names it.
    fn rename_table(&mut self, table: &str, new_name: &str) -> Result<(), SchemaError> {
        if self.table(new_name).is_some() {
            return Err(SchemaError::TableExists(new_name.to_string()));
        }
        self.table_mut(table)?.name = new_name.to_string();
        for t in &mut self.tables {
            for idx in &mut t.indexes {
                if idx.table == table {
                    idx.table = new_name.to_string();
                }
            }
            for c in &mut t.constraints {
                if let Constraint::ForeignKey(fk) = c {
                    if fk.ref_table == table {
                        fk.ref_table = new_name.to_string();
                    }
                }
            }
        }
        Ok(())
    }

    /// Adds a column, with the constraints and index it declares inline.
    fn add_column(&mut self, table: &str, column: &Column) -> Result<(), SchemaError> {
        let t = self.table_mut(table)?;
        if t.column(&column.name).is_some() {
            return Err(SchemaError::ColumnExists {
                table: table.to_string(),
                column: column.name.clone(),
            });
        }
        let (col, constraints, indexes) = split_column(table, column);
        t.columns.push(col);
        t.constraints.extend(constraints);
        t.indexes.extend(indexes);
        Ok(())
    }

    /// Drops a column, and the constraints and indexes that cover it.
    fn drop_column(&mut self, table: &str, column: &str) -> Result<(), SchemaError> {
        let t = self.table_mut(table)?;
        if t.column(column).is_none() {
            return Err(SchemaError::NoColumn {
                table: table.to_string(),
                column: column.to_string(),
            });
        }
        t.columns.retain(|c| c.name != column);
        t.constraints
            .retain(|c| !c.columns().iter().any(|n| n == column));
        t.indexes.retain(|i| !i.column_names().any(|n| n == column));
        Ok(())
    }

    /// Adds a constraint; a primary key replaces the table's one and marks its columns.
    fn add_constraint(&mut self, table: &str, constraint: &Constraint) -> Result<(), SchemaError> {
        let t = self.table_mut(table)?;
        if constraint.kind() == ConstraintKind::PrimaryKey {
            t.constraints
                .retain(|c| c.kind() != ConstraintKind::PrimaryKey);
            for col in &mut t.columns {
                col.primary_key = constraint.columns().contains(&col.name);
                if col.primary_key {
                    col.nullable = false;
                }
            }
        }
        t.constraints.push(constraint.clone());
        Ok(())
    }

    /// Drops the constraint named `name` (of `kind`, when given); dropping the primary key
    /// unmarks its columns.
    fn drop_constraint(
        &mut self,
        table: &str,
        name: &str,
        kind: Option<ConstraintKind>,
    ) -> Result<(), SchemaError> {
        let t = self.table_mut(table)?;
        let pos = t
            .constraints
            .iter()
            .position(|c| c.name() == Some(name) && kind.is_none_or(|k| c.kind() == k))
            .ok_or_else(|| SchemaError::NoConstraint {
                table: table.to_string(),
                name: name.to_string(),
            })?;
        let removed = t.constraints.remove(pos);
        if removed.kind() == ConstraintKind::PrimaryKey {
            for col in &mut t.columns {
                col.primary_key = false;
            }
        }
        Ok(())
    }

    fn alter_column(&mut self, alter: &AlterColumn) -> Result<(), SchemaError> {
        let t = self.table_mut(&alter.table)?;
        let col = t
            .column_mut(&alter.column)
            .ok_or_else(|| SchemaError::NoColumn {
                table: alter.table.clone(),
                column: alter.column.clone(),
            })?;
        if let Some(n) = alter.nullable {
            col.nullable = n;
        }
        if let Some(d) = &alter.server_default {
            col.server_default = d.clone();
        }
        if let Some(ty) = &alter.type_ {
            col.ty = ty.clone();
        }
        if let Some(c) = &alter.comment {
            col.comment = c.clone();
        }
        if let Some(new) = &alter.new_name {
            let old = alter.column.clone();
            col.name = new.clone();
            rename_column_refs(t, &old, new);
        }
        Ok(())
    }
}

fn rename_column_refs(t: &mut Table, old: &str, new: &str) {
    let swap = |names: &mut Vec<String>| {
        for n in names.iter_mut() {
            if n == old {
                *n = new.to_string();
            }
        }
    };
    for c in &mut t.constraints {
        match c {
            Constraint::PrimaryKey { columns, .. } | Constraint::Unique { columns, .. } => {
                swap(columns)
            }
            Constraint::ForeignKey(fk) => swap(&mut fk.columns),
            Constraint::Check { .. } => {}
        }
    }
    for i in &mut t.indexes {
        for p in &mut i.parts {
            if let IndexPart::Column(c) = p {
                if c == old {
                    *c = new.to_string();
                }
            }
        }
    }
}

/// Column-level declarations (`primary_key=True`, `unique=True`, `index=True`, `ForeignKey`,
/// schema types with a CHECK) become the table-level constraints and indexes a database holds.
fn split_column(table: &str, column: &Column) -> (Column, Vec<Constraint>, Vec<Index>) {
    let mut col = column.clone();
    let mut constraints = Vec::new();
    let mut indexes = Vec::new();
    for fk in col.foreign_keys.drain(..) {
        constraints.push(Constraint::ForeignKey(ForeignKey {
            columns: vec![column.name.clone()],
            ..fk
        }));
    }
    if col.unique {
        constraints.push(Constraint::Unique {
            name: None,
            columns: vec![column.name.clone()],
        });
        col.unique = false;
    }
    if col.index {
        indexes.push(Index {
            name: format!("ix_{table}_{}", column.name),
            table: table.to_string(),
            parts: vec![IndexPart::Column(column.name.clone())],
            unique: false,
            dialect_options: Vec::new(),
        });
        col.index = false;
    }
    if let Some(check) = schema_type_check(&column.name, &col.ty) {
        constraints.push(check);
    }
    (col, constraints, indexes)
}

/// A table of a model as a script would declare it: without the CHECK each non-native Enum
/// or Boolean column adds again when the table is created.
pub fn declared(table: &Table) -> Table {
    let mut t = table.clone();
    for column in &table.columns {
        if let Some(Constraint::Check { sqltext, .. }) = schema_type_check(&column.name, &column.ty)
        {
            let same =
                |c: &Constraint| matches!(c, Constraint::Check { sqltext: s, .. } if *s == sqltext);
            if let Some(i) = t.constraints.iter().rposition(same) {
                t.constraints.remove(i);
            }
        }
    }
    t
}

/// The CHECK a non-native Boolean or Enum with `create_constraint=True` puts on its table.
pub fn schema_type_check(column: &str, ty: &SqlType) -> Option<Constraint> {
    match ty {
        SqlType::Boolean {
            create_constraint: true,
            name,
        } => Some(Constraint::Check {
            name: name.clone(),
            sqltext: format!("{column} IN (0, 1)"),
        }),
        SqlType::Enum {
            values,
            name,
            native: false,
            create_constraint: true,
            ..
        } => Some(Constraint::Check {
            name: name.clone(),
            sqltext: format!(
                "{column} IN ({})",
                values
                    .iter()
                    .map(|v| format!("'{}'", v.replace('\'', "''")))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }),
        _ => None,
    }
}

/// A new table in the model's normal form: the constraints its columns declare made
/// table-level (an unnamed primary key, unique constraints, foreign keys, schema-type checks)
/// and its `index=True` columns as indexes.
pub(crate) fn normalized_new_table(table: &Table) -> Table {
    normalize_new_table(table)
}

fn normalize_new_table(table: &Table) -> Table {
    let mut out = Table {
        columns: Vec::new(),
        constraints: Vec::new(),
        indexes: Vec::new(),
        ..table.clone()
    };
    let mut pk_cols = Vec::new();
    for column in &table.columns {
        let (mut col, constraints, indexes) = split_column(&table.name, column);
        if col.primary_key {
            pk_cols.push(col.name.clone());
            col.nullable = false;
        }
        out.columns.push(col);
        out.constraints.extend(constraints);
        out.indexes.extend(indexes);
    }
    let explicit_pk = table
        .constraints
        .iter()
        .find(|c| c.kind() == ConstraintKind::PrimaryKey);
    match explicit_pk {
        Some(pk) => {
            for col in &mut out.columns {
                if pk.columns().contains(&col.name) {
                    col.primary_key = true;
                    col.nullable = false;
                }
            }
        }
        None if !pk_cols.is_empty() => out.constraints.insert(
            0,
            Constraint::PrimaryKey {
                name: None,
                columns: pk_cols,
            },
        ),
        None => {}
    }
    // Table-level constraints come first in declaration order, as SQLAlchemy renders them.
    let mut constraints: Vec<Constraint> = table.constraints.clone();
    constraints.extend(out.constraints);
    out.constraints = constraints;
    out.indexes.extend(table.indexes.iter().cloned());
    out
}
