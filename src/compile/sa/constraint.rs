//! Constraints and indexes: `ForeignKey`, `PrimaryKeyConstraint`, `UniqueConstraint`,
//! `ForeignKeyConstraint`, `CheckConstraint`, `Index`. Columns they name by object are
//! resolved to names when converted to IR (see `convert`).

use crate::interp::{Args, Ctx, Native, Result, Value};

use super::args::{opt_bool, opt_string, sa_exception};
use super::column::{ColumnObj, ColumnRef};
use super::expr::{as_expr, Expr};

/// Where a foreign key points: `"table.column"`, or a column object of another table.
#[derive(Debug, Clone)]
pub(crate) enum FkTarget {
    Spec(String),
    Column(ColumnRef),
}

impl FkTarget {
    fn from_value(v: &Value, callee: &str, ctx: &Ctx) -> Result<FkTarget> {
        if let Some(s) = v.as_str() {
            return Ok(FkTarget::Spec(s.to_string()));
        }
        if let Some(c) = v.downcast_native::<ColumnObj>() {
            return Ok(FkTarget::Column(c.0.clone()));
        }
        Err(ctx.native_error(
            callee,
            format!(
                "a foreign key target must be 'table.column' or a column, got {}",
                v.type_name()
            ),
        ))
    }

    /// `(table, column)`.
    pub fn resolve(&self, ctx: &Ctx) -> Result<(String, String)> {
        match self {
            FkTarget::Spec(s) => {
                let parts: Vec<&str> = s.split('.').collect();
                match parts.as_slice() {
                    [table, column] if !table.is_empty() && !column.is_empty() => {
                        Ok((table.to_string(), column.to_string()))
                    }
                    [_, _, _] => Err(ctx.native_unsupported(
                        "sqlalchemy.ForeignKey",
                        format!("the schema-qualified target '{s}'"),
                    )),
                    _ => Err(sa_exception(
                        ctx,
                        "ArgumentError",
                        format!("Invalid foreign key column specification: {s}"),
                    )),
                }
            }
            FkTarget::Column(c) => {
                let table = c.table_name().ok_or_else(|| {
                    ctx.native_error(
                        "sqlalchemy.ForeignKey",
                        "the target column belongs to no table",
                    )
                })?;
                Ok((table, c.resolved_name(ctx)?))
            }
        }
    }
}

/// The referential options shared by `ForeignKey` and `ForeignKeyConstraint`.
#[derive(Debug, Clone, Default)]
pub(crate) struct FkOptions {
    pub name: Option<String>,
    pub ondelete: Option<String>,
    pub onupdate: Option<String>,
    pub deferrable: Option<bool>,
    pub initially: Option<String>,
    /// `use_alter=True`: left out of `CREATE TABLE` where the database has `ALTER TABLE ... ADD
    /// CONSTRAINT` (all but SQLite), as SQLAlchemy compiles it; the script adds it later.
    pub use_alter: bool,
}

impl FkOptions {
    fn read(a: &mut Args, callee: &str, ctx: &mut Ctx) -> Result<FkOptions> {
        let o = FkOptions {
            name: opt_string(a.keyword("name"), callee, "name", ctx)?,
            ondelete: opt_string(a.keyword("ondelete"), callee, "ondelete", ctx)?,
            onupdate: opt_string(a.keyword("onupdate"), callee, "onupdate", ctx)?,
            deferrable: opt_bool(a.keyword("deferrable"), callee, "deferrable", ctx)?,
            initially: opt_string(a.keyword("initially"), callee, "initially", ctx)?,
            use_alter: opt_bool(a.keyword("use_alter"), callee, "use_alter", ctx)?.unwrap_or(false),
        };
        // `link_to_name` only says how SQLAlchemy finds the target column.
        for k in ["link_to_name", "info", "comment"] {
            let _ = a.keyword(k);
        }
        if let Some(m) = a.keyword("match") {
            if !m.is_none() {
                return Err(ctx.native_unsupported(callee, "`match=`"));
            }
        }
        Ok(o)
    }
}

/// `sa.ForeignKey("table.column", ...)`, given to a column.
#[derive(Debug, Clone)]
pub(crate) struct ForeignKeyObj {
    pub target: FkTarget,
    pub options: FkOptions,
}

pub(crate) fn new_foreign_key(
    args: Vec<Value>,
    kwargs: Vec<(String, Value)>,
    ctx: &mut Ctx,
) -> Result<Value> {
    let callee = "sqlalchemy.ForeignKey";
    let mut a = Args::new(callee, args, kwargs);
    let target = FkTarget::from_value(&a.required(0, "column", ctx)?, callee, ctx)?;
    let options = FkOptions::read(&mut a, callee, ctx)?;
    a.finish(ctx)?;
    Ok(Value::native(ForeignKeyObj { target, options }))
}

impl Native for ForeignKeyObj {
    fn type_name(&self) -> &str {
        "sqlalchemy.ForeignKey"
    }

    fn getattr(&self, name: &str, ctx: &mut Ctx) -> Result<Value> {
        match (name, &self.target) {
            ("name", _) => Ok(self.options.name.as_deref().map_or(Value::None, Value::str)),
            ("target_fullname", FkTarget::Spec(s)) => Ok(Value::str(s)),
            _ => {
                Err(ctx.native_unsupported(self.type_name(), format!("reading attribute `{name}`")))
            }
        }
    }
}

/// A column named in a constraint or index: by name, or by object.
#[derive(Debug, Clone)]
pub(crate) enum ColRef {
    Name(String),
    Column(ColumnRef),
}

impl ColRef {
    pub fn from_value(v: &Value, callee: &str, ctx: &Ctx) -> Result<ColRef> {
        if let Some(s) = v.as_str() {
            return Ok(ColRef::Name(s.to_string()));
        }
        if let Some(c) = v.downcast_native::<ColumnObj>() {
            return Ok(ColRef::Column(c.0.clone()));
        }
        Err(ctx.native_error(
            callee,
            format!("expected a column name or a column, got {}", v.type_name()),
        ))
    }

    pub fn name(&self, ctx: &Ctx) -> Result<String> {
        match self {
            ColRef::Name(n) => Ok(n.clone()),
            ColRef::Column(c) => c.resolved_name(ctx),
        }
    }

    pub fn table(&self) -> Option<String> {
        match self {
            ColRef::Name(_) => None,
            ColRef::Column(c) => c.table_name(),
        }
    }
}

/// What a table-level constraint says.
#[derive(Debug, Clone)]
pub(crate) enum ConstraintDef {
    PrimaryKey {
        name: Option<String>,
        columns: Vec<ColRef>,
    },
    Unique {
        name: Option<String>,
        columns: Vec<ColRef>,
    },
    ForeignKey {
        columns: Vec<ColRef>,
        targets: Vec<FkTarget>,
        options: FkOptions,
    },
    /// The text is a plain string, `text()` or an expression.
    Check {
        name: Option<String>,
        sqltext: CheckText,
    },
}

#[derive(Debug, Clone)]
pub(crate) enum CheckText {
    Str(String),
    Expr(Expr),
}

#[derive(Debug)]
pub(crate) struct ConstraintObj(pub ConstraintDef);

fn refuse_deferral(a: &mut Args, callee: &str, ctx: &mut Ctx) -> Result<()> {
    for k in ["deferrable", "initially"] {
        if let Some(v) = a.keyword(k) {
            if !v.is_none() {
                return Err(ctx.native_unsupported(callee, format!("`{k}=` on this constraint")));
            }
        }
    }
    let _ = a.keyword("info");
    Ok(())
}

fn column_list(values: Vec<Value>, callee: &str, ctx: &Ctx) -> Result<Vec<ColRef>> {
    values
        .iter()
        .map(|v| ColRef::from_value(v, callee, ctx))
        .collect()
}

/// `PrimaryKeyConstraint(*cols, name=)`, `UniqueConstraint(*cols, name=)`.
pub(crate) fn new_key_constraint(
    primary: bool,
    args: Vec<Value>,
    kwargs: Vec<(String, Value)>,
    ctx: &mut Ctx,
) -> Result<Value> {
    let callee = if primary {
        "sqlalchemy.PrimaryKeyConstraint"
    } else {
        "sqlalchemy.UniqueConstraint"
    };
    let mut a = Args::new(callee, args, kwargs);
    let columns = column_list(a.rest(0), callee, ctx)?;
    let name = opt_string(a.keyword("name"), callee, "name", ctx)?;
    refuse_deferral(&mut a, callee, ctx)?;
    a.finish(ctx)?;
    let def = if primary {
        ConstraintDef::PrimaryKey { name, columns }
    } else {
        ConstraintDef::Unique { name, columns }
    };
    Ok(Value::native(ConstraintObj(def)))
}

/// `ForeignKeyConstraint(columns, refcolumns, name=, ondelete=, ...)`.
pub(crate) fn new_fk_constraint(
    args: Vec<Value>,
    kwargs: Vec<(String, Value)>,
    ctx: &mut Ctx,
) -> Result<Value> {
    let callee = "sqlalchemy.ForeignKeyConstraint";
    let mut a = Args::new(callee, args, kwargs);
    let cols = a.required(0, "columns", ctx)?;
    let refs = a.required(1, "refcolumns", ctx)?;
    let columns = column_list(super::args::items(&cols, ctx)?, callee, ctx)?;
    let targets = super::args::items(&refs, ctx)?
        .iter()
        .map(|v| FkTarget::from_value(v, callee, ctx))
        .collect::<Result<Vec<_>>>()?;
    if columns.len() != targets.len() {
        return Err(sa_exception(ctx, "ArgumentError", "ForeignKeyConstraint number of constrained columns must match the number of referenced columns."));
    }
    let options = FkOptions::read(&mut a, callee, ctx)?;
    if let Some(t) = a.keyword("table") {
        if !t.is_none() {
            return Err(ctx.native_unsupported(callee, "`table=`"));
        }
    }
    a.finish(ctx)?;
    Ok(Value::native(ConstraintObj(ConstraintDef::ForeignKey {
        columns,
        targets,
        options,
    })))
}

/// `CheckConstraint(sqltext, name=)`.
pub(crate) fn new_check_constraint(
    args: Vec<Value>,
    kwargs: Vec<(String, Value)>,
    ctx: &mut Ctx,
) -> Result<Value> {
    let callee = "sqlalchemy.CheckConstraint";
    let mut a = Args::new(callee, args, kwargs);
    let text = a.required(0, "sqltext", ctx)?;
    let sqltext = match (&text, as_expr(&text)) {
        (Value::Str(s), _) => CheckText::Str(s.to_string()),
        (_, Some(e)) => CheckText::Expr(e),
        _ => {
            return Err(ctx.native_error(
                callee,
                format!(
                    "`sqltext` must be a string or an SQL expression, got {}",
                    text.type_name()
                ),
            ))
        }
    };
    let name = opt_string(a.take(1, "name"), callee, "name", ctx)?;
    refuse_deferral(&mut a, callee, ctx)?;
    if let Some(t) = a.keyword("table") {
        if !t.is_none() {
            return Err(ctx.native_unsupported(callee, "`table=`"));
        }
    }
    a.finish(ctx)?;
    Ok(Value::native(ConstraintObj(ConstraintDef::Check {
        name,
        sqltext,
    })))
}

impl Native for ConstraintObj {
    fn type_name(&self) -> &str {
        match &self.0 {
            ConstraintDef::PrimaryKey { .. } => "sqlalchemy.PrimaryKeyConstraint",
            ConstraintDef::Unique { .. } => "sqlalchemy.UniqueConstraint",
            ConstraintDef::ForeignKey { .. } => "sqlalchemy.ForeignKeyConstraint",
            ConstraintDef::Check { .. } => "sqlalchemy.CheckConstraint",
        }
    }

    fn getattr(&self, name: &str, ctx: &mut Ctx) -> Result<Value> {
        let names = |cols: &[ColRef], ctx: &Ctx| -> Result<Value> {
            Ok(Value::list(
                cols.iter()
                    .map(|c| c.name(ctx).map(Value::string))
                    .collect::<Result<Vec<_>>>()?,
            ))
        };
        match (&self.0, name) {
            (
                ConstraintDef::PrimaryKey { name, .. }
                | ConstraintDef::Unique { name, .. }
                | ConstraintDef::Check { name, .. },
                "name",
            ) => Ok(name.as_deref().map_or(Value::None, Value::str)),
            (ConstraintDef::ForeignKey { options, .. }, "name") => {
                Ok(options.name.as_deref().map_or(Value::None, Value::str))
            }
            (ConstraintDef::ForeignKey { columns, .. }, "column_keys") => names(columns, ctx),
            (
                ConstraintDef::PrimaryKey { columns, .. } | ConstraintDef::Unique { columns, .. },
                "columns",
            ) => names(columns, ctx),
            (ConstraintDef::ForeignKey { targets, .. }, "referred_table") => {
                match targets.first() {
                    Some(t) => Ok(super::table::clause_table(&t.resolve(ctx)?.0)),
                    None => Err(ctx.native_error(self.type_name(), "no referenced columns")),
                }
            }
            (ConstraintDef::ForeignKey { options, .. }, "ondelete") => {
                Ok(options.ondelete.as_deref().map_or(Value::None, Value::str))
            }
            (ConstraintDef::ForeignKey { options, .. }, "onupdate") => {
                Ok(options.onupdate.as_deref().map_or(Value::None, Value::str))
            }
            _ => {
                Err(ctx.native_unsupported(self.type_name(), format!("reading attribute `{name}`")))
            }
        }
    }

    fn repr(&self, ctx: &mut Ctx) -> Result<String> {
        let name = self.getattr("name", ctx)?;
        Ok(format!(
            "{}(name={})",
            self.type_name().trim_start_matches("sqlalchemy."),
            ctx.to_repr(&name)?
        ))
    }
}

/// One element of an index as written: a column name, a column object, or an expression.
#[derive(Debug, Clone)]
pub(crate) enum IndexItem {
    Column(ColRef),
    Expr(Expr),
}

/// `sa.Index(name, *columns_or_expressions, unique=, **dialect_kwargs)`.
#[derive(Debug)]
pub(crate) struct IndexObj {
    pub name: Option<String>,
    pub items: Vec<IndexItem>,
    pub unique: bool,
    pub options: Vec<(String, Value)>,
}

pub(crate) fn new_index(
    args: Vec<Value>,
    kwargs: Vec<(String, Value)>,
    ctx: &mut Ctx,
) -> Result<Value> {
    let callee = "sqlalchemy.Index";
    let mut a = Args::new(callee, args, kwargs);
    let name = opt_string(a.take(0, "name"), callee, "name", ctx)?;
    let mut items = Vec::new();
    for v in a.rest(1) {
        items.push(
            match (v.as_str(), v.downcast_native::<ColumnObj>(), as_expr(&v)) {
                (Some(s), _, _) => IndexItem::Column(ColRef::Name(s.to_string())),
                (_, Some(c), _) => IndexItem::Column(ColRef::Column(c.0.clone())),
                (_, _, Some(e)) => IndexItem::Expr(e),
                _ => {
                    return Err(ctx.native_error(
                        callee,
                        format!(
                            "an index element must be a column or an expression, got {}",
                            v.type_name()
                        ),
                    ))
                }
            },
        );
    }
    let unique = opt_bool(a.keyword("unique"), callee, "unique", ctx)?.unwrap_or(false);
    let _ = a.keyword("info");
    if let Some(q) = a.keyword("quote") {
        if !q.is_none() {
            return Err(ctx.native_unsupported(callee, "`quote=`"));
        }
    }
    let options = a.rest_keywords();
    a.finish(ctx)?;
    Ok(Value::native(IndexObj {
        name,
        items,
        unique,
        options,
    }))
}

impl Native for IndexObj {
    fn type_name(&self) -> &str {
        "sqlalchemy.Index"
    }

    fn getattr(&self, name: &str, ctx: &mut Ctx) -> Result<Value> {
        match name {
            "name" => Ok(self.name.as_deref().map_or(Value::None, Value::str)),
            "unique" => Ok(Value::Bool(self.unique)),
            _ => {
                Err(ctx.native_unsupported(self.type_name(), format!("reading attribute `{name}`")))
            }
        }
    }
}
