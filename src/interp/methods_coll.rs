//! Methods of the built-in containers (`list`, `tuple`, `dict`, `set`, `frozenset`), the
//! method tables, and dispatch for all built-in methods.

use std::cell::RefCell;
use std::rc::Rc;

use super::ctx::Ctx;
use super::dict::Dict;
use super::error::Result;
use super::ops::set_of;
use super::value::{TypeKind, Value};

#[rustfmt::skip]
const STR: &[&str] = &[
    "capitalize", "center", "count", "encode", "endswith", "find", "format", "index", "isalnum",
    "isalpha", "isascii", "isdecimal", "isdigit", "islower", "isnumeric", "isspace", "isupper",
    "join", "ljust", "lower", "lstrip", "partition", "removeprefix", "removesuffix", "replace",
    "rfind", "rindex", "rjust", "rpartition", "rsplit", "rstrip", "split", "splitlines",
    "startswith", "strip", "swapcase", "title", "upper", "zfill",
];
#[rustfmt::skip]
const LIST: &[&str] = &[
    "append", "clear", "copy", "count", "extend", "index", "insert", "pop", "remove", "reverse",
    "sort",
];
const TUPLE: &[&str] = &["count", "index"];
#[rustfmt::skip]
const DICT: &[&str] = &[
    "clear", "copy", "fromkeys", "get", "items", "keys", "pop", "popitem", "setdefault", "update",
    "values",
];
#[rustfmt::skip]
const SET: &[&str] = &[
    "add", "clear", "copy", "difference", "difference_update", "discard", "intersection",
    "intersection_update", "isdisjoint", "issubset", "issuperset", "pop", "remove",
    "symmetric_difference", "union", "update",
];
#[rustfmt::skip]
const FROZENSET: &[&str] = &[
    "copy", "difference", "intersection", "isdisjoint", "issubset", "issuperset",
    "symmetric_difference", "union",
];
const BYTES: &[&str] = &["decode"];

/// Attributes real Python has on built-in values that we do not implement (beyond dunders).
#[rustfmt::skip]
const PYTHON_ONLY: &[(&str, &[&str])] = &[
    ("str", &["casefold", "expandtabs", "format_map", "isidentifier", "isprintable", "istitle", "maketrans", "translate"]),
    ("set", &["symmetric_difference_update"]),
    ("int", INT_ONLY),
    ("bool", INT_ONLY),
    ("float", &["as_integer_ratio", "conjugate", "fromhex", "hex", "imag", "is_integer", "real"]),
    ("range", &["count", "index", "start", "step", "stop"]),
    ("bytes", &[
        "capitalize", "center", "count", "endswith", "expandtabs", "find", "fromhex", "hex", "index",
        "isalnum", "isalpha", "isascii", "isdigit", "islower", "isspace", "istitle", "isupper", "join",
        "ljust", "lower", "lstrip", "maketrans", "partition", "removeprefix", "removesuffix", "replace",
        "rfind", "rindex", "rjust", "rpartition", "rsplit", "rstrip", "split", "splitlines",
        "startswith", "strip", "swapcase", "title", "translate", "upper", "zfill",
    ]),
    ("iterator", &["__next__"]),
];

#[rustfmt::skip]
const INT_ONLY: &[&str] = &[
    "as_integer_ratio", "bit_count", "bit_length", "conjugate", "denominator", "from_bytes", "imag",
    "is_integer", "numerator", "real", "to_bytes",
];

fn table(v: &Value) -> &'static [&'static str] {
    match v {
        Value::Str(_) => STR,
        Value::List(_) => LIST,
        Value::Tuple(_) => TUPLE,
        Value::Dict(_) => DICT,
        Value::Set(_) => SET,
        Value::FrozenSet(_) => FROZENSET,
        Value::Bytes(_) => BYTES,
        _ => &[],
    }
}

/// The implemented built-in method `name` of `v`, as a static name.
pub(crate) fn builtin_method(v: &Value, name: &str) -> Option<&'static str> {
    table(v).iter().copied().find(|m| *m == name)
}

/// Whether Python has the attribute `name` on values of the built-in type `type_name`
/// (so its absence here is our limitation, not an `AttributeError`).
pub(crate) fn python_has_attribute(type_name: &str, name: &str) -> bool {
    (name.starts_with("__") && name.ends_with("__"))
        || PYTHON_ONLY
            .iter()
            .any(|(t, names)| *t == type_name && names.contains(&name))
}

impl Ctx {
    /// Call the built-in method `name` on `receiver` (a value, or a type for unbound use).
    pub(crate) fn call_method(
        &mut self,
        receiver: &Value,
        name: &str,
        mut args: Vec<Value>,
        kwargs: Vec<(String, Value)>,
    ) -> Result<Value> {
        if let Value::Type(kind) = receiver {
            if (*kind, name) == (TypeKind::Dict, "fromkeys") {
                self.no_kwargs(name, &kwargs)?;
                self.arity(name, &args, 1, 2)?;
                let value = args.get(1).cloned().unwrap_or(Value::None);
                let mut d = Dict::new();
                for k in self.collect(&args[0])? {
                    let hk = self.key(&k)?;
                    d.insert(hk, k, value.clone());
                }
                return Ok(Value::Dict(Rc::new(RefCell::new(d))));
            }
            if args.is_empty() {
                return Err(self.type_error(format!(
                    "unbound method {}.{name}() needs an argument",
                    kind.name()
                )));
            }
            let this = args.remove(0);
            if !matches!(self.type_of(&this), Ok(Value::Type(k)) if k == *kind) {
                return Err(self.type_error(format!(
                    "descriptor '{name}' for '{}' objects doesn't apply to a '{}' object",
                    kind.name(),
                    this.type_name()
                )));
            }
            return self.call_method(&this, name, args, kwargs);
        }
        match receiver {
            Value::Str(s) => self.str_method(s, name, args, kwargs),
            Value::Bytes(b) => self.bytes_method(b, name, args, kwargs),
            Value::List(l) => self.list_method(l, name, args, kwargs),
            Value::Tuple(t) => {
                self.no_kwargs(name, &kwargs)?;
                self.sequence_method(t, name, &args)
            }
            Value::Dict(d) => {
                self.no_kwargs(name, &kwargs)?;
                self.dict_method(d, name, args)
            }
            Value::Set(_) | Value::FrozenSet(_) => {
                self.no_kwargs(name, &kwargs)?;
                self.set_method(receiver, name, args)
            }
            other => Err(self.unsupported(format!("`{}.{name}`", other.type_name()))),
        }
    }

    /// `count` and `index`, shared by lists and tuples.
    fn sequence_method(&mut self, items: &[Value], name: &str, args: &[Value]) -> Result<Value> {
        match name {
            "count" => {
                self.arity(name, args, 1, 1)?;
                let mut n = 0;
                for v in items {
                    if self.values_equal(v, &args[0])? {
                        n += 1;
                    }
                }
                Ok(Value::Int(n))
            }
            "index" => {
                self.arity(name, args, 1, 3)?;
                let len = items.len() as i64;
                let bound = |v: Option<&Value>, default: i64| {
                    v.and_then(Value::as_int)
                        .map(|i| if i < 0 { (i + len).max(0) } else { i.min(len) })
                        .unwrap_or(default)
                };
                let (start, end) = (bound(args.get(1), 0), bound(args.get(2), len));
                for i in start..end {
                    if self.values_equal(&items[i as usize], &args[0])? {
                        return Ok(Value::Int(i));
                    }
                }
                let repr = self.repr_of(&args[0])?;
                Err(self.raise("ValueError", format!("{repr} is not in list")))
            }
            _ => Err(self.unsupported(format!("method `{name}`"))),
        }
    }

    fn list_method(
        &mut self,
        l: &Rc<RefCell<Vec<Value>>>,
        name: &str,
        args: Vec<Value>,
        mut kwargs: Vec<(String, Value)>,
    ) -> Result<Value> {
        if name == "sort" {
            self.arity(name, &args, 0, 0)?;
            let mut kw = |k: &str| {
                kwargs
                    .iter()
                    .position(|(n, _)| n == k)
                    .map(|i| kwargs.remove(i).1)
            };
            let (key, reverse) = (kw("key"), kw("reverse"));
            self.no_kwargs(name, &kwargs)?;
            let reverse = match reverse {
                Some(r) => self.truthy(&r)?,
                None => false,
            };
            let items = std::mem::take(&mut *l.borrow_mut());
            let sorted = self.sort_values(items.clone(), key.as_ref(), reverse);
            *l.borrow_mut() = match &sorted {
                Ok(s) => s.clone(),
                Err(_) => items,
            };
            return sorted.map(|_| Value::None);
        }
        self.no_kwargs(name, &kwargs)?;
        match name {
            "append" => {
                self.arity(name, &args, 1, 1)?;
                l.borrow_mut().extend(args);
            }
            "extend" => {
                self.arity(name, &args, 1, 1)?;
                let items = self.collect(&args[0])?;
                l.borrow_mut().extend(items);
            }
            "insert" => {
                self.arity(name, &args, 2, 2)?;
                let Some(i) = args[0].as_int() else {
                    return Err(self.type_error("list.insert() index must be an integer"));
                };
                let mut items = l.borrow_mut();
                let len = items.len() as i64;
                let at = if i < 0 { (i + len).max(0) } else { i.min(len) };
                items.insert(at as usize, args[1].clone());
            }
            "pop" => {
                self.arity(name, &args, 0, 1)?;
                let i = args.first().and_then(Value::as_int).unwrap_or(-1);
                let mut items = l.borrow_mut();
                if items.is_empty() {
                    return Err(self.raise("IndexError", "pop from empty list"));
                }
                return match super::subscript::normalize_index(i, items.len()) {
                    Some(i) => Ok(items.remove(i)),
                    None => Err(self.raise("IndexError", "pop index out of range")),
                };
            }
            "remove" => {
                self.arity(name, &args, 1, 1)?;
                let items = l.borrow().clone();
                for (i, v) in items.iter().enumerate() {
                    if self.values_equal(v, &args[0])? {
                        let mut items = l.borrow_mut();
                        // A host `eq` could have changed the list meanwhile: never index blindly.
                        if i < items.len() {
                            items.remove(i);
                        }
                        return Ok(Value::None);
                    }
                }
                return Err(self.raise("ValueError", "list.remove(x): x not in list"));
            }
            "reverse" => {
                self.arity(name, &args, 0, 0)?;
                l.borrow_mut().reverse();
            }
            "clear" => {
                self.arity(name, &args, 0, 0)?;
                l.borrow_mut().clear();
            }
            "copy" => {
                self.arity(name, &args, 0, 0)?;
                return Ok(Value::list(l.borrow().clone()));
            }
            _ => {
                let items = l.borrow().clone();
                return self.sequence_method(&items, name, &args);
            }
        }
        Ok(Value::None)
    }

    fn dict_method(
        &mut self,
        d: &Rc<RefCell<Dict>>,
        name: &str,
        args: Vec<Value>,
    ) -> Result<Value> {
        match name {
            "get" => {
                self.arity(name, &args, 1, 2)?;
                let key = self.key(&args[0])?;
                let found = d.borrow().get(&key).cloned();
                Ok(found.unwrap_or_else(|| args.get(1).cloned().unwrap_or(Value::None)))
            }
            "keys" | "values" | "items" => {
                self.arity(name, &args, 0, 0)?;
                let d = d.borrow();
                Ok(Value::list(match name {
                    "keys" => d.keys(),
                    "values" => d.values(),
                    _ => d
                        .iter()
                        .map(|(k, v)| Value::tuple(vec![k.clone(), v.clone()]))
                        .collect(),
                }))
            }
            "pop" => {
                self.arity(name, &args, 1, 2)?;
                let key = self.key(&args[0])?;
                let removed = d.borrow_mut().remove(&key);
                match (removed, args.get(1)) {
                    (Some((_, v)), _) => Ok(v),
                    (None, Some(default)) => Ok(default.clone()),
                    (None, None) => Err(self.key_error(&args[0])),
                }
            }
            "popitem" => {
                self.arity(name, &args, 0, 0)?;
                let last = d.borrow_mut().pop_last();
                match last {
                    Some((k, v)) => Ok(Value::tuple(vec![k, v])),
                    None => Err(self.raise("KeyError", "popitem(): dictionary is empty")),
                }
            }
            "setdefault" => {
                self.arity(name, &args, 1, 2)?;
                let key = self.key(&args[0])?;
                let found = d.borrow().get(&key).cloned();
                Ok(match found {
                    Some(v) => v,
                    None => {
                        let v = args.get(1).cloned().unwrap_or(Value::None);
                        d.borrow_mut().insert(key, args[0].clone(), v.clone());
                        v
                    }
                })
            }
            "update" => {
                self.arity(name, &args, 0, 1)?;
                if let Some(other) = args.first() {
                    self.dict_update(d, other)?;
                }
                Ok(Value::None)
            }
            "copy" => {
                self.arity(name, &args, 0, 0)?;
                Ok(Value::Dict(Rc::new(RefCell::new(d.borrow().clone()))))
            }
            "clear" => {
                self.arity(name, &args, 0, 0)?;
                d.borrow_mut().clear();
                Ok(Value::None)
            }
            _ => Err(self.unsupported(format!("`dict.{name}`"))),
        }
    }

    fn set_method(&mut self, receiver: &Value, name: &str, args: Vec<Value>) -> Result<Value> {
        let as_set = |ctx: &mut Ctx, v: &Value| -> Result<Value> {
            match v {
                Value::Set(_) | Value::FrozenSet(_) => Ok(v.clone()),
                other => {
                    let items = ctx.collect(other)?;
                    ctx.make_set(items)
                }
            }
        };
        let mutable = match receiver {
            Value::Set(d) => Some(d.clone()),
            _ => None,
        };
        let binary_op = match name {
            "union" | "update" => Some(crate::script::ast::BinOp::BitOr),
            "intersection" | "intersection_update" => Some(crate::script::ast::BinOp::BitAnd),
            "difference" | "difference_update" => Some(crate::script::ast::BinOp::Sub),
            "symmetric_difference" => Some(crate::script::ast::BinOp::BitXor),
            _ => None,
        };
        if let Some(op) = binary_op {
            let mut result = receiver.clone();
            if !name.ends_with("update") {
                result = Value::Set(Rc::new(RefCell::new(set_of(receiver))));
            }
            for a in &args {
                let other = as_set(self, a)?;
                result = self.binary(op, &result, &other)?;
            }
            if name.ends_with("update") {
                if let (Some(target), Value::Set(new)) = (&mutable, &result) {
                    let new = new.borrow().clone();
                    *target.borrow_mut() = new;
                }
                return Ok(Value::None);
            }
            return Ok(match receiver {
                Value::FrozenSet(_) => Value::FrozenSet(Rc::new(set_of(&result))),
                _ => result,
            });
        }
        match (name, &mutable) {
            ("add", Some(d)) => {
                self.arity(name, &args, 1, 1)?;
                let key = self.key(&args[0])?;
                d.borrow_mut().insert(key, args[0].clone(), Value::None);
                Ok(Value::None)
            }
            ("discard" | "remove", Some(d)) => {
                self.arity(name, &args, 1, 1)?;
                let key = self.key(&args[0])?;
                let removed = d.borrow_mut().remove(&key);
                if removed.is_none() && name == "remove" {
                    return Err(self.key_error(&args[0]));
                }
                Ok(Value::None)
            }
            ("pop", Some(d)) => {
                self.arity(name, &args, 0, 0)?;
                let first = d.borrow().key_entries().into_iter().next();
                match first {
                    Some((k, v)) => {
                        d.borrow_mut().remove(&k);
                        Ok(v)
                    }
                    None => Err(self.raise("KeyError", "pop from an empty set")),
                }
            }
            ("clear", Some(d)) => {
                self.arity(name, &args, 0, 0)?;
                d.borrow_mut().clear();
                Ok(Value::None)
            }
            ("copy", _) => Ok(match receiver {
                Value::FrozenSet(_) => receiver.clone(),
                _ => Value::Set(Rc::new(RefCell::new(set_of(receiver)))),
            }),
            ("isdisjoint" | "issubset" | "issuperset", _) => {
                self.arity(name, &args, 1, 1)?;
                let other = set_of(&as_set(self, &args[0])?);
                let this = set_of(receiver);
                let within =
                    |a: &Dict, b: &Dict| a.key_entries().iter().all(|(k, _)| b.contains(k));
                Ok(Value::Bool(match name {
                    "isdisjoint" => this.key_entries().iter().all(|(k, _)| !other.contains(k)),
                    "issubset" => within(&this, &other),
                    _ => within(&other, &this),
                }))
            }
            _ => Err(self.unsupported(format!("`{}.{name}`", receiver.type_name()))),
        }
    }
}
