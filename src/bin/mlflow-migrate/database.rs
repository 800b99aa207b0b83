//! Commands that read or stamp a live database: `current`, `status`, `check`, `stamp`,
//! `journal prune`.

use std::time::Duration;

use serde_json::json;

use alembic_engine::db::DbUrl;
use alembic_engine::exec::{blocking, RunState};
use alembic_engine::graph::{Position, RevisionGraph};
use alembic_engine::inspect::{revision_line, LineStyle, RevisionInfo};
use alembic_engine::project::{Project, ScriptOrigin};
use alembic_engine::releases::Releases;

use crate::cli::Format;
use crate::{BoxError, Output, Verdict};

pub fn at_text(rows: &[String]) -> String {
    if rows.is_empty() {
        "base".into()
    } else {
        rows.join(", ")
    }
}

/// Revision objects for ids the scripts know (unknown ids were refused before).
fn infos(graph: &RevisionGraph, ids: &[String]) -> Vec<RevisionInfo> {
    ids.iter()
        .filter_map(|id| graph.get(id))
        .map(|ix| RevisionInfo::new(graph, ix))
        .collect()
}

fn line_of(graph: &RevisionGraph, id: &str) -> String {
    match graph.get(id) {
        Some(ix) => revision_line(
            graph,
            ix,
            LineStyle {
                branches: true,
                doc: true,
                ..Default::default()
            },
        ),
        None => id.to_string(),
    }
}

/// The head revision MLflow release `version` ships for this project: from `releases.toml`,
/// or, for a release newer than it whose wheel the project was read from, the graph's head.
pub fn release_head(
    project: &Project,
    graph: &RevisionGraph,
    version: &str,
) -> Result<String, BoxError> {
    let releases = Releases::builtin();
    let from_wheel = matches!(&project.origin,
        ScriptOrigin::Wheel { requested: Some(v), .. } if v == version);
    if from_wheel && releases.get(version).is_err() {
        return match graph.heads()[..] {
            [head] => Ok(graph.id(head).to_string()),
            _ => Err(format!("MLflow {version}'s scripts have more than one head").into()),
        };
    }
    match project.name.as_str() {
        "mlflow" => Ok(releases.head_of(version)?.to_string()),
        "mlflow-auth" => releases
            .auth_head_of(version)?
            .map(str::to_string)
            .ok_or_else(|| {
                format!("MLflow {version} has no auth database (it appears in 2.5.0)").into()
            }),
        other => Err(format!(
            "--mlflow-version names MLflow releases; the project here is '{other}'"
        )
        .into()),
    }
}

/// Whether `--mlflow-version version` needs that known release's own scripts: its head is not
/// among the revisions at hand.
pub fn scripts_lack_release(project: &Project, graph: &RevisionGraph, version: &str) -> bool {
    let releases = Releases::builtin();
    let head = match project.name.as_str() {
        "mlflow" => releases.head_of(version).map(Some),
        "mlflow-auth" => releases.auth_head_of(version),
        _ => return false,
    };
    matches!(head, Ok(Some(head)) if graph.get(head).is_none())
}

/// A release's wheel could not be opened: for a release `releases.toml` does not know, say
/// that first.
pub fn release_fetch_error(version: &str, err: BoxError) -> BoxError {
    let context = match Releases::builtin().get(version) {
        Ok(_) => format!("MLflow {version}'s scripts are needed"),
        Err(unknown) => format!(
            "{unknown}, and its wheel could not be read either (a release published after this build is fetched from the package index)"
        ),
    };
    Box::new(ReleaseScripts {
        context,
        source: err,
    })
}

/// Release X's scripts could not be opened; the cause is the source (so its hint is found).
#[derive(Debug, thiserror::Error)]
#[error("{context}")]
pub struct ReleaseScripts {
    context: String,
    #[source]
    source: BoxError,
}

/// The MLflow releases whose schema the version rows are (tracking project only):
/// "MLflow 2.8.0 – 2.12.2", or where the revision lies between releases.
fn releases_note(project: &Project, graph: &RevisionGraph, rows: &[String]) -> Option<String> {
    if project.name != "mlflow" {
        return None;
    }
    let releases = Releases::builtin();
    let [row] = rows else {
        return None;
    };
    let at = releases.releases_at(row);
    if !at.is_empty() {
        return Some(releases.range_text(&at));
    }
    let place = releases.place(graph, row).ok()?;
    let before = place
        .before
        .iter()
        .max_by_key(|r| &r.published)
        .map(|r| r.version.clone());
    let after = place
        .after
        .iter()
        .min_by_key(|r| &r.published)
        .map(|r| r.version.clone());
    Some(match (before, after) {
        (Some(b), Some(a)) => format!("no release's schema: after MLflow {b}, before MLflow {a}"),
        (None, Some(a)) => format!("no release's schema: before MLflow {a}"),
        (Some(b), None) => format!("no release's schema: after MLflow {b}"),
        (None, None) => "no known release".to_string(),
    })
}

pub fn current(
    project: &Project,
    graph: &RevisionGraph,
    url: &DbUrl,
    out: &mut Output,
) -> Result<(), BoxError> {
    let rows = blocking::current(url, project, graph)?;
    let releases = releases_note(project, graph, &rows);
    if out.format == Format::Json {
        out.json(json!({ "current": infos(graph, &rows), "releases": releases }));
    } else if rows.is_empty() {
        out.line("(base: no revision recorded)");
    } else {
        for r in &rows {
            out.line(line_of(graph, r));
        }
        if let Some(note) = releases {
            out.line(format!("schema of: {note}"));
        }
    }
    Ok(())
}

pub fn history(
    project: &Project,
    graph: &RevisionGraph,
    url: &DbUrl,
    base: &str,
    head: &str,
    out: &mut Output,
) -> Result<(), BoxError> {
    let (current, applied) = blocking::applied(url, project)?;
    let mut here = Vec::new();
    for id in &current {
        here.extend(graph.resolve(id)?);
    }
    let present = graph.ancestors(&here, true);
    let revs = graph.history(base, head)?;
    let mut list = Vec::new();
    for ix in revs {
        let id = graph.id(ix);
        let seen = applied.iter().find(|a| a.revision == id);
        let state = if current.iter().any(|c| c == id) {
            "current"
        } else if present.contains(&ix) {
            "applied"
        } else {
            "pending"
        };
        if out.format == Format::Json {
            let mut v = serde_json::to_value(RevisionInfo::new(graph, ix))?;
            v["state"] = json!(state);
            v["applied"] = json!(seen.filter(|_| state != "pending"));
            list.push(v);
            continue;
        }
        let when = match (state, seen) {
            ("pending", _) => String::new(),
            (_, Some(a)) => format!(
                " {} by run {} in {:.2} s",
                a.applied_at, a.run_id, a.seconds
            ),
            (_, None) => " (not by mlflow-migrate)".into(),
        };
        let state_text = if state == "current" {
            "current, applied"
        } else {
            state
        };
        let style = LineStyle {
            parents: true,
            branches: true,
            doc: true,
            tree: true,
        };
        out.line(format!(
            "{} [{state_text}{when}]",
            revision_line(graph, ix, style)
        ));
    }
    if out.format == Format::Json {
        out.json(json!({ "current": current, "history": list }));
    }
    Ok(())
}

pub fn status(
    project: &Project,
    graph: &RevisionGraph,
    url: &DbUrl,
    out: &mut Output,
) -> Result<(), BoxError> {
    let status = blocking::status(url, project)?;
    if out.format == Format::Json {
        let mut value = serde_json::to_value(&status)?;
        value["current"] = json!(infos(graph, &status.current));
        value["releases"] = json!(releases_note(project, graph, &status.current));
        out.json(value);
        return Ok(());
    }
    out.line(format!("at: {}", at_text(&status.current)));
    if let Some(note) = releases_note(project, graph, &status.current) {
        out.line(format!("schema of: {note}"));
    }
    if let Some(holder) = &status.lock_holder {
        out.line(format!("an upgrade holds the lock now: {holder}"));
    }
    let Some(run) = status.last_run else {
        out.line("no run recorded by mlflow-migrate");
        return Ok(());
    };
    let direction = match run.direction.as_str() {
        "down" => "downgrade",
        _ => "upgrade",
    };
    let state = match run.state {
        RunState::Running => "running now",
        RunState::Completed => "completed",
        RunState::Failed => "failed",
        RunState::Stopped => "stopped on request",
        RunState::Interrupted => "interrupted",
    };
    out.line(format!(
        "last run {}: {direction} started {}, {state}",
        run.run_id, run.started_at
    ));
    if !run.planned.is_empty() {
        out.line(format!(
            "  revisions: {} of {} done{}",
            run.done.len(),
            run.planned.len(),
            run.remaining
                .first()
                .map(|next| format!(", {} remaining (next: {next})", run.remaining.len()))
                .unwrap_or_default()
        ));
    }
    let planned = if run.statements_planned > 0 {
        format!(" of {}", run.statements_planned)
    } else {
        String::new()
    };
    out.line(format!(
        "  statements: {}{planned} applied, last in {}",
        run.statements,
        if run.last_revision.is_empty() {
            "-"
        } else {
            &run.last_revision
        }
    ));
    let resume = format!("run `{direction}` again to resume from the last checkpoint");
    match run.state {
        RunState::Failed => out.line(format!(
            "  error: {}\n{resume}",
            run.error.unwrap_or_default()
        )),
        RunState::Interrupted => out.line(format!("it was interrupted; {resume}")),
        RunState::Stopped => out.line(format!("it was stopped on request; {resume}")),
        RunState::Running | RunState::Completed => {}
    }
    Ok(())
}

pub fn check(
    project: &Project,
    graph: &RevisionGraph,
    url: &DbUrl,
    target: &str,
    release: Option<&str>,
    out: &mut Output,
) -> Result<(), BoxError> {
    let rows = blocking::current(url, project, graph)?;
    let position = graph.position(&rows, target)?;
    let pending = match position {
        Position::Behind => graph
            .upgrade_path(&alembic_engine::graph::Lower::Many(rows.clone()), target)?
            .iter()
            .map(|s| graph.id(s.revision).to_string())
            .collect(),
        _ => Vec::new(),
    };
    let target_ids: Vec<String> = graph
        .resolve(target)?
        .into_iter()
        .map(|ix| graph.id(ix).to_string())
        .collect();
    if let (Some(version), Format::Text) = (release, out.format) {
        out.line(if position == Position::AtTarget {
            format!("a server of MLflow {version} starts on this database")
        } else {
            format!(
                "a server of MLflow {version} does not start on this database: it needs exactly {target}"
            )
        });
    }
    if out.format == Format::Json {
        out.json(json!({
            "mlflow_version": release,
            "position": position,
            "current": infos(graph, &rows),
            "target": target,
            "target_revisions": target_ids,
            "pending": infos(graph, &pending),
        }));
    } else {
        match position {
            Position::AtTarget => out.line(format!("up to date at {}", at_text(&rows))),
            Position::Behind => {
                out.line(format!(
                    "behind: {} revision(s) to apply to reach {target}:",
                    pending.len()
                ));
                for id in &pending {
                    out.line(format!("  {}", line_of(graph, id)));
                }
            }
            Position::Ahead => out.line(format!(
                "ahead: the database is at {}, beyond {target} ({}); a server of the target's release may not work with it",
                at_text(&rows),
                at_text(&target_ids)
            )),
            Position::Diverged => out.line(format!(
                "on another branch: the database is at {}, which is neither below nor above {target} ({})",
                at_text(&rows),
                at_text(&target_ids)
            )),
        }
    }
    match position {
        Position::AtTarget => Ok(()),
        Position::Behind => Err(Box::new(Verdict(1))),
        Position::Ahead | Position::Diverged => Err(Box::new(Verdict(2))),
    }
}

pub fn stamp(
    project: &Project,
    graph: &RevisionGraph,
    url: &DbUrl,
    revisions: &[String],
    purge: bool,
    lock_timeout: u64,
    out: &mut Output,
) -> Result<(), BoxError> {
    if revisions.is_empty() {
        return Err("stamp needs at least one REVISION (or `base`)".into());
    }
    let rows = blocking::stamp(
        url,
        project,
        graph,
        revisions,
        purge,
        Duration::from_secs(lock_timeout),
    )?;
    if out.format == Format::Json {
        out.json(json!({ "stamped": infos(graph, &rows) }));
    } else {
        out.line(format!("stamped: {}", at_text(&rows)));
    }
    Ok(())
}

pub fn prune(
    project: &Project,
    url: &DbUrl,
    keep: usize,
    lock_timeout: u64,
    out: &mut Output,
) -> Result<(), BoxError> {
    let pruned = blocking::prune_journal(url, project, keep, Duration::from_secs(lock_timeout))?;
    if out.format == Format::Json {
        out.json(serde_json::to_value(pruned)?);
    } else {
        out.line(format!(
            "journal: removed {} run(s) ({} row(s)), kept {}",
            pruned.runs_removed, pruned.rows_removed, pruned.runs_kept
        ));
    }
    Ok(())
}
