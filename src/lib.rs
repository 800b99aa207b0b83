//! alembic-engine: read Alembic projects (MLflow's first) and upgrade their databases without
//! Python.
//!
//! Data flows one way: script files → [`script::Revision`]s → [`graph::RevisionGraph`] →
//! paths of [`graph::Step`]s → (later stages) operations → SQL statements → database.
//!
//! ```no_run
//! use alembic_engine::{graph::{Lower, RevisionGraph}, project::Locator};
//! let project = Locator::default().open(Some("mlflow"))?;
//! let graph = RevisionGraph::build(project.scripts.revisions)?;
//! let steps = graph.upgrade_path(&Lower::None, "heads")?;
//! println!("{} revisions from base to head", steps.len());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod compile;
pub mod db;
pub mod dialect;
pub mod exec;
pub mod graph;
pub mod inspect;
pub mod interp;
pub mod ir;
pub mod plan;
pub mod project;
pub mod recipes;
pub mod schema;
pub mod script;
