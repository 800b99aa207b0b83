//! How SQLAlchemy's PostgreSQL compiler spells types, column specifications, constraints,
//! tables and indexes; no statement order and no schema model here (that is `mod.rs`).

use super::quote;
use crate::dialect::spelling::Spelling;
use crate::dialect::{string_literal, RenderError, SqlAlchemy};
use crate::ir::{
    Autoincrement, Column, Constraint, ConstraintKind, DialectOption, Index, IndexPart,
    ServerDefault, SqlType, Table,
};

/// PostgreSQL's longest name, which SQLAlchemy enforces on the names a script gives
/// constraints and indexes (it refuses a longer one rather than let the server cut it).
const MAX_IDENTIFIER: usize = 63;

fn unsupported(msg: impl Into<String>) -> RenderError {
    RenderError::Unsupported(msg.into())
}

/// A constraint or index name as SQLAlchemy writes it: quoted as needed, refused when long.
pub(crate) fn checked_name(name: &str) -> Result<String, RenderError> {
    if name.chars().count() > MAX_IDENTIFIER {
        return Err(unsupported(format!(
            "identifier '{name}' exceeds PostgreSQL's maximum length of {MAX_IDENTIFIER} characters (SQLAlchemy refuses it)"
        )));
    }
    Ok(quote(name))
}

/// The type name the PostgreSQL type compiler of SQLAlchemy `sa` writes.
pub(crate) fn type_sql(ty: &SqlType, sa: SqlAlchemy) -> Result<String, RenderError> {
    let len = |n: &Option<u32>, base: &str| match n {
        Some(n) => format!("{base}({n})"),
        None => base.to_string(),
    };
    let zone = |tz: bool| {
        if tz {
            "WITH TIME ZONE"
        } else {
            "WITHOUT TIME ZONE"
        }
    };
    Ok(match ty.for_dialect("postgresql") {
        SqlType::Varchar { length, collation } => {
            let mut s = len(length, "VARCHAR");
            if let Some(c) = collation {
                s += &format!(" COLLATE {}", crate::dialect::sqlite::collation_name(c, sa));
            }
            s
        }
        SqlType::Char { length } => len(length, "CHAR"),
        SqlType::NVarchar { length } => len(length, "NVARCHAR"),
        SqlType::Text { length } => len(length, "TEXT"),
        SqlType::Integer => "INTEGER".into(),
        SqlType::BigInteger => "BIGINT".into(),
        SqlType::SmallInteger => "SMALLINT".into(),
        SqlType::Float { double: true, .. } => "DOUBLE PRECISION".into(),
        SqlType::Float { precision, .. } => len(precision, "FLOAT"),
        SqlType::Numeric { precision, scale } => match (precision, scale) {
            (Some(p), Some(s)) => format!("NUMERIC({p}, {s})"),
            (Some(p), None) => format!("NUMERIC({p})"),
            _ => "NUMERIC".into(),
        },
        SqlType::Boolean { .. } => "BOOLEAN".into(),
        SqlType::DateTime { timezone } | SqlType::Timestamp { timezone } => {
            format!("TIMESTAMP {}", zone(*timezone))
        }
        SqlType::Date => "DATE".into(),
        SqlType::Time { timezone } => format!("TIME {}", zone(*timezone)),
        SqlType::Interval => "INTERVAL".into(),
        SqlType::LargeBinary { .. } => "BYTEA".into(),
        SqlType::Json => "JSON".into(),
        SqlType::Uuid => "UUID".into(),
        SqlType::Enum {
            native: true, name, ..
        } => quote(name.as_deref().ok_or_else(|| {
            unsupported("a native PostgreSQL ENUM type requires a name (Enum(..., name=...))")
        })?),
        SqlType::Enum { values, length, .. } => {
            let longest = values.iter().map(|v| v.chars().count()).max().unwrap_or(0) as u32;
            format!("VARCHAR({})", length.unwrap_or(longest))
        }
        SqlType::DialectSpecific { dialect, name, .. } if dialect == "postgresql" => name.clone(),
        SqlType::DialectSpecific { dialect, name, .. } => {
            let (dialect, name) = ty.declared().unwrap_or((dialect, name));
            return Err(unsupported(format!(
                "the {dialect} type {name} has no PostgreSQL spelling (SQLAlchemy cannot compile it either); use with_variant"
            )));
        }
        SqlType::Named(name) | SqlType::Reflected(name) => name.clone(),
        SqlType::Variant { base, .. } => type_sql(base, sa)?,
    })
}

pub(crate) fn bool_text(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}

/// A DEFAULT clause's text: strings as quoted literals, SQL as written (PostgreSQL needs no
/// parentheses), `sa.true()`/`sa.false()` as `true`/`false`.
pub(crate) fn default_sql(d: &ServerDefault) -> String {
    match d {
        ServerDefault::Literal(s) => string_literal(s),
        ServerDefault::Sql(s) => s.clone(),
        ServerDefault::Bool(b) => bool_text(*b).to_string(),
    }
}

fn is_integer(ty: &SqlType) -> bool {
    matches!(
        ty.for_dialect("postgresql"),
        SqlType::Integer | SqlType::BigInteger | SqlType::SmallInteger
    )
}

/// The column SQLAlchemy treats as the table's autoincrement column (`_autoincrement_column`):
/// the one integer primary key column with `autoincrement` left "auto", no server default and
/// no foreign key, or the primary key column marked `autoincrement=True`. Client-side defaults
/// (which would disqualify it) never reach the IR.
pub(crate) fn autoincrement_column(table: &Table) -> Option<&Column> {
    let pk_cols: Vec<&str> = match table.primary_key() {
        Some(pk) => pk.columns().iter().map(String::as_str).collect(),
        None => table
            .columns
            .iter()
            .filter(|c| c.primary_key)
            .map(|c| c.name.as_str())
            .collect(),
    };
    let cols: Vec<&Column> = pk_cols.iter().filter_map(|n| table.column(n)).collect();
    match cols.as_slice() {
        [col] => match col.autoincrement {
            Autoincrement::Yes => Some(col),
            Autoincrement::Auto => {
                let has_fk = !col.foreign_keys.is_empty()
                    || table.constraints.iter().any(|c| {
                        c.kind() == ConstraintKind::ForeignKey && c.columns().contains(&col.name)
                    });
                (is_integer(&col.ty) && col.server_default.is_none() && !has_fk).then_some(*col)
            }
            Autoincrement::No => None,
        },
        _ => cols
            .into_iter()
            .find(|c| c.autoincrement == Autoincrement::Yes),
    }
}

/// `name TYPE [DEFAULT x] [GENERATED ...] [NOT NULL]`; `serial` renders SERIAL/BIGSERIAL/
/// SMALLSERIAL in place of the type and default (the autoincrement primary key column).
pub(crate) fn column_spec(
    col: &Column,
    serial: bool,
    sa: SqlAlchemy,
) -> Result<String, RenderError> {
    let mut spec = quote(&col.name);
    let serial = serial && col.identity.is_none();
    if serial {
        spec += match col.ty.for_dialect("postgresql") {
            SqlType::BigInteger => " BIGSERIAL",
            SqlType::SmallInteger => " SMALLSERIAL",
            _ => " SERIAL",
        };
    } else {
        spec += &format!(" {}", type_sql(&col.ty, sa)?);
        if let Some(d) = &col.server_default {
            spec += &format!(" DEFAULT {}", default_sql(d));
        }
    }
    if let Some(c) = &col.computed {
        // PostgreSQL before 18 has stored generated columns only; SQLAlchemy connected to
        // such a server writes STORED when `persisted` is left unset.
        if c.persisted == Some(false) {
            return Err(unsupported(format!(
                "column '{}': PostgreSQL (before 18) has no VIRTUAL generated columns; use persisted=True",
                col.name
            )));
        }
        spec += &format!(" GENERATED ALWAYS AS ({}) STORED", c.sqltext);
    }
    if let Some(id) = &col.identity {
        spec += if id.always {
            " GENERATED ALWAYS AS IDENTITY"
        } else {
            " GENERATED BY DEFAULT AS IDENTITY"
        };
        let mut options = Vec::new();
        if let Some(i) = id.increment {
            options.push(format!("INCREMENT BY {i}"));
        }
        if let Some(s) = id.start {
            options.push(format!("START WITH {s}"));
        }
        if !options.is_empty() {
            spec += &format!(" ({})", options.join(" "));
        }
        if col.nullable {
            spec += " NULL";
        }
    } else if !col.nullable {
        spec += " NOT NULL";
    }
    Ok(spec)
}

fn column_list(cols: &[String]) -> String {
    cols.iter().map(|c| quote(c)).collect::<Vec<_>>().join(", ")
}

/// PostgreSQL's spelling: SQLAlchemy's default, with an autoincrement column first in a
/// primary key (as SQLAlchemy writes CREATE TABLE).
struct Spelled<'a> {
    autoinc: Option<&'a str>,
}

impl Spelling for Spelled<'_> {
    fn ident(&self, name: &str) -> String {
        quote(name)
    }

    fn primary_key_order(&self, columns: &[String]) -> Vec<String> {
        let first = self.autoinc.filter(|a| columns.iter().any(|c| c == a));
        first
            .into_iter()
            .map(str::to_string)
            .chain(
                columns
                    .iter()
                    .filter(|c| Some(c.as_str()) != first)
                    .cloned(),
            )
            .collect()
    }
}

/// A constraint as it appears in CREATE TABLE or after `ALTER TABLE ... ADD`; a name longer
/// than PostgreSQL keeps is refused. `autoinc` puts that column first in a primary key.
pub(crate) fn constraint_sql(c: &Constraint, autoinc: Option<&str>) -> Result<String, RenderError> {
    if let Some(name) = c.name() {
        checked_name(name)?;
    }
    Ok(Spelled { autoinc }.constraint_sql(c))
}

/// `CREATE TABLE` for a table as the schema model holds it (constraints table-level).
pub(crate) fn create_table_sql(
    table: &Table,
    autoinc: Option<&str>,
    sa: SqlAlchemy,
) -> Result<String, RenderError> {
    let mut items = Vec::with_capacity(table.columns.len() + table.constraints.len());
    for c in &table.columns {
        items.push(column_spec(c, Some(c.name.as_str()) == autoinc, sa)?);
    }
    if let Some(pk) = table.primary_key() {
        items.push(constraint_sql(pk, autoinc)?);
    }
    for c in &table.constraints {
        if c.kind() != ConstraintKind::PrimaryKey {
            items.push(constraint_sql(c, None)?);
        }
    }
    Ok(format!(
        "CREATE TABLE {} (\n\t{}\n)",
        quote(&table.name),
        items.join(", \n\t")
    ))
}

/// `CREATE TYPE ... AS ENUM` for each native, named enum among the columns, once per name
/// (what SQLAlchemy's table events run before CREATE TABLE). A type a table of `model` already
/// uses is there: SQLAlchemy remembers the types it created for the whole run (its DDL runner's
/// memo), so a second table with the same enum does not create it again.
pub(crate) fn create_enum_types(
    model: &crate::schema::SchemaModel,
    table: &Table,
) -> Result<Vec<String>, RenderError> {
    let mut seen = enum_types_in_use(model);
    let mut out = Vec::new();
    for col in &table.columns {
        if let SqlType::Enum {
            native: true,
            name,
            values,
            ..
        } = col.ty.for_dialect("postgresql")
        {
            let name = name.as_deref().ok_or_else(|| {
                unsupported(format!(
                    "column '{}.{}': a native PostgreSQL ENUM type requires a name",
                    table.name, col.name
                ))
            })?;
            if !seen.contains(&name) {
                seen.push(name);
                out.push(create_enum_type_sql(name, values));
            }
        }
    }
    Ok(out)
}

/// The named native enum types the model's columns use: types that exist on PostgreSQL.
pub(crate) fn enum_types_in_use(model: &crate::schema::SchemaModel) -> Vec<&str> {
    model
        .tables
        .iter()
        .flat_map(|t| &t.columns)
        .filter_map(|c| match c.ty.for_dialect("postgresql") {
            SqlType::Enum {
                native: true,
                name: Some(name),
                ..
            } => Some(name.as_str()),
            _ => None,
        })
        .collect()
}

/// `CREATE TYPE name AS ENUM ('a', 'b')`.
pub(crate) fn create_enum_type_sql(name: &str, values: &[String]) -> String {
    let labels: Vec<String> = values.iter().map(|v| string_literal(v)).collect();
    format!(
        "CREATE TYPE {} AS ENUM ({})",
        quote(name),
        labels.join(", ")
    )
}

/// `COMMENT ON COLUMN t.c IS ...` (`None`: remove the comment).
pub(crate) fn column_comment_sql(table: &str, column: &str, comment: Option<&str>) -> String {
    format!(
        "COMMENT ON COLUMN {}.{} IS {}",
        quote(table),
        quote(column),
        comment.map_or_else(|| "NULL".to_string(), string_literal)
    )
}

pub(crate) fn table_comment_sql(table: &str, comment: &str) -> String {
    format!(
        "COMMENT ON TABLE {} IS {}",
        quote(table),
        string_literal(comment)
    )
}

/// `CREATE [UNIQUE] INDEX` with SQLAlchemy's PostgreSQL options: `postgresql_using`,
/// `_include`, `_where`, `_concurrently`, `_nulls_not_distinct`, `_with`, `_tablespace`, and
/// `_ops` (text after a column: an operator class, or an order such as `DESC`).
pub(crate) fn create_index_sql(index: &Index) -> Result<String, RenderError> {
    let mut ops: &[(String, String)] = &[];
    let mut using = None;
    let mut include = None;
    let mut where_ = None;
    let mut concurrently = false;
    let mut nulls = "";
    let mut with = None;
    let mut tablespace = None;
    for (key, value) in &index.dialect_options {
        let Some(option) = key.strip_prefix("postgresql_") else {
            continue; // another dialect's option
        };
        match (option, value) {
            ("using", DialectOption::Str(s)) => using = Some(s.to_lowercase()),
            ("include", DialectOption::Names(n)) => include = Some(column_list(n)),
            ("where", DialectOption::Sql(s) | DialectOption::Str(s)) => where_ = Some(s.clone()),
            ("concurrently", DialectOption::Bool(b)) => concurrently = *b,
            ("nulls_not_distinct", DialectOption::Bool(true)) => nulls = " NULLS NOT DISTINCT",
            ("nulls_not_distinct", DialectOption::Bool(false)) => nulls = " NULLS DISTINCT",
            ("with", DialectOption::PerColumn(pairs)) => {
                let opts: Vec<String> = pairs.iter().map(|(k, v)| format!("{k} = {v}")).collect();
                with = Some(opts.join(", "));
            }
            ("tablespace", DialectOption::Str(s)) => tablespace = Some(quote(s)),
            ("ops", DialectOption::PerColumnText(pairs)) => ops = pairs,
            _ => {
                return Err(unsupported(format!(
                    "index '{}': the option {key}={value:?} is not modeled for PostgreSQL",
                    index.name
                )))
            }
        }
    }
    let parts: Vec<String> = index
        .parts
        .iter()
        .map(|p| match p {
            IndexPart::Column(c) => match ops.iter().find(|(name, _)| name == c) {
                Some((_, op)) => format!("{} {op}", quote(c)),
                None => quote(c),
            },
            IndexPart::Expression(e) => e.clone(),
        })
        .collect();
    let mut sql = format!(
        "CREATE {}INDEX {}{} ON {} ",
        if index.unique { "UNIQUE " } else { "" },
        if concurrently { "CONCURRENTLY " } else { "" },
        checked_name(&index.name)?,
        quote(&index.table)
    );
    if let Some(u) = using {
        sql += &format!("USING {u} ");
    }
    sql += &format!("({})", parts.join(", "));
    if let Some(i) = include {
        sql += &format!(" INCLUDE ({i})");
    }
    sql += nulls;
    if let Some(w) = with {
        sql += &format!(" WITH ({w})");
    }
    if let Some(t) = tablespace {
        sql += &format!(" TABLESPACE {t}");
    }
    if let Some(w) = where_ {
        sql += &format!(" WHERE {w}");
    }
    Ok(sql)
}
