//! Running a module of the application's own package (a helper module its scripts import)
//! leniently: such modules define far more than the scripts use, often with code no emulation
//! models (configuration reads, registries, heavy third-party imports). Each top-level
//! statement runs on its own; when one fails, the names it would bind become placeholders that
//! fail on use with the original error, so a script that only uses what did run is unaffected
//! and one that uses what did not is refused with both places named.

use std::collections::HashMap;
use std::path::Path;
use std::rc::Rc;

use super::error::{Error, Failure};
use super::exec::Flow;
use super::scope::Scope;
use super::value::{Namespace, Opaque, Value};
use super::Interpreter;
use crate::script::ast::{ExprKind, Module, Stmt, StmtKind};

impl Interpreter {
    /// Run `module` (the package module `name`, read from `path`) into `globals`, binding the
    /// names of the statements that fail to placeholders instead of failing. The caller has
    /// already made `globals` the module's value, so that a circular import sees the module
    /// as far as it has run, as in Python.
    pub fn run_package_module(
        &mut self,
        name: &str,
        module: &Module,
        path: &Path,
        globals: &Namespace,
    ) {
        globals.set("__name__", Value::str(name));
        globals.set("__file__", Value::string(path.display().to_string()));
        let scope = Scope::module(globals.clone());
        for stmt in &module.body {
            self.start(Rc::from(path));
            let failure = match self.ctx.exec_block(&scope, std::slice::from_ref(stmt)) {
                Ok(Flow::Normal) => continue,
                Ok(_) => self.ctx.raise(
                    "SyntaxError",
                    "'return', 'break' or 'continue' outside a function or loop",
                ),
                Err(f) => f,
            };
            let error = match failure {
                Failure::Error(e) => *e,
                Failure::Raised(r) => self.ctx.uncaught(&r),
            };
            for bound in bound_names(stmt) {
                if globals.get(&bound).is_none() {
                    globals.set(&bound, placeholder(name, &bound, &error));
                }
            }
        }
    }
}

/// A name whose definition failed: using it fails, naming the definition's error.
fn placeholder(module: &str, name: &str, error: &Error) -> Value {
    Value::Opaque(Rc::new(Opaque {
        name: format!("{module}.{name} (its definition failed: {error})"),
        children: HashMap::new(),
    }))
}

/// The module-level names a statement binds.
fn bound_names(stmt: &Stmt) -> Vec<String> {
    let mut names = Vec::new();
    collect(stmt, &mut names);
    names
}

fn collect(stmt: &Stmt, names: &mut Vec<String>) {
    match &stmt.kind {
        StmtKind::FunctionDef(f) => names.push(f.name.clone()),
        StmtKind::ClassDef { name, .. } => names.push(name.clone()),
        StmtKind::Assign { targets: ts, .. } => ts.iter().for_each(|t| targets(t, names)),
        StmtKind::AnnAssign { target: t, .. }
        | StmtKind::AugAssign { target: t, .. }
        | StmtKind::For { target: t, .. } => targets(t, names),
        StmtKind::Import(aliases) => names.extend(aliases.iter().map(|a| {
            a.asname
                .clone()
                .unwrap_or_else(|| a.name.split('.').next().unwrap_or_default().to_string())
        })),
        StmtKind::ImportFrom { names: aliases, .. } => names.extend(
            aliases
                .iter()
                .filter(|a| a.name != "*")
                .map(|a| a.asname.clone().unwrap_or_else(|| a.name.clone())),
        ),
        _ => {}
    }
    let blocks: Vec<&Vec<Stmt>> = match &stmt.kind {
        StmtKind::If { body, orelse, .. }
        | StmtKind::For { body, orelse, .. }
        | StmtKind::While { body, orelse, .. } => vec![body, orelse],
        StmtKind::With { body, .. } => vec![body],
        StmtKind::Try {
            body,
            handlers,
            orelse,
            finalbody,
        } => {
            let mut b = vec![body, orelse, finalbody];
            b.extend(handlers.iter().map(|h| &h.body));
            b
        }
        _ => Vec::new(),
    };
    for block in blocks {
        for s in block {
            collect(s, names);
        }
    }
}

fn targets(e: &crate::script::ast::Expr, names: &mut Vec<String>) {
    match &e.kind {
        ExprKind::Name(n) => names.push(n.clone()),
        ExprKind::Tuple(items) | ExprKind::List(items) => {
            items.iter().for_each(|i| targets(i, names))
        }
        ExprKind::Starred(inner) => targets(inner, names),
        _ => {}
    }
}
