//! Running migrations on live MariaDB 10.11, whose DDL commits statement by statement: an
//! upgrade equals `mlflow db upgrade`'s database; a run stopped after statement k resumes where
//! it stopped (the journal records an intent before and a checkpoint after each statement);
//! the one statement whose outcome the journal cannot tell is settled from the live schema,
//! and where the schema cannot tell, never guessed — the next run stops and names it, and
//! `--resume-skip` / `--resume-retry` finish; eight upgraders at once are safe (GET_LOCK).

mod support;

use support::cli::{
    assert_matches_head, assert_mlflow_accepts, eight_concurrent_upgrades,
    every_tenth_revision_upgrades_to_the_same_head, fresh_upgrade_statements,
    kill_once_journal_shows, migrate, ok, run, statement_number, JOURNAL,
};
use support::db::{Dialect, TestDb};

fn assert_matches_reference(db: &TestDb, context: &str) {
    assert_matches_head(db, Dialect::MariaDb, context);
}

#[test]
fn empty_database_upgrade_equals_mlflow_db_upgrade_and_mlflow_accepts_it() {
    let db = TestDb::mariadb();
    ok(&run(&["upgrade", "--quiet", &db.our_url()]));
    assert_matches_reference(&db, "upgraded by mlflow-migrate");
    assert_mlflow_accepts(&db, "upgraded by mlflow-migrate");
    assert_matches_reference(&db, "after mlflow db upgrade on top");
}

#[test]
fn an_upgrade_stopped_after_statement_k_resumes_where_it_stopped() {
    // A sample in CI (DDL and DML statements, early and late); every index with
    // ALEMBIC_ENGINE_EXHAUSTIVE=1.
    let total = fresh_upgrade_statements(Dialect::MariaDb).len();
    let cases: Vec<usize> = if std::env::var_os("ALEMBIC_ENGINE_EXHAUSTIVE").is_some() {
        (1..=total).collect()
    } else {
        vec![1, 2, 7, 50, 61, 120, 200, 300, total]
    };
    for k in cases {
        let db = TestDb::mariadb();
        let crashed = migrate(&["upgrade", "--quiet", "--replay", &db.our_url()])
            .env(support::fault("ALEMBIC_ENGINE_FAIL_AFTER"), k.to_string())
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

/// Runs the upgrade until it dies right after statement `k` ran and before its checkpoint
/// was written: the one statement whose outcome the journal cannot tell.
fn crash_before_checkpoint(db: &TestDb, k: usize) {
    let crashed = migrate(&["upgrade", "--quiet", "--replay", &db.our_url()])
        .env(
            support::fault("ALEMBIC_ENGINE_FAIL_BEFORE_JOURNAL"),
            k.to_string(),
        )
        .output()
        .unwrap();
    assert!(
        !crashed.status.success(),
        "statement {k}: the fault did not stop the run"
    );
}

#[test]
fn a_statement_of_unknown_outcome_is_settled_from_the_live_schema() {
    // Statements of a fresh upgrade, by what they do: merged ALTERs that swap a primary key
    // (with the column it gains; 451aebb31d03's, and the workspace revision's, with a DROP
    // INDEX), one that adds a column, an unnamed ADD CHECK, DROP CONSTRAINT, CREATE TABLE,
    // the version UPDATE after it (data: rolled back with its missing checkpoint), CREATE
    // INDEX, DROP FOREIGN KEY of a server-named key, CHANGE (a rename). Every statement with
    // ALEMBIC_ENGINE_EXHAUSTIVE=1, but the trigger (see below).
    let stmts = fresh_upgrade_statements(Dialect::MariaDb);
    let aliases = statement_number(&stmts, 0, &["CREATE TABLE registered_model_aliases"]);
    let trigger = statement_number(&stmts, 0, &["CREATE TRIGGER prevent_secrets_aad_mutation"]);
    let cases: Vec<usize> = if std::env::var_os("ALEMBIC_ENGINE_EXHAUSTIVE").is_some() {
        (1..=stmts.len()).filter(|k| *k != trigger).collect()
    } else {
        vec![
            // The first: the next run, without --replay, would otherwise install the head
            // schema directly over the table it made.
            1,
            statement_number(&stmts, 0, &["ALTER TABLE metrics", "DROP PRIMARY KEY"]),
            statement_number(&stmts, 0, &["ALTER TABLE metrics", "ADD COLUMN is_nan"]),
            statement_number(&stmts, 0, &["ADD CHECK"]),
            statement_number(&stmts, 0, &["DROP CONSTRAINT"]),
            aliases,
            statement_number(&stmts, aliases, &["UPDATE alembic_version"]),
            statement_number(&stmts, aliases, &["CREATE INDEX"]),
            statement_number(&stmts, 0, &["DROP FOREIGN KEY", "_ibfk_"]),
            statement_number(&stmts, 0, &["CHANGE function_fullname job_name"]),
            statement_number(
                &stmts,
                0,
                &["DROP INDEX", "ADD COLUMN workspace", "DROP PRIMARY KEY"],
            ),
        ]
    };
    for k in cases {
        let db = TestDb::mariadb();
        crash_before_checkpoint(&db, k);
        ok(&run(&["upgrade", "--quiet", &db.our_url()]));
        assert_matches_reference(&db, &format!("statement {k} landed, then resumed"));
    }
}

#[test]
fn revisions_fused_by_a_merge_move_their_version_row_together() {
    // 39d1c3be5f05 and c48cb773bb87 each make metrics.is_nan NOT NULL with a CHECK: the
    // optimiser merges both into 451aebb31d03's ALTER (one copy of the table; 89d4b8295536
    // between them only reads metrics), so the revisions from 451aebb31d03 to c48cb773bb87
    // run as one unit. A run cut inside it (at 39d1c3be5f05's ALTER of latest_metrics) leaves
    // the version row before the unit (none, on this fresh database), never between its
    // revisions, and the next run finishes it.
    let stmts = fresh_upgrade_statements(Dialect::MariaDb);
    let merged = statement_number(
        &stmts,
        0,
        &[
            "ALTER TABLE metrics",
            "ADD CHECK (is_nan IN (0, 1)), ADD CHECK (is_nan IN (0, 1))",
        ],
    );
    let k = statement_number(&stmts, 0, &["ALTER TABLE latest_metrics MODIFY is_nan"]);
    assert!(merged < k, "the merged ALTER runs first");
    let db = TestDb::mariadb();
    crash_before_checkpoint(&db, k);
    let version = db
        .run_sql_script("SELECT version_num FROM alembic_version;")
        .unwrap();
    assert_eq!(version.trim(), "", "{version}");
    let status = run(&["--format", "json", "status", &db.our_url()]);
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    let remaining = &status["last_run"]["remaining"];
    for revision in [
        "451aebb31d03",
        "89d4b8295536",
        "39d1c3be5f05",
        "c48cb773bb87",
    ] {
        assert!(
            remaining.as_array().unwrap().iter().any(|r| r == revision),
            "{status}"
        );
    }
    ok(&run(&["upgrade", "--quiet", &db.our_url()]));
    assert_matches_reference(&db, "cut inside a fused unit, resumed");
    let status = run(&["--format", "json", "status", &db.our_url()]);
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(
        status["last_run"]["remaining"],
        serde_json::json!([]),
        "{status}"
    );
}

#[test]
fn a_statement_that_did_not_land_is_run_again() {
    // The statement ran, but is undone by hand: the live schema says it did not land.
    let stmts = fresh_upgrade_statements(Dialect::MariaDb);
    for (k, undo) in [
        (
            // The one ALTER of 451aebb31d03 and 181f10493468 (one unit): add `step` and
            // `is_nan`, retype `value`, swap the initial primary key for the final one.
            statement_number(&stmts, 0, &["ALTER TABLE metrics", "ADD COLUMN is_nan"]),
            "ALTER TABLE metrics DROP PRIMARY KEY, DROP COLUMN is_nan, DROP COLUMN step, \
             ADD CONSTRAINT metric_pk PRIMARY KEY (`key`, timestamp, run_uuid), \
             MODIFY value FLOAT NOT NULL;",
        ),
        (
            statement_number(&stmts, 0, &["CREATE TABLE registered_model_aliases"]),
            "DROP TABLE registered_model_aliases;",
        ),
        (
            statement_number(&stmts, 0, &["CHANGE function_fullname job_name"]),
            "ALTER TABLE jobs CHANGE job_name function_fullname VARCHAR(500) NULL;",
        ),
    ] {
        let db = TestDb::mariadb();
        crash_before_checkpoint(&db, k);
        db.run_sql_script(undo).unwrap();
        ok(&run(&["upgrade", "--quiet", &db.our_url()]));
        assert_matches_reference(&db, &format!("statement {k} undone, then resumed"));
    }
}

#[test]
fn a_statement_the_schema_cannot_settle_is_named_and_finished_by_an_explicit_choice() {
    // This statement creates a trigger whose body the SQL parser does not read: its outcome
    // is left to the operator, never guessed.
    let stmts = fresh_upgrade_statements(Dialect::MariaDb);
    let trigger = statement_number(&stmts, 0, &["CREATE TRIGGER prevent_secrets_aad_mutation"]);
    let db = TestDb::mariadb();
    crash_before_checkpoint(&db, trigger);
    let refused = run(&["upgrade", "--quiet", &db.our_url()]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("CREATE TRIGGER prevent_secrets_aad_mutation"),
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
        &db.our_url(),
    ]));
    assert_matches_reference(&db, "finished with --resume-skip");

    // The same, but the trigger did not land (dropped by hand): retry it.
    let undone = TestDb::mariadb();
    crash_before_checkpoint(&undone, trigger);
    undone
        .run_sql_script("DROP TRIGGER prevent_secrets_aad_mutation;")
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

#[test]
fn databases_python_alembic_left_at_every_tenth_revision_upgrade_to_the_same_head() {
    every_tenth_revision_upgrades_to_the_same_head(Dialect::MariaDb);
}

#[test]
fn an_upgrade_killed_with_sigkill_resumes_to_the_same_database() {
    // A real SIGKILL once the journal shows at least `after` statements applied (the kill
    // lands a few statements later, wherever the process is: inside a statement, between a
    // statement and its checkpoint, or in a transaction of data).
    for after in [20usize, 120, 250] {
        let db = TestDb::mariadb();
        kill_once_journal_shows(
            &db,
            &["upgrade", "--quiet", "--replay", &db.our_url()],
            after,
        );
        ok(&run(&["upgrade", "--quiet", &db.our_url()]));
        assert_matches_reference(&db, &format!("killed after {after} statements, resumed"));
    }
}
