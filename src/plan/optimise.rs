//! The optimiser: the same outcome as the plan Alembic would run, with less work. It runs on
//! typed statements, so checkpoints, the journal and resume see the optimised statements as
//! they see any other (a merged statement is one journal unit).
//!
//! First each revision alone (the dialect's `optimise`); then across revisions (its
//! `optimise_across`): revisions whose statements were merged together are fused into one
//! step, so they run as one checkpoint unit, journalled under the first of them, the version
//! row moved once at its end. A resumed run re-plans from the same version row and fuses the
//! same way, so it finds the unit it stopped in.
//!
//! Offline scripts stay as Alembic writes them; live runs (and the `plan` command's dry run,
//! which shows what a live run sends) are optimised.

use std::ops::RangeInclusive;

use super::{Merge, Plan, PlannedStep};
use crate::graph::VersionChange;

/// What the optimiser did to one revision (a fused step: to the revisions it runs as one).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Optimised {
    pub revision: String,
    pub merges: Vec<Merge>,
    /// The later revisions fused into this one's unit by merges across revisions.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub joined: Vec<String>,
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
                    joined: Vec::new(),
                });
            }
        }
        self.optimise_across(first, &mut out);
        out
    }

    /// Merge across the revisions from `first` on, fusing the revisions a merge spans.
    fn optimise_across(&mut self, first: usize, out: &mut Vec<Optimised>) {
        if self.direct.is_some() {
            return;
        }
        let dialect = self.database.dialect();
        let triggers: Vec<&str> = self
            .schema
            .triggers
            .iter()
            .map(|t| t.sql.as_str())
            .collect();
        let mut owner = Vec::new();
        let mut ops = Vec::new();
        for (i, step) in self.steps.iter_mut().enumerate().skip(first) {
            for e in &mut step.compiled.emitted {
                owner.push(i);
                ops.push(std::mem::take(&mut e.statements));
            }
        }
        let joined = dialect.optimise_across(&mut ops, &triggers);
        let mut ops = ops.into_iter();
        for step in self.steps.iter_mut().skip(first) {
            for e in &mut step.compiled.emitted {
                e.statements = ops.next().unwrap_or_default();
            }
        }
        let mut spans: Vec<(RangeInclusive<usize>, Merge)> = joined
            .into_iter()
            .map(|j| (owner[*j.ops.start()]..=owner[*j.ops.end()], j.merge))
            .collect();
        spans.sort_by_key(|(r, _)| *r.start());
        // Overlapping spans fuse into one range of steps.
        let mut fused: Vec<(RangeInclusive<usize>, Vec<Merge>)> = Vec::new();
        for (range, merge) in spans {
            match fused.last_mut() {
                Some((last, merges)) if range.start() <= last.end() => {
                    *last = *last.start()..=(*last.end()).max(*range.end());
                    merges.push(merge);
                }
                _ => fused.push((range, vec![merge])),
            }
        }
        for (range, across) in fused.into_iter().rev() {
            let joined = self.fuse(range.clone());
            let revision = self.steps[*range.start()].compiled.revision.clone();
            // The fused revisions' own merges, in order, then those across them.
            let mut merges: Vec<Merge> = Vec::new();
            for r in std::iter::once(&revision).chain(&joined) {
                if let Some(k) = out.iter().position(|o| &o.revision == r) {
                    merges.extend(out.remove(k).merges);
                }
            }
            merges.extend(across);
            out.push(Optimised {
                revision,
                merges,
                joined,
            });
        }
        let order: Vec<&String> = self.steps.iter().map(|s| &s.compiled.revision).collect();
        out.sort_by_key(|o| order.iter().position(|r| **r == o.revision));
    }

    /// Make steps `range` one step; returns the revisions joined to its first.
    fn fuse(&mut self, range: RangeInclusive<usize>) -> Vec<String> {
        let later: Vec<PlannedStep> = self
            .steps
            .drain(*range.start() + 1..=*range.end())
            .collect();
        let step = &mut self.steps[*range.start()];
        for s in later {
            step.joined.push(s.compiled.revision.clone());
            step.joined.extend(s.joined);
            step.compiled.emitted.extend(s.compiled.emitted);
            step.label = format!("{}, {}", step.label, s.label.trim_start_matches("Running "));
            step.message = format!("{}; {}", step.message, s.message);
            step.version_changes = composed(&step.version_changes, &s.version_changes);
        }
        step.joined.clone()
    }
}

/// Remove the statements at `at` ((operation, statement) positions) from `ops`, last first,
/// so that the positions stay true while removing.
pub(crate) fn remove_statements(ops: &mut [Vec<super::Statement>], mut at: Vec<(usize, usize)>) {
    at.sort_unstable_by(|a, b| b.cmp(a));
    at.dedup();
    for (o, s) in at {
        ops[o].remove(s);
    }
}

/// Helpers for the dialects' optimiser tests.
#[cfg(test)]
pub(crate) mod testing {
    use crate::dialect::Database;
    use crate::plan::{Joined, Statement};

    /// Each operation's statements, read for `database`.
    pub fn ops<O: AsRef<[S]>, S: AsRef<str>>(database: Database, ops: &[O]) -> Vec<Vec<Statement>> {
        ops.iter()
            .map(|o| {
                o.as_ref()
                    .iter()
                    .map(|s| Statement::read(s.as_ref().to_string(), database))
                    .collect()
            })
            .collect()
    }

    /// Each operation's SQL.
    pub fn sql(ops: &[Vec<Statement>]) -> Vec<Vec<&str>> {
        ops.iter()
            .map(|o| o.iter().map(|s| s.sql.as_str()).collect())
            .collect()
    }

    /// Assert that `optimise` finds nothing to do in `ops` and leaves them as they were.
    pub fn untouched(
        ops: &mut [Vec<Statement>],
        optimise: impl FnOnce(&mut [Vec<Statement>]) -> Vec<Joined>,
        what: &str,
    ) {
        let before: Vec<Vec<String>> = ops
            .iter()
            .map(|o| o.iter().map(|s| s.sql.clone()).collect())
            .collect();
        assert!(optimise(ops).is_empty(), "{what}");
        let after: Vec<Vec<String>> = ops
            .iter()
            .map(|o| o.iter().map(|s| s.sql.clone()).collect())
            .collect();
        assert_eq!(before, after, "{what}");
    }
}

/// The version-row changes `first` then `then`, as one set of changes: a row inserted or moved
/// and then moved again is moved once, to where it ends.
fn composed(first: &[VersionChange], then: &[VersionChange]) -> Vec<VersionChange> {
    let mut out = first.to_vec();
    for change in then {
        let lands = |c: &VersionChange, row: &str| match c {
            VersionChange::Insert(v) | VersionChange::Update { to: v, .. } => v == row,
            VersionChange::Delete(_) => false,
        };
        let moved = match change {
            VersionChange::Update { from, .. } | VersionChange::Delete(from) => {
                out.iter().position(|c| lands(c, from))
            }
            VersionChange::Insert(_) => None,
        };
        let Some(k) = moved else {
            out.push(change.clone());
            continue;
        };
        let replaced = match (&out[k], change) {
            (VersionChange::Insert(_), VersionChange::Update { to, .. }) => {
                Some(VersionChange::Insert(to.clone()))
            }
            (VersionChange::Update { from, .. }, VersionChange::Update { to, .. }) => {
                Some(VersionChange::Update {
                    from: from.clone(),
                    to: to.clone(),
                })
            }
            (VersionChange::Update { from, .. }, VersionChange::Delete(_)) => {
                Some(VersionChange::Delete(from.clone()))
            }
            _ => None,
        };
        match replaced {
            Some(c) => out[k] = c,
            None => {
                out.remove(k);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn up(from: &str, to: &str) -> VersionChange {
        VersionChange::Update {
            from: from.into(),
            to: to.into(),
        }
    }

    #[test]
    fn a_chain_of_moves_is_one_move() {
        assert_eq!(
            composed(&[up("a", "b")], &[up("b", "c")]),
            vec![up("a", "c")]
        );
        assert_eq!(
            composed(&[VersionChange::Insert("a".into())], &[up("a", "b")]),
            vec![VersionChange::Insert("b".into())]
        );
        assert_eq!(
            composed(&[up("a", "b")], &[VersionChange::Delete("b".into())]),
            vec![VersionChange::Delete("a".into())]
        );
        assert!(composed(
            &[VersionChange::Insert("a".into())],
            &[VersionChange::Delete("a".into())]
        )
        .is_empty());
        // A merge point: one row moves, the other is deleted.
        assert_eq!(
            composed(
                &[up("a", "b")],
                &[VersionChange::Delete("x".into()), up("b", "m")]
            ),
            vec![up("a", "m"), VersionChange::Delete("x".into())]
        );
    }
}
