//! Fault injection for the crash/resume tests: stop a run right after statement n (counted
//! over the whole run), or — MySQL — right after statement n ran but before its checkpoint.
//! Compiled only with the `fault-injection` cargo feature, which the test command enables and
//! release builds do not: a shipped binary or an embedding service never obeys these
//! variables.

use super::ExecError;

#[cfg(feature = "fault-injection")]
fn point(variable: &str, counter: usize) -> Result<(), ExecError> {
    let hit = std::env::var(variable)
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        == Some(counter);
    if hit {
        return Err(ExecError::Injected(counter));
    }
    Ok(())
}

/// `ALEMBIC_ENGINE_FAIL_AFTER=n`: fail once statement n and its journal row are done.
#[cfg(feature = "fault-injection")]
pub(super) fn after(counter: usize) -> Result<(), ExecError> {
    point("ALEMBIC_ENGINE_FAIL_AFTER", counter)
}

/// `ALEMBIC_ENGINE_FAIL_BEFORE_JOURNAL=n` (MySQL): fail after statement n ran, before its
/// checkpoint row.
#[cfg(feature = "fault-injection")]
pub(super) fn before_journal(counter: usize) -> Result<(), ExecError> {
    point("ALEMBIC_ENGINE_FAIL_BEFORE_JOURNAL", counter)
}

#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub(super) fn after(_counter: usize) -> Result<(), ExecError> {
    Ok(())
}

#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub(super) fn before_journal(_counter: usize) -> Result<(), ExecError> {
    Ok(())
}
