//! Keeping `alembic_version` as Alembic does: one row per current head, changed per step by an
//! UPDATE (a step along a line), an INSERT (a new branch or a base), a DELETE (a branch undone
//! to base or into a dependency that stays), or DELETEs plus an UPDATE (a merge), or INSERTs
//! plus an UPDATE (undoing a merge).
//!
//! Where Alembic picks among several rows in Python set order (which merge parent row is
//! updated and which are deleted), the rows are taken in sorted order: the resulting table is
//! the same either way.

use std::collections::BTreeSet;

use super::path::{Direction, Step};
use super::{GraphError, Ix, RevisionGraph};

/// One change to the version table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionChange {
    Insert(String),
    Delete(String),
    Update { from: String, to: String },
}

impl RevisionGraph {
    fn normalized_down_ids(&self, ix: Ix) -> Vec<String> {
        self.normalized_down(ix)
            .map(|d| self.id(d).to_string())
            .collect()
    }

    fn ancestor_ids_of(&self, heads: &BTreeSet<String>) -> BTreeSet<String> {
        let ixs: Vec<Ix> = heads.iter().filter_map(|h| self.get(h)).collect();
        self.ancestors(&ixs, true)
            .into_iter()
            .map(|i| self.id(i).to_string())
            .collect()
    }

    /// The version-table changes for one step, given the rows before it; `heads` is updated.
    pub fn version_changes(
        &self,
        heads: &mut BTreeSet<String>,
        step: &Step,
    ) -> Result<Vec<VersionChange>, GraphError> {
        let ix = step.revision;
        let id = self.id(ix).to_string();
        let downs = self.normalized_down_ids(ix);
        let changes = match step.direction {
            Direction::Up => self.upgrade_changes(heads, &id, &downs)?,
            Direction::Down => self.downgrade_changes(heads, &id, &downs)?,
        };
        apply_changes(heads, &changes);
        Ok(changes)
    }

    /// The changes for running revision `id` (with normalized parents `downs`) upward: an
    /// INSERT for a new base or branch, a merge, or an UPDATE from its parent row.
    fn upgrade_changes(
        &self,
        heads: &BTreeSet<String>,
        id: &str,
        downs: &[String],
    ) -> Result<Vec<VersionChange>, GraphError> {
        let present = downs.iter().filter(|d| heads.contains(*d)).count();
        if downs.is_empty() || present == 0 {
            Ok(vec![VersionChange::Insert(id.to_string())])
        } else if downs.len() > 1 && present > 1 {
            self.merge_changes(heads, id, downs)
        } else {
            Ok(vec![VersionChange::Update {
                from: parent_row(heads, id, downs)?,
                to: id.to_string(),
            }])
        }
    }

    /// The changes for running merge `id` upward: delete all but one parent row, update the
    /// last one.
    fn merge_changes(
        &self,
        heads: &BTreeSet<String>,
        id: &str,
        downs: &[String],
    ) -> Result<Vec<VersionChange>, GraphError> {
        let others: BTreeSet<String> = heads
            .iter()
            .filter(|h| !downs.contains(h))
            .cloned()
            .collect();
        let ancestors = if others.is_empty() {
            BTreeSet::new()
        } else {
            self.ancestor_ids_of(&others)
        };
        // With no other heads Alembic keeps `down_revision` order; otherwise it goes through a
        // set (hash order), where we take sorted order.
        let mut from: Vec<String> = downs
            .iter()
            .filter(|d| !ancestors.contains(*d))
            .cloned()
            .collect();
        if !others.is_empty() {
            from.sort();
        }
        let last = from.pop().ok_or_else(|| {
            GraphError::Relative(format!("merge {id} has no parent row to update"))
        })?;
        let mut changes: Vec<VersionChange> = from.into_iter().map(VersionChange::Delete).collect();
        changes.push(VersionChange::Update {
            from: last,
            to: id.to_string(),
        });
        Ok(changes)
    }

    /// The changes for undoing revision `id` (with normalized parents `downs`): a DELETE when
    /// nothing is left to point at, INSERTs plus an UPDATE when undoing a merge, else an
    /// UPDATE to its parent row.
    fn downgrade_changes(
        &self,
        heads: &BTreeSet<String>,
        id: &str,
        downs: &[String],
    ) -> Result<Vec<VersionChange>, GraphError> {
        let in_heads = heads.contains(id);
        if in_heads && (downs.is_empty() || self.unmerge_targets(heads, id, downs).is_empty()) {
            Ok(vec![VersionChange::Delete(id.to_string())])
        } else if in_heads && downs.len() > 1 {
            let mut to: Vec<String> = self.unmerge_targets(heads, id, downs).into_iter().collect();
            let last = to
                .pop()
                .ok_or_else(|| GraphError::Relative(format!("cannot undo merge {id}")))?;
            let mut changes: Vec<VersionChange> =
                to.into_iter().map(VersionChange::Insert).collect();
            changes.push(VersionChange::Update {
                from: id.to_string(),
                to: last,
            });
            Ok(changes)
        } else {
            Ok(vec![VersionChange::Update {
                from: id.to_string(),
                to: parent_row(heads, id, downs)?,
            }])
        }
    }

    /// The parents of `id` that become rows again when it is undone: those not already
    /// implied by the other heads (or, with no other heads, by each other).
    fn unmerge_targets(
        &self,
        heads: &BTreeSet<String>,
        id: &str,
        downs: &[String],
    ) -> BTreeSet<String> {
        let others: BTreeSet<String> = heads.iter().filter(|h| *h != id).cloned().collect();
        let ancestors: BTreeSet<String> = if others.is_empty() {
            downs
                .iter()
                .flat_map(|d| {
                    let mut a = self.ancestor_ids_of(&BTreeSet::from([d.clone()]));
                    a.remove(d);
                    a
                })
                .collect()
        } else {
            self.ancestor_ids_of(&others)
        };
        downs
            .iter()
            .filter(|d| !ancestors.contains(*d))
            .cloned()
            .collect()
    }
}

/// The single parent row a step of `id` along a line updates from or to: its only parent,
/// or the only one of its parents present in `heads`.
fn parent_row(heads: &BTreeSet<String>, id: &str, downs: &[String]) -> Result<String, GraphError> {
    if let [only] = downs {
        return Ok(only.clone());
    }
    let present: Vec<&String> = downs.iter().filter(|d| heads.contains(*d)).collect();
    match present.as_slice() {
        [one] => Ok((*one).clone()),
        _ => Err(GraphError::Relative(format!(
            "cannot update alembic_version for {id}: its parent row is ambiguous"
        ))),
    }
}

/// Applies `changes` to the set of version rows.
pub fn apply_changes(heads: &mut BTreeSet<String>, changes: &[VersionChange]) {
    for c in changes {
        match c {
            VersionChange::Insert(v) => {
                heads.insert(v.clone());
            }
            VersionChange::Delete(v) => {
                heads.remove(v);
            }
            VersionChange::Update { from, to } => {
                heads.remove(from);
                heads.insert(to.clone());
            }
        }
    }
}
