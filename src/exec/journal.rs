//! Our own bookkeeping, in a table of its own beside Alembic's: one row per statement applied
//! (run, revision, statement n of N, a sha256 chained over the statements of the run, time),
//! and a row for a failure. Rows are written in the same transaction as the statement they
//! record, so the journal never claims a statement that was rolled back.

use sha2::{Digest, Sha256};

use crate::db::{Conn, DbError};

pub const JOURNAL_TABLE: &str = "alembic_engine_journal";

pub struct Journal {
    run_id: String,
    seq: u64,
    chain: String,
}

fn now() -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!("{}.{:03}", t.as_secs(), t.subsec_millis())
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

impl Journal {
    pub async fn open(conn: &mut Conn) -> Result<Journal, DbError> {
        conn.execute(&format!(
            "CREATE TABLE IF NOT EXISTS {JOURNAL_TABLE} (\
             run_id VARCHAR(64) NOT NULL, \
             seq INTEGER NOT NULL, \
             kind VARCHAR(16) NOT NULL, \
             revision VARCHAR(64) NOT NULL, \
             statement_index INTEGER NOT NULL, \
             statement_total INTEGER NOT NULL, \
             chain_sha256 VARCHAR(64) NOT NULL, \
             at VARCHAR(32) NOT NULL, \
             detail TEXT, \
             PRIMARY KEY (run_id, seq))"
        ))
        .await?;
        Ok(Journal {
            run_id: format!("{}-{}", now(), std::process::id()),
            seq: 0,
            chain: String::new(),
        })
    }

    async fn insert(
        &mut self,
        conn: &mut Conn,
        kind: &str,
        revision: &str,
        index: usize,
        total: usize,
        detail: Option<&str>,
    ) -> Result<(), DbError> {
        self.seq += 1;
        conn.execute(&format!(
            "INSERT INTO {JOURNAL_TABLE} (run_id, seq, kind, revision, statement_index, statement_total, chain_sha256, at, detail) \
             VALUES ({}, {}, {}, {}, {index}, {total}, {}, {}, {})",
            quote(&self.run_id),
            self.seq,
            quote(kind),
            quote(revision),
            quote(&self.chain),
            quote(&now()),
            detail.map_or("NULL".to_string(), quote),
        ))
        .await
    }

    /// Record a statement just executed (inside the same transaction).
    pub async fn record_statement(
        &mut self,
        conn: &mut Conn,
        revision: &str,
        index: usize,
        total: usize,
        sql: &str,
    ) -> Result<(), DbError> {
        let mut h = Sha256::new();
        h.update(self.chain.as_bytes());
        h.update(sql.as_bytes());
        self.chain = hex::encode(h.finalize());
        self.insert(conn, "statement", revision, index, total, None)
            .await
    }

    /// Record the end of a successful run.
    pub async fn record_done(&mut self, conn: &mut Conn) -> Result<(), DbError> {
        self.insert(conn, "done", "", 0, 0, None).await
    }

    /// Record a failure (best effort: the database may be unreachable).
    pub async fn record_error(&mut self, conn: &mut Conn, revision: &str, message: &str) {
        let _ = self
            .insert(conn, "error", revision, 0, 0, Some(message))
            .await;
    }
}
