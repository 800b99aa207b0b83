//! Virtualenvs of other Alembic projects (Apache Airflow, Prefect), each with its own pinned
//! release, built once per target directory under a file lock and reused while the pin holds:
//! their own Alembic upgrade is the expected value for ours.

#![allow(dead_code)] // each test crate uses its own subset of these helpers

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A project release as handed to pip, and the environment it needs to run its migrations.
pub struct ProjectPin {
    /// The virtualenv's folder name under the target directory.
    pub name: &'static str,
    /// Exactly what pip installs.
    pub packages: &'static [&'static str],
}

/// Apache Airflow's core, whose scripts live in `airflow/migrations`.
pub const AIRFLOW: ProjectPin = ProjectPin {
    name: "project-airflow-3.3.2",
    packages: &["apache-airflow-core==3.3.2"],
};

/// Prefect, whose scripts live in `prefect/server/database/_migrations`, one chain per database.
pub const PREFECT: ProjectPin = ProjectPin {
    name: "project-prefect-3.9.1",
    packages: &["prefect==3.9.1"],
};

/// The project's virtualenv interpreter, building the environment first when needed.
pub fn python(pin: &ProjectPin) -> PathBuf {
    let target = super::target_dir();
    fs::create_dir_all(&target).unwrap();
    let venv = target.join(pin.name);
    let python = venv.join("bin").join("python");
    let marker = venv.join(".complete");
    let lock_path = target.join(format!("{}.lock", pin.name));
    let lock = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .unwrap();
    fs4::fs_std::FileExt::lock_exclusive(&lock).unwrap();
    let wanted = pin.packages.join(" ");
    if fs::read_to_string(&marker).ok().as_deref().map(str::trim) == Some(wanted.as_str())
        && python.exists()
    {
        return python;
    }
    if venv.exists() {
        fs::remove_dir_all(&venv).unwrap();
    }
    let log = venv.with_extension("log");
    let steps = [
        Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .output(),
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--no-input",
            ])
            .args(pin.packages)
            .output(),
    ];
    let mut text = String::new();
    for out in steps {
        let out = out.unwrap_or_else(|e| panic!("cannot build {}: {e}", venv.display()));
        text.push_str(&String::from_utf8_lossy(&out.stdout));
        text.push_str(&String::from_utf8_lossy(&out.stderr));
        fs::write(&log, &text).unwrap();
        assert!(
            out.status.success(),
            "cannot build {} (log in {})",
            venv.display(),
            log.display()
        );
    }
    fs::write(&marker, format!("{wanted}\n")).unwrap();
    python
}

/// The project venv's `site-packages`.
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
