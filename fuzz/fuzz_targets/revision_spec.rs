//! Any text as revision specs against one fixed graph: resolving, history and upgrade/downgrade
//! paths must return a value or an error, never panic or spin (specs come from the command line
//! and from the database's version table).
//!
//! Input: `FROM\nTO`; without a newline, `FROM:TO` (the `history -r` range form); otherwise the
//! whole input is FROM and TO is `heads`. FROM is also split on `,` to make a multi-revision
//! current state.
#![no_main]

use std::collections::HashSet;
use std::sync::OnceLock;

use alembic_engine::graph::{Lower, RevisionGraph, Step};
use alembic_engine::script::Revision;
use libfuzzer_sys::fuzz_target;

/// Two bases; a branch point with a labelled branch that merges back; a second line with its
/// own label and a cross-line dependency (one by label, one by id prefix); ids sharing the
/// prefixes `ae1`/`ae10`, an id that is a prefix of another (`c0ffee`), and a 3-character id
/// (too short to be matched as a prefix).
fn graph() -> &'static RevisionGraph {
    static GRAPH: OnceLock<RevisionGraph> = OnceLock::new();
    GRAPH.get_or_init(|| {
        let r = Revision::synthetic;
        let revisions = vec![
            r("a1b2c3d4e5f6", &[], &[], &[]),
            r("ae10aa01", &["a1b2c3d4e5f6"], &[], &[]),
            r("ae10bb02", &["ae10aa01"], &[], &[]),
            r("ae10cc03", &["ae10bb02"], &[], &[]),
            r("ae11dd04", &["ae10bb02"], &["lbl"], &[]),
            r("ae11ee05", &["ae11dd04"], &[], &[]),
            r("5f00ff06", &["ae10cc03", "ae11ee05"], &[], &[]),
            r("c0ffee", &["5f00ff06"], &[], &[]),
            r("c0ffee12", &["c0ffee"], &[], &[]),
            r("c0ffee34", &["c0ffee"], &[], &[]),
            r("b2000001", &[], &["other"], &[]),
            r("b2000002", &["b2000001"], &[], &["ae10cc03"]),
            r("b2000003", &["b2000002"], &[], &["lbl"]),
            r("abc", &["b2000003"], &[], &["c0ffee3"]),
        ];
        RevisionGraph::build(revisions).expect("the fixed fuzz graph is valid")
    })
}

/// A path never runs the same revision twice.
fn check_path(steps: &[Step]) {
    let mut seen = HashSet::new();
    for s in steps {
        assert!(
            seen.insert(s.revision),
            "revision repeated in a path: {steps:?}"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (from, to) = text
        .split_once('\n')
        .or_else(|| text.split_once(':'))
        .unwrap_or((text, "heads"));
    let g = graph();
    let many = Lower::Many(from.split(',').map(str::to_string).collect());

    let _ = g.resolve(from);
    let _ = g.resolve(to);
    let _ = g.history(from, to);
    if let Ok(steps) = g.upgrade_path(&many, to) {
        check_path(&steps);
    }
    if let Ok(steps) = g.downgrade_path(&many, to) {
        check_path(&steps);
    }
    if let Ok(steps) = g.upgrade_path(&Lower::One(from.to_string()), to) {
        check_path(&steps);
    }
    if let Ok(steps) = g.upgrade_path(&Lower::None, to) {
        check_path(&steps);
    }
});
