//! Property tests over random revision DAGs (up to 200 revisions, merges, several bases,
//! cross-branch `depends_on`): paths respect parents and dependencies, go up and back down to
//! the start, and run exactly the revisions a small independent model says they should.

use std::collections::BTreeSet;

use alembic_engine::graph::{Direction, Lower, RevisionGraph};
use alembic_engine::script::Revision;
use proptest::prelude::*;

/// The model: revision i's parents and dependencies are earlier revisions.
#[derive(Debug, Clone)]
struct Dag {
    parents: Vec<Vec<usize>>,
    deps: Vec<Vec<usize>>,
}

fn id(i: usize) -> String {
    // Twelve hex digits, no shared 4-character prefixes issues for exact lookups.
    format!(
        "{:04x}{:08x}",
        i,
        (i as u64).wrapping_mul(2654435761) & 0xffff_ffff
    )
}

impl Dag {
    fn graph(&self) -> RevisionGraph {
        let ids: Vec<String> = (0..self.parents.len()).map(id).collect();
        let revs = (0..self.parents.len())
            .map(|i| {
                let down: Vec<&str> = self.parents[i].iter().map(|&p| ids[p].as_str()).collect();
                let deps: Vec<&str> = self.deps[i].iter().map(|&p| ids[p].as_str()).collect();
                Revision::synthetic(&ids[i], &down, &[], &deps)
            })
            .collect();
        RevisionGraph::build(revs).expect("generated DAGs are valid")
    }

    /// Everything `i` needs: itself, its parents and dependencies, transitively.
    fn requires(&self, i: usize) -> BTreeSet<usize> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![i];
        while let Some(n) = todo.pop() {
            if seen.insert(n) {
                todo.extend(self.parents[n].iter().chain(&self.deps[n]).copied());
            }
        }
        seen
    }

    /// Revisions reachable upwards from `starts` through children and dependents.
    fn dependents(&self, starts: &[usize]) -> BTreeSet<usize> {
        let n = self.parents.len();
        let mut seen = BTreeSet::new();
        let mut todo = starts.to_vec();
        while let Some(x) = todo.pop() {
            if seen.insert(x) {
                todo.extend(
                    (0..n).filter(|&c| self.parents[c].contains(&x) || self.deps[c].contains(&x)),
                );
            }
        }
        seen
    }

    /// What `alembic_version` holds for an applied set: applied revisions with no applied
    /// child through `down_revision`.
    fn version_rows(&self, applied: &BTreeSet<usize>) -> Vec<String> {
        applied
            .iter()
            .copied()
            .filter(|&r| !applied.iter().any(|&c| self.parents[c].contains(&r)))
            .map(id)
            .collect()
    }
}

fn dag_strategy() -> impl Strategy<Value = Dag> {
    (2usize..200).prop_flat_map(|n| {
        proptest::collection::vec(
            (0u8..100, any::<u32>(), any::<u32>(), 0u8..100, any::<u32>()),
            n,
        )
        .prop_map(move |choices| {
            let mut parents = Vec::with_capacity(n);
            let mut deps = Vec::with_capacity(n);
            for (i, (kind, a, b, dep_roll, d)) in choices.into_iter().enumerate() {
                let mut p = Vec::new();
                if i > 0 && kind >= 4 {
                    // Mostly a line off a recent revision, sometimes a branch off an older one.
                    let back = if kind < 80 {
                        1
                    } else {
                        1 + (a as usize % i.min(20))
                    };
                    p.push(i - back.min(i));
                    if kind >= 92 && i > 1 {
                        let other = b as usize % i;
                        if !p.contains(&other) {
                            p.push(other);
                        }
                    }
                }
                let mut dep = Vec::new();
                if i > 1 && dep_roll >= 90 {
                    let target = d as usize % i;
                    if !p.contains(&target) {
                        dep.push(target);
                    }
                }
                parents.push(p);
                deps.push(dep);
            }
            Dag { parents, deps }
        })
    })
}

fn ix_of(graph: &RevisionGraph, i: usize) -> alembic_engine::graph::Ix {
    graph.get(&id(i)).expect("id exists")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn upgrade_from_base_runs_exactly_the_requirements_in_dependency_order(dag in dag_strategy(), pick in any::<usize>()) {
        let graph = dag.graph();
        let target = pick % dag.parents.len();
        let steps = graph.upgrade_path(&Lower::Many(vec![]), &id(target)).unwrap();
        let ran: Vec<usize> = steps.iter().map(|s| graph.id(s.revision)).map(|r| {
            (0..dag.parents.len()).find(|&i| id(i) == r).unwrap()
        }).collect();
        prop_assert!(steps.iter().all(|s| s.direction == Direction::Up));
        prop_assert_eq!(ran.iter().copied().collect::<BTreeSet<_>>(), dag.requires(target));
        prop_assert_eq!(ran.len(), dag.requires(target).len(), "a revision ran twice");
        for (pos, &r) in ran.iter().enumerate() {
            for &need in dag.parents[r].iter().chain(&dag.deps[r]) {
                let at = ran.iter().position(|&x| x == need);
                prop_assert!(at.is_some_and(|a| a < pos), "{} ran before its requirement {}", id(r), id(need));
            }
        }
    }

    #[test]
    fn up_to_a_revision_then_down_to_base_returns_to_the_start(dag in dag_strategy(), pick in any::<usize>()) {
        let graph = dag.graph();
        let target = pick % dag.parents.len();
        let up = graph.upgrade_path(&Lower::Many(vec![]), &id(target)).unwrap();
        let mut applied: BTreeSet<usize> = BTreeSet::new();
        for s in &up {
            let r = (0..dag.parents.len()).find(|&i| id(i) == graph.id(s.revision)).unwrap();
            prop_assert!(applied.insert(r));
        }
        let rows = dag.version_rows(&applied);
        let down = graph.downgrade_path(&Lower::Many(rows), "base").unwrap();
        for (pos, s) in down.iter().enumerate() {
            let r = (0..dag.parents.len()).find(|&i| id(i) == graph.id(s.revision)).unwrap();
            prop_assert_eq!(s.direction, Direction::Down);
            // Nothing still applied may need r.
            for &other in &applied {
                if other != r {
                    prop_assert!(!dag.parents[other].contains(&r) && !dag.deps[other].contains(&r),
                        "step {} undid {} while {} still needs it", pos, id(r), id(other));
                }
            }
            prop_assert!(applied.remove(&r), "{} undone but not applied", id(r));
        }
        prop_assert!(applied.is_empty(), "left applied: {:?}", applied);
    }

    #[test]
    fn downgrade_to_a_revision_undoes_what_its_children_lead_to(dag in dag_strategy(), pick in any::<usize>()) {
        let graph = dag.graph();
        let n = dag.parents.len();
        let all: BTreeSet<usize> = (0..n).collect();
        let rows = dag.version_rows(&all);
        let target = pick % n;
        let children: Vec<usize> = (0..n).filter(|&c| dag.parents[c].contains(&target)).collect();
        let expected = dag.dependents(&children);
        match graph.downgrade_path(&Lower::Many(rows.clone()), &id(target)) {
            Ok(steps) => {
                let undone: BTreeSet<usize> = steps.iter().map(|s| {
                    (0..n).find(|&i| id(i) == graph.id(s.revision)).unwrap()
                }).collect();
                prop_assert_eq!(undone, expected);
            }
            // Alembic refuses a target that is a current head with nothing above it only when
            // nothing would be dropped and the target is not itself a current row.
            Err(e) => prop_assert!(expected.is_empty() && !rows.contains(&id(target)), "{}", e),
        }
        let _ = ix_of(&graph, target);
    }

    #[test]
    fn version_rows_follow_the_steps_up_and_back_down(dag in dag_strategy(), pick in any::<usize>()) {
        let graph = dag.graph();
        let n = dag.parents.len();
        let target = pick % n;
        let mut rows = std::collections::BTreeSet::new();
        let up = graph.upgrade_path(&Lower::Many(vec![]), &id(target)).unwrap();
        for step in &up {
            graph.version_changes(&mut rows, step).unwrap();
        }
        let applied = dag.requires(target);
        let needed: BTreeSet<usize> = applied.iter().flat_map(|&r| dag.parents[r].iter().chain(&dag.deps[r]).copied()).collect();
        let expected: std::collections::BTreeSet<String> = applied.difference(&needed).map(|&r| id(r)).collect();
        prop_assert_eq!(&rows, &expected);
        let down = graph.downgrade_path(&Lower::Many(rows.iter().cloned().collect()), "base").unwrap();
        for step in &down {
            graph.version_changes(&mut rows, step).unwrap();
        }
        prop_assert!(rows.is_empty(), "rows left after downgrading to base: {:?}", rows);
    }
}
