//! Deciding what a run will do, before it changes anything: read the version rows and the
//! live tables, choose where the database starts (fresh, unversioned, shared with other
//! applications, resumed), plan, and refuse drift or adopt a half-applied revision. Reads only;
//! `migrate` calls it under the lock, `dry_run` (the `plan` command) without.

use std::collections::BTreeSet;

use super::recover::{drift, drift_error, drift_text, first_step_tables, half_migrated};
use super::{check_rows, database_of, journal, shared, ExecError, Options};
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
        let touched = first_step_tables(&plan, &steps);
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
                    let stmts: Vec<&crate::plan::Statement> =
                        plan.steps[0].compiled.typed().collect();
                    return Err(ExecError::HalfMigrated {
                        revision: plan.steps[0].compiled.revision.clone(),
                        applied,
                        total: stmts.len(),
                        table: project.version_table.clone(),
                        next: stmts.get(applied).map(|s| s.one_line()).unwrap_or_else(|| {
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
