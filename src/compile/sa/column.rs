//! Columns: `sa.Column(...)`, the lightweight `sa.column(...)`, and what a column may carry
//! (`server_default=`, `Computed`, `Identity`; `ForeignKey` is in `constraint`).
//!
//! A column records what the script said; its name may come later (a declarative column is
//! named after its attribute once the class body has run), so everything that refers to a
//! column holds the shared [`ColumnRef`], and names are resolved at conversion.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use crate::interp::{Args, Ctx, Native, Result, Value};
use crate::ir::{Autoincrement, Computed, Identity, ServerDefault, SqlType};
use crate::script::ast::{BinOp, CmpOp, UnaryOp};

use super::args::{opt_bool, opt_int, opt_string, sa_exception};
use super::constraint::{ConstraintObj, ForeignKeyObj};
use super::expr::{self, as_expr, Expr};
use super::lower;
use super::type_objects::{is_type, to_type, type_value};

thread_local! {
    static NEXT_SEQ: Cell<u64> = const { Cell::new(0) };
}

/// SQLAlchemy's creation order: declarative models order their columns (and we, their classes)
/// by it.
pub(crate) fn next_seq() -> u64 {
    NEXT_SEQ.with(|c| {
        let n = c.get();
        c.set(n + 1);
        n
    })
}

/// A column, shared by its table, its constraints and every expression that refers to it.
pub(crate) type ColumnRef = Rc<ColumnCell>;

#[derive(Debug)]
pub(crate) struct ColumnCell {
    pub seq: u64,
    /// `sa.Column` (a schema column) rather than `sa.column` (a lightweight clause).
    pub schema: bool,
    pub def: RefCell<ColumnDef>,
}

/// What the script said about a column.
#[derive(Debug, Clone, Default)]
pub(crate) struct ColumnDef {
    pub name: Option<String>,
    pub key: Option<String>,
    /// `None` is SQLAlchemy's `NullType` (no type given).
    pub ty: Option<SqlType>,
    /// As given; `None` means SQLAlchemy's default applies.
    pub nullable: Option<bool>,
    pub primary_key: bool,
    pub server_default: Option<ServerDefault>,
    pub autoincrement: Option<Autoincrement>,
    pub unique: bool,
    pub index: bool,
    pub comment: Option<String>,
    pub computed: Option<Computed>,
    pub identity: Option<Identity>,
    pub foreign_keys: Vec<Rc<ForeignKeyObj>>,
    pub table: Option<String>,
}

impl ColumnCell {
    pub fn new(schema: bool, def: ColumnDef) -> ColumnRef {
        Rc::new(ColumnCell {
            seq: next_seq(),
            schema,
            def: RefCell::new(def),
        })
    }

    pub fn name(&self) -> Option<String> {
        self.def.borrow().name.clone()
    }

    /// The name, or an error for a column that never got one.
    pub fn resolved_name(&self, ctx: &Ctx) -> Result<String> {
        self.name().ok_or_else(|| {
            ctx.native_error(
                "sqlalchemy.Column",
                "the column has no name (a declarative column used outside its model?)",
            )
        })
    }

    /// The key `table.c.<key>` finds it by.
    pub fn key(&self) -> Option<String> {
        let d = self.def.borrow();
        d.key.clone().or_else(|| d.name.clone())
    }

    pub fn table_name(&self) -> Option<String> {
        self.def.borrow().table.clone()
    }

    pub fn is_string_typed(&self) -> bool {
        matches!(
            self.def.borrow().ty,
            Some(
                SqlType::Varchar { .. }
                    | SqlType::Char { .. }
                    | SqlType::NVarchar { .. }
                    | SqlType::Text { .. }
                    | SqlType::Enum { .. }
            )
        )
    }

    /// SQLAlchemy's effective nullability: as given, else not for primary keys and identities.
    pub fn nullable(&self) -> bool {
        let d = self.def.borrow();
        d.nullable.unwrap_or(!d.primary_key && d.identity.is_none())
    }
}

/// A column object (`sa.Column(...)`, `sa.column(...)`, `table.c.x`, a model attribute).
#[derive(Debug)]
pub(crate) struct ColumnObj(pub ColumnRef);

pub(crate) fn column_value(c: &ColumnRef) -> Value {
    Value::native(ColumnObj(c.clone()))
}

/// The callee named in `sa.Column` errors.
const COLUMN: &str = "sqlalchemy.Column";

/// `sa.Column(name?, type?, *items, **options)`.
pub(crate) fn new_column(
    args: Vec<Value>,
    kwargs: Vec<(String, Value)>,
    ctx: &mut Ctx,
) -> Result<Value> {
    let mut a = Args::new(COLUMN, args, kwargs);
    let mut positional = a.rest(0);
    let mut def = ColumnDef::default();
    take_positional_name_and_type(&mut positional, &mut def, ctx)?;
    name_and_type_keywords(&mut a, &mut def, ctx)?;
    option_keywords(&mut a, &mut def, ctx)?;
    skip_unmodeled_keywords(&mut a, ctx)?;
    a.finish(ctx)?;
    for item in positional {
        add_item(&item, &mut def, ctx)?;
    }
    Ok(column_value(&ColumnCell::new(true, def)))
}

/// Takes the optional leading name and type off `positional` into `def` (a `None` in either
/// place is skipped).
fn take_positional_name_and_type(
    positional: &mut Vec<Value>,
    def: &mut ColumnDef,
    ctx: &mut Ctx,
) -> Result<()> {
    if let Some(first) = positional.first() {
        match first {
            Value::Str(s) => {
                def.name = Some(s.to_string());
                positional.remove(0);
            }
            Value::None => {
                positional.remove(0);
            }
            _ => {}
        }
    }
    if let Some(first) = positional.first() {
        if is_type(first) {
            def.ty = Some(to_type(first, ctx)?);
            positional.remove(0);
        } else if first.is_none() {
            positional.remove(0);
        }
    }
    Ok(())
}

/// Reads the `name=` and `type_=` keywords into `def`, refusing either when it was also given
/// positionally.
fn name_and_type_keywords(a: &mut Args, def: &mut ColumnDef, ctx: &mut Ctx) -> Result<()> {
    if let Some(name) = opt_string(a.keyword("name"), COLUMN, "name", ctx)? {
        if def.name.is_some() {
            return Err(sa_exception(
                ctx,
                "ArgumentError",
                "May not pass name positionally and as a keyword.",
            ));
        }
        def.name = Some(name);
    }
    if let Some(t) = a.keyword("type_") {
        if def.ty.is_some() {
            return Err(sa_exception(
                ctx,
                "ArgumentError",
                "May not pass type_ positionally and as a keyword.",
            ));
        }
        if !t.is_none() {
            def.ty = Some(to_type(&t, ctx)?);
        }
    }
    Ok(())
}

/// Reads the keywords that shape the column in the database (`primary_key=`, `nullable=`,
/// `server_default=`, `autoincrement=`, ...) into `def`.
fn option_keywords(a: &mut Args, def: &mut ColumnDef, ctx: &mut Ctx) -> Result<()> {
    def.key = opt_string(a.keyword("key"), COLUMN, "key", ctx)?;
    def.primary_key =
        opt_bool(a.keyword("primary_key"), COLUMN, "primary_key", ctx)?.unwrap_or(false);
    def.nullable = opt_bool(a.keyword("nullable"), COLUMN, "nullable", ctx)?;
    def.unique = opt_bool(a.keyword("unique"), COLUMN, "unique", ctx)?.unwrap_or(false);
    def.index = opt_bool(a.keyword("index"), COLUMN, "index", ctx)?.unwrap_or(false);
    def.comment = opt_string(a.keyword("comment"), COLUMN, "comment", ctx)?;
    if let Some(v) = a.keyword("server_default") {
        if !v.is_none() {
            def.server_default = Some(server_default(&v, ctx)?);
        }
    }
    def.autoincrement = match a.keyword("autoincrement") {
        None => None,
        Some(Value::Bool(true)) => Some(Autoincrement::Yes),
        Some(Value::Bool(false)) => Some(Autoincrement::No),
        Some(Value::Str(s)) if &*s == "auto" => Some(Autoincrement::Auto),
        Some(other) => {
            let shown = ctx.to_repr(&other)?;
            return Err(ctx.native_unsupported(COLUMN, format!("`autoincrement={shown}`")));
        }
    };
    Ok(())
}

/// Consumes the keywords that never reach the database, and refuses those that would but
/// are not modeled unless they have their default value.
fn skip_unmodeled_keywords(a: &mut Args, ctx: &mut Ctx) -> Result<()> {
    // Client-side defaults and documentation do not reach the database.
    for k in [
        "default",
        "insert_default",
        "onupdate",
        "info",
        "doc",
        "sort_order",
        "insert_sentinel",
    ] {
        let _ = a.keyword(k);
    }
    for k in ["server_onupdate", "quote", "system"] {
        if let Some(v) = a.keyword(k) {
            if !(v.is_none() || v.as_bool() == Some(false)) {
                return Err(ctx.native_unsupported(COLUMN, format!("`{k}=`")));
            }
        }
    }
    Ok(())
}

/// Adds one positional item (a `ForeignKey`, `Computed` or `Identity`) to `def`.
fn add_item(item: &Value, def: &mut ColumnDef, ctx: &mut Ctx) -> Result<()> {
    if let Some(fk) = item.downcast_native::<ForeignKeyObj>() {
        def.foreign_keys.push(Rc::new(fk.clone()));
    } else if let Some(c) = item.downcast_native::<ComputedObj>() {
        def.computed = Some(c.0.clone());
    } else if let Some(i) = item.downcast_native::<IdentityObj>() {
        if def.server_default.is_some() {
            return Err(sa_exception(ctx, "ArgumentError", "A column with an Identity object cannot specify a server_default or a server_onupdate argument"));
        }
        def.identity = Some(i.0.clone());
    } else if item.downcast_native::<ConstraintObj>().is_some() {
        return Err(ctx.native_unsupported(
            COLUMN,
            "a constraint given to a column (give it to the table)",
        ));
    } else {
        return Err(ctx.native_error(
            COLUMN,
            format!("a positional {} argument is not modeled", item.type_name()),
        ));
    }
    Ok(())
}

/// `sa.column(name, type_=None)`: a lightweight column for Core statements.
pub(crate) fn new_column_clause(
    args: Vec<Value>,
    kwargs: Vec<(String, Value)>,
    ctx: &mut Ctx,
) -> Result<Value> {
    let callee = "sqlalchemy.column";
    let mut a = Args::new(callee, args, kwargs);
    let name = opt_string(a.take(0, "text"), callee, "text", ctx)?;
    let ty = match a.take(1, "type_") {
        Some(t) if !t.is_none() => Some(to_type(&t, ctx)?),
        _ => None,
    };
    if opt_bool(a.keyword("is_literal"), callee, "is_literal", ctx)?.unwrap_or(false) {
        return Err(ctx.native_unsupported(callee, "`is_literal=True` (use sa.literal_column)"));
    }
    a.finish(ctx)?;
    Ok(column_value(&ColumnCell::new(
        false,
        ColumnDef {
            name,
            ty,
            ..ColumnDef::default()
        },
    )))
}

/// A `server_default=` value: a string is a quoted literal, `text()`/`literal_column()` is SQL,
/// `true()`/`false()` are rendered per dialect, other expressions are generic SQL text.
pub(crate) fn server_default(v: &Value, ctx: &Ctx) -> Result<ServerDefault> {
    if let Some(s) = v.as_str() {
        return Ok(ServerDefault::Literal(s.to_string()));
    }
    match as_expr(v) {
        Some(Expr::Text { text, binds }) => {
            Ok(ServerDefault::Sql(lower::text_sql(&text, &binds, ctx)?))
        }
        Some(Expr::Raw(text)) => Ok(ServerDefault::Sql(text)),
        Some(Expr::Bool(b)) => Ok(ServerDefault::Bool(b)),
        Some(e @ Expr::Func { .. }) => Ok(ServerDefault::Sql(lower::render(&e, ctx)?)),
        Some(other) => {
            Err(ctx.native_unsupported("server_default", format!("the expression {other:?}")))
        }
        None => Err(ctx.native_unsupported(
            "server_default",
            format!(
                "a {} value (SQLAlchemy takes a string or an SQL expression)",
                v.type_name()
            ),
        )),
    }
}

impl Native for ColumnObj {
    fn type_name(&self) -> &str {
        if self.0.schema {
            "sqlalchemy.Column"
        } else {
            "sqlalchemy.ColumnClause"
        }
    }

    fn getattr(&self, name: &str, ctx: &mut Ctx) -> Result<Value> {
        if let Some(m) = expr::method(&Expr::Column(self.0.clone()), name) {
            return Ok(m);
        }
        let d = self.0.def.borrow();
        let opt = |s: &Option<String>| s.as_deref().map_or(Value::None, Value::str);
        Ok(match name {
            "name" => opt(&d.name),
            "key" => opt(&d.key.clone().or_else(|| d.name.clone())),
            "type" => match &d.ty {
                Some(t) => type_value(t),
                None => {
                    return Err(ctx.native_unsupported(
                        self.type_name(),
                        "the type of a column without one (NullType)",
                    ))
                }
            },
            "nullable" => {
                drop(d);
                Value::Bool(self.0.nullable())
            }
            "primary_key" => Value::Bool(d.primary_key),
            "unique" => Value::Bool(d.unique),
            "index" => Value::Bool(d.index),
            "comment" => opt(&d.comment),
            "table" => match &d.table {
                Some(t) => super::table::clause_table(t),
                None => return Err(ctx.raise("AttributeError", "Column has no table yet")),
            },
            other => {
                return Err(ctx
                    .native_unsupported(self.type_name(), format!("reading attribute `{other}`")))
            }
        })
    }

    fn compare(
        &self,
        op: CmpOp,
        other: &Value,
        reflected: bool,
        ctx: &mut Ctx,
    ) -> Result<Option<Value>> {
        expr::compare(Expr::Column(self.0.clone()), op, other, reflected, ctx)
    }

    fn binary(&self, op: BinOp, other: &Value, reflected: bool, ctx: &mut Ctx) -> Result<Value> {
        expr::binary(Expr::Column(self.0.clone()), op, other, reflected, ctx)
    }

    fn unary(&self, op: UnaryOp, ctx: &mut Ctx) -> Result<Value> {
        expr::unary(Expr::Column(self.0.clone()), op, ctx)
    }

    fn truth(&self, ctx: &mut Ctx) -> Result<bool> {
        Err(expr::truth(ctx))
    }

    fn eq(&self, other: &Value, _ctx: &mut Ctx) -> Result<bool> {
        Ok(other
            .downcast_native::<ColumnObj>()
            .is_some_and(|o| Rc::ptr_eq(&o.0, &self.0)))
    }

    fn str(&self, _ctx: &mut Ctx) -> Result<String> {
        let d = self.0.def.borrow();
        let name = d.name.clone().unwrap_or_default();
        Ok(match &d.table {
            Some(t) => format!("{t}.{name}"),
            None => name,
        })
    }

    fn repr(&self, ctx: &mut Ctx) -> Result<String> {
        let d = self.0.def.borrow().clone();
        let mut parts = vec![format!("'{}'", d.name.unwrap_or_default())];
        if let Some(t) = &d.ty {
            parts.push(ctx.to_repr(&type_value(t))?);
        }
        if let Some(t) = &d.table {
            parts.push(format!("table=<{t}>"));
        }
        Ok(format!("Column({})", parts.join(", ")))
    }
}

/// `sa.Computed(sqltext, persisted=None)`.
#[derive(Debug)]
pub(crate) struct ComputedObj(pub Computed);

pub(crate) fn new_computed(
    args: Vec<Value>,
    kwargs: Vec<(String, Value)>,
    ctx: &mut Ctx,
) -> Result<Value> {
    let callee = "sqlalchemy.Computed";
    let mut a = Args::new(callee, args, kwargs);
    let text = a.required(0, "sqltext", ctx)?;
    let sqltext = super::convert::to_sql_text(&text, ctx)?;
    let persisted = opt_bool(a.take(1, "persisted"), callee, "persisted", ctx)?;
    a.finish(ctx)?;
    Ok(Value::native(ComputedObj(Computed { sqltext, persisted })))
}

impl Native for ComputedObj {
    fn type_name(&self) -> &str {
        "sqlalchemy.Computed"
    }
}

/// `sa.Identity(always=False, start=None, increment=None)`; the other options are refused.
#[derive(Debug)]
pub(crate) struct IdentityObj(pub Identity);

pub(crate) fn new_identity(
    args: Vec<Value>,
    kwargs: Vec<(String, Value)>,
    ctx: &mut Ctx,
) -> Result<Value> {
    let callee = "sqlalchemy.Identity";
    let mut a = Args::new(callee, args, kwargs);
    let always = opt_bool(a.take(0, "always"), callee, "always", ctx)?.unwrap_or(false);
    let on_null = a.take(1, "on_null");
    let start = opt_int(a.take(2, "start"), callee, "start", ctx)?;
    let increment = opt_int(a.take(3, "increment"), callee, "increment", ctx)?;
    if on_null.is_some_and(|v| !v.is_none()) {
        return Err(ctx.native_unsupported(callee, "`on_null=`"));
    }
    for k in [
        "minvalue",
        "maxvalue",
        "nominvalue",
        "nomaxvalue",
        "cycle",
        "cache",
        "order",
    ] {
        if a.keyword(k).is_some_and(|v| !v.is_none()) {
            return Err(ctx.native_unsupported(callee, format!("`{k}=`")));
        }
    }
    a.finish(ctx)?;
    Ok(Value::native(IdentityObj(Identity {
        always,
        start,
        increment,
    })))
}

impl Native for IdentityObj {
    fn type_name(&self) -> &str {
        "sqlalchemy.Identity"
    }
}
