//! `alter_column` on MySQL, as Alembic's MySQL implementation does it: MySQL cannot change one
//! property of a column, so the column is restated whole — `CHANGE old new <spec>` when it is
//! renamed (or is a DATETIME whose default may be a function), `MODIFY col <spec>` when its
//! type, nullability, autoincrement or comment changes, `ALTER COLUMN ... SET/DROP DEFAULT`
//! when only the default does.
//!
//! The restated column is built from the arguments alone, exactly as Alembic builds it: the type
//! is `type_` else `existing_type` (neither is an error, as in Alembic), nullability falls back
//! to `existing_nullable` and then to NULL, the default to `existing_server_default` and then to
//! none, the comment to `existing_comment`. So a script that leaves out `existing_*` loses the
//! default or the NOT NULL on MySQL, and the schema model records that loss, because it is what
//! the server holds afterwards. A new Boolean/Enum type's CHECK is added after the ALTER; the
//! old type's CHECK stays (Alembic does not drop type-bound CHECKs on MySQL).

use super::ddl::{default_text, type_sql};
use super::{quote, string_literal, Mysql};
use crate::dialect::{Dialect, RenderError};
use crate::ir::{Affinity, AlterColumn, Autoincrement, Op, ServerDefault, SqlType};
use crate::schema::{schema_type_check, SchemaError, SchemaModel};

fn column_missing(a: &AlterColumn) -> RenderError {
    SchemaError::NoColumn {
        table: a.table.clone(),
        column: a.column.clone(),
    }
    .into()
}

/// The statements of one `alter_column` on MySQL: the column restated whole (`CHANGE` or
/// `MODIFY`) or only its default set or dropped, then a new Boolean/Enum type's CHECK.
pub(super) fn render(
    dialect: &Mysql,
    model: &mut SchemaModel,
    a: &AlterColumn,
) -> Result<Vec<String>, RenderError> {
    model
        .table(&a.table)
        .ok_or_else(|| SchemaError::NoTable(a.table.clone()))?
        .column(&a.column)
        .ok_or_else(|| column_missing(a))?;
    let ty = a.type_.as_ref().or(a.existing_type.as_ref());
    // Alembic takes the CHANGE form for a DATETIME unless the default is explicitly removed.
    let datetime = ty.is_some_and(|t| t.for_dialect("mysql").affinity() == Affinity::DateTime);
    let change = a.new_name.is_some() || (datetime && !matches!(a.server_default, Some(None)));
    let modify = a.nullable.is_some()
        || a.type_.is_some()
        || a.autoincrement.is_some()
        || a.comment.is_some();
    let mut out = Vec::new();
    if change || modify {
        out.push(restate(dialect, model, a, ty, change)?);
    } else if let Some(d) = &a.server_default {
        out.push(alter_default(model, a, d.as_ref())?);
    }
    if let Some(new_type) = &a.type_ {
        // Alembic names the column by its old name here, as it does.
        if let Some(check) = schema_type_check(&a.column, new_type.for_dialect("mysql")) {
            out.extend(dialect.render(
                model,
                &Op::AddConstraint {
                    table: a.table.clone(),
                    constraint: check,
                },
            )?);
        }
    }
    Ok(out)
}

/// The `CHANGE` (when `change`) or `MODIFY` statement restating the column of type `ty` from
/// the arguments alone; `model` records the column as the server then holds it.
fn restate(
    dialect: &Mysql,
    model: &mut SchemaModel,
    a: &AlterColumn,
    ty: Option<&SqlType>,
    change: bool,
) -> Result<String, RenderError> {
    let ty = ty.ok_or_else(|| {
        RenderError::Unsupported(format!(
            "alter_column('{}', '{}') needs existing_type= (or type_=) on MySQL: MySQL \
             restates the whole column with MODIFY/CHANGE, and Alembic refuses to guess its type",
            a.table, a.column
        ))
    })?;
    let nullable = a.nullable.or(a.existing_nullable).unwrap_or(true);
    let default = match &a.server_default {
        Some(d) => d.clone(),
        None => a.existing_server_default.clone(),
    };
    let comment = match &a.comment {
        Some(c) => c.clone(),
        None => a.existing_comment.clone(),
    };
    let autoincrement = a.autoincrement == Some(true);
    let mut spec = format!(
        "{} {}",
        type_sql(
            ty,
            dialect.native_uuid(),
            &format!("{}.{}", a.table, a.column)
        )?,
        if nullable { "NULL" } else { "NOT NULL" }
    );
    if autoincrement {
        spec += " AUTO_INCREMENT";
    }
    if let Some(d) = &default {
        spec += &format!(" DEFAULT {}", default_text(d));
    }
    if let Some(c) = &comment {
        spec += &format!(" COMMENT {}", string_literal(c));
    }
    let sql = if change {
        format!(
            "ALTER TABLE {} CHANGE {} {} {spec}",
            quote(&a.table),
            quote(&a.column),
            quote(a.new_name.as_deref().unwrap_or(&a.column))
        )
    } else {
        format!(
            "ALTER TABLE {} MODIFY {} {spec}",
            quote(&a.table),
            quote(&a.column)
        )
    };
    // The model renames references; the column itself becomes what was restated.
    model.apply(&Op::AlterColumn(a.clone()))?;
    let name = a.new_name.as_deref().unwrap_or(&a.column);
    let col = model
        .table_mut(&a.table)?
        .column_mut(name)
        .ok_or_else(|| column_missing(a))?;
    col.ty = ty.clone();
    // A primary key column stays NOT NULL whatever MODIFY says.
    col.nullable = nullable && !col.primary_key;
    col.server_default = default;
    col.comment = comment;
    col.autoincrement = if autoincrement {
        Autoincrement::Yes
    } else {
        Autoincrement::No
    };
    Ok(sql)
}

/// The `ALTER COLUMN ... SET DEFAULT` (or `DROP DEFAULT`, when `default` is `None`) statement;
/// `model` records the new default.
fn alter_default(
    model: &mut SchemaModel,
    a: &AlterColumn,
    default: Option<&ServerDefault>,
) -> Result<String, RenderError> {
    let sql = format!(
        "ALTER TABLE {} ALTER COLUMN {} {}",
        quote(&a.table),
        quote(&a.column),
        match default {
            Some(d) => format!("SET DEFAULT {}", default_text(d)),
            None => "DROP DEFAULT".into(),
        }
    );
    model
        .table_mut(&a.table)?
        .column_mut(&a.column)
        .ok_or_else(|| column_missing(a))?
        .server_default = default.cloned();
    Ok(sql)
}
