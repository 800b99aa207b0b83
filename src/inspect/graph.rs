//! What the commands that need no database answer — `heads`, `branches`, `history`, `show`,
//! `path`, `sql` — rendered as text (as Alembic's commands print it) and as JSON.

use serde_json::json;

use super::{infos_of, revision_entry, revision_line, LineStyle, Rendered, RevisionInfo};
use crate::graph::{Direction, GraphError, RevisionGraph, Step};
use crate::plan::Plan;

/// Every mark and the message: `history`'s lines.
const FULL: LineStyle = LineStyle {
    parents: true,
    branches: true,
    doc: true,
    tree: true,
};

/// `heads`: the head revisions with their labels.
pub fn heads(graph: &RevisionGraph) -> Rendered {
    let style = LineStyle {
        branches: true,
        ..Default::default()
    };
    Rendered {
        json: json!({ "heads": infos_of(graph, graph.heads()) }),
        text: graph
            .heads()
            .iter()
            .map(|&h| revision_line(graph, h, style) + "\n")
            .collect(),
    }
}

/// `branches`: each branch point with the revisions that branch from it.
pub fn branches(graph: &RevisionGraph) -> Result<Rendered, GraphError> {
    let points: Vec<_> = graph
        .history("base", "heads")?
        .into_iter()
        .filter(|&ix| graph.is_branch_point(ix))
        .collect();
    let list: Vec<_> = points
        .iter()
        .map(|&ix| {
            let mut value = serde_json::to_value(RevisionInfo::new(graph, ix)).unwrap_or_default();
            let mut children: Vec<&str> = graph.children(ix).iter().map(|&c| graph.id(c)).collect();
            children.sort();
            value["children"] = json!(children);
            value
        })
        .collect();
    let style = LineStyle {
        branches: true,
        tree: true,
        ..Default::default()
    };
    let mut text = String::new();
    for ix in points {
        text += &(revision_line(graph, ix, style) + "\n");
        let pad = " ".repeat(graph.id(ix).len());
        for &child in graph.children(ix) {
            text += &format!("{pad} -> {}\n", revision_line(graph, child, style));
        }
        text += "\n";
    }
    Ok(Rendered {
        json: json!({ "branch_points": list }),
        text,
    })
}

/// `history` of the scripts alone: the revisions from `head` down to `base`.
pub fn history(graph: &RevisionGraph, (base, head): (&str, &str)) -> Result<Rendered, GraphError> {
    let revisions = graph.history(base, head)?;
    Ok(Rendered {
        json: json!({ "history": infos_of(graph, &revisions) }),
        text: revisions
            .iter()
            .map(|&r| revision_line(graph, r, FULL) + "\n")
            .collect(),
    })
}

/// `show`: every revision a spec names, described in full.
pub fn show(graph: &RevisionGraph, spec: &str) -> Result<Rendered, GraphError> {
    let revisions = graph.resolve(spec)?;
    let entries: Vec<String> = revisions
        .iter()
        .map(|&r| revision_entry(graph, r))
        .collect();
    Ok(Rendered {
        json: json!({ "revisions": infos_of(graph, &revisions) }),
        text: if entries.is_empty() {
            "Rev: base\n".into()
        } else {
            entries.join("\n")
        },
    })
}

/// `path`: the steps from the state `from` (whose version rows are `rows`) to `to`, as the
/// graph gave them, in the order they run; `down`: a downgrade was asked for, whatever the
/// steps are.
pub fn path(
    graph: &RevisionGraph,
    (from, rows): (&str, &[String]),
    to: &str,
    steps: &[Step],
    down: bool,
) -> Rendered {
    let direction = match (down, steps.first()) {
        (true, _) => Direction::Down,
        (false, Some(s)) => s.direction,
        (false, None) => Direction::Up,
    };
    let steps_json: Vec<_> = steps
        .iter()
        .map(|s| json!({ "revision": graph.id(s.revision), "direction": s.direction }))
        .collect();
    let json = json!({ "from": rows, "to": to, "direction": direction, "steps": steps_json });
    if steps.is_empty() {
        let text = format!("nothing to do: {from} is already at {to}\n");
        return Rendered { json, text };
    }
    let n = steps.len();
    let text = steps.iter().enumerate().map(|(i, s)| {
        let rev = graph.revision(s.revision);
        let down = if rev.down_revisions.is_empty() {
            "<base>".to_string()
        } else {
            rev.down_revisions.join(", ")
        };
        let (verb, a, b) = match s.direction {
            Direction::Up => ("upgrade  ", down.as_str(), rev.id.as_str()),
            Direction::Down => ("downgrade", rev.id.as_str(), down.as_str()),
        };
        let width = n.to_string().len();
        format!("{:>width$}/{n} {verb} {a} -> {b}, {}\n", i + 1, rev.doc())
    });
    Rendered {
        json,
        text: text.collect(),
    }
}

/// `sql`: an offline plan from the version rows `from` to `to`, for the dialect named `key`;
/// the text is the script itself.
pub fn script(key: &str, from: &[String], to: &str, plan: &Plan) -> Rendered {
    let text = plan.offline_sql();
    let steps: Vec<_> = plan
        .steps
        .iter()
        .map(|s| {
            json!({
                "revision": s.compiled.revision,
                "direction": s.compiled.direction,
                "message": s.message,
                "statements": s.compiled.statements().collect::<Vec<_>>(),
            })
        })
        .collect();
    Rendered {
        json: json!({ "dialect": key, "from": from, "to": to, "steps": steps, "script": text }),
        text,
    }
}
