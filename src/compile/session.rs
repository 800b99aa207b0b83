//! A compile session: the dialect, the schema model as it stands, and the operations emitted so
//! far, shared by `op`, `batch_op`, the bind and the inspector while one revision runs.
//!
//! The bind answers what scripts ask of a connection (`dialect.name`, `engine.name`) and runs
//! data-changing statements as operations; anything that *reads* rows is a data migration and
//! refused here (a recipe serves it).

use std::cell::RefCell;
use std::rc::Rc;

use crate::dialect::Dialect;
use crate::interp::{Args, Ctx, Native, Result, Value};
use crate::ir::Op;
use crate::schema::SchemaModel;
use crate::script::ast::Pos;

use super::sa;

/// One operation the script performed, with its SQL and where in the script it was asked for.
#[derive(Debug, Clone)]
pub struct EmittedOp {
    pub op: Op,
    pub statements: Vec<crate::plan::Statement>,
    pub pos: Pos,
    /// For each column whose type the op changes (a batch's included), its type in the
    /// schema model just before: what the server compares the new type with, when the script
    /// gave no `existing_type`.
    pub types_before: Vec<((String, String), crate::ir::SqlType)>,
}

/// The tables a data statement may add rows to (`*`, any table, for one whose effect is not
/// read). Schema statements add none: a SQLite rebuild copies the rows the table had.
fn rows_added(st: &crate::plan::Statement) -> Vec<String> {
    use crate::schema::effect::{Effect, Object, Reading};
    if !st.is_dml() {
        return Vec::new();
    }
    match st.effect() {
        Reading::Effects(effects) => effects
            .iter()
            .filter_map(|e| match e {
                Effect::Set(Object::Rows(t), _) | Effect::Fill { table: t, .. } => Some(t.clone()),
                _ => None,
            })
            .collect(),
        // A data statement whose effect was not read: any table.
        _ => vec!["*".to_string()],
    }
}

/// The model's type of every column `op` retypes.
fn types_before(model: &SchemaModel, op: &Op) -> Vec<((String, String), crate::ir::SqlType)> {
    let retyped: Vec<&crate::ir::AlterColumn> = match op {
        Op::AlterColumn(a) => vec![a],
        Op::Batch(b) => b
            .ops
            .iter()
            .filter_map(|o| match o {
                Op::AlterColumn(a) => Some(a),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    retyped
        .into_iter()
        .filter(|a| a.type_.is_some())
        .filter_map(|a| {
            let column = model
                .table(&a.table)?
                .columns
                .iter()
                .find(|c| c.name == a.column)?;
            Some(((a.table.clone(), a.column.clone()), column.ty.clone()))
        })
        .collect()
}

pub struct Session {
    pub dialect: std::sync::Arc<dyn Dialect>,
    /// The name scripts see: `mysql` for MariaDB too.
    pub dialect_name: String,
    pub model: SchemaModel,
    pub emitted: Vec<EmittedOp>,
    pub offline: bool,
    /// The project's naming convention (empty: SQLAlchemy's default).
    pub naming: super::naming::Convention,
    /// Names given through `op.f()`: final, never formatted by the convention.
    pub final_names: std::collections::HashSet<String>,
    /// Reads a recipe answered (`alembic_engine.answer`): normalized SQL → rows.
    pub answers: Vec<(String, Vec<Value>)>,
    /// Inside `autocommit_block()`: statements run outside the revision's transaction.
    pub autocommit: bool,
    /// Tables a recipe's guard found empty (`alembic_engine.empty_tables`): a query reading
    /// only them gives no row, until a statement adds rows to one.
    pub empty_tables: Vec<String>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("dialect", &self.dialect_name)
            .field("emitted", &self.emitted.len())
            .finish()
    }
}

#[derive(Debug, Clone)]
pub struct Shared(pub Rc<RefCell<Session>>);

impl Shared {
    pub fn new(session: Session) -> Self {
        Shared(Rc::new(RefCell::new(session)))
    }

    pub fn dialect_name(&self) -> String {
        self.0.borrow().dialect_name.clone()
    }

    /// Render an operation for the dialect and advance the model; a failure is reported at the
    /// script position that asked for it.
    pub fn emit(&self, op: Op, ctx: &mut Ctx) -> Result<()> {
        let mut s = self.0.borrow_mut();
        let op = if s.naming.is_empty() {
            op
        } else {
            let max = s.dialect.database().max_identifier_length();
            s.naming.apply(op, &s.final_names, max)
        };
        let dialect = s.dialect.clone();
        let before = types_before(&s.model, &op);
        // A batch is applied whole or not at all: Alembic checks it before any SQL.
        let before_batch = matches!(op, Op::Batch(_)).then(|| s.model.clone());
        let statements = match dialect.render(&mut s.model, &op) {
            Ok(statements) => statements,
            Err(e) => {
                if let Some(model) = before_batch {
                    s.model = model;
                }
                let recreated = matches!(op, Op::Batch(_)) && s.dialect_name == "sqlite";
                return Err(match e {
                    // What Alembic's batch (rebuilding the table) raises as a Python error,
                    // before any SQL, which scripts catch.
                    crate::dialect::RenderError::Schema(
                        crate::schema::SchemaError::NoConstraint { name, .. },
                    ) if recreated => {
                        ctx.raise("ValueError", format!("No such constraint: '{name}'"))
                    }
                    e => ctx.native_error("alembic.op", e.to_string()),
                });
            }
        };
        let database = dialect.database();
        if let Op::Execute {
            statement: crate::ir::Statement::Sql { text },
        } = &op
        {
            // SQL text enters here: follow the schema changes it certainly makes.
            let family = crate::dialect::sqltext::Family::of(database);
            for change in crate::dialect::sqltext::model_ops(text, family) {
                match change.apply(&mut s.model) {
                    Ok(()) => {}
                    // `IF EXISTS` on something the model does not have: nothing happens.
                    Err(_) if change.if_exists => {}
                    Err(e) => {
                        return Err(ctx.native_error(
                            "alembic.op.execute",
                            format!("the SQL text's schema change cannot be followed: {e}"),
                        ))
                    }
                }
            }
        }
        let autocommit = s.autocommit;
        let statements: Vec<crate::plan::Statement> = statements
            .into_iter()
            .map(|sql| {
                let mut st = crate::plan::Statement::read(sql, database);
                st.autocommit = autocommit;
                st
            })
            .collect();
        if !s.empty_tables.is_empty() {
            // A table some statement may add rows to is no longer known to be empty.
            let filled: Vec<String> = statements.iter().flat_map(rows_added).collect();
            if filled.iter().any(|t| t == "*") {
                s.empty_tables.clear();
            }
            s.empty_tables.retain(|t| !filled.contains(t));
        }
        s.emitted.push(EmittedOp {
            op,
            statements,
            pos: ctx.pos(),
            types_before: before,
        });
        Ok(())
    }

    pub fn bind_value(&self) -> Value {
        Value::native(Bind {
            session: self.clone(),
        })
    }

    pub fn context_value(&self) -> Value {
        Value::native(MigrationContext {
            session: self.clone(),
        })
    }

    pub(crate) fn dialect_value(&self) -> Value {
        Value::native(DialectObj {
            name: self.dialect_name(),
            dialect: self.0.borrow().dialect.clone(),
        })
    }
}

/// `op.get_bind()`: a connection-like object.
#[derive(Debug)]
pub struct Bind {
    pub session: Shared,
}

/// `bind.dialect` / `context.dialect`.
struct DialectObj {
    name: String,
    dialect: std::sync::Arc<dyn crate::dialect::Dialect>,
}

impl std::fmt::Debug for DialectObj {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<Dialect {}>", self.name)
    }
}

/// The dialect of the compile session `ctx` runs in (through the host's `Dialect` object), or
/// `None` outside one (the emulation's own tests).
pub(crate) fn session_dialect(ctx: &Ctx) -> Option<std::sync::Arc<dyn crate::dialect::Dialect>> {
    let value = ctx.host.dialect()?;
    value
        .downcast_native::<DialectObj>()
        .map(|d| d.dialect.clone())
}

/// `dialect.identifier_preparer`: quoting as the dialect's DDL does.
struct IdentifierPreparer(std::sync::Arc<dyn crate::dialect::Dialect>);

impl std::fmt::Debug for IdentifierPreparer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<IdentifierPreparer {}>", self.0.name())
    }
}

impl Native for IdentifierPreparer {
    fn type_name(&self) -> &str {
        "IdentifierPreparer"
    }

    fn getattr(&self, name: &str, ctx: &mut Ctx) -> Result<Value> {
        match name {
            "quote" | "quote_identifier" => {
                let dialect = self.0.clone();
                let always = name == "quote_identifier";
                Ok(Value::native(crate::interp::NativeFunction::new(
                    "IdentifierPreparer.quote",
                    move |args, kwargs, ctx| {
                        let mut a = crate::interp::Args::new("quote", args, kwargs);
                        let ident = a.required(0, "ident", ctx)?;
                        a.finish(ctx)?;
                        let Some(ident) = ident.as_str() else {
                            return Err(ctx.type_error("quote() takes an identifier string"));
                        };
                        Ok(Value::string(if always {
                            let q = if dialect.name() == "mysql" { '`' } else { '"' };
                            let doubled = ident.replace(q, &format!("{q}{q}"));
                            format!("{q}{doubled}{q}")
                        } else {
                            dialect.quote(ident)
                        }))
                    },
                )))
            }
            other => Err(ctx
                .native_unsupported("IdentifierPreparer", format!("reading attribute `{other}`"))),
        }
    }
}

/// `bind.engine`.
#[derive(Debug)]
struct Engine {
    session: Shared,
}

/// `op.get_context()`.
#[derive(Debug)]
struct MigrationContext {
    session: Shared,
}

#[derive(Debug)]
struct BindExecute {
    session: Shared,
}

impl Native for DialectObj {
    fn type_name(&self) -> &str {
        "Dialect"
    }

    fn getattr(&self, name: &str, ctx: &mut Ctx) -> Result<Value> {
        match name {
            "name" => Ok(Value::str(&self.name)),
            // SQLAlchemy's MySQL dialect only: whether the server is MariaDB.
            "is_mariadb" if self.name == "mysql" => Ok(Value::Bool(
                self.dialect.database() == crate::dialect::Database::Mariadb,
            )),
            "identifier_preparer" => Ok(Value::native(IdentifierPreparer(self.dialect.clone()))),
            // What DDL compilation asks of a decorator's chosen type: the type itself.
            "type_descriptor" => Ok(Value::native(crate::interp::NativeFunction::new(
                "Dialect.type_descriptor",
                |args, kwargs, ctx| {
                    let mut a = crate::interp::Args::new("Dialect.type_descriptor", args, kwargs);
                    let ty = a.required(0, "typeobj", ctx)?;
                    a.finish(ctx)?;
                    Ok(ty)
                },
            ))),
            "driver" => Ok(Value::str(match self.name.as_str() {
                "postgresql" => "psycopg2",
                "mysql" => "pymysql",
                _ => "pysqlite",
            })),
            other => Err(ctx.native_unsupported("Dialect", format!("reading attribute `{other}`"))),
        }
    }
}

impl Native for Engine {
    fn type_name(&self) -> &str {
        "Engine"
    }

    fn getattr(&self, name: &str, ctx: &mut Ctx) -> Result<Value> {
        match name {
            "name" => Ok(Value::string(self.session.dialect_name())),
            "dialect" => Ok(self.session.dialect_value()),
            other => Err(ctx.native_unsupported("Engine", format!("reading attribute `{other}`"))),
        }
    }
}

impl Native for Bind {
    fn type_name(&self) -> &str {
        "Connection"
    }

    fn getattr(&self, name: &str, ctx: &mut Ctx) -> Result<Value> {
        match name {
            "dialect" => Ok(self.session.dialect_value()),
            "engine" => Ok(Value::native(Engine {
                session: self.session.clone(),
            })),
            "execute" | "exec_driver_sql" => Ok(Value::native(BindExecute {
                session: self.session.clone(),
            })),
            other => {
                Err(ctx.native_unsupported("Connection", format!("reading attribute `{other}`")))
            }
        }
    }
}

impl BindExecute {
    /// Whether `stmt` reads rows only from tables a recipe's guard found empty (an `sa.select`
    /// of their columns, or SQL text selecting their columns): it gives no row.
    fn reads_only_empty_tables(&self, stmt: &Value, params: Option<&Value>, ctx: &mut Ctx) -> bool {
        let empty = self.session.0.borrow().empty_tables.clone();
        let all_empty = |tables: &[String]| tables.iter().all(|t| empty.contains(t));
        if empty.is_empty() {
            return false;
        }
        if let Some(q) = stmt.downcast_native::<sa::QueryObj>() {
            return q.tables().is_some_and(all_empty);
        }
        if params.is_some_and(|p| !p.is_none()) {
            return false;
        }
        // Read without holding the session: building the statement may need it.
        let text = match stmt.as_str() {
            Some(text) => text.to_string(),
            None => match sa::to_statement(stmt, ctx) {
                Ok(crate::ir::Statement::Sql { text }) => text,
                _ => return false,
            },
        };
        let family =
            crate::dialect::sqltext::Family::of(self.session.0.borrow().dialect.database());
        crate::dialect::sqltext::plain_select_tables(&text, family).is_some_and(|t| all_empty(&t))
    }
}

impl Native for BindExecute {
    fn type_name(&self) -> &str {
        "Connection.execute"
    }

    fn call(&self, args: Vec<Value>, kwargs: Vec<(String, Value)>, ctx: &mut Ctx) -> Result<Value> {
        let mut a = Args::new("Connection.execute", args, kwargs);
        let stmt = a.required(0, "statement", ctx)?;
        let params = a.take(1, "parameters");
        a.finish(ctx)?;
        if self.reads_only_empty_tables(&stmt, params.as_ref(), ctx) {
            return Ok(Value::native(super::host::AnsweredRows(Vec::new())));
        }
        let statement = match (stmt.as_str(), params) {
            (Some(text), None) => crate::ir::Statement::Sql {
                text: text.to_string(),
            },
            (_, Some(p)) if !p.is_none() => sa::to_statement_with_params(&stmt, &p, ctx)?,
            _ => sa::to_statement(&stmt, ctx)?,
        };
        if let crate::ir::Statement::Sql { text } = &statement {
            let key = super::host::normalized_sql(text);
            let answered = self
                .session
                .0
                .borrow()
                .answers
                .iter()
                .find_map(|(q, rows)| (*q == key).then(|| rows.clone()));
            if let Some(rows) = answered {
                return Ok(Value::native(super::host::AnsweredRows(rows)));
            }
            let head = text.trim_start().to_ascii_lowercase();
            // `PRAGMA name = value` sets; `PRAGMA name` reads.
            let pragma_read = head.starts_with("pragma") && !head.contains('=');
            let family =
                crate::dialect::sqltext::Family::of(self.session.0.borrow().dialect.database());
            let query =
                head.starts_with("with") && !crate::dialect::sqltext::changes_rows(text, family);
            if head.starts_with("select") || query || pragma_read {
                return Err(ctx.native_unsupported(
                    "Connection.execute",
                    "reading rows (a data migration: it needs a recipe)",
                ));
            }
        }
        self.session
            .emit(crate::ir::Op::Execute { statement }, ctx)?;
        Ok(Value::native(ExecResult {
            session: self.session.clone(),
            emitted: self.session.0.borrow().emitted.len() - 1,
        }))
    }
}

/// `op.get_context().autocommit_block()`: the statements inside run outside the revision's
/// transaction (what ran before is committed first; a transaction begins again after), as
/// Alembic runs them.
#[derive(Debug)]
struct AutocommitBlock {
    session: Shared,
}

impl Native for AutocommitBlock {
    fn type_name(&self) -> &str {
        "autocommit_block"
    }

    fn enter(&self, ctx: &mut Ctx) -> Result<Value> {
        let mut s = self.session.0.borrow_mut();
        if s.autocommit {
            return Err(ctx.native_error("autocommit_block", "already inside an autocommit block"));
        }
        s.autocommit = true;
        Ok(Value::None)
    }

    fn exit(&self, _raised: Option<&crate::interp::Raised>, _ctx: &mut Ctx) -> Result<bool> {
        self.session.0.borrow_mut().autocommit = false;
        Ok(false)
    }
}

/// What `bind.execute(...)` returns for a data-changing statement: using its rows is refused,
/// but a loop that runs it until it changes fewer rows than a bound makes it a repeated
/// statement.
#[derive(Debug)]
struct ExecResult {
    session: Shared,
    /// Its operation among the session's emitted ones.
    emitted: usize,
}

impl Native for ExecResult {
    fn type_name(&self) -> &str {
        "CursorResult"
    }

    fn repeat_while_changing(&self, bound: u64, _ctx: &mut Ctx) -> Result<bool> {
        let mut s = self.session.0.borrow_mut();
        let dialect = s.dialect.clone();
        let offline = s.offline;
        let Some(op) = s.emitted.get_mut(self.emitted) else {
            return Ok(false);
        };
        // Only a statement that changes rows can run out of rows to change.
        if op.statements.len() != 1 || !op.statements[0].is_dml() {
            return Ok(false);
        }
        // A script for later repeats it only where the database can loop in SQL; elsewhere
        // the loop stays Python's (and fails reading the row count, as Alembic's --sql does).
        if offline
            && dialect
                .offline_loop(&op.statements[0].sql, bound, false)
                .is_none()
        {
            return Ok(false);
        }
        op.statements[0].repeat = Some(bound);
        Ok(true)
    }
}

impl Native for MigrationContext {
    fn type_name(&self) -> &str {
        "MigrationContext"
    }

    fn getattr(&self, name: &str, ctx: &mut Ctx) -> Result<Value> {
        match name {
            "dialect" => Ok(self.session.dialect_value()),
            "bind" | "connection" => Ok(self.session.bind_value()),
            "as_sql" => Ok(Value::Bool(self.session.0.borrow().offline)),
            "autocommit_block" => {
                let session = self.session.clone();
                Ok(Value::native(crate::interp::NativeFunction::new(
                    "MigrationContext.autocommit_block",
                    move |args, kwargs, ctx| {
                        crate::interp::Args::new("autocommit_block", args, kwargs).finish(ctx)?;
                        Ok(Value::native(AutocommitBlock {
                            session: session.clone(),
                        }))
                    },
                )))
            }
            "version_table_schema" => Ok(Value::None),
            other => {
                Err(ctx
                    .native_unsupported("MigrationContext", format!("reading attribute `{other}`")))
            }
        }
    }
}
