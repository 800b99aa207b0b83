//! Running migrations on live PostgreSQL 15: an upgrade equals `mlflow db upgrade`'s database,
//! a run stopped after statement k (each revision is one transaction) resumes to the same
//! database, eight upgraders at once are safe (advisory lock), and MLflow accepts the result.

mod support;

use support::cli::{
    assert_matches_head, assert_mlflow_accepts, eight_concurrent_upgrades,
    every_tenth_revision_upgrades_to_the_same_head, migrate, ok, JOURNAL,
};
use support::db::{Dialect, TestDb};

fn assert_matches_reference(db: &TestDb, context: &str) {
    assert_matches_head(db, Dialect::Postgres, context);
}

#[test]
fn empty_database_upgrade_equals_mlflow_db_upgrade_and_mlflow_accepts_it() {
    let db = TestDb::postgres();
    ok(&migrate(&["upgrade", "--quiet", &db.our_url()])
        .output()
        .unwrap());
    assert_matches_reference(&db, "upgraded by mlflow-migrate");
    assert_mlflow_accepts(&db, "upgraded by mlflow-migrate");
    assert_matches_reference(&db, "after mlflow db upgrade on top");
}

#[test]
fn an_upgrade_interrupted_after_statement_k_resumes_to_the_same_database() {
    let mut checked = 0;
    for k in [1usize, 6, 40, 123, 250, 361] {
        let db = TestDb::postgres();
        let crashed = migrate(&["upgrade", "--quiet", "--replay", &db.our_url()])
            .env(support::fault("ALEMBIC_ENGINE_FAIL_AFTER"), k.to_string())
            .output()
            .unwrap();
        assert!(
            !crashed.status.success(),
            "statement {k}: the fault did not stop the run"
        );
        ok(&migrate(&["upgrade", "--quiet", &db.our_url()])
            .output()
            .unwrap());
        assert_matches_reference(&db, &format!("interrupted after statement {k}, resumed"));
        checked += 1;
    }
    assert_eq!(checked, 6);
}

#[test]
fn eight_concurrent_upgraders_all_succeed_and_apply_each_statement_once() {
    let db = TestDb::postgres();
    eight_concurrent_upgrades(&db);
    assert_matches_reference(&db, "eight concurrent upgraders");
    let counts = db
        .run_sql_script(&format!(
            "SELECT COUNT(*), COUNT(DISTINCT run_id) FROM {JOURNAL} WHERE kind = 'statement';"
        ))
        .unwrap();
    let fields: Vec<&str> = counts.split_whitespace().collect();
    assert_eq!(
        fields.get(1),
        Some(&"1"),
        "one run applied everything: {counts}"
    );
}

#[test]
fn databases_python_alembic_left_at_every_tenth_revision_upgrade_to_the_same_head() {
    every_tenth_revision_upgrades_to_the_same_head(Dialect::Postgres);
}
