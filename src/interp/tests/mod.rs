//! Specifications of the interpreter core. Expected values are what CPython 3.11 gives.

mod errors;
mod expressions;
mod fakes;
mod host;
mod library;
mod mlflow_smoke;
mod statements;

use std::path::Path;
use std::rc::Rc;

use super::{Error, Host, Interpreter, Namespace, Value};
use crate::script::pyast::parse_module;

/// A host that models nothing: every import is opaque.
pub(super) struct NoHost;

impl Host for NoHost {
    fn import(&self, _module: &str) -> Option<Value> {
        None
    }
}

pub(super) const PATH: &str = "versions/abc123_test.py";

/// Run `src` as a module against `host`.
pub(super) fn run_with(host: Rc<dyn Host>, src: &str) -> (Interpreter, Result<Namespace, Error>) {
    let module = parse_module(src).unwrap_or_else(|e| panic!("test source does not parse: {e:?}"));
    let mut interp = Interpreter::new(host);
    let result = interp.run_module(&module, Path::new(PATH));
    (interp, result)
}

/// Run `src` and return `repr(var)`.
pub(super) fn exec(src: &str, var: &str) -> String {
    let (mut interp, result) = run_with(Rc::new(NoHost), src);
    let ns = result.unwrap_or_else(|e| panic!("{e}"));
    let v = ns
        .get(var)
        .unwrap_or_else(|| panic!("`{var}` is not bound"));
    interp
        .ctx()
        .to_repr(&v)
        .unwrap_or_else(|_| panic!("repr failed"))
}

/// `repr(expr)`.
pub(super) fn eval(expr: &str) -> String {
    exec(&format!("result = {expr}\n"), "result")
}

/// The error of running `src`.
pub(super) fn fails(src: &str) -> Error {
    let (_, result) = run_with(Rc::new(NoHost), src);
    match result {
        Ok(_) => panic!("expected an error from:\n{src}"),
        Err(e) => e,
    }
}

/// The error of running `src`, as text.
pub(super) fn error_text(src: &str) -> String {
    fails(src).to_string()
}
