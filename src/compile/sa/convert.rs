//! The conversions the `alembic.op` emulation uses: script values (ours) to IR (the way back,
//! from IR tables to script values, is `from_ir`). Every failure names the construct.

use crate::interp::{Ctx, Result, Value};
use crate::ir::{
    Autoincrement, Column, Constraint, ConstraintKind, DialectOption, ForeignKey, Index, IndexPart,
    ServerDefault, SqlExpr, SqlType, Statement, Table,
};

use super::column::{ColumnCell, ColumnDef, ColumnObj, ColumnRef};
use super::constraint::{
    CheckText, ColRef, ConstraintDef, ConstraintObj, FkOptions, IndexItem, IndexObj,
};
use super::expr::{self, as_expr, Expr};
use super::lower;
use super::table::{TableCell, TableObj};
use super::type_objects as types;

/// A type instance or class (`sa.String(32)`, `sa.Integer`, `MEDIUMTEXT`) as an `SqlType`.
pub fn to_type(v: &Value, ctx: &mut Ctx) -> Result<SqlType> {
    types::to_type(v, ctx)
}

/// A type object for an `SqlType`, e.g. the `"type"` of an inspector's column.
pub fn type_value(ty: &SqlType) -> Value {
    types::type_value(ty)
}

pub fn is_type(v: &Value) -> bool {
    types::is_type(v)
}

/// Whether `v` is a column object (`sa.Column`, `sa.column`, `table.c.x`, a model attribute).
pub fn is_column(v: &Value) -> bool {
    v.downcast_native::<ColumnObj>().is_some()
}

/// The name of a column object, if it is one and has a name.
pub fn column_name(v: &Value) -> Option<String> {
    v.downcast_native::<ColumnObj>().and_then(|c| c.0.name())
}

/// A lightweight column `name` (of `table`, if given), as `sa.table(t, sa.column(name))` makes
/// it: for host objects standing for model attributes (`SqlRun.status.in_([...])`).
pub fn column_value(name: &str, table: Option<&str>) -> Value {
    let def = ColumnDef {
        name: Some(name.to_string()),
        table: table.map(str::to_string),
        ..ColumnDef::default()
    };
    super::column::column_value(&ColumnCell::new(false, def))
}

pub fn is_constraint(v: &Value) -> bool {
    v.downcast_native::<ConstraintObj>().is_some()
}

pub fn is_index(v: &Value) -> bool {
    v.downcast_native::<IndexObj>().is_some()
}

pub fn is_table(v: &Value) -> bool {
    v.downcast_native::<TableObj>().is_some()
}

/// A column object as a `Column`: SQLAlchemy's defaults applied (nullable unless a primary
/// key or an identity column), column-level `ForeignKey`s in `foreign_keys`.
pub fn to_column(v: &Value, ctx: &mut Ctx) -> Result<Column> {
    match v.downcast_native::<ColumnObj>() {
        Some(c) => column_ir(&c.0, ctx),
        None => Err(ctx.native_error(
            "sqlalchemy",
            format!("expected a Column, got {}", v.type_name()),
        )),
    }
}

pub(crate) fn column_ir(c: &ColumnRef, ctx: &Ctx) -> Result<Column> {
    let name = c.resolved_name(ctx)?;
    let nullable = c.nullable();
    let d = c.def.borrow();
    let Some(ty) = d.ty.clone() else {
        return Err(ctx.native_unsupported(
            "sqlalchemy.Column",
            format!("column '{name}' without a type (NullType)"),
        ));
    };
    let mut foreign_keys = Vec::new();
    for fk in &d.foreign_keys {
        let (ref_table, ref_column) = fk.target.resolve(ctx)?;
        foreign_keys.push(foreign_key(
            vec![name.clone()],
            ref_table,
            vec![ref_column],
            &fk.options,
        ));
    }
    Ok(Column {
        name,
        ty,
        nullable,
        primary_key: d.primary_key,
        server_default: d.server_default.clone(),
        autoincrement: d.autoincrement.unwrap_or(Autoincrement::Auto),
        unique: d.unique,
        index: d.index,
        comment: d.comment.clone(),
        computed: d.computed.clone(),
        identity: d.identity.clone(),
        foreign_keys,
    })
}

fn foreign_key(
    columns: Vec<String>,
    ref_table: String,
    ref_columns: Vec<String>,
    o: &FkOptions,
) -> ForeignKey {
    ForeignKey {
        name: o.name.clone(),
        columns,
        ref_table,
        ref_columns,
        ondelete: o.ondelete.clone(),
        onupdate: o.onupdate.clone(),
        deferrable: o.deferrable,
        initially: o.initially.clone(),
    }
}

fn column_names(
    cols: &[ColRef],
    table: Option<&str>,
    what: &str,
    ctx: &Ctx,
) -> Result<Vec<String>> {
    cols.iter()
        .map(|c| {
            if let (Some(t), Some(own)) = (table, c.table()) {
                if t != own {
                    return Err(ctx.native_error(
                        what,
                        format!("column of table '{own}' used on table '{t}'"),
                    ));
                }
            }
            c.name(ctx)
        })
        .collect()
}

/// A constraint object as a `Constraint`. `table` is the table it is for, when known; columns
/// given as objects of another table are refused.
pub fn to_constraint(v: &Value, table: Option<&str>, ctx: &mut Ctx) -> Result<Constraint> {
    match v.downcast_native::<ConstraintObj>() {
        Some(c) => constraint_ir(&c.0, table, ctx),
        None => Err(ctx.native_error(
            "sqlalchemy",
            format!("expected a constraint, got {}", v.type_name()),
        )),
    }
}

pub(crate) fn constraint_ir(
    def: &ConstraintDef,
    table: Option<&str>,
    ctx: &Ctx,
) -> Result<Constraint> {
    Ok(match def {
        ConstraintDef::PrimaryKey { name, columns } => Constraint::PrimaryKey {
            name: name.clone(),
            columns: column_names(columns, table, "sqlalchemy.PrimaryKeyConstraint", ctx)?,
        },
        ConstraintDef::Unique { name, columns } => Constraint::Unique {
            name: name.clone(),
            columns: column_names(columns, table, "sqlalchemy.UniqueConstraint", ctx)?,
        },
        ConstraintDef::ForeignKey {
            columns,
            targets,
            options,
        } => {
            let what = "sqlalchemy.ForeignKeyConstraint";
            let columns = column_names(columns, table, what, ctx)?;
            let mut ref_table: Option<String> = None;
            let mut ref_columns = Vec::new();
            for t in targets {
                let (rt, rc) = t.resolve(ctx)?;
                match &ref_table {
                    Some(prev) if *prev != rt => {
                        return Err(ctx.native_error(
                            what,
                            "the referenced columns are in more than one table",
                        ))
                    }
                    _ => ref_table = Some(rt),
                }
                ref_columns.push(rc);
            }
            Constraint::ForeignKey(foreign_key(
                columns,
                ref_table.unwrap_or_default(),
                ref_columns,
                options,
            ))
        }
        ConstraintDef::Check { name, sqltext } => Constraint::Check {
            name: name.clone(),
            sqltext: match sqltext {
                CheckText::Str(s) => s.clone(),
                CheckText::Expr(e) => expr_text(e, ctx)?,
            },
        },
    })
}

/// An index object as an `Index` on `table` (or on the table of its column objects).
pub fn to_index(v: &Value, table: Option<&str>, ctx: &mut Ctx) -> Result<Index> {
    match v.downcast_native::<IndexObj>() {
        Some(i) => index_ir(i, table, ctx),
        None => Err(ctx.native_error(
            "sqlalchemy",
            format!("expected an Index, got {}", v.type_name()),
        )),
    }
}

pub(crate) fn index_ir(i: &IndexObj, table: Option<&str>, ctx: &mut Ctx) -> Result<Index> {
    let what = "sqlalchemy.Index";
    let Some(name) = i.name.clone() else {
        return Err(ctx.native_unsupported(what, "an index without a name"));
    };
    let mut owner = table.map(str::to_string);
    let mut parts = Vec::new();
    for item in &i.items {
        parts.push(match item {
            IndexItem::Column(c) => {
                if let Some(t) = c.table() {
                    match &owner {
                        Some(o) if *o != t => {
                            return Err(ctx.native_error(
                                what,
                                format!("column of table '{t}' in an index on '{o}'"),
                            ))
                        }
                        _ => owner = Some(t),
                    }
                }
                IndexPart::Column(c.name(ctx)?)
            }
            IndexItem::Expr(e) => IndexPart::Expression(expr_text(e, ctx)?),
        });
    }
    let Some(table) = owner else {
        return Err(ctx.native_error(what, format!("index '{name}' is not attached to a table")));
    };
    let mut dialect_options = Vec::new();
    for (k, v) in &i.options {
        dialect_options.push((k.clone(), to_dialect_option(k, v, ctx)?));
    }
    Ok(Index {
        name,
        table,
        parts,
        unique: i.unique,
        dialect_options,
    })
}

const DIALECTS: &[&str] = &[
    "mysql",
    "mariadb",
    "postgresql",
    "sqlite",
    "mssql",
    "oracle",
];

/// A dialect keyword argument (`mysql_length=255`, `postgresql_where=sa.text(...)`,
/// `postgresql_include=["a"]`, `mysql_length={"a": 10}`) as a `DialectOption`.
pub fn to_dialect_option(key: &str, v: &Value, ctx: &mut Ctx) -> Result<DialectOption> {
    let known = key
        .split_once('_')
        .is_some_and(|(d, rest)| DIALECTS.contains(&d) && !rest.is_empty());
    if !known {
        return Err(super::args::sa_exception(
            ctx,
            "TypeError",
            format!("Additional arguments should be named <dialectname>_<argument>, got '{key}'"),
        ));
    }
    Ok(match v {
        Value::Bool(b) => DialectOption::Bool(*b),
        Value::Int(i) => DialectOption::Int(*i),
        Value::Str(s) => DialectOption::Str(s.to_string()),
        Value::Dict(_) => {
            let mut ints = Vec::new();
            let mut texts = Vec::new();
            for (k, n) in super::args::dict_pairs(v, key, key, ctx)? {
                let name = match (k.as_str(), column_name(&k)) {
                    (Some(s), _) => s.to_string(),
                    (_, Some(n)) => n,
                    _ => return Err(ctx.native_unsupported(key, "a dict key that is not a column")),
                };
                match (n.as_int(), n.as_str()) {
                    (Some(n), _) => ints.push((name, n)),
                    (_, Some(s)) => texts.push((name, s.to_string())),
                    _ => {
                        return Err(ctx.native_unsupported(
                            key,
                            "a dict value that is neither an int nor a string",
                        ))
                    }
                }
            }
            match (ints.is_empty(), texts.is_empty()) {
                (_, true) => DialectOption::PerColumn(ints),
                (true, false) => DialectOption::PerColumnText(texts),
                (false, false) => {
                    return Err(ctx.native_unsupported(key, "a dict of both ints and strings"))
                }
            }
        }
        Value::List(_) | Value::Tuple(_) => {
            let mut names = Vec::new();
            for item in super::args::items(v, ctx)? {
                match (item.as_str(), column_name(&item)) {
                    (Some(s), _) => names.push(s.to_string()),
                    (_, Some(n)) => names.push(n),
                    _ => {
                        return Err(ctx.native_unsupported(
                            key,
                            format!("a list item of type {}", item.type_name()),
                        ))
                    }
                }
            }
            DialectOption::Names(names)
        }
        other => match as_expr(other) {
            Some(e) => DialectOption::Sql(expr_text(&e, ctx)?),
            None => {
                return Err(ctx.native_unsupported(key, format!("a {} value", other.type_name())))
            }
        },
    })
}

/// A `server_default=` value as a `ServerDefault`.
pub fn to_server_default(v: &Value, ctx: &mut Ctx) -> Result<ServerDefault> {
    super::column::server_default(v, ctx)
}

fn expr_text(e: &Expr, ctx: &Ctx) -> Result<String> {
    match e {
        Expr::Text { text, binds } => lower::text_sql(text, binds, ctx),
        Expr::Raw(text) => Ok(text.clone()),
        other => lower::render(other, ctx),
    }
}

/// SQL text: a string, `sa.text(...)`, `sa.literal_column(...)`, or an expression rendered as
/// generic SQL (`col.in_([...])` gives `col IN ('a', 'b')`). A bare column is not SQL text
/// here (it is a column reference), and is refused.
pub fn to_sql_text(v: &Value, ctx: &mut Ctx) -> Result<String> {
    if let Some(s) = v.as_str() {
        return Ok(s.to_string());
    }
    match as_expr(v) {
        Some(Expr::Column(_)) => Err(ctx.native_error("sqlalchemy", "a column, not SQL text")),
        Some(e) => expr_text(&e, ctx),
        None => Err(ctx.native_error(
            "sqlalchemy",
            format!("expected SQL text, got {}", v.type_name()),
        )),
    }
}

/// An expression (or a Python scalar) as an `SqlExpr`.
pub fn to_sql_expr(v: &Value, ctx: &mut Ctx) -> Result<SqlExpr> {
    let e = expr::coerce(v, "sqlalchemy", ctx)?;
    lower::lower(&e, ctx)
}

/// What `op.execute(x)` runs: a string or `sa.text()` as SQL, `update`/`insert`/`delete` as
/// structured statements. `select(...)` and parameters left unbound are refused (data
/// migrations).
pub fn to_statement(v: &Value, ctx: &mut Ctx) -> Result<Statement> {
    super::dml::statement(v, None, ctx)
}

/// `bind.execute(statement, parameters)`: a dict binds `:name` / `bindparam("name")` values; a
/// list of dicts gives the rows of an `insert()` without values.
pub fn to_statement_with_params(v: &Value, params: &Value, ctx: &mut Ctx) -> Result<Statement> {
    super::dml::statement(v, Some(params), ctx)
}

/// A table object (`sa.Table`, `sa.table`, the value `op.create_table` returned) as a `Table`.
pub fn to_table(v: &Value, ctx: &mut Ctx) -> Result<Table> {
    match v.downcast_native::<TableObj>() {
        Some(t) => table_ir(&t.0, ctx),
        None => Err(ctx.native_error(
            "sqlalchemy",
            format!("expected a Table, got {}", v.type_name()),
        )),
    }
}

/// `op.create_table(name, *items)`: the table the columns, constraints and indexes make. As in
/// SQLAlchemy, the column objects now belong to this table.
pub fn table_from_items(name: &str, items: &[Value], ctx: &mut Ctx) -> Result<Table> {
    let t = TableCell::new(name, false, Vec::new(), None);
    for item in items {
        t.add_item(item, "op.create_table", ctx)?;
    }
    let mut table = table_ir(&t, ctx)?;
    let alters = crate::compile::session::session_dialect(ctx)
        .is_some_and(|d| d.database() != crate::dialect::Database::Sqlite);
    if alters {
        leave_out_use_alter(&t, &mut table);
    }
    Ok(table)
}

/// Drop the `use_alter` foreign keys from the table `t` made (its columns' and its own, in the
/// order `table_ir` made them).
fn leave_out_use_alter(t: &TableCell, table: &mut Table) {
    let cols: Vec<ColumnRef> = t.columns.borrow().clone();
    for (cell, column) in cols.iter().zip(table.columns.iter_mut()) {
        let d = cell.def.borrow();
        let mut flags = d.foreign_keys.iter().map(|fk| fk.options.use_alter);
        column
            .foreign_keys
            .retain(|_| !flags.next().unwrap_or(false));
    }
    let mut flags = t
        .items
        .borrow()
        .iter()
        .filter_map(|item| {
            item.downcast_native::<ConstraintObj>().map(|c| match &c.0 {
                ConstraintDef::ForeignKey { options, .. } => options.use_alter,
                _ => false,
            })
        })
        .collect::<Vec<_>>()
        .into_iter();
    table.constraints.retain(|_| !flags.next().unwrap_or(false));
}

pub(crate) fn table_ir(t: &TableCell, ctx: &mut Ctx) -> Result<Table> {
    let mut table = Table::new(&t.name);
    table.comment = t.comment.clone();
    let cols: Vec<ColumnRef> = t.columns.borrow().clone();
    for c in &cols {
        table.columns.push(column_ir(c, ctx)?);
    }
    let items: Vec<Value> = t.items.borrow().clone();
    for item in &items {
        if let Some(c) = item.downcast_native::<ConstraintObj>() {
            let constraint = constraint_ir(&c.0, Some(&t.name), ctx)?;
            if let Constraint::PrimaryKey { columns, .. } = &constraint {
                mark_primary_key(&mut table, &cols, columns);
            }
            table.constraints.push(constraint);
        } else if let Some(i) = item.downcast_native::<IndexObj>() {
            table.indexes.push(index_ir(i, Some(&t.name), ctx)?);
        }
    }
    check_convention(t, &table, ctx)?;
    Ok(table)
}

/// A table-level primary key makes its columns primary and, unless the script said otherwise,
/// NOT NULL (SQLAlchemy's `PrimaryKeyConstraint._set_parent`).
fn mark_primary_key(table: &mut Table, cells: &[ColumnRef], pk: &[String]) {
    for (col, cell) in table.columns.iter_mut().zip(cells) {
        if pk.contains(&col.name) {
            col.primary_key = true;
            if cell.def.borrow().nullable.is_none() {
                col.nullable = false;
            }
        }
    }
}

/// A `MetaData(naming_convention=...)` would name unnamed constraints; that is not modeled.
fn check_convention(t: &TableCell, table: &Table, ctx: &Ctx) -> Result<()> {
    if t.convention.is_empty() {
        return Ok(());
    }
    let has = |k: &str| t.convention.iter().any(|(key, _)| key == k);
    let mut unnamed: Vec<ConstraintKind> = table
        .constraints
        .iter()
        .filter(|c| c.name().is_none())
        .map(|c| c.kind())
        .collect();
    for c in &table.columns {
        if c.unique {
            unnamed.push(ConstraintKind::Unique);
        }
        if !c.foreign_keys.is_empty() {
            unnamed.push(ConstraintKind::ForeignKey);
        }
    }
    let named_by_convention = unnamed.iter().any(|k| {
        has(match k {
            ConstraintKind::PrimaryKey => "pk",
            ConstraintKind::ForeignKey => "fk",
            ConstraintKind::Unique => "uq",
            ConstraintKind::Check => "ck",
        })
    });
    if named_by_convention || table.columns.iter().any(|c| c.index) {
        return Err(ctx.native_unsupported(
            "sqlalchemy.MetaData",
            format!("naming_convention naming constraints of table '{}'", t.name),
        ));
    }
    Ok(())
}
