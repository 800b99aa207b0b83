//! Who holds the upgrade lock, asked without taking it: `status` tells a run in progress from
//! an interrupted one, and a waiting upgrader says whom it waits for. Read-only: nothing is
//! created (a missing SQLite lock file means nobody holds it).

use super::{mysql_lock_name, pg_lock_key, sqlite_lock_path, Backend, Conn, DbError, DbUrl};

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

/// The session holding the upgrade lock of `url`'s database and `version_table`, if any.
pub async fn lock_holder(
    conn: &mut Conn,
    url: &DbUrl,
    version_table: &str,
) -> Result<Option<LockHolder>, DbError> {
    match conn.backend() {
        Backend::Sqlite => {
            let Some(path) = sqlite_lock_path(url) else {
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
        Backend::Postgres => {
            let key = pg_lock_key(conn, url, version_table).await?;
            // A bigint advisory key is stored as two halves: classid (high), objid (low).
            let (high, low) = ((key >> 32) as u32, (key & 0xffff_ffff) as u32);
            let rows = conn
                .strings(&format!(
                    "SELECT 'pid ' || a.pid || ', user ' || COALESCE(a.usename::text, '?') \
                     || COALESCE(', from ' || host(a.client_addr), '') \
                     || COALESCE(', application ' || NULLIF(a.application_name, ''), '') \
                     || ', connected at ' || to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC' \
                     FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid \
                     WHERE l.locktype = 'advisory' AND l.granted AND l.classid = {high} \
                     AND l.objid = {low} AND l.objsubid = 1 AND l.database = \
                     (SELECT oid FROM pg_database WHERE datname = current_database())"
                ))
                .await?;
            Ok(rows
                .into_iter()
                .flatten()
                .next()
                .map(|who| LockHolder { who }))
        }
        Backend::Mysql => {
            let name = mysql_lock_name(url, version_table);
            let rows = conn
                .strings(&format!(
                    "SELECT CAST(COALESCE(CONCAT('connection ', p.ID, ', user ', p.USER, ', from ', p.HOST, \
                     ', connected ', p.TIME, ' s in its current state'), CONCAT('connection ', u.id)) AS CHAR) \
                     FROM (SELECT IS_USED_LOCK('{name}') AS id) AS u \
                     LEFT JOIN information_schema.PROCESSLIST AS p ON p.ID = u.id WHERE u.id IS NOT NULL"
                ))
                .await?;
            Ok(rows
                .into_iter()
                .flatten()
                .next()
                .map(|who| LockHolder { who }))
        }
    }
}
