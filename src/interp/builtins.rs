//! Built-in functions. Real Python built-ins that are not implemented here are refused as
//! unsupported by name (never a `NameError`, which a script could catch).

use std::cell::RefCell;
use std::rc::Rc;

use super::ctx::Ctx;
use super::error::{Failure, Result};
use super::exceptions::exception_class;
use super::value::{SeqIter, TypeKind, Value};
use crate::script::ast::BinOp;

#[rustfmt::skip]
const FUNCTIONS: &[&str] = &[
    "abs", "all", "any", "ascii", "bin", "callable", "chr", "divmod", "enumerate", "filter",
    "format", "getattr", "hasattr", "hex", "isinstance", "issubclass", "iter", "len", "map", "max",
    "min", "next", "oct", "ord", "pow", "print", "repr", "reversed", "round", "setattr", "sorted",
    "sum", "zip",
];

const TYPES: &[(&str, TypeKind)] = &[
    ("bool", TypeKind::Bool),
    ("bytes", TypeKind::Bytes),
    ("dict", TypeKind::Dict),
    ("float", TypeKind::Float),
    ("frozenset", TypeKind::FrozenSet),
    ("int", TypeKind::Int),
    ("list", TypeKind::List),
    ("object", TypeKind::Object),
    ("range", TypeKind::Range),
    ("set", TypeKind::Set),
    ("str", TypeKind::Str),
    ("tuple", TypeKind::Tuple),
    ("type", TypeKind::Type),
];

/// Python built-ins we do not model.
#[rustfmt::skip]
const UNMODELED: &[&str] = &[
    "__annotations__", "__build_class__", "__builtins__", "__cached__", "__debug__", "__import__",
    "__loader__", "__package__", "__spec__", "aiter", "anext", "BaseExceptionGroup",
    "BlockingIOError", "breakpoint", "BrokenPipeError", "BufferError", "bytearray", "BytesWarning",
    "ChildProcessError", "classmethod", "compile", "complex", "ConnectionAbortedError",
    "ConnectionError", "ConnectionRefusedError", "ConnectionResetError", "copyright", "credits",
    "delattr", "DeprecationWarning", "dir", "EncodingWarning", "EnvironmentError", "EOFError",
    "eval", "ExceptionGroup", "exec", "exit", "FileExistsError", "FileNotFoundError",
    "FloatingPointError", "FutureWarning", "GeneratorExit", "globals", "hash", "help", "id",
    "ImportWarning", "IndentationError", "input", "InterruptedError", "IOError",
    "IsADirectoryError", "KeyboardInterrupt", "license", "locals", "MemoryError", "memoryview",
    "NotADirectoryError", "NotImplemented", "open", "OSError", "PendingDeprecationWarning",
    "PermissionError", "ProcessLookupError", "property", "quit", "RecursionError", "ReferenceError",
    "ResourceWarning", "RuntimeWarning", "slice", "staticmethod", "StopAsyncIteration", "super",
    "SyntaxWarning", "SystemError", "SystemExit", "TabError", "TimeoutError", "UnicodeDecodeError",
    "UnicodeEncodeError", "UnicodeError", "UnicodeTranslateError", "UnicodeWarning", "UserWarning",
    "vars", "Warning",
];

fn iterator(items: Vec<Value>) -> Value {
    Value::Iterator(Rc::new(RefCell::new(SeqIter { items, next: 0 })))
}

impl Ctx {
    /// A built-in by name: `Some(Ok)` if modeled, `Some(Err)` if Python has it and we do not.
    pub(crate) fn builtin(&self, name: &str) -> Option<Result<Value>> {
        if let Some(f) = FUNCTIONS.iter().find(|f| **f == name) {
            return Some(Ok(Value::Builtin(f)));
        }
        if let Some((_, t)) = TYPES.iter().find(|(n, _)| *n == name) {
            return Some(Ok(Value::Type(*t)));
        }
        if let Some(class) = exception_class(name) {
            return Some(Ok(Value::Class(class)));
        }
        if name == "Ellipsis" {
            return Some(Ok(Value::Ellipsis));
        }
        if UNMODELED.contains(&name) {
            return Some(Err(self.unsupported(format!("the built-in `{name}`"))));
        }
        None
    }

    /// A `TypeError` unless `min <= args.len() <= max`.
    pub(crate) fn arity(&self, name: &str, args: &[Value], min: usize, max: usize) -> Result<()> {
        let n = args.len();
        if n < min || n > max {
            let (how, count) = match (min == max, n > max) {
                (true, _) => ("exactly", min),
                (false, true) => ("at most", max),
                (false, false) => ("at least", min),
            };
            let plural = if count == 1 { "" } else { "s" };
            return Err(self.type_error(format!(
                "{name}() takes {how} {count} argument{plural} ({n} given)"
            )));
        }
        Ok(())
    }

    /// A `TypeError` if any keyword argument is left.
    pub(crate) fn no_kwargs(&self, name: &str, kwargs: &[(String, Value)]) -> Result<()> {
        match kwargs.first() {
            Some((k, _)) => {
                Err(self.type_error(format!("{name}() got an unexpected keyword argument '{k}'")))
            }
            None => Ok(()),
        }
    }

    pub(crate) fn call_builtin(
        &mut self,
        name: &str,
        args: Vec<Value>,
        mut kwargs: Vec<(String, Value)>,
    ) -> Result<Value> {
        let mut kw = |k: &str| {
            kwargs
                .iter()
                .position(|(n, _)| n == k)
                .map(|i| kwargs.remove(i).1)
        };
        let key = if matches!(name, "sorted" | "min" | "max") {
            kw("key")
        } else {
            None
        };
        let reverse = if name == "sorted" {
            kw("reverse")
        } else {
            None
        };
        let default = if matches!(name, "min" | "max") {
            kw("default")
        } else {
            None
        };
        let start = if matches!(name, "sum" | "enumerate") {
            kw("start")
        } else {
            None
        };
        let strict = if name == "zip" { kw("strict") } else { None };
        if name != "print" {
            self.no_kwargs(name, &kwargs)?;
        }
        match name {
            "print" => Ok(Value::None),
            "len" => {
                self.arity(name, &args, 1, 1)?;
                Ok(Value::Int(self.len_of(&args[0])? as i64))
            }
            "repr" => {
                self.arity(name, &args, 1, 1)?;
                Ok(Value::string(self.repr_of(&args[0])?))
            }
            "ascii" => {
                self.arity(name, &args, 1, 1)?;
                Ok(Value::string(super::format::ascii_escape(
                    &self.repr_of(&args[0])?,
                )))
            }
            "format" => {
                self.arity(name, &args, 1, 2)?;
                let spec = match args.get(1) {
                    Some(Value::Str(s)) => s.to_string(),
                    Some(_) => return Err(self.type_error("format() argument 2 must be str")),
                    None => String::new(),
                };
                Ok(Value::string(self.format_value(&args[0], &spec)?))
            }
            "sorted" => {
                self.arity(name, &args, 1, 1)?;
                let items = self.collect(&args[0])?;
                let reverse = match reverse {
                    Some(r) => self.truthy(&r)?,
                    None => false,
                };
                Ok(Value::list(self.sort_values(
                    items,
                    key.as_ref(),
                    reverse,
                )?))
            }
            "reversed" => {
                self.arity(name, &args, 1, 1)?;
                let mut items = match &args[0] {
                    Value::List(_)
                    | Value::Tuple(_)
                    | Value::Str(_)
                    | Value::Range(_)
                    | Value::Dict(_)
                    | Value::Bytes(_) => self.collect(&args[0])?,
                    other => {
                        return Err(self.type_error(format!(
                            "'{}' object is not reversible",
                            other.type_name()
                        )))
                    }
                };
                items.reverse();
                Ok(iterator(items))
            }
            "enumerate" => {
                self.arity(name, &args, 1, 2)?;
                let first = match start.or_else(|| args.get(1).cloned()) {
                    Some(v) => v
                        .as_int()
                        .ok_or_else(|| self.type_error("enumerate() start must be an integer"))?,
                    None => 0,
                };
                let items = self.collect(&args[0])?;
                let mut out = Vec::with_capacity(items.len());
                for (i, v) in items.into_iter().enumerate() {
                    let n = first.checked_add(i as i64).ok_or_else(|| self.overflow())?;
                    out.push(Value::tuple(vec![Value::Int(n), v]));
                }
                Ok(iterator(out))
            }
            "zip" => {
                let strict = match strict {
                    Some(s) => self.truthy(&s)?,
                    None => false,
                };
                let mut columns = Vec::with_capacity(args.len());
                for a in &args {
                    columns.push(self.collect(a)?);
                }
                let n = columns.iter().map(Vec::len).min().unwrap_or(0);
                if strict && columns.iter().any(|c| c.len() != n) {
                    return Err(self.raise("ValueError", "zip() arguments have different lengths"));
                }
                let rows = (0..n)
                    .map(|i| Value::tuple(columns.iter().map(|c| c[i].clone()).collect()))
                    .collect();
                Ok(iterator(rows))
            }
            "min" | "max" => self.min_max(name, args, key, default),
            "sum" => {
                self.arity(name, &args, 1, 2)?;
                let mut total = start
                    .or_else(|| args.get(1).cloned())
                    .unwrap_or(Value::Int(0));
                if matches!(total, Value::Str(_)) {
                    return Err(
                        self.type_error("sum() can't sum strings [use ''.join(seq) instead]")
                    );
                }
                for v in self.collect(&args[0])? {
                    total = self.binary(BinOp::Add, &total, &v)?;
                }
                Ok(total)
            }
            "any" | "all" => {
                self.arity(name, &args, 1, 1)?;
                let want = name == "any";
                for v in self.collect(&args[0])? {
                    if self.truthy(&v)? == want {
                        return Ok(Value::Bool(want));
                    }
                }
                Ok(Value::Bool(!want))
            }
            "isinstance" => {
                self.arity(name, &args, 2, 2)?;
                Ok(Value::Bool(self.is_instance(&args[0], &args[1])?))
            }
            "issubclass" => {
                self.arity(name, &args, 2, 2)?;
                Ok(Value::Bool(self.is_subclass(&args[0], &args[1])?))
            }
            "getattr" | "hasattr" => {
                self.arity(name, &args, 2, if name == "getattr" { 3 } else { 2 })?;
                let Value::Str(attr) = &args[1] else {
                    return Err(self.type_error(format!(
                        "attribute name must be string, not '{}'",
                        args[1].type_name()
                    )));
                };
                match self.get_attr(&args[0], attr) {
                    Ok(v) if name == "getattr" => Ok(v),
                    Ok(_) => Ok(Value::Bool(true)),
                    Err(Failure::Raised(r))
                        if self.is_exception(&r.exception, "AttributeError") =>
                    {
                        if name == "hasattr" {
                            Ok(Value::Bool(false))
                        } else if let Some(d) = args.get(2) {
                            Ok(d.clone())
                        } else {
                            Err(Failure::Raised(r))
                        }
                    }
                    Err(e) => Err(e),
                }
            }
            "setattr" => {
                self.arity(name, &args, 3, 3)?;
                let Value::Str(attr) = &args[1] else {
                    return Err(self.type_error(format!(
                        "attribute name must be string, not '{}'",
                        args[1].type_name()
                    )));
                };
                self.set_attr(&args[0], attr, args[2].clone())?;
                Ok(Value::None)
            }
            "iter" => {
                self.arity(name, &args, 1, 1)?;
                match &args[0] {
                    Value::Iterator(_) => Ok(args[0].clone()),
                    other => Ok(iterator(self.collect(other)?)),
                }
            }
            "next" => {
                self.arity(name, &args, 1, 2)?;
                let Value::Iterator(state) = &args[0] else {
                    return match &args[0] {
                        Value::Native(n) => Err(self.native_unsupported(n.type_name(), "next()")),
                        Value::Opaque(o) => Err(self.not_modeled(&o.name, "next()")),
                        other => Err(self.type_error(format!(
                            "'{}' object is not an iterator",
                            other.type_name()
                        ))),
                    };
                };
                let mut s = state.borrow_mut();
                match s.items.get(s.next).cloned() {
                    Some(v) => {
                        s.next += 1;
                        Ok(v)
                    }
                    None => match args.get(1) {
                        Some(d) => Ok(d.clone()),
                        None => Err(self.raise("StopIteration", "")),
                    },
                }
            }
            "map" => {
                if args.len() < 2 {
                    return Err(self.type_error("map() must have at least two arguments."));
                }
                let mut columns = Vec::new();
                for a in &args[1..] {
                    columns.push(self.collect(a)?);
                }
                let n = columns.iter().map(Vec::len).min().unwrap_or(0);
                let mut out = Vec::with_capacity(n);
                for i in 0..n {
                    self.tick(self.pos)?;
                    let row = columns.iter().map(|c| c[i].clone()).collect();
                    out.push(self.call(&args[0], row, Vec::new())?);
                }
                Ok(iterator(out))
            }
            "filter" => {
                self.arity(name, &args, 2, 2)?;
                let mut out = Vec::new();
                for v in self.collect(&args[1])? {
                    self.tick(self.pos)?;
                    let keep = match &args[0] {
                        Value::None => v.clone(),
                        f => self.call(f, vec![v.clone()], Vec::new())?,
                    };
                    if self.truthy(&keep)? {
                        out.push(v);
                    }
                }
                Ok(iterator(out))
            }
            "callable" => {
                self.arity(name, &args, 1, 1)?;
                Ok(Value::Bool(match &args[0] {
                    Value::Function(_)
                    | Value::BoundMethod(_)
                    | Value::Builtin(_)
                    | Value::Type(_)
                    | Value::Class(_) => true,
                    Value::Instance(i) => i.class.lookup("__call__").is_some(),
                    Value::Native(n) => {
                        return Err(self.native_unsupported(n.type_name(), "callable()"))
                    }
                    Value::Opaque(o) => return Err(self.not_modeled(&o.name, "callable()")),
                    _ => false,
                }))
            }
            _ => self.call_numeric_builtin(name, args),
        }
    }

    /// Whether `exc` is an instance of the built-in exception class `class`.
    pub(crate) fn is_exception(&self, exc: &Value, class: &str) -> bool {
        match (exc, exception_class(class)) {
            (Value::Instance(i), Some(c)) => i.class.is_subclass_of(&c),
            _ => false,
        }
    }

    pub(crate) fn len_of(&mut self, v: &Value) -> Result<usize> {
        Ok(match v {
            Value::Str(s) => s.chars().count(),
            Value::Bytes(b) => b.len(),
            Value::List(l) => l.borrow().len(),
            Value::Tuple(t) => t.len(),
            Value::Dict(d) | Value::Set(d) => d.borrow().len(),
            Value::FrozenSet(d) => d.len(),
            Value::Range(r) => r.len().max(0) as usize,
            Value::Native(n) => n.clone().len(self)?,
            Value::Opaque(o) => return Err(self.not_modeled(&o.name, "taking its length")),
            other => {
                return Err(self.type_error(format!(
                    "object of type '{}' has no len()",
                    other.type_name()
                )))
            }
        })
    }

    /// A stable merge sort using `<` only (as Python's sort does), that fails instead of
    /// panicking on values that do not order.
    pub(crate) fn sort_values(
        &mut self,
        items: Vec<Value>,
        key: Option<&Value>,
        reverse: bool,
    ) -> Result<Vec<Value>> {
        let mut pairs = Vec::with_capacity(items.len());
        for v in items {
            let k = match key {
                Some(f) if !f.is_none() => self.call(f, vec![v.clone()], Vec::new())?,
                _ => v.clone(),
            };
            pairs.push((k, v));
        }
        Ok(self
            .merge_sort(pairs, reverse)?
            .into_iter()
            .map(|(_, v)| v)
            .collect())
    }

    fn merge_sort(
        &mut self,
        mut pairs: Vec<(Value, Value)>,
        reverse: bool,
    ) -> Result<Vec<(Value, Value)>> {
        if pairs.len() < 2 {
            return Ok(pairs);
        }
        let right = pairs.split_off(pairs.len() / 2);
        let left = self.merge_sort(pairs, reverse)?;
        let right = self.merge_sort(right, reverse)?;
        let mut out = Vec::with_capacity(left.len() + right.len());
        let (mut l, mut r) = (left.into_iter().peekable(), right.into_iter().peekable());
        while let (Some(a), Some(b)) = (l.peek(), r.peek()) {
            let take_right = if reverse {
                self.less_than(&a.0, &b.0)?
            } else {
                self.less_than(&b.0, &a.0)?
            };
            let next = if take_right { r.next() } else { l.next() };
            out.extend(next);
        }
        out.extend(l);
        out.extend(r);
        Ok(out)
    }

    fn min_max(
        &mut self,
        name: &str,
        args: Vec<Value>,
        key: Option<Value>,
        default: Option<Value>,
    ) -> Result<Value> {
        let items = match args.len() {
            0 => return Err(self.type_error(format!("{name} expected at least 1 argument, got 0"))),
            1 => self.collect(&args[0])?,
            _ => args,
        };
        let mut best: Option<(Value, Value)> = None;
        for v in items {
            let k = match &key {
                Some(f) if !f.is_none() => self.call(f, vec![v.clone()], Vec::new())?,
                _ => v.clone(),
            };
            let replace = match &best {
                None => true,
                Some((bk, _)) if name == "min" => self.less_than(&k, bk)?,
                Some((bk, _)) => self.less_than(bk, &k)?,
            };
            if replace {
                best = Some((k, v));
            }
        }
        match (best, default) {
            (Some((_, v)), _) => Ok(v),
            (None, Some(d)) => Ok(d),
            (None, None) => {
                Err(self.raise("ValueError", format!("{name}() arg is an empty sequence")))
            }
        }
    }
}
