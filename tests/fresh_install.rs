//! An empty database brought to the head by creating the head schema directly (the default)
//! instead of replaying every revision: the result equals what MLflow's own `mlflow db
//! upgrade` leaves — schema, rows (the `default` workspace) and version row — on SQLite,
//! PostgreSQL and MariaDB, MLflow accepts it, and a run stopped inside the install resumes to
//! the same database. `--replay` keeps the revision-by-revision path. Fixture projects in
//! other users' style (branches, several heads, data migrations) equal Python Alembic's
//! upgrade whichever path the planner chooses, and the plan says which and why.

mod support;

use serde_json::Value;
use support::cli::{
    assert_matches_head, assert_matches_python_upgrade_of, assert_mlflow_accepts,
    kill_once_journal_shows, migrate, ok, planned_statements, run, JOURNAL,
};
use support::db::{Dialect, TestDb};
use support::reference_db::{build_reference, diff_rows, mlflow_chain, reflect, Project};
use support::schema_diff::schema_differences;

/// An empty database (on SQLite an empty file: read-only commands never create one).
fn empty(dialect: Dialect) -> TestDb {
    let db = TestDb::new(dialect);
    if let Some(path) = db.path() {
        std::fs::File::create(path).unwrap();
    }
    db
}

/// `plan --format json URL` of an empty database, then `extra` (flags, a target).
fn plan_json(db: &TestDb, extra: &[&str]) -> Value {
    let url = db.our_url();
    let mut args = vec!["--format", "json", "plan", url.as_str()];
    args.extend_from_slice(extra);
    let out = run(&args);
    ok(&out);
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Row differences between two databases, our journal aside.
fn row_differences(ours: &TestDb, theirs: &TestDb) -> Value {
    let mut diff = diff_rows(ours, theirs);
    if let Some(d) = diff["differences"].as_object_mut() {
        d.remove(JOURNAL);
    }
    diff["differences"].clone()
}

fn direct_install_equals_mlflow_db_upgrade(dialect: Dialect) {
    let db = empty(dialect);
    let twin = TestDb::new(dialect);
    let revisions = mlflow_chain(Project::Mlflow).len();
    let plan = plan_json(&db, &[]);
    assert_eq!(
        plan["direct_install"]["revisions"].as_u64(),
        Some(revisions as u64),
        "{plan:#}"
    );
    let statements = planned_statements(&plan);
    assert!(
        statements.iter().all(|s| !s.starts_with("ALTER TABLE")),
        "a direct install alters nothing: {statements:#?}"
    );
    let replayed = planned_statements(&plan_json(&db, &["--replay"]));
    assert!(
        statements.len() * 2 < replayed.len(),
        "{} statements direct, {} replayed",
        statements.len(),
        replayed.len()
    );

    ok(&run(&["upgrade", "--quiet", &db.our_url()]));
    assert_matches_python_upgrade_of(&db, &twin, "installed directly");
    let rows = row_differences(&db, &twin);
    assert_eq!(rows, serde_json::json!({}), "rows differ from MLflow's");
    assert_mlflow_accepts(&db, "installed directly");
}

#[test]
fn sqlite_direct_install_equals_mlflow_db_upgrade() {
    direct_install_equals_mlflow_db_upgrade(Dialect::Sqlite);
}

#[test]
fn postgres_direct_install_equals_mlflow_db_upgrade() {
    direct_install_equals_mlflow_db_upgrade(Dialect::Postgres);
}

#[test]
fn mariadb_direct_install_equals_mlflow_db_upgrade() {
    direct_install_equals_mlflow_db_upgrade(Dialect::MariaDb);
}

/// A direct install stopped after its statement k (first, middle, the trigger, last) resumes
/// to the head: SQLite and PostgreSQL roll the whole install back, MariaDB goes on from its
/// journal.
fn a_stopped_install_resumes(dialect: Dialect) {
    let statements = planned_statements(&plan_json(&empty(dialect), &[]));
    let n = statements.len();
    let trigger = statements
        .iter()
        .position(|s| s.contains("CREATE TRIGGER"))
        .expect("the secrets trigger")
        + 1;
    for k in [1, n / 2, trigger, n - 1] {
        let db = TestDb::new(dialect);
        let crashed = migrate(&["upgrade", "--quiet", &db.our_url()])
            .env(support::fault("ALEMBIC_ENGINE_FAIL_AFTER"), k.to_string())
            .output()
            .unwrap();
        assert!(
            !crashed.status.success(),
            "statement {k} of {n}: the fault did not stop the run"
        );
        ok(&run(&["upgrade", "--quiet", &db.our_url()]));
        assert_matches_head(
            &db,
            dialect,
            &format!("install stopped after statement {k}"),
        );
        let version = db
            .run_sql_script("SELECT version_num FROM alembic_version;")
            .unwrap();
        assert!(
            version.contains(mlflow_chain(Project::Mlflow).last().unwrap()),
            "{version}"
        );
    }
}

#[test]
fn sqlite_a_stopped_install_resumes_to_the_head() {
    a_stopped_install_resumes(Dialect::Sqlite);
}

#[test]
fn postgres_a_stopped_install_resumes_to_the_head() {
    a_stopped_install_resumes(Dialect::Postgres);
}

#[test]
fn mariadb_a_stopped_install_resumes_to_the_head() {
    a_stopped_install_resumes(Dialect::MariaDb);
}

#[test]
fn mariadb_an_install_killed_with_sigkill_resumes_to_the_head() {
    // A real SIGKILL once the journal shows `after` of the install's statements applied.
    for after in [5usize, 25, 45] {
        let db = TestDb::mariadb();
        kill_once_journal_shows(&db, &["upgrade", "--quiet", &db.our_url()], after);
        ok(&run(&["upgrade", "--quiet", &db.our_url()]));
        assert_matches_head(
            &db,
            Dialect::MariaDb,
            &format!("killed after {after}, resumed"),
        );
    }
}

#[test]
fn replay_runs_every_revision_and_reaches_the_same_schema() {
    let db = empty(Dialect::Sqlite);
    let plan = plan_json(&db, &["--replay"]);
    assert!(plan["direct_install"].is_null(), "{plan:#}");
    // Every revision is planned: alone, or in a unit with those an optimisation fused to it.
    assert_eq!(
        support::cli::revisions_covered(&plan["revisions"]),
        mlflow_chain(Project::Mlflow).len()
    );
    ok(&run(&["upgrade", "--quiet", "--replay", &db.our_url()]));
    assert_matches_head(&db, Dialect::Sqlite, "replayed");
}

#[test]
fn an_empty_database_below_the_head_is_installed_at_the_target() {
    let chain = mlflow_chain(Project::Mlflow);
    let target = &chain[chain.len() / 2];
    let db = empty(Dialect::Sqlite);
    let plan = plan_json(&db, &[target]);
    assert_eq!(
        plan["direct_install"]["revisions"].as_u64(),
        Some((chain.len() / 2 + 1) as u64),
        "{plan:#}"
    );
    ok(&run(&["upgrade", "--quiet", &db.our_url(), target]));
    let expected =
        support::reference_db::reference_reflection(Dialect::Sqlite, Project::Mlflow, target);
    let diff = schema_differences(&expected, &support::cli::ours(&db));
    assert!(diff.is_empty(), "at {target}:\n  {}", diff.join("\n  "));
}

/// Every fixture project upgraded live on an empty SQLite database equals Python Alembic's
/// upgrade, schema and rows, whether the planner installs it directly or replays it (and the
/// plan says which, and why).
#[test]
fn fixture_projects_from_empty_equal_python_alembic_on_either_path() {
    let mut fixtures: Vec<String> =
        std::fs::read_dir(support::repo_root().join("revisions").join("fixtures"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
    fixtures.sort();
    assert_eq!(fixtures.len(), 8, "{fixtures:?}");
    let mut direct = Vec::new();
    for fixture in &fixtures {
        let fixture = fixture.as_str();
        let ours = empty(Dialect::Sqlite);
        let theirs = TestDb::sqlite();
        let cli = |args: &[&str]| {
            let out = support::mlflow_migrate()
                .arg("--scripts")
                .arg(support::fixture(fixture))
                .args(args)
                .output()
                .unwrap();
            ok(&out);
            out
        };
        let url = ours.our_url();
        let plan: Value =
            serde_json::from_slice(&cli(&["--format", "json", "plan", &url]).stdout).unwrap();
        match (
            plan["direct_install"].is_null(),
            plan["replay_reason"].as_str(),
        ) {
            (false, None) => direct.push(fixture),
            (true, Some(why)) => assert!(!why.is_empty(), "{fixture}"),
            _ => panic!("{fixture}: neither direct nor a reason: {plan:#}"),
        }
        cli(&["upgrade", "--quiet", &url]);
        build_reference(
            &theirs,
            Project::Fixture,
            &support::fixture(fixture),
            "heads",
        );
        let diff = schema_differences(
            &reflect(&theirs, "alembic_version"),
            &support::cli::ours(&ours),
        );
        assert!(diff.is_empty(), "{fixture}:\n  {}", diff.join("\n  "));
        assert_eq!(
            row_differences(&ours, &theirs),
            serde_json::json!({}),
            "{fixture}: rows differ"
        );
    }
    assert!(direct.len() >= 3, "installed directly: {direct:?}");
}
