//! Database URLs against the real servers: PostgreSQL's `options=-csearch_path=...` puts every
//! table (ours too) in that schema as `mlflow db upgrade` does, and its lock is per schema;
//! an empty MySQL password is no password; an unknown parameter or a host list is refused
//! before anything is touched; PostgreSQL errors keep the server's DETAIL and HINT; an
//! unanswering server fails within the connect timeout; `connect_existing` creates nothing.

mod support;

use std::process::Output;
use std::time::{Duration, Instant};

use alembic_engine::db::{Conn, DbError, DbUrl, Lock};
use support::cli::{assert_mlflow_accepts, migrate, ok, ours, run, JOURNAL};
use support::db::TestDb;
use support::reference_db::{reference_command, reflect};
use support::schema_diff::schema_differences;

/// `options=-csearch_path=<schema>`, %-escaped as users write it in a URL.
fn in_schema(url: &str, schema: &str) -> String {
    format!("{url}?options=-csearch_path%3D{schema}")
}

/// The tables PostgreSQL holds in `schema` of `db`, sorted.
fn tables_in(db: &TestDb, schema: &str) -> Vec<String> {
    let out = db
        .run_sql_script(&format!(
            "SELECT table_name FROM information_schema.tables \
             WHERE table_schema = '{schema}' ORDER BY 1;"
        ))
        .unwrap();
    out.lines().map(str::to_string).collect()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs `args`, expecting exit 1 with every one of `needles` in its error output.
fn fails_saying(args: &[&str], needles: &[&str]) -> String {
    let out = run(args);
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {text}");
    for needle in needles {
        assert!(text.contains(needle), "{args:?}: no {needle:?} in: {text}");
    }
    text
}

/// MLflow's own commands from the reference environment, with `url` as given.
fn mlflow_db_upgrade_at(url: &str) {
    let python = support::ref_python();
    let out = reference_command(&python.parent().unwrap().join("mlflow"))
        .args(["db", "upgrade", url])
        .output()
        .unwrap();
    ok(&out);
}

fn mlflow_verify_schema_at(url: &str) {
    let out = reference_command(&support::ref_python())
        .args([
            "-c",
            "import sys, sqlalchemy; from mlflow.store.db.utils import _verify_schema; \
             _verify_schema(sqlalchemy.create_engine(sys.argv[1]))",
            url,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "MLflow's schema check failed at {url}: {}",
        stderr(&out)
    );
}

#[test]
fn a_search_path_in_options_puts_every_table_in_that_schema_as_mlflow_does() {
    let db = TestDb::postgres();
    let twin = TestDb::postgres();
    for d in [&db, &twin] {
        d.run_sql_script("CREATE SCHEMA mlf;").unwrap();
    }
    ok(&run(&[
        "upgrade",
        "--quiet",
        &in_schema(&db.our_url(), "mlf"),
    ]));
    mlflow_db_upgrade_at(&in_schema(&twin.sqlalchemy_url(), "mlf"));

    assert_eq!(tables_in(&twin, "public"), Vec::<String>::new());
    assert_eq!(tables_in(&db, "public"), Vec::<String>::new());
    let ours_in_mlf = tables_in(&db, "mlf");
    for table in ["alembic_version", JOURNAL, "experiments", "runs"] {
        assert!(
            ours_in_mlf.iter().any(|t| t == table),
            "{table} is not in mlf: {ours_in_mlf:?}"
        );
    }
    mlflow_verify_schema_at(&in_schema(&db.sqlalchemy_url(), "mlf"));
    // Another run with the same URL finds the database at its head.
    let again = run(&["check", &in_schema(&db.our_url(), "mlf")]);
    ok(&again);

    // Reflect both at `mlf`: the database's default search_path is what reflection reads.
    for d in [&db, &twin] {
        d.run_sql_script(&format!(
            "ALTER DATABASE \"{}\" SET search_path = mlf;",
            d.name()
        ))
        .unwrap();
    }
    let diff = schema_differences(&reflect(&twin, "alembic_version"), &ours(&db));
    assert!(
        diff.is_empty(),
        "ours vs MLflow's in mlf:\n  {}",
        diff.join("\n  ")
    );
    assert_mlflow_accepts(&db, "upgraded in schema mlf");
}

#[test]
fn a_search_path_naming_no_existing_schema_is_refused_before_anything_is_created() {
    let db = TestDb::postgres();
    fails_saying(
        &["upgrade", "--quiet", &in_schema(&db.our_url(), "nosuch")],
        &["nosuch", "CREATE SCHEMA"],
    );
    assert_eq!(tables_in(&db, "public"), Vec::<String>::new());
}

#[tokio::test]
async fn the_postgresql_lock_is_per_schema_of_a_database() {
    let db = TestDb::postgres();
    db.run_sql_script("CREATE SCHEMA a; CREATE SCHEMA b;")
        .unwrap();
    let url_a = DbUrl::parse(&in_schema(&db.our_url(), "a")).unwrap();
    let url_b = DbUrl::parse(&in_schema(&db.our_url(), "b")).unwrap();
    let mut holder = Conn::connect(&url_a).await.unwrap();
    let mut same_schema = Conn::connect(&url_a).await.unwrap();
    let mut other_schema = Conn::connect(&url_b).await.unwrap();
    let short = Duration::from_millis(300);

    let held = Lock::acquire(&mut holder, &url_a, "alembic_version", short)
        .await
        .unwrap();
    let b = Lock::acquire(&mut other_schema, &url_b, "alembic_version", short).await;
    assert!(b.is_ok(), "schema b waited for schema a's lock");
    let a = Lock::acquire(&mut same_schema, &url_a, "alembic_version", short).await;
    assert!(
        matches!(a, Err(DbError::LockTimeout { .. })),
        "a second upgrader of schema a got the lock"
    );
    held.release(&mut holder).await;
    assert!(
        Lock::acquire(&mut same_schema, &url_a, "alembic_version", short)
            .await
            .is_ok(),
        "the released lock could not be taken"
    );
}

#[test]
fn an_empty_mysql_password_spelled_out_is_no_password() {
    let db = TestDb::mariadb();
    let url = db.our_url().replacen("root@", "root:@", 1);
    assert!(url.contains("root:@127.0.0.1"), "{url}");
    ok(&run(&["upgrade", "--quiet", &url]));
    ok(&run(&["check", &url]));
    assert_mlflow_accepts(&db, "upgraded through root:@");
}

#[test]
fn an_unknown_parameter_is_refused_by_name_and_the_database_is_untouched() {
    let pg = TestDb::postgres();
    fails_saying(
        &["upgrade", "--quiet", &format!("{}?foo=bar", pg.our_url())],
        &[
            "'foo'",
            "options",
            "sslmode",
            "connect_timeout",
            "application_name",
        ],
    );
    assert_eq!(tables_in(&pg, "public"), Vec::<String>::new());

    let maria = TestDb::mariadb();
    fails_saying(
        &[
            "upgrade",
            "--quiet",
            &format!("{}?sslmode=require", maria.our_url()),
        ],
        &["'sslmode'", "ssl_ca", "charset", "unix_socket"],
    );
    assert_eq!(
        maria
            .run_sql_script(
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE();"
            )
            .unwrap()
            .trim(),
        "0"
    );

    let lite = TestDb::sqlite();
    fails_saying(
        &[
            "upgrade",
            "--quiet",
            &format!("{}?journal=wal", lite.our_url()),
        ],
        &["'journal'", "mode", "timeout"],
    );
    assert!(
        !lite.path().unwrap().exists(),
        "the SQLite file was created"
    );
}

#[test]
fn a_postgresql_host_list_is_refused_clearly() {
    fails_saying(
        &[
            "current",
            "postgresql://postgres@127.0.0.1:5432,127.0.0.1:5433/postgres",
        ],
        &["several hosts", "127.0.0.1:5432,127.0.0.1:5433"],
    );
    fails_saying(
        &["current", "postgresql://postgres@/postgres?host=a,b"],
        &["several hosts", "a,b"],
    );
}

#[test]
fn postgresql_options_settings_and_application_name_reach_the_server() {
    let db = TestDb::postgres();
    let url = DbUrl::parse(&format!(
        "{}?options=-c%20statement_timeout%3D4321%20-c%20lock_timeout%3D1234&application_name=aet-probe",
        db.our_url()
    ))
    .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let got = rt.block_on(async {
        let mut conn = Conn::connect(&url).await.unwrap();
        let rows = conn
            .strings(
                "SELECT current_setting('statement_timeout') || ' ' || \
                 current_setting('lock_timeout') || ' ' || current_setting('application_name')",
            )
            .await
            .unwrap();
        conn.close().await;
        rows
    });
    // PostgreSQL shows milliseconds in the largest whole unit: 4321ms stays, 1234ms stays.
    assert_eq!(got, vec![Some("4321ms 1234ms aet-probe".to_string())]);
}

#[tokio::test]
async fn postgresql_errors_keep_the_servers_detail_and_hint_and_no_source_line() {
    let db = TestDb::postgres();
    let setup = "CREATE TABLE parent (id INTEGER PRIMARY KEY); \
                 CREATE TABLE child (id INTEGER PRIMARY KEY, p INTEGER REFERENCES parent (id));";
    db.run_sql_script(setup).unwrap();
    // What the server says, through psql.
    let psql = db.run_sql_script("DROP TABLE parent;").unwrap_err();
    let field = |label: &str| {
        psql.lines()
            .find_map(|l| l.strip_prefix(label))
            .map(|rest| rest.trim().to_string())
            .unwrap_or_else(|| panic!("psql printed no {label}: {psql}"))
    };
    let (detail, hint) = (field("DETAIL:"), field("HINT:"));

    let url = DbUrl::parse(&db.our_url()).unwrap();
    let mut conn = Conn::connect(&url).await.unwrap();
    let err = conn.execute("DROP TABLE parent").await.unwrap_err();
    conn.close().await;
    let text = err.to_string();
    assert!(text.contains(&format!("DETAIL: {detail}")), "{text}");
    assert!(text.contains(&format!("HINT: {hint}")), "{text}");
    assert!(!text.contains(" at line "), "{text}");
    assert!(text.contains("DROP TABLE parent"), "{text}");
}

/// A TCP port that accepts connections (the kernel completes them) but never answers: a
/// server that hangs, or a firewall that swallows the reply.
fn silent_port() -> std::net::TcpListener {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap()
}

fn fails_within(args: &[&str], limit: Duration, needle: &str) {
    let start = Instant::now();
    let text = fails_saying(args, &[needle]);
    let took = start.elapsed();
    assert!(
        took < limit + Duration::from_secs(5),
        "{args:?} took {took:?}: {text}"
    );
    assert!(took >= limit, "{args:?} gave up after {took:?}: {text}");
}

#[test]
fn a_server_that_does_not_answer_fails_within_the_connect_timeout() {
    let listener = silent_port();
    let port = listener.local_addr().unwrap().port();
    let pg = format!("postgresql://postgres@127.0.0.1:{port}/x");
    fails_within(
        &["--connect-timeout", "2", "current", &pg],
        Duration::from_secs(2),
        "no answer within 2.0 s",
    );
    let mysql = format!("mysql://root@127.0.0.1:{port}/x?connect_timeout=2");
    fails_within(
        &["current", &mysql],
        Duration::from_secs(2),
        "no answer within 2.0 s",
    );
    // The command line's setting is over the URL's.
    fails_within(
        &["current", "--connect-timeout", "3", &mysql],
        Duration::from_secs(3),
        "no answer within 3.0 s",
    );
    drop(listener);
}

#[tokio::test]
async fn connect_existing_creates_no_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing.db");
    let url = DbUrl::parse(&format!("sqlite:///{}", path.display())).unwrap();
    match Conn::connect_existing(&url).await {
        Err(e @ DbError::NoDatabase { .. }) => {
            assert_eq!(
                e.to_string(),
                format!("no SQLite database at {}", path.display())
            );
        }
        Err(e) => panic!("not NoDatabase: {e}"),
        Ok(_) => panic!("connected to a database that does not exist"),
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

    // Once the file exists, it opens.
    Conn::connect(&url).await.unwrap().close().await;
    assert!(path.exists());
    let mut conn = Conn::connect_existing(&url).await.unwrap();
    assert_eq!(conn.table_names().await.unwrap(), Vec::<String>::new());
    conn.close().await;
}

#[test]
fn sqlite_read_only_uri_mode_refuses_writes() {
    let db = TestDb::sqlite();
    // An empty database file: an upgrade would create MLflow's tables in it.
    db.run_sql_script("PRAGMA user_version = 1;").unwrap();
    let url = format!(
        "sqlite:///file:{}?mode=ro&uri=true",
        db.path().unwrap().display()
    );
    let out = migrate(&["upgrade", "--quiet", &url]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("readonly"), "{}", stderr(&out));
    assert_eq!(db.run_sql_script(".tables").unwrap().trim(), "");
}

#[tokio::test]
async fn mysql_unix_socket_and_charset_are_honoured() {
    let db = TestDb::mariadb();
    let socket = "/run/mysqld/mysqld.sock";
    assert!(
        std::path::Path::new(socket).exists(),
        "MariaDB's socket {socket} is missing"
    );
    let url = DbUrl::parse(&format!(
        "mysql://root@localhost/{}?unix_socket={socket}&charset=latin1",
        db.name()
    ))
    .unwrap();
    let mut conn = Conn::connect(&url).await.unwrap();
    // The server sees a socket client as `localhost` (TCP ones as `address:port`).
    let rows = conn
        .strings(
            "SELECT CAST(CONCAT(HOST, ' ', @@character_set_client) AS CHAR) \
             FROM information_schema.PROCESSLIST WHERE ID = CONNECTION_ID()",
        )
        .await
        .unwrap();
    conn.close().await;
    assert_eq!(rows, vec![Some("localhost latin1".to_string())]);
}
