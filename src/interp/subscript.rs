//! Subscripts and slices: `s[i]`, `d[k]`, `l[a:b:c]`, their assignment and deletion.

use std::rc::Rc;

use super::ctx::Ctx;
use super::error::Failure;
use super::error::Result;
use super::scope::Scope;
use super::value::{Class, Value};
use crate::script::ast::Expr;

/// Evaluated slice bounds; `None` is an omitted bound.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bounds {
    lower: Option<i64>,
    upper: Option<i64>,
    step: Option<i64>,
}

/// The indices a slice selects from a sequence of `len` items, in order.
fn slice_indices(b: Bounds, len: usize) -> Option<Vec<usize>> {
    let len = len as i64;
    let step = b.step.unwrap_or(1);
    if step == 0 {
        return None;
    }
    let clamp = |v: Option<i64>, default: i64, lo: i64, hi: i64| match v {
        None => default,
        Some(v) if v < 0 => (v + len).max(lo),
        Some(v) => v.min(hi),
    };
    let mut out = Vec::new();
    if step > 0 {
        let (start, stop) = (clamp(b.lower, 0, 0, len), clamp(b.upper, len, 0, len));
        let mut i = start;
        while i < stop {
            out.push(i as usize);
            match i.checked_add(step) {
                Some(next) => i = next,
                None => break,
            }
        }
    } else {
        let (start, stop) = (
            clamp(b.lower, len - 1, -1, len - 1),
            clamp(b.upper, -1, -1, len - 1),
        );
        let mut i = start;
        while i > stop {
            out.push(i as usize);
            match i.checked_add(step) {
                Some(next) => i = next,
                None => break,
            }
        }
    }
    Some(out)
}

/// A Python index into a sequence of `len` items (negative counts from the end).
pub(crate) fn normalize_index(i: i64, len: usize) -> Option<usize> {
    let idx = if i < 0 { i + len as i64 } else { i };
    (0..len as i64).contains(&idx).then_some(idx as usize)
}

impl Ctx {
    /// A `KeyError` carrying the missing key (its message is the key's repr).
    pub(crate) fn key_error(&self, key: &Value) -> Failure {
        let class = self
            .exception_class("KeyError")
            .unwrap_or_else(|| Class::new("KeyError", Vec::new()));
        self.raise_value(super::exceptions::new_exception(class, vec![key.clone()]))
    }

    pub(crate) fn eval_slice_bounds(
        &mut self,
        scope: &Rc<Scope>,
        lower: &Option<Box<Expr>>,
        upper: &Option<Box<Expr>>,
        step: &Option<Box<Expr>>,
    ) -> Result<Bounds> {
        let bound = |ctx: &mut Ctx, e: &Option<Box<Expr>>| -> Result<Option<i64>> {
            let Some(e) = e else { return Ok(None) };
            match ctx.eval(scope, e)? {
                Value::None => Ok(None),
                v => match v.as_int() {
                    Some(i) => Ok(Some(i)),
                    None => Err(ctx.type_error("slice indices must be integers or None")),
                },
            }
        };
        Ok(Bounds {
            lower: bound(self, lower)?,
            upper: bound(self, upper)?,
            step: bound(self, step)?,
        })
    }

    fn indices(&self, b: Bounds, len: usize) -> Result<Vec<usize>> {
        slice_indices(b, len).ok_or_else(|| self.raise("ValueError", "slice step cannot be zero"))
    }

    pub(crate) fn get_slice(&mut self, v: &Value, b: Bounds) -> Result<Value> {
        match v {
            Value::Str(s) => {
                let chars: Vec<char> = s.chars().collect();
                let idx = self.indices(b, chars.len())?;
                Ok(Value::string(idx.into_iter().map(|i| chars[i]).collect()))
            }
            Value::Bytes(bytes) => {
                let idx = self.indices(b, bytes.len())?;
                Ok(Value::Bytes(
                    idx.into_iter()
                        .map(|i| bytes[i])
                        .collect::<Vec<u8>>()
                        .into(),
                ))
            }
            Value::List(l) => {
                let items = l.borrow();
                let idx = self.indices(b, items.len())?;
                Ok(Value::list(
                    idx.into_iter().map(|i| items[i].clone()).collect(),
                ))
            }
            Value::Tuple(t) => {
                let idx = self.indices(b, t.len())?;
                Ok(Value::tuple(
                    idx.into_iter().map(|i| t[i].clone()).collect(),
                ))
            }
            Value::Range(r) => {
                let len = r.len();
                if len as u64 > self.limits.max_sequence as u64 {
                    return Err(self.unsupported("slicing a very large range"));
                }
                let idx = self.indices(b, len as usize)?;
                let items: Vec<Value> = idx
                    .into_iter()
                    .map(|i| Value::Int(r.get(i as i64)))
                    .collect();
                Ok(Value::list(items))
            }
            Value::Native(n) => Err(self.native_unsupported(n.type_name(), "slicing it")),
            Value::Opaque(o) => Err(self.not_modeled(&o.name, "slicing it")),
            other => Err(self.type_error(format!(
                "'{}' object is not subscriptable",
                other.type_name()
            ))),
        }
    }

    pub(crate) fn set_slice(&mut self, target: &Value, b: Bounds, value: Value) -> Result<()> {
        let Value::List(l) = target else {
            return match target {
                Value::Opaque(o) => Err(self.not_modeled(&o.name, "assigning to a slice of it")),
                other => Err(self.type_error(format!(
                    "'{}' object does not support slice assignment",
                    other.type_name()
                ))),
            };
        };
        if b.step.is_some_and(|s| s != 1) {
            return Err(self.unsupported("assignment to an extended slice"));
        }
        let new = self.collect(&value)?;
        let mut items = l.borrow_mut();
        let len = items.len();
        let idx = slice_indices(b, len).unwrap_or_default();
        let start = idx.first().copied().unwrap_or_else(|| match b.lower {
            None => 0,
            Some(v) if v < 0 => (v + len as i64).max(0) as usize,
            Some(v) => (v as usize).min(len),
        });
        let end = start + idx.len();
        items.splice(start..end, new);
        Ok(())
    }

    pub(crate) fn get_item(&mut self, v: &Value, index: &Value) -> Result<Value> {
        match v {
            Value::Dict(d) => {
                let key = self.key(index)?;
                let found = d.borrow().get(&key).cloned();
                match found {
                    Some(v) => Ok(v),
                    None => Err(self.key_error(index)),
                }
            }
            Value::Native(n) => n.clone().getitem(index, self),
            Value::Opaque(o) => Err(self.not_modeled(&o.name, "subscripting it")),
            Value::Class(_) | Value::Type(_) => {
                Err(self.unsupported("subscripting a class (generic alias)"))
            }
            Value::Str(_)
            | Value::Bytes(_)
            | Value::List(_)
            | Value::Tuple(_)
            | Value::Range(_) => {
                let Some(i) = index.as_int() else {
                    return Err(self.type_error(format!(
                        "{} indices must be integers or slices, not {}",
                        v.type_name(),
                        index.type_name()
                    )));
                };
                let found = match v {
                    Value::Str(s) => {
                        let len = s.chars().count();
                        normalize_index(i, len)
                            .and_then(|i| s.chars().nth(i))
                            .map(|c| Value::string(c.to_string()))
                    }
                    Value::Bytes(b) => normalize_index(i, b.len()).map(|i| Value::Int(b[i] as i64)),
                    Value::List(l) => {
                        let items = l.borrow();
                        normalize_index(i, items.len()).map(|i| items[i].clone())
                    }
                    Value::Tuple(t) => normalize_index(i, t.len()).map(|i| t[i].clone()),
                    Value::Range(r) => {
                        let len = r.len();
                        let idx = if i < 0 { i + len } else { i };
                        (0..len).contains(&idx).then(|| Value::Int(r.get(idx)))
                    }
                    _ => None,
                };
                found.ok_or_else(|| {
                    self.raise(
                        "IndexError",
                        format!(
                            "{} index out of range",
                            if matches!(v, Value::Str(_)) {
                                "string".to_string()
                            } else {
                                v.type_name()
                            }
                        ),
                    )
                })
            }
            other => Err(self.type_error(format!(
                "'{}' object is not subscriptable",
                other.type_name()
            ))),
        }
    }

    pub(crate) fn set_item(&mut self, target: &Value, index: &Value, value: Value) -> Result<()> {
        match target {
            Value::Dict(d) => {
                let key = self.key(index)?;
                d.borrow_mut().insert(key, index.clone(), value);
                Ok(())
            }
            Value::List(l) => {
                let Some(i) = index.as_int() else {
                    return Err(self.type_error(format!(
                        "list indices must be integers or slices, not {}",
                        index.type_name()
                    )));
                };
                let mut items = l.borrow_mut();
                match normalize_index(i, items.len()) {
                    Some(i) => {
                        items[i] = value;
                        Ok(())
                    }
                    None => Err(self.raise("IndexError", "list assignment index out of range")),
                }
            }
            Value::Native(n) => n.clone().setitem(index, value, self),
            Value::Opaque(o) => Err(self.not_modeled(&o.name, "assigning to an item of it")),
            other => Err(self.type_error(format!(
                "'{}' object does not support item assignment",
                other.type_name()
            ))),
        }
    }

    pub(crate) fn del_item(&mut self, target: &Value, index: &Value) -> Result<()> {
        match target {
            Value::Dict(d) => {
                let key = self.key(index)?;
                let removed = d.borrow_mut().remove(&key);
                match removed {
                    Some(_) => Ok(()),
                    None => Err(self.key_error(index)),
                }
            }
            Value::List(l) => {
                let Some(i) = index.as_int() else {
                    return Err(self.type_error("list indices must be integers or slices"));
                };
                let mut items = l.borrow_mut();
                match normalize_index(i, items.len()) {
                    Some(i) => {
                        items.remove(i);
                        Ok(())
                    }
                    None => Err(self.raise("IndexError", "list assignment index out of range")),
                }
            }
            Value::Native(n) => {
                Err(self.native_unsupported(n.type_name(), "deleting an item of it"))
            }
            Value::Opaque(o) => Err(self.not_modeled(&o.name, "deleting an item of it")),
            other => Err(self.type_error(format!(
                "'{}' object does not support item deletion",
                other.type_name()
            ))),
        }
    }
}
