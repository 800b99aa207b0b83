//! `plan`: the dry run against a live database. The library decides what the run would do
//! (the same decisions `upgrade` takes under its lock) and classifies it; this prints it.

use serde_json::json;

use alembic_engine::db::DbUrl;
use alembic_engine::exec::{blocking, DryRun, Options};
use alembic_engine::graph::{Direction, RevisionGraph};
use alembic_engine::plan::Merge;
use alembic_engine::project::Project;
use alembic_engine::releases::Releases;
use alembic_engine::report::{Change, OpReport, PlanReport, RevisionPlan, Verdict};

use crate::cli::Format;
use crate::database::at_text;
use crate::{BoxError, Output};

/// What to plan.
pub struct Request {
    pub target: String,
    pub downgrade: bool,
    pub ignore_drift: bool,
    pub adopt_partial: bool,
    pub replay: bool,
}

/// The first MLflow release whose schema includes `revision` (tracking project only).
fn introduced_in(project: &Project, graph: &RevisionGraph, revision: &str) -> Option<String> {
    if project.name != "mlflow" {
        return None;
    }
    let releases = Releases::builtin()
        .releases_containing(graph, revision)
        .ok()?;
    releases.first().map(|r| r.version.clone())
}

fn change_name(change: Change) -> &'static str {
    match change {
        Change::Additive => "additive",
        Change::Destructive => "destructive",
        Change::TableRewrite => "table rewrite",
        Change::DataMigration => "data migration",
    }
}

fn verdict_text(v: &Verdict) -> String {
    let word = if v.keeps_old_servers {
        "keep working"
    } else {
        "break"
    };
    format!("old servers {word} ({})", v.reason)
}

fn seconds(s: f64) -> String {
    if s < 0.1 {
        "< 0.1 s".to_string()
    } else {
        format!("~{s:.1} s")
    }
}

fn op_line(op: &OpReport) -> String {
    let rows = op.rows.map(|n| format!(", {n} row(s)")).unwrap_or_default();
    let writes = if op.blocks_writes {
        ", writes wait"
    } else {
        ""
    };
    format!(
        "    {:<14} {} [{}{writes}{rows}] {}{}",
        change_name(op.change),
        op.summary,
        op.lock,
        seconds(op.estimate_seconds),
        if op.verdict.keeps_old_servers {
            String::new()
        } else {
            format!("; breaks old servers: {}", op.verdict.reason)
        }
    )
}

pub fn run(
    project: &Project,
    graph: &RevisionGraph,
    url: &DbUrl,
    request: Request,
    out: &mut Output,
) -> Result<(), BoxError> {
    let options = Options {
        target: request.target.clone(),
        direction: if request.downgrade {
            Direction::Down
        } else {
            Direction::Up
        },
        ignore_drift: request.ignore_drift,
        adopt_partial: request.adopt_partial,
        fresh: fresh(request.replay),
        ..Default::default()
    };
    let dry = blocking::dry_run(url, project, graph, &options)?;
    let database = url.to_string();
    let Some(report) = dry.report(&database) else {
        if out.format == Format::Json {
            out.json(json!({
                "database": database,
                "before": dry.before,
                "target": request.target,
                "revisions": [],
                "statements": 0,
                "estimate_seconds": 0.0,
                "verdict": {"keeps_old_servers": true, "reason": "nothing to do"},
            }));
        } else {
            out.line(format!(
                "nothing to do: {database} is at {}",
                at_text(&dry.before)
            ));
        }
        return Ok(());
    };
    let shown = Shown {
        project,
        graph,
        dry: &dry,
        report: &report,
        database: &database,
        target: &request.target,
    };
    if out.format == Format::Json {
        shown.json(out);
    } else {
        shown.text(out);
    }
    Ok(())
}

/// A dry run's report, for printing.
struct Shown<'a> {
    project: &'a Project,
    graph: &'a RevisionGraph,
    dry: &'a DryRun,
    report: &'a PlanReport,
    database: &'a str,
    target: &'a str,
}

impl Shown<'_> {
    /// The statements of revision `i`, as the run sends them.
    fn sql(&self, i: usize) -> Vec<String> {
        self.dry.statements.get(i).map_or_else(Vec::new, |u| {
            u.statements.iter().map(|s| s.sql.clone()).collect()
        })
    }

    /// What the optimiser merged in `revision`.
    fn merged(&self, revision: &str) -> Vec<Merge> {
        self.dry
            .optimised
            .iter()
            .filter(|o| o.revision == revision)
            .flat_map(|o| o.merges.iter().cloned())
            .collect()
    }

    fn total(&self) -> usize {
        self.dry.statements.iter().map(|u| u.statements.len()).sum()
    }

    fn json(&self, out: &mut Output) {
        let revisions: Vec<serde_json::Value> = self
            .report
            .revisions
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let mut value = serde_json::to_value(r).unwrap_or_default();
                value["release"] = json!(introduced_in(self.project, self.graph, &r.revision));
                value["sql"] = json!(self.sql(i));
                value["merged"] = json!(self.merged(&r.revision));
                value
            })
            .collect();
        out.json(json!({
            "database": self.database,
            "before": self.dry.before,
            "target": self.target,
            "revisions": revisions,
            "statements": self.total(),
            "estimate_seconds": self.report.estimate_seconds,
            "verdict": self.report.verdict,
            "direct_install": self.dry.plan.as_ref().and_then(|p| p.direct).map(|n| json!({"revisions": n})),
            "replay_reason": self.dry.not_direct.as_ref().map(|why| why.to_string()),
        }));
    }

    /// How an empty database is brought up: directly, or revision by revision and why.
    fn install_line(&self) -> Option<String> {
        if let Some(plan) = self.dry.plan.as_ref().filter(|p| p.direct.is_some()) {
            return Some(format!(
                "empty database: the schema at {} is created directly instead of replaying \
                 {} revision(s) (--replay runs them)",
                plan.last_revision().unwrap_or(self.target),
                self.revision_count()
            ));
        }
        let why = self.dry.not_direct.as_ref()?;
        Some(format!(
            "empty database: every revision runs, because {why}"
        ))
    }

    /// Revisions the plan applies (a direct install applies its whole path at once).
    fn revision_count(&self) -> usize {
        self.dry
            .plan
            .as_ref()
            .and_then(|p| p.direct)
            .unwrap_or(self.report.revisions.len())
    }

    fn text(&self, out: &mut Output) {
        let (report, total) = (self.report, self.total());
        out.line(format!(
            "plan for {}: {} -> {} ({} revision(s), {total} statement(s)); nothing is changed",
            self.database,
            at_text(&self.dry.before),
            self.target,
            self.revision_count(),
        ));
        if let Some(line) = self.install_line() {
            out.line(line);
        }
        for (i, r) in report.revisions.iter().enumerate() {
            self.revision_text(i, r, out);
        }
        out.line(String::new());
        out.line(format!(
            "total: {} revision(s), {total} statement(s), {}; {}",
            self.revision_count(),
            seconds(report.estimate_seconds),
            verdict_text(&report.verdict)
        ));
        if self.dry.server == alembic_engine::report::Server::Sqlite {
            out.line("SQLite: every statement holds the database's write lock while it runs");
        }
    }

    fn revision_text(&self, i: usize, r: &RevisionPlan, out: &mut Output) {
        // A direct install is journalled under its path's first revision; it installs the
        // last one's schema.
        let direct = self.dry.plan.as_ref().is_some_and(|p| p.direct.is_some());
        let last = self.dry.plan.as_ref().and_then(|p| p.last_revision());
        let (direction, revision) = match (direct, r.direction) {
            (true, _) => ("install", last.unwrap_or(&r.revision)),
            (false, Direction::Up) => ("upgrade", r.revision.as_str()),
            (false, Direction::Down) => ("downgrade", r.revision.as_str()),
        };
        let release = introduced_in(self.project, self.graph, revision)
            .map(|v| format!(" [MLflow {v}]"))
            .unwrap_or_default();
        out.line(String::new());
        out.line(format!(
            "{direction} {} {}{release}: {}; {}",
            revision,
            r.message,
            seconds(r.estimate_seconds),
            verdict_text(&r.verdict)
        ));
        for op in &r.ops {
            out.line(op_line(op));
        }
        for m in self.merged(&r.revision) {
            out.line(format!(
                "    merged: {} ALTER TABLE statements on {} into one (one rebuild)",
                m.statements, m.table
            ));
        }
        for statement in self.sql(i) {
            let text = statement.trim_end().trim_end_matches(';');
            out.line(format!("      {};", text.replace('\n', "\n      ")));
        }
    }
}

/// `--replay` as the library's choice for an empty database.
pub fn fresh(replay: bool) -> alembic_engine::plan::Fresh {
    if replay {
        alembic_engine::plan::Fresh::Replay
    } else {
        alembic_engine::plan::Fresh::Direct
    }
}
