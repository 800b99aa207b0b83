//! A project's `env.py`, read for what Alembic takes from it into every operation: the naming
//! convention of the `target_metadata` it configures, the version table, and the version
//! folders it sets on `context.script`. The file is interpreted as Alembic runs
//! it offline (`alembic upgrade --sql`): its top-level statements each on their own (one that
//! fails, say a logging setup or a settings import the engine does not model, leaves its
//! names as placeholders), with `context.configure(...)` recorded. What it does with a live
//! connection is never needed.

use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::interp::{Interpreter, Namespace, Value};
use crate::schema::SchemaModel;

use super::host::{self, EnvRecord};
use super::sa::table::MetaDataObj;
use super::Compiler;

/// What a project's `env.py` configures, as far as it could be read.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct EnvReading {
    /// The naming convention of its `target_metadata` (key → template); empty when it sets
    /// none, configures no metadata, or a sequence of them (Alembic names nothing then).
    pub naming_convention: Vec<(String, String)>,
    /// Where the metadata was found: `configure` (what `context.configure` was given) or
    /// `global` (the module's `target_metadata`, when the file stops before configuring).
    pub source: &'static str,
    /// Why its metadata could not be read, with the place that failed.
    pub unread: Option<String>,
    /// Where the convention used instead is declared (`revisions/<package>/facts.toml`), when
    /// it could not be read.
    pub declared_in: Option<String>,
    /// The version table given to `context.configure` (`version_table=`), when a name.
    pub version_table: Option<String>,
    /// The folders it assigns to `context.script.version_locations` (made absolute against
    /// the working directory, as Alembic does), read instead of the configured ones.
    pub version_locations: Option<Vec<PathBuf>>,
    /// Where it assigns them in a way that could not be followed (`env.py:LINE: why`).
    pub version_locations_unread: Option<String>,
}

impl Compiler {
    /// Read `env.py` at `path` (see the module documentation) of a script directory `layout`.
    pub fn read_env(&self, path: &Path, layout: &crate::script::ScriptLayout) -> EnvReading {
        let unread = |why: String| EnvReading {
            unread: Some(why),
            ..EnvReading::default()
        };
        let source = match std::fs::read_to_string(path) {
            Ok(s) => s,
            Err(e) => return unread(format!("{}: {e}", path.display())),
        };
        let module = match crate::script::pyast::parse_module(&source) {
            Ok(m) => m,
            Err(e) => return unread(format!("{}:{}: {}", path.display(), e.pos, e.message)),
        };
        let session = self.session(SchemaModel::default());
        session.0.borrow_mut().offline = true;
        let record = Rc::new(std::cell::RefCell::new(EnvRecord {
            script_dir: layout.dir.display().to_string(),
            version_locations: match &layout.configured {
                Some(folders) => Value::list(
                    folders
                        .iter()
                        .map(|f| Value::string(f.display().to_string()))
                        .collect(),
                ),
                None => Value::None,
            },
            ..EnvRecord::default()
        }));
        let modules = host::ModuleCache::default();
        let mut interp = Interpreter::new(Rc::new(host::CompileHost {
            session: session.clone(),
            facts: self.facts.clone(),
            package_root: self.package_root.clone(),
            parsed: self.parsed.clone(),
            original: None,
            modules: modules.clone(),
            replacements: Default::default(),
            env: Some(record.clone()),
        }));
        let globals = Namespace::new();
        interp.run_package_module("env", &module, path, &globals);
        let configured = record.borrow_mut().configured.take();
        let (version_locations, version_locations_unread) = {
            let record = record.borrow();
            match record.locations_set {
                true => match folders(&record.version_locations) {
                    Ok(found) => (found, None),
                    Err(why) => (None, Some(format!("{}: {why}", path.display()))),
                },
                false => (None, assignment_line(&source).map(|line| {
                    format!(
                        "{}:{line}: assigns context.script.version_locations in code the engine could not follow",
                        path.display()
                    )
                })),
            }
        };
        let keyword = |name: &str| {
            configured
                .as_ref()
                .and_then(|kw| kw.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
        };
        let version_table = keyword("version_table").and_then(|v| v.as_str().map(str::to_string));
        let (metadata, source) = match &configured {
            Some(_) => (keyword("target_metadata"), "configure"),
            None => (globals.get("target_metadata"), "global"),
        };
        let reading = match metadata {
            None | Some(Value::None) | Some(Value::List(_)) | Some(Value::Tuple(_)) => EnvReading {
                source,
                ..EnvReading::default()
            },
            Some(v) => match v.downcast_native::<MetaDataObj>() {
                Some(md) => EnvReading {
                    naming_convention: md.convention.clone(),
                    source,
                    ..EnvReading::default()
                },
                None => EnvReading {
                    source,
                    ..unread(format!(
                        "{}: its target_metadata is {}, not a MetaData the engine can read",
                        path.display(),
                        v.type_name()
                    ))
                },
            },
        };
        let reading = EnvReading {
            version_table,
            version_locations,
            version_locations_unread,
            ..reading
        };
        drop(interp);
        // Free the cycles between the file's functions and their globals.
        for name in globals.names() {
            globals.remove(&name);
        }
        for v in std::mem::take(&mut *modules.borrow_mut())
            .into_values()
            .flatten()
        {
            if let Value::Module(m) = v {
                for name in m.namespace.names() {
                    m.namespace.remove(&name);
                }
            }
        }
        crate::interp::sweep_scopes();
        reading
    }
}

/// The folders a value assigned to `context.script.version_locations` names (`None` for
/// `None` or an empty list: then Alembic reads `versions/`), made absolute.
fn folders(value: &Value) -> Result<Option<Vec<PathBuf>>, String> {
    let items = match value {
        Value::None => return Ok(None),
        Value::List(l) => l.borrow().clone(),
        Value::Tuple(t) => t.to_vec(),
        other => {
            return Err(format!(
                "context.script.version_locations is set to a {}, not a list",
                other.type_name()
            ))
        }
    };
    let mut found = Vec::with_capacity(items.len());
    for item in &items {
        let text = match item.downcast_native::<super::host::PathObj>() {
            Some(p) => p.text().to_string(),
            None => match item.as_str() {
                Some(s) => s.to_string(),
                None => return Err(format!("a version location is a {}", item.type_name())),
            },
        };
        if !text.starts_with('/') && text.contains(':') {
            return Err(format!(
                "the version location `{text}` is a package resource, which is not followed"
            ));
        }
        found.push(std::path::absolute(&text).map_err(|e| format!("{text}: {e}"))?);
    }
    Ok((!found.is_empty()).then_some(found))
}

/// The line of an assignment to `context.script.version_locations` (or `script.version_locations`
/// through an alias), if the file has one.
fn assignment_line(source: &str) -> Option<usize> {
    source
        .lines()
        .position(|l| {
            let l = l.trim_start();
            !l.starts_with('#')
                && l.split_once('=').is_some_and(|(target, value)| {
                    target.trim_end().ends_with("script.version_locations")
                        && !value.starts_with('=')
                })
        })
        .map(|i| i + 1)
}
