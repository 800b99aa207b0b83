//! Core statements: `update(t).where(...).values(...)`, `insert(t).values(...)`,
//! `delete(t).where(...)` become `ir::Statement`s; `select(...)` and `exists(...)` can be built
//! (scripts compose them) but reading rows is a data migration, refused when a statement is
//! asked of them.

use crate::interp::{Args, Ctx, Native, NativeFunction, Result, Value};
use crate::ir::{Literal, Statement};

use super::args::{dict_pairs, items, literal};
use super::column::ColumnObj;
use super::expr::{self, as_expr, coerce, Expr};
use super::lower;
use super::table::{TableObj, TableRef};

/// A data-changing statement under construction.
#[derive(Debug, Clone)]
pub(crate) enum Dml {
    Update {
        table: TableRef,
        filters: Vec<Expr>,
        values: Vec<(String, Expr)>,
    },
    Insert {
        table: TableRef,
        rows: Vec<Vec<(String, Expr)>>,
    },
    Delete {
        table: TableRef,
        filters: Vec<Expr>,
    },
}

#[derive(Debug)]
pub(crate) struct DmlObj(pub Dml);

/// A `select`/`exists`/`values` construct: its description, for the error that refuses it, and
/// the tables its rows come from when every one of them is known (`sa.select(t.c.a, u)`, with
/// `join`/`outerjoin`/`select_from` tables added; an expression that is not a column of a
/// table, such as an aggregate, makes them unknown).
#[derive(Debug)]
pub(crate) struct QueryObj(pub String, pub Option<Vec<String>>);

/// The tables of `args` (columns of tables, tables), or `None` when one is something else.
fn source_tables(args: &[Value]) -> Option<Vec<String>> {
    let mut tables = Vec::new();
    for a in args {
        let name = match (
            a.downcast_native::<super::column::ColumnObj>(),
            a.downcast_native::<TableObj>(),
        ) {
            (Some(c), _) => c.0.table_name()?,
            (_, Some(t)) => t.0.name.clone(),
            _ => return None,
        };
        if !tables.contains(&name) {
            tables.push(name);
        }
    }
    Some(tables)
}

impl QueryObj {
    /// The tables whose rows this query reads, when they are known.
    pub(crate) fn tables(&self) -> Option<&[String]> {
        self.1.as_deref().filter(|t| !t.is_empty())
    }
}

const DATA_MIGRATION: &str = "a data migration: it needs a recipe";

/// The expression a query stands for inside another expression (`col.in_(select(...))`).
pub(crate) fn query_expr(v: &Value) -> Option<Expr> {
    v.downcast_native::<QueryObj>()
        .map(|q| Expr::Query(q.0.clone()))
}

fn table_arg(v: &Value, callee: &str, ctx: &Ctx) -> Result<TableRef> {
    v.downcast_native::<TableObj>()
        .map(|t| t.0.clone())
        .ok_or_else(|| ctx.native_error(callee, format!("expected a table, got {}", v.type_name())))
}

/// `sa.update(t)`, `sa.insert(t)`, `sa.delete(t)`.
pub(crate) fn module_function(kind: &'static str) -> Value {
    Value::native(NativeFunction::new(
        format!("sqlalchemy.{kind}"),
        move |mut args, kwargs, ctx| {
            let callee = format!("sqlalchemy.{kind}");
            if args.is_empty() {
                return Err(ctx.native_error(&callee, "missing the table"));
            }
            let table = table_arg(&args.remove(0), &callee, ctx)?;
            from_table(kind, &table, args, kwargs, ctx)
        },
    ))
}

/// `table.update()`, `table.insert()`, `table.delete()`, `table.select()`.
pub(crate) fn from_table(
    kind: &str,
    table: &TableRef,
    args: Vec<Value>,
    kwargs: Vec<(String, Value)>,
    ctx: &mut Ctx,
) -> Result<Value> {
    let callee = format!("{}.{kind}", table.name);
    if kind == "select" {
        return Ok(Value::native(QueryObj(
            format!("select from {}", table.name),
            Some(vec![table.name.clone()]),
        )));
    }
    Args::new(callee, args, kwargs).finish(ctx)?;
    let dml = match kind {
        "update" => Dml::Update {
            table: table.clone(),
            filters: Vec::new(),
            values: Vec::new(),
        },
        "insert" => Dml::Insert {
            table: table.clone(),
            rows: Vec::new(),
        },
        _ => Dml::Delete {
            table: table.clone(),
            filters: Vec::new(),
        },
    };
    Ok(Value::native(DmlObj(dml)))
}

impl Dml {
    fn table(&self) -> &TableRef {
        match self {
            Dml::Update { table, .. } | Dml::Insert { table, .. } | Dml::Delete { table, .. } => {
                table
            }
        }
    }
}

/// A column of the statement's table named by key or given as an object, as its name.
fn column_name(table: &TableRef, key: &Value, callee: &str, ctx: &Ctx) -> Result<String> {
    if let Some(c) = key.downcast_native::<ColumnObj>() {
        return c.0.resolved_name(ctx);
    }
    let Some(k) = key.as_str() else {
        return Err(ctx.native_error(
            callee,
            format!(
                "a column key must be a string or a column, got {}",
                key.type_name()
            ),
        ));
    };
    match table.column_by_key(k) {
        Some(c) => c.resolved_name(ctx),
        None if table.columns.borrow().is_empty() => Ok(k.to_string()),
        None => Err(super::args::sa_exception(
            ctx,
            "CompileError",
            format!("Unconsumed column names: {k}"),
        )),
    }
}

/// The `column=value` pairs of `.values(...)`: keywords, or one dict.
fn value_pairs(
    table: &TableRef,
    args: &[Value],
    kwargs: &[(String, Value)],
    callee: &str,
    ctx: &mut Ctx,
) -> Result<Vec<(String, Expr)>> {
    let mut raw: Vec<(Value, Value)> = kwargs
        .iter()
        .map(|(k, v)| (Value::str(k), v.clone()))
        .collect();
    match args {
        [] => {}
        [d @ Value::Dict(_)] => raw.extend(dict_pairs(d, callee, "values", ctx)?),
        _ => return Err(ctx.native_unsupported(callee, "positional values other than one dict")),
    }
    let mut out = Vec::new();
    for (k, v) in raw {
        out.push((
            column_name(table, &k, callee, ctx)?,
            coerce(&v, callee, ctx)?,
        ));
    }
    Ok(out)
}

impl Native for DmlObj {
    fn type_name(&self) -> &str {
        match self.0 {
            Dml::Update { .. } => "sqlalchemy.Update",
            Dml::Insert { .. } => "sqlalchemy.Insert",
            Dml::Delete { .. } => "sqlalchemy.Delete",
        }
    }

    fn getattr(&self, name: &str, ctx: &mut Ctx) -> Result<Value> {
        let dml = self.0.clone();
        let callee = format!(
            "{}.{name}",
            self.type_name().trim_start_matches("sqlalchemy.")
        );
        let f = match (name, &dml) {
            ("where" | "filter", Dml::Update { .. } | Dml::Delete { .. }) => {
                NativeFunction::new(callee.clone(), move |args, kwargs, ctx| {
                    Args::new(callee.clone(), Vec::new(), kwargs).finish(ctx)?;
                    let new: Vec<Expr> = args
                        .iter()
                        .map(|v| coerce(v, &callee, ctx))
                        .collect::<Result<_>>()?;
                    let mut d = dml.clone();
                    match &mut d {
                        Dml::Update { filters, .. } | Dml::Delete { filters, .. } => {
                            filters.extend(new)
                        }
                        Dml::Insert { .. } => unreachable!(),
                    }
                    Ok(Value::native(DmlObj(d)))
                })
            }
            ("values", Dml::Update { .. }) => {
                NativeFunction::new(callee.clone(), move |args, kwargs, ctx| {
                    let mut d = dml.clone();
                    let table = d.table().clone();
                    let pairs = value_pairs(&table, &args, &kwargs, &callee, ctx)?;
                    if let Dml::Update { values, .. } = &mut d {
                        for (k, v) in pairs {
                            values.retain(|(old, _)| *old != k);
                            values.push((k, v));
                        }
                    }
                    Ok(Value::native(DmlObj(d)))
                })
            }
            ("values", Dml::Insert { .. }) => {
                NativeFunction::new(callee.clone(), move |args, kwargs, ctx| {
                    let mut d = dml.clone();
                    let table = d.table().clone();
                    let new_rows = match args.as_slice() {
                        [list @ (Value::List(_) | Value::Tuple(_))] if kwargs.is_empty() => {
                            let mut rows = Vec::new();
                            for row in items(list, ctx)? {
                                rows.push(value_pairs(&table, &[row], &[], &callee, ctx)?);
                            }
                            rows
                        }
                        _ => vec![value_pairs(&table, &args, &kwargs, &callee, ctx)?],
                    };
                    if let Dml::Insert { rows, .. } = &mut d {
                        rows.extend(new_rows);
                    }
                    Ok(Value::native(DmlObj(d)))
                })
            }
            ("execution_options", _) => NativeFunction::new(callee, move |_, _, _| {
                Ok(Value::native(DmlObj(dml.clone())))
            }),
            ("table", _) => return Ok(super::table::table_value(dml.table())),
            _ => return Err(ctx.native_unsupported(self.type_name(), format!("`.{name}`"))),
        };
        Ok(Value::native(f))
    }
}

impl Native for QueryObj {
    fn type_name(&self) -> &str {
        "sqlalchemy.Select"
    }

    fn getattr(&self, name: &str, ctx: &mut Ctx) -> Result<Value> {
        const CHAIN: &[&str] = &[
            "where",
            "filter",
            "order_by",
            "group_by",
            "having",
            "limit",
            "offset",
            "join",
            "outerjoin",
            "select_from",
            "distinct",
            "subquery",
            "scalar_subquery",
            "alias",
            "label",
            "correlate",
            "with_only_columns",
            "exists",
            "execution_options",
            "cte",
            "add_columns",
        ];
        if !CHAIN.contains(&name) {
            return Err(
                ctx.native_unsupported(self.type_name(), format!("`.{name}` ({DATA_MIGRATION})"))
            );
        }
        let desc = self.0.clone();
        let tables = self.1.clone();
        let method = name.to_string();
        Ok(Value::native(NativeFunction::new(
            format!("Select.{name}"),
            move |args, _, _| {
                // Joined and selected-from tables add to the rows' sources; a construct that is
                // no longer the rows themselves (a subquery, EXISTS, ...) has none known.
                let tables = match method.as_str() {
                    "where" | "filter" | "order_by" | "group_by" | "limit" | "offset"
                    | "distinct" | "execution_options" | "correlate" => tables.clone(),
                    "join" | "outerjoin" | "select_from" | "add_columns" => tables
                        .clone()
                        .zip(source_tables(&args))
                        .map(|(mut t, more)| {
                            t.extend(
                                more.into_iter()
                                    .filter(|m| !t.contains(m))
                                    .collect::<Vec<_>>(),
                            );
                            t
                        }),
                    "with_only_columns" => source_tables(&args),
                    _ => None,
                };
                Ok(Value::native(QueryObj(desc.clone(), tables)))
            },
        )))
    }

    fn compare(
        &self,
        op: crate::script::ast::CmpOp,
        other: &Value,
        reflected: bool,
        ctx: &mut Ctx,
    ) -> Result<Option<Value>> {
        expr::compare(Expr::Query(self.0.clone()), op, other, reflected, ctx)
    }

    fn truth(&self, ctx: &mut Ctx) -> Result<bool> {
        Err(expr::truth(ctx))
    }
}

/// `sa.select(...)`, `sa.exists(...)`, `sa.values(...)`.
pub(crate) fn query_function(kind: &'static str) -> Value {
    Value::native(NativeFunction::new(
        format!("sqlalchemy.{kind}"),
        move |args, _, _| {
            let tables = (kind == "select").then(|| source_tables(&args)).flatten();
            Ok(Value::native(QueryObj(
                format!("sqlalchemy.{kind}(...)"),
                tables,
            )))
        },
    ))
}

/// Which of a statement's bound parameters get which values: `None` for a statement without
/// parameters.
type Params = Option<Vec<(String, Literal)>>;

fn param_dict(params: &Value, callee: &str, ctx: &Ctx) -> Result<Vec<(String, Literal)>> {
    let mut out = Vec::new();
    for (k, v) in dict_pairs(params, callee, "parameters", ctx)? {
        let Some(k) = k.as_str() else {
            return Err(ctx.native_error(callee, "parameter names must be strings"));
        };
        out.push((k.to_string(), literal(&v, callee, ctx)?));
    }
    Ok(out)
}

fn bind_params(e: &Expr, params: &[(String, Literal)]) -> Expr {
    let rec = |x: &Expr| bind_params(x, params);
    let all = |xs: &[Expr]| xs.iter().map(rec).collect::<Vec<_>>();
    match e {
        Expr::Bind {
            name,
            value: None,
            expanding: false,
        } => match params.iter().find(|(k, _)| k == name) {
            Some((_, v)) => Expr::Bind {
                name: name.clone(),
                value: Some(v.clone()),
                expanding: false,
            },
            None => e.clone(),
        },
        Expr::Binary { op, left, right } => Expr::Binary {
            op: *op,
            left: Box::new(rec(left)),
            right: Box::new(rec(right)),
        },
        Expr::In {
            expr,
            values,
            negate,
        } => Expr::In {
            expr: Box::new(rec(expr)),
            values: all(values),
            negate: *negate,
        },
        Expr::IsNull { expr, negate } => Expr::IsNull {
            expr: Box::new(rec(expr)),
            negate: *negate,
        },
        Expr::And(items) => Expr::And(all(items)),
        Expr::Or(items) => Expr::Or(all(items)),
        Expr::Not(x) => Expr::Not(Box::new(rec(x))),
        Expr::Func { name, args } => Expr::Func {
            name: name.clone(),
            args: all(args),
        },
        other => other.clone(),
    }
}

/// The callee named in the errors of [`statement`].
const EXECUTE: &str = "execute";

/// A statement for `op.execute`/`bind.execute`, with optional execution parameters (a dict,
/// or for an `insert()` without values a list of dicts: its rows).
pub(crate) fn statement(v: &Value, params: Option<&Value>, ctx: &mut Ctx) -> Result<Statement> {
    if let Some(text) = v.as_str() {
        if params.is_some() {
            return Err(ctx.native_unsupported(
                EXECUTE,
                "parameters with a plain string (wrap it in sa.text)",
            ));
        }
        return Ok(Statement::Sql {
            text: text.to_string(),
        });
    }
    if let Some(DmlObj(Dml::Insert { table, rows })) = v.downcast_native::<DmlObj>() {
        if rows.is_empty() {
            if let Some(p) = params {
                return insert_from_params(table, p, ctx);
            }
        }
    }
    let params = execution_params(params, ctx)?;
    if let Some(e) = as_expr(v) {
        return expression_statement(&e, &params, ctx);
    }
    let Some(DmlObj(dml)) = v.downcast_native::<DmlObj>() else {
        return Err(ctx.native_error(
            EXECUTE,
            format!(
                "expected SQL text or a Core statement, got {}",
                v.type_name()
            ),
        ));
    };
    dml_statement(dml, &params, ctx)
}

/// An `insert()` without values executed with parameters: each dict of `params` (one dict,
/// or a list of them) is a row.
fn insert_from_params(table: &TableRef, params: &Value, ctx: &mut Ctx) -> Result<Statement> {
    let list = match params {
        Value::Dict(_) => vec![params.clone()],
        other => items(other, ctx)?,
    };
    let mut rows = Vec::new();
    for row in &list {
        rows.push(value_pairs(
            table,
            std::slice::from_ref(row),
            &[],
            EXECUTE,
            ctx,
        )?);
    }
    insert_statement(table, &rows, ctx)
}

/// The execution parameters of a statement: one dict, or `None`; several parameter sets are
/// refused.
fn execution_params(params: Option<&Value>, ctx: &Ctx) -> Result<Params> {
    match params {
        None => Ok(None),
        Some(p @ Value::Dict(_)) => Ok(Some(param_dict(p, EXECUTE, ctx)?)),
        Some(_) => Err(ctx.native_unsupported(
            EXECUTE,
            format!("running a statement once per parameter set ({DATA_MIGRATION})"),
        )),
    }
}

/// `e` with the execution parameters, if any, bound to its parameters.
fn bound(e: &Expr, params: &Params) -> Expr {
    match params {
        Some(p) => bind_params(e, p),
        None => e.clone(),
    }
}

/// The statement an expression stands for: SQL text is one, a query (reading rows) is refused,
/// anything else is not a statement.
fn expression_statement(e: &Expr, params: &Params, ctx: &Ctx) -> Result<Statement> {
    match bound(e, params) {
        Expr::Text { text, mut binds } => {
            binds.extend(params.clone().unwrap_or_default());
            Ok(Statement::Sql {
                text: lower::text_sql(&text, &binds, ctx)?,
            })
        }
        Expr::Query(what) => Err(ctx.native_unsupported(
            EXECUTE,
            format!("reading rows with {what} ({DATA_MIGRATION})"),
        )),
        other => Err(ctx.native_error(
            EXECUTE,
            format!("{other:?} is an expression, not a statement"),
        )),
    }
}

/// The `UPDATE`, `DELETE` or `INSERT` a Core statement stands for, with `params` bound.
fn dml_statement(dml: &Dml, params: &Params, ctx: &Ctx) -> Result<Statement> {
    let filter = |filters: &[Expr]| -> Result<Option<crate::ir::SqlExpr>> {
        if filters.is_empty() {
            return Ok(None);
        }
        lower::lower(&bound(&expr::and(filters.to_vec()), params), ctx).map(Some)
    };
    Ok(match dml {
        Dml::Update {
            table,
            filters,
            values,
        } => {
            if values.is_empty() {
                return Err(
                    ctx.native_error("Update", format!("update of {} without values", table.name))
                );
            }
            let mut out = Vec::new();
            for (k, e) in values {
                out.push((k.clone(), lower::lower(&bound(e, params), ctx)?));
            }
            Statement::Update {
                table: table.name.clone(),
                values: out,
                filter: filter(filters)?,
            }
        }
        Dml::Delete { table, filters } => Statement::Delete {
            table: table.name.clone(),
            filter: filter(filters)?,
        },
        Dml::Insert { table, rows } => insert_statement(table, rows, ctx)?,
    })
}

fn insert_statement(
    table: &TableRef,
    rows: &[Vec<(String, Expr)>],
    ctx: &Ctx,
) -> Result<Statement> {
    let Some(first) = rows.first() else {
        return Err(ctx.native_error(
            "Insert",
            format!(
                "insert into {} without values (rows given at execution are {DATA_MIGRATION})",
                table.name
            ),
        ));
    };
    let columns: Vec<String> = first.iter().map(|(k, _)| k.clone()).collect();
    let mut out = Vec::new();
    for row in rows {
        if row.len() != columns.len() || row.iter().any(|(k, _)| !columns.contains(k)) {
            return Err(ctx.native_unsupported("Insert", "rows with different sets of columns"));
        }
        let mut values = Vec::new();
        for c in &columns {
            let e = row
                .iter()
                .find(|(k, _)| k == c)
                .map(|(_, e)| e)
                .unwrap_or(&Expr::Null);
            values.push(lower::lower(e, ctx)?);
        }
        out.push(values);
    }
    Ok(Statement::Insert {
        table: table.name.clone(),
        columns,
        rows: out,
    })
}
