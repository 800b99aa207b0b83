//! `upgrade` and `downgrade`: progress on a terminal (a bar over the run's statements, within
//! 80 columns), plain lines otherwise, newline-delimited JSON events when asked; Ctrl-C stops
//! at the next checkpoint; at the end, what each revision did. Also the flag hints added to
//! the library's typed errors.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use serde_json::json;

use alembic_engine::db::{Backend, DbError, DbUrl};
use alembic_engine::exec::{self, Event, ExecError, RevisionReport, Summary};
use alembic_engine::graph::{Direction, RevisionGraph};
use alembic_engine::project::{Project, ProjectError};

use crate::cli::{Format, RunArgs, TransactionArg};
use crate::{BoxError, Output};

/// Exit code of a run stopped by Ctrl-C at a checkpoint (the shell's code for SIGINT).
pub const STOPPED: u8 = 130;

pub fn migrate(
    project: &Project,
    graph: &RevisionGraph,
    url: &DbUrl,
    target: &str,
    up: bool,
    run: &RunArgs,
    out: &mut Output,
) -> Result<(), BoxError> {
    let options = exec::Options {
        target: target.to_string(),
        direction: if up { Direction::Up } else { Direction::Down },
        lock_timeout: Duration::from_secs(run.lock_timeout),
        transaction: match run.transaction {
            TransactionArg::PerRevision => exec::TransactionMode::PerRevision,
            TransactionArg::All => exec::TransactionMode::All,
        },
        ignore_drift: run.ignore_drift,
        adopt_partial: run.adopt_partial,
        require_compatible: run.require_compatible,
        fresh: crate::plan::fresh(run.replay),
        uncertain: match (run.resume_skip, run.resume_retry) {
            (true, _) => Some(exec::Uncertain::Skip),
            (_, true) => Some(exec::Uncertain::Retry),
            _ => None,
        },
        backup: match (url.backend, &run.backup, run.no_backup) {
            (_, _, true) => exec::Backup::None,
            (Backend::Sqlite, dir, _) => exec::Backup::SqliteCopy { dir: dir.clone() },
            (_, Some(dir), _) => exec::Backup::Dump {
                url: Box::new(url.clone()),
                dir: dir.clone(),
            },
            (_, None, _) => exec::Backup::None,
        },
        ..Default::default()
    };
    // Servers without --backup: the command that would take one, said before any change.
    let suggest = (url.backend != Backend::Sqlite && run.backup.is_none() && !run.no_backup)
        .then(|| {
            let file = std::path::Path::new("BACKUP_FILE");
            let (tool, args) = exec::dump_command(url, file);
            format!(
                "mlflow-migrate: no backup taken (--backup DIR takes one first); to take one yourself: {tool} {}",
                args.join(" ")
            )
        });
    stop_on_ctrl_c(&options.cancel, out.quiet);
    let started = Instant::now();
    let mut display = Display::new(out, run.lock_timeout, &project.version_table);
    display.suggest_backup = suggest;
    let mut summary = Summary::new(&project.version_table);
    let outcome = exec::blocking::migrate(url, project, graph, &options, &mut |event| {
        summary.observe(&event);
        display.show(&event);
    });
    display.finish();
    let revisions = summary.finish();
    let elapsed = started.elapsed();
    if out.format == Format::Json {
        let outcome = outcome?;
        emit(&json!({
            "event": "summary",
            "before": outcome.before,
            "after": outcome.after,
            "revisions": revisions,
            "statements": outcome.statements,
            "direct_install": outcome.direct.then_some(outcome.steps),
            "seconds": round(elapsed),
        }));
        return Ok(());
    }
    if !out.quiet && !revisions.is_empty() {
        eprint!("{}", table(&revisions));
        eprintln!("mlflow-migrate: {:.1} s", elapsed.as_secs_f64());
    }
    let outcome = outcome?;
    let show = |v: &[String]| {
        if v.is_empty() {
            "base".to_string()
        } else {
            v.join(", ")
        }
    };
    if outcome.steps == 0 {
        out.line(format!(
            "nothing to do: {} is at {}",
            url,
            show(&outcome.after)
        ));
    } else {
        let how = if outcome.direct {
            " installed directly"
        } else {
            ""
        };
        out.line(format!(
            "{} -> {} ({} revision(s){how}, {} statement(s))",
            show(&outcome.before),
            show(&outcome.after),
            outcome.steps,
            outcome.statements,
        ));
    }
    Ok(())
}

fn round(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

/// One JSON object on its own line, written at once (consumers follow the run).
fn emit(value: &serde_json::Value) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{value}");
    let _ = stdout.flush();
}

/// The first Ctrl-C asks the run to stop at its next checkpoint; a second one ends the
/// process at once (the journal then tells the next run where to resume).
fn stop_on_ctrl_c(cancel: &exec::Cancel, quiet: bool) {
    let cancel = cancel.clone();
    let _ = ctrlc::set_handler(move || {
        if cancel.is_cancelled() {
            std::process::exit(i32::from(STOPPED));
        }
        cancel.cancel();
        if !quiet {
            eprintln!(
                "\nmlflow-migrate: stopping after the current checkpoint (Ctrl-C again to stop at once)"
            );
        }
    });
}

/// What each revision did, for the finished display.
fn table(revisions: &[RevisionReport]) -> String {
    let mut text = String::from("revision      stmts      rows     time  message\n");
    for r in revisions {
        let message: String = r.message.chars().take(40).collect();
        text += &format!(
            "{:<12} {:>6} {:>9} {:>7.2}s  {message}\n",
            r.revision,
            r.statements,
            r.rows,
            r.elapsed.as_secs_f64()
        );
    }
    text
}

/// Progress: a bar on a terminal, plain lines otherwise, JSON events when asked.
struct Display {
    bar: Option<indicatif::ProgressBar>,
    json: bool,
    quiet: bool,
    lock_timeout: u64,
    version_table: String,
    step: String,
    /// Said once work is planned: how to back up a server first.
    suggest_backup: Option<String>,
}

impl Display {
    fn new(out: &Output, lock_timeout: u64, version_table: &str) -> Display {
        let json = out.format == Format::Json;
        let terminal = std::io::stderr().is_terminal();
        let bar = (terminal && !out.quiet && !json).then(|| {
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{elapsed_precise} [{bar:20}] {pos:>3}/{len:3} {wide_msg}",
                )
                .expect("a valid progress template")
                .progress_chars("=> "),
            );
            bar
        });
        Display {
            bar,
            json,
            quiet: out.quiet,
            lock_timeout,
            version_table: version_table.to_string(),
            step: String::new(),
            suggest_backup: None,
        }
    }

    fn say(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }

    fn show(&mut self, event: &Event) {
        if self.json {
            if let Ok(value) = serde_json::to_value(event) {
                emit(&value);
            }
            return;
        }
        if self.quiet {
            return;
        }
        match event {
            Event::Waiting { holder } => self.say(&format!(
                "mlflow-migrate: waiting up to {} s for the upgrade lock, held by {}",
                self.lock_timeout,
                holder
                    .as_ref()
                    .map_or("another upgrader".to_string(), |h| h.to_string())
            )),
            Event::BackedUp { backup } => self.say(&format!(
                "mlflow-migrate: backup {} ({:.1} MB); to restore it: {}",
                backup.path.display(),
                backup.bytes as f64 / 1e6,
                backup.restore
            )),
            Event::Planned { steps, statements } => {
                if let Some(line) = self.suggest_backup.take() {
                    self.say(&line);
                }
                self.say(&format!(
                    "mlflow-migrate: {steps} revision(s), {statements} statement(s)"
                ));
                if let Some(bar) = &self.bar {
                    bar.set_length(*statements as u64);
                }
            }
            Event::Step {
                index,
                total,
                revision,
                message,
                ..
            } => {
                self.step = format!("[{index}/{total}] {revision}");
                if self.bar.is_none() {
                    eprintln!("{} {message}", self.step);
                }
            }
            Event::Statement { index, summary, .. } => {
                if let Some(bar) = &self.bar {
                    bar.set_position(index.saturating_sub(1) as u64);
                    bar.set_message(format!("{}: {summary}", self.step));
                }
            }
            // Version-table changes are our bookkeeping, not the migration's data.
            Event::Rows { summary, rows, .. }
                if !summary.ends_with(&format!(" {}", self.version_table)) =>
            {
                self.say(&format!("  {summary}: {rows} row(s)"));
            }
            Event::Rows { .. } => {}
            Event::Locked | Event::Committed { .. } => {}
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// What to do about an error, in the binary's own words (flags), appended to its message.
/// The whole source chain is asked: a recipe refusal comes wrapped in compile errors.
pub fn hint(err: &(dyn std::error::Error + 'static)) -> String {
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(ExecError::Cancelled { .. }) = e.downcast_ref::<ExecError>() {
            return " (run the same command again to continue)".to_string();
        }
        if let Some(ExecError::BreaksOldServers { .. }) = e.downcast_ref::<ExecError>() {
            return " (`plan` shows each revision's verdict; without --require-compatible the upgrade runs, with the old servers stopped)".to_string();
        }
        if let Some(ExecError::Db(DbError::LockTimeout { .. })) = e.downcast_ref::<ExecError>() {
            return " (wait longer with --lock-timeout SECS; `status` says who holds it)"
                .to_string();
        }
        if let Some(ExecError::Db(DbError::NoDatabase { .. })) = e.downcast_ref::<ExecError>() {
            return " (nothing was created: check the path, or create the database with `upgrade`)"
                .to_string();
        }
        if let Some(hint) = e.downcast_ref::<ExecError>().and_then(flag_hint) {
            return hint;
        }
        if let Some(hint) = e.downcast_ref::<ProjectError>().and_then(project_hint) {
            return hint;
        }
        if is_recipe_refusal(e) {
            return " (without --scripts, the MLflow scripts this tool pins are used)".to_string();
        }
        if let Some(ProjectError::Io { .. }) = e.downcast_ref::<ProjectError>() {
            return " (the scripts' cache must be writable: choose another folder with --cache-dir or $MLFLOW_MIGRATE_CACHE, or point --scripts at MLflow's migrations folder)".to_string();
        }
        next = e.source();
    }
    String::new()
}

/// The flag that settles an executor's refusal.
fn flag_hint(e: &ExecError) -> Option<String> {
    Some(match e {
        ExecError::UnknownRevision { .. } => " (if another application shares this table, point us at ours with --version-table; if the database is newer than these scripts, read a newer release's with --mlflow-version X or --scripts-from-release X)".into(),
        ExecError::Uncertain { .. } => " (if it was applied, run `upgrade --resume-skip`; if not, `upgrade --resume-retry`)".into(),
        ExecError::HalfMigrated { .. } => " (`upgrade --adopt-partial` runs them)".into(),
        ExecError::Drift { .. } => " (pass --ignore-drift to upgrade anyway)".into(),
        _ => return None,
    })
}

/// What to do when the scripts could not be found or fetched.
fn project_hint(e: &ProjectError) -> Option<String> {
    Some(match e {
        ProjectError::UnknownProject(_) => " (use --scripts DIR for any other Alembic project)".into(),
        ProjectError::Download { .. } => " (check --index-url / PIP_INDEX_URL and the proxy variables HTTPS_PROXY, NO_PROXY; run `mlflow-migrate fetch` where the index can be reached and copy the cache folder; or pass --scripts pointing at MLflow's migrations folder)".into(),
        ProjectError::Offline { cache, .. } => format!(" (--offline: run `mlflow-migrate fetch --cache-dir {}` where the package index can be reached, or copy a filled cache there, or pass --scripts pointing at MLflow's migrations folder)", cache.display()),
        ProjectError::WheelChecksum { .. } => " (--offline: run without it to fetch the wheel again)".into(),
        _ => return None,
    })
}

/// A recipe refused its script, however deep it is wrapped (transparent errors hide it from
/// `source()`).
fn is_recipe_refusal(e: &(dyn std::error::Error + 'static)) -> bool {
    use alembic_engine::compile::CompileError;
    use alembic_engine::plan::PlanError;
    let compile = |c: &CompileError| matches!(c, CompileError::Recipe(_));
    let plan = |p: &PlanError| matches!(p, PlanError::Compile(c) if compile(c));
    e.is::<alembic_engine::recipes::RecipeError>()
        || e.downcast_ref::<CompileError>().is_some_and(compile)
        || e.downcast_ref::<PlanError>().is_some_and(plan)
        || matches!(e.downcast_ref::<ExecError>(), Some(ExecError::Recipe(_)))
        || matches!(e.downcast_ref::<ExecError>(), Some(ExecError::Plan(p)) if plan(p))
}

/// The exit code for a failed run.
pub fn exit_code(err: &(dyn std::error::Error + 'static)) -> Option<u8> {
    matches!(
        err.downcast_ref::<ExecError>(),
        Some(ExecError::Cancelled { .. })
    )
    .then_some(STOPPED)
}
