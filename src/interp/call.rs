//! Calls: user functions (argument binding, defaults, `*args`/`**kwargs`, keyword-only),
//! bound methods, classes, built-ins and host objects.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use super::ctx::Ctx;
use super::dict::{Dict, Key};
use super::error::Result;
use super::exceptions::{is_exception_class, new_exception};
use super::exec::Flow;
use super::frame::{SUPER_CLASS, SUPER_RECEIVER};
use super::generator::Generator;
use super::scope::{Scope, ScopeKind};
use super::value::{Body, Class, Function, Instance, Method, Value};
use crate::script::ast::Params;

impl Ctx {
    /// A function value for a `def` or `lambda`: defaults are evaluated now, in `scope`.
    pub(crate) fn make_function(
        &mut self,
        scope: &Rc<Scope>,
        name: &str,
        params: &Params,
        body: Body,
    ) -> Result<Value> {
        let mut defaults = Vec::with_capacity(params.positional.len());
        for p in &params.positional {
            defaults.push(match &p.default {
                Some(e) => Some(self.eval(scope, e)?),
                None => None,
            });
        }
        let mut kw_defaults = Vec::with_capacity(params.kwonly.len());
        for p in &params.kwonly {
            kw_defaults.push(match &p.default {
                Some(e) => Some(self.eval(scope, e)?),
                None => None,
            });
        }
        Ok(Value::Function(Rc::new(Function {
            name: name.to_string(),
            qualname: format!("{}{name}", scope.prefix),
            positional: params.positional.iter().map(|p| p.name.clone()).collect(),
            defaults,
            vararg: params.vararg.clone(),
            kwonly: params.kwonly.iter().map(|p| p.name.clone()).collect(),
            kw_defaults,
            kwarg: params.kwarg.clone(),
            body,
            closure: scope.closure_target(),
            path: self.path.clone(),
            owner: std::cell::OnceCell::new(),
        })))
    }

    pub(crate) fn call_value(
        &mut self,
        f: &Value,
        args: Vec<Value>,
        kwargs: Vec<(String, Value)>,
    ) -> Result<Value> {
        match f {
            Value::Function(func) => self.call_function(func, args, kwargs),
            Value::BoundMethod(m) => match &m.method {
                Method::Function(func) => {
                    let mut all = Vec::with_capacity(args.len() + 1);
                    all.push(m.receiver.clone());
                    all.extend(args);
                    self.call_function(func, all, kwargs)
                }
                Method::Builtin(name) => self.call_method(&m.receiver, name, args, kwargs),
            },
            Value::Builtin(name) => self.call_builtin(name, args, kwargs),
            Value::Type(kind) => self.call_type(*kind, args, kwargs),
            Value::Class(class) => self.instantiate(class, args, kwargs),
            Value::Native(n) => n.clone().call(args, kwargs, self),
            Value::Opaque(o) => Err(self.not_modeled(&o.name, "calling it")),
            Value::Instance(i) => match i.class.lookup("__call__") {
                Some(Value::Function(func)) => {
                    let mut all = vec![f.clone()];
                    all.extend(args);
                    self.call_function(&func, all, kwargs)
                }
                _ => Err(self.type_error(format!("'{}' object is not callable", i.class.name))),
            },
            other => {
                Err(self.type_error(format!("'{}' object is not callable", other.type_name())))
            }
        }
    }

    fn call_function(
        &mut self,
        func: &Rc<Function>,
        args: Vec<Value>,
        kwargs: Vec<(String, Value)>,
    ) -> Result<Value> {
        if self.depth >= self.limits.max_depth {
            return Err(self.limit(format!("more than {} nested calls", self.limits.max_depth)));
        }
        self.check_stack()?;
        let scope = Scope::child(
            &func.closure,
            ScopeKind::Function,
            format!("{}.<locals>.", func.qualname),
        );
        let receiver = args.first().cloned();
        self.bind_arguments(func, &scope, args, kwargs)?;
        if let Some(owner) = func.owner.get().and_then(std::rc::Weak::upgrade) {
            // What `super()` without arguments reads: the defining class and the receiver.
            scope.vars.set(SUPER_CLASS, Value::Class(owner));
            if let Some(receiver) = receiver {
                scope.vars.set(SUPER_RECEIVER, receiver);
            }
        }
        if matches!(func.body, Body::Generator(_)) {
            return Ok(Value::native(Generator::new(func.clone(), scope)));
        }
        self.run_function_body(func, &scope)
    }

    /// Run a function's body in `scope`, its arguments already bound there.
    pub(crate) fn run_function_body(
        &mut self,
        func: &Function,
        scope: &Rc<Scope>,
    ) -> Result<Value> {
        let saved_path = std::mem::replace(&mut self.path, func.path.clone());
        let saved_pos = self.pos;
        self.depth += 1;
        let result = match &func.body {
            Body::Block(stmts) | Body::Generator(stmts) => match self.exec_block(scope, stmts) {
                Ok(Flow::Return(v)) => Ok(v),
                Ok(Flow::Normal) => Ok(Value::None),
                Ok(Flow::Break | Flow::Continue) => {
                    Err(self.raise("SyntaxError", "'break' or 'continue' outside loop"))
                }
                Err(e) => Err(e),
            },
            Body::Expr(e) => self.eval(scope, e),
        };
        self.depth -= 1;
        self.path = saved_path;
        self.pos = saved_pos;
        result
    }

    fn bind_arguments(
        &mut self,
        func: &Function,
        scope: &Rc<Scope>,
        args: Vec<Value>,
        kwargs: Vec<(String, Value)>,
    ) -> Result<()> {
        let name = &func.qualname;
        let n = func.positional.len();
        let given = args.len();
        let mut slots: Vec<Option<Value>> = vec![None; n];
        let mut extra = Vec::new();
        for (i, a) in args.into_iter().enumerate() {
            match slots.get_mut(i) {
                Some(slot) => *slot = Some(a),
                None => extra.push(a),
            }
        }
        if !extra.is_empty() && func.vararg.is_none() {
            return Err(self.type_error(format!(
                "{name}() takes {n} positional argument{} but {given} {} given",
                if n == 1 { "" } else { "s" },
                if given == 1 { "was" } else { "were" }
            )));
        }
        let mut kw_slots: Vec<Option<Value>> = vec![None; func.kwonly.len()];
        let mut extra_kw = Dict::new();
        for (k, v) in kwargs {
            if let Some(i) = func.positional.iter().position(|p| *p == k) {
                if slots[i].is_some() {
                    return Err(
                        self.type_error(format!("{name}() got multiple values for argument '{k}'"))
                    );
                }
                slots[i] = Some(v);
            } else if let Some(i) = func.kwonly.iter().position(|p| *p == k) {
                kw_slots[i] = Some(v);
            } else if func.kwarg.is_some() {
                let key: Rc<str> = Rc::from(k);
                extra_kw.insert(Key::Str(key.clone()), Value::Str(key), v);
            } else {
                return Err(
                    self.type_error(format!("{name}() got an unexpected keyword argument '{k}'"))
                );
            }
        }
        let filled =
            |slots: Vec<Option<Value>>, defaults: &[Option<Value>]| -> Vec<Option<Value>> {
                slots
                    .into_iter()
                    .zip(defaults)
                    .map(|(s, d)| s.or_else(|| d.clone()))
                    .collect()
            };
        let positional = filled(slots, &func.defaults);
        let kwonly = filled(kw_slots, &func.kw_defaults);
        for (values, names, kind) in [
            (&positional, &func.positional, "positional"),
            (&kwonly, &func.kwonly, "keyword-only"),
        ] {
            let missing: Vec<String> = names
                .iter()
                .zip(values.iter())
                .filter(|(_, v)| v.is_none())
                .map(|(n, _)| format!("'{n}'"))
                .collect();
            if !missing.is_empty() {
                return Err(self.type_error(format!(
                    "{name}() missing {} required {kind} argument{}: {}",
                    missing.len(),
                    if missing.len() == 1 { "" } else { "s" },
                    join_names(&missing)
                )));
            }
        }
        for (names, values) in [(&func.positional, positional), (&func.kwonly, kwonly)] {
            for (n, v) in names.iter().zip(values) {
                scope.vars.set(n.clone(), v.unwrap_or(Value::None));
            }
        }
        if let Some(vararg) = &func.vararg {
            scope.vars.set(vararg.clone(), Value::tuple(extra));
        }
        if let Some(kwarg) = &func.kwarg {
            scope
                .vars
                .set(kwarg.clone(), Value::Dict(Rc::new(RefCell::new(extra_kw))));
        }
        Ok(())
    }

    /// Calling a class: exception classes build exception instances; other classes build an
    /// instance and run `__init__`. Classes derived from host objects are the host's to
    /// instantiate, which this core does not do.
    fn instantiate(
        &mut self,
        class: &Rc<Class>,
        args: Vec<Value>,
        kwargs: Vec<(String, Value)>,
    ) -> Result<Value> {
        if let Some(native) = class.native_base() {
            return native.construct(class, args, kwargs, self);
        }
        let init = class.lookup("__init__");
        let instance = if is_exception_class(class) {
            if init.is_none() && !kwargs.is_empty() {
                return Err(self.type_error(format!("{}() takes no keyword arguments", class.name)));
            }
            new_exception(class.clone(), args.clone())
        } else {
            Value::Instance(Rc::new(Instance {
                class: class.clone(),
                attrs: RefCell::new(HashMap::new()),
            }))
        };
        match init {
            Some(Value::Function(f)) => {
                let mut all = vec![instance.clone()];
                all.extend(args);
                let result = self.call_function(&f, all, kwargs)?;
                if !result.is_none() {
                    return Err(self.type_error("__init__() should return None"));
                }
            }
            Some(_) => {
                return Err(self.unsupported(format!(
                    "`__init__` of class `{}` that is not a function",
                    class.name
                )))
            }
            None if !is_exception_class(class) && (!args.is_empty() || !kwargs.is_empty()) => {
                return Err(self.type_error(format!("{}() takes no arguments", class.name)));
            }
            None => {}
        }
        Ok(instance)
    }
}

/// Python's list of names in messages: `'a'`, `'a' and 'b'`, `'a', 'b', and 'c'`.
fn join_names(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [a, b] => format!("{a} and {b}"),
        [init @ .., last] => format!("{}, and {last}", init.join(", ")),
    }
}
