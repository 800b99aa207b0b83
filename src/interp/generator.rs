//! Generator functions, as far as `@contextlib.contextmanager` uses them.
//!
//! Calling a function whose body yields binds its arguments and returns a generator object
//! without running anything, as in Python. The one use of a generator we model is a `with`
//! block over `contextmanager(f)(...)`: the generator runs until its `yield`, the `with` body
//! runs right there (bound to the yielded value, in the caller's scope and file), and the
//! generator then goes on to its end. That is exactly `contextmanager`'s protocol for a generator
//! that yields once: an exception of the body is raised at the `yield` (the generator may catch
//! it, which suppresses it), a `return`/`break`/`continue` of the body resumes the generator
//! normally and takes effect after it ends. Iterating a generator is refused.

use std::rc::Rc;

use super::ctx::Ctx;
use super::error::Result;
use super::exec::Flow;
use super::native::{Native, NativeFunction};
use super::scope::Scope;
use super::value::{Function, Value};
use crate::script::ast::{Expr, Stmt, WithItem};

/// A generator object: a generator function's call, arguments bound, not started.
#[derive(Debug)]
pub(crate) struct Generator {
    pub(crate) func: Rc<Function>,
    pub(crate) scope: Rc<Scope>,
    started: std::cell::Cell<bool>,
}

impl Generator {
    pub(crate) fn new(func: Rc<Function>, scope: Rc<Scope>) -> Self {
        Generator {
            func,
            scope,
            started: std::cell::Cell::new(false),
        }
    }
}

impl Native for Generator {
    fn type_name(&self) -> &str {
        "generator"
    }

    fn iter(&self, ctx: &mut Ctx) -> Result<Vec<Value>> {
        Err(ctx.not_modeled(
            &format!("generator {}", self.func.qualname),
            "iterating it (only a @contextmanager generator used in `with` is modeled)",
        ))
    }
}

/// `contextlib.contextmanager`: the decorator.
pub(crate) fn contextmanager() -> Value {
    Value::native(NativeFunction::new(
        "contextlib.contextmanager",
        |args, kwargs, ctx| match (args.as_slice(), kwargs.is_empty()) {
            ([f], true) => Ok(Value::native(ContextManagerFunction(f.clone()))),
            _ => Err(ctx.type_error("contextmanager() takes exactly one argument")),
        },
    ))
}

/// A function decorated with `@contextmanager`.
#[derive(Debug)]
struct ContextManagerFunction(Value);

impl Native for ContextManagerFunction {
    fn type_name(&self) -> &str {
        "function"
    }

    fn call(&self, args: Vec<Value>, kwargs: Vec<(String, Value)>, ctx: &mut Ctx) -> Result<Value> {
        let made = ctx.call_value(&self.0, args, kwargs)?;
        if made.downcast_native::<Generator>().is_none() {
            return Err(ctx.type_error(format!("'{}' object is not an iterator", made.type_name())));
        }
        Ok(Value::native(GeneratorContextManager(made)))
    }

    fn getattr(&self, name: &str, ctx: &mut Ctx) -> Result<Value> {
        ctx.get_attr(&self.0, name)
    }
}

/// What a `@contextmanager` function returns: used only by a `with` statement.
#[derive(Debug)]
pub(crate) struct GeneratorContextManager(Value);

impl Native for GeneratorContextManager {
    fn type_name(&self) -> &str {
        "contextlib._GeneratorContextManager"
    }

    fn enter(&self, ctx: &mut Ctx) -> Result<Value> {
        Err(ctx.not_modeled(
            "contextlib._GeneratorContextManager.__enter__",
            "calling it outside a `with` statement",
        ))
    }
}

/// The `with` statement waiting at a generator's `yield`: what runs there.
pub(crate) struct YieldPoint {
    /// The running generator's own scope: a `yield` evaluated in it is this point's.
    generator: Rc<Scope>,
    scope: Rc<Scope>,
    stmt: Stmt,
    var: Option<Expr>,
    rest: Vec<WithItem>,
    body: Vec<Stmt>,
    path: Rc<std::path::Path>,
    /// Set at the `yield`: the body's outcome, or the body's exception (raised at the yield).
    reached: bool,
    flow: Option<Flow>,
}

impl Ctx {
    /// `with manager as var, rest...: body` where `manager` is a `@contextmanager` call.
    pub(crate) fn exec_with_generator(
        &mut self,
        manager: &Value,
        scope: &Rc<Scope>,
        stmt: &Stmt,
        item: &WithItem,
        rest: &[WithItem],
        body: &[Stmt],
    ) -> Result<Option<Flow>> {
        let Some(GeneratorContextManager(generator)) = manager.downcast_native() else {
            return Ok(None);
        };
        let Some(generator) = generator.downcast_native::<Generator>() else {
            return Ok(None);
        };
        if generator.started.replace(true) {
            return Err(self.raise(
                "AttributeError",
                "'_GeneratorContextManager' object has no attribute 'args'",
            ));
        }
        self.yields.push(YieldPoint {
            generator: generator.scope.clone(),
            scope: scope.clone(),
            stmt: stmt.clone(),
            var: item.var.clone(),
            rest: rest.to_vec(),
            body: body.to_vec(),
            path: self.path.clone(),
            reached: false,
            flow: None,
        });
        let ran = self.run_function_body(&generator.func, &generator.scope);
        let point = self.yields.pop();
        self.pos = stmt.pos;
        ran?;
        match point {
            Some(YieldPoint { reached: false, .. }) => {
                Err(self.raise("RuntimeError", "generator didn't yield"))
            }
            // The body's exception, caught by the generator, is suppressed.
            Some(point) => Ok(Some(point.flow.unwrap_or(Flow::Normal))),
            None => Ok(Some(Flow::Normal)),
        }
    }

    /// `yield value`: run the waiting `with` body here; its exception is raised here.
    pub(crate) fn eval_yield(&mut self, generator: &Rc<Scope>, value: Value) -> Result<Value> {
        let Some(index) = self
            .yields
            .iter()
            .rposition(|p| Rc::ptr_eq(&p.generator, generator))
        else {
            return Err(self.unsupported("yield outside a @contextmanager generator"));
        };
        let (scope, stmt, var, rest, body, path) = {
            let p = &mut self.yields[index];
            if p.reached {
                return Err(self.raise("RuntimeError", "generator didn't stop"));
            }
            p.reached = true;
            (
                p.scope.clone(),
                p.stmt.clone(),
                p.var.clone(),
                std::mem::take(&mut p.rest),
                std::mem::take(&mut p.body),
                p.path.clone(),
            )
        };
        let generator_path = std::mem::replace(&mut self.path, path);
        let generator_pos = self.pos;
        let outcome = match &var {
            Some(var) => self.assign(&scope, var, value),
            None => Ok(()),
        }
        .and_then(|()| self.exec_with(&scope, &stmt, &rest, &body));
        self.path = generator_path;
        self.pos = generator_pos;
        match outcome {
            Ok(flow) => {
                if let Some(point) = self.yields.get_mut(index) {
                    point.flow = Some(flow);
                }
                Ok(Value::None)
            }
            Err(failure) => Err(failure),
        }
    }
}
