//! The builtins that read the running frame: `super()` without arguments, inside a method (the
//! defining class and the receiver come from two hidden locals that a call of a class-defined
//! function binds, as CPython's `__class__` cell and first argument do), and `globals()`, a live
//! view of the module's namespace.

use std::rc::Rc;

use super::ctx::Ctx;
use super::error::Result;
use super::native::Native;
use super::scope::Scope;
use super::value::{BoundMethod, Class, Method, Value};

/// The local naming the class whose body defined the running method.
pub(crate) const SUPER_CLASS: &str = "__class__";
/// The local holding the running method's first argument (not a valid identifier).
pub(crate) const SUPER_RECEIVER: &str = " super receiver";

/// `super()`: attribute lookup that starts after `class` in the receiver's bases.
#[derive(Debug)]
struct SuperObj {
    class: Rc<Class>,
    receiver: Value,
}

impl Native for SuperObj {
    fn type_name(&self) -> &str {
        "super"
    }

    fn getattr(&self, name: &str, ctx: &mut Ctx) -> Result<Value> {
        for base in &self.class.bases {
            let found = match base {
                Value::Class(c) => match c.lookup(name) {
                    Some(v) => Some(v),
                    None => match c.native_base() {
                        Some(n) => Some(n.instance_attr(&self.receiver, name, ctx)?),
                        None => None,
                    },
                },
                Value::Native(n) => Some(n.instance_attr(&self.receiver, name, ctx)?),
                _ => None,
            };
            match found {
                Some(Value::Function(f)) => {
                    return Ok(Value::BoundMethod(Rc::new(BoundMethod {
                        receiver: self.receiver.clone(),
                        method: Method::Function(f),
                    })))
                }
                Some(other) => return Ok(other),
                None => {}
            }
        }
        Err(ctx.raise(
            "AttributeError",
            format!("'super' object has no attribute '{name}'"),
        ))
    }
}

impl Ctx {
    /// `super()` in `scope`.
    pub(crate) fn zero_argument_super(&mut self, scope: &Rc<Scope>) -> Result<Value> {
        match (scope.lookup(SUPER_CLASS), scope.lookup(SUPER_RECEIVER)) {
            (Some(Value::Class(class)), Some(receiver)) => {
                Ok(Value::native(SuperObj { class, receiver }))
            }
            _ => Err(self.raise("RuntimeError", "super(): no arguments")),
        }
    }
}

/// `globals()`: the module namespace itself, read and written through.
#[derive(Debug)]
struct GlobalsView(super::value::Namespace);

pub(crate) fn globals_view(scope: &Rc<Scope>) -> Value {
    Value::native(GlobalsView(scope.globals.clone()))
}

impl GlobalsView {
    fn name(index: &Value, ctx: &Ctx) -> Result<String> {
        index
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| ctx.type_error("globals() keys are strings here"))
    }
}

impl Native for GlobalsView {
    fn type_name(&self) -> &str {
        "dict"
    }

    fn getitem(&self, index: &Value, ctx: &mut Ctx) -> Result<Value> {
        let name = Self::name(index, ctx)?;
        self.0
            .get(&name)
            .ok_or_else(|| ctx.raise("KeyError", name.clone()))
    }

    fn setitem(&self, index: &Value, value: Value, ctx: &mut Ctx) -> Result<()> {
        let name = Self::name(index, ctx)?;
        self.0.set(name, value);
        Ok(())
    }

    fn contains(&self, item: &Value, ctx: &mut Ctx) -> Result<bool> {
        Ok(self.0.contains(&Self::name(item, ctx)?))
    }

    fn getattr(&self, name: &str, ctx: &mut Ctx) -> Result<Value> {
        match name {
            "get" => {
                let ns = self.0.clone();
                Ok(Value::native(super::native::NativeFunction::new(
                    "dict.get",
                    move |args, kwargs, ctx| {
                        let mut a = super::native::Args::new("dict.get", args, kwargs);
                        let key = a.required(0, "key", ctx)?;
                        let default = a.take(1, "default").unwrap_or(Value::None);
                        a.finish(ctx)?;
                        let key = GlobalsView::name(&key, ctx)?;
                        Ok(ns.get(&key).unwrap_or(default))
                    },
                )))
            }
            _ => Err(ctx.native_unsupported("globals()", format!("reading attribute `{name}`"))),
        }
    }
}
