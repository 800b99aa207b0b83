//! What the commands that read a live database answer — `current`, `status`, `check`,
//! `history` against a database — as data, and rendered as text and JSON. Reading the
//! database is the executor's; this only judges and renders what it read.

use serde_json::{json, Value};

use super::{infos, revision_line, LineStyle, Rendered, RevisionInfo};
use crate::exec::{Applied, RunState, Status};
use crate::graph::{GraphError, Ix, Lower, Position, RevisionGraph};
use crate::releases::SchemaReleases;

/// Version rows as one phrase: `base` for none, else the ids joined by commas.
pub fn at_text(rows: &[String]) -> String {
    if rows.is_empty() {
        "base".into()
    } else {
        rows.join(", ")
    }
}

/// A revision id with its labels, head mark and message (the id alone if the scripts do not
/// know it).
fn line_of(graph: &RevisionGraph, id: &str) -> String {
    let style = LineStyle {
        branches: true,
        doc: true,
        ..Default::default()
    };
    graph
        .get(id)
        .map_or_else(|| id.to_string(), |ix| revision_line(graph, ix, style))
}

/// Lines, each ended by a newline.
fn lines(lines: impl IntoIterator<Item = String>) -> String {
    lines.into_iter().map(|line| line + "\n").collect()
}

/// `current`: the version rows and the releases whose schema they are.
pub fn current(
    graph: &RevisionGraph,
    rows: &[String],
    releases: Option<SchemaReleases>,
) -> Rendered {
    let releases = releases.map(|r| r.to_string());
    let json = json!({ "current": infos(graph, rows), "releases": releases });
    let text = if rows.is_empty() {
        "(base: no revision recorded)\n".to_string()
    } else {
        let notes = releases.map(|note| format!("schema of: {note}"));
        lines(rows.iter().map(|r| line_of(graph, r)).chain(notes))
    };
    Rendered { json, text }
}

/// `status`: the version rows, their releases, the lock's holder and the last run.
pub fn status(
    graph: &RevisionGraph,
    status: &Status,
    releases: Option<SchemaReleases>,
) -> Rendered {
    let releases = releases.map(|r| r.to_string());
    let mut json = serde_json::to_value(status).unwrap_or_default();
    json["current"] = json!(infos(graph, &status.current));
    json["releases"] = json!(releases);
    let mut text = vec![format!("at: {}", at_text(&status.current))];
    text.extend(releases.map(|note| format!("schema of: {note}")));
    text.extend(
        status
            .lock_holder
            .as_ref()
            .map(|h| format!("an upgrade holds the lock now: {h}")),
    );
    match &status.last_run {
        None => text.push("no run recorded by mlflow-migrate".into()),
        Some(run) => text.extend(run_lines(run)),
    }
    Rendered {
        json,
        text: lines(text),
    }
}

/// The last run: what it did, how far it got, and how to go on.
fn run_lines(run: &crate::exec::RunReport) -> Vec<String> {
    let direction = if run.direction == "down" {
        "downgrade"
    } else {
        "upgrade"
    };
    let state = match run.state {
        RunState::Running => "running now",
        RunState::Completed => "completed",
        RunState::Failed => "failed",
        RunState::Stopped => "stopped on request",
        RunState::Interrupted => "interrupted",
    };
    let mut text = vec![format!(
        "last run {}: {direction} started {}, {state}",
        run.run_id, run.started_at
    )];
    if !run.planned.is_empty() {
        let remaining = run
            .remaining
            .first()
            .map(|next| format!(", {} remaining (next: {next})", run.remaining.len()));
        text.push(format!(
            "  revisions: {} of {} done{}",
            run.done.len(),
            run.planned.len(),
            remaining.unwrap_or_default()
        ));
    }
    let planned = match run.statements_planned {
        0 => String::new(),
        n => format!(" of {n}"),
    };
    let last = if run.last_revision.is_empty() {
        "-"
    } else {
        &run.last_revision
    };
    text.push(format!(
        "  statements: {}{planned} applied, last in {last}",
        run.statements
    ));
    let resume = format!("run `{direction}` again to resume from the last checkpoint");
    match run.state {
        RunState::Failed => text.push(format!(
            "  error: {}\n{resume}",
            run.error.as_deref().unwrap_or_default()
        )),
        RunState::Interrupted => text.push(format!("it was interrupted; {resume}")),
        RunState::Stopped => text.push(format!("it was stopped on request; {resume}")),
        RunState::Running | RunState::Completed => {}
    }
    text
}

/// Where a database stands against a target (`check`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub position: Position,
    /// The version rows.
    pub current: Vec<String>,
    /// The target as given, and the revisions it names.
    pub target: String,
    pub target_revisions: Vec<String>,
    /// Behind: the revisions an upgrade to the target applies, in order; else empty.
    pub pending: Vec<String>,
}

impl Check {
    /// Judge the version rows `current` against `target`.
    pub fn new(
        graph: &RevisionGraph,
        current: Vec<String>,
        target: &str,
    ) -> Result<Check, GraphError> {
        let position = graph.position(&current, target)?;
        let pending = match position {
            Position::Behind => graph
                .upgrade_path(&Lower::Many(current.clone()), target)?
                .iter()
                .map(|s| graph.id(s.revision).to_string())
                .collect(),
            _ => Vec::new(),
        };
        let target_revisions = graph
            .resolve(target)?
            .into_iter()
            .map(|ix| graph.id(ix).to_string());
        Ok(Check {
            position,
            target_revisions: target_revisions.collect(),
            current,
            target: target.to_string(),
            pending,
        })
    }

    /// The answer; `release`: the MLflow release whose head the target is, whose server's
    /// start is then judged first.
    pub fn rendered(&self, graph: &RevisionGraph, release: Option<&str>) -> Rendered {
        let json = json!({
            "mlflow_version": release,
            "position": self.position,
            "current": infos(graph, &self.current),
            "target": self.target,
            "target_revisions": self.target_revisions,
            "pending": infos(graph, &self.pending),
        });
        let (target, at, wanted) = (
            &self.target,
            at_text(&self.current),
            at_text(&self.target_revisions),
        );
        let server = release.map(|version| match self.position {
            Position::AtTarget => format!("a server of MLflow {version} starts on this database"),
            _ => format!("a server of MLflow {version} does not start on this database: it needs exactly {target}"),
        });
        let verdict = match self.position {
            Position::AtTarget => vec![format!("up to date at {at}")],
            Position::Behind => std::iter::once(format!(
                "behind: {} revision(s) to apply to reach {target}:",
                self.pending.len()
            ))
            .chain(self.pending.iter().map(|id| format!("  {}", line_of(graph, id))))
            .collect(),
            Position::Ahead => vec![format!("ahead: the database is at {at}, beyond {target} ({wanted}); a server of the target's release may not work with it")],
            Position::Diverged => vec![format!("on another branch: the database is at {at}, which is neither below nor above {target} ({wanted})")],
        };
        Rendered {
            json,
            text: lines(server.into_iter().chain(verdict)),
        }
    }
}

/// `history` against a database: each revision of `base:head`, newest first, marked current,
/// applied (when and by which run, where the journal saw it) or pending.
pub fn history(
    graph: &RevisionGraph,
    current: &[String],
    applied: &[Applied],
    (base, head): (&str, &str),
) -> Result<Rendered, GraphError> {
    let mut here = Vec::new();
    for id in current {
        here.extend(graph.resolve(id)?);
    }
    let present = graph.ancestors(&here, true);
    let state = |ix: Ix| match () {
        _ if current.iter().any(|c| c == graph.id(ix)) => "current",
        _ if present.contains(&ix) => "applied",
        _ => "pending",
    };
    let revisions = graph.history(base, head)?;
    let seen = |ix: Ix| applied.iter().find(|a| a.revision == graph.id(ix));
    let list: Vec<Value> = revisions
        .iter()
        .map(|&ix| {
            let mut value = serde_json::to_value(RevisionInfo::new(graph, ix)).unwrap_or_default();
            value["state"] = json!(state(ix));
            value["applied"] = json!(seen(ix).filter(|_| state(ix) != "pending"));
            value
        })
        .collect();
    let style = LineStyle {
        parents: true,
        branches: true,
        doc: true,
        tree: true,
    };
    let text = revisions.iter().map(|&ix| {
        let when = match (state(ix), seen(ix)) {
            ("pending", _) => String::new(),
            (_, Some(a)) => format!(
                " {} by run {} in {:.2} s",
                a.applied_at, a.run_id, a.seconds
            ),
            (_, None) => " (not by mlflow-migrate)".into(),
        };
        let state = match state(ix) {
            "current" => "current, applied",
            other => other,
        };
        format!("{} [{state}{when}]", revision_line(graph, ix, style))
    });
    Ok(Rendered {
        json: json!({ "current": current, "history": list }),
        text: lines(text),
    })
}
