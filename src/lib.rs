//! alembic-engine: read Alembic projects (MLflow's first) and upgrade their databases without
//! Python.
//!
//! Data flows one way: script files → [`script::Revision`]s → [`graph::RevisionGraph`] →
//! paths of [`graph::Step`]s → compiled operations ([`compile`]) → SQL statements per dialect
//! ([`dialect`]) → a [`plan::Plan`] → the executor ([`exec`]), which runs it on a live database
//! with a journal and a lock.
//!
//! Open an Alembic project, look at its graph, print the offline SQL, and upgrade a SQLite
//! database with a progress callback (the blocking facade over the async core):
//!
//! ```
//! use alembic_engine::db::DbUrl;
//! use alembic_engine::exec::{blocking, Event, Options};
//! use alembic_engine::graph::{Lower, RevisionGraph};
//! use alembic_engine::plan::{DbState, Mode, Planner};
//! use alembic_engine::project::Locator;
//!
//! // A generic Alembic project (no `--project`): one of the repository's fixtures.
//! let project = Locator {
//!     scripts: Some("revisions/fixtures/helpdesk".into()),
//!     ..Default::default()
//! }
//! .open(None)?;
//! let graph = RevisionGraph::build(project.scripts.revisions.clone())?;
//! let steps = graph.upgrade_path(&Lower::None, "heads")?;
//!
//! // Offline: the SQL script, as `alembic upgrade --sql` writes it (BEGIN/COMMIT around it
//! // on PostgreSQL only, as Alembic does), for an empty database.
//! let dialect = alembic_engine::dialect::Database::Sqlite.dialect();
//! let planner = Planner::for_project(&project, &graph, dialect, Mode::Offline)?;
//! let plan = planner.plan_for(&DbState::on_paper(&[]), &steps)?.plan;
//! let script = plan.offline_sql();
//! assert!(script.starts_with("CREATE TABLE alembic_version"), "{script}");
//!
//! // Online: upgrade a SQLite file to the heads, counting statements as they run.
//! let dir = tempfile::tempdir()?;
//! let url = DbUrl::parse(&format!("sqlite:///{}", dir.path().join("app.db").display()))?;
//! let mut statements = 0;
//! let outcome = blocking::migrate(&url, &project, &graph, &Options::default(), &mut |e| {
//!     if let Event::Statement { .. } = e {
//!         statements += 1;
//!     }
//! })?;
//! assert_eq!(outcome.statements, statements);
//! assert_eq!(blocking::current(&url, &project, &graph)?, outcome.after);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`Migrator`] bundles these steps for embedding: open a project, then `current`, `status`,
//! `plan`, `upgrade`, `downgrade` against a URL, as `Send` futures or blocking.
//!
//! In an async service, [`exec::migrate`] is the same run as a future that is `Send`, so it can
//! be given to `tokio::spawn` (the progress callback must be `Send` too); the [`exec::blocking`]
//! facade works from inside a runtime as well (it then runs on a scoped thread of its own).

pub mod compile;
pub mod db;
pub mod dialect;
pub mod exec;
pub mod graph;
pub mod inspect;
pub mod interp;
pub mod ir;
mod migrator;
pub mod plan;
pub mod project;
pub mod recipes;
pub mod releases;
pub mod report;
pub mod schema;
pub mod script;

pub use migrator::{
    Blocking, Migrator, OpenError, Progress, ReleaseScriptsError, RunChoices, SqlError,
};
