//! The module objects: which names `sqlalchemy`, its submodules and the dialect modules
//! export. Built fresh per import.

use crate::interp::{NativeFunction, Value};

use super::column::{new_column, new_column_clause, new_computed, new_identity};
use super::constraint::{
    new_check_constraint, new_fk_constraint, new_foreign_key, new_index, new_key_constraint,
};
use super::declarative::{
    declarative_base, declarative_base_class, mapper_registry, marker, OrmSession,
};
use super::table::{new_metadata, new_table_clause, TableClass};
use super::type_objects::TypeClass;
use super::types::module_types;
use super::{clauses, dml, Hooks};

type Attrs = Vec<(String, Value)>;

const DIALECTS: &[&str] = &["mysql", "mssql", "postgresql", "sqlite"];

fn function(
    name: &str,
    f: impl Fn(
            Vec<Value>,
            Vec<(String, Value)>,
            &mut crate::interp::Ctx,
        ) -> crate::interp::Result<Value>
        + 'static,
) -> (String, Value) {
    (
        name.to_string(),
        Value::native(NativeFunction::new(format!("sqlalchemy.{name}"), f)),
    )
}

fn types(module: &str) -> Attrs {
    module_types(module)
        .into_iter()
        .map(|(name, spec)| (name.to_string(), Value::native(TypeClass(spec))))
        .collect()
}

fn schema_items(hooks: &Hooks) -> Attrs {
    vec![
        function("Column", new_column),
        function("ForeignKey", new_foreign_key),
        function("PrimaryKeyConstraint", |a, k, c| {
            new_key_constraint(true, a, k, c)
        }),
        function("UniqueConstraint", |a, k, c| {
            new_key_constraint(false, a, k, c)
        }),
        function("ForeignKeyConstraint", new_fk_constraint),
        function("CheckConstraint", new_check_constraint),
        function("Index", new_index),
        function("Computed", new_computed),
        function("Identity", new_identity),
        {
            let hooks = hooks.clone();
            (
                "MetaData".to_string(),
                Value::native(crate::interp::NativeFunction::new(
                    "sqlalchemy.MetaData",
                    move |args, kwargs, ctx| new_metadata(args, kwargs, hooks.clone(), ctx),
                )),
            )
        },
        (
            "Table".to_string(),
            Value::native(TableClass(hooks.clone())),
        ),
    ]
}

fn expressions() -> Attrs {
    let mut out: Attrs = clauses::functions()
        .into_iter()
        .map(|(n, v)| (n.to_string(), v))
        .collect();
    for kind in ["update", "insert", "delete"] {
        out.push((kind.to_string(), dml::module_function(kind)));
    }
    for kind in ["select", "exists", "values"] {
        out.push((kind.to_string(), dml::query_function(kind)));
    }
    out.push(function("table", new_table_clause));
    out.push(function("column", new_column_clause));
    out
}

fn inspect(hooks: &Hooks) -> (String, Value) {
    let hook = hooks.inspect.clone();
    function("inspect", move |args, kwargs, ctx| {
        let mut a = crate::interp::Args::new("sqlalchemy.inspect", args, kwargs);
        let subject = a.required(0, "subject", ctx)?;
        let _ = a.take(1, "raiseerr");
        a.finish(ctx)?;
        match &hook {
            Some(f) => f(&subject, ctx),
            None => Err(ctx.native_unsupported(
                "sqlalchemy.inspect",
                "inspection (no inspector is available here)",
            )),
        }
    })
}

fn orm() -> Attrs {
    vec![
        function("declarative_base", declarative_base),
        function("registry", mapper_registry),
        ("DeclarativeBase".to_string(), declarative_base_class()),
        (
            "relationship".to_string(),
            marker("sqlalchemy.orm.relationship"),
        ),
        ("backref".to_string(), marker("sqlalchemy.orm.backref")),
        (
            "Session".to_string(),
            Value::native(OrmSession("sqlalchemy.orm.Session")),
        ),
        (
            "sessionmaker".to_string(),
            Value::native(OrmSession("sqlalchemy.orm.sessionmaker")),
        ),
        (
            "scoped_session".to_string(),
            Value::native(OrmSession("sqlalchemy.orm.scoped_session")),
        ),
    ]
}

fn module(name: &str, attrs: Attrs) -> Value {
    Value::module(name, attrs)
}

fn dialects() -> Value {
    let subs = DIALECTS
        .iter()
        .filter_map(|d| Some((d.to_string(), build_dialect(d)?)))
        .collect();
    module("sqlalchemy.dialects", subs)
}

fn build_dialect(d: &str) -> Option<Value> {
    let name = format!("sqlalchemy.dialects.{d}");
    DIALECTS.contains(&d).then(|| module(&name, types(&name)))
}

fn sql() -> Value {
    let mut attrs = expressions();
    attrs.push((
        "expression".to_string(),
        module("sqlalchemy.sql.expression", expressions()),
    ));
    attrs.push((
        "sqltypes".to_string(),
        module("sqlalchemy.sql.sqltypes", types("sqlalchemy.sql.sqltypes")),
    ));
    module("sqlalchemy.sql", attrs)
}

fn ext() -> Value {
    let declarative = module(
        "sqlalchemy.ext.declarative",
        vec![function("declarative_base", declarative_base)],
    );
    module(
        "sqlalchemy.ext",
        vec![("declarative".to_string(), declarative)],
    )
}

/// The module `name`, or `None` when it is not modeled.
pub(crate) fn build(name: &str, hooks: &Hooks) -> Option<Value> {
    Some(match name {
        "sqlalchemy" => {
            let mut attrs = types("sqlalchemy");
            attrs.extend(schema_items(hooks));
            attrs.extend(expressions());
            attrs.push(inspect(hooks));
            attrs.push((
                "types".to_string(),
                module("sqlalchemy.types", types("sqlalchemy.types")),
            ));
            attrs.push((
                "schema".to_string(),
                module("sqlalchemy.schema", schema_items(hooks)),
            ));
            attrs.push(("sql".to_string(), sql()));
            attrs.push(("orm".to_string(), module("sqlalchemy.orm", orm())));
            attrs.push(("dialects".to_string(), dialects()));
            attrs.push(("ext".to_string(), ext()));
            attrs.push(("exc".to_string(), super::args::exc_module()));
            module("sqlalchemy", attrs)
        }
        "sqlalchemy.exc" => super::args::exc_module(),
        "sqlalchemy.types" | "sqlalchemy.sql.sqltypes" => module(name, types(name)),
        "sqlalchemy.schema" => module(name, schema_items(hooks)),
        "sqlalchemy.sql" => sql(),
        "sqlalchemy.sql.expression" => module(name, expressions()),
        "sqlalchemy.orm" => module(name, orm()),
        "sqlalchemy.ext" => ext(),
        "sqlalchemy.ext.declarative" => {
            module(name, vec![function("declarative_base", declarative_base)])
        }
        "sqlalchemy.dialects" => dialects(),
        other => build_dialect(other.strip_prefix("sqlalchemy.dialects.")?)?,
    })
}
