//! `MetaData`, `Table` (including `autoload_with=`, answered by the compiler's inspector),
//! the lightweight `sa.table(...)`, and the `table.c` column collection.

use std::cell::RefCell;
use std::rc::Rc;

use crate::interp::{Args, Ctx, Native, NativeFunction, Result, Value};

use super::args::{dict_pairs, items, opt_bool, opt_string, sa_exception};
use super::column::{column_value, ColumnObj, ColumnRef};
use super::constraint::{ColRef, ConstraintDef, ConstraintObj, IndexObj};
use super::Hooks;

/// A table: what `sa.Table(...)`, `sa.table(...)`, `op.create_table(...)` or a declarative
/// model defines.
#[derive(Debug)]
pub(crate) struct TableCell {
    pub name: String,
    pub columns: RefCell<Vec<ColumnRef>>,
    /// Constraint and index objects given as table items, in order.
    pub items: RefCell<Vec<Value>>,
    pub comment: Option<String>,
    /// The naming convention of its `MetaData`, when the script set one.
    pub convention: Vec<(String, String)>,
    /// `sa.table(...)`: a lightweight clause for Core statements, not a schema table.
    pub lightweight: bool,
}

pub(crate) type TableRef = Rc<TableCell>;

#[derive(Debug)]
pub(crate) struct TableObj(pub TableRef);

impl TableCell {
    pub fn new(
        name: &str,
        lightweight: bool,
        convention: Vec<(String, String)>,
        comment: Option<String>,
    ) -> TableRef {
        Rc::new(TableCell {
            name: name.to_string(),
            columns: RefCell::new(Vec::new()),
            items: RefCell::new(Vec::new()),
            comment,
            convention,
            lightweight,
        })
    }

    /// Attach a column, as SQLAlchemy does: a column belongs to one table.
    pub fn add_column(&self, c: &ColumnRef, ctx: &Ctx) -> Result<()> {
        let current = c.table_name();
        match current {
            Some(t) if t != self.name || self.columns.borrow().iter().any(|x| Rc::ptr_eq(x, c)) => {
                return Err(sa_exception(
                    ctx,
                    "ArgumentError",
                    format!(
                        "Column object '{}' already assigned to Table '{t}'",
                        c.name().unwrap_or_default()
                    ),
                ))
            }
            _ => {}
        }
        c.def.borrow_mut().table = Some(self.name.clone());
        self.columns.borrow_mut().push(c.clone());
        Ok(())
    }

    /// Add a column, constraint or index given as a table item.
    pub fn add_item(&self, v: &Value, callee: &str, ctx: &Ctx) -> Result<()> {
        if let Some(c) = v.downcast_native::<ColumnObj>() {
            return self.add_column(&c.0, ctx);
        }
        if v.downcast_native::<ConstraintObj>().is_some()
            || v.downcast_native::<IndexObj>().is_some()
        {
            self.items.borrow_mut().push(v.clone());
            return Ok(());
        }
        Err(ctx.native_error(
            callee,
            format!("a {} is not a column, constraint or index", v.type_name()),
        ))
    }

    pub fn column_by_key(&self, key: &str) -> Option<ColumnRef> {
        self.columns
            .borrow()
            .iter()
            .find(|c| c.key().as_deref() == Some(key))
            .cloned()
    }
}

pub(crate) fn table_value(t: &TableRef) -> Value {
    Value::native(TableObj(t.clone()))
}

/// A lightweight table known by name only (`constraint.referred_table`, `column.table`).
pub(crate) fn clause_table(name: &str) -> Value {
    table_value(&TableCell::new(name, true, Vec::new(), None))
}

/// `sa.MetaData(naming_convention=...)`.
#[derive(Debug, Default)]
pub(crate) struct MetaDataObj {
    pub convention: Vec<(String, String)>,
    pub tables: RefCell<Vec<TableRef>>,
    /// The metadata of a declarative base: its tables are the models, which only
    /// `declarative_tables` collects.
    pub declarative: bool,
    /// What `reflect(bind)` asks for the tables (the compiler's inspector).
    pub hooks: Hooks,
}

pub(crate) fn new_metadata(
    args: Vec<Value>,
    kwargs: Vec<(String, Value)>,
    hooks: Hooks,
    ctx: &mut Ctx,
) -> Result<Value> {
    let callee = "sqlalchemy.MetaData";
    let mut a = Args::new(callee, args, kwargs);
    if a.take(0, "schema").is_some_and(|v| !v.is_none()) {
        return Err(ctx.native_unsupported(callee, "`schema=`"));
    }
    let _ = (a.take(1, "quote_schema"), a.keyword("info"));
    let mut convention = Vec::new();
    if let Some(nc) = a.take(2, "naming_convention") {
        if !nc.is_none() {
            for (k, v) in dict_pairs(&nc, callee, "naming_convention", ctx)? {
                match (k.as_str(), v.as_str()) {
                    (Some(k), Some(v)) => convention.push((k.to_string(), v.to_string())),
                    _ => {
                        return Err(ctx.native_unsupported(
                            callee,
                            "a naming convention that is not string to string",
                        ))
                    }
                }
            }
        }
    }
    a.finish(ctx)?;
    Ok(Value::native(MetaDataObj {
        convention,
        hooks,
        ..MetaDataObj::default()
    }))
}

impl Native for MetaDataObj {
    fn type_name(&self) -> &str {
        "sqlalchemy.MetaData"
    }

    fn getattr(&self, name: &str, ctx: &mut Ctx) -> Result<Value> {
        match name {
            "tables" if !self.declarative => Ok(Value::dict_of_str(
                self.tables
                    .borrow()
                    .iter()
                    .map(|t| (t.name.clone(), table_value(t))),
            )),
            "naming_convention" => Ok(Value::dict_of_str(
                self.convention
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::str(v))),
            )),
            "schema" => Ok(Value::None),
            _ => Err(ctx.native_unsupported(self.type_name(), format!("`{name}`"))),
        }
    }

    fn call_method(
        self: Rc<Self>,
        name: &str,
        args: Vec<Value>,
        kwargs: Vec<(String, Value)>,
        ctx: &mut Ctx,
    ) -> Result<Value> {
        if name != "reflect" || self.declarative {
            let method = self.getattr(name, ctx)?;
            return ctx.call(&method, args, kwargs);
        }
        // `metadata.reflect(bind, only=None, views=False)`: every table the inspector lists
        // (or those `only` names), each as `Table(name, metadata, autoload_with=bind)`.
        let callee = "MetaData.reflect";
        let mut a = Args::new(callee, args, kwargs);
        let bind = a.required(0, "bind", ctx)?;
        let only = a.take(2, "only").filter(|v| !v.is_none());
        let _ = (
            a.take(1, "schema").filter(|v| !v.is_none()).map(|_| ()),
            a.keyword("views"),
        );
        for k in ["extend_existing", "autoload_replace", "resolve_fks"] {
            let _ = a.keyword(k);
        }
        a.finish(ctx)?;
        let Some(inspect) = self.hooks.inspect.clone() else {
            return Err(
                ctx.native_unsupported(callee, "reflection (no inspector is available here)")
            );
        };
        let inspector = inspect(&bind, ctx)?;
        let get_table_names = ctx.get_attr(&inspector, "get_table_names")?;
        let listed = ctx.call(&get_table_names, Vec::new(), Vec::new())?;
        let mut names: Vec<String> = Vec::new();
        for v in items(&listed, ctx)? {
            names.extend(v.as_str().map(str::to_string));
        }
        if let Some(only) = only {
            let wanted: Vec<String> = items(&only, ctx)?
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect();
            if let Some(missing) = wanted.iter().find(|w| !names.contains(w)) {
                return Err(sa_exception(
                    ctx,
                    "InvalidRequestError",
                    format!("Could not reflect: requested table(s) not available in Engine: ({missing})"),
                ));
            }
            names = wanted;
        }
        for name in names {
            let known = self.tables.borrow().iter().any(|t| t.name == name);
            if known {
                continue;
            }
            let table = TableCell::new(&name, false, self.convention.clone(), None);
            super::reflect::reflect(&table, &bind, &self.hooks, ctx)?;
            self.tables.borrow_mut().push(table);
        }
        Ok(Value::None)
    }

    fn setattr(&self, name: &str, _value: Value, ctx: &mut Ctx) -> Result<()> {
        // Old scripts set `metadata.bind = conn`; SQLAlchemy 2 ignores it just the same.
        if name == "bind" {
            return Ok(());
        }
        Err(ctx.native_unsupported(self.type_name(), format!("setting attribute `{name}`")))
    }
}

/// The `sa.Table` class, which needs the hooks for `autoload_with=`.
#[derive(Debug)]
pub(crate) struct TableClass(pub Hooks);

impl Native for TableClass {
    fn type_name(&self) -> &str {
        "sqlalchemy.Table"
    }

    fn call(&self, args: Vec<Value>, kwargs: Vec<(String, Value)>, ctx: &mut Ctx) -> Result<Value> {
        let callee = "sqlalchemy.Table";
        let mut a = Args::new(callee, args, kwargs);
        let name =
            opt_string(Some(a.required(0, "name", ctx)?), callee, "name", ctx)?.unwrap_or_default();
        let md_value = a.required(1, "metadata", ctx)?;
        let Some(metadata) = md_value.downcast_native::<MetaDataObj>() else {
            return Err(ctx.native_error(
                callee,
                format!(
                    "the second argument must be a MetaData, got {}",
                    md_value.type_name()
                ),
            ));
        };
        let table_items = a.rest(2);
        let autoload = a.keyword("autoload_with").filter(|v| !v.is_none());
        if a.keyword("schema").is_some_and(|v| !v.is_none()) {
            return Err(ctx.native_unsupported(callee, "`schema=`"));
        }
        let comment = opt_string(a.keyword("comment"), callee, "comment", ctx)?;
        let extend = opt_bool(a.keyword("extend_existing"), callee, "extend_existing", ctx)?
            .unwrap_or(false);
        let _ = (
            a.keyword("keep_existing"),
            a.keyword("info"),
            a.keyword("must_exist"),
        );
        for (k, v) in a.rest_keywords() {
            let ignorable = k.starts_with("mysql_")
                || k.starts_with("mariadb_")
                || (k == "prefixes" && items(&v, ctx)?.is_empty());
            if !ignorable {
                return Err(ctx.native_unsupported(callee, format!("keyword argument `{k}`")));
            }
        }
        a.finish(ctx)?;
        let existing = metadata
            .tables
            .borrow()
            .iter()
            .find(|t| t.name == name)
            .cloned();
        if let Some(t) = existing {
            if table_items.is_empty() || autoload.is_some() {
                return Ok(table_value(&t));
            }
            if !extend {
                return Err(sa_exception(
                    ctx,
                    "InvalidRequestError",
                    format!("Table '{name}' is already defined for this MetaData instance.  Specify 'extend_existing=True' to redefine options and columns on an existing Table object."),
                ));
            }
            return Err(ctx.native_unsupported(callee, "`extend_existing=True` with new items"));
        }
        let table = TableCell::new(&name, false, metadata.convention.clone(), comment);
        if let Some(bind) = autoload {
            super::reflect::reflect(&table, &bind, &self.0, ctx)?;
        }
        for item in &table_items {
            table.add_item(item, callee, ctx)?;
        }
        metadata.tables.borrow_mut().push(table.clone());
        Ok(table_value(&table))
    }
}

/// `sa.table(name, *columns)`: a lightweight table for Core statements.
pub(crate) fn new_table_clause(
    args: Vec<Value>,
    kwargs: Vec<(String, Value)>,
    ctx: &mut Ctx,
) -> Result<Value> {
    let callee = "sqlalchemy.table";
    let mut a = Args::new(callee, args, kwargs);
    let name =
        opt_string(Some(a.required(0, "name", ctx)?), callee, "name", ctx)?.unwrap_or_default();
    let columns = a.rest(1);
    if a.keyword("schema").is_some_and(|v| !v.is_none()) {
        return Err(ctx.native_unsupported(callee, "`schema=`"));
    }
    a.finish(ctx)?;
    let table = TableCell::new(&name, true, Vec::new(), None);
    for c in &columns {
        match c.downcast_native::<ColumnObj>() {
            Some(col) => table.add_column(&col.0, ctx)?,
            None => {
                return Err(ctx.native_error(
                    callee,
                    format!("expected sa.column(...), got {}", c.type_name()),
                ))
            }
        }
    }
    Ok(table_value(&table))
}

impl Native for TableObj {
    fn type_name(&self) -> &str {
        if self.0.lightweight {
            "sqlalchemy.TableClause"
        } else {
            "sqlalchemy.Table"
        }
    }

    fn getattr(&self, name: &str, ctx: &mut Ctx) -> Result<Value> {
        let t = &self.0;
        match name {
            "name" | "fullname" | "key" => Ok(Value::str(&t.name)),
            "schema" => Ok(Value::None),
            "comment" => Ok(t.comment.as_deref().map_or(Value::None, Value::str)),
            "c" | "columns" => Ok(Value::native(ColumnCollection(t.clone()))),
            "foreign_key_constraints" | "constraints" | "indexes" => {
                let want = |v: &Value| match name {
                    "indexes" => v.downcast_native::<IndexObj>().is_some(),
                    "constraints" => v.downcast_native::<ConstraintObj>().is_some(),
                    _ => matches!(
                        v.downcast_native::<ConstraintObj>(),
                        Some(ConstraintObj(ConstraintDef::ForeignKey { .. }))
                    ),
                };
                let mut out: Vec<Value> = t
                    .items
                    .borrow()
                    .iter()
                    .filter(|v| want(v))
                    .cloned()
                    .collect();
                if name != "indexes" {
                    out.extend(
                        column_fk_constraints(t)
                            .into_iter()
                            .map(|c| Value::native(ConstraintObj(c))),
                    );
                }
                Ok(Value::list(out))
            }
            "insert" | "update" | "delete" | "select" => {
                let table = t.clone();
                let kind = name.to_string();
                Ok(Value::native(NativeFunction::new(
                    format!("Table.{name}"),
                    move |args, kwargs, ctx| {
                        super::dml::from_table(&kind, &table, args, kwargs, ctx)
                    },
                )))
            }
            _ => {
                Err(ctx.native_unsupported(self.type_name(), format!("reading attribute `{name}`")))
            }
        }
    }

    fn eq(&self, other: &Value, _ctx: &mut Ctx) -> Result<bool> {
        Ok(other
            .downcast_native::<TableObj>()
            .is_some_and(|o| Rc::ptr_eq(&o.0, &self.0)))
    }

    fn str(&self, _ctx: &mut Ctx) -> Result<String> {
        Ok(self.0.name.clone())
    }

    fn repr(&self, _ctx: &mut Ctx) -> Result<String> {
        Ok(format!("Table('{}', ...)", self.0.name))
    }
}

/// Column-level `ForeignKey`s as the constraints SQLAlchemy makes of them.
pub(crate) fn column_fk_constraints(t: &TableCell) -> Vec<ConstraintDef> {
    let mut out = Vec::new();
    for c in t.columns.borrow().iter() {
        for fk in &c.def.borrow().foreign_keys {
            out.push(ConstraintDef::ForeignKey {
                columns: vec![ColRef::Column(c.clone())],
                targets: vec![fk.target.clone()],
                options: fk.options.clone(),
            });
        }
    }
    out
}

/// `table.c`.
#[derive(Debug)]
pub(crate) struct ColumnCollection(pub TableRef);

impl ColumnCollection {
    fn get(&self, key: &str, ctx: &Ctx) -> Result<Value> {
        match self.0.column_by_key(key) {
            Some(c) => Ok(column_value(&c)),
            None => Err(ctx.raise(
                "AttributeError",
                format!("'{}' has no column '{key}'", self.0.name),
            )),
        }
    }
}

impl Native for ColumnCollection {
    fn type_name(&self) -> &str {
        "ColumnCollection"
    }

    fn getattr(&self, name: &str, ctx: &mut Ctx) -> Result<Value> {
        if name == "keys" {
            let keys: Vec<Value> = self
                .0
                .columns
                .borrow()
                .iter()
                .filter_map(|c| c.key().map(Value::string))
                .collect();
            return Ok(Value::native(NativeFunction::new(
                "ColumnCollection.keys",
                move |_, _, _| Ok(Value::list(keys.clone())),
            )));
        }
        self.get(name, ctx)
    }

    fn getitem(&self, index: &Value, ctx: &mut Ctx) -> Result<Value> {
        match index {
            Value::Str(s) => self
                .get(s, ctx)
                .map_err(|_| ctx.raise("KeyError", s.to_string())),
            Value::Int(i) => {
                let cols = self.0.columns.borrow();
                let n = cols.len() as i64;
                let at = if *i < 0 { i + n } else { *i };
                match usize::try_from(at).ok().and_then(|at| cols.get(at)) {
                    Some(c) => Ok(column_value(c)),
                    None => Err(ctx.raise("IndexError", "index out of range")),
                }
            }
            other => Err(ctx.native_error(
                "ColumnCollection",
                format!("cannot index with {}", other.type_name()),
            )),
        }
    }

    fn iter(&self, _ctx: &mut Ctx) -> Result<Vec<Value>> {
        Ok(self.0.columns.borrow().iter().map(column_value).collect())
    }

    fn len(&self, _ctx: &mut Ctx) -> Result<usize> {
        Ok(self.0.columns.borrow().len())
    }

    fn contains(&self, item: &Value, _ctx: &mut Ctx) -> Result<bool> {
        Ok(match (item.as_str(), item.downcast_native::<ColumnObj>()) {
            (Some(k), _) => self.0.column_by_key(k).is_some(),
            (_, Some(c)) => self.0.columns.borrow().iter().any(|x| Rc::ptr_eq(x, &c.0)),
            _ => false,
        })
    }
}
