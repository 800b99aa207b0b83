//! Assignment targets: names, unpacking (with one starred target), attributes, subscripts and
//! slices; augmented assignment and `del`.

use std::rc::Rc;

use super::ctx::Ctx;
use super::error::Result;
use super::scope::Scope;
use super::value::Value;
use crate::script::ast::{BinOp, Expr, ExprKind};

impl Ctx {
    pub(crate) fn assign(&mut self, scope: &Rc<Scope>, target: &Expr, value: Value) -> Result<()> {
        match &target.kind {
            ExprKind::Name(name) => self.bind(scope, name, value),
            ExprKind::Tuple(elts) | ExprKind::List(elts) => {
                if !super::convert::is_iterable(&value) {
                    return Err(self.type_error(format!(
                        "cannot unpack non-iterable {} object",
                        value.type_name()
                    )));
                }
                let items = self.collect(&value)?;
                self.pos = target.pos;
                self.unpack(scope, elts, items)
            }
            ExprKind::Attribute { value: obj, attr } => {
                let o = self.eval(scope, obj)?;
                self.pos = target.pos;
                self.set_attr(&o, attr, value)
            }
            ExprKind::Subscript { value: obj, index } => {
                let o = self.eval(scope, obj)?;
                if let ExprKind::Slice { lower, upper, step } = &index.kind {
                    let bounds = self.eval_slice_bounds(scope, lower, upper, step)?;
                    self.pos = target.pos;
                    return self.set_slice(&o, bounds, value);
                }
                let i = self.eval(scope, index)?;
                self.pos = target.pos;
                self.set_item(&o, &i, value)
            }
            ExprKind::Starred(_) => Err(self.raise(
                "SyntaxError",
                "starred assignment target must be in a list or tuple",
            )),
            _ => Err(self.raise("SyntaxError", "cannot assign to this expression")),
        }
    }

    fn unpack(&mut self, scope: &Rc<Scope>, targets: &[Expr], items: Vec<Value>) -> Result<()> {
        let starred: Vec<usize> = targets
            .iter()
            .enumerate()
            .filter(|(_, t)| matches!(t.kind, ExprKind::Starred(_)))
            .map(|(i, _)| i)
            .collect();
        match starred.as_slice() {
            [] => {
                if items.len() != targets.len() {
                    return Err(self.unpack_error(targets.len(), items.len(), false));
                }
                for (t, v) in targets.iter().zip(items) {
                    self.assign(scope, t, v)?;
                }
                Ok(())
            }
            [star] => {
                let before = *star;
                let after = targets.len() - star - 1;
                if items.len() < before + after {
                    return Err(self.unpack_error(before + after, items.len(), true));
                }
                let mut items = items;
                let tail = items.split_off(items.len() - after);
                let middle = items.split_off(before);
                for (t, v) in targets[..before].iter().zip(items) {
                    self.assign(scope, t, v)?;
                }
                if let ExprKind::Starred(inner) = &targets[before].kind {
                    self.assign(scope, inner, Value::list(middle))?;
                }
                for (t, v) in targets[before + 1..].iter().zip(tail) {
                    self.assign(scope, t, v)?;
                }
                Ok(())
            }
            _ => Err(self.raise("SyntaxError", "multiple starred expressions in assignment")),
        }
    }

    fn unpack_error(&self, expected: usize, got: usize, at_least: bool) -> super::error::Failure {
        let message = if got < expected {
            let least = if at_least { "at least " } else { "" };
            format!("not enough values to unpack (expected {least}{expected}, got {got})")
        } else {
            format!("too many values to unpack (expected {expected})")
        };
        self.raise("ValueError", message)
    }

    /// `target op= value`: the target's parts are evaluated once, lists/sets/dicts update in place.
    pub(crate) fn aug_assign(
        &mut self,
        scope: &Rc<Scope>,
        target: &Expr,
        op: BinOp,
        value: &Expr,
    ) -> Result<()> {
        match &target.kind {
            ExprKind::Name(name) => {
                let current = self.load_name(scope, name)?;
                let rhs = self.eval(scope, value)?;
                self.pos = target.pos;
                let new = self.inplace(op, current, &rhs)?;
                self.bind(scope, name, new)
            }
            ExprKind::Attribute { value: obj, attr } => {
                let o = self.eval(scope, obj)?;
                self.pos = target.pos;
                let current = self.get_attr(&o, attr)?;
                let rhs = self.eval(scope, value)?;
                self.pos = target.pos;
                let new = self.inplace(op, current, &rhs)?;
                self.set_attr(&o, attr, new)
            }
            ExprKind::Subscript { value: obj, index }
                if !matches!(index.kind, ExprKind::Slice { .. }) =>
            {
                let o = self.eval(scope, obj)?;
                let i = self.eval(scope, index)?;
                self.pos = target.pos;
                let current = self.get_item(&o, &i)?;
                let rhs = self.eval(scope, value)?;
                self.pos = target.pos;
                let new = self.inplace(op, current, &rhs)?;
                self.set_item(&o, &i, new)
            }
            ExprKind::Subscript { .. } => Err(self.unsupported("augmented assignment to a slice")),
            _ => Err(self.raise("SyntaxError", "illegal expression for augmented assignment")),
        }
    }

    /// In-place operators: `+=` on a list extends it (aliases see the change), `|=` on sets
    /// and dicts updates them; everything else is the plain operator.
    fn inplace(&mut self, op: BinOp, current: Value, rhs: &Value) -> Result<Value> {
        match (&current, op) {
            (Value::List(l), BinOp::Add) => {
                let items = self.collect(rhs)?;
                l.borrow_mut().extend(items);
                Ok(current)
            }
            (Value::Set(_), BinOp::BitOr | BinOp::BitAnd | BinOp::Sub | BinOp::BitXor)
                if matches!(rhs, Value::Set(_) | Value::FrozenSet(_)) =>
            {
                let result = self.binary(op, &current, rhs)?;
                if let (Value::Set(target), Value::Set(new)) = (&current, &result) {
                    let new = new.borrow().clone();
                    *target.borrow_mut() = new;
                }
                Ok(current)
            }
            (Value::Dict(d), BinOp::BitOr) => {
                self.dict_update(d, rhs)?;
                Ok(current)
            }
            _ => self.binary(op, &current, rhs),
        }
    }

    pub(crate) fn delete(&mut self, scope: &Rc<Scope>, target: &Expr) -> Result<()> {
        match &target.kind {
            ExprKind::Name(name) => {
                if scope.delete(name) {
                    Ok(())
                } else {
                    Err(self.raise("NameError", format!("name '{name}' is not defined")))
                }
            }
            ExprKind::Tuple(elts) | ExprKind::List(elts) => {
                for t in elts {
                    self.delete(scope, t)?;
                }
                Ok(())
            }
            ExprKind::Subscript { value: obj, index } => {
                let o = self.eval(scope, obj)?;
                if let ExprKind::Slice { lower, upper, step } = &index.kind {
                    let bounds = self.eval_slice_bounds(scope, lower, upper, step)?;
                    self.pos = target.pos;
                    return self.set_slice(&o, bounds, Value::list(Vec::new()));
                }
                let i = self.eval(scope, index)?;
                self.pos = target.pos;
                self.del_item(&o, &i)
            }
            ExprKind::Attribute { value: obj, attr } => {
                let o = self.eval(scope, obj)?;
                self.pos = target.pos;
                self.del_attr(&o, attr)
            }
            _ => Err(self.raise("SyntaxError", "cannot delete this expression")),
        }
    }
}
