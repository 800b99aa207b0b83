//! Name resolution: module, function, class-body and comprehension scopes.
//!
//! Lookup walks the scope, its enclosing function scopes, the module globals, then the
//! built-ins. Python decides statically which names are local to a function; we resolve
//! dynamically instead, so reading a local before its first assignment finds an outer binding
//! where Python would raise `UnboundLocalError`. Class bodies are not visible to the functions
//! defined in them, as in Python.

use std::cell::RefCell;
use std::collections::HashSet;
use std::rc::Rc;

use super::value::{Namespace, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScopeKind {
    Module,
    Function,
    Class,
    Comprehension,
}

/// A scope's variables, not kept alive.
type WeakVars = std::rc::Weak<RefCell<std::collections::HashMap<String, Value>>>;

thread_local! {
    /// The variables of every function, class and comprehension scope made on this thread
    /// since the last sweep (weakly: most die when their call returns).
    static CHILD_SCOPES: RefCell<Vec<WeakVars>> = const { RefCell::new(Vec::new()) };
}

/// Empty the variables of every scope made since the last sweep that is still alive. A
/// function defined inside another holds its defining scope, which holds the function: such
/// cycles outlive the run that made them unless broken. Call when no interpretation that
/// started before is still going on (the compiler does, after each step).
pub fn sweep_scopes() {
    let scopes = CHILD_SCOPES.with(|c| std::mem::take(&mut *c.borrow_mut()));
    for weak in scopes {
        if let Some(vars) = weak.upgrade() {
            // Taken out first: dropping the values may drop other scopes.
            let taken = std::mem::take(&mut *vars.borrow_mut());
            drop(taken);
        }
    }
}

#[derive(Debug)]
pub(crate) struct Scope {
    pub(crate) kind: ScopeKind,
    /// For a module scope this is the globals namespace itself; for a class body it becomes
    /// the class namespace.
    pub(crate) vars: Namespace,
    /// The lexically enclosing scope (never a class body).
    pub(crate) parent: Option<Rc<Scope>>,
    pub(crate) globals: Namespace,
    /// The `__qualname__` prefix of functions and classes defined here (`C.`, `f.<locals>.`).
    pub(crate) prefix: String,
    declared_global: RefCell<HashSet<String>>,
    declared_nonlocal: RefCell<HashSet<String>>,
}

impl Scope {
    pub(crate) fn module(globals: Namespace) -> Rc<Scope> {
        Rc::new(Scope {
            kind: ScopeKind::Module,
            vars: globals.clone(),
            parent: None,
            globals,
            prefix: String::new(),
            declared_global: RefCell::default(),
            declared_nonlocal: RefCell::default(),
        })
    }

    /// A new scope nested in `parent` (class bodies are skipped as parents of functions), whose
    /// definitions get the qualified-name prefix `prefix`.
    pub(crate) fn child(parent: &Rc<Scope>, kind: ScopeKind, prefix: String) -> Rc<Scope> {
        let vars = Namespace::new();
        CHILD_SCOPES.with(|c| c.borrow_mut().push(vars.weak()));
        Rc::new(Scope {
            kind,
            vars,
            parent: Some(parent.closure_target()),
            globals: parent.globals.clone(),
            prefix,
            declared_global: RefCell::default(),
            declared_nonlocal: RefCell::default(),
        })
    }

    /// The scope a function defined here closes over: class bodies are not enclosing scopes.
    pub(crate) fn closure_target(self: &Rc<Scope>) -> Rc<Scope> {
        let mut at = self.clone();
        while at.kind == ScopeKind::Class {
            match &at.parent {
                Some(p) => at = p.clone(),
                None => break,
            }
        }
        at
    }

    pub(crate) fn declare_global(&self, name: &str) {
        if self.kind != ScopeKind::Module {
            self.declared_global.borrow_mut().insert(name.to_string());
        }
    }

    pub(crate) fn declare_nonlocal(&self, name: &str) {
        self.declared_nonlocal.borrow_mut().insert(name.to_string());
    }

    /// Resolve a name, or `None` if unbound (the caller tries the built-ins).
    pub(crate) fn lookup(&self, name: &str) -> Option<Value> {
        if self.declared_global.borrow().contains(name) {
            return self.globals.get(name);
        }
        if let Some(v) = self.vars.get(name) {
            return Some(v);
        }
        let mut at = self.parent.clone();
        while let Some(scope) = at {
            if scope.kind != ScopeKind::Module {
                if let Some(v) = scope.vars.get(name) {
                    return Some(v);
                }
            }
            at = scope.parent.clone();
        }
        self.globals.get(name)
    }

    /// Bind a name where an assignment in this scope binds it. Returns false for a
    /// `nonlocal` name that no enclosing function binds.
    pub(crate) fn assign(&self, name: &str, value: Value) -> bool {
        if self.declared_global.borrow().contains(name) {
            self.globals.set(name, value);
            return true;
        }
        if self.declared_nonlocal.borrow().contains(name) {
            return match self.enclosing_binding(name) {
                Some(scope) => {
                    scope.vars.set(name, value);
                    true
                }
                None => false,
            };
        }
        self.vars.set(name, value);
        true
    }

    /// Bind a walrus target: comprehensions bind in their enclosing scope (PEP 572).
    pub(crate) fn assign_named(self: &Rc<Scope>, name: &str, value: Value) -> bool {
        let mut at = self.clone();
        while at.kind == ScopeKind::Comprehension {
            match &at.parent {
                Some(p) => at = p.clone(),
                None => break,
            }
        }
        at.assign(name, value)
    }

    /// Remove a binding; false if it was not bound here.
    pub(crate) fn delete(&self, name: &str) -> bool {
        if self.declared_global.borrow().contains(name) {
            return self.globals.remove(name).is_some();
        }
        if self.declared_nonlocal.borrow().contains(name) {
            return self
                .enclosing_binding(name)
                .is_some_and(|s| s.vars.remove(name).is_some());
        }
        self.vars.remove(name).is_some()
    }

    fn enclosing_binding(&self, name: &str) -> Option<Rc<Scope>> {
        let mut at = self.parent.clone();
        while let Some(scope) = at {
            if scope.kind == ScopeKind::Module {
                return None;
            }
            if scope.vars.contains(name) {
                return Some(scope);
            }
            at = scope.parent.clone();
        }
        None
    }
}
