//! Every MLflow 3.17.2 revision script (tracking and auth) runs `upgrade()`, then `downgrade()`
//! for coverage of more Python, through the core against permissive fake hosts: it either
//! succeeds or stops at something the host does not model — never at Python the core does not
//! support, never with a Python exception.

use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::fakes::{Log, PermissiveHost};
use crate::interp::{Error, Host, Interpreter};
use crate::script::pyast::parse_module;

fn mlflow_package() -> Option<PathBuf> {
    let lib = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/ref-venv/lib");
    let entries = std::fs::read_dir(&lib).ok()?;
    entries
        .flatten()
        .map(|e| e.path().join("site-packages/mlflow"))
        .find(|p| p.is_dir())
}

fn scripts(package: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in [
        "store/db_migrations/versions",
        "server/auth/db/migrations/versions",
    ] {
        let Ok(entries) = std::fs::read_dir(package.join(dir)) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "py") && !p.ends_with("__init__.py") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Runs every script; returns (clean, stopped at host limits, failures).
fn run_all(
    files: &[PathBuf],
    host: impl Fn() -> Rc<dyn Host>,
) -> (usize, Vec<String>, Vec<String>) {
    let (mut clean, mut host_limits, mut failures) = (0, Vec::new(), Vec::new());
    for file in files {
        let source = std::fs::read_to_string(file).unwrap_or_default();
        let module = match parse_module(&source) {
            Ok(m) => m,
            Err(e) => {
                failures.push(format!("{}: does not parse: {e:?}", file.display()));
                continue;
            }
        };
        let mut interp = Interpreter::new(host());
        let outcome = interp.run_module(&module, file).and_then(|ns| {
            interp.call(&ns, "upgrade", Vec::new())?;
            interp.call(&ns, "downgrade", Vec::new())
        });
        match outcome {
            Ok(_) => clean += 1,
            Err(e @ (Error::NotModeled { .. } | Error::Native { .. })) => {
                host_limits.push(e.to_string())
            }
            Err(e) => failures.push(e.to_string()),
        }
    }
    (clean, host_limits, failures)
}

#[test]
fn every_mlflow_script_runs_or_stops_only_at_unmodeled_host_objects() {
    let Some(package) = mlflow_package() else {
        eprintln!(
            "skipped: no MLflow package under target/ref-venv (run the conformance setup first)"
        );
        return;
    };
    let files = scripts(&package);
    assert_eq!(files.len(), 74, "67 tracking + 7 auth revisions");

    let everything = || -> Rc<dyn Host> {
        Rc::new(PermissiveHost {
            log: Log::default(),
            opaque: Vec::new(),
        })
    };
    let (clean, host_limits, failures) = run_all(&files, everything);
    eprintln!(
        "permissive host: {clean} of {} ran clean; stopped at host objects:",
        files.len()
    );
    for e in &host_limits {
        eprintln!("  {e}");
    }
    assert!(
        failures.is_empty(),
        "core failures:\n{}",
        failures.join("\n")
    );

    let mlflow_opaque = || -> Rc<dyn Host> {
        Rc::new(PermissiveHost {
            log: Log::default(),
            opaque: vec!["mlflow"],
        })
    };
    let (clean, host_limits, failures) = run_all(&files, mlflow_opaque);
    eprintln!(
        "with `mlflow.*` opaque: {clean} ran clean, {} stopped at unmodeled imports or host objects",
        host_limits.len()
    );
    assert!(
        failures.is_empty(),
        "core failures:\n{}",
        failures.join("\n")
    );
}
