//! Telling where a database really is when its version rows do not say it all, by comparing
//! the live schema with what the plan's statements do (their effects, settled when they were
//! made): drift from the schema the recorded revisions leave, a revision another tool left
//! half-applied, and the one statement an interrupted MySQL/MariaDB run may or may not have
//! applied.

mod judge;

use std::collections::BTreeSet;

use super::{journal, ExecError, Uncertain};
use crate::db::Conn;
use crate::graph::{Direction, Step};
use crate::plan::{Decided, Plan, Start, Statement};
use crate::schema::effect::{Object, State};
use crate::schema::SchemaModel;

pub(super) use judge::temporary_replay;

/// Whether statement `index` (1-based) of a unit, which a MySQL run died running, landed:
/// a data statement ran in a transaction with its checkpoint, so without the checkpoint it
/// was rolled back; for DDL the live schema is compared with the states before and after it.
pub(super) async fn decide_uncertain(
    conn: &mut Conn,
    stmts: &[Statement],
    index: usize,
) -> Result<Result<Uncertain, String>, ExecError> {
    let Some(statement) = stmts.get(index - 1) else {
        return Ok(Err("the statement is not in the plan".into()));
    };
    // Rows change in one transaction with their checkpoint: without one, they did not.
    if statement.changes_rows_only() || statement.is_idempotent() {
        return Ok(Ok(Uncertain::Retry));
    }
    Ok(
        match judge::judge(conn, &stmts[..index], index - 1..=index).await? {
            judge::Verdict::Applied(j) if j == index => Ok(Uncertain::Skip),
            judge::Verdict::Applied(_) => Ok(Uncertain::Retry),
            judge::Verdict::Unclear(why) => Err(why),
        },
    )
}

/// Refuse a schema that is not what the version rows say, unless it is the plan's first
/// revision half-applied by a tool without our journal: its objects partly there (a table it
/// creates, such as SQLite's `_alembic_tmp_<table>`, counts), the version row behind. With
/// `adopt`, such a revision is adopted: the plan comes back with how many of the first step's
/// statements ran (its statements in the order that ran).
pub(super) async fn settle(
    conn: &mut Conn,
    decided: Decided,
    steps: &[Step],
    rows: &[String],
    version_table: &str,
    adopt: bool,
) -> Result<(Plan, Option<usize>), ExecError> {
    let Decided {
        mut plan,
        start,
        before,
        unknown,
        ..
    } = decided;
    let mut diffs = drift(conn, &before, version_table).await?;
    let touched = first_step_tables(&plan, steps);
    let created = plan.tables_created();
    for t in &unknown {
        if touched.contains(t) {
            diffs.push((t.clone(), format!("table {t} is unexpected")));
        } else if created.contains(t) {
            // Another application's table under a name a later revision gives its own:
            // refused now, not when that revision's CREATE TABLE fails halfway through.
            diffs.push((
                t.clone(),
                format!("table {t} is there though a later revision creates it"),
            ));
        }
    }
    if diffs.is_empty() {
        return Ok((plan, None));
    }
    let partial = if diffs.iter().all(|(t, _)| touched.contains(t)) {
        half_migrated(conn, &mut plan).await?
    } else {
        None
    };
    match partial {
        Some(applied) if adopt => Ok((plan, Some(applied))),
        Some(applied) => {
            let stmts: Vec<&Statement> = plan.steps[0].compiled.typed().collect();
            Err(ExecError::HalfMigrated {
                revision: plan.steps[0].compiled.revision.clone(),
                applied,
                total: stmts.len(),
                table: version_table.to_string(),
                next: stmts
                    .get(applied)
                    .map(|s| s.one_line())
                    .unwrap_or_else(|| "(none: only the version change remains)".to_string()),
            })
        }
        None if matches!(start, Start::Unversioned { .. }) => Err(ExecError::Unversioned {
            table: version_table.to_string(),
            differences: drift_text(&diffs),
        }),
        None => Err(drift_error(rows, &diffs)),
    }
}

/// Compare the live schema with the one the recorded revisions leave: a table, column, named
/// constraint or index missing, or a column added to one of the project's tables. Each
/// difference comes with its table.
async fn drift(
    conn: &mut Conn,
    model: &SchemaModel,
    version_table: &str,
) -> Result<Vec<(String, String)>, ExecError> {
    let ours = |t: &str| t == journal::JOURNAL_TABLE || t == version_table;
    let live = conn.introspect().await?;
    let mut diffs = Vec::new();
    // Tables the model does not know are not drift: other applications may share the
    // database (and their version tables). Named constraints and indexes the model knows
    // must be there under their names (later revisions drop and create them by name).
    for t in &model.tables {
        let have = live.table(&t.name).filter(|_| !ours(&t.name));
        if let Some(have) = have {
            for c in &t.constraints {
                let Some(name) = c.name() else { continue };
                if matches!(c, crate::ir::Constraint::PrimaryKey { .. }) {
                    continue;
                }
                let named = Object::Constraint(t.name.clone(), name.to_string());
                if named.state_in(&live, false) != Some(State::Present) {
                    diffs.push((
                        t.name.clone(),
                        format!("constraint {name} on {} is missing", t.name),
                    ));
                }
            }
            for i in &t.indexes {
                if !have.indexes.iter().any(|x| x.name == i.name) {
                    diffs.push((
                        t.name.clone(),
                        format!("index {} on {} is missing", i.name, t.name),
                    ));
                }
            }
        }
        let cols: BTreeSet<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
        match have {
            None => diffs.push((t.name.clone(), format!("table {} is missing", t.name))),
            Some(have) => {
                let have: BTreeSet<&str> = have.columns.iter().map(|c| c.name.as_str()).collect();
                for c in cols.difference(&have) {
                    diffs.push((t.name.clone(), format!("column {}.{c} is missing", t.name)));
                }
                for c in have.difference(&cols) {
                    diffs.push((
                        t.name.clone(),
                        format!("column {}.{c} is unexpected", t.name),
                    ));
                }
            }
        }
    }
    Ok(diffs)
}

fn drift_error(rows: &[String], diffs: &[(String, String)]) -> ExecError {
    ExecError::Drift {
        revisions: rows.join(", "),
        differences: drift_text(diffs),
    }
}

fn drift_text(diffs: &[(String, String)]) -> String {
    let shown = diffs.len().min(6);
    let mut differences = diffs[..shown]
        .iter()
        .map(|d| d.1.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    if diffs.len() > shown {
        differences += &format!("; and {} more", diffs.len() - shown);
    }
    differences
}

/// The tables the first step of an upgrade touches (creates, drops, renames, alters).
fn first_step_tables(plan: &Plan, steps: &[Step]) -> BTreeSet<String> {
    match (plan.steps.first(), steps.first()) {
        (Some(first), Some(step)) if step.direction == Direction::Up => {
            first.compiled.typed().flat_map(Statement::tables).collect()
        }
        _ => BTreeSet::new(),
    }
}

/// Whether the live schema is the first step of the plan half-applied: it agrees with the
/// state after its first j statements, j ≥ 1. Returns j.
async fn half_migrated(conn: &mut Conn, plan: &mut Plan) -> Result<Option<usize>, ExecError> {
    let Some(first) = plan.steps.first_mut() else {
        return Ok(None);
    };
    // SQLAlchemy creates a new table's indexes in the order of a Python set, which changes
    // from run to run; so a revision Python stopped inside may have run them in another order
    // than ours. Our order first, then each other order of one table's indexes.
    for (op, order) in index_orders(&first.compiled.emitted) {
        let mut emitted = first.compiled.emitted.clone();
        if let Some(op) = op {
            let reordered = order
                .iter()
                .map(|&i| emitted[op].statements[i].clone())
                .collect();
            emitted[op].statements = reordered;
        }
        let stmts: Vec<Statement> = emitted
            .iter()
            .flat_map(|e| e.statements.iter().cloned())
            .collect();
        if let judge::Verdict::Applied(j) = judge::judge(conn, &stmts, 0..=stmts.len()).await? {
            if j >= 1 {
                first.compiled.emitted = emitted;
                return Ok(Some(j));
            }
        }
    }
    Ok(None)
}

/// The statement orders to try for a half-applied revision: ours (`None`), then, for each
/// operation that creates a table and then its indexes, every other order of those indexes
/// (the table first), for tables of up to five indexes.
fn index_orders(emitted: &[crate::compile::EmittedOp]) -> Vec<(Option<usize>, Vec<usize>)> {
    let mut out = vec![(None, Vec::new())];
    for (op, e) in emitted.iter().enumerate() {
        let s = &e.statements;
        let creates_indexes = matches!(e.op, crate::ir::Op::CreateTable { .. })
            && s.len() > 2
            && s.len() <= 6
            && s[1..].iter().all(Statement::creates_index);
        if !creates_indexes {
            continue;
        }
        let mut rest: Vec<usize> = (1..s.len()).collect();
        let mut orders = Vec::new();
        permutations(&mut rest, 0, &mut orders);
        for order in orders.into_iter().skip(1) {
            let mut full = vec![0];
            full.extend(order);
            out.push((Some(op), full));
        }
    }
    out
}

/// Every permutation of `items[k..]`, by swapping in place, the identity first.
fn permutations(items: &mut Vec<usize>, k: usize, out: &mut Vec<Vec<usize>>) {
    if k == items.len() {
        out.push(items.clone());
        return;
    }
    for i in k..items.len() {
        items.swap(k, i);
        permutations(items, k + 1, out);
        items.swap(k, i);
    }
}

#[cfg(test)]
mod tests {
    use super::permutations;

    #[test]
    fn permutations_start_with_the_identity_and_are_all_distinct() {
        let mut items = vec![1, 2, 3];
        let mut out = Vec::new();
        permutations(&mut items, 0, &mut out);
        assert_eq!(out[0], vec![1, 2, 3]);
        assert_eq!(out.len(), 6);
        let distinct: std::collections::BTreeSet<_> = out.iter().cloned().collect();
        assert_eq!(distinct.len(), 6);
    }
}
