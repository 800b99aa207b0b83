//! The live database's schema, read from its catalog into the one schema representation, a
//! [`SchemaModel`]: tables with their columns (type as the server spells it, nullability),
//! constraints (primary keys, unique, foreign keys, CHECKs), indexes with their columns, and
//! triggers. Drift, half-migrated adoption and the resume judge compare it with the schema the
//! scripts leave and with statements' effects.
//!
//! Limits: server defaults, comments, identity and index dialect options are not read (no
//! comparison needs them); column types are kept as [`SqlType::Reflected`] text.

use std::collections::BTreeMap;

use super::driver::TextRows;
use crate::ir::{Column, Constraint, ForeignKey, Index, IndexPart, SqlType, Table};
use crate::schema::{SchemaModel, Trigger};

/// The catalog's answers, assembled: tables in name order.
pub(super) fn assemble(
    tables: TextRows,
    columns: TextRows,
    indexes: TextRows,
    constraints: Vec<(String, Constraint)>,
    triggers: TextRows,
) -> SchemaModel {
    let mut by_name: BTreeMap<String, Table> = tables
        .into_iter()
        .filter_map(|r| r.into_iter().next().flatten())
        .map(|name| (name.clone(), Table::new(&name)))
        .collect();
    for row in columns {
        let [Some(table), Some(column), ty, nullable] = fields(row) else {
            continue;
        };
        if let Some(t) = by_name.get_mut(&table) {
            let mut c = Column::new(&column, SqlType::Reflected(ty.unwrap_or_default()));
            c.nullable = nullable.as_deref() != Some("0");
            t.columns.push(c);
        }
    }
    for row in indexes {
        let [Some(table), Some(name), unique, column] = fields(row) else {
            continue;
        };
        let Some(t) = by_name.get_mut(&table) else {
            continue;
        };
        let part = match column {
            Some(c) => IndexPart::Column(c),
            None => IndexPart::Expression(String::new()),
        };
        match t.indexes.iter_mut().find(|i| i.name == name) {
            Some(index) => index.parts.push(part),
            None => t.indexes.push(Index {
                name,
                table: table.clone(),
                parts: vec![part],
                unique: unique.as_deref() == Some("1"),
                dialect_options: Vec::new(),
            }),
        }
    }
    for (table, constraint) in constraints {
        if let Some(t) = by_name.get_mut(&table) {
            if let Constraint::PrimaryKey { columns, .. } = &constraint {
                for c in &mut t.columns {
                    c.primary_key |= columns.contains(&c.name);
                }
            }
            t.constraints.push(constraint);
        }
    }
    let triggers = triggers
        .into_iter()
        .filter_map(|row| match fields(row) {
            [Some(name), table] => Some(Trigger {
                name,
                table: table.unwrap_or_default(),
                sql: String::new(),
            }),
            _ => None,
        })
        .collect();
    SchemaModel {
        tables: by_name.into_values().collect(),
        triggers,
        other_tables: Default::default(),
    }
}

/// A row's first `N` columns (missing ones NULL).
fn fields<const N: usize>(row: Vec<Option<String>>) -> [Option<String>; N] {
    let mut row = row.into_iter();
    std::array::from_fn(|_| row.next().flatten())
}

/// Constraints from rows of `table, name, kind, column, referred table, referred column,
/// CHECK clause`, one row per column in key order, where kind is `p`, `u`, `f` or `c` (as
/// PostgreSQL's `contype`; other kinds are skipped). Rows of one constraint are adjacent
/// (ordered by table, name and kind).
pub(super) fn constraints_from_rows(rows: TextRows) -> Vec<(String, Constraint)> {
    let mut out: Vec<(String, Constraint)> = Vec::new();
    let mut last: Option<(String, String, String)> = None;
    for row in rows {
        let [Some(table), Some(name), Some(kind), column, ref_table, ref_column, clause] =
            fields(row)
        else {
            continue;
        };
        let key = (table.clone(), name.clone(), kind.clone());
        if last.as_ref() == Some(&key) {
            if let Some((_, c)) = out.last_mut() {
                add_column(c, column, ref_column);
            }
            continue;
        }
        let constraint = match kind.as_str() {
            "p" => Constraint::PrimaryKey {
                name: Some(name),
                columns: Vec::new(),
            },
            "u" => Constraint::Unique {
                name: Some(name),
                columns: Vec::new(),
            },
            "f" => Constraint::ForeignKey(ForeignKey {
                name: Some(name),
                columns: Vec::new(),
                ref_table: ref_table.unwrap_or_default(),
                ref_columns: Vec::new(),
                ondelete: None,
                onupdate: None,
                deferrable: None,
                initially: None,
            }),
            "c" => Constraint::Check {
                name: Some(name),
                sqltext: clause.unwrap_or_default(),
            },
            _ => continue,
        };
        out.push((table, constraint));
        if let Some((_, c)) = out.last_mut() {
            add_column(c, column, ref_column);
        }
        last = Some(key);
    }
    out
}

fn add_column(c: &mut Constraint, column: Option<String>, ref_column: Option<String>) {
    match c {
        Constraint::PrimaryKey { columns, .. } | Constraint::Unique { columns, .. } => {
            columns.extend(column)
        }
        Constraint::ForeignKey(fk) => {
            fk.columns.extend(column);
            fk.ref_columns.extend(ref_column);
        }
        Constraint::Check { .. } => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cells: &[Option<&str>]) -> Vec<Option<String>> {
        cells.iter().map(|c| c.map(str::to_string)).collect()
    }

    #[test]
    fn a_composite_foreign_key_keeps_its_columns_in_key_order() {
        let rows = vec![
            row(&[
                Some("a"),
                Some("fk"),
                Some("f"),
                Some("x"),
                Some("b"),
                Some("bx"),
                None,
            ]),
            row(&[
                Some("a"),
                Some("fk"),
                Some("f"),
                Some("y"),
                Some("b"),
                Some("by"),
                None,
            ]),
            row(&[
                Some("a"),
                Some("pk"),
                Some("p"),
                Some("id"),
                None,
                None,
                None,
            ]),
            row(&[Some("a"), Some("ex"), Some("x"), None, None, None, None]),
        ];
        let got = constraints_from_rows(rows);
        assert_eq!(got.len(), 2, "the exclusion constraint is skipped");
        let Constraint::ForeignKey(fk) = &got[0].1 else {
            panic!("{got:?}")
        };
        assert_eq!(fk.columns, ["x", "y"]);
        assert_eq!(fk.ref_columns, ["bx", "by"]);
        assert_eq!(fk.ref_table, "b");
        assert_eq!(got[1].1.columns(), ["id"]);
    }

    #[test]
    fn columns_and_indexes_land_on_their_tables_and_the_key_marks_its_columns() {
        let model = assemble(
            vec![row(&[Some("t")])],
            vec![
                row(&[Some("t"), Some("id"), Some("INTEGER"), Some("0")]),
                row(&[Some("t"), Some("v"), Some("TEXT"), Some("1")]),
                row(&[Some("gone"), Some("x"), Some("INTEGER"), Some("1")]),
            ],
            vec![
                row(&[Some("t"), Some("ix"), Some("1"), Some("v")]),
                row(&[Some("t"), Some("ix"), Some("1"), None]),
            ],
            vec![(
                "t".into(),
                Constraint::PrimaryKey {
                    name: None,
                    columns: vec!["id".into()],
                },
            )],
            vec![row(&[Some("trg"), Some("t")])],
        );
        let t = model.table("t").expect("table t");
        assert_eq!(model.tables.len(), 1);
        assert!(!t.columns[0].nullable && t.columns[0].primary_key);
        assert!(t.columns[1].nullable && !t.columns[1].primary_key);
        assert_eq!(t.indexes[0].parts.len(), 2);
        assert!(t.indexes[0].unique);
        assert_eq!(model.triggers[0].table, "t");
    }
}
