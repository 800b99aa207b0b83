//! A project's `env.py`, read for what Alembic takes from it into every operation: the naming
//! convention of the `target_metadata` it configures. The file is interpreted as Alembic runs
//! it offline (`alembic upgrade --sql`): its top-level statements each on their own (one that
//! fails, say a logging setup or a settings import the engine does not model, leaves its
//! names as placeholders), with `context.configure(...)` recorded. What it does with a live
//! connection is never needed.

use std::path::Path;
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
}

impl Compiler {
    /// Read `env.py` at `path` (see the module documentation).
    pub fn read_env(&self, path: &Path) -> EnvReading {
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
        let record = Rc::new(std::cell::RefCell::new(EnvRecord::default()));
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
