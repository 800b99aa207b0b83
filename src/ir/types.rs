//! Column types as a migration asks for them (SQLAlchemy's generic and dialect types), and as a
//! live database reports them (`Reflected`). Rendering a type for a dialect is the dialect
//! module's job; this file only knows what a type *is*.

use serde::Serialize;

/// A SQL column type.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SqlType {
    /// `String(n)`, `VARCHAR(n)`, `Unicode(n)`.
    Varchar {
        length: Option<u32>,
        collation: Option<String>,
    },
    /// `CHAR(n)`, `NCHAR(n)`.
    Char {
        length: Option<u32>,
    },
    /// `NVARCHAR(n)` (MSSQL-style; SQLAlchemy renders NVARCHAR elsewhere too).
    NVarchar {
        length: Option<u32>,
    },
    /// `Text`, `TEXT`, `UnicodeText`.
    Text {
        length: Option<u32>,
    },
    Integer,
    BigInteger,
    SmallInteger,
    /// `Float(precision)`; `Double` is `Float { double: true }`.
    Float {
        precision: Option<u32>,
        double: bool,
    },
    Numeric {
        precision: Option<u32>,
        scale: Option<u32>,
    },
    Boolean {
        create_constraint: bool,
        name: Option<String>,
    },
    DateTime {
        timezone: bool,
    },
    /// The generic `TIMESTAMP(timezone=)`: `TIMESTAMP` everywhere, with its time zone clause
    /// on PostgreSQL (where `DateTime` is also a timestamp, but `DATETIME` elsewhere).
    Timestamp {
        timezone: bool,
    },
    Date,
    Time {
        timezone: bool,
    },
    Interval,
    LargeBinary {
        length: Option<u32>,
    },
    Json,
    Uuid,
    /// `Enum(*values)`: non-native renders as VARCHAR(longest) (+ CHECK with
    /// `create_constraint`); native on PostgreSQL (`CREATE TYPE`) and MySQL (`ENUM(...)`).
    Enum {
        values: Vec<String>,
        name: Option<String>,
        native: bool,
        create_constraint: bool,
        length: Option<u32>,
    },
    /// A dialect-specific type spelled as that dialect spells it, e.g. MySQL `MEDIUMTEXT`,
    /// MSSQL `NVARCHAR(max)`. On other dialects SQLAlchemy compiles the type by its class's
    /// visit name: `elsewhere` is what that gives (`mysql.INTEGER(11)` is an `INTEGER`,
    /// `postgresql.TIMESTAMP(timezone=True)` a `TIMESTAMP`); `None` where no other dialect's
    /// compiler has it (`MEDIUMTEXT`, `BYTEA`), and rendering there is refused.
    DialectSpecific {
        dialect: String,
        name: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        elsewhere: Option<Box<SqlType>>,
    },
    /// An upper-case SQL type SQLAlchemy spells the same on every dialect: `sa.DATETIME`,
    /// `sa.DOUBLE_PRECISION`, `sa.DECIMAL(10, 2)`, `sa.UUID`, ...
    Named(String),
    /// `base.with_variant(other, dialect)`: `other` on those dialects, `base` elsewhere.
    Variant {
        base: Box<SqlType>,
        variants: Vec<(String, SqlType)>,
    },
    /// A type name as the database reports it (e.g. `VARCHAR(256)` from SQLite).
    Reflected(String),
}

impl SqlType {
    /// The type that applies on `dialect` (resolving `with_variant`). `mariadb` uses MySQL
    /// variants, as SQLAlchemy does.
    /// A dialect's own type resolves to what other dialects compile it as, where they can.
    pub fn for_dialect(&self, dialect: &str) -> &SqlType {
        let same = |d: &str| d == dialect || (dialect == "mariadb" && d == "mysql");
        match self {
            SqlType::Variant { base, variants } => variants
                .iter()
                .find(|(d, _)| same(d))
                .map(|(_, t)| t.for_dialect(dialect))
                .unwrap_or_else(|| base.for_dialect(dialect)),
            SqlType::DialectSpecific {
                dialect: own,
                elsewhere: Some(other),
                ..
            } if !same(own) => other.for_dialect(dialect),
            other => other,
        }
    }

    /// The dialect and name a dialect's own type was declared with, before `elsewhere`
    /// resolved it (`postgresql.JSONB` is PostgreSQL's even where SQLite's JSONB stands in).
    pub fn declared(&self) -> Option<(&str, &str)> {
        match self {
            SqlType::DialectSpecific { dialect, name, .. } => Some((dialect, name)),
            _ => None,
        }
    }

    /// A dialect's own type, compiled on other dialects as `elsewhere` (see
    /// [`SqlType::DialectSpecific`]).
    pub fn dialect_specific(
        dialect: &str,
        name: impl Into<String>,
        elsewhere: Option<SqlType>,
    ) -> SqlType {
        SqlType::DialectSpecific {
            dialect: dialect.to_string(),
            name: name.into(),
            elsewhere: elsewhere.map(Box::new),
        }
    }

    /// Boolean and Enum can carry a CHECK constraint of their own (SQLAlchemy "schema types").
    pub fn is_schema_type(&self) -> bool {
        matches!(self, SqlType::Boolean { .. } | SqlType::Enum { .. })
    }

    /// The storage affinity family SQLite would give this type, used to decide whether a batch
    /// copy needs a CAST (SQLAlchemy's `_type_affinity`, approximated by family).
    pub fn affinity(&self) -> Affinity {
        match self {
            SqlType::Varchar { .. }
            | SqlType::Char { .. }
            | SqlType::NVarchar { .. }
            | SqlType::Enum { .. }
            | SqlType::Text { .. } => Affinity::String,
            SqlType::Integer | SqlType::BigInteger | SqlType::SmallInteger => Affinity::Integer,
            SqlType::Float { .. } => Affinity::Float,
            SqlType::Numeric { .. } => Affinity::Numeric,
            SqlType::Boolean { .. } => Affinity::Boolean,
            SqlType::DateTime { .. } | SqlType::Timestamp { .. } => Affinity::DateTime,
            SqlType::Date => Affinity::Date,
            SqlType::Time { .. } => Affinity::Time,
            SqlType::Interval => Affinity::Interval,
            SqlType::LargeBinary { .. } => Affinity::Binary,
            SqlType::Json => Affinity::Json,
            SqlType::Uuid => Affinity::Uuid,
            SqlType::DialectSpecific { name, .. }
            | SqlType::Named(name)
            | SqlType::Reflected(name) => Affinity::of_name(name),
            SqlType::Variant { base, .. } => base.affinity(),
        }
    }
}

/// SQLAlchemy's type affinity classes, which decide CASTs in a batch table copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Affinity {
    /// Every string type, TEXT included (SQLAlchemy puts them in one family).
    String,
    Integer,
    Float,
    Numeric,
    Boolean,
    DateTime,
    Date,
    Time,
    Interval,
    Binary,
    Json,
    Uuid,
    Null,
}

impl Affinity {
    /// The affinity SQLAlchemy's reflection gives a reported type name.
    pub fn of_name(name: &str) -> Affinity {
        let upper = name.to_ascii_uppercase();
        let base = upper.split('(').next().unwrap_or("").trim();
        match base {
            "VARCHAR" | "NVARCHAR" | "CHAR" | "NCHAR" | "VARCHAR2" | "CHARACTER VARYING"
            | "CHARACTER" | "ENUM" | "TEXT" | "CLOB" | "MEDIUMTEXT" | "LONGTEXT" | "TINYTEXT" => {
                Affinity::String
            }
            "INTEGER" | "INT" | "BIGINT" | "SMALLINT" | "TINYINT" | "MEDIUMINT" => {
                Affinity::Integer
            }
            "FLOAT" | "REAL" | "DOUBLE" | "DOUBLE PRECISION" => Affinity::Float,
            "NUMERIC" | "DECIMAL" => Affinity::Numeric,
            "BOOLEAN" | "BOOL" => Affinity::Boolean,
            "DATETIME" | "TIMESTAMP" => Affinity::DateTime,
            "DATE" => Affinity::Date,
            "TIME" => Affinity::Time,
            "BLOB" | "BYTEA" | "VARBINARY" | "BINARY" | "LONGBLOB" | "MEDIUMBLOB" => {
                Affinity::Binary
            }
            "JSON" | "JSONB" => Affinity::Json,
            "UUID" => Affinity::Uuid,
            _ => Affinity::Null,
        }
    }
}
