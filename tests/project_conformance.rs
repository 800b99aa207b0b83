//! Real Alembic projects other than MLflow against their own Alembic upgrade (issue 15):
//! Apache Airflow core 3.3.2 and Prefect 3.9.1, each installed with its dependencies in its
//! own virtualenv (`support::project_venv`) and upgraded by its own tooling (Alembic's
//! `command.upgrade` with Airflow's `alembic.ini`; `prefect server database upgrade -r REV`). Our `compile-report` says which revisions compile in order from
//! base; the longest run of them from base (the compiled prefix) must leave, run by `sqlite3`
//! on an empty file, the schema Airflow's own Alembic upgrade to the same revision leaves
//! (reflected and compared as the MLflow conformance suites do). The prefix may not shrink
//! below the floor measured when the test was written: a refusal earlier in the chain is a
//! regression.
//!
//! Airflow's `env.py` gives its `target_metadata` a naming convention, which Alembic applies
//! to every operation's constraints: `revisions/airflow/facts.toml` declares it.

mod support;

use std::path::Path;
use std::process::Command;

use support::db::TestDb;
use support::project_venv::{self, AIRFLOW, PREFECT};
use support::reference_db::reflect;
use support::schema_diff::schema_differences;

/// Airflow's compiled prefix on SQLite had 42 revisions when this test was written.
const AIRFLOW_SQLITE_FLOOR: usize = 42;

/// Prefect's compiled prefix on SQLite had this many revisions when this test was written.
const PREFECT_SQLITE_FLOOR: usize = 10;

/// `mlflow-migrate` for a project: its scripts, and the version locations it needs.
fn ours(scripts: &Path, versions: Option<&Path>) -> Command {
    let mut cmd = support::mlflow_migrate();
    cmd.arg("--scripts").arg(scripts);
    if let Some(v) = versions {
        cmd.arg("--version-location").arg(v);
    }
    cmd
}

/// The revisions that compile, in order from base, up to the first refusal.
fn compiled_prefix(scripts: &Path, versions: Option<&Path>, dialect: &str) -> Vec<String> {
    let out = ours(scripts, versions)
        .args(["--format", "json", "compile-report", "--dialect", dialect])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    report["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .take_while(|r| r["outcome"] == "compiled")
        .map(|r| r["revision"].as_str().unwrap().to_string())
        .collect()
}

/// The compiled prefix, checked against the floor; its last revision is the target.
fn compiled_target(scripts: &Path, versions: Option<&Path>, floor: usize) -> (String, usize) {
    let prefix = compiled_prefix(scripts, versions, "sqlite");
    assert!(
        prefix.len() >= floor,
        "only {} revisions compile from base: {prefix:?}",
        prefix.len()
    );
    (prefix.last().unwrap().clone(), prefix.len())
}

/// Run the project's own upgrade command; it must succeed.
fn their_upgrade(cmd: &mut Command, project: &str, target: &str) {
    let out = cmd.env("PYTHONDONTWRITEBYTECODE", "1").output().unwrap();
    assert!(
        out.status.success(),
        "{project}'s own upgrade to {target} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Our whole script from base to `target`, run by `sqlite3` on a new database.
fn our_sqlite(scripts: &Path, versions: Option<&Path>, target: &str) -> TestDb {
    let db = TestDb::sqlite();
    let sql = ours(scripts, versions)
        .args(["sql", &format!("base:{target}"), "--dialect", "sqlite"])
        .output()
        .unwrap();
    assert!(
        sql.status.success(),
        "{}",
        String::from_utf8_lossy(&sql.stderr)
    );
    db.run_sql_script(&String::from_utf8_lossy(&sql.stdout))
        .unwrap_or_else(|e| panic!("sqlite3 refused our SQL: {e}"));
    db
}

/// Both databases reflect the same schema, names included, and the same tables.
fn assert_same_schema(theirs: &TestDb, ours: &TestDb, project: &str, target: &str, n: usize) {
    let expected = reflect(theirs, "alembic_version");
    let actual = reflect(ours, "alembic_version");
    let differences = schema_differences(&expected, &actual);
    assert!(
        differences.is_empty(),
        "at {target} ({n} revisions from base), our schema differs from {project}'s own upgrade:\n  {}",
        differences.join("\n  ")
    );
    assert_eq!(
        expected["tables"].as_object().map(|t| t.len()),
        actual["tables"].as_object().map(|t| t.len())
    );
}

#[test]
fn airflow_compiled_prefix_equals_its_own_alembic_upgrade_on_sqlite() {
    let python = project_venv::python(&AIRFLOW);
    let airflow = project_venv::site_packages(&python).join("airflow");
    let scripts = airflow.join("migrations");
    let (target, n) = compiled_target(&scripts, None, AIRFLOW_SQLITE_FLOOR);

    let theirs = TestDb::sqlite();
    let home = tempfile::tempdir().unwrap();
    let upgrade = format!(
        "from alembic.config import Config\n\
         from alembic import command\n\
         cfg = Config({ini:?})\n\
         cfg.set_main_option('script_location', {scripts:?})\n\
         command.upgrade(cfg, {target:?})\n",
        ini = airflow.join("alembic.ini").display().to_string(),
        scripts = scripts.display().to_string(),
    );
    their_upgrade(
        Command::new(&python)
            .args(["-c", &upgrade])
            .env("AIRFLOW_HOME", home.path())
            .env(
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
                theirs.sqlalchemy_url(),
            ),
        "Airflow",
        &target,
    );
    let ours = our_sqlite(&scripts, None, &target);
    assert_same_schema(&theirs, &ours, "Airflow", &target, n);
}

#[test]
fn prefect_compiled_prefix_equals_its_own_upgrade_on_sqlite() {
    let python = project_venv::python(&PREFECT);
    let database = project_venv::site_packages(&python).join("prefect/server/database");
    let ini = database.join("alembic.ini");
    let versions = database.join("_migrations/versions/sqlite");
    let (target, n) = compiled_target(&ini, Some(&versions), PREFECT_SQLITE_FLOOR);

    let theirs = TestDb::sqlite();
    let home = tempfile::tempdir().unwrap();
    let path = theirs.path().unwrap().display().to_string();
    their_upgrade(
        Command::new(python.with_file_name("prefect"))
            .args(["server", "database", "upgrade", "-y", "-r", &target])
            .env("PREFECT_HOME", home.path())
            .env(
                "PREFECT_API_DATABASE_CONNECTION_URL",
                format!("sqlite+aiosqlite:///{path}"),
            ),
        "Prefect",
        &target,
    );
    let ours = our_sqlite(&ini, Some(&versions), &target);
    assert_same_schema(&theirs, &ours, "Prefect", &target, n);
}
