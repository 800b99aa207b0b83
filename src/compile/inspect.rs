//! `sa.inspect(bind)`: an inspector answered from the schema model, so scripts that look
//! before they leap compile the same online and offline. Answers have the shapes SQLAlchemy's
//! inspector returns (lists of dicts with the same keys).

use crate::interp::{Args, Ctx, Native, Result, Value};
use crate::ir::{Constraint, ConstraintKind, IndexPart, ServerDefault, Table};

use super::sa;
use super::session::Shared;

#[derive(Debug)]
pub struct Inspector {
    pub session: Shared,
}

#[derive(Debug)]
struct InspectorMethod {
    session: Shared,
    name: String,
}

const METHODS: &[&str] = &[
    "get_table_names",
    "has_table",
    "get_columns",
    "get_pk_constraint",
    "get_foreign_keys",
    "get_indexes",
    "get_unique_constraints",
    "get_check_constraints",
    "get_schema_names",
];

impl Native for Inspector {
    fn type_name(&self) -> &str {
        "Inspector"
    }

    fn getattr(&self, name: &str, ctx: &mut Ctx) -> Result<Value> {
        match name {
            "default_schema_name" => Ok(match self.session.dialect_name().as_str() {
                "postgresql" => Value::str("public"),
                "sqlite" => Value::str("main"),
                _ => Value::None,
            }),
            "dialect" => Ok(self.session.context_value()),
            n if METHODS.contains(&n) => Ok(Value::native(InspectorMethod {
                session: self.session.clone(),
                name: n.to_string(),
            })),
            other => Err(ctx.native_unsupported("Inspector", format!("`{other}`"))),
        }
    }
}

fn names(v: &[String]) -> Value {
    Value::list(v.iter().map(|s| Value::str(s)).collect())
}

fn opt_str(v: Option<&str>) -> Value {
    v.map_or(Value::None, Value::str)
}

fn default_text(d: &ServerDefault, dialect: &str) -> String {
    match d {
        ServerDefault::Literal(s) => crate::dialect::string_literal(s),
        ServerDefault::Sql(s) => s.clone(),
        ServerDefault::Bool(b) => match (dialect, b) {
            ("sqlite", true) => "1".into(),
            ("sqlite", false) => "0".into(),
            (_, true) => "true".into(),
            (_, false) => "false".into(),
        },
    }
}

/// `get_columns`: one dict per column of `t`, with its type as `dialect` sees it.
fn columns_value(t: &Table, dialect: &str) -> Value {
    let mut out = Vec::new();
    for c in &t.columns {
        out.push(Value::dict_of_str([
            ("name".to_string(), Value::str(&c.name)),
            (
                "type".to_string(),
                sa::type_value(c.ty.for_dialect(dialect)),
            ),
            ("nullable".to_string(), Value::Bool(c.nullable)),
            (
                "default".to_string(),
                c.server_default
                    .as_ref()
                    .map_or(Value::None, |d| Value::string(default_text(d, dialect))),
            ),
            (
                "primary_key".to_string(),
                Value::Int(i64::from(c.primary_key)),
            ),
            ("comment".to_string(), opt_str(c.comment.as_deref())),
        ]));
    }
    Value::list(out)
}

/// `get_pk_constraint`: the name and columns of `t`'s primary key (empty when it has none).
fn pk_constraint_value(t: &Table) -> Value {
    let (name, cols) = match t.primary_key() {
        Some(pk) => (pk.name().map(str::to_string), pk.columns().to_vec()),
        None => (None, Vec::new()),
    };
    Value::dict_of_str([
        ("name".to_string(), opt_str(name.as_deref())),
        ("constrained_columns".to_string(), names(&cols)),
    ])
}

/// `get_foreign_keys`: one dict per foreign key of `t`, with its referential actions as options.
fn foreign_keys_value(t: &Table) -> Value {
    let mut out = Vec::new();
    for c in &t.constraints {
        if let Constraint::ForeignKey(fk) = c {
            let mut options = Vec::new();
            if let Some(d) = &fk.ondelete {
                options.push(("ondelete".to_string(), Value::str(d)));
            }
            if let Some(u) = &fk.onupdate {
                options.push(("onupdate".to_string(), Value::str(u)));
            }
            out.push(Value::dict_of_str([
                ("name".to_string(), opt_str(fk.name.as_deref())),
                ("constrained_columns".to_string(), names(&fk.columns)),
                ("referred_schema".to_string(), Value::None),
                ("referred_table".to_string(), Value::str(&fk.ref_table)),
                ("referred_columns".to_string(), names(&fk.ref_columns)),
                ("options".to_string(), Value::dict_of_str(options)),
            ]));
        }
    }
    Value::list(out)
}

/// `get_indexes`: one dict per index of `t`; expression parts show as `None` column names.
fn indexes_value(t: &Table) -> Value {
    let mut out = Vec::new();
    for i in &t.indexes {
        let cols: Vec<Value> = i
            .parts
            .iter()
            .map(|p| match p {
                IndexPart::Column(c) => Value::str(c),
                IndexPart::Expression(_) => Value::None,
            })
            .collect();
        out.push(Value::dict_of_str([
            ("name".to_string(), Value::str(&i.name)),
            ("column_names".to_string(), Value::list(cols)),
            ("unique".to_string(), Value::Bool(i.unique)),
        ]));
    }
    Value::list(out)
}

/// `get_unique_constraints` / `get_check_constraints`: one dict per constraint of `t` of kind
/// `want` (check constraints carry their SQL text, the others their column names).
fn constraints_value(t: &Table, want: ConstraintKind) -> Value {
    let mut out = Vec::new();
    for c in t.constraints.iter().filter(|c| c.kind() == want) {
        out.push(match c {
            Constraint::Check { name, sqltext } => Value::dict_of_str([
                ("name".to_string(), opt_str(name.as_deref())),
                ("sqltext".to_string(), Value::str(sqltext)),
            ]),
            other => Value::dict_of_str([
                ("name".to_string(), opt_str(other.name())),
                ("column_names".to_string(), names(other.columns())),
            ]),
        });
    }
    Value::list(out)
}

impl InspectorMethod {
    fn table<'a>(
        &self,
        model: &'a crate::schema::SchemaModel,
        name: &str,
        ctx: &Ctx,
    ) -> Result<&'a Table> {
        if model.other_tables.contains(name) {
            return Err(ctx.native_unsupported(
                "Inspector",
                format!(
                    "the shape of table '{name}', which another application keeps in this database"
                ),
            ));
        }
        model
            .table(name)
            .ok_or_else(|| ctx.raise("NoSuchTableError", name.to_string()))
    }

    /// Takes the `table_name` argument (for methods about one table) and checks that any
    /// `schema` argument names the default schema; returns the table name, if the method has one.
    fn table_name_arg(&self, a: &mut Args, ctx: &mut Ctx) -> Result<Option<String>> {
        let table_name =
            match self.name.as_str() {
                "get_table_names" | "get_schema_names" => None,
                _ => {
                    let v = a.required(0, "table_name", ctx)?;
                    Some(v.as_str().map(str::to_string).ok_or_else(|| {
                        ctx.native_error("Inspector", "table_name must be a string")
                    })?)
                }
            };
        if let Some(schema) = a.take(usize::from(table_name.is_some()), "schema") {
            let default = matches!(schema.as_str(), Some("public" | "main"));
            if !schema.is_none() && !default {
                return Err(ctx.native_unsupported("Inspector", "schemas other than the default"));
            }
        }
        Ok(table_name)
    }
}

impl Native for InspectorMethod {
    fn type_name(&self) -> &str {
        &self.name
    }

    fn call(&self, args: Vec<Value>, kwargs: Vec<(String, Value)>, ctx: &mut Ctx) -> Result<Value> {
        let mut a = Args::new(format!("Inspector.{}", self.name), args, kwargs);
        let table_name = self.table_name_arg(&mut a, ctx)?;
        a.finish(ctx)?;
        let dialect = self.session.dialect_name();
        let session = self.session.0.borrow();
        let model = &session.model;
        let tname = table_name.unwrap_or_default();
        match self.name.as_str() {
            "get_schema_names" => Ok(Value::list(vec![Value::str(if dialect == "postgresql" {
                "public"
            } else {
                "main"
            })])),
            "get_table_names" => {
                let mut t: Vec<&str> = model
                    .table_names()
                    .chain(model.other_tables.iter().map(String::as_str))
                    .collect();
                t.sort();
                Ok(Value::list(t.into_iter().map(Value::str).collect()))
            }
            "has_table" => Ok(Value::Bool(
                model.table(&tname).is_some() || model.other_tables.contains(&tname),
            )),
            "get_columns" => Ok(columns_value(self.table(model, &tname, ctx)?, &dialect)),
            "get_pk_constraint" => Ok(pk_constraint_value(self.table(model, &tname, ctx)?)),
            "get_foreign_keys" => Ok(foreign_keys_value(self.table(model, &tname, ctx)?)),
            "get_indexes" => Ok(indexes_value(self.table(model, &tname, ctx)?)),
            "get_unique_constraints" => Ok(constraints_value(
                self.table(model, &tname, ctx)?,
                ConstraintKind::Unique,
            )),
            "get_check_constraints" => Ok(constraints_value(
                self.table(model, &tname, ctx)?,
                ConstraintKind::Check,
            )),
            other => Err(ctx.native_unsupported("Inspector", format!("`{other}`"))),
        }
    }
}
