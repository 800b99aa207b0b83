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
pub mod blocking;
mod faults;
mod journal;
mod recover;
mod run;
use run::{execute_checkpointed, execute_plan};
mod prepare;
mod shared;
mod status;
mod summary;

use std::collections::BTreeSet;
use std::time::Duration;

use crate::db::{Backend, Conn, DbError, DbUrl, Lock};
use crate::graph::{Direction, GraphError, RevisionGraph};
use crate::plan::{Plan, PlanError, Statement, Unit};
use crate::project::Project;

pub use backup::{dump_command, restore_command, Backup, BackupError, BackupMade};
pub use journal::JOURNAL_TABLE;
pub use status::{applied, prune_journal, status, Applied, Pruned, RunReport, RunState, Status};
pub use summary::{RevisionReport, Summary};

fn rolled_back(transactional: &bool) -> &'static str {
    if *transactional {
        ", and those before it were rolled back"
    } else {
        ""
    }
}

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
    #[error("{table} holds revision '{revision}', which the {project} scripts do not know: another application shares this table, or the database is newer than these scripts")]
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
    #[error("revision {revision} stopped at its recipe's check `{check}`: this database holds rows that the revision's script converts in Python and the recipe cannot convert in SQL (the rows of: {query}). The revision's statements after the check did not run{}. Run this revision with the project's own migration tool, then upgrade again to go on from there", rolled_back(.transactional))]
    RecipeRefused {
        revision: String,
        check: String,
        query: String,
        /// Whether the revision's earlier statements were rolled back with it.
        transactional: bool,
    },
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
    #[error("the last run stopped while running statement {index} of revision {revision}, and MySQL/MariaDB may or may not have applied it: {sql}. The live schema does not tell ({why}). Look at the database and say whether it was applied")]
    Uncertain {
        revision: String,
        index: usize,
        sql: String,
        why: String,
    },
    #[error("the database is part-way through revision {revision}: the first {applied} of its {total} statements ran (the live schema shows their objects) but {table} still names the revision before, as an upgrade that stopped halfway (Python Alembic on a database without transactional DDL) leaves it. Nothing was changed. Adopting it runs the remaining statements, starting with: {next}")]
    HalfMigrated {
        revision: String,
        applied: usize,
        total: usize,
        table: String,
        next: String,
    },
    #[error("the database's schema differs from what revision(s) {revisions} leave, so it was changed outside the migrations (or by a migration that stopped halfway): {differences}. Nothing was changed. Restore the schema, or ignore the drift to upgrade anyway")]
    Drift {
        revisions: String,
        differences: String,
    },
    #[error("the path breaks servers of the release before it, so a rolling upgrade would fail them: {reason}. Nothing was changed. Stop the old servers first, or run without the compatibility requirement")]
    BreaksOldServers { reason: String },
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
        /// The later revisions an optimisation fused into this one's unit (they run with it,
        /// one checkpoint).
        #[serde(skip_serializing_if = "Vec::is_empty")]
        joined: Vec<String>,
    },
    /// Statement `index` of `total` (over the whole run) is about to run.
    Statement {
        index: usize,
        total: usize,
        revision: String,
        /// What it does, in a few words (`CREATE TABLE datasets`, `INSERT INTO tags`).
        summary: String,
        /// The statement itself, as sent to the database.
        sql: String,
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
    /// Refuse (before any change) a path whose rolling-upgrade verdict is that servers of the
    /// release before it stop working while or after it runs.
    pub require_compatible: bool,
    /// On an empty database: the schema at the target created directly, or every revision
    /// replayed.
    pub fresh: crate::plan::Fresh,
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
            require_compatible: false,
            fresh: crate::plan::Fresh::Direct,
        }
    }
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub before: Vec<String>,
    pub after: Vec<String>,
    /// Revisions applied (replayed, or installed directly).
    pub steps: usize,
    pub statements: usize,
    /// Whether an empty database was brought to the target by creating its schema directly.
    pub direct: bool,
}

/// The database a connection reaches.
fn database_of(backend: Backend, mariadb: bool) -> crate::dialect::Database {
    use crate::dialect::Database;
    match (backend, mariadb) {
        (Backend::Sqlite, _) => Database::Sqlite,
        (Backend::Postgres, _) => Database::Postgresql,
        (Backend::Mysql, true) => Database::Mariadb,
        (Backend::Mysql, false) => Database::Mysql,
    }
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
    progress: &mut (dyn FnMut(Event) + Send),
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
    progress: &mut (dyn FnMut(Event) + Send),
) -> Result<Outcome, ExecError> {
    let prepared = prepare::prepare(conn, mariadb, project, graph, options).await?;
    let rows = prepared.rows;
    let Some(plan) = prepared.plan else {
        return Ok(Outcome {
            before: rows.clone(),
            after: rows,
            steps: 0,
            statements: 0,
            direct: false,
        });
    };
    if options.require_compatible {
        let verdict = crate::report::report(&plan, server(conn), "", &Default::default()).verdict;
        if !verdict.keeps_old_servers {
            return Err(ExecError::BreaksOldServers {
                reason: verdict.reason,
            });
        }
    }
    if let Some(settings) = plan.database.bulk_session() {
        conn.execute(settings).await?;
    }
    if prepared.version_table_first {
        conn.execute(&plan.version_table_ddl()).await?;
    }
    let interrupted = prepared.interrupted;
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
            let applied = interrupted.as_ref().map_or(&[][..], |i| &i.applied[..]);
            execute_plan(conn, &plan, options, applied, progress).await?
        }
    }
    let after = conn.version_rows(&project.version_table).await?;
    Ok(Outcome {
        before: rows,
        after,
        steps: plan.revision_count(),
        statements: total,
        direct: plan.direct.is_some(),
    })
}

fn server(conn: &Conn) -> crate::report::Server {
    match conn.backend() {
        Backend::Sqlite => crate::report::Server::Sqlite,
        Backend::Postgres => crate::report::Server::Postgres,
        Backend::Mysql => crate::report::Server::Mysql,
    }
}

/// What `migrate` with these options would run on the database now, found without the lock
/// and without changing anything (the `plan` command).
#[derive(Debug)]
pub struct DryRun {
    /// The version rows the run would start from.
    pub before: Vec<String>,
    /// `None`: nothing to do.
    pub plan: Option<Plan>,
    /// Every statement the run would send, by revision and in order: the initial schema and
    /// the version table with the first revision, each revision's version change last; what
    /// an interrupted run already applied left out.
    pub statements: Vec<Unit>,
    /// What the optimiser changed, by revision.
    pub optimised: Vec<crate::plan::Optimised>,
    /// Live row counts by table (statistics where the server keeps them).
    pub rows: std::collections::BTreeMap<String, u64>,
    /// Which kind of server the database is on.
    pub server: crate::report::Server,
    /// Why an empty database is upgraded revision by revision rather than installed
    /// directly (`None` when it is installed directly, or is not empty).
    pub not_direct: Option<crate::plan::NotDirect>,
}

impl DryRun {
    /// The dry-run report: per revision and operation its kind, lock, rows, estimate and
    /// rolling-upgrade verdict.
    pub fn report(&self, database: &str) -> Option<crate::report::PlanReport> {
        let plan = self.plan.as_ref()?;
        Some(crate::report::report(
            plan,
            self.server,
            database,
            &self.rows,
        ))
    }
}

/// Plan a run against the live database, changing nothing: the same decisions `migrate`
/// takes under its lock (fresh, unversioned, shared, resumed, drift, half-applied revisions).
pub async fn dry_run(
    url: &DbUrl,
    project: &Project,
    graph: &RevisionGraph,
    options: &Options,
) -> Result<DryRun, ExecError> {
    let mut conn = status::connect_existing(url).await?;
    let result = async {
        let mariadb = url.mariadb || conn.is_mariadb().await?;
        let prepared = prepare::prepare(&mut conn, mariadb, project, graph, options).await?;
        let rows = match prepared.plan {
            Some(_) => crate::db::row_counts(&mut conn).await?,
            None => Default::default(),
        };
        let mut statements = prepared.plan.as_ref().map(Plan::units).unwrap_or_default();
        if let Some(first) = statements.first_mut() {
            let applied = prepared.interrupted.map_or(0, |i| i.applied.len());
            first
                .statements
                .drain(..applied.min(first.statements.len()));
            if let (true, Some(plan)) = (prepared.version_table_first, &prepared.plan) {
                let ddl = Statement::version(plan.version_table_ddl(), plan.database);
                first.statements.insert(0, ddl);
            }
        }
        Ok(DryRun {
            before: prepared.rows,
            plan: prepared.plan,
            statements,
            optimised: prepared.optimised,
            not_direct: prepared.not_direct,
            rows,
            server: server(&conn),
        })
    }
    .await;
    conn.close().await;
    result
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
