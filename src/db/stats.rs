//! Row counts for the dry-run report, from the cheapest source each database has: PostgreSQL's
//! `pg_class.reltuples` (an exact count where the table was never analyzed), InnoDB's
//! `information_schema.tables.table_rows` (an estimate), SQLite's `count(*)` (exact, and cheap
//! next to any rebuild).

use std::collections::BTreeMap;

use super::{Backend, Conn, DbError};

/// Rows per table of the database (its current schema on PostgreSQL).
pub async fn row_counts(conn: &mut Conn) -> Result<BTreeMap<String, u64>, DbError> {
    let mut counts = BTreeMap::new();
    let estimates = match conn.backend() {
        Backend::Postgres => {
            "SELECT c.relname::text || '|' || c.reltuples::bigint FROM pg_class AS c \
             JOIN pg_namespace AS n ON n.oid = c.relnamespace \
             WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')"
        }
        Backend::Mysql => {
            "SELECT CAST(CONCAT(table_name, '|', COALESCE(table_rows, -1)) AS CHAR) \
             FROM information_schema.tables WHERE table_schema = DATABASE() \
             AND table_type = 'BASE TABLE'"
        }
        Backend::Sqlite => {
            "SELECT name || '|-1' FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite_%'"
        }
    };
    for row in conn.strings(estimates).await?.into_iter().flatten() {
        let Some((table, n)) = row.rsplit_once('|') else {
            continue;
        };
        let n: i64 = n.parse().unwrap_or(-1);
        let n = if n < 0 {
            // No statistics (SQLite; a PostgreSQL table never analyzed): count.
            let (quoted, text) = match conn.backend() {
                Backend::Mysql => (format!("`{}`", table.replace('`', "``")), "CHAR"),
                _ => (format!("\"{}\"", table.replace('"', "\"\"")), "TEXT"),
            };
            conn.strings(&format!("SELECT CAST(COUNT(*) AS {text}) FROM {quoted}"))
                .await?
                .into_iter()
                .flatten()
                .next()
                .and_then(|c| c.parse().ok())
                .unwrap_or(0)
        } else {
            n as u64
        };
        counts.insert(table.to_string(), n);
    }
    Ok(counts)
}
