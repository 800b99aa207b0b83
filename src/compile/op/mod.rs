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

mod batch;
mod constraints;

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

/// What one `op` call leads to: an operation to emit (its arguments all read), or a value
/// returned as it is.
enum Call {
    Emit(Box<Op>),
    Return(Value),
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
        let call = match name {
            "get_bind" => self.call_get_bind(a, &what, ctx)?,
            "get_context" => self.call_get_context(a, &what, ctx)?,
            "f" => self.call_f(a, &what, ctx)?,
            "inline_literal" => self.call_inline_literal(a, &what, ctx)?,
            "create_table" => self.call_create_table(a, &what, ctx)?,
            "drop_table" => self.call_drop_table(a, &what, ctx)?,
            "rename_table" => self.call_rename_table(a, &what, ctx)?,
            "add_column" => self.call_add_column(a, &what, ctx)?,
            "drop_column" => self.call_drop_column(a, &what, ctx)?,
            "create_index" => self.call_create_index(a, &what, ctx)?,
            "drop_index" => self.call_drop_index(a, &what, ctx)?,
            "create_foreign_key" => self.call_create_foreign_key(a, &what, ctx)?,
            "create_primary_key" => self.call_create_primary_key(a, &what, ctx)?,
            "create_unique_constraint" => self.call_create_unique_constraint(a, &what, ctx)?,
            "create_check_constraint" => self.call_create_check_constraint(a, &what, ctx)?,
            "drop_constraint" => self.call_drop_constraint(a, &what, ctx)?,
            "execute" => self.call_execute(a, &what, ctx)?,
            "bulk_insert" => self.call_bulk_insert(a, &what, ctx)?,
            "batch_alter_table" => self.call_batch_alter_table(a, &what, ctx)?,
            "alter_column" => {
                let op = Op::AlterColumn(self.alter_column(&mut a, &what, ctx)?);
                a.finish(ctx)?;
                Call::Emit(Box::new(op))
            }
            other => return Err(ctx.native_unsupported(&what, format!("`{other}`"))),
        };
        match call {
            Call::Return(value) => Ok(value),
            Call::Emit(op) => {
                self.emit(*op, ctx)?;
                Ok(Value::None)
            }
        }
    }

    /// `op.get_bind(...)`.
    fn call_get_bind(&self, a: Args, _what: &str, ctx: &mut Ctx) -> Result<Call> {
        a.finish(ctx)?;
        Ok(Call::Return(self.session.bind_value()))
    }

    /// `op.get_context(...)`.
    fn call_get_context(&self, a: Args, _what: &str, ctx: &mut Ctx) -> Result<Call> {
        a.finish(ctx)?;
        Ok(Call::Return(self.session.context_value()))
    }

    /// `op.f(...)`.
    /// A final name (SQLAlchemy's `conv`): never formatted by a naming convention, and cut
    /// as SQLAlchemy's DDL compiler cuts one longer than the database allows.
    fn call_f(&self, mut a: Args, _what: &str, ctx: &mut Ctx) -> Result<Call> {
        let v = a.required(0, "name", ctx)?;
        a.finish(ctx)?;
        let Some(name) = v.as_str() else {
            return Ok(Call::Return(v));
        };
        let mut s = self.session.0.borrow_mut();
        let max = s.dialect.database().max_identifier_length();
        let name = crate::schema::naming::fit_final(name, max);
        s.final_names.insert(name.clone());
        Ok(Call::Return(Value::str(&name)))
    }

    /// `op.inline_literal(...)`.
    fn call_inline_literal(&self, mut a: Args, _what: &str, ctx: &mut Ctx) -> Result<Call> {
        let v = a.required(0, "value", ctx)?;
        let _ = a.keyword("type_");
        a.finish(ctx)?;
        Ok(Call::Return(v))
    }

    /// `op.create_table(...)`.
    fn call_create_table(&self, mut a: Args, what: &str, ctx: &mut Ctx) -> Result<Call> {
        let table = string(&a.required(0, "table_name", ctx)?, what, ctx)?;
        no_schema(&mut a, what, ctx)?;
        let items = a.rest(1);
        let if_not_exists = opt_bool(a.keyword("if_not_exists"), what, ctx)?;
        let comment = opt_string(a.keyword("comment"), what, ctx)?;
        for (k, _) in a.rest_keywords() {
            if !(k.starts_with("mysql_") || k.starts_with("mariadb_") || k == "info") {
                return Err(ctx.native_unsupported(what, format!("keyword argument `{k}`")));
            }
        }
        let mut t = sa::table_from_items(&table, &items, ctx)?;
        t.comment = comment;
        let value = sa::table_value(&t);
        if if_not_exists == Some(true) && self.known(|m| m.table(&table).is_some()) {
            return Ok(Call::Return(value));
        }
        self.emit(Op::CreateTable { table: t }, ctx)?;
        Ok(Call::Return(value))
    }

    /// `op.drop_table(...)`.
    fn call_drop_table(&self, mut a: Args, what: &str, ctx: &mut Ctx) -> Result<Call> {
        let table = string(&a.required(0, "table_name", ctx)?, what, ctx)?;
        no_schema(&mut a, what, ctx)?;
        let if_exists = opt_bool(a.keyword("if_exists"), what, ctx)?;
        if if_exists == Some(true) && self.known(|m| m.table(&table).is_none()) {
            a.finish(ctx)?;
            return Ok(Call::Return(Value::None));
        }
        let op = Op::DropTable { table };
        a.finish(ctx)?;
        Ok(Call::Emit(Box::new(op)))
    }

    /// `op.rename_table(...)`.
    fn call_rename_table(&self, mut a: Args, what: &str, ctx: &mut Ctx) -> Result<Call> {
        let table = string(&a.required(0, "old_table_name", ctx)?, what, ctx)?;
        let new_name = string(&a.required(1, "new_table_name", ctx)?, what, ctx)?;
        no_schema(&mut a, what, ctx)?;
        let op = Op::RenameTable { table, new_name };
        a.finish(ctx)?;
        Ok(Call::Emit(Box::new(op)))
    }

    /// `op.add_column(...)`.
    fn call_add_column(&self, mut a: Args, what: &str, ctx: &mut Ctx) -> Result<Call> {
        let s = self.shift();
        let table = self.table_arg(&mut a, 0, "table_name", ctx)?;
        let column = sa::to_column(&a.required(s, "column", ctx)?, ctx)?;
        no_schema(&mut a, what, ctx)?;
        let if_not_exists = opt_bool(a.keyword("if_not_exists"), what, ctx)?;
        if if_not_exists == Some(true) && self.has_column(&table, &column.name) {
            let _ = a.keyword("insert_before");
            let _ = a.keyword("insert_after");
            a.finish(ctx)?;
            return Ok(Call::Return(Value::None));
        }
        let insert_before = opt_string(a.keyword("insert_before"), what, ctx)?;
        let insert_after = opt_string(a.keyword("insert_after"), what, ctx)?;
        let op = Op::AddColumn {
            table,
            column,
            insert_before,
            insert_after,
        };
        a.finish(ctx)?;
        Ok(Call::Emit(Box::new(op)))
    }

    /// `op.drop_column(...)`.
    fn call_drop_column(&self, mut a: Args, what: &str, ctx: &mut Ctx) -> Result<Call> {
        let s = self.shift();
        let table = self.table_arg(&mut a, 0, "table_name", ctx)?;
        let column = string(&a.required(s, "column_name", ctx)?, what, ctx)?;
        no_schema(&mut a, what, ctx)?;
        let if_exists = opt_bool(a.keyword("if_exists"), what, ctx)?;
        for (k, _) in a.rest_keywords() {
            if !k.starts_with("mssql_") {
                return Err(ctx.native_unsupported(what, format!("keyword argument `{k}`")));
            }
        }
        if if_exists == Some(true) && !self.has_column(&table, &column) {
            a.finish(ctx)?;
            return Ok(Call::Return(Value::None));
        }
        let op = Op::DropColumn { table, column };
        a.finish(ctx)?;
        Ok(Call::Emit(Box::new(op)))
    }

    /// `op.execute(...)`.
    fn call_execute(&self, mut a: Args, _what: &str, ctx: &mut Ctx) -> Result<Call> {
        let sql = a.required(0, "sqltext", ctx)?;
        let _ = a.keyword("execution_options");
        let statement = match sql.as_str() {
            Some(text) => Statement::Sql {
                text: text.to_string(),
            },
            None => sa::to_statement(&sql, ctx)?,
        };
        let op = Op::Execute { statement };
        a.finish(ctx)?;
        Ok(Call::Emit(Box::new(op)))
    }

    /// `op.bulk_insert(...)`.
    fn call_bulk_insert(&self, mut a: Args, what: &str, ctx: &mut Ctx) -> Result<Call> {
        let table = sa::to_table(&a.required(0, "table", ctx)?, ctx)?;
        let rows = ctx.iterate(&a.required(1, "rows", ctx)?)?;
        let _ = a.keyword("multiinsert");
        let columns: Vec<String> = table.columns.iter().map(|c| c.name.clone()).collect();
        let mut out = Vec::new();
        for row in rows {
            let Value::Dict(d) = &row else {
                return Err(ctx.native_error(what, "each row must be a dict"));
            };
            let d = d.borrow();
            let mut values = Vec::new();
            for c in &columns {
                let v = d
                    .iter()
                    .find(|(k, _)| k.as_str() == Some(c.as_str()))
                    .map(|(_, v)| v.clone())
                    .unwrap_or(Value::None);
                values.push(sa::literal(&v, what, ctx)?);
            }
            out.push(values);
        }
        let op = Op::BulkInsert {
            table: table.name,
            columns,
            rows: out,
        };
        a.finish(ctx)?;
        Ok(Call::Emit(Box::new(op)))
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
        // A Python-side default: Alembic passes it along and no DDL reads it.
        let _ = a.keyword("default");
        if let Some(using) = a.keyword("postgresql_using") {
            alter.postgresql_using = Some(sa::to_sql_text(&using, ctx)?);
        }
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
