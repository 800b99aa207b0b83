//! SQL expressions: what `t.c.x == 1`, `col.in_([...])`, `sa.and_(...)`, `sa.text(...)`,
//! `sa.func.now()` and `sa.bindparam(...)` build, and the operators and methods on them.
//! Expressions keep references to their column objects, not names, because a declarative
//! model's columns are named only once its class body has run
//! (`CheckConstraint(lifecycle_stage.in_(...))` inside the body). `lower` turns them into IR.

use crate::interp::{Args, Ctx, Failure, Native, NativeFunction, Result, Value};
use crate::ir::{BinaryOp, Literal};
use crate::script::ast::{BinOp, CmpOp, UnaryOp};

use super::args::{items, literal, opt_string};
use super::column::{ColumnObj, ColumnRef};
use super::lower::render;

/// An SQL expression under construction.
#[derive(Debug, Clone)]
pub(crate) enum Expr {
    Column(ColumnRef),
    /// A Python value used in an expression (a bound literal).
    Value(Literal),
    /// `sa.bindparam(name, value?)`.
    Bind {
        name: String,
        value: Option<Literal>,
        expanding: bool,
    },
    /// `sa.text(...)`, with the values given by `.bindparams(...)`.
    Text {
        text: String,
        binds: Vec<(String, Literal)>,
    },
    /// SQL used as is: `sa.literal_column(...)`, ANSI functions such as `CURRENT_TIMESTAMP`.
    Raw(String),
    /// `sa.true()` / `sa.false()`: rendered per dialect.
    Bool(bool),
    Null,
    Binary {
        op: BinaryOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    In {
        expr: Box<Expr>,
        values: Vec<Expr>,
        negate: bool,
    },
    IsNull {
        expr: Box<Expr>,
        negate: bool,
    },
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Func {
        name: String,
        args: Vec<Expr>,
    },
    Tuple(Vec<Expr>),
    Label {
        expr: Box<Expr>,
        name: String,
    },
    Order {
        expr: Box<Expr>,
        desc: bool,
    },
    /// A `select`, `exists` or subquery: reading rows, which statements cannot express.
    Query(String),
}

/// An expression object.
#[derive(Debug)]
pub(crate) struct ExprObj(pub Expr);

pub(crate) const DATA_MIGRATION: &str = "a data migration: it needs a recipe";

/// The expression a value stands for, if it is one of ours.
pub(crate) fn as_expr(v: &Value) -> Option<Expr> {
    if let Some(c) = v.downcast_native::<ColumnObj>() {
        return Some(Expr::Column(c.0.clone()));
    }
    if let Some(e) = v.downcast_native::<ExprObj>() {
        return Some(e.0.clone());
    }
    super::dml::query_expr(v)
}

/// A value as an expression: ours as is, Python scalars as bound literals.
pub(crate) fn coerce(v: &Value, callee: &str, ctx: &Ctx) -> Result<Expr> {
    if let Some(e) = as_expr(v) {
        return Ok(e);
    }
    Ok(match v {
        Value::None => Expr::Null,
        Value::Bool(b) => Expr::Value(Literal::Bool(*b)),
        _ => Expr::Value(literal(v, callee, ctx)?),
    })
}

pub(crate) fn value(e: Expr) -> Value {
    Value::native(ExprObj(e))
}

fn cmp_binary(op: CmpOp, reflected: bool) -> Option<BinaryOp> {
    // `1 < col` asks `col` for `col > 1`.
    Some(match (op, reflected) {
        (CmpOp::Eq, _) => BinaryOp::Eq,
        (CmpOp::NotEq, _) => BinaryOp::NotEq,
        (CmpOp::Lt, false) | (CmpOp::Gt, true) => BinaryOp::Lt,
        (CmpOp::LtE, false) | (CmpOp::GtE, true) => BinaryOp::LtE,
        (CmpOp::Gt, false) | (CmpOp::Lt, true) => BinaryOp::Gt,
        (CmpOp::GtE, false) | (CmpOp::LtE, true) => BinaryOp::GtE,
        _ => return None,
    })
}

/// `expr <op> other`, for the `compare` hook of column and expression objects.
pub(crate) fn compare(
    this: Expr,
    op: CmpOp,
    other: &Value,
    reflected: bool,
    ctx: &Ctx,
) -> Result<Option<Value>> {
    let Some(bop) = cmp_binary(op, reflected) else {
        return Ok(None);
    };
    let other = coerce(other, "SQL expression", ctx)?;
    let e = match (bop, other) {
        (BinaryOp::Eq, Expr::Null) => Expr::IsNull {
            expr: Box::new(this),
            negate: false,
        },
        (BinaryOp::NotEq, Expr::Null) => Expr::IsNull {
            expr: Box::new(this),
            negate: true,
        },
        (op, other) => Expr::Binary {
            op,
            left: Box::new(this),
            right: Box::new(other),
        },
    };
    Ok(Some(value(e)))
}

fn is_stringish(e: &Expr) -> bool {
    match e {
        Expr::Value(Literal::Str(_)) => true,
        Expr::Column(c) => c.is_string_typed(),
        _ => false,
    }
}

/// `expr + other`, `expr & other`, ... for the `binary` hook.
pub(crate) fn binary(
    this: Expr,
    op: BinOp,
    other: &Value,
    reflected: bool,
    ctx: &Ctx,
) -> Result<Value> {
    let other = coerce(other, "SQL expression", ctx)?;
    let (left, right) = if reflected {
        (other, this)
    } else {
        (this, other)
    };
    let bop = match op {
        BinOp::BitAnd => return Ok(value(and(vec![left, right]))),
        BinOp::BitOr => return Ok(value(or(vec![left, right]))),
        BinOp::Add if is_stringish(&left) || is_stringish(&right) => BinaryOp::Concat,
        BinOp::Add => BinaryOp::Add,
        BinOp::Sub => BinaryOp::Sub,
        BinOp::Mult => BinaryOp::Mul,
        BinOp::Div => BinaryOp::Div,
        other => {
            return Err(ctx.native_unsupported("SQL expression", format!("the operator {other:?}")))
        }
    };
    Ok(value(Expr::Binary {
        op: bop,
        left: Box::new(left),
        right: Box::new(right),
    }))
}

pub(crate) fn unary(this: Expr, op: UnaryOp, ctx: &Ctx) -> Result<Value> {
    match op {
        UnaryOp::Invert => Ok(value(Expr::Not(Box::new(this)))),
        other => {
            Err(ctx.native_unsupported("SQL expression", format!("the unary operator {other:?}")))
        }
    }
}

/// SQLAlchemy refuses `bool()` of a clause.
pub(crate) fn truth(ctx: &Ctx) -> Failure {
    ctx.raise("TypeError", "Boolean value of this clause is not defined")
}

fn flatten(items: Vec<Expr>, and: bool) -> Vec<Expr> {
    let mut out = Vec::new();
    for i in items {
        match i {
            Expr::And(inner) if and => out.extend(inner),
            Expr::Or(inner) if !and => out.extend(inner),
            other => out.push(other),
        }
    }
    out
}

pub(crate) fn and(items: Vec<Expr>) -> Expr {
    let mut items = flatten(items, true);
    if items.len() == 1 {
        return items.remove(0);
    }
    Expr::And(items)
}

pub(crate) fn or(items: Vec<Expr>) -> Expr {
    let mut items = flatten(items, false);
    if items.len() == 1 {
        return items.remove(0);
    }
    Expr::Or(items)
}

/// The methods column and expression objects share (`in_`, `is_`, `like`, `label`, ...).
pub(crate) fn method(this: &Expr, name: &str) -> Option<Value> {
    let this = this.clone();
    let callee = format!("ColumnOperators.{name}");
    let kind = name.to_string();
    let f = move |args: Vec<Value>, kwargs: Vec<(String, Value)>, ctx: &mut Ctx| -> Result<Value> {
        let mut a = Args::new(callee.clone(), args, kwargs);
        let e = match kind.as_str() {
            "in_" | "not_in" | "notin_" => {
                let other = a.required(0, "other", ctx)?;
                a.finish(ctx)?;
                let values = match as_expr(&other) {
                    Some(e @ (Expr::Query(_) | Expr::Bind { .. })) => vec![e],
                    Some(e) => {
                        return Err(ctx.native_unsupported(&callee, format!("an IN over {e:?}")))
                    }
                    None => items(&other, ctx)?
                        .iter()
                        .map(|v| coerce(v, &callee, ctx))
                        .collect::<Result<Vec<_>>>()?,
                };
                Expr::In {
                    expr: Box::new(this.clone()),
                    values,
                    negate: kind != "in_",
                }
            }
            "is_" | "is_not" | "isnot" => {
                let other = a.required(0, "other", ctx)?;
                a.finish(ctx)?;
                let negate = kind != "is_";
                match coerce(&other, &callee, ctx)? {
                    Expr::Null => Expr::IsNull {
                        expr: Box::new(this.clone()),
                        negate,
                    },
                    _ => {
                        return Err(
                            ctx.native_unsupported(&callee, "IS with something other than None")
                        )
                    }
                }
            }
            "like" | "not_like" | "notlike" => {
                let other = coerce(&a.required(0, "other", ctx)?, &callee, ctx)?;
                if let Some(esc) = a.take(1, "escape") {
                    if !esc.is_none() {
                        return Err(ctx.native_unsupported(&callee, "`escape=`"));
                    }
                }
                a.finish(ctx)?;
                let like = Expr::Binary {
                    op: BinaryOp::Like,
                    left: Box::new(this.clone()),
                    right: Box::new(other),
                };
                if kind == "like" {
                    like
                } else {
                    Expr::Not(Box::new(like))
                }
            }
            "label" => {
                let name = opt_string(a.take(0, "name"), &callee, "name", ctx)?.unwrap_or_default();
                a.finish(ctx)?;
                Expr::Label {
                    expr: Box::new(this.clone()),
                    name,
                }
            }
            "desc" | "asc" => {
                a.finish(ctx)?;
                Expr::Order {
                    expr: Box::new(this.clone()),
                    desc: kind == "desc",
                }
            }
            _ => unreachable!("method() only hands out the names it knows"),
        };
        Ok(value(e))
    };
    const NAMES: &[&str] = &[
        "in_", "not_in", "notin_", "is_", "is_not", "isnot", "like", "not_like", "notlike",
        "label", "desc", "asc",
    ];
    NAMES
        .contains(&name)
        .then(|| Value::native(NativeFunction::new(format!("ColumnOperators.{name}"), f)))
}

impl Native for ExprObj {
    fn type_name(&self) -> &str {
        match &self.0 {
            Expr::Text { .. } => "sqlalchemy.TextClause",
            Expr::Bind { .. } => "sqlalchemy.BindParameter",
            Expr::Func { .. } => "sqlalchemy.Function",
            _ => "sqlalchemy.ColumnElement",
        }
    }

    fn getattr(&self, name: &str, ctx: &mut Ctx) -> Result<Value> {
        if let (Expr::Text { text, binds }, "bindparams") = (&self.0, name) {
            let (text, binds) = (text.clone(), binds.clone());
            return Ok(Value::native(NativeFunction::new(
                "TextClause.bindparams",
                move |args, kwargs, ctx| {
                    let mut binds = binds.clone();
                    let mut expanding = false;
                    for a in &args {
                        match as_expr(a) {
                            Some(Expr::Bind {
                                name,
                                value: Some(v),
                                expanding: false,
                            }) => binds.push((name, v)),
                            Some(Expr::Bind { .. }) => expanding = true,
                            _ => {
                                return Err(ctx.native_error(
                                    "TextClause.bindparams",
                                    "positional arguments must be bindparam() objects",
                                ))
                            }
                        }
                    }
                    for (k, v) in &kwargs {
                        binds.push((k.clone(), literal(v, "TextClause.bindparams", ctx)?));
                    }
                    if expanding {
                        return Ok(value(Expr::Query(format!(
                            "text({text:?}) with parameters given at execution ({DATA_MIGRATION})"
                        ))));
                    }
                    Ok(value(Expr::Text {
                        text: text.clone(),
                        binds,
                    }))
                },
            )));
        }
        if let (Expr::Text { text, .. }, "columns") = (&self.0, name) {
            let text = text.clone();
            return Ok(Value::native(NativeFunction::new(
                "TextClause.columns",
                move |_, _, _| Ok(value(Expr::Query(format!("text({text:?}).columns(...)")))),
            )));
        }
        if let Some(m) = method(&self.0, name) {
            return Ok(m);
        }
        match (&self.0, name) {
            (Expr::Text { text, .. } | Expr::Raw(text), "text") => Ok(Value::str(text)),
            (Expr::Bind { name, .. } | Expr::Label { name, .. }, "key" | "name") => {
                Ok(Value::str(name))
            }
            (Expr::Func { name: n, .. }, "name") => Ok(Value::str(n)),
            (Expr::Bool(_) | Expr::Null | Expr::Value(_) | Expr::Raw(_), "compile") => {
                let this = self.0.clone();
                Ok(Value::native(NativeFunction::new(
                    "ColumnElement.compile",
                    move |args, kwargs, ctx| {
                        // `compile(bind)` / `compile(dialect=...)`: the scripts' own database.
                        let mut a = Args::new("ColumnElement.compile", args, kwargs);
                        let _ = (a.take(0, "bind"), a.keyword("dialect"));
                        let _ = a.keyword("compile_kwargs");
                        a.finish(ctx)?;
                        Ok(Value::native(Compiled(compiled_sql(&this, ctx)?)))
                    },
                )))
            }
            _ => {
                Err(ctx.native_unsupported(self.type_name(), format!("reading attribute `{name}`")))
            }
        }
    }

    fn compare(
        &self,
        op: CmpOp,
        other: &Value,
        reflected: bool,
        ctx: &mut Ctx,
    ) -> Result<Option<Value>> {
        compare(self.0.clone(), op, other, reflected, ctx)
    }

    fn binary(&self, op: BinOp, other: &Value, reflected: bool, ctx: &mut Ctx) -> Result<Value> {
        binary(self.0.clone(), op, other, reflected, ctx)
    }

    fn unary(&self, op: UnaryOp, ctx: &mut Ctx) -> Result<Value> {
        unary(self.0.clone(), op, ctx)
    }

    fn truth(&self, ctx: &mut Ctx) -> Result<bool> {
        Err(truth(ctx))
    }

    fn str(&self, ctx: &mut Ctx) -> Result<String> {
        render(&self.0, ctx)
    }

    fn repr(&self, ctx: &mut Ctx) -> Result<String> {
        let text = render(&self.0, ctx).unwrap_or_else(|_| "...".into());
        Ok(format!("<{} {text:?}>", self.type_name()))
    }
}

/// A constant expression compiled for the database the scripts run against, as
/// `expr.compile(bind)` gives it (what `str()` of it is).
fn compiled_sql(e: &Expr, ctx: &mut Ctx) -> Result<String> {
    let dialect = ctx
        .host_dialect()
        .ok_or_else(|| ctx.native_unsupported("ColumnElement.compile", "without a database"))?;
    let name = ctx.get_attr(&dialect, "name")?;
    let literal: fn(&Literal) -> String = match name.as_str() {
        Some("sqlite") => crate::dialect::sqlite::literal,
        Some("postgresql") => crate::dialect::postgresql::literal,
        _ => crate::dialect::mysql::literal,
    };
    Ok(match e {
        Expr::Bool(b) => literal(&Literal::Bool(*b)),
        Expr::Null => "NULL".into(),
        Expr::Value(v) => literal(v),
        Expr::Raw(text) => text.clone(),
        _ => unreachable!("compile is offered for constants only"),
    })
}

/// The result of `compile()`: its SQL text.
#[derive(Debug)]
struct Compiled(String);

impl Native for Compiled {
    fn type_name(&self) -> &str {
        "sqlalchemy.Compiled"
    }

    fn str(&self, _ctx: &mut Ctx) -> Result<String> {
        Ok(self.0.clone())
    }

    fn repr(&self, _ctx: &mut Ctx) -> Result<String> {
        Ok(self.0.clone())
    }
}
