//! MySQL and MariaDB (which one is asked of the server once connected). DDL commits
//! implicitly, so the journal checkpoints each statement. The upgrade lock is a named lock
//! (`GET_LOCK`), held by the session, so it dies with the connection; its name is at most 64
//! characters.

use std::time::{Duration, Instant};

use sqlx::Connection as _;

use super::driver::{execute_raw, first_cell, sqlx_io, text_rows, Catalog, Driver, TextRows};
use super::{
    lock_key, within_timeout, Backend, DbError, DbUrl, Lock, LockHolder, MysqlParams, MysqlTls,
};
use crate::dialect::sqltext::normalize_check;
use crate::ir::Constraint;

pub(crate) struct Mysql(sqlx::MySqlConnection);

fn options(url: &DbUrl, p: &MysqlParams) -> sqlx::mysql::MySqlConnectOptions {
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

/// The named lock of a database and version table, quoted for a string literal. A longer
/// name than 64 characters is hashed, not cut (cutting could give two version tables one
/// lock).
fn lock_name(url: &DbUrl, version_table: &str) -> String {
    let name = format!("alembic-engine:{}:{version_table}", url.database);
    if name.chars().count() <= 64 {
        name.replace('\\', "\\\\").replace('\'', "''")
    } else {
        format!("alembic-engine:{:016x}", lock_key(&name))
    }
}

impl Driver for Mysql {
    const BACKEND: Backend = Backend::Mysql;
    const CATALOG: Catalog = Catalog {
        tables: "SELECT CAST(table_name AS CHAR) FROM information_schema.tables \
                 WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'",
        columns: "SELECT CAST(table_name AS CHAR), CAST(column_name AS CHAR), \
                  CAST(column_type AS CHAR), CAST(IF(is_nullable = 'YES', '1', '0') AS CHAR) \
                  FROM information_schema.columns WHERE table_schema = DATABASE() \
                  ORDER BY table_name, ordinal_position",
        indexes: "SELECT CAST(table_name AS CHAR), CAST(index_name AS CHAR), \
                  CAST(1 - non_unique AS CHAR), CAST(column_name AS CHAR) \
                  FROM information_schema.statistics \
                  WHERE table_schema = DATABASE() AND index_name <> 'PRIMARY' \
                  ORDER BY table_name, index_name, seq_in_index",
        triggers: "SELECT CAST(trigger_name AS CHAR), CAST(event_object_table AS CHAR) \
                   FROM information_schema.triggers WHERE trigger_schema = DATABASE()",
        row_estimates: "SELECT CAST(table_name AS CHAR), CAST(COALESCE(table_rows, -1) AS CHAR) \
                        FROM information_schema.tables WHERE table_schema = DATABASE() \
                        AND table_type = 'BASE TABLE'",
    };

    async fn open(url: &DbUrl, _create: bool) -> Result<Self, DbError> {
        let super::Params::Mysql(p) = &url.params else {
            unreachable!("a MySQL connection is opened for a mysql:// URL")
        };
        let opts = options(url, p);
        Ok(Mysql(
            within_timeout(url, sqlx::MySqlConnection::connect_with(&opts)).await?,
        ))
    }

    sqlx_io!();

    async fn lock(
        &mut self,
        url: &DbUrl,
        version_table: &str,
        timeout: Duration,
    ) -> Result<Lock, DbError> {
        let start = Instant::now();
        let name = lock_name(url, version_table);
        let secs = timeout.as_secs().max(1);
        let got = self
            .rows(&format!("SELECT CAST(GET_LOCK('{name}', {secs}) AS CHAR)"))
            .await?;
        if first_cell(got).as_deref() == Some("1") {
            Ok(Lock::Session {
                release: format!("SELECT RELEASE_LOCK('{name}')"),
            })
        } else {
            Err(DbError::LockTimeout {
                target: url.to_string(),
                waited: start.elapsed(),
            })
        }
    }

    async fn lock_holder(
        &mut self,
        url: &DbUrl,
        version_table: &str,
    ) -> Result<Option<LockHolder>, DbError> {
        let name = lock_name(url, version_table);
        let rows = self
            .rows(&format!(
                "SELECT CAST(COALESCE(CONCAT('connection ', p.ID, ', user ', p.USER, ', from ', p.HOST, \
                 ', connected ', p.TIME, ' s in its current state'), CONCAT('connection ', u.id)) AS CHAR) \
                 FROM (SELECT IS_USED_LOCK('{name}') AS id) AS u \
                 LEFT JOIN information_schema.PROCESSLIST AS p ON p.ID = u.id WHERE u.id IS NOT NULL"
            ))
            .await?;
        Ok(first_cell(rows).map(|who| LockHolder { who }))
    }

    async fn constraints(&mut self) -> Result<Vec<(String, Constraint)>, DbError> {
        let keys = self
            .rows(
                "SELECT CAST(tc.table_name AS CHAR), CAST(tc.constraint_name AS CHAR), \
                 CAST(CASE tc.constraint_type WHEN 'PRIMARY KEY' THEN 'p' WHEN 'UNIQUE' THEN 'u' \
                 WHEN 'FOREIGN KEY' THEN 'f' ELSE 'x' END AS CHAR), CAST(k.column_name AS CHAR), \
                 CAST(k.referenced_table_name AS CHAR), CAST(k.referenced_column_name AS CHAR), \
                 NULL \
                 FROM information_schema.table_constraints AS tc \
                 JOIN information_schema.key_column_usage AS k \
                   ON k.constraint_schema = tc.constraint_schema AND k.table_name = tc.table_name \
                  AND k.constraint_name = tc.constraint_name \
                 WHERE tc.constraint_schema = DATABASE() AND tc.constraint_type <> 'CHECK' \
                 ORDER BY tc.table_name, tc.constraint_name, 3, k.ordinal_position",
            )
            .await?;
        let mut out = super::live::constraints_from_rows(keys);
        // MariaDB names the table in CHECK_CONSTRAINTS; MySQL 8 only in TABLE_CONSTRAINTS.
        let checks = match self
            .rows(
                "SELECT CAST(table_name AS CHAR), CAST(constraint_name AS CHAR), \
                 CAST(check_clause AS CHAR) \
                 FROM information_schema.check_constraints WHERE constraint_schema = DATABASE()",
            )
            .await
        {
            Ok(rows) => rows,
            Err(_) => {
                self.rows(
                    "SELECT CAST(tc.table_name AS CHAR), CAST(tc.constraint_name AS CHAR), \
                     CAST(cc.check_clause AS CHAR) \
                     FROM information_schema.table_constraints AS tc \
                     JOIN information_schema.check_constraints AS cc \
                       ON cc.constraint_schema = tc.constraint_schema \
                      AND cc.constraint_name = tc.constraint_name \
                     WHERE tc.constraint_schema = DATABASE() AND tc.constraint_type = 'CHECK'",
                )
                .await?
            }
        };
        out.extend(checks.into_iter().filter_map(|row| match &row[..] {
            [Some(table), name, Some(clause)] => Some((
                table.clone(),
                Constraint::Check {
                    name: name.clone(),
                    sqltext: normalize_check(clause),
                },
            )),
            _ => None,
        }));
        Ok(out)
    }

    async fn close(self) {
        let _ = self.0.close().await;
    }
}
