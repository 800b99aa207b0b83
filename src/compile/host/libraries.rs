//! The modules of Alembic and of the standard and common third-party libraries a revision (or
//! an application module it imports) may use, reduced to what migrations use: `alembic.context`,
//! `lazy_object_proxy`, `time`, `logging`, `structlog`, `textwrap`, `packaging.version`,
//! `datetime`, `pendulum`, `importlib`, `typing`, and names of `uuid` (`contextlib` and `functools` are in
//! `callables`).

use std::rc::Rc;

use crate::interp::{Args, Ctx, Native, NativeFunction, Result, Value};
use crate::script::ast::CmpOp;

use super::CompileHost;

impl CompileHost {
    /// `alembic.context` as a revision sees it while it runs: `is_offline_mode()`, the
    /// connection (`get_bind()`) and the migration context (`get_context()`).
    pub(super) fn context_module(&self) -> Value {
        let session = self.session.clone();
        let no_arguments = |name: &'static str, f: Rc<dyn Fn() -> Value>| {
            (
                name.to_string(),
                Value::native(NativeFunction::new(
                    format!("alembic.context.{name}"),
                    move |args, kwargs, ctx| {
                        Args::new(format!("alembic.context.{name}"), args, kwargs).finish(ctx)?;
                        Ok(f())
                    },
                )),
            )
        };
        let (offline, bind, context) = (session.clone(), session.clone(), session);
        let mut members = vec![
            no_arguments(
                "is_offline_mode",
                Rc::new(move || Value::Bool(offline.0.borrow().offline)),
            ),
            no_arguments("get_bind", Rc::new(move || bind.bind_value())),
            no_arguments("get_context", Rc::new(move || context.context_value())),
        ];
        if let Some(record) = &self.env {
            members.extend(super::env::env_members(record));
        }
        Value::module("alembic.context", members)
    }
}

/// `lazy_object_proxy`, whose `Proxy(factory)` stands for `factory()` once first used. A
/// revision only ever uses what it imports, so the factory is called at once, in the same
/// session (what a `Proxy` defers is the same call).
pub(super) fn lazy_object_proxy_module() -> Value {
    Value::module(
        "lazy_object_proxy",
        [(
            "Proxy".to_string(),
            Value::native(NativeFunction::new(
                "lazy_object_proxy.Proxy",
                |args, kwargs, ctx| {
                    let mut a = Args::new("lazy_object_proxy.Proxy", args, kwargs);
                    let factory = a.required(0, "factory", ctx)?;
                    a.finish(ctx)?;
                    ctx.call(&factory, Vec::new(), Vec::new())
                },
            )),
        )],
    )
}

/// `time`, reduced to `time.time()`.
pub(super) fn time_module() -> Value {
    Value::module(
        "time",
        [(
            "time".to_string(),
            // Only ever used for client-side defaults, which never reach the DDL.
            Value::native(NativeFunction::new("time.time", |_, _, _| {
                Ok(Value::Float(0.0))
            })),
        )],
    )
}

/// `logging`, reduced to `getLogger` (whose loggers drop messages) and the level constants.
pub(super) fn logging_module() -> Value {
    Value::module(
        "logging",
        [
            (
                "getLogger".to_string(),
                Value::native(NativeFunction::new("logging.getLogger", |_, _, _| {
                    Ok(Value::native(Logger))
                })),
            ),
            ("DEBUG".to_string(), Value::Int(10)),
            ("INFO".to_string(), Value::Int(20)),
            ("WARNING".to_string(), Value::Int(30)),
            ("ERROR".to_string(), Value::Int(40)),
        ],
    )
}

/// `structlog`, reduced to `get_logger()`, whose loggers drop messages as `logging`'s do.
pub(super) fn structlog_module() -> Value {
    Value::module(
        "structlog",
        [(
            "get_logger".to_string(),
            Value::native(NativeFunction::new("structlog.get_logger", |_, _, _| {
                Ok(Value::native(Logger))
            })),
        )],
    )
}

/// `textwrap`, reduced to `dedent(text)`: the whitespace every non-blank line starts with
/// removed, lines of only whitespace made empty, as Python's does.
pub(super) fn textwrap_module() -> Value {
    Value::module(
        "textwrap",
        [(
            "dedent".to_string(),
            Value::native(NativeFunction::new(
                "textwrap.dedent",
                |args, kwargs, ctx| {
                    let mut a = Args::new("textwrap.dedent", args, kwargs);
                    let text = a.required(0, "text", ctx)?;
                    a.finish(ctx)?;
                    let text = text
                        .as_str()
                        .ok_or_else(|| ctx.type_error("dedent() expects a string"))?;
                    Ok(Value::string(dedent(text)))
                },
            )),
        )],
    )
}

fn dedent(text: &str) -> String {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let blank = |l: &str| {
        l.trim_matches(|c| c == ' ' || c == '\t' || c == '\n')
            .is_empty()
    };
    let indent =
        |l: &str| -> String { l.chars().take_while(|c| *c == ' ' || *c == '\t').collect() };
    let mut margin: Option<String> = None;
    for l in lines.iter().filter(|l| !blank(l)) {
        let i = indent(l);
        margin = Some(match margin {
            None => i,
            Some(m) => m
                .chars()
                .zip(i.chars())
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| a)
                .collect(),
        });
    }
    let margin = margin.unwrap_or_default();
    lines
        .iter()
        .map(|l| {
            if blank(l) {
                if l.ends_with('\n') {
                    "\n".to_string()
                } else {
                    String::new()
                }
            } else {
                l[margin.len()..].to_string()
            }
        })
        .collect()
}

/// `packaging.version`, reduced to `Version(text)`.
pub(super) fn packaging_version_module() -> Value {
    Value::module(
        "packaging.version",
        [(
            "Version".to_string(),
            Value::native(NativeFunction::new(
                "packaging.version.Version",
                |args, kwargs, ctx| {
                    let mut a = Args::new("Version", args, kwargs);
                    let v = a.required(0, "version", ctx)?;
                    a.finish(ctx)?;
                    let text = v
                        .as_str()
                        .ok_or_else(|| ctx.native_error("Version", "expected a string"))?;
                    Ok(Value::native(Version::parse(text)))
                },
            )),
        )],
    )
}

/// `logging.getLogger(...)`: messages are dropped.
#[derive(Debug)]
struct Logger;

impl Native for Logger {
    fn type_name(&self) -> &str {
        "Logger"
    }

    fn getattr(&self, name: &str, ctx: &mut Ctx) -> Result<Value> {
        match name {
            "debug" | "info" | "warning" | "warn" | "error" | "exception" | "critical"
            | "setLevel" => Ok(Value::native(NativeFunction::new(
                "Logger.log",
                |_, _, _| Ok(Value::None),
            ))),
            other => Err(ctx.native_unsupported("Logger", format!("`{other}`"))),
        }
    }
}

/// `packaging.version.Version`: release numbers compared numerically.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Version(Vec<u64>);

impl Version {
    fn parse(text: &str) -> Version {
        Version(
            text.split(['.', '+', '-'])
                .map_while(|p| {
                    p.chars()
                        .take_while(char::is_ascii_digit)
                        .collect::<String>()
                        .parse()
                        .ok()
                })
                .collect(),
        )
    }

    fn padded(&self, len: usize) -> Vec<u64> {
        let mut v = self.0.clone();
        v.resize(len.max(v.len()), 0);
        v
    }
}

impl Native for Version {
    fn type_name(&self) -> &str {
        "Version"
    }

    fn compare(
        &self,
        op: CmpOp,
        other: &Value,
        _reflected: bool,
        ctx: &mut Ctx,
    ) -> Result<Option<Value>> {
        let Some(o) = other.downcast_native::<Version>() else {
            return Err(ctx.native_unsupported("Version", "comparing with a non-Version"));
        };
        let len = self.0.len().max(o.0.len());
        let (a, b) = (self.padded(len), o.padded(len));
        let r = match op {
            CmpOp::Lt => a < b,
            CmpOp::LtE => a <= b,
            CmpOp::Gt => a > b,
            CmpOp::GtE => a >= b,
            CmpOp::Eq => a == b,
            CmpOp::NotEq => a != b,
            _ => return Ok(None),
        };
        Ok(Some(Value::Bool(r)))
    }
}

/// `typing`: `TYPE_CHECKING` is false, `overload` and `cast` do what they do at run time;
/// other names (`Any`, `TypeVar`, ...) can be named, not used.
pub(super) fn typing_module(name: &str) -> Value {
    let forms = [
        "Dict",
        "List",
        "Set",
        "FrozenSet",
        "Tuple",
        "Union",
        "Optional",
        "Type",
        "Callable",
        "Literal",
        "Sequence",
        "Mapping",
        "Iterable",
        "Annotated",
        "ClassVar",
        "Generic",
    ];
    Value::module(
        name,
        forms
            .iter()
            .map(|f| {
                (
                    f.to_string(),
                    Value::native(TypingForm(format!("typing.{f}"))),
                )
            })
            .chain([
                ("TYPE_CHECKING".to_string(), Value::Bool(false)),
                // Special forms, subscripted in annotations and in arguments that only Python-side
                // code reads (a validator's type).
                (
                    "Any".to_string(),
                    Value::native(TypingForm("typing.Any".into())),
                ),
                (
                    "overload".to_string(),
                    Value::native(NativeFunction::new(
                        "typing.overload",
                        |args, kwargs, ctx| {
                            let mut a = Args::new("typing.overload", args, kwargs);
                            let f = a.required(0, "func", ctx)?;
                            a.finish(ctx)?;
                            Ok(f)
                        },
                    )),
                ),
                (
                    "TypeVar".to_string(),
                    Value::native(NativeFunction::new(
                        "typing.TypeVar",
                        |args, _kwargs, ctx| {
                            let name = args.first().and_then(Value::as_str).ok_or_else(|| {
                                ctx.native_error("typing.TypeVar", "the first argument is the name")
                            })?;
                            Ok(Value::native(TypingForm(name.to_string())))
                        },
                    )),
                ),
                (
                    "cast".to_string(),
                    Value::native(NativeFunction::new("typing.cast", |args, kwargs, ctx| {
                        let mut a = Args::new("typing.cast", args, kwargs);
                        let _type = a.required(0, "typ", ctx)?;
                        let value = a.required(1, "val", ctx)?;
                        a.finish(ctx)?;
                        Ok(value)
                    })),
                ),
            ])
            .collect::<Vec<_>>(),
    )
}

/// A `typing` special form or type variable (`Dict`, `Union[...]`, `T`): it can be
/// subscripted and passed around, nothing else.
#[derive(Debug)]
struct TypingForm(String);

impl Native for TypingForm {
    fn type_name(&self) -> &str {
        &self.0
    }

    fn getitem(&self, _index: &Value, _ctx: &mut Ctx) -> Result<Value> {
        Ok(Value::native(TypingForm(format!("{}[...]", self.0))))
    }
}

/// A module whose `names` can be named (as type parameters, in annotations, as defaults Python
/// evaluates client-side) but not used: each is a placeholder that fails on use.
pub(super) fn named_placeholders(module: &str, names: &[&str]) -> Value {
    Value::Opaque(Rc::new(crate::interp::Opaque {
        name: module.into(),
        children: names
            .iter()
            .map(|n| (n.to_string(), Value::opaque(&format!("{module}.{n}"))))
            .collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::{dedent, Version};

    #[test]
    fn dedent_removes_the_common_margin_as_python_does() {
        // Expected values from CPython 3.11's textwrap.dedent.
        assert_eq!(dedent("\n    a\n      b\n    c\n"), "\na\n  b\nc\n");
        assert_eq!(dedent("  x\n  \n   y"), "x\n\n y");
        assert_eq!(dedent("\tx\n\ty"), "x\ny");
        assert_eq!(dedent("no margin\n  here"), "no margin\n  here");
    }

    #[test]
    fn versions_compare_numerically() {
        assert!(Version::parse("1.20.1") > Version::parse("1.7.0"));
        assert_eq!(Version::parse("1.7").padded(3), vec![1, 7, 0]);
    }
}

/// `datetime`: `datetime.now(timezone.utc)` and `datetime.utcnow()` are the current time in
/// UTC (a value statements send as the database's clock); the naive local `now()` and every
/// other use are refused. The other names can be named (type parameters), not used.
pub(super) fn datetime_module() -> Value {
    let placeholders = ["date", "time", "timedelta"]
        .into_iter()
        .map(|n| (n.to_string(), Value::opaque(&format!("datetime.{n}"))));
    Value::module(
        "datetime",
        [
            ("datetime".to_string(), Value::native(DatetimeClass)),
            ("timezone".to_string(), Value::native(TimezoneClass)),
            ("UTC".to_string(), Value::native(Utc)),
        ]
        .into_iter()
        .chain(placeholders),
    )
}

/// `pendulum`, reduced to `UTC`: the time zone `datetime.now(tz=...)` takes for the clock.
pub(super) fn pendulum_module() -> Value {
    Value::module("pendulum", [("UTC".to_string(), Value::native(Utc))])
}

#[derive(Debug)]
struct DatetimeClass;

#[derive(Debug)]
struct TimezoneClass;

/// `timezone.utc`.
#[derive(Debug)]
struct Utc;

impl Native for Utc {
    fn type_name(&self) -> &str {
        "datetime.timezone"
    }
}

impl Native for TimezoneClass {
    fn type_name(&self) -> &str {
        "datetime.timezone"
    }

    fn getattr(&self, name: &str, ctx: &mut Ctx) -> Result<Value> {
        match name {
            "utc" => Ok(Value::native(Utc)),
            _ => Err(ctx.not_modeled(&format!("datetime.timezone.{name}"), "reading it")),
        }
    }
}

impl Native for DatetimeClass {
    fn type_name(&self) -> &str {
        "datetime.datetime"
    }

    fn getattr(&self, name: &str, ctx: &mut Ctx) -> Result<Value> {
        match name {
            "now" => Ok(Value::native(NativeFunction::new(
                "datetime.datetime.now",
                |args, kwargs, ctx| {
                    let mut a = Args::new("datetime.datetime.now", args, kwargs);
                    let tz = a.take(0, "tz");
                    a.finish(ctx)?;
                    match tz {
                        Some(tz) if tz.downcast_native::<Utc>().is_some() => {
                            Ok(Value::native(super::sa::UtcNow))
                        }
                        _ => Err(ctx.not_modeled(
                            "datetime.datetime.now",
                            "without `timezone.utc` (the local time of the Python process)",
                        )),
                    }
                },
            ))),
            "utcnow" => Ok(Value::native(NativeFunction::new(
                "datetime.datetime.utcnow",
                |args, kwargs, ctx| {
                    Args::new("datetime.datetime.utcnow", args, kwargs).finish(ctx)?;
                    Ok(Value::native(super::sa::UtcNow))
                },
            ))),
            _ => Err(ctx.not_modeled(&format!("datetime.datetime.{name}"), "reading it")),
        }
    }
}

/// `importlib`, reduced to `import_module(name)`: what an `import` statement would find.
pub(super) fn importlib_module() -> Value {
    Value::module(
        "importlib",
        [(
            "import_module".to_string(),
            Value::native(NativeFunction::new(
                "importlib.import_module",
                |args, kwargs, ctx| {
                    let mut a = Args::new("importlib.import_module", args, kwargs);
                    let name = a.required(0, "name", ctx)?;
                    let package = a.take(1, "package");
                    a.finish(ctx)?;
                    let Some(name) = name.as_str() else {
                        return Err(ctx.type_error("the module name must be a string"));
                    };
                    if name.starts_with('.') || package.is_some_and(|p| !p.is_none()) {
                        return Err(
                            ctx.not_modeled("importlib.import_module", "a relative module name")
                        );
                    }
                    let host = ctx.host.clone();
                    Ok(host.import(name).unwrap_or_else(|| Value::opaque(name)))
                },
            )),
        )],
    )
}
