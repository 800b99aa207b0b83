//! The reference harness itself, before anything is compared with it: throw-away databases on
//! SQLite, PostgreSQL and MariaDB, databases built by the real tooling, their reflection, and
//! the readable comparison. Conformance tests of our own migrations rest on these.
//!
//! Expected values come from the real thing (`mlflow db upgrade`), from MLflow's documented
//! initial schema (five tables, no revision yet), or from databases written here with the
//! databases' own clients.

mod support;

use serde_json::{json, Value};
use support::db::{Dialect, TestDb};
use support::reference_db::{
    build_reference, mlflow_chain, reference_at, reference_reflection, reflect, rows, Project,
    ReferenceLadder, INITIAL,
};
use support::schema_diff::{assert_same_schema, schema_differences};

fn table_names(reflection: &Value) -> Vec<String> {
    reflection["tables"]
        .as_object()
        .expect("tables")
        .keys()
        .cloned()
        .collect()
}

// (a) ------------------------------------------------------------------------------------------

/// `mlflow db upgrade` on an empty database first creates the initial models: five tables,
/// and no alembic_version yet.
fn initial_mlflow_schema_is_five_tables_and_no_version(dialect: Dialect) {
    let db = TestDb::new(dialect);
    build_reference(
        &db,
        Project::Mlflow,
        &Project::Mlflow.scripts_dir(),
        INITIAL,
    );
    let reflection = reflect(&db, "alembic_version");
    let sqlalchemy_name = match dialect {
        Dialect::MariaDb => "mysql".to_string(),
        other => other.to_string(),
    };
    assert_eq!(reflection["dialect"], sqlalchemy_name.as_str());
    assert_eq!(
        table_names(&reflection),
        ["experiments", "metrics", "params", "runs", "tags"]
    );
    assert_eq!(reflection["versions"], json!([]));
}

#[test]
fn initial_mlflow_schema_is_five_tables_and_no_version_on_sqlite() {
    initial_mlflow_schema_is_five_tables_and_no_version(Dialect::Sqlite);
}

#[test]
fn initial_mlflow_schema_is_five_tables_and_no_version_on_postgres() {
    initial_mlflow_schema_is_five_tables_and_no_version(Dialect::Postgres);
}

#[test]
fn initial_mlflow_schema_is_five_tables_and_no_version_on_mariadb() {
    initial_mlflow_schema_is_five_tables_and_no_version(Dialect::MariaDb);
}

// (b) ------------------------------------------------------------------------------------------

/// Our build at `heads` is what `mlflow db upgrade URL` makes, and a copy of that database
/// (how the ladder branches reference databases) reflects and reads the same.
fn build_at_heads_equals_mlflow_db_upgrade(dialect: Dialect) {
    let ours = TestDb::new(dialect);
    build_reference(
        &ours,
        Project::Mlflow,
        &Project::Mlflow.scripts_dir(),
        "heads",
    );

    let cli = TestDb::new(dialect);
    let mlflow = support::ref_python().with_file_name("mlflow");
    let out = support::reference_db::reference_command(&mlflow)
        .args(["db", "upgrade", &cli.sqlalchemy_url()])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", mlflow.display()));
    assert!(
        out.status.success(),
        "mlflow db upgrade failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let expected = reflect(&cli, "alembic_version");
    let head = mlflow_chain(Project::Mlflow)
        .last()
        .cloned()
        .expect("a head");
    assert_eq!(expected["versions"], json!([head]));
    assert_same_schema(
        &expected,
        &reflect(&ours, "alembic_version"),
        &format!("heads, {dialect}"),
    );

    let copy = cli.copy_to_new();
    assert_same_schema(
        &expected,
        &reflect(&copy, "alembic_version"),
        &format!("copy at heads, {dialect}"),
    );
    assert_eq!(rows(&copy), rows(&cli), "a copy holds the same rows");
}

#[test]
fn build_at_heads_equals_mlflow_db_upgrade_on_sqlite() {
    build_at_heads_equals_mlflow_db_upgrade(Dialect::Sqlite);
}

#[test]
fn build_at_heads_equals_mlflow_db_upgrade_on_postgres() {
    build_at_heads_equals_mlflow_db_upgrade(Dialect::Postgres);
}

#[test]
fn build_at_heads_equals_mlflow_db_upgrade_on_mariadb() {
    build_at_heads_equals_mlflow_db_upgrade(Dialect::MariaDb);
}

/// The ladder's databases equal direct builds, walking forwards and then back (which restarts
/// from the nearest copy below); MLflow's auth project, whose chain is short.
#[test]
fn ladder_copies_equal_direct_builds() {
    let dialect = Dialect::Sqlite;
    let project = Project::MlflowAuth;
    let mut ladder = ReferenceLadder::mlflow(dialect, project);
    let chain = ladder.chain().to_vec();
    assert!(chain.len() >= 3, "the auth chain is {chain:?}");
    for rev in [chain[2].as_str(), chain[0].as_str(), INITIAL] {
        let direct = TestDb::new(dialect);
        build_reference(&direct, project, &project.scripts_dir(), rev);
        let expected = reflect(&direct, project.version_table());
        assert_same_schema(
            &expected,
            &ladder.reflection(rev),
            &format!("ladder reflection at {rev}"),
        );
        let copy = ladder.at(rev);
        assert_same_schema(
            &expected,
            &reflect(&copy, project.version_table()),
            &format!("ladder copy at {rev}"),
        );
    }
    assert_eq!(ladder.parent(&chain[0]), INITIAL);
    assert_eq!(ladder.parent(&chain[1]), chain[0]);
}

// (c) ------------------------------------------------------------------------------------------

fn sqlite_reflection(script: &str) -> Value {
    let db = TestDb::sqlite();
    db.run_sql_script(script).expect("the script runs");
    reflect(&db, "alembic_version")
}

const RUNS: &str =
    "CREATE TABLE experiments (experiment_id INTEGER PRIMARY KEY, name VARCHAR(256));
CREATE TABLE runs (
    run_uuid VARCHAR(32) NOT NULL,
    status VARCHAR(20) NOT NULL,
    experiment_id INTEGER REFERENCES experiments (experiment_id),
    CONSTRAINT run_pk PRIMARY KEY (run_uuid),
    CHECK (status IN ('RUNNING', 'FINISHED'))
);";

#[test]
fn schema_diff_is_one_line_naming_the_column_whose_nullability_differs() {
    let expected = sqlite_reflection(RUNS);
    let actual =
        sqlite_reflection(&RUNS.replace("status VARCHAR(20) NOT NULL", "status VARCHAR(20)"));
    assert_eq!(
        schema_differences(&expected, &actual),
        ["table runs, column status, nullable: expected false, got true"]
    );

    let failure = std::panic::catch_unwind(|| {
        assert_same_schema(&expected, &actual, "revision abc123, sqlite")
    })
    .expect_err("different schemas must fail");
    let message = failure
        .downcast_ref::<String>()
        .expect("a formatted panic message");
    assert!(message.contains("revision abc123, sqlite"), "{message}");
    assert!(
        message.contains("table runs, column status, nullable"),
        "{message}"
    );
    assert!(
        message.lines().count() <= 3,
        "one line per difference:\n{message}"
    );
}

#[test]
fn schema_diff_names_missing_tables_constraints_and_column_order() {
    let expected = sqlite_reflection(RUNS);
    let actual = sqlite_reflection(
        "CREATE TABLE runs (
            status VARCHAR(20) NOT NULL,
            run_uuid VARCHAR(32) NOT NULL,
            experiment_id INTEGER,
            CONSTRAINT run_pk PRIMARY KEY (run_uuid)
        );",
    );
    let differences = schema_differences(&expected, &actual);
    let expect_line = |prefix: &str| {
        assert!(
            differences.iter().any(|line| line.starts_with(prefix)),
            "no line starting {prefix:?} in:\n{}",
            differences.join("\n")
        )
    };
    expect_line("table experiments: missing");
    expect_line(
        "table runs, check constraint (unnamed) CHECK (status IN ('RUNNING','FINISHED')): missing",
    );
    expect_line(
        "table runs, foreign key (unnamed) (experiment_id) -> experiments(experiment_id): missing",
    );
    expect_line("table runs, column order: expected [run_uuid, status, experiment_id], got [status, run_uuid, experiment_id]");
    assert_eq!(differences.len(), 4, "{}", differences.join("\n"));
}

// (d) ------------------------------------------------------------------------------------------

/// A script stops at its first error, which comes back with the client's own message; what
/// ran before it stays, what follows does not run. Output is rows of tab-separated fields.
fn run_sql_script_stops_at_the_first_error(dialect: Dialect, message: &str) {
    let db = TestDb::new(dialect);
    let err = db
        .run_sql_script("CREATE TABLE a (x INTEGER);\nSELECT * FROM no_such_table;\nCREATE TABLE b (x INTEGER);\n")
        .expect_err("a missing table is an error");
    assert!(
        err.contains(message),
        "{dialect}: {err:?} does not contain {message:?}"
    );
    assert_eq!(
        db.run_sql_script("INSERT INTO a VALUES (7);\nSELECT x, 'y' FROM a;")
            .as_deref(),
        Ok("7\ty\n")
    );
    assert!(
        db.run_sql_script("SELECT * FROM b;").is_err(),
        "{dialect}: the script went on after its error"
    );
}

#[test]
fn run_sql_script_stops_at_the_first_error_on_sqlite() {
    run_sql_script_stops_at_the_first_error(Dialect::Sqlite, "no such table: no_such_table");
}

#[test]
fn run_sql_script_stops_at_the_first_error_on_postgres() {
    run_sql_script_stops_at_the_first_error(
        Dialect::Postgres,
        "relation \"no_such_table\" does not exist",
    );
}

#[test]
fn run_sql_script_stops_at_the_first_error_on_mariadb() {
    run_sql_script_stops_at_the_first_error(Dialect::MariaDb, "no_such_table' doesn't exist");
}

// rows -----------------------------------------------------------------------------------------

/// Row dumps keep what plain JSON would lose: NaN and infinities, bytes; rows in key order.
#[test]
fn rows_keep_nan_infinity_and_bytes_in_key_order() {
    let db = TestDb::postgres();
    db.run_sql_script(
        "CREATE TABLE m (id INTEGER PRIMARY KEY, v DOUBLE PRECISION, b BYTEA, note TEXT);
         INSERT INTO m VALUES (10, 'NaN', '\\x00ff', NULL), (2, '-Infinity', NULL, 'two'), (3, 0.5, NULL, '');",
    )
    .expect("the script runs");
    assert_eq!(
        rows(&db)["m"],
        json!({
            "columns": ["id", "v", "b", "note"],
            "primary_key": ["id"],
            "rows": [
                [2, {"float": "-inf"}, null, "two"],
                [3, {"float": "0.5"}, null, ""],
                [10, {"float": "nan"}, {"hex": "00ff"}, null],
            ],
        })
    );
}

/// The process-wide reference hands out copies: changing one leaves the next untouched.
#[test]
fn shared_reference_hands_out_independent_copies() {
    let (dialect, project) = (Dialect::Sqlite, Project::MlflowAuth);
    let rev = mlflow_chain(project)[1].clone();
    let first = reference_at(dialect, project, &rev);
    first
        .run_sql_script("CREATE TABLE scribble (x INTEGER);")
        .expect("the copy is writable");
    let second = reference_at(dialect, project, &rev);
    let expected = reference_reflection(dialect, project, &rev);
    assert_eq!(expected["versions"], json!([rev]));
    assert_same_schema(
        &expected,
        &reflect(&second, project.version_table()),
        "second copy",
    );
    assert!(
        table_names(&reflect(&first, project.version_table())).contains(&"scribble".to_string())
    );
}
