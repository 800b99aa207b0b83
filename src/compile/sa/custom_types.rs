//! User classes deriving from SQLAlchemy's type classes, as projects define them in their own
//! package: `TypeDecorator` subclasses (`impl`, `load_dialect_impl`, `cache_ok`) and subclasses
//! of a concrete type (`class TIMESTAMP(sa.TIMESTAMP)` whose `__init__` changes a default and
//! calls `super().__init__`).
//!
//! An instance is an ordinary Python instance of the user class. What its SQLAlchemy base
//! receives as constructor arguments (directly, or through `super().__init__`) is kept in a
//! hidden attribute. It becomes an `SqlType` where a column takes it, against the dialect the
//! scripts run on, as SQLAlchemy's DDL compiler does: a decorator's `load_dialect_impl(dialect)`
//! when the class defines one, else its `impl` built with the decorator's own arguments.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use crate::interp::{Class, Ctx, Instance, Native, NativeFunction, Result, Value};
use crate::ir::SqlType;

use super::type_objects::{TypeClass, TypeObj};
use super::types::{generic, TypeSpec};

/// The hidden attribute holding the base class's constructor arguments.
const BASE_ARGS: &str = " sqlalchemy base arguments";

/// Arguments the SQLAlchemy base class received.
#[derive(Debug, Default)]
struct BaseArgs {
    args: Vec<Value>,
    kwargs: Vec<(String, Value)>,
}

impl Native for BaseArgs {
    fn type_name(&self) -> &str {
        "arguments"
    }
}

fn is_decorator(spec: &'static TypeSpec) -> bool {
    generic("TypeDecorator").is_some_and(|d| spec.is_subclass_of(d))
}

/// The SQLAlchemy type class a user class derives from.
fn base_spec(class: &Class) -> Option<&'static TypeSpec> {
    let native = class.native_base()?;
    native.as_any().downcast_ref::<TypeClass>().map(|t| t.0)
}

fn record(instance: &Value, args: Vec<Value>, kwargs: Vec<(String, Value)>) {
    if let Value::Instance(i) = instance {
        i.attrs.borrow_mut().insert(
            BASE_ARGS.to_string(),
            Value::native(BaseArgs { args, kwargs }),
        );
    }
}

fn recorded(instance: &Instance) -> (Vec<Value>, Vec<(String, Value)>) {
    match instance.attrs.borrow().get(BASE_ARGS) {
        Some(v) => match v.downcast_native::<BaseArgs>() {
            Some(b) => (b.args.clone(), b.kwargs.clone()),
            None => Default::default(),
        },
        None => Default::default(),
    }
}

/// `UserType(*args, **kwargs)`: the instance, its own `__init__` run when it has one.
pub(crate) fn construct(
    class: &Rc<Class>,
    args: Vec<Value>,
    kwargs: Vec<(String, Value)>,
    ctx: &mut Ctx,
) -> Result<Value> {
    let instance = Value::Instance(Rc::new(Instance {
        class: class.clone(),
        attrs: RefCell::new(HashMap::new()),
    }));
    match class.lookup("__init__") {
        Some(init @ Value::Function(_)) => {
            record(&instance, Vec::new(), Vec::new());
            let mut all = vec![instance.clone()];
            all.extend(args);
            let result = ctx.call(&init, all, kwargs)?;
            if !result.is_none() {
                return Err(ctx.type_error("__init__() should return None"));
            }
        }
        _ => record(&instance, args, kwargs),
    }
    Ok(instance)
}

/// `self.name` / `super().name` where the SQLAlchemy base class answers.
pub(crate) fn instance_attr(
    spec: &'static TypeSpec,
    receiver: &Value,
    name: &str,
    ctx: &mut Ctx,
) -> Result<Value> {
    let receiver = receiver.clone();
    match name {
        "__init__" => Ok(Value::native(NativeFunction::new(
            format!("{}.__init__", spec.name),
            move |args, kwargs, _ctx| {
                record(&receiver, args, kwargs);
                Ok(Value::None)
            },
        ))),
        "load_dialect_impl" if is_decorator(spec) => Ok(Value::native(NativeFunction::new(
            "TypeDecorator.load_dialect_impl",
            move |_args, _kwargs, ctx| {
                let ty = implementation(&receiver, ctx)?;
                Ok(super::type_objects::type_value(&ty))
            },
        ))),
        "impl" | "impl_instance" if is_decorator(spec) => {
            let ty = implementation(&receiver, ctx)?;
            Ok(super::type_objects::type_value(&ty))
        }
        _ => Err(ctx.native_unsupported(
            spec.name,
            format!("reading attribute `{name}` of an instance of a derived class"),
        )),
    }
}

/// A user type class or instance as an `SqlType`, or `None` when `v` is neither.
pub(crate) fn resolve(v: &Value, ctx: &mut Ctx) -> Option<Result<SqlType>> {
    let instance = match v {
        Value::Class(c) => {
            base_spec(c)?;
            match construct(c, Vec::new(), Vec::new(), ctx) {
                Ok(i) => i,
                Err(e) => return Some(Err(e)),
            }
        }
        Value::Instance(i) => {
            base_spec(&i.class)?;
            v.clone()
        }
        _ => return None,
    };
    Some(sql_type(&instance, ctx))
}

/// Whether `v` is a user type class or an instance of one.
pub(crate) fn is_user_type(v: &Value) -> bool {
    match v {
        Value::Class(c) => base_spec(c).is_some(),
        Value::Instance(i) => base_spec(&i.class).is_some(),
        _ => false,
    }
}

/// Whether `v` is an instance of a user type class deriving from `spec`.
pub(crate) fn is_instance_of(v: &Value, spec: &'static TypeSpec) -> bool {
    match v {
        Value::Instance(i) => base_spec(&i.class).is_some_and(|s| s.is_subclass_of(spec)),
        _ => false,
    }
}

fn sql_type(instance: &Value, ctx: &mut Ctx) -> Result<SqlType> {
    let Value::Instance(i) = instance else {
        unreachable!("resolve passes instances only")
    };
    let spec = base_spec(&i.class).expect("resolve checked the base");
    if !is_decorator(spec) {
        let (args, kwargs) = recorded(i);
        return TypeClass(spec).build(args, kwargs, ctx);
    }
    match i.class.lookup("load_dialect_impl") {
        Some(f @ Value::Function(_)) => {
            let dialect = ctx.host_dialect().ok_or_else(|| {
                ctx.native_unsupported(
                    "TypeDecorator.load_dialect_impl",
                    "calling it without a dialect",
                )
            })?;
            let chosen = ctx.call(&f, vec![instance.clone(), dialect], Vec::new())?;
            super::type_objects::to_type(&chosen, ctx)
        }
        _ => implementation(instance, ctx),
    }
}

/// A decorator's `impl`, built as SQLAlchemy builds it: a class takes the decorator's own
/// constructor arguments, an instance is used as it is.
fn implementation(instance: &Value, ctx: &mut Ctx) -> Result<SqlType> {
    let Value::Instance(i) = instance else {
        return Err(ctx.native_unsupported("TypeDecorator", "an impl outside an instance"));
    };
    let spec = base_spec(&i.class).expect("an instance of a user type class");
    let Some(imp) = i.class.lookup("impl") else {
        if generic("TypeDecorator").is_some_and(|d| !std::ptr::eq(spec, d)) {
            // A subclass of a decorator SQLAlchemy ships (`PickleType`): its own impl.
            let (args, kwargs) = recorded(i);
            return TypeClass(spec).build(args, kwargs, ctx);
        }
        return Err(ctx.raise(
            "AssertionError",
            format!(
                "TypeDecorator implementations require a class-level variable 'impl' which refers to the class of type being decorated ({})",
                i.class.name
            ),
        ));
    };
    let (args, kwargs) = recorded(i);
    if let Some(c) = imp.downcast_native::<TypeClass>() {
        return c.build(args, kwargs, ctx);
    }
    if let Some(t) = imp.downcast_native::<TypeObj>() {
        return Ok(t.ty.clone());
    }
    if let Value::Class(c) = &imp {
        if base_spec(c).is_some() {
            let inner = construct(c, args, kwargs, ctx)?;
            return sql_type(&inner, ctx);
        }
    }
    super::type_objects::to_type(&imp, ctx)
}
