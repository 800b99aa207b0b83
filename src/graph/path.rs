//! Paths: which revisions an upgrade or downgrade runs, and in which order.
//!
//! The revision sets are Alembic's (targets and their ancestors minus what is current, or the
//! current revisions that descend from the target), and the order is Alembic's topological
//! sort, which prefers to finish one head's line before switching, tie-broken by load order.

use std::collections::HashSet;

use serde::Serialize;

use super::spec::{parse_relative, Lower, Slot};
use super::{GraphError, Ix, RevisionGraph};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Up,
    Down,
}

/// One migration step: run `revision`'s upgrade or downgrade.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub revision: Ix,
    pub direction: Direction,
}

fn as_rev(graph: &RevisionGraph, slot: Slot, what: &str) -> Result<Ix, GraphError> {
    match slot {
        Slot::Rev(ix) => Ok(ix),
        Slot::Base | Slot::Nowhere => {
            let _ = graph;
            Err(GraphError::Relative(format!(
                "'{what}' does not name a revision here (it walks to base or past the ends of the graph)"
            )))
        }
    }
}

impl RevisionGraph {
    /// The steps that take a database whose `alembic_version` holds `current` to `target`
    /// by upgrading (Alembic's `upgrade TARGET`).
    pub fn upgrade_path(&self, current: &Lower, target: &str) -> Result<Vec<Step>, GraphError> {
        let (needs, targets) = self.collect_upgrade(target, current, false, true, true)?;
        let mut order = self.topological_sort(&needs, &targets)?;
        order.reverse();
        Ok(order
            .into_iter()
            .map(|revision| Step {
                revision,
                direction: Direction::Up,
            })
            .collect())
    }

    /// The steps that take a database at `current` down to `target` (Alembic's `downgrade`).
    pub fn downgrade_path(&self, current: &Lower, target: &str) -> Result<Vec<Step>, GraphError> {
        let (drops, heads) = self.collect_downgrade(current, Some(target), false, false, true)?;
        let order = self.topological_sort(&drops, &heads)?;
        Ok(order
            .into_iter()
            .map(|revision| Step {
                revision,
                direction: Direction::Down,
            })
            .collect())
    }

    /// Revisions from `head` down to `base`, newest first (`alembic history -r base:head`).
    pub fn history(&self, base: &str, head: &str) -> Result<Vec<Ix>, GraphError> {
        let lower = Lower::One(base.to_string());
        let (revs, targets) = self.collect_upgrade(head, &lower, true, false, false)?;
        self.topological_sort(&revs, &targets)
    }

    /// Alembic's `_parse_upgrade_target`: absolute specs, or relative steps from a symbol or
    /// from the current revisions.
    pub(crate) fn parse_upgrade_target(
        &self,
        current: &Lower,
        target: &str,
        assert_relative_length: bool,
    ) -> Result<Vec<Slot>, GraphError> {
        let Some(rel) = parse_relative(target) else {
            return self.get_revisions(Some(target));
        };
        let too_few = || {
            GraphError::Relative(format!(
                "relative revision {} didn't produce {} migrations",
                rel.steps_text,
                rel.steps.unsigned_abs()
            ))
        };
        if rel.steps > 0 {
            let Some(symbol) = &rel.symbol else {
                // Relative to the current state.
                let mut start: Vec<Slot> = {
                    let items = current.items();
                    if items.is_empty() {
                        vec![Slot::Nowhere]
                    } else {
                        items
                            .iter()
                            .map(|s| self.get_revision(s).map(|ix| self.slot_of(ix)))
                            .collect::<Result<_, _>>()?
                    }
                };
                if let Some(branch) = &rel.branch {
                    let current_revs: Vec<Ix> = self
                        .get_revisions_lower(current)?
                        .into_iter()
                        .filter_map(|s| match s {
                            Slot::Rev(ix) => Some(ix),
                            _ => None,
                        })
                        .collect();
                    let on_branch = self.filter_for_lineage(&current_revs, branch, false)?;
                    start = on_branch.into_iter().map(Slot::Rev).collect();
                    if start.is_empty() {
                        let ancestors: Vec<Ix> =
                            self.ancestors(&current_revs, true).into_iter().collect();
                        let active: HashSet<Ix> = self
                            .filter_for_lineage(&ancestors, branch, false)?
                            .into_iter()
                            .collect();
                        let downs: HashSet<Ix> = active
                            .iter()
                            .flat_map(|&a| self.normalized_down(a))
                            .collect();
                        let mut tips: Vec<Ix> = active.difference(&downs).copied().collect();
                        tips.sort();
                        start = tips.into_iter().map(Slot::Rev).collect();
                        if start.is_empty() {
                            start = vec![Slot::Nowhere];
                        }
                    }
                }
                if start.len() > 1 {
                    return Err(GraphError::Relative(
                        "ambiguous upgrade from multiple current revisions".into(),
                    ));
                }
                let rev = self.walk(
                    start[0],
                    rel.steps,
                    rel.branch.as_deref(),
                    assert_relative_length,
                )?;
                if rev == Slot::Nowhere {
                    return Err(too_few());
                }
                return Ok(vec![rev]);
            };
            let from = self.get_revision(symbol)?;
            return Ok(vec![self.walk(
                self.slot_of(from),
                rel.steps,
                rel.branch.as_deref(),
                assert_relative_length,
            )?]);
        }
        let Some(symbol) = &rel.symbol else {
            return Err(too_few());
        };
        let from = match &rel.branch {
            None => self.get_revision(symbol)?,
            Some(b) => self.get_revision(&format!("{b}@{symbol}"))?,
        };
        Ok(vec![self.walk(
            self.slot_of(from),
            rel.steps,
            None,
            assert_relative_length,
        )?])
    }

    /// Alembic's `_parse_downgrade_target`: the branch named and the revision to go down to
    /// (`Slot::Base` for base).
    pub(crate) fn parse_downgrade_target(
        &self,
        current: &Lower,
        target: Option<&str>,
        assert_relative_length: bool,
    ) -> Result<(Option<String>, Slot), GraphError> {
        let Some(target) = target else {
            return Ok((None, Slot::Base));
        };
        if let Some(rel) = parse_relative(target) {
            let too_few = || {
                GraphError::Relative(format!(
                    "relative revision {} didn't produce {} migrations",
                    rel.steps_text,
                    rel.steps.unsigned_abs()
                ))
            };
            if rel.steps >= 0 {
                let Some(symbol) = &rel.symbol else {
                    return Err(too_few());
                };
                let from = self.get_revision(symbol)?;
                let rev = self.walk(
                    self.slot_of(from),
                    rel.steps,
                    rel.branch.as_deref(),
                    assert_relative_length,
                )?;
                if rev == Slot::Nowhere {
                    return Err(GraphError::Relative("walked too far".into()));
                }
                return Ok((rel.branch.clone(), rev));
            }
            let mut branch = rel.branch.clone();
            let symbol = match &rel.symbol {
                Some(s) => s.clone(),
                None => {
                    let items: Vec<String> =
                        current.items().iter().map(|s| s.to_string()).collect();
                    if let Some(b) = &branch {
                        let current_revs: Vec<Ix> = items
                            .iter()
                            .map(|s| self.get_revision(s))
                            .collect::<Result<Vec<_>, _>>()?
                            .into_iter()
                            .flatten()
                            .collect();
                        let mut on_branch = self.filter_for_lineage(&current_revs, b, false)?;
                        if on_branch.is_empty() {
                            let all_current = self.all_current(&current_revs);
                            on_branch = self.filter_for_lineage(&all_current, b, false)?;
                        }
                        match on_branch.as_slice() {
                            [one] => self.id(*one).to_string(),
                            _ => {
                                return Err(GraphError::Relative(format!(
                                    "'{target}' does not pick exactly one current revision on branch '{b}'"
                                )))
                            }
                        }
                    } else {
                        let Some(first) = items.first() else {
                            return Err(too_few());
                        };
                        branch = Some(first.clone());
                        first.clone()
                    }
                }
            };
            let from = match &branch {
                None => self.get_revision(&symbol)?,
                Some(b) => self.get_revision(&format!("{b}@{symbol}"))?,
            };
            let rev = self.walk(self.slot_of(from), rel.steps, None, assert_relative_length)?;
            if rev == Slot::Nowhere {
                return Err(if rel.symbol.is_none() {
                    too_few()
                } else {
                    GraphError::Relative("walked too far".into())
                });
            }
            return Ok((branch, rev));
        }
        let (branch, symbol) = match target.rfind('@') {
            Some(at) if at > 0 => (Some(target[..at].to_string()), &target[at + 1..]),
            Some(at) => (None, &target[at + 1..]),
            None => (None, target),
        };
        let rev = self.get_revision(symbol)?;
        Ok((branch, rev.map_or(Slot::Base, Slot::Rev)))
    }

    /// Current revisions plus their ancestors, reduced to the ones with no descendant among
    /// them.
    fn all_current(&self, current: &[Ix]) -> Vec<Ix> {
        let top = self.ancestors(current, true);
        let mut out: Vec<Ix> = top
            .iter()
            .copied()
            .filter(|&r| {
                !self
                    .descendants(&[r], false)
                    .iter()
                    .any(|d| *d != r && top.contains(d))
            })
            .collect();
        out.sort();
        out
    }

    /// Ancestors of each target, refusing targets that are ancestors of one another.
    fn ancestors_checked(
        &self,
        targets: &[Ix],
        include_dependencies: bool,
    ) -> Result<HashSet<Ix>, GraphError> {
        let mut all = HashSet::new();
        for &t in targets {
            let anc = self.ancestors(&[t], include_dependencies);
            let others: Vec<String> = targets
                .iter()
                .filter(|&&o| o != t && anc.contains(&o))
                .map(|&o| self.id(o).to_string())
                .collect();
            if !others.is_empty() {
                return Err(GraphError::Overlap {
                    revision: self.id(t).to_string(),
                    others,
                });
            }
            all.extend(anc);
        }
        Ok(all)
    }

    fn descendants_checked(&self, starts: &[Ix]) -> Result<HashSet<Ix>, GraphError> {
        let mut all = HashSet::new();
        for &s in starts {
            let desc = self.descendants(&[s], false);
            let others: Vec<String> = starts
                .iter()
                .filter(|&&o| o != s && desc.contains(&o))
                .map(|&o| self.id(o).to_string())
                .collect();
            if !others.is_empty() {
                return Err(GraphError::Overlap {
                    revision: self.id(s).to_string(),
                    others,
                });
            }
            all.extend(desc);
        }
        Ok(all)
    }

    /// Alembic's `_collect_upgrade_revisions`: what to run to reach `upper` from `lower`.
    pub(crate) fn collect_upgrade(
        &self,
        upper: &str,
        lower: &Lower,
        inclusive: bool,
        implicit_base: bool,
        assert_relative_length: bool,
    ) -> Result<(HashSet<Ix>, Vec<Ix>), GraphError> {
        let mut targets: Vec<Ix> = self
            .parse_upgrade_target(lower, upper, assert_relative_length)?
            .into_iter()
            .map(|s| as_rev(self, s, upper))
            .collect::<Result<_, _>>()?;

        if let Lower::One(l) = lower {
            if let Some((branch, _)) = l.split_once('@') {
                let mut branch = branch.to_string();
                if let Some(rev) = self.get_revision(&branch)? {
                    if self.id(rev) == branch {
                        let labels = self.labels(rev);
                        if labels.len() != 1 {
                            return Err(GraphError::Relative(format!(
                                "revision {branch} used as a branch name must carry exactly one branch label"
                            )));
                        }
                        branch = labels.iter().next().cloned().unwrap_or_default();
                    }
                }
                targets.retain(|&t| self.labels(t).contains(&branch));
            }
        }

        let mut required = self.ancestors_checked(&targets, true)?;
        required.extend(targets.iter().copied());

        let mut current_slots = self.get_revisions_lower(lower)?;
        if !implicit_base {
            for slot in &current_slots {
                if let Slot::Rev(ix) = slot {
                    if !required.contains(ix) {
                        return Err(GraphError::NotAnAncestor {
                            lower: lower.describe(),
                            upper: upper.to_string(),
                        });
                    }
                }
            }
        }
        let mut lower_eff = lower.clone();
        if current_slots.first() == Some(&Slot::Nowhere) {
            let upper_lower = Lower::One(upper.to_string());
            let first = lower.items().first().map(|s| s.to_string());
            let (_, rev) = self.parse_downgrade_target(
                &upper_lower,
                first.as_deref(),
                assert_relative_length,
            )?;
            match rev {
                Slot::Rev(ix) => {
                    current_slots = vec![Slot::Rev(ix)];
                    lower_eff = Lower::One(self.id(ix).to_string());
                }
                _ => {
                    current_slots = Vec::new();
                    lower_eff = Lower::None;
                }
            }
        }
        let current: Vec<Ix> = current_slots
            .iter()
            .filter_map(|s| match s {
                Slot::Rev(ix) => Some(*ix),
                _ => None,
            })
            .collect();
        let mut current_set = self.ancestors_checked(&current, true)?;
        current_set.extend(current.iter().copied());

        let mut needs: HashSet<Ix> = required.difference(&current_set).copied().collect();
        if inclusive {
            for slot in self.get_revisions_lower(&lower_eff)? {
                needs.insert(as_rev(self, slot, &lower_eff.describe())?);
            }
        }
        if !current.is_empty() && !implicit_base {
            let below = self.descendants_checked(&current)?;
            needs.retain(|n| below.contains(n));
        }
        Ok((needs, targets))
    }

    /// Alembic's `_collect_downgrade_revisions`: the current revisions that must be undone to
    /// get down to `target`.
    pub(crate) fn collect_downgrade(
        &self,
        upper: &Lower,
        target: Option<&str>,
        inclusive: bool,
        implicit_base: bool,
        assert_relative_length: bool,
    ) -> Result<(HashSet<Ix>, Vec<Ix>), GraphError> {
        let (branch, target_slot) =
            self.parse_downgrade_target(upper, target, assert_relative_length)?;
        let target_rev = match target_slot {
            Slot::Rev(ix) => Some(ix),
            _ => None,
        };
        let mut roots: Vec<Ix> = match target_rev {
            None => self
                .all()
                .filter(|&ix| self.parents(ix).is_empty())
                .collect(),
            Some(t) if inclusive => vec![t],
            Some(t) => self.children(t).to_vec(),
        };
        if let Some(b) = &branch {
            if roots.len() > 1 {
                let branch_rev = self.resolve_branch(b)?;
                let ancestors = self.ancestors(&[branch_rev], false);
                roots.retain(|r| ancestors.contains(r));
                if roots.is_empty() {
                    return Err(GraphError::Relative(
                        "not a valid downgrade target from the current heads".into(),
                    ));
                }
            }
        }
        let heads: Vec<Ix> = self
            .get_revisions_lower(upper)?
            .into_iter()
            .map(|s| as_rev(self, s, &upper.describe()))
            .collect::<Result<_, _>>()?;
        let mut drops = self.descendants(&roots, true);
        let active = self.ancestors(&heads, true);
        drops.retain(|d| active.contains(d));
        if implicit_base {
            let keep = self.ancestors(&roots, true);
            drops.extend(active.difference(&keep).copied());
        }
        if let Some(t) = target_rev {
            if drops.is_empty() && !heads.contains(&t) {
                return Err(GraphError::NotAnAncestor {
                    lower: target.unwrap_or("base").to_string(),
                    upper: upper.describe(),
                });
            }
        }
        Ok((drops, heads))
    }

    /// Alembic's topological sort: newest first, finishing the line of one head before
    /// switching to another that still depends on it; ties go to load order.
    pub(crate) fn topological_sort(
        &self,
        revisions: &HashSet<Ix>,
        heads: &[Ix],
    ) -> Result<Vec<Ix>, GraphError> {
        let mut todo = revisions.clone();
        let mut current: Vec<Ix> = heads.iter().copied().filter(|h| todo.contains(h)).collect();
        current.sort();
        current.dedup();
        let mut ancestors: Vec<HashSet<Ix>> = current
            .iter()
            .map(|&h| self.ancestors(&[h], true))
            .collect();
        let mut out = Vec::with_capacity(todo.len());
        let mut idx = 0usize;
        let mut guard = 0usize;
        let limit = 4 * (self.len() + 1) * (self.len() + 1);
        while !current.is_empty() {
            guard += 1;
            if guard > limit {
                break;
            }
            let candidate = current[idx];
            if let Some(j) = ancestors
                .iter()
                .enumerate()
                .position(|(j, anc)| j != idx && anc.contains(&candidate))
            {
                idx = j;
                continue;
            }
            if todo.remove(&candidate) {
                out.push(candidate);
            }
            let to_add: Vec<Ix> = self
                .normalized_down(candidate)
                .filter(|r| todo.contains(r) && !current.contains(r))
                .collect();
            if to_add.is_empty() {
                current.remove(idx);
                ancestors.remove(idx);
                idx = idx.saturating_sub(1);
            } else if self.g[candidate].norm_deps.is_empty() && self.parents(candidate).len() == 1 {
                current[idx] = to_add[0];
                ancestors[idx].remove(&candidate);
            } else {
                current[idx] = to_add[0];
                ancestors[idx] = self.ancestors(&[to_add[0]], true);
                for &extra in &to_add[1..] {
                    current.push(extra);
                    ancestors.push(self.ancestors(&[extra], true));
                }
            }
        }
        if !todo.is_empty() {
            let mut left: Vec<String> = todo.iter().map(|&i| self.id(i).to_string()).collect();
            left.sort();
            return Err(GraphError::Relative(format!(
                "could not order revisions {} below the requested heads",
                left.join(", ")
            )));
        }
        Ok(out)
    }
}

/// Where a database stands relative to a target (`check`): its recorded revisions and their
/// ancestors compared with the target's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Position {
    /// The database holds exactly the target's revisions.
    AtTarget,
    /// Upgrading reaches the target: every recorded revision is below it.
    Behind,
    /// The database holds every revision of the target and more.
    Ahead,
    /// Neither: the database is on another branch than the target.
    Diverged,
}

impl RevisionGraph {
    /// Compare the revisions a database records with `target`'s. Both sides count their
    /// ancestors (parents and dependencies), so `heads` and a merge's parents compare as Alembic
    /// would apply them.
    pub fn position(&self, current: &[String], target: &str) -> Result<Position, GraphError> {
        let mut have = Vec::new();
        for id in current {
            have.extend(self.resolve(id)?);
        }
        let want = self.resolve(target)?;
        let have = self.ancestors(&have, true);
        let want = self.ancestors(&want, true);
        Ok(if have == want {
            Position::AtTarget
        } else if have.is_subset(&want) {
            Position::Behind
        } else if want.is_subset(&have) {
            Position::Ahead
        } else {
            Position::Diverged
        })
    }
}

#[cfg(test)]
mod position_tests;
