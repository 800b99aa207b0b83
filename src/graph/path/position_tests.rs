use super::Position;
use crate::graph::RevisionGraph;
use crate::script::Revision;

/// a ← b ← c, and b ← x (a second branch from b).
fn graph() -> RevisionGraph {
    RevisionGraph::build(vec![
        Revision::synthetic("a", &[], &[], &[]),
        Revision::synthetic("b", &["a"], &[], &[]),
        Revision::synthetic("c", &["b"], &[], &[]),
        Revision::synthetic("x", &["b"], &[], &[]),
    ])
    .unwrap()
}

fn ids(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn a_database_is_at_behind_ahead_of_or_beside_its_target() {
    let g = graph();
    assert_eq!(g.position(&ids(&["c"]), "c").unwrap(), Position::AtTarget);
    assert_eq!(g.position(&ids(&["a"]), "c").unwrap(), Position::Behind);
    assert_eq!(g.position(&[], "c").unwrap(), Position::Behind);
    assert_eq!(g.position(&ids(&["c"]), "b").unwrap(), Position::Ahead);
    assert_eq!(g.position(&ids(&["x"]), "c").unwrap(), Position::Diverged);
    // `heads` is both branches: one of them is behind.
    assert_eq!(g.position(&ids(&["c"]), "heads").unwrap(), Position::Behind);
    assert_eq!(
        g.position(&ids(&["c", "x"]), "heads").unwrap(),
        Position::AtTarget
    );
    assert_eq!(g.position(&[], "base").unwrap(), Position::AtTarget);
}
