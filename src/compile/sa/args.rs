//! Reading the Python values passed to the emulated constructors: each helper names the callee
//! and the argument when a value has the wrong type, so errors say what the script did wrong.

use crate::interp::{Ctx, Result, Value};
use crate::ir::Literal;

/// A string argument, `None` when absent or `None`.
pub(crate) fn opt_string(
    v: Option<Value>,
    callee: &str,
    arg: &str,
    ctx: &Ctx,
) -> Result<Option<String>> {
    match v {
        None | Some(Value::None) => Ok(None),
        Some(Value::Str(s)) => Ok(Some(s.to_string())),
        Some(other) => Err(wrong_type(callee, arg, "a string", &other, ctx)),
    }
}

/// A boolean argument, `None` when absent or `None`.
pub(crate) fn opt_bool(
    v: Option<Value>,
    callee: &str,
    arg: &str,
    ctx: &Ctx,
) -> Result<Option<bool>> {
    match v {
        None | Some(Value::None) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(b)),
        Some(Value::Int(i)) => Ok(Some(i != 0)),
        Some(other) => Err(wrong_type(callee, arg, "a bool", &other, ctx)),
    }
}

/// An integer argument, `None` when absent or `None`.
pub(crate) fn opt_int(v: Option<Value>, callee: &str, arg: &str, ctx: &Ctx) -> Result<Option<i64>> {
    match v {
        None | Some(Value::None) => Ok(None),
        Some(Value::Int(i)) => Ok(Some(i)),
        Some(other) => Err(wrong_type(callee, arg, "an int", &other, ctx)),
    }
}

/// A non-negative size (a length or a precision), `None` when absent or `None`.
pub(crate) fn opt_size(
    v: Option<Value>,
    callee: &str,
    arg: &str,
    ctx: &Ctx,
) -> Result<Option<u32>> {
    match opt_int(v, callee, arg, ctx)? {
        None => Ok(None),
        Some(i) => u32::try_from(i).map(Some).map_err(|_| {
            ctx.native_error(
                callee,
                format!("`{arg}` must be a non-negative int, got {i}"),
            )
        }),
    }
}

/// Accept an argument only with a value that does not change the schema (Python-side options
/// such as `asdecimal`, or options the IR has no place for when left at their default).
pub(crate) fn only_default(
    v: Option<Value>,
    is_default: impl Fn(&Value) -> bool,
    callee: &str,
    arg: &str,
    ctx: &mut Ctx,
) -> Result<()> {
    match v {
        Some(v) if !is_default(&v) => {
            let shown = ctx.to_repr(&v).unwrap_or_else(|_| v.type_name());
            Err(ctx.native_unsupported(callee, format!("`{arg}={shown}`")))
        }
        _ => Ok(()),
    }
}

/// A Python scalar as an SQL literal.
pub(crate) fn literal(v: &Value, callee: &str, ctx: &Ctx) -> Result<Literal> {
    Ok(match v {
        Value::None => Literal::Null,
        Value::Bool(b) => Literal::Bool(*b),
        Value::Int(i) => Literal::Int(*i),
        Value::Float(f) => Literal::Float(*f),
        Value::Str(s) => Literal::Str(s.to_string()),
        other => {
            return Err(ctx.native_error(
                callee,
                format!(
                    "a {} value as an SQL literal is not modeled",
                    other.type_name()
                ),
            ))
        }
    })
}

pub(crate) fn wrong_type(
    callee: &str,
    arg: &str,
    expected: &str,
    got: &Value,
    ctx: &Ctx,
) -> crate::interp::Failure {
    ctx.native_error(
        callee,
        format!("`{arg}` must be {expected}, got {}", got.type_name()),
    )
}

/// The items of a list, tuple or other iterable argument.
pub(crate) fn items(v: &Value, ctx: &mut Ctx) -> Result<Vec<Value>> {
    match v.as_items() {
        Some(items) => Ok(items),
        None => ctx.iterate(v),
    }
}

/// The `(key, value)` pairs of a dict argument.
pub(crate) fn dict_pairs(
    v: &Value,
    callee: &str,
    arg: &str,
    ctx: &Ctx,
) -> Result<Vec<(Value, Value)>> {
    match v {
        Value::Dict(d) => Ok(d
            .borrow()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()),
        other => Err(wrong_type(callee, arg, "a dict", other, ctx)),
    }
}

/// A catchable SQLAlchemy exception (`ArgumentError`, ...), derived from `Exception`.
pub(crate) fn sa_exception(
    ctx: &Ctx,
    class: &str,
    message: impl Into<String>,
) -> crate::interp::Failure {
    let bases = ctx
        .exception_class("Exception")
        .map(Value::Class)
        .into_iter()
        .collect();
    let class = crate::interp::Class::new(class, bases);
    ctx.raise_value(crate::interp::new_exception(
        class,
        vec![Value::string(message.into())],
    ))
}
