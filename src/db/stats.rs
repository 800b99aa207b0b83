//! Row counts for the dry-run report, from the cheapest source each database has: PostgreSQL's
//! `pg_class.reltuples` (an exact count where the table was never analyzed), InnoDB's
//! `information_schema.tables.table_rows` (an estimate), SQLite's `count(*)` (exact, and cheap
//! next to any rebuild).

use std::collections::BTreeMap;

use super::{quoted, Backend, Conn, DbError};

/// Rows per table of the database (its current schema on PostgreSQL).
pub async fn row_counts(conn: &mut Conn) -> Result<BTreeMap<String, u64>, DbError> {
    let mut counts = BTreeMap::new();
    let estimates = conn.rows(conn.catalog().row_estimates).await?;
    for row in estimates {
        let [Some(table), Some(n)] = &row[..] else {
            continue;
        };
        let n: i64 = n.parse().unwrap_or(-1);
        let n = if n < 0 {
            // No statistics (SQLite; a PostgreSQL table never analyzed): count.
            let text = if conn.backend() == Backend::Mysql {
                "CHAR"
            } else {
                "TEXT"
            };
            conn.strings(&format!(
                "SELECT CAST(COUNT(*) AS {text}) FROM {}",
                quoted(conn.backend(), table)
            ))
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
