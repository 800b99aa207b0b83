//! What the arguments name: the project (and, for `--mlflow-version X` beyond the scripts at
//! hand, X's own), the database URL (or the environment's), and the target.

use alembic_engine::db::DbUrl;
use alembic_engine::project::{Locator, ScriptOrigin};
use alembic_engine::releases::Releases;
use alembic_engine::{Migrator, OpenError, ReleaseScriptsError};

use crate::cli::{Cli, Command};
use crate::{BoxError, Output};

/// The project. A command's `--mlflow-version X` whose schema the scripts at hand do not know
/// (a release newer than them, or than the releases table) reads X's own wheel instead.
pub fn project(cli: &Cli, out: &Output) -> Result<Migrator, BoxError> {
    if let Some(table) = cli
        .version_table
        .as_deref()
        .filter(|t| t.is_empty() || !t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
    {
        return Err(
            format!("--version-table '{table}' must be letters, digits and underscores").into(),
        );
    }
    let mut locator = crate::distribution::locator(cli);
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
    // A release published after the releases table: straight to its wheel.
    if !release.is_some_and(|v| Releases::builtin().after_latest(v)) {
        let migrator = open(cli, &locator, out)?;
        if !release.is_some_and(|v| migrator.lacks_release(v)) {
            return Ok(migrator);
        }
    }
    let version = release.unwrap_or_default();
    locator.release = Some(version.to_string());
    Ok(open(cli, &locator, out).map_err(|e| ReleaseScriptsError::new(version, e))?)
}

fn open(cli: &Cli, locator: &Locator, out: &Output) -> Result<Migrator, OpenError> {
    let name = match (&cli.project, &cli.scripts) {
        (Some(p), _) => Some(p.as_str()),
        (None, Some(_)) => None,
        (None, None) => Some("mlflow"),
    };
    let mut project = locator.open(name)?;
    if let Some(table) = &cli.version_table {
        project.version_table = table.clone();
    }
    if !matches!(project.origin, ScriptOrigin::Explicit(_)) {
        out.note(format!("{} ({})", project.origin, project.name));
    }
    // env.py names its own folders in code not followed, and the configured ones were read.
    let unread = project
        .env
        .as_ref()
        .and_then(|e| e.version_locations_unread.as_ref());
    if let (Some(unread), true) = (unread, locator.version_locations.is_empty()) {
        let folders: Vec<String> = (project.scripts.version_locations.iter())
            .map(|f| f.display().to_string())
            .collect();
        out.note(format!(
            "warning: {unread}; revisions are read from {} (name the folders it means with --version-location DIR)",
            folders.join(", ")
        ));
    }
    Ok(Migrator::new(project)?)
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
pub fn url(given: Option<&str>, out: &Output) -> Result<DbUrl, BoxError> {
    if let Some(url) = given {
        return Ok(DbUrl::parse(url)?);
    }
    for var in URL_VARIABLES {
        if let Some(url) = std::env::var(var).ok().filter(|u| !u.is_empty()) {
            out.note(format!("database URL from ${var}"));
            return Ok(DbUrl::parse(&url)?);
        }
    }
    let [first, second] = URL_VARIABLES;
    Err(format!(
        "no database URL: give one (e.g. sqlite:///mlflow.db) or set ${first} or ${second}"
    )
    .into())
}

/// `[URL] [TARGET]`: a first argument that is not a URL is the target, the URL then comes
/// from the environment.
pub fn url_and_target(
    first: Option<&str>,
    second: Option<&str>,
    out: &Output,
) -> Result<(DbUrl, Option<String>), BoxError> {
    match (first, second) {
        (Some(t), None) if !looks_like_url(t) => Ok((url(None, out)?, Some(t.into()))),
        (given, target) => Ok((url(given, out)?, target.map(str::to_string))),
    }
}

/// `[URL] ARGS...`: the URL when the first argument is one, else from the environment.
pub fn url_and_rest(args: &[String], out: &Output) -> Result<(DbUrl, Vec<String>), BoxError> {
    match args.split_first() {
        Some((first, rest)) if looks_like_url(first) => Ok((url(Some(first), out)?, rest.to_vec())),
        _ => Ok((url(None, out)?, args.to_vec())),
    }
}

/// The TARGET given, or the head of MLflow release `--mlflow-version`, not both; without
/// either, `default`: `Ok(target)`, or `Err(command)` that needs a TARGET.
pub fn target(
    m: &Migrator,
    given: &[String],
    release: Option<&str>,
    default: Result<&str, &str>,
) -> Result<String, BoxError> {
    let needs =
        |command: &str| format!("{command} needs a TARGET (a revision, `-1`, or `base`)").into();
    match (given, release) {
        ([_], Some(_)) => Err("give a TARGET or --mlflow-version, not both".into()),
        ([], Some(version)) => Ok(m.release_head(version)?),
        ([target], None) => Ok(target.clone()),
        ([], None) => default.map(str::to_string).map_err(needs),
        // Two arguments neither of which is a URL: only `downgrade` takes them.
        _ => Err(needs(default.err().unwrap_or("downgrade"))),
    }
}
