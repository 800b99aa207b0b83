//! What a database records about its upgrades, read without changing anything (`status`), and
//! the journal's upkeep (`prune_journal`).
//!
//! The journal grows by one row per statement applied on SQLite and PostgreSQL and two on
//! MySQL/MariaDB (an intent before, a checkpoint after), plus a `start` row and an end row
//! (`done`, `stopped` or `error`) per run: about 460 rows for MLflow's whole tracking chain on
//! SQLite, 760 on MariaDB. A run with nothing to do writes nothing.

use std::time::Duration;

use serde::Serialize;

use super::journal::{self, RunStart, JOURNAL_TABLE};
use super::ExecError;
use crate::db::{lock_holder, Backend, Conn, DbUrl, Lock, LockHolder};
use crate::project::Project;

/// How the last recorded run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    /// Its lock is held now: it is still going.
    Running,
    Completed,
    Failed,
    /// Stopped on request at a checkpoint.
    Stopped,
    /// Neither an end nor an error, and nobody holds the lock: the process died.
    Interrupted,
}

/// The last run our journal recorded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunReport {
    pub run_id: String,
    /// When it started, `YYYY-MM-DD HH:MM:SS UTC`.
    pub started_at: String,
    /// `up` or `down` (empty for journals written before directions were recorded).
    pub direction: String,
    pub state: RunState,
    /// The revisions it set out to run, in order (empty for journals written before runs
    /// recorded their start).
    pub planned: Vec<String>,
    /// The revisions it completed (their last statement is recorded).
    pub done: Vec<String>,
    /// `planned` less `done`.
    pub remaining: Vec<String>,
    /// Statements applied, and how many the run planned (0 when unknown).
    pub statements: usize,
    pub statements_planned: usize,
    /// The revision of the last statement applied.
    pub last_revision: String,
    pub error: Option<String>,
}

/// What `status` answers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Status {
    /// The rows of the version table.
    pub current: Vec<String>,
    pub last_run: Option<RunReport>,
    /// Who holds the upgrade lock now, if anyone.
    pub lock_holder: Option<LockHolder>,
}

/// Connect for reading only: a SQLite file that does not exist is an error, never created.
pub(super) async fn connect_existing(url: &DbUrl) -> Result<Conn, ExecError> {
    Ok(Conn::connect_existing(url).await?)
}

/// The version rows, the last run and whether one is running now. Changes nothing.
pub async fn status(url: &DbUrl, project: &Project) -> Result<Status, ExecError> {
    let mut conn = connect_existing(url).await?;
    let result = read_status(&mut conn, url, project).await;
    conn.close().await;
    result
}

async fn read_status(conn: &mut Conn, url: &DbUrl, project: &Project) -> Result<Status, ExecError> {
    let current = conn.version_rows(&project.version_table).await?;
    let lock_holder = lock_holder(conn, url, &project.version_table).await?;
    let mut last_run = None;
    if conn.table_exists(JOURNAL_TABLE).await? {
        let run = conn
            .strings(&format!(
                "SELECT run_id FROM {JOURNAL_TABLE} ORDER BY at DESC, seq DESC LIMIT 1"
            ))
            .await?;
        if let Some(Some(run_id)) = run.first() {
            last_run = Some(read_run(conn, run_id, lock_holder.is_some()).await?);
        }
    }
    Ok(Status {
        current,
        last_run,
        lock_holder,
    })
}

async fn read_run(conn: &mut Conn, run_id: &str, locked: bool) -> Result<RunReport, ExecError> {
    let backend = conn.backend();
    let sql = format!(
        "SELECT {} FROM {JOURNAL_TABLE} WHERE run_id = {} ORDER BY seq",
        concat(
            backend,
            &[
                "kind",
                "revision",
                "CAST(statement_index AS CHAR(12))",
                "CAST(statement_total AS CHAR(12))",
                "at",
                "COALESCE(direction, '')",
                "COALESCE(detail, '')",
            ]
        ),
        journal::quote_text(run_id)
    )
    .replace("AS CHAR(12)", cast_text(backend));
    let mut report = RunReport {
        run_id: run_id.to_string(),
        started_at: String::new(),
        direction: String::new(),
        state: RunState::Interrupted,
        planned: Vec::new(),
        done: Vec::new(),
        remaining: Vec::new(),
        statements: 0,
        statements_planned: 0,
        last_revision: String::new(),
        error: None,
    };
    let mut ended = None;
    let mut joined = std::collections::BTreeMap::new();
    for row in conn.strings(&sql).await?.into_iter().flatten() {
        let f: Vec<&str> = row.splitn(7, '|').collect();
        let [kind, revision, index, total, at, direction, detail] = f[..] else {
            continue;
        };
        if report.started_at.is_empty() {
            report.started_at = utc_text(at);
        }
        if report.direction.is_empty() {
            report.direction = direction.to_string();
        }
        match kind {
            "start" => {
                let start: RunStart = serde_json::from_str(detail).unwrap_or_default();
                report.planned = start.revisions;
                report.statements_planned = start.statements;
                joined = start.joined;
            }
            "statement" => {
                report.statements += 1;
                report.last_revision = revision.to_string();
                if index == total && !report.done.iter().any(|d| d == revision) {
                    report.done.push(revision.to_string());
                    report
                        .done
                        .extend(joined.get(revision).into_iter().flatten().cloned());
                }
            }
            "error" => {
                report.error = Some(detail.to_string());
                ended = Some(RunState::Failed);
            }
            "stopped" => ended = Some(RunState::Stopped),
            "done" => ended = Some(RunState::Completed),
            _ => {}
        }
    }
    report.remaining = report
        .planned
        .iter()
        .filter(|r| !report.done.contains(r))
        .cloned()
        .collect();
    report.state = match ended {
        Some(state) => state,
        None if locked => RunState::Running,
        None => RunState::Interrupted,
    };
    Ok(report)
}

fn cast_text(backend: Backend) -> &'static str {
    match backend {
        Backend::Mysql => "AS CHAR",
        _ => "AS TEXT",
    }
}

/// `secs.millis` since the epoch, as `YYYY-MM-DD HH:MM:SS UTC`.
pub(super) fn utc_text(at: &str) -> String {
    let Some(secs) = at.split('.').next().and_then(|s| s.parse::<i64>().ok()) else {
        return at.to_string();
    };
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60
    )
}

/// When our journal saw a revision applied: the last run that completed it in the
/// direction the database now has it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Applied {
    pub revision: String,
    pub run_id: String,
    /// When its last statement ran, `YYYY-MM-DD HH:MM:SS UTC`.
    pub applied_at: String,
    /// From its first statement to its last, in that run.
    pub seconds: f64,
}

/// The version rows, and for each revision the journal saw upgraded (and not downgraded since),
/// when and by which run (`history URL`). Changes nothing.
pub async fn applied(
    url: &DbUrl,
    project: &Project,
) -> Result<(Vec<String>, Vec<Applied>), ExecError> {
    let mut conn = connect_existing(url).await?;
    let result = async {
        let current = conn.version_rows(&project.version_table).await?;
        let mut applied: Vec<Applied> = Vec::new();
        if conn.table_exists(JOURNAL_TABLE).await? {
            let sql = format!(
                "SELECT {} FROM {JOURNAL_TABLE} WHERE kind IN ('start', 'statement') ORDER BY at, seq",
                concat(conn.backend(), &[
                    "kind",
                    "run_id",
                    "revision",
                    &format!("CAST(statement_index {})", cast_text(conn.backend())),
                    &format!("CAST(statement_total {})", cast_text(conn.backend())),
                    "at",
                    "COALESCE(direction, 'up')",
                    "COALESCE(detail, '')",
                ])
            );
            // A revision's time runs from the end of the one before it in the same run (or the
            // run's start) to its last statement.
            let mut since: std::collections::HashMap<String, f64> = Default::default();
            // Per run, the revisions fused into each unit (applied with it).
            let mut joined: std::collections::HashMap<String, journal::RunStart> =
                Default::default();
            for row in conn.strings(&sql).await?.into_iter().flatten() {
                let f: Vec<&str> = row.splitn(8, '|').collect();
                let [kind, run, revision, index, total, at, direction, detail] = f[..] else {
                    continue;
                };
                let t: f64 = at.parse().unwrap_or(0.0);
                let first = *since.entry(run.to_string()).or_insert(t);
                if kind == "start" {
                    joined.insert(run.to_string(), serde_json::from_str(detail).unwrap_or_default());
                }
                if kind == "start" || index != total {
                    continue;
                }
                since.insert(run.to_string(), t);
                let fused = joined.get(run).and_then(|s| s.joined.get(revision));
                let unit: Vec<&str> = std::iter::once(revision)
                    .chain(fused.into_iter().flatten().map(String::as_str))
                    .collect();
                applied.retain(|a| !unit.contains(&a.revision.as_str()));
                if direction == "up" {
                    applied.extend(unit.iter().map(|r| Applied {
                        revision: r.to_string(),
                        run_id: run.to_string(),
                        applied_at: utc_text(at),
                        seconds: ((t - first) * 1000.0).round() / 1000.0,
                    }));
                }
            }
        }
        Ok((current, applied))
    }
    .await;
    conn.close().await;
    result
}

fn concat(backend: Backend, parts: &[&str]) -> String {
    match backend {
        Backend::Mysql => format!("CAST(CONCAT_WS('|', {}) AS CHAR)", parts.join(", ")),
        _ => parts.join(" || '|' || "),
    }
}

/// What `prune_journal` removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Pruned {
    pub runs_removed: usize,
    pub rows_removed: u64,
    pub runs_kept: usize,
}

/// Delete the journal rows of all but the `keep` most recent runs, under the upgrade lock. The
/// most recent run is kept whatever `keep` says when it did not finish: a resume on
/// MySQL/MariaDB reads it.
pub async fn prune_journal(
    url: &DbUrl,
    project: &Project,
    keep: usize,
    lock_timeout: Duration,
) -> Result<Pruned, ExecError> {
    let mut conn = connect_existing(url).await?;
    let lock = Lock::acquire(&mut conn, url, &project.version_table, lock_timeout).await?;
    let result = prune_locked(&mut conn, keep).await;
    lock.release(&mut conn).await;
    conn.close().await;
    result
}

async fn prune_locked(conn: &mut Conn, keep: usize) -> Result<Pruned, ExecError> {
    if !conn.table_exists(JOURNAL_TABLE).await? {
        return Ok(Pruned {
            runs_removed: 0,
            rows_removed: 0,
            runs_kept: 0,
        });
    }
    let runs: Vec<String> = conn
        .strings(&format!(
            "SELECT run_id FROM {JOURNAL_TABLE} GROUP BY run_id ORDER BY MAX(at) DESC, run_id DESC"
        ))
        .await?
        .into_iter()
        .flatten()
        .collect();
    let newest_unfinished = match runs.first() {
        Some(run) => conn
            .strings(&format!(
                "SELECT kind FROM {JOURNAL_TABLE} WHERE run_id = {} AND kind IN ('done', 'stopped', 'error')",
                journal::quote_text(run)
            ))
            .await?
            .is_empty(),
        None => false,
    };
    let keep = keep.max(usize::from(newest_unfinished)).min(runs.len());
    let doomed = &runs[keep..];
    let mut rows_removed = 0;
    for chunk in doomed.chunks(200) {
        let list = chunk
            .iter()
            .map(|r| journal::quote_text(r))
            .collect::<Vec<_>>()
            .join(", ");
        rows_removed += conn
            .execute_counting(&format!(
                "DELETE FROM {JOURNAL_TABLE} WHERE run_id IN ({list})"
            ))
            .await?;
    }
    Ok(Pruned {
        runs_removed: doomed.len(),
        rows_removed,
        runs_kept: keep,
    })
}

#[cfg(test)]
mod tests {
    use super::utc_text;

    #[test]
    fn journal_times_read_as_utc_dates() {
        assert_eq!(utc_text("0.000"), "1970-01-01 00:00:00 UTC");
        // 2000-02-29 12:34:56 UTC, a leap day.
        assert_eq!(utc_text("951827696.123"), "2000-02-29 12:34:56 UTC");
        assert_eq!(utc_text("1796460000.5"), "2026-12-05 08:40:00 UTC");
    }
}
