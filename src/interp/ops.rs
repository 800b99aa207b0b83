//! Truth, equality, ordering and membership.
//!
//! Host objects get the first word on rich comparisons (SQL expression builders return
//! expressions); `Opaque` values refuse every comparison except `is`.

use std::cmp::Ordering;
use std::rc::Rc;

use super::arith::{num, Num};
use super::ctx::Ctx;
use super::dict::Dict;
use super::error::Result;
use super::value::Value;
use crate::script::ast::CmpOp;

fn cmp_symbol(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => "==",
        CmpOp::NotEq => "!=",
        CmpOp::Lt => "<",
        CmpOp::LtE => "<=",
        CmpOp::Gt => ">",
        CmpOp::GtE => ">=",
        CmpOp::Is => "is",
        CmpOp::IsNot => "is not",
        CmpOp::In => "in",
        CmpOp::NotIn => "not in",
    }
}

impl Ctx {
    pub(crate) fn truthy(&mut self, v: &Value) -> Result<bool> {
        Ok(match v {
            Value::None => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::Bytes(b) => !b.is_empty(),
            Value::List(l) => !l.borrow().is_empty(),
            Value::Tuple(t) => !t.is_empty(),
            Value::Dict(d) | Value::Set(d) => !d.borrow().is_empty(),
            Value::FrozenSet(d) => !d.is_empty(),
            Value::Range(r) => !r.is_empty(),
            Value::Instance(i) => {
                if i.class.lookup("__bool__").is_some() || i.class.lookup("__len__").is_some() {
                    return Err(self.unsupported(format!(
                        "truth value of `{}` through __bool__/__len__",
                        i.class.name
                    )));
                }
                true
            }
            Value::Native(n) => n.clone().truth(self)?,
            Value::Opaque(o) => return Err(self.not_modeled(&o.name, "testing its truth value")),
            Value::Ellipsis
            | Value::Iterator(_)
            | Value::Function(_)
            | Value::BoundMethod(_)
            | Value::Builtin(_)
            | Value::Type(_)
            | Value::Class(_)
            | Value::Module(_) => true,
        })
    }

    pub(crate) fn enter_nesting(&mut self) -> Result<()> {
        self.nesting += 1;
        if self.nesting > 100 {
            self.nesting -= 1;
            return Err(
                self.limit("values nested more than 100 deep (a container containing itself?)")
            );
        }
        Ok(())
    }

    pub(crate) fn values_equal(&mut self, a: &Value, b: &Value) -> Result<bool> {
        if let (Some(x), Some(y)) = (num(a), num(b)) {
            return Ok(match (x, y) {
                (Num::I(x), Num::I(y)) => x == y,
                (Num::F(x), Num::F(y)) => x == y,
                (Num::I(i), Num::F(f)) | (Num::F(f), Num::I(i)) => {
                    f.fract() == 0.0 && f >= i64::MIN as f64 && f < i64::MAX as f64 && f as i64 == i
                }
            });
        }
        match (a, b) {
            (Value::Opaque(o), _) | (_, Value::Opaque(o)) => {
                Err(self.not_modeled(&o.name, "comparing it"))
            }
            (Value::Native(n), other) | (other, Value::Native(n)) => n.clone().eq(other, self),
            (Value::Str(x), Value::Str(y)) => Ok(x == y),
            (Value::Bytes(x), Value::Bytes(y)) => Ok(x == y),
            (Value::List(x), Value::List(y)) => {
                if Rc::ptr_eq(x, y) {
                    return Ok(true);
                }
                let (x, y) = (x.borrow().clone(), y.borrow().clone());
                self.seq_equal(&x, &y)
            }
            (Value::Tuple(x), Value::Tuple(y)) => self.seq_equal(x, y),
            (Value::Dict(x), Value::Dict(y)) => {
                let (x, y) = (x.borrow().clone(), y.borrow().clone());
                if x.len() != y.len() {
                    return Ok(false);
                }
                for (k, v) in x.iter() {
                    let key = self.key(k)?;
                    match y.get(&key) {
                        Some(w) => {
                            self.enter_nesting()?;
                            let eq = self.values_equal(v, w);
                            self.nesting -= 1;
                            if !eq? {
                                return Ok(false);
                            }
                        }
                        None => return Ok(false),
                    }
                }
                Ok(true)
            }
            (Value::Set(_) | Value::FrozenSet(_), Value::Set(_) | Value::FrozenSet(_)) => {
                let (x, y) = (set_of(a), set_of(b));
                Ok(x.len() == y.len() && x.key_entries().iter().all(|(k, _)| y.contains(k)))
            }
            (Value::Range(x), Value::Range(y)) => Ok(x == y
                || (x.is_empty() && y.is_empty())
                || (x.len() == y.len()
                    && x.start == y.start
                    && (x.len() == 1 || x.step == y.step))),
            (Value::Instance(i), _) | (_, Value::Instance(i))
                if i.class.lookup("__eq__").is_some() =>
            {
                Err(self.unsupported(format!("`==` through __eq__ of class `{}`", i.class.name)))
            }
            _ => Ok(a.is(b)),
        }
    }

    fn seq_equal(&mut self, x: &[Value], y: &[Value]) -> Result<bool> {
        if x.len() != y.len() {
            return Ok(false);
        }
        self.enter_nesting()?;
        let mut result = Ok(true);
        for (a, b) in x.iter().zip(y) {
            match self.values_equal(a, b) {
                Ok(true) => {}
                other => {
                    result = other;
                    break;
                }
            }
        }
        self.nesting -= 1;
        result
    }

    /// Ordering for `<`, `<=`, `>`, `>=` (sets excluded); `None` when unordered (NaN).
    fn order(&mut self, op: CmpOp, a: &Value, b: &Value) -> Result<Option<Ordering>> {
        if let (Some(x), Some(y)) = (num(a), num(b)) {
            return Ok(match (x, y) {
                (Num::I(x), Num::I(y)) => Some(x.cmp(&y)),
                (x, y) => x.f().partial_cmp(&y.f()),
            });
        }
        match (a, b) {
            (Value::Str(x), Value::Str(y)) => Ok(Some(x.cmp(y))),
            (Value::Bytes(x), Value::Bytes(y)) => Ok(Some(x.cmp(y))),
            (Value::List(x), Value::List(y)) => {
                let (x, y) = (x.borrow().clone(), y.borrow().clone());
                self.seq_order(op, &x, &y)
            }
            (Value::Tuple(x), Value::Tuple(y)) => self.seq_order(op, x, y),
            (Value::Opaque(o), _) | (_, Value::Opaque(o)) => {
                Err(self.not_modeled(&o.name, "comparing it"))
            }
            (Value::Native(n), _) | (_, Value::Native(n)) => Err(self.native_unsupported(
                n.type_name(),
                format!("the comparison `{}`", cmp_symbol(op)),
            )),
            _ => Err(self.type_error(format!(
                "'{}' not supported between instances of '{}' and '{}'",
                cmp_symbol(op),
                a.type_name(),
                b.type_name()
            ))),
        }
    }

    fn seq_order(&mut self, op: CmpOp, x: &[Value], y: &[Value]) -> Result<Option<Ordering>> {
        for (a, b) in x.iter().zip(y) {
            if !self.values_equal(a, b)? {
                self.enter_nesting()?;
                let o = self.order(op, a, b);
                self.nesting -= 1;
                return o;
            }
        }
        Ok(Some(x.len().cmp(&y.len())))
    }

    /// `a < b` as a plain boolean (sorting, `min`, `max`).
    pub(crate) fn less_than(&mut self, a: &Value, b: &Value) -> Result<bool> {
        let r = self.compare(CmpOp::Lt, a, b)?;
        self.truthy(&r)
    }

    pub(crate) fn compare(&mut self, op: CmpOp, a: &Value, b: &Value) -> Result<Value> {
        let rich = matches!(
            op,
            CmpOp::Eq | CmpOp::NotEq | CmpOp::Lt | CmpOp::LtE | CmpOp::Gt | CmpOp::GtE
        );
        if rich {
            if let Value::Native(n) = a {
                if let Some(v) = n.clone().compare(op, b, false, self)? {
                    return Ok(v);
                }
            } else if let Value::Native(n) = b {
                if let Some(v) = n.clone().compare(op, a, true, self)? {
                    return Ok(v);
                }
            }
        }
        let result = match op {
            CmpOp::Eq => self.values_equal(a, b)?,
            CmpOp::NotEq => !self.values_equal(a, b)?,
            CmpOp::Is => a.is(b),
            CmpOp::IsNot => !a.is(b),
            CmpOp::In => self.contains(b, a)?,
            CmpOp::NotIn => !self.contains(b, a)?,
            CmpOp::Lt | CmpOp::LtE | CmpOp::Gt | CmpOp::GtE => {
                if let (Value::Set(_) | Value::FrozenSet(_), Value::Set(_) | Value::FrozenSet(_)) =
                    (a, b)
                {
                    let (x, y) = (set_of(a), set_of(b));
                    let subset =
                        |s: &Dict, t: &Dict| s.key_entries().iter().all(|(k, _)| t.contains(k));
                    match op {
                        CmpOp::Lt => x.len() < y.len() && subset(&x, &y),
                        CmpOp::LtE => subset(&x, &y),
                        CmpOp::Gt => x.len() > y.len() && subset(&y, &x),
                        _ => subset(&y, &x),
                    }
                } else {
                    match self.order(op, a, b)? {
                        None => false,
                        Some(o) => match op {
                            CmpOp::Lt => o == Ordering::Less,
                            CmpOp::LtE => o != Ordering::Greater,
                            CmpOp::Gt => o == Ordering::Greater,
                            _ => o != Ordering::Less,
                        },
                    }
                }
            }
        };
        Ok(Value::Bool(result))
    }

    /// `item in container`.
    pub(crate) fn contains(&mut self, container: &Value, item: &Value) -> Result<bool> {
        match container {
            Value::Str(s) => match item {
                Value::Str(sub) => Ok(s.contains(&**sub)),
                _ => Err(self.type_error(format!(
                    "'in <string>' requires string as left operand, not {}",
                    item.type_name()
                ))),
            },
            Value::Bytes(b) => match item {
                Value::Bytes(sub) => {
                    Ok(sub.is_empty() || b.windows(sub.len()).any(|w| w == &**sub))
                }
                Value::Int(i) => Ok(b.iter().any(|x| *x as i64 == *i)),
                _ => Err(self.type_error("a bytes-like object is required")),
            },
            Value::List(_) | Value::Tuple(_) | Value::Iterator(_) => {
                let items = match container {
                    Value::List(l) => l.borrow().clone(),
                    Value::Tuple(t) => t.to_vec(),
                    _ => self.collect(container)?,
                };
                for v in &items {
                    if v.is(item) || self.values_equal(v, item)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Value::Dict(_) | Value::Set(_) | Value::FrozenSet(_) => {
                let key = self.key(item)?;
                Ok(match container {
                    Value::Dict(d) | Value::Set(d) => d.borrow().contains(&key),
                    Value::FrozenSet(d) => d.contains(&key),
                    _ => false,
                })
            }
            Value::Range(r) => Ok(match num(item) {
                Some(Num::I(i)) => {
                    let (lo, hi) = if r.step > 0 {
                        (r.start, r.stop)
                    } else {
                        (r.stop, r.start)
                    };
                    let inside = if r.step > 0 {
                        i >= lo && i < hi
                    } else {
                        i > lo && i <= hi
                    };
                    inside && (i as i128 - r.start as i128) % r.step as i128 == 0
                }
                _ => false,
            }),
            Value::Native(n) => n.clone().contains(item, self),
            Value::Opaque(o) => Err(self.not_modeled(&o.name, "testing membership in it")),
            other => Err(self.type_error(format!(
                "argument of type '{}' is not iterable",
                other.type_name()
            ))),
        }
    }
}

/// A snapshot of the members of a set or frozenset.
pub(crate) fn set_of(v: &Value) -> Dict {
    match v {
        Value::Set(d) => d.borrow().clone(),
        Value::FrozenSet(d) => (**d).clone(),
        _ => Dict::new(),
    }
}
