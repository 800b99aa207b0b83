//! Projects: which script directory to read and which version table it uses.
//!
//! MLflow's tracking and auth databases are built in. Their scripts come from, in order: an
//! explicit `--scripts DIR`; the `mlflow` package installed for `python3` (found on disk by
//! looking at site-packages folders, without running Python or importing mlflow); else the
//! pinned `mlflow-skinny` wheel, fetched once with `python3 -m pip download --no-deps`, checked
//! against the sha256 in `revisions/mlflow/source.toml`, and unpacked into a cache folder.
//! Any other Alembic project is opened from its own folder.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

use crate::script::{ScriptDirectory, ScriptError};

const SOURCE_TOML: &str = include_str!("../revisions/mlflow/source.toml");

#[derive(Debug, Clone, Deserialize)]
pub struct WheelPin {
    pub package: String,
    pub version: String,
    pub wheel: String,
    pub sha256: String,
    pub projects: std::collections::BTreeMap<String, ProjectPin>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ProjectPin {
    pub scripts: String,
    pub version_table: String,
    /// Tables the application creates before its first revision (relative to the package root).
    #[serde(default)]
    pub initial_models: Option<String>,
    /// Further package files the scripts import (interpreted, not run).
    #[serde(default)]
    pub package_files: Vec<String>,
}

impl WheelPin {
    pub fn builtin() -> Self {
        toml::from_str(SOURCE_TOML)
            .expect("revisions/mlflow/source.toml is valid (checked by a test)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error(transparent)]
    Script(#[from] ScriptError),
    #[error("unknown project '{0}'; the built-in projects are 'mlflow' and 'mlflow-auth' (use --scripts DIR for any other Alembic project)")]
    UnknownProject(String),
    #[error("could not fetch {wheel}: `python3 -m pip download` {detail}. Install mlflow for python3, or pass --scripts pointing at MLflow's migrations folder")]
    Download { wheel: String, detail: String },
    #[error("{path} has sha256 {actual}, but revisions/mlflow/source.toml pins {expected}; refusing to use it (delete the file to fetch it again)")]
    WheelChecksum {
        path: PathBuf,
        actual: String,
        expected: String,
    },
    #[error("{path}: cannot unpack the wheel: {detail}")]
    Unpack { path: PathBuf, detail: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ProjectError + '_ {
    move |source| ProjectError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Where a project's scripts were found, for the one line the CLI prints on stderr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScriptOrigin {
    Explicit(PathBuf),
    Installed {
        path: PathBuf,
        version: Option<String>,
    },
    Wheel {
        wheel: PathBuf,
        unpacked: PathBuf,
    },
}

impl std::fmt::Display for ScriptOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScriptOrigin::Explicit(p) => write!(f, "scripts from {}", p.display()),
            ScriptOrigin::Installed { path, version } => write!(
                f,
                "scripts from the installed mlflow {}at {}",
                version
                    .as_deref()
                    .map(|v| format!("{v} "))
                    .unwrap_or_default(),
                path.display()
            ),
            ScriptOrigin::Wheel { wheel, unpacked } => write!(
                f,
                "scripts from the pinned wheel {} (unpacked in {})",
                wheel.display(),
                unpacked.display()
            ),
        }
    }
}

/// An opened project: its scripts and the name of its version table.
#[derive(Debug, Clone)]
pub struct Project {
    pub name: String,
    pub version_table: String,
    pub scripts: ScriptDirectory,
    pub origin: ScriptOrigin,
    /// `initial_models.py` of a project that creates its first tables outside Alembic.
    pub initial_models: Option<PathBuf>,
    /// The folder holding the application's Python package (MLflow's `mlflow/`), where
    /// helper modules the scripts import are read from.
    pub package_root: Option<PathBuf>,
}

/// How to find a project's scripts.
#[derive(Debug, Clone, Default)]
pub struct Locator {
    /// `--scripts`: overrides every other source.
    pub scripts: Option<PathBuf>,
    /// Where fetched wheels are kept; defaults to `$MLFLOW_MIGRATE_CACHE`, then
    /// `$XDG_CACHE_HOME/alembic-engine`, then `~/.cache/alembic-engine`.
    pub cache_dir: Option<PathBuf>,
    /// Skip looking for an installed mlflow (tests use this to reach the wheel path).
    pub ignore_installed: bool,
}

impl Locator {
    /// Open a project. `project` is `mlflow`, `mlflow-auth`, or `None` for a generic Alembic
    /// project at `--scripts`.
    pub fn open(&self, project: Option<&str>) -> Result<Project, ProjectError> {
        let pin = WheelPin::builtin();
        let Some(name) = project else {
            let dir = self.scripts.clone().unwrap_or_else(|| PathBuf::from("."));
            return Ok(Project {
                name: "alembic".into(),
                version_table: "alembic_version".into(),
                scripts: ScriptDirectory::open(&dir)?,
                origin: ScriptOrigin::Explicit(dir),
                initial_models: None,
                package_root: None,
            });
        };
        let project_pin = pin
            .projects
            .get(name)
            .ok_or_else(|| ProjectError::UnknownProject(name.to_string()))?
            .clone();
        let (dir, origin) = if let Some(dir) = &self.scripts {
            (dir.clone(), ScriptOrigin::Explicit(dir.clone()))
        } else if let Some((site, version)) =
            (!self.ignore_installed).then(installed_mlflow).flatten()
        {
            let dir = site.join(&project_pin.scripts);
            (dir.clone(), ScriptOrigin::Installed { path: dir, version })
        } else {
            let (wheel, unpacked) = self.unpacked_wheel(&pin)?;
            (
                unpacked.join(&project_pin.scripts),
                ScriptOrigin::Wheel { wheel, unpacked },
            )
        };
        // MLflow's alembic.ini names a script_location relative to MLflow's source tree, so
        // the folder is read as a bare script directory.
        let scripts = if dir.is_dir() {
            ScriptDirectory::load(&dir, &[dir.join("versions")], false)?
        } else {
            ScriptDirectory::open(&dir)?
        };
        // The package root is as many folders above the scripts as the pinned path is deep.
        let package_root = {
            let depth = Path::new(&project_pin.scripts).components().count();
            let mut root = Some(dir.clone());
            for _ in 0..depth {
                root = root.and_then(|r| r.parent().map(Path::to_path_buf));
            }
            root
        };
        let initial_models = project_pin.initial_models.as_ref().and_then(|rel| {
            let path = package_root.as_ref()?.join(rel);
            path.is_file().then_some(path)
        });
        Ok(Project {
            name: name.to_string(),
            version_table: project_pin.version_table,
            scripts,
            origin,
            initial_models,
            package_root,
        })
    }

    fn cache_dir(&self) -> PathBuf {
        if let Some(dir) = &self.cache_dir {
            return dir.clone();
        }
        if let Some(dir) = std::env::var_os("MLFLOW_MIGRATE_CACHE") {
            return PathBuf::from(dir);
        }
        if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
            return PathBuf::from(dir).join("alembic-engine");
        }
        match std::env::var_os("HOME") {
            Some(home) => PathBuf::from(home).join(".cache").join("alembic-engine"),
            None => std::env::temp_dir().join("alembic-engine"),
        }
    }

    /// The pinned wheel, downloaded if needed, checked, and unpacked once.
    fn unpacked_wheel(&self, pin: &WheelPin) -> Result<(PathBuf, PathBuf), ProjectError> {
        let cache = self.cache_dir();
        fs::create_dir_all(&cache).map_err(io(&cache))?;
        let lock_path = cache.join(".lock");
        let lock = fs::File::create(&lock_path).map_err(io(&lock_path))?;
        fs4::fs_std::FileExt::lock_exclusive(&lock).map_err(io(&lock_path))?;

        let wheel = cache.join(&pin.wheel);
        let unpacked = cache.join(format!("{}-{}", pin.package, pin.version));
        let marker = unpacked.join(".sha256");
        // The marker names the layout too, so a cache unpacked with fewer files is redone.
        let marker_text = format!("{} layout-3", pin.sha256);
        if fs::read_to_string(&marker).ok().as_deref() == Some(marker_text.as_str()) {
            return Ok((wheel, unpacked));
        }
        if !wheel.is_file() {
            download(pin, &cache)?;
        }
        let actual = sha256_file(&wheel)?;
        if actual != pin.sha256 {
            return Err(ProjectError::WheelChecksum {
                path: wheel,
                actual,
                expected: pin.sha256.clone(),
            });
        }
        let staging = cache.join(format!(".unpack-{}", std::process::id()));
        let _ = fs::remove_dir_all(&staging);
        let prefixes: Vec<String> = pin
            .projects
            .values()
            .flat_map(|p| {
                std::iter::once(format!("{}/", p.scripts))
                    .chain(p.initial_models.clone())
                    .chain(p.package_files.clone())
            })
            .collect();
        unpack(&wheel, &staging, &prefixes)?;
        fs::write(staging.join(".sha256"), &marker_text).map_err(io(&staging))?;
        let _ = fs::remove_dir_all(&unpacked);
        fs::rename(&staging, &unpacked).map_err(io(&unpacked))?;
        Ok((wheel, unpacked))
    }
}

fn download(pin: &WheelPin, dest: &Path) -> Result<(), ProjectError> {
    let spec = format!("{}=={}", pin.package, pin.version);
    let output = Command::new("python3")
        .args([
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary",
            ":all:",
            "-q",
            "-d",
        ])
        .arg(dest)
        .arg(&spec)
        .output()
        .map_err(|e| ProjectError::Download {
            wheel: pin.wheel.clone(),
            detail: format!("could not start: {e}"),
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(ProjectError::Download {
            wheel: pin.wheel.clone(),
            detail: format!("failed ({}): {}", output.status, stderr.trim()),
        });
    }
    if !dest.join(&pin.wheel).is_file() {
        return Err(ProjectError::Download {
            wheel: pin.wheel.clone(),
            detail: "succeeded but did not produce the pinned file name".into(),
        });
    }
    Ok(())
}

pub fn sha256_file(path: &Path) -> Result<String, ProjectError> {
    use sha2::{Digest, Sha256};
    let mut file = fs::File::open(path).map_err(io(path))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf).map_err(io(path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Extract the entries under `prefixes` (and nothing that would escape `dest`).
fn unpack(wheel: &Path, dest: &Path, prefixes: &[String]) -> Result<(), ProjectError> {
    let unpack_err = |detail: String| ProjectError::Unpack {
        path: wheel.to_path_buf(),
        detail,
    };
    let file = fs::File::open(wheel).map_err(io(wheel))?;
    let mut archive = zip::ZipArchive::new(file).map_err(|e| unpack_err(e.to_string()))?;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|e| unpack_err(e.to_string()))?;
        let Some(rel) = entry.enclosed_name() else {
            continue;
        };
        let rel_str = rel.to_string_lossy().replace('\\', "/");
        if entry.is_dir() || !prefixes.iter().any(|p| rel_str.starts_with(p.as_str())) {
            continue;
        }
        let out = dest.join(&rel);
        if let Some(parent) = out.parent() {
            fs::create_dir_all(parent).map_err(io(parent))?;
        }
        let mut bytes = Vec::new();
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| unpack_err(e.to_string()))?;
        fs::write(&out, bytes).map_err(io(&out))?;
    }
    Ok(())
}

/// Find `mlflow` in the site-packages of `python3` (or the active virtualenv) by looking at
/// the file system. Returns the site-packages folder and mlflow's version if recorded.
fn installed_mlflow() -> Option<(PathBuf, Option<String>)> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_pin_parses_and_names_both_projects() {
        let pin = WheelPin::builtin();
        assert_eq!(pin.version, "3.17.2");
        assert_eq!(pin.sha256.len(), 64);
        assert_eq!(
            pin.projects["mlflow-auth"].version_table,
            "alembic_version_auth"
        );
    }
}
