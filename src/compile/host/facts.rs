//! Application facts: what a project's scripts import from the application that is not
//! interpreted from its source (`revisions/<project>/facts.toml`: model table names, enum
//! strings, constants, classes of constants and lookups, exception classes, configuration
//! objects), turned into modules.

use std::collections::BTreeMap;
use std::rc::Rc;

use serde::Deserialize;

use crate::interp::{exception_class, Args, Class, Ctx, Native, NativeFunction, Result, Value};

use super::super::sa;
use super::CompileHost;

/// Application facts a project's scripts import.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Facts {
    #[serde(default)]
    pub modules: BTreeMap<String, ModuleFacts>,
    /// Modules of the application's package that are interpreted from its source.
    #[serde(default)]
    pub interpret: InterpretFacts,
    /// The naming convention of the project's `target_metadata`, which Alembic applies to
    /// every operation: key (`pk`, `fk`, `uq`, `ck`, `ix`) to template. Read from `env.py`
    /// where the engine can follow it; declared here for a project whose `env.py` reaches its
    /// metadata through what the engine does not model.
    #[serde(default)]
    pub naming_convention: BTreeMap<String, String>,
    /// Replacements for helpers of the application's modules that the plan cannot follow
    /// (`revisions/<package>/helpers/<module>.py`): module → the replacement's source, whose
    /// definitions run after the module's own, in its namespace, when the module's sha256 is
    /// the one the replacement pins (`module_sha256`).
    #[serde(skip)]
    pub helpers: BTreeMap<String, &'static str>,
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
    /// Callables whose results only ever serve Python-side code (a validator kept on a
    /// column type for its bind processing): calling one gives a placeholder that fails on
    /// any use, so a script that only builds DDL with them compiles.
    #[serde(default)]
    pub inert: Vec<String>,
    /// Configuration objects (`conf.get(section, key, fallback=...)`, `getint`,
    /// `getboolean`, `getfloat`): `"section.key"` (any case) → the value the application's
    /// defaults give. `{dialect}` in a string stands for the dialect's name. A key not listed
    /// answers its `fallback=`, or fails the plan when the call gives none.
    #[serde(default)]
    pub configs: BTreeMap<String, BTreeMap<String, toml::Value>>,
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
        Facts::parse(include_str!("../../../revisions/mlflow/facts.toml"))
            .expect("revisions/mlflow/facts.toml is valid (checked by a test)")
    }

    /// The facts shipped for a generic project whose scripts live in package `package`
    /// (`revisions/<package>/facts.toml`), if there are any.
    pub fn for_package(package: &str) -> Option<Facts> {
        PACKAGE_FACTS
            .iter()
            .find(|(name, _)| *name == package)
            .map(|(name, text)| {
                let mut facts = Facts::parse(text)
                    .unwrap_or_else(|e| panic!("revisions/{name}/facts.toml is invalid: {e}"));
                facts.helpers = PACKAGE_HELPERS
                    .iter()
                    .filter(|(p, _, _)| p == name)
                    .map(|(_, module, source)| (module.to_string(), *source))
                    .collect();
                facts
            })
    }
}

/// Helper replacements per package: (package, module, source).
pub const PACKAGE_HELPERS: &[(&str, &str, &str)] = &[(
    "airflow",
    "airflow.migrations.utils",
    include_str!("../../../revisions/airflow/helpers/airflow.migrations.utils.py"),
)];

/// A module's statements with a helper replacement's after them, when the replacement pins
/// this version of the module (`module_sha256 = "..."`); the module alone otherwise.
pub(crate) fn with_helpers(
    module: crate::script::ast::Module,
    module_source: &str,
    replacement: &str,
) -> crate::script::ast::Module {
    use sha2::Digest;
    let Ok(extra) = crate::script::pyast::parse_module(replacement) else {
        return module;
    };
    let sha = hex::encode(sha2::Sha256::digest(module_source.as_bytes()));
    if !crate::recipes::pinned(&extra, "module_sha256").contains(&sha) {
        return module;
    }
    let mut module = module;
    module.body.extend(extra.body);
    module
}

/// The facts files of the packages whose projects are known (parsed by a test).
pub const PACKAGE_FACTS: &[(&str, &str)] = &[
    (
        "airflow",
        include_str!("../../../revisions/airflow/facts.toml"),
    ),
    (
        "prefect",
        include_str!("../../../revisions/prefect/facts.toml"),
    ),
];

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

impl CompileHost {
    pub(super) fn fact_module(&self, name: &str) -> Option<Value> {
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
        for (k, entries) in &m.configs {
            attrs.push((
                k.clone(),
                Value::native(ConfigFacts {
                    name: format!("{name}.{k}"),
                    entries: entries
                        .iter()
                        .map(|(key, v)| (key.to_ascii_lowercase(), v.clone()))
                        .collect(),
                    dialect: self.session.dialect_name(),
                }),
            ));
        }
        for f in &m.inert {
            let qualified = format!("{name}.{f}");
            attrs.push((
                f.clone(),
                Value::native(NativeFunction::new(qualified.clone(), move |_, _, _| {
                    Ok(Value::opaque(&format!("{qualified}(...)")))
                })),
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

/// A configuration object of the application's defaults ([`ModuleFacts::configs`]).
#[derive(Debug)]
struct ConfigFacts {
    name: String,
    entries: BTreeMap<String, toml::Value>,
    dialect: String,
}

impl ConfigFacts {
    fn lookup(&self, method: &str, a: &mut Args, ctx: &mut Ctx) -> Result<Value> {
        let callee = format!("{}.{method}", self.name);
        let section = a.required(0, "section", ctx)?;
        let key = a.required(1, "key", ctx)?;
        let fallback = a.keyword("fallback");
        let (Some(section), Some(key)) = (section.as_str(), key.as_str()) else {
            return Err(ctx.native_error(&callee, "section and key must be strings"));
        };
        let full = format!("{section}.{key}").to_ascii_lowercase();
        let value = match (self.entries.get(&full), fallback) {
            (Some(toml::Value::String(s)), _) => {
                Value::string(s.replace("{dialect}", &self.dialect))
            }
            (Some(v), _) => toml_value(v),
            (None, Some(f)) => return Ok(f),
            (None, None) => {
                return Err(ctx.not_modeled(
                    &format!("{}[{section}] {key}", self.name),
                    format!("no fact gives this setting's value ({method})"),
                ))
            }
        };
        match method {
            "getint" => match &value {
                Value::Int(_) => Ok(value),
                other => other
                    .as_str()
                    .and_then(|s| s.trim().parse::<i64>().ok())
                    .map(Value::Int)
                    .ok_or_else(|| {
                        ctx.native_error(&callee, format!("'{full}' is not an integer"))
                    }),
            },
            "getboolean" => match &value {
                Value::Bool(_) => Ok(value),
                other => match other.as_str().map(str::to_ascii_lowercase).as_deref() {
                    Some("true" | "t" | "1") => Ok(Value::Bool(true)),
                    Some("false" | "f" | "0") => Ok(Value::Bool(false)),
                    _ => Err(ctx.native_error(&callee, format!("'{full}' is not a boolean"))),
                },
            },
            _ => Ok(value),
        }
    }
}

impl Native for ConfigFacts {
    fn type_name(&self) -> &str {
        &self.name
    }

    fn call_method(
        self: Rc<Self>,
        name: &str,
        args: Vec<Value>,
        kwargs: Vec<(String, Value)>,
        ctx: &mut Ctx,
    ) -> Result<Value> {
        match name {
            "get" | "getint" | "getboolean" => {
                let mut a = Args::new(format!("{}.{name}", self.name), args, kwargs);
                let v = self.lookup(name, &mut a, ctx)?;
                a.finish(ctx)?;
                Ok(v)
            }
            _ => Err(ctx.native_unsupported(&self.name, format!("calling `{name}`"))),
        }
    }
}
