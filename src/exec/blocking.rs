//! A blocking facade over the async runs, for callers with or without an async runtime of
//! their own.

use std::time::Duration;

use super::*;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread tokio runtime can always be built")
}

/// Run `work` to completion on a runtime of its own. Called from inside a tokio runtime
/// (where blocking on another would panic), it runs on a scoped thread instead, the
/// caller's thread waiting for it.
pub(crate) fn block_on<F>(work: F) -> F::Output
where
    F: std::future::Future + Send,
    F::Output: Send,
{
    if tokio::runtime::Handle::try_current().is_err() {
        return runtime().block_on(work);
    }
    std::thread::scope(|scope| {
        scope
            .spawn(|| runtime().block_on(work))
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

pub fn migrate(
    url: &DbUrl,
    project: &Project,
    graph: &RevisionGraph,
    options: &Options,
    progress: &mut (dyn FnMut(Event) + Send),
) -> Result<Outcome, ExecError> {
    block_on(super::migrate(url, project, graph, options, progress))
}

pub fn dry_run(
    url: &DbUrl,
    project: &Project,
    graph: &RevisionGraph,
    options: &Options,
) -> Result<DryRun, ExecError> {
    block_on(super::dry_run(url, project, graph, options))
}

pub fn current(
    url: &DbUrl,
    project: &Project,
    graph: &RevisionGraph,
) -> Result<Vec<String>, ExecError> {
    block_on(super::current(url, project, graph))
}

pub fn status(url: &DbUrl, project: &Project) -> Result<Status, ExecError> {
    block_on(super::status(url, project))
}

pub fn applied(url: &DbUrl, project: &Project) -> Result<(Vec<String>, Vec<Applied>), ExecError> {
    block_on(super::applied(url, project))
}

pub fn prune_journal(
    url: &DbUrl,
    project: &Project,
    keep: usize,
    lock_timeout: Duration,
) -> Result<Pruned, ExecError> {
    block_on(super::prune_journal(url, project, keep, lock_timeout))
}

pub fn stamp(
    url: &DbUrl,
    project: &Project,
    graph: &RevisionGraph,
    revisions: &[String],
    purge: bool,
    lock_timeout: Duration,
) -> Result<Vec<String>, ExecError> {
    block_on(super::stamp(
        url,
        project,
        graph,
        revisions,
        purge,
        lock_timeout,
    ))
}
