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

/// Run `cmd`, which must succeed: its stdout (its stderr in the panic otherwise).
pub fn succeeds(cmd: &mut std::process::Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{:?} failed:\n{}",
        cmd.get_args().collect::<Vec<_>>(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
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

/// MLflow accepts the database: its own schema check (`_verify_schema`) passes, and
/// `mlflow db upgrade` afterwards changes nothing.
pub fn assert_mlflow_accepts(db: &TestDb, context: &str) {
    let check = Command::new(super::ref_python())
        .args([
            "-c",
            "import sys, sqlalchemy; from mlflow.store.db.utils import _verify_schema; \
             _verify_schema(sqlalchemy.create_engine(sys.argv[1]))",
        ])
        .arg(db.sqlalchemy_url())
        .env("MLFLOW_DISABLE_TELEMETRY", "true")
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{context}: MLflow's schema check failed: {}",
        String::from_utf8_lossy(&check.stderr)
    );
    let before = ours(db);
    let up = mlflow_db_upgrade(db);
    assert!(
        up.status.success(),
        "{context}: {}",
        String::from_utf8_lossy(&up.stderr)
    );
    assert_eq!(
        before,
        ours(db),
        "{context}: mlflow db upgrade changed an up-to-date database"
    );
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

/// MLflow's own upgrade of `db` to `to`, killed right after its `n`-th schema or data
/// statement (`interrupted_upgrade.py`): what a pod killed mid-upgrade leaves.
pub fn python_upgrade_killed_after(db: &TestDb, to: &str, n: usize) {
    let script = super::repo_root().join("tests/support/interrupted_upgrade.py");
    let out = super::reference_db::reference_command(&super::ref_python())
        .arg(script)
        .arg(db.sqlalchemy_url())
        .arg(super::mlflow_scripts_dir())
        .arg(to)
        .arg(n.to_string())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(17),
        "the interrupted upgrade did not die at statement {n}:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `db` equals `twin` — a copy of the database `db` started from — brought to the head by
/// MLflow's own upgrade. (A copy, not the reference ladder's head: on MariaDB a copy is a
/// mysqldump, which turns the indexes InnoDB made for foreign keys into declared ones, and
/// those survive later key changes that would silently replace the implicit ones.)
pub fn assert_matches_python_upgrade_of(db: &TestDb, twin: &TestDb, context: &str) {
    super::reference_db::build_reference(
        twin,
        Project::Mlflow,
        &super::mlflow_scripts_dir(),
        "heads",
    );
    let diff = schema_differences(&reflect(twin, "alembic_version"), &ours(db));
    assert!(diff.is_empty(), "{context}:\n  {}", diff.join("\n  "));
}

/// Databases Python Alembic built at MLflow's initial tables and at every tenth revision,
/// upgraded by `mlflow-migrate`: each equals the same database upgraded by MLflow.
pub fn every_tenth_revision_upgrades_to_the_same_head(dialect: Dialect) {
    let chain = mlflow_chain(Project::Mlflow);
    let starts: Vec<&str> = std::iter::once(super::reference_db::INITIAL)
        .chain(chain.iter().step_by(10).map(String::as_str))
        .collect();
    for rev in &starts {
        let db = super::reference_db::reference_at(dialect, Project::Mlflow, rev);
        let twin = db.copy_to_new();
        ok(&run(&["upgrade", "--quiet", &db.our_url()]));
        let context = format!("from Python Alembic's database at {rev}");
        assert_matches_python_upgrade_of(&db, &twin, &context);
        assert_mlflow_accepts(&db, &context);
    }
    assert_eq!(starts.len(), 1 + chain.len().div_ceil(10));
}

/// How many statements an upgrade of an empty MLflow database runs on `dialect`, as
/// `mlflow-migrate` reports it: with `--replay`, MLflow's initial tables, the version table
/// and every revision; without, the direct install of the head schema.
pub fn fresh_upgrade_statement_total(dialect: Dialect, replay: bool) -> usize {
    let db = TestDb::new(dialect);
    let url = db.our_url();
    let mut args = vec!["upgrade", url.as_str()];
    if replay {
        args.push("--replay");
    }
    let out = run(&args);
    ok(&out);
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let line = text
        .lines()
        .find(|l| l.starts_with("base -> ") && l.ends_with(" statement(s))"))
        .unwrap_or_else(|| panic!("no summary line in:\n{text}"));
    let count = line
        .rsplit(", ")
        .next()
        .unwrap()
        .trim_end_matches(" statement(s))");
    count
        .parse()
        .unwrap_or_else(|_| panic!("no count in {line:?}"))
}

/// The statements a revision-by-revision upgrade (`--replay`) of an empty MLflow database
/// sends on `dialect`, in order (so statement k of the run is `[k - 1]`), as the `plan`
/// command's dry run lists them.
pub fn fresh_upgrade_statements(dialect: Dialect) -> Vec<String> {
    let db = TestDb::new(dialect);
    let out = run(&["plan", "--replay", "--format", "json", &db.our_url()]);
    ok(&out);
    planned_statements(&serde_json::from_slice(&out.stdout).unwrap())
}

/// The statements a `plan --format json` answer lists, in order.
pub fn planned_statements(plan: &Value) -> Vec<String> {
    plan["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["sql"].as_array().unwrap().iter())
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// Starts `upgrade ARGS` and SIGKILLs it once the journal shows at least `after` statements
/// applied (the kill lands a few statements later, wherever the process is). Panics when the
/// run ended before the kill.
pub fn kill_once_journal_shows(db: &TestDb, args: &[&str], after: usize) {
    let mut child = migrate(args).spawn().unwrap();
    let count = format!("SELECT COUNT(*) FROM {JOURNAL} WHERE kind = 'statement';");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let done = db
            .run_sql_script(&count)
            .ok()
            .and_then(|s| s.trim().parse::<usize>().ok())
            .unwrap_or(0);
        if done >= after || std::time::Instant::now() > deadline {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    child.kill().unwrap();
    assert!(
        !child.wait().unwrap().success(),
        "after {after}: the upgrade ended before the kill"
    );
}

/// The number (1-based) of the first statement from `after` on that contains every one of
/// `parts`.
pub fn statement_number(statements: &[String], after: usize, parts: &[&str]) -> usize {
    statements
        .iter()
        .enumerate()
        .skip(after)
        .find(|(_, s)| parts.iter().all(|p| s.contains(p)))
        .map(|(i, _)| i + 1)
        .unwrap_or_else(|| panic!("no statement after {after} with {parts:?}"))
}

/// How many revisions a plan's or a run summary's `revisions` list covers: each entry is a
/// revision alone or the first of a unit, with those an optimisation fused to it (`joined`).
pub fn revisions_covered(entries: &serde_json::Value) -> usize {
    entries
        .as_array()
        .expect("a list of revisions")
        .iter()
        .map(|r| 1 + r["joined"].as_array().map_or(0, Vec::len))
        .sum()
}
