//! The renderer against what Alembic 1.20.1 + SQLAlchemy 2.1.9 wrote for the same operations on
//! PostgreSQL (their `--sql` output, or the statements logged while upgrading PostgreSQL 15),
//! and the names PostgreSQL 15 gave what those statements leave unnamed.

mod alter;
mod create;

use super::*;
use crate::ir::{
    Autoincrement, Computed, DialectOption, ForeignKey, Identity, Index, ServerDefault, Statement,
};

pub(super) fn col(name: &str, ty: SqlType) -> Column {
    Column::new(name, ty)
}

pub(super) fn pk(name: &str, ty: SqlType) -> Column {
    let mut c = Column::new(name, ty);
    c.primary_key = true;
    c.nullable = false;
    c
}

pub(super) fn fk(cols: &[&str], table: &str, ref_cols: &[&str]) -> ForeignKey {
    ForeignKey {
        name: None,
        columns: cols.iter().map(|c| c.to_string()).collect(),
        ref_table: table.into(),
        ref_columns: ref_cols.iter().map(|c| c.to_string()).collect(),
        ondelete: None,
        onupdate: None,
        deferrable: None,
        initially: None,
    }
}

pub(super) fn enum_type(values: &[&str], name: Option<&str>, native: bool) -> SqlType {
    SqlType::Enum {
        values: values.iter().map(|v| v.to_string()).collect(),
        name: name.map(str::to_string),
        native,
        create_constraint: !native,
        length: None,
    }
}

pub(super) fn varchar(n: u32) -> SqlType {
    SqlType::Varchar {
        length: Some(n),
        collation: None,
    }
}

pub(super) fn table(name: &str, columns: Vec<Column>, constraints: Vec<Constraint>) -> Table {
    Table {
        name: name.into(),
        columns,
        constraints,
        indexes: Vec::new(),
        comment: None,
    }
}

pub(super) fn render(model: &mut SchemaModel, op: Op) -> Vec<String> {
    Postgresql::default()
        .render(model, &op)
        .unwrap_or_else(|e| panic!("{op:?}: {e}"))
}

pub(super) fn create(model: &mut SchemaModel, t: Table) -> Vec<String> {
    render(model, Op::CreateTable { table: t })
}

pub(super) fn names(model: &SchemaModel, table: &str) -> Vec<String> {
    let t = model.table(table).unwrap();
    t.constraints
        .iter()
        .map(|c| c.name().unwrap_or("<unnamed>").to_string())
        .collect()
}
