//! The revision graph: a petgraph DAG of revisions with Alembic's semantics.
//!
//! `RevisionGraph` owns the graph and answers every question about it (heads, bases, branch
//! points, labels, the revision grammar, paths); nobody else walks petgraph. The rules follow
//! Alembic 1.20's revision map, including its quirks where they are observable (which revisions
//! a branch label reaches, which dependencies count as edges, the tie-breaking of the
//! topological sort by file load order), so that paths come out in the order Python Alembic
//! would run them.

mod error;
mod path;
mod range;
mod spec;
mod version;

use std::collections::{BTreeSet, HashMap, HashSet};

use petgraph::graph::{DiGraph, NodeIndex};

use crate::script::Revision;
pub use error::GraphError;
pub use path::{Direction, Position, Step};
pub use range::{history_range, script_range};
pub use spec::Lower;
pub use version::{apply_changes, VersionChange};

/// Index of a revision in load order (which is also Alembic's tie-breaking order).
pub type Ix = NodeIndex<u32>;

/// The petgraph graph under a `RevisionGraph`.
type Dag = DiGraph<Node, Edge>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Edge {
    /// `down_revision`: versioned parent to child.
    Down,
    /// `depends_on`: dependency to dependent.
    DependsOn,
}

#[derive(Debug, Clone)]
struct Node {
    rev: Revision,
    down: Vec<Ix>,
    /// `depends_on` resolved to revisions, in declared order.
    deps: Vec<Ix>,
    /// `deps` less those some versioned ancestor already depends on.
    norm_deps: Vec<Ix>,
    /// Children through `down_revision` only.
    next: Vec<Ix>,
    /// Children through `down_revision` or `depends_on`.
    all_next: Vec<Ix>,
    /// Effective branch labels: declared here or propagated.
    labels: BTreeSet<String>,
}

/// A validated revision DAG.
#[derive(Debug, Clone)]
pub struct RevisionGraph {
    g: Dag,
    by_id: HashMap<String, Ix>,
    /// Branch label to the revision that declares it, in declaration order.
    labels: Vec<(String, Ix)>,
    label_ix: HashMap<String, Ix>,
    heads: Vec<Ix>,
    real_heads: Vec<Ix>,
    bases: Vec<Ix>,
}

impl RevisionGraph {
    /// Build and validate the graph from revisions in load order.
    pub fn build(revisions: Vec<Revision>) -> Result<Self, GraphError> {
        let (mut g, by_id) = add_nodes(revisions)?;
        let labels = declared_labels(&g, &by_id)?;
        let label_ix: HashMap<String, Ix> = labels.iter().cloned().collect();
        add_edges(&mut g, &by_id, &label_ix)?;
        detect_cycle(&g)?;
        link_children(&mut g);

        let select = |keep: fn(&Node) -> bool| -> Vec<Ix> {
            g.node_indices().filter(|&i| keep(&g[i])).collect()
        };
        let heads = select(|n| n.next.is_empty());
        let real_heads = select(|n| n.all_next.is_empty());
        let bases = select(|n| n.down.is_empty());
        let mut graph = RevisionGraph {
            heads,
            real_heads,
            bases,
            g,
            by_id,
            labels,
            label_ix,
        };
        graph.normalize_depends_on();
        graph.propagate_labels();
        Ok(graph)
    }

    /// A dependency that a versioned ancestor already has is implied, and not an edge of its own.
    fn normalize_depends_on(&mut self) {
        let indices: Vec<Ix> = self.g.node_indices().collect();
        for ix in indices {
            if self.g[ix].deps.is_empty() {
                continue;
            }
            let mut keep = self.g[ix].deps.clone();
            for anc in self.ancestors(&[ix], false) {
                if anc != ix {
                    keep.retain(|d| !self.g[anc].deps.contains(d));
                }
            }
            self.g[ix].norm_deps = keep;
        }
    }

    /// Labels reach every versioned descendant. When those descendants form a single line,
    /// they also reach ancestors, walking down from the line's tip until a branch point or a
    /// merge point (Alembic walks down from the last descendant it visited; when the
    /// descendants branch, that walk always stops inside them).
    fn propagate_labels(&mut self) {
        let labeled: Vec<(Ix, Vec<String>)> = self
            .g
            .node_indices()
            .filter(|&i| !self.g[i].rev.branch_labels.is_empty())
            .map(|i| (i, self.g[i].rev.branch_labels.clone()))
            .collect();
        for (ix, labels) in labeled {
            let descendants = self.descendants(&[ix], false);
            for &d in &descendants {
                self.g[d].labels.extend(labels.iter().cloned());
            }
            if descendants.iter().any(|&d| self.g[d].next.len() > 1) {
                continue;
            }
            let mut tip = ix;
            while let Some(&child) = self.g[tip].next.first() {
                tip = child;
            }
            let mut node = Some(tip);
            while let Some(n) = node {
                if self.g[n].all_next.len() > 1 || self.g[n].down.len() > 1 {
                    break;
                }
                self.g[n].labels.extend(labels.iter().cloned());
                node = self.g[n].down.first().copied();
            }
        }
    }

    // ---- plain queries -------------------------------------------------------------------

    /// The steps from `current` to `target`, whichever way it lies: upward when that runs
    /// anything, else downward (with the downward error when neither way is a path).
    pub fn path_to(&self, current: &Lower, target: &str) -> Result<Vec<Step>, GraphError> {
        match self.upgrade_path(current, target) {
            Ok(up) if !up.is_empty() => Ok(up),
            up => match self.downgrade_path(current, target) {
                Ok(down) => Ok(down),
                Err(down_err) => up.map_err(|_| down_err),
            },
        }
    }

    pub fn len(&self) -> usize {
        self.g.node_count()
    }

    pub fn is_empty(&self) -> bool {
        self.g.node_count() == 0
    }

    pub fn revision(&self, ix: Ix) -> &Revision {
        &self.g[ix].rev
    }

    pub fn id(&self, ix: Ix) -> &str {
        &self.g[ix].rev.id
    }

    /// Look up an exact revision id.
    pub fn get(&self, id: &str) -> Option<Ix> {
        self.by_id.get(id).copied()
    }

    /// All revisions in load order.
    pub fn all(&self) -> impl Iterator<Item = Ix> + '_ {
        self.g.node_indices()
    }

    /// Heads through `down_revision` (what `alembic heads` lists), in load order.
    pub fn heads(&self) -> &[Ix] {
        &self.heads
    }

    /// Heads counting `depends_on` too: what `alembic_version` holds after `upgrade heads`.
    pub fn real_heads(&self) -> &[Ix] {
        &self.real_heads
    }

    pub fn bases(&self) -> &[Ix] {
        &self.bases
    }

    pub fn parents(&self, ix: Ix) -> &[Ix] {
        &self.g[ix].down
    }

    pub fn dependencies(&self, ix: Ix) -> &[Ix] {
        &self.g[ix].deps
    }

    pub fn children(&self, ix: Ix) -> &[Ix] {
        &self.g[ix].next
    }

    pub fn labels(&self, ix: Ix) -> &BTreeSet<String> {
        &self.g[ix].labels
    }

    pub fn is_head(&self, ix: Ix) -> bool {
        self.g[ix].next.is_empty()
    }

    pub fn is_branch_point(&self, ix: Ix) -> bool {
        self.g[ix].next.len() > 1
    }

    pub fn is_merge_point(&self, ix: Ix) -> bool {
        self.g[ix].down.len() > 1
    }

    /// Parents plus the dependencies that are edges of their own.
    fn normalized_down(&self, ix: Ix) -> impl Iterator<Item = Ix> + '_ {
        let node = &self.g[ix];
        let extra = node.norm_deps.iter().filter(|d| !node.down.contains(d));
        node.down.iter().chain(extra).copied()
    }

    /// Ancestors including the start revisions, through parents and (when asked)
    /// dependencies.
    pub fn ancestors(&self, start: &[Ix], include_dependencies: bool) -> HashSet<Ix> {
        self.walk_related(start, |ix, out| {
            if include_dependencies {
                out.extend(self.normalized_down(ix));
            } else {
                out.extend(self.g[ix].down.iter().copied());
            }
        })
    }

    /// Descendants including the start revisions, through children and (when asked)
    /// dependents.
    pub fn descendants(&self, start: &[Ix], include_dependencies: bool) -> HashSet<Ix> {
        self.walk_related(start, |ix, out| {
            let node = &self.g[ix];
            out.extend(if include_dependencies {
                node.all_next.iter().copied()
            } else {
                node.next.iter().copied()
            })
        })
    }

    fn walk_related(&self, start: &[Ix], step: impl Fn(Ix, &mut Vec<Ix>)) -> HashSet<Ix> {
        let mut seen = HashSet::new();
        let mut todo: Vec<Ix> = start.to_vec();
        let mut buf = Vec::new();
        while let Some(ix) = todo.pop() {
            if seen.insert(ix) {
                buf.clear();
                step(ix, &mut buf);
                todo.extend(buf.iter().copied().filter(|n| !seen.contains(n)));
            }
        }
        seen
    }
}

/// Adds one node per revision, in load order, and returns the graph with its id index;
/// rejects self-references and duplicate ids.
fn add_nodes(revisions: Vec<Revision>) -> Result<(Dag, HashMap<String, Ix>), GraphError> {
    let mut g: Dag = DiGraph::with_capacity(revisions.len(), revisions.len());
    let mut by_id = HashMap::with_capacity(revisions.len());
    for rev in revisions {
        if rev.down_revisions.contains(&rev.id) || rev.depends_on.contains(&rev.id) {
            return Err(GraphError::Cycle {
                cycle: vec![rev.id.clone(), rev.id.clone()],
            });
        }
        if let Some(&first) = by_id.get(&rev.id) {
            let first: &Node = &g[first];
            return Err(GraphError::DuplicateRevision {
                id: rev.id.clone(),
                first: first.rev.path.display().to_string(),
                second: rev.path.display().to_string(),
            });
        }
        let id = rev.id.clone();
        let ix = g.add_node(Node {
            labels: rev.branch_labels.iter().cloned().collect(),
            rev,
            down: Vec::new(),
            deps: Vec::new(),
            norm_deps: Vec::new(),
            next: Vec::new(),
            all_next: Vec::new(),
        });
        by_id.insert(id, ix);
    }
    Ok((g, by_id))
}

/// The declared branch labels with their revisions, in declaration order; a label may not
/// repeat or collide with a revision id.
fn declared_labels(g: &Dag, by_id: &HashMap<String, Ix>) -> Result<Vec<(String, Ix)>, GraphError> {
    let mut labels = Vec::new();
    let mut label_ix: HashMap<&str, Ix> = HashMap::new();
    for ix in g.node_indices() {
        for label in &g[ix].rev.branch_labels {
            let other = label_ix.get(label.as_str()).or_else(|| by_id.get(label));
            if let Some(&other) = other {
                return Err(GraphError::DuplicateBranchLabel {
                    label: label.clone(),
                    revision: g[ix].rev.id.clone(),
                    other: g[other].rev.id.clone(),
                });
            }
            label_ix.insert(label, ix);
            labels.push((label.clone(), ix));
        }
    }
    Ok(labels)
}

/// Resolves every revision's parents and dependencies, records them on its node and adds
/// the edges (a dependency that is also a parent gets no edge of its own).
fn add_edges(
    g: &mut Dag,
    by_id: &HashMap<String, Ix>,
    label_ix: &HashMap<String, Ix>,
) -> Result<(), GraphError> {
    let indices: Vec<Ix> = g.node_indices().collect();
    for ix in indices {
        let down = resolve_parents(&g[ix].rev, by_id)?;
        let deps = resolve_dependencies(ix, &g[ix].rev, by_id, label_ix)?;
        for &p in &down {
            g.add_edge(p, ix, Edge::Down);
        }
        for &p in &deps {
            if !down.contains(&p) {
                g.add_edge(p, ix, Edge::DependsOn);
            }
        }
        g[ix].down = down;
        g[ix].deps = deps;
    }
    Ok(())
}

/// The revision's `down_revision`s as nodes; each must name an exact revision id.
fn resolve_parents(rev: &Revision, by_id: &HashMap<String, Ix>) -> Result<Vec<Ix>, GraphError> {
    rev.down_revisions
        .iter()
        .map(|d| {
            by_id
                .get(d)
                .copied()
                .ok_or_else(|| GraphError::UnknownDownRevision {
                    revision: rev.id.clone(),
                    missing: d.clone(),
                    path: rev.path.display().to_string(),
                })
        })
        .collect()
}

/// The revision's `depends_on` as nodes, deduplicated in declared order; each names a
/// revision id, a branch label or a unique id prefix, and never the revision itself.
fn resolve_dependencies(
    ix: Ix,
    rev: &Revision,
    by_id: &HashMap<String, Ix>,
    label_ix: &HashMap<String, Ix>,
) -> Result<Vec<Ix>, GraphError> {
    let mut deps = Vec::new();
    for d in &rev.depends_on {
        let resolved = by_id
            .get(d)
            .or_else(|| label_ix.get(d))
            .copied()
            .or_else(|| unique_prefix(by_id, d));
        match resolved {
            Some(p) if p == ix => {
                return Err(GraphError::Cycle {
                    cycle: vec![rev.id.clone(), rev.id.clone()],
                })
            }
            Some(p) => {
                if !deps.contains(&p) {
                    deps.push(p)
                }
            }
            None => {
                return Err(GraphError::UnknownDependency {
                    revision: rev.id.clone(),
                    dependency: d.clone(),
                    path: rev.path.display().to_string(),
                })
            }
        }
    }
    Ok(deps)
}

/// Fills each node's children lists from its outgoing edges: `next` through `down_revision`
/// only, `all_next` through either kind, both sorted in load order.
fn link_children(g: &mut Dag) {
    use petgraph::visit::EdgeRef;
    let indices: Vec<Ix> = g.node_indices().collect();
    for ix in indices {
        let mut next = Vec::new();
        let mut all_next = Vec::new();
        for e in g.edges_directed(ix, petgraph::Direction::Outgoing) {
            let child = e.target();
            if !all_next.contains(&child) {
                all_next.push(child);
            }
            if *e.weight() == Edge::Down && !next.contains(&child) {
                next.push(child);
            }
        }
        // A dependency edge that duplicates a down edge is not added, but a child that
        // depends on us without naming us as parent still counts in `all_next`.
        next.sort();
        all_next.sort();
        g[ix].next = next;
        g[ix].all_next = all_next;
    }
}

fn unique_prefix(by_id: &HashMap<String, Ix>, prefix: &str) -> Option<Ix> {
    if prefix.len() < 4 {
        return None;
    }
    let mut found = by_id.iter().filter(|(id, _)| id.starts_with(prefix));
    match (found.next(), found.next()) {
        (Some((_, &ix)), None) => Some(ix),
        _ => None,
    }
}

/// A cycle through parents or dependencies, named revision by revision.
fn detect_cycle(g: &Dag) -> Result<(), GraphError> {
    let sccs = petgraph::algo::tarjan_scc(g);
    let Some(scc) = sccs.into_iter().find(|c| c.len() > 1) else {
        return Ok(());
    };
    // Walk inside the strongly connected component until a revision repeats.
    let members: HashSet<Ix> = scc.iter().copied().collect();
    let start = *scc.iter().min().expect("non-empty component");
    let mut path = vec![start];
    let mut at = start;
    loop {
        let next = g
            .neighbors_directed(at, petgraph::Direction::Outgoing)
            .filter(|n| members.contains(n))
            .min()
            .expect("a member of a cycle has a successor in it");
        if let Some(pos) = path.iter().position(|&p| p == next) {
            let mut cycle: Vec<String> = path[pos..].iter().map(|&i| g[i].rev.id.clone()).collect();
            cycle.push(g[next].rev.id.clone());
            return Err(GraphError::Cycle { cycle });
        }
        path.push(next);
        at = next;
    }
}
