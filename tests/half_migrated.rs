//! Databases an upgrade without our journal left half-way through a revision — MLflow's own
//! `mlflow db upgrade`, killed right after one of its statements, on a server whose DDL
//! commits statement by statement (MariaDB) and on SQLite, where Python's driver runs DDL
//! outside a transaction until the first data statement. The next upgrade names the revision
//! and how far it got, and changes nothing; `--adopt-partial` runs the rest, and the result
//! is the database Python Alembic builds at the head.

mod support;

use support::cli::{assert_matches_python_upgrade_of, ok, ours, python_upgrade_killed_after, run};
use support::db::{Dialect, TestDb};
use support::reference_db::{reference_at, Project};

/// Python killed after its `n`-th statement of revision `rev`, from its database at the
/// revision before (`parent`); and a twin of that database at `parent`, for MLflow's own
/// upgrade to compare with.
fn half_migrated(dialect: Dialect, parent: &str, rev: &str, n: usize) -> (TestDb, TestDb) {
    let db = reference_at(dialect, Project::Mlflow, parent);
    let twin = db.copy_to_new();
    python_upgrade_killed_after(&db, rev, n);
    (db, twin)
}

fn refused_then_adopted((db, twin): &(TestDb, TestDb), rev: &str, applied: usize, next: &str) {
    let before = ours(db);
    let out = run(&["upgrade", "--quiet", &db.our_url()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("part-way through revision {rev}"))
            && stderr.contains(&format!("the first {applied} of its")),
        "{stderr}"
    );
    assert!(stderr.contains(next), "names the next statement: {stderr}");
    assert!(stderr.contains("--adopt-partial"), "{stderr}");
    assert!(!stderr.trim().contains('\n'), "one paragraph: {stderr}");
    assert_eq!(ours(db), before, "the refused run changed the database");

    ok(&run(&[
        "upgrade",
        "--quiet",
        "--adopt-partial",
        &db.our_url(),
    ]));
    assert_matches_python_upgrade_of(
        db,
        twin,
        &format!("{rev} adopted after {applied} statements"),
    );
}

#[test]
fn mariadb_killed_inside_a_revision_is_named_and_finished_with_adopt_partial() {
    // 7f2a7d5fae7d creates datasets (and two indexes), inputs (two indexes), input_tags:
    // MLflow's upgrade dies after the datasets table and its first index — which of the two
    // SQLAlchemy creates first changes from run to run (a Python set), so the next statement
    // is the CREATE INDEX of the other one.
    let dbs = half_migrated(Dialect::MariaDb, "3500859a5d39", "7f2a7d5fae7d", 2);
    let made = dbs.0.run_sql_script("SHOW INDEX FROM datasets;").unwrap();
    let [first, second] = [
        "index_datasets_dataset_uuid",
        "index_datasets_experiment_id_dataset_source_type",
    ];
    let missing = match (made.contains(first), made.contains(second)) {
        (true, false) => second,
        (false, true) => first,
        _ => panic!("MLflow's upgrade should have made one of the two indexes:\n{made}"),
    };
    refused_then_adopted(&dbs, "7f2a7d5fae7d", 2, &format!("CREATE INDEX {missing}"));
}

#[test]
fn mariadb_killed_between_dropping_and_recreating_a_primary_key_is_finished() {
    // 451aebb31d03 adds metrics.step, drops the primary key and creates metric_pk: the
    // upgrade dies with the table keyless.
    let dbs = half_migrated(Dialect::MariaDb, "initial", "451aebb31d03", 2);
    refused_then_adopted(
        &dbs,
        "451aebb31d03",
        2,
        "ALTER TABLE metrics ADD CONSTRAINT metric_pk PRIMARY KEY",
    );
}

#[test]
fn sqlite_killed_after_the_batch_copy_table_is_finished_instead_of_table_already_exists() {
    // cfd24bdc0731 rebuilds runs: CREATE TABLE _alembic_tmp_runs commits on its own, the copy
    // and the swap do not happen — the state behind MLflow users' "table _alembic_tmp_runs
    // already exists".
    let dbs = half_migrated(Dialect::Sqlite, "2b4d017a5e9b", "cfd24bdc0731", 1);
    refused_then_adopted(&dbs, "cfd24bdc0731", 1, "INSERT INTO _alembic_tmp_runs");
}
