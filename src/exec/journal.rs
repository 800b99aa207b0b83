//! Our own bookkeeping, in a table of its own beside Alembic's: one row per statement applied
//! (run, revision, direction, statement n of N, a sha256 chained over the statements of the
//! run, time), and a row for a failure (its error, with the failing statement). Rows are written in the same transaction as the statement they
//! record, so the journal never claims a statement that was rolled back.

use sha2::{Digest, Sha256};

use crate::db::{Conn, DbError};

pub const JOURNAL_TABLE: &str = "alembic_engine_journal";

pub struct Journal {
    run_id: String,
    /// `up` or `down`.
    direction: &'static str,
    seq: u64,
    chain: String,
    /// Statement rows of the open transaction, written together before it commits.
    pending: Vec<String>,
}

fn now() -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!("{}.{:03}", t.as_secs(), t.subsec_millis())
}

/// The `start` row's detail.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct RunStart {
    pub revisions: Vec<String>,
    pub statements: usize,
    /// Units fused from several revisions: the unit's (first) revision and the revisions that
    /// run in it, done when it is.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub joined: std::collections::BTreeMap<String, Vec<String>>,
}

pub fn quote_text(s: &str) -> String {
    quote(s)
}

pub fn statement_sha(sql: &str) -> String {
    hex::encode(Sha256::digest(sql.as_bytes()))
}

/// Where the last run stopped inside a revision: statements applied, and a statement that
/// may or may not have landed (its intent is recorded, its completion is not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interrupted {
    pub revision: String,
    /// sha256 of each applied statement, in order (index 1 first).
    pub applied: Vec<String>,
    /// The statement after them, if its outcome is unknown: (index, sha256).
    pub uncertain: Option<(usize, String)>,
}

/// The last run's progress through its last revision, if it stopped inside one.
pub async fn interrupted(conn: &mut Conn) -> Result<Option<Interrupted>, DbError> {
    if !conn.table_exists(JOURNAL_TABLE).await? {
        return Ok(None);
    }
    // A run that recorded only its start applied nothing: the one before it tells.
    let run = conn
        .strings(&format!(
            "SELECT run_id FROM {JOURNAL_TABLE} WHERE kind <> 'start' ORDER BY at DESC, seq DESC LIMIT 1"
        ))
        .await?;
    let Some(Some(run_id)) = run.first().cloned() else {
        return Ok(None);
    };
    let rows = conn
        .strings(&format!(
            "SELECT CONCAT(kind, '|', revision, '|', statement_index, '|', COALESCE(detail, '')) \
             FROM {JOURNAL_TABLE} WHERE run_id = {} ORDER BY seq",
            quote(&run_id)
        ))
        .await?;
    let mut last: Option<Interrupted> = None;
    for row in rows.into_iter().flatten() {
        let mut parts = row.splitn(4, '|');
        let (kind, revision, index, detail) = (
            parts.next().unwrap_or(""),
            parts.next().unwrap_or("").to_string(),
            parts
                .next()
                .and_then(|i| i.parse::<usize>().ok())
                .unwrap_or(0),
            parts.next().unwrap_or("").to_string(),
        );
        match kind {
            "done" => return Ok(None),
            "intent" => {
                let entry = last.get_or_insert_with(|| Interrupted {
                    revision: revision.clone(),
                    applied: Vec::new(),
                    uncertain: None,
                });
                if entry.revision != revision {
                    *entry = Interrupted {
                        revision: revision.clone(),
                        applied: Vec::new(),
                        uncertain: None,
                    };
                }
                entry.uncertain = Some((index, detail));
            }
            "statement" => {
                let entry = last.get_or_insert_with(|| Interrupted {
                    revision: revision.clone(),
                    applied: Vec::new(),
                    uncertain: None,
                });
                if entry.revision != revision {
                    *entry = Interrupted {
                        revision: revision.clone(),
                        applied: Vec::new(),
                        uncertain: None,
                    };
                }
                entry.applied.push(detail);
                entry.uncertain = None;
            }
            // A statement that failed did not apply: retrying it is safe.
            "error" => {
                if let Some(entry) = last.as_mut() {
                    entry.uncertain = None;
                }
            }
            _ => {}
        }
    }
    Ok(last)
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

impl Journal {
    pub async fn open(conn: &mut Conn, direction: &'static str) -> Result<Journal, DbError> {
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
             direction VARCHAR(8), \
             PRIMARY KEY (run_id, seq))"
        ))
        .await?;
        // A journal an earlier version of this tool created lacks the direction.
        if conn
            .strings(&format!(
                "SELECT direction FROM {JOURNAL_TABLE} WHERE 1 = 0"
            ))
            .await
            .is_err()
        {
            conn.execute(&format!(
                "ALTER TABLE {JOURNAL_TABLE} ADD COLUMN direction VARCHAR(8)"
            ))
            .await?;
        }
        Ok(Journal {
            direction,
            run_id: format!("{}-{}", now(), std::process::id()),
            seq: 0,
            chain: String::new(),
            pending: Vec::new(),
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
        let row = self.row(kind, revision, index, total, detail);
        conn.execute(&insert_rows(&[row])).await
    }

    /// The next row's values, `(...)`.
    fn row(
        &mut self,
        kind: &str,
        revision: &str,
        index: usize,
        total: usize,
        detail: Option<&str>,
    ) -> String {
        self.seq += 1;
        format!(
            "({}, {}, {}, {}, {index}, {total}, {}, {}, {}, {})",
            quote(&self.run_id),
            self.seq,
            quote(kind),
            quote(revision),
            quote(&self.chain),
            quote(&now()),
            detail.map_or("NULL".to_string(), quote),
            quote(self.direction),
        )
    }

    fn chain_in(&mut self, sql: &str) {
        let mut h = Sha256::new();
        h.update(self.chain.as_bytes());
        h.update(sql.as_bytes());
        self.chain = hex::encode(h.finalize());
    }

    /// Note a statement just executed inside a transaction that commits the journal with it
    /// (SQLite, PostgreSQL): its row is written by `flush`, before the commit — one round
    /// trip per transaction instead of one per statement, the same rows.
    pub fn defer_statement(&mut self, revision: &str, index: usize, total: usize, sql: &str) {
        self.chain_in(sql);
        let sha = statement_sha(sql);
        let row = self.row("statement", revision, index, total, Some(&sha));
        self.pending.push(row);
    }

    /// Write the deferred statement rows (inside the transaction they belong to).
    pub async fn flush(&mut self, conn: &mut Conn) -> Result<(), DbError> {
        let rows = std::mem::take(&mut self.pending);
        for chunk in rows.chunks(500) {
            conn.execute(&insert_rows(chunk)).await?;
        }
        Ok(())
    }

    /// Record that a statement is about to run (MySQL: its DDL commits on its own, so a crash
    /// between it and its `statement` row must be visible).
    pub async fn record_intent(
        &mut self,
        conn: &mut Conn,
        revision: &str,
        index: usize,
        total: usize,
        sql: &str,
    ) -> Result<(), DbError> {
        self.insert(
            conn,
            "intent",
            revision,
            index,
            total,
            Some(&statement_sha(sql)),
        )
        .await
    }

    /// Record a statement just executed, with its own sha256 (for checking a resume).
    pub async fn record_checkpoint(
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
        self.insert(
            conn,
            "statement",
            revision,
            index,
            total,
            Some(&statement_sha(sql)),
        )
        .await
    }

    /// Record the end of a successful run.
    pub async fn record_done(&mut self, conn: &mut Conn) -> Result<(), DbError> {
        self.insert(conn, "done", "", 0, 0, None).await
    }

    /// Record what the run sets out to do, before its first statement (outside any
    /// transaction, so `status` sees it while the run goes): the revisions and the
    /// statement count.
    pub async fn record_start(
        &mut self,
        conn: &mut Conn,
        plan: &crate::plan::Plan,
    ) -> Result<(), DbError> {
        let start = RunStart {
            revisions: plan
                .steps
                .iter()
                .flat_map(|s| std::iter::once(&s.compiled.revision).chain(&s.joined))
                .cloned()
                .collect(),
            statements: plan.statement_count(),
            joined: plan
                .steps
                .iter()
                .filter(|s| !s.joined.is_empty())
                .map(|s| (s.compiled.revision.clone(), s.joined.clone()))
                .collect(),
        };
        let detail = serde_json::to_string(&start).unwrap_or_default();
        self.insert(conn, "start", "", 0, 0, Some(&detail)).await
    }

    /// Record a run stopped on request at a checkpoint (best effort).
    pub async fn record_stopped(&mut self, conn: &mut Conn) {
        // Deferred rows belong to a transaction that was rolled back.
        self.pending.clear();
        let _ = self.insert(conn, "stopped", "", 0, 0, None).await;
    }

    /// Record a failure (best effort: the database may be unreachable).
    pub async fn record_error(&mut self, conn: &mut Conn, revision: &str, message: &str) {
        self.pending.clear();
        let _ = self
            .insert(conn, "error", revision, 0, 0, Some(message))
            .await;
    }
}

/// `INSERT INTO journal (...) VALUES row, row, ...`.
fn insert_rows(rows: &[String]) -> String {
    format!(
        "INSERT INTO {JOURNAL_TABLE} (run_id, seq, kind, revision, statement_index, \
         statement_total, chain_sha256, at, detail, direction) VALUES {}",
        rows.join(", ")
    )
}
