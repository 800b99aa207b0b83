//! Live databases: connections (sqlx), the version table as Alembic keeps it, and a lock that
//! dies with its holder.
//!
//! SQLite connections keep foreign keys OFF, as Python's sqlite3 module does: Alembic's batch
//! rebuilds drop and rename tables that others reference. The journal mode is left as the
//! database has it.

mod holder;
pub mod live;
pub mod url;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use sqlx::{AssertSqlSafe, Connection as _, Row};

pub use holder::{lock_holder, LockHolder};
pub use url::{Backend, DbUrl, UrlError};

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(transparent)]
    Url(#[from] UrlError),
    #[error("cannot connect to {url}: {message}")]
    Connect { url: String, message: String },
    #[error("{message}\n  while running: {sql}")]
    Statement { sql: String, message: String },
    #[error("{0}")]
    Query(String),
    #[error("another upgrader holds the lock on {target} and did not release it within {waited:?} (--lock-timeout)")]
    LockTimeout { target: String, waited: Duration },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
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

impl Conn {
    pub async fn connect(url: &DbUrl) -> Result<Conn, DbError> {
        let fail = |e: sqlx::Error| DbError::Connect {
            url: url.to_string(),
            message: e.to_string(),
        };
        Ok(match url.backend {
            Backend::Sqlite => {
                let mut opts = sqlx::sqlite::SqliteConnectOptions::new()
                    .filename(&url.database)
                    .foreign_keys(false)
                    .create_if_missing(true);
                if url.option("mode") == Some("ro") {
                    opts = opts.read_only(true);
                }
                Conn::Sqlite(
                    sqlx::SqliteConnection::connect_with(&opts)
                        .await
                        .map_err(fail)?,
                )
            }
            Backend::Postgres => {
                let mut opts = sqlx::postgres::PgConnectOptions::new()
                    .host(url.host.as_deref().unwrap_or("localhost"))
                    .database(&url.database);
                if let Some(p) = url.port {
                    opts = opts.port(p);
                }
                if let Some(u) = &url.user {
                    opts = opts.username(u);
                }
                if let Some(p) = &url.password {
                    opts = opts.password(p);
                }
                if let Some(mode) = url.option("sslmode") {
                    let mode = mode.parse().map_err(|_| DbError::Connect {
                        url: url.to_string(),
                        message: format!("unknown sslmode '{mode}'"),
                    })?;
                    opts = opts.ssl_mode(mode);
                }
                Conn::Postgres(
                    sqlx::PgConnection::connect_with(&opts)
                        .await
                        .map_err(fail)?,
                )
            }
            Backend::Mysql => {
                let mut opts = sqlx::mysql::MySqlConnectOptions::new()
                    .host(url.host.as_deref().unwrap_or("localhost"))
                    .database(&url.database);
                if let Some(p) = url.port {
                    opts = opts.port(p);
                }
                if let Some(u) = &url.user {
                    opts = opts.username(u);
                }
                if let Some(p) = &url.password {
                    opts = opts.password(p);
                }
                if let Some(c) = url.option("charset") {
                    opts = opts.charset(c);
                }
                Conn::Mysql(
                    sqlx::MySqlConnection::connect_with(&opts)
                        .await
                        .map_err(fail)?,
                )
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
            message: e.to_string(),
        })
    }

    /// The first column of every row, as text.
    pub async fn strings(&mut self, sql: &str) -> Result<Vec<Option<String>>, DbError> {
        let q = AssertSqlSafe(sql.to_string());
        let err = |e: sqlx::Error| DbError::Statement {
            sql: short(sql),
            message: e.to_string(),
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

/// The MySQL named lock (64 characters at most) for a database and version table.
fn mysql_lock_name(url: &DbUrl, version_table: &str) -> String {
    let name = format!("alembic-engine:{}:{version_table}", url.database);
    name.chars().take(64).collect()
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
                let key = lock_key(&format!("alembic-engine:{version_table}"));
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
