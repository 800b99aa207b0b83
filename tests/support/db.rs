//! Throw-away databases for integration tests, one per test and never shared: a temporary
//! SQLite file, or a uniquely named database on the local PostgreSQL or MariaDB server,
//! created and dropped with the servers' own command-line clients.
//!
//! A server that cannot be reached is a test failure naming the server and how to start it:
//! CI must fail, not skip. Names are `aet_<host>_<pid>_<counter>_<time>`; the first database a
//! process creates on a server also drops those left behind by processes of this host that
//! no longer run (a test run that was killed cannot drop its own).

#![allow(dead_code)] // each test crate uses its own subset of these helpers

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;
use std::time::{SystemTime, UNIX_EPOCH};

const PG_HOST: &str = "127.0.0.1";
const PG_PORT: &str = "5432";
const PG_USER: &str = "postgres";
const MARIADB_HOST: &str = "127.0.0.1";
const MARIADB_PORT: &str = "3306";
const MARIADB_USER: &str = "root";

/// The databases we test against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dialect {
    Sqlite,
    Postgres,
    MariaDb,
}

impl Dialect {
    pub const ALL: [Dialect; 3] = [Dialect::Sqlite, Dialect::Postgres, Dialect::MariaDb];
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgresql",
            Dialect::MariaDb => "mariadb",
        })
    }
}

/// One database owned by one test; dropped (or its file deleted) when this value is.
pub struct TestDb {
    dialect: Dialect,
    place: Place,
}

enum Place {
    /// `file` inside `_dir`, a temporary directory removed on drop.
    File {
        _dir: tempfile::TempDir,
        file: PathBuf,
    },
    Server {
        name: String,
    },
}

impl TestDb {
    pub fn new(dialect: Dialect) -> TestDb {
        match dialect {
            Dialect::Sqlite => TestDb::sqlite(),
            Dialect::Postgres => TestDb::postgres(),
            Dialect::MariaDb => TestDb::mariadb(),
        }
    }

    /// A path in a fresh temporary directory; the file itself appears on first use.
    pub fn sqlite() -> TestDb {
        let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let dir = tempfile::Builder::new()
            .prefix("aet-sqlite-")
            .tempdir_in(tmp)
            .unwrap_or_else(|e| {
                panic!(
                    "cannot create a temporary directory in {}: {e}",
                    tmp.display()
                )
            });
        let file = dir.path().join("test.db");
        TestDb {
            dialect: Dialect::Sqlite,
            place: Place::File { _dir: dir, file },
        }
    }

    pub fn postgres() -> TestDb {
        TestDb::on_server(Dialect::Postgres)
    }

    pub fn mariadb() -> TestDb {
        TestDb::on_server(Dialect::MariaDb)
    }

    fn on_server(dialect: Dialect) -> TestDb {
        let db = TestDb::reserve(dialect);
        admin_sql(
            dialect,
            &format!("CREATE DATABASE {}", quote_ident(dialect, &db.name())),
        );
        db
    }

    /// A fresh name on the server, not yet created (dropping it is harmless either way).
    fn reserve(dialect: Dialect) -> TestDb {
        sweep_once(dialect);
        TestDb {
            dialect,
            place: Place::Server {
                name: unique_name(),
            },
        }
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The database's name on its server, or the SQLite file's path.
    pub fn name(&self) -> String {
        match &self.place {
            Place::File { file, .. } => file.display().to_string(),
            Place::Server { name } => name.clone(),
        }
    }

    /// The SQLite file (None on a server).
    pub fn path(&self) -> Option<&Path> {
        match &self.place {
            Place::File { file, .. } => Some(file),
            Place::Server { .. } => None,
        }
    }

    /// The URL `mlflow-migrate` takes.
    pub fn our_url(&self) -> String {
        match (&self.place, self.dialect) {
            (Place::File { file, .. }, _) => format!("sqlite:///{}", file.display()),
            (Place::Server { name }, Dialect::Postgres) => {
                format!("postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}")
            }
            (Place::Server { name }, _) => {
                format!("mysql://{MARIADB_USER}@{MARIADB_HOST}:{MARIADB_PORT}/{name}")
            }
        }
    }

    /// The URL SQLAlchemy (and so MLflow and Alembic) takes, naming the driver.
    pub fn sqlalchemy_url(&self) -> String {
        let ours = self.our_url();
        match self.dialect {
            Dialect::Sqlite => ours,
            Dialect::Postgres => ours.replacen("postgresql://", "postgresql+psycopg2://", 1),
            Dialect::MariaDb => ours.replacen("mysql://", "mysql+pymysql://", 1),
        }
    }

    /// Run `script` with the real client (`sqlite3`, `psql`, `mysql`), stopping at the first
    /// error. Ok: what the client printed, one row a line, fields separated by tabs, no
    /// headers. Err: the client's stderr.
    pub fn run_sql_script(&self, script: &str) -> Result<String, String> {
        let mut cmd = self.client();
        let what = format!(
            "run an SQL script on {} database {}",
            self.dialect,
            self.name()
        );
        let out = run_with_stdin(&mut cmd, script.as_bytes(), &what);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        if !out.status.success() {
            return Err(if stderr.trim().is_empty() {
                format!("{}: {stdout}", out.status)
            } else {
                stderr
            });
        }
        if self.dialect == Dialect::Sqlite && !stderr.trim().is_empty() {
            // sqlite3 reports some errors (in dot-commands, for one) without failing.
            return Err(stderr);
        }
        Ok(stdout)
    }

    /// A new database holding a copy of this one, schema and rows: a file copy on SQLite,
    /// `CREATE DATABASE .. TEMPLATE` on PostgreSQL (nobody may be connected to this one),
    /// `mysqldump | mysql` on MariaDB.
    pub fn copy_to_new(&self) -> TestDb {
        let copy = match self.dialect {
            Dialect::Postgres => TestDb::reserve(self.dialect),
            _ => TestDb::new(self.dialect),
        };
        match (&self.place, &copy.place) {
            (Place::File { file: from, .. }, Place::File { file: to, .. }) => {
                for suffix in ["", "-wal", "-journal"] {
                    let from = PathBuf::from(format!("{}{suffix}", from.display()));
                    let to = PathBuf::from(format!("{}{suffix}", to.display()));
                    if from.exists() {
                        std::fs::copy(&from, &to).unwrap_or_else(|e| {
                            panic!("cannot copy {} to {}: {e}", from.display(), to.display())
                        });
                    }
                }
            }
            (Place::Server { name: from }, Place::Server { name: to }) => match self.dialect {
                Dialect::Postgres => {
                    admin_sql(
                        self.dialect,
                        &format!(
                            "CREATE DATABASE {} TEMPLATE {}",
                            quote_ident(self.dialect, to),
                            quote_ident(self.dialect, from)
                        ),
                    );
                }
                _ => {
                    let dump = run_with_stdin(
                        Command::new("mysqldump")
                            .args(mariadb_connection_args())
                            .args(["--routines", "--triggers", "--hex-blob", "--skip-comments"])
                            .arg(from),
                        b"",
                        &format!("dump MariaDB database {from} with mysqldump"),
                    );
                    if !dump.status.success() {
                        panic!(
                            "mysqldump of {from} failed: {}",
                            String::from_utf8_lossy(&dump.stderr)
                        );
                    }
                    let load = run_with_stdin(&mut copy.client(), &dump.stdout, "load a mysqldump");
                    if !load.status.success() {
                        panic!(
                            "loading the dump of {from} into {to} failed: {}",
                            String::from_utf8_lossy(&load.stderr)
                        );
                    }
                }
            },
            _ => unreachable!("a copy is made on the same dialect"),
        }
        copy
    }

    fn client(&self) -> Command {
        match (&self.place, self.dialect) {
            (Place::File { file, .. }, _) => {
                let mut cmd = Command::new("sqlite3");
                cmd.args(["-batch", "-bail", "-noheader", "-tabs"])
                    .arg(file);
                cmd
            }
            (Place::Server { name }, Dialect::Postgres) => {
                let mut cmd = psql();
                cmd.args(["-d", name]);
                cmd
            }
            (Place::Server { name }, _) => {
                let mut cmd = mysql();
                cmd.arg(name);
                cmd
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Place::Server { name } = &self.place {
            let sql = match self.dialect {
                Dialect::Postgres => format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
                _ => format!("DROP DATABASE IF EXISTS `{name}`"),
            };
            // Never panic in drop (a panic while unwinding aborts the test binary).
            if let Err(e) = try_admin_sql(self.dialect, &sql) {
                eprintln!("warning: cannot drop test database {name}: {e}");
            }
        }
    }
}

impl fmt::Debug for TestDb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TestDb({} {})", self.dialect, self.name())
    }
}

fn psql() -> Command {
    let mut cmd = Command::new("psql");
    cmd.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-A", "-t", "-F", "\t"])
        .args(["-h", PG_HOST, "-p", PG_PORT, "-U", PG_USER])
        .env("PGCONNECT_TIMEOUT", "5");
    cmd
}

fn mariadb_connection_args() -> [String; 3] {
    [
        format!("--host={MARIADB_HOST}"),
        format!("--port={MARIADB_PORT}"),
        format!("--user={MARIADB_USER}"),
    ]
}

fn mysql() -> Command {
    let mut cmd = Command::new("mysql");
    cmd.args(mariadb_connection_args()).args([
        "--batch",
        "--skip-column-names",
        "--connect-timeout=5",
    ]);
    cmd
}

fn quote_ident(dialect: Dialect, name: &str) -> String {
    match dialect {
        Dialect::MariaDb => format!("`{name}`"),
        _ => format!("\"{name}\""),
    }
}

/// Run `sql` on the server outside any test database; panic, naming the server, on failure.
fn admin_sql(dialect: Dialect, sql: &str) -> String {
    try_admin_sql(dialect, sql).unwrap_or_else(|e| panic!("{e}"))
}

fn try_admin_sql(dialect: Dialect, sql: &str) -> Result<String, String> {
    let (mut cmd, server) = match dialect {
        Dialect::Postgres => {
            let mut cmd = psql();
            cmd.args(["-d", "postgres"]);
            (
                cmd,
                format!("PostgreSQL at {PG_HOST}:{PG_PORT} (user {PG_USER})"),
            )
        }
        Dialect::MariaDb => (
            mysql(),
            format!("MariaDB at {MARIADB_HOST}:{MARIADB_PORT} (user {MARIADB_USER})"),
        ),
        Dialect::Sqlite => unreachable!("SQLite has no server"),
    };
    let out = run_with_stdin(&mut cmd, sql.as_bytes(), &format!("reach {server}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.success() && !stderr.contains("ERROR") {
        return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    let unreachable = [
        "could not connect",
        "Connection refused",
        "Can't connect",
        "No such file",
        "timeout expired",
    ]
    .iter()
    .any(|sign| stderr.contains(sign));
    if unreachable {
        Err(format!(
            "{server} is not reachable; the database tests need it running \
             (`.ci/run` starts both servers):\n{stderr}"
        ))
    } else {
        Err(format!("{server} refused `{sql}`:\n{stderr}"))
    }
}

fn run_with_stdin(cmd: &mut Command, input: &[u8], what: &str) -> std::process::Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot {what}: cannot start {:?}: {e}", cmd.get_program()));
    let mut stdin = child.stdin.take().expect("piped stdin");
    let input = input.to_vec();
    // Write from another thread: a client that prints while it reads must not deadlock us.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("cannot {what}: {e}"));
    let _ = writer.join();
    out
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique_name() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "aet_{}_{}_{}_{}",
        host_tag(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        base36(nanos % 36u128.pow(8))
    )
}

/// Six hex digits of the host name, so a server shared between machines (or containers with
/// their own process ids) is never swept on another host's behalf.
fn host_tag() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_default();
    let mut hash: u32 = 0x811c_9dc5; // FNV-1a: stable across builds, unlike std's hasher
    for byte in host.trim().bytes() {
        hash = (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193);
    }
    format!("{:06x}", hash & 0xff_ffff)
}

fn base36(mut n: u128) -> String {
    let digits = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(digits[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).expect("ascii")
}

/// Drop the databases of this host's test processes that have exited, once per process and
/// server. Only where /proc can tell which processes run.
fn sweep_once(dialect: Dialect) {
    static PG: Once = Once::new();
    static MARIADB: Once = Once::new();
    let once = if dialect == Dialect::Postgres {
        &PG
    } else {
        &MARIADB
    };
    once.call_once(|| {
        if !Path::new("/proc/self").exists() {
            return;
        }
        let prefix = format!("aet_{}_", host_tag());
        let list = match dialect {
            Dialect::Postgres => format!("SELECT datname FROM pg_database WHERE datname LIKE '{prefix}%'"),
            _ => format!(
                "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE '{prefix}%'"
            ),
        };
        for name in admin_sql(dialect, &list).lines().map(str::trim) {
            let pid = name.strip_prefix(&prefix).and_then(|rest| rest.split('_').next());
            let Some(pid) = pid.filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())) else {
                continue;
            };
            if Path::new(&format!("/proc/{pid}")).exists() {
                continue;
            }
            let drop = match dialect {
                Dialect::Postgres => format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
                _ => format!("DROP DATABASE IF EXISTS `{name}`"),
            };
            let _ = try_admin_sql(dialect, &drop);
        }
    });
}
