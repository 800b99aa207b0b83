//! Revision 75868b020152 (SQL trace analytics) on databases holding traces: the recipe's
//! set-based backfill leaves the same rows and schema as MLflow's own Python backfill, on
//! SQLite, PostgreSQL and MariaDB. The data (`tests/support/trace_rows.py`) is written to be
//! awkward: long and non-ASCII names, token counts as floats, strings, bools and arrays,
//! malformed JSON, metrics overriding JSON, non-finite costs, gateway traces, assessment
//! values of every JSON kind. The recipe's documented differences each have a test that
//! shows the script's value (from Python) and ours (from reasoning) side by side, and bad
//! data makes both upgrades fail — ours before any change, naming the problem.
//!
//! The downgrade likewise: from that data upgraded by MLflow, plus rows written at the
//! revision with text a JSON writer must escape and floats at each turn of repr's layout, ours
//! and MLflow's downgrades leave the same rows (and the same JSON text) and schema; its
//! documented float-text differences have a test each.

mod support;

use serde_json::{json, Value};
use support::cli::{ok, ours, run, JOURNAL};
use support::db::{Dialect, TestDb};
use support::reference_db::{
    build_reference, diff_rows, reference_at, reference_command, reflect, rows,
    try_build_reference, try_mlflow_downgrade, Project,
};
use support::schema_diff::schema_differences;

const PARENT: &str = "b7e2c1a4d9f3";
const REVISION: &str = "75868b020152";

/// The reference database at the parent revision, holding the rows of `case`.
fn database_with(dialect: Dialect, case: &str) -> TestDb {
    let db = reference_at(dialect, Project::Mlflow, PARENT);
    write_rows(&db, case);
    db
}

/// Run `trace_rows.py` `case` on `db`.
fn write_rows(db: &TestDb, case: &str) {
    let script = support::repo_root().join("tests/support/trace_rows.py");
    let out = reference_command(&support::ref_python())
        .arg(script)
        .arg(db.sqlalchemy_url())
        .arg(case)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "trace_rows.py {case} on {}: {}",
        db.dialect(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Upgrade `db` with mlflow-migrate and a copy of it with MLflow's own Alembic; the copy.
fn upgrade_both(db: &TestDb) -> TestDb {
    let twin = db.copy_to_new();
    ok(&run(&["upgrade", "--quiet", &db.our_url(), REVISION]));
    build_reference(
        &twin,
        Project::Mlflow,
        &support::mlflow_scripts_dir(),
        REVISION,
    );
    twin
}

fn all_rows(db: &TestDb) -> Value {
    let mut doc = rows(db);
    doc.as_object_mut().unwrap().remove(JOURNAL);
    doc
}

/// Every table's rows and the schema of `db` equal those of `twin`.
fn assert_same_data_and_schema(db: &TestDb, twin: &TestDb, context: &str) {
    let (ours_rows, theirs) = (all_rows(db), all_rows(twin));
    let mut problems = Vec::new();
    for (table, expected) in theirs.as_object().unwrap() {
        let actual = &ours_rows[table];
        if actual != expected {
            let (a, e) = (&actual["rows"], &expected["rows"]);
            let (a, e) = (a.as_array(), e.as_array());
            let detail = match (a, e) {
                (Some(a), Some(e)) => {
                    let only_ours: Vec<_> = a.iter().filter(|r| !e.contains(r)).collect();
                    let only_theirs: Vec<_> = e.iter().filter(|r| !a.contains(r)).collect();
                    format!(
                        "columns {}\n    ours only:   {only_ours:?}\n    python only: {only_theirs:?}",
                        expected["columns"]
                    )
                }
                _ => format!("ours {actual}\n    python {expected}"),
            };
            problems.push(format!("{table}: {detail}"));
        }
    }
    for table in ours_rows.as_object().unwrap().keys() {
        if theirs.get(table).is_none() {
            problems.push(format!("{table}: only in ours"));
        }
    }
    let schema = schema_differences(&reflect(twin, "alembic_version"), &ours(db));
    problems.extend(schema);
    assert!(
        problems.is_empty(),
        "{context}: ours differs from MLflow's upgrade:\n  {}",
        problems.join("\n  ")
    );
}

/// The cell of `column` in the row of `table` whose first key column is `id`.
fn cell(doc: &Value, table: &str, id: &str, column: &str) -> Value {
    let t = &doc[table];
    let columns: Vec<&str> = t["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let key = t["primary_key"][0].as_str().unwrap_or(columns[0]);
    let (k, c) = (
        columns.iter().position(|n| *n == key).unwrap(),
        columns.iter().position(|n| *n == column).unwrap(),
    );
    t["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r[k] == json!(id))
        .unwrap_or_else(|| panic!("no row {id} in {table}"))[c]
        .clone()
}

fn float(repr: &str) -> Value {
    json!({ "float": repr })
}

fn same_as_python(dialect: Dialect) {
    let db = database_with(dialect, "main");
    let twin = upgrade_both(&db);
    assert_same_data_and_schema(&db, &twin, &format!("main data set on {dialect}"));
    // The comparison must have had something to compare: the backfill wrote values.
    let after = all_rows(&db);
    assert_eq!(cell(&after, "trace_info", "t01", "input_tokens"), json!(10));
    assert_eq!(
        cell(&after, "trace_info", "t11", "total_cost"),
        float("1.8")
    );
    assert_eq!(
        cell(&after, "assessments", "a19", "aggregate_value"),
        float("1.0")
    );
}

/// MLflow 3.18.0 ships an edited version of this revision's script (its loops page with a
/// keyset cursor, spelled out for MySQL); the recipe accepts that version too, and the rows
/// equal those of 3.18.0's own script.
fn same_as_newer_release(dialect: Dialect) {
    let scripts = support::newer_release_scripts_dir();
    let script = fs_read_revision(&scripts);
    let pinned = fs_read_revision(&support::mlflow_scripts_dir());
    assert_ne!(
        script,
        pinned,
        "{} edits the script",
        support::NEWER_RELEASE
    );
    let db = database_with(dialect, "main");
    let twin = db.copy_to_new();
    ok(&support::mlflow_migrate()
        .args(["--project", "mlflow", "--scripts"])
        .arg(&scripts)
        .args(["upgrade", "--quiet", &db.our_url(), REVISION])
        .output()
        .unwrap());
    build_reference(&twin, Project::Mlflow, &scripts, REVISION);
    assert_same_data_and_schema(
        &db,
        &twin,
        &format!(
            "main data set on {dialect}, MLflow {}'s script",
            support::NEWER_RELEASE
        ),
    );
}

fn fs_read_revision(scripts: &std::path::Path) -> String {
    let versions = scripts.join("versions");
    let file = std::fs::read_dir(&versions)
        .unwrap()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with(REVISION))
        .unwrap();
    std::fs::read_to_string(file.path()).unwrap()
}

#[test]
fn sqlite_backfill_equals_mlflow_3_18_0s_edited_script() {
    same_as_newer_release(Dialect::Sqlite);
}

#[test]
fn mariadb_backfill_equals_mlflow_3_18_0s_edited_script() {
    same_as_newer_release(Dialect::MariaDb);
}

#[test]
fn sqlite_backfill_equals_mlflows() {
    same_as_python(Dialect::Sqlite);
}

#[test]
fn postgres_backfill_equals_mlflows() {
    same_as_python(Dialect::Postgres);
}

#[test]
fn mariadb_backfill_equals_mlflows() {
    same_as_python(Dialect::MariaDb);
}

/// Runs `case` on every dialect: `check(dialect, ours, python)` gets both upgrades' rows.
fn difference(case: &str, check: impl Fn(Dialect, &Value, &Value)) {
    for dialect in Dialect::ALL {
        let db = database_with(dialect, case);
        let twin = upgrade_both(&db);
        check(dialect, &all_rows(&db), &all_rows(&twin));
    }
}

fn trace(doc: &Value, column: &str) -> Value {
    cell(doc, "trace_info", "t01", column)
}

#[test]
fn token_counts_with_a_fraction_or_exponent_are_read_as_doubles() {
    difference("fraction-or-exponent", |dialect, ours, python| {
        // On MariaDB MLflow reads the double as a decimal (see the span-cost test), exactly.
        let script = if dialect == Dialect::MariaDb {
            4611686018427387904_i64
        } else {
            4611686018427388000
        };
        assert_eq!(trace(python, "input_tokens"), json!(script), "{dialect}");
        assert_eq!(
            trace(ours, "input_tokens"),
            json!(4611686018427387904_i64),
            "{dialect}"
        );
        assert_eq!(trace(python, "output_tokens"), Value::Null);
        assert_eq!(trace(ours, "output_tokens"), json!(1), "{dialect}");
    });
}

#[test]
fn span_costs_are_copied_exactly_where_mlflow_rounds_them_to_ten_places_on_mariadb() {
    difference("span-cost-places", |dialect, ours, python| {
        let span = |doc: &Value, column: &str| {
            let t = &doc["spans"];
            let columns = t["columns"].as_array().unwrap();
            let at = columns.iter().position(|c| c == column).unwrap();
            t["rows"][0][at].clone()
        };
        let (input, output) = if dialect == Dialect::MariaDb {
            (float("0.0012345679"), float("0.0"))
        } else {
            (float("0.00123456789012345"), float("1e-11"))
        };
        assert_eq!(span(python, "input_cost"), input, "{dialect}");
        assert_eq!(span(python, "output_cost"), output, "{dialect}");
        assert_eq!(
            span(ours, "input_cost"),
            float("0.00123456789012345"),
            "{dialect}"
        );
        assert_eq!(span(ours, "output_cost"), float("1e-11"), "{dialect}");
    });
}

#[test]
fn number_strings_must_be_written_like_json_numbers() {
    difference("number-strings", |dialect, ours, python| {
        for (column, script) in [
            ("input_tokens", 5),
            ("output_tokens", 7),
            ("total_tokens", 1000),
        ] {
            assert_eq!(trace(python, column), json!(script));
            assert_eq!(trace(ours, column), Value::Null, "{dialect} {column}");
        }
    });
}

#[test]
fn exponents_beyond_four_digits_and_magnitudes_from_1e308_give_null() {
    difference("huge-exponents", |dialect, ours, python| {
        assert_eq!(trace(python, "input_cost"), float("0.0"));
        assert_eq!(trace(python, "output_cost"), float("1.5e+308"));
        assert_eq!(trace(ours, "input_cost"), Value::Null, "{dialect}");
        assert_eq!(trace(ours, "output_cost"), Value::Null, "{dialect}");
    });
}

#[test]
fn nan_or_infinity_words_make_token_and_cost_json_malformed() {
    difference("nan-words", |dialect, ours, python| {
        assert_eq!(trace(python, "input_tokens"), json!(5));
        assert_eq!(trace(ours, "input_tokens"), Value::Null, "{dialect}");
    });
}

#[test]
fn a_repeated_json_key_counts_once_as_the_database_reads_it() {
    difference("repeated-keys", |dialect, ours, python| {
        assert_eq!(trace(python, "input_tokens"), json!(2));
        let database_reads = if dialect == Dialect::Postgres { 2 } else { 1 };
        assert_eq!(
            trace(ours, "input_tokens"),
            json!(database_reads),
            "{dialect}"
        );
    });
}

/// Our upgrade fails with `message` in its error and leaves the database as it was.
fn refused(db: &TestDb, message: &str) {
    let (rows_before, schema_before) = (all_rows(db), ours(db));
    let out = run(&["upgrade", "--quiet", &db.our_url(), REVISION]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the upgrade succeeded on bad data");
    assert!(
        stderr.contains(message),
        "error without {message}: {stderr}"
    );
    assert_eq!(all_rows(db), rows_before, "the failed upgrade changed rows");
    assert_eq!(
        ours(db),
        schema_before,
        "the failed upgrade changed the schema"
    );
}

/// A database holding `case`, and how MLflow's own upgrade of a copy of it ended.
fn with_pythons_upgrade_of_a_copy(dialect: Dialect, case: &str) -> (TestDb, Result<(), String>) {
    let db = database_with(dialect, case);
    let twin = db.copy_to_new();
    let python = try_build_reference(
        &twin,
        Project::Mlflow,
        &support::mlflow_scripts_dir(),
        REVISION,
    );
    (db, python)
}

#[test]
fn doubly_encoded_dimension_attributes_are_refused_on_every_dialect() {
    for dialect in Dialect::ALL {
        let (db, python) = with_pythons_upgrade_of_a_copy(dialect, "doubly-encoded-dimensions");
        // MLflow decodes the string a second time where its driver already decoded the JSON.
        assert_eq!(
            python.is_ok(),
            dialect != Dialect::MariaDb,
            "{dialect}: {python:?}"
        );
        refused(&db, "recipe_75868b020152_unsupported_dimension_attributes");
    }
}

fn refused_like_python(case: &str, ours_message: &str, python_message: &str) {
    for dialect in Dialect::ALL {
        let (db, python) = with_pythons_upgrade_of_a_copy(dialect, case);
        let error = python.expect_err("MLflow's upgrade accepted the bad data");
        assert!(error.contains(python_message), "{dialect}: {error}");
        refused(&db, ours_message);
    }
}

#[test]
fn a_span_without_its_trace_fails_the_upgrade_before_any_change() {
    refused_like_python(
        "orphan-span",
        "recipe_75868b020152_span_without_trace_info",
        "spans row references missing trace_info row 'gone'",
    );
}

#[test]
fn unsupported_dimension_attributes_fail_the_upgrade_before_any_change() {
    refused_like_python(
        "unsupported-dimensions",
        "recipe_75868b020152_unsupported_dimension_attributes",
        "unsupported content for span ('t01', 's1'): ['temperature']",
    );
}

// ---------------------------------------------------------------------------------------------
// The downgrade: legacy rows rebuilt from the analytics columns.

/// A database upgraded to 75868b020152 by MLflow from the rows of `before`, then given the
/// rows of `at_revision` (a `downgrade-*` set); downgraded by mlflow-migrate, and a copy of it
/// by MLflow's own Alembic: (ours, MLflow's).
fn downgrade_both(dialect: Dialect, before: &str, at_revision: &str) -> (TestDb, TestDb) {
    let db = database_with(dialect, before);
    build_reference(
        &db,
        Project::Mlflow,
        &support::mlflow_scripts_dir(),
        REVISION,
    );
    write_rows(&db, at_revision);
    let twin = db.copy_to_new();
    ok(&run(&["downgrade", "--quiet", &db.our_url(), PARENT]));
    try_mlflow_downgrade(&twin, PARENT)
        .unwrap_or_else(|e| panic!("MLflow's downgrade failed on {dialect}: {e}"));
    (db, twin)
}

/// `SELECT columns FROM table ORDER BY order` as the database's own client prints it: the
/// exact text of JSON columns, which the rows' comparison reads as JSON on PostgreSQL.
fn client_rows(db: &TestDb, table: &str, columns: &str, order: &str) -> String {
    db.run_sql_script(&format!(
        "SELECT {columns} FROM {table} ORDER BY {order};\n"
    ))
    .unwrap_or_else(|e| panic!("{table} on {}: {e}", db.dialect()))
}

fn same_downgrade_as_python(dialect: Dialect) {
    let (db, twin) = downgrade_both(dialect, "main", "downgrade-main");
    let answer = diff_rows(&db, &twin);
    let problems: Vec<_> = answer["differences"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(t, d)| !(t.as_str() == JOURNAL && d["missing"] == "b"))
        .filter(|(t, d)| {
            !(dialect == Dialect::Sqlite
                && t.as_str() == "trace_request_metadata"
                && only_sqlite_float_digits(d))
        })
        .map(|(t, d)| format!("{t}: {d}"))
        .chain(schema_differences(
            &reflect(&twin, "alembic_version"),
            &ours(&db),
        ))
        .collect();
    assert!(
        problems.is_empty(),
        "{dialect}: ours differs from MLflow's downgrade:\n  {}",
        problems.join("\n  ")
    );
    let text = if dialect == Dialect::Postgres {
        "CAST(dimension_attributes AS TEXT)"
    } else {
        "dimension_attributes"
    };
    let (columns, order) = (format!("trace_id, span_id, {text}"), "trace_id, span_id");
    assert_eq!(
        client_rows(&db, "spans", &columns, order),
        client_rows(&twin, "spans", &columns, order),
        "{dialect}: dimension_attributes text"
    );
    // The comparison had something to compare: legacy rows were rebuilt.
    let tables = &answer["tables"];
    for table in [
        "trace_tags",
        "trace_request_metadata",
        "trace_metrics",
        "span_metrics",
    ] {
        assert!(
            tables[table].as_u64().unwrap() > 5,
            "{dialect}: {table} {answer}"
        );
    }
    let after = all_rows(&db);
    let spans = &after["spans"];
    let at = |c: &str| {
        spans["columns"]
            .as_array()
            .unwrap()
            .iter()
            .position(|n| n == c)
            .unwrap()
    };
    let s7 = spans["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r[at("span_id")] == "s7")
        .unwrap();
    let attributes = &s7[at("dimension_attributes")];
    let expected = json!({ "mlflow.llm.model": "caf\u{e9} \"q\"" });
    // A JSON column is read as a dict on PostgreSQL, as text elsewhere.
    let parsed = match attributes.as_str() {
        Some(text) => serde_json::from_str::<Value>(text).unwrap(),
        None => attributes["dict"].clone(),
    };
    assert_eq!(parsed, expected, "{dialect}");
}

/// True when the metadata rows of `diff` differ only in cost JSON members written with
/// SQLite's digits (the documented difference, shown by
/// `sqlite_writes_floats_with_its_own_printf_digits`): the same double where Python's repr
/// needs 16 or 17 significant digits, or any digits below 1e-80 or from 1e100 in magnitude.
fn only_sqlite_float_digits(diff: &Value) -> bool {
    let (ours, python) = (&diff["only_a"], &diff["only_b"]);
    let (ours, python) = (ours.as_array().unwrap(), python.as_array().unwrap());
    let same_double = |a: &Value, b: &Value, m: &str| {
        let (x, y) = (member(a, m), member(b, m));
        let significant = y
            .split('e')
            .next()
            .unwrap()
            .chars()
            .filter(char::is_ascii_digit)
            .collect::<String>()
            .trim_start_matches('0')
            .len();
        let (a, b) = (x.parse::<f64>().unwrap(), y.parse::<f64>().unwrap());
        let inexact_reading = !(1e-80..1e100).contains(&b.abs()) && b != 0.0;
        x == y || a == b && significant >= 16 || inexact_reading
    };
    let same_cost = |a: &Value, b: &Value| {
        a[0] == COST
            && b[0] == COST
            && a[2] == b[2]
            && ["input_cost", "output_cost", "total_cost"].iter().all(|m| {
                match (
                    a[1].as_str().unwrap().contains(m),
                    b[1].as_str().unwrap().contains(m),
                ) {
                    (true, true) => same_double(&a[1], &b[1], m),
                    (present, other) => present == other,
                }
            })
    };
    ours.len() == python.len() && ours.iter().all(|a| python.iter().any(|b| same_cost(a, b)))
}

#[test]
fn sqlite_downgrade_equals_mlflows() {
    same_downgrade_as_python(Dialect::Sqlite);
}

#[test]
fn postgres_downgrade_equals_mlflows() {
    same_downgrade_as_python(Dialect::Postgres);
}

#[test]
fn mariadb_downgrade_equals_mlflows() {
    same_downgrade_as_python(Dialect::MariaDb);
}

/// The `mlflow.trace.cost` metadata value of `trace` and the `span_metrics` values of span
/// `s1` after each downgrade of the `downgrade-float-text` rows: `check(dialect, ours,
/// python)` on every dialect.
fn downgraded_costs(check: impl Fn(Dialect, &Value, &Value)) {
    for dialect in Dialect::ALL {
        let (db, twin) = downgrade_both(dialect, "empty", "downgrade-float-text");
        check(dialect, &all_rows(&db), &all_rows(&twin));
    }
}

/// The `value` cell of the row of `table` whose cells are the `wanted` ones, NULL if none.
fn value_where(doc: &Value, table: &str, wanted: &[(&str, &str)]) -> Value {
    let t = &doc[table];
    let columns = t["columns"].as_array().unwrap();
    let at = |c: &str| columns.iter().position(|n| n == c).unwrap();
    t["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| wanted.iter().all(|(c, v)| r[at(c)] == *v))
        .map(|r| r[at("value")].clone())
        .unwrap_or(Value::Null)
}

/// The value of metadata `key` of trace `trace`.
fn metadata(doc: &Value, trace: &str, key: &str) -> Value {
    value_where(
        doc,
        "trace_request_metadata",
        &[("request_id", trace), ("key", key)],
    )
}

/// The value of span metric `key` of span `s1`.
fn span_metric(doc: &Value, key: &str) -> Value {
    value_where(doc, "span_metrics", &[("span_id", "s1"), ("key", key)])
}

const COST: &str = "mlflow.trace.cost";

/// The text of member `key` in the JSON object text `object` (one level, numbers only).
fn member(object: &Value, key: &str) -> String {
    let text = object.as_str().expect("a JSON text");
    let start = text
        .find(&format!("\"{key}\": "))
        .unwrap_or_else(|| panic!("no {key} in {text}"))
        + key.len()
        + 4;
    let rest = &text[start..];
    rest[..rest.find([',', '}']).unwrap()].to_string()
}

#[test]
fn sqlite_writes_floats_with_its_own_printf_digits() {
    downgraded_costs(|dialect, ours, python| {
        let (ours_cost, python_cost) = (metadata(ours, "f01", COST), metadata(python, "f01", COST));
        // MLflow on MariaDB reads the cost to 10 places (the next test).
        let script = if dialect == Dialect::MariaDb {
            "971.9216918937"
        } else {
            "971.9216918936607"
        };
        assert_eq!(member(&python_cost, "input_cost"), script, "{dialect}");
        assert_eq!(member(&python_cost, "output_cost"), "9e+119", "{dialect}");
        // On SQLite: printf's 16th digit of 971.9216918936607 (the same double), and
        // 9e+119 with 16 digits, since SQLite reads "9e+119" back as another double.
        let (input, output) = if dialect == Dialect::Sqlite {
            ("971.9216918936608", "9.000000000000001e+119")
        } else {
            ("971.9216918936607", "9e+119")
        };
        assert_eq!(member(&ours_cost, "input_cost"), input, "{dialect}");
        assert_eq!(member(&ours_cost, "output_cost"), output, "{dialect}");
    });
}

#[test]
fn postgres_writes_a_shortest_float_halfway_between_two_doubles_with_more_digits() {
    downgraded_costs(|dialect, ours, python| {
        // 1e23 is 99999999999999991611392 as a double: "1e+23" lies exactly halfway to the
        // next double and reads back as this one by the ties-to-even rule, which
        // PostgreSQL's shortest output does not lean on.
        let expected = if dialect == Dialect::Postgres {
            "9.999999999999999e+22"
        } else {
            "1e+23"
        };
        let python_cost = metadata(python, "f01", COST);
        assert_eq!(member(&python_cost, "total_cost"), "1e+23", "{dialect}");
        let ours_cost = metadata(ours, "f01", COST);
        assert_eq!(member(&ours_cost, "total_cost"), expected, "{dialect}");
    });
}

#[test]
fn costs_are_copied_exactly_where_mlflow_reads_them_to_ten_places_on_mariadb() {
    downgraded_costs(|dialect, ours, python| {
        let (trace_cost, tiny) = if dialect == Dialect::MariaDb {
            (r#"{"input_cost": 0.0012345679}"#, float("0.0"))
        } else {
            (r#"{"input_cost": 0.00123456789012345}"#, float("1e-11"))
        };
        assert_eq!(
            metadata(python, "f02", COST),
            json!(trace_cost),
            "{dialect}"
        );
        assert_eq!(span_metric(python, "input_cost"), tiny, "{dialect}");
        assert_eq!(
            metadata(ours, "f02", COST),
            json!(r#"{"input_cost": 0.00123456789012345}"#),
            "{dialect}"
        );
        assert_eq!(span_metric(ours, "input_cost"), float("1e-11"), "{dialect}");
        assert_eq!(
            span_metric(ours, "output_cost"),
            float("0.00123456789012345"),
            "{dialect}"
        );
    });
}
