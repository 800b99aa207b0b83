//! `Table(name, metadata, autoload_with=bind)`: a table's columns, keys, constraints and
//! indexes as the compiler's inspector reports them (SQLAlchemy's reflection, answered from
//! the schema model rather than a database).

use crate::interp::{Ctx, Result, Value};
use crate::ir::ServerDefault;

use super::args::{items, opt_bool, opt_string};
use super::column::{ColumnCell, ColumnDef};
use super::constraint::{
    CheckText, ColRef, ConstraintDef, ConstraintObj, FkOptions, FkTarget, IndexItem, IndexObj,
};
use super::table::TableRef;
use super::type_objects::to_type;
use super::Hooks;

fn dict_get(d: &Value, key: &str) -> Value {
    match d {
        Value::Dict(d) => d
            .borrow()
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map_or(Value::None, |(_, v)| v.clone()),
        _ => Value::None,
    }
}

fn str_list(v: &Value, ctx: &mut Ctx) -> Result<Vec<String>> {
    if v.is_none() {
        return Ok(Vec::new());
    }
    items(v, ctx)?
        .iter()
        .map(|i| {
            i.as_str().map(str::to_string).ok_or_else(|| {
                ctx.native_error(
                    "sqlalchemy.Table",
                    "the inspector returned a column that is not a name",
                )
            })
        })
        .collect()
}

fn inspect_call(inspector: &Value, method: &str, table: &str, ctx: &mut Ctx) -> Result<Value> {
    let f = ctx.getattr(inspector, method)?;
    ctx.call(&f, vec![Value::str(table)], Vec::new())
}

/// The callee named in reflection errors.
const CALLEE: &str = "sqlalchemy.Table";

/// The string under `key` in one of the inspector's dicts, `None` when absent or `None`.
fn entry_str(d: &Value, key: &str, ctx: &Ctx) -> Result<Option<String>> {
    opt_string(Some(dict_get(d, key)), CALLEE, key, ctx)
}

/// The boolean under `key` in one of the inspector's dicts, `None` when absent or `None`.
fn entry_bool(d: &Value, key: &str, ctx: &Ctx) -> Result<Option<bool>> {
    opt_bool(Some(dict_get(d, key)), CALLEE, key, ctx)
}

/// The names listed under `key` in one of the inspector's dicts, as column references.
fn col_refs(d: &Value, key: &str, ctx: &mut Ctx) -> Result<Vec<ColRef>> {
    Ok(str_list(&dict_get(d, key), ctx)?
        .into_iter()
        .map(ColRef::Name)
        .collect())
}

/// Adds a reflected constraint to the table's items.
fn push_constraint(table: &TableRef, def: ConstraintDef) {
    table
        .items
        .borrow_mut()
        .push(Value::native(ConstraintObj(def)));
}

/// `Table(name, metadata, autoload_with=bind)`: columns and constraints from the inspector.
pub(crate) fn reflect(table: &TableRef, bind: &Value, hooks: &Hooks, ctx: &mut Ctx) -> Result<()> {
    let Some(inspect) = hooks.inspect.clone() else {
        return Err(
            ctx.native_unsupported(CALLEE, "`autoload_with=` (no inspector is available here)")
        );
    };
    let inspector = inspect(bind, ctx)?;
    let name = table.name.clone();
    let pk = inspect_call(&inspector, "get_pk_constraint", &name, ctx)?;
    let pk_cols = str_list(&dict_get(&pk, "constrained_columns"), ctx)?;
    let columns = inspect_call(&inspector, "get_columns", &name, ctx)?;
    reflect_columns(table, &columns, &pk_cols, ctx)?;
    if !pk_cols.is_empty() {
        let name = entry_str(&pk, "name", ctx)?;
        let columns = pk_cols.into_iter().map(ColRef::Name).collect();
        push_constraint(table, ConstraintDef::PrimaryKey { name, columns });
    }
    for fk in items(
        &inspect_call(&inspector, "get_foreign_keys", &name, ctx)?,
        ctx,
    )? {
        push_constraint(table, foreign_key(&fk, ctx)?);
    }
    for uq in items(
        &inspect_call(&inspector, "get_unique_constraints", &name, ctx)?,
        ctx,
    )? {
        let columns = col_refs(&uq, "column_names", ctx)?;
        let name = entry_str(&uq, "name", ctx)?;
        push_constraint(table, ConstraintDef::Unique { name, columns });
    }
    for ck in items(
        &inspect_call(&inspector, "get_check_constraints", &name, ctx)?,
        ctx,
    )? {
        let text = entry_str(&ck, "sqltext", ctx)?.unwrap_or_default();
        let name = entry_str(&ck, "name", ctx)?;
        let sqltext = CheckText::Str(text);
        push_constraint(table, ConstraintDef::Check { name, sqltext });
    }
    for ix in items(&inspect_call(&inspector, "get_indexes", &name, ctx)?, ctx)? {
        if let Some(index) = index(&ix, ctx)? {
            table.items.borrow_mut().push(Value::native(index));
        }
    }
    Ok(())
}

/// Adds a column to `table` for each dict of `get_columns`, marking those in `pk_cols` as
/// primary key columns.
fn reflect_columns(
    table: &TableRef,
    columns: &Value,
    pk_cols: &[String],
    ctx: &mut Ctx,
) -> Result<()> {
    for c in items(columns, ctx)? {
        let col_name = entry_str(&c, "name", ctx)?.unwrap_or_default();
        let ty = to_type(&dict_get(&c, "type"), ctx)?;
        let default = entry_str(&c, "default", ctx)?;
        let def = ColumnDef {
            primary_key: pk_cols.contains(&col_name),
            name: Some(col_name),
            ty: Some(ty),
            nullable: entry_bool(&c, "nullable", ctx)?,
            server_default: default.map(ServerDefault::Sql),
            comment: entry_str(&c, "comment", ctx)?,
            ..ColumnDef::default()
        };
        table.add_column(&ColumnCell::new(true, def), ctx)?;
    }
    Ok(())
}

/// The foreign key constraint described by one dict of `get_foreign_keys`.
fn foreign_key(fk: &Value, ctx: &mut Ctx) -> Result<ConstraintDef> {
    let referred = entry_str(fk, "referred_table", ctx)?.unwrap_or_default();
    let columns = col_refs(fk, "constrained_columns", ctx)?;
    let targets = str_list(&dict_get(fk, "referred_columns"), ctx)?
        .into_iter()
        .map(|c| FkTarget::Spec(format!("{referred}.{c}")))
        .collect();
    let opts = dict_get(fk, "options");
    let options = FkOptions {
        name: entry_str(fk, "name", ctx)?,
        ondelete: entry_str(&opts, "ondelete", ctx)?,
        onupdate: entry_str(&opts, "onupdate", ctx)?,
        deferrable: entry_bool(&opts, "deferrable", ctx)?,
        initially: entry_str(&opts, "initially", ctx)?,
        use_alter: false,
    };
    Ok(ConstraintDef::ForeignKey {
        columns,
        targets,
        options,
    })
}

/// The index described by one dict of `get_indexes`; none for an index on expressions, which
/// SQLAlchemy skips (with a warning) when it reflects a table from SQLite. (From PostgreSQL it
/// reflects their text: a table reflected here and then used for DDL lacks them.)
fn index(ix: &Value, ctx: &mut Ctx) -> Result<Option<IndexObj>> {
    let cols = items(&dict_get(ix, "column_names"), ctx)?;
    let mut index_items = Vec::new();
    for c in cols {
        match c.as_str() {
            Some(n) => index_items.push(IndexItem::Column(ColRef::Name(n.to_string()))),
            None => return Ok(None),
        }
    }
    Ok(Some(IndexObj {
        name: entry_str(ix, "name", ctx)?,
        items: index_items,
        unique: entry_bool(ix, "unique", ctx)?.unwrap_or(false),
        options: Vec::new(),
    }))
}
