//! The naming convention of the project's `target_metadata`, which Alembic hands to every
//! operation (its `MetaData(naming_convention=...)`): unnamed constraints and indexes get the
//! convention's names, and a named one whose template takes `%(constraint_name)s` gets the
//! template around its name, as SQLAlchemy does when a constraint joins its table. Names given
//! through `op.f()` are final and left as they are.
//!
//! Applied to an operation before it is rendered, and only when the project has a convention:
//! a table is first brought to its table-level form (the schema model's normal form) so that
//! the constraints its columns declare (`primary_key=True`, `unique=True`, `ForeignKey`) have
//! their place and can be named.

use std::collections::HashSet;

use crate::ir::{Constraint, Index, IndexPart, Op, Table};

/// A project's convention: key (`pk`, `fk`, `uq`, `ck`, `ix`) to template.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Convention(pub Vec<(String, String)>);

/// What a template's tokens are filled from.
struct Tokens<'a> {
    table: &'a str,
    name: Option<&'a str>,
    columns: Vec<String>,
    referred_table: Option<&'a str>,
    referred_columns: Vec<String>,
}

impl Convention {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn template(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `op` with the names the convention gives; `finals` are names given through `op.f()`.
    pub fn apply(&self, op: Op, finals: &HashSet<String>) -> Op {
        match op {
            Op::CreateTable { table } => Op::CreateTable {
                table: self.table(&table, finals),
            },
            Op::AddConstraint { table, constraint } => Op::AddConstraint {
                constraint: self.constraint(&table, constraint, finals),
                table,
            },
            Op::Batch(mut batch) => {
                batch.ops = std::mem::take(&mut batch.ops)
                    .into_iter()
                    .map(|op| self.apply(op, finals))
                    .collect();
                Op::Batch(batch)
            }
            other => other,
        }
    }

    fn table(&self, table: &Table, finals: &HashSet<String>) -> Table {
        let indexed: Vec<String> = table
            .columns
            .iter()
            .filter(|c| c.index)
            .map(|c| c.name.clone())
            .collect();
        let mut out = crate::schema::normalized_new_table(table);
        out.constraints = std::mem::take(&mut out.constraints)
            .into_iter()
            .map(|c| self.constraint(&table.name, c, finals))
            .collect();
        for index in &mut out.indexes {
            // `Column(index=True)`: an index the default convention named.
            let from_column = matches!(index.parts.as_slice(),
                [IndexPart::Column(c)] if indexed.contains(c)
                    && index.name == format!("ix_{}_{c}", table.name));
            if from_column {
                if let Some(name) = self.index_name(index) {
                    index.name = name;
                }
            }
        }
        out
    }

    fn index_name(&self, index: &Index) -> Option<String> {
        let columns = index
            .parts
            .iter()
            .filter_map(|p| match p {
                IndexPart::Column(c) => Some(c.clone()),
                IndexPart::Expression(_) => None,
            })
            .collect();
        let tokens = Tokens {
            table: &index.table,
            name: None,
            columns,
            referred_table: None,
            referred_columns: Vec::new(),
        };
        fill(self.template("ix")?, &tokens)
    }

    fn constraint(&self, table: &str, mut c: Constraint, finals: &HashSet<String>) -> Constraint {
        let key = match &c {
            Constraint::PrimaryKey { .. } => "pk",
            Constraint::ForeignKey(_) => "fk",
            Constraint::Unique { .. } => "uq",
            Constraint::Check { .. } => "ck",
        };
        let Some(template) = self.template(key) else {
            return c;
        };
        let current = c.name().map(str::to_string);
        if current.as_ref().is_some_and(|n| finals.contains(n)) {
            return c;
        }
        if current.is_some() && !template.contains("%(constraint_name)s") {
            return c;
        }
        let (columns, referred_table, referred_columns) = match &c {
            Constraint::PrimaryKey { columns, .. } | Constraint::Unique { columns, .. } => {
                (columns.clone(), None, Vec::new())
            }
            Constraint::ForeignKey(fk) => (
                fk.columns.clone(),
                Some(fk.ref_table.as_str()),
                fk.ref_columns.clone(),
            ),
            Constraint::Check { .. } => (Vec::new(), None, Vec::new()),
        };
        let tokens = Tokens {
            table,
            name: current.as_deref(),
            columns,
            referred_table,
            referred_columns,
        };
        if let Some(name) = fill(template, &tokens) {
            set_name(&mut c, name);
        }
        c
    }
}

fn set_name(c: &mut Constraint, new: String) {
    match c {
        Constraint::PrimaryKey { name, .. }
        | Constraint::Unique { name, .. }
        | Constraint::Check { name, .. } => *name = Some(new),
        Constraint::ForeignKey(fk) => fk.name = Some(new),
    }
}

/// The template with its `%(token)s`s filled, or `None` when a token has no value here (a
/// constraint without a name for `%(constraint_name)s`, a column past the last): the
/// constraint then keeps the name it has.
fn fill(template: &str, t: &Tokens<'_>) -> Option<String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("%(") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find(")s")?;
        out.push_str(&token(&after[..end], t)?);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Some(out)
}

fn token(key: &str, t: &Tokens<'_>) -> Option<String> {
    match key {
        "table_name" => return Some(t.table.to_string()),
        "constraint_name" => return t.name.map(str::to_string),
        "referred_table_name" => return t.referred_table.map(str::to_string),
        _ => {}
    }
    let (columns, rest, label_table) = match key.strip_prefix("referred_column_") {
        Some(r) => (&t.referred_columns, r, t.referred_table.unwrap_or_default()),
        None => (&t.columns, key.strip_prefix("column_")?, t.table),
    };
    // `0_N_x` joins every column's x with `_`, `0N_x` without a separator, `k_x` is column k.
    let (which, kind, separator) = if let Some(kind) = rest.strip_prefix("0_N_") {
        (None, kind, "_")
    } else if let Some(kind) = rest.strip_prefix("0N_") {
        (None, kind, "")
    } else {
        let (n, kind) = rest.split_once('_')?;
        (Some(n.parse::<usize>().ok()?), kind, "")
    };
    let render = |c: &String| match kind {
        "name" | "key" => Some(c.clone()),
        "label" => Some(format!("{label_table}_{c}")),
        _ => None,
    };
    match which {
        Some(n) => columns.get(n).and_then(render),
        None if columns.is_empty() => None,
        None => columns
            .iter()
            .map(render)
            .collect::<Option<Vec<_>>>()
            .map(|parts| parts.join(separator)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> Tokens<'static> {
        Tokens {
            table: "task_map",
            name: Some("length_not_negative"),
            columns: vec!["dag_id".into(), "run_id".into()],
            referred_table: Some("dag_run"),
            referred_columns: vec!["dag_id".into(), "id".into()],
        }
    }

    #[test]
    fn templates_fill_as_sqlalchemy_names_them() {
        let t = tokens();
        let cases = [
            ("%(table_name)s_pkey", "task_map_pkey"),
            (
                "ck_%(table_name)s_%(constraint_name)s",
                "ck_task_map_length_not_negative",
            ),
            (
                "idx_%(column_0_N_label)s",
                "idx_task_map_dag_id_task_map_run_id",
            ),
            (
                "%(table_name)s_%(column_0_N_name)s_uq",
                "task_map_dag_id_run_id_uq",
            ),
            (
                "%(table_name)s_%(column_0_name)s_fkey",
                "task_map_dag_id_fkey",
            ),
            ("uq_%(column_0N_name)s", "uq_dag_idrun_id"),
            (
                "fk_%(referred_table_name)s_%(referred_column_1_name)s",
                "fk_dag_run_id",
            ),
            ("ix_%(column_0_label)s", "ix_task_map_dag_id"),
        ];
        for (template, expected) in cases {
            assert_eq!(fill(template, &t).as_deref(), Some(expected), "{template}");
        }
        let unnamed = Tokens {
            name: None,
            ..tokens()
        };
        assert_eq!(fill("ck_%(constraint_name)s", &unnamed), None);
        assert_eq!(fill("x_%(column_5_name)s", &t), None);
    }
}
