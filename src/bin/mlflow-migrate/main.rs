//! `mlflow-migrate`: argument parsing and printing over the `alembic_engine` library.

mod cli;
mod database;
mod distribution;
mod graph_commands;
mod plan;
mod run;

use std::process::ExitCode;

use clap::Parser;

use alembic_engine::db::DbUrl;
use alembic_engine::graph::RevisionGraph;
use alembic_engine::project::{Locator, Project, ScriptOrigin};
use alembic_engine::releases::Releases;

use cli::{Cli, Command, Format, JournalAction};

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
    alembic_engine::db::set_connect_timeout(
        cli.connect_timeout.map(std::time::Duration::from_secs),
    );
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
        run::exit_code(&*err).unwrap_or(1)
    };
    let message = error_text(&*err);
    if cli.format == Format::Json {
        out.json(serde_json::json!({ "error": message, "exit_code": code }));
        out.flush();
    }
    eprintln!("mlflow-migrate: error: {message}");
    ExitCode::from(code)
}

/// The error and its sources in one paragraph, with the flag that settles it where there is
/// one.
fn error_text(err: &(dyn std::error::Error + 'static)) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !message.contains(&text) {
            message += &format!(": {text}");
        }
        source = s.source();
    }
    message + &run::hint(err)
}

fn dispatch(cli: &Cli, out: &mut Output) -> Result<(), BoxError> {
    if let Some(done) = distribution::run_without_project(cli, out) {
        return done;
    }
    let (project, graph) = open_project(cli, out)?;
    match &cli.command {
        Command::History {
            url: Some(url),
            range,
        } => {
            let url = resolve_url(Some(url), out)?;
            let (base, head) = graph_commands::history_range(range.as_deref())?;
            database::history(&project, &graph, &url, &base, &head, out)
        }
        Command::Heads
        | Command::Branches
        | Command::History { .. }
        | Command::Show { .. }
        | Command::Path { .. }
        | Command::Sql { .. } => graph_commands::run(&cli.command, &project, &graph, out),
        Command::Upgrade { url, target, run } => {
            let (url, target) = url_and_target(url.url.as_deref(), target.as_deref(), out)?;
            let target =
                target_or_release(&project, &graph, target, run.mlflow_version.as_deref())?;
            run::migrate(&project, &graph, &url, &target, true, run, out)
        }
        Command::Plan { .. } => plan_command(&project, &graph, &cli.command, out),
        Command::Downgrade { args, run } => {
            let (url, rest) = url_and_rest(args, out)?;
            let target = downgrade_target(&project, &graph, &rest, run.mlflow_version.as_deref())?;
            run::migrate(&project, &graph, &url, &target, false, run, out)
        }
        Command::Current { url } => {
            let url = resolve_url(url.url.as_deref(), out)?;
            database::current(&project, &graph, &url, out)
        }
        Command::Status { url } => {
            let url = resolve_url(url.url.as_deref(), out)?;
            database::status(&project, &graph, &url, out)
        }
        Command::Check {
            url,
            target,
            mlflow_version,
        } => {
            let (url, target) = url_and_target(url.url.as_deref(), target.as_deref(), out)?;
            let target = target_or_release(&project, &graph, target, mlflow_version.as_deref())?;
            database::check(
                &project,
                &graph,
                &url,
                &target,
                mlflow_version.as_deref(),
                out,
            )
        }
        Command::Stamp {
            args,
            purge,
            lock_timeout,
        } => {
            let (url, revisions) = url_and_rest(args, out)?;
            database::stamp(
                &project,
                &graph,
                &url,
                &revisions,
                *purge,
                *lock_timeout,
                out,
            )
        }
        Command::Fetch | Command::Completions { .. } | Command::Man => {
            unreachable!("answered before the project is opened")
        }
        Command::Journal {
            action:
                JournalAction::Prune {
                    url,
                    keep,
                    lock_timeout,
                },
        } => {
            let url = resolve_url(url.url.as_deref(), out)?;
            database::prune(&project, &url, *keep, *lock_timeout, out)
        }
    }
}

/// `plan`: its arguments checked and resolved, then the dry run printed.
fn plan_command(
    project: &Project,
    graph: &RevisionGraph,
    command: &Command,
    out: &mut Output,
) -> Result<(), BoxError> {
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
        unreachable!("plan_command is given `plan`")
    };
    let (url, target) = url_and_target(url.url.as_deref(), target.as_deref(), out)?;
    if *downgrade && target.is_none() && mlflow_version.is_none() {
        return Err("plan --downgrade needs a TARGET (a revision, `-1`, or `base`)".into());
    }
    let target = target_or_release(project, graph, target, mlflow_version.as_deref())?;
    let options = plan::Request {
        target,
        downgrade: *downgrade,
        ignore_drift: *ignore_drift,
        adopt_partial: *adopt_partial,
        replay: *replay,
    };
    plan::run(project, graph, &url, options, out)
}

/// `downgrade`'s target: the one given, or the head of `--mlflow-version`'s release.
fn downgrade_target(
    project: &Project,
    graph: &RevisionGraph,
    rest: &[String],
    version: Option<&str>,
) -> Result<String, BoxError> {
    match (rest, version) {
        ([], Some(version)) => database::release_head(project, graph, version),
        ([target], None) => Ok(target.clone()),
        ([_], Some(_)) => Err(both_targets()),
        _ => Err("downgrade needs a TARGET (a revision, `-1`, or `base`)".into()),
    }
}

fn both_targets() -> BoxError {
    "give a TARGET or --mlflow-version, not both".into()
}

/// The project and its graph. A command's `--mlflow-version X` whose schema the scripts at
/// hand do not know (a release newer than them) reads X's own wheel instead.
fn open_project(cli: &Cli, out: &Output) -> Result<(Project, RevisionGraph), BoxError> {
    let locator = distribution::fetch_options(cli);
    let release = match &cli.command {
        Command::Upgrade { run, .. } | Command::Downgrade { run, .. } => &run.mlflow_version,
        Command::Plan { mlflow_version, .. } | Command::Check { mlflow_version, .. } => {
            mlflow_version
        }
        _ => &None,
    };
    let release = release
        .as_deref()
        .filter(|_| locator.scripts.is_none() && locator.release.is_none());
    // A release published after `releases.toml` was generated: straight to its wheel.
    if let Some(version) = release.filter(|v| Releases::builtin().after_latest(v)) {
        return open_release(cli, locator, version, out);
    }
    let (project, graph) = open_graph(cli, &locator, out)?;
    match release.filter(|v| database::scripts_lack_release(&project, &graph, v)) {
        Some(version) => open_release(cli, locator, version, out),
        None => Ok((project, graph)),
    }
}

/// The project from release `version`'s own wheel.
fn open_release(
    cli: &Cli,
    mut locator: Locator,
    version: &str,
    out: &Output,
) -> Result<(Project, RevisionGraph), BoxError> {
    locator.release = Some(version.to_string());
    open_graph(cli, &locator, out).map_err(|e| database::release_fetch_error(version, e))
}

fn open_graph(
    cli: &Cli,
    locator: &Locator,
    out: &Output,
) -> Result<(Project, RevisionGraph), BoxError> {
    let project = open_with(cli, locator, out)?;
    let graph = RevisionGraph::build(project.scripts.revisions.clone())?;
    Ok((project, graph))
}

fn open_with(cli: &Cli, locator: &Locator, out: &Output) -> Result<Project, BoxError> {
    let name = match (&cli.project, &cli.scripts) {
        (Some(p), _) => Some(p.as_str()),
        (None, Some(_)) => None,
        (None, None) => Some("mlflow"),
    };
    let mut project = locator.open(name)?;
    if let Some(table) = &cli.version_table {
        if table.is_empty() || !table.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!(
                "--version-table '{table}' must be letters, digits and underscores"
            )
            .into());
        }
        project.version_table = table.clone();
    }
    if !matches!(project.origin, ScriptOrigin::Explicit(_)) {
        out.note(format!("{} ({})", project.origin, project.name));
    }
    Ok(project)
}

/// Environment variables a URL is taken from when the command line gives none, in order.
const URL_VARIABLES: [&str; 2] = ["MLFLOW_BACKEND_STORE_URI", "DATABASE_URL"];

/// Whether a lone first argument is the URL. A text without `://` is taken for the target
/// only when the environment provides the URL; otherwise it is read (and refused) as a URL.
fn looks_like_url(text: &str) -> bool {
    text.contains("://")
        || URL_VARIABLES
            .iter()
            .all(|v| std::env::var(v).map_or(true, |u| u.is_empty()))
}

/// The URL given, or the first of `URL_VARIABLES` set (said on stderr).
fn resolve_url(given: Option<&str>, out: &Output) -> Result<DbUrl, BoxError> {
    if let Some(url) = given {
        return Ok(DbUrl::parse(url)?);
    }
    for var in URL_VARIABLES {
        if let Ok(url) = std::env::var(var) {
            if !url.is_empty() {
                out.note(format!("database URL from ${var}"));
                return Ok(DbUrl::parse(&url)?);
            }
        }
    }
    Err(format!(
        "no database URL: give one (e.g. sqlite:///mlflow.db) or set ${} or ${}",
        URL_VARIABLES[0], URL_VARIABLES[1]
    )
    .into())
}

/// `[URL] [TARGET]`: a first argument that is not a URL is the target, the URL then comes
/// from the environment.
/// TARGET, or the head of MLflow release `--mlflow-version`, or `heads`; not both.
fn target_or_release(
    project: &Project,
    graph: &RevisionGraph,
    target: Option<String>,
    mlflow_version: Option<&str>,
) -> Result<String, BoxError> {
    match (target, mlflow_version) {
        (Some(_), Some(_)) => Err(both_targets()),
        (_, Some(version)) => database::release_head(project, graph, version),
        (target, None) => Ok(target.unwrap_or_else(|| "heads".into())),
    }
}

fn url_and_target(
    first: Option<&str>,
    second: Option<&str>,
    out: &Output,
) -> Result<(DbUrl, Option<String>), BoxError> {
    match (first, second) {
        (Some(t), None) if !looks_like_url(t) => Ok((resolve_url(None, out)?, Some(t.into()))),
        (url, target) => Ok((resolve_url(url, out)?, target.map(str::to_string))),
    }
}

/// `[URL] ARGS...`: the URL when the first argument is one, else from the environment.
fn url_and_rest(args: &[String], out: &Output) -> Result<(DbUrl, Vec<String>), BoxError> {
    match args.split_first() {
        Some((first, rest)) if looks_like_url(first) => {
            Ok((resolve_url(Some(first), out)?, rest.to_vec()))
        }
        _ => Ok((resolve_url(None, out)?, args.to_vec())),
    }
}
