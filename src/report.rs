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

use crate::ir::{Constraint, Op, SqlType};
use crate::plan::Plan;

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

/// How an operation changes a table on `server`: its lock, whether writes wait, and whether
/// it copies the rows.
struct Cost {
    lock: String,
    blocks_writes: bool,
    work: Work,
}

enum Work {
    /// Catalog only.
    None,
    Copy,
    Index,
    Data,
}

fn sqlite_cost(work: Work) -> Cost {
    Cost {
        lock: "the whole database (SQLite's write lock; readers continue in WAL mode)".into(),
        blocks_writes: true,
        work,
    }
}

/// The dialect name whose `with_variant` types apply on `server`.
fn dialect_name(server: Server) -> &'static str {
    match server {
        Server::Sqlite => "sqlite",
        Server::Postgres => "postgresql",
        Server::Mysql => "mysql",
    }
}

/// Whether a type change only widens (old values and old servers' values still fit), with
/// `with_variant` types resolved for `server`.
fn widens(from: Option<&SqlType>, to: &SqlType, server: Server) -> bool {
    use SqlType::*;
    let dialect = dialect_name(server);
    let from = from.map(|t| t.for_dialect(dialect));
    let to = to.for_dialect(dialect);
    // MySQL's text types by size: TEXT < MEDIUMTEXT < LONGTEXT (bytes 2^16, 2^24, 2^32).
    let mysql_text = |t: &SqlType| match t {
        Text { length: None } => Some(1),
        DialectSpecific { name, .. } if name.eq_ignore_ascii_case("MEDIUMTEXT") => Some(2),
        DialectSpecific { name, .. } if name.eq_ignore_ascii_case("LONGTEXT") => Some(3),
        _ => None,
    };
    match (from, to) {
        (Some(Varchar { length: a, .. }), Varchar { length: b, .. })
        | (Some(Varchar { length: a, .. }), Text { length: b }) => match (a, b) {
            (_, None) => true,
            (Some(a), Some(b)) => b >= a,
            (None, Some(_)) => false,
        },
        (Some(Text { .. }), Text { length: None }) => true,
        (Some(SmallInteger), Integer | BigInteger) | (Some(Integer), BigInteger) => true,
        // VARCHAR(n) holds at most 4n bytes in utf8mb4; every VARCHAR fits MEDIUMTEXT.
        (Some(Varchar { .. }), b) if mysql_text(b).is_some_and(|n| n >= 2) => true,
        (Some(a), b) if mysql_text(a).is_some() && mysql_text(b).is_some() => {
            mysql_text(b) >= mysql_text(a)
        }
        (Some(a), b) => a == b,
        (None, _) => false,
    }
}

/// Whether PostgreSQL changes the type without rewriting the table: binary coercible, or the
/// same type as PostgreSQL stores it (`FLOAT` and `FLOAT(53)` are both `double precision`;
/// `ALTER COLUMN … TYPE` to the type a column has rewrites nothing).
fn pg_coercible(from: Option<&SqlType>, to: &SqlType) -> bool {
    use SqlType::*;
    let from = from.map(|t| t.for_dialect("postgresql"));
    let to = to.for_dialect("postgresql");
    let stored = |t: &SqlType| match t {
        Float { precision, double } => {
            let double = *double || precision.is_none_or(|p| p > 24);
            Float {
                precision: None,
                double,
            }
        }
        Boolean { .. } => Boolean {
            create_constraint: false,
            name: None,
        },
        other => other.clone(),
    };
    if from.is_some_and(|f| stored(f) == stored(to)) {
        return true;
    }
    matches!(
        (from, to),
        (Some(Varchar { .. }), Varchar { .. } | Text { .. })
    ) && widens(from, to, Server::Postgres)
}

fn classify(op: &Op, server: Server, seen: &PathSoFar) -> (Change, String, Cost, Verdict) {
    let (change, summary, cost, verdict) = classify_alone(op, server, seen);
    (change, summary, cost, seen.refine(op, verdict))
}

/// An operation's classification by itself (a batch's inner operations in their context).
fn classify_alone(op: &Op, server: Server, seen: &PathSoFar) -> (Change, String, Cost, Verdict) {
    use Server::*;
    let catalog = |lock: &str| Cost {
        lock: lock.into(),
        blocks_writes: false,
        work: Work::None,
    };
    let exclusive_brief = || catalog("ACCESS EXCLUSIVE on the table, briefly (catalog only)");
    let pick = |pg: Cost, my: Cost, work_sqlite: Work| match server {
        Postgres => pg,
        Mysql => my,
        Sqlite => sqlite_cost(work_sqlite),
    };
    match op {
        Op::CreateTable { table } => (
            Change::Additive,
            format!("create table {}", table.name),
            pick(
                catalog("none on existing tables (a new table)"),
                catalog("none on existing tables (a new table)"),
                Work::None,
            ),
            Verdict::keeps(format!("new table {}", table.name)),
        ),
        Op::DropTable { table } => (
            Change::Destructive,
            format!("drop table {table}"),
            pick(
                exclusive_brief(),
                catalog("metadata lock on the table, briefly"),
                Work::None,
            ),
            Verdict::breaks(format!("drops table {table}, which old servers use")),
        ),
        Op::RenameTable { table, new_name } => (
            Change::Destructive,
            format!("rename table {table} to {new_name}"),
            pick(
                exclusive_brief(),
                catalog("metadata lock on the table, briefly"),
                Work::None,
            ),
            Verdict::breaks(format!(
                "renames table {table}, which old servers use by that name"
            )),
        ),
        Op::AddColumn { table, column, .. } => {
            let required =
                !column.nullable && column.server_default.is_none() && column.computed.is_none();
            (
                Change::Additive,
                format!("add column {table}.{}", column.name),
                pick(
                    exclusive_brief(),
                    catalog("none (ALGORITHM=INSTANT)"),
                    Work::None,
                ),
                if required {
                    Verdict::breaks(format!(
                        "adds {table}.{} NOT NULL without a default: old servers' inserts leave it out",
                        column.name
                    ))
                } else {
                    Verdict::keeps(format!(
                        "adds {table}.{}, nullable or defaulted",
                        column.name
                    ))
                },
            )
        }
        Op::DropColumn { table, column } => (
            Change::Destructive,
            format!("drop column {table}.{column}"),
            pick(
                exclusive_brief(),
                catalog("none (ALGORITHM=INSTANT)"),
                Work::None,
            ),
            Verdict::breaks(format!(
                "drops {table}.{column}, which old servers read and write"
            )),
        ),
        Op::AlterColumn(a) => alter_column(a, server, seen),
        Op::CreateIndex { index } => (
            Change::Additive,
            format!(
                "create {}index {} on {}",
                if index.unique { "unique " } else { "" },
                index.name,
                index.table
            ),
            pick(
                Cost {
                    lock: "SHARE on the table while the index builds (writes wait)".into(),
                    blocks_writes: true,
                    work: Work::Index,
                },
                Cost {
                    lock: "none (ALGORITHM=INPLACE, LOCK=NONE)".into(),
                    blocks_writes: false,
                    work: Work::Index,
                },
                Work::Index,
            ),
            if index.unique {
                Verdict::breaks(format!(
                    "new uniqueness on {}: old servers may write rows it refuses",
                    index.table
                ))
            } else {
                Verdict::keeps(format!("new index {}", index.name))
            },
        ),
        Op::DropIndex { table, name } => (
            Change::Destructive,
            format!("drop index {name}"),
            pick(exclusive_brief(), catalog("none (INPLACE)"), Work::None),
            Verdict::keeps(format!(
                "drops index {name}{}: queries still work",
                table
                    .as_ref()
                    .map(|t| format!(" on {t}"))
                    .unwrap_or_default()
            )),
        ),
        Op::AddConstraint { table, constraint } => add_constraint(table, constraint, server),
        Op::DropConstraint { table, name, .. } => (
            Change::Destructive,
            format!("drop constraint {name} on {table}"),
            pick(
                exclusive_brief(),
                catalog("metadata lock, briefly"),
                Work::None,
            ),
            Verdict::keeps(format!(
                "drops constraint {name}: old servers' writes still pass"
            )),
        ),
        Op::Execute { .. } | Op::BulkInsert { .. } => (
            Change::DataMigration,
            match op.table() {
                Some(t) => format!("data statement on {t}"),
                None => "SQL statement".to_string(),
            },
            pick(
                Cost {
                    lock: "row locks on the rows it changes".into(),
                    blocks_writes: false,
                    work: Work::Data,
                },
                Cost {
                    lock: "row locks on the rows it changes".into(),
                    blocks_writes: false,
                    work: Work::Data,
                },
                Work::Data,
            ),
            Verdict::keeps("changes rows, not the schema old servers use"),
        ),
        Op::Batch(b) => batch(b, server, seen),
    }
}

fn alter_column(
    a: &crate::ir::AlterColumn,
    server: Server,
    seen: &PathSoFar,
) -> (Change, String, Cost, Verdict) {
    let name = format!("{}.{}", a.table, a.column);
    if let Some(new) = &a.new_name {
        let cost = match server {
            Server::Postgres => Cost {
                lock: "ACCESS EXCLUSIVE on the table, briefly (catalog only)".into(),
                blocks_writes: false,
                work: Work::None,
            },
            Server::Mysql => Cost {
                lock: "none (INPLACE rename)".into(),
                blocks_writes: false,
                work: Work::None,
            },
            Server::Sqlite => sqlite_cost(Work::None),
        };
        return (
            Change::Destructive,
            format!("rename column {name} to {new}"),
            cost,
            Verdict::breaks(format!(
                "renames {name}, which old servers use by that name"
            )),
        );
    }
    if let Some(ty) = &a.type_ {
        let wider = widens(a.existing_type.as_ref(), ty, server);
        let cost = match server {
            Server::Postgres
                if pg_coercible(
                    a.existing_type
                        .as_ref()
                        .or(seen.type_before(&a.table, &a.column)),
                    ty,
                ) =>
            {
                Cost {
                    lock: "ACCESS EXCLUSIVE on the table, briefly (same or binary-coercible type, no rewrite)"
                        .into(),
                    blocks_writes: false,
                    work: Work::None,
                }
            }
            Server::Postgres => Cost {
                lock: "ACCESS EXCLUSIVE on the table while it is rewritten (reads and writes wait)"
                    .into(),
                blocks_writes: true,
                work: Work::Copy,
            },
            Server::Mysql => Cost {
                lock: "the table is copied (ALGORITHM=COPY): writes wait".into(),
                blocks_writes: true,
                work: Work::Copy,
            },
            Server::Sqlite => sqlite_cost(Work::Copy),
        };
        let change = if cost.blocks_writes {
            Change::TableRewrite
        } else if wider {
            Change::Additive
        } else {
            Change::Destructive
        };
        let verdict = if !wider {
            Verdict::breaks(format!(
                "changes the type of {name} to a narrower or other one"
            ))
        } else if cost.blocks_writes {
            Verdict::breaks(format!(
                "rewrites {} and blocks its writes meanwhile",
                a.table
            ))
        } else {
            Verdict::keeps(format!("widens {name}"))
        };
        return (change, format!("change the type of {name}"), cost, verdict);
    }
    if a.nullable == Some(false) && a.existing_nullable != Some(false) {
        let cost = match server {
            Server::Postgres => Cost {
                lock: "ACCESS EXCLUSIVE on the table while it is scanned".into(),
                blocks_writes: true,
                work: Work::Copy,
            },
            Server::Mysql => Cost {
                lock: "INPLACE with a table rebuild: writes wait briefly at the end".into(),
                blocks_writes: true,
                work: Work::Copy,
            },
            Server::Sqlite => sqlite_cost(Work::Copy),
        };
        let verdict = if a.server_default.clone().flatten().is_some()
            || a.existing_server_default.is_some()
        {
            Verdict::keeps(format!("makes {name} NOT NULL, with a default"))
        } else {
            Verdict::breaks(format!(
                "makes {name} NOT NULL without a default: old servers may write NULL"
            ))
        };
        return (
            Change::Destructive,
            format!("make {name} NOT NULL"),
            cost,
            verdict,
        );
    }
    let cost = match server {
        Server::Postgres => Cost {
            lock: "ACCESS EXCLUSIVE on the table, briefly (catalog only)".into(),
            blocks_writes: false,
            work: Work::None,
        },
        Server::Mysql => Cost {
            lock: "none (INSTANT or INPLACE)".into(),
            blocks_writes: false,
            work: Work::None,
        },
        Server::Sqlite => sqlite_cost(Work::None),
    };
    (
        Change::Additive,
        format!("alter column {name} (nullability, default or comment)"),
        cost,
        Verdict::keeps(format!("relaxes or restates {name}")),
    )
}

fn add_constraint(table: &str, c: &Constraint, server: Server) -> (Change, String, Cost, Verdict) {
    let scan = |pg: &str| match server {
        Server::Postgres => Cost {
            lock: pg.into(),
            blocks_writes: true,
            work: Work::Index,
        },
        Server::Mysql => Cost {
            lock: "the table is rebuilt (ALGORITHM=COPY with foreign key checks): writes wait"
                .into(),
            blocks_writes: true,
            work: Work::Copy,
        },
        Server::Sqlite => sqlite_cost(Work::Copy),
    };
    match c {
        Constraint::ForeignKey(fk) => (
            Change::Additive,
            format!("add foreign key on {table} to {}", fk.ref_table),
            scan("SHARE ROW EXCLUSIVE on both tables while existing rows are validated"),
            Verdict::keeps(format!(
                "a foreign key on {table}: old servers already write rows that satisfy it"
            )),
        ),
        Constraint::PrimaryKey { .. } => (
            Change::TableRewrite,
            format!("add primary key on {table}"),
            scan("ACCESS EXCLUSIVE on the table while the key's index builds"),
            Verdict::breaks(format!("new uniqueness on {table} (a primary key)")),
        ),
        Constraint::Unique { .. } => (
            Change::Additive,
            format!("add unique constraint on {table}"),
            scan("ACCESS EXCLUSIVE on the table while the index builds"),
            Verdict::breaks(format!(
                "new uniqueness on {table}: old servers may write rows it refuses"
            )),
        ),
        Constraint::Check { .. } => (
            Change::Additive,
            format!("add CHECK on {table}"),
            scan("ACCESS EXCLUSIVE on the table while existing rows are checked"),
            Verdict::breaks(format!(
                "a new CHECK on {table}: old servers may write rows it refuses"
            )),
        ),
    }
}

fn batch(
    b: &crate::ir::Batch,
    server: Server,
    seen: &PathSoFar,
) -> (Change, String, Cost, Verdict) {
    let mut inner: Vec<_> = b.ops.iter().map(|op| classify(op, server, seen)).collect();
    // A column dropped and added again in the same batch (MLflow does it to move a generated
    // column on SQLite) is still there afterwards: the re-added column's verdict applies.
    for (i, op) in b.ops.iter().enumerate() {
        if let Op::DropColumn { table, column } = op {
            let again = b.ops[i + 1..].iter().position(|later| {
                matches!(later, Op::AddColumn { table: t, column: c, .. }
                    if t == table && c.name == *column)
            });
            if let Some(j) = again {
                let added = inner[i + 1 + j].3.clone();
                inner[i].3 = if added.keeps_old_servers {
                    Verdict::keeps(format!(
                        "drops and re-adds {table}.{column} in one rebuild: {}",
                        added.reason
                    ))
                } else {
                    added
                };
            }
        }
    }
    let verdict = inner
        .iter()
        .map(|i| i.3.clone())
        .find(|v| !v.keeps_old_servers)
        .unwrap_or_else(|| {
            Verdict::keeps(format!(
                "batch changes to {} keep old servers working",
                b.table
            ))
        });
    let summaries = inner
        .iter()
        .map(|i| i.1.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    if server == Server::Sqlite {
        // Alembic's move and copy: a new table, the rows copied, the old one dropped.
        let verdict = if verdict.keeps_old_servers {
            Verdict::keeps(format!(
                "{}; the copy of {} holds SQLite's write lock meanwhile",
                verdict.reason, b.table
            ))
        } else {
            verdict
        };
        return (
            Change::TableRewrite,
            format!("rebuild {} ({summaries})", b.table),
            sqlite_cost(Work::Copy),
            verdict,
        );
    }
    let worst = inner
        .iter()
        .max_by_key(|i| (i.2.blocks_writes, matches!(i.2.work, Work::Copy)))
        .map(|i| Cost {
            lock: i.2.lock.clone(),
            blocks_writes: i.2.blocks_writes,
            work: match i.2.work {
                Work::Copy => Work::Copy,
                Work::Index => Work::Index,
                Work::Data => Work::Data,
                Work::None => Work::None,
            },
        })
        .unwrap_or(Cost {
            lock: "none".into(),
            blocks_writes: false,
            work: Work::None,
        });
    let change = inner
        .iter()
        .map(|i| i.0)
        .find(|c| *c != Change::Additive)
        .unwrap_or(Change::Additive);
    (
        change,
        format!("on {}: {summaries}", b.table),
        worst,
        verdict,
    )
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
                _ => copies(&emitted.statements),
            };
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
                statements: emitted.statements.clone(),
            });
        }
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

/// How many times an operation's statements move the table's rows: one per statement that
/// copies (`INSERT INTO … SELECT`, `ALTER TABLE`), at least one.
fn copies(statements: &[String]) -> f64 {
    let n = statements
        .iter()
        .filter(|s| {
            let u = s.trim_start().to_ascii_uppercase();
            u.starts_with("INSERT INTO")
                || u.starts_with("ALTER TABLE")
                || u.starts_with("UPDATE")
                || u.starts_with("CREATE INDEX")
                || u.starts_with("CREATE UNIQUE INDEX")
        })
        .count();
    n.max(1) as f64
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varchar(n: u32) -> SqlType {
        SqlType::Varchar {
            length: Some(n),
            collation: None,
        }
    }

    /// MLflow's 17e22815139b: `String(5000)` to `Text().with_variant(MEDIUMTEXT, "mysql")`.
    fn text_or_mediumtext() -> SqlType {
        SqlType::Variant {
            base: Box::new(SqlType::Text { length: None }),
            variants: vec![(
                "mysql".into(),
                SqlType::DialectSpecific {
                    dialect: "mysql".into(),
                    name: "MEDIUMTEXT".into(),
                },
            )],
        }
    }

    #[test]
    fn variants_are_judged_as_the_server_sees_them() {
        let to = text_or_mediumtext();
        for server in [Server::Sqlite, Server::Postgres, Server::Mysql] {
            assert!(widens(Some(&varchar(5000)), &to, server), "{server:?}");
        }
        assert!(pg_coercible(Some(&varchar(5000)), &to));
    }

    #[test]
    fn postgres_does_not_rewrite_for_the_type_a_column_already_has() {
        let float = |precision| SqlType::Float {
            precision,
            double: false,
        };
        let boolean = |create_constraint| SqlType::Boolean {
            create_constraint,
            name: None,
        };
        // MLflow's 181f10493468: Float to Float(precision=53), both double precision.
        assert!(pg_coercible(Some(&float(None)), &float(Some(53))));
        assert!(pg_coercible(Some(&boolean(false)), &boolean(true)));
        // real to double precision is a rewrite.
        assert!(!pg_coercible(Some(&float(Some(24))), &float(Some(53))));
        assert!(!pg_coercible(None, &float(Some(53))));
    }

    #[test]
    fn narrowing_is_still_narrowing() {
        assert!(!widens(Some(&varchar(500)), &varchar(250), Server::Sqlite));
        let mediumtext = SqlType::DialectSpecific {
            dialect: "mysql".into(),
            name: "MEDIUMTEXT".into(),
        };
        assert!(!widens(
            Some(&mediumtext),
            &SqlType::Text { length: None },
            Server::Mysql
        ));
        assert!(!widens(None, &varchar(10), Server::Postgres));
    }
}
