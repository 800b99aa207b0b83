//! The optimiser's output on MLflow's whole path, per database: which statements a live run
//! merges. MySQL and MariaDB rebuild `metrics` for dropping and adding its primary key,
//! changing a column's type and adding a CHECK. Within a revision, 451aebb31d03 (add `step`,
//! swap the primary key), 181f10493468 (retype `value`, add `is_nan`, swap the primary key)
//! and 39d1c3be5f05 (make `is_nan` NOT NULL, add its CHECK) each become one `ALTER TABLE`;
//! across revisions, 181f10493468's statement joins 451aebb31d03's (90e64c465722 between them
//! does not touch `metrics`; the intermediate key is never built), c48cb773bb87's joins
//! 39d1c3be5f05's, and that one joins the first (89d4b8295536 between them only reads
//! `metrics`, and the CHECKs leave its rows as read): `metrics` is rebuilt once, and the
//! revisions from 451aebb31d03 to c48cb773bb87 run as one checkpoint unit.
//! SQLite's three rebuilds of `metrics` become one copy into the final shape, in the new
//! primary key's order; PostgreSQL never builds the key and indexes later revisions drop. That the merged plans leave Python's
//! schema and rows is shown by the executor and data conformance suites, which run them.

mod support;

use alembic_engine::dialect::Database;
use alembic_engine::graph::Lower;
use alembic_engine::plan::{DbState, MergeKind, Mode, Optimised, Planner};
use support::reference_db::Project;

fn optimised(database: Database) -> (Vec<Optimised>, Vec<String>) {
    let (project, graph) = support::cli::open_project(Project::Mlflow);
    let planner = Planner::for_project(&project, &graph, database.dialect(), Mode::Online).unwrap();
    let steps = graph.upgrade_path(&Lower::None, "heads").unwrap();
    let mut plan = planner.plan_for(&DbState::default(), &steps).unwrap().plan;
    let before = plan.statement_count();
    let revisions = plan.revision_count();
    let optimised = plan.optimise(0);
    let folded = |kind: MergeKind| -> usize {
        optimised
            .iter()
            .flat_map(|o| &o.merges)
            .filter(|m| m.kind == kind)
            .map(|m| m.statements - 1)
            .sum()
    };
    // A fused unit moves the version row once for all its revisions; an ALTER TABLE merged
    // into another is one statement less, a rebuild folded into another four (its create,
    // copy, drop and rename; on MLflow's path the rebuilt tables have no indexes yet), an
    // index left out two (its build and its drop).
    let fused = revisions - plan.steps.len();
    assert_eq!(plan.revision_count(), revisions, "{database:?}");
    assert_eq!(
        plan.statement_count(),
        before
            - folded(MergeKind::AlterTable)
            - 4 * folded(MergeKind::Rebuild)
            - 2 * optimised
                .iter()
                .flat_map(|o| &o.merges)
                .filter(|m| m.kind == MergeKind::BuiltThenDropped)
                .count()
            - fused,
        "{database:?}"
    );
    let sql = plan
        .units()
        .into_iter()
        .flat_map(|u| u.statements)
        .map(|s| s.sql)
        .collect();
    (optimised, sql)
}

/// The revisions of MLflow's path after `first`, up to `last`, in the path's order.
fn after(first: &str, last: &str) -> Vec<String> {
    let (_, graph) = support::cli::open_project(Project::Mlflow);
    let path: Vec<String> = graph
        .upgrade_path(&Lower::None, "heads")
        .unwrap()
        .iter()
        .map(|s| graph.id(s.revision).to_string())
        .collect();
    let at = |r: &str| path.iter().position(|p| p == r).unwrap();
    path[at(first) + 1..=at(last)].to_vec()
}

/// How many statements on `metrics` the revision's merge made one (0: none merged).
fn metrics_merged(optimised: &[Optimised], revision: &str) -> usize {
    optimised
        .iter()
        .filter(|o| o.revision == revision)
        .flat_map(|o| &o.merges)
        .filter(|m| m.table == "metrics")
        .map(|m| m.statements)
        .sum()
}

#[test]
fn mysql_and_mariadb_rebuild_metrics_once_per_unit() {
    for database in [Database::Mysql, Database::Mariadb] {
        let (optimised, sql) = optimised(database);
        let joined = |revision: &str| {
            optimised
                .iter()
                .find(|o| o.revision == revision)
                .map(|o| o.joined.clone())
                .unwrap_or_default()
        };
        // Every revision after 451aebb31d03 up to c48cb773bb87, in the path's order.
        let expected = after("451aebb31d03", "c48cb773bb87");
        assert!(expected.iter().any(|r| r == "89d4b8295536"));
        assert_eq!(joined("451aebb31d03"), expected, "{database:?}");
        let fused: Vec<&str> = optimised
            .iter()
            .filter(|o| !o.joined.is_empty())
            .map(|o| o.revision.as_str())
            .collect();
        assert_eq!(fused, ["451aebb31d03"], "{database:?}");
        // Each revision's own statements on metrics (451aebb31d03: 3, 181f10493468: 4,
        // 39d1c3be5f05: 2, c48cb773bb87: 2), then the three merges across revisions.
        assert_eq!(
            metrics_merged(&optimised, "451aebb31d03"),
            3 + 4 + 2 + 2 + 2 + 2 + 2,
            "{database:?}"
        );
        let metrics: Vec<&String> = sql
            .iter()
            .filter(|s| s.starts_with("ALTER TABLE metrics "))
            .collect();
        assert_eq!(metrics.len(), 1, "{metrics:#?}");
        let metrics = metrics[0];
        // One key swap, straight to the final key: the intermediate one is never built.
        assert_eq!(metrics.matches("DROP PRIMARY KEY").count(), 1, "{metrics}");
        assert_eq!(metrics.matches("PRIMARY KEY (").count(), 1, "{metrics}");
        assert!(
            metrics.contains("ADD CONSTRAINT metric_pk PRIMARY KEY (`key`, timestamp, step, run_uuid, value, is_nan)"),
            "{metrics}"
        );
        // is_nan added NOT NULL with its default (the later MODIFYs give it that again), and
        // both revisions' CHECKs.
        assert!(
            metrics.contains("ADD COLUMN is_nan BOOL NOT NULL DEFAULT '0'")
                && !metrics.contains("MODIFY is_nan"),
            "{metrics}"
        );
        assert_eq!(metrics.matches("ADD CHECK").count(), 2, "{metrics}");
        // latest_metrics is filled from metrics after its rebuild, as the scripts order it.
        let rebuilt = sql
            .iter()
            .position(|s| s.starts_with("ALTER TABLE metrics "))
            .unwrap();
        let filled = sql
            .iter()
            .position(|s| s.contains("INSERT INTO latest_metrics"))
            .unwrap();
        assert!(rebuilt < filled);
        assert!(!sql
            .iter()
            .any(|s| s.contains("90e64c465722'") && s.starts_with("UPDATE")));
        // Foreign keys are never merged (MySQL refuses to drop and add one name at once).
        let alters = sql.iter().filter(|s| s.starts_with("ALTER TABLE"));
        for s in alters.filter(|s| s.contains("FOREIGN KEY")) {
            assert_eq!(s.matches("FOREIGN KEY").count(), 1, "{s}");
            assert!(!s.contains(", ADD ") && !s.contains(", DROP "), "{s}");
        }
    }
}

/// PostgreSQL leaves out the primary key 451aebb31d03 gives `metrics` (181f10493468 drops it
/// two revisions later for one that covers its columns and `is_nan`), and indexes that later
/// revisions drop from the tables they were built on, with nothing reading those tables in
/// between; each such pair's revisions run as one unit.
#[test]
fn postgresql_never_builds_what_a_later_revision_drops() {
    let (optimised, sql) = optimised(Database::Postgresql);
    let unit = optimised
        .iter()
        .find(|o| o.revision == "451aebb31d03")
        .expect("451aebb31d03 optimised");
    assert_eq!(
        unit.joined,
        after("451aebb31d03", "181f10493468"),
        "{unit:?}"
    );
    assert_eq!(unit.merges.len(), 1, "{unit:?}");
    assert_eq!(
        (
            unit.merges[0].table.as_str(),
            unit.merges[0].kind,
            unit.merges[0].statements
        ),
        ("metrics", MergeKind::BuiltThenDropped, 2)
    );
    let keys: Vec<&String> = sql
        .iter()
        .filter(|s| s.starts_with("ALTER TABLE metrics ADD CONSTRAINT metric_pk PRIMARY KEY"))
        .collect();
    assert_eq!(
        keys,
        ["ALTER TABLE metrics ADD CONSTRAINT metric_pk PRIMARY KEY (key, timestamp, step, run_uuid, value, is_nan)"],
        "only the final key is built"
    );
    // The key of the initial tables is dropped once, by 451aebb31d03.
    assert_eq!(
        sql.iter()
            .filter(|s| *s == "ALTER TABLE metrics DROP CONSTRAINT metric_pk")
            .count(),
        1
    );
    // Nothing else is merged: every other optimisation on this path is an index left out.
    assert!(optimised
        .iter()
        .flat_map(|o| &o.merges)
        .all(|m| m.kind == MergeKind::BuiltThenDropped));
    for index in [
        "index_jobs_function_status_creation_time",
        "unique_endpoint_model_mapping",
    ] {
        assert!(
            !sql.iter().any(|s| s.contains(index)),
            "{index} is built or dropped"
        );
    }
}

/// SQLite rebuilds `metrics` in 451aebb31d03 (`step` added just before, the key swapped),
/// 181f10493468 (`is_nan` added, the key swapped again) and 39d1c3be5f05 (a CHECK on `is_nan`).
/// Nothing between the first two reads or writes `metrics`; between the last two,
/// 89d4b8295536 only reads it, and the third adds nothing but a CHECK: the first rebuild
/// creates the final shape, its copy is the only one, and the revisions from 451aebb31d03 to
/// 39d1c3be5f05 run as one unit. The copy is ordered by the final key's columns it fills.
#[test]
fn sqlite_rebuilds_metrics_once_in_the_final_shape_and_in_key_order() {
    let (optimised, sql) = optimised(Database::Sqlite);
    let unit = optimised
        .iter()
        .find(|o| o.revision == "451aebb31d03")
        .expect("451aebb31d03 merged");
    assert_eq!(
        unit.joined,
        after("451aebb31d03", "39d1c3be5f05"),
        "{unit:?}"
    );
    let on_metrics: Vec<(usize, MergeKind)> = unit
        .merges
        .iter()
        .filter(|m| m.table == "metrics")
        .map(|m| (m.statements, m.kind))
        .collect();
    assert_eq!(on_metrics, [(3, MergeKind::Rebuild)], "{unit:?}");
    let created: Vec<&String> = sql
        .iter()
        .filter(|s| s.starts_with("CREATE TABLE _alembic_tmp_metrics "))
        .collect();
    assert_eq!(created.len(), 1, "{created:#?}");
    assert!(
        created[0].contains("PRIMARY KEY (\"key\", timestamp, step, run_uuid, value, is_nan)")
            && created[0].contains("CHECK (is_nan IN (0, 1))"),
        "{}",
        created[0]
    );
    // 451aebb31d03's copy (step was added in place just before; is_nan is filled by its
    // default), in the final key's order as far as it fills it.
    let copies: Vec<&String> = sql
        .iter()
        .filter(|s| s.starts_with("INSERT INTO _alembic_tmp_metrics "))
        .collect();
    assert_eq!(copies.len(), 1, "{copies:#?}");
    assert!(
        copies[0].contains("(\"key\", value, timestamp, run_uuid, step) "),
        "{}",
        copies[0]
    );
    assert!(
        copies[0].ends_with("\nORDER BY 1, 3, 5, 4, 2"),
        "{}",
        copies[0]
    );
    // The copy comes before 89d4b8295536's read, which then reads the final shape.
    let copied = sql.iter().position(|s| s == copies[0]).unwrap();
    let read = sql
        .iter()
        .position(|s| s.contains("INSERT INTO latest_metrics"))
        .unwrap();
    assert!(copied < read);
    // Other tables' rebuilds stay as they were: latest_metrics is created and filled in
    // 89d4b8295536 and rebuilt for its CHECK in 39d1c3be5f05 (a write is no read).
    assert_eq!(
        sql.iter()
            .filter(|s| s.starts_with("CREATE TABLE _alembic_tmp_latest_metrics "))
            .count(),
        1
    );
    let offline = support::mlflow_migrate()
        .args(["--project", "mlflow", "--scripts"])
        .arg(support::mlflow_scripts_dir())
        .args(["sql", "heads", "--dialect", "sqlite"])
        .output()
        .unwrap();
    assert!(offline.status.success());
    let script = String::from_utf8_lossy(&offline.stdout);
    assert_eq!(
        script.matches("INSERT INTO _alembic_tmp_metrics ").count(),
        3,
        "the offline script keeps Alembic's three rebuilds"
    );
    assert!(
        !script.contains("ORDER BY 1"),
        "the offline script was reordered"
    );
}

#[test]
fn the_plan_command_shows_what_a_live_mariadb_run_merges() {
    let db = support::db::TestDb::mariadb();
    let out = support::cli::run(&["plan", "--replay", "--format", "json", &db.our_url()]);
    support::cli::ok(&out);
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let first = plan["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["revision"] == "451aebb31d03")
        .unwrap();
    // The unit's own merges on metrics (451aebb31d03, 181f10493468, 39d1c3be5f05,
    // c48cb773bb87), then the three across revisions.
    let on_metrics: Vec<&serde_json::Value> = first["merged"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["table"] == "metrics")
        .map(|m| &m["statements"])
        .collect();
    assert_eq!(on_metrics, [3, 4, 2, 2, 2, 2, 2], "{}", first["merged"]);
    let joined: Vec<&str> = first["joined"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r.as_str())
        .collect();
    assert_eq!(joined[..2], ["90e64c465722", "181f10493468"]);
    assert_eq!(joined.last(), Some(&"c48cb773bb87"));
    let alters: Vec<&str> = first["sql"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s.as_str())
        .filter(|s| s.starts_with("ALTER TABLE metrics"))
        .collect();
    assert_eq!(alters.len(), 1, "{alters:#?}");
    let text = support::cli::run(&["plan", "--replay", &db.our_url()]);
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(
        stdout.contains("merged: 3 ALTER TABLE statements on metrics into one"),
        "{stdout}"
    );
    assert!(
        stdout.contains("runs as one unit with 90e64c465722, 181f10493468, ")
            && stdout.contains("c48cb773bb87"),
        "{stdout}"
    );
}
