//! The optimiser: the same outcome as the plan Alembic would run, with less work. It runs on
//! typed statements, revision by revision, so checkpoints, the journal and resume see the
//! optimised statements as they see any other (a merged statement is one journal unit).
//!
//! Offline scripts stay as Alembic writes them; live runs (and the `plan` command's dry run,
//! which shows what a live run sends) are optimised.

use super::{Merge, Plan};

/// What the optimiser did to one revision.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Optimised {
    pub revision: String,
    pub merges: Vec<Merge>,
}

impl Plan {
    /// Optimise the steps from `first` on (a step an interrupted run, or another tool, left
    /// half-applied keeps the statements it ran). Returns what changed, by revision.
    pub fn optimise(&mut self, first: usize) -> Vec<Optimised> {
        let dialect = self.database.dialect();
        let mut out = Vec::new();
        for step in self.steps.iter_mut().skip(first) {
            let emitted = &mut step.compiled.emitted;
            let mut ops: Vec<Vec<super::Statement>> = emitted
                .iter_mut()
                .map(|e| std::mem::take(&mut e.statements))
                .collect();
            let merges = dialect.optimise(&mut ops);
            for (e, statements) in emitted.iter_mut().zip(ops) {
                e.statements = statements;
            }
            if !merges.is_empty() {
                out.push(Optimised {
                    revision: step.compiled.revision.clone(),
                    merges,
                });
            }
        }
        out
    }
}
