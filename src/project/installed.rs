//! The `mlflow` package installed for `python3`, found on disk (site-packages folders of the
//! active virtualenv, of the `python3` on PATH, and the system's), without running Python.

use std::fs;
use std::path::{Path, PathBuf};

/// Find `mlflow` in the site-packages of `python3` (or the active virtualenv) by looking at
/// the file system. Returns the site-packages folder and mlflow's version if recorded.
pub(super) fn installed_mlflow() -> Option<(PathBuf, Option<String>)> {
    let mut prefixes: Vec<PathBuf> = Vec::new();
    if let Some(venv) = std::env::var_os("VIRTUAL_ENV") {
        prefixes.push(PathBuf::from(venv));
    }
    if let Some(python) = find_on_path("python3") {
        // A virtualenv's python is a symlink out of it: take the prefix before resolving too.
        if let Some(prefix) = python.parent().and_then(Path::parent) {
            prefixes.push(prefix.to_path_buf());
        }
        if let Some(prefix) = python
            .canonicalize()
            .ok()
            .and_then(|p| p.parent().and_then(Path::parent).map(Path::to_path_buf))
        {
            prefixes.push(prefix);
        }
    }
    let mut sites: Vec<PathBuf> = Vec::new();
    for prefix in &prefixes {
        for lib in ["lib", "lib64"] {
            let Ok(entries) = fs::read_dir(prefix.join(lib)) else {
                continue;
            };
            let mut names: Vec<PathBuf> = entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("python3"))
                })
                .collect();
            names.sort();
            for dir in names {
                sites.push(dir.join("site-packages"));
                sites.push(dir.join("dist-packages"));
            }
        }
    }
    sites.push(PathBuf::from("/usr/lib/python3/dist-packages"));
    sites.into_iter().find_map(|site| {
        site.join("mlflow/store/db_migrations/versions")
            .is_dir()
            .then(|| {
                let version = mlflow_dist_version(&site);
                (site, version)
            })
    })
}

fn mlflow_dist_version(site: &Path) -> Option<String> {
    let entries = fs::read_dir(site).ok()?;
    entries.flatten().find_map(|e| {
        let name = e.file_name().to_string_lossy().into_owned();
        let rest = name
            .strip_prefix("mlflow_skinny-")
            .or_else(|| name.strip_prefix("mlflow-"))?;
        rest.strip_suffix(".dist-info").map(str::to_string)
    })
}

fn find_on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}
