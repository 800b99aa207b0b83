//! The language core of the script interpreter: evaluates the Python subset Alembic revision
//! scripts are written in, over our own AST (`script::ast`), without running Python.
//!
//! What Alembic, SQLAlchemy and MLflow *mean* is not here: the host supplies modules and
//! objects through [`Host`] and [`Native`], and this core only runs the language around them.
//!
//! ```
//! use std::rc::Rc;
//! use alembic_engine::interp::{Host, Interpreter, Value};
//! use alembic_engine::script::pyast::parse_module;
//!
//! struct Facts;
//! impl Host for Facts {
//!     fn import(&self, module: &str) -> Option<Value> {
//!         let tag = ("MLFLOW_USER".to_string(), Value::str("mlflow.user"));
//!         (module == "mlflow.utils.mlflow_tags").then(|| Value::module(module, [tag]))
//!     }
//! }
//!
//! let source = "from mlflow.utils.mlflow_tags import MLFLOW_USER\n\
//!               def upgrade():\n    return MLFLOW_USER.upper()\n";
//! let module = parse_module(source).expect("valid Python");
//! let mut interp = Interpreter::new(Rc::new(Facts));
//! let globals = interp.run_module(&module, "versions/abc.py".as_ref())?;
//! let result = interp.call(&globals, "upgrade", Vec::new())?;
//! assert_eq!(result.as_str(), Some("MLFLOW.USER"));
//! # Ok::<(), alembic_engine::interp::Error>(())
//! ```
//!
//! # Scope
//! Statements: assignment (tuple unpacking, starred targets, attributes, subscripts, slices),
//! augmented assignment, `del`, `if`, `for`/`while` with `break`/`continue`/`else`, `with`,
//! `try`/`except`/`else`/`finally`, `raise`, `assert`, `return`, `global`/`nonlocal`, `def`,
//! `class`, imports. Expressions: all of `ExprKind`, with f-strings, `%` and `str.format`,
//! comprehensions, walrus, `*`/`**` unpacking. Built-ins and methods of `str`, `list`, `dict`,
//! `set` as scripts use them.
//!
//! # Limits
//! - Decorators, `async`, `match`, `yield`, `super()`, metaclasses, dunder-method overloading
//!   on user classes (other than `__init__`, `__call__`, `__enter__`/`__exit__`, `__str__`,
//!   `__repr__`), instantiating classes derived from host objects, integers beyond 64 bits:
//!   refused with [`Error::Unsupported`] (or [`Error::Native`]). So are Python built-ins and methods we
//!   do not implement: they are never reported as missing (`AttributeError`, `NameError`).
//! - Generator expressions, `map`, `filter`, `zip`, `enumerate` are evaluated eagerly;
//!   `dict.keys()/values()/items()` return lists; sets iterate in insertion order; changing a
//!   dict while iterating over it is not detected (the loop walks a snapshot).
//! - Names resolve dynamically through enclosing scopes (no `UnboundLocalError`).
//! - Recursion depth, native stack use, total loop iterations and sequence sizes are bounded
//!   ([`Limits`]); reaching a bound is [`Error::Limit`], never a hang or a stack overflow.
//!
//! # `try`/`except` policy
//! Only *Python exceptions* are catchable: those raised by `raise`, and those real Python
//! raises from the operations we model (`KeyError` for a missing key, `IndexError`,
//! `ZeroDivisionError`, `TypeError` for bad operand types, `AttributeError` for a missing
//! attribute of a user-level value, `ValueError` from `int("x")`, `NameError`, ...), plus any a
//! host object raises on purpose with [`Ctx::raise`]. Our own *limitations* — unsupported
//! constructs, any use of an [`Opaque`] import, a host object refusing an operation, the
//! limits — are plan errors: no `except` sees them, no `finally` or `with` exit runs, because
//! catching them would silently change what the migration does. A Python exception that
//! escapes becomes [`Error::Uncaught`] with its class, message and the position it was raised.

mod arith;
mod assign;
mod attr;
mod builtins;
mod call;
mod convert;
mod ctx;
mod dict;
mod drain;
mod error;
mod eval;
mod exceptions;
mod exec;
mod format;
mod generator;
mod imports;
mod library;
mod methods_coll;
mod methods_str;
mod native;
mod ops;
mod scope;
pub use scope::sweep_scopes;
mod frame;
mod subscript;
mod text;
mod types;
mod value;

#[cfg(test)]
mod tests;

use std::path::Path;
use std::rc::Rc;

pub use ctx::{Ctx, Limits};
pub use dict::{Dict, Key};
pub use error::{Error, Failure, Raised, Result};
pub use exceptions::{exception_class, is_exception_class, new_exception};
pub(crate) use generator::contextmanager;
pub use native::{Args, Native, NativeFunction};
pub use value::{
    BoundMethod, Class, Function, Instance, Method, ModuleObj, Namespace, Opaque, Range, SeqIter,
    TypeKind, Value,
};

use crate::script::ast::{Module, Pos};
use scope::Scope;

/// Resolves imports. A module the host does not know (`None`) becomes an [`Opaque`] value:
/// importing it succeeds, using it fails.
pub trait Host {
    /// The module `module` (dotted name; relative imports keep their leading dots), or `None`.
    fn import(&self, module: &str) -> Option<Value>;

    /// A value to bind instead of the function a `def` in `path` defines under `qualname`
    /// (`downgrade.<locals>._check`): how a recipe replaces one nested helper of the script
    /// it stands for.
    fn nested_replacement(&self, path: &Path, qualname: &str) -> Option<Value> {
        let _ = (path, qualname);
        None
    }

    /// The SQLAlchemy `Dialect` object of the database the scripts run against, which a
    /// `TypeDecorator`'s `load_dialect_impl` receives; `None` outside a compile session.
    fn dialect(&self) -> Option<Value> {
        None
    }

    /// How many effects outside the interpreter (operations emitted) the host has recorded:
    /// a draining loop's statements before its `execute` must add none.
    fn effects(&self) -> usize {
        0
    }
}

/// Runs modules and calls their functions.
pub struct Interpreter {
    ctx: Ctx,
}

impl Interpreter {
    pub fn new(host: Rc<dyn Host>) -> Self {
        Interpreter::with_limits(host, Limits::default())
    }

    pub fn with_limits(host: Rc<dyn Host>, limits: Limits) -> Self {
        Interpreter {
            ctx: Ctx::new(host, limits),
        }
    }

    /// Execute the module-level statements of `module` (read from `path`) and return its
    /// globals.
    pub fn run_module(&mut self, module: &Module, path: &Path) -> Result<Namespace, Error> {
        let globals = Namespace::new();
        // Alembic names the module after the file name, non-word characters replaced.
        let file_name = path
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let module_id: String = file_name
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        globals.set("__name__", Value::string(module_id));
        globals.set("__file__", Value::string(path.display().to_string()));
        globals.set(
            "__doc__",
            module.docstring.as_deref().map_or(Value::None, Value::str),
        );
        let scope = Scope::module(globals.clone());
        self.start(Rc::from(path));
        let result = match self.ctx.exec_block(&scope, &module.body) {
            Ok(exec::Flow::Normal) => Ok(globals),
            Ok(_) => Err(self.ctx.raise(
                "SyntaxError",
                "'return', 'break' or 'continue' outside a function or loop",
            )),
            Err(e) => Err(e),
        };
        self.finish(result)
    }

    /// Call the function `name` of a module namespace with positional arguments.
    pub fn call(
        &mut self,
        namespace: &Namespace,
        name: &str,
        args: Vec<Value>,
    ) -> Result<Value, Error> {
        let path: Rc<Path> = match namespace.get("__file__") {
            Some(Value::Str(s)) => Rc::from(Path::new(&*s)),
            _ => Rc::from(Path::new("<unknown>")),
        };
        self.start(path);
        let Some(f) = namespace.get(name) else {
            let failure = self.ctx.raise(
                "AttributeError",
                format!("module has no attribute '{name}'"),
            );
            return self.finish(Err(failure));
        };
        self.call_value(&f, args, Vec::new())
    }

    /// Call any callable value.
    pub fn call_value(
        &mut self,
        f: &Value,
        args: Vec<Value>,
        kwargs: Vec<(String, Value)>,
    ) -> Result<Value, Error> {
        if self.ctx.depth == 0 {
            self.ctx.iterations = 0;
            self.ctx.stack_base = ctx::stack_address();
        }
        let result = self.ctx.call_value(f, args, kwargs);
        self.finish(result)
    }

    /// The context, for hosts that evaluate values outside a call.
    pub fn ctx(&mut self) -> &mut Ctx {
        &mut self.ctx
    }

    fn start(&mut self, path: Rc<Path>) {
        self.ctx.path = path;
        self.ctx.pos = Pos::default();
        self.ctx.depth = 0;
        self.ctx.iterations = 0;
        self.ctx.handling.clear();
        self.ctx.nesting = 0;
        self.ctx.stack_base = ctx::stack_address();
    }

    fn finish<T>(&mut self, result: Result<T>) -> Result<T, Error> {
        match result {
            Ok(v) => Ok(v),
            Err(Failure::Error(e)) => Err(*e),
            Err(Failure::Raised(r)) => Err(self.ctx.uncaught(&r)),
        }
    }
}
