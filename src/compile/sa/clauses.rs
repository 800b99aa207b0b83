//! The expression constructors `sqlalchemy` exports: `text`, `literal_column`, `literal`,
//! `true`/`false`/`null`, `and_`/`or_`/`not_`, `tuple_`, `bindparam`, `func.<name>`,
//! `asc`/`desc`.

use crate::interp::{Args, Ctx, Native, NativeFunction, Result, Value};

use super::args::{literal, opt_bool, opt_string};
use super::expr::{and, coerce, or, value, Expr};

/// `sa.func`: `func.<name>(...)` builds a function call.
#[derive(Debug)]
pub(crate) struct FuncGenerator;

impl Native for FuncGenerator {
    fn type_name(&self) -> &str {
        "sqlalchemy.func"
    }

    fn getattr(&self, name: &str, ctx: &mut Ctx) -> Result<Value> {
        if name.starts_with("__") {
            return Err(
                ctx.native_unsupported("sqlalchemy.func", format!("reading attribute `{name}`"))
            );
        }
        let fname = name.to_string();
        Ok(Value::native(NativeFunction::new(
            format!("func.{name}"),
            move |args, kwargs, ctx| {
                let callee = format!("func.{fname}");
                if !kwargs.is_empty() {
                    return Err(ctx.native_unsupported(&callee, "keyword arguments (type_=...)"));
                }
                let lower = fname.to_ascii_lowercase();
                let mut list = args
                    .iter()
                    .map(|v| coerce(v, &callee, ctx))
                    .collect::<Result<Vec<_>>>()?;
                if lower == "count" && list.is_empty() {
                    list.push(Expr::Raw("*".into()));
                }
                Ok(value(Expr::Func {
                    name: fname.clone(),
                    args: list,
                }))
            },
        )))
    }
}

/// `sa.bindparam(key, value=..., type_=..., expanding=...)`.
pub(crate) fn bindparam(
    args: Vec<Value>,
    kwargs: Vec<(String, Value)>,
    ctx: &mut Ctx,
) -> Result<Value> {
    let callee = "sqlalchemy.bindparam";
    let mut a = Args::new(callee, args, kwargs);
    let name = opt_string(a.take(0, "key"), callee, "key", ctx)?.unwrap_or_default();
    let value_arg = a.take(1, "value");
    let _ = a.take(2, "type_");
    let expanding = opt_bool(a.keyword("expanding"), callee, "expanding", ctx)?.unwrap_or(false);
    for k in [
        "unique",
        "required",
        "quote",
        "callable_",
        "literal_execute",
    ] {
        let _ = a.keyword(k);
    }
    a.finish(ctx)?;
    let value_lit = match value_arg {
        None => None,
        Some(v) => Some(literal(&v, callee, ctx)?),
    };
    Ok(value(Expr::Bind {
        name,
        value: value_lit,
        expanding,
    }))
}

/// The module-level expression constructors, for the module tables.
pub(crate) fn functions() -> Vec<(&'static str, Value)> {
    fn f(
        name: &'static str,
        body: impl Fn(Vec<Value>, Vec<(String, Value)>, &mut Ctx) -> Result<Value> + 'static,
    ) -> (&'static str, Value) {
        (
            name,
            Value::native(NativeFunction::new(format!("sqlalchemy.{name}"), body)),
        )
    }
    fn one_text(name: &'static str, make: fn(String) -> Expr) -> (&'static str, Value) {
        f(name, move |args, kwargs, ctx| {
            let callee = format!("sqlalchemy.{name}");
            let mut a = Args::new(callee.clone(), args, kwargs);
            let text = opt_string(a.take(0, "text"), &callee, "text", ctx)?.unwrap_or_default();
            let _ = a.take(1, "type_");
            a.finish(ctx)?;
            Ok(value(make(text)))
        })
    }
    fn no_args(name: &'static str, e: Expr) -> (&'static str, Value) {
        f(name, move |args, kwargs, ctx| {
            Args::new(format!("sqlalchemy.{name}"), args, kwargs).finish(ctx)?;
            Ok(value(e.clone()))
        })
    }
    fn many(name: &'static str, make: fn(Vec<Expr>) -> Expr) -> (&'static str, Value) {
        f(name, move |args, kwargs, ctx| {
            let callee = format!("sqlalchemy.{name}");
            Args::new(callee.clone(), Vec::new(), kwargs).finish(ctx)?;
            if args.is_empty() {
                return Err(ctx.native_unsupported(&callee, "an empty clause list"));
            }
            let list = args
                .iter()
                .map(|v| coerce(v, &callee, ctx))
                .collect::<Result<Vec<_>>>()?;
            Ok(value(make(list)))
        })
    }
    vec![
        one_text("text", |text| Expr::Text {
            text,
            binds: Vec::new(),
        }),
        one_text("literal_column", Expr::Raw),
        no_args("true", Expr::Bool(true)),
        no_args("false", Expr::Bool(false)),
        no_args("null", Expr::Null),
        many("and_", and),
        many("or_", or),
        many("tuple_", Expr::Tuple),
        f("not_", |args, kwargs, ctx| {
            let mut a = Args::new("sqlalchemy.not_", args, kwargs);
            let e = coerce(&a.required(0, "clause", ctx)?, "sqlalchemy.not_", ctx)?;
            a.finish(ctx)?;
            Ok(value(Expr::Not(Box::new(e))))
        }),
        f("literal", |args, kwargs, ctx| {
            let mut a = Args::new("sqlalchemy.literal", args, kwargs);
            let v = a.required(0, "value", ctx)?;
            let _ = a.take(1, "type_");
            a.finish(ctx)?;
            Ok(value(Expr::Value(literal(&v, "sqlalchemy.literal", ctx)?)))
        }),
        f("bindparam", bindparam),
        f("desc", |args, _, ctx| order(args, true, ctx)),
        f("asc", |args, _, ctx| order(args, false, ctx)),
        ("func", Value::native(FuncGenerator)),
    ]
}

fn order(args: Vec<Value>, desc: bool, ctx: &mut Ctx) -> Result<Value> {
    let Some(v) = args.first() else {
        return Err(ctx.native_error("sqlalchemy.desc", "missing the column"));
    };
    Ok(value(Expr::Order {
        expr: Box::new(coerce(v, "sqlalchemy.desc", ctx)?),
        desc,
    }))
}
