//! The entry point for embedding: a [`Migrator`] holds one Alembic project (MLflow's, or any
//! script directory) with its revision graph, and answers for a database URL what Alembic's
//! commands answer — `current`, `status`, `plan` (the dry run), `upgrade`, `downgrade` — plus
//! the offline script of a path. Its futures are `Send` (a tokio service can spawn them), and
//! [`Migrator::blocking`] gives the same calls for code without a runtime, or inside one.
//!
//! ```
//! use alembic_engine::db::DbUrl;
//! use alembic_engine::dialect::Database;
//! use alembic_engine::project::Locator;
//! use alembic_engine::Migrator;
//!
//! let migrator = Migrator::open(
//!     &Locator {
//!         scripts: Some("revisions/fixtures/helpdesk".into()),
//!         ..Default::default()
//!     },
//!     None,
//! )?;
//! // The offline script from an empty database to the heads, for SQLite.
//! let script = migrator.sql(Database::Sqlite, &[], "heads")?;
//! assert!(script.starts_with("CREATE TABLE alembic_version"));
//!
//! // A SQLite database brought to the heads, then one step back, without a runtime.
//! let dir = tempfile::tempdir()?;
//! let url = DbUrl::parse(&format!("sqlite:///{}", dir.path().join("app.db").display()))?;
//! let db = migrator.blocking();
//! let up = db.upgrade(&url, "heads", &mut |_| {})?;
//! assert_eq!(up.after, migrator.heads());
//! let down = db.downgrade(&url, "-1", &mut |_| {})?;
//! assert_eq!(db.current(&url)?, down.after);
//! assert_ne!(down.after, up.after);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod choices;

pub use choices::RunChoices;

use crate::db::DbUrl;
use crate::dialect::Database;
use crate::exec::blocking::block_on;
use crate::exec::{self, DryRun, Event, ExecError, Options, Outcome, Status};
use crate::graph::{Direction, GraphError, Lower, RevisionGraph};
use crate::plan::{DbState, Mode, Plan, PlanError, Planner};
use crate::project::{Locator, Project, ProjectError};
use crate::releases::{ReleaseError, ReleaseHeadError, Releases, SchemaReleases};

/// Why a project could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Project(#[from] ProjectError),
    #[error(transparent)]
    Graph(#[from] GraphError),
}

/// Why an offline script could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    #[error(transparent)]
    Graph(#[from] GraphError),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    Recipe(#[from] crate::recipes::RecipeError),
}

/// A release's own scripts were needed (its schema is newer than the scripts at hand) and
/// could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("{}", release_context(.version, .unknown))]
pub struct ReleaseScriptsError {
    pub version: String,
    /// Why the releases table does not list the release, when it does not.
    pub unknown: Option<ReleaseError>,
    #[source]
    pub source: OpenError,
}

impl ReleaseScriptsError {
    /// Release `version`'s scripts failed to open with `source`.
    pub fn new(version: &str, source: impl Into<OpenError>) -> ReleaseScriptsError {
        ReleaseScriptsError {
            version: version.to_string(),
            unknown: Releases::builtin().get(version).err(),
            source: source.into(),
        }
    }
}

/// For a release the table does not list, that comes first.
fn release_context(version: &str, unknown: &Option<ReleaseError>) -> String {
    match unknown {
        None => format!("MLflow {version}'s scripts are needed"),
        Some(unknown) => format!("{unknown}, and its wheel could not be read either (a release published after this build is fetched from the package index)"),
    }
}

/// A progress callback: every [`Event`] of a run, as it happens.
pub type Progress<'a> = &'a mut (dyn FnMut(Event) + Send);

/// One Alembic project and its revision graph.
#[derive(Debug)]
pub struct Migrator {
    project: Project,
    graph: RevisionGraph,
}

impl Migrator {
    /// The project `locator` finds: a built-in one by name (`mlflow`, `mlflow-auth`), or, with
    /// `None`, the generic Alembic project in `locator.scripts`.
    pub fn open(locator: &Locator, project: Option<&str>) -> Result<Migrator, OpenError> {
        Ok(Migrator::new(locator.open(project)?)?)
    }

    /// A project already opened.
    pub fn new(project: Project) -> Result<Migrator, GraphError> {
        let graph = RevisionGraph::build(project.scripts.revisions.clone())?;
        Ok(Migrator { project, graph })
    }

    pub fn project(&self) -> &Project {
        &self.project
    }

    pub fn graph(&self) -> &RevisionGraph {
        &self.graph
    }

    /// The head revisions' ids.
    pub fn heads(&self) -> Vec<String> {
        self.graph
            .heads()
            .iter()
            .map(|&h| self.graph.id(h).to_string())
            .collect()
    }

    /// The offline script (as `alembic upgrade --sql` writes it) for `database`, from the
    /// version rows `from` (empty: an empty database) to `target`, upward or downward.
    pub fn sql(
        &self,
        database: Database,
        from: &[String],
        target: &str,
    ) -> Result<String, SqlError> {
        Ok(self.offline_plan(database, from, target)?.offline_sql())
    }

    /// The offline plan behind [`Migrator::sql`]: each step's statements, and the script.
    pub fn offline_plan(
        &self,
        database: Database,
        from: &[String],
        target: &str,
    ) -> Result<Plan, SqlError> {
        let current = Lower::Many(from.to_vec());
        let steps = self.graph.path_to(&current, target)?;
        let planner = self.offline_planner(database)?;
        Ok(planner.plan_for(&DbState::on_paper(from), &steps)?.plan)
    }

    fn offline_planner(&self, database: Database) -> Result<Planner<'_>, SqlError> {
        Ok(Planner::for_project(
            &self.project,
            &self.graph,
            self.project.dialect(database),
            Mode::Offline,
        )?)
    }

    /// Which revisions from base to the heads compile for `database`, and why the others are
    /// refused (without a database): as `upgrade` would run them (`Mode::Online`) or as `sql`
    /// writes them (`Mode::Offline`).
    pub fn compile_report(
        &self,
        database: Database,
        mode: Mode,
    ) -> Result<crate::inspect::CompileReport, SqlError> {
        let steps = self.graph.upgrade_path(&Lower::Many(Vec::new()), "heads")?;
        let planner = Planner::for_project(
            &self.project,
            &self.graph,
            self.project.dialect(database),
            mode,
        )?;
        Ok(crate::inspect::CompileReport::build(
            &planner,
            &self.graph,
            &steps,
            database.key(),
        )?)
    }

    /// The head revision MLflow release `version` ships for this project (tracking or auth).
    pub fn release_head(&self, version: &str) -> Result<String, ReleaseHeadError> {
        Releases::builtin().head_for(&self.project, &self.graph, version)
    }

    /// Whether release `version` is listed and its head is not among these scripts: its own
    /// scripts are needed to reach it.
    pub fn lacks_release(&self, version: &str) -> bool {
        Releases::builtin().lacking(&self.project, &self.graph, version)
    }

    /// The MLflow releases whose schema the version `rows` are (tracking project, one row).
    pub fn schema_releases(&self, rows: &[String]) -> Option<SchemaReleases> {
        Releases::builtin().schema_of(&self.project, &self.graph, rows)
    }

    /// The database's version rows.
    pub async fn current(&self, url: &DbUrl) -> Result<Vec<String>, ExecError> {
        exec::current(url, &self.project, &self.graph).await
    }

    /// The version rows, the lock's holder and the last run.
    pub async fn status(&self, url: &DbUrl) -> Result<Status, ExecError> {
        exec::status(url, &self.project).await
    }

    /// What a run with `options` would do now, changing nothing.
    pub async fn plan(&self, url: &DbUrl, options: &Options) -> Result<DryRun, ExecError> {
        exec::dry_run(url, &self.project, &self.graph, options).await
    }

    /// Upgrade to `target` (`heads`, a revision, `+1`, …) with the default options.
    pub async fn upgrade(
        &self,
        url: &DbUrl,
        target: &str,
        progress: Progress<'_>,
    ) -> Result<Outcome, ExecError> {
        self.run(url, &options(target, Direction::Up), progress)
            .await
    }

    /// Downgrade to `target` (`-1`, a revision, `base`) with the default options.
    pub async fn downgrade(
        &self,
        url: &DbUrl,
        target: &str,
        progress: Progress<'_>,
    ) -> Result<Outcome, ExecError> {
        self.run(url, &options(target, Direction::Down), progress)
            .await
    }

    /// A run with every option: transaction mode, lock timeout, backup, cancellation, resume
    /// decisions, drift, adoption, compatibility.
    pub async fn run(
        &self,
        url: &DbUrl,
        options: &Options,
        progress: Progress<'_>,
    ) -> Result<Outcome, ExecError> {
        exec::migrate(url, &self.project, &self.graph, options, progress).await
    }

    /// The same calls, blocking: on a runtime of their own, or (called inside a tokio
    /// runtime) on a scoped thread of their own.
    pub fn blocking(&self) -> Blocking<'_> {
        Blocking(self)
    }
}

fn options(target: &str, direction: Direction) -> Options {
    Options {
        target: target.to_string(),
        direction,
        ..Options::default()
    }
}

/// [`Migrator`]'s calls, blocking.
#[derive(Debug, Clone, Copy)]
pub struct Blocking<'a>(&'a Migrator);

impl Blocking<'_> {
    pub fn current(&self, url: &DbUrl) -> Result<Vec<String>, ExecError> {
        block_on(self.0.current(url))
    }

    pub fn status(&self, url: &DbUrl) -> Result<Status, ExecError> {
        block_on(self.0.status(url))
    }

    pub fn plan(&self, url: &DbUrl, options: &Options) -> Result<DryRun, ExecError> {
        block_on(self.0.plan(url, options))
    }

    pub fn upgrade(
        &self,
        url: &DbUrl,
        target: &str,
        progress: Progress<'_>,
    ) -> Result<Outcome, ExecError> {
        block_on(self.0.upgrade(url, target, progress))
    }

    pub fn downgrade(
        &self,
        url: &DbUrl,
        target: &str,
        progress: Progress<'_>,
    ) -> Result<Outcome, ExecError> {
        block_on(self.0.downgrade(url, target, progress))
    }

    pub fn run(
        &self,
        url: &DbUrl,
        options: &Options,
        progress: Progress<'_>,
    ) -> Result<Outcome, ExecError> {
        block_on(self.0.run(url, options, progress))
    }
}
