//! Live databases: URLs, connections, the version table as Alembic keeps it, a lock that dies
//! with its holder, and the live schema as a [`SchemaModel`].
//!
//! What differs per database is the small `Driver` trait (`driver.rs`), one file per database
//! (`sqlite.rs`, `postgres.rs`, `mysql.rs`); [`Conn`] dispatches to them, and what is the same
//! everywhere is written here once. Connecting to a server is bounded by
//! [`DbUrl::connect_timeout`].

mod driver;
mod live;
mod mysql;
mod postgres;
mod sqlite;
mod stats;
pub mod url;

use std::path::PathBuf;
use std::time::Duration;

use driver::{Catalog, Driver as _};
use mysql::Mysql;
use postgres::Postgres;
use sqlite::Sqlite;

use crate::schema::SchemaModel;

pub use stats::row_counts;
pub use url::{
    set_connect_timeout, Backend, DbUrl, MysqlParams, MysqlTls, Params, PgParams, SqliteMode,
    SqliteParams, UrlError, DEFAULT_CONNECT_TIMEOUT,
};

/// A duration for messages: whole seconds, or tenths below ten seconds.
fn seconds(d: &Duration) -> String {
    let s = d.as_secs_f64();
    if s < 10.0 {
        format!("{s:.1} s")
    } else {
        format!("{} s", s.round())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(transparent)]
    Url(#[from] UrlError),
    #[error("cannot connect to {url}: {message}")]
    Connect { url: String, message: String },
    #[error(
        "cannot connect to {url}: no answer within {} (the connect timeout)",
        seconds(after)
    )]
    ConnectTimeout { url: String, after: Duration },
    #[error("no SQLite database at {}", path.display())]
    NoDatabase { path: PathBuf },
    #[error(
        "{url}: no schema on the search_path '{search_path}' exists in the database; create it \
         first (CREATE SCHEMA ...)"
    )]
    NoSchema { url: String, search_path: String },
    #[error("{message}\n  while running: {sql}")]
    Statement { sql: String, message: String },
    #[error("{0}")]
    Query(String),
    #[error(
        "another upgrader holds the lock on {target} and did not release it within {}",
        seconds(waited)
    )]
    LockTimeout { target: String, waited: Duration },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// One connection to a live database.
pub struct Conn(Driven);

enum Driven {
    Sqlite(Sqlite),
    Postgres(Postgres),
    Mysql(Mysql),
}

/// Call the same driver method whichever database the connection is to.
macro_rules! dispatch {
    ($conn:expr, $d:ident => $call:expr) => {
        match $conn {
            Driven::Sqlite($d) => $call,
            Driven::Postgres($d) => $call,
            Driven::Mysql($d) => $call,
        }
    };
}

fn short(sql: &str) -> String {
    let one_line: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > 300 {
        format!("{}…", one_line.chars().take(300).collect::<String>())
    } else {
        one_line
    }
}

/// A statement the server refused, with the statement (shortened) it refused.
fn statement_error(sql: &str, e: &sqlx::Error) -> DbError {
    DbError::Statement {
        sql: short(sql),
        message: server_message(e),
    }
}

/// What the server said. For PostgreSQL: its message with the DETAIL, HINT and CONTEXT it
/// sent, as psql shows them, and not the line of the server's C source sqlx appends.
fn server_message(e: &sqlx::Error) -> String {
    let sqlx::Error::Database(db) = e else {
        return e.to_string();
    };
    let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() else {
        return db.to_string();
    };
    let mut text = pg.message().to_string();
    for (label, part) in [
        ("DETAIL", pg.detail()),
        ("HINT", pg.hint()),
        ("CONTEXT", pg.r#where()),
    ] {
        if let Some(part) = part {
            text.push_str(&format!("\n{label}: {part}"));
        }
    }
    text
}

/// `connect`, bounded by the URL's connect timeout.
async fn within_timeout<T>(
    url: &DbUrl,
    attempt: impl std::future::Future<Output = Result<T, sqlx::Error>>,
) -> Result<T, DbError> {
    let fail = |e: sqlx::Error| DbError::Connect {
        url: url.to_string(),
        message: server_message(&e),
    };
    match url.connect_timeout() {
        None => attempt.await.map_err(fail),
        Some(limit) => match tokio::time::timeout(limit, attempt).await {
            Ok(r) => r.map_err(fail),
            Err(_) => Err(DbError::ConnectTimeout {
                url: url.to_string(),
                after: limit,
            }),
        },
    }
}

/// A lock key or name from a longer name: the first eight bytes of its SHA-256.
fn lock_key(name: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(name.as_bytes());
    i64::from_be_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
}

fn quoted(backend: Backend, name: &str) -> String {
    match backend {
        Backend::Mysql => format!("`{}`", name.replace('`', "``")),
        _ => format!("\"{}\"", name.replace('"', "\"\"")),
    }
}

impl Conn {
    /// Connect to `url`'s database; a SQLite file that does not exist is created (unless the
    /// URL says `mode=rw` or `mode=ro`).
    pub async fn connect(url: &DbUrl) -> Result<Conn, DbError> {
        Conn::open(url, true).await
    }

    /// Connect to a database that exists: as [`Conn::connect`], but a SQLite file that does
    /// not exist is [`DbError::NoDatabase`] and nothing is created.
    pub async fn connect_existing(url: &DbUrl) -> Result<Conn, DbError> {
        Conn::open(url, false).await
    }

    async fn open(url: &DbUrl, create: bool) -> Result<Conn, DbError> {
        Ok(Conn(match url.params {
            Params::Sqlite(_) => Driven::Sqlite(Sqlite::open(url, create).await?),
            Params::Postgres(_) => Driven::Postgres(Postgres::open(url, create).await?),
            Params::Mysql(_) => Driven::Mysql(Mysql::open(url, create).await?),
        }))
    }

    pub fn backend(&self) -> Backend {
        match &self.0 {
            Driven::Sqlite(_) => Sqlite::BACKEND,
            Driven::Postgres(_) => Postgres::BACKEND,
            Driven::Mysql(_) => Mysql::BACKEND,
        }
    }

    fn catalog(&self) -> &'static Catalog {
        match &self.0 {
            Driven::Sqlite(_) => &Sqlite::CATALOG,
            Driven::Postgres(_) => &Postgres::CATALOG,
            Driven::Mysql(_) => &Mysql::CATALOG,
        }
    }

    /// Run SQL text as is (one or several statements, no parameters).
    pub async fn execute(&mut self, sql: &str) -> Result<(), DbError> {
        self.execute_counting(sql).await.map(drop)
    }

    /// Run SQL text as is; the number of rows it changed.
    pub async fn execute_counting(&mut self, sql: &str) -> Result<u64, DbError> {
        dispatch!(&mut self.0, d => d.execute(sql).await)
    }

    /// Every row of a query, every column as text (`None` for NULL and for values that are
    /// not text: cast them in the query).
    pub async fn rows(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>, DbError> {
        dispatch!(&mut self.0, d => d.rows(sql).await)
    }

    /// The first column of every row, as text.
    pub async fn strings(&mut self, sql: &str) -> Result<Vec<Option<String>>, DbError> {
        Ok(self
            .rows(sql)
            .await?
            .into_iter()
            .map(|row| row.into_iter().next().flatten())
            .collect())
    }

    pub async fn table_exists(&mut self, table: &str) -> Result<bool, DbError> {
        Ok(self.table_names().await?.iter().any(|t| t == table))
    }

    /// Names of the user tables.
    pub async fn table_names(&mut self) -> Result<Vec<String>, DbError> {
        let sql = self.catalog().tables;
        Ok(self.strings(sql).await?.into_iter().flatten().collect())
    }

    /// The live schema of the connection's database (its current schema on PostgreSQL).
    pub async fn introspect(&mut self) -> Result<SchemaModel, DbError> {
        let catalog = self.catalog();
        let tables = self.rows(catalog.tables).await?;
        let columns = self.rows(catalog.columns).await?;
        let indexes = self.rows(catalog.indexes).await?;
        let constraints = dispatch!(&mut self.0, d => d.constraints().await)?;
        let triggers = self.rows(catalog.triggers).await?;
        Ok(live::assemble(
            tables,
            columns,
            indexes,
            constraints,
            triggers,
        ))
    }

    /// Whether unnamed CHECK clauses of [`Conn::introspect`]'s schema can be compared with
    /// statements' (not on PostgreSQL, which names them and rewrites their text).
    pub fn checks_comparable(&self) -> bool {
        self.backend() != Backend::Postgres
    }

    /// Whether a MySQL-family server is MariaDB.
    pub async fn is_mariadb(&mut self) -> Result<bool, DbError> {
        if self.backend() != Backend::Mysql {
            return Ok(false);
        }
        let v = self.strings("SELECT VERSION()").await?;
        Ok(v.first()
            .cloned()
            .flatten()
            .unwrap_or_default()
            .to_lowercase()
            .contains("mariadb"))
    }

    /// The rows of Alembic's version table (empty when the table does not exist).
    pub async fn version_rows(&mut self, table: &str) -> Result<Vec<String>, DbError> {
        if !self.table_exists(table).await? {
            return Ok(Vec::new());
        }
        let sql = format!("SELECT version_num FROM {table}");
        let mut rows: Vec<String> = self.strings(&sql).await?.into_iter().flatten().collect();
        rows.sort();
        Ok(rows)
    }

    /// Whether `table` holds at least one row.
    pub async fn has_rows(&mut self, table: &str) -> Result<bool, DbError> {
        let rows = self
            .strings(&format!(
                "SELECT CASE WHEN EXISTS (SELECT 1 FROM {}) THEN 'y' ELSE 'n' END",
                quoted(self.backend(), table)
            ))
            .await?;
        Ok(rows.first().cloned().flatten().as_deref() == Some("y"))
    }

    pub async fn close(self) {
        dispatch!(self.0, d => d.close().await)
    }
}

/// A lock that is released when its holder's connection or process ends.
pub enum Lock {
    /// An OS file lock beside the SQLite database file.
    File(std::fs::File),
    /// PostgreSQL advisory lock or MySQL named lock, held by the session.
    Session {
        release: String,
    },
    None,
}

impl Lock {
    /// Take the upgrade lock for `url`'s database and `version_table`, waiting up to `timeout`.
    pub async fn acquire(
        conn: &mut Conn,
        url: &DbUrl,
        version_table: &str,
        timeout: Duration,
    ) -> Result<Lock, DbError> {
        dispatch!(&mut conn.0, d => d.lock(url, version_table, timeout).await)
    }

    pub async fn release(self, conn: &mut Conn) {
        if let Lock::Session { release } = self {
            let _ = conn.strings(&release).await;
        }
    }
}

/// The holder of the upgrade lock, as far as the database can tell.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LockHolder {
    /// Who: a server session (`pid 4711, user mlflow, from 10.0.0.7, application
    /// mlflow-migrate`), or the SQLite lock file's path when only the file system knows.
    pub who: String,
}

impl std::fmt::Display for LockHolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.who)
    }
}

/// The session holding the upgrade lock of `url`'s database and `version_table`, if any:
/// asked without taking the lock, so that `status` tells a run in progress from an
/// interrupted one and a waiting upgrader says whom it waits for. Read-only: nothing is
/// created.
pub async fn lock_holder(
    conn: &mut Conn,
    url: &DbUrl,
    version_table: &str,
) -> Result<Option<LockHolder>, DbError> {
    dispatch!(&mut conn.0, d => d.lock_holder(url, version_table).await)
}
