//! Shared plumbing for integration tests: the reference Python environment (pinned MLflow,
//! Alembic and SQLAlchemy in a virtualenv under the target directory), paths to fixtures and
//! to MLflow's own revision scripts, and a handle on the `mlflow-migrate` binary.
//!
//! Integration tests run in parallel, as threads of one process and as several processes, so
//! building the virtualenv is serialised by an exclusive lock on `<target>/ref-venv.lock`. A
//! finished environment is marked by `<target>/ref-venv/.complete` holding the pin line; any
//! other content means the pins changed and the environment is rebuilt. When pip cannot run
//! the tests panic: a missing reference must fail CI, never skip silently.

#![allow(dead_code)] // each test crate uses its own subset of these helpers

pub mod cli;
pub mod db;
pub mod index;
pub mod project_venv;
pub mod reference_db;
pub mod schema_diff;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// What the reference environment must contain, exactly as handed to `pip install`.
const REF_PINS: &[&str] = &[
    "mlflow-skinny==3.17.2",
    "alembic==1.20.1",
    "sqlalchemy==2.1.9",
    "psycopg2-binary",
    "pymysql",
];

/// Modules that must import for the environment to count as usable.
const REF_IMPORTS: &str = "alembic, mlflow, sqlalchemy, psycopg2, pymysql";

/// The name of a fault-injection variable (`ALEMBIC_ENGINE_FAIL_AFTER`, ...), which only a
/// build with the `fault-injection` feature obeys: the README's test command enables it.
pub fn fault(variable: &'static str) -> &'static str {
    if !cfg!(feature = "fault-injection") {
        panic!("this test stops runs with {variable}: run it as `cargo test --features fault-injection`");
    }
    variable
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `<repo>/revisions/fixtures/<name>`: a small Alembic project written for the tests.
pub fn fixture(name: &str) -> PathBuf {
    let dir = repo_root().join("revisions").join("fixtures").join(name);
    assert!(dir.is_dir(), "fixture {} does not exist", dir.display());
    dir
}

/// Cargo's target directory: `CARGO_TARGET_DIR` when set (at run time or at build time),
/// else `<repo>/target`.
pub fn target_dir() -> PathBuf {
    let configured = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .or_else(|| option_env!("CARGO_TARGET_DIR").map(PathBuf::from));
    match configured {
        Some(dir) if dir.is_absolute() => dir,
        Some(dir) => repo_root().join(dir),
        None => repo_root().join("target"),
    }
}

/// The `mlflow-migrate` binary built for this test run.
pub fn mlflow_migrate() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mlflow-migrate"))
}

/// The reference virtualenv's interpreter, creating or repairing the environment first.
pub fn ref_python() -> PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(ensure_ref_venv).clone()
}

/// The reference environment's `site-packages` (asked of its interpreter, once per process).
pub fn site_packages() -> PathBuf {
    static PURELIB: OnceLock<PathBuf> = OnceLock::new();
    PURELIB
        .get_or_init(|| {
            let python = ref_python();
            let out = run(
                Command::new(&python)
                    .arg("-c")
                    .arg("import sysconfig; print(sysconfig.get_paths()['purelib'])"),
                "ask the reference python for its site-packages",
            );
            PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
        })
        .clone()
}

/// The release newer than the pinned wheel that the tests fetch from the real index (it
/// edits one published script and adds revisions, one a data migration no recipe covers).
pub const NEWER_RELEASE: &str = "3.18.0";

/// The cache the tests keep `NEWER_RELEASE`'s wheel in (fetched once per target directory).
pub fn release_cache() -> PathBuf {
    target_dir().join("release-cache")
}

/// `NEWER_RELEASE`'s tracking scripts, fetched with `mlflow-migrate fetch
/// --scripts-from-release` into `release_cache()` (the binary's own file lock serialises
/// concurrent fetches).
pub fn newer_release_scripts_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let out = run(
            mlflow_migrate()
                .args(["--quiet", "--format", "json", "--cache-dir"])
                .arg(release_cache())
                .args(["--scripts-from-release", NEWER_RELEASE, "fetch"]),
            "fetch the newer MLflow release",
        );
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        existing_dir(
            PathBuf::from(doc["unpacked"].as_str().unwrap()).join("mlflow/store/db_migrations"),
        )
    })
    .clone()
}

/// MLflow's tracking-store revision scripts as installed in the reference environment.
pub fn mlflow_scripts_dir() -> PathBuf {
    existing_dir(site_packages().join("mlflow/store/db_migrations"))
}

/// MLflow's auth-store revision scripts as installed in the reference environment.
pub fn mlflow_auth_scripts_dir() -> PathBuf {
    existing_dir(site_packages().join("mlflow/server/auth/db/migrations"))
}

/// Put `queries` to Python Alembic about the project at `location` (an `alembic.ini` or a bare
/// script directory) with `tests/support/alembic_reference.py`; one answer per query, in
/// order. A query Alembic rejects is answered with `{"error": "..."}`.
pub fn alembic_reference(location: &Path, queries: &[serde_json::Value]) -> Vec<serde_json::Value> {
    let mut file = tempfile::NamedTempFile::new().expect("create a temporary queries file");
    serde_json::to_writer(&mut file, queries).expect("write the queries file");
    file.flush().expect("flush the queries file");

    let script = repo_root().join("tests/support/alembic_reference.py");
    let out = run(
        Command::new(ref_python())
            .arg(&script)
            .arg(location)
            .arg(file.path())
            // Alembic keeps revisions in sets in places; a fixed seed keeps its answers stable.
            .env("PYTHONHASHSEED", "0")
            .env("PYTHONDONTWRITEBYTECODE", "1"),
        &format!("run the Alembic reference on {}", location.display()),
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "the Alembic reference printed something that is not JSON ({e}):\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    let answers = doc["answers"].as_array().cloned().unwrap_or_default();
    assert_eq!(
        answers.len(),
        queries.len(),
        "the Alembic reference answered {} of {} queries",
        answers.len(),
        queries.len()
    );
    answers
}

fn pin_line() -> String {
    REF_PINS.join(" ")
}

fn venv_python(venv: &Path) -> PathBuf {
    if cfg!(windows) {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    }
}

fn ensure_ref_venv() -> PathBuf {
    let target = target_dir();
    fs::create_dir_all(&target)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", target.display()));
    let venv = target.join("ref-venv");
    let marker = venv.join(".complete");
    let python = venv_python(&venv);

    let lock_path = target.join("ref-venv.lock");
    let lock = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", lock_path.display()));
    // Held until `lock` is dropped at the end of this function; closing the file releases it.
    fs4::fs_std::FileExt::lock_exclusive(&lock)
        .unwrap_or_else(|e| panic!("cannot lock {}: {e}", lock_path.display()));

    match fs::read_to_string(&marker) {
        Ok(pins) if pins.trim() == pin_line() && python.exists() => return python,
        Ok(_) => create_venv(&venv),
        // No marker: an environment built by hand (or by an interrupted run) is kept if it
        // already satisfies the pins, since reinstalling MLflow takes minutes.
        Err(_) if python.exists() && venv_satisfies_pins(&python) => {}
        Err(_) => create_venv(&venv),
    }
    if !venv_satisfies_pins(&python) {
        panic!(
            "the reference virtualenv at {} was installed but does not satisfy `{}`; see {}",
            venv.display(),
            pin_line(),
            target.join("ref-venv.log").display()
        );
    }
    fs::write(&marker, format!("{}\n", pin_line()))
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", marker.display()));
    python
}

/// True when every `name==version` pin is installed at that version, every other pin is
/// installed at all, and the modules the tests rely on import.
fn venv_satisfies_pins(python: &Path) -> bool {
    let pins = REF_PINS
        .iter()
        .map(|pin| match pin.split_once("==") {
            Some((name, version)) => format!("({name:?}, {version:?})"),
            None => format!("({pin:?}, None)"),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let check = format!(
        "import importlib.metadata as md\n\
         for name, version in [{pins}]:\n\
         \x20   found = md.version(name)\n\
         \x20   assert version is None or found == version, (name, found, version)\n\
         import {REF_IMPORTS}\n"
    );
    Command::new(python)
        .arg("-c")
        .arg(check)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .map(|out| out.status.success())
        .unwrap_or(false)
}

fn create_venv(venv: &Path) {
    let log_path = venv.with_file_name("ref-venv.log");
    if venv.exists() {
        fs::remove_dir_all(venv)
            .unwrap_or_else(|e| panic!("cannot remove the stale {}: {e}", venv.display()));
    }
    let mut log = String::new();
    let steps: [(&str, Command); 2] = [
        ("create the reference virtualenv with `python3 -m venv`", {
            let mut cmd = Command::new("python3");
            cmd.arg("-m").arg("venv").arg(venv);
            cmd
        }),
        ("install the reference packages with pip", {
            let mut cmd = Command::new(venv_python(venv));
            cmd.args([
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--no-input",
            ])
            .args(REF_PINS);
            cmd
        }),
    ];
    for (what, mut cmd) in steps {
        let out = cmd
            .output()
            .unwrap_or_else(|e| panic!("cannot {what}: {e} (is python3 installed?)"));
        log.push_str(&format!("$ {cmd:?}\n"));
        log.push_str(&String::from_utf8_lossy(&out.stdout));
        log.push_str(&String::from_utf8_lossy(&out.stderr));
        let _ = fs::write(&log_path, &log);
        if !out.status.success() {
            panic!(
                "cannot {what}: {} (full log in {})\n{}",
                out.status,
                log_path.display(),
                tail(&log, 4000)
            );
        }
    }
}

/// Run `cmd` to completion; panic with its stderr unless it succeeds.
fn run(cmd: &mut Command, what: &str) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot {what}: {e}"));
    if !out.status.success() {
        panic!(
            "cannot {what}: {}\n{}",
            out.status,
            tail(&String::from_utf8_lossy(&out.stderr), 4000)
        );
    }
    out
}

fn existing_dir(dir: PathBuf) -> PathBuf {
    assert!(
        dir.is_dir(),
        "{} is missing from the reference environment",
        dir.display()
    );
    dir
}

fn tail(text: &str, max: usize) -> &str {
    let mut start = text.len().saturating_sub(max);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}
