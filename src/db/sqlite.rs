//! SQLite: a file (or `:memory:`), foreign keys left OFF as Python's sqlite3 module leaves
//! them (Alembic's batch rebuilds drop and rename tables others reference), the journal mode as
//! the database has it. The upgrade lock is an OS file lock beside the database file, so it
//! dies with its process; constraints are read back from each table's SQL text, the only place
//! SQLite keeps them.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use sqlx::Connection as _;

use super::driver::{execute_raw, sqlx_io, text_rows, Catalog, Driver, TextRows};
use super::{server_message, Backend, DbError, DbUrl, Lock, LockHolder, SqliteMode};
use crate::dialect::sqltext::{self, Family};
use crate::ir::Constraint;

pub(crate) struct Sqlite(sqlx::SqliteConnection);

/// The file beside a SQLite database whose OS lock is the upgrade lock.
fn lock_path(url: &DbUrl) -> Option<PathBuf> {
    let path = url.sqlite_path()?;
    Some(PathBuf::from(format!(
        "{}.alembic-engine.lock",
        path.display()
    )))
}

impl Driver for Sqlite {
    const BACKEND: Backend = Backend::Sqlite;
    const CATALOG: Catalog = Catalog {
        tables: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        columns: "SELECT m.name, p.name, p.type, CASE WHEN p.\"notnull\" THEN '0' ELSE '1' END \
                  FROM sqlite_master AS m, pragma_table_xinfo(m.name) AS p \
                  WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.cid",
        indexes: "SELECT m.tbl_name, m.name, CASE WHEN l.\"unique\" THEN '1' ELSE '0' END, i.name \
                  FROM sqlite_master AS m JOIN pragma_index_list(m.tbl_name) AS l \
                  ON l.name = m.name JOIN pragma_index_info(m.name) AS i \
                  WHERE m.type = 'index' ORDER BY m.tbl_name, m.name, i.seqno",
        triggers: "SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger'",
        row_estimates: "SELECT name, '-1' FROM sqlite_master WHERE type = 'table' \
                        AND name NOT LIKE 'sqlite_%'",
    };

    async fn open(url: &DbUrl, create: bool) -> Result<Self, DbError> {
        let super::Params::Sqlite(p) = &url.params else {
            unreachable!("a SQLite connection is opened for a sqlite:// URL")
        };
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
        sqlx::SqliteConnection::connect_with(&opts)
            .await
            .map(Sqlite)
            .map_err(|e| DbError::Connect {
                url: url.to_string(),
                message: server_message(&e),
            })
    }

    sqlx_io!();

    async fn lock(
        &mut self,
        url: &DbUrl,
        _version_table: &str,
        timeout: Duration,
    ) -> Result<Lock, DbError> {
        let start = Instant::now();
        let Some(path) = lock_path(url) else {
            return Ok(Lock::None);
        };
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| DbError::Io {
                path: path.clone(),
                source,
            })?;
        loop {
            match fs4::fs_std::FileExt::try_lock_exclusive(&file) {
                Ok(true) => return Ok(Lock::File(file)),
                Ok(false) => {}
                Err(source) => return Err(DbError::Io { path, source }),
            }
            if start.elapsed() >= timeout {
                return Err(DbError::LockTimeout {
                    target: url.to_string(),
                    waited: start.elapsed(),
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn lock_holder(
        &mut self,
        url: &DbUrl,
        _version_table: &str,
    ) -> Result<Option<LockHolder>, DbError> {
        // A missing lock file means nobody holds it: nothing is created to ask.
        let Some(path) = lock_path(url) else {
            return Ok(None);
        };
        let Ok(file) = std::fs::File::open(&path) else {
            return Ok(None);
        };
        match fs4::fs_std::FileExt::try_lock_shared(&file) {
            Ok(true) => {
                let _ = fs4::fs_std::FileExt::unlock(&file);
                Ok(None)
            }
            Ok(false) => Ok(Some(LockHolder {
                who: format!("another process holding {}", path.display()),
            })),
            Err(source) => Err(DbError::Io { path, source }),
        }
    }

    async fn constraints(&mut self) -> Result<Vec<(String, Constraint)>, DbError> {
        let tables = self
            .rows(
                "SELECT name, sql FROM sqlite_master \
                 WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND sql IS NOT NULL",
            )
            .await?;
        Ok(tables
            .into_iter()
            .filter_map(|row| match &row[..] {
                [Some(table), Some(sql)] => Some((table.clone(), sql.clone())),
                _ => None,
            })
            .flat_map(|(table, sql)| {
                sqltext::table_constraints(&sql, Family::Sqlite)
                    .into_iter()
                    .map(move |c| (table.clone(), c))
            })
            .collect())
    }

    async fn close(self) {
        let _ = self.0.close().await;
    }
}
