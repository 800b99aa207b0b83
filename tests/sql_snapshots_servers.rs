//! Snapshots of the scripts `mlflow-migrate sql base:heads --dialect postgresql|mariadb`
//! writes for each fixture project, compared byte for byte with
//! `tests/snapshots/<fixture>.<dialect>.sql` (the SQLite ones are `sql_snapshots`).
//! `UPDATE_SNAPSHOTS=1 cargo test --test sql_snapshots_servers` rewrites the files; read the
//! diff before committing one.
//!
//! Each snapshot was compared with Python Alembic 1.20.1 + SQLAlchemy 2.1.9's own offline
//! script (`upgrade heads` with `as_sql=True`, tabs as four spaces) for the URLs
//! `postgresql://`, `mysql+pymysql://` and `mariadb+pymysql://`. The MySQL-dialect script is
//! byte for byte ours. The PostgreSQL and MariaDB-dialect scripts differ only where
//! `sql_snapshots` accepts it for SQLite: `INSERT INTO alembic_version (version_num) VALUES
//! (...)` lacks the ` RETURNING alembic_version.version_num` SQLAlchemy 2 appends on
//! dialects with INSERT .. RETURNING (the row is the same; the client would only print it).
//!
//! `fixture_servers` runs the same scripts on PostgreSQL 15 and MariaDB 10.11 and compares the
//! schemas they leave with Python Alembic's. `saas_billing` and `helpdesk` have no snapshot
//! on either server: Python Alembic cannot run them there and our `sql` refuses them
//! (`recreate="always"` batches are modeled on SQLite only); the test below holds us to that,
//! so a snapshot is added when that changes.

mod support;

use std::fs;
use std::path::PathBuf;

/// The dialects, as `sql --dialect` names them and as the snapshot files do.
const DIALECTS: &[&str] = &["postgresql", "mariadb"];

/// Fixtures with a snapshot per dialect.
const FIXTURES: &[&str] = &[
    "ambiguous_prefixes",
    "branches_merges",
    "branch_labels",
    "depends_on_cross_branch",
    "two_bases_two_folders",
    "packaged_app",
];

/// Fixtures our `sql` refuses on these dialects (see `fixture_servers` for Python Alembic's
/// failures on them).
const REFUSED: &[&str] = &["saas_billing", "helpdesk"];

fn snapshot_path(fixture: &str, dialect: &str) -> PathBuf {
    support::repo_root()
        .join("tests/snapshots")
        .join(format!("{fixture}.{dialect}.sql"))
}

fn sql(fixture: &str, dialect: &str) -> std::process::Output {
    support::mlflow_migrate()
        .arg("--scripts")
        .arg(support::fixture(fixture))
        .args(["sql", "base:heads", "--dialect", dialect])
        .output()
        .unwrap()
}

fn generated(fixture: &str, dialect: &str) -> String {
    let out = sql(fixture, dialect);
    assert!(
        out.status.success(),
        "{fixture}: sql base:heads --dialect {dialect} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The first line where two texts part, for a failure message that points at it.
fn first_difference(expected: &str, actual: &str) -> String {
    let (mut e, mut a) = (expected.lines(), actual.lines());
    for number in 1.. {
        match (e.next(), a.next()) {
            (Some(x), Some(y)) if x == y => continue,
            (None, None) => break,
            (x, y) => {
                return format!(
                    "line {number}:\n  snapshot: {}\n  now:      {}",
                    x.unwrap_or("<end>"),
                    y.unwrap_or("<end>")
                )
            }
        }
    }
    "the texts differ only in their final newline".to_string()
}

fn updating() -> bool {
    std::env::var_os("UPDATE_SNAPSHOTS").is_some_and(|v| v == "1")
}

fn check(fixture: &str) {
    for dialect in DIALECTS {
        let actual = generated(fixture, dialect);
        let path = snapshot_path(fixture, dialect);
        if updating() {
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, &actual).unwrap();
            continue;
        }
        let expected = fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (UPDATE_SNAPSHOTS=1 writes it; review it before committing)",
                path.display()
            )
        });
        assert!(
            expected == actual,
            "{fixture}: the {dialect} SQL differs from {} at {}\n(UPDATE_SNAPSHOTS=1 rewrites \
             the snapshot)",
            path.display(),
            first_difference(&expected, &actual)
        );
    }
}

#[test]
fn ambiguous_prefixes_sql_matches_snapshots() {
    check("ambiguous_prefixes");
}

#[test]
fn branches_merges_sql_matches_snapshots() {
    check("branches_merges");
}

#[test]
fn branch_labels_sql_matches_snapshots() {
    check("branch_labels");
}

#[test]
fn depends_on_cross_branch_sql_matches_snapshots() {
    check("depends_on_cross_branch");
}

#[test]
fn two_bases_two_folders_sql_matches_snapshots() {
    check("two_bases_two_folders");
}

#[test]
fn packaged_app_sql_matches_snapshots() {
    check("packaged_app");
}

#[test]
fn refused_fixtures_are_still_refused() {
    for fixture in REFUSED {
        for dialect in DIALECTS {
            let out = sql(fixture, dialect);
            assert!(
                !out.status.success(),
                "{fixture}: sql --dialect {dialect} now succeeds; move it to FIXTURES and \
                 write its snapshot"
            );
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                stderr.contains("recreate=\"always\""),
                "{fixture}: sql --dialect {dialect} fails for another reason than \
                 recreate=\"always\":\n{stderr}"
            );
        }
    }
}

#[test]
fn every_fixture_is_listed_and_no_snapshot_is_stale() {
    let mut listed: Vec<String> = FIXTURES
        .iter()
        .chain(REFUSED)
        .map(|f| f.to_string())
        .collect();
    listed.sort_unstable();
    let mut found: Vec<String> = fs::read_dir(support::repo_root().join("revisions/fixtures"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    found.sort_unstable();
    assert_eq!(
        listed, found,
        "FIXTURES and REFUSED must list every fixture project, once"
    );
    if updating() {
        return;
    }
    for dialect in DIALECTS {
        let suffix = format!(".{dialect}.sql");
        let mut snapshots: Vec<String> = fs::read_dir(support::repo_root().join("tests/snapshots"))
            .unwrap()
            .filter_map(|e| {
                let name = e.unwrap().file_name().to_string_lossy().into_owned();
                name.strip_suffix(&suffix).map(str::to_string)
            })
            .collect();
        snapshots.sort_unstable();
        let mut fixtures: Vec<String> = FIXTURES.iter().map(|f| f.to_string()).collect();
        fixtures.sort_unstable();
        assert_eq!(
            fixtures, snapshots,
            "one {dialect} snapshot per fixture in FIXTURES, and no other"
        );
    }
}
