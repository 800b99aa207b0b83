//! `mlflow-migrate`: argument parsing and printing over the `alembic_engine` library.

mod args;
mod cli;
mod distribution;
mod hints;
mod run;

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use alembic_engine::exec::blocking;
use alembic_engine::graph::{history_range, script_range, Direction, Lower, Position};
use alembic_engine::inspect::{self, at_text, infos, Check, Rendered};
use alembic_engine::Migrator;

use cli::{Cli, Command, DirectionArg, Format, JournalAction};

fn main() -> ExitCode {
    // Scripts are interpreted recursively; on a large stack, absurdly deep scripts end in the
    // interpreter's own limit errors, not in a stack overflow.
    std::thread::Builder::new()
        .stack_size(512 << 20)
        .spawn(real_main)
        .and_then(|worker| {
            worker
                .join()
                .map_err(|_| std::io::Error::other("the worker thread panicked"))
        })
        .unwrap_or_else(|e| {
            eprintln!("mlflow-migrate: error: {e}");
            ExitCode::FAILURE
        })
}

pub type BoxError = Box<dyn std::error::Error>;

/// A command's verdict that is not an error: exit with this code, nothing on stderr
/// (`check` behind, ahead).
#[derive(Debug)]
pub struct Verdict(pub u8);

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit {}", self.0)
    }
}

impl std::error::Error for Verdict {}

/// What a command writes to stdout, printed once at the end (so a closed pipe is harmless),
/// and the options every command reads.
pub struct Output {
    pub text: String,
    pub format: Format,
    pub quiet: bool,
}

impl Output {
    /// One JSON document (or, for upgrade events, one line).
    pub fn json(&mut self, value: serde_json::Value) {
        self.text
            .push_str(&serde_json::to_string_pretty(&value).unwrap_or_default());
        self.text.push('\n');
    }

    pub fn line(&mut self, line: impl AsRef<str>) {
        if !self.quiet {
            self.text.push_str(line.as_ref());
            self.text.push('\n');
        }
    }

    /// An answer: its JSON document, or its text.
    pub fn show(&mut self, answer: Rendered) -> Result<(), BoxError> {
        match self.format {
            Format::Json => self.json(answer.json),
            Format::Text => self.raw(&answer.text),
        }
        Ok(())
    }

    /// Text as it is (a script, a multi-line entry).
    pub fn raw(&mut self, text: &str) {
        if !self.quiet {
            self.text.push_str(text);
        }
    }

    pub fn flush(&mut self) {
        use std::io::Write as _;
        let _ = std::io::stdout().lock().write_all(self.text.as_bytes());
        let _ = std::io::stdout().lock().flush();
        self.text.clear();
    }

    /// A note on stderr (where scripts and URLs came from), unless quiet.
    pub fn note(&self, line: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("mlflow-migrate: {}", line.as_ref());
        }
    }
}

fn real_main() -> ExitCode {
    let cli = Cli::parse();
    alembic_engine::db::set_connect_timeout(cli.connect_timeout.map(Duration::from_secs));
    let mut out = Output {
        text: String::new(),
        format: cli.format,
        quiet: cli.quiet,
    };
    let result = dispatch(&cli, &mut out);
    out.flush();
    let err = match result {
        Ok(()) => return ExitCode::SUCCESS,
        Err(err) => err,
    };
    if let Some(Verdict(code)) = err.downcast_ref::<Verdict>() {
        return ExitCode::from(*code);
    }
    // `check` answers 3 when it cannot tell, whatever stopped it.
    let code = if matches!(cli.command, Command::Check { .. }) {
        3
    } else {
        hints::exit_code(&*err).unwrap_or(1)
    };
    let message = hints::error_text(&*err);
    if cli.format == Format::Json {
        out.json(serde_json::json!({ "error": message, "exit_code": code }));
        out.flush();
    }
    eprintln!("mlflow-migrate: error: {message}");
    ExitCode::from(code)
}

fn dispatch(cli: &Cli, out: &mut Output) -> Result<(), BoxError> {
    if let Some(done) = distribution::run_without_project(cli, out) {
        return done;
    }
    let m = args::project(cli, out)?;
    match &cli.command {
        Command::Heads
        | Command::Branches
        | Command::Show { .. }
        | Command::Path { .. }
        | Command::Sql { .. }
        | Command::History { url: None, .. } => out.show(scripts_answer(&cli.command, &m)?),
        Command::CompileReport { dialect, sql } => {
            let mode = match sql {
                true => alembic_engine::plan::Mode::Offline,
                false => alembic_engine::plan::Mode::Online,
            };
            let report = m.compile_report(dialect.database(), mode)?;
            out.show(report.rendered())?;
            match report.revisions.len() == report.compiled() {
                true => Ok(()),
                false => Err(Box::new(Verdict(1))),
            }
        }
        Command::Stamp { .. } | Command::Journal { .. } => bookkeeping(&cli.command, &m, out),
        command => database_command(command, &m, out),
    }
}

/// The answer of a command that reads the scripts alone.
fn scripts_answer(command: &Command, m: &Migrator) -> Result<Rendered, BoxError> {
    let graph = m.graph();
    match command {
        Command::History { range, .. } => {
            let (base, head) = history_range(range.as_deref())?;
            Ok(inspect::history(graph, (&base, &head))?)
        }
        Command::Heads => Ok(inspect::heads(graph)),
        Command::Branches => Ok(inspect::branches(graph)?),
        Command::Show { rev } => Ok(inspect::show(graph, rev)?),
        Command::Path {
            from,
            to,
            direction,
        } => {
            let rows = graph.state_of(from)?;
            let current = Lower::Many(rows.clone());
            let steps = match direction {
                Some(DirectionArg::Up) => graph.upgrade_path(&current, to)?,
                Some(DirectionArg::Down) => graph.downgrade_path(&current, to)?,
                None => graph.path_to(&current, to)?,
            };
            let down = *direction == Some(DirectionArg::Down);
            Ok(inspect::path(graph, (from, &rows), to, &steps, down))
        }
        Command::Sql { range, dialect } => {
            let database = dialect.database();
            let (from, to) = script_range(range);
            let rows = graph.state_of(from)?;
            let plan = m.offline_plan(database, &rows, to)?;
            Ok(inspect::script(database.key(), &rows, to, &plan))
        }
        _ => unreachable!("dispatch sends only the commands without a database here"),
    }
}

/// A command against a database.
fn database_command(command: &Command, m: &Migrator, out: &mut Output) -> Result<(), BoxError> {
    let (graph, db) = (m.graph(), m.blocking());
    match command {
        Command::History {
            url: Some(url),
            range,
        } => {
            let url = args::url(Some(url), out)?;
            let (current, applied) = blocking::applied(&url, m.project())?;
            let (base, head) = history_range(range.as_deref())?;
            out.show(inspect::database_history(
                graph,
                &current,
                &applied,
                (&base, &head),
            )?)
        }
        Command::Upgrade { url, target, run } => {
            let (url, target) = args::url_and_target(url.url.as_deref(), target.as_deref(), out)?;
            let target = args::target(
                m,
                target.as_slice(),
                run.mlflow_version.as_deref(),
                Ok("heads"),
            )?;
            run::migrate(m, &url, &target, Direction::Up, run, out)
        }
        Command::Downgrade { args, run } => {
            let (url, rest) = args::url_and_rest(args, out)?;
            let target = args::target(m, &rest, run.mlflow_version.as_deref(), Err("downgrade"))?;
            run::migrate(m, &url, &target, Direction::Down, run, out)
        }
        Command::Plan { .. } => run::plan(command, m, out),
        Command::Current { url } => {
            let rows = db.current(&args::url(url.url.as_deref(), out)?)?;
            out.show(inspect::current(graph, &rows, m.schema_releases(&rows)))
        }
        Command::Status { url } => {
            let status = db.status(&args::url(url.url.as_deref(), out)?)?;
            out.show(inspect::status(
                graph,
                &status,
                m.schema_releases(&status.current),
            ))
        }
        Command::Check {
            url,
            target,
            mlflow_version,
        } => {
            let (url, target) = args::url_and_target(url.url.as_deref(), target.as_deref(), out)?;
            let release = mlflow_version.as_deref();
            let target = args::target(m, target.as_slice(), release, Ok("heads"))?;
            let check = Check::new(graph, db.current(&url)?, &target)?;
            out.show(check.rendered(graph, release))?;
            match check.position {
                Position::AtTarget => Ok(()),
                Position::Behind => Err(Box::new(Verdict(1))),
                Position::Ahead | Position::Diverged => Err(Box::new(Verdict(2))),
            }
        }
        // `fetch`, `completions` and `man` are answered before a project is opened.
        _ => unreachable!("dispatch sends only the commands against a database here"),
    }
}

/// The commands that change only the version table or the journal: `stamp`, `journal prune`.
fn bookkeeping(command: &Command, m: &Migrator, out: &mut Output) -> Result<(), BoxError> {
    let graph = m.graph();
    match command {
        Command::Stamp {
            args,
            purge,
            lock_timeout,
        } => {
            let (url, revisions) = args::url_and_rest(args, out)?;
            if revisions.is_empty() {
                return Err("stamp needs at least one REVISION (or `base`)".into());
            }
            let wait = Duration::from_secs(*lock_timeout);
            let rows = blocking::stamp(&url, m.project(), graph, &revisions, *purge, wait)?;
            let json = serde_json::json!({ "stamped": infos(graph, &rows) });
            out.show(Rendered {
                json,
                text: format!("stamped: {}\n", at_text(&rows)),
            })
        }
        Command::Journal {
            action:
                JournalAction::Prune {
                    url,
                    keep,
                    lock_timeout,
                },
        } => {
            let url = args::url(url.url.as_deref(), out)?;
            let p = blocking::prune_journal(
                &url,
                m.project(),
                *keep,
                Duration::from_secs(*lock_timeout),
            )?;
            let text = format!(
                "journal: removed {} run(s) ({} row(s)), kept {}\n",
                p.runs_removed, p.rows_removed, p.runs_kept
            );
            out.show(Rendered {
                json: serde_json::to_value(p)?,
                text,
            })
        }
        _ => unreachable!("dispatch sends only `stamp` and `journal` here"),
    }
}
