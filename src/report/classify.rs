//! How each operation changes a table on each server: its kind, its lock, whether writes
//! wait, whether it moves the rows, and its rolling-upgrade verdict.

use super::types::{pg_coercible, widens};
use super::{Change, PathSoFar, Server, Verdict};
use crate::ir::{Constraint, Op};

/// How an operation changes a table on `server`: its lock, whether writes wait, and whether
/// it copies the rows.
pub(super) struct Cost {
    pub(super) lock: String,
    pub(super) blocks_writes: bool,
    pub(super) work: Work,
}

pub(super) enum Work {
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

pub(super) fn classify(
    op: &Op,
    server: Server,
    seen: &PathSoFar,
) -> (Change, String, Cost, Verdict) {
    let (change, summary, cost, verdict) = classify_alone(op, server, seen);
    (change, summary, cost, seen.refine(op, verdict))
}

/// An operation's classification by itself (a batch's inner operations in their context).
pub(super) fn classify_alone(
    op: &Op,
    server: Server,
    seen: &PathSoFar,
) -> (Change, String, Cost, Verdict) {
    match op {
        Op::CreateTable { table } => (
            Change::Additive,
            format!("create table {}", table.name),
            pick(
                server,
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
                server,
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
                server,
                exclusive_brief(),
                catalog("metadata lock on the table, briefly"),
                Work::None,
            ),
            Verdict::breaks(format!(
                "renames table {table}, which old servers use by that name"
            )),
        ),
        Op::AddColumn { table, column, .. } => add_column(table, column, server),
        Op::DropColumn { table, column } => (
            Change::Destructive,
            format!("drop column {table}.{column}"),
            pick(
                server,
                exclusive_brief(),
                catalog("none (ALGORITHM=INSTANT)"),
                Work::None,
            ),
            Verdict::breaks(format!(
                "drops {table}.{column}, which old servers read and write"
            )),
        ),
        Op::AlterColumn(a) => alter_column(a, server, seen),
        Op::CreateIndex { index } => create_index(index, server),
        Op::DropIndex { table, name } => (
            Change::Destructive,
            format!("drop index {name}"),
            pick(
                server,
                exclusive_brief(),
                catalog("none (INPLACE)"),
                Work::None,
            ),
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
                server,
                exclusive_brief(),
                catalog("metadata lock, briefly"),
                Work::None,
            ),
            Verdict::keeps(format!(
                "drops constraint {name}: old servers' writes still pass"
            )),
        ),
        Op::Execute { .. } | Op::BulkInsert { .. } => data_statement(op, server),
        Op::Batch(b) => batch(b, server, seen),
    }
}

fn create_index(index: &crate::ir::Index, server: Server) -> (Change, String, Cost, Verdict) {
    (
        Change::Additive,
        format!(
            "create {}index {} on {}",
            if index.unique { "unique " } else { "" },
            index.name,
            index.table
        ),
        pick(
            server,
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
    )
}

fn data_statement(op: &Op, server: Server) -> (Change, String, Cost, Verdict) {
    (
        Change::DataMigration,
        match op.table() {
            Some(t) => format!("data statement on {t}"),
            None => "SQL statement".to_string(),
        },
        pick(
            server,
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
    )
}

fn add_column(
    table: &str,
    column: &crate::ir::Column,
    server: Server,
) -> (Change, String, Cost, Verdict) {
    let required = !column.nullable && column.server_default.is_none() && column.computed.is_none();
    (
        Change::Additive,
        format!("add column {table}.{}", column.name),
        pick(
            server,
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

fn catalog(lock: &str) -> Cost {
    Cost {
        lock: lock.into(),
        blocks_writes: false,
        work: Work::None,
    }
}

fn exclusive_brief() -> Cost {
    catalog("ACCESS EXCLUSIVE on the table, briefly (catalog only)")
}

/// PostgreSQL's cost, MySQL's, or SQLite's (the database lock) with this work.
fn pick(server: Server, pg: Cost, my: Cost, work_sqlite: Work) -> Cost {
    match server {
        Server::Postgres => pg,
        Server::Mysql => my,
        Server::Sqlite => sqlite_cost(work_sqlite),
    }
}

/// How an `alter_column` changes its table: a rename, a type change, a new NOT NULL, or
/// else a catalog-only change of nullability, default or comment.
fn alter_column(
    a: &crate::ir::AlterColumn,
    server: Server,
    seen: &PathSoFar,
) -> (Change, String, Cost, Verdict) {
    let name = format!("{}.{}", a.table, a.column);
    if let Some(new) = &a.new_name {
        return rename_column(&name, new, server);
    }
    if let Some(ty) = &a.type_ {
        return change_type(a, ty, &name, server, seen);
    }
    if a.nullable == Some(false) && a.existing_nullable != Some(false) {
        return set_not_null(a, &name, server);
    }
    let cost = pick(
        server,
        exclusive_brief(),
        catalog("none (INSTANT or INPLACE)"),
        Work::None,
    );
    (
        Change::Additive,
        format!("alter column {name} (nullability, default or comment)"),
        cost,
        Verdict::keeps(format!("relaxes or restates {name}")),
    )
}

/// Renaming column `name` (`table.column`) to `new`: catalog only, but old servers lose it.
fn rename_column(name: &str, new: &str, server: Server) -> (Change, String, Cost, Verdict) {
    let cost = pick(
        server,
        exclusive_brief(),
        catalog("none (INPLACE rename)"),
        Work::None,
    );
    (
        Change::Destructive,
        format!("rename column {name} to {new}"),
        cost,
        Verdict::breaks(format!(
            "renames {name}, which old servers use by that name"
        )),
    )
}

/// Changing the type of column `name` to `ty`: a rewrite unless the type is binary-coercible
/// (PostgreSQL), and compatible only when it widens.
fn change_type(
    a: &crate::ir::AlterColumn,
    ty: &crate::ir::SqlType,
    name: &str,
    server: Server,
    seen: &PathSoFar,
) -> (Change, String, Cost, Verdict) {
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
    (change, format!("change the type of {name}"), cost, verdict)
}

/// Making column `name` NOT NULL: a scan or rebuild, compatible only with a default.
fn set_not_null(
    a: &crate::ir::AlterColumn,
    name: &str,
    server: Server,
) -> (Change, String, Cost, Verdict) {
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
    let verdict =
        if a.server_default.clone().flatten().is_some() || a.existing_server_default.is_some() {
            Verdict::keeps(format!("makes {name} NOT NULL, with a default"))
        } else {
            Verdict::breaks(format!(
                "makes {name} NOT NULL without a default: old servers may write NULL"
            ))
        };
    (
        Change::Destructive,
        format!("make {name} NOT NULL"),
        cost,
        verdict,
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
