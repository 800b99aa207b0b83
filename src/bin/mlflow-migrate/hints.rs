//! Errors in the binary's own words: the library's typed errors with the flag or command that
//! settles each appended, and the exit code of a run stopped on request.

use alembic_engine::compile::CompileError;
use alembic_engine::db::DbError;
use alembic_engine::exec::ExecError;
use alembic_engine::plan::PlanError;
use alembic_engine::project::ProjectError;
use alembic_engine::releases::ReleaseHeadError;
use alembic_engine::OpenError;
use alembic_engine::SqlError;

type Error = dyn std::error::Error + 'static;

/// Exit code of a run stopped by Ctrl-C at a checkpoint (the shell's code for SIGINT).
pub const STOPPED: u8 = 130;

/// The error and its sources in one paragraph, with the flag that settles it where there is
/// one.
pub fn error_text(err: &Error) -> String {
    let mut message = match err.downcast_ref::<ReleaseHeadError>() {
        Some(ReleaseHeadError::NotMlflow { project }) => {
            format!("--mlflow-version names MLflow releases; the project here is '{project}'")
        }
        _ => err.to_string(),
    };
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !message.contains(&text) {
            message += &format!(": {text}");
        }
        source = s.source();
    }
    message + &hint(err)
}

/// What to do about an error, appended to its message. The whole source chain is asked: a
/// recipe refusal comes wrapped in compile errors, a project's in the opening's.
fn hint(err: &Error) -> String {
    let mut next = Some(err);
    while let Some(mut e) = next {
        if let Some(OpenError::Project(project)) = e.downcast_ref::<OpenError>() {
            e = project;
        }
        let hint = e.downcast_ref::<ExecError>().and_then(exec_hint);
        let hint = hint.or_else(|| e.downcast_ref::<ProjectError>().and_then(project_hint));
        if let Some(hint) = hint {
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

/// The flag or command that settles an executor's refusal.
fn exec_hint(e: &ExecError) -> Option<String> {
    Some(match e {
        ExecError::Cancelled { .. } => " (run the same command again to continue)".into(),
        ExecError::BreaksOldServers { .. } => " (`plan` shows each revision's verdict; without --require-compatible the upgrade runs, with the old servers stopped)".into(),
        ExecError::Db(DbError::LockTimeout { .. }) => " (wait longer with --lock-timeout SECS; `status` says who holds it)".into(),
        ExecError::Db(DbError::NoDatabase { .. }) => " (nothing was created: check the path, or create the database with `upgrade`)".into(),
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
        ProjectError::SqlAlchemyLine { .. } => " (--sqlalchemy 2.0 or --sqlalchemy 2.1 chooses it)".into(),
        ProjectError::EnvVersionLocations { .. } => " (name the version folders with --version-location DIR, once per folder)".into(),
        _ => return None,
    })
}

/// A recipe refused its script, however deep it is wrapped (transparent errors hide it from
/// `source()`).
fn is_recipe_refusal(e: &Error) -> bool {
    let compile = |c: &CompileError| matches!(c, CompileError::Recipe(_));
    let plan = |p: &PlanError| matches!(p, PlanError::Compile(c) if compile(c));
    e.is::<alembic_engine::recipes::RecipeError>()
        || e.downcast_ref::<CompileError>().is_some_and(compile)
        || e.downcast_ref::<PlanError>().is_some_and(plan)
        || matches!(e.downcast_ref::<ExecError>(), Some(ExecError::Recipe(_)))
        || matches!(e.downcast_ref::<ExecError>(), Some(ExecError::Plan(p)) if plan(p))
        || matches!(e.downcast_ref::<SqlError>(), Some(SqlError::Recipe(_)))
        || matches!(e.downcast_ref::<SqlError>(), Some(SqlError::Plan(p)) if plan(p))
}

/// The exit code for a failed run.
pub fn exit_code(err: &Error) -> Option<u8> {
    matches!(
        err.downcast_ref::<ExecError>(),
        Some(ExecError::Cancelled { .. })
    )
    .then_some(STOPPED)
}
