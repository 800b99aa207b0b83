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

use crate::ir::{Constraint, IndexPart, Op, Table};
use crate::schema::naming;

/// A project's convention: key (`pk`, `fk`, `uq`, `ck`, `ix`) to template.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Convention(pub Vec<(String, String)>);

impl Convention {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn template(&self, key: &str) -> Option<&str> {
        naming::template(&self.0, key)
    }

    /// `op` with the names the convention gives; `finals` are names given through `op.f()`.
    pub fn apply(&self, op: Op, finals: &HashSet<String>, max: Option<usize>) -> Op {
        match op {
            Op::CreateTable { table } => Op::CreateTable {
                table: self.table(&table, finals, max),
            },
            Op::AddConstraint { table, constraint } => Op::AddConstraint {
                constraint: self.constraint(&table, constraint, finals, max),
                table,
            },
            Op::Batch(mut batch) => {
                batch.ops = std::mem::take(&mut batch.ops)
                    .into_iter()
                    .map(|op| self.apply(op, finals, max))
                    .collect();
                Op::Batch(batch)
            }
            other => other,
        }
    }

    fn table(&self, table: &Table, finals: &HashSet<String>, max: Option<usize>) -> Table {
        let indexed: Vec<String> = table
            .columns
            .iter()
            .filter(|c| c.index)
            .map(|c| c.name.clone())
            .collect();
        let mut out = crate::schema::normalized_new_table(table);
        out.constraints = std::mem::take(&mut out.constraints)
            .into_iter()
            .map(|c| self.constraint(&table.name, c, finals, max))
            .collect();
        for index in &mut out.indexes {
            // `Column(index=True)`: an index the default convention named.
            let from_column = matches!(index.parts.as_slice(),
                [IndexPart::Column(c)] if indexed.contains(c)
                    && index.name == format!("ix_{}_{c}", table.name));
            if from_column {
                if let Some(name) = self
                    .template("ix")
                    .and_then(|t| naming::index_name(t, index))
                {
                    index.name = naming::fit_final(&name, max);
                }
            }
        }
        out
    }

    fn constraint(
        &self,
        table: &str,
        mut c: Constraint,
        finals: &HashSet<String>,
        max: Option<usize>,
    ) -> Constraint {
        let key = naming::key(c.kind());
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
        if let Some(name) = naming::constraint_name(template, table, &c) {
            c.set_name(Some(naming::fit_final(&name, max)));
        }
        c
    }
}
