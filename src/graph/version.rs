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
        let mut changes = Vec::new();
        let internal = |msg: String| GraphError::Relative(msg);
        match step.direction {
            Direction::Up => {
                let present: Vec<&String> = downs.iter().filter(|d| heads.contains(*d)).collect();
                if downs.is_empty() || present.is_empty() {
                    changes.push(VersionChange::Insert(id.clone()));
                } else if downs.len() > 1 && present.len() > 1 {
                    // Merge: delete all but one parent row, update the last one.
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
                    // With no other heads Alembic keeps `down_revision` order; otherwise it
                    // goes through a set (hash order), where we take sorted order.
                    let mut from: Vec<String> = downs
                        .iter()
                        .filter(|d| !ancestors.contains(*d))
                        .cloned()
                        .collect();
                    if !others.is_empty() {
                        from.sort();
                    }
                    let last = from.pop().ok_or_else(|| {
                        internal(format!("merge {id} has no parent row to update"))
                    })?;
                    for d in from {
                        changes.push(VersionChange::Delete(d));
                    }
                    changes.push(VersionChange::Update {
                        from: last,
                        to: id.clone(),
                    });
                } else {
                    let from = if downs.len() == 1 {
                        downs[0].clone()
                    } else {
                        match present.as_slice() {
                            [one] => (*one).clone(),
                            _ => {
                                return Err(internal(format!(
                                    "cannot update alembic_version for {id}: its parent row is ambiguous"
                                )))
                            }
                        }
                    };
                    changes.push(VersionChange::Update {
                        from,
                        to: id.clone(),
                    });
                }
            }
            Direction::Down => {
                let unmerge_to = |heads: &BTreeSet<String>| -> BTreeSet<String> {
                    let others: BTreeSet<String> =
                        heads.iter().filter(|h| **h != id).cloned().collect();
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
                };
                let in_heads = heads.contains(&id);
                if in_heads && (downs.is_empty() || unmerge_to(heads).is_empty()) {
                    changes.push(VersionChange::Delete(id.clone()));
                } else if in_heads && downs.len() > 1 {
                    let mut to: Vec<String> = unmerge_to(heads).into_iter().collect();
                    let last = to
                        .pop()
                        .ok_or_else(|| internal(format!("cannot undo merge {id}")))?;
                    for t in to {
                        changes.push(VersionChange::Insert(t));
                    }
                    changes.push(VersionChange::Update {
                        from: id.clone(),
                        to: last,
                    });
                } else {
                    let to = if downs.len() == 1 {
                        downs[0].clone()
                    } else {
                        let present: Vec<&String> =
                            downs.iter().filter(|d| heads.contains(*d)).collect();
                        match present.as_slice() {
                            [one] => (*one).clone(),
                            _ => {
                                return Err(internal(format!(
                                    "cannot update alembic_version for {id}: its parent row is ambiguous"
                                )))
                            }
                        }
                    };
                    changes.push(VersionChange::Update {
                        from: id.clone(),
                        to,
                    });
                }
            }
        }
        for c in &changes {
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
        Ok(changes)
    }
}
