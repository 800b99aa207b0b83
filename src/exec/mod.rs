//! Running a plan on a live database: lock, read `alembic_version`, plan from the schema the
//! recorded revisions leave, then execute statement by statement with a journal.
//!
//! On SQLite and PostgreSQL each revision — its statements, its journal rows and its version
//! change — commits as one transaction (`--transaction per-revision`), or the whole run does
//! (`all`, like MLflow's own upgrade on PostgreSQL). An interrupted run leaves the database at
//! the last committed revision, and the next `upgrade` simply continues from there.
//! MySQL/MariaDB commit every DDL statement on their own: there each statement gets an intent
//! row before and a checkpoint row after it, the next run skips what was applied, and the one
//! statement a crash may have cut is named for the operator to settle (`--resume-skip` /
//! `--resume-retry`) rather than guessed. Before upgrading, the live tables and columns are
//! checked against the ones the recorded revisions leave.

mod backup;
mod faults;
mod journal;
pub mod partial;
mod shared;
mod status;
mod summary;

use std::collections::BTreeSet;
use std::rc::Rc;
use std::time::Duration;

use crate::db::{Backend, Conn, DbError, DbUrl, Lock};
use crate::graph::{Direction, GraphError, Lower, RevisionGraph, Step};
use crate::plan::{Plan, PlanError, Planner};
use crate::project::Project;
use crate::schema::SchemaModel;

pub use backup::{dump_command, restore_command, Backup, BackupError, BackupMade};
pub use journal::JOURNAL_TABLE;
pub use status::{applied, prune_journal, status, Applied, Pruned, RunReport, RunState, Status};
pub use summary::{RevisionReport, Summary};

#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    Graph(#[from] GraphError),
    #[error(transparent)]
    Recipe(#[from] crate::recipes::RecipeError),
    #[error(transparent)]
    Backup(#[from] BackupError),
    #[error("{table} holds revision '{revision}', which the {project} scripts do not know; if another application shares this table, point us at ours with --version-table; if the database is newer than these scripts, upgrade mlflow-migrate's scripts")]
    UnknownRevision {
        table: String,
        revision: String,
        project: String,
    },
    #[error("the database has tables but no revision in {table}, and they are not the tables this project starts from ({differences}): it was not created by this project's migrations. Nothing was changed (stamp it with `stamp` if you know its revision)")]
    Unversioned { table: String, differences: String },
    #[error("{table} is another application's table, and {name} on it is named like the one {revision} creates on {ours} ({rule}). Nothing was changed. Rename the other application's, or keep the applications in separate databases")]
    NameTaken {
        table: String,
        name: String,
        revision: String,
        ours: String,
        rule: &'static str,
    },
    #[error("executing on {0} is not supported yet (use `sql` for an offline script)")]
    Unsupported(String),
    #[error("revision {revision} failed at statement {index} of {total}: {source}")]
    Statement {
        revision: String,
        index: usize,
        total: usize,
        #[source]
        source: DbError,
    },
    #[cfg(feature = "fault-injection")]
    #[error("stopped by fault injection after statement {0} (test hook)")]
    Injected(usize),
    #[error("stopped on request at a checkpoint: {done} of {total} revision(s) complete, the database at {}; the next upgrade continues from there", at_text(at))]
    Cancelled {
        at: Vec<String>,
        done: usize,
        total: usize,
    },
    #[error("the last run stopped while running statement {index} of revision {revision}, and MySQL/MariaDB may or may not have applied it: {sql}. The live schema does not tell ({why}). Look at the database: if it was applied, run `upgrade --resume-skip`; if not, `upgrade --resume-retry`")]
    Uncertain {
        revision: String,
        index: usize,
        sql: String,
        why: String,
    },
    #[error("the database is part-way through revision {revision}: the first {applied} of its {total} statements ran (the live schema shows their objects) but {table} still names the revision before, as an upgrade that stopped halfway (Python Alembic on a database without transactional DDL) leaves it. Nothing was changed. Run `upgrade --adopt-partial` to run the remaining statements, starting with: {next}")]
    HalfMigrated {
        revision: String,
        applied: usize,
        total: usize,
        table: String,
        next: String,
    },
    #[error("the database's schema differs from what revision(s) {revisions} leave, so it was changed outside the migrations (or by a migration that stopped halfway): {differences}. Nothing was changed. Restore the schema, or pass --ignore-drift to upgrade anyway")]
    Drift {
        revisions: String,
        differences: String,
    },
    #[error("the last run stopped inside revision {revision}, but the statements planned now differ from the ones it applied (at statement {index}); the scripts changed since: restore the database or finish with the scripts that started it")]
    ResumeMismatch { revision: String, index: usize },
}

fn at_text(rows: &[String]) -> String {
    if rows.is_empty() {
        "base".into()
    } else {
        rows.join(", ")
    }
}

/// What to do with the one statement an interrupted MySQL/MariaDB run may or may not have
/// applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uncertain {
    /// It was applied: continue after it.
    Skip,
    /// It was not applied: run it again.
    Retry,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionMode {
    PerRevision,
    All,
}

/// What happens as the run goes, for progress displays (and, serialized, for the binary's
/// newline-delimited JSON: `{"event": "statement", ...}`).
#[derive(Debug, Clone, serde::Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The backup taken before the first statement.
    BackedUp {
        backup: BackupMade,
    },
    /// Another upgrader holds the lock; this run waits for it (up to the lock timeout).
    Waiting {
        holder: Option<crate::db::LockHolder>,
    },
    Locked,
    Planned {
        steps: usize,
        statements: usize,
    },
    /// Revision `index` of `total` starts.
    Step {
        index: usize,
        total: usize,
        revision: String,
        direction: Direction,
        message: String,
        /// `Running upgrade <from> -> <to>`, as Alembic labels it.
        label: String,
    },
    /// Statement `index` of `total` (over the whole run) is about to run.
    Statement {
        index: usize,
        total: usize,
        revision: String,
        /// What it does, in a few words (`CREATE TABLE datasets`, `INSERT INTO tags`).
        summary: String,
    },
    /// A data statement changed `rows` rows.
    Rows {
        revision: String,
        summary: String,
        rows: u64,
    },
    /// The revision's work and its version change are committed (a checkpoint).
    Committed {
        revision: String,
    },
}

/// Asks a running upgrade to stop at its next checkpoint (Ctrl-C in the binary). Clones share
/// one flag.
#[derive(Debug, Clone, Default)]
pub struct Cancel(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl Cancel {
    pub fn cancel(&self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

pub struct Options {
    pub target: String,
    pub direction: Direction,
    pub lock_timeout: Duration,
    pub transaction: TransactionMode,
    /// Stop at the next checkpoint when cancelled: after the current revision commits
    /// (SQLite, PostgreSQL), after the current statement's checkpoint (MySQL/MariaDB); with one
    /// transaction for the whole run, everything is rolled back.
    pub cancel: Cancel,
    /// A backup taken under the lock before the first statement, when there is work to do.
    pub backup: Backup,
    /// The decision for a statement an interrupted MySQL run may or may not have applied.
    pub uncertain: Option<Uncertain>,
    /// Skip the check that the live tables and columns are the ones the recorded revisions
    /// leave.
    pub ignore_drift: bool,
    /// Finish a revision whose first statements the live schema shows applied though the
    /// version table is behind (an upgrade that stopped halfway without our journal).
    pub adopt_partial: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            target: "heads".into(),
            direction: Direction::Up,
            lock_timeout: Duration::from_secs(300),
            transaction: TransactionMode::PerRevision,
            cancel: Cancel::default(),
            backup: Backup::None,
            uncertain: None,
            ignore_drift: false,
            adopt_partial: false,
        }
    }
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub before: Vec<String>,
    pub after: Vec<String>,
    pub steps: usize,
    pub statements: usize,
}

fn dialect_for(
    conn_backend: Backend,
    mariadb: bool,
) -> Result<Rc<dyn crate::dialect::Dialect>, ExecError> {
    let name = match (conn_backend, mariadb) {
        (Backend::Sqlite, _) => "sqlite",
        (Backend::Postgres, _) => "postgresql",
        (Backend::Mysql, true) => "mariadb",
        (Backend::Mysql, false) => "mysql",
    };
    crate::dialect::for_name(name).ok_or_else(|| ExecError::Unsupported(name.into()))
}

/// Check the version rows against the scripts.
fn check_rows(project: &Project, graph: &RevisionGraph, rows: &[String]) -> Result<(), ExecError> {
    for r in rows {
        if graph.get(r).is_none() {
            return Err(ExecError::UnknownRevision {
                table: project.version_table.clone(),
                revision: r.clone(),
                project: project.name.clone(),
            });
        }
    }
    Ok(())
}

/// Read the current version rows (`current`).
pub async fn current(
    url: &DbUrl,
    project: &Project,
    graph: &RevisionGraph,
) -> Result<Vec<String>, ExecError> {
    let mut conn = status::connect_existing(url).await?;
    let rows = conn.version_rows(&project.version_table).await?;
    conn.close().await;
    check_rows(project, graph, &rows)?;
    Ok(rows)
}

/// Upgrade or downgrade `url` to `options.target`.
pub async fn migrate(
    url: &DbUrl,
    project: &Project,
    graph: &RevisionGraph,
    options: &Options,
    progress: &mut dyn FnMut(Event),
) -> Result<Outcome, ExecError> {
    let mut conn = Conn::connect(url).await?;
    let mariadb = url.mariadb || conn.is_mariadb().await?;
    if let Some(holder) = crate::db::lock_holder(&mut conn, url, &project.version_table).await? {
        progress(Event::Waiting {
            holder: Some(holder),
        });
    }
    let lock = Lock::acquire(&mut conn, url, &project.version_table, options.lock_timeout).await?;
    progress(Event::Locked);
    let result = run_locked(&mut conn, mariadb, project, graph, options, progress).await;
    lock.release(&mut conn).await;
    conn.close().await;
    result
}

async fn run_locked(
    conn: &mut Conn,
    mariadb: bool,
    project: &Project,
    graph: &RevisionGraph,
    options: &Options,
    progress: &mut dyn FnMut(Event),
) -> Result<Outcome, ExecError> {
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
        return Ok(Outcome {
            before: rows.clone(),
            after: rows,
            steps: 0,
            statements: 0,
        });
    }
    let dialect = dialect_for(conn.backend(), mariadb)?;
    let planner = Planner::for_project(project, graph, dialect, false)?;
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
    let fresh = fresh_plan.is_some();
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
        None => planner.plan(&rows, &steps, model.clone(), fresh)?,
    };
    if !candidates.is_empty() {
        let mut model = model;
        model.other_tables = candidates
            .difference(&tables_created(&plan))
            .cloned()
            .collect();
        if !model.other_tables.is_empty() {
            plan = planner.plan(&rows, &steps, model, fresh)?;
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
    if adopted_journal.is_some() && plan.create_version_table {
        // The statements adopted are the revision's own: the version table comes first.
        conn.execute(&plan.version_table_ddl()).await?;
        plan.create_version_table = false;
    }
    let interrupted = interrupted.or(adopted_journal);
    let total = plan.statement_count();
    progress(Event::Planned {
        steps: plan.steps.len(),
        statements: total,
    });
    match conn.backend() {
        Backend::Mysql => {
            execute_checkpointed(conn, &plan, options, interrupted.as_ref(), progress).await?
        }
        _ => {
            let skip = interrupted.as_ref().map_or(0, |i| i.applied.len());
            execute_plan(conn, &plan, options, skip, progress).await?
        }
    }
    let after = conn.version_rows(&project.version_table).await?;
    Ok(Outcome {
        before: rows,
        after,
        steps: plan.steps.len(),
        statements: total,
    })
}

/// The tables a plan creates or renames into, anywhere along it.
fn tables_created(plan: &crate::plan::Plan) -> BTreeSet<String> {
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

fn one_line(sql: &str) -> String {
    let one = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    one.chars().take(160).collect()
}

fn family(conn: &Conn) -> crate::dialect::sqltext::Family {
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

/// The plan as units of work: the initial schema and the version table go with the first
/// revision; each revision's statements end with its version-table change.
fn units(plan: &Plan) -> Vec<(String, Vec<String>)> {
    let mut units: Vec<(String, Vec<String>)> = Vec::new();
    let mut first: Vec<String> = Vec::new();
    if let Some(initial) = &plan.initial {
        first.extend(initial.statements().map(str::to_string));
    }
    if plan.create_version_table {
        first.push(plan.version_table_ddl());
    }
    for (i, step) in plan.steps.iter().enumerate() {
        let mut stmts: Vec<String> = if i == 0 {
            std::mem::take(&mut first)
        } else {
            Vec::new()
        };
        stmts.extend(step.compiled.statements().map(str::to_string));
        stmts.extend(
            step.version_changes
                .iter()
                .map(|c| plan.version_change_sql(c)),
        );
        units.push((step.compiled.revision.clone(), stmts));
    }
    units
}

fn direction_name(plan: &Plan) -> &'static str {
    match plan.steps.first().map(|s| s.compiled.direction) {
        Some(Direction::Down) => "down",
        _ => "up",
    }
}

/// The first words of a statement, up to the name it acts on (`ALTER TABLE runs`).
fn summary(sql: &str) -> String {
    let words: Vec<&str> = sql.split_whitespace().collect();
    let keep = words
        .iter()
        .position(|w| {
            let u = w.to_ascii_uppercase();
            !matches!(
                u.as_str(),
                "CREATE"
                    | "ALTER"
                    | "DROP"
                    | "INSERT"
                    | "INTO"
                    | "UPDATE"
                    | "DELETE"
                    | "FROM"
                    | "TABLE"
                    | "UNIQUE"
                    | "INDEX"
                    | "TRIGGER"
                    | "TEMPORARY"
                    | "RENAME"
                    | "FUNCTION"
                    | "OR"
                    | "REPLACE"
                    | "TYPE"
                    | "SEQUENCE"
            )
        })
        .map_or(words.len(), |i| i + 1);
    let text = words[..keep.min(words.len())].join(" ");
    text.split('(')
        .next()
        .unwrap_or("")
        .trim()
        .chars()
        .take(80)
        .collect()
}

fn is_dml(sql: &str) -> bool {
    let head = sql.trim_start().to_ascii_uppercase();
    ["INSERT", "UPDATE", "DELETE"]
        .iter()
        .any(|k| head.starts_with(k))
}

/// MySQL/MariaDB commit each DDL statement on their own: journal an intent before and a
/// checkpoint after every statement (DML runs in a transaction with its checkpoint), and on
/// resume skip what was applied — refusing to guess about the one statement whose outcome the
/// journal cannot tell.
async fn execute_checkpointed(
    conn: &mut Conn,
    plan: &Plan,
    options: &Options,
    interrupted: Option<&journal::Interrupted>,
    progress: &mut dyn FnMut(Event),
) -> Result<(), ExecError> {
    back_up(conn, plan, options, progress).await?;
    let units = units(plan);
    let total: usize = units.iter().map(|u| u.1.len()).sum();
    let mut journal = journal::Journal::open(conn, direction_name(plan)).await?;
    journal.record_start(conn, plan).await?;
    let mut counter = 0usize;
    let steps_total = units.len();
    for (u, (revision, stmts)) in units.iter().enumerate() {
        progress(step_event(plan, u, steps_total));
        let mut skip = 0usize;
        if let (0, Some(i)) = (u, interrupted) {
            for (k, sha) in i.applied.iter().enumerate() {
                if stmts.get(k).map(|s| journal::statement_sha(s)).as_deref() != Some(sha.as_str())
                {
                    return Err(ExecError::ResumeMismatch {
                        revision: revision.clone(),
                        index: k + 1,
                    });
                }
            }
            skip = i.applied.len();
            if let Some((index, _)) = &i.uncertain {
                let decision = match options.uncertain {
                    Some(d) => d,
                    None => decide_uncertain(conn, stmts, *index)
                        .await?
                        .map_err(|why| ExecError::Uncertain {
                            revision: revision.clone(),
                            index: *index,
                            sql: stmts
                                .get(index - 1)
                                .map(|s| one_line(s))
                                .unwrap_or_default(),
                            why,
                        })?,
                };
                if decision == Uncertain::Skip {
                    skip += 1;
                }
            }
            for (k, sql) in stmts.iter().enumerate().take(skip) {
                journal
                    .record_checkpoint(conn, revision, k + 1, stmts.len(), sql)
                    .await?;
            }
            // Temporary tables died with the interrupted run's session: the statements that
            // made and filled the ones still in use run again (they touch nothing else).
            let fam = family(conn);
            for k in partial::temporary_replay(&stmts[..skip], fam) {
                conn.execute(&stmts[k])
                    .await
                    .map_err(|source| ExecError::Statement {
                        revision: revision.clone(),
                        index: k + 1,
                        total: stmts.len(),
                        source,
                    })?;
            }
            counter += skip;
        }
        for (k, sql) in stmts.iter().enumerate().skip(skip) {
            counter += 1;
            progress(Event::Statement {
                index: counter,
                total,
                revision: revision.clone(),
                summary: summary(sql),
            });
            let dml = is_dml(sql);
            journal
                .record_intent(conn, revision, k + 1, stmts.len(), sql)
                .await?;
            if dml {
                conn.execute("BEGIN").await?;
            }
            let result = conn.execute_counting(sql).await;
            if let (Ok(rows), true) = (&result, dml) {
                progress(Event::Rows {
                    revision: revision.clone(),
                    summary: summary(sql),
                    rows: *rows,
                });
            }
            if let Err(source) = result {
                if dml {
                    let _ = conn.execute("ROLLBACK").await;
                }
                let err = ExecError::Statement {
                    revision: revision.clone(),
                    index: k + 1,
                    total: stmts.len(),
                    source,
                };
                journal.record_error(conn, revision, &err.to_string()).await;
                return Err(err);
            }
            faults::before_journal(counter)?;
            journal
                .record_checkpoint(conn, revision, k + 1, stmts.len(), sql)
                .await?;
            if dml {
                conn.execute("COMMIT").await?;
            }
            faults::after(counter)?;
            let last = u + 1 == steps_total && k + 1 == stmts.len();
            if options.cancel.is_cancelled() && !last {
                let done = if k + 1 == stmts.len() { u + 1 } else { u };
                return Err(stopped(conn, plan, &mut journal, done, steps_total).await);
            }
        }
        progress(Event::Committed {
            revision: revision.clone(),
        });
    }
    journal.record_done(conn).await?;
    Ok(())
}

/// The backup the options ask for, before anything changes.
async fn back_up(
    conn: &mut Conn,
    plan: &Plan,
    options: &Options,
    progress: &mut dyn FnMut(Event),
) -> Result<(), ExecError> {
    if matches!(options.backup, Backup::None) || conn.table_names().await?.is_empty() {
        return Ok(()); // nothing asked, or nothing to lose
    }
    let first = plan.steps.first().map(|s| s.compiled.revision.as_str());
    let label = format!("before-{}", first.unwrap_or("run"));
    if let Some(backup) = backup::take(conn, &options.backup, &label).await? {
        progress(Event::BackedUp { backup });
    }
    Ok(())
}

/// A run stopped on request at a checkpoint: journal it and say where the database is.
async fn stopped(
    conn: &mut Conn,
    plan: &Plan,
    journal: &mut journal::Journal,
    done: usize,
    total: usize,
) -> ExecError {
    journal.record_stopped(conn).await;
    ExecError::Cancelled {
        at: conn
            .version_rows(&plan.version_table)
            .await
            .unwrap_or_default(),
        done,
        total,
    }
}

fn step_event(plan: &Plan, u: usize, total: usize) -> Event {
    let step = &plan.steps[u];
    Event::Step {
        index: u + 1,
        total,
        revision: step.compiled.revision.clone(),
        direction: step.compiled.direction,
        message: step.message.clone(),
        label: step.label.trim_start_matches("Running ").to_string(),
    }
}

/// Whether statement `index` (1-based) of a unit, which a MySQL run died running, landed:
/// a data statement ran in a transaction with its checkpoint, so without the checkpoint it
/// was rolled back; for DDL the live schema is compared with the states before and after it.
async fn decide_uncertain(
    conn: &mut Conn,
    stmts: &[String],
    index: usize,
) -> Result<Result<Uncertain, String>, ExecError> {
    let Some(sql) = stmts.get(index - 1) else {
        return Ok(Err("the statement is not in the plan".into()));
    };
    if is_dml(sql) {
        return Ok(Ok(Uncertain::Retry));
    }
    let fam = family(conn);
    if crate::dialect::sqltext::read_statement(sql, fam)
        == crate::dialect::sqltext::Reading::Idempotent
    {
        return Ok(Ok(Uncertain::Retry));
    }
    Ok(
        match partial::judge(conn, fam, &stmts[..index], index - 1..=index).await? {
            partial::Verdict::Applied(j) if j == index => Ok(Uncertain::Skip),
            partial::Verdict::Applied(_) => Ok(Uncertain::Retry),
            partial::Verdict::Unclear(why) => Err(why),
        },
    )
}

async fn execute_plan(
    conn: &mut Conn,
    plan: &Plan,
    options: &Options,
    skip_first: usize,
    progress: &mut dyn FnMut(Event),
) -> Result<(), ExecError> {
    back_up(conn, plan, options, progress).await?;
    let total = plan.statement_count();
    let mut journal = journal::Journal::open(conn, direction_name(plan)).await?;
    journal.record_start(conn, plan).await?;
    let mut counter = 0usize;
    let all = options.transaction == TransactionMode::All;
    let begin = match conn.backend() {
        Backend::Sqlite => "BEGIN IMMEDIATE",
        _ => "BEGIN",
    };
    let units = units(plan);
    if all {
        conn.execute(begin).await?;
    }
    let steps_total = units.len();
    for (u, (revision, stmts)) in units.iter().enumerate() {
        progress(step_event(plan, u, steps_total));
        if !all {
            conn.execute(begin).await?;
        }
        let skip = if u == 0 { skip_first } else { 0 };
        counter += skip;
        for (k, sql) in stmts.iter().enumerate().skip(skip) {
            counter += 1;
            progress(Event::Statement {
                index: counter,
                total,
                revision: revision.clone(),
                summary: summary(sql),
            });
            let result = conn.execute_counting(sql).await;
            if let (Ok(rows), true) = (&result, is_dml(sql)) {
                progress(Event::Rows {
                    revision: revision.clone(),
                    summary: summary(sql),
                    rows: *rows,
                });
            }
            if let Err(source) = result {
                let _ = conn.execute("ROLLBACK").await;
                let err = ExecError::Statement {
                    revision: revision.clone(),
                    index: k + 1,
                    total: stmts.len(),
                    source,
                };
                journal.record_error(conn, revision, &err.to_string()).await;
                return Err(err);
            }
            journal
                .record_statement(conn, revision, k + 1, stmts.len(), sql)
                .await?;
            // A simulated crash abandons the open transaction with the connection.
            faults::after(counter)?;
            if all && options.cancel.is_cancelled() {
                conn.execute("ROLLBACK").await?;
                return Err(stopped(conn, plan, &mut journal, 0, steps_total).await);
            }
        }
        if !all {
            conn.execute("COMMIT").await?;
            progress(Event::Committed {
                revision: revision.clone(),
            });
            if options.cancel.is_cancelled() && u + 1 < steps_total {
                return Err(stopped(conn, plan, &mut journal, u + 1, steps_total).await);
            }
        }
    }
    if all {
        conn.execute("COMMIT").await?;
    }
    journal.record_done(conn).await?;
    Ok(())
}

/// Set the version table to `revisions` without running migrations (`stamp`).
pub async fn stamp(
    url: &DbUrl,
    project: &Project,
    graph: &RevisionGraph,
    revisions: &[String],
    purge: bool,
    lock_timeout: Duration,
) -> Result<Vec<String>, ExecError> {
    let mut conn = Conn::connect(url).await?;
    let lock = Lock::acquire(&mut conn, url, &project.version_table, lock_timeout).await?;
    let result = async {
        let rows = conn.version_rows(&project.version_table).await?;
        if !purge {
            check_rows(project, graph, &rows)?;
        }
        let mut target: BTreeSet<String> = BTreeSet::new();
        for spec in revisions {
            for ix in graph.resolve(spec)? {
                target.insert(graph.id(ix).to_string());
            }
        }
        let t = &project.version_table;
        let mut sql = Vec::new();
        if !conn.table_exists(t).await? {
            sql.push(format!(
                "CREATE TABLE {t} (version_num VARCHAR(32) NOT NULL, CONSTRAINT {t}_pkc PRIMARY KEY (version_num))"
            ));
        }
        sql.push(format!("DELETE FROM {t}"));
        for r in &target {
            sql.push(format!("INSERT INTO {t} (version_num) VALUES ('{r}')"));
        }
        let begin = if conn.backend() == Backend::Sqlite { "BEGIN IMMEDIATE" } else { "BEGIN" };
        conn.execute(begin).await?;
        for s in &sql {
            if let Err(e) = conn.execute(s).await {
                let _ = conn.execute("ROLLBACK").await;
                return Err(e.into());
            }
        }
        conn.execute("COMMIT").await?;
        Ok(target.into_iter().collect())
    }
    .await;
    lock.release(&mut conn).await;
    conn.close().await;
    result
}

/// A blocking facade for callers without an async runtime.
pub mod blocking {
    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a current-thread tokio runtime can always be built")
    }

    pub fn migrate(
        url: &DbUrl,
        project: &Project,
        graph: &RevisionGraph,
        options: &Options,
        progress: &mut dyn FnMut(Event),
    ) -> Result<Outcome, ExecError> {
        runtime().block_on(super::migrate(url, project, graph, options, progress))
    }

    pub fn current(
        url: &DbUrl,
        project: &Project,
        graph: &RevisionGraph,
    ) -> Result<Vec<String>, ExecError> {
        runtime().block_on(super::current(url, project, graph))
    }

    pub fn status(url: &DbUrl, project: &Project) -> Result<Status, ExecError> {
        runtime().block_on(super::status(url, project))
    }

    pub fn applied(
        url: &DbUrl,
        project: &Project,
    ) -> Result<(Vec<String>, Vec<Applied>), ExecError> {
        runtime().block_on(super::applied(url, project))
    }

    pub fn prune_journal(
        url: &DbUrl,
        project: &Project,
        keep: usize,
        lock_timeout: Duration,
    ) -> Result<Pruned, ExecError> {
        runtime().block_on(super::prune_journal(url, project, keep, lock_timeout))
    }

    pub fn stamp(
        url: &DbUrl,
        project: &Project,
        graph: &RevisionGraph,
        revisions: &[String],
        purge: bool,
        lock_timeout: Duration,
    ) -> Result<Vec<String>, ExecError> {
        runtime().block_on(super::stamp(
            url,
            project,
            graph,
            revisions,
            purge,
            lock_timeout,
        ))
    }
}

#[cfg(test)]
mod index_order_tests {
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
