//! `pip install mlflow-migrate`: the wheel built from this repository with maturin (pinned,
//! from PyPI into a virtualenv under the target directory), installed into a fresh
//! virtualenv, upgrades an empty MLflow database that MLflow then accepts.
//!
//! The wheel is built with Cargo's dev profile so the test reuses the binary `cargo test` just
//! built (seconds, not a release build; stored uncompressed, since a debug binary is large);
//! packaging is otherwise what `maturin build` does with the `dist` profile.
//! Building is serialised by a lock on `<target>/python-wheel.lock`.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use alembic_engine::project::WheelPin;
use support::cli::{assert_mlflow_accepts, ok};
use support::db::TestDb;

/// The maturin the wheel is built with (also named in pyproject.toml's comment).
const MATURIN: &str = "maturin==1.16.0";

fn bin(venv: &Path, name: &str) -> PathBuf {
    venv.join("bin").join(name)
}

fn run(cmd: &mut Command, what: &str) -> std::process::Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A virtualenv with the pinned maturin, made once per target directory.
fn maturin(target: &Path) -> PathBuf {
    let venv = target.join("maturin-venv");
    let marker = venv.join(".complete");
    if fs::read_to_string(&marker).ok().as_deref() == Some(MATURIN) {
        return bin(&venv, "maturin");
    }
    let _ = fs::remove_dir_all(&venv);
    run(
        Command::new("python3").args(["-m", "venv"]).arg(&venv),
        "python3 -m venv (for maturin)",
    );
    run(
        Command::new(bin(&venv, "python")).args(["-m", "pip", "install", "-q", MATURIN]),
        "pip install maturin",
    );
    fs::write(&marker, MATURIN).unwrap();
    bin(&venv, "maturin")
}

/// Build the wheel into a fresh folder under the target directory; returns its path.
fn build_wheel() -> PathBuf {
    let target = support::target_dir();
    fs::create_dir_all(&target).unwrap();
    let lock = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(target.join("python-wheel.lock"))
        .unwrap();
    fs4::fs_std::FileExt::lock_exclusive(&lock).unwrap();
    let maturin = maturin(&target);
    let out_dir = target.join("python-wheel");
    let _ = fs::remove_dir_all(&out_dir);
    run(
        Command::new(maturin)
            .current_dir(support::repo_root())
            .args(["build", "--profile", "dev", "--quiet"])
            .args(["--compression-method", "stored", "--out"])
            .arg(&out_dir),
        "maturin build",
    );
    let wheels: Vec<PathBuf> = fs::read_dir(&out_dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "whl"))
        .collect();
    assert_eq!(wheels.len(), 1, "one wheel built: {wheels:?}");
    wheels[0].clone()
}

#[test]
fn the_pip_installed_binary_upgrades_an_empty_mlflow_database_that_mlflow_accepts() {
    let wheel = build_wheel();
    let name = wheel.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with(&format!(
            "mlflow_migrate-{}-py3-none-",
            env!("CARGO_PKG_VERSION")
        )),
        "{name}"
    );

    let dir = tempfile::tempdir().unwrap();
    let venv = dir.path().join("venv");
    run(
        Command::new("python3").args(["-m", "venv"]).arg(&venv),
        "python3 -m venv",
    );
    run(
        Command::new(bin(&venv, "python"))
            .args(["-m", "pip", "install", "-q", "--no-index"])
            .arg(&wheel),
        "pip install the wheel",
    );

    // The metadata names the MLflow release whose migrations the binary knows.
    let pin = WheelPin::builtin();
    let summary = run(
        Command::new(bin(&venv, "python")).args([
            "-c",
            "import importlib.metadata as m; print(m.metadata('mlflow-migrate')['Summary'])",
        ]),
        "read the installed metadata",
    );
    let summary = String::from_utf8_lossy(&summary.stdout);
    assert!(
        summary.contains(&format!("MLflow {}", pin.version)),
        "the summary names MLflow {}: {summary}",
        pin.version
    );

    // Run as an operator would: the virtualenv's bin first on PATH (its python3 has no
    // mlflow), a cache of its own.
    let exe = bin(&venv, "mlflow-migrate");
    assert!(exe.is_file(), "pip put mlflow-migrate in the virtualenv");
    let version = run(
        Command::new(&exe).arg("--version"),
        "mlflow-migrate --version",
    );
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("mlflow-migrate {}", env!("CARGO_PKG_VERSION"))
    );
    let db = TestDb::sqlite();
    let out = Command::new(&exe)
        .env("PATH", venv.join("bin"))
        .env("VIRTUAL_ENV", &venv)
        .env("MLFLOW_MIGRATE_CACHE", dir.path().join("cache"))
        .args(["upgrade", &db.our_url()])
        .output()
        .unwrap();
    ok(&out);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("scripts from the pinned wheel"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_mlflow_accepts(&db, "upgraded by the pip-installed mlflow-migrate");
}
