//! Live databases: connections (sqlx), the version table as Alembic keeps it, and a lock that
//! dies with its holder.
//!
//! SQLite connections keep foreign keys OFF, as Python's sqlite3 module does: Alembic's batch
//! rebuilds drop and rename tables that others reference. The journal mode is left as the
//! database has it.
//!
//! On PostgreSQL the schema is the first existing one of the connection's search path (a URL's
//! `options=-csearch_path=...`): every catalog query here and in [`live`] reads
//! `current_schema()`, our tables are created unqualified, and the lock key names the schema.
//! Connecting to a server is bounded by [`DbUrl::connect_timeout`].

mod holder;
pub mod live;
mod stats;
pub mod url;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use sqlx::{AssertSqlSafe, Connection as _, Row};

pub use holder::{lock_holder, LockHolder};
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

fn pg_options(url: &DbUrl, p: &PgParams) -> Result<sqlx::postgres::PgConnectOptions, DbError> {
    // Without a host, sqlx looks for the local server's socket as libpq does.
    let mut opts = sqlx::postgres::PgConnectOptions::new().database(&url.database);
    if let Some(host) = p.host.as_ref().or(url.host.as_ref()) {
        opts = opts.host(host);
    }
    if let Some(dir) = &p.socket_dir {
        opts = opts.socket(dir);
    }
    if let Some(port) = p.port.or(url.port) {
        opts = opts.port(port);
    }
    if let Some(u) = &url.user {
        opts = opts.username(u);
    }
    if let Some(pw) = &url.password {
        opts = opts.password(pw);
    }
    if let Some(mode) = &p.ssl_mode {
        opts = opts.ssl_mode(mode.parse().map_err(|_| DbError::Connect {
            url: url.to_string(),
            message: format!("unknown sslmode '{mode}'"),
        })?);
    }
    if let Some(cert) = &p.ssl_root_cert {
        opts = opts.ssl_root_cert(cert);
    }
    if let Some(cert) = &p.ssl_cert {
        opts = opts.ssl_client_cert(cert);
    }
    if let Some(key) = &p.ssl_key {
        opts = opts.ssl_client_key(key);
    }
    if let Some(name) = &p.application_name {
        opts = opts.application_name(name);
    }
    if !p.settings.is_empty() {
        opts = opts.options(p.settings.iter().map(|(k, v)| (k, v)));
    }
    Ok(opts)
}

fn mysql_options(url: &DbUrl, p: &MysqlParams) -> sqlx::mysql::MySqlConnectOptions {
    use sqlx::mysql::MySqlSslMode;
    let mut opts = sqlx::mysql::MySqlConnectOptions::new()
        .host(url.host.as_deref().unwrap_or("localhost"))
        .database(&url.database)
        .ssl_mode(match p.tls {
            MysqlTls::Preferred => MySqlSslMode::Preferred,
            MysqlTls::Disabled => MySqlSslMode::Disabled,
            MysqlTls::Required => MySqlSslMode::Required,
            MysqlTls::VerifyCa => MySqlSslMode::VerifyCa,
            MysqlTls::VerifyIdentity => MySqlSslMode::VerifyIdentity,
        });
    if let Some(port) = url.port {
        opts = opts.port(port);
    }
    if let Some(dir) = &p.unix_socket {
        opts = opts.socket(dir);
    }
    if let Some(u) = &url.user {
        opts = opts.username(u);
    }
    if let Some(pw) = &url.password {
        opts = opts.password(pw);
    }
    if let Some(c) = &p.charset {
        opts = opts.charset(c);
    }
    if let Some(c) = &p.collation {
        opts = opts.collation(c);
    }
    if let Some(ca) = &p.ssl_ca {
        opts = opts.ssl_ca(ca);
    }
    if let Some(cert) = &p.ssl_cert {
        opts = opts.ssl_client_cert(cert);
    }
    if let Some(key) = &p.ssl_key {
        opts = opts.ssl_client_key(key);
    }
    opts
}

/// One connection to a live database.
pub enum Conn {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
    Mysql(sqlx::MySqlConnection),
}

fn short(sql: &str) -> String {
    let one_line: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > 300 {
        format!("{}…", one_line.chars().take(300).collect::<String>())
    } else {
        one_line
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
        Ok(match &url.params {
            Params::Sqlite(p) => {
                if let Some(path) = url.sqlite_path().filter(|_| !create) {
                    if !path.exists() {
                        return Err(DbError::NoDatabase { path });
                    }
                }
                let mut opts = sqlx::sqlite::SqliteConnectOptions::new()
                    .filename(&url.database)
                    .foreign_keys(false)
                    .create_if_missing(create && p.mode == SqliteMode::ReadWriteCreate)
                    .read_only(p.mode == SqliteMode::ReadOnly)
                    .immutable(p.immutable)
                    .shared_cache(p.shared_cache);
                if let Some(t) = p.busy_timeout {
                    opts = opts.busy_timeout(t);
                }
                Conn::Sqlite(
                    sqlx::SqliteConnection::connect_with(&opts)
                        .await
                        .map_err(|e| DbError::Connect {
                            url: url.to_string(),
                            message: server_message(&e),
                        })?,
                )
            }
            Params::Postgres(p) => {
                let opts = pg_options(url, p)?;
                let mut conn = Conn::Postgres(
                    within_timeout(url, sqlx::PgConnection::connect_with(&opts)).await?,
                );
                if let Some(search_path) = p.search_path() {
                    let schema = conn.strings("SELECT current_schema()::text").await?;
                    if schema.first().cloned().flatten().is_none() {
                        conn.close().await;
                        return Err(DbError::NoSchema {
                            url: url.to_string(),
                            search_path: search_path.to_string(),
                        });
                    }
                }
                conn
            }
            Params::Mysql(p) => {
                let opts = mysql_options(url, p);
                Conn::Mysql(within_timeout(url, sqlx::MySqlConnection::connect_with(&opts)).await?)
            }
        })
    }

    pub fn backend(&self) -> Backend {
        match self {
            Conn::Sqlite(_) => Backend::Sqlite,
            Conn::Postgres(_) => Backend::Postgres,
            Conn::Mysql(_) => Backend::Mysql,
        }
    }

    /// Run SQL text as is (one or several statements, no parameters).
    pub async fn execute(&mut self, sql: &str) -> Result<(), DbError> {
        self.execute_counting(sql).await.map(drop)
    }

    /// Run SQL text as is; the number of rows it changed.
    pub async fn execute_counting(&mut self, sql: &str) -> Result<u64, DbError> {
        let q = sqlx::raw_sql(AssertSqlSafe(sql.to_string()));
        let r = match self {
            Conn::Sqlite(c) => q.execute(c).await.map(|r| r.rows_affected()),
            Conn::Postgres(c) => q.execute(c).await.map(|r| r.rows_affected()),
            Conn::Mysql(c) => q.execute(c).await.map(|r| r.rows_affected()),
        };
        r.map_err(|e| DbError::Statement {
            sql: short(sql),
            message: server_message(&e),
        })
    }

    /// The first column of every row, as text.
    pub async fn strings(&mut self, sql: &str) -> Result<Vec<Option<String>>, DbError> {
        let q = AssertSqlSafe(sql.to_string());
        let err = |e: sqlx::Error| DbError::Statement {
            sql: short(sql),
            message: server_message(&e),
        };
        Ok(match self {
            Conn::Sqlite(c) => sqlx::query(q)
                .fetch_all(c)
                .await
                .map_err(err)?
                .iter()
                .map(|r| r.try_get::<Option<String>, _>(0).ok().flatten())
                .collect(),
            Conn::Postgres(c) => sqlx::query(q)
                .fetch_all(c)
                .await
                .map_err(err)?
                .iter()
                .map(|r| r.try_get::<Option<String>, _>(0).ok().flatten())
                .collect(),
            Conn::Mysql(c) => sqlx::query(q)
                .fetch_all(c)
                .await
                .map_err(err)?
                .iter()
                .map(|r| r.try_get::<Option<String>, _>(0).ok().flatten())
                .collect(),
        })
    }

    pub async fn table_exists(&mut self, table: &str) -> Result<bool, DbError> {
        let sql = match self.backend() {
            Backend::Sqlite => format!(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name = '{table}'"
            ),
            Backend::Postgres => format!(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = '{table}'"
            ),
            Backend::Mysql => format!(
                "SELECT CAST(table_name AS CHAR) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = '{table}'"
            ),
        };
        Ok(!self.strings(&sql).await?.is_empty())
    }

    /// Names of the user tables.
    pub async fn table_names(&mut self) -> Result<Vec<String>, DbError> {
        let sql = match self.backend() {
            Backend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            Backend::Postgres => "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
            Backend::Mysql => "SELECT CAST(table_name AS CHAR) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'",
        };
        Ok(self.strings(sql).await?.into_iter().flatten().collect())
    }

    /// Every user table with its columns: `(table, column)` pairs.
    pub async fn columns(&mut self) -> Result<Vec<(String, String)>, DbError> {
        let sql = match self.backend() {
            Backend::Sqlite => "SELECT m.name || '|' || p.name FROM sqlite_master AS m, pragma_table_xinfo(m.name) AS p WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'",
            Backend::Postgres => "SELECT table_name::text || '|' || column_name::text FROM information_schema.columns WHERE table_schema = current_schema()",
            Backend::Mysql => "SELECT CAST(CONCAT(table_name, '|', column_name) AS CHAR) FROM information_schema.columns WHERE table_schema = DATABASE()",
        };
        Ok(self
            .strings(sql)
            .await?
            .into_iter()
            .flatten()
            .filter_map(|s| {
                s.split_once('|')
                    .map(|(t, c)| (t.to_string(), c.to_string()))
            })
            .collect())
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

    pub async fn close(self) {
        let _ = match self {
            Conn::Sqlite(c) => c.close().await,
            Conn::Postgres(c) => c.close().await,
            Conn::Mysql(c) => c.close().await,
        };
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

/// The file beside a SQLite database whose OS lock is the upgrade lock.
fn sqlite_lock_path(url: &DbUrl) -> Option<PathBuf> {
    let path = url.sqlite_path()?;
    Some(PathBuf::from(format!(
        "{}.alembic-engine.lock",
        path.display()
    )))
}

/// The MySQL named lock for a database and version table, quoted for a string literal. Lock
/// names are at most 64 characters: a longer one is hashed, not cut (cutting could give two
/// version tables one lock).
fn mysql_lock_name(url: &DbUrl, version_table: &str) -> String {
    let name = format!("alembic-engine:{}:{version_table}", url.database);
    if name.chars().count() <= 64 {
        name.replace('\\', "\\\\").replace('\'', "''")
    } else {
        format!("alembic-engine:{:016x}", lock_key(&name))
    }
}

/// The PostgreSQL advisory-lock key. Advisory locks are per database; the schema is in the
/// key so that two schemas of one database (`options=-csearch_path=...`) are upgraded
/// independently.
async fn pg_lock_key(conn: &mut Conn, url: &DbUrl, version_table: &str) -> Result<i64, DbError> {
    let schema = conn
        .strings("SELECT COALESCE(current_schema()::text, '')")
        .await?;
    let schema = schema.first().cloned().flatten().unwrap_or_default();
    Ok(lock_key(&format!(
        "alembic-engine:{}:{schema}:{version_table}",
        url.database
    )))
}

fn lock_key(name: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(name.as_bytes());
    i64::from_be_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
}

impl Lock {
    /// Take the upgrade lock for `url`'s database and `version_table`, waiting up to `timeout`.
    pub async fn acquire(
        conn: &mut Conn,
        url: &DbUrl,
        version_table: &str,
        timeout: Duration,
    ) -> Result<Lock, DbError> {
        let start = Instant::now();
        let target = url.to_string();
        match conn.backend() {
            Backend::Sqlite => {
                let Some(lock_path) = sqlite_lock_path(url) else {
                    return Ok(Lock::None);
                };
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(&lock_path)
                    .map_err(|source| DbError::Io {
                        path: lock_path.clone(),
                        source,
                    })?;
                loop {
                    match fs4::fs_std::FileExt::try_lock_exclusive(&file) {
                        Ok(true) => return Ok(Lock::File(file)),
                        Ok(false) => {}
                        Err(source) => {
                            return Err(DbError::Io {
                                path: lock_path,
                                source,
                            })
                        }
                    }
                    if start.elapsed() >= timeout {
                        return Err(DbError::LockTimeout {
                            target,
                            waited: start.elapsed(),
                        });
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
            Backend::Postgres => {
                let key = pg_lock_key(conn, url, version_table).await?;
                loop {
                    let got = conn
                        .strings(&format!("SELECT pg_try_advisory_lock({key})::text"))
                        .await?;
                    if got.first().cloned().flatten().as_deref() == Some("true") {
                        return Ok(Lock::Session {
                            release: format!("SELECT pg_advisory_unlock({key})"),
                        });
                    }
                    if start.elapsed() >= timeout {
                        return Err(DbError::LockTimeout {
                            target,
                            waited: start.elapsed(),
                        });
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
            Backend::Mysql => {
                let name = mysql_lock_name(url, version_table);
                let secs = timeout.as_secs().max(1);
                let got = conn
                    .strings(&format!("SELECT CAST(GET_LOCK('{name}', {secs}) AS CHAR)"))
                    .await?;
                if got.first().cloned().flatten().as_deref() == Some("1") {
                    Ok(Lock::Session {
                        release: format!("SELECT RELEASE_LOCK('{name}')"),
                    })
                } else {
                    Err(DbError::LockTimeout {
                        target,
                        waited: start.elapsed(),
                    })
                }
            }
        }
    }

    pub async fn release(self, conn: &mut Conn) {
        if let Lock::Session { release } = self {
            let _ = conn.strings(&release).await;
        }
    }
}
