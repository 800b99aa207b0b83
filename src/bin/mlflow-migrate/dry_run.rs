//! `plan`: what an upgrade would do, changing nothing — per revision its MLflow release, per
//! operation its kind, lock, rows, estimated time and rolling-upgrade verdict; totals last.

use alembic_engine::releases::Releases;
use alembic_engine::report::{Change, PlanReport};

use crate::cli::Format;
use crate::Output;

fn change_text(c: Change) -> &'static str {
    match c {
        Change::Additive => "additive",
        Change::Destructive => "destructive",
        Change::TableRewrite => "table rewrite",
        Change::DataMigration => "data migration",
    }
}

/// The release that introduced a revision: the first whose head descends from it.
pub fn introduced_in(
    graph: &alembic_engine::graph::RevisionGraph,
    project: &str,
    revision: &str,
) -> Option<String> {
    if project != "mlflow" {
        return None;
    }
    Releases::builtin()
        .releases_containing(graph, revision)
        .ok()?
        .first()
        .map(|r| r.version.clone())
}

pub fn print(
    report: &PlanReport,
    graph: &alembic_engine::graph::RevisionGraph,
    project: &str,
    out: &mut Output,
) {
    if out.format == Format::Json {
        let mut value = serde_json::to_value(report).unwrap_or_default();
        if let Some(revisions) = value["revisions"].as_array_mut() {
            for r in revisions {
                let id = r["revision"].as_str().unwrap_or_default().to_string();
                r["introduced_in"] = serde_json::json!(introduced_in(graph, project, &id));
            }
        }
        out.json(value);
        return;
    }
    if report.revisions.is_empty() {
        out.line(format!("nothing to do: {}", report.database));
        return;
    }
    for r in &report.revisions {
        let release = introduced_in(graph, project, &r.revision)
            .map(|v| format!(" (MLflow {v})"))
            .unwrap_or_default();
        out.line(format!(
            "{} {}{release}: {}, ~{:.1} s; old servers: {}",
            r.revision,
            r.message,
            match r.direction {
                alembic_engine::graph::Direction::Up => "upgrade",
                alembic_engine::graph::Direction::Down => "downgrade",
            },
            r.estimate_seconds,
            if r.verdict.keeps_old_servers {
                "keep working".to_string()
            } else {
                format!("break ({})", r.verdict.reason)
            }
        ));
        for op in &r.ops {
            let rows = op.rows.map(|n| format!(", {n} rows")).unwrap_or_default();
            out.line(format!(
                "  - {} [{}{rows}, ~{:.2} s]: locks {}{}",
                op.summary,
                change_text(op.change),
                op.estimate_seconds,
                op.lock,
                if op.blocks_writes { "; writes wait" } else { "" }
            ));
            for s in &op.statements {
                let one: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
                let short: String = one.chars().take(110).collect();
                out.line(format!(
                    "      {short}{}",
                    if one.chars().count() > 110 { "…" } else { "" }
                ));
            }
        }
    }
    out.line(format!(
        "total: {} revision(s), {} statement(s), ~{:.1} s; servers of the old release: {}",
        report.revisions.len(),
        report.statements,
        report.estimate_seconds,
        if report.verdict.keeps_old_servers {
            "keep working throughout".to_string()
        } else {
            format!("break ({})", report.verdict.reason)
        }
    ));
}
