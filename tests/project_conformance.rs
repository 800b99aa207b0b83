//! Real Alembic projects other than MLflow against their own Alembic upgrade (issue 15):
//! Apache Airflow core 3.3.2 and Prefect 3.9.1, each installed with its dependencies in its
//! own virtualenv (`support::project_venv`) and upgraded by its own tooling (Alembic's
//! `command.upgrade` with Airflow's `alembic.ini`; `prefect server database upgrade -r REV`).
//!
//! Both projects' whole chains on SQLite and PostgreSQL: the project's own upgrade (one Python
//! process, `support/project_steps.py`) against our `sql base:HEAD` script run by the
//! database's own client, reflected and compared as the MLflow conformance suites do, then
//! our live `upgrade` of an empty database against the project's own at the head. With
//! `ALEMBIC_ENGINE_EVERY_REVISION=1`, revision by revision: the project's upgrade goes one
//! revision at a time (reflected after each) and our script runs piece by piece (one revision
//! each), compared after each. The only differences allowed are what Airflow's scripts'
//! offline branches leave for the operator (`airflow_offline_differences`). Airflow on MariaDB
//! as far as Airflow's own upgrade gets there. `compile-report` must report at least the
//! floors below, compiled in a row from base: a refusal earlier in the chain is a regression.
//! The data migrations, with rows, each against the project's own upgrade.
//!
//! Each project's `env.py` gives its `target_metadata` a naming convention, which Alembic
//! applies to every operation's constraints: Airflow's is read from its `env.py` (through
//! `airflow.models.base`), Prefect's, reached through its settings and dependency injection,
//! is declared in `revisions/prefect/facts.toml`; `compile-report` says which.

mod support;

use std::path::Path;
use std::process::Command;

use support::db::TestDb;
use support::project_venv::{self, AIRFLOW, PREFECT};
use support::reference_db::reflect;
use support::schema_diff::schema_differences;

/// Airflow 3.3.2's whole chain: every revision compiles, on SQLite and on PostgreSQL.
const AIRFLOW_FLOOR: usize = 124;

/// Airflow's revisions that compile in a row from base for MariaDB: all of them.
const AIRFLOW_MARIADB_FLOOR: usize = 124;

/// The last revision Airflow's own upgrade reaches on MariaDB 10.11: the next, `eed27faa34e3`,
/// calls MySQL 8's five-argument `REGEXP_REPLACE`, which MariaDB does not have (Airflow supports
/// MySQL, not MariaDB). The comparison on MariaDB stops there.
const AIRFLOW_MARIADB_REACH: &str = "9fc3fc5de720";

/// Prefect's revisions that compile in a row from base (`sql`, `upgrade`): all of them.
const PREFECT_SQLITE_FLOORS: (usize, usize) = (115, 115);
const PREFECT_POSTGRESQL_FLOORS: (usize, usize) = (120, 120);

/// `mlflow-migrate` for a project: its scripts, and the version locations it needs.
fn ours(scripts: &Path, versions: Option<&Path>) -> Command {
    let mut cmd = support::mlflow_migrate();
    cmd.arg("--scripts").arg(scripts);
    if let Some(v) = versions {
        cmd.arg("--version-location").arg(v);
    }
    cmd
}

/// The revisions that compile, in order from base, up to the first refusal: as `sql` writes
/// them (`offline`) or as `upgrade` runs them.
fn compiled_prefix(
    scripts: &Path,
    versions: Option<&Path>,
    dialect: &str,
    offline: bool,
) -> Vec<String> {
    let mut cmd = ours(scripts, versions);
    cmd.args(["--format", "json", "compile-report", "--dialect", dialect]);
    if offline {
        cmd.arg("--sql");
    }
    let out = cmd.output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    report["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .take_while(|r| r["outcome"] == "compiled")
        .map(|r| r["revision"].as_str().unwrap().to_string())
        .collect()
}

/// What `compile-report` says the project's `env.py` configures.
fn env_reading(scripts: &Path, versions: Option<&Path>) -> serde_json::Value {
    let out = ours(scripts, versions)
        .args(["--format", "json", "compile-report", "--dialect", "sqlite"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    report["env"].clone()
}

/// The compiled prefix, checked against the floor.
fn checked_prefix(
    scripts: &Path,
    versions: Option<&Path>,
    dialect: &str,
    offline: bool,
    floor: usize,
) -> Vec<String> {
    let prefix = compiled_prefix(scripts, versions, dialect, offline);
    assert!(
        prefix.len() >= floor,
        "{dialect}{}: only {} revisions compile from base: {prefix:?}",
        if offline { " (sql)" } else { "" },
        prefix.len()
    );
    prefix
}

/// Run the project's own upgrade command; it must succeed.
fn their_upgrade(cmd: &mut Command, project: &str, target: &str) {
    let out = cmd.env("PYTHONDONTWRITEBYTECODE", "1").output().unwrap();
    assert!(
        out.status.success(),
        "{project}'s own upgrade to {target} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Our whole script from base to `target`, run by the database's own client on `db`.
fn our_script(scripts: &Path, versions: Option<&Path>, target: &str, dialect: &str, db: &TestDb) {
    let sql = support::cli::succeeds(ours(scripts, versions).args([
        "sql",
        &format!("base:{target}"),
        "--dialect",
        dialect,
    ]));
    db.run_sql_script(&sql)
        .unwrap_or_else(|e| panic!("the {dialect} client refused our SQL: {e}"));
}

/// What Airflow's scripts leave undone offline, where Alembic's `--sql` cannot run their data
/// conversions: 8812eb67b63c keeps `deadline_alert.interval` FLOAT and prints the conversion
/// for the operator to run by hand. Our `sql` script follows the scripts' offline branches, so
/// it differs from Airflow's own (online) upgrade by exactly this (the float type as each
/// database reflects it).
fn airflow_offline_differences(float: &str) -> Vec<String> {
    vec![format!(
        r#"table deadline_alert, column interval, type: expected "JSON", got "{float}""#
    )]
}

/// Airflow's own upgrade of `db` to `target` (Alembic's `command.upgrade` with its `alembic.ini`).
fn airflow_upgrade(python: &Path, airflow: &Path, db: &TestDb, target: &str) {
    let home = tempfile::tempdir().unwrap();
    let upgrade = format!(
        "from alembic.config import Config\n\
         from alembic import command\n\
         cfg = Config({ini:?})\n\
         cfg.set_main_option('script_location', {scripts:?})\n\
         command.upgrade(cfg, {target:?})\n",
        ini = airflow.join("alembic.ini").display().to_string(),
        scripts = airflow.join("migrations").display().to_string(),
    );
    // Airflow insists on importing `mysqlclient` (a C extension this machine cannot build) for a
    // MySQL URL, to register a converter, even when it connects through PyMySQL: a stand-in
    // module with that converter table lets it go on through PyMySQL.
    let stand_in = home.path().join("stand-in");
    std::fs::create_dir_all(stand_in.join("MySQLdb")).unwrap();
    std::fs::write(stand_in.join("MySQLdb/__init__.py"), "").unwrap();
    std::fs::write(
        stand_in.join("MySQLdb/converters.py"),
        "conversions = {}\nDateTime2literal = None\n",
    )
    .unwrap();
    let mut cmd = Command::new(python);
    cmd.args(["-c", &upgrade])
        .env("AIRFLOW_HOME", home.path())
        .env("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", db.sqlalchemy_url());
    if db.dialect() == support::db::Dialect::MariaDb {
        // Airflow's MySQL helpers send several statements at once (a procedure, its call, its
        // drop), as mysqlclient allows: PyMySQL needs the client flag for it.
        let multi = format!("{}?client_flag=65536", db.sqlalchemy_url());
        cmd.env("PYTHONPATH", &stand_in)
            .env("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", multi);
    }
    their_upgrade(&mut cmd, "Airflow", target);
}

/// The differences between two databases' schemas, after checking they have the same tables.
fn differences(theirs: &TestDb, ours: &TestDb) -> Vec<String> {
    let expected = reflect(theirs, "alembic_version");
    let actual = support::cli::ours(ours);
    assert_eq!(
        expected["tables"].as_object().map(|t| t.len()),
        actual["tables"].as_object().map(|t| t.len())
    );
    schema_differences(&expected, &actual)
}

/// Airflow on MariaDB, up to the last revision Airflow's own upgrade reaches there: our live
/// upgrade of an empty database equals Airflow's own, and so does our `sql` script, run by the
/// `mysql` client.
#[test]
fn airflow_compiled_prefix_on_mariadb_equals_its_own_alembic_upgrade() {
    let (theirs, ours_live, ours_script) =
        (TestDb::mariadb(), TestDb::mariadb(), TestDb::mariadb());
    let python = project_venv::python(&AIRFLOW);
    let airflow = project_venv::site_packages(&python).join("airflow");
    let scripts = airflow.join("migrations");
    let prefix = checked_prefix(&scripts, None, "mariadb", true, AIRFLOW_MARIADB_FLOOR);
    assert_eq!(
        checked_prefix(&scripts, None, "mariadb", false, AIRFLOW_MARIADB_FLOOR),
        prefix,
        "upgrade and sql compile the same revisions"
    );
    let target = prefix.iter().find(|p| *p == AIRFLOW_MARIADB_REACH).unwrap();
    airflow_upgrade(&python, &airflow, &theirs, target);
    support::cli::succeeds(ours(&scripts, None).args(["upgrade", &ours_live.our_url(), target]));
    let live = differences(&theirs, &ours_live);
    assert!(
        live.is_empty(),
        "our upgrade differs at {target}:\n  {}",
        live.join("\n  ")
    );
    // Before 8812eb67b63c: the scripts' offline branches change nothing there.
    our_script(&scripts, None, target, "mariadb", &ours_script);
    let script = differences(&theirs, &ours_script);
    assert!(
        script.is_empty(),
        "our script differs at {target}:\n  {}",
        script.join("\n  ")
    );
}

/// Our `sql` script from base to the last of `revisions`, cut at its `-- Running upgrade`
/// labels into one piece per revision (the first with the version table's creation). On
/// PostgreSQL, where the script is one transaction, each piece is made one of its own (what
/// Alembic's `transaction_per_migration` does), so that the schema can be read between them.
fn script_by_revision(
    scripts: &Path,
    versions: Option<&Path>,
    revisions: &[String],
    dialect: &str,
) -> Vec<(String, String)> {
    let last = revisions.last().unwrap();
    let sql = support::cli::succeeds(ours(scripts, versions).args([
        "sql",
        &format!("base:{last}"),
        "--dialect",
        dialect,
    ]));
    let mut pieces: Vec<(String, String)> = Vec::new();
    let mut preamble = String::new();
    for line in sql.lines() {
        if let Some(label) = line.strip_prefix("-- Running upgrade ") {
            let to = label.rsplit(" -> ").next().unwrap().trim().to_string();
            pieces.push((to, std::mem::take(&mut preamble)));
        }
        match pieces.last_mut() {
            Some((_, piece)) => piece.push_str(line),
            None => preamble.push_str(line),
        }
        match pieces.last_mut() {
            Some((_, piece)) => piece.push('\n'),
            None => preamble.push('\n'),
        }
    }
    if dialect == "postgresql" {
        // The script's own BEGIN (before the first piece's label) and COMMIT (at the end of
        // the last) go; each piece is wrapped instead. An autocommit block inside a piece
        // (COMMIT; ...; BEGIN;) stays balanced within it.
        let first = &mut pieces[0].1;
        *first = first.replacen("BEGIN;\n", "", 1);
        let last = &mut pieces.last_mut().unwrap().1;
        let end = last
            .rfind("COMMIT;")
            .expect("the script ends its transaction");
        last.replace_range(end..end + "COMMIT;".len(), "");
        for (_, piece) in &mut pieces {
            *piece = format!("BEGIN;\n{piece}\nCOMMIT;\n");
        }
    }
    assert_eq!(
        pieces.iter().map(|(r, _)| r.clone()).collect::<Vec<_>>(),
        revisions,
        "one piece per revision, in order"
    );
    pieces
}

/// Where the schemas are compared: after every piece with `ALEMBIC_ENGINE_EVERY_REVISION=1`
/// (about four minutes more for the four whole chains: run locally, outside CI's time
/// budget), otherwise at the head only, the pieces then run as one script. Returns the pieces
/// to run and the revisions after which to compare.
fn at_each_revision(pieces: Vec<(String, String)>) -> (Vec<(String, String)>, Vec<String>) {
    let every = std::env::var_os("ALEMBIC_ENGINE_EVERY_REVISION").is_some_and(|v| v == "1");
    let pieces = if every {
        pieces
    } else {
        let head = pieces.last().unwrap().0.clone();
        vec![(head, pieces.into_iter().map(|(_, p)| p).collect())]
    };
    let compared = pieces.iter().map(|(r, _)| r.clone()).collect();
    (pieces, compared)
}

/// The project's own upgrade to each revision in turn (`project_steps.py`, one process,
/// reflected after each: `theirs_steps`' output) against our `sql` script's `pieces`, run one
/// by one by the database's client on `ours_db`, reflected after each. Differences allowed: the
/// scripts' offline branches (`offline`). Returns the reflection after the last revision.
fn compare_by_revision(
    project: &str,
    theirs_steps: &str,
    pieces: &[(String, String)],
    ours_db: &TestDb,
    offline: &[String],
) -> serde_json::Value {
    let mut theirs_by_revision: Vec<serde_json::Value> = theirs_steps
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(theirs_by_revision.len(), pieces.len(), "{theirs_steps}");
    let dialect = ours_db.dialect();
    for ((revision, piece), step) in pieces.iter().zip(&theirs_by_revision) {
        assert_eq!(&step["revision"], revision);
        ours_db
            .run_sql_script(piece)
            .unwrap_or_else(|e| panic!("{dialect:?}: the client refused our {revision}: {e}"));
        let mut found = schema_differences(&step["schema"], &support::cli::ours(ours_db));
        found.retain(|d| !offline.contains(d));
        assert!(
            found.is_empty(),
            "{dialect:?}: at {revision}, our script differs from {project}'s own upgrade:\n  {}",
            found.join("\n  ")
        );
    }
    theirs_by_revision.pop().unwrap()["schema"].take()
}

/// Our live `upgrade` of the empty `db` to `target` equals `expected` (the project's own
/// upgrade to it, reflected).
fn live_upgrade_equals(
    scripts: &Path,
    versions: Option<&Path>,
    db: &TestDb,
    target: &str,
    expected: &serde_json::Value,
) {
    support::cli::succeeds(ours(scripts, versions).args(["upgrade", &db.our_url(), target]));
    let found = schema_differences(expected, &support::cli::ours(db));
    assert!(
        found.is_empty(),
        "{:?}: our upgrade to {target} differs from the project's own:\n  {}",
        db.dialect(),
        found.join("\n  ")
    );
}

/// `project_steps.py PROJECT` with the project's interpreter: its own upgrade of `theirs` to
/// each of `revisions`, reflected after each.
fn their_steps(
    python: &Path,
    project: &str,
    scripts: &Path,
    theirs: &TestDb,
    revisions: &[String],
) -> Command {
    let mut cmd = Command::new(python);
    cmd.arg(support::repo_root().join("tests/support/project_steps.py"))
        .arg(project)
        .arg(scripts)
        .arg(theirs.sqlalchemy_url())
        .args(revisions)
        .env("PYTHONDONTWRITEBYTECODE", "1");
    cmd
}

/// Airflow's whole chain on `theirs`' kind of database, revision by revision and whole: its
/// own upgrade to each of its revisions in turn (one process, reflected after each) against
/// our `sql` script run piece by piece by the database's client on `ours_script` (differences
/// allowed: the scripts' offline branches, `offline`), and our live `upgrade` of the empty
/// `ours_live` to the head against its own upgrade there.
fn airflow_whole_chain(
    theirs: TestDb,
    ours_script: TestDb,
    ours_live: TestDb,
    offline: Vec<String>,
) {
    let python = project_venv::python(&AIRFLOW);
    let airflow = project_venv::site_packages(&python).join("airflow");
    let scripts = airflow.join("migrations");
    let dialect = match theirs.dialect() {
        support::db::Dialect::Sqlite => "sqlite",
        _ => "postgresql",
    };
    let env = env_reading(&scripts, None);
    assert_eq!(env["read_from"], "configure", "{env}");
    assert!(env["unread"].is_null(), "{env}");
    assert_eq!(
        env["naming_convention"]["fk"],
        "%(table_name)s_%(column_0_name)s_fkey"
    );
    let revisions = checked_prefix(&scripts, None, dialect, true, AIRFLOW_FLOOR);
    assert_eq!(
        checked_prefix(&scripts, None, dialect, false, AIRFLOW_FLOOR),
        revisions,
        "{dialect}: upgrade and sql compile the same revisions"
    );
    let (pieces, compared) =
        at_each_revision(script_by_revision(&scripts, None, &revisions, dialect));
    let home = tempfile::tempdir().unwrap();
    let steps = support::cli::succeeds(
        their_steps(&python, "airflow", &scripts, &theirs, &compared)
            .env("AIRFLOW_HOME", home.path())
            .env(
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
                theirs.sqlalchemy_url(),
            ),
    );
    let head = compare_by_revision("Airflow", &steps, &pieces, &ours_script, &offline);
    live_upgrade_equals(&scripts, None, &ours_live, revisions.last().unwrap(), &head);
}

#[test]
fn airflow_whole_chain_on_sqlite_equals_its_own_alembic_upgrade() {
    let offline = airflow_offline_differences("FLOAT");
    airflow_whole_chain(
        TestDb::sqlite(),
        TestDb::sqlite(),
        TestDb::sqlite(),
        offline,
    );
}

#[test]
fn airflow_whole_chain_on_postgresql_equals_its_own_alembic_upgrade() {
    let offline = airflow_offline_differences("DOUBLE PRECISION");
    let pg = TestDb::postgres;
    airflow_whole_chain(pg(), pg(), pg(), offline);
}

/// Prefect's whole chain on `theirs`' kind of database, revision by revision and whole, as
/// [`airflow_whole_chain`] does (`prefect server database upgrade`'s own upgrade function, run
/// in one process); no offline differences: the scripts' draining loops are `DO` blocks on
/// PostgreSQL and the recipes' single UPDATEs on SQLite.
fn prefect_whole_chain(theirs: TestDb, ours_script: TestDb, ours_live: TestDb) {
    let python = project_venv::python(&PREFECT);
    let database = project_venv::site_packages(&python).join("prefect/server/database");
    let ini = database.join("alembic.ini");
    let (dialect, floors) = match theirs.dialect() {
        support::db::Dialect::Sqlite => ("sqlite", PREFECT_SQLITE_FLOORS),
        _ => ("postgresql", PREFECT_POSTGRESQL_FLOORS),
    };
    let versions = database.join("_migrations/versions").join(dialect);
    let env = env_reading(&ini, Some(&versions));
    assert!(env["unread"].is_string(), "{env}");
    assert_eq!(env["declared_in"], "revisions/prefect/facts.toml", "{env}");
    assert_eq!(env["naming_convention"]["pk"], "pk_%(table_name)s", "{env}");
    let revisions = checked_prefix(&ini, Some(&versions), dialect, true, floors.0);
    assert_eq!(
        checked_prefix(&ini, Some(&versions), dialect, false, floors.1),
        revisions,
        "{dialect}: upgrade and sql compile the same revisions"
    );
    let (pieces, compared) = at_each_revision(script_by_revision(
        &ini,
        Some(&versions),
        &revisions,
        dialect,
    ));
    let home = tempfile::tempdir().unwrap();
    let steps = support::cli::succeeds(
        their_steps(&python, "prefect", Path::new("-"), &theirs, &compared)
            .env("PREFECT_HOME", home.path())
            .env("PREFECT_API_DATABASE_CONNECTION_URL", prefect_url(&theirs)),
    );
    let head = compare_by_revision("Prefect", &steps, &pieces, &ours_script, &[]);
    live_upgrade_equals(
        &ini,
        Some(&versions),
        &ours_live,
        revisions.last().unwrap(),
        &head,
    );
}

#[test]
fn prefect_whole_chain_on_sqlite_equals_its_own_upgrade() {
    prefect_whole_chain(TestDb::sqlite(), TestDb::sqlite(), TestDb::sqlite());
}

#[test]
fn prefect_whole_chain_on_postgresql_equals_its_own_upgrade() {
    let pg = TestDb::postgres;
    prefect_whole_chain(pg(), pg(), pg());
}

/// The URL Prefect's own tooling takes for `db` (its async drivers).
fn prefect_url(db: &TestDb) -> String {
    match db.path() {
        Some(path) => format!("sqlite+aiosqlite:///{}", path.display()),
        None => db
            .sqlalchemy_url()
            .replacen("postgresql+psycopg2://", "postgresql+asyncpg://", 1),
    }
}

/// Prefect's own upgrade of `db` to `target` (`prefect server database upgrade -r`).
fn prefect_upgrade(python: &Path, db: &TestDb, target: &str) {
    let home = tempfile::tempdir().unwrap();
    let url = prefect_url(db);
    their_upgrade(
        Command::new(python.with_file_name("prefect"))
            .args(["server", "database", "upgrade", "-y", "-r", target])
            .env("PREFECT_HOME", home.path())
            .env("PREFECT_API_DATABASE_CONNECTION_URL", url),
        "Prefect",
        target,
    );
}

/// A value for a NOT NULL column of SQLite type `ty` (declared affinity), for a row whose
/// contents do not matter.
fn placeholder(ty: &str) -> &'static str {
    let ty = ty.to_ascii_uppercase();
    if ty.contains("INT") || ty.contains("BOOL") {
        "1"
    } else if ty.contains("FLOAT") || ty.contains("REAL") || ty.contains("NUM") {
        "1.5"
    } else if ty.contains("BLOB") || ty.contains("BINARY") {
        "x'00'"
    } else if ty.contains("JSON") {
        "'{}'"
    } else if ty.contains("DATE") || ty.contains("TIME") {
        "'2025-01-01 00:00:00.000000'"
    } else {
        "'x'"
    }
}

/// One row in `table`, every NOT NULL column without a default given a placeholder.
fn insert_placeholder_row(db: &TestDb, table: &str) {
    let info = db
        .run_sql_script(&format!("PRAGMA table_info({table});"))
        .unwrap();
    // cid, name, type, notnull, dflt_value, pk (tab-separated)
    let (mut names, mut values) = (Vec::new(), Vec::new());
    for line in info.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        if f[3] == "1" && f[4].is_empty() {
            names.push(f[1].to_string());
            values.push(placeholder(f[2]));
        }
    }
    db.run_sql_script(&format!(
        "INSERT INTO {table} ({}) VALUES ({});",
        names.join(", "),
        values.join(", ")
    ))
    .unwrap();
}

#[test]
fn an_airflow_recipe_stops_where_the_database_holds_rows_only_airflow_can_convert() {
    // 808787349f22 rewrites each deadline's callback in Python; its recipe refuses a database
    // holding deadlines, by the check's name, before the revision changes anything.
    let python = project_venv::python(&AIRFLOW);
    let airflow = project_venv::site_packages(&python).join("airflow");
    let db = TestDb::sqlite();
    airflow_upgrade(&python, &airflow, &db, "3bda03debd04");
    insert_placeholder_row(&db, "deadline");
    let out = ours(&airflow.join("migrations"), None)
        .args(["upgrade", &db.our_url()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "revision 808787349f22 stopped at its recipe's check `deadline_rows_to_convert`"
        ) && stderr.contains("(the rows of: SELECT id FROM deadline)")
            && stderr.contains("were rolled back"),
        "{stderr}"
    );
    let version = db
        .run_sql_script("SELECT version_num FROM alembic_version;")
        .unwrap();
    assert_eq!(version.trim(), "3bda03debd04");
    let columns = db.run_sql_script("PRAGMA table_info(deadline);").unwrap();
    assert!(columns.contains("\tcallback_kwargs\t"), "{columns}");
    assert_eq!(
        db.run_sql_script("SELECT count(*) FROM deadline;")
            .unwrap()
            .trim(),
        "1"
    );
}

/// What `query` gives on Prefect's database and on ours.
fn rows_of(theirs: &TestDb, ours_db: &TestDb, query: &str) -> (String, String) {
    (
        theirs.run_sql_script(query).unwrap(),
        ours_db.run_sql_script(query).unwrap(),
    )
}

/// One of Prefect's data migrations with rows: its revision in the chain of `db`'s kind
/// (SQLite's or PostgreSQL's), the one before it, and both upgrades to it.
struct PrefectStep {
    python: std::path::PathBuf,
    ini: std::path::PathBuf,
    versions: std::path::PathBuf,
    dialect: &'static str,
    before: &'static str,
    revision: &'static str,
}

impl PrefectStep {
    /// `[before, revision]` in SQLite's chain and in PostgreSQL's; `theirs` is brought to
    /// `before` by Prefect's own upgrade.
    fn new(theirs: &TestDb, sqlite: [&'static str; 2], postgresql: [&'static str; 2]) -> Self {
        let python = project_venv::python(&PREFECT);
        let database = project_venv::site_packages(&python).join("prefect/server/database");
        let (dialect, [before, revision]) = match theirs.dialect() {
            support::db::Dialect::Sqlite => ("sqlite", sqlite),
            _ => ("postgresql", postgresql),
        };
        prefect_upgrade(&python, theirs, before);
        PrefectStep {
            ini: database.join("alembic.ini"),
            versions: database.join("_migrations/versions").join(dialect),
            python,
            dialect,
            before,
            revision,
        }
    }

    /// Prefect's own upgrade of `theirs` to the revision, and ours of `ours_db`.
    fn upgrade_both(&self, theirs: &TestDb, ours_db: &TestDb) {
        prefect_upgrade(&self.python, theirs, self.revision);
        support::cli::succeeds(ours(&self.ini, Some(&self.versions)).args([
            "upgrade",
            &ours_db.our_url(),
            self.revision,
        ]));
    }

    /// Our `sql` script from `before` to the revision, run on `db` by the database's client.
    fn script(&self, db: &TestDb) {
        let range = format!("{}:{}", self.before, self.revision);
        let sql = support::cli::succeeds(ours(&self.ini, Some(&self.versions)).args([
            "sql",
            &range,
            "--dialect",
            self.dialect,
        ]));
        db.run_sql_script(&sql)
            .unwrap_or_else(|e| panic!("the client refused our script: {e}\n{sql}"));
    }

    /// Our upgrade of `db` to the revision, which must stop at `check`, leaving `db` at
    /// `before`.
    fn refused(&self, db: &TestDb, check: &str) {
        let out = ours(&self.ini, Some(&self.versions))
            .args(["upgrade", &db.our_url(), self.revision])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(check), "{stderr}");
        let version = db
            .run_sql_script("SELECT version_num FROM alembic_version;")
            .unwrap();
        assert_eq!(version.trim(), self.before);
    }
}

/// Prefect's SQLite data migrations that page and batch through rows: `f92143d30c25` fills
/// `has_data` in batches until one changes fewer rows than its size, `f92143d30c26` (its
/// recipe) copies each state's data into `artifact` and points the state at it. On a database
/// holding 1,234 task run states and 777 flow run states (more than two batches of 500), our
/// upgrade leaves the rows Prefect's own upgrade leaves: the same states with data, each
/// pointing at an artifact of its own run, state and data, made in the same order.
#[test]
fn prefect_batched_artifact_migrations_with_rows_equal_its_own_upgrade() {
    let theirs = TestDb::sqlite();
    let step = PrefectStep::new(&theirs, ["f92143d30c24", "f92143d30c26"], ["", ""]);
    let rows = |table: &str, run: &str, n: usize| {
        format!(
            "WITH RECURSIVE i(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM i WHERE n < {n})
             INSERT INTO {table} (id, type, name, {run}, data)
             SELECT printf('{table}-%05d', n), 'COMPLETED', 'Completed', printf('{run}-%05d', n),
                    CASE n % 3 WHEN 0 THEN NULL WHEN 1 THEN 'null'
                               ELSE json_object('n', n, 's', 'x''y') END
             FROM i;\n"
        )
    };
    theirs
        .run_sql_script(
            &(rows("task_run_state", "task_run_id", 1234)
                + &rows("flow_run_state", "flow_run_id", 777)),
        )
        .unwrap();
    let ours_db = theirs.copy_to_new();
    let ours_script = theirs.copy_to_new();
    step.upgrade_both(&theirs, &ours_db);
    // The `sql` script too: its batches are one UPDATE each (the recipes' offline branch).
    step.script(&ours_script);
    let query = "SELECT s.id, s.has_data, a.task_run_state_id, a.task_run_id, a.data
                 FROM task_run_state s LEFT JOIN artifact a ON a.id = s.result_artifact_id
                 ORDER BY s.id;
                 SELECT s.id, s.has_data, a.flow_run_state_id, a.flow_run_id, a.data
                 FROM flow_run_state s LEFT JOIN artifact a ON a.id = s.result_artifact_id
                 ORDER BY s.id;
                 SELECT count(*), count(DISTINCT id) FROM artifact;
                 SELECT coalesce(task_run_state_id, flow_run_state_id) FROM artifact
                 ORDER BY rowid;";
    let (python_rows, our_rows) = rows_of(&theirs, &ours_db, query);
    let state_2 = "task_run_state-00002\t1\ttask_run_state-00002\ttask_run_id-00002\t\
                   {\"n\":2,\"s\":\"x'y\"}\n";
    assert!(python_rows.contains(state_2), "{python_rows}");
    // One state in three holds data (NULL and JSON null do not): 411 of 1,234, 259 of 777.
    assert!(python_rows.contains("\n670\t670\n"), "{python_rows}");
    assert_eq!(our_rows, python_rows);
    assert_eq!(rows_of(&theirs, &ours_script, query).1, python_rows);
}

/// Prefect's SQLite backfills from each run's state (`db6bde582447`: state names), whose
/// draining loops the `sqlite3` client cannot run: on a database holding 700 flow runs and 600
/// task runs (one in seven without a state), our `sql` script (one UPDATE each, the recipe's
/// offline branch) and our `upgrade` leave the names Prefect's own upgrade leaves.
#[test]
fn prefect_state_backfills_with_rows_equal_its_own_upgrade_in_sql_scripts_too() {
    let theirs = TestDb::sqlite();
    let step = PrefectStep::new(&theirs, ["7f5f335cace3", "db6bde582447"], ["", ""]);
    let runs = |run: &str, n: usize, extra: &str, values: &str| {
        format!(
            "WITH RECURSIVE i(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM i WHERE n < {n})
             INSERT INTO {run} (id, name, flow_id_or_run{extra})
             SELECT printf('{run}-%05d', n), 'r' || n, {values} FROM i;
             WITH RECURSIVE i(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM i WHERE n < {n})
             INSERT INTO {run}_state (id, type, name, {run}_id)
             SELECT printf('{run}_state-%05d', n), 'COMPLETED', 'Completed ' || n,
                    printf('{run}-%05d', n) FROM i;
             UPDATE {run} SET state_id = replace(id, '{run}-', '{run}_state-')
             WHERE CAST(substr(id, length('{run}-') + 1) AS INTEGER) % 7 <> 0;\n"
        )
    };
    let flow = "'00000000-0000-4000-8000-00000000f10e'";
    let rows = format!("INSERT INTO flow (id, name) VALUES ({flow}, 'f');\n")
        + &runs("flow_run", 700, "", flow).replace("flow_id_or_run", "flow_id")
        + &runs(
            "task_run",
            600,
            ", task_key, dynamic_key",
            "'flow_run-00001', 'k' || n, 'd' || n",
        )
        .replace("flow_id_or_run", "flow_run_id");
    theirs.run_sql_script(&rows).unwrap();
    let (ours_db, ours_script) = (theirs.copy_to_new(), theirs.copy_to_new());
    step.upgrade_both(&theirs, &ours_db);
    step.script(&ours_script);
    let query = "SELECT id, state_id, state_name FROM flow_run ORDER BY id;
                 SELECT id, state_id, state_name FROM task_run ORDER BY id;";
    let (python_rows, our_rows) = rows_of(&theirs, &ours_db, query);
    assert!(
        python_rows.contains("flow_run-00001\tflow_run_state-00001\tCompleted 1\n")
            && python_rows.contains("flow_run-00007\t\t\n"),
        "{python_rows}"
    );
    assert_eq!(our_rows, python_rows);
    assert_eq!(rows_of(&theirs, &ours_script, query).1, python_rows);
}

/// Prefect's work-queue data migration (`1678f2fb8b33` on SQLite, `f98ae6d8e2cc` on
/// PostgreSQL, served by recipes) on a database holding three queues, none named `default`,
/// with flow runs and deployments naming them, `default` and no queue: our upgrade leaves the
/// pool, queues, priorities and assignments Prefect's own upgrade leaves. With one run more
/// than a batch of 250 on a queue, Prefect's loop assigns only 250 of them (which ones is up
/// to the database): our upgrade stops before any change, naming its check.
fn prefect_work_queue_migration(theirs: TestDb) {
    let step = PrefectStep::new(
        &theirs,
        ["b9bda9f142f1", "1678f2fb8b33"],
        ["0a1250a5aa25", "f98ae6d8e2cc"],
    );
    let runs = |n: usize, queue: &str| {
        format!(
            "INSERT INTO flow_run (name, flow_id, work_queue_name)
             WITH RECURSIVE i(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM i WHERE n < {n})
             SELECT '{queue}-' || n, '00000000-0000-4000-8000-00000000f10e', '{queue}' FROM i;\n"
        )
    };
    let rows = "INSERT INTO flow (id, name) VALUES ('00000000-0000-4000-8000-00000000f10e', 'f');
                INSERT INTO work_queue (name) VALUES ('gamma');
                INSERT INTO work_queue (name) VALUES ('alpha');
                INSERT INTO work_queue (name) VALUES ('beta');
                INSERT INTO deployment (name, flow_id, work_queue_name) VALUES
                  ('d1', '00000000-0000-4000-8000-00000000f10e', 'alpha'),
                  ('d2', '00000000-0000-4000-8000-00000000f10e', 'alpha'),
                  ('d3', '00000000-0000-4000-8000-00000000f10e', 'default'),
                  ('d4', '00000000-0000-4000-8000-00000000f10e', 'nosuch');\n"
        .to_string()
        + &runs(3, "alpha")
        + &runs(250, "beta")
        + &runs(2, "default")
        + &runs(2, "nosuch");
    theirs.run_sql_script(&rows).unwrap();
    let query = "SELECT name, priority, work_pool_id IS NOT NULL FROM work_queue ORDER BY name;
                 SELECT p.name, p.type, q.name FROM work_pool p
                 LEFT JOIN work_queue q ON q.id = p.default_queue_id ORDER BY p.name;
                 SELECT r.name, q.name FROM flow_run r LEFT JOIN work_queue q
                 ON q.id = r.work_queue_id ORDER BY r.name;
                 SELECT d.name, q.name FROM deployment d LEFT JOIN work_queue q
                 ON q.id = d.work_queue_id ORDER BY d.name;
                 SELECT version_num FROM alembic_version;";
    let ours_db = theirs.copy_to_new();
    let over = theirs.copy_to_new();
    over.run_sql_script(&runs(1, "beta").replace("'beta-' || n", "'beta-extra'"))
        .unwrap();
    step.upgrade_both(&theirs, &ours_db);
    let (python_rows, our_rows) = rows_of(&theirs, &ours_db, query);
    // The queues numbered in the order the script's query returns them: as stored on SQLite
    // (`default`, created, last); on PostgreSQL the moved queues' new row versions come after
    // `default`, which did not move.
    let order = match step.dialect {
        "sqlite" => ["gamma", "alpha", "beta", "default"],
        _ => ["default", "gamma", "alpha", "beta"],
    };
    for (queue, priority) in order.iter().zip(1..) {
        assert!(
            python_rows.contains(&format!("{queue}\t{priority}\t")),
            "{python_rows}"
        );
    }
    assert!(python_rows.contains("beta-250\tbeta\n"), "{python_rows}");
    assert_eq!(our_rows, python_rows);

    let before_refusal = (
        support::cli::ours(&over),
        over.run_sql_script(query).unwrap(),
    );
    step.refused(&over, "work_queue_runs_over_one_batch");
    assert_eq!(
        (
            support::cli::ours(&over),
            over.run_sql_script(query).unwrap()
        ),
        before_refusal
    );
}

#[test]
fn prefect_work_queue_migration_on_sqlite_equals_its_own_upgrade() {
    prefect_work_queue_migration(TestDb::sqlite());
}

#[test]
fn prefect_work_queue_migration_on_postgresql_equals_its_own_upgrade() {
    prefect_work_queue_migration(TestDb::postgres());
}

/// Prefect's second artifact migration (`2dbcec43c857` on SQLite, `15f5083c16bd` on
/// PostgreSQL, one recipe) on 600 artifact collections: the script pages through them 500 at
/// a time but moves its offset 500 per row, so after the first page it reads none of the
/// other 100. Our upgrade leaves each collection as Prefect's own does: the first 500 in `id`
/// order filled from their latest artifact, the rest as they were.
fn prefect_artifact_collections(theirs: TestDb) {
    let step = PrefectStep::new(
        &theirs,
        ["3d46e23593d6", "2dbcec43c857"],
        ["310dda75f561", "15f5083c16bd"],
    );
    let dialect = step.dialect;
    let uuid = match dialect {
        "sqlite" => "printf('00000000-0000-4000-8000-%012d', n)",
        _ => "CAST('00000000-0000-4000-8000-' || lpad(CAST(n AS TEXT), 12, '0') AS UUID)",
    };
    let numbers = "WITH RECURSIVE i(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM i WHERE n < 600)";
    let collection_id = uuid
        .replace("n)", "n + 1000)")
        .replace("CAST(n AS", "CAST(n + 1000 AS");
    let json = |text: &str| match dialect {
        "sqlite" => text.to_string(),
        _ => format!("CAST({text} AS JSON)"),
    };
    let (data, metadata) = (json("'\"d-' || n || '\"'"), json("'{}'"));
    theirs
        .run_sql_script(&format!(
            "INSERT INTO artifact (id, key, type, data, description, metadata_)
             {numbers} SELECT {uuid}, 'k-' || n, 'markdown', {data}, 'about ' || n, {metadata}
             FROM i;
             INSERT INTO artifact_collection (id, key, latest_id)
             {numbers} SELECT {collection_id}, 'k-' || n, {uuid} FROM i;"
        ))
        .unwrap();
    let ours_db = theirs.copy_to_new();
    step.upgrade_both(&theirs, &ours_db);
    let query = "SELECT key, type, data, description, metadata_ FROM artifact_collection
                 ORDER BY id;";
    let (python_rows, our_rows) = rows_of(&theirs, &ours_db, query);
    assert!(python_rows.contains("k-500\tmarkdown\t"), "{python_rows}");
    assert!(python_rows.contains("k-501\t\t"), "{python_rows}");
    assert_eq!(our_rows, python_rows);
}

#[test]
fn prefect_artifact_collections_on_sqlite_equal_its_own_upgrade() {
    prefect_artifact_collections(TestDb::sqlite());
}

#[test]
fn prefect_artifact_collections_on_postgresql_equal_its_own_upgrade() {
    prefect_artifact_collections(TestDb::postgres());
}

/// Prefect's JSON variables (`2ac65f1758c2` on SQLite, `94622c1663e8` on PostgreSQL, one
/// recipe): values with quotes, a backslash, a slash, control characters (and on PostgreSQL
/// characters beyond ASCII) become the JSON Prefect's own upgrade writes. On SQLite a value
/// beyond ASCII (which `json.dumps` escapes and SQLite's `json_quote` does not) stops our
/// upgrade before any change.
fn prefect_json_variables(theirs: TestDb) {
    let step = PrefectStep::new(
        &theirs,
        ["20fbd53b3cef", "2ac65f1758c2"],
        ["b23c83a12cb4", "94622c1663e8"],
    );
    let dialect = step.dialect;
    let chr = if dialect == "sqlite" { "char" } else { "chr" };
    let mut values = vec![
        ("plain", "'hello'".to_string()),
        ("quotes", "'say \"hi\" it''s'".to_string()),
        ("slashes", "'a\\b/c'".to_string()),
        (
            "controls",
            format!("'tab' || {chr}(9) || 'nl' || {chr}(10) || {chr}(1) || {chr}(127)"),
        ),
        ("empty", "''".to_string()),
    ];
    let beyond = ("beyond", "'café ☕ 𝄞'".to_string());
    if dialect == "postgresql" {
        values.push(beyond.clone());
    }
    let insert = |rows: &[(&str, String)]| -> String {
        rows.iter()
            .map(|(name, value)| {
                format!("INSERT INTO variable (name, value) VALUES ('{name}', {value});\n")
            })
            .collect()
    };
    theirs.run_sql_script(&insert(&values)).unwrap();
    let ours_db = theirs.copy_to_new();
    let refused = (dialect == "sqlite").then(|| {
        let db = theirs.copy_to_new();
        db.run_sql_script(&insert(&[beyond])).unwrap();
        db
    });
    step.upgrade_both(&theirs, &ours_db);
    let query = "SELECT name, value FROM variable ORDER BY name;";
    let (python_rows, our_rows) = rows_of(&theirs, &ours_db, query);
    assert!(
        python_rows.contains("quotes\t\"say \\\"hi\\\" it's\"\n"),
        "{python_rows}"
    );
    assert_eq!(our_rows, python_rows);
    if let Some(db) = refused {
        step.refused(&db, "variable_values_beyond_ascii");
    }
}

#[test]
fn prefect_json_variables_on_sqlite_equal_its_own_upgrade() {
    prefect_json_variables(TestDb::sqlite());
}

#[test]
fn prefect_json_variables_on_postgresql_equal_its_own_upgrade() {
    prefect_json_variables(TestDb::postgres());
}

/// Prefect's move of V1 concurrency limits to V2 (`9e83011d1f2a`, both chains, one recipe):
/// two V1 limits become V2 limits with their ids, a third is skipped for the V2 limit already
/// named after its tag, and the V1 limits are deleted, as by Prefect's own upgrade. A V1 limit
/// holding active slots (leases only the script can create) stops our upgrade before any change.
fn prefect_concurrency_limits(theirs: TestDb) {
    let step = PrefectStep::new(
        &theirs,
        ["8bb517bae6f9", "9e83011d1f2a"],
        ["3b86c5ea017a", "9e83011d1f2a"],
    );
    let active = if step.dialect == "sqlite" {
        "1"
    } else {
        "true"
    };
    theirs
        .run_sql_script(&format!(
            "INSERT INTO concurrency_limit (tag, concurrency_limit, active_slots)
             VALUES ('a', 5, '[]'), ('b', 1, '[]'), ('c', 2, '[]');
             INSERT INTO concurrency_limit_v2 (name, \"limit\", active, active_slots,
               denied_slots, slot_decay_per_second, avg_slot_occupancy_seconds)
             VALUES ('tag:b', 9, {active}, 0, 0, 0.0, 0.0);"
        ))
        .unwrap();
    let ours_db = theirs.copy_to_new();
    let holding = theirs.copy_to_new();
    holding
        .run_sql_script(
            "INSERT INTO concurrency_limit (tag, concurrency_limit, active_slots)
             VALUES ('d', 1, '[\"00000000-0000-4000-8000-000000000001\"]');",
        )
        .unwrap();
    step.upgrade_both(&theirs, &ours_db);
    let query = "SELECT v2.name, v2.\"limit\", v2.id, v2.active, v2.active_slots, v2.denied_slots,
                        v2.slot_decay_per_second, v2.avg_slot_occupancy_seconds,
                        v2.created, v2.updated
                 FROM concurrency_limit_v2 AS v2 ORDER BY v2.name;
                 SELECT count(*) FROM concurrency_limit;";
    let (python_rows, our_rows) = rows_of(&theirs, &ours_db, query);
    assert!(python_rows.contains("tag:a\t5\t"), "{python_rows}");
    assert!(python_rows.contains("tag:b\t9\t"), "{python_rows}");
    assert!(python_rows.ends_with("\n0\n"), "{python_rows}");
    assert_eq!(our_rows, python_rows);
    step.refused(&holding, "concurrency_limits_holding_active_slots");
}

#[test]
fn prefect_concurrency_limits_on_sqlite_equal_its_own_upgrade() {
    prefect_concurrency_limits(TestDb::sqlite());
}

#[test]
fn prefect_concurrency_limits_on_postgresql_equal_its_own_upgrade() {
    prefect_concurrency_limits(TestDb::postgres());
}

/// Prefect's concurrent index builds that first ask the server about the index (`50737cdaee36`
/// and three later PostgreSQL revisions, one recipe): an invalid index left by an interrupted
/// build (here a failed `CREATE UNIQUE INDEX CONCURRENTLY`) is dropped and built again, as
/// Prefect's own upgrade does: afterwards both databases hold the same valid, plain index.
#[test]
fn prefect_invalid_index_leftover_is_rebuilt_as_by_its_own_upgrade() {
    let theirs = TestDb::postgres();
    let step = PrefectStep::new(&theirs, ["", ""], ["bad1e352c597", "50737cdaee36"]);
    let leftover = "INSERT INTO event_resources (occurred, resource_id, resource_role, resource,
                      event_id) VALUES
                      (now(), 'r', 'role', '{}', '00000000-0000-4000-8000-000000000001'),
                      (now(), 'r', 'role', '{}', '00000000-0000-4000-8000-000000000001');
                    CREATE UNIQUE INDEX CONCURRENTLY ix_event_resources__event_id
                      ON event_resources (event_id);";
    // The build fails on the duplicate and leaves the index behind, invalid.
    assert!(theirs.run_sql_script(leftover).is_err());
    let query = "SELECT c.relname, i.indisvalid, i.indisunique, pg_get_indexdef(c.oid)
                 FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid
                 WHERE c.relname = 'ix_event_resources__event_id';";
    assert!(theirs.run_sql_script(query).unwrap().contains("\tf\tt\t"));
    let ours_db = theirs.copy_to_new();
    step.upgrade_both(&theirs, &ours_db);
    let (python_rows, our_rows) = rows_of(&theirs, &ours_db, query);
    assert!(python_rows.contains("\tt\tf\t"), "{python_rows}");
    assert_eq!(our_rows, python_rows);
}
