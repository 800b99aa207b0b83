//! `upgrade` and `downgrade`: progress on a terminal (a bar over the run's statements, within
//! 80 columns), plain lines otherwise, newline-delimited JSON events when asked; Ctrl-C stops
//! at the next checkpoint; at the end, what each revision did.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use serde_json::json;

use alembic_engine::db::DbUrl;
use alembic_engine::exec::{self, Event, Summary, Uncertain};
use alembic_engine::graph::Direction;
use alembic_engine::inspect::PlanView;
use alembic_engine::inspect::{at_text, event_line, revision_table};
use alembic_engine::{Migrator, RunChoices};

use crate::cli::{Command, Format, RunArgs, TransactionArg};
use crate::hints::STOPPED;
use crate::{BoxError, Output};

/// The choices `RunArgs` make.
pub fn choices(run: &RunArgs) -> RunChoices {
    RunChoices {
        lock_timeout_secs: run.lock_timeout,
        one_transaction: run.transaction == TransactionArg::All,
        uncertain: match (run.resume_skip, run.resume_retry) {
            (true, _) => Some(Uncertain::Skip),
            (_, true) => Some(Uncertain::Retry),
            _ => None,
        },
        ignore_drift: run.ignore_drift,
        adopt_partial: run.adopt_partial,
        require_compatible: run.require_compatible,
        replay: run.replay,
        backup_dir: run.backup.clone(),
        no_backup: run.no_backup,
    }
}

pub fn migrate(
    m: &Migrator,
    url: &DbUrl,
    target: &str,
    direction: Direction,
    run: &RunArgs,
    out: &mut Output,
) -> Result<(), BoxError> {
    let choices = choices(run);
    let options = choices.options(url, target, direction);
    stop_on_ctrl_c(&options.cancel, out.quiet);
    let started = Instant::now();
    let version_table = &m.project().version_table;
    let mut display = Display::new(out, run.lock_timeout, version_table);
    // Servers without --backup: the command that would take one, said before any change.
    display.suggest_backup = choices.manual_backup(url, std::path::Path::new("BACKUP_FILE")).map(|command| {
        format!("mlflow-migrate: no backup taken (--backup DIR takes one first); to take one yourself: {command}")
    });
    let mut summary = Summary::new(version_table);
    let outcome = m.blocking().run(url, &options, &mut |event| {
        summary.observe(&event);
        display.show(&event);
    });
    display.finish();
    let (revisions, elapsed) = (summary.finish(), started.elapsed());
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
        eprint!("{}", revision_table(&revisions));
        eprintln!("mlflow-migrate: {:.1} s", elapsed.as_secs_f64());
    }
    let outcome = outcome?;
    let (before, after) = (at_text(&outcome.before), at_text(&outcome.after));
    out.line(if outcome.steps == 0 {
        format!("nothing to do: {url} is at {after}")
    } else {
        let how = if outcome.direct {
            " installed directly"
        } else {
            ""
        };
        format!(
            "{before} -> {after} ({} revision(s){how}, {} statement(s))",
            outcome.steps, outcome.statements
        )
    });
    Ok(())
}

/// `plan`: its arguments checked and resolved, then the dry run shown.
pub fn plan(command: &Command, m: &Migrator, out: &mut Output) -> Result<(), BoxError> {
    let Command::Plan {
        url,
        target,
        downgrade,
        mlflow_version,
        ignore_drift,
        adopt_partial,
        replay,
    } = command
    else {
        unreachable!("plan is given `plan`")
    };
    let (url, target) = crate::args::url_and_target(url.url.as_deref(), target.as_deref(), out)?;
    let default = if *downgrade {
        Err("plan --downgrade")
    } else {
        Ok("heads")
    };
    let target = crate::args::target(m, target.as_slice(), mlflow_version.as_deref(), default)?;
    let choices = RunChoices {
        ignore_drift: *ignore_drift,
        adopt_partial: *adopt_partial,
        replay: *replay,
        ..RunChoices::default()
    };
    let direction = if *downgrade {
        Direction::Down
    } else {
        Direction::Up
    };
    let dry = m
        .blocking()
        .plan(&url, &choices.options(&url, &target, direction))?;
    let (project, database) = (m.project(), &url.to_string());
    let replay_aside = " (--replay runs them)";
    out.show(
        PlanView {
            project,
            graph: m.graph(),
            dry: &dry,
            database,
            target: &target,
            replay_aside,
        }
        .rendered(),
    )
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
            Event::Planned { statements, .. } => {
                if let Some(line) = self.suggest_backup.take() {
                    self.say(&line);
                }
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
            _ => {}
        }
        if let Some(line) = event_line(event, self.lock_timeout, &self.version_table) {
            let named = !matches!(event, Event::Rows { .. });
            self.say(&if named {
                format!("mlflow-migrate: {line}")
            } else {
                line
            });
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
