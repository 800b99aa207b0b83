//! Running migrations on live PostgreSQL 15: an upgrade equals `mlflow db upgrade`'s database,
//! a run stopped after statement k (each revision is one transaction) resumes to the same
//! database, eight upgraders at once are safe (advisory lock), and MLflow accepts the result.

mod support;

use std::process::{Command, Output};

use serde_json::Value;
use support::db::{Dialect, TestDb};
use support::reference_db::{reference_reflection, reflect, Project};
use support::schema_diff::schema_differences;

const JOURNAL: &str = "alembic_engine_journal";

fn migrate(args: &[&str]) -> Command {
    let mut c = support::mlflow_migrate();
    c.args(["--project", "mlflow", "--scripts"])
        .arg(support::mlflow_scripts_dir())
        .args(args);
    c
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn ours(db: &TestDb) -> Value {
    let mut v = reflect(db, "alembic_version");
    if let Some(tables) = v.get_mut("tables").and_then(Value::as_object_mut) {
        tables.remove(JOURNAL);
    }
    v
}

fn assert_matches_reference(db: &TestDb, context: &str) {
    let head = support::reference_db::mlflow_chain(Project::Mlflow)
        .last()
        .cloned()
        .unwrap();
    let expected = reference_reflection(Dialect::Postgres, Project::Mlflow, &head);
    let diff = schema_differences(&expected, &ours(db));
    assert!(diff.is_empty(), "{context}:\n  {}", diff.join("\n  "));
}

#[test]
fn empty_database_upgrade_equals_mlflow_db_upgrade_and_is_then_a_no_op() {
    let db = TestDb::postgres();
    ok(&migrate(&["upgrade", "--quiet", &db.our_url()])
        .output()
        .unwrap());
    assert_matches_reference(&db, "upgraded by mlflow-migrate");
    let python = support::ref_python();
    let up = Command::new(python.parent().unwrap().join("mlflow"))
        .args(["db", "upgrade"])
        .arg(db.sqlalchemy_url())
        .env("MLFLOW_DISABLE_TELEMETRY", "true")
        .output()
        .unwrap();
    assert!(
        up.status.success(),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );
    assert_matches_reference(&db, "after mlflow db upgrade on top");
}

#[test]
fn an_upgrade_interrupted_after_statement_k_resumes_to_the_same_database() {
    let mut checked = 0;
    for k in [1usize, 6, 40, 123, 250, 361] {
        let db = TestDb::postgres();
        let crashed = migrate(&["upgrade", "--quiet", &db.our_url()])
            .env("ALEMBIC_ENGINE_FAIL_AFTER", k.to_string())
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
