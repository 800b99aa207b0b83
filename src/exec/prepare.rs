//! Deciding what a run will do, before it changes anything: read the version rows and the
//! live tables, choose where the database starts (fresh, unversioned, shared with other
//! applications, resumed), plan, and refuse drift or adopt a half-applied revision. Reads only;
//! `migrate` calls it under the lock, `dry_run` (the `plan` command) without.

use std::collections::BTreeSet;

use super::{check_rows, database_of, journal, partial, shared, ExecError, Options};
use crate::db::{Backend, Conn};
use crate::graph::{Direction, Lower, RevisionGraph, Step};
use crate::plan::{Initial, Mode, Plan, Planner};
use crate::project::Project;
use crate::schema::SchemaModel;

/// What a run will do.
pub(super) struct Prepared {
    /// The version rows it starts from.
    pub rows: Vec<String>,
    /// `None`: nothing to do.
    pub plan: Option<Plan>,
    /// The revision an earlier run (or another tool) stopped inside, and what of it is applied.
    pub interrupted: Option<journal::Interrupted>,
    /// A half-applied revision is adopted on a database without its version table: the table
    /// is created before the revision's remaining statements.
    pub version_table_first: bool,
}

pub(super) async fn prepare(
    conn: &mut Conn,
    mariadb: bool,
    project: &Project,
    graph: &RevisionGraph,
    options: &Options,
) -> Result<Prepared, ExecError> {
    // Re-read the heads under the lock: a concurrent upgrader may have finished already.
    let rows = conn.version_rows(&project.version_table).await?;
    check_rows(project, graph, &rows)?;
    let current = Lower::Many(rows.clone());
    let steps: Vec<Step> = match options.direction {
        Direction::Up => graph.upgrade_path(&current, &options.target)?,
        Direction::Down => graph.downgrade_path(&current, &options.target)?,
    };
    // MySQL/MariaDB: a run may have stopped inside the revision we are about to run.
    let interrupted = match conn.backend() {
        Backend::Mysql => journal::interrupted(conn).await?.filter(|i| {
            steps
                .first()
                .is_some_and(|s| graph.id(s.revision) == i.revision)
        }),
        _ => None,
    };
    if steps.is_empty() {
        return Ok(Prepared {
            rows,
            plan: None,
            interrupted: None,
            version_table_first: false,
        });
    }
    let dialect = database_of(conn.backend(), mariadb).dialect();
    let planner = Planner::for_project(project, graph, dialect, Mode::Online)?;
    // Without a version row, the database starts from nothing when none of this project's
    // tables is there (other applications' tables may be), and from MLflow's initial tables
    // when they are (as after `downgrade base`, or an upgrade that died before its first
    // revision ended); anything else is refused below when its tables are not those.
    let live = shared::live_tables(conn, project).await?;
    let start = shared::start(
        project,
        &planner,
        &rows,
        &steps,
        &live,
        interrupted.is_some(),
    )?;
    let unversioned = matches!(start, shared::Start::Unversioned);
    let (model, fresh_plan) = match start {
        shared::Start::Fresh(plan) => (SchemaModel::default(), Some(*plan)),
        _ => (planner.schema_at(&rows)?, None),
    };
    let initial = if fresh_plan.is_some() {
        Initial::Create
    } else {
        Initial::Skip
    };
    let checked =
        (!rows.is_empty() || unversioned) && interrupted.is_none() && !options.ignore_drift;
    let mut diffs = if checked {
        drift(conn, &model, &project.version_table).await?
    } else {
        Vec::new()
    };
    let known: BTreeSet<String> = model.tables.iter().map(|t| t.name.clone()).collect();
    // Other applications' tables in the same database (MLflow's tracking tables beside its
    // auth tables, an application's own) are listed to scripts that inspect the database, as
    // Alembic lists them: auth's f1a2b3c4d5e6 rewrites prompt grants only when it finds the
    // model registry. A table the plan itself creates is not another application's, even when
    // it is already there: an interrupted run (ours, or Python's) created it, and the plan
    // must stay the one that run had (MLflow's 3500859a5d39 creates its table only when it is
    // missing).
    let candidates: BTreeSet<String> = live.difference(&known).cloned().collect();
    let mut plan = match fresh_plan {
        Some(plan) => plan,
        None => planner.plan(&rows, &steps, model.clone(), initial)?,
    };
    if !candidates.is_empty() {
        let mut model = model;
        model.other_tables = candidates
            .difference(&tables_created(&plan))
            .cloned()
            .collect();
        if !model.other_tables.is_empty() {
            plan = planner.plan(&rows, &steps, model, initial)?;
        }
    }
    let created = tables_created(&plan);
    let others: BTreeSet<String> = candidates.difference(&created).cloned().collect();
    shared::refuse_taken_names(conn, &plan, &others).await?;
    if interrupted.is_none() {
        // Alembic leaves the table when it deletes the last row (`downgrade base`).
        plan.create_version_table = !conn.table_exists(&project.version_table).await?;
    }
    // A drifted schema may be the next revision half-applied by a tool without our journal:
    // its objects partly there (a table it creates, such as SQLite's `_alembic_tmp_<table>`,
    // counts), the version row behind.
    let mut adopted = None;
    if checked {
        let touched = first_step_tables(conn, &plan, &steps);
        for t in &candidates {
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
        if !diffs.is_empty() {
            let partial = if diffs.iter().all(|(t, _)| touched.contains(t)) {
                half_migrated(conn, &mut plan).await?
            } else {
                None
            };
            match partial {
                Some(applied) if options.adopt_partial => adopted = Some(applied),
                Some(applied) => {
                    let stmts: Vec<&str> = plan.steps[0].compiled.statements().collect();
                    return Err(ExecError::HalfMigrated {
                        revision: plan.steps[0].compiled.revision.clone(),
                        applied,
                        total: stmts.len(),
                        table: project.version_table.clone(),
                        next: stmts.get(applied).map(|s| one_line(s)).unwrap_or_else(|| {
                            "(none: only the version change remains)".to_string()
                        }),
                    });
                }
                None if unversioned => {
                    return Err(ExecError::Unversioned {
                        table: project.version_table.clone(),
                        differences: drift_text(&diffs),
                    })
                }
                None => return Err(drift_error(&rows, &diffs)),
            }
        }
    }
    let adopted_journal = adopted.map(|n| journal::Interrupted {
        revision: plan.steps[0].compiled.revision.clone(),
        applied: plan.steps[0]
            .compiled
            .statements()
            .take(n)
            .map(journal::statement_sha)
            .collect(),
        uncertain: None,
    });
    // The statements adopted are the revision's own: the version table comes first.
    let version_table_first = adopted_journal.is_some() && plan.create_version_table;
    if version_table_first {
        plan.create_version_table = false;
    }
    Ok(Prepared {
        rows,
        plan: Some(plan),
        interrupted: interrupted.or(adopted_journal),
        version_table_first,
    })
}

/// The tables a plan creates or renames into, anywhere along it.
pub(super) fn tables_created(plan: &crate::plan::Plan) -> BTreeSet<String> {
    plan.initial
        .iter()
        .chain(plan.steps.iter().map(|s| &s.compiled))
        .flat_map(|c| c.emitted.iter())
        .filter_map(|e| match &e.op {
            crate::ir::Op::CreateTable { table } => Some(table.name.clone()),
            crate::ir::Op::RenameTable { new_name, .. } => Some(new_name.clone()),
            _ => None,
        })
        .collect()
}

/// Compare the live schema with the one the recorded revisions leave: a table, column, named
/// constraint or index missing, or a column added to one of the project's tables. Each
/// difference comes with its table.
async fn drift(
    conn: &mut Conn,
    model: &SchemaModel,
    version_table: &str,
) -> Result<Vec<(String, String)>, ExecError> {
    use std::collections::BTreeMap;
    let ours = |t: &str| t == journal::JOURNAL_TABLE || t == version_table;
    let mut live: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (t, c) in conn.columns().await? {
        if !ours(&t) {
            live.entry(t).or_default().insert(c);
        }
    }
    let mut diffs = Vec::new();
    // Tables the model does not know are not drift: other applications may share the
    // database (and their version tables). Named constraints and indexes the model knows
    // must be there under their names (later revisions drop and create them by name).
    let named = crate::db::live::LiveSchema::read(conn).await?;
    for t in &model.tables {
        if live.contains_key(&t.name) {
            for c in &t.constraints {
                let Some(name) = c.name() else { continue };
                if matches!(c, crate::ir::Constraint::PrimaryKey { .. }) {
                    continue;
                }
                if !named
                    .constraints
                    .contains(&(t.name.clone(), name.to_string()))
                {
                    diffs.push((
                        t.name.clone(),
                        format!("constraint {name} on {} is missing", t.name),
                    ));
                }
            }
            for i in &t.indexes {
                if !named.indexes.contains(&(t.name.clone(), i.name.clone())) {
                    diffs.push((
                        t.name.clone(),
                        format!("index {} on {} is missing", i.name, t.name),
                    ));
                }
            }
        }
        let cols: BTreeSet<String> = t.columns.iter().map(|c| c.name.clone()).collect();
        match live.get(&t.name) {
            None => diffs.push((t.name.clone(), format!("table {} is missing", t.name))),
            Some(have) => {
                for c in cols.difference(have) {
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

pub(super) fn one_line(sql: &str) -> String {
    let one = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    one.chars().take(160).collect()
}

pub(super) fn family(conn: &Conn) -> crate::dialect::sqltext::Family {
    use crate::dialect::sqltext::Family;
    match conn.backend() {
        Backend::Sqlite => Family::Sqlite,
        Backend::Postgres => Family::Postgres,
        Backend::Mysql => Family::Mysql,
    }
}

/// The tables the first step of an upgrade touches (creates, drops, renames, alters).
fn first_step_tables(conn: &Conn, plan: &Plan, steps: &[Step]) -> BTreeSet<String> {
    use crate::dialect::sqltext::{read_statement, Effect, Reading};
    let mut touched = BTreeSet::new();
    let (Some(first), Some(step)) = (plan.steps.first(), steps.first()) else {
        return touched;
    };
    if step.direction != Direction::Up {
        return touched;
    }
    let fam = family(conn);
    for s in first.compiled.statements() {
        if let Reading::Effects(effects) = read_statement(s, fam) {
            for e in effects {
                match e {
                    Effect::Set(o, _) => touched.extend(o.table().map(str::to_string)),
                    Effect::DropTable(t) => {
                        touched.insert(t);
                    }
                    Effect::RenameTable { from, to } => touched.extend([from, to]),
                    Effect::Temporary(_) => {}
                }
            }
        }
    }
    touched
}

/// Whether the live schema is the first step of the plan half-applied: it agrees with the
/// state after its first j statements, j ≥ 1. Returns j.
async fn half_migrated(conn: &mut Conn, plan: &mut Plan) -> Result<Option<usize>, ExecError> {
    let Some(first) = plan.steps.first_mut() else {
        return Ok(None);
    };
    let fam = family(conn);
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
        let stmts: Vec<String> = emitted
            .iter()
            .flat_map(|e| e.statements.iter().cloned())
            .collect();
        if let partial::Verdict::Applied(j) =
            partial::judge(conn, fam, &stmts, 0..=stmts.len()).await?
        {
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
        let creates_indexes = s.len() > 2
            && s.len() <= 6
            && s[0].trim_start().to_uppercase().starts_with("CREATE TABLE")
            && s[1..].iter().all(|x| {
                let x = x.trim_start().to_uppercase();
                x.starts_with("CREATE INDEX") || x.starts_with("CREATE UNIQUE INDEX")
            });
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
