//! SQLAlchemy's type classes: each is one [`TypeSpec`] row (module, name, base class for
//! `isinstance`, and how its arguments build the `SqlType`: [`Shape`]). Generic types live here;
//! dialect modules' own types are in `dialect_types`; the runtime objects in `type_objects`.
//! Classes are accepted wherever instances are (`sa.Column("x", sa.Integer)`), as SQLAlchemy
//! does, by building them with no arguments.

use crate::dialect::Database;
use crate::interp::{Args, Ctx, Result, Value};
use crate::ir::SqlType;

use super::args::{only_default, opt_bool, opt_size, opt_string};
use super::dialect_types::{self, DialectShape};
use super::type_objects::TypeClass;

pub(crate) const SA: &str = "sqlalchemy";

/// One type class.
#[derive(Debug)]
pub(crate) struct TypeSpec {
    /// The module that defines it: `sqlalchemy` or `sqlalchemy.dialects.<name>`.
    pub module: &'static str,
    pub name: &'static str,
    /// The base class, for `isinstance`: a generic class by name (`String`), a dialect's own
    /// class as `dialect.NAME`.
    pub parent: Option<&'static str>,
    pub shape: Shape,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StrKind {
    Varchar,
    Char,
    NVarchar,
    Text,
}

/// How a class's arguments build its `SqlType`.
#[derive(Debug)]
pub(crate) enum Shape {
    Str(StrKind),
    Integer,
    BigInteger,
    SmallInteger,
    Float {
        double: bool,
    },
    Numeric,
    Boolean,
    DateTime,
    Timestamp,
    Time,
    Date,
    Interval,
    LargeBinary,
    Json,
    Uuid,
    Enum,
    /// An upper-case class SQLAlchemy spells alike on every dialect (`SqlType::Named`).
    Named,
    Dialect(DialectShape),
    /// `PickleType(protocol, pickler, comparator, impl)`: pickling is Python's; the column is
    /// its `impl`, `LargeBinary` unless given.
    Pickle,
    /// A base class: usable with `isinstance`, not as a column type.
    Abstract,
    /// Present so that imports work, but not modeled; the text says why.
    Refused(&'static str),
}

const fn spec(name: &'static str, parent: &'static str, shape: Shape) -> TypeSpec {
    TypeSpec {
        module: SA,
        name,
        parent: if parent.is_empty() {
            None
        } else {
            Some(parent)
        },
        shape,
    }
}

const NO_EXACT_IR: &str = "its rendering differs from every modeled type on some dialect";

/// The generic types of `sqlalchemy`, `sqlalchemy.types` and `sqlalchemy.sql.sqltypes`, with
/// their base classes (see [`TypeSpec::parent`]).
#[rustfmt::skip]
pub(crate) static GENERIC: &[TypeSpec] = &[
    spec("TypeEngine", "", Shape::Abstract),
    spec("String", "TypeEngine", Shape::Str(StrKind::Varchar)),
    spec("VARCHAR", "String", Shape::Str(StrKind::Varchar)),
    spec("Unicode", "String", Shape::Str(StrKind::Varchar)),
    spec("CHAR", "String", Shape::Str(StrKind::Char)),
    spec("NVARCHAR", "Unicode", Shape::Str(StrKind::NVarchar)),
    spec("Text", "String", Shape::Str(StrKind::Text)),
    spec("TEXT", "Text", Shape::Str(StrKind::Text)),
    spec("UnicodeText", "Text", Shape::Str(StrKind::Text)),
    spec("Integer", "TypeEngine", Shape::Integer),
    spec("INTEGER", "Integer", Shape::Integer),
    spec("BigInteger", "Integer", Shape::BigInteger),
    spec("BIGINT", "BigInteger", Shape::BigInteger),
    spec("SmallInteger", "Integer", Shape::SmallInteger),
    spec("SMALLINT", "SmallInteger", Shape::SmallInteger),
    spec("Numeric", "TypeEngine", Shape::Numeric),
    spec("NUMERIC", "Numeric", Shape::Numeric),
    spec("Float", "Numeric", Shape::Float { double: false }),
    spec("FLOAT", "Float", Shape::Float { double: false }),
    spec("Double", "Float", Shape::Float { double: true }),
    spec("Boolean", "TypeEngine", Shape::Boolean),
    spec("BOOLEAN", "Boolean", Shape::Boolean),
    spec("DateTime", "TypeEngine", Shape::DateTime),
    spec("Date", "TypeEngine", Shape::Date),
    spec("DATE", "Date", Shape::Date),
    spec("Time", "TypeEngine", Shape::Time),
    spec("TIME", "Time", Shape::Time),
    spec("Interval", "TypeEngine", Shape::Interval),
    spec("LargeBinary", "TypeEngine", Shape::LargeBinary),
    spec("JSON", "TypeEngine", Shape::Json),
    spec("Uuid", "TypeEngine", Shape::Uuid),
    spec("Enum", "String", Shape::Enum),
    spec("TIMESTAMP", "DateTime", Shape::Timestamp),
    spec("DATETIME", "DateTime", Shape::Named),
    spec("DOUBLE", "Double", Shape::Named),
    spec("DOUBLE_PRECISION", "Double", Shape::Named),
    spec("REAL", "Float", Shape::Named),
    spec("DECIMAL", "Numeric", Shape::Named),
    spec("NCHAR", "Unicode", Shape::Refused(NO_EXACT_IR)),
    spec("CLOB", "Text", Shape::Named),
    spec("BLOB", "LargeBinary", Shape::Named),
    spec("BINARY", "TypeEngine", Shape::Named),
    spec("VARBINARY", "TypeEngine", Shape::Named),
    spec("UUID", "Uuid", Shape::Named),
    spec("ARRAY", "TypeEngine", Shape::Refused("array types are not modeled")),
    spec("PickleType", "TypeDecorator", Shape::Pickle),
    spec("TypeDecorator", "TypeEngine", Shape::Abstract),
];

/// Aliases SQLAlchemy exports under a second name.
const GENERIC_ALIASES: &[(&str, &str)] = &[("INT", "INTEGER")];

impl TypeSpec {
    pub fn qualified(&self) -> String {
        format!("{}.{}", self.module, self.name)
    }

    /// Whether this class is `other` or derives from it.
    pub(crate) fn is_subclass_of(&'static self, other: &'static TypeSpec) -> bool {
        let mut current: Option<&'static TypeSpec> = Some(self);
        while let Some(s) = current {
            if std::ptr::eq(s, other) {
                return true;
            }
            current = s.parent.and_then(parent_spec);
        }
        false
    }
}

/// The generic class `name` (`String`, `INT`, ...).
pub(crate) fn generic(name: &str) -> Option<&'static TypeSpec> {
    let name = GENERIC_ALIASES
        .iter()
        .find(|(alias, _)| *alias == name)
        .map_or(name, |(_, real)| real);
    GENERIC.iter().find(|s| s.name == name)
}

/// A base class as [`TypeSpec::parent`] names it: `String` (generic) or `postgresql.JSON`.
fn parent_spec(parent: &str) -> Option<&'static TypeSpec> {
    match parent.split_once('.') {
        None => generic(parent),
        Some((dialect, name)) => {
            dialect_types::own_type(&format!("sqlalchemy.dialects.{dialect}"), name)
        }
    }
}

/// The names a module exports as types, with their classes.
pub(crate) fn module_types(module: &str) -> Vec<(&'static str, &'static TypeSpec)> {
    match module {
        "sqlalchemy" | "sqlalchemy.types" | "sqlalchemy.sql.sqltypes" => GENERIC
            .iter()
            .map(|s| (s.name, s))
            .chain(
                GENERIC_ALIASES
                    .iter()
                    .filter_map(|(a, real)| Some((*a, generic(real)?))),
            )
            .collect(),
        dialect => dialect_types::exports(dialect),
    }
}

impl TypeClass {
    pub fn build(
        &self,
        args: Vec<Value>,
        kwargs: Vec<(String, Value)>,
        ctx: &mut Ctx,
    ) -> Result<SqlType> {
        let spec = self.0;
        let callee = spec.qualified();
        let mut a = Args::new(callee.clone(), args, kwargs);
        let ty = match &spec.shape {
            Shape::Str(kind) => string_type(*kind, &callee, &mut a, ctx)?,
            Shape::Integer => SqlType::Integer,
            Shape::BigInteger => SqlType::BigInteger,
            Shape::SmallInteger => SqlType::SmallInteger,
            Shape::Float { double } => float_type(*double, &callee, &mut a, ctx)?,
            Shape::Numeric => numeric_type(&callee, &mut a, ctx)?,
            Shape::Boolean => SqlType::Boolean {
                create_constraint: opt_bool(
                    a.take(0, "create_constraint"),
                    &callee,
                    "create_constraint",
                    ctx,
                )?
                .unwrap_or(false),
                name: opt_string(a.take(1, "name"), &callee, "name", ctx)?,
            },
            Shape::DateTime => SqlType::DateTime {
                timezone: opt_bool(a.take(0, "timezone"), &callee, "timezone", ctx)?
                    .unwrap_or(false),
            },
            Shape::Timestamp => SqlType::Timestamp {
                timezone: opt_bool(a.take(0, "timezone"), &callee, "timezone", ctx)?
                    .unwrap_or(false),
            },
            Shape::Time => SqlType::Time {
                timezone: opt_bool(a.take(0, "timezone"), &callee, "timezone", ctx)?
                    .unwrap_or(false),
            },
            Shape::Date => SqlType::Date,
            Shape::Interval => interval_type(&callee, &mut a, ctx)?,
            Shape::LargeBinary => SqlType::LargeBinary {
                length: opt_size(a.take(0, "length"), &callee, "length", ctx)?,
            },
            Shape::Json => {
                let _ = a.take(0, "none_as_null");
                SqlType::Json
            }
            Shape::Uuid => uuid_type(&callee, &mut a, ctx)?,
            Shape::Enum => enum_type(&callee, &mut a, ctx)?,
            Shape::Named => named_type(spec.name, &callee, &mut a, ctx)?,
            Shape::Dialect(shape) => dialect_types::build(spec, shape, &mut a, ctx)?,
            Shape::Pickle => {
                let _ = (
                    a.take(0, "protocol"),
                    a.take(1, "pickler"),
                    a.take(2, "comparator"),
                );
                match a.take(3, "impl") {
                    Some(imp) if !imp.is_none() => super::type_objects::to_type(&imp, ctx)?,
                    _ => SqlType::LargeBinary { length: None },
                }
            }
            Shape::Abstract => {
                return Err(ctx.native_unsupported(&callee, "instantiating an abstract type"))
            }
            Shape::Refused(why) => {
                return Err(ctx.not_modeled(&callee, format!("using the type: {why}")))
            }
        };
        a.finish(ctx)?;
        Ok(ty)
    }
}

/// `String(length, collation)` and its kin: the string type of `kind` (only `VARCHAR` takes a
/// collation).
fn string_type(kind: StrKind, callee: &str, a: &mut Args, ctx: &mut Ctx) -> Result<SqlType> {
    let length = opt_size(a.take(0, "length"), callee, "length", ctx)?;
    let collation = opt_string(a.take(1, "collation"), callee, "collation", ctx)?;
    only_default(
        a.keyword("collation_schema"),
        Value::is_none,
        callee,
        "collation_schema",
        ctx,
    )?;
    if collation.is_some() && kind != StrKind::Varchar {
        return Err(ctx.native_unsupported(callee, "`collation=` on this type"));
    }
    Ok(match kind {
        StrKind::Varchar => SqlType::Varchar { length, collation },
        StrKind::Char => SqlType::Char { length },
        StrKind::NVarchar => SqlType::NVarchar { length },
        StrKind::Text => SqlType::Text { length },
    })
}

/// `Float(precision)` / `Double(precision)`: a floating-point type.
fn float_type(double: bool, callee: &str, a: &mut Args, ctx: &mut Ctx) -> Result<SqlType> {
    let precision = opt_size(a.take(0, "precision"), callee, "precision", ctx)?;
    // Python-side conversions only.
    let _ = (a.take(1, "asdecimal"), a.take(2, "decimal_return_scale"));
    Ok(SqlType::Float { precision, double })
}

/// `Numeric(precision, scale)`: a fixed-point type.
fn numeric_type(callee: &str, a: &mut Args, ctx: &mut Ctx) -> Result<SqlType> {
    let precision = opt_size(a.take(0, "precision"), callee, "precision", ctx)?;
    let scale = opt_size(a.take(1, "scale"), callee, "scale", ctx)?;
    let _ = (a.take(2, "decimal_return_scale"), a.take(3, "asdecimal"));
    Ok(SqlType::Numeric { precision, scale })
}

/// `DECIMAL`, `DECIMAL(p)` or `DECIMAL(p, s)` (a scale without a precision is not written).
pub(crate) fn decimal(precision: Option<u32>, scale: Option<u32>) -> SqlType {
    SqlType::Named(match (precision, scale) {
        (Some(p), Some(s)) => format!("DECIMAL({p}, {s})"),
        (Some(p), None) => format!("DECIMAL({p})"),
        _ => "DECIMAL".into(),
    })
}

/// The upper-case classes every dialect's compiler spells alike (`DOUBLE PRECISION`,
/// `DECIMAL(10, 2)`); their Python-side arguments are dropped as the compilers drop them. A
/// `BLOB(n)` keeps its length on MySQL only; a `VARBINARY` needs one (MySQL's compiler fails
/// without).
fn named_type(class: &str, callee: &str, a: &mut Args, ctx: &mut Ctx) -> Result<SqlType> {
    let size = |a: &mut Args, i: usize, key: &str, ctx: &mut Ctx| {
        opt_size(a.take(i, key), callee, key, ctx)
    };
    Ok(match class {
        "DATETIME" => {
            let _ = a.take(0, "timezone");
            SqlType::Named("DATETIME".into())
        }
        "DOUBLE" | "DOUBLE_PRECISION" | "REAL" => {
            let precision = size(a, 0, "precision", ctx)?;
            let _ = (a.take(1, "asdecimal"), a.take(2, "decimal_return_scale"));
            let mysql = crate::compile::session::session_dialect(ctx)
                .is_some_and(|d| matches!(d.database(), Database::Mysql | Database::Mariadb));
            if class == "DOUBLE" && precision.is_some() && mysql {
                return Err(ctx.native_unsupported(
                    callee,
                    "a precision without a scale on MySQL (SQLAlchemy's MySQL compiler refuses it)",
                ));
            }
            SqlType::Named(class.replace('_', " "))
        }
        "DECIMAL" => {
            let precision = size(a, 0, "precision", ctx)?;
            let scale = size(a, 1, "scale", ctx)?;
            let _ = (a.take(2, "decimal_return_scale"), a.take(3, "asdecimal"));
            decimal(precision, scale)
        }
        "CLOB" => {
            let _ = a.take(0, "length");
            only_default(
                a.take(1, "collation"),
                Value::is_none,
                callee,
                "collation",
                ctx,
            )?;
            SqlType::Named("CLOB".into())
        }
        "BLOB" => match size(a, 0, "length", ctx)? {
            Some(n) => SqlType::dialect_specific(
                "mysql",
                format!("BLOB({n})"),
                Some(SqlType::Named("BLOB".into())),
            ),
            None => SqlType::Named("BLOB".into()),
        },
        "BINARY" => match size(a, 0, "length", ctx)? {
            Some(n) => SqlType::Named(format!("BINARY({n})")),
            None => SqlType::Named("BINARY".into()),
        },
        "VARBINARY" => match size(a, 0, "length", ctx)? {
            Some(n) => SqlType::Named(format!("VARBINARY({n})")),
            None => {
                return Err(ctx.native_unsupported(callee, "VARBINARY without a length"));
            }
        },
        "UUID" => {
            let _ = a.take(0, "as_uuid");
            SqlType::Named("UUID".into())
        }
        _ => return Err(ctx.native_unsupported(callee, "using the type")),
    })
}

/// `Interval()`: only its defaults (native, no precisions) are modeled.
fn interval_type(callee: &str, a: &mut Args, ctx: &mut Ctx) -> Result<SqlType> {
    only_default(
        a.take(0, "native"),
        |v| v.as_bool() == Some(true),
        callee,
        "native",
        ctx,
    )?;
    only_default(
        a.take(1, "second_precision"),
        Value::is_none,
        callee,
        "second_precision",
        ctx,
    )?;
    only_default(
        a.take(2, "day_precision"),
        Value::is_none,
        callee,
        "day_precision",
        ctx,
    )?;
    Ok(SqlType::Interval)
}

/// `Uuid(as_uuid)`: only a native UUID type is modeled.
fn uuid_type(callee: &str, a: &mut Args, ctx: &mut Ctx) -> Result<SqlType> {
    let _ = a.take(0, "as_uuid");
    only_default(
        a.take(1, "native_uuid"),
        |v| v.as_bool() == Some(true),
        callee,
        "native_uuid",
        ctx,
    )?;
    Ok(SqlType::Uuid)
}

fn enum_type(callee: &str, a: &mut Args, ctx: &mut Ctx) -> Result<SqlType> {
    let mut values = Vec::new();
    for v in a.rest(0) {
        match v {
            Value::Str(s) => values.push(s.to_string()),
            other => {
                return Err(ctx.native_unsupported(
                    callee,
                    format!(
                        "an Enum of a {} (only string values are modeled, not Python enum classes)",
                        other.type_name()
                    ),
                ))
            }
        }
    }
    let native = opt_bool(a.keyword("native_enum"), callee, "native_enum", ctx)?.unwrap_or(true);
    let create_constraint = opt_bool(
        a.keyword("create_constraint"),
        callee,
        "create_constraint",
        ctx,
    )?
    .unwrap_or(false);
    let name = opt_string(a.keyword("name"), callee, "name", ctx)?;
    let longest = values.iter().map(|v| v.chars().count()).max().unwrap_or(0) as u32;
    let length = match a.keyword("length") {
        None => Some(longest),
        Some(Value::None) => None,
        Some(v) => {
            let n = opt_size(Some(v), callee, "length", ctx)?.unwrap_or(longest);
            if n < longest {
                return Err(ctx.raise(
                    "ValueError",
                    format!("When provided, length must be larger or equal than the length of the longest enum value. {n} < {longest}"),
                ));
            }
            Some(n)
        }
    };
    for key in [
        "validate_strings",
        "omit_aliases",
        "inherit_schema",
        "metadata",
    ] {
        let _ = a.keyword(key);
    }
    only_default(
        a.keyword("create_type"),
        |v| v.as_bool() == Some(true),
        callee,
        "create_type",
        ctx,
    )?;
    for key in ["schema", "values_callable", "sort_key_function", "quote"] {
        only_default(a.keyword(key), Value::is_none, callee, key, ctx)?;
    }
    Ok(SqlType::Enum {
        values,
        name,
        native,
        create_constraint,
        length,
    })
}
