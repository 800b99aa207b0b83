//! Messages an operator meets before any database is touched, and what shipped builds obey.

mod support;

use std::process::Output;

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn an_unwritable_cache_names_the_options_that_fix_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let out = support::mlflow_migrate()
        .args(["--ignore-installed", "--cache-dir"])
        .arg(file.join("cache"))
        .arg("heads")
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("--cache-dir") && err.contains("--scripts") && err.contains("a-file"),
        "{err}"
    );
}

#[test]
fn an_unknown_scheme_lists_the_supported_ones() {
    let out = support::mlflow_migrate()
        .args(["--scripts"])
        .arg(support::fixture("helpdesk"))
        .args(["current", "mssql+pyodbc://u:secret@h/db"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    for scheme in ["sqlite", "postgresql", "mysql", "mariadb"] {
        assert!(err.contains(scheme), "{scheme} not listed: {err}");
    }
    assert!(!err.contains("secret"), "{err}");
}

/// Fault injection is a cargo feature that neither a plain build nor the Python wheel enables.
#[test]
fn shipped_builds_do_not_enable_fault_injection() {
    let root = support::repo_root();
    let cargo: toml::Value =
        toml::from_str(&std::fs::read_to_string(root.join("Cargo.toml")).unwrap()).unwrap();
    let features = cargo["features"].as_table().unwrap();
    assert!(features.contains_key("fault-injection"));
    let default = features
        .get("default")
        .and_then(|d| d.as_array())
        .cloned()
        .unwrap_or_default();
    assert!(
        !default
            .iter()
            .any(|f| f.as_str() == Some("fault-injection")),
        "fault injection is on by default"
    );
    let pyproject: toml::Value =
        toml::from_str(&std::fs::read_to_string(root.join("pyproject.toml")).unwrap()).unwrap();
    let maturin = &pyproject["tool"]["maturin"];
    let wheel_features = maturin
        .get("features")
        .and_then(|f| f.as_array())
        .cloned()
        .unwrap_or_default();
    assert!(
        !wheel_features
            .iter()
            .any(|f| f.as_str() == Some("fault-injection")),
        "the wheel enables fault injection"
    );
    // The library's options carry no test hooks.
    let exec = std::fs::read_to_string(root.join("src/exec/mod.rs")).unwrap();
    assert!(!exec.contains("fail_after") && !exec.contains("ALEMBIC_ENGINE_FAIL"));
}
