//! The standard library's tools for `with` blocks and functions: `contextlib` and `functools`,
//! reduced to what migration scripts and their helpers use.

use crate::interp::{Args, Ctx, Native, NativeFunction, Result, Value};

/// `contextlib`, reduced to `contextmanager` (a generator that yields once), `nullcontext` and
/// `suppress(*exceptions)`: a `with` block whose listed Python exceptions end the block quietly.
/// (A database error cannot happen while compiling; the statements inside are sent, and the
/// schema model says whether they can succeed.)
pub(super) fn contextlib_module() -> Value {
    Value::module(
        "contextlib",
        [
            (
                "contextmanager".to_string(),
                crate::interp::contextmanager(),
            ),
            (
                "nullcontext".to_string(),
                Value::native(NativeFunction::new(
                    "contextlib.nullcontext",
                    |args, kwargs, ctx| {
                        let mut a = Args::new("nullcontext", args, kwargs);
                        let result = a.take(0, "enter_result").unwrap_or(Value::None);
                        a.finish(ctx)?;
                        Ok(Value::native(NullContext(result)))
                    },
                )),
            ),
            (
                "suppress".to_string(),
                Value::native(NativeFunction::new(
                    "contextlib.suppress",
                    |args, kwargs, ctx| {
                        if !kwargs.is_empty() {
                            return Err(ctx.type_error("suppress() takes no keyword arguments"));
                        }
                        Ok(Value::native(Suppress(args)))
                    },
                )),
            ),
        ],
    )
}

#[derive(Debug)]
struct Suppress(Vec<Value>);

impl Native for Suppress {
    fn type_name(&self) -> &str {
        "contextlib.suppress"
    }

    fn enter(&self, _ctx: &mut Ctx) -> Result<Value> {
        Ok(Value::None)
    }

    fn exit(&self, raised: Option<&crate::interp::Raised>, _ctx: &mut Ctx) -> Result<bool> {
        let Some(Value::Instance(exception)) = raised.map(|r| &r.exception) else {
            return Ok(false);
        };
        Ok(self.0.iter().any(|c| match c {
            Value::Class(c) => exception.class.is_subclass_of(c),
            _ => false,
        }))
    }
}

/// `contextlib.nullcontext(enter_result)`: a `with` block that does nothing.
#[derive(Debug)]
pub(super) struct NullContext(pub(super) Value);

impl Native for NullContext {
    fn type_name(&self) -> &str {
        "contextlib.nullcontext"
    }

    fn enter(&self, _ctx: &mut Ctx) -> Result<Value> {
        Ok(self.0.clone())
    }
}

/// `functools`, reduced to `wraps` (the wrapper as it is: names in error messages stay the
/// wrapper's) and `partial`.
pub(super) fn functools_module() -> Value {
    Value::module(
        "functools",
        [
            (
                "wraps".to_string(),
                Value::native(NativeFunction::new(
                    "functools.wraps",
                    |args, kwargs, ctx| {
                        let mut a = Args::new("wraps", args, kwargs);
                        a.required(0, "wrapped", ctx)?;
                        a.take(1, "assigned");
                        a.take(2, "updated");
                        a.finish(ctx)?;
                        Ok(Value::native(NativeFunction::new(
                            "functools.wraps.<decorator>",
                            |args, kwargs, ctx| match (args.as_slice(), kwargs.is_empty()) {
                                ([wrapper], true) => Ok(wrapper.clone()),
                                _ => Err(ctx.type_error("update_wrapper() takes one wrapper")),
                            },
                        )))
                    },
                )),
            ),
            (
                "partial".to_string(),
                Value::native(NativeFunction::new(
                    "functools.partial",
                    |mut args, kwargs, ctx| {
                        if args.is_empty() {
                            return Err(
                                ctx.type_error("partial() missing required argument 'func'")
                            );
                        }
                        let func = args.remove(0);
                        Ok(Value::native(Partial { func, args, kwargs }))
                    },
                )),
            ),
        ],
    )
}

/// `functools.partial(func, *args, **kwargs)`.
#[derive(Debug)]
struct Partial {
    func: Value,
    args: Vec<Value>,
    kwargs: Vec<(String, Value)>,
}

impl Native for Partial {
    fn type_name(&self) -> &str {
        "functools.partial"
    }

    fn call(&self, args: Vec<Value>, kwargs: Vec<(String, Value)>, ctx: &mut Ctx) -> Result<Value> {
        let all_args = self.args.iter().cloned().chain(args).collect();
        let mut all_kwargs = self.kwargs.clone();
        for (k, v) in kwargs {
            match all_kwargs.iter_mut().find(|(name, _)| *name == k) {
                Some(slot) => slot.1 = v,
                None => all_kwargs.push((k, v)),
            }
        }
        ctx.call_value(&self.func, all_args, all_kwargs)
    }
}
