//! Commands that need no database: the graph (`heads`, `branches`, `history`, `show`,
//! `path`) and the offline script (`sql`).

use alembic_engine::plan::{DbState, Mode};
use serde_json::json;

use alembic_engine::dialect::Database;
use alembic_engine::graph::{Direction, Lower, RevisionGraph, Step};
use alembic_engine::inspect::{revision_entry, revision_line, LineStyle, RevisionInfo};
use alembic_engine::project::Project;

use crate::cli::{Command, DialectArg, DirectionArg, Format};
use crate::{BoxError, Output};

pub fn run(
    command: &Command,
    project: &Project,
    graph: &RevisionGraph,
    out: &mut Output,
) -> Result<(), BoxError> {
    let info = |ix| RevisionInfo::new(graph, ix);
    let json = out.format == Format::Json;
    let infos = |ixs: &[_]| ixs.iter().map(|&ix| info(ix)).collect::<Vec<_>>();
    match command {
        Command::Heads => {
            let heads = graph.heads();
            if json {
                out.json(json!({ "heads": infos(heads) }));
            } else {
                let style = LineStyle {
                    branches: true,
                    ..Default::default()
                };
                for &h in heads {
                    out.line(revision_line(graph, h, style));
                }
            }
        }
        Command::Branches => branches(graph, out)?,
        Command::History { range, .. } => {
            let (base, head) = history_range(range.as_deref())?;
            let revs = graph.history(&base, &head)?;
            if json {
                out.json(json!({ "history": infos(&revs) }));
            } else {
                let style = LineStyle {
                    parents: true,
                    branches: true,
                    doc: true,
                    tree: true,
                };
                for r in revs {
                    out.line(revision_line(graph, r, style));
                }
            }
        }
        Command::Show { rev } => {
            let revs = graph.resolve(rev)?;
            if json {
                out.json(json!({ "revisions": infos(&revs) }));
            } else if revs.is_empty() {
                out.line("Rev: base");
            } else {
                for (i, r) in revs.into_iter().enumerate() {
                    if i > 0 {
                        out.line("");
                    }
                    out.raw(&revision_entry(graph, r));
                }
            }
        }
        Command::Sql { range, dialect } => sql(project, graph, range, *dialect, out)?,
        Command::Path {
            from,
            to,
            direction,
        } => path(graph, from, to, *direction, out)?,
        _ => unreachable!("dispatch sends only graph commands here"),
    }
    Ok(())
}

/// `branches`: each branch point with the revisions that branch from it.
fn branches(graph: &RevisionGraph, out: &mut Output) -> Result<(), BoxError> {
    let points: Vec<_> = graph
        .history("base", "heads")?
        .into_iter()
        .filter(|&ix| graph.is_branch_point(ix))
        .collect();
    if out.format == Format::Json {
        let list: Vec<_> = points
            .iter()
            .map(|&ix| {
                let mut v = serde_json::to_value(RevisionInfo::new(graph, ix)).unwrap_or_default();
                let mut children: Vec<&str> =
                    graph.children(ix).iter().map(|&c| graph.id(c)).collect();
                children.sort();
                v["children"] = json!(children);
                v
            })
            .collect();
        out.json(json!({ "branch_points": list }));
        return Ok(());
    }
    let style = LineStyle {
        branches: true,
        tree: true,
        ..Default::default()
    };
    for ix in points {
        out.line(revision_line(graph, ix, style));
        let pad = " ".repeat(graph.id(ix).len());
        for &child in graph.children(ix) {
            out.line(format!("{pad} -> {}", revision_line(graph, child, style)));
        }
        out.line("");
    }
    Ok(())
}

/// `[start]:[end]`, each side defaulting to `base` and `heads`.
pub fn history_range(range: Option<&str>) -> Result<(String, String), BoxError> {
    let Some(r) = range else {
        return Ok(("base".into(), "heads".into()));
    };
    let Some((b, h)) = r.trim().split_once(':') else {
        return Err(
            format!("history range '{r}' must be [start]:[end], [start]: or :[end]").into(),
        );
    };
    let or = |s: &str, d: &str| {
        if s.is_empty() {
            d.to_string()
        } else {
            s.to_string()
        }
    };
    Ok((or(b, "base"), or(h, "heads")))
}

fn sql(
    project: &Project,
    graph: &RevisionGraph,
    range: &str,
    dialect: DialectArg,
    out: &mut Output,
) -> Result<(), BoxError> {
    let (from, to) = match range.split_once(':') {
        Some((f, t)) => (if f.is_empty() { "base" } else { f }, t),
        None => ("base", range),
    };
    let database = match dialect {
        DialectArg::Sqlite => Database::Sqlite,
        DialectArg::Postgresql => Database::Postgresql,
        DialectArg::Mysql => Database::Mysql,
        DialectArg::Mariadb => Database::Mariadb,
    };
    let dialect_name = database.key();
    let dialect = database.dialect();
    let planner =
        alembic_engine::plan::Planner::for_project(project, graph, dialect, Mode::Offline)?;
    let current = current_state(graph, from)?;
    let rows = current_ids(&current);
    let steps = graph.path_to(&current, to)?;
    let plan = planner.plan_for(&DbState::on_paper(&rows), &steps)?.plan;
    let script = plan.offline_sql();
    if out.format == Format::Json {
        out.json(json!({
            "dialect": dialect_name,
            "from": rows,
            "to": to,
            "steps": plan.steps.iter().map(|s| json!({
                "revision": s.compiled.revision,
                "direction": s.compiled.direction,
                "message": s.message,
                "statements": s.compiled.statements().collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "script": script,
        }));
    } else {
        out.raw(&script);
    }
    Ok(())
}

fn path(
    graph: &RevisionGraph,
    from: &str,
    to: &str,
    direction: Option<DirectionArg>,
    out: &mut Output,
) -> Result<(), BoxError> {
    let current = current_state(graph, from)?;
    let steps: Vec<Step> = match direction {
        Some(DirectionArg::Up) => graph.upgrade_path(&current, to)?,
        Some(DirectionArg::Down) => graph.downgrade_path(&current, to)?,
        None => graph.path_to(&current, to)?,
    };
    let dir = match (direction, steps.first()) {
        (Some(DirectionArg::Down), _) => Direction::Down,
        (_, Some(s)) => s.direction,
        _ => Direction::Up,
    };
    if out.format == Format::Json {
        out.json(json!({
            "from": current_ids(&current),
            "to": to,
            "direction": dir,
            "steps": steps.iter().map(|s| json!({
                "revision": graph.id(s.revision),
                "direction": s.direction,
            })).collect::<Vec<_>>(),
        }));
    } else if steps.is_empty() {
        out.line(format!("nothing to do: {from} is already at {to}"));
    } else {
        let n = steps.len();
        for (i, s) in steps.iter().enumerate() {
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
            out.line(format!(
                "{:>width$}/{n} {verb} {a} -> {b}, {}",
                i + 1,
                rev.doc(),
                width = n.to_string().len()
            ));
        }
    }
    Ok(())
}

/// The revisions a database would hold: each comma-separated spec resolved to revision ids.
fn current_state(graph: &RevisionGraph, from: &str) -> Result<Lower, BoxError> {
    let mut ids = Vec::new();
    for spec in from.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        for ix in graph.resolve(spec)? {
            ids.push(graph.id(ix).to_string());
        }
    }
    Ok(Lower::Many(ids))
}

fn current_ids(lower: &Lower) -> Vec<String> {
    match lower {
        Lower::None => Vec::new(),
        Lower::One(s) => vec![s.clone()],
        Lower::Many(v) => v.clone(),
    }
}
