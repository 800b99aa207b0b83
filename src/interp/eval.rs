//! Expressions: names, literals, calls with unpacking, operators, comprehensions, f-strings.

use std::cell::RefCell;
use std::rc::Rc;

use super::ctx::Ctx;
use super::dict::Dict;
use super::error::Result;
use super::scope::{Scope, ScopeKind};
use super::value::{Body, SeqIter, Value};
use crate::script::ast::{
    BinOp, BoolOp, CmpOp, Comprehension, Expr, ExprKind, FStringPart, Keyword, Pos, UnaryOp,
};

/// Evaluated call arguments: positional, then keyword.
type Arguments = (Vec<Value>, Vec<(String, Value)>);

impl Ctx {
    /// Evaluate an expression. Each compound form lives in its own function so that the frame
    /// on the recursion path stays small (debug builds do not share stack slots between arms).
    pub(crate) fn eval(&mut self, scope: &Rc<Scope>, expr: &Expr) -> Result<Value> {
        self.pos = expr.pos;
        self.check_stack()?;
        match &expr.kind {
            ExprKind::Name(name) => self.load_name(scope, name),
            ExprKind::Str(s) => Ok(Value::str(s)),
            ExprKind::Bytes(b) => Ok(Value::Bytes(Rc::from(b.as_slice()))),
            ExprKind::Int(i) => Ok(Value::Int(*i)),
            ExprKind::Float(f) => Ok(Value::Float(*f)),
            ExprKind::Bool(b) => Ok(Value::Bool(*b)),
            ExprKind::None => Ok(Value::None),
            ExprKind::Ellipsis => Ok(Value::Ellipsis),
            ExprKind::Attribute { value, attr } => {
                self.eval_attribute(scope, expr.pos, value, attr)
            }
            ExprKind::Call {
                func,
                args,
                keywords,
            } => self.eval_call(scope, expr.pos, func, args, keywords),
            ExprKind::FString(parts) => self.eval_fstring(scope, parts).map(Value::string),
            ExprKind::List(_) | ExprKind::Tuple(_) | ExprKind::Set(_) | ExprKind::Dict(_) => {
                self.eval_display(scope, expr)
            }
            ExprKind::BinOp { left, op, right } => {
                self.eval_binop(scope, expr.pos, left, *op, right)
            }
            ExprKind::UnaryOp { op, operand } => self.eval_unary(scope, expr.pos, *op, operand),
            ExprKind::BoolOp { op, values } => self.eval_boolop(scope, *op, values),
            ExprKind::Compare {
                left,
                ops,
                comparators,
            } => self.eval_compare(scope, expr.pos, left, ops, comparators),
            ExprKind::IfExp { test, body, orelse } => self.eval_ifexp(scope, test, body, orelse),
            ExprKind::Lambda { params, body } => {
                self.make_function(scope, "<lambda>", params, Body::Expr((**body).clone()))
            }
            ExprKind::Subscript { value, index } => {
                self.eval_subscript(scope, expr.pos, value, index)
            }
            ExprKind::ListComp { .. }
            | ExprKind::SetComp { .. }
            | ExprKind::DictComp { .. }
            | ExprKind::GeneratorExp { .. } => self.eval_comprehension(scope, expr),
            ExprKind::Named { target, value } => self.eval_named(scope, target, value),
            ExprKind::Starred(_) => {
                Err(self.raise("SyntaxError", "can't use starred expression here"))
            }
            ExprKind::Slice { .. } => Err(self.unsupported("a slice outside a subscript")),
            ExprKind::Yield(value) => {
                let value = match value {
                    Some(v) => self.eval(scope, v)?,
                    None => Value::None,
                };
                self.eval_yield(scope, value)
            }
            ExprKind::Unsupported(what) => Err(self.unsupported(*what)),
        }
    }

    fn eval_attribute(
        &mut self,
        scope: &Rc<Scope>,
        pos: Pos,
        value: &Expr,
        attr: &str,
    ) -> Result<Value> {
        let v = self.eval(scope, value)?;
        self.pos = pos;
        self.get_attr(&v, attr)
    }

    fn eval_display(&mut self, scope: &Rc<Scope>, expr: &Expr) -> Result<Value> {
        match &expr.kind {
            ExprKind::List(elts) => Ok(Value::list(self.eval_elements(scope, elts)?)),
            ExprKind::Tuple(elts) => Ok(Value::tuple(self.eval_elements(scope, elts)?)),
            ExprKind::Set(elts) => {
                let items = self.eval_elements(scope, elts)?;
                self.pos = expr.pos;
                self.make_set(items)
            }
            ExprKind::Dict(items) => self.eval_dict(scope, items),
            _ => Err(self.unsupported("this display")),
        }
    }

    fn eval_binop(
        &mut self,
        scope: &Rc<Scope>,
        pos: Pos,
        left: &Expr,
        op: BinOp,
        right: &Expr,
    ) -> Result<Value> {
        let l = self.eval(scope, left)?;
        let r = self.eval(scope, right)?;
        self.pos = pos;
        self.binary(op, &l, &r)
    }

    fn eval_unary(
        &mut self,
        scope: &Rc<Scope>,
        pos: Pos,
        op: UnaryOp,
        operand: &Expr,
    ) -> Result<Value> {
        let v = self.eval(scope, operand)?;
        self.pos = pos;
        self.unary(op, &v)
    }

    fn eval_boolop(&mut self, scope: &Rc<Scope>, op: BoolOp, values: &[Expr]) -> Result<Value> {
        let mut last = Value::None;
        for (i, e) in values.iter().enumerate() {
            last = self.eval(scope, e)?;
            if i + 1 == values.len() || (op == BoolOp::And) != self.truthy(&last)? {
                break;
            }
        }
        Ok(last)
    }

    fn eval_compare(
        &mut self,
        scope: &Rc<Scope>,
        pos: Pos,
        left: &Expr,
        ops: &[CmpOp],
        comparators: &[Expr],
    ) -> Result<Value> {
        let mut l = self.eval(scope, left)?;
        let mut result = Value::Bool(true);
        for (op, e) in ops.iter().zip(comparators) {
            let r = self.eval(scope, e)?;
            self.pos = pos;
            result = self.compare(*op, &l, &r)?;
            // A single comparison may build a host expression object: never test its truth.
            if ops.len() > 1 && !self.truthy(&result)? {
                break;
            }
            l = r;
        }
        Ok(result)
    }

    fn eval_ifexp(
        &mut self,
        scope: &Rc<Scope>,
        test: &Expr,
        body: &Expr,
        orelse: &Expr,
    ) -> Result<Value> {
        let t = self.eval(scope, test)?;
        let branch = if self.truthy(&t)? { body } else { orelse };
        self.eval(scope, branch)
    }

    fn eval_subscript(
        &mut self,
        scope: &Rc<Scope>,
        pos: Pos,
        value: &Expr,
        index: &Expr,
    ) -> Result<Value> {
        let v = self.eval(scope, value)?;
        if let ExprKind::Slice { lower, upper, step } = &index.kind {
            let bounds = self.eval_slice_bounds(scope, lower, upper, step)?;
            self.pos = pos;
            return self.get_slice(&v, bounds);
        }
        let i = self.eval(scope, index)?;
        self.pos = pos;
        self.get_item(&v, &i)
    }

    fn eval_comprehension(&mut self, scope: &Rc<Scope>, expr: &Expr) -> Result<Value> {
        match &expr.kind {
            ExprKind::DictComp {
                key,
                value,
                generators,
            } => {
                let mut out = Dict::new();
                self.comprehension(scope, generators, &mut |ctx, s| {
                    let k = ctx.eval(s, key)?;
                    let v = ctx.eval(s, value)?;
                    let hk = ctx.key(&k)?;
                    out.insert(hk, k, v);
                    Ok(())
                })?;
                Ok(Value::Dict(Rc::new(RefCell::new(out))))
            }
            ExprKind::ListComp { elt, generators }
            | ExprKind::SetComp { elt, generators }
            | ExprKind::GeneratorExp { elt, generators } => {
                let mut out = Vec::new();
                self.comprehension(scope, generators, &mut |ctx, s| {
                    out.push(ctx.eval(s, elt)?);
                    Ok(())
                })?;
                self.pos = expr.pos;
                match &expr.kind {
                    ExprKind::ListComp { .. } => Ok(Value::list(out)),
                    ExprKind::SetComp { .. } => self.make_set(out),
                    _ => Ok(Value::Iterator(Rc::new(RefCell::new(SeqIter {
                        items: out,
                        next: 0,
                    })))),
                }
            }
            _ => Err(self.unsupported("this comprehension")),
        }
    }

    fn eval_named(&mut self, scope: &Rc<Scope>, target: &Expr, value: &Expr) -> Result<Value> {
        let v = self.eval(scope, value)?;
        let Some(name) = Ctx::target_name(target) else {
            return Err(self.raise(
                "SyntaxError",
                "cannot use assignment expressions with this target",
            ));
        };
        if !scope.assign_named(name, v.clone()) {
            return Err(self.raise(
                "SyntaxError",
                format!("no binding for nonlocal '{name}' found"),
            ));
        }
        Ok(v)
    }

    pub(crate) fn load_name(&mut self, scope: &Rc<Scope>, name: &str) -> Result<Value> {
        if let Some(v) = scope.lookup(name) {
            return Ok(v);
        }
        match self.builtin(name) {
            Some(v) => v,
            None => Err(self.raise("NameError", format!("name '{name}' is not defined"))),
        }
    }

    /// Elements of a list, tuple or set display, with `*iterable` spliced in.
    fn eval_elements(&mut self, scope: &Rc<Scope>, elts: &[Expr]) -> Result<Vec<Value>> {
        let mut out = Vec::with_capacity(elts.len());
        for e in elts {
            if let ExprKind::Starred(inner) = &e.kind {
                let v = self.eval(scope, inner)?;
                self.pos = e.pos;
                out.extend(self.collect(&v)?);
            } else {
                out.push(self.eval(scope, e)?);
            }
        }
        Ok(out)
    }

    fn eval_dict(&mut self, scope: &Rc<Scope>, items: &[(Option<Expr>, Expr)]) -> Result<Value> {
        let d = Rc::new(RefCell::new(Dict::new()));
        for (key, value) in items {
            match key {
                Some(k) => {
                    let k = self.eval(scope, k)?;
                    let v = self.eval(scope, value)?;
                    let hk = self.key(&k)?;
                    d.borrow_mut().insert(hk, k, v);
                }
                None => {
                    let mapping = self.eval(scope, value)?;
                    self.pos = value.pos;
                    self.dict_update(&d, &mapping)?;
                }
            }
        }
        Ok(Value::Dict(d))
    }

    pub(crate) fn make_set(&mut self, items: Vec<Value>) -> Result<Value> {
        let mut d = Dict::new();
        for v in items {
            let k = self.key(&v)?;
            d.insert(k, v, Value::None);
        }
        Ok(Value::Set(Rc::new(RefCell::new(d))))
    }

    /// A call. A method call on a host object goes to [`Native::call_method`] once the
    /// arguments are evaluated, so hosts can implement methods without building bound values.
    fn eval_call(
        &mut self,
        scope: &Rc<Scope>,
        pos: Pos,
        func: &Expr,
        args: &[Expr],
        keywords: &[Keyword],
    ) -> Result<Value> {
        let f = match &func.kind {
            ExprKind::Attribute { value, attr } => {
                let receiver = self.eval(scope, value)?;
                if let Value::Native(n) = receiver {
                    let (positional, kwargs) = self.eval_arguments(scope, args, keywords)?;
                    self.pos = pos;
                    let result = n.call_method(attr, positional, kwargs, self);
                    self.pos = pos;
                    return result;
                }
                self.pos = func.pos;
                self.get_attr(&receiver, attr)?
            }
            ExprKind::Name(name)
                if name == "super"
                    && args.is_empty()
                    && keywords.is_empty()
                    && scope.lookup("super").is_none() =>
            {
                self.pos = pos;
                return self.zero_argument_super(scope);
            }
            ExprKind::Name(name)
                if name == "globals"
                    && args.is_empty()
                    && keywords.is_empty()
                    && scope.lookup("globals").is_none() =>
            {
                return Ok(super::frame::globals_view(scope));
            }
            _ => self.eval(scope, func)?,
        };
        let (positional, kwargs) = self.eval_arguments(scope, args, keywords)?;
        self.pos = pos;
        let result = self.call_value(&f, positional, kwargs);
        self.pos = pos;
        result
    }

    /// Positional and keyword arguments, with `*iterable` and `**mapping` unpacked.
    fn eval_arguments(
        &mut self,
        scope: &Rc<Scope>,
        args: &[Expr],
        keywords: &[Keyword],
    ) -> Result<Arguments> {
        let positional = self.eval_elements(scope, args)?;
        let mut kwargs: Vec<(String, Value)> = Vec::with_capacity(keywords.len());
        for kw in keywords {
            let items = match &kw.arg {
                Some(name) => vec![(Value::str(name), self.eval(scope, &kw.value)?)],
                None => {
                    let mapping = self.eval(scope, &kw.value)?;
                    self.pos = kw.value.pos;
                    self.mapping_items(&mapping)?
                }
            };
            for (k, v) in items {
                let Value::Str(name) = k else {
                    return Err(self.type_error("keywords must be strings"));
                };
                if kwargs.iter().any(|(n, _)| **n == *name) {
                    self.pos = kw.value.pos;
                    return Err(self
                        .type_error(format!("got multiple values for keyword argument '{name}'")));
                }
                kwargs.push((name.to_string(), v));
            }
        }
        Ok((positional, kwargs))
    }

    /// Runs the generator clauses of a comprehension in a scope of its own, calling `emit`
    /// for each combination that passes the `if`s.
    fn comprehension(
        &mut self,
        scope: &Rc<Scope>,
        generators: &[Comprehension],
        emit: &mut dyn FnMut(&mut Ctx, &Rc<Scope>) -> Result<()>,
    ) -> Result<()> {
        let inner = Scope::child(scope, ScopeKind::Comprehension, scope.prefix.clone());
        self.comprehension_level(&inner, generators, emit)
    }

    fn comprehension_level(
        &mut self,
        scope: &Rc<Scope>,
        generators: &[Comprehension],
        emit: &mut dyn FnMut(&mut Ctx, &Rc<Scope>) -> Result<()>,
    ) -> Result<()> {
        let Some((g, rest)) = generators.split_first() else {
            return emit(self, scope);
        };
        let iterable = self.eval(scope, &g.iter)?;
        'items: for item in self.iter_of(&iterable)? {
            self.tick(g.iter.pos)?;
            self.assign(scope, &g.target, item)?;
            for cond in &g.ifs {
                let c = self.eval(scope, cond)?;
                if !self.truthy(&c)? {
                    continue 'items;
                }
            }
            self.comprehension_level(scope, rest, emit)?;
        }
        Ok(())
    }

    fn eval_fstring(&mut self, scope: &Rc<Scope>, parts: &[FStringPart]) -> Result<String> {
        let mut out = String::new();
        for part in parts {
            match part {
                FStringPart::Literal(s) => out.push_str(s),
                FStringPart::Interpolation {
                    expr,
                    conversion,
                    debug_text,
                    format_spec,
                } => {
                    let v = self.eval(scope, expr)?;
                    if let Some(text) = debug_text {
                        out.push_str(text);
                    }
                    let spec = match format_spec {
                        Some(parts) => self.eval_fstring(scope, parts)?,
                        None => String::new(),
                    };
                    self.pos = expr.pos;
                    let conversion = match (conversion, debug_text, format_spec) {
                        (Some(c), _, _) => Some(*c),
                        (None, Some(_), None) => Some('r'),
                        _ => None,
                    };
                    let converted = match conversion {
                        Some('r') => Value::string(self.repr_of(&v)?),
                        Some('a') => Value::string(super::format::ascii_escape(&self.repr_of(&v)?)),
                        Some(_) => Value::string(self.str_of(&v)?),
                        None => v,
                    };
                    out.push_str(&self.format_value(&converted, &spec)?);
                }
            }
        }
        Ok(out)
    }
}
