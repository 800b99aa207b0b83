//! Backups before the first statement: restoring SQLite's copy, or the dump `--backup DIR`
//! made with the server's own tool, gives back the database as it was before the upgrade
//! (schema and rows); a dump that cannot be made stops the upgrade before any change.

mod support;

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use support::cli::{head, migrate, ok, run};
use support::db::{Dialect, TestDb};
use support::reference_db::{mlflow_chain, populate, reference_at, reflect, rows, Project};

/// A database at an older MLflow revision (built by Python Alembic), holding rows.
fn populated_old_database(dialect: Dialect) -> TestDb {
    let chain = mlflow_chain(Project::Mlflow);
    let db = reference_at(dialect, Project::Mlflow, &chain[20]);
    populate(&db, 2_000);
    db
}

fn snapshot(db: &TestDb) -> (Value, Value) {
    (reflect(db, "alembic_version"), rows(db))
}

/// The file a `backup PATH (..)` line names.
fn backup_path(out: &Output) -> PathBuf {
    let err = String::from_utf8_lossy(&out.stderr);
    let line = err
        .lines()
        .find(|l| l.starts_with("mlflow-migrate: backup "))
        .unwrap_or_else(|| panic!("no backup line in:\n{err}"));
    let rest = &line["mlflow-migrate: backup ".len()..];
    PathBuf::from(&rest[..rest.find(" (").unwrap()])
}

/// The two snapshots are equal; else the schema differences and the tables whose rows differ.
fn assert_same(restored: &TestDb, before: &(Value, Value), context: &str) {
    let now = snapshot(restored);
    let schema =
        support::schema_diff::schema_differences(&casts_out(&before.0), &casts_out(&now.0));
    let tables: Vec<&String> = before
        .1
        .as_object()
        .unwrap()
        .iter()
        .filter(|(t, rows)| now.1.get(t.as_str()) != Some(*rows))
        .map(|(t, _)| t)
        .collect();
    assert!(
        schema.is_empty()
            && tables.is_empty()
            && now.1.as_object().unwrap().len() == before.1.as_object().unwrap().len(),
        "{context}: schema differences {schema:?}; tables whose rows differ {tables:?}"
    );
}

/// PostgreSQL re-parses a CHECK's expression when a dump is restored and prints its casts in
/// another place (`ARRAY['a'::character varying]::text[]` becomes
/// `ARRAY['a'::character varying::text]`): the same constraint. Casts are left out of CHECK
/// texts before comparing.
fn casts_out(reflection: &Value) -> Value {
    let mut v = reflection.clone();
    if let Some(tables) = v.get_mut("tables").and_then(Value::as_object_mut) {
        for table in tables.values_mut() {
            for check in table["check_constraints"]
                .as_array_mut()
                .into_iter()
                .flatten()
            {
                if let Some(text) = check["sqltext"].as_str() {
                    let plain = text
                        .replace("::character varying", "")
                        .replace("::text[]", "")
                        .replace("::text", "");
                    check["sqltext"] = Value::String(plain);
                }
            }
        }
    }
    v
}

fn current(db: &TestDb) -> String {
    db.run_sql_script("SELECT version_num FROM alembic_version;")
        .unwrap()
        .trim()
        .to_string()
}

#[test]
fn restoring_the_sqlite_backup_gives_back_the_database_before_the_upgrade() {
    let db = populated_old_database(Dialect::Sqlite);
    let before = snapshot(&db);
    let out = run(&["upgrade", &db.our_url()]);
    ok(&out);
    assert_eq!(current(&db), head());
    let backup = backup_path(&out);
    assert!(
        backup.parent() == db.path().unwrap().parent(),
        "the copy lies beside the database: {}",
        backup.display()
    );
    // The restore: the copy in place of the database.
    let restored = TestDb::sqlite();
    std::fs::copy(&backup, restored.path().unwrap()).unwrap();
    assert_same(&restored, &before, "the backup is the database before");
    // --no-backup makes none.
    let other = populated_old_database(Dialect::Sqlite);
    let out = run(&["upgrade", "--no-backup", &other.our_url()]);
    ok(&out);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("backup "));
    let dir = other.path().unwrap().parent().unwrap();
    let copies = std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains(".backup-")
        })
        .count();
    assert_eq!(copies, 0);
}

fn restore(dialect: Dialect, file: &std::path::Path) -> TestDb {
    let restored = TestDb::new(dialect);
    let status = match dialect {
        Dialect::Postgres => Command::new("pg_restore")
            .args(["--no-owner", "-h", "127.0.0.1", "-U", "postgres", "-d"])
            .arg(restored.name())
            .arg(file)
            .status()
            .unwrap(),
        _ => Command::new("mysql")
            .args(["-h", "127.0.0.1", "-u", "root"])
            .arg(restored.name())
            .stdin(Stdio::from(std::fs::File::open(file).unwrap()))
            .status()
            .unwrap(),
    };
    assert!(status.success(), "restoring {} failed", file.display());
    restored
}

fn dump_restores_the_database_before_the_upgrade(dialect: Dialect) {
    let db = populated_old_database(dialect);
    let before = snapshot(&db);
    let dir = tempfile::tempdir().unwrap();
    let out = run(&[
        "upgrade",
        "--backup",
        dir.path().to_str().unwrap(),
        &db.our_url(),
    ]);
    ok(&out);
    assert_eq!(current(&db), head());
    let dump = backup_path(&out);
    assert!(dump.starts_with(dir.path()), "{}", dump.display());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("to restore it: "), "{err}");
    let restored = restore(dialect, &dump);
    assert_same(&restored, &before, "the dump is the database before");
}

#[test]
fn restoring_the_postgres_dump_gives_back_the_database_before_the_upgrade() {
    dump_restores_the_database_before_the_upgrade(Dialect::Postgres);
}

#[test]
fn restoring_the_mariadb_dump_gives_back_the_database_before_the_upgrade() {
    dump_restores_the_database_before_the_upgrade(Dialect::MariaDb);
}

#[test]
fn a_dump_that_cannot_be_made_stops_the_upgrade_before_any_change() {
    for dialect in [Dialect::Postgres, Dialect::MariaDb] {
        let chain = mlflow_chain(Project::Mlflow);
        let db = reference_at(dialect, Project::Mlflow, &chain[20]);
        let before = reflect(&db, "alembic_version");
        let dir = tempfile::tempdir().unwrap();
        // No dump tool on PATH.
        let out = migrate(&[
            "upgrade",
            "--backup",
            dir.path().to_str().unwrap(),
            &db.our_url(),
        ])
        .env("PATH", dir.path())
        .output()
        .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{dialect}: {err}");
        assert!(
            err.contains("is not on PATH") && err.contains("nothing was changed"),
            "{err}"
        );
        assert_eq!(
            reflect(&db, "alembic_version"),
            before,
            "{dialect}: changed"
        );
        assert_eq!(current(&db), chain[20]);
        // Without --backup the command that would take one is said before the run.
        let out = run(&["upgrade", "--lock-timeout", "5", &db.our_url()]);
        ok(&out);
        let err = String::from_utf8_lossy(&out.stderr);
        let tool = if dialect == Dialect::Postgres {
            "pg_dump"
        } else {
            "dump"
        };
        assert!(
            err.contains("no backup taken") && err.contains(tool),
            "{dialect}: {err}"
        );
    }
}

/// Two runs within one second (a downgrade right after an upgrade, as scripts do) each get
/// their own backup file: the second never fails on, or overwrites, the first one's copy.
#[test]
fn backups_of_runs_within_one_second_do_not_collide() {
    let db = TestDb::new(Dialect::Sqlite);
    let chain = mlflow_chain(Project::Mlflow);
    ok(&run(&[
        "upgrade",
        "--quiet",
        "--no-backup",
        &db.our_url(),
        &chain[30],
    ]));
    let mut files = Vec::new();
    for target in [&chain[31], &chain[30], &chain[31]] {
        let command = if *target == chain[30] {
            "downgrade"
        } else {
            "upgrade"
        };
        let out = run(&[command, &db.our_url(), target]);
        ok(&out);
        files.push(backup_path(&out));
    }
    let distinct: std::collections::BTreeSet<_> = files.iter().collect();
    assert_eq!(distinct.len(), 3, "backup files: {files:?}");
    assert!(files.iter().all(|f| f.exists()), "backup files: {files:?}");
}
