//! `plan URL [TARGET]`: the dry run against a live, populated database. It changes nothing
//! (schema and rows compared before and after, no file created), its statements are exactly
//! the ones `upgrade` then runs, its row counts are the tables' real counts within the
//! statistics' precision, and `upgrade --require-compatible` refuses a path the plan says
//! breaks old servers, before any change.

mod support;

use serde_json::Value;
use support::cli::{ok, run};
use support::db::{Dialect, TestDb};
use support::reference_db::{mlflow_chain, populate, reference_at, reflect, rows, Project};

fn snapshot(db: &TestDb) -> (Value, Value) {
    (reflect(db, "alembic_version"), rows(db))
}

fn json(out: &std::process::Output) -> Value {
    ok(out);
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

/// How far a row count may be from the real one: SQLite counts; PostgreSQL's `reltuples`
/// is exact until rows change after an ANALYZE, InnoDB's `table_rows` is a sampled estimate.
fn tolerance(dialect: Dialect) -> f64 {
    match dialect {
        Dialect::Sqlite => 0.0,
        Dialect::Postgres => 0.1,
        _ => 0.5,
    }
}

/// How many files are in a SQLite database's folder (None on a server).
fn files_beside(db: &TestDb) -> Option<usize> {
    let dir = db.path()?.parent()?;
    Some(std::fs::read_dir(dir).unwrap().count())
}

fn plan_then_upgrade(dialect: Dialect) {
    let chain = mlflow_chain(Project::Mlflow);
    let db = reference_at(dialect, Project::Mlflow, &chain[20]);
    populate(&db, 3_000);
    let files_before = files_beside(&db);
    let before = snapshot(&db);

    let plan = json(&run(&["plan", "--format", "json", &db.our_url()]));
    assert_eq!(
        snapshot(&db),
        before,
        "{dialect:?}: plan changed the database"
    );
    let files_after = files_beside(&db);
    assert_eq!(
        files_before, files_after,
        "plan created a file beside the database"
    );
    assert_eq!(plan["before"], serde_json::json!([chain[20]]));

    // Row counts: the live tables' real counts.
    let real = &before.1;
    let mut checked = 0;
    for revision in plan["revisions"].as_array().unwrap() {
        for op in revision["ops"].as_array().unwrap() {
            let (Some(table), Some(n)) = (op["table"].as_str(), op["rows"].as_u64()) else {
                continue;
            };
            let Some(real_rows) = real
                .get(table)
                .and_then(|t| t.get("rows"))
                .and_then(Value::as_array)
            else {
                continue; // a table the path creates
            };
            let real_n = real_rows.len() as f64;
            assert!(
                (n as f64 - real_n).abs() <= real_n * tolerance(dialect),
                "{dialect:?}: plan says {table} has {n} rows, it has {real_n}"
            );
            checked += 1;
        }
    }
    assert!(
        checked > 0,
        "{dialect:?}: no operation on an existing table carried rows"
    );

    // The statements `upgrade` runs, in order, are the ones the plan listed.
    let planned: Vec<String> = plan["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["sql"].as_array().unwrap().iter())
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    let out = run(&["upgrade", "--format", "json", "--no-backup", &db.our_url()]);
    ok(&out);
    let ran: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|e| e["event"] == "statement")
        .map(|e| e["sql"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ran.len(), planned.len(), "{dialect:?}: statement counts");
    assert!(
        ran == planned,
        "{dialect:?}: upgrade ran other statements than planned"
    );
    assert_eq!(plan["statements"].as_u64(), Some(planned.len() as u64));
}

#[test]
fn sqlite_plan_changes_nothing_and_lists_what_upgrade_runs() {
    plan_then_upgrade(Dialect::Sqlite);
}

#[test]
fn postgres_plan_changes_nothing_and_lists_what_upgrade_runs() {
    plan_then_upgrade(Dialect::Postgres);
}

#[test]
fn mariadb_plan_changes_nothing_and_lists_what_upgrade_runs() {
    plan_then_upgrade(Dialect::MariaDb);
}

/// A path whose verdict is "breaks old servers" is refused with --require-compatible before
/// any change; a path of additive revisions runs.
#[test]
fn require_compatible_refuses_what_the_plan_says_breaks_old_servers() {
    let chain = mlflow_chain(Project::Mlflow);
    let db = TestDb::new(Dialect::Sqlite);
    ok(&run(&[
        "upgrade",
        "--quiet",
        "--no-backup",
        &db.our_url(),
        &chain[20],
    ]));
    let plan = json(&run(&["plan", "--format", "json", &db.our_url()]));
    assert_eq!(plan["verdict"]["keeps_old_servers"], false, "{plan}");
    let before = snapshot(&db);
    let out = run(&[
        "upgrade",
        "--require-compatible",
        "--no-backup",
        &db.our_url(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let reason = plan["verdict"]["reason"].as_str().unwrap();
    assert!(
        err.contains(reason),
        "{err}\nshould give the plan's reason: {reason}"
    );
    assert_eq!(
        snapshot(&db),
        before,
        "the refused upgrade changed the database"
    );

    // A revision that keeps old servers working runs with the requirement: upgrade without
    // it to just before the first such revision, then to it with it.
    let revisions = plan["revisions"].as_array().unwrap();
    let j = revisions
        .iter()
        .position(|r| r["verdict"]["keeps_old_servers"] == true)
        .expect("some revision on MLflow's path is additive");
    assert!(j > 0);
    let parent = revisions[j - 1]["revision"].as_str().unwrap();
    let target = revisions[j]["revision"].as_str().unwrap();
    ok(&run(&[
        "upgrade",
        "--quiet",
        "--no-backup",
        &db.our_url(),
        parent,
    ]));
    ok(&run(&[
        "upgrade",
        "--quiet",
        "--require-compatible",
        "--no-backup",
        &db.our_url(),
        target,
    ]));
    let now = json(&run(&["current", "--format", "json", &db.our_url()]));
    assert_eq!(now["current"][0]["revision"], target, "{now}");
}

/// Nothing to plan at the head; a downgrade needs its target; an unknown release is refused.
#[test]
fn plan_answers_at_head_and_refuses_bad_requests() {
    let db = TestDb::new(Dialect::Sqlite);
    ok(&run(&["upgrade", "--quiet", "--no-backup", &db.our_url()]));
    let out = run(&["plan", &db.our_url()]);
    ok(&out);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("nothing to do"));
    let out = run(&["plan", "--downgrade", &db.our_url()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs a TARGET"));
    let out = run(&["plan", "--mlflow-version", "0.0.1", &db.our_url()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("0.0.1"));
}
