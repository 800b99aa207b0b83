//! Databases shared with other applications: MLflow's tracking and auth stores in one
//! database, in either order, and an application's own tables beside MLflow's.
//!
//! What MLflow does, found with the reference environment: its auth store (`migrate_if_needed`)
//! creates its tables and `alembic_version_auth` beside whatever the database holds; its
//! tracking server (`SqlAlchemyStore`) creates the initial tables and upgrades whenever one of
//! its own tables is missing, whatever else is there; `mlflow db upgrade` does that only on a
//! database holding nothing but `alembic_*` tables, and otherwise runs Alembic from base
//! without the initial tables, which fails ("no such table: metrics"). We do as the tracking
//! server does, for `upgrade` too: a database with none of this project's tables starts from
//! scratch, and the other tables are left alone. The references here are built the way MLflow
//! builds them in each case, and compared with ours.

mod support;

use std::process::{Command, Output};

use serde_json::Value;
use support::cli::{assert_matches_python_upgrade_of, assert_mlflow_accepts, ok, JOURNAL};
use support::db::{Dialect, TestDb};
use support::reference_db::{
    build_reference, mlflow_chain, reference_at, reflect, try_build_reference, Project,
};
use support::schema_diff::schema_differences;

const AUTH_VERSION_TABLE: &str = "alembic_version_auth";

/// Another application's tables: rows, an index, and a foreign key between its own tables.
const FOREIGN_TABLES: &str = "
CREATE TABLE app_teams (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(40) NOT NULL);
CREATE TABLE app_users (
    id INTEGER NOT NULL PRIMARY KEY,
    team_id INTEGER,
    email VARCHAR(120) NOT NULL,
    CONSTRAINT fk_app_users_team FOREIGN KEY (team_id) REFERENCES app_teams (id)
);
CREATE INDEX ix_app_users_email ON app_users (email);
INSERT INTO app_teams (id, name) VALUES (1, 'ops'), (2, 'research');
INSERT INTO app_users (id, team_id, email) VALUES
    (1, 1, 'a@example.com'), (2, 2, 'b@example.com'), (3, NULL, 'c@example.com');
";

/// `mlflow-migrate --project mlflow upgrade URL`.
fn tracking_upgrade(db: &TestDb) -> Output {
    support::cli::run(&["upgrade", "--quiet", &db.our_url()])
}

/// `mlflow-migrate --project mlflow-auth upgrade URL`.
fn auth_upgrade(db: &TestDb) -> Output {
    support::mlflow_migrate()
        .args(["--project", "mlflow-auth", "--scripts"])
        .arg(support::mlflow_auth_scripts_dir())
        .args(["upgrade", "--quiet", &db.our_url()])
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// What MLflow's tracking server does at start (`SqlAlchemyStore.__init__`): when one of its
/// tables is missing, the initial tables, then Alembic's upgrade to the head.
fn try_mlflow_tracking_server_start(db: &TestDb) -> Output {
    let artifacts = tempfile::tempdir().unwrap();
    support::reference_db::reference_command(&support::ref_python())
        .args([
            "-c",
            "import sys; from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore; \
             SqlAlchemyStore(sys.argv[1], sys.argv[2])",
        ])
        .arg(db.sqlalchemy_url())
        .arg(artifacts.path())
        .output()
        .unwrap()
}

fn mlflow_tracking_server_start(db: &TestDb) {
    let out = try_mlflow_tracking_server_start(db);
    assert!(
        out.status.success(),
        "MLflow's tracking server did not start on {db:?}:\n{}",
        stderr(&out)
    );
}

/// What MLflow's auth store does at start (`migrate_if_needed`): Alembic's upgrade of the auth
/// project to its head.
fn mlflow_auth_start(db: &TestDb) {
    build_reference(
        db,
        Project::MlflowAuth,
        &support::mlflow_auth_scripts_dir(),
        "heads",
    );
}

/// The whole database's reflection (both projects' tables and versions, any other table),
/// without our journal.
fn whole(db: &TestDb) -> Value {
    let mut v = reflect(db, "alembic_version");
    v["auth_versions"] = reflect(db, AUTH_VERSION_TABLE)["versions"].clone();
    if let Some(tables) = v.get_mut("tables").and_then(Value::as_object_mut) {
        tables.remove(JOURNAL);
    }
    v
}

fn assert_same(expected: &Value, actual: &Value, context: &str) {
    let diff = schema_differences(expected, actual);
    assert!(diff.is_empty(), "{context}:\n  {}", diff.join("\n  "));
}

/// MLflow accepts both projects in the database: the tracking server's schema check passes
/// and `mlflow db upgrade` changes nothing; the auth store's start-up upgrade changes nothing.
fn assert_mlflow_accepts_both(db: &TestDb, context: &str) {
    assert_mlflow_accepts(db, context);
    let before = whole(db);
    mlflow_auth_start(db);
    assert_same(
        &before,
        &whole(db),
        &format!("{context}: MLflow's auth start-up changed the database"),
    );
}

/// The other application's tables as the server's own dump tool writes them, definitions and
/// rows: `sqlite3 .dump`, `pg_dump`, `mysqldump`.
fn foreign_dump(db: &TestDb) -> String {
    let out = match db.dialect() {
        Dialect::Sqlite => {
            return db
                .run_sql_script(".dump app_teams app_users\n")
                .expect("sqlite3 .dump");
        }
        Dialect::Postgres => Command::new("pg_dump")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                "5432",
                "-U",
                "postgres",
                "--no-owner",
            ])
            // A fixed key for the `\restrict` line pg_dump otherwise draws at random.
            .arg("--restrict-key=aetsharedtest")
            .args(["-t", "app_teams", "-t", "app_users", "-d", &db.name()])
            .output()
            .unwrap(),
        Dialect::MariaDb => Command::new("mysqldump")
            .args([
                "-h",
                "127.0.0.1",
                "-P",
                "3306",
                "-u",
                "root",
                "--skip-dump-date",
            ])
            .args([&db.name(), "app_teams", "app_users"])
            .output()
            .unwrap(),
    };
    assert!(out.status.success(), "dump failed: {}", stderr(&out));
    let dump = String::from_utf8(out.stdout).unwrap();
    assert!(
        dump.contains("ix_app_users_email") && dump.contains("b@example.com"),
        "the dump misses the index or the rows:\n{dump}"
    );
    dump
}

fn add_foreign_tables(db: &TestDb) {
    db.run_sql_script(FOREIGN_TABLES)
        .unwrap_or_else(|e| panic!("cannot create the foreign tables on {db:?}: {e}"));
}

// ---------------------------------------------------------------------------------------------
// Tracking and auth in one database

/// Tracking first (`mlflow db upgrade` on an empty database), then the auth store: ours equals
/// MLflow's, and MLflow accepts it.
fn tracking_then_auth_equals_mlflows(dialect: Dialect) {
    let db = TestDb::new(dialect);
    ok(&tracking_upgrade(&db));
    ok(&auth_upgrade(&db));

    let reference = TestDb::new(dialect);
    assert!(support::cli::mlflow_db_upgrade(&reference).status.success());
    mlflow_auth_start(&reference);
    let expected = whole(&reference);
    assert_eq!(expected["auth_versions"].as_array().map(Vec::len), Some(1));
    assert_same(&expected, &whole(&db), "tracking, then auth");
    assert_mlflow_accepts_both(&db, "tracking, then auth");
}

#[test]
fn sqlite_tracking_then_auth_in_one_database_equals_mlflows() {
    tracking_then_auth_equals_mlflows(Dialect::Sqlite);
}

#[test]
fn postgres_tracking_then_auth_in_one_database_equals_mlflows() {
    tracking_then_auth_equals_mlflows(Dialect::Postgres);
}

/// Auth first, then tracking: `mlflow db upgrade` fails there (the database is not empty, so
/// it skips the initial tables); MLflow's tracking server creates them and upgrades. Ours
/// equals the server's, and MLflow accepts it.
fn auth_then_tracking_equals_mlflow_tracking_servers(dialect: Dialect) {
    let db = TestDb::new(dialect);
    ok(&auth_upgrade(&db));
    ok(&tracking_upgrade(&db));

    let reference = TestDb::new(dialect);
    mlflow_auth_start(&reference);
    let refused = reference.copy_to_new();
    assert!(
        !support::cli::mlflow_db_upgrade(&refused).status.success(),
        "mlflow db upgrade now handles a database holding the auth tables: follow it"
    );
    mlflow_tracking_server_start(&reference);
    assert_same(&whole(&reference), &whole(&db), "auth, then tracking");
    assert_mlflow_accepts_both(&db, "auth, then tracking");
}

#[test]
fn sqlite_auth_then_tracking_in_one_database_equals_mlflow_tracking_servers() {
    auth_then_tracking_equals_mlflow_tracking_servers(Dialect::Sqlite);
}

#[test]
fn postgres_auth_then_tracking_in_one_database_equals_mlflow_tracking_servers() {
    auth_then_tracking_equals_mlflow_tracking_servers(Dialect::Postgres);
}

/// MariaDB cannot hold MLflow's auth tables (two foreign keys named `fk_user_id`; InnoDB
/// names them per database), beside the tracking tables or not: Python fails halfway, we
/// refuse for that reason — not for the tracking tables — before changing anything.
#[test]
fn mariadb_auth_beside_tracking_is_refused_for_its_foreign_key_names_as_python_fails() {
    let db = TestDb::mariadb();
    ok(&tracking_upgrade(&db));
    let twin = db.copy_to_new();
    let before = whole(&db);

    let out = auth_upgrade(&db);
    let message = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{message}");
    assert!(
        message.contains("fk_user_id") && message.contains("8606fa83a998"),
        "refused for another reason: {message}"
    );
    assert_same(&before, &whole(&db), "after the refusal");

    let python = try_build_reference(
        &twin,
        Project::MlflowAuth,
        &support::mlflow_auth_scripts_dir(),
        "heads",
    );
    let traceback = python.expect_err("Python created MLflow's auth tables on MariaDB after all");
    assert!(
        traceback.contains("Duplicate key on write or update"),
        "Python failed otherwise: {traceback}"
    );
}

// ---------------------------------------------------------------------------------------------
// Another application's tables

/// From a database holding only another application's tables: MLflow's tables are created
/// and upgraded as MLflow's tracking server does it (`mlflow db upgrade` fails there), and the
/// other tables are left exactly as they were, definitions and rows.
fn foreign_tables_survive_a_tracking_upgrade_from_empty(dialect: Dialect) {
    let db = TestDb::new(dialect);
    add_foreign_tables(&db);
    let dump = foreign_dump(&db);
    let reference = db.copy_to_new();

    ok(&tracking_upgrade(&db));
    assert_eq!(dump, foreign_dump(&db), "the foreign tables changed");

    let refused = reference.copy_to_new();
    assert!(
        !support::cli::mlflow_db_upgrade(&refused).status.success(),
        "mlflow db upgrade now handles a database holding other tables: follow it"
    );
    mlflow_tracking_server_start(&reference);
    assert_same(&whole(&reference), &whole(&db), "beside foreign tables");
    assert_mlflow_accepts(&db, "beside foreign tables");
}

#[test]
fn sqlite_foreign_tables_are_left_byte_identical_by_a_tracking_upgrade_from_empty() {
    foreign_tables_survive_a_tracking_upgrade_from_empty(Dialect::Sqlite);
}

#[test]
fn postgres_foreign_tables_are_left_byte_identical_by_a_tracking_upgrade_from_empty() {
    foreign_tables_survive_a_tracking_upgrade_from_empty(Dialect::Postgres);
}

#[test]
fn mariadb_foreign_tables_are_left_byte_identical_by_a_tracking_upgrade_from_empty() {
    foreign_tables_survive_a_tracking_upgrade_from_empty(Dialect::MariaDb);
}

/// What a failed `mlflow db upgrade` leaves beside another application's tables (on SQLite,
/// an empty `alembic_version`): upgraded as the tracking server upgrades it.
#[test]
fn foreign_tables_after_mlflow_db_upgrade_failed_on_them_are_upgraded_as_the_server_does() {
    let db = TestDb::sqlite();
    add_foreign_tables(&db);
    let dump = foreign_dump(&db);
    assert!(!support::cli::mlflow_db_upgrade(&db).status.success());
    assert!(
        whole(&db)["tables"].get("alembic_version").is_some(),
        "mlflow db upgrade no longer leaves its version table behind: the case is gone"
    );
    let reference = db.copy_to_new();

    ok(&tracking_upgrade(&db));
    assert_eq!(dump, foreign_dump(&db), "the foreign tables changed");
    mlflow_tracking_server_start(&reference);
    assert_same(&whole(&reference), &whole(&db), "after the failed upgrade");
    assert_mlflow_accepts(&db, "after the failed upgrade");
}

/// Python Alembic's MLflow database at an older revision, with another application's tables
/// added: they are not drift, the upgrade equals MLflow's own of the same database, and they
/// are left exactly as they were.
fn foreign_tables_survive_a_tracking_upgrade_from_an_older_revision(dialect: Dialect) {
    let chain = mlflow_chain(Project::Mlflow);
    let older = &chain[chain.len() / 2];
    let db = reference_at(dialect, Project::Mlflow, older);
    add_foreign_tables(&db);
    let dump = foreign_dump(&db);
    let twin = db.copy_to_new();

    ok(&tracking_upgrade(&db));
    assert_eq!(dump, foreign_dump(&db), "the foreign tables changed");
    assert_matches_python_upgrade_of(&db, &twin, &format!("from {older}"));
    assert_mlflow_accepts(&db, &format!("from {older}"));
}

#[test]
fn sqlite_foreign_tables_are_left_byte_identical_by_an_upgrade_from_an_older_revision() {
    foreign_tables_survive_a_tracking_upgrade_from_an_older_revision(Dialect::Sqlite);
}

#[test]
fn postgres_foreign_tables_are_left_byte_identical_by_an_upgrade_from_an_older_revision() {
    foreign_tables_survive_a_tracking_upgrade_from_an_older_revision(Dialect::Postgres);
}

#[test]
fn mariadb_foreign_tables_are_left_byte_identical_by_an_upgrade_from_an_older_revision() {
    foreign_tables_survive_a_tracking_upgrade_from_an_older_revision(Dialect::MariaDb);
}

/// The auth store beside another application's tables: created as MLflow's auth start-up
/// creates it, the other tables left exactly as they were.
fn foreign_tables_survive_an_auth_upgrade(dialect: Dialect) {
    let db = TestDb::new(dialect);
    add_foreign_tables(&db);
    let dump = foreign_dump(&db);
    let reference = db.copy_to_new();

    ok(&auth_upgrade(&db));
    assert_eq!(dump, foreign_dump(&db), "the foreign tables changed");
    mlflow_auth_start(&reference);
    assert_same(
        &whole(&reference),
        &whole(&db),
        "auth beside foreign tables",
    );
}

#[test]
fn sqlite_foreign_tables_are_left_byte_identical_by_an_auth_upgrade() {
    foreign_tables_survive_an_auth_upgrade(Dialect::Sqlite);
}

#[test]
fn postgres_foreign_tables_are_left_byte_identical_by_an_auth_upgrade() {
    foreign_tables_survive_an_auth_upgrade(Dialect::Postgres);
}

/// Another application's index (SQLite, PostgreSQL) or foreign key (MariaDB) under a name
/// MLflow gives one of its own, where the database allows a name once: MLflow's server fails
/// at that statement; we refuse before anything runs, naming both.
fn a_taken_name_is_refused_before_any_change(dialect: Dialect) {
    let db = TestDb::new(dialect);
    add_foreign_tables(&db);
    let (name, ours, sql) = match dialect {
        Dialect::MariaDb => (
            "fk_endpoint_tags_endpoint_id",
            "endpoint_tags",
            "CREATE TABLE app_badges (id INTEGER NOT NULL PRIMARY KEY, user_id INTEGER, \
             CONSTRAINT fk_endpoint_tags_endpoint_id FOREIGN KEY (user_id) REFERENCES app_users (id));",
        ),
        _ => (
            "index_params_run_uuid",
            "params",
            "CREATE INDEX index_params_run_uuid ON app_users (team_id);",
        ),
    };
    db.run_sql_script(sql).unwrap();
    let before = whole(&db);
    let twin = db.copy_to_new();

    let out = tracking_upgrade(&db);
    let message = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{message}");
    assert!(
        message.contains(&format!("{name} on it is named like the one"))
            && message.contains(&format!("creates on {ours}")),
        "{message}"
    );
    assert_same(&before, &whole(&db), "after the refusal");

    let python = try_mlflow_tracking_server_start(&twin);
    let traceback = stderr(&python);
    assert!(
        !python.status.success(),
        "MLflow's tracking server started beside {name} after all"
    );
    assert!(
        traceback.contains(name) || traceback.contains("Duplicate key on write or update"),
        "MLflow's tracking server failed for another reason: {traceback}"
    );
}

#[test]
fn sqlite_a_foreign_index_under_an_mlflow_index_name_is_refused_before_any_change() {
    a_taken_name_is_refused_before_any_change(Dialect::Sqlite);
}

#[test]
fn postgres_a_foreign_index_under_an_mlflow_index_name_is_refused_before_any_change() {
    a_taken_name_is_refused_before_any_change(Dialect::Postgres);
}

#[test]
fn mariadb_a_foreign_key_under_an_mlflow_foreign_key_name_is_refused_before_any_change() {
    a_taken_name_is_refused_before_any_change(Dialect::MariaDb);
}

// ---------------------------------------------------------------------------------------------
// Drift

/// `mlflow-migrate upgrade <rev>`: ours, to an older revision.
fn tracking_upgrade_to(db: &TestDb, rev: &str) {
    ok(&support::cli::run(&[
        "upgrade",
        "--quiet",
        &db.our_url(),
        rev,
    ]));
}

fn version_rows(db: &TestDb) -> Value {
    reflect(db, "alembic_version")["versions"].clone()
}

/// Another application's table is not drift, even one whose columns look like an MLflow
/// table's; an MLflow table changed outside the migrations still is, and the refusal names it
/// alone.
#[test]
fn a_foreign_table_is_not_drift_but_a_changed_mlflow_table_is() {
    let chain = mlflow_chain(Project::Mlflow);
    let older = chain[chain.len() - 5].clone();
    let db = TestDb::sqlite();
    tracking_upgrade_to(&db, &older);
    add_foreign_tables(&db);
    db.run_sql_script("CREATE TABLE app_experiments AS SELECT * FROM experiments;")
        .unwrap();
    let drifted = db.copy_to_new();

    ok(&tracking_upgrade(&db));
    assert_eq!(
        version_rows(&db),
        serde_json::json!([chain.last().unwrap()])
    );

    drifted
        .run_sql_script("ALTER TABLE experiments ADD COLUMN app_note VARCHAR(20);")
        .unwrap();
    let before = whole(&drifted);
    let out = tracking_upgrade(&drifted);
    let message = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{message}");
    assert!(
        message.contains("column experiments.app_note is unexpected"),
        "{message}"
    );
    assert!(!message.contains("app_users") && !message.contains("app_experiments"));
    assert_same(&before, &whole(&drifted), "after the refusal");
}

/// A database that holds no version row but does hold tables this project creates was not
/// left by another application alone: the auth project (which starts from an empty database)
/// refuses it and names the table, changing nothing.
#[test]
fn auth_tables_without_a_version_row_are_refused_by_name() {
    let db = TestDb::sqlite();
    add_foreign_tables(&db);
    db.run_sql_script("CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY);")
        .unwrap();
    let before = whole(&db);
    let out = auth_upgrade(&db);
    let message = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{message}");
    assert!(
        message.contains("table users, which its revisions create, is already there"),
        "{message}"
    );
    assert!(!message.contains("app_users"), "{message}");
    assert_same(&before, &whole(&db), "after the refusal");
}

/// An auth database from before MLflow 3.6 (its tables, no `alembic_version_auth`): MLflow's
/// auth store stamps its first revision there and upgrades. We refuse, naming the tables, and
/// `stamp 8606fa83a998` then `upgrade` gives MLflow's result.
#[test]
fn a_legacy_auth_database_is_refused_and_stamping_its_first_revision_upgrades_it_as_mlflow_does() {
    let first = mlflow_chain(Project::MlflowAuth)[0].clone();
    assert_eq!(
        first, "8606fa83a998",
        "MLflow's auth project starts elsewhere now"
    );
    let db = reference_at(Dialect::Sqlite, Project::MlflowAuth, &first);
    db.run_sql_script(&format!("DROP TABLE {AUTH_VERSION_TABLE};"))
        .unwrap();
    let before = whole(&db);
    let out = auth_upgrade(&db);
    let message = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{message}");
    assert!(
        message.contains("users")
            && message.contains("which its revisions create, are already there"),
        "{message}"
    );
    assert_same(&before, &whole(&db), "after the refusal");

    let stamp = support::mlflow_migrate()
        .args(["--project", "mlflow-auth", "--scripts"])
        .arg(support::mlflow_auth_scripts_dir())
        .args(["stamp", &db.our_url(), &first])
        .output()
        .unwrap();
    ok(&stamp);
    ok(&auth_upgrade(&db));
    let expected =
        support::reference_db::reference_reflection(Dialect::Sqlite, Project::MlflowAuth, "heads");
    let mut ours = reflect(&db, AUTH_VERSION_TABLE);
    ours["tables"].as_object_mut().unwrap().remove(JOURNAL);
    assert_same(&expected, &ours, "stamped, then upgraded");
}

/// Another application's table under the name a later revision gives one of MLflow's tables:
/// refused before anything runs (MLflow's own upgrade would fail at that revision's CREATE
/// TABLE, after the revisions before it).
#[test]
fn a_foreign_table_named_like_a_later_revisions_table_is_refused_before_any_change() {
    let chain = mlflow_chain(Project::Mlflow);
    let older = chain[chain.len() - 3].clone();
    let db = TestDb::sqlite();
    tracking_upgrade_to(&db, &older);
    // The head revision creates `job_locks`; two revisions lie between.
    db.run_sql_script("CREATE TABLE job_locks (app_id INTEGER PRIMARY KEY);")
        .unwrap();
    let before = whole(&db);
    let out = tracking_upgrade(&db);
    let message = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{message}");
    assert!(
        message.contains("table job_locks is there though a later revision creates it"),
        "{message}"
    );
    assert_same(&before, &whole(&db), "after the refusal");
}
