//! The evaluation context: where we are (file, position, call depth, loop budget), what the host
//! provides, and the door host objects use to call back into Python values.

use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::error::{Error, Failure, Raised, Result};
use super::exceptions::{builtin_exception, exception_class};
use super::value::{Class, Value};
use super::Host;
use crate::script::ast::Pos;

/// Bounds that turn runaway scripts into errors instead of hangs or stack overflows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Nested calls of Python functions.
    pub max_depth: usize,
    /// Loop and comprehension iterations per `run_module` or `call`, all loops together.
    pub max_iterations: u64,
    /// Elements a single sequence repetition (`"x" * n`, `[0] * n`) may produce.
    pub max_sequence: usize,
    /// Bytes of native stack the evaluator may use below the `run_module`/`call` frame. This
    /// catches deep nesting (of calls or of expressions) before the thread's stack runs out,
    /// whatever the build's frame sizes; run the interpreter on a thread with at least twice
    /// this much stack.
    pub max_stack: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 200,
            max_iterations: 1_000_000,
            max_sequence: 10_000_000,
            max_stack: 1 << 20,
        }
    }
}

/// The interpreter state seen by host objects.
pub struct Ctx {
    pub(crate) host: Rc<dyn Host>,
    pub(crate) path: Rc<Path>,
    pub(crate) pos: Pos,
    pub(crate) depth: usize,
    pub(crate) iterations: u64,
    pub(crate) limits: Limits,
    /// Exceptions whose `except` clauses are running, innermost last (for a bare `raise`).
    pub(crate) handling: Vec<Raised>,
    /// Depth of recursion into nested containers (repr, equality, hashing).
    pub(crate) nesting: usize,
    /// The approximate stack address where the current evaluation started.
    pub(crate) stack_base: usize,
    /// `with` statements waiting at the `yield` of a running `@contextmanager` generator.
    pub(crate) yields: Vec<super::generator::YieldPoint>,
}

/// The address of a local of the calling frame: an approximation of the stack pointer.
#[inline(never)]
pub(crate) fn stack_address() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

impl Ctx {
    pub(crate) fn new(host: Rc<dyn Host>, limits: Limits) -> Self {
        Ctx {
            host,
            path: Rc::from(Path::new("<unknown>")),
            pos: Pos::default(),
            depth: 0,
            iterations: 0,
            limits,
            handling: Vec::new(),
            nesting: 0,
            stack_base: stack_address(),
            yields: Vec::new(),
        }
    }

    /// The file being evaluated.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The position of the expression or statement being evaluated.
    pub fn pos(&self) -> Pos {
        self.pos
    }

    /// Call a Python value (a lambda passed to a host function, a class, ...).
    /// The host's SQLAlchemy dialect object ([`Host::dialect`]).
    pub fn host_dialect(&self) -> Option<Value> {
        self.host.dialect()
    }

    pub fn call(
        &mut self,
        f: &Value,
        args: Vec<Value>,
        kwargs: Vec<(String, Value)>,
    ) -> Result<Value> {
        let pos = self.pos;
        let result = self.call_value(f, args, kwargs);
        self.pos = pos;
        result
    }

    /// `value.name`.
    pub fn getattr(&mut self, value: &Value, name: &str) -> Result<Value> {
        self.get_attr(value, name)
    }

    /// `bool(value)`.
    pub fn truth(&mut self, value: &Value) -> Result<bool> {
        self.truthy(value)
    }

    /// `a == b` as a plain boolean.
    pub fn equals(&mut self, a: &Value, b: &Value) -> Result<bool> {
        self.values_equal(a, b)
    }

    /// The items of an iterable.
    pub fn iterate(&mut self, value: &Value) -> Result<Vec<Value>> {
        self.collect(value)
    }

    /// `str(value)`.
    pub fn to_str(&mut self, value: &Value) -> Result<String> {
        self.str_of(value)
    }

    /// `repr(value)`.
    pub fn to_repr(&mut self, value: &Value) -> Result<String> {
        self.repr_of(value)
    }

    /// A dict from (key, value) pairs; unhashable keys are a `TypeError`.
    pub fn dict(&mut self, pairs: Vec<(Value, Value)>) -> Result<Value> {
        let mut d = super::dict::Dict::new();
        for (k, v) in pairs {
            let key = self.key(&k)?;
            d.insert(key, k, v);
        }
        Ok(Value::Dict(Rc::new(std::cell::RefCell::new(d))))
    }

    fn here(&self) -> (PathBuf, Pos) {
        (self.path.to_path_buf(), self.pos)
    }

    /// A plan error: Python the interpreter does not model.
    pub fn unsupported(&self, what: impl Into<String>) -> Failure {
        let (path, pos) = self.here();
        Error::Unsupported {
            path,
            pos,
            what: what.into(),
        }
        .into()
    }

    /// A plan error: a host object does not support `what` ("reading attribute `x`", ...).
    pub fn native_unsupported(&self, type_name: &str, what: impl Into<String>) -> Failure {
        self.native_error(type_name, format!("{} is not supported", what.into()))
    }

    /// A plan error reported by a host object.
    pub fn native_error(&self, type_name: &str, message: impl Into<String>) -> Failure {
        let (path, pos) = self.here();
        Error::Native {
            path,
            pos,
            type_name: type_name.to_string(),
            message: message.into(),
        }
        .into()
    }

    /// A plan error: a use of an import the host does not model.
    pub fn not_modeled(&self, name: &str, action: impl Into<String>) -> Failure {
        let (path, pos) = self.here();
        Error::NotModeled {
            path,
            pos,
            name: name.to_string(),
            action: action.into(),
        }
        .into()
    }

    pub(crate) fn limit(&self, what: impl Into<String>) -> Failure {
        let (path, pos) = self.here();
        Error::Limit {
            path,
            pos,
            what: what.into(),
        }
        .into()
    }

    /// A catchable Python exception of a built-in class (`"ValueError"`, `"KeyError"`, ...).
    pub fn raise(&self, class: &str, message: impl Into<String>) -> Failure {
        self.raise_value(builtin_exception(class, message.into()))
    }

    /// A catchable Python exception from an exception instance.
    pub fn raise_value(&self, exception: Value) -> Failure {
        let (path, pos) = self.here();
        Failure::Raised(Box::new(Raised {
            exception,
            path,
            pos,
        }))
    }

    /// The built-in exception class `name`, for hosts that derive their own.
    pub fn exception_class(&self, name: &str) -> Option<Rc<Class>> {
        exception_class(name)
    }

    /// Fail before the native stack runs out (stacks grow down on every supported target; if
    /// one grows up, the depth limit still applies).
    pub(crate) fn check_stack(&self) -> Result<()> {
        if self.stack_base.saturating_sub(stack_address()) > self.limits.max_stack {
            return Err(self.limit(format!(
                "nesting deeper than {} KiB of native stack (recursion or deeply nested code)",
                self.limits.max_stack >> 10
            )));
        }
        Ok(())
    }

    /// Count one loop iteration against the budget; the error points at the loop (`pos`).
    pub(crate) fn tick(&mut self, pos: Pos) -> Result<()> {
        self.iterations += 1;
        if self.iterations > self.limits.max_iterations {
            self.pos = pos;
            return Err(self.limit(format!(
                "more than {} loop iterations",
                self.limits.max_iterations
            )));
        }
        Ok(())
    }

    /// A `TypeError` for an operation on values of the wrong types.
    pub(crate) fn type_error(&self, message: impl Into<String>) -> Failure {
        self.raise("TypeError", message)
    }
}
