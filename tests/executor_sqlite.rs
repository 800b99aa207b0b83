//! Running migrations on live SQLite databases: an upgrade by `mlflow-migrate` gives the
//! database `mlflow db upgrade` gives (and MLflow accepts it: its schema check passes and its
//! own upgrade is then a no-op); an upgrade interrupted after any statement resumes to the same
//! result; eight upgraders at once are safe; bad input changes nothing.

mod support;

use serde_json::Value;
use support::cli::{
    assert_matches_head, assert_mlflow_accepts, eight_concurrent_upgrades,
    every_tenth_revision_upgrades_to_the_same_head, head, migrate, ok, ours, run, JOURNAL,
};
use support::db::{Dialect, TestDb};
use support::reference_db::{reference_reflection, reflect, Project};
use support::schema_diff::schema_differences;

fn assert_matches_reference(db: &TestDb, context: &str) {
    assert_matches_head(db, Dialect::Sqlite, context);
}

fn sqlite3(db: &TestDb, sql: &str) -> String {
    db.run_sql_script(sql).unwrap()
}

#[test]
fn empty_database_upgrade_equals_mlflow_db_upgrade_and_mlflow_accepts_it() {
    let db = TestDb::sqlite();
    ok(&run(&["upgrade", &db.our_url()]));
    assert_matches_reference(&db, "upgraded by mlflow-migrate");
    assert_eq!(
        sqlite3(&db, "SELECT version_num FROM alembic_version;").trim(),
        head()
    );

    // MLflow's own schema check, and its upgrade afterwards changes nothing.
    assert_mlflow_accepts(&db, "upgraded by mlflow-migrate");

    // And ours is a no-op too.
    let again = run(&["upgrade", &db.our_url()]);
    ok(&again);
    assert!(String::from_utf8_lossy(&again.stdout).contains("nothing to do"));
}

#[test]
fn an_upgrade_interrupted_after_any_statement_resumes_to_the_same_database() {
    let total = support::cli::fresh_upgrade_statement_total(Dialect::Sqlite, true);
    assert!(total > 400, "{total}");
    // Every 7th statement index and the last one in CI; every index with
    // ALEMBIC_ENGINE_EXHAUSTIVE=1 (about five minutes).
    let step = if std::env::var_os("ALEMBIC_ENGINE_EXHAUSTIVE").is_some() {
        1
    } else {
        7
    };
    let mut cases: Vec<usize> = (1..=total).step_by(step).collect();
    if !cases.contains(&total) {
        cases.push(total);
    }
    let mut checked = 0;
    for k in cases {
        let db = TestDb::sqlite();
        let crashed = migrate(&["upgrade", "--quiet", "--replay", &db.our_url()])
            .env(support::fault("ALEMBIC_ENGINE_FAIL_AFTER"), k.to_string())
            .output()
            .unwrap();
        assert!(
            !crashed.status.success(),
            "statement {k}: the injected fault did not stop the run"
        );
        let resumed = run(&["upgrade", "--quiet", &db.our_url()]);
        ok(&resumed);
        assert_matches_reference(
            &db,
            &format!("interrupted after statement {k}, then resumed"),
        );
        checked += 1;
    }
    assert!(checked >= 60, "{checked} cases");
}

#[test]
fn an_upgrade_killed_with_sigkill_resumes_to_the_same_database() {
    for delay_ms in [20u64, 60, 120, 200] {
        let db = TestDb::sqlite();
        let mut child = migrate(&["upgrade", "--quiet", &db.our_url()])
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        ok(&run(&["upgrade", "--quiet", &db.our_url()]));
        assert_matches_reference(&db, &format!("killed after {delay_ms} ms, then resumed"));
    }
}

#[test]
fn eight_concurrent_upgraders_all_succeed_and_apply_each_revision_once() {
    let db = TestDb::sqlite();
    eight_concurrent_upgrades(&db);
    assert_matches_reference(&db, "eight concurrent upgraders");
    let applied = sqlite3(
        &db,
        &format!(
            "SELECT COUNT(*), COUNT(DISTINCT run_id) FROM {JOURNAL} WHERE kind = 'statement';"
        ),
    );
    let total = support::cli::fresh_upgrade_statement_total(Dialect::Sqlite, false);
    assert_eq!(
        applied.trim(),
        format!("{total}\t1"),
        "every statement applied once, by one run"
    );
}

fn snapshot(db: &TestDb) -> (Value, String) {
    (
        reflect(db, "alembic_version"),
        db.run_sql_script("SELECT version_num FROM alembic_version;")
            .unwrap_or_default(),
    )
}

fn fails_and_changes_nothing(db: &TestDb, args: &[&str], needle: &str) {
    let before = snapshot(db);
    let out = run(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(needle), "expected {needle:?} in: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(before, snapshot(db), "the database changed");
}

#[test]
fn bad_input_is_refused_and_the_database_is_unchanged() {
    let db = TestDb::sqlite();
    ok(&run(&["upgrade", &db.our_url(), "1bd49d398cd23"]));
    let url = db.our_url();
    fails_and_changes_nothing(&db, &["upgrade", &url, "feedface0000"], "feedface0000");
    fails_and_changes_nothing(&db, &["upgrade", "sqlite//not-a-url"], "not a database URL");
    fails_and_changes_nothing(
        &db,
        &["upgrade", "mssql+pyodbc://u:p@h/db"],
        "not supported yet",
    );

    // A row naming a revision the scripts do not know (another application's, or newer).
    sqlite3(
        &db,
        "UPDATE alembic_version SET version_num = 'abcdef123456';",
    );
    fails_and_changes_nothing(&db, &["upgrade", &url], "--version-table");
    sqlite3(
        &db,
        "UPDATE alembic_version SET version_num = '1bd49d398cd23';",
    );

    // A read-only database file (read-only permissions; as root those do not stop writes, so
    // the URL also asks for a read-only connection, as `?mode=ro` does for sqlite3 URIs).
    use std::os::unix::fs::PermissionsExt;
    let path = db.path().unwrap().to_path_buf();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
    let ro = format!("{url}?mode=ro");
    fails_and_changes_nothing(&db, &["upgrade", &ro], "readonly");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
}

#[test]
fn unreachable_servers_and_wrong_passwords_are_clear_errors() {
    for (url, needle) in [
        (
            "postgresql://postgres@127.0.0.1:1/nowhere",
            "cannot connect",
        ),
        (
            "mysql://root:definitely-wrong@127.0.0.1:3306/mysql",
            "cannot connect",
        ),
    ] {
        let out = run(&["current", url]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(needle), "{stderr}");
        assert!(
            !stderr.contains("definitely-wrong"),
            "the password leaked: {stderr}"
        );
    }
}

#[test]
fn check_exits_1_when_behind_and_0_at_head() {
    let db = TestDb::sqlite();
    ok(&run(&["upgrade", &db.our_url(), "0a8213491aaa"]));
    let behind = run(&["check", &db.our_url()]);
    assert_eq!(behind.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&behind.stdout).contains("revision(s) to apply"));
    ok(&run(&["upgrade", &db.our_url()]));
    ok(&run(&["check", &db.our_url()]));
}

#[test]
fn up_then_down_returns_the_schema_to_where_it_started() {
    // a8b9c0d1e2f3, c1d2e3f4a5b6, c3d9e7f1a2b4 and 6f8d9c3b2a1e have real downgrades.
    let db = TestDb::sqlite();
    ok(&run(&["upgrade", "--quiet", &db.our_url(), "b7e4c1a90f23"]));
    let start = ours(&db);
    ok(&run(&["upgrade", "--quiet", &db.our_url(), "6f8d9c3b2a1e"]));
    ok(&run(&[
        "downgrade",
        "--quiet",
        &db.our_url(),
        "b7e4c1a90f23",
    ]));
    let diff = schema_differences(&start, &ours(&db));
    assert!(
        diff.is_empty(),
        "after up and down:\n  {}",
        diff.join("\n  ")
    );
    let expected = reference_reflection(Dialect::Sqlite, Project::Mlflow, "b7e4c1a90f23");
    let diff = schema_differences(&expected, &ours(&db));
    assert!(
        diff.is_empty(),
        "vs Python Alembic at b7e4c1a90f23:\n  {}",
        diff.join("\n  ")
    );
}

#[test]
fn a_downgrade_through_an_irreversible_revision_is_refused() {
    // 400f98739977's downgrade() is `pass`.
    let db = TestDb::sqlite();
    ok(&run(&["upgrade", "--quiet", &db.our_url(), "400f98739977"]));
    fails_and_changes_nothing(
        &db,
        &["downgrade", &db.our_url(), "f5a4f2784254"],
        "400f98739977 cannot be downgraded",
    );
}

#[test]
fn status_tells_an_interrupted_run_from_a_completed_one() {
    let db = TestDb::sqlite();
    let crashed = migrate(&["upgrade", "--quiet", "--replay", &db.our_url()])
        .env(support::fault("ALEMBIC_ENGINE_FAIL_AFTER"), "100")
        .output()
        .unwrap();
    assert!(!crashed.status.success());
    let status = run(&["status", &db.our_url()]);
    ok(&status);
    assert!(String::from_utf8_lossy(&status.stdout).contains("interrupted"));
    ok(&run(&["upgrade", "--quiet", &db.our_url()]));
    let status = run(&["status", &db.our_url()]);
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(
        text.contains("completed") && text.contains(&head()),
        "{text}"
    );
}

#[test]
fn databases_python_alembic_left_at_every_tenth_revision_upgrade_to_the_same_head() {
    every_tenth_revision_upgrades_to_the_same_head(Dialect::Sqlite);
}

#[test]
fn version_table_can_be_chosen_when_another_application_shares_alembic_version() {
    let db = TestDb::sqlite();
    ok(&run(&["upgrade", "--quiet", &db.our_url(), "0a8213491aaa"]));
    // Another application's Alembic history lands in the same table.
    sqlite3(&db, "INSERT INTO alembic_version VALUES ('0123456789ab');");
    fails_and_changes_nothing(&db, &["upgrade", &db.our_url()], "--version-table");
    // Record MLflow's revision in a table of its own, then upgrade through it.
    let table = ["--version-table", "mlflow_alembic_version"];
    ok(&run(&[
        &table[..],
        &["stamp", &db.our_url(), "0a8213491aaa"],
    ]
    .concat()));
    ok(&run(
        &[&table[..], &["upgrade", "--quiet", &db.our_url()]].concat()
    ));
    assert_eq!(
        sqlite3(&db, "SELECT version_num FROM mlflow_alembic_version;").trim(),
        head()
    );
    assert_eq!(
        sqlite3(&db, "SELECT version_num FROM alembic_version ORDER BY 1;").trim(),
        "0123456789ab\n0a8213491aaa",
        "the shared table is left as it was"
    );
}

#[test]
fn a_schema_that_drifted_from_the_recorded_revision_is_refused_unchanged() {
    let db = TestDb::sqlite();
    ok(&run(&["upgrade", "--quiet", &db.our_url(), "0a8213491aaa"]));
    // Someone changed the schema by hand.
    sqlite3(
        &db,
        "ALTER TABLE experiments ADD COLUMN note VARCHAR(10); DROP TABLE params;",
    );
    fails_and_changes_nothing(
        &db,
        &["upgrade", &db.our_url()],
        "column experiments.note is unexpected",
    );
    let out = run(&["upgrade", &db.our_url()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("table params is missing"), "{stderr}");
    assert!(stderr.contains("--ignore-drift"), "{stderr}");
    // An index a later revision drops by name, dropped by hand.
    let db = TestDb::sqlite();
    ok(&run(&["upgrade", "--quiet", &db.our_url(), "cc1f77228345"]));
    sqlite3(&db, "DROP INDEX index_metrics_run_uuid;");
    fails_and_changes_nothing(
        &db,
        &["upgrade", &db.our_url()],
        "index index_metrics_run_uuid on metrics is missing",
    );
}
