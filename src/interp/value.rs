//! Runtime values: Python's built-in types, user functions and classes, modules, host objects
//! (`Native`) and unmodeled imports (`Opaque`).

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::rc::Rc;

use super::dict::Dict;
use super::native::Native;
use super::scope::Scope;
use crate::script::ast::{Expr, Stmt};

/// A Python value. Containers are shared (`Rc`): assignment aliases, as in Python.
#[derive(Clone)]
pub enum Value {
    None,
    Ellipsis,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Rc<str>),
    Bytes(Rc<[u8]>),
    List(Rc<RefCell<Vec<Value>>>),
    Tuple(Rc<[Value]>),
    Dict(Rc<RefCell<Dict>>),
    /// A set: a `Dict` whose values are unused.
    Set(Rc<RefCell<Dict>>),
    FrozenSet(Rc<Dict>),
    Range(Range),
    /// An iterator from `iter()` or a generator expression (evaluated eagerly).
    Iterator(Rc<RefCell<SeqIter>>),
    /// A user `def` or `lambda`.
    Function(Rc<Function>),
    BoundMethod(Rc<BoundMethod>),
    /// A built-in function such as `len`, by name.
    Builtin(&'static str),
    /// A built-in type such as `str` or `dict`.
    Type(TypeKind),
    /// A user `class`, or a built-in exception class.
    Class(Rc<Class>),
    Instance(Rc<Instance>),
    Module(Rc<ModuleObj>),
    Native(Rc<dyn Native>),
    Opaque(Rc<Opaque>),
}

/// `range(start, stop, step)`; `step` is never zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub start: i64,
    pub stop: i64,
    pub step: i64,
}

impl Range {
    pub fn len(&self) -> i64 {
        let (lo, hi, step) = if self.step > 0 {
            (self.start, self.stop, self.step)
        } else {
            (self.stop, self.start, -self.step)
        };
        if hi <= lo {
            0
        } else {
            ((hi as i128 - lo as i128 - 1) / step as i128 + 1).min(i64::MAX as i128) as i64
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, i: i64) -> i64 {
        self.start.saturating_add(self.step.saturating_mul(i))
    }
}

/// The state of an `iter()` iterator.
#[derive(Debug, Default)]
pub struct SeqIter {
    pub items: Vec<Value>,
    pub next: usize,
}

/// The built-in types that can be named in scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TypeKind {
    NoneType,
    Bool,
    Int,
    Float,
    Str,
    Bytes,
    List,
    Tuple,
    Dict,
    Set,
    FrozenSet,
    Range,
    Object,
    Type,
}

impl TypeKind {
    pub fn name(self) -> &'static str {
        match self {
            TypeKind::NoneType => "NoneType",
            TypeKind::Bool => "bool",
            TypeKind::Int => "int",
            TypeKind::Float => "float",
            TypeKind::Str => "str",
            TypeKind::Bytes => "bytes",
            TypeKind::List => "list",
            TypeKind::Tuple => "tuple",
            TypeKind::Dict => "dict",
            TypeKind::Set => "set",
            TypeKind::FrozenSet => "frozenset",
            TypeKind::Range => "range",
            TypeKind::Object => "object",
            TypeKind::Type => "type",
        }
    }
}

/// A module-level or class namespace: shared and mutable.
#[derive(Clone, Default)]
pub struct Namespace(Rc<RefCell<HashMap<String, Value>>>);

impl Namespace {
    pub fn new() -> Self {
        Namespace::default()
    }

    /// A handle that does not keep the namespace alive.
    pub(crate) fn weak(&self) -> std::rc::Weak<RefCell<HashMap<String, Value>>> {
        Rc::downgrade(&self.0)
    }

    pub fn get(&self, name: &str) -> Option<Value> {
        self.0.borrow().get(name).cloned()
    }

    pub fn set(&self, name: impl Into<String>, value: Value) {
        self.0.borrow_mut().insert(name.into(), value);
    }

    pub fn remove(&self, name: &str) -> Option<Value> {
        self.0.borrow_mut().remove(name)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.0.borrow().contains_key(name)
    }

    /// The names bound, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.0.borrow().keys().cloned().collect();
        names.sort();
        names
    }
}

impl fmt::Debug for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

/// The code of a function: a `def` block or a `lambda` expression.
#[derive(Debug)]
pub(crate) enum Body {
    Block(Vec<Stmt>),
    /// A body that yields: a call returns a generator that runs it later.
    Generator(Vec<Stmt>),
    Expr(Expr),
}

/// A user function (`def` or `lambda`), with its defaults evaluated at definition time and
/// the scope it closes over.
pub struct Function {
    pub name: String,
    /// `C.method`, `outer.<locals>.inner`: used in error messages, as Python does.
    pub qualname: String,
    pub(crate) positional: Vec<String>,
    pub(crate) defaults: Vec<Option<Value>>,
    pub(crate) vararg: Option<String>,
    pub(crate) kwonly: Vec<String>,
    pub(crate) kw_defaults: Vec<Option<Value>>,
    pub(crate) kwarg: Option<String>,
    pub(crate) body: Body,
    pub(crate) closure: Rc<Scope>,
    pub(crate) path: Rc<Path>,
    /// The class whose body defined this function (for `super()` without arguments).
    pub(crate) owner: std::cell::OnceCell<std::rc::Weak<Class>>,
}

impl fmt::Debug for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<function {}>", self.name)
    }
}

/// A method bound to its receiver.
#[derive(Debug)]
pub struct BoundMethod {
    pub receiver: Value,
    pub method: Method,
}

#[derive(Debug, Clone)]
pub enum Method {
    /// A user function found on a class.
    Function(Rc<Function>),
    /// A built-in method of a built-in type (`str.join`, `list.append`, ...), by name.
    Builtin(&'static str),
}

/// A class: user-defined, or one of the built-in exception classes.
pub struct Class {
    pub name: String,
    /// `Value::Class` or host objects (for example a declarative base).
    pub bases: Vec<Value>,
    pub namespace: Namespace,
}

impl Class {
    /// A class deriving from `bases`, with an empty namespace (hosts use this to model
    /// exception classes such as `MlflowException`).
    pub fn new(name: impl Into<String>, bases: Vec<Value>) -> Rc<Class> {
        Rc::new(Class {
            name: name.into(),
            bases,
            namespace: Namespace::new(),
        })
    }

    /// Attribute lookup through the class and its bases, depth first, left to right.
    pub fn lookup(&self, name: &str) -> Option<Value> {
        if let Some(v) = self.namespace.get(name) {
            return Some(v);
        }
        self.bases.iter().find_map(|b| match b {
            Value::Class(c) => c.lookup(name),
            _ => None,
        })
    }

    /// `issubclass(self, other)`.
    pub fn is_subclass_of(&self, other: &Rc<Class>) -> bool {
        std::ptr::eq(self, Rc::as_ptr(other))
            || self.bases.iter().any(|b| match b {
                Value::Class(c) => c.is_subclass_of(other),
                _ => false,
            })
    }

    /// The first host object among the bases, searched through base classes.
    pub fn native_base(&self) -> Option<Rc<dyn Native>> {
        self.bases.iter().find_map(|b| match b {
            Value::Native(n) => Some(n.clone()),
            Value::Class(c) => c.native_base(),
            _ => None,
        })
    }
}

impl fmt::Debug for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<class '{}'>", self.name)
    }
}

/// An instance of a user class (exceptions included: their arguments are the `args` attribute).
pub struct Instance {
    pub class: Rc<Class>,
    pub attrs: RefCell<HashMap<String, Value>>,
}

impl fmt::Debug for Instance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} object>", self.class.name)
    }
}

/// A module the host provides.
#[derive(Debug)]
pub struct ModuleObj {
    pub name: String,
    pub namespace: Namespace,
}

/// Something imported that the host does not model. Any use of it is an error; `children` are
/// submodules that the host does model (`import a.b` when only `a.b` is known).
#[derive(Debug)]
pub struct Opaque {
    pub name: String,
    pub children: HashMap<String, Value>,
}

impl Value {
    pub fn str(s: &str) -> Value {
        Value::Str(Rc::from(s))
    }

    pub fn string(s: String) -> Value {
        Value::Str(Rc::from(s))
    }

    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Rc::new(RefCell::new(items)))
    }

    pub fn tuple(items: Vec<Value>) -> Value {
        Value::Tuple(Rc::from(items))
    }

    pub fn native(n: impl Native) -> Value {
        Value::Native(Rc::new(n))
    }

    /// A dict with string keys, in the given order.
    pub fn dict_of_str(items: impl IntoIterator<Item = (String, Value)>) -> Value {
        let mut d = Dict::new();
        for (k, v) in items {
            let key: Rc<str> = Rc::from(k);
            d.insert(super::dict::Key::Str(key.clone()), Value::Str(key), v);
        }
        Value::Dict(Rc::new(RefCell::new(d)))
    }

    /// A module value with the given attributes.
    pub fn module(name: &str, attrs: impl IntoIterator<Item = (String, Value)>) -> Value {
        let namespace = Namespace::new();
        for (k, v) in attrs {
            namespace.set(k, v);
        }
        Value::Module(Rc::new(ModuleObj {
            name: name.to_string(),
            namespace,
        }))
    }

    /// An unmodeled import named `name`.
    pub fn opaque(name: &str) -> Value {
        Value::Opaque(Rc::new(Opaque {
            name: name.to_string(),
            children: HashMap::new(),
        }))
    }

    pub fn is_none(&self) -> bool {
        matches!(self, Value::None)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Ints and bools.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Bool(b) => Some(*b as i64),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// A copy of the items of a list or tuple.
    pub fn as_items(&self) -> Option<Vec<Value>> {
        match self {
            Value::List(l) => Some(l.borrow().clone()),
            Value::Tuple(t) => Some(t.to_vec()),
            _ => None,
        }
    }

    /// The host object, if it is one of type `T`.
    pub fn downcast_native<T: Native>(&self) -> Option<&T> {
        match self {
            Value::Native(n) => {
                let any: &dyn std::any::Any = n.as_ref();
                any.downcast_ref::<T>()
            }
            _ => None,
        }
    }

    /// Python's `type(x).__name__`.
    pub fn type_name(&self) -> String {
        match self {
            Value::None => "NoneType".into(),
            Value::Ellipsis => "ellipsis".into(),
            Value::Bool(_) => "bool".into(),
            Value::Int(_) => "int".into(),
            Value::Float(_) => "float".into(),
            Value::Str(_) => "str".into(),
            Value::Bytes(_) => "bytes".into(),
            Value::List(_) => "list".into(),
            Value::Tuple(_) => "tuple".into(),
            Value::Dict(_) => "dict".into(),
            Value::Set(_) => "set".into(),
            Value::FrozenSet(_) => "frozenset".into(),
            Value::Range(_) => "range".into(),
            Value::Iterator(_) => "iterator".into(),
            Value::Function(_) => "function".into(),
            Value::BoundMethod(_) => "method".into(),
            Value::Builtin(_) => "builtin_function_or_method".into(),
            Value::Type(_) | Value::Class(_) => "type".into(),
            Value::Instance(i) => i.class.name.clone(),
            Value::Module(_) => "module".into(),
            Value::Native(n) => n.type_name().to_string(),
            Value::Opaque(o) => o.name.clone(),
        }
    }

    /// Identity (`is`): same object for shared values, same value for immutable scalars.
    pub fn is(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::None, Value::None) | (Value::Ellipsis, Value::Ellipsis) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Float(a), Value::Float(b)) => a.to_bits() == b.to_bits(),
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::Bytes(a), Value::Bytes(b)) => a == b,
            (Value::List(a), Value::List(b)) => Rc::ptr_eq(a, b),
            (Value::Tuple(a), Value::Tuple(b)) => {
                Rc::ptr_eq(a, b) || (a.is_empty() && b.is_empty())
            }
            (Value::Dict(a), Value::Dict(b)) | (Value::Set(a), Value::Set(b)) => Rc::ptr_eq(a, b),
            (Value::FrozenSet(a), Value::FrozenSet(b)) => Rc::ptr_eq(a, b),
            (Value::Range(a), Value::Range(b)) => a == b,
            (Value::Iterator(a), Value::Iterator(b)) => Rc::ptr_eq(a, b),
            (Value::Function(a), Value::Function(b)) => Rc::ptr_eq(a, b),
            (Value::BoundMethod(a), Value::BoundMethod(b)) => Rc::ptr_eq(a, b),
            (Value::Builtin(a), Value::Builtin(b)) => a == b,
            (Value::Type(a), Value::Type(b)) => a == b,
            (Value::Class(a), Value::Class(b)) => Rc::ptr_eq(a, b),
            (Value::Instance(a), Value::Instance(b)) => Rc::ptr_eq(a, b),
            (Value::Module(a), Value::Module(b)) => Rc::ptr_eq(a, b),
            (Value::Native(a), Value::Native(b)) => same_object(a, b),
            (Value::Opaque(a), Value::Opaque(b)) => Rc::ptr_eq(a, b),
            _ => false,
        }
    }
}

/// Identity of two host objects (by data address, ignoring vtables).
pub(crate) fn same_object(a: &Rc<dyn Native>, b: &Rc<dyn Native>) -> bool {
    std::ptr::addr_eq(Rc::as_ptr(a), Rc::as_ptr(b))
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::None => write!(f, "None"),
            Value::Ellipsis => write!(f, "Ellipsis"),
            Value::Bool(b) => write!(f, "{}", if *b { "True" } else { "False" }),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{}", super::format::float_repr(*x)),
            Value::Str(s) => write!(f, "{}", super::format::str_repr(s)),
            Value::Bytes(b) => write!(f, "{}", super::format::bytes_repr(b)),
            Value::List(l) => f.debug_list().entries(l.borrow().iter()).finish(),
            Value::Tuple(t) => {
                let mut d = f.debug_tuple("");
                for v in t.iter() {
                    d.field(v);
                }
                d.finish()
            }
            Value::Dict(d) => f.debug_map().entries(d.borrow().iter()).finish(),
            Value::Set(d) => f
                .debug_set()
                .entries(d.borrow().iter().map(|(k, _)| k))
                .finish(),
            Value::FrozenSet(d) => f.debug_set().entries(d.iter().map(|(k, _)| k)).finish(),
            Value::Range(r) => write!(f, "range({}, {}, {})", r.start, r.stop, r.step),
            Value::Iterator(_) => write!(f, "<iterator>"),
            Value::Function(func) => write!(f, "{func:?}"),
            Value::BoundMethod(m) => write!(f, "<bound method of {:?}>", m.receiver),
            Value::Builtin(name) => write!(f, "<built-in function {name}>"),
            Value::Type(t) => write!(f, "<class '{}'>", t.name()),
            Value::Class(c) => write!(f, "{c:?}"),
            Value::Instance(i) => write!(f, "{i:?}"),
            Value::Module(m) => write!(f, "<module '{}'>", m.name),
            Value::Native(n) => write!(f, "{n:?}"),
            Value::Opaque(o) => write!(f, "<not modeled: {}>", o.name),
        }
    }
}
