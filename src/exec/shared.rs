//! Databases shared with other applications: MLflow's tracking and auth stores in one
//! database (each with its own version table), or an application's own tables beside
//! MLflow's. Where such a database starts is the planner's decision (`plan::state`); here are
//! the reads and refusals around it: the live tables that are not our bookkeeping, the refusal
//! of this project's tables without a version row when there are no initial tables to compare
//! them with, and the refusal of names another application's tables already hold.

use std::collections::BTreeSet;

use crate::db::Conn;
use crate::plan::Plan;
use crate::project::Project;

use super::ExecError;

/// The live tables that are not our bookkeeping (the journal, this project's version table).
pub(super) async fn live_tables(
    conn: &mut Conn,
    project: &Project,
) -> Result<BTreeSet<String>, ExecError> {
    Ok(conn
        .table_names()
        .await?
        .into_iter()
        .filter(|t| t != super::JOURNAL_TABLE && *t != project.version_table)
        .collect())
}

/// The refusal of a database without version rows that holds tables this project's
/// revisions create (`found`), when the project has no initial tables to compare them with.
pub(super) fn unversioned(project: &Project, found: &[String]) -> ExecError {
    ExecError::Unversioned {
        table: project.version_table.clone(),
        differences: if found.len() == 1 {
            format!(
                "table {}, which its revisions create, is already there",
                found[0]
            )
        } else {
            let found: Vec<&str> = found.iter().map(String::as_str).collect();
            format!(
                "tables {}, which its revisions create, are already there",
                names(&found)
            )
        },
    }
}

/// `a, b, c` — at most five names, then how many more.
fn names(tables: &[&str]) -> String {
    let shown = tables.len().min(5);
    let mut text = tables[..shown].join(", ");
    if tables.len() > shown {
        text += &format!(" and {} more", tables.len() - shown);
    }
    text
}

/// Refuse a plan that would give one of this project's objects a name another application's
/// table (in `others`) already uses, where the database allows one object of that name per
/// database or schema: indexes on SQLite and PostgreSQL (where primary keys and unique
/// constraints are indexes too), foreign keys on MySQL/MariaDB. The statement would fail
/// halfway through the run (after the revisions before it, on MySQL/MariaDB within its own);
/// refused before anything runs instead.
pub(super) async fn refuse_taken_names(
    conn: &mut Conn,
    plan: &Plan,
    others: &BTreeSet<String>,
) -> Result<(), ExecError> {
    use crate::db::Backend;
    if others.is_empty() {
        return Ok(());
    }
    let backend = conn.backend();
    let (rule, theirs): (&'static str, BTreeSet<(String, String)>) = match backend {
        Backend::Sqlite | Backend::Postgres => (
            if backend == Backend::Sqlite {
                "SQLite allows one index of a name per database"
            } else {
                "PostgreSQL allows one index of a name per schema"
            },
            conn.introspect()
                .await?
                .tables
                .iter()
                .flat_map(|t| t.indexes.iter().map(|i| (t.name.clone(), i.name.clone())))
                .collect(),
        ),
        Backend::Mysql => (
            "MySQL/MariaDB allow one foreign key of a name per database",
            conn.strings(
                "SELECT CAST(CONCAT(table_name, '|', constraint_name) AS CHAR) \
                 FROM information_schema.referential_constraints \
                 WHERE constraint_schema = DATABASE()",
            )
            .await?
            .into_iter()
            .flatten()
            .filter_map(|s| s.split_once('|').map(|(t, n)| (t.into(), n.into())))
            .collect(),
        ),
    };
    let theirs: Vec<(String, String)> = theirs
        .into_iter()
        .filter(|(t, _)| others.contains(t))
        .collect();
    if theirs.is_empty() {
        return Ok(());
    }
    let steps = plan
        .initial
        .iter()
        .chain(plan.steps.iter().map(|s| &s.compiled));
    for step in steps {
        let mut created = Vec::new();
        for e in &step.emitted {
            names_created(backend, &e.op, &mut created);
        }
        for (table, name) in created {
            if let Some((t, n)) = theirs.iter().find(|(_, n)| *n == name) {
                return Err(ExecError::NameTaken {
                    table: t.clone(),
                    name: n.clone(),
                    revision: match step.revision.as_str() {
                        "initial" => "the initial tables".to_string(),
                        r => format!("revision {r}"),
                    },
                    ours: table,
                    rule,
                });
            }
        }
    }
    Ok(())
}

/// The (table, name) pairs `op` creates in the namespace the database keeps per database or
/// schema: explicitly named indexes (SQLite, PostgreSQL; there also primary keys and unique
/// constraints, which are indexes), foreign keys (MySQL/MariaDB). Unnamed ones are left out:
/// PostgreSQL picks a free name for them, as it does for Python.
fn names_created(backend: crate::db::Backend, op: &crate::ir::Op, out: &mut Vec<(String, String)>) {
    use crate::db::Backend;
    use crate::ir::{Constraint, Op};
    let constraint_name = |c: &Constraint| match (backend, c) {
        (Backend::Postgres, Constraint::PrimaryKey { name, .. })
        | (Backend::Postgres, Constraint::Unique { name, .. }) => name.clone(),
        (Backend::Mysql, Constraint::ForeignKey(fk)) => fk.name.clone(),
        _ => None,
    };
    let indexes = backend != Backend::Mysql;
    match op {
        Op::CreateTable { table } => {
            let constraints = table.constraints.iter().filter_map(constraint_name);
            let index_names = table
                .indexes
                .iter()
                .filter(|_| indexes)
                .map(|i| i.name.clone());
            out.extend(
                constraints
                    .chain(index_names)
                    .map(|n| (table.name.clone(), n)),
            );
        }
        Op::CreateIndex { index } if indexes => {
            out.push((index.table.clone(), index.name.clone()));
        }
        Op::AddConstraint { table, constraint } => {
            out.extend(constraint_name(constraint).map(|n| (table.clone(), n)));
        }
        Op::Batch(batch) => {
            for op in &batch.ops {
                names_created(backend, op, out);
            }
        }
        _ => {}
    }
}
