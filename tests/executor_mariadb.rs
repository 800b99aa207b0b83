//! Running migrations on live MariaDB 10.11, whose DDL commits statement by statement: an
//! upgrade equals `mlflow db upgrade`'s database; a run stopped after statement k resumes where
//! it stopped (the journal records an intent before and a checkpoint after each statement);
//! the one statement whose outcome the journal cannot tell is never guessed — the next run
//! stops and names it, and `--resume-skip` / `--resume-retry` finish; eight upgraders at once
//! are safe (GET_LOCK).

mod support;

use support::cli::{
    assert_matches_head, eight_concurrent_upgrades, migrate, mlflow_db_upgrade, ok, run, JOURNAL,
};
use support::db::{Dialect, TestDb};

fn assert_matches_reference(db: &TestDb, context: &str) {
    assert_matches_head(db, Dialect::MariaDb, context);
}

#[test]
fn empty_database_upgrade_equals_mlflow_db_upgrade_and_is_then_a_no_op() {
    let db = TestDb::mariadb();
    ok(&run(&["upgrade", "--quiet", &db.our_url()]));
    assert_matches_reference(&db, "upgraded by mlflow-migrate");
    let up = mlflow_db_upgrade(&db);
    assert!(
        up.status.success(),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );
    assert_matches_reference(&db, "after mlflow db upgrade on top");
}

#[test]
fn an_upgrade_stopped_after_statement_k_resumes_where_it_stopped() {
    // A sample in CI (DDL and DML statements, early and late); every index with
    // ALEMBIC_ENGINE_EXHAUSTIVE=1.
    let cases: Vec<usize> = if std::env::var_os("ALEMBIC_ENGINE_EXHAUSTIVE").is_some() {
        (1..=363).collect()
    } else {
        vec![1, 2, 7, 50, 61, 120, 200, 300, 362]
    };
    for k in cases {
        let db = TestDb::mariadb();
        let crashed = migrate(&["upgrade", "--quiet", &db.our_url()])
            .env("ALEMBIC_ENGINE_FAIL_AFTER", k.to_string())
            .output()
            .unwrap();
        assert!(
            !crashed.status.success(),
            "statement {k}: the fault did not stop the run"
        );
        ok(&run(&["upgrade", "--quiet", &db.our_url()]));
        assert_matches_reference(&db, &format!("stopped after statement {k}, resumed"));
    }
}

#[test]
fn a_statement_of_unknown_outcome_is_named_and_finished_by_an_explicit_choice() {
    // Statement 61 is the CREATE TABLE of registered_model_aliases (3500859a5d39); the run
    // dies after the server applied it and before the journal could say so.
    let applied = TestDb::mariadb();
    let crashed = migrate(&["upgrade", "--quiet", &applied.our_url()])
        .env("ALEMBIC_ENGINE_FAIL_BEFORE_JOURNAL", "61")
        .output()
        .unwrap();
    assert!(!crashed.status.success());
    let refused = run(&["upgrade", "--quiet", &applied.our_url()]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("CREATE TABLE registered_model_aliases"),
        "{stderr}"
    );
    assert!(
        stderr.contains("--resume-skip") && stderr.contains("--resume-retry"),
        "{stderr}"
    );
    assert!(!stderr.trim().contains('\n'), "one paragraph: {stderr}");
    ok(&run(&[
        "upgrade",
        "--quiet",
        "--resume-skip",
        &applied.our_url(),
    ]));
    assert_matches_reference(&applied, "finished with --resume-skip");

    // The same, but the statement did not land (undone by hand): retry it.
    let undone = TestDb::mariadb();
    let crashed = migrate(&["upgrade", "--quiet", &undone.our_url()])
        .env("ALEMBIC_ENGINE_FAIL_BEFORE_JOURNAL", "61")
        .output()
        .unwrap();
    assert!(!crashed.status.success());
    undone
        .run_sql_script("DROP TABLE registered_model_aliases;")
        .unwrap();
    ok(&run(&[
        "upgrade",
        "--quiet",
        "--resume-retry",
        &undone.our_url(),
    ]));
    assert_matches_reference(&undone, "finished with --resume-retry");
}

#[test]
fn eight_concurrent_upgraders_all_succeed_and_one_run_applies_everything() {
    let db = TestDb::mariadb();
    eight_concurrent_upgrades(&db);
    assert_matches_reference(&db, "eight concurrent upgraders");
    let counts = db
        .run_sql_script(&format!(
            "SELECT COUNT(DISTINCT run_id) FROM {JOURNAL} WHERE kind = 'statement';"
        ))
        .unwrap();
    assert_eq!(counts.trim(), "1", "one run applied everything");
}
