//! Running `mlflow-migrate` on MLflow's tracking project against a test database, and
//! comparing the result with the reference at the head.

#![allow(dead_code)] // each test crate uses its own subset of these helpers

use std::process::{Command, Output};

use serde_json::Value;

use super::db::{Dialect, TestDb};
use super::reference_db::{mlflow_chain, reference_reflection, reflect, Project};
use super::schema_diff::schema_differences;

/// Our journal table: MLflow ignores it, and so do the schema comparisons.
pub const JOURNAL: &str = "alembic_engine_journal";

/// `mlflow-migrate --project mlflow --scripts <MLflow's scripts> ARGS`.
pub fn migrate(args: &[&str]) -> Command {
    let mut c = super::mlflow_migrate();
    c.args(["--project", "mlflow", "--scripts"])
        .arg(super::mlflow_scripts_dir())
        .args(args);
    c
}

pub fn run(args: &[&str]) -> Output {
    migrate(args).output().unwrap()
}

/// Panics with the command's output unless it exited 0.
pub fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Our database's reflection without our journal table.
pub fn ours(db: &TestDb) -> Value {
    let mut v = reflect(db, "alembic_version");
    if let Some(tables) = v.get_mut("tables").and_then(Value::as_object_mut) {
        tables.remove(JOURNAL);
    }
    v
}

/// MLflow tracking's head revision.
pub fn head() -> String {
    mlflow_chain(Project::Mlflow).last().cloned().unwrap()
}

/// The database equals Python Alembic's MLflow database at the head on the same server.
pub fn assert_matches_head(db: &TestDb, dialect: Dialect, context: &str) {
    let expected = reference_reflection(dialect, Project::Mlflow, &head());
    let diff = schema_differences(&expected, &ours(db));
    assert!(diff.is_empty(), "{context}:\n  {}", diff.join("\n  "));
}

/// `mlflow db upgrade URL` from the reference environment.
pub fn mlflow_db_upgrade(db: &TestDb) -> Output {
    let python = super::ref_python();
    Command::new(python.parent().unwrap().join("mlflow"))
        .args(["db", "upgrade"])
        .arg(db.sqlalchemy_url())
        .env("MLFLOW_DISABLE_TELEMETRY", "true")
        .output()
        .unwrap()
}

/// Eight upgraders at once on one database: all must exit 0.
pub fn eight_concurrent_upgrades(db: &TestDb) {
    let children: Vec<_> = (0..8)
        .map(|_| {
            migrate(&["upgrade", "--quiet", &db.our_url()])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        ok(&child.wait_with_output().unwrap());
    }
}

/// Our view of an MLflow project whose scripts the reference environment holds.
pub fn open_project(
    project: Project,
) -> (
    alembic_engine::project::Project,
    alembic_engine::graph::RevisionGraph,
) {
    let name = match project {
        Project::Mlflow => "mlflow",
        Project::MlflowAuth => "mlflow-auth",
        Project::Fixture => panic!("a fixture project is opened from its folder"),
    };
    let ours = alembic_engine::project::Locator {
        scripts: Some(project.scripts_dir()),
        ..Default::default()
    }
    .open(Some(name))
    .unwrap();
    let graph =
        alembic_engine::graph::RevisionGraph::build(ours.scripts.revisions.clone()).unwrap();
    (ours, graph)
}
