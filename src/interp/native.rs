//! Host objects: the seam where the emulation layer (`alembic.op`, `sqlalchemy`, ...) plugs in.
//!
//! A host object implements [`Native`]. Every hook has a default that refuses with a typed
//! "not supported" error naming the object and the operation, so an emulation only writes the
//! hooks it models and everything else fails loudly instead of guessing. [`NativeFunction`]
//! turns a closure into a callable, and [`Args`] takes apart positional and keyword arguments.

use std::any::Any;
use std::fmt;
use std::rc::Rc;

use super::ctx::Ctx;
use super::error::{Raised, Result};
use super::value::Value;
use crate::script::ast::{BinOp, CmpOp, UnaryOp};

/// A value the host provides. Natives are shared as `Rc<dyn Native>`; interior mutability is
/// theirs to choose. Downcast with [`Value::downcast_native`].
pub trait Native: fmt::Debug + Any {
    /// Shown in error messages, e.g. `Operations` or `sqlalchemy.Column`.
    fn type_name(&self) -> &str;

    /// `obj.name`.
    fn getattr(&self, name: &str, ctx: &mut Ctx) -> Result<Value> {
        Err(ctx.native_unsupported(self.type_name(), format!("reading attribute `{name}`")))
    }

    /// `obj.name = value`.
    fn setattr(&self, name: &str, value: Value, ctx: &mut Ctx) -> Result<()> {
        let _ = value;
        Err(ctx.native_unsupported(self.type_name(), format!("setting attribute `{name}`")))
    }

    /// `obj(*args, **kwargs)`.
    fn call(&self, args: Vec<Value>, kwargs: Vec<(String, Value)>, ctx: &mut Ctx) -> Result<Value> {
        let _ = (args, kwargs);
        Err(ctx.native_unsupported(self.type_name(), "calling it"))
    }

    /// `obj.name(*args, **kwargs)`, called after the arguments are evaluated. By default the
    /// attribute is read and called; override to implement methods directly.
    fn call_method(
        self: Rc<Self>,
        name: &str,
        args: Vec<Value>,
        kwargs: Vec<(String, Value)>,
        ctx: &mut Ctx,
    ) -> Result<Value> {
        let method = self.getattr(name, ctx)?;
        ctx.call(&method, args, kwargs)
    }

    /// `Cls(*args, **kwargs)` where `Cls` is a user class deriving from this object: the
    /// instance, with `Cls`'s own `__init__` run as the host sees fit. By default refused.
    fn construct(
        &self,
        class: &Rc<super::value::Class>,
        args: Vec<Value>,
        kwargs: Vec<(String, Value)>,
        ctx: &mut Ctx,
    ) -> Result<Value> {
        let _ = (args, kwargs);
        Err(ctx.native_unsupported(
            self.type_name(),
            format!("instantiating `{}`, a class derived from it", class.name),
        ))
    }

    /// `instance.name` (or `super().name`) for an instance of a user class deriving from this
    /// object, when no Python class in between defines `name`.
    fn instance_attr(&self, receiver: &Value, name: &str, ctx: &mut Ctx) -> Result<Value> {
        let _ = receiver;
        Err(ctx.native_unsupported(
            self.type_name(),
            format!("reading attribute `{name}` of an instance of a derived class"),
        ))
    }

    /// `obj[index]`.
    fn getitem(&self, index: &Value, ctx: &mut Ctx) -> Result<Value> {
        let _ = index;
        Err(ctx.native_unsupported(self.type_name(), "subscripting it"))
    }

    /// `obj[index] = value`.
    fn setitem(&self, index: &Value, value: Value, ctx: &mut Ctx) -> Result<()> {
        let _ = (index, value);
        Err(ctx.native_unsupported(self.type_name(), "assigning to an item of it"))
    }

    /// `with obj as x:` — the value bound to `x`.
    fn enter(&self, ctx: &mut Ctx) -> Result<Value> {
        Err(ctx.native_unsupported(self.type_name(), "using it in `with`"))
    }

    /// The end of a `with` block: `raised` is the Python exception leaving the block, if any.
    /// Return true to suppress it. Not called when a plan error ends the evaluation.
    fn exit(&self, raised: Option<&Raised>, ctx: &mut Ctx) -> Result<bool> {
        let _ = (raised, ctx);
        Ok(false)
    }

    /// The items of `for x in obj` (iteration is eager).
    /// A statement's result in a loop that runs it until a run changes fewer than `bound`
    /// rows (`if r.rowcount < bound: break`; `<= 0` is a bound of 1): return true when the
    /// statement will be repeated so by whoever runs it, which makes the loop one pass.
    fn repeat_while_changing(&self, bound: u64, ctx: &mut Ctx) -> Result<bool> {
        let _ = (bound, ctx);
        Ok(false)
    }

    fn iter(&self, ctx: &mut Ctx) -> Result<Vec<Value>> {
        Err(ctx.native_unsupported(self.type_name(), "iterating over it"))
    }

    /// `len(obj)`.
    fn len(&self, ctx: &mut Ctx) -> Result<usize> {
        Err(ctx.native_unsupported(self.type_name(), "taking its length"))
    }

    /// `item in obj`; by default, equality against the items of `iter`.
    fn contains(&self, item: &Value, ctx: &mut Ctx) -> Result<bool> {
        for v in self.iter(ctx)? {
            if ctx.equals(&v, item)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// `bool(obj)`, `if obj:`.
    fn truth(&self, ctx: &mut Ctx) -> Result<bool> {
        Err(ctx.native_unsupported(self.type_name(), "testing its truth value"))
    }

    /// Plain equality, used by `in`, `list.index`, `==` when `compare` declines, and so on.
    /// Defaults to identity.
    fn eq(&self, other: &Value, ctx: &mut Ctx) -> Result<bool> {
        let _ = ctx;
        Ok(match other {
            Value::Native(o) => std::ptr::addr_eq(self as *const Self, Rc::as_ptr(o)),
            _ => false,
        })
    }

    /// A rich comparison in an expression (`obj == x`, `x < obj`, ...; `reflected` when the
    /// host object is on the right). `None` declines: `==`/`!=` then use [`Native::eq`], and
    /// ordering fails as unsupported. SQL expression builders return expression objects here.
    fn compare(
        &self,
        op: CmpOp,
        other: &Value,
        reflected: bool,
        ctx: &mut Ctx,
    ) -> Result<Option<Value>> {
        let _ = (op, other, reflected, ctx);
        Ok(None)
    }

    /// A binary operator with the host object on the left, or on the right if `reflected`.
    fn binary(&self, op: BinOp, other: &Value, reflected: bool, ctx: &mut Ctx) -> Result<Value> {
        let _ = (other, reflected);
        Err(ctx.native_unsupported(self.type_name(), format!("the operator {op:?}")))
    }

    /// `-obj`, `+obj`, `~obj` (`not obj` uses `truth`).
    fn unary(&self, op: UnaryOp, ctx: &mut Ctx) -> Result<Value> {
        Err(ctx.native_unsupported(self.type_name(), format!("the unary operator {op:?}")))
    }

    /// `str(obj)`, f-string interpolation.
    fn str(&self, ctx: &mut Ctx) -> Result<String> {
        Err(ctx.native_unsupported(self.type_name(), "converting it to a string"))
    }

    /// `repr(obj)`, `{obj!r}`.
    fn repr(&self, ctx: &mut Ctx) -> Result<String> {
        Err(ctx.native_unsupported(self.type_name(), "taking its repr"))
    }

    /// `isinstance(value, obj)` when the host object stands for a class.
    fn is_instance(&self, value: &Value, ctx: &mut Ctx) -> Result<bool> {
        let _ = value;
        Err(ctx.native_unsupported(self.type_name(), "using it as a class in isinstance"))
    }
}

impl dyn Native {
    /// The host object as `Any`, for downcasting (see also [`Value::downcast_native`]).
    pub fn as_any(&self) -> &dyn Any {
        self
    }
}

type NativeFn = dyn Fn(Vec<Value>, Vec<(String, Value)>, &mut Ctx) -> Result<Value>;

/// A host function from a closure: `Value::native(NativeFunction::new("op.execute", |args, kw, ctx| ...))`.
pub struct NativeFunction {
    name: String,
    f: Box<NativeFn>,
}

impl NativeFunction {
    pub fn new(
        name: impl Into<String>,
        f: impl Fn(Vec<Value>, Vec<(String, Value)>, &mut Ctx) -> Result<Value> + 'static,
    ) -> Self {
        NativeFunction {
            name: name.into(),
            f: Box::new(f),
        }
    }
}

impl fmt::Debug for NativeFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<function {}>", self.name)
    }
}

impl Native for NativeFunction {
    fn type_name(&self) -> &str {
        &self.name
    }

    fn call(&self, args: Vec<Value>, kwargs: Vec<(String, Value)>, ctx: &mut Ctx) -> Result<Value> {
        (self.f)(args, kwargs, ctx)
    }
}

/// Positional and keyword arguments of a host call, taken apart by position or name. Call
/// [`Args::finish`] last so that arguments the host does not model are reported.
#[derive(Debug)]
pub struct Args {
    callee: String,
    positional: Vec<Option<Value>>,
    keywords: Vec<(String, Option<Value>)>,
}

impl Args {
    pub fn new(callee: impl Into<String>, args: Vec<Value>, kwargs: Vec<(String, Value)>) -> Self {
        Args {
            callee: callee.into(),
            positional: args.into_iter().map(Some).collect(),
            keywords: kwargs.into_iter().map(|(k, v)| (k, Some(v))).collect(),
        }
    }

    /// The argument at `index` or named `name`, if given.
    pub fn take(&mut self, index: usize, name: &str) -> Option<Value> {
        if let Some(v) = self.positional.get_mut(index).and_then(Option::take) {
            return Some(v);
        }
        self.keyword(name)
    }

    /// The keyword argument `name`, if given.
    pub fn keyword(&mut self, name: &str) -> Option<Value> {
        self.keywords
            .iter_mut()
            .find(|(k, v)| k == name && v.is_some())
            .and_then(|(_, v)| v.take())
    }

    /// Like [`Args::take`], but missing is an error.
    pub fn required(&mut self, index: usize, name: &str, ctx: &Ctx) -> Result<Value> {
        self.take(index, name).ok_or_else(|| {
            ctx.native_error(&self.callee, format!("missing required argument `{name}`"))
        })
    }

    /// The positional arguments from `from` on that are not taken yet (for `*args`).
    pub fn rest(&mut self, from: usize) -> Vec<Value> {
        self.positional
            .iter_mut()
            .skip(from)
            .filter_map(Option::take)
            .collect()
    }

    /// The keyword arguments not taken yet (for `**kwargs`).
    pub fn rest_keywords(&mut self) -> Vec<(String, Value)> {
        self.keywords
            .iter_mut()
            .filter_map(|(k, v)| v.take().map(|v| (k.clone(), v)))
            .collect()
    }

    /// Fails if any argument was left untaken.
    pub fn finish(self, ctx: &Ctx) -> Result<()> {
        if let Some(i) = self.positional.iter().position(Option::is_some) {
            return Err(ctx.native_error(
                &self.callee,
                format!("positional argument {} is not modeled", i + 1),
            ));
        }
        if let Some((k, _)) = self.keywords.iter().find(|(_, v)| v.is_some()) {
            return Err(ctx.native_error(
                &self.callee,
                format!("keyword argument `{k}` is not modeled"),
            ));
        }
        Ok(())
    }
}
