//! Reading an Alembic script directory: `alembic.ini`, the version folders, and each revision
//! file's module variables (`revision`, `down_revision`, `branch_labels`, `depends_on`), docstring
//! and sha256.
//!
//! Files are discovered and ordered the way Alembic does (sorted names per folder, folders in
//! `version_locations` order, optional recursion), because that order is the tie-breaker of
//! Alembic's topological sort. Nothing here touches a database or evaluates Python beyond
//! literal module variables.

pub mod ast;
mod ini;
pub mod pyast;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use ast::{Expr, ExprKind, Module, Pos, StmtKind};
pub use ini::AlembicIni;

/// Errors reading a script directory. Each names the file and, where known, the line.
#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    #[error("{path}: not a directory (expected an Alembic script directory, a folder with alembic.ini, or an alembic.ini file)")]
    NotADirectory { path: PathBuf },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Ini {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{path}:{pos}: Python syntax error: {message}")]
    Syntax {
        path: PathBuf,
        pos: Pos,
        message: String,
    },
    #[error(
        "{path}: no module variable `revision`, and the file name is not a bare hex revision id"
    )]
    MissingRevision { path: PathBuf },
    #[error("{path}: no module variable `down_revision` (use `down_revision = None` for a base revision)")]
    MissingDownRevision { path: PathBuf },
    #[error("{path}:{pos}: `{name}` must be {expected}; found {found}")]
    BadVariable {
        path: PathBuf,
        pos: Pos,
        name: &'static str,
        expected: &'static str,
        found: String,
    },
    #[error("{path}: revision id '{id}' contains '{chars}', which Alembic does not allow in ids")]
    IllegalRevisionId {
        path: PathBuf,
        id: String,
        chars: String,
    },
    #[error("{}", no_revisions_text(dir, locations))]
    NoRevisions {
        dir: PathBuf,
        locations: Vec<PathBuf>,
    },
    #[error("revision id '{id}' is defined twice: in {first} and in {second}")]
    DuplicateRevision {
        id: String,
        first: PathBuf,
        second: PathBuf,
    },
}

/// A revision script: its header variables and its parsed module.
#[derive(Debug, Clone)]
pub struct Revision {
    pub id: String,
    /// `down_revision`: empty for a base, two or more for a merge.
    pub down_revisions: Vec<String>,
    /// `branch_labels` as written in this file (propagation is the graph's job).
    pub branch_labels: Vec<String>,
    /// `depends_on` as written: revision ids, prefixes or branch labels.
    pub depends_on: Vec<String>,
    /// The docstring, stripped (Alembic's `longdoc`).
    pub longdoc: String,
    pub path: PathBuf,
    /// Hex sha256 of the file's bytes: what recipes are pinned to.
    pub sha256: String,
    pub module: Arc<Module>,
}

impl Revision {
    /// A revision with no file behind it (for generated graphs, tests and benches).
    pub fn synthetic(id: &str, down: &[&str], branch_labels: &[&str], depends_on: &[&str]) -> Self {
        let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        Revision {
            id: id.to_string(),
            down_revisions: owned(down),
            branch_labels: owned(branch_labels),
            depends_on: owned(depends_on),
            longdoc: String::new(),
            path: PathBuf::new(),
            sha256: String::new(),
            module: Arc::new(Module {
                docstring: None,
                body: Vec::new(),
            }),
        }
    }

    /// The docstring's first paragraph, as `alembic history` shows it.
    pub fn doc(&self) -> &str {
        self.longdoc.split("\n\n").next().unwrap_or("")
    }
}

/// A script directory read from disk, revisions in Alembic's load order.
#[derive(Debug, Clone)]
pub struct ScriptDirectory {
    pub dir: PathBuf,
    pub version_locations: Vec<PathBuf>,
    pub revisions: Vec<Revision>,
}

/// Where a project's revisions are to be read from: its script directory and version folders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptLayout {
    /// The script directory (`env.py`, `script.py.mako`).
    pub dir: PathBuf,
    /// The version folders configured (Alembic's `ScriptDirectory.version_locations`), `None`
    /// when none are: then `dir/versions` alone.
    pub configured: Option<Vec<PathBuf>>,
    /// `recursive_version_locations`.
    pub recursive: bool,
}

impl ScriptLayout {
    pub fn new(dir: &Path, configured: Option<Vec<PathBuf>>, recursive: bool) -> Self {
        ScriptLayout {
            dir: dir.to_path_buf(),
            configured,
            recursive,
        }
    }

    /// The folders read: the configured ones, else `dir/versions`.
    pub fn locations(&self) -> Vec<PathBuf> {
        match &self.configured {
            Some(given) if !given.is_empty() => given.clone(),
            _ => vec![self.dir.join("versions")],
        }
    }

    /// Read the revisions.
    pub fn load(&self) -> Result<ScriptDirectory, ScriptError> {
        ScriptDirectory::load(&self.dir, &self.locations(), self.recursive)
    }
}

impl ScriptDirectory {
    /// Open `path`: an `alembic.ini` file, a folder holding one, or a bare script directory
    /// (with a `versions/` folder).
    pub fn open(path: &Path) -> Result<Self, ScriptError> {
        Self::open_with(path, None)
    }

    /// `open`, reading the revisions from `versions` instead of the version locations the
    /// ini names (or `versions/`) when it is given: for projects whose `env.py` sets them
    /// (Prefect keeps one chain per database).
    pub fn open_with(path: &Path, versions: Option<&[PathBuf]>) -> Result<Self, ScriptError> {
        Self::locate(path, versions)?.load()
    }

    pub fn from_ini(ini: &AlembicIni) -> Result<Self, ScriptError> {
        Self::layout_of_ini(ini, None)?.load()
    }

    /// Where `path`'s revisions are (see [`ScriptDirectory::open`]), before reading them:
    /// `versions`, when given, instead of the folders its `alembic.ini` names.
    pub fn locate(path: &Path, versions: Option<&[PathBuf]>) -> Result<ScriptLayout, ScriptError> {
        if path.is_file() {
            let ini = AlembicIni::read(path)?;
            return Self::layout_of_ini(&ini, versions);
        }
        if !path.is_dir() {
            return Err(ScriptError::NotADirectory {
                path: path.to_path_buf(),
            });
        }
        let ini_path = path.join("alembic.ini");
        if ini_path.is_file() {
            let ini = AlembicIni::read(&ini_path)?;
            return Self::layout_of_ini(&ini, versions);
        }
        Ok(ScriptLayout::new(
            path,
            versions.map(<[PathBuf]>::to_vec),
            false,
        ))
    }

    fn layout_of_ini(
        ini: &AlembicIni,
        versions: Option<&[PathBuf]>,
    ) -> Result<ScriptLayout, ScriptError> {
        let dir = ini.script_location()?;
        let dir = if dir.is_dir() {
            dir
        } else {
            // Alembic resolves a relative script_location against the working directory, and
            // some projects (MLflow's) ship an ini whose location only makes sense from their
            // source root. Try the working directory, then the ini's own folder if it holds
            // the scripts.
            let raw = ini.get("script_location")?.unwrap_or_default();
            let here = ini.path.parent().map(Path::to_path_buf).unwrap_or_default();
            if Path::new(&raw).is_dir() {
                PathBuf::from(raw)
            } else if here.join("versions").is_dir() {
                here
            } else {
                return Err(ScriptError::NotADirectory { path: dir });
            }
        };
        let configured = match versions {
            Some(given) => Some(given.to_vec()),
            None => ini.version_locations()?,
        };
        Ok(ScriptLayout::new(
            &dir,
            configured,
            ini.recursive_version_locations(),
        ))
    }

    /// Read every revision file of `locations` (missing folders are skipped, as Alembic does).
    pub fn load(dir: &Path, locations: &[PathBuf], recursive: bool) -> Result<Self, ScriptError> {
        let mut files = Vec::new();
        let mut seen = HashSet::new();
        for location in locations.iter().filter(|l| l.exists()) {
            let mut found = Vec::new();
            list_py_files(location, recursive, &mut found)?;
            for file in found {
                let real = file.canonicalize().unwrap_or_else(|_| file.clone());
                if seen.insert(real) {
                    files.push(file);
                }
            }
        }
        let mut revisions: Vec<Revision> = Vec::with_capacity(files.len());
        let mut by_id = std::collections::HashMap::new();
        for file in files {
            let revision = read_revision(&file)?;
            if let Some(&first) = by_id.get(&revision.id) {
                let first: &Revision = &revisions[first];
                return Err(ScriptError::DuplicateRevision {
                    id: revision.id.clone(),
                    first: first.path.clone(),
                    second: revision.path.clone(),
                });
            }
            by_id.insert(revision.id.clone(), revisions.len());
            revisions.push(revision);
        }
        if revisions.is_empty() {
            return Err(ScriptError::NoRevisions {
                dir: dir.to_path_buf(),
                locations: locations.to_vec(),
            });
        }
        Ok(ScriptDirectory {
            dir: dir.to_path_buf(),
            version_locations: locations.to_vec(),
            revisions,
        })
    }
}

/// Why a folder gave no revisions: it is not a script directory at all, or its version
/// folders are missing or hold no revision files.
fn no_revisions_text(dir: &Path, locations: &[PathBuf]) -> String {
    let folders = locations
        .iter()
        .map(|l| l.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let expected = "expected an alembic.ini, a folder holding one, or an Alembic script \
                    directory (a folder with env.py and a versions/ folder of revision files)";
    if !dir.join("env.py").is_file() && !locations.iter().any(|l| l.is_dir()) {
        format!(
            "{}: not an Alembic script directory (no env.py, no {folders}); {expected}",
            dir.display()
        )
    } else if !locations.iter().any(|l| l.is_dir()) {
        format!(
            "{}: the version folder {folders} does not exist, so there are no revisions; {expected}",
            dir.display()
        )
    } else {
        format!(
            "{}: no revision scripts in {folders} (Python files defining `revision` and \
             `down_revision`); {expected}",
            dir.display()
        )
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ScriptError + '_ {
    move |source| ScriptError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Alembic's candidate files: `*.py`, not `__init__*`, not editor lock files `.#*`; names
/// sorted per folder; sub-folders (sorted, depth first) only when recursive.
fn list_py_files(dir: &Path, recursive: bool, out: &mut Vec<PathBuf>) -> Result<(), ScriptError> {
    let mut files = Vec::new();
    let mut dirs = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io_err(dir))? {
        let entry = entry.map_err(io_err(dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if path.is_dir() {
            if !name.ends_with("__pycache__") {
                dirs.push(name);
            }
        } else if name.ends_with(".py") && !name.starts_with("__init__") && !name.starts_with(".#")
        {
            files.push(name);
        }
    }
    files.sort();
    out.extend(files.into_iter().map(|f| dir.join(f)));
    if recursive {
        dirs.sort();
        for d in dirs {
            list_py_files(&dir.join(d), recursive, out)?;
        }
    }
    Ok(())
}

/// Parse one revision file and read its header variables.
pub fn read_revision(path: &Path) -> Result<Revision, ScriptError> {
    let bytes = std::fs::read(path).map_err(io_err(path))?;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let source = String::from_utf8_lossy(&bytes);
    parse_revision(path, &source, sha256)
}

/// Build a revision from source text (the fuzz target and tests enter here).
pub fn parse_revision(path: &Path, source: &str, sha256: String) -> Result<Revision, ScriptError> {
    let module = pyast::parse_module(source).map_err(|e| ScriptError::Syntax {
        path: path.to_path_buf(),
        pos: e.pos,
        message: e.message,
    })?;
    let vars = ModuleVars::collect(&module);
    let id = match vars.get("revision") {
        Some(expr) => expect_str(path, "revision", expr)?,
        None => {
            legacy_revision_from_filename(path).ok_or_else(|| ScriptError::MissingRevision {
                path: path.to_path_buf(),
            })?
        }
    };
    let illegal: String = ['@', '-', '+', ':']
        .into_iter()
        .filter(|c| id.contains(*c))
        .map(String::from)
        .collect::<Vec<_>>()
        .join(", ");
    if !illegal.is_empty() {
        return Err(ScriptError::IllegalRevisionId {
            path: path.to_path_buf(),
            id,
            chars: illegal,
        });
    }
    let down_revisions = match vars.get("down_revision") {
        Some(expr) => expect_str_list(path, "down_revision", expr)?,
        None => {
            return Err(ScriptError::MissingDownRevision {
                path: path.to_path_buf(),
            })
        }
    };
    let branch_labels = match vars.get("branch_labels") {
        Some(expr) => expect_str_list(path, "branch_labels", expr)?,
        None => Vec::new(),
    };
    let depends_on = match vars.get("depends_on") {
        Some(expr) => expect_str_list(path, "depends_on", expr)?,
        None => Vec::new(),
    };
    let longdoc = module
        .docstring
        .as_deref()
        .map(|d| d.trim().to_string())
        .unwrap_or_default();
    Ok(Revision {
        id,
        down_revisions,
        branch_labels,
        depends_on,
        longdoc,
        path: path.to_path_buf(),
        sha256,
        module: Arc::new(module),
    })
}

/// Old Alembic files named `<hex>.py` with no `revision` variable.
fn legacy_revision_from_filename(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let stem = name.strip_suffix(".py")?;
    (!stem.is_empty()
        && stem
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
    .then(|| stem.to_string())
}

/// The last value assigned at module level to each simple name (what `module.<name>` is after
/// import), following plain name-to-name references to earlier assignments.
struct ModuleVars<'m> {
    assigned: Vec<(&'m str, &'m Expr)>,
}

impl<'m> ModuleVars<'m> {
    fn collect(module: &'m Module) -> Self {
        let mut assigned = Vec::new();
        for stmt in &module.body {
            match &stmt.kind {
                StmtKind::Assign { targets, value } => {
                    for target in targets {
                        if let ExprKind::Name(name) = &target.kind {
                            assigned.push((name.as_str(), value));
                        }
                    }
                }
                StmtKind::AnnAssign {
                    target,
                    value: Some(value),
                } => {
                    if let ExprKind::Name(name) = &target.kind {
                        assigned.push((name.as_str(), value));
                    }
                }
                _ => {}
            }
        }
        ModuleVars { assigned }
    }

    fn get(&self, name: &str) -> Option<&'m Expr> {
        let mut expr = self.assigned.iter().rev().find(|(n, _)| *n == name)?.1;
        // `down_revision = REV` where REV was assigned above: follow a few hops.
        for _ in 0..8 {
            match &expr.kind {
                ExprKind::Name(other) if other != name => {
                    match self.assigned.iter().rev().find(|(n, _)| n == other) {
                        Some((_, e)) => expr = e,
                        None => break,
                    }
                }
                _ => break,
            }
        }
        Some(expr)
    }
}

fn describe(expr: &Expr) -> String {
    match &expr.kind {
        ExprKind::Name(n) => format!("the name `{n}`"),
        ExprKind::Call { .. } => "a function call".into(),
        ExprKind::Int(i) => format!("the number {i}"),
        ExprKind::FString(_) => "an f-string".into(),
        ExprKind::BinOp { .. } => "an expression".into(),
        _ => "a value of another kind".into(),
    }
}

fn expect_str(path: &Path, name: &'static str, expr: &Expr) -> Result<String, ScriptError> {
    match &expr.kind {
        ExprKind::Str(s) => Ok(s.clone()),
        _ => Err(ScriptError::BadVariable {
            path: path.to_path_buf(),
            pos: expr.pos,
            name,
            expected: "a string literal",
            found: describe(expr),
        }),
    }
}

/// None, a string, or a tuple/list of strings (Alembic's `util.to_tuple`).
fn expect_str_list(
    path: &Path,
    name: &'static str,
    expr: &Expr,
) -> Result<Vec<String>, ScriptError> {
    let bad = |e: &Expr| ScriptError::BadVariable {
        path: path.to_path_buf(),
        pos: e.pos,
        name,
        expected: "None, a string, or a tuple or list of strings",
        found: describe(e),
    };
    match &expr.kind {
        ExprKind::None => Ok(Vec::new()),
        ExprKind::Str(s) if s.is_empty() => Ok(Vec::new()),
        ExprKind::Str(s) => Ok(vec![s.clone()]),
        ExprKind::Tuple(items) | ExprKind::List(items) => items
            .iter()
            .map(|item| match &item.kind {
                ExprKind::Str(s) => Ok(s.clone()),
                _ => Err(bad(item)),
            })
            .collect(),
        _ => Err(bad(expr)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(src: &str) -> Result<Revision, ScriptError> {
        parse_revision(Path::new("x/1a2b_test.py"), src, String::new())
    }

    #[test]
    fn reads_header_variables_not_the_docstring() {
        let r = parse(
            "\"\"\"merge things\n\nRevision ID: zzz\nRevises: yyy\n\"\"\"\n\
             revision: str = 'abc123'\ndown_revision = ('p1', 'p2')\nbranch_labels = 'lbl'\n\
             depends_on = None\n",
        )
        .unwrap();
        assert_eq!(r.id, "abc123");
        assert_eq!(r.down_revisions, vec!["p1", "p2"]);
        assert_eq!(r.branch_labels, vec!["lbl"]);
        assert!(r.depends_on.is_empty());
        assert_eq!(r.doc(), "merge things");
    }

    #[test]
    fn missing_revision_is_an_error_naming_the_file() {
        let err = parse("down_revision = None\n").unwrap_err();
        assert!(matches!(err, ScriptError::MissingRevision { .. }), "{err}");
        assert!(err.to_string().contains("x/1a2b_test.py"));
    }

    #[test]
    fn legacy_hex_file_name_supplies_the_revision() {
        let r = parse_revision(
            Path::new("v/ab12.py"),
            "down_revision = None\n",
            String::new(),
        );
        assert_eq!(r.unwrap().id, "ab12");
    }

    #[test]
    fn computed_down_revision_is_refused_with_its_line() {
        let err = parse("revision = 'a'\n\ndown_revision = make()\n").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains(":3:"), "{msg}");
        assert!(msg.contains("function call"), "{msg}");
    }

    #[test]
    fn illegal_characters_in_ids_are_refused() {
        let err = parse("revision = 'a-b'\ndown_revision = None\n").unwrap_err();
        assert!(matches!(err, ScriptError::IllegalRevisionId { .. }));
    }
}
