//! Specifications of the emulated `sqlalchemy`. Expected values are what SQLAlchemy 2.1.9 builds
//! or renders for the same Python (checked in the reference virtualenv), or follow from it.

mod declarative;
mod expressions;
mod fakes;
mod reflect;
mod schema;
mod smoke;
mod types;

use std::path::Path;
use std::rc::Rc;

use crate::interp::{Ctx, Error, Host, Interpreter, Namespace, Value};
use crate::script::pyast::parse_module;

/// `sqlalchemy*` from the emulation, a `time` module for class bodies that read the clock,
/// nothing else.
pub(super) struct SaHost;

impl Host for SaHost {
    fn import(&self, module: &str) -> Option<Value> {
        if module == "time" {
            return Some(fakes::time_module());
        }
        super::import(module)
    }
}

pub(super) const PATH: &str = "versions/abc123_test.py";

/// Run `src` as a module.
pub(super) fn run_with(
    host: Rc<dyn Host>,
    src: &str,
    path: &str,
) -> (Interpreter, Result<Namespace, Error>) {
    let module = parse_module(src).unwrap_or_else(|e| panic!("test source does not parse: {e:?}"));
    let mut interp = Interpreter::new(host);
    let result = interp.run_module(&module, Path::new(path));
    (interp, result)
}

/// Run `src`, which must succeed.
pub(super) fn run(src: &str) -> (Interpreter, Namespace) {
    let (interp, result) = run_with(Rc::new(SaHost), src, PATH);
    let ns = result.unwrap_or_else(|e| panic!("{e}\n--- in:\n{src}"));
    (interp, ns)
}

/// The error text of running `src`.
pub(super) fn run_err(src: &str) -> String {
    match run_with(Rc::new(SaHost), src, PATH).1 {
        Ok(_) => panic!("expected an error from:\n{src}"),
        Err(e) => e.to_string(),
    }
}

const IMPORTS: &str =
    "import sqlalchemy as sa\nfrom sqlalchemy.dialects import mysql, mssql, postgresql\n";

/// Evaluate `expr` (with `sa`, `mysql`, `mssql`, `postgresql` imported) and convert the value.
pub(super) fn convert<T>(
    expr: &str,
    f: impl FnOnce(&Value, &mut Ctx) -> crate::interp::Result<T>,
) -> T {
    let src = format!("{IMPORTS}result = {expr}\n");
    let (mut interp, ns) = run(&src);
    let v = ns.get("result").expect("result is bound");
    f(&v, interp.ctx()).unwrap_or_else(|e| panic!("converting `{expr}` failed: {}", text(e)))
}

/// Like [`convert`], for a conversion that must fail; returns the error text.
pub(super) fn convert_err<T: std::fmt::Debug>(
    expr: &str,
    f: impl FnOnce(&Value, &mut Ctx) -> crate::interp::Result<T>,
) -> String {
    let src = format!("{IMPORTS}result = {expr}\n");
    let (mut interp, ns) = run(&src);
    let v = ns.get("result").expect("result is bound");
    match f(&v, interp.ctx()) {
        Ok(t) => panic!("converting `{expr}` should fail, gave {t:?}"),
        Err(e) => text(e),
    }
}

/// A conversion failure as text.
fn text(f: crate::interp::Failure) -> String {
    match f {
        crate::interp::Failure::Error(e) => e.to_string(),
        crate::interp::Failure::Raised(r) => match &r.exception {
            Value::Instance(i) => format!(
                "raised {}: {:?}",
                i.class.name,
                i.attrs.borrow().get("args")
            ),
            other => format!("raised {other:?}"),
        },
    }
}
