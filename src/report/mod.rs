//! The dry-run report of a plan (`plan URL`): per operation, what kind of change it is, what
//! it locks on this database and how, how many rows it touches, how long it should take, and
//! whether servers of the old release keep working while and after it runs (the
//! rolling-upgrade verdict). Pure: it reads a [`Plan`] and live row counts, nothing else.
//!
//! Lock facts are PostgreSQL's (11–17) and InnoDB's online DDL (MySQL 8, MariaDB 10.3+), as
//! their manuals state them; SQLite takes the database's write lock for any change. The
//! verdict follows what an old server does with the new schema: it reads and writes the
//! columns and tables it knows, so added tables, nullable or defaulted columns and indexes are
//! harmless; anything it uses that disappears, is renamed, becomes required, narrower or newly
//! constrained breaks it; a table rewrite that blocks writes stalls it for its duration.
//! Tables and columns the path itself creates are unknown to those servers, so later changes
//! to them on the same path keep them working. `tests/rolling_upgrade.rs` checks the verdicts
//! against MLflow 2.9.2's and 3.5.0's own stores.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::ir::{Op, SqlType};
use crate::plan::Plan;

mod classify;
mod types;

use classify::{classify, classify_alone, Work};

/// The kind of change an operation makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Adds objects and keeps every existing one.
    Additive,
    /// Drops, renames or narrows something that exists.
    Destructive,
    /// Rebuilds a table (copies its rows).
    TableRewrite,
    /// Changes rows, not the schema.
    DataMigration,
}

/// Whether servers of the release before the path keep working.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub keeps_old_servers: bool,
    pub reason: String,
}

impl Verdict {
    fn keeps(reason: impl Into<String>) -> Verdict {
        Verdict {
            keeps_old_servers: true,
            reason: reason.into(),
        }
    }

    fn breaks(reason: impl Into<String>) -> Verdict {
        Verdict {
            keeps_old_servers: false,
            reason: reason.into(),
        }
    }
}

/// One operation of a revision, as the report sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpReport {
    pub change: Change,
    /// What it does, in a few words.
    pub summary: String,
    pub table: Option<String>,
    /// What it locks and how, on this database.
    pub lock: String,
    /// Whether other sessions' writes to the table wait while it runs.
    pub blocks_writes: bool,
    /// Rows of the table it works on, from live statistics (None: not asked or unknown).
    pub rows: Option<u64>,
    /// Estimated seconds, from the rates the benches measure.
    pub estimate_seconds: f64,
    pub verdict: Verdict,
    pub statements: Vec<String>,
}

/// One revision of the plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RevisionPlan {
    pub revision: String,
    pub direction: crate::graph::Direction,
    pub message: String,
    pub ops: Vec<OpReport>,
    /// The revision's verdict: the first breaking operation's, else "keeps".
    pub verdict: Verdict,
    pub estimate_seconds: f64,
    /// The later revisions that run in this one's unit (statements merged across them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub joined: Vec<String>,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanReport {
    pub database: String,
    pub revisions: Vec<RevisionPlan>,
    pub statements: usize,
    pub estimate_seconds: f64,
    /// Whether the whole path keeps old servers working; the first reason it does not.
    pub verdict: Verdict,
}

/// Which database the report speaks of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    Sqlite,
    Postgres,
    /// MySQL 8 or MariaDB (InnoDB).
    Mysql,
}

/// Rows per second, measured by `benches/populated_upgrade.rs` on this project's 2-core
/// machine (1M metrics): copying a table, building an index, and a set-based data statement.
struct Rates {
    copy: f64,
    index: f64,
    data: f64,
    /// Fixed cost of any statement (catalog changes, round trips).
    statement: f64,
}

fn rates(server: Server) -> Rates {
    match server {
        // A move-and-copy rebuild of 1M metrics: ~3 s; latest metrics: ~1.1 s.
        Server::Sqlite => Rates {
            copy: 330_000.0,
            index: 1_000_000.0,
            data: 900_000.0,
            statement: 0.002,
        },
        // metric_pk over 1M rows: ~1.4 s; latest metrics: ~1.3 s.
        Server::Postgres => Rates {
            copy: 600_000.0,
            index: 700_000.0,
            data: 800_000.0,
            statement: 0.004,
        },
        // One ALTER TABLE metrics (a rebuild) over 1M rows: ~2.5 s; latest metrics: ~3.6 s.
        Server::Mysql => Rates {
            copy: 400_000.0,
            index: 600_000.0,
            data: 280_000.0,
            statement: 0.01,
        },
    }
}

/// Tables and columns the path itself has created so far: servers of the release before the
/// path never use them, so nothing done to them later on the path (drops, renames, new keys,
/// rewrites) affects those servers. MLflow 2.9.2's and 3.5.0's own stores against every later
/// revision show it (`tests/rolling_upgrade.rs`): spans, jobs, scorers, secrets and their
/// newer columns change, and servers that predate them never notice.
#[derive(Default)]
struct PathSoFar {
    tables: BTreeSet<String>,
    columns: BTreeSet<(String, String)>,
    /// The current operation's retyped columns, as the schema model had them before it.
    types_before: Vec<((String, String), SqlType)>,
}

impl PathSoFar {
    fn type_before(&self, table: &str, column: &str) -> Option<&SqlType> {
        self.types_before
            .iter()
            .find(|((t, c), _)| t == table && c == column)
            .map(|(_, ty)| ty)
    }

    fn new_table(&self, table: &str) -> bool {
        self.tables.contains(table)
    }

    fn new_column(&self, table: &str, column: &str) -> bool {
        self.new_table(table)
            || self
                .columns
                .contains(&(table.to_string(), column.to_string()))
    }

    /// `verdict`, unless what breaks is something the path created.
    fn refine(&self, op: &Op, verdict: Verdict) -> Verdict {
        if verdict.keeps_old_servers {
            return verdict;
        }
        let new = match op {
            Op::DropColumn { table, column } => self.new_column(table, column),
            Op::AlterColumn(a) => self.new_column(&a.table, &a.column),
            Op::Batch(_) => false, // its inner operations were refined one by one
            other => other.table().is_some_and(|t| self.new_table(t)),
        };
        if new {
            Verdict::keeps(format!(
                "created on this path, so servers of the old release do not use it (else: {})",
                verdict.reason
            ))
        } else {
            verdict
        }
    }

    fn record(&mut self, op: &Op) {
        match op {
            Op::CreateTable { table } => {
                self.tables.insert(table.name.clone());
            }
            Op::RenameTable { table, new_name } if self.new_table(table) => {
                self.tables.insert(new_name.clone());
            }
            Op::AddColumn { table, column, .. } => {
                self.columns.insert((table.clone(), column.name.clone()));
            }
            Op::AlterColumn(a) if self.new_column(&a.table, &a.column) => {
                if let Some(new) = &a.new_name {
                    self.columns.insert((a.table.clone(), new.clone()));
                }
            }
            Op::Batch(b) => {
                // A column dropped before it is added in the same batch existed already.
                let mut dropped = BTreeSet::new();
                for inner in &b.ops {
                    match inner {
                        Op::DropColumn { table, column } => {
                            dropped.insert((table.clone(), column.clone()));
                        }
                        Op::AddColumn { table, column, .. }
                            if dropped.contains(&(table.clone(), column.name.clone())) => {}
                        other => self.record(other),
                    }
                }
            }
            _ => {}
        }
    }
}

/// The report of `plan` on `server`, with `rows` the live row counts by table.
pub fn report(
    plan: &Plan,
    server: Server,
    database: &str,
    rows: &BTreeMap<String, u64>,
) -> PlanReport {
    let rates = rates(server);
    let mut revisions = Vec::new();
    let mut seen = PathSoFar::default();
    for step in &plan.steps {
        let mut ops = Vec::new();
        // Per operation: the rows' share of its estimate, and whether its statements were
        // merged into an earlier operation's.
        let mut row_costs: Vec<(f64, bool)> = Vec::new();
        for emitted in &step.compiled.emitted {
            seen.types_before = emitted.types_before.clone();
            let (change, summary, cost, verdict) = classify(&emitted.op, server, &seen);
            seen.record(&emitted.op);
            let table = emitted.op.table().map(str::to_string);
            let n = table.as_ref().and_then(|t| rows.get(t)).copied();
            let per_row = match cost.work {
                Work::None => 0.0,
                Work::Copy => 1.0 / rates.copy,
                Work::Index => 1.0 / rates.index,
                Work::Data => 1.0 / rates.data,
            };
            let passes = match &emitted.op {
                // PostgreSQL runs a batch's operations one by one: each moves, scans or
                // indexes the rows only when it does so alone.
                Op::Batch(b) if server == Server::Postgres => b
                    .ops
                    .iter()
                    .map(|inner| match classify_alone(inner, server, &seen).2.work {
                        Work::None => 0.0,
                        _ => 1.0,
                    })
                    .sum(),
                _ if server == Server::Postgres => 1.0,
                // Its statements were merged into an earlier operation's: that one rebuilds.
                _ if emitted.statements.is_empty() => 0.0,
                _ => copies(&emitted.statements),
            };
            let absorbed = emitted.statements.is_empty() && server == Server::Mysql;
            let row_cost = n.unwrap_or(0) as f64 * per_row * if absorbed { 1.0 } else { passes };
            row_costs.push((row_cost, absorbed));
            let estimate = emitted.statements.len() as f64 * rates.statement
                + n.unwrap_or(0) as f64 * per_row * passes;
            ops.push(OpReport {
                change,
                summary,
                table,
                lock: cost.lock,
                blocks_writes: cost.blocks_writes,
                rows: n,
                estimate_seconds: round(estimate),
                verdict,
                statements: emitted.statements.iter().map(|s| s.sql.clone()).collect(),
            });
        }
        charge_merged_work(&mut ops, &row_costs);
        let verdict = ops
            .iter()
            .map(|o| o.verdict.clone())
            .find(|v| !v.keeps_old_servers)
            .unwrap_or_else(|| Verdict::keeps("every change is additive"));
        revisions.push(RevisionPlan {
            revision: step.compiled.revision.clone(),
            direction: step.compiled.direction,
            message: step.message.clone(),
            estimate_seconds: round(ops.iter().map(|o| o.estimate_seconds).sum()),
            ops,
            verdict,
            joined: step.joined.clone(),
        });
    }
    let verdict = revisions
        .iter()
        .find(|r| !r.verdict.keeps_old_servers)
        .map(|r| Verdict::breaks(format!("{}: {}", r.revision, r.verdict.reason)))
        .unwrap_or_else(|| Verdict::keeps("every revision keeps old servers working"));
    PlanReport {
        database: database.to_string(),
        statements: plan.statement_count(),
        estimate_seconds: round(revisions.iter().map(|r| r.estimate_seconds).sum()),
        revisions,
        verdict,
    }
}

/// An operation whose statements were merged into an earlier one's on the same table (one
/// `ALTER TABLE` with several clauses, one rebuild) costs nothing itself; the statement that
/// holds it rebuilds the table once for the heaviest work merged into it.
fn charge_merged_work(ops: &mut [OpReport], row_costs: &[(f64, bool)]) {
    // The heaviest rows' cost charged to each operation so far.
    let mut charged: Vec<f64> = row_costs.iter().map(|c| c.0).collect();
    for i in 0..ops.len() {
        let (cost, absorbed) = row_costs[i];
        if !absorbed || cost == 0.0 {
            continue;
        }
        let holder = (0..i).rev().find(|&j| {
            !row_costs[j].1 && !ops[j].statements.is_empty() && ops[j].table == ops[i].table
        });
        if let Some(j) = holder {
            if cost > charged[j] {
                ops[j].estimate_seconds = round(ops[j].estimate_seconds + cost - charged[j]);
                charged[j] = cost;
            }
        }
    }
}

/// How many times an operation's statements move the table's rows: one per statement that
/// copies (`INSERT INTO … SELECT`, `ALTER TABLE`), at least one.
fn copies(statements: &[crate::plan::Statement]) -> f64 {
    let weights: Vec<f64> = statements
        .iter()
        .map(|s| {
            let u = s.sql.trim_start().to_ascii_uppercase();
            // Renaming a table moves no rows.
            let rename = u.starts_with("ALTER TABLE") && u.contains(" RENAME TO ");
            let passes = !rename
                && [
                    "INSERT INTO",
                    "ALTER TABLE",
                    "UPDATE",
                    "CREATE INDEX",
                    "CREATE UNIQUE INDEX",
                ]
                .iter()
                .any(|p| u.starts_with(p));
            match (passes, u.contains("\nORDER BY")) {
                (false, _) => 0.0,
                // A copy in the new key's order appends to its B-tree (SQLite's rebuilds,
                // `copy_order`): a quarter of an unordered copy, measured at 1M metrics.
                (true, true) => 0.25,
                (true, false) => 1.0,
            }
        })
        .filter(|w| *w > 0.0)
        .collect();
    if weights.is_empty() {
        1.0
    } else {
        weights.iter().sum()
    }
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
