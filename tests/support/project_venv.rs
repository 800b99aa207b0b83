//! Virtualenvs of other Python releases the tests run against: other Alembic projects (Apache
//! Airflow, Prefect), whose own upgrade is the expected value for ours, and older MLflow
//! releases (`rolling_upgrade`). Each is built once per target directory under a file lock,
//! and reused while its pins hold and its check runs.

#![allow(dead_code)] // each test crate uses its own subset of these helpers

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A virtualenv: its folder under the target directory, what pip installs, and Python that
/// must run in it for it to count as built.
pub struct Venv<'a> {
    pub name: &'a str,
    pub packages: &'a [&'a str],
    pub check: &'a str,
}

/// Apache Airflow's core, whose scripts live in `airflow/migrations`.
pub const AIRFLOW: Venv = Venv {
    name: "project-airflow-3.3.2",
    packages: &[
        "apache-airflow-core==3.3.2",
        "psycopg2-binary",
        "asyncpg",
        "pymysql",
        "aiomysql",
    ],
    check: "import airflow.migrations",
};

/// Prefect, whose scripts live in `prefect/server/database/_migrations`, one chain per database.
pub const PREFECT: Venv = Venv {
    name: "project-prefect-3.9.1",
    // psycopg2 for `project_steps.py`'s reflection (Prefect itself connects through asyncpg).
    packages: &["prefect==3.9.1", "psycopg2-binary"],
    check: "import prefect.server.database",
};

/// SQLAlchemy's previous line (2.0) with the pinned Alembic: what a project pinned to 2.0 gets
/// from Python (`--sqlalchemy 2.0`).
pub const SQLALCHEMY_2_0: Venv = Venv {
    name: "sqlalchemy-2.0.59",
    packages: &[
        "sqlalchemy==2.0.59",
        "alembic==1.20.1",
        "pymysql",
        "psycopg2-binary",
    ],
    check:
        "import sqlalchemy, alembic, pymysql, psycopg2; assert sqlalchemy.__version__ == '2.0.59'",
};

/// The virtualenv's interpreter, building the environment first when needed. An environment
/// without the marker (built by hand, or by an interrupted run) is kept when its check runs.
pub fn python(venv: &Venv) -> PathBuf {
    let target = super::target_dir();
    fs::create_dir_all(&target).unwrap();
    let dir = target.join(venv.name);
    let python = dir.join("bin").join("python");
    let marker = dir.join(".complete");
    let lock_path = target.join(format!("{}.lock", venv.name));
    let lock = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", lock_path.display()));
    // Held until `lock` drops at the end of this function.
    fs4::fs_std::FileExt::lock_exclusive(&lock)
        .unwrap_or_else(|e| panic!("cannot lock {}: {e}", lock_path.display()));
    let wanted = venv.packages.join(" ");
    match fs::read_to_string(&marker) {
        Ok(found) if found.trim() == wanted && python.exists() => return python,
        Err(_) if python.exists() && runs(&python, venv.check) => {}
        _ => build(&dir, &python, venv.packages),
    }
    assert!(
        runs(&python, venv.check),
        "the virtualenv {} does not satisfy `{wanted}`: `{}` fails in it",
        dir.display(),
        venv.check
    );
    fs::write(&marker, format!("{wanted}\n")).unwrap();
    python
}

/// Whether `code` runs in the environment of `python`.
fn runs(python: &Path, code: &str) -> bool {
    Command::new(python)
        .args(["-c", code])
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn build(dir: &Path, python: &Path, packages: &[&str]) {
    if dir.exists() {
        fs::remove_dir_all(dir).unwrap();
    }
    let log_path = dir.with_extension("log");
    let mut log = String::new();
    let mut venv = Command::new("python3");
    venv.args(["-m", "venv"]).arg(dir);
    let mut pip = Command::new(python);
    pip.args([
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--no-input",
    ])
    .args(packages);
    for mut cmd in [venv, pip] {
        let out = cmd
            .output()
            .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
        log.push_str(&format!("$ {cmd:?}\n"));
        log.push_str(&String::from_utf8_lossy(&out.stdout));
        log.push_str(&String::from_utf8_lossy(&out.stderr));
        let _ = fs::write(&log_path, &log);
        assert!(
            out.status.success(),
            "cannot build the virtualenv {}: {cmd:?} failed; log in {}",
            dir.display(),
            log_path.display()
        );
    }
}

/// The environment's `site-packages`.
pub fn site_packages(python: &Path) -> PathBuf {
    let out = Command::new(python)
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}
