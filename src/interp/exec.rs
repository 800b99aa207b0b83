//! Statements: control flow, `with`, `try`, `raise` and definitions (imports: `imports`).
//!
//! `with` and `finally` run their exit paths for normal completion, `return`/`break`/
//! `continue` and Python exceptions, but not for plan errors: those end the evaluation as is.

use std::rc::Rc;

use super::ctx::Ctx;
use super::error::{Failure, Raised, Result};
use super::exceptions::is_exception_class;
use super::scope::{Scope, ScopeKind};
use super::value::{Body, Class, Value};
use crate::script::ast::{Expr, ExprKind, Pos, Stmt, StmtKind, WithItem};

/// How a block ended.
pub(crate) enum Flow {
    Normal,
    Return(Value),
    Break,
    Continue,
}

impl Ctx {
    pub(crate) fn exec_block(&mut self, scope: &Rc<Scope>, body: &[Stmt]) -> Result<Flow> {
        for stmt in body {
            match self.exec_stmt(scope, stmt)? {
                Flow::Normal => {}
                flow => return Ok(flow),
            }
        }
        Ok(Flow::Normal)
    }

    /// Execute one statement. As in `eval`, each compound form has its own function to keep
    /// the frame on the recursion path small.
    fn exec_stmt(&mut self, scope: &Rc<Scope>, stmt: &Stmt) -> Result<Flow> {
        self.pos = stmt.pos;
        match &stmt.kind {
            StmtKind::Expr(e) => self.eval(scope, e).map(|_| Flow::Normal),
            StmtKind::Assign { targets, value } => self.exec_assign(scope, targets, value),
            StmtKind::AnnAssign { target, value } => match value {
                Some(value) => self.exec_assign(scope, std::slice::from_ref(target), value),
                None => Ok(Flow::Normal),
            },
            StmtKind::AugAssign { target, op, value } => self
                .aug_assign(scope, target, *op, value)
                .map(|_| Flow::Normal),
            StmtKind::Delete(targets) => self.exec_delete(scope, targets),
            StmtKind::If { test, body, orelse } => self.exec_if(scope, test, body, orelse),
            StmtKind::For {
                target,
                iter,
                body,
                orelse,
            } => self.exec_for(scope, stmt.pos, target, iter, body, orelse),
            StmtKind::While { test, body, orelse } => {
                self.exec_while(scope, stmt.pos, test, body, orelse)
            }
            StmtKind::With { items, body } => self.exec_with(scope, stmt, items, body),
            StmtKind::Try {
                body,
                handlers,
                orelse,
                finalbody,
            } => self.exec_try(scope, body, handlers, orelse, finalbody),
            StmtKind::Raise(exc) => Err(self.exec_raise(scope, exc.as_ref())?),
            StmtKind::Assert { test, msg } => self.exec_assert(scope, stmt.pos, test, msg.as_ref()),
            StmtKind::Return(value) => self.exec_return(scope, value.as_ref()),
            StmtKind::Pass => Ok(Flow::Normal),
            StmtKind::Break => Ok(Flow::Break),
            StmtKind::Continue => Ok(Flow::Continue),
            StmtKind::FunctionDef(def) => self.exec_def(scope, def),
            StmtKind::ClassDef {
                name,
                bases,
                keywords,
                body,
            } => self
                .exec_class(scope, name, bases, !keywords.is_empty(), body)
                .map(|_| Flow::Normal),
            StmtKind::Import(aliases) => self.exec_import(scope, aliases),
            StmtKind::ImportFrom {
                module,
                names,
                level,
            } => self.exec_import_from(scope, module.as_deref(), names, *level),
            StmtKind::Global(names) => {
                for n in names {
                    scope.declare_global(n);
                }
                Ok(Flow::Normal)
            }
            StmtKind::Nonlocal(names) => {
                if scope.kind == ScopeKind::Module {
                    return Err(self.raise(
                        "SyntaxError",
                        "nonlocal declaration not allowed at module level",
                    ));
                }
                for n in names {
                    scope.declare_nonlocal(n);
                }
                Ok(Flow::Normal)
            }
            StmtKind::Unsupported(what) => Err(self.unsupported(*what)),
        }
    }

    fn exec_assign(&mut self, scope: &Rc<Scope>, targets: &[Expr], value: &Expr) -> Result<Flow> {
        let v = self.eval(scope, value)?;
        for target in targets {
            self.assign(scope, target, v.clone())?;
        }
        Ok(Flow::Normal)
    }

    fn exec_delete(&mut self, scope: &Rc<Scope>, targets: &[Expr]) -> Result<Flow> {
        for target in targets {
            self.delete(scope, target)?;
        }
        Ok(Flow::Normal)
    }

    fn exec_if(
        &mut self,
        scope: &Rc<Scope>,
        test: &Expr,
        body: &[Stmt],
        orelse: &[Stmt],
    ) -> Result<Flow> {
        let t = self.eval(scope, test)?;
        let branch = if self.truthy(&t)? { body } else { orelse };
        self.exec_block(scope, branch)
    }

    fn exec_return(&mut self, scope: &Rc<Scope>, value: Option<&Expr>) -> Result<Flow> {
        match value {
            Some(e) => self.eval(scope, e).map(Flow::Return),
            None => Ok(Flow::Return(Value::None)),
        }
    }

    fn exec_assert(
        &mut self,
        scope: &Rc<Scope>,
        pos: Pos,
        test: &Expr,
        msg: Option<&Expr>,
    ) -> Result<Flow> {
        let t = self.eval(scope, test)?;
        if self.truthy(&t)? {
            return Ok(Flow::Normal);
        }
        let args = match msg {
            Some(m) => vec![self.eval(scope, m)?],
            None => Vec::new(),
        };
        self.pos = pos;
        let class = self
            .exception_class("AssertionError")
            .unwrap_or_else(|| Class::new("AssertionError", Vec::new()));
        Err(self.raise_value(super::exceptions::new_exception(class, args)))
    }

    fn exec_def(
        &mut self,
        scope: &Rc<Scope>,
        def: &crate::script::ast::FunctionDef,
    ) -> Result<Flow> {
        if def.is_async {
            return Err(self.unsupported("async def"));
        }
        // Decorators are evaluated first to last, then applied last to first, as in Python.
        let mut decorators = Vec::with_capacity(def.decorators.len());
        for d in &def.decorators {
            decorators.push((d.pos, self.eval(scope, d)?));
        }
        let qualname = format!("{}{}", scope.prefix, def.name);
        if let Some(v) = self.host.nested_replacement(&self.path, &qualname) {
            self.bind(scope, &def.name, v)?;
            return Ok(Flow::Normal);
        }
        let body = if def.is_generator {
            Body::Generator(def.body.clone())
        } else {
            Body::Block(def.body.clone())
        };
        let mut f = self.make_function(scope, &def.name, &def.params, body)?;
        for (pos, decorator) in decorators.into_iter().rev() {
            self.pos = pos;
            f = self.call_value(&decorator, vec![f], Vec::new())?;
        }
        self.bind(scope, &def.name, f)?;
        Ok(Flow::Normal)
    }

    /// Bind a name in `scope`, failing for a `nonlocal` name with no enclosing binding.
    pub(crate) fn bind(&mut self, scope: &Rc<Scope>, name: &str, value: Value) -> Result<()> {
        if scope.assign(name, value) {
            Ok(())
        } else {
            Err(self.raise(
                "SyntaxError",
                format!("no binding for nonlocal '{name}' found"),
            ))
        }
    }

    fn exec_for(
        &mut self,
        scope: &Rc<Scope>,
        pos: Pos,
        target: &Expr,
        iter: &Expr,
        body: &[Stmt],
        orelse: &[Stmt],
    ) -> Result<Flow> {
        let iterable = self.eval(scope, iter)?;
        let items = self.iter_of(&iterable)?;
        for item in items {
            self.tick(pos)?;
            self.assign(scope, target, item)?;
            match self.exec_block(scope, body)? {
                Flow::Normal | Flow::Continue => {}
                Flow::Break => return Ok(Flow::Normal),
                ret @ Flow::Return(_) => return Ok(ret),
            }
        }
        self.exec_block(scope, orelse)
    }

    fn exec_while(
        &mut self,
        scope: &Rc<Scope>,
        pos: Pos,
        test: &Expr,
        body: &[Stmt],
        orelse: &[Stmt],
    ) -> Result<Flow> {
        if let Some(drain) = super::drain::shape(test, body) {
            // The first pass by hand: its result may stand for the whole loop.
            self.tick(pos)?;
            let effects = self.host.effects();
            for stmt in drain.prefix {
                // Plain assignments (see `drain::shape`): nothing to break or return.
                self.exec_block(scope, std::slice::from_ref(stmt))?;
            }
            // What the prefix computes is computed alike on every pass, unless it had an effect.
            let same_each_pass = self.host.effects() == effects;
            let result = self.eval(scope, drain.value)?;
            self.assign(scope, drain.target, result.clone())?;
            if let (Value::Native(n), Some(bound), true) =
                (&result, self.drain_bound(scope, &drain)?, same_each_pass)
            {
                if n.clone().repeat_while_changing(bound, self)? {
                    return Ok(Flow::Normal);
                }
            }
            match self.exec_block(scope, &body[drain.prefix.len() + 1..])? {
                Flow::Normal | Flow::Continue => {}
                Flow::Break => return Ok(Flow::Normal),
                ret @ Flow::Return(_) => return Ok(ret),
            }
        }
        loop {
            let t = self.eval(scope, test)?;
            if !self.truthy(&t)? {
                break;
            }
            self.tick(pos)?;
            match self.exec_block(scope, body)? {
                Flow::Normal | Flow::Continue => {}
                Flow::Break => return Ok(Flow::Normal),
                ret @ Flow::Return(_) => return Ok(ret),
            }
        }
        self.exec_block(scope, orelse)
    }

    /// The fewest rows a pass of a draining loop must change for the loop to go on, when the
    /// loop's test gives one (a positive int).
    fn drain_bound(
        &mut self,
        scope: &Rc<Scope>,
        drain: &super::drain::Drain,
    ) -> Result<Option<u64>> {
        let limit = match drain.bound {
            super::drain::Bound::Int(n) => n,
            super::drain::Bound::Below { limit, at_most } => {
                match self.eval(scope, limit)?.as_int() {
                    Some(n) => n.saturating_add(i64::from(at_most)),
                    None => return Ok(None),
                }
            }
        };
        Ok(u64::try_from(limit).ok().filter(|n| *n >= 1))
    }

    pub(crate) fn exec_with(
        &mut self,
        scope: &Rc<Scope>,
        stmt: &Stmt,
        items: &[WithItem],
        body: &[Stmt],
    ) -> Result<Flow> {
        let Some((first, rest)) = items.split_first() else {
            return self.exec_block(scope, body);
        };
        let manager = self.eval(scope, &first.context)?;
        if let Some(flow) = self.exec_with_generator(&manager, scope, stmt, first, rest, body)? {
            return Ok(flow);
        }
        let entered = self.enter(&manager)?;
        if let Some(var) = &first.var {
            self.assign(scope, var, entered)?;
        }
        let result = self.exec_with(scope, stmt, rest, body);
        self.pos = stmt.pos;
        match result {
            Err(Failure::Raised(raised)) => {
                if self.exit(&manager, Some(&raised))? {
                    Ok(Flow::Normal)
                } else {
                    Err(Failure::Raised(raised))
                }
            }
            Ok(flow) => {
                self.exit(&manager, None)?;
                Ok(flow)
            }
            Err(plan_error) => Err(plan_error),
        }
    }

    fn enter(&mut self, manager: &Value) -> Result<Value> {
        match manager {
            Value::Native(n) => n.clone().enter(self),
            Value::Instance(_) => {
                let method = self.get_attr(manager, "__enter__")?;
                self.call_value(&method, Vec::new(), Vec::new())
            }
            Value::Opaque(o) => Err(self.not_modeled(&o.name, "using it in `with`")),
            other => Err(self.type_error(format!(
                "'{}' object does not support the context manager protocol",
                other.type_name()
            ))),
        }
    }

    fn exit(&mut self, manager: &Value, raised: Option<&Raised>) -> Result<bool> {
        match manager {
            Value::Native(n) => n.clone().exit(raised, self),
            _ => {
                let method = self.get_attr(manager, "__exit__")?;
                let args = match raised {
                    Some(r) => {
                        let class = match &r.exception {
                            Value::Instance(i) => Value::Class(i.class.clone()),
                            _ => Value::None,
                        };
                        vec![class, r.exception.clone(), Value::None]
                    }
                    None => vec![Value::None, Value::None, Value::None],
                };
                let suppress = self.call_value(&method, args, Vec::new())?;
                self.truthy(&suppress)
            }
        }
    }

    fn exec_try(
        &mut self,
        scope: &Rc<Scope>,
        body: &[Stmt],
        handlers: &[crate::script::ast::ExceptHandler],
        orelse: &[Stmt],
        finalbody: &[Stmt],
    ) -> Result<Flow> {
        let result = match self.exec_block(scope, body) {
            Ok(Flow::Normal) => self.exec_block(scope, orelse),
            Err(Failure::Raised(raised)) => self.handle(scope, raised, handlers),
            other => other,
        };
        if let Err(Failure::Error(_)) = result {
            return result;
        }
        if finalbody.is_empty() {
            return result;
        }
        match self.exec_block(scope, finalbody)? {
            Flow::Normal => result,
            overriding => Ok(overriding),
        }
    }

    fn handle(
        &mut self,
        scope: &Rc<Scope>,
        raised: Box<Raised>,
        handlers: &[crate::script::ast::ExceptHandler],
    ) -> Result<Flow> {
        for handler in handlers {
            self.pos = handler.pos;
            let matches = match &handler.type_ {
                None => true,
                Some(t) => {
                    let class = self.eval(scope, t)?;
                    self.pos = handler.pos;
                    self.exception_matches(&class, &raised.exception)?
                }
            };
            if !matches {
                continue;
            }
            if let Some(name) = &handler.name {
                self.bind(scope, name, raised.exception.clone())?;
            }
            self.handling.push((*raised).clone());
            let result = self.exec_block(scope, &handler.body);
            self.handling.pop();
            if let Some(name) = &handler.name {
                scope.delete(name);
            }
            return result;
        }
        Err(Failure::Raised(raised))
    }

    fn exception_matches(&mut self, class: &Value, exception: &Value) -> Result<bool> {
        match class {
            Value::Class(c) if is_exception_class(c) => Ok(match exception {
                Value::Instance(i) => i.class.is_subclass_of(c),
                _ => false,
            }),
            Value::Tuple(classes) => {
                for c in classes.iter() {
                    if self.exception_matches(c, exception)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Value::Opaque(o) => Err(self.not_modeled(&o.name, "matching an exception against it")),
            Value::Native(n) => {
                Err(self.native_unsupported(n.type_name(), "matching an exception against it"))
            }
            _ => Err(self.type_error(
                "catching classes that do not inherit from BaseException is not allowed",
            )),
        }
    }

    fn exec_raise(&mut self, scope: &Rc<Scope>, exc: Option<&Expr>) -> Result<Failure> {
        let Some(exc) = exc else {
            return Ok(match self.handling.last() {
                Some(r) => Failure::Raised(Box::new(r.clone())),
                None => self.raise("RuntimeError", "No active exception to reraise"),
            });
        };
        let pos = self.pos;
        let value = self.eval(scope, exc)?;
        let exception = match &value {
            Value::Class(c) if is_exception_class(c) => {
                self.call_value(&value, Vec::new(), Vec::new())?
            }
            Value::Instance(i) if is_exception_class(&i.class) => value.clone(),
            Value::Opaque(o) => return Err(self.not_modeled(&o.name, "raising it")),
            Value::Native(n) => return Err(self.native_unsupported(n.type_name(), "raising it")),
            _ => return Ok(self.type_error("exceptions must derive from BaseException")),
        };
        self.pos = pos;
        Ok(self.raise_value(exception))
    }

    fn exec_class(
        &mut self,
        scope: &Rc<Scope>,
        name: &str,
        base_exprs: &[Expr],
        keywords: bool,
        body: &[Stmt],
    ) -> Result<()> {
        if keywords {
            return Err(
                self.unsupported(format!("class keywords (metaclass=...) on class `{name}`"))
            );
        }
        let mut bases = Vec::new();
        for e in base_exprs {
            let base = self.eval(scope, e)?;
            match &base {
                Value::Class(_) | Value::Native(_) => bases.push(base),
                Value::Type(super::value::TypeKind::Object) => {}
                Value::Type(t) => {
                    return Err(self.unsupported(format!(
                        "a class deriving from the built-in type `{}`",
                        t.name()
                    )))
                }
                Value::Opaque(o) => {
                    // Defining the class uses nothing yet: the name stands for a class no
                    // one can use, and using it fails, naming the base.
                    let placeholder = Value::Opaque(Rc::new(super::value::Opaque {
                        name: format!("{name} (a class deriving from `{}`)", o.name),
                        children: std::collections::HashMap::new(),
                    }));
                    return self.bind(scope, name, placeholder);
                }
                other => {
                    return Err(self.type_error(format!(
                        "cannot derive a class from a '{}' value",
                        other.type_name()
                    )))
                }
            }
        }
        let qualname = format!("{}{name}", scope.prefix);
        let class_scope = Scope::child(scope, ScopeKind::Class, format!("{qualname}."));
        class_scope
            .vars
            .set("__qualname__", Value::string(qualname));
        match self.exec_block(&class_scope, body)? {
            Flow::Normal => {}
            _ => {
                return Err(self.raise(
                    "SyntaxError",
                    "'return', 'break' or 'continue' outside a function or loop",
                ))
            }
        }
        let class = Rc::new(Class {
            name: name.to_string(),
            bases,
            namespace: class_scope.vars.clone(),
        });
        for member in class.namespace.names() {
            if let Some(Value::Function(f)) = class.namespace.get(&member) {
                if f.qualname.starts_with(&class_scope.prefix) {
                    let _ = f.owner.set(Rc::downgrade(&class));
                }
            }
        }
        self.bind(scope, name, Value::Class(class))
    }

    /// Whether an expression is a plain name (for error messages and walrus targets).
    pub(crate) fn target_name(expr: &Expr) -> Option<&str> {
        match &expr.kind {
            ExprKind::Name(n) => Some(n),
            _ => None,
        }
    }
}
