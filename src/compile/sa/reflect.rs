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

/// `Table(name, metadata, autoload_with=bind)`: columns and constraints from the inspector.
pub(crate) fn reflect(table: &TableRef, bind: &Value, hooks: &Hooks, ctx: &mut Ctx) -> Result<()> {
    let callee = "sqlalchemy.Table";
    let Some(inspect) = hooks.inspect.clone() else {
        return Err(
            ctx.native_unsupported(callee, "`autoload_with=` (no inspector is available here)")
        );
    };
    let inspector = inspect(bind, ctx)?;
    let name = table.name.clone();
    let pk = inspect_call(&inspector, "get_pk_constraint", &name, ctx)?;
    let pk_cols = str_list(&dict_get(&pk, "constrained_columns"), ctx)?;
    for c in items(&inspect_call(&inspector, "get_columns", &name, ctx)?, ctx)? {
        let col_name =
            opt_string(Some(dict_get(&c, "name")), callee, "name", ctx)?.unwrap_or_default();
        let ty = to_type(&dict_get(&c, "type"), ctx)?;
        let default = opt_string(Some(dict_get(&c, "default")), callee, "default", ctx)?;
        let def = ColumnDef {
            primary_key: pk_cols.contains(&col_name),
            name: Some(col_name),
            ty: Some(ty),
            nullable: opt_bool(Some(dict_get(&c, "nullable")), callee, "nullable", ctx)?,
            server_default: default.map(ServerDefault::Sql),
            comment: opt_string(Some(dict_get(&c, "comment")), callee, "comment", ctx)?,
            ..ColumnDef::default()
        };
        table.add_column(&ColumnCell::new(true, def), ctx)?;
    }
    let named = |v: &Value, ctx: &Ctx| opt_string(Some(dict_get(v, "name")), callee, "name", ctx);
    if !pk_cols.is_empty() {
        let name = named(&pk, ctx)?;
        let columns = pk_cols.into_iter().map(ColRef::Name).collect();
        table
            .items
            .borrow_mut()
            .push(Value::native(ConstraintObj(ConstraintDef::PrimaryKey {
                name,
                columns,
            })));
    }
    for fk in items(
        &inspect_call(&inspector, "get_foreign_keys", &name, ctx)?,
        ctx,
    )? {
        let referred = opt_string(
            Some(dict_get(&fk, "referred_table")),
            callee,
            "referred_table",
            ctx,
        )?
        .unwrap_or_default();
        let columns = str_list(&dict_get(&fk, "constrained_columns"), ctx)?
            .into_iter()
            .map(ColRef::Name)
            .collect();
        let targets = str_list(&dict_get(&fk, "referred_columns"), ctx)?
            .into_iter()
            .map(|c| FkTarget::Spec(format!("{referred}.{c}")))
            .collect();
        let opts = dict_get(&fk, "options");
        let options = FkOptions {
            name: named(&fk, ctx)?,
            ondelete: opt_string(Some(dict_get(&opts, "ondelete")), callee, "ondelete", ctx)?,
            onupdate: opt_string(Some(dict_get(&opts, "onupdate")), callee, "onupdate", ctx)?,
            deferrable: opt_bool(
                Some(dict_get(&opts, "deferrable")),
                callee,
                "deferrable",
                ctx,
            )?,
            initially: opt_string(Some(dict_get(&opts, "initially")), callee, "initially", ctx)?,
        };
        table
            .items
            .borrow_mut()
            .push(Value::native(ConstraintObj(ConstraintDef::ForeignKey {
                columns,
                targets,
                options,
            })));
    }
    for uq in items(
        &inspect_call(&inspector, "get_unique_constraints", &name, ctx)?,
        ctx,
    )? {
        let columns = str_list(&dict_get(&uq, "column_names"), ctx)?
            .into_iter()
            .map(ColRef::Name)
            .collect();
        let name = named(&uq, ctx)?;
        table
            .items
            .borrow_mut()
            .push(Value::native(ConstraintObj(ConstraintDef::Unique {
                name,
                columns,
            })));
    }
    for ck in items(
        &inspect_call(&inspector, "get_check_constraints", &name, ctx)?,
        ctx,
    )? {
        let text =
            opt_string(Some(dict_get(&ck, "sqltext")), callee, "sqltext", ctx)?.unwrap_or_default();
        let name = named(&ck, ctx)?;
        let sqltext = CheckText::Str(text);
        table
            .items
            .borrow_mut()
            .push(Value::native(ConstraintObj(ConstraintDef::Check {
                name,
                sqltext,
            })));
    }
    for ix in items(&inspect_call(&inspector, "get_indexes", &name, ctx)?, ctx)? {
        let cols = items(&dict_get(&ix, "column_names"), ctx)?;
        let mut index_items = Vec::new();
        for c in cols {
            match c.as_str() {
                Some(n) => index_items.push(IndexItem::Column(ColRef::Name(n.to_string()))),
                None => {
                    return Err(ctx.native_unsupported(callee, "reflecting an expression index"))
                }
            }
        }
        let index = IndexObj {
            name: named(&ix, ctx)?,
            items: index_items,
            unique: opt_bool(Some(dict_get(&ix, "unique")), callee, "unique", ctx)?
                .unwrap_or(false),
            options: Vec::new(),
        };
        table.items.borrow_mut().push(Value::native(index));
    }
    Ok(())
}
