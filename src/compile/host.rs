//! What `import` finds while a revision runs: the emulated `alembic` and `sqlalchemy`, a few
//! standard-library modules reduced to what migrations use, and the application facts of the
//! project (`revisions/<project>/facts.toml`: model table names, enum strings, constants).
//! Everything else is an unmodeled import: importing it works, using it fails with a position.

use std::rc::Rc;

use crate::interp::{Host, Value};

use super::inspect::Inspector;
use super::op::Operations;
use super::sa;
use super::session::Shared;

/// The Alembic version scripts see as `alembic.__version__` (the one we reproduce).
pub const ALEMBIC_VERSION: &str = "1.20.1";

mod callables;
mod engine;
mod env;
pub(crate) use engine::{normalized as normalized_sql, AnsweredRows};
pub use env::{EnvRecord, SharedEnv};
mod facts;
mod libraries;
mod paths;
pub(crate) use paths::PathObj;

pub use facts::Facts;
use libraries::{lazy_object_proxy_module, logging_module, packaging_version_module, time_module};

/// The import resolver of a compile session.
#[derive(Clone)]
pub struct CompileHost {
    pub session: Shared,
    pub facts: Facts,
    /// Where modules named in `facts.interpret` are read from.
    pub package_root: Option<std::path::PathBuf>,
    /// The revision script a recipe replaces (`alembic_engine.original`).
    pub original: Option<Rc<crate::script::Revision>>,
    /// Modules imported so far in this step (Python's `sys.modules`), shared with the hosts
    /// made for interpreted modules: a module runs once however often it is imported.
    pub modules: ModuleCache,
    /// Nested functions of the original script a recipe replaces: (script path, qualname).
    pub replacements: Replacements,
    /// The application's modules as parsed, shared by every step the compiler compiles.
    pub parsed: ParseCache,
    /// Set while `env.py` runs: what it configures is recorded there, and `alembic.context`
    /// has the members an environment script uses.
    pub env: Option<SharedEnv>,
}

/// Parsed source files of the application's package, by path: a module is interpreted afresh
/// in each step (its values belong to that step's session) but parsed once.
pub type ParseCache = std::sync::Arc<
    std::sync::Mutex<
        std::collections::HashMap<std::path::PathBuf, std::sync::Arc<crate::script::ast::Module>>,
    >,
>;

pub type Replacements =
    Rc<std::cell::RefCell<std::collections::HashMap<(std::path::PathBuf, String), Value>>>;

pub type ModuleCache = Rc<std::cell::RefCell<std::collections::HashMap<String, Option<Value>>>>;

impl CompileHost {
    /// Run a module's source with this host and return its globals as a module value.
    fn interpret(
        &self,
        name: &str,
        module: &crate::script::ast::Module,
        path: &std::path::Path,
    ) -> Option<Value> {
        let host = Rc::new(CompileHost {
            original: None,
            ..self.clone()
        });
        let mut interp = crate::interp::Interpreter::new(host);
        let namespace = interp.run_module(module, path).ok()?;
        // The module is its globals themselves (not a copy), so that emptying the step's
        // modules afterwards breaks the cycles between its functions and their globals.
        Some(Value::Module(Rc::new(crate::interp::ModuleObj {
            name: name.to_string(),
            namespace,
        })))
    }

    fn package_module(&self, module: &str) -> Option<Value> {
        let strict = self.facts.interpret.modules.iter().any(|m| m == module);
        let top = module.split('.').next().unwrap_or_default();
        // What the facts declare about a module wins over interpreting it.
        let lenient = self.facts.interpret.packages.iter().any(|p| p == top)
            && !self.facts.modules.contains_key(module);
        if !strict && !lenient {
            return None;
        }
        let base = self.package_root.as_ref()?.join(module.replace('.', "/"));
        let path = [base.with_extension("py"), base.join("__init__.py")]
            .into_iter()
            .find(|p| p.is_file())?;
        let cached = self.parsed.lock().ok()?.get(&path).cloned();
        let parsed = match cached {
            Some(parsed) => parsed,
            None => {
                let source = std::fs::read_to_string(&path).ok()?;
                let mut parsed = crate::script::pyast::parse_module(&source).ok()?;
                if let Some(replacement) = self.facts.helpers.get(module) {
                    parsed = facts::with_helpers(parsed, &source, replacement);
                }
                let parsed = std::sync::Arc::new(parsed);
                self.parsed
                    .lock()
                    .ok()?
                    .insert(path.clone(), parsed.clone());
                parsed
            }
        };
        if strict {
            return self.interpret(module, &parsed, &path);
        }
        let host = Rc::new(CompileHost {
            original: None,
            ..self.clone()
        });
        let namespace = crate::interp::Namespace::new();
        let value = Value::Module(Rc::new(crate::interp::ModuleObj {
            name: module.to_string(),
            namespace: namespace.clone(),
        }));
        self.modules
            .borrow_mut()
            .insert(module.to_string(), Some(value.clone()));
        crate::interp::Interpreter::new(host)
            .run_package_module(module, &parsed, &path, &namespace);
        Some(value)
    }
}

impl Host for CompileHost {
    fn nested_replacement(&self, path: &std::path::Path, qualname: &str) -> Option<Value> {
        self.replacements
            .borrow()
            .get(&(path.to_path_buf(), qualname.to_string()))
            .cloned()
    }

    fn dialect(&self) -> Option<Value> {
        Some(self.session.dialect_value())
    }

    fn effects(&self) -> usize {
        self.session.0.borrow().emitted.len()
    }

    fn import(&self, module: &str) -> Option<Value> {
        if let Some(v) = self.modules.borrow().get(module) {
            return v.clone();
        }
        let v = self.import_uncached(module);
        self.modules
            .borrow_mut()
            .insert(module.to_string(), v.clone());
        v
    }
}

impl CompileHost {
    fn import_uncached(&self, module: &str) -> Option<Value> {
        match module {
            "alembic_engine.original" => {
                let rev = self.original.clone()?;
                self.interpret(module, &rev.module, &rev.path)
            }
            "alembic_engine" => self.engine_module(),
            _ => self
                .package_module(module)
                .or_else(|| self.fact_module(module))
                .or_else(|| self.library_module(module)),
        }
    }

    /// The `alembic_engine` module recipes import, or `None` outside a recipe.
    fn engine_module(&self) -> Option<Value> {
        let rev = self.original.clone()?;
        Some(engine::module(
            rev,
            self.replacements.clone(),
            self.session.clone(),
        ))
    }

    /// The emulated libraries: `sqlalchemy` (its inspector answered from this session's
    /// model), `alembic` and the reduced standard-library modules; `None` for anything else.
    fn library_module(&self, module: &str) -> Option<Value> {
        if module == "sqlalchemy" || module.starts_with("sqlalchemy.") {
            let session = self.session.clone();
            let hooks = sa::Hooks {
                inspect: Some(Rc::new(move |_, _| {
                    Ok(Value::native(Inspector {
                        session: session.clone(),
                    }))
                })),
            };
            return sa::import_with(module, &hooks);
        }
        let op = || {
            Value::native(Operations {
                session: self.session.clone(),
                batch: None,
            })
        };
        match module {
            "alembic" => Some(Value::module(
                "alembic",
                [
                    ("op".to_string(), op()),
                    ("context".to_string(), self.context_module()),
                    ("__version__".to_string(), Value::str(ALEMBIC_VERSION)),
                ],
            )),
            "alembic.op" => Some(op()),
            "alembic.context" => Some(self.context_module()),
            "time" => Some(time_module()),
            // For `env.py` (and what it imports) only: it names its version folders with them.
            // A revision reading the environment stays refused where it does.
            "os" if self.env.is_some() => Some(paths::os_module()),
            "os.path" if self.env.is_some() => Some(paths::os_path_module()),
            "pathlib" if self.env.is_some() => Some(paths::pathlib_module()),
            // Names Python-side code reaches for (type parameters, client-side defaults); any
            // use beyond naming them fails.
            "uuid" => Some(libraries::named_placeholders(
                "uuid",
                &["UUID", "uuid4", "uuid1"],
            )),
            "datetime" => Some(libraries::datetime_module()),
            "pendulum" => Some(libraries::pendulum_module()),
            "contextlib" => Some(callables::contextlib_module()),
            "functools" => Some(callables::functools_module()),
            "importlib" => Some(libraries::importlib_module()),
            "textwrap" => Some(libraries::textwrap_module()),
            "structlog" => Some(libraries::structlog_module()),
            "typing" | "typing_extensions" => Some(libraries::typing_module(module)),
            "logging" => Some(logging_module()),
            "packaging.version" => Some(packaging_version_module()),
            "lazy_object_proxy" => Some(lazy_object_proxy_module()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::facts::PACKAGE_FACTS;
    use super::*;

    #[test]
    fn mlflow_facts_parse() {
        let f = Facts::mlflow();
        assert_eq!(
            f.modules["mlflow.store.tracking.dbmodels.models"].models["SqlRun"],
            "runs"
        );
        assert_eq!(
            f.modules["mlflow.exceptions"].exceptions,
            ["MlflowException"]
        );
    }

    #[test]
    fn a_helper_replacement_runs_after_the_module_it_pins_and_only_that_one() {
        use sha2::Digest;
        let module = "def helper():\n    return 'procedure'\n";
        let sha = format!("{:x}", sha2::Sha256::digest(module.as_bytes()));
        let replacement =
            format!("module_sha256 = \"{sha}\"\n\ndef helper():\n    return 'inspector'\n");
        let parsed = crate::script::pyast::parse_module(module).unwrap();
        let pinned = super::facts::with_helpers(parsed.clone(), module, &replacement);
        assert_eq!(
            pinned.body.len(),
            3,
            "the module's def, then the pin and the replacement"
        );
        let edited = module.replace("procedure", "procedure v2");
        let other = crate::script::pyast::parse_module(&edited).unwrap();
        let unpinned = super::facts::with_helpers(other, &edited, &replacement);
        assert_eq!(
            unpinned.body.len(),
            1,
            "another version keeps its own helper"
        );
        let airflow = Facts::for_package("airflow").unwrap();
        assert!(airflow.helpers.contains_key("airflow.migrations.utils"));
    }

    #[test]
    fn every_shipped_package_facts_file_parses() {
        for (package, _) in PACKAGE_FACTS {
            let facts = Facts::for_package(package).unwrap();
            assert!(!facts.modules.is_empty(), "{package}");
        }
        assert!(Facts::for_package("no_such_package").is_none());
    }

    /// Compile `body` (the lines of `upgrade()`) for SQLite with `facts`: the SQL, or the error.
    fn compile_with(facts: &str, body: &str) -> std::result::Result<Vec<String>, String> {
        let source = format!(
            "from alembic import op\nimport sqlalchemy as sa\nfrom app.configuration import conf\n\n\
             revision = 'abc123'\ndown_revision = None\n\ndef upgrade():\n{body}\n\n\
             def downgrade():\n    pass\n"
        );
        let rev = crate::script::parse_revision(
            std::path::Path::new("versions/abc123_test.py"),
            &source,
            String::new(),
        )
        .map_err(|e| e.to_string())?;
        let compiler = super::super::Compiler::new(
            std::sync::Arc::new(crate::dialect::sqlite::Sqlite::default()),
            Facts::parse(facts).unwrap(),
        );
        let (step, _) = compiler
            .compile_step(
                &rev,
                crate::graph::Direction::Up,
                crate::schema::SchemaModel::default(),
            )
            .map_err(|e| e.to_string())?;
        Ok(step.statements().map(str::to_string).collect())
    }

    #[test]
    fn configuration_facts_answer_get_getint_getboolean_with_fallbacks_and_the_dialect() {
        let facts = r#"
            [modules."app.configuration".configs.conf]
            "Database.Batch_Size" = "500"
            "database.conn" = "{dialect}:///x.db"
            "scheduler.flag" = "True"
        "#;
        let body = "    n = conf.getint('database', 'batch_size')
    scheme = conf.get('DATABASE', 'conn', fallback='').split(':')[0]
    missing = conf.get('x', 'y', fallback='dflt')
    flag = conf.getboolean('scheduler', 'flag')
    op.create_table('t_%s_%s_%s_%s' % (n + 1, scheme, missing, flag), sa.Column('id', sa.Integer, primary_key=True))";
        let sql = compile_with(facts, body).unwrap();
        assert!(
            sql.iter()
                .any(|s| s.starts_with("CREATE TABLE \"t_501_sqlite_dflt_True\" (")),
            "{sql:?}"
        );
        let err = compile_with(facts, "    conf.get('core', 'unknown')").unwrap_err();
        assert!(
            err.contains("app.configuration.conf[core] unknown")
                && err.contains("no fact gives this setting's value (get)")
                && err.contains("abc123_test.py:9:5:"),
            "{err}"
        );
    }

    #[test]
    fn the_current_utc_time_is_the_databases_clock_and_constants_compile_for_the_dialect() {
        let body = "    from datetime import datetime, timezone
    op.create_table('t', sa.Column('id', sa.Integer, primary_key=True), sa.Column('at', sa.DateTime))
    t = sa.table('t', sa.column('id', sa.Integer), sa.column('at', sa.DateTime))
    op.bulk_insert(t, [{'id': 1, 'at': datetime.now(tz=timezone.utc)}, {'id': 2, 'at': datetime.utcnow()}])
    op.execute(sa.text(f'UPDATE t SET id = id WHERE {sa.false().compile(op.get_bind())} = 0'))";
        let sql = compile_with("", body).unwrap();
        let now = "strftime('%Y-%m-%d %H:%M:%f000', 'now')";
        assert_eq!(
            sql.iter()
                .filter(|s| s.ends_with(&format!(", {now})")))
                .count(),
            2,
            "{sql:?}"
        );
        assert!(
            sql.iter().any(|s| s == "UPDATE t SET id = id WHERE 0 = 0"),
            "{sql:?}"
        );
        let err =
            compile_with("", "    from datetime import datetime\n    datetime.now()").unwrap_err();
        assert!(
            err.contains("without `timezone.utc` (the local time of the Python process)"),
            "{err}"
        );
    }

    #[test]
    fn suppress_ends_a_block_quietly_on_the_listed_exceptions_only() {
        let body = "    from contextlib import suppress
    with suppress(sa.exc.DatabaseError):
        raise sa.exc.OperationalError('gone')
    with suppress(KeyError, ValueError):
        {}['k']
    op.create_table('after_suppress', sa.Column('id', sa.Integer, primary_key=True))
    with suppress(sa.exc.IntegrityError):
        raise sa.exc.OperationalError('not listed')";
        let err = compile_with("", body).unwrap_err();
        assert!(
            err.ends_with("16:9: uncaught OperationalError: not listed"),
            "{err}"
        );
        let sql = compile_with("", &body[..body.rfind("    with").unwrap()]).unwrap();
        assert!(sql[0].starts_with("CREATE TABLE after_suppress"), "{sql:?}");
    }

    #[test]
    fn contextmanager_runs_the_with_body_at_the_generators_yield() {
        // Expected order: CPython 3.11 running the same code with `op.execute` printing.
        let body = "    op.create_table('t', sa.Column('id', sa.Integer, primary_key=True))
    from contextlib import contextmanager
    @contextmanager
    def step(n):
        op.execute(f'UPDATE t SET id = {n}')
        try:
            yield n + 1
        except KeyError:
            op.execute('UPDATE t SET id = 100')
        finally:
            op.execute(f'UPDATE t SET id = {n + 2}')
    with step(1) as two:
        op.execute(f'UPDATE t SET id = {two}')
    with step(10):
        {}['k']
    def early():
        with step(20), step(30) as inner:
            return inner * 10
        op.execute('UPDATE t SET id = 99')
    op.execute(f'UPDATE t SET id = {early()}')
    @contextmanager
    def never():
        if False:
            yield
    try:
        with never():
            pass
    except RuntimeError as e:
        assert str(e) == \"generator didn't yield\"
        op.execute('UPDATE t SET id = 0')";
        let sql = compile_with("", body).unwrap();
        let ids: Vec<&str> = sql[1..]
            .iter()
            .map(|s| s.strip_prefix("UPDATE t SET id = ").unwrap_or(s))
            .collect();
        assert_eq!(
            ids,
            ["1", "2", "3", "10", "100", "12", "20", "30", "32", "22", "310", "0"]
        );
        let err = compile_with(
            "",
            "    def gen():\n        yield 1\n    for x in gen():\n        pass",
        )
        .unwrap_err();
        assert!(err.contains("iterating it"), "{err}");
    }

    #[test]
    fn pickle_types_pragma_settings_import_module_and_python_side_defaults() {
        let body = "    import importlib
    integer = importlib.import_module('sqlalchemy').Integer
    op.create_table('t', sa.Column('id', integer, primary_key=True), sa.Column('p', sa.PickleType()))
    op.get_bind().execute(sa.text('PRAGMA foreign_keys=off'))
    with op.batch_alter_table('t') as batch_op:
        batch_op.alter_column('p', existing_type=sa.PickleType(), default=b'', nullable=False)";
        let sql = compile_with("", body).unwrap();
        assert!(
            sql[0].contains("id INTEGER NOT NULL") && sql[0].contains("p BLOB"),
            "{sql:?}"
        );
        assert!(
            sql.iter().any(|s| s == "PRAGMA foreign_keys=off"),
            "{sql:?}"
        );
        assert!(
            sql.iter().any(|s| s.contains("p BLOB NOT NULL")),
            "the batch rebuild: {sql:?}"
        );
        let err = compile_with(
            "",
            "    op.get_bind().execute(sa.text('PRAGMA foreign_keys'))",
        )
        .unwrap_err();
        assert!(err.contains("reading rows"), "{err}");
    }

    #[test]
    fn lazy_proxies_and_the_alembic_context_module_answer_in_the_session() {
        let body = "    from lazy_object_proxy import Proxy
    from alembic import context
    name = Proxy(lambda: 'lazy_' + context.get_bind().dialect.name)
    op.create_table('%s_%s' % (name, context.is_offline_mode()), sa.Column('id', sa.Integer, primary_key=True))";
        let sql = compile_with("", body).unwrap();
        assert!(
            sql.iter()
                .any(|s| s.starts_with("CREATE TABLE \"lazy_sqlite_False\" (")),
            "{sql:?}"
        );
    }
}
