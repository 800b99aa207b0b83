//! Emulated `alembic.op` and `batch_op`: each call becomes an `ir::Op`, rendered for the
//! session's dialect at once (so that an inspector asked later sees the schema as it is at that
//! point), or, inside `batch_alter_table`, collected until the block ends.
//!
//! Arguments follow Alembic 1.20's signatures; an argument we do not model is an error naming
//! it, never silently dropped.

use std::cell::RefCell;
use std::rc::Rc;

use super::sa;
use super::session::Shared;
use crate::interp::{Args, Ctx, Native, Raised, Result, Value};
use crate::ir::{
    AlterColumn, Batch, Constraint, ConstraintKind, ForeignKey, Index, IndexPart, Op, Recreate,
    Statement,
};

/// The `op` object.
#[derive(Debug, Clone)]
pub struct Operations {
    pub(crate) session: Shared,
    /// Set for `batch_op`: the batch being collected.
    pub(crate) batch: Option<Rc<RefCell<Batch>>>,
}

#[derive(Debug)]
struct OpMethod {
    ops: Operations,
    name: String,
}

/// `with op.batch_alter_table(...) as batch_op:`.
#[derive(Debug)]
struct BatchContext {
    session: Shared,
    batch: Rc<RefCell<Batch>>,
}

const OP_METHODS: &[&str] = &[
    "create_table",
    "drop_table",
    "rename_table",
    "add_column",
    "drop_column",
    "alter_column",
    "create_index",
    "drop_index",
    "create_foreign_key",
    "create_primary_key",
    "create_unique_constraint",
    "create_check_constraint",
    "drop_constraint",
    "execute",
    "bulk_insert",
    "batch_alter_table",
    "get_bind",
    "get_context",
    "f",
    "inline_literal",
];

impl Native for Operations {
    fn type_name(&self) -> &str {
        if self.batch.is_some() {
            "BatchOperations"
        } else {
            "Operations"
        }
    }

    fn getattr(&self, name: &str, ctx: &mut Ctx) -> Result<Value> {
        if name == "impl" || name == "migration_context" {
            return Ok(self.session.context_value());
        }
        if !OP_METHODS.contains(&name) {
            return Err(ctx
                .native_unsupported(self.type_name(), format!("`{}`", a_name(&self.batch, name))));
        }
        Ok(Value::native(OpMethod {
            ops: self.clone(),
            name: name.to_string(),
        }))
    }
}

impl Native for OpMethod {
    fn type_name(&self) -> &str {
        &self.name
    }

    fn call(&self, args: Vec<Value>, kwargs: Vec<(String, Value)>, ctx: &mut Ctx) -> Result<Value> {
        let prefix = if self.ops.batch.is_some() {
            "batch_op"
        } else {
            "op"
        };
        let args = Args::new(format!("{prefix}.{}", self.name), args, kwargs);
        self.ops.dispatch(&self.name, args, ctx)
    }
}

fn string(v: &Value, what: &str, ctx: &Ctx) -> Result<String> {
    v.as_str()
        .map(str::to_string)
        .ok_or_else(|| ctx.native_error(what, format!("expected a string, got {}", v.type_name())))
}

fn opt_string(v: Option<Value>, what: &str, ctx: &Ctx) -> Result<Option<String>> {
    match v {
        None | Some(Value::None) => Ok(None),
        Some(v) => string(&v, what, ctx).map(Some),
    }
}

fn opt_bool(v: Option<Value>, what: &str, ctx: &Ctx) -> Result<Option<bool>> {
    match v {
        None | Some(Value::None) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(b)),
        Some(other) => {
            Err(ctx.native_error(what, format!("expected a bool, got {}", other.type_name())))
        }
    }
}

/// A list of column names: strings, or column objects (their names).
fn names(v: &Value, what: &str, ctx: &mut Ctx) -> Result<Vec<String>> {
    let items = match v {
        Value::Str(s) => return Ok(vec![s.to_string()]),
        _ => ctx.iterate(v)?,
    };
    items
        .iter()
        .map(|item| match item.as_str() {
            Some(s) => Ok(s.to_string()),
            None => sa::column_name(item).ok_or_else(|| {
                ctx.native_error(
                    what,
                    format!("expected a column name, got {}", item.type_name()),
                )
            }),
        })
        .collect::<Result<Vec<_>>>()
}

/// Ignore `schema=None`; a real schema is not modeled.
fn no_schema(args: &mut Args, what: &str, ctx: &Ctx) -> Result<()> {
    for key in ["schema", "source_schema", "referent_schema"] {
        if let Some(v) = args.keyword(key) {
            if !v.is_none() {
                return Err(ctx.native_unsupported(
                    what,
                    format!("`{key}=` (schemas other than the default)"),
                ));
            }
        }
    }
    Ok(())
}

impl Operations {
    fn table_arg(&self, args: &mut Args, index: usize, name: &str, ctx: &Ctx) -> Result<String> {
        match &self.batch {
            Some(b) => Ok(b.borrow().table.clone()),
            None => {
                let v = args.required(index, name, ctx)?;
                string(&v, name, ctx)
            }
        }
    }

    /// Asks the schema model as the operation finds it (for `if_exists` / `if_not_exists`,
    /// which Alembic renders as `IF [NOT] EXISTS`: the plan knows whether the object is
    /// there, so it leaves out the operation that would do nothing). In a batch block, the
    /// model is the table before the block.
    fn known(&self, ask: impl Fn(&crate::schema::SchemaModel) -> bool) -> bool {
        ask(&self.session.0.borrow().model)
    }

    fn has_column(&self, table: &str, column: &str) -> bool {
        self.known(|m| {
            m.table(table)
                .is_some_and(|t| t.columns.iter().any(|c| c.name == column))
        })
    }

    fn has_index(&self, table: Option<&str>, index: &str) -> bool {
        self.known(|m| {
            m.tables
                .iter()
                .filter(|t| table.is_none_or(|name| t.name == name))
                .any(|t| t.indexes.iter().any(|i| i.name == index))
        })
    }

    /// Positional index shift: batch methods have no table argument.
    fn shift(&self) -> usize {
        usize::from(self.batch.is_none())
    }

    fn emit(&self, op: Op, ctx: &mut Ctx) -> Result<()> {
        match &self.batch {
            Some(b) => {
                b.borrow_mut().ops.push(op);
                Ok(())
            }
            None => self.session.emit(op, ctx),
        }
    }

    fn dispatch(&self, name: &str, mut a: Args, ctx: &mut Ctx) -> Result<Value> {
        let what = a_name(&self.batch, name);
        let s = self.shift();
        let result = match name {
            "get_bind" => {
                a.finish(ctx)?;
                return Ok(self.session.bind_value());
            }
            "get_context" => {
                a.finish(ctx)?;
                return Ok(self.session.context_value());
            }
            "f" => {
                let v = a.required(0, "name", ctx)?;
                a.finish(ctx)?;
                return Ok(v);
            }
            "inline_literal" => {
                let v = a.required(0, "value", ctx)?;
                let _ = a.keyword("type_");
                a.finish(ctx)?;
                return Ok(v);
            }
            "create_table" => {
                let table = string(&a.required(0, "table_name", ctx)?, &what, ctx)?;
                no_schema(&mut a, &what, ctx)?;
                let items = a.rest(1);
                let if_not_exists = opt_bool(a.keyword("if_not_exists"), &what, ctx)?;
                let comment = opt_string(a.keyword("comment"), &what, ctx)?;
                for (k, _) in a.rest_keywords() {
                    if !(k.starts_with("mysql_") || k.starts_with("mariadb_") || k == "info") {
                        return Err(
                            ctx.native_unsupported(&what, format!("keyword argument `{k}`"))
                        );
                    }
                }
                let mut t = sa::table_from_items(&table, &items, ctx)?;
                t.comment = comment;
                let value = sa::table_value(&t);
                if if_not_exists == Some(true) && self.known(|m| m.table(&table).is_some()) {
                    return Ok(value);
                }
                self.emit(Op::CreateTable { table: t }, ctx)?;
                return Ok(value);
            }
            "drop_table" => {
                let table = string(&a.required(0, "table_name", ctx)?, &what, ctx)?;
                no_schema(&mut a, &what, ctx)?;
                let if_exists = opt_bool(a.keyword("if_exists"), &what, ctx)?;
                if if_exists == Some(true) && self.known(|m| m.table(&table).is_none()) {
                    a.finish(ctx)?;
                    return Ok(Value::None);
                }
                Op::DropTable { table }
            }
            "rename_table" => {
                let table = string(&a.required(0, "old_table_name", ctx)?, &what, ctx)?;
                let new_name = string(&a.required(1, "new_table_name", ctx)?, &what, ctx)?;
                no_schema(&mut a, &what, ctx)?;
                Op::RenameTable { table, new_name }
            }
            "add_column" => {
                let table = self.table_arg(&mut a, 0, "table_name", ctx)?;
                let column = sa::to_column(&a.required(s, "column", ctx)?, ctx)?;
                no_schema(&mut a, &what, ctx)?;
                let if_not_exists = opt_bool(a.keyword("if_not_exists"), &what, ctx)?;
                if if_not_exists == Some(true) && self.has_column(&table, &column.name) {
                    let _ = a.keyword("insert_before");
                    let _ = a.keyword("insert_after");
                    a.finish(ctx)?;
                    return Ok(Value::None);
                }
                let insert_before = opt_string(a.keyword("insert_before"), &what, ctx)?;
                let insert_after = opt_string(a.keyword("insert_after"), &what, ctx)?;
                Op::AddColumn {
                    table,
                    column,
                    insert_before,
                    insert_after,
                }
            }
            "drop_column" => {
                let table = self.table_arg(&mut a, 0, "table_name", ctx)?;
                let column = string(&a.required(s, "column_name", ctx)?, &what, ctx)?;
                no_schema(&mut a, &what, ctx)?;
                let if_exists = opt_bool(a.keyword("if_exists"), &what, ctx)?;
                for (k, _) in a.rest_keywords() {
                    if !k.starts_with("mssql_") {
                        return Err(
                            ctx.native_unsupported(&what, format!("keyword argument `{k}`"))
                        );
                    }
                }
                if if_exists == Some(true) && !self.has_column(&table, &column) {
                    a.finish(ctx)?;
                    return Ok(Value::None);
                }
                Op::DropColumn { table, column }
            }
            "alter_column" => Op::AlterColumn(self.alter_column(&mut a, &what, ctx)?),
            "create_index" => {
                let index_name = opt_string(a.take(0, "index_name"), &what, ctx)?;
                let table = self.table_arg(&mut a, 1, "table_name", ctx)?;
                let columns = a.required(s + 1, "columns", ctx)?;
                let unique = opt_bool(a.keyword("unique"), &what, ctx)?.unwrap_or(false);
                no_schema(&mut a, &what, ctx)?;
                let if_not_exists = opt_bool(a.keyword("if_not_exists"), &what, ctx)?;
                let mut parts = Vec::new();
                let items = match &columns {
                    Value::Str(_) => vec![columns.clone()],
                    other => ctx.iterate(other)?,
                };
                for item in items {
                    parts.push(match item.as_str() {
                        Some(c) => IndexPart::Column(c.to_string()),
                        None => match sa::column_name(&item) {
                            Some(c) => IndexPart::Column(c),
                            None => IndexPart::Expression(sa::to_sql_text(&item, ctx)?),
                        },
                    });
                }
                let mut dialect_options = Vec::new();
                for (k, v) in a.rest_keywords() {
                    dialect_options.push((k.clone(), sa::to_dialect_option(&k, &v, ctx)?));
                }
                let name = match index_name {
                    Some(n) => n,
                    None => {
                        return Err(ctx.native_error(
                            &what,
                            "an index needs a name (no naming convention applies here)",
                        ))
                    }
                };
                if if_not_exists == Some(true) && self.has_index(Some(&table), &name) {
                    a.finish(ctx)?;
                    return Ok(Value::None);
                }
                Op::CreateIndex {
                    index: Index {
                        name,
                        table,
                        parts,
                        unique,
                        dialect_options,
                    },
                }
            }
            "drop_index" => {
                let index_name = string(&a.required(0, "index_name", ctx)?, &what, ctx)?;
                let table = match &self.batch {
                    Some(b) => Some(b.borrow().table.clone()),
                    None => opt_string(a.take(1, "table_name"), &what, ctx)?,
                };
                no_schema(&mut a, &what, ctx)?;
                let if_exists = opt_bool(a.keyword("if_exists"), &what, ctx)?;
                for (k, _) in a.rest_keywords() {
                    if !(k.starts_with("mysql_")
                        || k.starts_with("postgresql_")
                        || k.starts_with("sqlite_"))
                    {
                        return Err(
                            ctx.native_unsupported(&what, format!("keyword argument `{k}`"))
                        );
                    }
                }
                if if_exists == Some(true) && !self.has_index(table.as_deref(), &index_name) {
                    a.finish(ctx)?;
                    return Ok(Value::None);
                }
                Op::DropIndex {
                    table,
                    name: index_name,
                }
            }
            "create_foreign_key" => {
                let name = opt_string(a.take(0, "constraint_name"), &what, ctx)?;
                let table = self.table_arg(&mut a, 1, "source_table", ctx)?;
                let ref_table = string(&a.required(s + 1, "referent_table", ctx)?, &what, ctx)?;
                let columns = names(&a.required(s + 2, "local_cols", ctx)?, &what, ctx)?;
                let ref_columns = names(&a.required(s + 3, "remote_cols", ctx)?, &what, ctx)?;
                let fk = ForeignKey {
                    name,
                    columns,
                    ref_table,
                    ref_columns,
                    ondelete: opt_string(a.keyword("ondelete"), &what, ctx)?,
                    onupdate: opt_string(a.keyword("onupdate"), &what, ctx)?,
                    deferrable: opt_bool(a.keyword("deferrable"), &what, ctx)?,
                    initially: opt_string(a.keyword("initially"), &what, ctx)?,
                };
                no_schema(&mut a, &what, ctx)?;
                if let Some(m) = a.keyword("match") {
                    if !m.is_none() {
                        return Err(ctx.native_unsupported(&what, "`match=`"));
                    }
                }
                Op::AddConstraint {
                    table,
                    constraint: Constraint::ForeignKey(fk),
                }
            }
            "create_primary_key" => {
                let name = opt_string(a.take(0, "constraint_name"), &what, ctx)?;
                let table = self.table_arg(&mut a, 1, "table_name", ctx)?;
                let columns = names(&a.required(s + 1, "columns", ctx)?, &what, ctx)?;
                no_schema(&mut a, &what, ctx)?;
                Op::AddConstraint {
                    table,
                    constraint: Constraint::PrimaryKey { name, columns },
                }
            }
            "create_unique_constraint" => {
                let name = opt_string(a.take(0, "constraint_name"), &what, ctx)?;
                let table = self.table_arg(&mut a, 1, "table_name", ctx)?;
                let columns = names(&a.required(s + 1, "columns", ctx)?, &what, ctx)?;
                no_schema(&mut a, &what, ctx)?;
                let _ = a.keyword("deferrable");
                let _ = a.keyword("initially");
                Op::AddConstraint {
                    table,
                    constraint: Constraint::Unique { name, columns },
                }
            }
            "create_check_constraint" => {
                let name = opt_string(a.take(0, "constraint_name"), &what, ctx)?;
                let table = self.table_arg(&mut a, 1, "table_name", ctx)?;
                let condition = a.required(s + 1, "condition", ctx)?;
                let sqltext = match condition.as_str() {
                    Some(text) => text.to_string(),
                    None => sa::to_sql_text(&condition, ctx)?,
                };
                no_schema(&mut a, &what, ctx)?;
                Op::AddConstraint {
                    table,
                    constraint: Constraint::Check { name, sqltext },
                }
            }
            "drop_constraint" => {
                let name = string(&a.required(0, "constraint_name", ctx)?, &what, ctx)?;
                let table = self.table_arg(&mut a, 1, "table_name", ctx)?;
                let kind = match opt_string(a.take(s + 1, "type_"), &what, ctx)?.as_deref() {
                    None => None,
                    Some("primary") => Some(ConstraintKind::PrimaryKey),
                    Some("foreignkey") => Some(ConstraintKind::ForeignKey),
                    Some("unique") => Some(ConstraintKind::Unique),
                    Some("check") => Some(ConstraintKind::Check),
                    Some(other) => {
                        return Err(
                            ctx.native_error(&what, format!("unknown constraint type_ '{other}'"))
                        )
                    }
                };
                no_schema(&mut a, &what, ctx)?;
                let _ = a.keyword("if_exists");
                Op::DropConstraint { table, name, kind }
            }
            "execute" => {
                let sql = a.required(0, "sqltext", ctx)?;
                let _ = a.keyword("execution_options");
                let statement = match sql.as_str() {
                    Some(text) => Statement::Sql {
                        text: text.to_string(),
                    },
                    None => sa::to_statement(&sql, ctx)?,
                };
                Op::Execute { statement }
            }
            "bulk_insert" => {
                let table = sa::to_table(&a.required(0, "table", ctx)?, ctx)?;
                let rows = ctx.iterate(&a.required(1, "rows", ctx)?)?;
                let _ = a.keyword("multiinsert");
                let columns: Vec<String> = table.columns.iter().map(|c| c.name.clone()).collect();
                let mut out = Vec::new();
                for row in rows {
                    let Value::Dict(d) = &row else {
                        return Err(ctx.native_error(&what, "each row must be a dict"));
                    };
                    let d = d.borrow();
                    let mut values = Vec::new();
                    for c in &columns {
                        let v = d
                            .iter()
                            .find(|(k, _)| k.as_str() == Some(c.as_str()))
                            .map(|(_, v)| v.clone())
                            .unwrap_or(Value::None);
                        values.push(sa::literal(&v, &what, ctx)?);
                    }
                    out.push(values);
                }
                Op::BulkInsert {
                    table: table.name,
                    columns,
                    rows: out,
                }
            }
            "batch_alter_table" => {
                if self.batch.is_some() {
                    return Err(ctx.native_unsupported(&what, "a batch inside a batch"));
                }
                let table = string(&a.required(0, "table_name", ctx)?, &what, ctx)?;
                no_schema(&mut a, &what, ctx)?;
                let recreate = match opt_string(a.take(2, "recreate"), &what, ctx)?.as_deref() {
                    None | Some("auto") => Recreate::Auto,
                    Some("always") => Recreate::Always,
                    Some("never") => Recreate::Never,
                    Some(other) => {
                        return Err(ctx.native_error(
                            &what,
                            format!("recreate may be 'auto', 'always' or 'never', not '{other}'"),
                        ))
                    }
                };
                let mut batch = Batch {
                    table: table.clone(),
                    recreate,
                    naming_convention: Vec::new(),
                    table_args: Vec::new(),
                    partial_reordering: Vec::new(),
                    ops: Vec::new(),
                };
                if let Some(nc) = a.keyword("naming_convention") {
                    if let Value::Dict(d) = &nc {
                        let pairs: Vec<(Value, Value)> = d
                            .borrow()
                            .iter()
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect();
                        for (k, v) in pairs {
                            let k = string(&k, &what, ctx)?;
                            batch.naming_convention.push((k, string(&v, &what, ctx)?));
                        }
                    } else if !nc.is_none() {
                        return Err(ctx.native_error(&what, "naming_convention must be a dict"));
                    }
                }
                if let Some(ta) = a.keyword("table_args") {
                    for item in ctx.iterate(&ta)? {
                        batch
                            .table_args
                            .push(sa::to_constraint(&item, Some(&table), ctx)?);
                    }
                }
                if let Some(pr) = a.keyword("partial_reordering") {
                    if !pr.is_none() {
                        for group in ctx.iterate(&pr)? {
                            batch.partial_reordering.push(names(&group, &what, ctx)?);
                        }
                    }
                }
                for key in [
                    "copy_from",
                    "reflect_args",
                    "reflect_kwargs",
                    "table_kwargs",
                ] {
                    if let Some(v) = a.keyword(key) {
                        let empty =
                            v.is_none() || ctx.iterate(&v).map(|i| i.is_empty()).unwrap_or(false);
                        if !empty {
                            return Err(ctx.native_unsupported(&what, format!("`{key}=`")));
                        }
                    }
                }
                a.finish(ctx)?;
                return Ok(Value::native(BatchContext {
                    session: self.session.clone(),
                    batch: Rc::new(RefCell::new(batch)),
                }));
            }
            other => return Err(ctx.native_unsupported(&what, format!("`{other}`"))),
        };
        a.finish(ctx)?;
        self.emit(result, ctx)?;
        Ok(Value::None)
    }

    fn alter_column(&self, a: &mut Args, what: &str, ctx: &mut Ctx) -> Result<AlterColumn> {
        let table = self.table_arg(a, 0, "table_name", ctx)?;
        let column = string(&a.required(self.shift(), "column_name", ctx)?, what, ctx)?;
        let mut alter = AlterColumn::new(&table, &column);
        alter.nullable = opt_bool(a.keyword("nullable"), what, ctx)?;
        alter.existing_nullable = opt_bool(a.keyword("existing_nullable"), what, ctx)?;
        alter.new_name = opt_string(a.keyword("new_column_name"), what, ctx)?;
        if let Some(t) = a.keyword("type_") {
            if !t.is_none() {
                alter.type_ = Some(sa::to_type(&t, ctx)?);
            }
        }
        if let Some(t) = a.keyword("existing_type") {
            if !t.is_none() {
                alter.existing_type = Some(sa::to_type(&t, ctx)?);
            }
        }
        // `False` (the default) means "no change"; None drops the default.
        match a.keyword("server_default") {
            None | Some(Value::Bool(false)) => {}
            Some(Value::None) => alter.server_default = Some(None),
            Some(v) => alter.server_default = Some(Some(sa::to_server_default(&v, ctx)?)),
        }
        match a.keyword("existing_server_default") {
            None | Some(Value::Bool(false)) | Some(Value::None) => {}
            Some(v) => alter.existing_server_default = Some(sa::to_server_default(&v, ctx)?),
        }
        match a.keyword("comment") {
            None | Some(Value::Bool(false)) => {}
            Some(Value::None) => alter.comment = Some(None),
            Some(v) => alter.comment = Some(Some(string(&v, what, ctx)?)),
        }
        alter.existing_comment = opt_string(a.keyword("existing_comment"), what, ctx)?;
        alter.autoincrement = opt_bool(a.keyword("autoincrement"), what, ctx)?;
        let _ = a.keyword("existing_autoincrement");
        no_schema(a, what, ctx)?;
        for (k, _) in a.rest_keywords() {
            if !(k.starts_with("mysql_") || k.starts_with("postgresql_") || k.starts_with("mssql_"))
            {
                return Err(ctx.native_unsupported(what, format!("keyword argument `{k}`")));
            }
        }
        Ok(alter)
    }
}

fn a_name(batch: &Option<Rc<RefCell<Batch>>>, name: &str) -> String {
    if batch.is_some() {
        format!("batch_op.{name}")
    } else {
        format!("op.{name}")
    }
}

impl Native for BatchContext {
    fn type_name(&self) -> &str {
        "BatchOperations context"
    }

    fn enter(&self, _ctx: &mut Ctx) -> Result<Value> {
        Ok(Value::native(Operations {
            session: self.session.clone(),
            batch: Some(self.batch.clone()),
        }))
    }

    fn exit(&self, raised: Option<&Raised>, ctx: &mut Ctx) -> Result<bool> {
        if raised.is_none() {
            let batch = self.batch.borrow().clone();
            self.session.emit(Op::Batch(batch), ctx)?;
        }
        Ok(false)
    }
}
