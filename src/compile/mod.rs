//! The compiler: runs a revision's `upgrade()`/`downgrade()` in the interpreter against
//! emulated `alembic.op` and `sqlalchemy`, producing typed operations and SQL per dialect.
//!
//! Each step starts from the schema model the previous step left, so batch mode and
//! `sa.inspect()` see the exact table state at that point, online or offline alike. Nothing
//! here touches a database.

mod env;
pub use env::EnvReading;
mod host;
mod inspect;
mod naming;
mod op;
pub mod sa;
mod session;

use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use crate::dialect::Dialect;
use crate::graph::Direction;
use crate::interp::Interpreter;
use crate::ir::Op;
use crate::schema::SchemaModel;
use crate::script::ast::StmtKind;
use crate::script::Revision;

pub use host::{Facts, ALEMBIC_VERSION};
pub use inspect::Inspector;
pub use session::EmittedOp;
use session::{Session, Shared};

/// A failure to compile one step, naming the revision, file, line and construct.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    #[error("revision {revision}: {error}")]
    Interp {
        revision: String,
        #[source]
        error: crate::interp::Error,
    },
    #[error("revision {revision} ({path}): the script defines no `{function}()`")]
    MissingFunction {
        revision: String,
        path: PathBuf,
        function: &'static str,
    },
    #[error(transparent)]
    Recipe(#[from] crate::recipes::RecipeError),
    #[error("{path}: cannot read MLflow's initial models: {message}")]
    InitialModels { path: PathBuf, message: String },
}

/// One compiled step: the operations a revision performs and their SQL.
#[derive(Debug, Clone)]
pub struct CompiledStep {
    pub revision: String,
    pub direction: Direction,
    pub emitted: Vec<EmittedOp>,
    /// The function's body is only `pass` (or a docstring): nothing to run, which for a
    /// downgrade means the revision is irreversible.
    pub empty_body: bool,
}

impl CompiledStep {
    pub fn statements(&self) -> impl Iterator<Item = &str> {
        self.emitted
            .iter()
            .flat_map(|e| e.statements.iter().map(|s| s.sql.as_str()))
    }

    /// The statements with their kinds and effects.
    pub fn typed(&self) -> impl Iterator<Item = &crate::plan::Statement> {
        self.emitted.iter().flat_map(|e| e.statements.iter())
    }

    pub fn ops(&self) -> impl Iterator<Item = &Op> {
        self.emitted.iter().map(|e| &e.op)
    }
}

/// Compiles steps for one dialect.
pub struct Compiler {
    pub dialect: Arc<dyn Dialect>,
    /// What scripts see as `dialect.name` (`mysql` for MariaDB too).
    pub dialect_name: String,
    pub facts: Facts,
    pub offline: bool,
    pub recipes: crate::recipes::RecipeBook,
    /// The application's package folder, for the helper modules `facts.interpret` names.
    pub package_root: Option<PathBuf>,
    /// The package's modules as parsed, kept across steps.
    parsed: host::ParseCache,
    /// What the project's `env.py` configures, when it was read (generic projects).
    pub env: Option<EnvReading>,
}

fn is_empty_function(rev: &Revision, name: &str) -> bool {
    rev.module.body.iter().any(|s| match &s.kind {
        StmtKind::FunctionDef(f) if f.name == name => f.body.iter().all(|b| match &b.kind {
            StmtKind::Pass => true,
            StmtKind::Expr(e) => matches!(e.kind, crate::script::ast::ExprKind::Str(_)),
            _ => false,
        }),
        _ => false,
    })
}

impl Compiler {
    pub fn new(dialect: Arc<dyn Dialect>, facts: Facts) -> Self {
        let dialect_name = dialect.name().to_string();
        Compiler {
            dialect,
            dialect_name,
            facts,
            offline: false,
            recipes: crate::recipes::RecipeBook::default(),
            package_root: None,
            parsed: Default::default(),
            env: None,
        }
    }

    /// A compiler for a project: its application facts, its recipes and its package folder.
    pub fn for_project(
        project: &crate::project::Project,
        dialect: Arc<dyn Dialect>,
    ) -> Result<Self, crate::recipes::RecipeError> {
        let mlflow = Self::is_mlflow(&project.name);
        let mut compiler = Compiler::for_source(
            &project.name,
            project.package_root.clone(),
            project.package.as_deref(),
            dialect,
        )?;
        let env = project.scripts.dir.join("env.py");
        if !mlflow && env.is_file() {
            let mut reading = match &project.env {
                Some(read) => read.clone(),
                None => {
                    let scripts = &project.scripts;
                    let default = [scripts.dir.join("versions")];
                    let configured = (scripts.version_locations != default)
                        .then(|| scripts.version_locations.clone());
                    let layout = crate::script::ScriptLayout::new(&scripts.dir, configured, false);
                    compiler.read_env(&env, &layout)
                }
            };
            // What env.py configures wins; a project's facts declare the convention of an
            // env.py the engine cannot follow (Prefect's reaches its metadata through its
            // settings and dependency injection).
            if reading.unread.is_none() {
                compiler.facts.naming_convention =
                    reading.naming_convention.iter().cloned().collect();
            } else if !compiler.facts.naming_convention.is_empty() {
                reading.naming_convention = compiler
                    .facts
                    .naming_convention
                    .clone()
                    .into_iter()
                    .collect();
                reading.declared_in = project
                    .package
                    .as_ref()
                    .map(|p| format!("revisions/{p}/facts.toml"));
            }
            compiler.env = Some(reading);
        }
        Ok(compiler)
    }

    /// A compiler for the project `name` whose scripts lie in `package` (its folder under
    /// `package_root`): the application facts and recipes, without reading its `env.py`.
    pub(crate) fn for_source(
        name: &str,
        package_root: Option<std::path::PathBuf>,
        package: Option<&str>,
        dialect: Arc<dyn Dialect>,
    ) -> Result<Self, crate::recipes::RecipeError> {
        let mut compiler = Compiler::with_facts(name, package_root, package, dialect);
        compiler.recipes = match package {
            Some(package) if !Self::is_mlflow(name) => {
                crate::recipes::RecipeBook::for_package(package)?
            }
            _ => crate::recipes::RecipeBook::builtin(name)?,
        };
        Ok(compiler)
    }

    fn is_mlflow(name: &str) -> bool {
        name == "mlflow" || name == "mlflow-auth"
    }

    /// A compiler that knows the application facts of the project `name` (see
    /// [`Compiler::for_source`]) and no recipes: enough to read an `env.py`, which runs no
    /// revision.
    pub(crate) fn with_facts(
        name: &str,
        package_root: Option<std::path::PathBuf>,
        package: Option<&str>,
        dialect: Arc<dyn Dialect>,
    ) -> Self {
        let mut compiler = Compiler::new(
            dialect,
            if Self::is_mlflow(name) {
                Facts::mlflow()
            } else {
                Facts::default()
            },
        );
        compiler.package_root = package_root;
        if let Some(package) = package {
            compiler.facts.interpret.packages.push(package.to_string());
            if let Some(facts) = Facts::for_package(package) {
                compiler.facts.modules.extend(facts.modules);
                compiler
                    .facts
                    .naming_convention
                    .extend(facts.naming_convention);
                compiler
                    .facts
                    .interpret
                    .modules
                    .extend(facts.interpret.modules);
                compiler.facts.helpers.extend(facts.helpers);
            }
        }
        compiler
    }

    fn session(&self, model: SchemaModel) -> Shared {
        Shared::new(Session {
            dialect: self.dialect.clone(),
            dialect_name: self.dialect_name.clone(),
            model,
            emitted: Vec::new(),
            offline: self.offline,
            naming: naming::Convention(
                self.facts
                    .naming_convention
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
            final_names: Default::default(),
            answers: Vec::new(),
            autocommit: false,
            empty_tables: Vec::new(),
        })
    }

    fn interpreter(
        &self,
        session: &Shared,
        original: Option<Rc<Revision>>,
        modules: host::ModuleCache,
    ) -> Interpreter {
        Interpreter::new(Rc::new(host::CompileHost {
            session: session.clone(),
            facts: self.facts.clone(),
            package_root: self.package_root.clone(),
            parsed: self.parsed.clone(),
            original,
            modules,
            replacements: Default::default(),
            env: None,
        }))
    }

    /// Run one revision's upgrade or downgrade against `model`, returning the step and the
    /// model after it.
    pub fn compile_step(
        &self,
        rev: &Revision,
        direction: Direction,
        model: SchemaModel,
    ) -> Result<(CompiledStep, SchemaModel), CompileError> {
        let function = match direction {
            Direction::Up => "upgrade",
            Direction::Down => "downgrade",
        };
        let session = self.session(model);
        let recipe = self.recipes.lookup(rev)?;
        let (source, original) = match recipe {
            Some(r) => (&r.module, Some(Rc::new(rev.clone()))),
            None => (rev, None),
        };
        let modules = host::ModuleCache::default();
        let mut interp = self.interpreter(&session, original, modules.clone());
        let err = |error| CompileError::Interp {
            revision: rev.id.clone(),
            error,
        };
        let namespace = interp
            .run_module(&source.module, &source.path)
            .map_err(err)?;
        if namespace.get(function).is_none() {
            return Err(CompileError::MissingFunction {
                revision: rev.id.clone(),
                path: rev.path.clone(),
                function,
            });
        }
        let called = interp.call(&namespace, function, Vec::new());
        drop(interp);
        // Functions hold their module's globals and the globals hold the functions: empty the
        // namespaces so the step's values (and its session) are freed.
        let clear = |ns: &crate::interp::Namespace| {
            for n in ns.names() {
                ns.remove(&n);
            }
        };
        clear(&namespace);
        for v in std::mem::take(&mut *modules.borrow_mut())
            .into_values()
            .flatten()
        {
            if let crate::interp::Value::Module(m) = v {
                clear(&m.namespace);
            }
        }
        // And the cycles of nested functions with the scopes they were defined in.
        crate::interp::sweep_scopes();
        called.map_err(err)?;
        let session = Rc::try_unwrap(session.0)
            .map(|cell| cell.into_inner())
            .unwrap_or_else(|rc| {
                let s = rc.borrow();
                Session {
                    dialect: s.dialect.clone(),
                    dialect_name: s.dialect_name.clone(),
                    model: s.model.clone(),
                    emitted: s.emitted.clone(),
                    offline: s.offline,
                    naming: s.naming.clone(),
                    final_names: s.final_names.clone(),
                    answers: Vec::new(),
                    autocommit: false,
                    empty_tables: Vec::new(),
                }
            });
        Ok((
            CompiledStep {
                revision: rev.id.clone(),
                direction,
                emitted: session.emitted,
                empty_body: is_empty_function(source, function),
            },
            session.model,
        ))
    }

    /// MLflow creates a new database from its *initial models* before revision
    /// `451aebb31d03`: interpret `initial_models.py` (SQLAlchemy declarative classes) into
    /// CREATE TABLE operations.
    pub fn compile_initial_models(
        &self,
        path: &Path,
        model: SchemaModel,
    ) -> Result<(CompiledStep, SchemaModel), CompileError> {
        let fail = |message: String| CompileError::InitialModels {
            path: path.to_path_buf(),
            message,
        };
        let source = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
        let module = crate::script::pyast::parse_module(&source)
            .map_err(|e| fail(format!("{}: {}", e.pos, e.message)))?;
        let session = self.session(model);
        let modules = host::ModuleCache::default();
        let mut interp = self.interpreter(&session, None, modules.clone());
        let namespace = interp
            .run_module(&module, path)
            .map_err(|e| fail(e.to_string()))?;
        let tables = sa::declarative_tables(&namespace, interp.ctx()).map_err(|e| {
            fail(match e {
                crate::interp::Failure::Error(e) => e.to_string(),
                crate::interp::Failure::Raised(r) => format!("{}: uncaught exception", r.pos),
            })
        })?;
        for table in tables {
            session
                .emit(Op::CreateTable { table }, interp.ctx())
                .map_err(|e| fail(format!("{e:?}")))?;
        }
        drop(interp);
        drop(namespace);
        crate::interp::sweep_scopes();
        let s = session.0.borrow();
        Ok((
            CompiledStep {
                revision: "initial".into(),
                direction: Direction::Up,
                emitted: s.emitted.clone(),
                empty_body: false,
            },
            s.model.clone(),
        ))
    }
}
