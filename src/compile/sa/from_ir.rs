//! IR values back to script values: `op.create_table` returns its table, whose `.c` columns,
//! constraints and indexes scripts go on using (the other direction is `convert`).

use std::rc::Rc;

use crate::interp::Value;
use crate::ir::{Constraint, DialectOption, ForeignKey, IndexPart, Table};

use super::column::{ColumnCell, ColumnDef};
use super::constraint::{
    CheckText, ColRef, ConstraintDef, ConstraintObj, FkOptions, FkTarget, ForeignKeyObj, IndexItem,
    IndexObj,
};
use super::expr::{self, Expr};
use super::table::{self, TableCell};

/// A table object for a `Table` (what `op.create_table` returns), whose `.c` columns can be
/// used in statements and `op.bulk_insert`.
pub fn table_value(t: &Table) -> Value {
    let cell = TableCell::new(&t.name, false, Vec::new(), t.comment.clone());
    for c in &t.columns {
        let def = ColumnDef {
            name: Some(c.name.clone()),
            key: None,
            ty: Some(c.ty.clone()),
            nullable: Some(c.nullable),
            primary_key: c.primary_key,
            server_default: c.server_default.clone(),
            autoincrement: Some(c.autoincrement),
            unique: c.unique,
            index: c.index,
            comment: c.comment.clone(),
            computed: c.computed.clone(),
            identity: c.identity.clone(),
            foreign_keys: c
                .foreign_keys
                .iter()
                .map(|fk| {
                    Rc::new(ForeignKeyObj {
                        target: FkTarget::Spec(format!(
                            "{}.{}",
                            fk.ref_table,
                            fk.ref_columns.first().cloned().unwrap_or_default()
                        )),
                        options: fk_options(fk),
                    })
                })
                .collect(),
            table: Some(t.name.clone()),
        };
        cell.columns.borrow_mut().push(ColumnCell::new(true, def));
    }
    for c in &t.constraints {
        let names = |cols: &[String]| cols.iter().cloned().map(ColRef::Name).collect::<Vec<_>>();
        let def = match c {
            Constraint::PrimaryKey { name, columns } => ConstraintDef::PrimaryKey {
                name: name.clone(),
                columns: names(columns),
            },
            Constraint::Unique { name, columns } => ConstraintDef::Unique {
                name: name.clone(),
                columns: names(columns),
            },
            Constraint::Check { name, sqltext } => ConstraintDef::Check {
                name: name.clone(),
                sqltext: CheckText::Str(sqltext.clone()),
            },
            Constraint::ForeignKey(fk) => ConstraintDef::ForeignKey {
                columns: names(&fk.columns),
                targets: fk
                    .ref_columns
                    .iter()
                    .map(|rc| FkTarget::Spec(format!("{}.{rc}", fk.ref_table)))
                    .collect(),
                options: fk_options(fk),
            },
        };
        cell.items
            .borrow_mut()
            .push(Value::native(ConstraintObj(def)));
    }
    for i in &t.indexes {
        let items = i
            .parts
            .iter()
            .map(|p| match p {
                IndexPart::Column(c) => IndexItem::Column(ColRef::Name(c.clone())),
                IndexPart::Expression(e) => IndexItem::Expr(Expr::Raw(e.clone())),
            })
            .collect();
        let options = i
            .dialect_options
            .iter()
            .filter_map(|(k, o)| dialect_option_value(o).map(|v| (k.clone(), v)))
            .collect();
        cell.items.borrow_mut().push(Value::native(IndexObj {
            name: Some(i.name.clone()),
            items,
            unique: i.unique,
            options,
        }));
    }
    table::table_value(&cell)
}

fn fk_options(fk: &ForeignKey) -> FkOptions {
    FkOptions {
        name: fk.name.clone(),
        ondelete: fk.ondelete.clone(),
        onupdate: fk.onupdate.clone(),
        deferrable: fk.deferrable,
        initially: fk.initially.clone(),
        use_alter: false,
    }
}

fn dialect_option_value(o: &DialectOption) -> Option<Value> {
    Some(match o {
        DialectOption::Sql(s) => expr::value(Expr::Raw(s.clone())),
        DialectOption::Int(i) => Value::Int(*i),
        DialectOption::Str(s) => Value::str(s),
        DialectOption::Bool(b) => Value::Bool(*b),
        DialectOption::Names(n) => Value::list(n.iter().map(|s| Value::str(s)).collect()),
        DialectOption::PerColumn(p) => {
            Value::dict_of_str(p.iter().map(|(k, v)| (k.clone(), Value::Int(*v))))
        }
        DialectOption::PerColumnText(p) => {
            Value::dict_of_str(p.iter().map(|(k, v)| (k.clone(), Value::str(v))))
        }
    })
}
