//! Deciding what a run will do, before it changes anything: read the version rows and the
//! live tables, choose where the database starts (fresh, unversioned, shared with other
//! applications, resumed), plan, and refuse drift or adopt a half-applied revision. Reads only;
//! `migrate` calls it under the lock, `dry_run` (the `plan` command) without.

use super::{check_rows, database_of, journal, recover, shared, ExecError, Options};
use crate::db::Conn;
use crate::graph::{Direction, Lower, RevisionGraph, Step};
use crate::plan::{DbState, Fresh, Mode, NotDirect, Optimised, Plan, Planner, Start};
use crate::project::Project;

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
    /// What the optimiser changed, by revision.
    pub optimised: Vec<Optimised>,
    /// Why a fresh database is upgraded revision by revision rather than installed directly
    /// (`None`: it is installed directly, or it is not fresh, or the options ask for a replay).
    pub not_direct: Option<NotDirect>,
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
    // A run may have stopped inside the revision we are about to run: on MySQL/MariaDB, whose
    // DDL commits on its own, anywhere; elsewhere, inside an autocommit block (what ran before
    // it in the revision is committed). A revision run whole in a transaction leaves no journal
    // rows of its own when it stops.
    let interrupted = journal::interrupted(conn).await?.filter(|i| {
        steps
            .first()
            .is_some_and(|s| graph.id(s.revision) == i.revision)
    });
    if steps.is_empty() {
        return Ok(Prepared {
            rows,
            plan: None,
            interrupted: None,
            version_table_first: false,
            optimised: Vec::new(),
            not_direct: None,
        });
    }
    let state = DbState {
        version_rows: rows.clone(),
        tables: shared::live_tables(conn, project).await?,
        version_table: conn.table_exists(&project.version_table).await?,
        interrupted_run: interrupted.is_some(),
    };
    let dialect = project.dialect(database_of(conn.backend(), mariadb));
    let planner = Planner::for_project(project, graph, dialect, Mode::Online)?;
    let decided = planner.plan_for(&state, &steps)?;
    if let (Start::Unversioned { found }, None) = (&decided.start, &project.initial_models) {
        // Nothing to compare them with: this project starts from an empty database. (MLflow's
        // auth store stamps its first revision on such a database when it finds `users`,
        // assuming a release before 3.6; the operator knows better, and `stamp` does it.)
        return Err(shared::unversioned(project, found));
    }
    shared::refuse_taken_names(conn, &decided.plan, &decided.others).await?;
    let decided_fresh = decided.start == Start::Fresh;
    let checked = !decided_fresh && interrupted.is_none() && !options.ignore_drift;
    let (mut plan, adopted) = if checked {
        recover::settle(
            conn,
            decided,
            &steps,
            &rows,
            &project.version_table,
            options.adopt_partial,
        )
        .await?
    } else {
        (decided.plan, None)
    };
    let mut not_direct = None;
    if decided_fresh && options.fresh == Fresh::Direct {
        match planner.install(&plan) {
            // A run that stopped inside a revision-by-revision install goes on as it was.
            Ok(direct) if interrupted.as_ref().is_none_or(|i| continues(&direct, i)) => {
                plan = direct
            }
            Ok(_) => {}
            Err(why) => not_direct = Some(why),
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
    let optimised = optimise(&mut plan, interrupted.as_ref(), adopted.is_some());
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
        optimised,
        not_direct,
    })
}

/// Optimise the plan, except a first revision whose statements ran in part unoptimised: one
/// another tool left half-applied (`adopted`), or one an interrupted run of an earlier engine
/// started with other statements than the optimised ones.
fn optimise(
    plan: &mut Plan,
    interrupted: Option<&journal::Interrupted>,
    adopted: bool,
) -> Vec<Optimised> {
    let first = match interrupted {
        _ if adopted => 1,
        None => 0,
        Some(i) => {
            let mut optimised = plan.clone();
            optimised.optimise(0);
            if continues(&optimised, i) {
                0
            } else {
                1
            }
        }
    };
    plan.optimise(first)
}

/// Whether `plan`'s first unit starts with the statements an interrupted run applied.
fn continues(plan: &Plan, interrupted: &journal::Interrupted) -> bool {
    let units = plan.units();
    let ran = units.first().map_or(&[][..], |u| &u.statements[..]);
    let next = |k: usize| ran.get(k).map(|s| journal::statement_sha(&s.sql));
    interrupted.applied.len() <= ran.len()
        && interrupted
            .applied
            .iter()
            .zip(ran)
            .all(|(sha, s)| *sha == journal::statement_sha(&s.sql))
        // A statement whose outcome is unknown is the plan's next one too.
        && interrupted
            .uncertain
            .as_ref()
            .is_none_or(|(k, sha)| k.checked_sub(1).and_then(next).as_ref() == Some(sha))
}
