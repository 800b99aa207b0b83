//! Declarative models: `Base = declarative_base()` and `class SqlX(Base): __tablename__ = ...`.
//! The interpreter runs class bodies itself; a class whose base is our declarative base is a
//! model, and [`declarative_tables`] turns a module's models into tables.
//!
//! Class namespaces do not keep definition order, so order comes from SQLAlchemy's own
//! mechanism: every column records its creation order, columns are ordered by it, and models by
//! their first column (class bodies run one after another).
//!
//! Also here: the ORM pieces scripts import. `relationship`/`backref` are inert markers (they do
//! not change the schema); sessions exist, but using one is a data migration and refused.

use std::any::Any;
use std::rc::Rc;

use crate::interp::{Args, Class, Ctx, Namespace, Native, NativeFunction, Result, Value};
use crate::ir::Table;

use super::args::items;
use super::column::{ColumnObj, ColumnRef};
use super::convert::{table_ir, to_table};
use super::table::{MetaDataObj, TableCell};

/// The base class `declarative_base()` returns (also `sqlalchemy.orm.DeclarativeBase`).
#[derive(Debug)]
pub(crate) struct DeclarativeBaseObj {
    metadata: Value,
}

impl DeclarativeBaseObj {
    fn convention(&self) -> Vec<(String, String)> {
        self.metadata
            .downcast_native::<MetaDataObj>()
            .map(|m| m.convention.clone())
            .unwrap_or_default()
    }
}

fn declarative_metadata(convention: Vec<(String, String)>) -> Value {
    Value::native(MetaDataObj {
        convention,
        declarative: true,
        ..MetaDataObj::default()
    })
}

/// The naming convention of a `metadata=` argument (none without one).
fn metadata_convention(
    metadata: Option<Value>,
    callee: &str,
    ctx: &mut Ctx,
) -> Result<Vec<(String, String)>> {
    match metadata {
        None | Some(Value::None) => Ok(Vec::new()),
        Some(m) => match m.downcast_native::<MetaDataObj>() {
            Some(md) => Ok(md.convention.clone()),
            None => Err(ctx.native_error(
                callee,
                format!("`metadata` must be a MetaData, got {}", m.type_name()),
            )),
        },
    }
}

/// `declarative_base(metadata=None, ...)`.
pub(crate) fn declarative_base(
    args: Vec<Value>,
    kwargs: Vec<(String, Value)>,
    ctx: &mut Ctx,
) -> Result<Value> {
    let callee = "sqlalchemy.orm.declarative_base";
    let mut a = Args::new(callee, args, kwargs);
    let convention = metadata_convention(a.keyword("metadata"), callee, ctx)?;
    let _ = (a.keyword("name"), a.keyword("class_registry"));
    a.finish(ctx)?;
    Ok(Value::native(DeclarativeBaseObj {
        metadata: declarative_metadata(convention),
    }))
}

/// `sqlalchemy.orm.registry(metadata=None, ...)`: the mapper registry whose
/// `generate_base()` is a declarative base over its `metadata`.
pub(crate) fn mapper_registry(
    args: Vec<Value>,
    kwargs: Vec<(String, Value)>,
    ctx: &mut Ctx,
) -> Result<Value> {
    let callee = "sqlalchemy.orm.registry";
    let mut a = Args::new(callee, args, kwargs);
    let convention = metadata_convention(a.keyword("metadata"), callee, ctx)?;
    let _ = (
        a.keyword("class_registry"),
        a.keyword("type_annotation_map"),
    );
    a.finish(ctx)?;
    Ok(Value::native(MapperRegistry {
        metadata: declarative_metadata(convention),
    }))
}

#[derive(Debug)]
struct MapperRegistry {
    metadata: Value,
}

impl Native for MapperRegistry {
    fn type_name(&self) -> &str {
        "sqlalchemy.orm.registry"
    }

    fn getattr(&self, name: &str, ctx: &mut Ctx) -> Result<Value> {
        match name {
            "metadata" => Ok(self.metadata.clone()),
            "generate_base" => {
                let metadata = self.metadata.clone();
                Ok(Value::native(NativeFunction::new(
                    "registry.generate_base",
                    move |args, kwargs, ctx| {
                        let mut a = Args::new("registry.generate_base", args, kwargs);
                        let _ = (a.keyword("mapper"), a.keyword("cls"), a.keyword("name"));
                        a.finish(ctx)?;
                        Ok(Value::native(DeclarativeBaseObj {
                            metadata: metadata.clone(),
                        }))
                    },
                )))
            }
            _ => Err(ctx.native_unsupported(self.type_name(), format!("`{name}`"))),
        }
    }
}

/// `sqlalchemy.orm.DeclarativeBase`, for `class Base(DeclarativeBase): pass`.
pub(crate) fn declarative_base_class() -> Value {
    Value::native(DeclarativeBaseObj {
        metadata: declarative_metadata(Vec::new()),
    })
}

impl Native for DeclarativeBaseObj {
    fn type_name(&self) -> &str {
        "DeclarativeBase"
    }

    fn getattr(&self, name: &str, ctx: &mut Ctx) -> Result<Value> {
        match name {
            "metadata" => Ok(self.metadata.clone()),
            _ => {
                Err(ctx
                    .native_unsupported("DeclarativeBase", format!("reading attribute `{name}`")))
            }
        }
    }
}

/// `relationship(...)`, `backref(...)`: ORM-only; kept as inert values.
#[derive(Debug)]
pub(crate) struct OrmMarker(&'static str);

impl Native for OrmMarker {
    fn type_name(&self) -> &str {
        self.0
    }
}

pub(crate) fn marker(name: &'static str) -> Value {
    Value::native(NativeFunction::new(name, move |_, _, _| {
        Ok(Value::native(OrmMarker(name)))
    }))
}

/// `Session`, `sessionmaker`, `scoped_session`: reading and writing rows through the ORM.
#[derive(Debug)]
pub(crate) struct OrmSession(pub &'static str);

const SESSION_USE: &str = "a data migration through the ORM: it needs a recipe";

impl Native for OrmSession {
    fn type_name(&self) -> &str {
        self.0
    }

    fn call(
        &self,
        _args: Vec<Value>,
        _kwargs: Vec<(String, Value)>,
        _ctx: &mut Ctx,
    ) -> Result<Value> {
        Ok(Value::native(OrmSession("sqlalchemy.orm.Session")))
    }

    fn getattr(&self, name: &str, ctx: &mut Ctx) -> Result<Value> {
        // Every other use is refused, so a session reaching these has done nothing; bound to
        // Alembic's connection (already in a transaction) it would not commit that either.
        if matches!(name, "commit" | "close" | "flush") && self.0 == "sqlalchemy.orm.Session" {
            return Ok(Value::native(NativeFunction::new(
                format!("Session.{name}"),
                |_, _, _| Ok(Value::None),
            )));
        }
        Err(ctx.not_modeled(self.0, format!("`.{name}` — {SESSION_USE}")))
    }

    fn enter(&self, ctx: &mut Ctx) -> Result<Value> {
        Err(ctx.not_modeled(self.0, format!("`with` — {SESSION_USE}")))
    }
}

fn declarative_base_of(class: &Class) -> Option<Rc<dyn Native>> {
    class.native_base().filter(|n| {
        let any: &dyn Any = n.as_ref();
        any.is::<DeclarativeBaseObj>()
    })
}

/// The column attributes of a class's own namespace, as `(attribute, column)`.
fn column_attributes(ns: &Namespace) -> Vec<(String, ColumnRef)> {
    let mut out = Vec::new();
    for name in ns.names() {
        if let Some(v) = ns.get(&name) {
            if let Some(c) = v.downcast_native::<ColumnObj>() {
                if c.0.schema {
                    out.push((name, c.0.clone()));
                }
            }
        }
    }
    out.sort_by_key(|(_, c)| c.seq);
    out
}

/// The tables of the declarative models defined in (or imported into) a module namespace, in
/// definition order: columns in attribute order, named after their attribute unless the column
/// has its own name; `__table_args__` constraints and indexes; SQLAlchemy's defaults applied.
pub fn declarative_tables(namespace: &Namespace, ctx: &mut Ctx) -> Result<Vec<Table>> {
    let mut models: Vec<Rc<Class>> = Vec::new();
    for name in namespace.names() {
        let Some(Value::Class(c)) = namespace.get(&name) else {
            continue;
        };
        let is_model = declarative_base_of(&c).is_some()
            && (c.namespace.contains("__tablename__") || c.namespace.contains("__table__"))
            && !matches!(c.namespace.get("__abstract__"), Some(Value::Bool(true)));
        if is_model && !models.iter().any(|m| Rc::ptr_eq(m, &c)) {
            models.push(c);
        }
    }
    // Name every column first: a model's CHECK may refer to any column by object.
    let mut columns: Vec<Vec<ColumnRef>> = Vec::new();
    for m in &models {
        for b in &m.bases {
            if let Value::Class(base) = b {
                if !column_attributes(&base.namespace).is_empty() {
                    return Err(ctx.native_unsupported(
                        "declarative",
                        format!(
                            "model `{}` inherits columns from `{}` (mixins and inheritance)",
                            m.name, base.name
                        ),
                    ));
                }
            }
        }
        let attrs = column_attributes(&m.namespace);
        for (attr, c) in &attrs {
            let mut d = c.def.borrow_mut();
            if d.name.is_none() {
                d.name = Some(attr.clone());
            }
            if d.key.is_none() {
                d.key = Some(attr.clone());
            }
        }
        columns.push(attrs.into_iter().map(|(_, c)| c).collect());
    }
    let mut order: Vec<usize> = (0..models.len()).collect();
    order.sort_by_key(|&i| columns[i].first().map_or(u64::MAX, |c| c.seq));
    let mut tables = Vec::new();
    for i in order {
        tables.push(model_table(&models[i], &columns[i], ctx)?);
    }
    Ok(tables)
}

fn model_table(model: &Rc<Class>, columns: &[ColumnRef], ctx: &mut Ctx) -> Result<Table> {
    let what = format!("declarative model `{}`", model.name);
    if let Some(t) = model.namespace.get("__table__") {
        return to_table(&t, ctx);
    }
    let name = match model.namespace.get("__tablename__") {
        Some(Value::Str(s)) => s.to_string(),
        _ => return Err(ctx.native_error(&what, "`__tablename__` must be a string")),
    };
    let convention = declarative_base_of(model)
        .and_then(|n| {
            let any: &dyn Any = n.as_ref();
            any.downcast_ref::<DeclarativeBaseObj>()
                .map(DeclarativeBaseObj::convention)
        })
        .unwrap_or_default();
    let mut table_items = Vec::new();
    let mut comment = None;
    match model.namespace.get("__table_args__") {
        None | Some(Value::None) => {}
        Some(d @ Value::Dict(_)) => comment = table_kwargs(&d, &what, ctx)?,
        Some(args) => {
            table_items = items(&args, ctx)?;
            if matches!(table_items.last(), Some(Value::Dict(_))) {
                if let Some(d) = table_items.pop() {
                    comment = table_kwargs(&d, &what, ctx)?;
                }
            }
        }
    }
    let table = TableCell::new(&name, false, convention, comment);
    for c in columns {
        table.add_column(c, ctx)?;
    }
    for item in &table_items {
        table.add_item(item, &what, ctx)?;
    }
    table_ir(&table, ctx)
}

/// The dict at the end of `__table_args__`: the comment; MySQL table options are ignored as
/// `op.create_table` ignores them; anything else is refused.
fn table_kwargs(d: &Value, what: &str, ctx: &mut Ctx) -> Result<Option<String>> {
    let mut comment = None;
    for (k, v) in super::args::dict_pairs(d, what, "__table_args__", ctx)? {
        match k.as_str() {
            Some("comment") => comment = super::args::opt_string(Some(v), what, "comment", ctx)?,
            Some("info") => {}
            Some(k) if k.starts_with("mysql_") || k.starts_with("mariadb_") => {}
            Some(k) => return Err(ctx.native_unsupported(what, format!("the table option `{k}`"))),
            None => return Err(ctx.native_error(what, "`__table_args__` keys must be strings")),
        }
    }
    Ok(comment)
}
