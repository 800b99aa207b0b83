//! `alembic_engine`: what a recipe (`revisions/<project>/recipes/<revision>.py`) may use beyond
//! the original script, to replace a script's reads of rows with statements:
//!
//! - `replace_nested(qualname, function)`: the original script's `def` of that qualified name
//!   binds `function` instead (a helper that reads rows, replaced by one that does not);
//! - `UUID7`: an SQL expression giving a new UUID version 7 per row;
//! - `refuse_if_rows(name, query)`: statements that stop the run, before anything after them,
//!   when `query` returns a row: the premise of a recipe that cannot do in SQL what the
//!   script does in Python for such rows (unpickling, say), checked by the database itself;
//! - `answer(query, rows)`: the rows a read of `query` gives, for reads whose answer the recipe
//!   knows and states (a capability probe whose answer holds for every database the engine runs
//!   on), so the original script can run as it is;
//! - `empty_tables(check, *tables)`: a guard (as `refuse_if_rows`) that the tables hold no row,
//!   after which the script's queries reading only them give no row (until a statement of the
//!   revision adds rows to one): a data migration over rows that are not there does nothing;
//! - `offline_branch()`: a `with` block in which the script sees `context.is_offline_mode()`
//!   true. Many scripts convert rows in Python online and skip the conversion offline; on a
//!   database without such rows (checked first by `refuse_if_rows`) both branches leave the
//!   same database, and the offline one needs no reads.

use std::path::PathBuf;
use std::rc::Rc;

use super::Replacements;
use crate::compile::session::Shared;
use crate::interp::{Args, Ctx, Native, NativeFunction, Result, Value};
use crate::script::Revision;

pub(super) fn module(rev: Rc<Revision>, replacements: Replacements, session: Shared) -> Value {
    let dialect = session.dialect_name();
    let (guards, answers, offline, empty) =
        (session.clone(), session.clone(), session.clone(), session);
    Value::module(
        "alembic_engine",
        [
            ("UUID7".to_string(), Value::str(&uuid7_sql(&dialect))),
            (
                "replace_nested".to_string(),
                function("replace_nested", move |a, ctx| {
                    let name = string_arg(a, 0, "qualname", ctx)?;
                    let function = a.required(1, "function", ctx)?;
                    let path: PathBuf = rev.path.clone();
                    replacements.borrow_mut().insert((path, name), function);
                    Ok(Value::None)
                }),
            ),
            (
                "refuse_if_rows".to_string(),
                function("refuse_if_rows", move |a, ctx| {
                    let name = string_arg(a, 0, "name", ctx)?;
                    let query = string_arg(a, 1, "query", ctx)?;
                    emit_guard(&guards, "refuse_if_rows", &name, &query, ctx)?;
                    Ok(Value::None)
                }),
            ),
            (
                "offline_branch".to_string(),
                function("offline_branch", move |_, _| {
                    Ok(Value::native(OfflineBranch {
                        session: offline.clone(),
                        before: std::cell::Cell::new(false),
                    }))
                }),
            ),
            (
                "empty_tables".to_string(),
                function("empty_tables", move |a, ctx| {
                    let check = string_arg(a, 0, "check", ctx)?;
                    let mut tables = Vec::new();
                    for (i, t) in a.rest(1).into_iter().enumerate() {
                        match t.as_str() {
                            Some(t) if plain(t) => tables.push(t.to_string()),
                            _ => {
                                return Err(ctx.native_error(
                                    "empty_tables",
                                    format!("table {} must be a plain table name", i + 1),
                                ))
                            }
                        }
                    }
                    if tables.is_empty() {
                        return Err(ctx.native_error("empty_tables", "no table to check"));
                    }
                    let query = tables
                        .iter()
                        .map(|t| format!("SELECT 1 FROM {t}"))
                        .collect::<Vec<_>>()
                        .join(" UNION ALL ");
                    emit_guard(&empty, "empty_tables", &check, &query, ctx)?;
                    empty.0.borrow_mut().empty_tables.extend(tables);
                    Ok(Value::None)
                }),
            ),
            (
                "answer".to_string(),
                function("answer", move |a, ctx| {
                    let query = string_arg(a, 0, "query", ctx)?;
                    let rows = a.required(1, "rows", ctx)?;
                    let rows = ctx
                        .iterate(&rows)?
                        .into_iter()
                        .map(|row| ctx.iterate(&row).map(Value::tuple))
                        .collect::<Result<Vec<_>>>()?;
                    answers
                        .0
                        .borrow_mut()
                        .answers
                        .push((normalized(&query), rows));
                    Ok(Value::None)
                }),
            ),
        ],
    )
}

/// A plain SQL identifier: letters, digits, underscores.
fn plain(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The guard statements of check `check` over `query`, emitted in `session`.
fn emit_guard(
    session: &Shared,
    callee: &str,
    check: &str,
    query: &str,
    ctx: &mut Ctx,
) -> Result<()> {
    if !crate::recipes::is_check_name(check) {
        return Err(ctx.native_error(
            callee,
            format!("'{check}' must be a plain identifier of at most 63 characters"),
        ));
    }
    for sql in crate::recipes::guard_statements(check, query) {
        let statement = crate::ir::Statement::Sql { text: sql };
        session.emit(crate::ir::Op::Execute { statement }, ctx)?;
    }
    Ok(())
}

/// SQL text compared for `answer`: words separated by single spaces, no final semicolon.
pub(crate) fn normalized(sql: &str) -> String {
    sql.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .trim_end_matches(';')
        .trim_end()
        .to_string()
}

fn function(
    name: &'static str,
    body: impl Fn(&mut Args, &mut Ctx) -> Result<Value> + 'static,
) -> Value {
    Value::native(NativeFunction::new(
        format!("alembic_engine.{name}"),
        move |args, kwargs, ctx| {
            let mut a = Args::new(name, args, kwargs);
            let result = body(&mut a, ctx)?;
            a.finish(ctx)?;
            Ok(result)
        },
    ))
}

fn string_arg(a: &mut Args, index: usize, name: &str, ctx: &Ctx) -> Result<String> {
    let v = a.required(index, name, ctx)?;
    v.as_str()
        .map(str::to_string)
        .ok_or_else(|| ctx.native_error("alembic_engine", format!("`{name}` must be a string")))
}

/// `alembic_engine.offline_branch()`.
#[derive(Debug)]
struct OfflineBranch {
    session: Shared,
    before: std::cell::Cell<bool>,
}

impl Native for OfflineBranch {
    fn type_name(&self) -> &str {
        "alembic_engine.offline_branch"
    }

    fn enter(&self, _ctx: &mut Ctx) -> Result<Value> {
        let mut session = self.session.0.borrow_mut();
        self.before.set(session.offline);
        session.offline = true;
        Ok(Value::None)
    }

    fn exit(&self, _raised: Option<&crate::interp::Raised>, _ctx: &mut Ctx) -> Result<bool> {
        self.session.0.borrow_mut().offline = self.before.get();
        Ok(false)
    }
}

/// What a read answered by `answer` returns: the stated rows, as a `CursorResult` gives them.
#[derive(Debug)]
pub(crate) struct AnsweredRows(pub Vec<Value>);

impl Native for AnsweredRows {
    fn type_name(&self) -> &str {
        "CursorResult"
    }

    fn iter(&self, _ctx: &mut Ctx) -> Result<Vec<Value>> {
        Ok(self.0.clone())
    }

    fn getattr(&self, name: &str, ctx: &mut Ctx) -> Result<Value> {
        let rows = self.0.clone();
        let first = rows.first().cloned();
        let first_column = |ctx: &mut Ctx| -> Result<Value> {
            match &first {
                Some(row) => Ok(ctx.iterate(row)?.into_iter().next().unwrap_or(Value::None)),
                None => Ok(Value::None),
            }
        };
        let value = match name {
            "fetchall" | "all" => Value::list(rows),
            "fetchone" | "first" | "one_or_none" => first.clone().unwrap_or(Value::None),
            "scalar" | "scalar_one_or_none" => first_column(ctx)?,
            "one" | "scalar_one" => match rows.len() {
                1 => match name {
                    "one" => rows[0].clone(),
                    _ => first_column(ctx)?,
                },
                0 => {
                    return Err(ctx.raise("NoResultFound", "No row was found when one was required"))
                }
                _ => {
                    return Err(ctx.raise(
                        "MultipleResultsFound",
                        "Multiple rows were found when exactly one was required",
                    ))
                }
            },
            other => {
                return Err(
                    ctx.native_unsupported("CursorResult", format!("reading attribute `{other}`"))
                )
            }
        };
        Ok(Value::native(NativeFunction::new(
            format!("CursorResult.{name}"),
            move |args, kwargs, ctx| {
                Args::new("CursorResult", args, kwargs).finish(ctx)?;
                Ok(value.clone())
            },
        )))
    }
}

/// `alembic_engine.UUID7`: an SQL expression giving a new random UUID version 7 (RFC 9562: the
/// Unix time in milliseconds, then random bits) as 36 lowercase characters, evaluated afresh for
/// each row, in the spelling of `dialect`. Recipes use it where a script binds `uuid7()` made in
/// Python row by row.
fn uuid7_sql(dialect: &str) -> String {
    // Each part: (hex of the millisecond clock, 12 digits; `n` random hex digits; one of 8 9 a b).
    let (clock, random, variant): (&str, fn(usize) -> String, &str) = match dialect {
        "postgresql" => (
            "lpad(to_hex(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint), 12, '0')",
            |n| format!("substr(md5(random()::text), 1, {n})"),
            "substr('89ab', 1 + floor(random() * 4)::int, 1)",
        ),
        "mysql" => (
            "LPAD(LOWER(HEX(FLOOR(UNIX_TIMESTAMP(NOW(3)) * 1000))), 12, '0')",
            |n| format!("SUBSTR(MD5(RAND()), 1, {n})"),
            "SUBSTR('89ab', 1 + FLOOR(RAND() * 4), 1)",
        ),
        _ => (
            "printf('%012x', CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))",
            |n| format!("substr(lower(hex(randomblob(8))), 1, {n})"),
            "substr('89ab', 1 + abs(random() % 4), 1)",
        ),
    };
    let concat = |parts: &[String]| match dialect {
        "mysql" => format!("CONCAT({})", parts.join(", ")),
        _ => parts.join(" || "),
    };
    let clock_part = |from: usize, len: usize| match dialect {
        "mysql" => format!("SUBSTR({clock}, {from}, {len})"),
        _ => format!("substr({clock}, {from}, {len})"),
    };
    concat(&[
        clock_part(1, 8),
        "'-'".into(),
        clock_part(9, 4),
        "'-7'".into(),
        random(3),
        "'-'".into(),
        variant.into(),
        random(3),
        "'-'".into(),
        random(12),
    ])
}
