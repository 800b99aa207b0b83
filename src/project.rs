//! Projects: which script directory to read and which version table it uses.
//!
//! MLflow's tracking and auth databases are built in. Their scripts come from, in order: an
//! explicit `--scripts DIR`; the `mlflow` package installed for `python3` (found on disk by
//! looking at site-packages folders, without running Python or importing mlflow); else the
//! pinned `mlflow-skinny` wheel, fetched once from the Python package index over HTTPS
//! ([`fetch`]; `python3 -m pip download` only as a fallback), checked against the sha256 in
//! `revisions/mlflow/source.toml`, and unpacked into a cache folder ([`cache`]) that is checked
//! again on every use. Any other Alembic project is opened from its own folder.

pub mod cache;
pub mod fetch;
mod installed;
mod package;
mod pin;

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::dialect::{Database, SqlAlchemy};
use crate::script::{ScriptDirectory, ScriptError};
pub use cache::{CacheProblem, WheelCache};
pub use fetch::{FetchError, FetchEvent, FetchObserver};
use installed::installed_mlflow;
use package::{enclosing_package, sqlalchemy_beside};
use pin::recorded_pin;
pub use pin::{ProjectPin, WheelPin};

#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error(transparent)]
    Script(#[from] ScriptError),
    #[error("{} holds no revisions in {}; {unread}", dir.display(), locations.iter().map(|l| l.display().to_string()).collect::<Vec<_>>().join(", "))]
    EnvVersionLocations {
        dir: PathBuf,
        locations: Vec<PathBuf>,
        /// Where and why env.py's assignment could not be followed.
        unread: String,
    },
    #[error("unknown project '{0}'; the built-in projects are 'mlflow' and 'mlflow-auth' (any other Alembic project is opened from its script directory)")]
    UnknownProject(String),
    #[error("could not fetch {wheel} from the index {index}: {http}; the fallback `python3 -m pip download` {pip}")]
    Download {
        wheel: String,
        index: String,
        http: Box<FetchError>,
        pip: String,
    },
    #[error("could not fetch {wheel}: {source}")]
    Fetch {
        wheel: String,
        #[source]
        source: Box<FetchError>,
    },
    #[error(
        "offline: the wheel {wheel} is not in the cache {cache}, and downloading is not allowed"
    )]
    Offline { wheel: String, cache: PathBuf },
    #[error("{path} has sha256 {actual}, but {pinned_by} pins {expected}; refusing it (offline: not fetched again)")]
    WheelChecksum {
        path: PathBuf,
        actual: String,
        expected: String,
        pinned_by: String,
    },
    #[error("{path}: the sha256 recorded there on first use is not 64 hex digits ('{text}'); delete the file to trust the index's hash again")]
    RecordedHash { path: PathBuf, text: String },
    #[error("{path}: cannot unpack the wheel: {detail}")]
    Unpack { path: PathBuf, detail: String },
    /// The SQLAlchemy installed beside the scripts' package is of a line whose spelling is
    /// not reproduced.
    #[error("{path} is SQLAlchemy {found}, installed beside the scripts' package; the engine spells DDL as SQLAlchemy 2.0 or 2.1 does, and these scripts would get another line's SQL: choose the line to reproduce explicitly")]
    SqlAlchemyLine { path: PathBuf, found: String },
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
        /// Read from the release asked for (`Locator::release`), not the pinned one.
        requested: Option<String>,
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
            ScriptOrigin::Wheel {
                wheel,
                unpacked,
                requested,
            } => write!(
                f,
                "scripts from {} {} (unpacked in {})",
                match requested {
                    Some(version) => format!("MLflow {version}'s wheel"),
                    None => "the pinned wheel".into(),
                },
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
    /// For a generic project whose script directory lies inside a Python package (Airflow's
    /// `airflow/migrations`): that package's top-level name. Its modules, imported by the
    /// scripts, are interpreted from their source under `package_root`.
    pub package: Option<String>,
    /// The SQLAlchemy line whose DDL the scripts get: chosen by the user, else the one
    /// installed beside the package (`package_root/sqlalchemy`), else 2.1.
    pub sqlalchemy: SqlAlchemy,
    /// What the project's `env.py` configures, read when the project was opened (a generic
    /// project with one); `None`: read when a compiler is made.
    pub env: Option<crate::compile::EnvReading>,
}

impl Project {
    /// The renderer for `database`, spelling as this project's SQLAlchemy line does.
    pub fn dialect(&self, database: Database) -> std::sync::Arc<dyn crate::dialect::Dialect> {
        database.dialect_for(self.sqlalchemy)
    }
}

/// How to find a project's scripts.
#[derive(Debug, Clone, Default)]
pub struct Locator {
    /// `--scripts`: overrides every other source.
    pub scripts: Option<PathBuf>,
    /// `--version-location`: for a generic project, the folders its revisions are read from,
    /// instead of the ones its `alembic.ini` names (or `versions/`).
    pub version_locations: Vec<PathBuf>,
    /// Where fetched wheels are kept; defaults to `$MLFLOW_MIGRATE_CACHE`, then
    /// `$XDG_CACHE_HOME/alembic-engine`, then `~/.cache/alembic-engine`.
    pub cache_dir: Option<PathBuf>,
    /// Skip looking for an installed mlflow (tests use this to reach the wheel path).
    pub ignore_installed: bool,
    /// The simple index (PEP 503 or 691) the pinned wheel is fetched from; default
    /// `$PIP_INDEX_URL`, then PyPI.
    pub index_url: Option<String>,
    /// Never download: a cache without the pinned wheel is an error, and nothing is written.
    pub offline: bool,
    /// Told about downloads and repairs of the cache (a progress display).
    pub observer: FetchObserver,
    /// Read the built-in projects from this MLflow release's wheel instead of the pinned one
    /// (or an installed mlflow): a release newer than the pin is fetched from the index, its
    /// sha256 taken from the index's listing and recorded in the cache on first use, every
    /// later use checked against that record.
    pub release: Option<String>,
    /// The SQLAlchemy line to reproduce; by default the one installed beside the scripts'
    /// package, else 2.1.
    pub sqlalchemy: Option<SqlAlchemy>,
}

impl Locator {
    /// Open a project. `project` is `mlflow`, `mlflow-auth`, or `None` for a generic Alembic
    /// project at `--scripts`.
    pub fn open(&self, project: Option<&str>) -> Result<Project, ProjectError> {
        let pin = WheelPin::builtin();
        let Some(name) = project else {
            return self.open_generic();
        };
        let project_pin = pin
            .projects
            .get(name)
            .ok_or_else(|| ProjectError::UnknownProject(name.to_string()))?
            .clone();
        let (dir, origin) = if let Some(dir) = &self.scripts {
            (dir.clone(), ScriptOrigin::Explicit(dir.clone()))
        } else if let Some(version) = &self.release {
            let cache = self.release_cache(version)?;
            (
                cache.unpacked.join(&project_pin.scripts),
                ScriptOrigin::Wheel {
                    wheel: cache.wheel,
                    unpacked: cache.unpacked,
                    requested: Some(version.clone()),
                },
            )
        } else if let Some((site, version)) =
            (!self.ignore_installed).then(installed_mlflow).flatten()
        {
            let dir = site.join(&project_pin.scripts);
            (dir.clone(), ScriptOrigin::Installed { path: dir, version })
        } else {
            let cache = self.wheel_cache(&pin)?;
            (
                cache.unpacked.join(&project_pin.scripts),
                ScriptOrigin::Wheel {
                    wheel: cache.wheel,
                    unpacked: cache.unpacked,
                    requested: None,
                },
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
        let sqlalchemy = self.sqlalchemy_for(package_root.as_deref())?;
        Ok(Project {
            name: name.to_string(),
            version_table: project_pin.version_table,
            scripts,
            origin,
            initial_models,
            package_root,
            package: None,
            sqlalchemy,
            env: None,
        })
    }

    /// Open the generic project at `scripts`: its `env.py` is read first, for the version
    /// folders it sets (read instead of the ini's; folders given by the user win) and the
    /// version table its upgrades write.
    fn open_generic(&self) -> Result<Project, ProjectError> {
        let dir = self.scripts.clone().unwrap_or_else(|| PathBuf::from("."));
        let given = (!self.version_locations.is_empty()).then_some(&self.version_locations);
        let mut layout = ScriptDirectory::locate(&dir, given.map(Vec::as_slice))?;
        let (package_root, package) = enclosing_package(&layout.dir).unzip();
        let sqlalchemy = self.sqlalchemy_for(package_root.as_deref())?;
        let env_path = layout.dir.join("env.py");
        let env = env_path.is_file().then(|| {
            let dialect = Database::Sqlite.dialect_for(sqlalchemy);
            crate::compile::Compiler::with_facts(
                "alembic",
                package_root.clone(),
                package.as_deref(),
                dialect,
            )
            .read_env(&env_path, &layout)
        });
        let read_locations = env.as_ref().and_then(|e| e.version_locations.clone());
        if given.is_none() && read_locations.is_some() {
            layout.configured = read_locations;
        }
        let scripts = layout.load().map_err(|e| match (e, &env) {
            (ScriptError::NoRevisions { dir, locations }, Some(read))
                if given.is_none() && read.version_locations_unread.is_some() =>
            {
                ProjectError::EnvVersionLocations {
                    dir,
                    locations,
                    unread: read.version_locations_unread.clone().unwrap_or_default(),
                }
            }
            (e, _) => e.into(),
        })?;
        let mut project = Project {
            name: "alembic".into(),
            version_table: "alembic_version".into(),
            scripts,
            origin: ScriptOrigin::Explicit(dir),
            initial_models: None,
            package_root,
            package,
            sqlalchemy,
            env,
        };
        if let Some(table) = project.env.as_ref().and_then(|e| e.version_table.clone()) {
            project.version_table = table;
        }
        Ok(project)
    }

    /// The SQLAlchemy line to reproduce for a package under `package_root`: the chosen one,
    /// else the one installed beside it, else 2.1.
    fn sqlalchemy_for(&self, package_root: Option<&Path>) -> Result<SqlAlchemy, ProjectError> {
        if let Some(chosen) = self.sqlalchemy {
            return Ok(chosen);
        }
        match package_root.map(sqlalchemy_beside).transpose()?.flatten() {
            Some(found) => Ok(found),
            None => Ok(SqlAlchemy::default()),
        }
    }

    /// Fill the cache with the pinned wheel (or `release`'s) and its unpacked folders (what
    /// `mlflow-migrate fetch` does), whether or not an installed mlflow would be used.
    pub fn fetch(&self) -> Result<WheelCache, ProjectError> {
        match &self.release {
            Some(version) => self.release_cache(version),
            None => self.wheel_cache(&WheelPin::builtin()),
        }
    }

    /// Release `version`'s wheel, cached. The pinned release is the pinned wheel. Any other
    /// release's sha256 is recorded beside its wheel on first use (`<wheel>.sha256`, the hash
    /// the index lists, else the bytes' own when the index lists none) and required from then
    /// on, as a pin is.
    fn release_cache(&self, version: &str) -> Result<WheelCache, ProjectError> {
        let builtin = WheelPin::builtin();
        if version == builtin.version {
            return self.wheel_cache(&builtin);
        }
        let dir = self.cache_dir();
        let wheel = builtin.wheel_of(version);
        let record = dir.join(format!("{wheel}.sha256"));
        if let Some(pin) = recorded_pin(&builtin, version, &record)? {
            return self.wheel_cache(&pin);
        }
        if self.offline {
            return Err(ProjectError::Offline { wheel, cache: dir });
        }
        fs::create_dir_all(&dir).map_err(io(&dir))?;
        {
            let lock_path = dir.join(".lock");
            let lock = fs::File::create(&lock_path).map_err(io(&lock_path))?;
            fs4::fs_std::FileExt::lock_exclusive(&lock).map_err(io(&lock_path))?;
            // Another process may have recorded it while this one waited.
            if recorded_pin(&builtin, version, &record)?.is_none() {
                let first_use = WheelPin {
                    version: version.to_string(),
                    wheel: wheel.clone(),
                    sha256: String::new(),
                    ..builtin.clone()
                };
                let wheel_path = dir.join(&wheel);
                if wheel_path.exists() {
                    fs::remove_file(&wheel_path).map_err(io(&wheel_path))?;
                }
                let sha256 = self.download(&first_use, None, &dir)?;
                let part = dir.join(format!(".{wheel}.sha256.part-{}", std::process::id()));
                fs::write(&part, format!("{sha256}\n")).map_err(io(&part))?;
                fs::rename(&part, &record).map_err(io(&record))?;
            }
        }
        let pin =
            recorded_pin(&builtin, version, &record)?.expect("the sha256 was recorded just above");
        self.wheel_cache(&pin)
    }

    /// The cache folder: `cache_dir`, else `$MLFLOW_MIGRATE_CACHE`, `$XDG_CACHE_HOME/alembic-engine`,
    /// `~/.cache/alembic-engine`.
    pub fn cache_dir(&self) -> PathBuf {
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

    /// The pinned wheel and its unpacked folders, checked; fetched or repaired if needed.
    fn wheel_cache(&self, pin: &WheelPin) -> Result<WheelCache, ProjectError> {
        let cache = WheelCache::new(self.cache_dir(), pin);
        // A complete cache is used as it is: no lock, no write (read-only images work).
        if cache.check_wheel(pin).is_ok() && cache.check_unpacked(pin).is_ok() {
            return Ok(cache);
        }
        if self.offline && !cache.wheel.is_file() {
            return Err(ProjectError::Offline {
                wheel: pin.wheel.clone(),
                cache: cache.dir,
            });
        }
        fs::create_dir_all(&cache.dir).map_err(io(&cache.dir))?;
        let lock_path = cache.dir.join(".lock");
        let lock = fs::File::create(&lock_path).map_err(io(&lock_path))?;
        fs4::fs_std::FileExt::lock_exclusive(&lock).map_err(io(&lock_path))?;
        cache.remove_leftovers();

        // Checked again under the lock: another process may have just repaired it.
        match cache.check_wheel(pin) {
            Ok(()) => {}
            Err(CacheProblem::WheelMissing) if self.offline => {
                return Err(ProjectError::Offline {
                    wheel: pin.wheel.clone(),
                    cache: cache.dir,
                })
            }
            Err(CacheProblem::WheelHash { actual }) if self.offline => {
                return Err(ProjectError::WheelChecksum {
                    path: cache.wheel,
                    actual,
                    expected: pin.sha256.clone(),
                    pinned_by: pin.pinned_by(),
                })
            }
            Err(problem) => {
                if problem != CacheProblem::WheelMissing {
                    self.observer.emit(FetchEvent::Repairing {
                        path: cache.wheel.clone(),
                        reason: problem.to_string(),
                    });
                    fs::remove_file(&cache.wheel).map_err(io(&cache.wheel))?;
                }
                self.download(pin, Some(&pin.sha256), &cache.dir)?;
            }
        }
        if let Err(problem) = cache.check_unpacked(pin) {
            if cache.unpacked.exists() {
                self.observer.emit(FetchEvent::Repairing {
                    path: cache.unpacked.clone(),
                    reason: problem.to_string(),
                });
            }
            cache.unpack(pin)?;
        }
        Ok(cache)
    }

    /// Download `pin`'s wheel into `dir`: from the index, else with pip; checked against
    /// `sha256` when one is required. Returns the file's sha256.
    fn download(
        &self,
        pin: &WheelPin,
        sha256: Option<&str>,
        dir: &Path,
    ) -> Result<String, ProjectError> {
        let index = fetch::index_url(self.index_url.as_deref());
        let pinned_by = pin.pinned_by();
        let request = fetch::WheelRequest {
            package: &pin.package,
            file: &pin.wheel,
            sha256,
            pinned_by: &pinned_by,
            index: &index,
        };
        let http = match fetch::download_from_index(&request, dir, &self.observer) {
            Ok((_, actual)) => return Ok(actual),
            // A release no pin names that the reachable index does not list does not exist
            // there: pip, asking the same index, would not find it either.
            Err(e @ FetchError::NotListed { .. }) if sha256.is_none() => {
                return Err(ProjectError::Fetch {
                    wheel: pin.wheel.clone(),
                    source: Box::new(e),
                })
            }
            Err(e) if e.is_integrity() => {
                return Err(ProjectError::Fetch {
                    wheel: pin.wheel.clone(),
                    source: Box::new(e),
                })
            }
            Err(e) => e,
        };
        self.observer.emit(FetchEvent::PipFallback {
            reason: http.to_string(),
        });
        let path = fetch::download_with_pip(
            &pin.package,
            &pin.version,
            &pin.wheel,
            self.index_url.as_deref(),
            dir,
        )
        .map_err(|pip| ProjectError::Download {
            wheel: pin.wheel.clone(),
            index: fetch::redact(&index),
            http: Box::new(http),
            pip,
        })?;
        let actual = sha256_file(&path)?;
        if let Some(expected) = sha256.filter(|e| *e != actual) {
            let _ = fs::remove_file(&path);
            return Err(ProjectError::Fetch {
                wheel: pin.wheel.clone(),
                source: Box::new(FetchError::Hash {
                    url: "python3 -m pip download".into(),
                    actual,
                    expected: expected.to_string(),
                    pinned_by,
                }),
            });
        }
        Ok(actual)
    }
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
