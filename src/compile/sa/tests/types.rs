//! Types: each class with its defaults, dialect spellings, `with_variant`, `isinstance`.

use super::{convert, convert_err, run};
use crate::compile::sa::to_type;
use crate::ir::SqlType;

fn ty(expr: &str) -> SqlType {
    convert(expr, to_type)
}

fn dialect(d: &str, name: &str) -> SqlType {
    SqlType::dialect_specific(d, name, None)
}

/// A dialect type as its own dialect spells it (what other dialects make of it left out).
fn own(expr: &str) -> SqlType {
    match ty(expr) {
        SqlType::DialectSpecific { dialect, name, .. } => {
            SqlType::dialect_specific(&dialect, name, None)
        }
        other => other,
    }
}

#[test]
fn string_types_default_to_no_length_and_no_collation() {
    assert_eq!(
        ty("sa.String()"),
        SqlType::Varchar {
            length: None,
            collation: None
        }
    );
    assert_eq!(
        ty("sa.String(255)"),
        SqlType::Varchar {
            length: Some(255),
            collation: None
        }
    );
    assert_eq!(
        ty("sa.String(length=32, collation='utf8_bin')"),
        SqlType::Varchar {
            length: Some(32),
            collation: Some("utf8_bin".into())
        }
    );
    assert_eq!(
        ty("sa.VARCHAR(10)"),
        SqlType::Varchar {
            length: Some(10),
            collation: None
        }
    );
    assert_eq!(
        ty("sa.Unicode(10)"),
        SqlType::Varchar {
            length: Some(10),
            collation: None
        }
    );
    assert_eq!(ty("sa.CHAR(3)"), SqlType::Char { length: Some(3) });
    assert_eq!(
        ty("sa.NVARCHAR(20)"),
        SqlType::NVarchar { length: Some(20) }
    );
    assert_eq!(ty("sa.Text()"), SqlType::Text { length: None });
    assert_eq!(ty("sa.TEXT(100)"), SqlType::Text { length: Some(100) });
    assert_eq!(ty("sa.UnicodeText()"), SqlType::Text { length: None });
}

#[test]
fn classes_are_accepted_where_instances_are() {
    assert_eq!(ty("sa.Integer"), SqlType::Integer);
    assert_eq!(ty("sa.INTEGER"), SqlType::Integer);
    assert_eq!(ty("sa.INT"), SqlType::Integer);
    assert_eq!(ty("sa.BigInteger"), SqlType::BigInteger);
    assert_eq!(ty("sa.BIGINT()"), SqlType::BigInteger);
    assert_eq!(ty("sa.SmallInteger()"), SqlType::SmallInteger);
    assert_eq!(ty("sa.TEXT"), SqlType::Text { length: None });
    assert_eq!(ty("sa.Date"), SqlType::Date);
    assert_eq!(ty("sa.JSON"), SqlType::Json);
    assert_eq!(ty("sa.LargeBinary"), SqlType::LargeBinary { length: None });
}

#[test]
fn numeric_types_keep_precision_and_ignore_python_side_options() {
    assert_eq!(
        ty("sa.Float(precision=53)"),
        SqlType::Float {
            precision: Some(53),
            double: false
        }
    );
    assert_eq!(
        ty("sa.types.Float(asdecimal=True)"),
        SqlType::Float {
            precision: None,
            double: false
        }
    );
    assert_eq!(
        ty("sa.Double()"),
        SqlType::Float {
            precision: None,
            double: true
        }
    );
    assert_eq!(
        ty("sa.Numeric(10, 2)"),
        SqlType::Numeric {
            precision: Some(10),
            scale: Some(2)
        }
    );
    assert_eq!(
        ty("sa.Numeric()"),
        SqlType::Numeric {
            precision: None,
            scale: None
        }
    );
}

#[test]
fn boolean_has_no_constraint_unless_asked() {
    assert_eq!(
        ty("sa.Boolean()"),
        SqlType::Boolean {
            create_constraint: false,
            name: None
        }
    );
    assert_eq!(
        ty("sa.types.Boolean(create_constraint=True, name='ck_flag')"),
        SqlType::Boolean {
            create_constraint: true,
            name: Some("ck_flag".into())
        }
    );
}

#[test]
fn date_and_time_types() {
    assert_eq!(ty("sa.DateTime()"), SqlType::DateTime { timezone: false });
    assert_eq!(
        ty("sa.DateTime(timezone=True)"),
        SqlType::DateTime { timezone: true }
    );
    assert_eq!(ty("sa.Time()"), SqlType::Time { timezone: false });
    assert_eq!(ty("sa.Interval()"), SqlType::Interval);
    assert_eq!(ty("sa.Uuid()"), SqlType::Uuid);
}

#[test]
fn enum_is_native_without_constraint_and_as_long_as_its_longest_value() {
    assert_eq!(
        ty("sa.Enum('a', 'bb')"),
        SqlType::Enum {
            values: vec!["a".into(), "bb".into()],
            name: None,
            native: true,
            create_constraint: false,
            length: Some(2)
        }
    );
    assert_eq!(
        ty("sa.Enum('RUNNING', 'KILLED', create_constraint=True, native_enum=False, name='status')"),
        SqlType::Enum {
            values: vec!["RUNNING".into(), "KILLED".into()],
            name: Some("status".into()),
            native: false,
            create_constraint: true,
            length: Some(7),
        }
    );
    assert_eq!(
        ty("sa.Enum('a', length=20)"),
        SqlType::Enum {
            values: vec!["a".into()],
            name: None,
            native: true,
            create_constraint: false,
            length: Some(20)
        }
    );
}

#[test]
fn enum_shorter_than_its_values_is_a_value_error() {
    let err = super::run_err("import sqlalchemy as sa\nsa.Enum('abc', length=1)\n");
    assert!(err.contains("ValueError") && err.contains("1 < 3"), "{err}");
}

#[test]
fn enum_of_a_python_enum_class_is_refused() {
    let err =
        super::run_err("import sqlalchemy as sa\nclass Color:\n    RED = 1\nsa.Enum(Color)\n");
    assert!(err.contains("Python enum classes"), "{err}");
}

#[test]
fn mysql_types_are_spelled_as_its_compiler_spells_them() {
    assert_eq!(own("mysql.MEDIUMTEXT"), dialect("mysql", "MEDIUMTEXT"));
    assert_eq!(own("mysql.LONGTEXT()"), dialect("mysql", "LONGTEXT"));
    assert_eq!(own("mysql.LONGBLOB()"), dialect("mysql", "LONGBLOB"));
    assert_eq!(
        own("mysql.TINYINT(1, unsigned=True)"),
        dialect("mysql", "TINYINT(1) UNSIGNED")
    );
    assert_eq!(
        own("mysql.DATETIME(fsp=6)"),
        dialect("mysql", "DATETIME(6)")
    );
    assert_eq!(own("mysql.DATETIME()"), dialect("mysql", "DATETIME"));
    assert_eq!(
        own("mysql.VARCHAR(255, charset='utf8mb4', collation='utf8mb4_bin')"),
        dialect(
            "mysql",
            "VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
        )
    );
    assert_eq!(
        own("mysql.NVARCHAR(50)"),
        dialect("mysql", "NATIONAL VARCHAR(50)")
    );
    assert_eq!(
        own("mysql.TEXT(collation='utf8_bin')"),
        dialect("mysql", "TEXT COLLATE utf8_bin")
    );
    assert_eq!(
        own("mysql.DOUBLE(precision=10, scale=2)"),
        dialect("mysql", "DOUBLE(10, 2)")
    );
    assert_eq!(
        own("mysql.FLOAT(precision=10)"),
        dialect("mysql", "FLOAT(10)")
    );
    assert_eq!(own("mysql.DECIMAL(10)"), dialect("mysql", "DECIMAL(10)"));
    // Re-exports of generic types stay generic.
    assert_eq!(
        own("mysql.BOOLEAN()"),
        SqlType::Boolean {
            create_constraint: false,
            name: None
        }
    );
}

#[test]
fn mysql_varchar_without_a_length_is_refused() {
    let err = convert_err("mysql.VARCHAR", to_type);
    assert!(err.contains("requires a length on dialect mysql"), "{err}");
}

#[test]
fn mssql_and_postgresql_types() {
    assert_eq!(
        own("mssql.NVARCHAR(None)"),
        SqlType::NVarchar { length: None }
    );
    assert_eq!(own("mssql.JSON"), dialect("mssql", "NVARCHAR(max)"));
    assert_eq!(own("mssql.VARBINARY()"), dialect("mssql", "VARBINARY(max)"));
    assert_eq!(
        own("mssql.DATETIME2(precision=3)"),
        dialect("mssql", "DATETIME2(3)")
    );
    assert_eq!(own("postgresql.JSONB"), dialect("postgresql", "JSONB"));
    assert_eq!(
        own("postgresql.UUID(as_uuid=True)"),
        dialect("postgresql", "UUID")
    );
    assert_eq!(
        own("postgresql.TIMESTAMP(timezone=True, precision=6)"),
        dialect("postgresql", "TIMESTAMP(6) WITH TIME ZONE")
    );
    assert_eq!(
        own("postgresql.INTERVAL(fields='DAY', precision=2)"),
        dialect("postgresql", "INTERVAL DAY (2)")
    );
}

#[test]
fn dialect_types_elsewhere_are_what_other_compilers_make_of_them() {
    let on = |expr: &str, d: &str| ty(expr).for_dialect(d).clone();
    assert_eq!(
        on("mysql.INTEGER(display_width=11)", "sqlite"),
        SqlType::Integer
    );
    assert_eq!(
        on("mysql.INTEGER(display_width=11)", "mariadb"),
        SqlType::dialect_specific("mysql", "INTEGER(11)", Some(SqlType::Integer))
    );
    assert_eq!(
        on("postgresql.TIMESTAMP(timezone=True)", "sqlite"),
        SqlType::Timestamp { timezone: true }
    );
    assert_eq!(
        on("mysql.DATETIME(fsp=6)", "postgresql"),
        SqlType::Named("DATETIME".into())
    );
    // No other compiler has MEDIUMTEXT: it stays MySQL's, and rendering elsewhere refuses it.
    assert_eq!(
        on("mysql.MEDIUMTEXT", "sqlite"),
        dialect("mysql", "MEDIUMTEXT")
    );
    assert_eq!(on("postgresql.JSONB", "mysql"), dialect("sqlite", "JSONB"));
}

#[test]
fn with_variant_chains_accumulate_per_dialect() {
    let t = ty("sa.Text().with_variant(mysql.MEDIUMTEXT, 'mysql').with_variant(mssql.NVARCHAR(None), 'mssql')");
    assert_eq!(
        t,
        SqlType::Variant {
            base: Box::new(SqlType::Text { length: None }),
            variants: vec![
                ("mysql".into(), dialect("mysql", "MEDIUMTEXT")),
                ("mssql".into(), SqlType::NVarchar { length: None }),
            ],
        }
    );
    assert_eq!(t.for_dialect("mariadb"), &dialect("mysql", "MEDIUMTEXT"));
    assert_eq!(t.for_dialect("sqlite"), &SqlType::Text { length: None });
    assert_eq!(
        ty("sa.BigInteger().with_variant(sa.Integer(), 'sqlite')").for_dialect("sqlite"),
        &SqlType::Integer
    );
}

#[test]
fn a_dialect_twice_in_a_variant_is_an_argument_error() {
    let err = super::run_err("import sqlalchemy as sa\nsa.Text().with_variant(sa.String(1), 'mysql').with_variant(sa.String(2), 'mysql')\n");
    assert!(
        err.contains("ArgumentError") && err.contains("already present"),
        "{err}"
    );
}

#[test]
fn isinstance_follows_the_class_hierarchy() {
    let (_, ns) = run("import sqlalchemy as sa\n\
        from sqlalchemy.dialects.mysql import MEDIUMTEXT\n\
        a = isinstance(sa.VARCHAR(10), sa.String)\n\
        b = isinstance(sa.Integer(), sa.String)\n\
        c = isinstance(MEDIUMTEXT(), sa.Text)\n\
        d = isinstance(sa.Text().with_variant(MEDIUMTEXT, 'mysql'), sa.Text)\n\
        e = isinstance(sa.BIGINT(), sa.Integer)\n");
    let get = |n: &str| ns.get(n).and_then(|v| v.as_bool());
    assert_eq!(
        [get("a"), get("b"), get("c"), get("d"), get("e")],
        [Some(true), Some(false), Some(true), Some(true), Some(true)]
    );
}

#[test]
fn type_attributes_and_repr() {
    let (mut interp, ns) = run("import sqlalchemy as sa\n\
        t = sa.String(255)\n\
        n = t.length\n\
        tz = sa.DateTime(timezone=True).timezone\n\
        r = repr(t)\n\
        rb = repr(sa.Boolean(create_constraint=True))\n\
        re = repr(sa.Enum('a', 'b'))\n");
    assert_eq!(ns.get("n").and_then(|v| v.as_int()), Some(255));
    assert_eq!(ns.get("tz").and_then(|v| v.as_bool()), Some(true));
    let s = |n: &str| ns.get(n).and_then(|v| v.as_str().map(str::to_string));
    assert_eq!(s("r").as_deref(), Some("String(length=255)"));
    assert_eq!(s("rb").as_deref(), Some("Boolean(create_constraint=True)"));
    assert_eq!(s("re").as_deref(), Some("Enum('a', 'b')"));
    let _ = interp.ctx();
}

#[test]
fn upper_case_types_are_spelled_alike_everywhere_and_the_rest_refused() {
    let named = |s: &str| SqlType::Named(s.into());
    assert_eq!(ty("sa.DOUBLE_PRECISION(53)"), named("DOUBLE PRECISION"));
    assert_eq!(ty("sa.DATETIME(timezone=True)"), named("DATETIME"));
    assert_eq!(ty("sa.DECIMAL(10, 2)"), named("DECIMAL(10, 2)"));
    assert_eq!(ty("sa.DECIMAL(scale=2)"), named("DECIMAL"));
    assert_eq!(ty("sa.UUID(as_uuid=False)"), named("UUID"));
    // MySQL alone keeps a BLOB's length.
    assert_eq!(
        ty("sa.BLOB(100)").for_dialect("mariadb"),
        &SqlType::dialect_specific("mysql", "BLOB(100)", Some(named("BLOB")))
    );
    assert_eq!(ty("sa.BLOB(100)").for_dialect("sqlite"), &named("BLOB"));
    // The generic TIMESTAMP is modeled: `TIMESTAMP` everywhere, zoned on PostgreSQL.
    assert_eq!(
        ty("sa.TIMESTAMP(timezone=True)"),
        SqlType::Timestamp { timezone: true }
    );
    assert_eq!(ty("sa.TIMESTAMP"), SqlType::Timestamp { timezone: false });
    // NCHAR is NATIONAL CHAR on MySQL only; not modeled.
    let err = super::run_err("import sqlalchemy as sa\nsa.NCHAR(5)\n");
    assert!(err.contains("`sqlalchemy.NCHAR` is not modeled"), "{err}");
    // Importing them is fine.
    run("from sqlalchemy import TIMESTAMP, ARRAY\n");
}

#[test]
fn unknown_type_arguments_are_reported() {
    let err = super::run_err("import sqlalchemy as sa\nsa.String(10, bogus=1)\n");
    assert!(err.contains("`bogus` is not modeled"), "{err}");
}
