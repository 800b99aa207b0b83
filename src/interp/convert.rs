//! Conversions every part of the evaluator needs: hashing, `str`/`repr`, iteration, mappings.

use std::cell::RefCell;
use std::rc::Rc;

use super::ctx::Ctx;
use super::dict::{Dict, Key};
use super::error::{Error, Raised, Result};
use super::exceptions::{exception_args, is_exception_class};
use super::format::{bytes_repr, float_repr, str_repr};
use super::value::{SeqIter, Value};

/// The items a `for` loop walks. Lists are walked by index, as Python does (items appended
/// during the loop are visited); dicts and sets are snapshotted; ranges stay lazy; iterators
/// from `iter()` and generator expressions are consumed.
pub(crate) enum ValueIter {
    Items(std::vec::IntoIter<Value>),
    List(Rc<RefCell<Vec<Value>>>, usize),
    Tuple(Rc<[Value]>, usize),
    Range { next: i64, left: i64, step: i64 },
    Shared(Rc<RefCell<SeqIter>>),
}

impl Iterator for ValueIter {
    type Item = Value;

    fn next(&mut self) -> Option<Value> {
        match self {
            ValueIter::Items(it) => it.next(),
            ValueIter::Tuple(items, next) => {
                let v = items.get(*next).cloned();
                *next += 1;
                v
            }
            ValueIter::List(list, next) => {
                let v = list.borrow().get(*next).cloned();
                *next += 1;
                v
            }
            ValueIter::Range { next, left, step } => {
                if *left <= 0 {
                    return None;
                }
                let v = *next;
                *left -= 1;
                *next = next.wrapping_add(*step);
                Some(Value::Int(v))
            }
            ValueIter::Shared(state) => {
                let mut s = state.borrow_mut();
                let v = s.items.get(s.next).cloned();
                if v.is_some() {
                    s.next += 1;
                }
                v
            }
        }
    }
}

/// Whether iterating `v` can succeed (host objects and opaque values decide when used).
pub(crate) fn is_iterable(v: &Value) -> bool {
    !matches!(
        v,
        Value::None
            | Value::Ellipsis
            | Value::Bool(_)
            | Value::Int(_)
            | Value::Float(_)
            | Value::Function(_)
            | Value::BoundMethod(_)
            | Value::Builtin(_)
            | Value::Type(_)
            | Value::Class(_)
            | Value::Instance(_)
            | Value::Module(_)
    )
}

fn identity<T: ?Sized>(rc: &Rc<T>) -> Key {
    Key::Identity(Rc::as_ptr(rc) as *const () as usize)
}

impl Ctx {
    /// The hash key of a value; unhashable values are a `TypeError`.
    pub(crate) fn key(&mut self, v: &Value) -> Result<Key> {
        Ok(match v {
            Value::None => Key::None,
            Value::Ellipsis => Key::Ellipsis,
            Value::Bool(b) => Key::Int(*b as i64),
            Value::Int(i) => Key::Int(*i),
            Value::Float(f) => Key::float(*f),
            Value::Str(s) => Key::Str(s.clone()),
            Value::Bytes(b) => Key::Bytes(b.clone()),
            Value::Tuple(items) => {
                self.enter_nesting()?;
                let keys: Result<Vec<Key>> = items.iter().map(|v| self.key(v)).collect();
                self.nesting -= 1;
                Key::Tuple(keys?)
            }
            Value::FrozenSet(d) => {
                let mut keys: Vec<Key> = d.key_entries().into_iter().map(|(k, _)| k).collect();
                keys.sort();
                Key::FrozenSet(keys)
            }
            Value::Range(r) => Key::Range(r.start, r.stop, r.step),
            Value::Builtin(name) => Key::Named(name),
            Value::Type(t) => Key::Named(t.name()),
            Value::Instance(i) => {
                if i.class.lookup("__hash__").is_some() || i.class.lookup("__eq__").is_some() {
                    return Err(self.unsupported(format!(
                        "hashing `{}` through __hash__/__eq__",
                        i.class.name
                    )));
                }
                identity(i)
            }
            Value::Function(f) => identity(f),
            Value::BoundMethod(m) => identity(m),
            Value::Class(c) => identity(c),
            Value::Module(m) => identity(m),
            Value::Iterator(i) => identity(i),
            Value::Native(n) => identity(n),
            Value::Opaque(o) => {
                return Err(self.not_modeled(&o.name, "using it as a dict key or set member"))
            }
            Value::List(_) | Value::Dict(_) | Value::Set(_) => {
                return Err(self.type_error(format!("unhashable type: '{}'", v.type_name())))
            }
        })
    }

    /// Iterate a value.
    pub(crate) fn iter_of(&mut self, v: &Value) -> Result<ValueIter> {
        Ok(match v {
            Value::List(l) => ValueIter::List(l.clone(), 0),
            Value::Tuple(t) => ValueIter::Tuple(t.clone(), 0),
            Value::Str(s) => ValueIter::Items(
                s.chars()
                    .map(|c| Value::string(c.to_string()))
                    .collect::<Vec<_>>()
                    .into_iter(),
            ),
            Value::Bytes(b) => ValueIter::Items(
                b.iter()
                    .map(|x| Value::Int(*x as i64))
                    .collect::<Vec<_>>()
                    .into_iter(),
            ),
            Value::Dict(d) | Value::Set(d) => ValueIter::Items(d.borrow().keys().into_iter()),
            Value::FrozenSet(d) => ValueIter::Items(d.keys().into_iter()),
            Value::Range(r) => ValueIter::Range {
                next: r.start,
                left: r.len(),
                step: r.step,
            },
            Value::Iterator(state) => ValueIter::Shared(state.clone()),
            Value::Native(n) => ValueIter::Items(n.clone().iter(self)?.into_iter()),
            Value::Opaque(o) => return Err(self.not_modeled(&o.name, "iterating over it")),
            other => {
                return Err(
                    self.type_error(format!("'{}' object is not iterable", other.type_name()))
                )
            }
        })
    }

    /// All items of an iterable (bounded by the sequence limit for ranges).
    pub(crate) fn collect(&mut self, v: &Value) -> Result<Vec<Value>> {
        if let Value::Range(r) = v {
            if r.len() as u64 > self.limits.max_sequence as u64 {
                return Err(self.limit(format!(
                    "a sequence of more than {} elements",
                    self.limits.max_sequence
                )));
            }
        }
        Ok(self.iter_of(v)?.collect())
    }

    /// The (key, value) pairs of a mapping, for `**` unpacking.
    pub(crate) fn mapping_items(&mut self, v: &Value) -> Result<Vec<(Value, Value)>> {
        match v {
            Value::Dict(d) => Ok(d
                .borrow()
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()),
            Value::Native(n) => Err(self.native_unsupported(n.type_name(), "`**` unpacking")),
            Value::Opaque(o) => Err(self.not_modeled(&o.name, "`**` unpacking")),
            other => Err(self.type_error(format!(
                "argument after ** must be a mapping, not {}",
                other.type_name()
            ))),
        }
    }

    /// `d.update(other)`: from a dict, or from an iterable of pairs.
    pub(crate) fn dict_update(&mut self, d: &Rc<RefCell<Dict>>, other: &Value) -> Result<()> {
        let pairs = match other {
            Value::Dict(o) => o
                .borrow()
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            _ => {
                let mut pairs = Vec::new();
                for (i, item) in self.collect(other)?.into_iter().enumerate() {
                    if !is_iterable(&item) {
                        return Err(self.type_error(format!(
                            "cannot convert dictionary update sequence element #{i} to a sequence"
                        )));
                    }
                    let kv = self.collect(&item)?;
                    let [k, v]: [Value; 2] = kv.try_into().map_err(|kv: Vec<Value>| {
                        self.raise(
                            "ValueError",
                            format!("dictionary update sequence element #{i} has length {}; 2 is required", kv.len()),
                        )
                    })?;
                    pairs.push((k, v));
                }
                pairs
            }
        };
        for (k, v) in pairs {
            let key = self.key(&k)?;
            d.borrow_mut().insert(key, k, v);
        }
        Ok(())
    }

    pub(crate) fn str_of(&mut self, v: &Value) -> Result<String> {
        match v {
            Value::Str(s) => Ok(s.to_string()),
            Value::Native(n) => n.clone().str(self),
            Value::Opaque(o) => Err(self.not_modeled(&o.name, "converting it to a string")),
            Value::Instance(i)
                if is_exception_class(&i.class) && i.class.lookup("__str__").is_none() =>
            {
                let args = exception_args(v);
                match args.as_slice() {
                    [] => Ok(String::new()),
                    [one] if i.class.name == "KeyError" => self.repr_of(one),
                    [one] => self.str_of(one),
                    _ => self.repr_of(&Value::tuple(args)),
                }
            }
            Value::Instance(i) if i.class.lookup("__str__").is_some() => {
                let method = self.get_attr(v, "__str__")?;
                let s = self.call_value(&method, Vec::new(), Vec::new())?;
                match s {
                    Value::Str(s) => Ok(s.to_string()),
                    _ => Err(self.type_error("__str__ returned non-string")),
                }
            }
            _ => self.repr_of(v),
        }
    }

    pub(crate) fn repr_of(&mut self, v: &Value) -> Result<String> {
        Ok(match v {
            Value::None => "None".into(),
            Value::Ellipsis => "Ellipsis".into(),
            Value::Bool(b) => if *b { "True" } else { "False" }.into(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => float_repr(*f),
            Value::Str(s) => str_repr(s),
            Value::Bytes(b) => bytes_repr(b),
            Value::List(l) => {
                let items = l.borrow().clone();
                format!("[{}]", self.join_reprs(&items)?)
            }
            Value::Tuple(t) if t.len() == 1 => format!("({},)", self.join_reprs(t)?),
            Value::Tuple(t) => format!("({})", self.join_reprs(t)?),
            Value::Dict(d) => {
                let items: Vec<(Value, Value)> = d
                    .borrow()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                self.enter_nesting()?;
                let mut parts = Vec::with_capacity(items.len());
                for (k, v) in &items {
                    let part = self
                        .repr_of(k)
                        .and_then(|k| Ok(format!("{k}: {}", self.repr_of(v)?)));
                    match part {
                        Ok(p) => parts.push(p),
                        Err(e) => {
                            self.nesting -= 1;
                            return Err(e);
                        }
                    }
                }
                self.nesting -= 1;
                format!("{{{}}}", parts.join(", "))
            }
            Value::Set(d) if d.borrow().is_empty() => "set()".into(),
            Value::Set(d) => {
                let items = d.borrow().keys();
                format!("{{{}}}", self.join_reprs(&items)?)
            }
            Value::FrozenSet(d) if d.is_empty() => "frozenset()".into(),
            Value::FrozenSet(d) => format!("frozenset({{{}}})", self.join_reprs(&d.keys())?),
            Value::Range(r) if r.step == 1 => format!("range({}, {})", r.start, r.stop),
            Value::Range(r) => format!("range({}, {}, {})", r.start, r.stop, r.step),
            Value::Instance(i) if i.class.lookup("__repr__").is_some() => {
                let method = self.get_attr(v, "__repr__")?;
                match self.call_value(&method, Vec::new(), Vec::new())? {
                    Value::Str(s) => s.to_string(),
                    _ => return Err(self.type_error("__repr__ returned non-string")),
                }
            }
            Value::Instance(i) if is_exception_class(&i.class) => {
                format!("{}({})", i.class.name, self.join_reprs(&exception_args(v))?)
            }
            Value::Native(n) => n.clone().repr(self)?,
            Value::Opaque(o) => return Err(self.not_modeled(&o.name, "taking its repr")),
            other => format!("{other:?}"),
        })
    }

    fn join_reprs(&mut self, items: &[Value]) -> Result<String> {
        self.enter_nesting()?;
        let mut parts = Vec::with_capacity(items.len());
        for item in items {
            match self.repr_of(item) {
                Ok(s) => parts.push(s),
                Err(e) => {
                    self.nesting -= 1;
                    return Err(e);
                }
            }
        }
        self.nesting -= 1;
        Ok(parts.join(", "))
    }

    /// The plan error for a Python exception nobody caught.
    pub(crate) fn uncaught(&mut self, raised: &Raised) -> Error {
        let exception = match &raised.exception {
            Value::Instance(i) => i.class.name.clone(),
            other => other.type_name(),
        };
        let message = self
            .str_of(&raised.exception)
            .unwrap_or_else(|_| format!("{:?}", exception_args(&raised.exception)));
        Error::Uncaught {
            path: raised.path.clone(),
            pos: raised.pos,
            exception,
            message,
        }
    }
}
