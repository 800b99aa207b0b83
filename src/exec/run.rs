//! Running a plan's statements: per revision in a transaction with its version-row change
//! (SQLite, PostgreSQL), or statement by statement between journal checkpoints (MySQL,
//! MariaDB, which commit DDL on their own), with the backup first and a stop on request at a
//! checkpoint.

use super::*;

fn direction_name(plan: &Plan) -> &'static str {
    match plan.steps.first().map(|s| s.compiled.direction) {
        Some(Direction::Down) => "down",
        _ => "up",
    }
}

/// MySQL/MariaDB commit each DDL statement on their own: journal an intent before and a
/// checkpoint after every statement (DML runs in a transaction with its checkpoint), and on
/// resume skip what was applied — refusing to guess about the one statement whose outcome the
/// journal cannot tell.
pub(super) async fn execute_checkpointed(
    conn: &mut Conn,
    plan: &Plan,
    options: &Options,
    interrupted: Option<&journal::Interrupted>,
    progress: &mut (dyn FnMut(Event) + Send),
) -> Result<(), ExecError> {
    back_up(conn, plan, options, progress).await?;
    let units = plan.units();
    let total: usize = units.iter().map(|u| u.statements.len()).sum();
    let mut journal = journal::Journal::open(conn, direction_name(plan)).await?;
    journal.record_start(conn, plan).await?;
    let mut counter = 0usize;
    let steps_total = units.len();
    for (
        u,
        Unit {
            revision,
            statements: stmts,
        },
    ) in units.iter().enumerate()
    {
        progress(step_event(plan, u, steps_total));
        let mut skip = 0usize;
        if let (0, Some(i)) = (u, interrupted) {
            skip = resume_interrupted(conn, &mut journal, &units[0], i, options).await?;
            counter += skip;
        }
        for (k, statement) in stmts.iter().enumerate().skip(skip) {
            let sql = &statement.sql;
            counter += 1;
            progress(Event::Statement {
                index: counter,
                total,
                revision: revision.clone(),
                summary: statement.summary(),
                sql: sql.clone(),
            });
            // Rows (data or version) change in one transaction with their checkpoint.
            let dml = statement.changes_rows_only();
            journal
                .record_intent(conn, revision, k + 1, stmts.len(), sql)
                .await?;
            if dml {
                conn.execute("BEGIN").await?;
            }
            let result = run_statement(conn, statement).await;
            if let (Ok(rows), true) = (&result, statement.is_dml()) {
                progress(Event::Rows {
                    revision: revision.clone(),
                    summary: statement.summary(),
                    rows: *rows,
                });
            }
            if let Err(source) = result {
                if dml {
                    let _ = conn.execute("ROLLBACK").await;
                }
                let err = statement_failed(revision, k, stmts.len(), sql, source, false);
                journal.record_error(conn, revision, &err.to_string()).await;
                return Err(err);
            }
            faults::before_journal(counter)?;
            journal
                .record_checkpoint(conn, revision, k + 1, stmts.len(), sql)
                .await?;
            if dml {
                conn.execute("COMMIT").await?;
            }
            faults::after(counter)?;
            let last = u + 1 == steps_total && k + 1 == stmts.len();
            if options.cancel.is_cancelled() && !last {
                let done = if k + 1 == stmts.len() { u + 1 } else { u };
                return Err(stopped(conn, plan, &mut journal, done, steps_total).await);
            }
        }
        progress(Event::Committed {
            revision: revision.clone(),
        });
    }
    journal.record_done(conn).await?;
    Ok(())
}

/// Continue the unit an interrupted MySQL/MariaDB run stopped inside: check that what it
/// applied is what is planned now, settle the statement it may have cut, checkpoint what is
/// applied, and remake the temporary tables still in use. Returns how many statements to skip.
async fn resume_interrupted(
    conn: &mut Conn,
    journal: &mut journal::Journal,
    unit: &Unit,
    interrupted: &journal::Interrupted,
    options: &Options,
) -> Result<usize, ExecError> {
    let Unit {
        revision,
        statements: stmts,
    } = unit;
    for (k, sha) in interrupted.applied.iter().enumerate() {
        let planned = stmts.get(k).map(|s| journal::statement_sha(&s.sql));
        if planned.as_deref() != Some(sha.as_str()) {
            return Err(ExecError::ResumeMismatch {
                revision: revision.clone(),
                index: k + 1,
            });
        }
    }
    let mut skip = interrupted.applied.len();
    if let Some((index, _)) = &interrupted.uncertain {
        let decision = match options.uncertain {
            Some(d) => d,
            None => recover::decide_uncertain(conn, stmts, *index)
                .await?
                .map_err(|why| ExecError::Uncertain {
                    revision: revision.clone(),
                    index: *index,
                    sql: stmts
                        .get(index - 1)
                        .map(Statement::one_line)
                        .unwrap_or_default(),
                    why,
                })?,
        };
        if decision == Uncertain::Skip {
            skip += 1;
        }
    }
    for (k, s) in stmts.iter().enumerate().take(skip) {
        journal
            .record_checkpoint(conn, revision, k + 1, stmts.len(), &s.sql)
            .await?;
    }
    // Temporary tables died with the interrupted run's session: the statements that made and
    // filled the ones still in use run again (they touch nothing else).
    for k in recover::temporary_replay(&stmts[..skip]) {
        conn.execute(&stmts[k].sql)
            .await
            .map_err(|source| ExecError::Statement {
                revision: revision.clone(),
                index: k + 1,
                total: stmts.len(),
                source,
            })?;
    }
    Ok(skip)
}

/// The backup the options ask for, before anything changes.
async fn back_up(
    conn: &mut Conn,
    plan: &Plan,
    options: &Options,
    progress: &mut (dyn FnMut(Event) + Send),
) -> Result<(), ExecError> {
    if matches!(options.backup, Backup::None) || conn.table_names().await?.is_empty() {
        return Ok(()); // nothing asked, or nothing to lose
    }
    let first = plan.steps.first().map(|s| s.compiled.revision.as_str());
    let label = format!("before-{}", first.unwrap_or("run"));
    if let Some(backup) = backup::take(conn, &options.backup, &label).await? {
        progress(Event::BackedUp { backup });
    }
    Ok(())
}

/// A run stopped on request at a checkpoint: journal it and say where the database is.
async fn stopped(
    conn: &mut Conn,
    plan: &Plan,
    journal: &mut journal::Journal,
    done: usize,
    total: usize,
) -> ExecError {
    journal.record_stopped(conn).await;
    // Units fused from several revisions count each revision.
    let revisions = |units: usize| -> usize {
        plan.steps[..units.min(plan.steps.len())]
            .iter()
            .map(|s| 1 + s.joined.len())
            .sum()
    };
    ExecError::Cancelled {
        at: conn
            .version_rows(&plan.version_table)
            .await
            .unwrap_or_default(),
        done: if plan.direct.is_some() {
            done
        } else {
            revisions(done)
        },
        total: if plan.direct.is_some() {
            total
        } else {
            revisions(total)
        },
    }
}

fn step_event(plan: &Plan, u: usize, total: usize) -> Event {
    let step = &plan.steps[u];
    Event::Step {
        index: u + 1,
        total,
        revision: step.compiled.revision.clone(),
        direction: step.compiled.direction,
        message: step.message.clone(),
        label: step.label.trim_start_matches("Running ").to_string(),
        joined: step.joined.clone(),
    }
}

/// Open the journal and record the run's start. SQLite syncs its file a few times per commit:
/// there both go in one transaction, rolled back if either fails (PostgreSQL's probe for an
/// old journal's columns would abort a transaction).
async fn start_journal(
    conn: &mut Conn,
    plan: &Plan,
    begin: &str,
) -> Result<journal::Journal, ExecError> {
    let sqlite = conn.backend() == Backend::Sqlite;
    if sqlite {
        conn.execute(begin).await?;
    }
    let started = async {
        let mut journal = journal::Journal::open(conn, direction_name(plan)).await?;
        journal.record_start(conn, plan).await?;
        Ok::<_, crate::db::DbError>(journal)
    }
    .await;
    match started {
        Ok(journal) => {
            if sqlite {
                conn.execute("COMMIT").await?;
            }
            Ok(journal)
        }
        Err(e) => {
            if sqlite {
                let _ = conn.execute("ROLLBACK").await;
            }
            Err(e.into())
        }
    }
}

pub(super) async fn execute_plan(
    conn: &mut Conn,
    plan: &Plan,
    options: &Options,
    applied: &[String],
    progress: &mut (dyn FnMut(Event) + Send),
) -> Result<(), ExecError> {
    back_up(conn, plan, options, progress).await?;
    let total = plan.statement_count();
    let begin = match conn.backend() {
        Backend::Sqlite => "BEGIN IMMEDIATE",
        _ => "BEGIN",
    };
    let mut journal = start_journal(conn, plan, begin).await?;
    let mut counter = 0usize;
    let all = options.transaction == TransactionMode::All;
    let units = plan.units();
    if all {
        conn.execute(begin).await?;
    }
    let steps_total = units.len();
    for (
        u,
        Unit {
            revision,
            statements: stmts,
        },
    ) in units.iter().enumerate()
    {
        progress(step_event(plan, u, steps_total));
        if !all {
            conn.execute(begin).await?;
        }
        // The statements a stopped run applied in the first revision (their sha256).
        let skip = if u == 0 { applied.len() } else { 0 };
        for (k, s) in stmts.iter().enumerate().take(skip) {
            // What the stopped run applied must be what is planned now.
            if applied
                .get(k)
                .is_some_and(|sha| *sha != journal::statement_sha(&s.sql))
            {
                conn.execute("ROLLBACK").await?;
                return Err(ExecError::ResumeMismatch {
                    revision: revision.clone(),
                    index: k + 1,
                });
            }
        }
        counter += skip;
        // Inside an autocommit block: no transaction open, each statement checkpointed alone.
        let mut autocommit = false;
        for (k, statement) in stmts.iter().enumerate().skip(skip) {
            let sql = &statement.sql;
            if statement.autocommit != autocommit {
                if statement.autocommit {
                    // What ran before is committed first, as Alembic's autocommit_block does.
                    journal.flush(conn).await?;
                    conn.execute("COMMIT").await?;
                } else {
                    conn.execute(begin).await?;
                }
                autocommit = statement.autocommit;
            }
            counter += 1;
            progress(Event::Statement {
                index: counter,
                total,
                revision: revision.clone(),
                summary: statement.summary(),
                sql: sql.clone(),
            });
            let result = run_statement(conn, statement).await;
            if let (Ok(rows), true) = (&result, statement.is_dml()) {
                progress(Event::Rows {
                    revision: revision.clone(),
                    summary: statement.summary(),
                    rows: *rows,
                });
            }
            if let Err(source) = result {
                if !autocommit {
                    let _ = conn.execute("ROLLBACK").await;
                }
                let err = statement_failed(revision, k, stmts.len(), sql, source, !autocommit);
                journal.record_error(conn, revision, &err.to_string()).await;
                return Err(err);
            }
            if autocommit {
                journal
                    .record_checkpoint(conn, revision, k + 1, stmts.len(), sql)
                    .await?;
            } else {
                journal.defer_statement(revision, k + 1, stmts.len(), sql);
            }
            // A simulated crash abandons the open transaction with the connection.
            faults::after(counter)?;
            if all && options.cancel.is_cancelled() {
                conn.execute("ROLLBACK").await?;
                return Err(stopped(conn, plan, &mut journal, 0, steps_total).await);
            }
        }
        if autocommit {
            // A revision ending inside an autocommit block: what follows runs in a transaction.
            conn.execute(begin).await?;
        }
        if !all {
            journal.flush(conn).await?;
            // The run is done when its last revision commits: one commit for both.
            if u + 1 == steps_total {
                journal.record_done(conn).await?;
            }
            conn.execute("COMMIT").await?;
            progress(Event::Committed {
                revision: revision.clone(),
            });
            if options.cancel.is_cancelled() && u + 1 < steps_total {
                return Err(stopped(conn, plan, &mut journal, u + 1, steps_total).await);
            }
        }
    }
    if all {
        journal.flush(conn).await?;
        journal.record_done(conn).await?;
        conn.execute("COMMIT").await?;
    } else if units.is_empty() {
        journal.record_done(conn).await?;
    }
    Ok(())
}

/// The error of statement `k` (0-based) of `total` of `revision`: a recipe's check that found
/// rows it cannot convert says so; any other failure is the database's error.
fn statement_failed(
    revision: &str,
    k: usize,
    total: usize,
    sql: &str,
    source: crate::db::DbError,
    transactional: bool,
) -> ExecError {
    match crate::recipes::guard_of(sql) {
        Some((check, query)) => ExecError::RecipeRefused {
            revision: revision.to_string(),
            check: check.to_string(),
            query: query.to_string(),
            transactional,
        },
        None => ExecError::Statement {
            revision: revision.to_string(),
            index: k + 1,
            total,
            source,
        },
    }
}

/// Run one statement; a repeated one (a script's draining loop) runs again while a pass changes
/// at least the loop's bound of rows. The rows changed, over all passes.
async fn run_statement(conn: &mut Conn, statement: &Statement) -> Result<u64, crate::db::DbError> {
    let mut changed = conn.execute_counting(&statement.sql).await?;
    if let Some(bound) = statement.repeat {
        let mut pass = changed;
        while pass >= bound.max(1) {
            pass = conn.execute_counting(&statement.sql).await?;
            changed += pass;
        }
    }
    Ok(changed)
}
