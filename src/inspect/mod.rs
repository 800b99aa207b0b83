//! Inspection output: revisions as Alembic's commands print them, and as stable JSON; and the
//! answers of the commands built on them (`graph` without a database, `database` against
//! one, `plan` for a dry run, `run` for an upgrade as it goes), each [`Rendered`] both ways. Rendering only: nothing here
//! reads a database, prints or names a command-line flag.

mod compile_report;
mod database;
mod graph;
mod plan;
mod run;

use serde::Serialize;

use crate::graph::{Ix, RevisionGraph};

pub use compile_report::{CompileReport, Outcome, RevisionOutcome};
pub use database::{at_text, current, history as database_history, status, Check};
pub use graph::{branches, heads, history, path, script, show};
pub use plan::PlanView;
pub use run::{event_line, revision_table};

/// A command's answer both ways: one JSON document, and the text (whole lines, each ended by
/// a newline) a person reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub json: serde_json::Value,
    pub text: String,
}

/// The revisions `ids` names that the scripts know (unknown ids are left out).
pub fn infos(graph: &RevisionGraph, ids: &[String]) -> Vec<RevisionInfo> {
    ids.iter()
        .filter_map(|id| graph.get(id))
        .map(|ix| RevisionInfo::new(graph, ix))
        .collect()
}

fn infos_of(graph: &RevisionGraph, revisions: &[Ix]) -> Vec<RevisionInfo> {
    revisions
        .iter()
        .map(|&ix| RevisionInfo::new(graph, ix))
        .collect()
}

/// One revision as the JSON output describes it (documented in the README).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RevisionInfo {
    pub revision: String,
    pub down_revisions: Vec<String>,
    pub depends_on: Vec<String>,
    /// Effective labels (declared here or propagated), sorted.
    pub branch_labels: Vec<String>,
    pub doc: String,
    pub is_head: bool,
    pub is_branch_point: bool,
    pub is_merge_point: bool,
    pub path: String,
}

impl RevisionInfo {
    pub fn new(graph: &RevisionGraph, ix: Ix) -> Self {
        let rev = graph.revision(ix);
        RevisionInfo {
            revision: rev.id.clone(),
            down_revisions: rev.down_revisions.clone(),
            depends_on: rev.depends_on.clone(),
            branch_labels: graph.labels(ix).iter().cloned().collect(),
            doc: rev.doc().to_string(),
            is_head: graph.is_head(ix),
            is_branch_point: graph.is_branch_point(ix),
            is_merge_point: graph.is_merge_point(ix),
            path: rev.path.display().to_string(),
        }
    }
}

fn down_text(graph: &RevisionGraph, ix: Ix) -> String {
    let rev = graph.revision(ix);
    if rev.down_revisions.is_empty() {
        "<base>".into()
    } else {
        rev.down_revisions.join(", ")
    }
}

/// What to include in a one-line rendering (Alembic's `cmd_format`).
#[derive(Debug, Clone, Copy, Default)]
pub struct LineStyle {
    pub parents: bool,
    pub branches: bool,
    pub doc: bool,
    pub tree: bool,
}

/// `[<down> -> ]<rev>[ (labels)][ (head)][ (branchpoint)][ (mergepoint)][, doc]`.
pub fn revision_line(graph: &RevisionGraph, ix: Ix, style: LineStyle) -> String {
    let rev = graph.revision(ix);
    let mut text = rev.id.clone();
    if style.parents {
        text = if rev.depends_on.is_empty() {
            format!("{} -> {}", down_text(graph, ix), text)
        } else {
            format!(
                "{} ({}) -> {}",
                down_text(graph, ix),
                rev.depends_on.join(", "),
                text
            )
        };
    }
    let labels = graph.labels(ix);
    if style.branches && !labels.is_empty() {
        text += &format!(
            " ({})",
            labels.iter().cloned().collect::<Vec<_>>().join(", ")
        );
    }
    let real_head = graph.real_heads().contains(&ix);
    if real_head {
        text += " (head)";
    } else if graph.is_head(ix) {
        text += " (effective head)";
    }
    if style.tree {
        if graph.is_branch_point(ix) {
            text += " (branchpoint)";
        }
        if graph.is_merge_point(ix) {
            text += " (mergepoint)";
        }
    }
    if style.doc {
        text += &format!(", {}", rev.doc());
    }
    text
}

/// The multi-line description `show` prints.
pub fn revision_entry(graph: &RevisionGraph, ix: Ix) -> String {
    let rev = graph.revision(ix);
    let mut out = format!(
        "Rev: {}{}{}{}\n",
        rev.id,
        if graph.is_head(ix) { " (head)" } else { "" },
        if graph.is_branch_point(ix) {
            " (branchpoint)"
        } else {
            ""
        },
        if graph.is_merge_point(ix) {
            " (mergepoint)"
        } else {
            ""
        },
    );
    let parent_kind = if graph.is_merge_point(ix) {
        "Merges"
    } else {
        "Parent"
    };
    out += &format!("{parent_kind}: {}\n", down_text(graph, ix));
    if !rev.depends_on.is_empty() {
        out += &format!("Also depends on: {}\n", rev.depends_on.join(", "));
    }
    if graph.is_branch_point(ix) {
        let children: Vec<&str> = graph.children(ix).iter().map(|&c| graph.id(c)).collect();
        out += &format!("Branches into: {}\n", children.join(", "));
    }
    let labels = graph.labels(ix);
    if !labels.is_empty() {
        out += &format!(
            "Branch names: {}\n",
            labels.iter().cloned().collect::<Vec<_>>().join(", ")
        );
    }
    out += &format!("Path: {}\n", rev.path.display());
    out += &format!("Sha256: {}\n\n", rev.sha256);
    for line in rev.longdoc.lines() {
        out += &format!("    {line}\n");
    }
    out
}
