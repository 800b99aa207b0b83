//! Arithmetic: binary and unary operators on numbers, sequences, sets and dicts.
//!
//! Integers are 64-bit: a result beyond that is a plan error, not a wrong number. Host objects
//! on either side get the operator (SQL expression builders); `Opaque` values refuse it.

use std::rc::Rc;

use super::ctx::Ctx;
use super::dict::Dict;
use super::error::{Failure, Result};
use super::ops::set_of;
use super::value::Value;
use crate::script::ast::{BinOp, UnaryOp};

/// Numeric view of ints, bools and floats.
#[derive(Clone, Copy)]
pub(crate) enum Num {
    I(i64),
    F(f64),
}

pub(crate) fn num(v: &Value) -> Option<Num> {
    match v {
        Value::Int(i) => Some(Num::I(*i)),
        Value::Bool(b) => Some(Num::I(*b as i64)),
        Value::Float(f) => Some(Num::F(*f)),
        _ => None,
    }
}

impl Num {
    pub(crate) fn f(self) -> f64 {
        match self {
            Num::I(i) => i as f64,
            Num::F(f) => f,
        }
    }
}

fn op_symbol(op: BinOp) -> &'static str {
    match op {
        BinOp::Add => "+",
        BinOp::Sub => "-",
        BinOp::Mult => "*",
        BinOp::MatMult => "@",
        BinOp::Div => "/",
        BinOp::Mod => "%",
        BinOp::Pow => "**",
        BinOp::LShift => "<<",
        BinOp::RShift => ">>",
        BinOp::BitOr => "|",
        BinOp::BitXor => "^",
        BinOp::BitAnd => "&",
        BinOp::FloorDiv => "//",
    }
}

impl Ctx {
    pub(crate) fn unary(&mut self, op: UnaryOp, v: &Value) -> Result<Value> {
        match (op, v) {
            (UnaryOp::Not, _) => Ok(Value::Bool(!self.truthy(v)?)),
            (_, Value::Native(n)) => n.clone().unary(op, self),
            (_, Value::Opaque(o)) => Err(self.not_modeled(&o.name, "using it in arithmetic")),
            (UnaryOp::USub, Value::Float(f)) => Ok(Value::Float(-f)),
            (UnaryOp::UAdd, Value::Float(f)) => Ok(Value::Float(*f)),
            (UnaryOp::USub, _) if num(v).is_some() => match v.as_int().and_then(i64::checked_neg) {
                Some(i) => Ok(Value::Int(i)),
                None => Err(self.overflow()),
            },
            (UnaryOp::UAdd, _) if num(v).is_some() => Ok(Value::Int(v.as_int().unwrap_or(0))),
            (UnaryOp::Invert, Value::Int(_) | Value::Bool(_)) => {
                Ok(Value::Int(!v.as_int().unwrap_or(0)))
            }
            _ => {
                let sym = match op {
                    UnaryOp::USub => "-",
                    UnaryOp::UAdd => "+",
                    _ => "~",
                };
                Err(self.type_error(format!(
                    "bad operand type for unary {sym}: '{}'",
                    v.type_name()
                )))
            }
        }
    }

    pub(crate) fn overflow(&self) -> Failure {
        self.unsupported("integer arithmetic beyond 64 bits")
    }

    pub(crate) fn binary(&mut self, op: BinOp, a: &Value, b: &Value) -> Result<Value> {
        if let (BinOp::Mod, Value::Str(template)) = (op, a) {
            return Ok(Value::string(self.percent_format(template, b)?));
        }
        match (a, b) {
            (Value::Opaque(o), _) | (_, Value::Opaque(o)) => {
                return Err(self.not_modeled(&o.name, format!("using it with `{}`", op_symbol(op))))
            }
            (Value::Native(n), _) => return n.clone().binary(op, b, false, self),
            (_, Value::Native(n)) => return n.clone().binary(op, a, true, self),
            _ => {}
        }
        if let (Some(x), Some(y)) = (num(a), num(b)) {
            return self.arith(op, x, y, a, b);
        }
        if op == BinOp::Add {
            self.check_concat_len(a, b)?;
        }
        match self.collection_op(op, a, b)? {
            Some(v) => Ok(v),
            None => Err(self.binary_type_error(op, a, b)),
        }
    }

    /// Refuses a concatenation whose result would exceed the sequence limit.
    fn check_concat_len(&self, a: &Value, b: &Value) -> Result<()> {
        let len = |v: &Value| match v {
            Value::Str(s) => s.len(),
            Value::Bytes(b) => b.len(),
            Value::List(l) => l.borrow().len(),
            Value::Tuple(t) => t.len(),
            _ => 0,
        };
        if len(a).saturating_add(len(b)) > self.limits.max_sequence {
            return Err(self.limit(format!(
                "a sequence of more than {} elements",
                self.limits.max_sequence
            )));
        }
        Ok(())
    }

    /// `op` on sequences, dicts and sets: concatenation, repetition, dict merge and set
    /// algebra; `None` when the operands do not take it.
    fn collection_op(&mut self, op: BinOp, a: &Value, b: &Value) -> Result<Option<Value>> {
        Ok(match (op, a, b) {
            (BinOp::Add, Value::Str(x), Value::Str(y)) => Some(Value::string(format!("{x}{y}"))),
            (BinOp::Add, Value::Bytes(x), Value::Bytes(y)) => {
                Some(Value::Bytes([&x[..], &y[..]].concat().into()))
            }
            (BinOp::Add, Value::List(x), Value::List(y)) => {
                let mut items = x.borrow().clone();
                items.extend(y.borrow().iter().cloned());
                Some(Value::list(items))
            }
            (BinOp::Add, Value::Tuple(x), Value::Tuple(y)) => {
                Some(Value::tuple(x.iter().chain(y.iter()).cloned().collect()))
            }
            (BinOp::Mult, seq, Value::Int(_) | Value::Bool(_))
            | (BinOp::Mult, Value::Int(_) | Value::Bool(_), seq)
                if matches!(
                    seq,
                    Value::Str(_) | Value::Bytes(_) | Value::List(_) | Value::Tuple(_)
                ) =>
            {
                let n = if std::ptr::eq(seq, a) { b } else { a };
                Some(self.repeat(seq, n.as_int().unwrap_or(0))?)
            }
            (BinOp::BitOr, Value::Dict(x), Value::Dict(y)) => {
                let merged = Rc::new(std::cell::RefCell::new(x.borrow().clone()));
                self.dict_update(&merged, &Value::Dict(y.clone()))?;
                Some(Value::Dict(merged))
            }
            (
                BinOp::BitOr | BinOp::BitAnd | BinOp::Sub | BinOp::BitXor,
                Value::Set(_) | Value::FrozenSet(_),
                Value::Set(_) | Value::FrozenSet(_),
            ) => Some(set_op(op, a, b)),
            _ => None,
        })
    }

    /// The `TypeError` for operands that do not take `op`, worded as Python words it.
    fn binary_type_error(&self, op: BinOp, a: &Value, b: &Value) -> Failure {
        let (ta, tb) = (a.type_name(), b.type_name());
        self.type_error(match (op, a) {
            (BinOp::Add, Value::Str(_) | Value::List(_) | Value::Tuple(_)) => {
                format!("can only concatenate {ta} (not \"{tb}\") to {ta}")
            }
            (BinOp::Mult, Value::Str(_) | Value::List(_) | Value::Tuple(_) | Value::Bytes(_)) => {
                format!("can't multiply sequence by non-int of type '{tb}'")
            }
            _ => format!(
                "unsupported operand type(s) for {}: '{ta}' and '{tb}'",
                op_symbol(op)
            ),
        })
    }

    fn repeat(&mut self, seq: &Value, n: i64) -> Result<Value> {
        let n = n.max(0) as usize;
        let len = match seq {
            Value::Str(s) => s.len(),
            Value::Bytes(b) => b.len(),
            Value::List(l) => l.borrow().len(),
            Value::Tuple(t) => t.len(),
            _ => 0,
        };
        if len.saturating_mul(n) > self.limits.max_sequence {
            return Err(self.limit(format!(
                "a sequence of more than {} elements",
                self.limits.max_sequence
            )));
        }
        Ok(match seq {
            Value::Str(s) => Value::string(s.repeat(n)),
            Value::Bytes(b) => Value::Bytes(b.repeat(n).into()),
            Value::List(l) => {
                let items = l.borrow();
                Value::list((0..n).flat_map(|_| items.iter().cloned()).collect())
            }
            Value::Tuple(t) => Value::tuple((0..n).flat_map(|_| t.iter().cloned()).collect()),
            _ => Value::None,
        })
    }

    fn arith(&mut self, op: BinOp, x: Num, y: Num, a: &Value, b: &Value) -> Result<Value> {
        match (x, y) {
            (Num::I(x), Num::I(y)) => self.int_arith(op, x, y, a, b),
            (x, y) => self.float_arith(op, x.f(), y.f(), a, b),
        }
    }

    /// `op` on two integers (or bools, `a` and `b`): an int, a float for `/` and negative
    /// powers, a bool for bitwise operators on two bools; beyond 64 bits is an overflow.
    fn int_arith(&self, op: BinOp, x: i64, y: i64, a: &Value, b: &Value) -> Result<Value> {
        let both_bool = matches!((a, b), (Value::Bool(_), Value::Bool(_)));
        let zero = || self.raise("ZeroDivisionError", "integer division or modulo by zero");
        let r = match op {
            BinOp::Add => x.checked_add(y),
            BinOp::Sub => x.checked_sub(y),
            BinOp::Mult => x.checked_mul(y),
            BinOp::Div => {
                if y == 0 {
                    return Err(self.raise("ZeroDivisionError", "division by zero"));
                }
                return Ok(Value::Float(x as f64 / y as f64));
            }
            BinOp::FloorDiv => {
                if y == 0 {
                    return Err(zero());
                }
                x.checked_div_euclid(y).map(|_| floor_div(x, y))
            }
            BinOp::Mod => {
                if y == 0 {
                    return Err(self.raise("ZeroDivisionError", "integer modulo by zero"));
                }
                x.checked_rem(y).map(|r| {
                    if r != 0 && (r < 0) != (y < 0) {
                        r + y
                    } else {
                        r
                    }
                })
            }
            BinOp::Pow => {
                if y < 0 {
                    if x == 0 {
                        return Err(self.raise(
                            "ZeroDivisionError",
                            "0.0 cannot be raised to a negative power",
                        ));
                    }
                    return Ok(Value::Float((x as f64).powf(y as f64)));
                }
                u32::try_from(y).ok().and_then(|e| x.checked_pow(e))
            }
            BinOp::LShift | BinOp::RShift if y < 0 => {
                return Err(self.raise("ValueError", "negative shift count"));
            }
            BinOp::LShift => u32::try_from(y)
                .ok()
                .filter(|s| *s < 64)
                .and_then(|s| x.checked_shl(s))
                .filter(|r| r >> y == x)
                .or(if x == 0 { Some(0) } else { None }),
            BinOp::RShift => Some(if y >= 64 {
                if x < 0 {
                    -1
                } else {
                    0
                }
            } else {
                x >> y
            }),
            BinOp::BitAnd if both_bool => return Ok(Value::Bool(x & y != 0)),
            BinOp::BitOr if both_bool => return Ok(Value::Bool(x | y != 0)),
            BinOp::BitXor if both_bool => return Ok(Value::Bool(x ^ y != 0)),
            BinOp::BitAnd => Some(x & y),
            BinOp::BitOr => Some(x | y),
            BinOp::BitXor => Some(x ^ y),
            BinOp::MatMult => return Err(self.mismatch(op, a, b)),
        };
        r.map(Value::Int).ok_or_else(|| self.overflow())
    }

    /// `op` on two numbers at least one of which (`a` or `b`) is a float.
    fn float_arith(&self, op: BinOp, x: f64, y: f64, a: &Value, b: &Value) -> Result<Value> {
        let r = match op {
            BinOp::Add => x + y,
            BinOp::Sub => x - y,
            BinOp::Mult => x * y,
            BinOp::Div | BinOp::FloorDiv | BinOp::Mod if y == 0.0 => {
                return Err(self.raise("ZeroDivisionError", "float division by zero"));
            }
            BinOp::Div => x / y,
            BinOp::FloorDiv => (x / y).floor(),
            BinOp::Mod => {
                let r = x % y;
                if r != 0.0 && (r < 0.0) != (y < 0.0) {
                    r + y
                } else {
                    r
                }
            }
            BinOp::Pow => {
                if x == 0.0 && y < 0.0 {
                    return Err(self.raise(
                        "ZeroDivisionError",
                        "0.0 cannot be raised to a negative power",
                    ));
                }
                x.powf(y)
            }
            _ => return Err(self.mismatch(op, a, b)),
        };
        Ok(Value::Float(r))
    }

    fn mismatch(&self, op: BinOp, a: &Value, b: &Value) -> Failure {
        self.type_error(format!(
            "unsupported operand type(s) for {}: '{}' and '{}'",
            op_symbol(op),
            a.type_name(),
            b.type_name()
        ))
    }
}

/// Set algebra (`|`, `&`, `-`, `^`) on two sets or frozensets, in Python's element order;
/// the result has the kind of `a`.
fn set_op(op: BinOp, a: &Value, b: &Value) -> Value {
    let (x, y) = (set_of(a), set_of(b));
    let mut out = Dict::new();
    let keep = |k: &super::dict::Key, in_x: bool| match op {
        BinOp::BitOr => true,
        BinOp::BitAnd => in_x && y.contains(k),
        BinOp::Sub => in_x && !y.contains(k),
        _ => {
            if in_x {
                !y.contains(k)
            } else {
                !x.contains(k)
            }
        }
    };
    for (k, v) in x.key_entries() {
        if keep(&k, true) {
            out.insert(k, v, Value::None);
        }
    }
    if matches!(op, BinOp::BitOr | BinOp::BitXor) {
        for (k, v) in y.key_entries() {
            if keep(&k, false) && !out.contains(&k) {
                out.insert(k, v, Value::None);
            }
        }
    }
    match a {
        Value::FrozenSet(_) => Value::FrozenSet(Rc::new(out)),
        _ => Value::Set(Rc::new(std::cell::RefCell::new(out))),
    }
}

fn floor_div(x: i64, y: i64) -> i64 {
    let q = x / y;
    if (x % y != 0) && ((x < 0) != (y < 0)) {
        q - 1
    } else {
        q
    }
}
