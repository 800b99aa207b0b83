//! What `import` finds while a revision runs: the emulated `alembic` and `sqlalchemy`, a few
//! standard-library modules reduced to what migrations use, and the application facts of the
//! project (`revisions/<project>/facts.toml`: model table names, enum strings, constants).
//! Everything else is an unmodeled import: importing it works, using it fails with a position.

use std::collections::BTreeMap;
use std::rc::Rc;

use serde::Deserialize;

use crate::interp::{
    exception_class, Args, Class, Ctx, Host, Native, NativeFunction, Result, Value,
};
use crate::script::ast::CmpOp;

use super::inspect::Inspector;
use super::op::Operations;
use super::sa;
use super::session::Shared;

/// The Alembic version scripts see as `alembic.__version__` (the one we reproduce).
pub const ALEMBIC_VERSION: &str = "1.20.1";

/// Application facts a project's scripts import.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Facts {
    #[serde(default)]
    pub modules: BTreeMap<String, ModuleFacts>,
    /// Modules of the application's package that are interpreted from its source.
    #[serde(default)]
    pub interpret: InterpretFacts,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct InterpretFacts {
    /// Modules interpreted strictly: any failure in them fails the import.
    #[serde(default)]
    pub modules: Vec<String>,
    /// Top-level packages all of whose modules are interpreted from source, leniently: a
    /// top-level statement that fails leaves its names as placeholders that fail on use.
    #[serde(default)]
    pub packages: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ModuleFacts {
    /// ORM model class → its table name.
    #[serde(default)]
    pub models: BTreeMap<String, String>,
    /// Plain constants (strings, numbers, lists).
    #[serde(default)]
    pub values: BTreeMap<String, toml::Value>,
    /// Enum-like classes: members are their own names; `to_string(x)` is `x`.
    #[serde(default)]
    pub enums: BTreeMap<String, Vec<String>>,
    /// Classes with constant attributes and lookup functions of one argument.
    #[serde(default)]
    pub classes: BTreeMap<String, ClassFacts>,
    /// Exception classes (subclasses of `Exception`).
    #[serde(default)]
    pub exceptions: Vec<String>,
    /// Names that exist but are not modeled: any use fails the plan.
    #[serde(default)]
    pub unmodeled: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ClassFacts {
    #[serde(default)]
    pub attrs: BTreeMap<String, toml::Value>,
    #[serde(default)]
    pub lookups: BTreeMap<String, BTreeMap<String, toml::Value>>,
}

impl Facts {
    pub fn parse(text: &str) -> std::result::Result<Facts, toml::de::Error> {
        toml::from_str(text)
    }

    /// The facts of MLflow's projects (tracking and auth share them).
    pub fn mlflow() -> Facts {
        Facts::parse(include_str!("../../revisions/mlflow/facts.toml"))
            .expect("revisions/mlflow/facts.toml is valid (checked by a test)")
    }
}

fn toml_value(v: &toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::str(s),
        toml::Value::Integer(i) => Value::Int(*i),
        toml::Value::Float(f) => Value::Float(*f),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Array(a) => Value::list(a.iter().map(toml_value).collect()),
        toml::Value::Table(t) => {
            Value::dict_of_str(t.iter().map(|(k, v)| (k.clone(), toml_value(v))))
        }
        toml::Value::Datetime(d) => Value::string(d.to_string()),
    }
}

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
}

pub type Replacements =
    Rc<std::cell::RefCell<std::collections::HashMap<(std::path::PathBuf, String), Value>>>;

pub type ModuleCache = Rc<std::cell::RefCell<std::collections::HashMap<String, Option<Value>>>>;

impl CompileHost {
    fn fact_module(&self, name: &str) -> Option<Value> {
        let m = self.facts.modules.get(name)?;
        let mut attrs: Vec<(String, Value)> = Vec::new();
        for (k, table) in &m.models {
            attrs.push((
                k.clone(),
                Value::native(Model {
                    class: k.clone(),
                    table: table.clone(),
                }),
            ));
        }
        for (k, v) in &m.values {
            attrs.push((k.clone(), toml_value(v)));
        }
        for (k, members) in &m.enums {
            attrs.push((
                k.clone(),
                Value::native(EnumFacts {
                    name: k.clone(),
                    members: members.clone(),
                }),
            ));
        }
        for (k, c) in &m.classes {
            attrs.push((
                k.clone(),
                Value::native(ClassFactsObj {
                    name: k.clone(),
                    facts: c.clone(),
                }),
            ));
        }
        for u in &m.unmodeled {
            attrs.push((u.clone(), Value::opaque(&format!("{name}.{u}"))));
        }
        for e in &m.exceptions {
            let base = exception_class("Exception").map(Value::Class);
            attrs.push((
                e.clone(),
                Value::Class(Class::new(e.clone(), base.into_iter().collect())),
            ));
        }
        Some(Value::module(name, attrs))
    }
}

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
        let source = std::fs::read_to_string(&path).ok()?;
        let parsed = crate::script::pyast::parse_module(&source).ok()?;
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
        // `alembic_engine.replace_nested(qualname, function)`, for recipes only: the
        // original script's nested `def` of that qualified name binds `function` instead.
        let rev = self.original.clone()?;
        let replacements = self.replacements.clone();
        Some(Value::module(
            "alembic_engine",
            [(
                "replace_nested".to_string(),
                Value::native(NativeFunction::new(
                    "alembic_engine.replace_nested",
                    move |args, kwargs, ctx| {
                        let mut a = Args::new("replace_nested", args, kwargs);
                        let name = a.required(0, "qualname", ctx)?;
                        let function = a.required(1, "function", ctx)?;
                        a.finish(ctx)?;
                        let name = name.as_str().ok_or_else(|| {
                            ctx.native_error("replace_nested", "the qualname must be a string")
                        })?;
                        replacements
                            .borrow_mut()
                            .insert((rev.path.clone(), name.to_string()), function);
                        Ok(Value::None)
                    },
                )),
            )],
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
            "logging" => Some(logging_module()),
            "packaging.version" => Some(packaging_version_module()),
            _ => None,
        }
    }
}

impl CompileHost {
    /// `alembic.context` as a revision sees it while it runs: `is_offline_mode()`, the
    /// connection (`get_bind()`) and the migration context (`get_context()`).
    fn context_module(&self) -> Value {
        let session = self.session.clone();
        let no_arguments = |name: &'static str, f: Rc<dyn Fn() -> Value>| {
            (
                name.to_string(),
                Value::native(NativeFunction::new(
                    format!("alembic.context.{name}"),
                    move |args, kwargs, ctx| {
                        Args::new(format!("alembic.context.{name}"), args, kwargs).finish(ctx)?;
                        Ok(f())
                    },
                )),
            )
        };
        let (offline, bind, context) = (session.clone(), session.clone(), session);
        Value::module(
            "alembic.context",
            [
                no_arguments(
                    "is_offline_mode",
                    Rc::new(move || Value::Bool(offline.0.borrow().offline)),
                ),
                no_arguments("get_bind", Rc::new(move || bind.bind_value())),
                no_arguments("get_context", Rc::new(move || context.context_value())),
            ],
        )
    }
}

/// `time`, reduced to `time.time()`.
fn time_module() -> Value {
    Value::module(
        "time",
        [(
            "time".to_string(),
            // Only ever used for client-side defaults, which never reach the DDL.
            Value::native(NativeFunction::new("time.time", |_, _, _| {
                Ok(Value::Float(0.0))
            })),
        )],
    )
}

/// `logging`, reduced to `getLogger` (whose loggers drop messages) and the level constants.
fn logging_module() -> Value {
    Value::module(
        "logging",
        [
            (
                "getLogger".to_string(),
                Value::native(NativeFunction::new("logging.getLogger", |_, _, _| {
                    Ok(Value::native(Logger))
                })),
            ),
            ("DEBUG".to_string(), Value::Int(10)),
            ("INFO".to_string(), Value::Int(20)),
            ("WARNING".to_string(), Value::Int(30)),
            ("ERROR".to_string(), Value::Int(40)),
        ],
    )
}

/// `packaging.version`, reduced to `Version(text)`.
fn packaging_version_module() -> Value {
    Value::module(
        "packaging.version",
        [(
            "Version".to_string(),
            Value::native(NativeFunction::new(
                "packaging.version.Version",
                |args, kwargs, ctx| {
                    let mut a = Args::new("Version", args, kwargs);
                    let v = a.required(0, "version", ctx)?;
                    a.finish(ctx)?;
                    let text = v
                        .as_str()
                        .ok_or_else(|| ctx.native_error("Version", "expected a string"))?;
                    Ok(Value::native(Version::parse(text)))
                },
            )),
        )],
    )
}

/// `logging.getLogger(...)`: messages are dropped.
#[derive(Debug)]
struct Logger;

impl Native for Logger {
    fn type_name(&self) -> &str {
        "Logger"
    }

    fn getattr(&self, name: &str, ctx: &mut Ctx) -> Result<Value> {
        match name {
            "debug" | "info" | "warning" | "warn" | "error" | "exception" | "critical"
            | "setLevel" => Ok(Value::native(NativeFunction::new(
                "Logger.log",
                |_, _, _| Ok(Value::None),
            ))),
            other => Err(ctx.native_unsupported("Logger", format!("`{other}`"))),
        }
    }
}

/// `packaging.version.Version`: release numbers compared numerically.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Version(Vec<u64>);

impl Version {
    fn parse(text: &str) -> Version {
        Version(
            text.split(['.', '+', '-'])
                .map_while(|p| {
                    p.chars()
                        .take_while(char::is_ascii_digit)
                        .collect::<String>()
                        .parse()
                        .ok()
                })
                .collect(),
        )
    }

    fn padded(&self, len: usize) -> Vec<u64> {
        let mut v = self.0.clone();
        v.resize(len.max(v.len()), 0);
        v
    }
}

impl Native for Version {
    fn type_name(&self) -> &str {
        "Version"
    }

    fn compare(
        &self,
        op: CmpOp,
        other: &Value,
        _reflected: bool,
        ctx: &mut Ctx,
    ) -> Result<Option<Value>> {
        let Some(o) = other.downcast_native::<Version>() else {
            return Err(ctx.native_unsupported("Version", "comparing with a non-Version"));
        };
        let len = self.0.len().max(o.0.len());
        let (a, b) = (self.padded(len), o.padded(len));
        let r = match op {
            CmpOp::Lt => a < b,
            CmpOp::LtE => a <= b,
            CmpOp::Gt => a > b,
            CmpOp::GtE => a >= b,
            CmpOp::Eq => a == b,
            CmpOp::NotEq => a != b,
            _ => return Ok(None),
        };
        Ok(Some(Value::Bool(r)))
    }
}

/// An ORM model class of the application: its table name and its columns by attribute.
#[derive(Debug)]
struct Model {
    class: String,
    table: String,
}

impl Native for Model {
    fn type_name(&self) -> &str {
        &self.class
    }

    fn getattr(&self, name: &str, ctx: &mut Ctx) -> Result<Value> {
        match name {
            "__tablename__" => Ok(Value::str(&self.table)),
            "__name__" => Ok(Value::str(&self.class)),
            n if n.starts_with('_') => {
                Err(ctx.native_unsupported(&self.class, format!("reading attribute `{n}`")))
            }
            column => Ok(sa::column_value(column, Some(&self.table))),
        }
    }
}

#[derive(Debug)]
struct EnumFacts {
    name: String,
    members: Vec<String>,
}

impl Native for EnumFacts {
    fn type_name(&self) -> &str {
        &self.name
    }

    fn getattr(&self, name: &str, ctx: &mut Ctx) -> Result<Value> {
        if self.members.iter().any(|m| m == name) {
            return Ok(Value::str(name));
        }
        match name {
            "to_string" | "from_string" => {
                let members = self.members.clone();
                let owner = self.name.clone();
                Ok(Value::native(NativeFunction::new(
                    "to_string",
                    move |args, kwargs, ctx: &mut Ctx| {
                        let mut a = Args::new(format!("{owner}.to_string"), args, kwargs);
                        let v = a.required(0, "value", ctx)?;
                        a.finish(ctx)?;
                        match v.as_str() {
                            Some(s) if members.iter().any(|m| m == s) => Ok(Value::str(s)),
                            _ => Err(ctx.raise("ValueError", format!("not a member of {owner}"))),
                        }
                    },
                )))
            }
            "all_status" | "all_stages" => Ok(Value::list(
                self.members.iter().map(|m| Value::str(m)).collect(),
            )),
            other => {
                Err(ctx.native_unsupported(&self.name, format!("reading attribute `{other}`")))
            }
        }
    }
}

#[derive(Debug)]
struct ClassFactsObj {
    name: String,
    facts: ClassFacts,
}

impl Native for ClassFactsObj {
    fn type_name(&self) -> &str {
        &self.name
    }

    fn getattr(&self, name: &str, ctx: &mut Ctx) -> Result<Value> {
        if let Some(v) = self.facts.attrs.get(name) {
            return Ok(toml_value(v));
        }
        if let Some(table) = self.facts.lookups.get(name) {
            let table: Rc<BTreeMap<String, toml::Value>> = Rc::new(table.clone());
            let fname = format!("{}.{name}", self.name);
            return Ok(Value::native(NativeFunction::new(
                "lookup",
                move |args, kwargs, ctx: &mut Ctx| {
                    let mut a = Args::new(fname.clone(), args, kwargs);
                    let key = a.required(0, "value", ctx)?;
                    a.finish(ctx)?;
                    let found = key.as_str().and_then(|k| table.get(k));
                    match found {
                        Some(v) => Ok(toml_value(v)),
                        None => Err(ctx.native_error(&fname, "no fact for this argument")),
                    }
                },
            )));
        }
        Err(ctx.native_unsupported(&self.name, format!("reading attribute `{name}`")))
    }
}

#[cfg(test)]
mod tests {
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
    fn versions_compare_numerically() {
        assert!(Version::parse("1.20.1") > Version::parse("1.7.0"));
        assert_eq!(Version::parse("1.7").padded(3), vec![1, 7, 0]);
    }
}
