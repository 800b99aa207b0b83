//! The types of `sqlalchemy.dialects.{mysql,mssql,postgresql,sqlite}`. A dialect's own type
//! becomes `SqlType::DialectSpecific` spelled exactly as that dialect's SQLAlchemy type compiler
//! spells it (`MEDIUMTEXT`, `TINYINT(1) UNSIGNED`, `NVARCHAR(max)`, `TIMESTAMP(6) WITH TIME
//! ZONE`). Names a dialect module merely re-exports from `sqlalchemy` resolve to the generic
//! class, as they do in Python (`mssql.NVARCHAR is sa.NVARCHAR`).

use crate::interp::{Args, Ctx, Result};
use crate::ir::SqlType;

use super::args::{only_default, opt_bool, opt_size, opt_string};
use super::types::{generic, Shape, TypeSpec};

const MYSQL: &str = "sqlalchemy.dialects.mysql";
const MSSQL: &str = "sqlalchemy.dialects.mssql";
const PG: &str = "sqlalchemy.dialects.postgresql";
const SQLITE: &str = "sqlalchemy.dialects.sqlite";

/// Whether a MySQL string type takes a length, and whether it must.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Len {
    No,
    Optional,
    Required,
}

/// How MySQL spells precision and scale for a numeric type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NumStyle {
    /// `NUMERIC`, `NUMERIC(p)`, `NUMERIC(p, s)`.
    PrecisionThenScale,
    /// `DOUBLE` unless both are given: `DOUBLE(p, s)`.
    Both,
    /// `FLOAT`, `FLOAT(p)`, `FLOAT(p, s)`.
    Float,
}

#[derive(Debug)]
pub(crate) enum DialectShape {
    /// No arguments; `ignore` lists Python-side keyword arguments accepted and dropped.
    Fixed {
        sql: &'static str,
        ignore: &'static [&'static str],
    },
    MyString {
        spec: &'static str,
        length: Len,
        national: bool,
    },
    MyInteger(&'static str),
    MyNumeric {
        spec: &'static str,
        style: NumStyle,
    },
    MyFsp(&'static str),
    MyYear,
    MyBit,
    /// `SPEC` or `SPEC(precision)` (MSSQL `DATETIME2`, `DATETIMEOFFSET`, `TIME`).
    Precision(&'static str),
    /// `SPEC(n)`, or `SPEC(max)` without a length (MSSQL `VARBINARY`).
    MaxLength(&'static str),
    /// PostgreSQL `TIMESTAMP[(p)] WITH[OUT] TIME ZONE`, and the same for `TIME`.
    PgTime(&'static str),
    PgInterval,
}

const fn own(
    module: &'static str,
    name: &'static str,
    parent: &'static str,
    shape: DialectShape,
) -> TypeSpec {
    TypeSpec {
        module,
        name,
        parent: Some(parent),
        shape: Shape::Dialect(shape),
    }
}

const fn fixed(
    module: &'static str,
    name: &'static str,
    parent: &'static str,
    sql: &'static str,
) -> TypeSpec {
    own(
        module,
        name,
        parent,
        DialectShape::Fixed { sql, ignore: &[] },
    )
}

/// A type without arguments but with Python-side keyword arguments to ignore.
const fn ignoring(
    module: &'static str,
    name: &'static str,
    parent: &'static str,
    sql: &'static str,
    ignore: &'static [&'static str],
) -> TypeSpec {
    own(module, name, parent, DialectShape::Fixed { sql, ignore })
}

const fn my_str(
    name: &'static str,
    parent: &'static str,
    spec: &'static str,
    length: Len,
    national: bool,
) -> TypeSpec {
    own(
        MYSQL,
        name,
        parent,
        DialectShape::MyString {
            spec,
            length,
            national,
        },
    )
}

const fn my_num(name: &'static str, parent: &'static str, style: NumStyle) -> TypeSpec {
    own(
        MYSQL,
        name,
        parent,
        DialectShape::MyNumeric { spec: name, style },
    )
}

const fn refused(
    module: &'static str,
    name: &'static str,
    parent: &'static str,
    why: &'static str,
) -> TypeSpec {
    TypeSpec {
        module,
        name,
        parent: Some(parent),
        shape: Shape::Refused(why),
    }
}

const BASE: &str = "TypeEngine";
const JSON: &[&str] = &["none_as_null", "astext_type"];
const UUID: &[&str] = &["as_uuid"];
const SQLITE_DATES: &[&str] = &["storage_format", "regexp", "truncate_microseconds"];

/// Each dialect module's own types; parents as in [`TypeSpec::parent`].
#[rustfmt::skip]
static OWN_TYPES: &[TypeSpec] = &[
    own(MYSQL, "BIGINT", "BIGINT", DialectShape::MyInteger("BIGINT")),
    own(MYSQL, "INTEGER", "INTEGER", DialectShape::MyInteger("INTEGER")),
    own(MYSQL, "MEDIUMINT", "Integer", DialectShape::MyInteger("MEDIUMINT")),
    own(MYSQL, "SMALLINT", "SMALLINT", DialectShape::MyInteger("SMALLINT")),
    own(MYSQL, "TINYINT", "Integer", DialectShape::MyInteger("TINYINT")),
    own(MYSQL, "BIT", BASE, DialectShape::MyBit),
    own(MYSQL, "YEAR", BASE, DialectShape::MyYear),
    my_str("CHAR", "CHAR", "CHAR", Len::Optional, false),
    my_str("VARCHAR", "VARCHAR", "VARCHAR", Len::Required, false),
    my_str("NCHAR", "NCHAR", "CHAR", Len::Optional, true),
    my_str("NVARCHAR", "NVARCHAR", "VARCHAR", Len::Required, true),
    my_str("TEXT", "TEXT", "TEXT", Len::Optional, false),
    my_str("TINYTEXT", "TEXT", "TINYTEXT", Len::No, false),
    my_str("MEDIUMTEXT", "TEXT", "MEDIUMTEXT", Len::No, false),
    my_str("LONGTEXT", "TEXT", "LONGTEXT", Len::No, false),
    my_num("NUMERIC", "NUMERIC", NumStyle::PrecisionThenScale),
    my_num("DECIMAL", "DECIMAL", NumStyle::PrecisionThenScale),
    my_num("DOUBLE", "DOUBLE", NumStyle::Both),
    my_num("REAL", "REAL", NumStyle::Both),
    my_num("FLOAT", "FLOAT", NumStyle::Float),
    own(MYSQL, "DATETIME", "DATETIME", DialectShape::MyFsp("DATETIME")),
    own(MYSQL, "TIMESTAMP", "TIMESTAMP", DialectShape::MyFsp("TIMESTAMP")),
    own(MYSQL, "TIME", "TIME", DialectShape::MyFsp("TIME")),
    ignoring(MYSQL, "JSON", "JSON", "JSON", JSON),
    fixed(MYSQL, "TINYBLOB", BASE, "TINYBLOB"),
    fixed(MYSQL, "MEDIUMBLOB", BASE, "MEDIUMBLOB"),
    fixed(MYSQL, "LONGBLOB", BASE, "LONGBLOB"),
    fixed(MYSQL, "INET4", BASE, "INET4"),
    fixed(MYSQL, "INET6", BASE, "INET6"),
    refused(MYSQL, "ENUM", "Enum", "MySQL's own ENUM is not modeled; sa.Enum is"),
    refused(MYSQL, "SET", "String", "MySQL SET is not modeled"),

    fixed(MSSQL, "BIT", "Boolean", "BIT"),
    fixed(MSSQL, "TINYINT", "Integer", "TINYINT"),
    fixed(MSSQL, "REAL", "REAL", "REAL"),
    fixed(MSSQL, "DOUBLE_PRECISION", "DOUBLE_PRECISION", "DOUBLE PRECISION"),
    fixed(MSSQL, "MONEY", BASE, "MONEY"),
    fixed(MSSQL, "SMALLMONEY", BASE, "SMALLMONEY"),
    fixed(MSSQL, "NTEXT", "UnicodeText", "NTEXT"),
    fixed(MSSQL, "IMAGE", "LargeBinary", "IMAGE"),
    fixed(MSSQL, "XML", "Text", "XML"),
    fixed(MSSQL, "SQL_VARIANT", BASE, "SQL_VARIANT"),
    fixed(MSSQL, "ROWVERSION", BASE, "ROWVERSION"),
    fixed(MSSQL, "TIMESTAMP", BASE, "TIMESTAMP"),
    fixed(MSSQL, "SMALLDATETIME", "DateTime", "SMALLDATETIME"),
    ignoring(MSSQL, "UNIQUEIDENTIFIER", "Uuid", "UNIQUEIDENTIFIER", UUID),
    ignoring(MSSQL, "JSON", "JSON", "NVARCHAR(max)", JSON),
    own(MSSQL, "DATETIME2", "DateTime", DialectShape::Precision("DATETIME2")),
    own(MSSQL, "DATETIMEOFFSET", "DateTime", DialectShape::Precision("DATETIMEOFFSET")),
    own(MSSQL, "TIME", "TIME", DialectShape::Precision("TIME")),
    own(MSSQL, "VARBINARY", "VARBINARY", DialectShape::MaxLength("VARBINARY")),

    ignoring(PG, "JSON", "JSON", "JSON", JSON),
    ignoring(PG, "JSONB", "postgresql.JSON", "JSONB", JSON),
    ignoring(PG, "UUID", "Uuid", "UUID", UUID),
    fixed(PG, "JSONPATH", BASE, "JSONPATH"),
    fixed(PG, "BYTEA", "LargeBinary", "BYTEA"),
    fixed(PG, "CIDR", BASE, "CIDR"),
    fixed(PG, "CITEXT", "TEXT", "CITEXT"),
    fixed(PG, "INET", BASE, "INET"),
    fixed(PG, "MACADDR", BASE, "MACADDR"),
    fixed(PG, "MACADDR8", BASE, "MACADDR8"),
    fixed(PG, "MONEY", BASE, "MONEY"),
    fixed(PG, "OID", BASE, "OID"),
    fixed(PG, "REGCLASS", BASE, "REGCLASS"),
    fixed(PG, "REGCONFIG", BASE, "REGCONFIG"),
    fixed(PG, "TSVECTOR", BASE, "TSVECTOR"),
    fixed(PG, "TSQUERY", BASE, "TSQUERY"),
    fixed(PG, "HSTORE", BASE, "HSTORE"),
    fixed(PG, "INT4RANGE", BASE, "INT4RANGE"),
    fixed(PG, "INT8RANGE", BASE, "INT8RANGE"),
    fixed(PG, "NUMRANGE", BASE, "NUMRANGE"),
    fixed(PG, "DATERANGE", BASE, "DATERANGE"),
    fixed(PG, "TSRANGE", BASE, "TSRANGE"),
    fixed(PG, "TSTZRANGE", BASE, "TSTZRANGE"),
    own(PG, "TIMESTAMP", "TIMESTAMP", DialectShape::PgTime("TIMESTAMP")),
    own(PG, "TIME", "TIME", DialectShape::PgTime("TIME")),
    own(PG, "INTERVAL", "Interval", DialectShape::PgInterval),
    refused(PG, "ARRAY", "ARRAY", "array types are not modeled"),
    // A native, named enum as `sa.Enum` is (its `create_type=False` is refused there).
    TypeSpec { module: PG, name: "ENUM", parent: Some("Enum"), shape: Shape::Enum },

    ignoring(SQLITE, "DATETIME", "DateTime", "DATETIME", SQLITE_DATES),
    ignoring(SQLITE, "DATE", "Date", "DATE", SQLITE_DATES),
    ignoring(SQLITE, "TIME", "Time", "TIME", SQLITE_DATES),
    ignoring(SQLITE, "JSON", "JSON", "JSON", JSON),
    ignoring(SQLITE, "JSONB", "sqlite.JSON", "JSONB", JSON),
];

/// Generic classes each dialect module re-exports under the same name.
fn reexports(module: &str) -> &'static [&'static str] {
    match module {
        MYSQL => &["BOOLEAN", "DATE", "BLOB", "BINARY", "VARBINARY"],
        MSSQL => &[
            "BIGINT", "BINARY", "CHAR", "DATE", "DATETIME", "DECIMAL", "FLOAT", "INTEGER", "NCHAR",
            "NUMERIC", "NVARCHAR", "SMALLINT", "TEXT", "VARCHAR",
        ],
        PG => &[
            "BIGINT",
            "BOOLEAN",
            "CHAR",
            "DATE",
            "DOUBLE_PRECISION",
            "FLOAT",
            "INTEGER",
            "NUMERIC",
            "REAL",
            "SMALLINT",
            "TEXT",
            "VARCHAR",
        ],
        SQLITE => &[
            "BLOB",
            "BOOLEAN",
            "CHAR",
            "DECIMAL",
            "FLOAT",
            "INTEGER",
            "NUMERIC",
            "REAL",
            "SMALLINT",
            "TEXT",
            "TIMESTAMP",
            "VARCHAR",
        ],
        _ => &[],
    }
}

/// A dialect module's own class.
pub(crate) fn own_type(module: &str, name: &str) -> Option<&'static TypeSpec> {
    OWN_TYPES
        .iter()
        .find(|s| s.module == module && s.name == name)
}

/// Every type name `module` exports, with its class; empty for modules that are not dialects.
pub(crate) fn exports(module: &str) -> Vec<(&'static str, &'static TypeSpec)> {
    let mut out: Vec<(&'static str, &'static TypeSpec)> = OWN_TYPES
        .iter()
        .filter(|s| s.module == module)
        .map(|s| (s.name, s))
        .collect();
    for name in reexports(module) {
        if let Some(s) = generic(name) {
            out.push((name, s));
        }
    }
    out
}

fn dialect_of(spec: &TypeSpec) -> &'static str {
    match spec.module {
        MYSQL => "mysql",
        MSSQL => "mssql",
        PG => "postgresql",
        _ => "sqlite",
    }
}

/// Build a dialect type from its arguments, with what other dialects compile it as.
pub(crate) fn build(
    spec: &'static TypeSpec,
    shape: &DialectShape,
    a: &mut Args,
    ctx: &mut Ctx,
) -> Result<SqlType> {
    let callee = spec.qualified();
    let c = callee.as_str();
    let (sql, elsewhere) = match shape {
        DialectShape::Fixed { sql, ignore } => {
            for key in *ignore {
                let _ = a.keyword(key);
            }
            (sql.to_string(), fixed_elsewhere(spec))
        }
        DialectShape::MyString {
            spec: s,
            length,
            national,
        } => mysql_string(s, *length, *national, a, c, ctx)?,
        DialectShape::MyInteger(s) => {
            let width = opt_size(a.take(0, "display_width"), c, "display_width", ctx)?;
            let base = width.map_or(s.to_string(), |w| format!("{s}({w})"));
            let elsewhere = match *s {
                "INTEGER" => Some(SqlType::Integer),
                "BIGINT" => Some(SqlType::BigInteger),
                "SMALLINT" => Some(SqlType::SmallInteger),
                _ => None,
            };
            (mysql_numeric_flags(base, a, c, ctx)?, elsewhere)
        }
        DialectShape::MyNumeric { spec: s, style } => mysql_numeric(s, *style, a, c, ctx)?,
        DialectShape::MyFsp(s) => {
            let timezone = opt_bool(a.take(0, "timezone"), c, "timezone", ctx)?.unwrap_or(false);
            let sql = match opt_size(a.take(1, "fsp"), c, "fsp", ctx)? {
                Some(fsp) if fsp > 0 => format!("{s}({fsp})"),
                _ => s.to_string(),
            };
            let elsewhere = match *s {
                "TIMESTAMP" => SqlType::Timestamp { timezone },
                "TIME" => SqlType::Time { timezone },
                _ => SqlType::Named(s.to_string()),
            };
            (sql, Some(elsewhere))
        }
        DialectShape::MyYear => {
            match opt_size(a.take(0, "display_width"), c, "display_width", ctx)? {
                Some(w) => (format!("YEAR({w})"), None),
                None => ("YEAR".into(), None),
            }
        }
        DialectShape::MyBit => match opt_size(a.take(0, "length"), c, "length", ctx)? {
            Some(n) => (format!("BIT({n})"), None),
            None => ("BIT".into(), None),
        },
        DialectShape::Precision(s) => {
            match opt_size(a.take(0, "precision"), c, "precision", ctx)? {
                Some(p) => (format!("{s}({p})"), None),
                None => (s.to_string(), None),
            }
        }
        DialectShape::MaxLength(s) => (max_length(s, a, c, ctx)?, None),
        DialectShape::PgTime(s) => pg_time(s, a, c, ctx)?,
        DialectShape::PgInterval => (pg_interval(a, c, ctx)?, None),
    };
    Ok(SqlType::dialect_specific(dialect_of(spec), sql, elsewhere))
}

/// What other dialects compile a dialect's argument-less type as (by its visit name), where
/// they can.
fn fixed_elsewhere(spec: &TypeSpec) -> Option<SqlType> {
    match (spec.module, spec.name) {
        (MYSQL | PG | SQLITE, "JSON") => Some(SqlType::Json),
        // SQLite's compiler has JSONB too; MySQL's has not.
        (PG, "JSONB") => Some(SqlType::dialect_specific("sqlite", "JSONB", None)),
        (PG, "UUID") => Some(SqlType::Named("UUID".into())),
        (SQLITE, "DATETIME") => Some(SqlType::DateTime { timezone: false }),
        (SQLITE, "DATE") => Some(SqlType::Date),
        (SQLITE, "TIME") => Some(SqlType::Time { timezone: false }),
        _ => None,
    }
}

/// MySQL numeric types: `SPEC[(p[, s])]` as `style` spells precision and scale, with flags;
/// elsewhere the generic type of the same name.
fn mysql_numeric(
    spec: &str,
    style: NumStyle,
    a: &mut Args,
    callee: &str,
    ctx: &Ctx,
) -> Result<(String, Option<SqlType>)> {
    let p = opt_size(a.take(0, "precision"), callee, "precision", ctx)?;
    let scale = opt_size(a.take(1, "scale"), callee, "scale", ctx)?;
    let _ = a.take(2, "asdecimal");
    let base = match (style, p, scale) {
        (NumStyle::Both | NumStyle::Float, Some(p), Some(sc)) => format!("{spec}({p}, {sc})"),
        (NumStyle::PrecisionThenScale, Some(p), Some(sc)) => format!("{spec}({p}, {sc})"),
        (NumStyle::PrecisionThenScale | NumStyle::Float, Some(p), None) => {
            format!("{spec}({p})")
        }
        _ => spec.to_string(),
    };
    let elsewhere = match spec {
        "NUMERIC" => SqlType::Numeric {
            precision: p,
            scale,
        },
        "DECIMAL" => super::types::decimal(p, scale),
        "FLOAT" => SqlType::Float {
            precision: p,
            double: false,
        },
        other => SqlType::Named(other.to_string()),
    };
    Ok((mysql_numeric_flags(base, a, callee, ctx)?, Some(elsewhere)))
}

/// `SPEC(n)`, or `SPEC(max)` without a length (MSSQL `VARBINARY`; `filestream` unmodeled).
fn max_length(spec: &str, a: &mut Args, callee: &str, ctx: &mut Ctx) -> Result<String> {
    let length = opt_size(a.take(0, "length"), callee, "length", ctx)?;
    only_default(
        a.keyword("filestream"),
        |v| v.as_bool() == Some(false),
        callee,
        "filestream",
        ctx,
    )?;
    Ok(match length {
        Some(n) => format!("{spec}({n})"),
        None => format!("{spec}(max)"),
    })
}

/// PostgreSQL `SPEC[(p)] WITH[OUT] TIME ZONE` (`TIMESTAMP`, `TIME`).
/// Elsewhere the generic type, without the precision.
fn pg_time(spec: &str, a: &mut Args, callee: &str, ctx: &Ctx) -> Result<(String, Option<SqlType>)> {
    let timezone = opt_bool(a.take(0, "timezone"), callee, "timezone", ctx)?.unwrap_or(false);
    let precision = opt_size(a.take(1, "precision"), callee, "precision", ctx)?;
    let p = precision.map_or(String::new(), |p| format!("({p})"));
    let sql = format!(
        "{spec}{p} {} TIME ZONE",
        if timezone { "WITH" } else { "WITHOUT" }
    );
    let elsewhere = match spec {
        "TIME" => SqlType::Time { timezone },
        _ => SqlType::Timestamp { timezone },
    };
    Ok((sql, Some(elsewhere)))
}

/// PostgreSQL `INTERVAL [fields] [(p)]`.
fn pg_interval(a: &mut Args, callee: &str, ctx: &Ctx) -> Result<String> {
    let precision = opt_size(a.take(0, "precision"), callee, "precision", ctx)?;
    let fields = opt_string(a.take(1, "fields"), callee, "fields", ctx)?;
    let mut s = "INTERVAL".to_string();
    if let Some(f) = fields {
        s += &format!(" {f}");
    }
    if let Some(p) = precision {
        s += &format!(" ({p})");
    }
    Ok(s)
}

/// MySQL `UNSIGNED` / `ZEROFILL`.
fn mysql_numeric_flags(mut spec: String, a: &mut Args, callee: &str, ctx: &Ctx) -> Result<String> {
    if opt_bool(a.keyword("unsigned"), callee, "unsigned", ctx)?.unwrap_or(false) {
        spec += " UNSIGNED";
    }
    if opt_bool(a.keyword("zerofill"), callee, "zerofill", ctx)?.unwrap_or(false) {
        spec += " ZEROFILL";
    }
    Ok(spec)
}

/// MySQL string types: `[NATIONAL] SPEC[(n)] [CHARACTER SET x|ASCII|UNICODE] [COLLATE y|BINARY]`
/// (national types drop the character set, as MySQL's compiler does).
fn mysql_string(
    spec: &str,
    len: Len,
    national_default: bool,
    a: &mut Args,
    callee: &str,
    ctx: &Ctx,
) -> Result<(String, Option<SqlType>)> {
    let length = match len {
        Len::No => None,
        Len::Optional | Len::Required => opt_size(a.take(0, "length"), callee, "length", ctx)?,
    };
    if len == Len::Required && length.is_none() {
        return Err(ctx.native_error(callee, format!("{spec} requires a length on dialect mysql")));
    }
    let charset = opt_string(a.keyword("charset"), callee, "charset", ctx)?;
    let collation = match opt_string(a.keyword("collation"), callee, "collation", ctx)? {
        Some(c) => Some(c),
        None => opt_string(a.keyword("collate"), callee, "collate", ctx)?,
    };
    let flag =
        |a: &mut Args, k: &str| opt_bool(a.keyword(k), callee, k, ctx).map(|b| b.unwrap_or(false));
    let ascii = flag(a, "ascii")?;
    let binary = flag(a, "binary")?;
    let unicode = flag(a, "unicode")?;
    let national =
        opt_bool(a.keyword("national"), callee, "national", ctx)?.unwrap_or(national_default);
    let elsewhere = string_elsewhere(spec, national_default, length, collation.clone());
    let spec = match length {
        Some(n) => format!("{spec}({n})"),
        None => spec.to_string(),
    };
    let charset = match charset {
        Some(c) => Some(format!("CHARACTER SET {c}")),
        None if ascii => Some("ASCII".to_string()),
        None if unicode => Some("UNICODE".to_string()),
        None => None,
    };
    let collation = match collation {
        Some(c) => Some(format!("COLLATE {c}")),
        None if binary => Some("BINARY".to_string()),
        None => None,
    };
    let parts: Vec<String> = if national {
        [Some("NATIONAL".to_string()), Some(spec), collation]
            .into_iter()
            .flatten()
            .collect()
    } else {
        [Some(spec), charset, collation]
            .into_iter()
            .flatten()
            .collect()
    };
    Ok((parts.join(" "), elsewhere))
}

/// A MySQL string type elsewhere: the generic type of its visit name, without MySQL's
/// character set and flags (`NCHAR`, `NVARCHAR` are SQLAlchemy's national types); none for
/// MySQL's own text sizes, nor with a collation the generic type cannot carry.
fn string_elsewhere(
    spec: &str,
    national: bool,
    length: Option<u32>,
    collation: Option<String>,
) -> Option<SqlType> {
    let sized = |base: &str| match length {
        Some(n) => format!("{base}({n})"),
        None => base.to_string(),
    };
    match (spec, national, collation) {
        ("VARCHAR", false, collation) => Some(SqlType::Varchar { length, collation }),
        ("VARCHAR", true, None) => Some(SqlType::NVarchar { length }),
        ("CHAR", false, None) => Some(SqlType::Char { length }),
        ("CHAR", true, None) => Some(SqlType::Named(sized("NCHAR"))),
        ("TEXT", _, None) => Some(SqlType::Text { length }),
        _ => None,
    }
}
