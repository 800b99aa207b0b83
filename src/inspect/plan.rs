//! A dry run rendered: per revision its MLflow release, verdict and statements, per operation
//! its kind, lock, rows and estimate, and the totals. The executor decides what the run would
//! do and `report` classifies it; this only writes it down.

use serde_json::{json, Value};

use super::{at_text, Rendered};
use crate::exec::DryRun;
use crate::graph::{Direction, RevisionGraph};
use crate::plan::{Merge, MergeKind};
use crate::project::Project;
use crate::releases::Releases;
use crate::report::{Change, OpReport, PlanReport, RevisionPlan, Server, Verdict};

/// A dry run and what it is rendered against.
#[derive(Debug, Clone, Copy)]
pub struct PlanView<'a> {
    pub project: &'a Project,
    pub graph: &'a RevisionGraph,
    pub dry: &'a DryRun,
    /// The database as it is shown (its URL without the password).
    pub database: &'a str,
    /// The target as given.
    pub target: &'a str,
    /// Appended to the line that says an empty database is installed directly: how the
    /// caller asks for every revision to run instead (empty: nothing).
    pub replay_aside: &'a str,
}

impl PlanView<'_> {
    pub fn rendered(&self) -> Rendered {
        let Some(report) = self.dry.report(self.database) else {
            return self.nothing_to_do();
        };
        let shown = Shown {
            view: self,
            report: &report,
        };
        Rendered {
            json: shown.json(),
            text: shown.text(),
        }
    }

    fn nothing_to_do(&self) -> Rendered {
        Rendered {
            json: json!({
                "database": self.database,
                "before": self.dry.before,
                "target": self.target,
                "revisions": [],
                "statements": 0,
                "estimate_seconds": 0.0,
                "verdict": {"keeps_old_servers": true, "reason": "nothing to do"},
            }),
            text: format!(
                "nothing to do: {} is at {}\n",
                self.database,
                at_text(&self.dry.before)
            ),
        }
    }
}

/// A dry run with work to do, and its report.
struct Shown<'a> {
    view: &'a PlanView<'a>,
    report: &'a PlanReport,
}

impl Shown<'_> {
    /// The first MLflow release whose schema includes `revision` (tracking project only).
    fn release(&self, revision: &str) -> Option<String> {
        Releases::builtin().introducing(self.view.project, self.view.graph, revision)
    }

    /// The statements of revision `i`, as the run sends them.
    fn sql(&self, i: usize) -> Vec<String> {
        self.view.dry.statements.get(i).map_or_else(Vec::new, |u| {
            u.statements.iter().map(|s| s.sql.clone()).collect()
        })
    }

    /// What the optimiser merged in `revision`.
    fn merged(&self, revision: &str) -> Vec<Merge> {
        let optimised = self
            .view
            .dry
            .optimised
            .iter()
            .filter(|o| o.revision == revision);
        optimised.flat_map(|o| o.merges.iter().cloned()).collect()
    }

    fn total(&self) -> usize {
        self.view
            .dry
            .statements
            .iter()
            .map(|u| u.statements.len())
            .sum()
    }

    fn json(&self) -> Value {
        let dry = self.view.dry;
        let revisions: Vec<Value> = self
            .report
            .revisions
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let mut value = serde_json::to_value(r).unwrap_or_default();
                value["release"] = json!(self.release(&r.revision));
                value["sql"] = json!(self.sql(i));
                value["merged"] = json!(self.merged(&r.revision));
                value
            })
            .collect();
        json!({
            "database": self.view.database,
            "before": dry.before,
            "target": self.view.target,
            "revisions": revisions,
            "statements": self.total(),
            "estimate_seconds": self.report.estimate_seconds,
            "verdict": self.report.verdict,
            "direct_install": dry.plan.as_ref().and_then(|p| p.direct).map(|n| json!({"revisions": n})),
            "replay_reason": dry.not_direct.as_ref().map(|why| why.to_string()),
        })
    }

    /// How an empty database is brought up: directly, or revision by revision and why.
    fn install_line(&self) -> Option<String> {
        let dry = self.view.dry;
        if let Some(plan) = dry.plan.as_ref().filter(|p| p.direct.is_some()) {
            return Some(format!(
                "empty database: the schema at {} is created directly instead of replaying {} revision(s){}",
                plan.last_revision().unwrap_or(self.view.target),
                self.revision_count(),
                self.view.replay_aside,
            ));
        }
        let why = dry.not_direct.as_ref()?;
        Some(format!(
            "empty database: every revision runs, because {why}"
        ))
    }

    /// Revisions the plan applies (a direct install applies its whole path at once).
    fn revision_count(&self) -> usize {
        match &self.view.dry.plan {
            Some(plan) => plan.revision_count(),
            None => self.report.revisions.len(),
        }
    }

    fn text(&self) -> String {
        let (report, total) = (self.report, self.total());
        let mut text = format!(
            "plan for {}: {} -> {} ({} revision(s), {total} statement(s)); nothing is changed\n",
            self.view.database,
            at_text(&self.view.dry.before),
            self.view.target,
            self.revision_count(),
        );
        if let Some(line) = self.install_line() {
            text += &(line + "\n");
        }
        for (i, r) in report.revisions.iter().enumerate() {
            text += &self.revision_text(i, r);
        }
        text += &format!(
            "\ntotal: {} revision(s), {total} statement(s), {}; {}\n",
            self.revision_count(),
            seconds(report.estimate_seconds),
            verdict_text(&report.verdict)
        );
        if self.view.dry.server == Server::Sqlite {
            text += "SQLite: every statement holds the database's write lock while it runs\n";
        }
        text
    }

    fn revision_text(&self, i: usize, r: &RevisionPlan) -> String {
        // A direct install is journalled under its path's first revision; it installs the
        // last one's schema.
        let plan = self.view.dry.plan.as_ref();
        let direct = plan.is_some_and(|p| p.direct.is_some());
        let last = plan.and_then(|p| p.last_revision());
        let (direction, revision) = match (direct, r.direction) {
            (true, _) => ("install", last.unwrap_or(&r.revision)),
            (false, Direction::Up) => ("upgrade", r.revision.as_str()),
            (false, Direction::Down) => ("downgrade", r.revision.as_str()),
        };
        let release = self.release(revision).map(|v| format!(" [MLflow {v}]"));
        let mut text = format!(
            "\n{direction} {revision} {}{}: {}; {}\n",
            r.message,
            release.unwrap_or_default(),
            seconds(r.estimate_seconds),
            verdict_text(&r.verdict)
        );
        if !r.joined.is_empty() {
            text += &format!(
                "    runs as one unit with {} (statements merged across them; one checkpoint, the version row moved once)\n",
                r.joined.join(", ")
            );
        }
        for op in &r.ops {
            text += &(op_line(op) + "\n");
        }
        for m in self.merged(&r.revision) {
            text += &match m.kind {
                MergeKind::AlterTable => format!(
                    "    merged: {} ALTER TABLE statements on {} into one (one rebuild)\n",
                    m.statements, m.table
                ),
                MergeKind::BuiltThenDropped => format!(
                    "    left out: an index on {} built here and dropped later in the run, nothing using it between ({} statements)\n",
                    m.table, m.statements
                ),
                MergeKind::Rebuild => format!(
                    "    merged: {} rebuilds of {} into one (one copy of its rows, into the last one's shape)\n",
                    m.statements, m.table
                ),
            };
        }
        for statement in self.sql(i) {
            let statement = statement.trim_end().trim_end_matches(';');
            text += &format!("      {};\n", statement.replace('\n', "\n      "));
        }
        text
    }
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
    let breaks = if op.verdict.keeps_old_servers {
        String::new()
    } else {
        format!("; breaks old servers: {}", op.verdict.reason)
    };
    format!(
        "    {:<14} {} [{}{writes}{rows}] {}{breaks}",
        change_name(op.change),
        op.summary,
        op.lock,
        seconds(op.estimate_seconds),
    )
}

#[cfg(test)]
mod tests {
    use super::seconds;

    #[test]
    fn estimates_under_a_tenth_of_a_second_are_not_given_digits() {
        assert_eq!(seconds(0.04), "< 0.1 s");
        assert_eq!(seconds(2.34), "~2.3 s");
    }
}
