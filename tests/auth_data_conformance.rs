//! MLflow's auth migration of legacy permissions to roles (`e5f6a7b8c9d0`, served by a
//! set-based recipe) and the prompt promotion after it (`f1a2b3c4d5e6`), on populated
//! databases: a database Python Alembic built at `c3d4e5f6a7b8` is filled with awkward legacy
//! permissions by `tests/support/auth_rows.py`, copied, and upgraded by `mlflow-migrate` on
//! one side and by MLflow's own Alembic run on the other; every table's rows and the schema
//! must be equal, and so after downgrading both again. The recipe's documented exceptions each
//! have a test that provokes them and compares exactly what the exception leaves equal.
//!
//! MySQL/MariaDB cannot hold MLflow's auth tables as Alembic creates them (see
//! `mariadb_conformance.rs`), so there the reference builds them with the clashing foreign key
//! renamed, and the recipe's SQL is compiled by the library and run by the `mysql` client.

mod support;

use alembic_engine::plan::{Initial, Mode};
use std::collections::BTreeMap;
use std::process::Output;

use serde_json::{json, Value};
use support::cli::ok;
use support::db::{Dialect, TestDb};
use support::reference_db::{build_reference, reference_at, reflect, rows, Project};
use support::schema_diff::schema_differences;

const PARENT: &str = "c3d4e5f6a7b8";
const VERSION_TABLE: &str = "alembic_version_auth";
const JOURNAL: &str = "alembic_engine_journal";
const LEGACY_TABLES: [&str; 7] = [
    "workspace_permissions",
    "experiment_permissions",
    "registered_model_permissions",
    "scorer_permissions",
    "gateway_secret_permissions",
    "gateway_endpoint_permissions",
    "gateway_model_definition_permissions",
];

fn auth_scripts() -> std::path::PathBuf {
    support::mlflow_auth_scripts_dir()
}

/// `tests/support/auth_rows.py ARGS` in the reference environment; panics unless it succeeds.
fn auth_rows(args: &[&str]) {
    let out = python_auth_rows(args);
    assert!(
        out.status.success(),
        "auth_rows.py {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn python_auth_rows(args: &[&str]) -> Output {
    let script = support::repo_root().join("tests/support/auth_rows.py");
    support::reference_db::reference_command(&support::ref_python())
        .arg(script)
        .args(args)
        .output()
        .unwrap()
}

/// `mlflow-migrate --project mlflow-auth ARGS`.
fn ours(args: &[&str]) -> Output {
    support::mlflow_migrate()
        .args(["--project", "mlflow-auth", "--scripts"])
        .arg(auth_scripts())
        .args(args)
        .output()
        .unwrap()
}

fn python_upgrade(db: &TestDb, to: &str) {
    build_reference(db, Project::MlflowAuth, &auth_scripts(), to);
}

fn python_downgrade(db: &TestDb, to: &str) {
    let scripts = auth_scripts();
    auth_rows(&[
        "downgrade",
        &db.sqlalchemy_url(),
        scripts.to_str().unwrap(),
        to,
    ]);
}

/// The auth database at the migration's parent, built by Python Alembic and populated.
fn populated(dialect: Dialect, users: usize) -> TestDb {
    let db = reference_at(dialect, Project::MlflowAuth, PARENT);
    auth_rows(&[
        "populate",
        &db.sqlalchemy_url(),
        "--users",
        &users.to_string(),
    ]);
    db
}

/// Every table's rows, without our journal.
fn table_rows(db: &TestDb) -> Value {
    let mut all = rows(db);
    all.as_object_mut().unwrap().remove(JOURNAL);
    all
}

fn schema(db: &TestDb) -> Value {
    let mut v = reflect(db, VERSION_TABLE);
    if let Some(tables) = v.get_mut("tables").and_then(Value::as_object_mut) {
        tables.remove(JOURNAL);
    }
    v
}

/// Equal rows, table by table; a difference is shown as the first rows that differ.
fn assert_same_rows(expected: &Value, actual: &Value, context: &str) {
    let (e, a) = (expected.as_object().unwrap(), actual.as_object().unwrap());
    let names = |m: &serde_json::Map<String, Value>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(e), names(a), "{context}: the tables differ");
    let mut problems = Vec::new();
    for (table, want) in e {
        let got = &a[table];
        if want == got {
            continue;
        }
        let (w, g) = (
            want["rows"].as_array().unwrap(),
            got["rows"].as_array().unwrap(),
        );
        let first = (0..w.len().max(g.len()))
            .find(|&i| w.get(i) != g.get(i))
            .unwrap_or(0);
        problems.push(format!(
            "{table}: {} rows expected, {} found; columns {}; first difference at row {first}: \
             expected {}, found {}",
            w.len(),
            g.len(),
            want["columns"],
            w.get(first).map_or("nothing".into(), Value::to_string),
            g.get(first).map_or("nothing".into(), Value::to_string),
        ));
    }
    assert!(
        problems.is_empty(),
        "{context}:\n  {}",
        problems.join("\n  ")
    );
}

fn assert_same_schema(expected: &TestDb, actual: &TestDb, context: &str) {
    let diff = schema_differences(&schema(expected), &schema(actual));
    assert!(diff.is_empty(), "{context}:\n  {}", diff.join("\n  "));
}

fn column(table: &Value, name: &str) -> usize {
    table["columns"]
        .as_array()
        .unwrap()
        .iter()
        .position(|c| c == name)
        .unwrap_or_else(|| panic!("no column {name} in {}", table["columns"]))
}

/// The rows with the generated ids of roles, user_role_assignments and role_permissions
/// replaced by natural keys: a role by (workspace, name), an assignment by (user, role), a
/// grant by (role, resource type, pattern).
fn modulo_generated_ids(all: &Value) -> Value {
    let mut out = all.clone();
    let roles = &all["roles"];
    let (id, ws, name) = (
        column(roles, "id"),
        column(roles, "workspace"),
        column(roles, "name"),
    );
    let role_key: BTreeMap<String, Value> = roles["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r[id].to_string(), json!([r[ws], r[name]])))
        .collect();
    for table in ["roles", "user_role_assignments", "role_permissions"] {
        let t = &all[table];
        let id = column(t, "id");
        let role = t["columns"]
            .as_array()
            .unwrap()
            .iter()
            .position(|c| c == "role_id");
        let mut rows: Vec<Value> = t["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let mut cells = r.as_array().unwrap().clone();
                if let Some(role) = role {
                    cells[role] = role_key
                        .get(&cells[role].to_string())
                        .cloned()
                        .unwrap_or_else(|| json!(["no such role", cells[role]]));
                }
                cells.remove(id);
                Value::Array(cells)
            })
            .collect();
        rows.sort_by_key(Value::to_string);
        out[table]["rows"] = Value::Array(rows);
    }
    out
}

fn count(all: &Value, table: &str) -> usize {
    all[table]["rows"].as_array().unwrap().len()
}

/// The grants Python wrote include the awkward cases the data is meant to exercise: a scorer
/// name percent-encoded byte by byte, a workspace EDIT fanned out, and something dropped.
fn assert_data_exercises_the_script(python: &Value, before: &Value) {
    let grants = python["role_permissions"].to_string();
    for needle in [
        "emoji%20%F0%9F%98%80",
        "a%2Fb",
        "100%25",
        "\"gateway_model_definition\",\"*\",\"EDIT\"",
    ] {
        assert!(
            grants.contains(needle),
            "no grant with {needle}: the data is too tame"
        );
    }
    let legacy: usize = LEGACY_TABLES.iter().map(|t| count(before, t)).sum();
    assert!(legacy >= 1000, "only {legacy} legacy rows");
    assert!(count(python, "roles") > 100);
}

/// Upgrade a populated database with ours and its copy with Python: the same rows, ids
/// included, and the same schema; then downgrade both to the parent: the same again.
fn ours_equals_python(dialect: Dialect) {
    let db = populated(dialect, 250);
    let before = table_rows(&db);
    let twin = db.copy_to_new();
    ok(&ours(&["upgrade", "--quiet", &db.our_url()]));
    python_upgrade(&twin, "heads");
    let python = table_rows(&twin);
    assert_data_exercises_the_script(&python, &before);
    assert_same_rows(&python, &table_rows(&db), "upgraded to the head");
    assert_same_schema(&twin, &db, "upgraded to the head");

    ok(&ours(&["downgrade", "--quiet", &db.our_url(), PARENT]));
    python_downgrade(&twin, PARENT);
    assert_same_rows(
        &table_rows(&twin),
        &table_rows(&db),
        "downgraded to the parent",
    );
    // The legacy tables were never touched (the script keeps them for a manual rollback).
    let after = table_rows(&db);
    for table in LEGACY_TABLES {
        assert_eq!(before[table], after[table], "{table} changed");
    }
}

#[test]
fn sqlite_roles_from_legacy_permissions_equal_pythons_row_for_row() {
    ours_equals_python(Dialect::Sqlite);
}

#[test]
fn postgres_roles_from_legacy_permissions_equal_pythons_row_for_row() {
    ours_equals_python(Dialect::Postgres);
}

/// MariaDB: the reference builds the auth tables with the second `fk_user_id` renamed (the
/// only way they exist there); our SQL for `c3d4e5f6a7b8` → head is compiled by the library
/// (our planner refuses the project on MySQL as a whole) and run by the `mysql` client.
/// Documented exception: InnoDB numbers an INSERT ... SELECT from batches of AUTO_INCREMENT
/// values and skips the rest, so ids jump between statements; the rows are equal modulo
/// generated ids.
#[test]
fn mariadb_roles_from_legacy_permissions_equal_pythons_modulo_generated_ids() {
    use alembic_engine::dialect::mysql::Mysql;
    use alembic_engine::graph::Lower;
    use alembic_engine::plan::Planner;
    use alembic_engine::schema::SchemaModel;

    let db = TestDb::mariadb();
    let scripts = auth_scripts();
    auth_rows(&[
        "upgrade",
        &db.sqlalchemy_url(),
        scripts.to_str().unwrap(),
        PARENT,
        "--distinct-fk-names",
    ]);
    auth_rows(&["populate", &db.sqlalchemy_url(), "--users", "250"]);
    let before = table_rows(&db);
    let twin = db.copy_to_new();

    let (project, graph) = support::cli::open_project(Project::MlflowAuth);
    let planner = Planner::for_project(
        &project,
        &graph,
        std::sync::Arc::new(Mysql {
            mariadb: true,
            ..Default::default()
        }),
        Mode::Offline,
    )
    .unwrap();
    let parent = vec![PARENT.to_string()];
    let steps = graph
        .upgrade_path(&Lower::Many(parent.clone()), "heads")
        .unwrap();
    let plan = planner
        .plan(&parent, &steps, SchemaModel::default(), Initial::Skip)
        .unwrap();
    db.run_sql_script(&plan.offline_sql())
        .unwrap_or_else(|e| panic!("our SQL failed on MariaDB: {e}"));

    python_upgrade(&twin, "heads");
    let python = table_rows(&twin);
    assert_data_exercises_the_script(&python, &before);
    assert_same_rows(
        &modulo_generated_ids(&python),
        &modulo_generated_ids(&table_rows(&db)),
        "upgraded to the head, modulo generated ids",
    );
}

/// Ours and Python's rows, `populated(dialect, users)` upgraded to the head by us and by
/// the script under `auth_rows.py`'s scan-order switch `scan`: equal modulo generated ids.
fn under_scan_order(dialect: Dialect, users: usize, scan: &str) -> (Value, Value) {
    let db = populated(dialect, users);
    let twin = db.copy_to_new();
    ok(&ours(&["upgrade", "--quiet", &db.our_url()]));
    let scripts = auth_scripts();
    auth_rows(&[
        "upgrade",
        &twin.sqlalchemy_url(),
        scripts.to_str().unwrap(),
        "heads",
        scan,
    ]);
    let (python, ours) = (table_rows(&twin), table_rows(&db));
    assert_same_rows(
        &modulo_generated_ids(&python),
        &modulo_generated_ids(&ours),
        "modulo generated ids",
    );
    (python, ours)
}

/// Documented exception: ids follow the order of a plain full scan of each legacy table.
/// With SQLite told to return unordered SELECTs backwards, the script creates its roles,
/// assignments and grants in another order: ids differ, the rows modulo generated ids do not.
#[test]
fn under_another_scan_order_only_generated_ids_differ_sqlite() {
    let (python, ours) = under_scan_order(Dialect::Sqlite, 120, "--reverse-scan");
    assert_ne!(
        python["roles"], ours["roles"],
        "a reversed scan should have numbered the roles differently"
    );
}

/// The same exception on PostgreSQL: the script's SELECTs planned as parallel scans, whose
/// workers return blocks in no fixed order.
#[test]
fn under_another_scan_order_only_generated_ids_differ_postgres() {
    under_scan_order(Dialect::Postgres, 60, "--parallel-scan");
}

/// Documented exception of the downgrade: roles whose names Python's `\d` matches with
/// non-ASCII digits (`__user_٣__`, `__user_７７__`) are removed by the script and kept by the
/// recipe; every other row — including names matched with a trailing newline, and names that
/// only look synthetic — ends up the same.
#[test]
fn downgrade_keeps_only_the_roles_named_with_non_ascii_digits() {
    let db = populated(Dialect::Sqlite, 40);
    ok(&ours(&["upgrade", "--quiet", &db.our_url()]));
    auth_rows(&["odd-role-names", &db.sqlalchemy_url()]);
    let twin = db.copy_to_new();
    ok(&ours(&["downgrade", "--quiet", &db.our_url(), PARENT]));
    python_downgrade(&twin, PARENT);
    let (python, mut ours) = (table_rows(&twin), table_rows(&db));

    let roles = &ours["roles"];
    let (id, name) = (column(roles, "id"), column(roles, "name"));
    let unicode_digits = ["__user_\u{663}__", "__user_\u{ff17}\u{ff17}__"];
    let kept: Vec<Value> = roles["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| unicode_digits.iter().any(|n| r[name] == *n))
        .map(|r| r[id].clone())
        .collect();
    assert_eq!(kept.len(), 2, "ours keeps exactly those two roles");
    for (table, key) in [("roles", "id"), ("role_permissions", "role_id")] {
        let k = column(&ours[table], key);
        let rows = ours[table]["rows"].as_array_mut().unwrap();
        let len = rows.len();
        rows.retain(|r| !kept.contains(&r[k]));
        assert!(rows.len() < len, "{table} held rows of those roles");
    }
    assert_same_rows(&python, &ours, "downgraded, without those two roles");
}

/// A pre-existing role with the reserved name `__user_<id>__`, held by another user, in a
/// workspace where that user has grants: the script refuses, and so does the recipe, before
/// any change.
#[test]
fn a_reserved_role_name_held_by_another_user_stops_both_before_any_change() {
    let db = populated(Dialect::Sqlite, 40);
    auth_rows(&["taken-role", &db.sqlalchemy_url()]);
    let before = table_rows(&db);
    let twin = db.copy_to_new();

    let out = ours(&["upgrade", "--quiet", &db.our_url()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "ours upgraded anyway");
    assert!(
        stderr.contains("user_role_name_taken_by_another_user"),
        "{stderr}"
    );
    assert_same_rows(&before, &table_rows(&db), "ours after refusing");

    let scripts = auth_scripts();
    let python = python_auth_rows(&[
        "upgrade",
        &twin.sqlalchemy_url(),
        scripts.to_str().unwrap(),
        "heads",
    ]);
    let traceback = String::from_utf8_lossy(&python.stderr);
    assert!(!python.status.success(), "Python upgraded anyway");
    assert!(
        traceback.contains("collides with the reserved"),
        "{traceback}"
    );
    assert_same_rows(&before, &table_rows(&twin), "Python after refusing");
}

/// Tracking and auth in one database: `f1a2b3c4d5e6` turns grants on prompts (models tagged
/// `mlflow.prompt.is_prompt = true` in the tracking tables) into prompt grants. Our plan must
/// see the tracking tables to do the same.
fn shared_database_equals_python(dialect: Dialect) {
    let db = reference_at(dialect, Project::Mlflow, "heads");
    python_upgrade(&db, PARENT);
    auth_rows(&["populate", &db.sqlalchemy_url(), "--users", "30"]);
    auth_rows(&["registry", &db.sqlalchemy_url()]);
    let twin = db.copy_to_new();
    ok(&ours(&["upgrade", "--quiet", &db.our_url()]));
    python_upgrade(&twin, "heads");
    let python = table_rows(&twin);
    assert!(
        python["role_permissions"]
            .to_string()
            .contains("\"prompt\""),
        "Python promoted no grant to a prompt grant: the data is too tame"
    );
    assert_same_rows(
        &python,
        &table_rows(&db),
        "tracking and auth in one database",
    );
    let diff = schema_differences(&schema(&twin), &schema(&db));
    assert!(diff.is_empty(), "{}", diff.join("\n  "));
}

#[test]
fn sqlite_shared_with_tracking_promotes_prompt_grants_as_python_does() {
    shared_database_equals_python(Dialect::Sqlite);
}

#[test]
fn postgres_shared_with_tracking_promotes_prompt_grants_as_python_does() {
    shared_database_equals_python(Dialect::Postgres);
}
