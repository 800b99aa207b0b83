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
        other if other.downcast_native::<UtcNow>().is_some() => Literal::UtcNow,
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
    let class = exc_class(class).unwrap_or_else(|| {
        let bases = ctx
            .exception_class("Exception")
            .map(Value::Class)
            .into_iter()
            .collect();
        crate::interp::Class::new(class, bases)
    });
    ctx.raise_value(crate::interp::new_exception(
        class,
        vec![Value::string(message.into())],
    ))
}

/// SQLAlchemy's exception classes (`sqlalchemy.exc`), each with its base; built once per
/// thread so that `except sa.exc.X` matches what the emulation raises.
const EXC_CLASSES: &[(&str, &str)] = &[
    ("SQLAlchemyError", "Exception"),
    ("ArgumentError", "SQLAlchemyError"),
    ("NoSuchTableError", "InvalidRequestError"),
    ("InvalidRequestError", "SQLAlchemyError"),
    ("CompileError", "SQLAlchemyError"),
    ("NoSuchModuleError", "ArgumentError"),
    ("StatementError", "SQLAlchemyError"),
    ("DBAPIError", "StatementError"),
    ("InterfaceError", "DBAPIError"),
    ("DatabaseError", "DBAPIError"),
    ("DataError", "DatabaseError"),
    ("OperationalError", "DatabaseError"),
    ("IntegrityError", "DatabaseError"),
    ("InternalError", "DatabaseError"),
    ("ProgrammingError", "DatabaseError"),
    ("NotSupportedError", "DatabaseError"),
];

thread_local! {
    static EXC: std::cell::RefCell<Option<std::collections::HashMap<&'static str, std::rc::Rc<crate::interp::Class>>>> =
        const { std::cell::RefCell::new(None) };
}

/// The class `sqlalchemy.exc.<name>`, if SQLAlchemy has one of that name.
pub(crate) fn exc_class(name: &str) -> Option<std::rc::Rc<crate::interp::Class>> {
    EXC.with(|cell| {
        let mut slot = cell.borrow_mut();
        let table = slot.get_or_insert_with(|| {
            let mut table = std::collections::HashMap::new();
            fn make(
                name: &'static str,
                table: &mut std::collections::HashMap<
                    &'static str,
                    std::rc::Rc<crate::interp::Class>,
                >,
            ) -> std::rc::Rc<crate::interp::Class> {
                if let Some(c) = table.get(name) {
                    return c.clone();
                }
                let base = EXC_CLASSES
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, b)| *b)
                    .unwrap_or("Exception");
                let base = match EXC_CLASSES.iter().any(|(n, _)| *n == base) {
                    true => make(base, table),
                    false => crate::interp::exception_class(base).expect("a built-in exception"),
                };
                let class = crate::interp::Class::new(name, vec![Value::Class(base)]);
                table.insert(name, class.clone());
                class
            }
            for (name, _) in EXC_CLASSES {
                make(name, &mut table);
            }
            table
        });
        table.get(name).cloned()
    })
}

/// The module `sqlalchemy.exc`.
pub(crate) fn exc_module() -> Value {
    Value::module(
        "sqlalchemy.exc",
        EXC_CLASSES
            .iter()
            .filter_map(|(name, _)| exc_class(name).map(|c| (name.to_string(), Value::Class(c)))),
    )
}

/// The value of `datetime.now(timezone.utc)` or `datetime.utcnow()`: the current time in UTC,
/// which becomes the database's clock where a statement takes it as a value.
#[derive(Debug)]
pub(crate) struct UtcNow;

impl crate::interp::Native for UtcNow {
    fn type_name(&self) -> &str {
        "datetime.datetime"
    }
}
