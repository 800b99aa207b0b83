//! Host objects for the specifications: a recording `op` with a configurable dialect, and a
//! permissive stand-in for every module (used by the MLflow smoke test).

use std::cell::RefCell;
use std::rc::Rc;

use crate::interp::{Ctx, Host, Native, NativeFunction, Raised, Result, Value};
use crate::script::ast::{BinOp, CmpOp, UnaryOp};

/// The shared log of calls a fake host records.
pub(crate) type Log = Rc<RefCell<Vec<String>>>;

fn record(
    log: &Log,
    ctx: &mut Ctx,
    name: &str,
    args: &[Value],
    kwargs: &[(String, Value)],
) -> Result<()> {
    let mut parts = Vec::new();
    for a in args {
        parts.push(ctx.to_repr(a).unwrap_or_else(|_| format!("{a:?}")));
    }
    for (k, v) in kwargs {
        let v = ctx.to_repr(v).unwrap_or_else(|_| format!("{v:?}"));
        parts.push(format!("{k}={v}"));
    }
    log.borrow_mut()
        .push(format!("{name}({})", parts.join(", ")));
    Ok(())
}

/// `alembic.op` with `get_bind()`/`get_context()` answering `dialect.name`, recording every
/// other call, and `batch_alter_table` as a context manager.
#[derive(Debug)]
pub(crate) struct FakeOp {
    pub dialect: String,
    pub log: Log,
}

#[derive(Debug)]
struct FakeBind {
    dialect: String,
}

#[derive(Debug)]
struct FakeBatch {
    table: String,
    log: Log,
}

impl Native for FakeOp {
    fn type_name(&self) -> &str {
        "alembic.op"
    }

    fn getattr(&self, name: &str, _ctx: &mut Ctx) -> Result<Value> {
        let dialect = self.dialect.clone();
        let log = self.log.clone();
        Ok(match name {
            "get_bind" | "get_context" => {
                Value::native(NativeFunction::new(format!("op.{name}"), move |_, _, _| {
                    Ok(Value::native(FakeBind {
                        dialect: dialect.clone(),
                    }))
                }))
            }
            "batch_alter_table" => Value::native(NativeFunction::new(
                "op.batch_alter_table",
                move |args, kwargs, ctx| {
                    record(&log, ctx, "batch_alter_table", &args, &kwargs)?;
                    let table = args
                        .first()
                        .and_then(Value::as_str)
                        .unwrap_or("?")
                        .to_string();
                    Ok(Value::native(FakeBatch {
                        table,
                        log: log.clone(),
                    }))
                },
            )),
            other => {
                let name = other.to_string();
                Value::native(NativeFunction::new(
                    format!("op.{other}"),
                    move |args, kwargs, ctx| {
                        record(&log, ctx, &name, &args, &kwargs)?;
                        Ok(Value::None)
                    },
                ))
            }
        })
    }
}

impl Native for FakeBind {
    fn type_name(&self) -> &str {
        "Connection"
    }

    fn getattr(&self, name: &str, ctx: &mut Ctx) -> Result<Value> {
        match name {
            "dialect" | "engine" => Ok(Value::native(FakeBind {
                dialect: self.dialect.clone(),
            })),
            "name" => Ok(Value::str(&self.dialect)),
            other => {
                Err(ctx.native_unsupported("Connection", format!("reading attribute `{other}`")))
            }
        }
    }
}

impl Native for FakeBatch {
    fn type_name(&self) -> &str {
        "BatchOperations"
    }

    /// Methods implemented directly, without bound-method values.
    fn call_method(
        self: Rc<Self>,
        name: &str,
        args: Vec<Value>,
        kwargs: Vec<(String, Value)>,
        ctx: &mut Ctx,
    ) -> Result<Value> {
        record(
            &self.log,
            ctx,
            &format!("batch[{}].{name}", self.table),
            &args,
            &kwargs,
        )?;
        Ok(Value::None)
    }

    fn enter(&self, _ctx: &mut Ctx) -> Result<Value> {
        self.log
            .borrow_mut()
            .push(format!("enter batch[{}]", self.table));
        Ok(Value::native(FakeBatch {
            table: self.table.clone(),
            log: self.log.clone(),
        }))
    }

    fn exit(&self, raised: Option<&Raised>, _ctx: &mut Ctx) -> Result<bool> {
        let how = if raised.is_some() {
            "with an exception"
        } else {
            "normally"
        };
        self.log
            .borrow_mut()
            .push(format!("exit batch[{}] {how}", self.table));
        Ok(false)
    }
}

/// A host with `alembic.op` as a [`FakeOp`] and `sqlalchemy` as a permissive stand-in.
pub(crate) struct OpHost {
    pub dialect: String,
    pub log: Log,
}

impl OpHost {
    pub fn new(dialect: &str) -> Rc<OpHost> {
        Rc::new(OpHost {
            dialect: dialect.to_string(),
            log: Log::default(),
        })
    }
}

impl Host for OpHost {
    fn import(&self, module: &str) -> Option<Value> {
        match module {
            "alembic" => Some(Value::module(
                "alembic",
                [(
                    "op".to_string(),
                    Value::native(FakeOp {
                        dialect: self.dialect.clone(),
                        log: self.log.clone(),
                    }),
                )],
            )),
            "sqlalchemy" => Some(Value::native(Anything::new("sqlalchemy", self.log.clone()))),
            _ => None,
        }
    }
}

/// Says yes to everything, records calls, and answers the questions scripts ask so that they
/// run to the end: the dialect is SQLite, queries return no rows, nothing is true.
#[derive(Debug)]
pub(crate) struct Anything {
    path: String,
    log: Log,
}

impl Anything {
    pub fn new(path: &str, log: Log) -> Anything {
        Anything {
            path: path.to_string(),
            log,
        }
    }

    fn child(&self, suffix: &str) -> Value {
        Value::native(Anything::new(
            &format!("{}{suffix}", self.path),
            self.log.clone(),
        ))
    }
}

impl Native for Anything {
    fn type_name(&self) -> &str {
        &self.path
    }

    fn getattr(&self, name: &str, _ctx: &mut Ctx) -> Result<Value> {
        if name == "name" && (self.path.ends_with("dialect") || self.path.ends_with("engine")) {
            return Ok(Value::str("sqlite"));
        }
        let empty: Option<Value> = match name {
            "first" | "scalar" | "scalar_one_or_none" | "fetchone" | "one_or_none" => {
                Some(Value::None)
            }
            "all"
            | "fetchall"
            | "get_table_names"
            | "get_columns"
            | "get_indexes"
            | "get_foreign_keys"
            | "get_unique_constraints" => Some(Value::list(Vec::new())),
            _ => None,
        };
        if let Some(result) = empty {
            return Ok(Value::native(NativeFunction::new(name, move |_, _, _| {
                Ok(result.clone())
            })));
        }
        Ok(self.child(&format!(".{name}")))
    }

    fn setattr(&self, _name: &str, _value: Value, _ctx: &mut Ctx) -> Result<()> {
        Ok(())
    }

    fn call(&self, args: Vec<Value>, kwargs: Vec<(String, Value)>, ctx: &mut Ctx) -> Result<Value> {
        record(&self.log, ctx, &self.path, &args, &kwargs)?;
        Ok(self.child("()"))
    }

    fn getitem(&self, _index: &Value, _ctx: &mut Ctx) -> Result<Value> {
        Ok(self.child("[]"))
    }

    fn enter(&self, _ctx: &mut Ctx) -> Result<Value> {
        Ok(self.child(""))
    }

    fn iter(&self, _ctx: &mut Ctx) -> Result<Vec<Value>> {
        Ok(Vec::new())
    }

    fn len(&self, _ctx: &mut Ctx) -> Result<usize> {
        Ok(0)
    }

    fn truth(&self, _ctx: &mut Ctx) -> Result<bool> {
        Ok(false)
    }

    fn compare(
        &self,
        _op: CmpOp,
        _other: &Value,
        _reflected: bool,
        _ctx: &mut Ctx,
    ) -> Result<Option<Value>> {
        Ok(Some(self.child(" <cmp>")))
    }

    fn binary(
        &self,
        _op: BinOp,
        _other: &Value,
        _reflected: bool,
        _ctx: &mut Ctx,
    ) -> Result<Value> {
        Ok(self.child(" <op>"))
    }

    fn unary(&self, _op: UnaryOp, _ctx: &mut Ctx) -> Result<Value> {
        Ok(self.child(" <unary>"))
    }

    fn str(&self, _ctx: &mut Ctx) -> Result<String> {
        Ok(self.path.clone())
    }

    fn repr(&self, _ctx: &mut Ctx) -> Result<String> {
        Ok(format!("<{}>", self.path))
    }

    fn is_instance(&self, _value: &Value, _ctx: &mut Ctx) -> Result<bool> {
        Ok(false)
    }
}

/// Every import is an [`Anything`], except those `opaque` lists (prefix match).
pub(crate) struct PermissiveHost {
    pub log: Log,
    pub opaque: Vec<&'static str>,
}

impl Host for PermissiveHost {
    fn import(&self, module: &str) -> Option<Value> {
        if self
            .opaque
            .iter()
            .any(|p| module == *p || module.starts_with(&format!("{p}.")))
        {
            return None;
        }
        Some(Value::native(Anything::new(module, self.log.clone())))
    }
}
