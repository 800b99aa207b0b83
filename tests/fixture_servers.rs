//! The fixture projects under `revisions/fixtures/` on the real servers, PostgreSQL 15 and
//! MariaDB 10.11, with Python Alembic as the expected value (the harness's standard online
//! body, as in `fixture_conformance`):
//!
//! - for every (fixture, server) pair where Python Alembic can run the fixture, our whole
//!   `sql base:heads --dialect postgresql|mariadb` script, run by `psql`/`mysql` on an empty
//!   database, leaves the schema (normalized reflection, names included) Python Alembic
//!   leaves at the heads;
//! - the pairs where Python Alembic itself fails are listed in `ALEMBIC_FAILS` with the
//!   reason and tested too: Python Alembic must still fail there, for that reason, and so
//!   must we (`sql` exits non-zero, or the server refuses our script). No pair is skipped
//!   silently; if Alembic starts succeeding on one, its test fails and the pair must move to
//!   the comparison.
//!
//! The two fixtures written for SQLite (`saas_billing`, `helpdesk`) are the failing ones:
//! their `sa.text("0")`/`sa.text("1")` Boolean server defaults are integers, which PostgreSQL
//! refuses for a BOOLEAN column; on MariaDB, helpdesk's `(datetime('now'))` default is SQLite
//! SQL, and saas_billing's `recreate="always"` batch makes Alembic create
//! `_alembic_tmp_invoices` with the constraint names the old table still holds (InnoDB names
//! are per database: errno 121). We refuse `recreate="always"` outside SQLite.

mod support;

use support::db::{Dialect, TestDb};
use support::reference_db::{build_reference, reflect, try_build_reference, Project};
use support::schema_diff::schema_differences;

const VERSION_TABLE: &str = "alembic_version";

/// The servers, each with the name `sql --dialect` takes for it.
const SERVERS: &[(Dialect, &str)] = &[
    (Dialect::Postgres, "postgresql"),
    (Dialect::MariaDb, "mariadb"),
];

/// Fixtures Python Alembic runs on both servers: compared with it on each.
const PORTABLE: &[&str] = &[
    "ambiguous_prefixes",
    "branches_merges",
    "branch_labels",
    "depends_on_cross_branch",
    "packaged_app",
    "two_bases_two_folders",
];

/// (fixture, server, a phrase of Python Alembic's error there, why).
const ALEMBIC_FAILS: &[(&str, Dialect, &str, &str)] = &[
    (
        "saas_billing",
        Dialect::Postgres,
        "default expression is of type integer",
        "BOOLEAN column with server_default=sa.text(\"0\")",
    ),
    (
        "helpdesk",
        Dialect::Postgres,
        "default expression is of type integer",
        "BOOLEAN column with server_default=sa.text('1')",
    ),
    (
        "saas_billing",
        Dialect::MariaDb,
        "_alembic_tmp_invoices` (errno: 121",
        "recreate=\"always\" batch: _alembic_tmp_invoices reuses the old table's constraint \
         names (errno 121)",
    ),
    (
        "helpdesk",
        Dialect::MariaDb,
        "('now')",
        "server_default=sa.text(\"(datetime('now'))\") is SQLite SQL",
    ),
];

fn new_db(dialect: Dialect) -> TestDb {
    match dialect {
        Dialect::Postgres => TestDb::postgres(),
        Dialect::MariaDb => TestDb::mariadb(),
        Dialect::Sqlite => unreachable!("the SQLite fixtures are in fixture_conformance"),
    }
}

fn dialect_name(dialect: Dialect) -> &'static str {
    SERVERS
        .iter()
        .find(|(d, _)| *d == dialect)
        .map(|(_, name)| *name)
        .expect("a server")
}

/// Our script for the whole history, or why `sql` refused to write it.
fn our_script(fixture: &str, dialect: Dialect) -> Result<String, String> {
    let out = support::mlflow_migrate()
        .arg("--scripts")
        .arg(support::fixture(fixture))
        .args(["sql", "base:heads", "--dialect", dialect_name(dialect)])
        .output()
        .unwrap();
    if out.status.success() {
        Ok(String::from_utf8(out.stdout).unwrap())
    } else {
        Err(format!(
            "sql base:heads failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Our script run on an empty database, or where it stopped.
fn our_database(fixture: &str, dialect: Dialect) -> Result<TestDb, String> {
    let sql = our_script(fixture, dialect)?;
    let db = new_db(dialect);
    db.run_sql_script(&sql)
        .map_err(|e| format!("the server refused our SQL: {e}"))?;
    Ok(db)
}

fn full_script_equals_python_alembic(fixture: &str, dialect: Dialect) {
    assert!(PORTABLE.contains(&fixture), "{fixture} is not in PORTABLE");
    let name = dialect_name(dialect);
    let ours =
        our_database(fixture, dialect).unwrap_or_else(|e| panic!("{fixture} on {name}: {e}"));
    let reference = new_db(dialect);
    build_reference(
        &reference,
        Project::Fixture,
        &support::fixture(fixture),
        "heads",
    );
    let differences = schema_differences(
        &reflect(&reference, VERSION_TABLE),
        &reflect(&ours, VERSION_TABLE),
    );
    assert!(
        differences.is_empty(),
        "{fixture} on {name}: base -> heads differs from Python Alembic:\n  {}",
        differences.join("\n  ")
    );
}

fn both_fail(fixture: &str, dialect: Dialect) {
    let name = dialect_name(dialect);
    let (_, _, phrase, why) = ALEMBIC_FAILS
        .iter()
        .find(|(f, d, _, _)| *f == fixture && *d == dialect)
        .unwrap_or_else(|| panic!("({fixture}, {name}) is not in ALEMBIC_FAILS"));
    let reference = new_db(dialect);
    match try_build_reference(
        &reference,
        Project::Fixture,
        &support::fixture(fixture),
        "heads",
    ) {
        Ok(()) => panic!(
            "Python Alembic now runs {fixture} on {name} (listed as failing: {why}); move the \
             pair to the comparison"
        ),
        Err(e) => assert!(
            e.contains(phrase),
            "Python Alembic fails on {fixture} on {name}, but not for the reason listed \
             ({why}: expected {phrase:?}):\n{e}"
        ),
    }
    if our_database(fixture, dialect).is_ok() {
        panic!(
            "our script for {fixture} runs on {name}, where Python Alembic fails ({why}); \
             Alembic is the expected value"
        );
    }
}

#[test]
fn ambiguous_prefixes_on_postgresql_equals_python_alembic() {
    full_script_equals_python_alembic("ambiguous_prefixes", Dialect::Postgres);
}

#[test]
fn ambiguous_prefixes_on_mariadb_equals_python_alembic() {
    full_script_equals_python_alembic("ambiguous_prefixes", Dialect::MariaDb);
}

#[test]
fn branches_merges_on_postgresql_equals_python_alembic() {
    full_script_equals_python_alembic("branches_merges", Dialect::Postgres);
}

#[test]
fn branches_merges_on_mariadb_equals_python_alembic() {
    full_script_equals_python_alembic("branches_merges", Dialect::MariaDb);
}

#[test]
fn branch_labels_on_postgresql_equals_python_alembic() {
    full_script_equals_python_alembic("branch_labels", Dialect::Postgres);
}

#[test]
fn branch_labels_on_mariadb_equals_python_alembic() {
    full_script_equals_python_alembic("branch_labels", Dialect::MariaDb);
}

#[test]
fn depends_on_cross_branch_on_postgresql_equals_python_alembic() {
    full_script_equals_python_alembic("depends_on_cross_branch", Dialect::Postgres);
}

#[test]
fn depends_on_cross_branch_on_mariadb_equals_python_alembic() {
    full_script_equals_python_alembic("depends_on_cross_branch", Dialect::MariaDb);
}

/// Types from the project's own package: `load_dialect_impl` picks a native UUID on
/// PostgreSQL and `TIMESTAMP(6)` on MariaDB (which gets an explicit `NULL` as a timestamp).
#[test]
fn packaged_app_on_postgresql_equals_python_alembic() {
    full_script_equals_python_alembic("packaged_app", Dialect::Postgres);
}

#[test]
fn packaged_app_on_mariadb_equals_python_alembic() {
    full_script_equals_python_alembic("packaged_app", Dialect::MariaDb);
}

#[test]
fn two_bases_two_folders_on_postgresql_equals_python_alembic() {
    full_script_equals_python_alembic("two_bases_two_folders", Dialect::Postgres);
}

#[test]
fn two_bases_two_folders_on_mariadb_equals_python_alembic() {
    full_script_equals_python_alembic("two_bases_two_folders", Dialect::MariaDb);
}

#[test]
fn saas_billing_on_postgresql_fails_in_python_alembic_and_in_ours() {
    both_fail("saas_billing", Dialect::Postgres);
}

#[test]
fn saas_billing_on_mariadb_fails_in_python_alembic_and_in_ours() {
    both_fail("saas_billing", Dialect::MariaDb);
}

#[test]
fn helpdesk_on_postgresql_fails_in_python_alembic_and_in_ours() {
    both_fail("helpdesk", Dialect::Postgres);
}

#[test]
fn helpdesk_on_mariadb_fails_in_python_alembic_and_in_ours() {
    both_fail("helpdesk", Dialect::MariaDb);
}

#[test]
fn every_fixture_and_server_pair_is_listed_once() {
    // A new fixture must be compared on each server, or listed with the reason Python
    // Alembic fails there.
    let mut found: Vec<String> = std::fs::read_dir(support::repo_root().join("revisions/fixtures"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    found.sort_unstable();
    for fixture in &found {
        for (dialect, name) in SERVERS {
            let compared = PORTABLE.contains(&fixture.as_str());
            let failing = ALEMBIC_FAILS
                .iter()
                .filter(|(f, d, _, _)| f == fixture && d == dialect)
                .count();
            assert_eq!(
                usize::from(compared) + failing,
                1,
                "({fixture}, {name}) must be in exactly one of PORTABLE and ALEMBIC_FAILS"
            );
        }
    }
    for (fixture, ..) in ALEMBIC_FAILS {
        assert!(
            found.iter().any(|f| f == fixture),
            "{fixture}: no such fixture"
        );
    }
    for fixture in PORTABLE {
        assert!(
            found.iter().any(|f| f == fixture),
            "{fixture}: no such fixture"
        );
    }
}
