//! Built-in types as callables (`int("3")`, `dict(a=1)`, `range(5)`, `type(x)`), `isinstance`
//! and `issubclass`, and the numeric built-ins.

use std::cell::RefCell;
use std::rc::Rc;

use super::ctx::Ctx;
use super::dict::Dict;
use super::error::Result;
use super::format::str_repr;
use super::value::{Class, Instance, Range, TypeKind, Value};
use crate::script::ast::BinOp;

/// Parse an `int()` literal: whitespace, sign, `_` between digits, base prefixes.
fn parse_int(text: &str, base: u32) -> Option<std::result::Result<i64, ()>> {
    let t = text.trim();
    let (negative, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let lower = t.to_ascii_lowercase();
    let prefixed = |p: &str, b: u32| lower.starts_with(p).then_some((b, &t[2..]));
    let (base, digits) = match base {
        0 => prefixed("0x", 16)
            .or_else(|| prefixed("0o", 8))
            .or_else(|| prefixed("0b", 2))
            .unwrap_or((10, t)),
        16 => prefixed("0x", 16).unwrap_or((16, t)),
        8 => prefixed("0o", 8).unwrap_or((8, t)),
        2 => prefixed("0b", 2).unwrap_or((2, t)),
        b => (b, t),
    };
    let digits = digits
        .strip_prefix('_')
        .filter(|_| digits.len() != t.len())
        .unwrap_or(digits);
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
    {
        return None;
    }
    let clean: String = digits.chars().filter(|c| *c != '_').collect();
    if !clean.chars().all(|c| c.is_digit(base)) {
        return None;
    }
    let signed = if negative { format!("-{clean}") } else { clean };
    Some(i64::from_str_radix(&signed, base).map_err(|_| ()))
}

/// Parse a `float()` literal.
fn parse_float(text: &str) -> Option<f64> {
    let t = text.trim();
    let lower = t.to_ascii_lowercase();
    let body = lower.trim_start_matches(['+', '-']);
    if matches!(body, "inf" | "infinity" | "nan") {
        let v = if body == "nan" {
            f64::NAN
        } else {
            f64::INFINITY
        };
        return Some(if lower.starts_with('-') { -v } else { v });
    }
    if t.contains("__") || t.starts_with('_') || t.ends_with('_') {
        return None;
    }
    let clean: String = t.chars().filter(|c| *c != '_').collect();
    if clean
        .chars()
        .any(|c| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
    {
        return None;
    }
    clean.parse().ok()
}

impl Ctx {
    pub(crate) fn call_type(
        &mut self,
        kind: TypeKind,
        args: Vec<Value>,
        mut kwargs: Vec<(String, Value)>,
    ) -> Result<Value> {
        let name = kind.name();
        if kind != TypeKind::Dict
            && !(kind == TypeKind::Int && kwargs.iter().all(|(k, _)| k == "base"))
        {
            self.no_kwargs(name, &kwargs)?;
        }
        match kind {
            TypeKind::Str => {
                self.arity(name, &args, 0, 3)?;
                match args.as_slice() {
                    [] => Ok(Value::str("")),
                    [v] => Ok(Value::string(self.str_of(v)?)),
                    [Value::Bytes(b), ..] => match std::str::from_utf8(b) {
                        Ok(s) => Ok(Value::str(s)),
                        Err(_) => Err(self.unsupported("decoding bytes that are not valid UTF-8")),
                    },
                    _ => Err(self.type_error("decoding str is not supported")),
                }
            }
            TypeKind::Int => {
                self.arity(name, &args, 0, 2)?;
                let base = match args
                    .get(1)
                    .cloned()
                    .or_else(|| kwargs.pop().map(|(_, v)| v))
                {
                    Some(b) => Some(
                        b.as_int()
                            .filter(|b| *b == 0 || (2..=36).contains(b))
                            .ok_or_else(|| {
                                self.raise("ValueError", "int() base must be >= 2 and <= 36, or 0")
                            })? as u32,
                    ),
                    None => None,
                };
                match (args.first(), base) {
                    (None, _) => Ok(Value::Int(0)),
                    (Some(Value::Str(s)), base) => match parse_int(s, base.unwrap_or(10)) {
                        Some(Ok(i)) => Ok(Value::Int(i)),
                        Some(Err(())) => Err(self.overflow()),
                        None => Err(self.raise(
                            "ValueError",
                            format!(
                                "invalid literal for int() with base {}: {}",
                                base.unwrap_or(10),
                                str_repr(s)
                            ),
                        )),
                    },
                    (Some(_), Some(_)) => {
                        Err(self.type_error("int() can't convert non-string with explicit base"))
                    }
                    (Some(Value::Int(i)), None) => Ok(Value::Int(*i)),
                    (Some(Value::Bool(b)), None) => Ok(Value::Int(*b as i64)),
                    (Some(Value::Float(f)), None) => {
                        if f.is_nan() {
                            Err(self.raise("ValueError", "cannot convert float NaN to integer"))
                        } else if f.is_infinite() {
                            Err(self
                                .raise("OverflowError", "cannot convert float infinity to integer"))
                        } else if f.trunc() >= -(2f64.powi(63)) && f.trunc() < 2f64.powi(63) {
                            Ok(Value::Int(f.trunc() as i64))
                        } else {
                            Err(self.overflow())
                        }
                    }
                    (Some(v), None) => self.not_a_number(name, v),
                }
            }
            TypeKind::Float => {
                self.arity(name, &args, 0, 1)?;
                match args.first() {
                    None => Ok(Value::Float(0.0)),
                    Some(Value::Float(f)) => Ok(Value::Float(*f)),
                    Some(Value::Int(_) | Value::Bool(_)) => {
                        Ok(Value::Float(args[0].as_int().unwrap_or(0) as f64))
                    }
                    Some(Value::Str(s)) => match parse_float(s) {
                        Some(f) => Ok(Value::Float(f)),
                        None => Err(self.raise(
                            "ValueError",
                            format!("could not convert string to float: {}", str_repr(s)),
                        )),
                    },
                    Some(v) => self.not_a_number(name, v),
                }
            }
            TypeKind::Bool => {
                self.arity(name, &args, 0, 1)?;
                match args.first() {
                    None => Ok(Value::Bool(false)),
                    Some(v) => Ok(Value::Bool(self.truthy(v)?)),
                }
            }
            TypeKind::Bytes => {
                self.arity(name, &args, 0, 3)?;
                match args.first() {
                    None => Ok(Value::Bytes(Rc::from(&[][..]))),
                    Some(Value::Str(s)) => match args
                        .get(1)
                        .and_then(Value::as_str)
                        .map(str::to_ascii_lowercase)
                    {
                        Some(enc) if matches!(enc.as_str(), "utf-8" | "utf8") => {
                            Ok(Value::Bytes(Rc::from(s.as_bytes())))
                        }
                        Some(enc) => Err(self.unsupported(format!("the encoding `{enc}`"))),
                        None => Err(self.type_error("string argument without an encoding")),
                    },
                    Some(Value::Int(n)) if *n >= 0 && (*n as usize) <= self.limits.max_sequence => {
                        Ok(Value::Bytes(vec![0u8; *n as usize].into()))
                    }
                    Some(other) => {
                        let mut out = Vec::new();
                        for v in self.collect(other)? {
                            match v.as_int().and_then(|i| u8::try_from(i).ok()) {
                                Some(b) => out.push(b),
                                None => {
                                    return Err(
                                        self.raise("ValueError", "bytes must be in range(0, 256)")
                                    )
                                }
                            }
                        }
                        Ok(Value::Bytes(out.into()))
                    }
                }
            }
            TypeKind::List | TypeKind::Tuple | TypeKind::Set | TypeKind::FrozenSet => {
                self.arity(name, &args, 0, 1)?;
                let items = match args.first() {
                    Some(v) => self.collect(v)?,
                    None => Vec::new(),
                };
                Ok(match kind {
                    TypeKind::List => Value::list(items),
                    TypeKind::Tuple => Value::tuple(items),
                    TypeKind::Set => self.make_set(items)?,
                    _ => match self.make_set(items)? {
                        Value::Set(d) => Value::FrozenSet(Rc::new(d.borrow().clone())),
                        other => other,
                    },
                })
            }
            TypeKind::Dict => {
                self.arity(name, &args, 0, 1)?;
                let d = Rc::new(RefCell::new(Dict::new()));
                if let Some(src) = args.first() {
                    self.dict_update(&d, src)?;
                }
                for (k, v) in kwargs {
                    let key = Value::string(k);
                    let hk = self.key(&key)?;
                    d.borrow_mut().insert(hk, key, v);
                }
                Ok(Value::Dict(d))
            }
            TypeKind::Range => {
                self.arity(name, &args, 1, 3)?;
                let mut ints = Vec::with_capacity(args.len());
                for a in &args {
                    match a.as_int() {
                        Some(i) => ints.push(i),
                        None => {
                            return Err(self.type_error(format!(
                                "'{}' object cannot be interpreted as an integer",
                                a.type_name()
                            )))
                        }
                    }
                }
                let (start, stop, step) = match ints.as_slice() {
                    [stop] => (0, *stop, 1),
                    [start, stop] => (*start, *stop, 1),
                    [start, stop, step] => (*start, *stop, *step),
                    _ => (0, 0, 1),
                };
                if step == 0 {
                    return Err(self.raise("ValueError", "range() arg 3 must not be zero"));
                }
                Ok(Value::Range(Range { start, stop, step }))
            }
            TypeKind::Object => {
                self.arity(name, &args, 0, 0)?;
                Ok(Value::Instance(Rc::new(Instance {
                    class: Class::new("object", Vec::new()),
                    attrs: RefCell::default(),
                })))
            }
            TypeKind::Type => match args.as_slice() {
                [v] => self.type_of(v),
                _ => Err(self.unsupported("type() with three arguments (dynamic classes)")),
            },
            TypeKind::NoneType => Ok(Value::None),
        }
    }

    fn not_a_number(&self, name: &str, v: &Value) -> Result<Value> {
        Err(match v {
            Value::Native(n) => self.native_unsupported(n.type_name(), format!("{name}()")),
            Value::Opaque(o) => self.not_modeled(&o.name, format!("{name}()")),
            other => self.type_error(format!(
                "{name}() argument must be a string{} or a real number, not '{}'",
                if name == "int" {
                    ", a bytes-like object"
                } else {
                    ""
                },
                other.type_name()
            )),
        })
    }

    /// `type(v)`.
    pub(crate) fn type_of(&self, v: &Value) -> Result<Value> {
        let kind = match v {
            Value::None => TypeKind::NoneType,
            Value::Bool(_) => TypeKind::Bool,
            Value::Int(_) => TypeKind::Int,
            Value::Float(_) => TypeKind::Float,
            Value::Str(_) => TypeKind::Str,
            Value::Bytes(_) => TypeKind::Bytes,
            Value::List(_) => TypeKind::List,
            Value::Tuple(_) => TypeKind::Tuple,
            Value::Dict(_) => TypeKind::Dict,
            Value::Set(_) => TypeKind::Set,
            Value::FrozenSet(_) => TypeKind::FrozenSet,
            Value::Range(_) => TypeKind::Range,
            Value::Type(_) | Value::Class(_) => TypeKind::Type,
            Value::Instance(i) => return Ok(Value::Class(i.class.clone())),
            Value::Native(n) => return Err(self.native_unsupported(n.type_name(), "type()")),
            Value::Opaque(o) => return Err(self.not_modeled(&o.name, "type()")),
            other => {
                return Err(self.unsupported(format!("type() of a {} value", other.type_name())))
            }
        };
        Ok(Value::Type(kind))
    }

    pub(crate) fn is_instance(&mut self, v: &Value, class: &Value) -> Result<bool> {
        match class {
            Value::Tuple(classes) => {
                for c in classes.iter() {
                    if self.is_instance(v, c)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Value::Type(kind) => Ok(match (kind, v) {
                (TypeKind::Object, _) => true,
                (TypeKind::Int, Value::Int(_) | Value::Bool(_)) => true,
                (TypeKind::Type, Value::Type(_) | Value::Class(_)) => true,
                (_, Value::Instance(_) | Value::Native(_)) => false,
                (kind, v) => matches!(self.type_of(v), Ok(Value::Type(k)) if k == *kind),
            }),
            Value::Class(c) => Ok(match v {
                Value::Instance(i) => i.class.is_subclass_of(c),
                _ => false,
            }),
            Value::Native(n) => n.clone().is_instance(v, self),
            Value::Opaque(o) => Err(self.not_modeled(&o.name, "using it as a class in isinstance")),
            _ => {
                Err(self
                    .type_error("isinstance() arg 2 must be a type, a tuple of types, or a union"))
            }
        }
    }

    pub(crate) fn is_subclass(&mut self, sub: &Value, class: &Value) -> Result<bool> {
        match (sub, class) {
            (_, Value::Tuple(classes)) => {
                for c in classes.iter() {
                    if self.is_subclass(sub, c)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            (Value::Class(s), Value::Class(c)) => Ok(s.is_subclass_of(c)),
            (Value::Type(s), Value::Type(c)) => Ok(s == c
                || *c == TypeKind::Object
                || (*s == TypeKind::Bool && *c == TypeKind::Int)),
            (Value::Class(_), Value::Type(c)) => Ok(*c == TypeKind::Object),
            (Value::Type(_), Value::Class(_)) => Ok(false),
            (Value::Opaque(o), _) | (_, Value::Opaque(o)) => {
                Err(self.not_modeled(&o.name, "issubclass()"))
            }
            (Value::Native(n), _) | (_, Value::Native(n)) => {
                Err(self.native_unsupported(n.type_name(), "issubclass()"))
            }
            _ => Err(self.type_error("issubclass() arg 1 must be a class")),
        }
    }

    /// `abs`, `round`, `chr`, `ord`, `hex`, `bin`, `oct`, `divmod`, `pow`.
    pub(crate) fn call_numeric_builtin(&mut self, name: &str, args: Vec<Value>) -> Result<Value> {
        match name {
            "abs" => {
                self.arity(name, &args, 1, 1)?;
                match &args[0] {
                    Value::Float(f) => Ok(Value::Float(f.abs())),
                    v => match v.as_int() {
                        Some(i) => i
                            .checked_abs()
                            .map(Value::Int)
                            .ok_or_else(|| self.overflow()),
                        None => Err(self.type_error(format!(
                            "bad operand type for abs(): '{}'",
                            v.type_name()
                        ))),
                    },
                }
            }
            "round" => {
                self.arity(name, &args, 1, 2)?;
                let digits = match args.get(1) {
                    None | Some(Value::None) => None,
                    Some(d) => Some(
                        d.as_int()
                            .ok_or_else(|| self.type_error("round() ndigits must be an integer"))?,
                    ),
                };
                match (&args[0], digits) {
                    (Value::Float(f), None) => {
                        if !f.is_finite() {
                            return Err(self.raise(
                                "OverflowError",
                                "cannot convert float infinity or NaN to integer",
                            ));
                        }
                        let r = f.round_ties_even();
                        if r.abs() < 2f64.powi(63) {
                            Ok(Value::Int(r as i64))
                        } else {
                            Err(self.overflow())
                        }
                    }
                    (Value::Float(f), Some(n)) if n >= 0 => {
                        let text = format!("{:.*}", n.min(400) as usize, f);
                        Ok(Value::Float(text.parse().unwrap_or(*f)))
                    }
                    (Value::Float(f), Some(n)) => {
                        let m = 10f64.powi(n.clamp(-400, 0).unsigned_abs() as i32);
                        Ok(Value::Float((f / m).round_ties_even() * m))
                    }
                    (v, digits) => match v.as_int() {
                        Some(i) => match digits {
                            Some(n) if n < 0 => {
                                let m = 10i64.checked_pow(n.unsigned_abs().min(30) as u32);
                                let Some(m) = m else { return Ok(Value::Int(0)) };
                                let q = i.div_euclid(m);
                                let r = i.rem_euclid(m);
                                let up = r * 2 > m || (r * 2 == m && q % 2 != 0);
                                (q + up as i64)
                                    .checked_mul(m)
                                    .map(Value::Int)
                                    .ok_or_else(|| self.overflow())
                            }
                            _ => Ok(Value::Int(i)),
                        },
                        None => Err(self.type_error(format!(
                            "type {} doesn't define __round__ method",
                            v.type_name()
                        ))),
                    },
                }
            }
            "chr" => {
                self.arity(name, &args, 1, 1)?;
                let c = args[0]
                    .as_int()
                    .and_then(|i| u32::try_from(i).ok())
                    .and_then(char::from_u32);
                c.map(|c| Value::string(c.to_string()))
                    .ok_or_else(|| self.raise("ValueError", "chr() arg not in range(0x110000)"))
            }
            "ord" => {
                self.arity(name, &args, 1, 1)?;
                match &args[0] {
                    Value::Str(s) if s.chars().count() == 1 => {
                        Ok(Value::Int(s.chars().next().map_or(0, |c| c as i64)))
                    }
                    Value::Str(s) => Err(self.type_error(format!(
                        "ord() expected a character, but string of length {} found",
                        s.chars().count()
                    ))),
                    v => Err(self.type_error(format!(
                        "ord() expected string of length 1, but {} found",
                        v.type_name()
                    ))),
                }
            }
            "hex" | "bin" | "oct" => {
                self.arity(name, &args, 1, 1)?;
                let Some(i) = args[0].as_int() else {
                    return Err(self.type_error(format!(
                        "'{}' object cannot be interpreted as an integer",
                        args[0].type_name()
                    )));
                };
                let m = i.unsigned_abs();
                let body = match name {
                    "hex" => format!("0x{m:x}"),
                    "bin" => format!("0b{m:b}"),
                    _ => format!("0o{m:o}"),
                };
                Ok(Value::string(if i < 0 { format!("-{body}") } else { body }))
            }
            "divmod" => {
                self.arity(name, &args, 2, 2)?;
                let q = self.binary(BinOp::FloorDiv, &args[0], &args[1])?;
                let r = self.binary(BinOp::Mod, &args[0], &args[1])?;
                Ok(Value::tuple(vec![q, r]))
            }
            "pow" => {
                self.arity(name, &args, 2, 3)?;
                if args.len() == 3 {
                    return Err(self.unsupported("pow() with a modulus"));
                }
                self.binary(BinOp::Pow, &args[0], &args[1])
            }
            other => Err(self.unsupported(format!("the built-in `{other}`"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_literals_follow_python_rules() {
        assert_eq!(parse_int(" 42 ", 10), Some(Ok(42)));
        assert_eq!(parse_int("-1_000", 10), Some(Ok(-1000)));
        assert_eq!(parse_int("0x1f", 16), Some(Ok(31)));
        assert_eq!(parse_int("0o17", 0), Some(Ok(15)));
        assert_eq!(parse_int("1.5", 10), None);
        assert_eq!(parse_int("1__0", 10), None);
        assert_eq!(parse_int("", 10), None);
        assert_eq!(parse_int("99999999999999999999", 10), Some(Err(())));
    }

    #[test]
    fn float_literals_follow_python_rules() {
        assert_eq!(parse_float(" 1.5 "), Some(1.5));
        assert_eq!(parse_float("1_000.5"), Some(1000.5));
        assert_eq!(parse_float("-inf"), Some(f64::NEG_INFINITY));
        assert!(parse_float("nan").is_some_and(f64::is_nan));
        assert_eq!(parse_float("abc"), None);
        assert_eq!(parse_float("1e3"), Some(1000.0));
    }
}
