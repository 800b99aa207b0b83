//! PostgreSQL. The schema is the first existing one of the connection's search path (a URL's
//! `options=-csearch_path=...`): every catalog query reads `current_schema()`, our tables are
//! created unqualified, and the lock key names the schema. The upgrade lock is a session
//! advisory lock, so it dies with the connection.

use std::time::{Duration, Instant};

use sqlx::Connection as _;

use super::driver::{execute_raw, first_cell, sqlx_io, text_rows, Catalog, Driver, TextRows};
use super::{lock_key, within_timeout, Backend, DbError, DbUrl, Lock, LockHolder, PgParams};
use crate::ir::Constraint;

pub(crate) struct Postgres(sqlx::PgConnection);

fn options(url: &DbUrl, p: &PgParams) -> Result<sqlx::postgres::PgConnectOptions, DbError> {
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

impl Postgres {
    /// The advisory-lock key. Advisory locks are per database; the schema is in the key so
    /// that two schemas of one database (`options=-csearch_path=...`) are upgraded
    /// independently.
    async fn lock_key(&mut self, url: &DbUrl, version_table: &str) -> Result<i64, DbError> {
        let schema = self
            .rows("SELECT COALESCE(current_schema()::text, '')")
            .await?;
        let schema = first_cell(schema).unwrap_or_default();
        Ok(lock_key(&format!(
            "alembic-engine:{}:{schema}:{version_table}",
            url.database
        )))
    }
}

impl Driver for Postgres {
    const BACKEND: Backend = Backend::Postgres;
    const CATALOG: Catalog = Catalog {
        tables: "SELECT table_name::text FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
        columns: "SELECT c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod), \
                  CASE WHEN a.attnotnull THEN '0' ELSE '1' END \
                  FROM pg_attribute AS a JOIN pg_class AS c ON c.oid = a.attrelid \
                  JOIN pg_namespace AS n ON n.oid = c.relnamespace \
                  WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') \
                  AND a.attnum > 0 AND NOT a.attisdropped ORDER BY c.relname, a.attnum",
        indexes: "SELECT t.relname::text, i.relname::text, \
                  CASE WHEN x.indisunique THEN '1' ELSE '0' END, a.attname::text \
                  FROM pg_index AS x JOIN pg_class AS i ON i.oid = x.indexrelid \
                  JOIN pg_class AS t ON t.oid = x.indrelid \
                  JOIN pg_namespace AS n ON n.oid = t.relnamespace \
                  CROSS JOIN LATERAL unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) \
                  LEFT JOIN pg_attribute AS a ON a.attrelid = t.oid AND a.attnum = k.attnum \
                  WHERE n.nspname = current_schema() AND k.ord <= x.indnkeyatts \
                  ORDER BY t.relname, i.relname, k.ord",
        triggers: "SELECT t.tgname::text, cl.relname::text FROM pg_trigger AS t \
                   JOIN pg_class AS cl ON cl.oid = t.tgrelid \
                   JOIN pg_namespace AS n ON n.oid = cl.relnamespace \
                   WHERE n.nspname = current_schema() AND NOT t.tgisinternal",
        row_estimates: "SELECT c.relname::text, c.reltuples::bigint::text FROM pg_class AS c \
                        JOIN pg_namespace AS n ON n.oid = c.relnamespace \
                        WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')",
    };

    async fn open(url: &DbUrl, _create: bool) -> Result<Self, DbError> {
        let super::Params::Postgres(p) = &url.params else {
            unreachable!("a PostgreSQL connection is opened for a postgresql:// URL")
        };
        let opts = options(url, p)?;
        let mut conn =
            Postgres(within_timeout(url, sqlx::PgConnection::connect_with(&opts)).await?);
        if let Some(search_path) = p.search_path() {
            let schema = conn.rows("SELECT current_schema()::text").await?;
            if first_cell(schema).is_none() {
                conn.close().await;
                return Err(DbError::NoSchema {
                    url: url.to_string(),
                    search_path: search_path.to_string(),
                });
            }
        }
        Ok(conn)
    }

    sqlx_io!();

    async fn lock(
        &mut self,
        url: &DbUrl,
        version_table: &str,
        timeout: Duration,
    ) -> Result<Lock, DbError> {
        let start = Instant::now();
        let key = self.lock_key(url, version_table).await?;
        loop {
            let got = self
                .rows(&format!("SELECT pg_try_advisory_lock({key})::text"))
                .await?;
            if first_cell(got).as_deref() == Some("true") {
                return Ok(Lock::Session {
                    release: format!("SELECT pg_advisory_unlock({key})"),
                });
            }
            if start.elapsed() >= timeout {
                return Err(DbError::LockTimeout {
                    target: url.to_string(),
                    waited: start.elapsed(),
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn lock_holder(
        &mut self,
        url: &DbUrl,
        version_table: &str,
    ) -> Result<Option<LockHolder>, DbError> {
        let key = self.lock_key(url, version_table).await?;
        // A bigint advisory key is stored as two halves: classid (high), objid (low).
        let (high, low) = ((key >> 32) as u32, (key & 0xffff_ffff) as u32);
        let rows = self
            .rows(&format!(
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
        Ok(first_cell(rows).map(|who| LockHolder { who }))
    }

    async fn constraints(&mut self) -> Result<Vec<(String, Constraint)>, DbError> {
        let rows = self
            .rows(
                "SELECT cl.relname::text, co.conname::text, co.contype::text, a.attname::text, \
                 rt.relname::text, ra.attname::text, \
                 CASE WHEN co.contype = 'c' THEN pg_get_constraintdef(co.oid) END \
                 FROM pg_constraint AS co JOIN pg_class AS cl ON cl.oid = co.conrelid \
                 JOIN pg_namespace AS n ON n.oid = cl.relnamespace \
                 LEFT JOIN LATERAL unnest(co.conkey, co.confkey) \
                   WITH ORDINALITY AS k(attnum, refnum, ord) ON true \
                 LEFT JOIN pg_attribute AS a ON a.attrelid = co.conrelid AND a.attnum = k.attnum \
                 LEFT JOIN pg_class AS rt ON rt.oid = co.confrelid \
                 LEFT JOIN pg_attribute AS ra ON ra.attrelid = co.confrelid AND ra.attnum = k.refnum \
                 WHERE n.nspname = current_schema() \
                 ORDER BY cl.relname, co.conname, co.contype, k.ord",
            )
            .await?;
        Ok(super::live::constraints_from_rows(rows))
    }

    async fn close(self) {
        let _ = self.0.close().await;
    }
}
