//! Stand-ins for the smoke test: an `alembic.op` that records calls and converts their
//! `sqlalchemy` arguments with our API (so conversion failures surface), a SQLite bind, an
//! inspector that sees an empty database, MLflow's facts (table names, status strings), and a
//! permissive object for every other import.

use std::cell::RefCell;
use std::rc::Rc;

use crate::compile::sa::column::{ColumnCell, ColumnDef};
use crate::compile::sa::table::{table_value, TableCell};
use crate::compile::sa::{
    self as sa, is_constraint, table_from_items, to_column, to_constraint, to_dialect_option,
    to_server_default, to_sql_text, to_statement, to_statement_with_params, to_table, to_type,
    Hooks,
};
use crate::interp::{
    exception_class, Class, Ctx, Host, Native, NativeFunction, Raised, Result, Value,
};
use crate::script::ast::{BinOp, CmpOp, UnaryOp};

pub(crate) type Log = Rc<RefCell<Vec<String>>>;

fn function(
    name: &str,
    f: impl Fn(Vec<Value>, Vec<(String, Value)>, &mut Ctx) -> Result<Value> + 'static,
) -> Value {
    Value::native(NativeFunction::new(name, f))
}

/// `time` with a fixed clock.
pub(crate) fn time_module() -> Value {
    Value::module(
        "time",
        [
            (
                "time".to_string(),
                function("time.time", |_, _, _| Ok(Value::Float(1_700_000_000.0))),
            ),
            (
                "sleep".to_string(),
                function("time.sleep", |_, _, _| Ok(Value::None)),
            ),
        ],
    )
}

/// The host of the smoke test.
pub(crate) struct SmokeHost {
    pub log: Log,
}

impl Host for SmokeHost {
    fn import(&self, module: &str) -> Option<Value> {
        if module == "sqlalchemy" || module.starts_with("sqlalchemy.") {
            let hooks = Hooks {
                inspect: Some(Rc::new(|_: &Value, _: &mut Ctx| {
                    Ok(Value::native(FakeInspector))
                })),
            };
            return sa::import_with(module, &hooks);
        }
        match module {
            "alembic" => Some(Value::module(
                "alembic",
                [
                    (
                        "op".to_string(),
                        Value::native(FakeOp {
                            log: self.log.clone(),
                            batch: None,
                        }),
                    ),
                    ("__version__".to_string(), Value::str("1.20.1")),
                ],
            )),
            "time" => Some(time_module()),
            m if m.starts_with("mlflow") => Some(Value::native(MlflowFacts(m.to_string()))),
            m => Some(Value::native(Anything(m.to_string()))),
        }
    }
}

/// `op` and `batch_op`.
#[derive(Debug)]
struct FakeOp {
    log: Log,
    batch: Option<String>,
}

impl Native for FakeOp {
    fn type_name(&self) -> &str {
        "alembic.op"
    }

    fn getattr(&self, name: &str, _ctx: &mut Ctx) -> Result<Value> {
        let log = self.log.clone();
        let batch = self.batch.clone();
        let method = name.to_string();
        Ok(function(&format!("op.{name}"), move |args, kwargs, ctx| {
            log.borrow_mut().push(format!(
                "{}op.{method}",
                if batch.is_some() { "batch_" } else { "" }
            ));
            op_call(&method, batch.as_deref(), &log, args, kwargs, ctx)
        }))
    }
}

fn keyword<'a>(kwargs: &'a [(String, Value)], name: &str) -> Option<&'a Value> {
    kwargs.iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// What the op layer would convert, converted; the op's answer.
fn op_call(
    method: &str,
    batch: Option<&str>,
    log: &Log,
    args: Vec<Value>,
    kwargs: Vec<(String, Value)>,
    ctx: &mut Ctx,
) -> Result<Value> {
    match method {
        "get_bind" | "get_context" => Ok(Value::native(FakeBind)),
        "f" | "inline_literal" => Ok(args.first().cloned().unwrap_or(Value::None)),
        "create_table" => create_table(&args, log, ctx),
        "batch_alter_table" => batch_alter_table(&args, &kwargs, log, ctx),
        _ => {
            let shift = usize::from(batch.is_none());
            convert_arguments(method, shift, log, &args, &kwargs, ctx)?;
            Ok(Value::None)
        }
    }
}

/// `op.create_table(name, *items)`: the table, logged.
fn create_table(args: &[Value], log: &Log, ctx: &mut Ctx) -> Result<Value> {
    let name = args
        .first()
        .and_then(|v| v.as_str())
        .unwrap_or("?")
        .to_string();
    let t = table_from_items(&name, &args[1.min(args.len())..], ctx)?;
    log.borrow_mut().push(format!("  {t:?}"));
    Ok(sa::table_value(&t))
}

/// `op.batch_alter_table(name, table_args=...)`: its constraints logged, and the context whose
/// `batch_op` records calls.
fn batch_alter_table(
    args: &[Value],
    kwargs: &[(String, Value)],
    log: &Log,
    ctx: &mut Ctx,
) -> Result<Value> {
    if let Some(ta) = keyword(kwargs, "table_args") {
        for item in ctx.iterate(ta)? {
            let c = to_constraint(&item, None, ctx)?;
            log.borrow_mut().push(format!("  table_args {c:?}"));
        }
    }
    let table = args
        .first()
        .and_then(|v| v.as_str())
        .unwrap_or("?")
        .to_string();
    Ok(Value::native(FakeBatchContext {
        log: log.clone(),
        table,
    }))
}

/// Converts (and logs) the `sqlalchemy` arguments of an op that answers `None`; `shift` is 1
/// when positional arguments start with the table name (not in a batch).
fn convert_arguments(
    method: &str,
    shift: usize,
    log: &Log,
    args: &[Value],
    kwargs: &[(String, Value)],
    ctx: &mut Ctx,
) -> Result<()> {
    match method {
        "add_column" => {
            if let Some(c) = args.get(shift) {
                let c = to_column(c, ctx)?;
                log.borrow_mut().push(format!("  {c:?}"));
            }
        }
        "alter_column" => convert_alter_column(kwargs, log, ctx)?,
        "create_index" => convert_create_index(args.get(shift + 1), kwargs, log, ctx)?,
        "create_check_constraint" => {
            if let Some(c) = args.get(shift + 1).or_else(|| keyword(kwargs, "condition")) {
                let t = to_sql_text(c, ctx)?;
                log.borrow_mut().push(format!("  check {t:?}"));
            }
        }
        "execute" => {
            if let Some(s) = args.first() {
                let s = to_statement(s, ctx)?;
                log.borrow_mut().push(format!("  {s:?}"));
            }
        }
        "bulk_insert" => {
            if let Some(t) = args.first() {
                let t = to_table(t, ctx)?;
                log.borrow_mut().push(format!("  {t:?}"));
            }
        }
        _ => {
            for v in args.iter().chain(kwargs.iter().map(|(_, v)| v)) {
                if is_constraint(v) {
                    to_constraint(v, None, ctx)?;
                }
            }
        }
    }
    Ok(())
}

/// `op.alter_column`: converts (and logs) its types and server defaults.
fn convert_alter_column(kwargs: &[(String, Value)], log: &Log, ctx: &mut Ctx) -> Result<()> {
    for k in ["type_", "existing_type"] {
        if let Some(t) = keyword(kwargs, k).filter(|v| !v.is_none()) {
            let t = to_type(t, ctx)?;
            log.borrow_mut().push(format!("  {k}={t:?}"));
        }
    }
    for k in ["server_default", "existing_server_default"] {
        if let Some(d) = keyword(kwargs, k).filter(|v| !v.is_none() && v.as_bool() != Some(false)) {
            let d = to_server_default(d, ctx)?;
            log.borrow_mut().push(format!("  {k}={d:?}"));
        }
    }
    Ok(())
}

/// `op.create_index`: converts (and logs) its expression items and dialect options.
fn convert_create_index(
    columns: Option<&Value>,
    kwargs: &[(String, Value)],
    log: &Log,
    ctx: &mut Ctx,
) -> Result<()> {
    if let Some(cols) = columns {
        for item in ctx.iterate(cols)? {
            if item.as_str().is_none() && !sa::is_column(&item) {
                let t = to_sql_text(&item, ctx)?;
                log.borrow_mut().push(format!("  expression {t:?}"));
            }
        }
    }
    for (k, v) in kwargs {
        if k != "unique" && k != "if_not_exists" {
            let o = to_dialect_option(k, v, ctx)?;
            log.borrow_mut().push(format!("  {k}={o:?}"));
        }
    }
    Ok(())
}

#[derive(Debug)]
struct FakeBatchContext {
    log: Log,
    table: String,
}

impl Native for FakeBatchContext {
    fn type_name(&self) -> &str {
        "BatchOperations context"
    }

    fn enter(&self, _ctx: &mut Ctx) -> Result<Value> {
        Ok(Value::native(FakeOp {
            log: self.log.clone(),
            batch: Some(self.table.clone()),
        }))
    }

    fn exit(&self, _raised: Option<&Raised>, _ctx: &mut Ctx) -> Result<bool> {
        Ok(false)
    }
}

/// A SQLite connection (also its dialect, engine and migration context).
#[derive(Debug)]
struct FakeBind;

impl Native for FakeBind {
    fn type_name(&self) -> &str {
        "Connection"
    }

    fn getattr(&self, name: &str, ctx: &mut Ctx) -> Result<Value> {
        Ok(match name {
            "dialect" | "engine" | "bind" | "connection" => Value::native(FakeBind),
            "name" => Value::str("sqlite"),
            "version_table_schema" => Value::None,
            "as_sql" => Value::Bool(false),
            "execute" | "exec_driver_sql" => function("Connection.execute", |args, _, ctx| {
                match (args.first(), args.get(1)) {
                    (Some(s), Some(p)) => to_statement_with_params(s, p, ctx)?,
                    (Some(s), None) => to_statement(s, ctx)?,
                    _ => return Err(ctx.native_error("Connection.execute", "no statement")),
                };
                Ok(Value::native(Anything("CursorResult".into())))
            }),
            other => {
                return Err(
                    ctx.native_unsupported("Connection", format!("reading attribute `{other}`"))
                )
            }
        })
    }
}

/// An inspector that sees an empty database.
#[derive(Debug)]
struct FakeInspector;

impl Native for FakeInspector {
    fn type_name(&self) -> &str {
        "Inspector"
    }

    fn getattr(&self, name: &str, ctx: &mut Ctx) -> Result<Value> {
        let answer = match name {
            "default_schema_name" => return Ok(Value::str("main")),
            "has_table" => Value::Bool(false),
            "get_pk_constraint" => Value::dict_of_str([
                ("name".to_string(), Value::None),
                ("constrained_columns".to_string(), Value::list(Vec::new())),
            ]),
            "get_table_names"
            | "get_columns"
            | "get_indexes"
            | "get_foreign_keys"
            | "get_unique_constraints"
            | "get_check_constraints" => Value::list(Vec::new()),
            other => return Err(ctx.native_unsupported("Inspector", format!("`{other}`"))),
        };
        Ok(function(&format!("Inspector.{name}"), move |_, _, _| {
            Ok(answer.clone())
        }))
    }
}

const MLFLOW_TABLES: &[(&str, &str)] = &[
    ("SqlExperiment", "experiments"),
    ("SqlRun", "runs"),
    ("SqlExperimentTag", "experiment_tags"),
    ("SqlMetric", "metrics"),
    ("SqlLatestMetric", "latest_metrics"),
    ("SqlDataset", "datasets"),
    ("SqlInput", "inputs"),
    ("SqlInputTag", "input_tags"),
    ("SqlTraceInfo", "trace_info"),
    ("SqlTraceTag", "trace_tags"),
    ("SqlTraceMetadata", "trace_request_metadata"),
    ("SqlTraceMetrics", "trace_metrics"),
    ("SqlAssessments", "assessments"),
    ("SqlSpan", "spans"),
    ("SqlScorer", "scorers"),
    ("SqlScorerVersion", "scorer_versions"),
    ("SqlOnlineScoringConfig", "online_scoring_configs"),
    ("SqlIssue", "issues"),
    ("SqlRegisteredModel", "registered_models"),
    ("SqlModelVersion", "model_versions"),
    ("SqlRegisteredModelTag", "registered_model_tags"),
    ("SqlModelVersionTag", "model_version_tags"),
    ("SqlRegisteredModelAlias", "registered_model_aliases"),
    ("SqlWebhook", "webhooks"),
    ("SqlWebhookEvent", "webhook_events"),
];

/// The MLflow modules scripts import from: model classes with their table names and columns,
/// a few constants, an exception class; anything else is permissive.
#[derive(Debug)]
struct MlflowFacts(String);

impl Native for MlflowFacts {
    fn type_name(&self) -> &str {
        &self.0
    }

    fn getattr(&self, name: &str, _ctx: &mut Ctx) -> Result<Value> {
        if let Some((_, table)) = MLFLOW_TABLES.iter().find(|(n, _)| *n == name) {
            return Ok(Value::native(FakeModel(TableCell::new(
                table,
                true,
                Vec::new(),
                None,
            ))));
        }
        let strs = |items: &[&str]| Value::list(items.iter().map(|s| Value::str(s)).collect());
        Ok(match name {
            "DEFAULT_WORKSPACE_NAME" => Value::str("default"),
            "MLFLOW_USER" => Value::str("mlflow.user"),
            "STAGE_NONE" => Value::str("None"),
            "SourceTypes" => strs(&["NOTEBOOK", "JOB", "LOCAL", "UNKNOWN", "PROJECT"]),
            "MlflowException" => {
                let bases = exception_class("Exception")
                    .map(Value::Class)
                    .into_iter()
                    .collect();
                Value::Class(Class::new("MlflowException", bases))
            }
            other => Value::native(Anything(format!("{}.{other}", self.0))),
        })
    }
}

/// An MLflow model class: `__tablename__`, and any attribute as a column of its table.
#[derive(Debug)]
struct FakeModel(Rc<TableCell>);

impl Native for FakeModel {
    fn type_name(&self) -> &str {
        "mlflow model"
    }

    fn getattr(&self, name: &str, ctx: &mut Ctx) -> Result<Value> {
        if name == "__tablename__" {
            return Ok(Value::str(&self.0.name));
        }
        if name == "__table__" {
            return Ok(table_value(&self.0));
        }
        let column = match self.0.column_by_key(name) {
            Some(c) => c,
            None => {
                let c = ColumnCell::new(
                    false,
                    ColumnDef {
                        name: Some(name.to_string()),
                        ..ColumnDef::default()
                    },
                );
                self.0.add_column(&c, ctx)?;
                c
            }
        };
        Ok(crate::compile::sa::column::column_value(&column))
    }
}

/// Says yes to everything; `X.to_string(Y.NAME)` is `"NAME"` and `view_type_to_stages` is the
/// two lifecycle stages, as MLflow's enums answer.
#[derive(Debug)]
struct Anything(String);

impl Native for Anything {
    fn type_name(&self) -> &str {
        &self.0
    }

    fn getattr(&self, name: &str, _ctx: &mut Ctx) -> Result<Value> {
        Ok(match name {
            "fetchall" | "all" | "get_table_names" => {
                function(name, |_, _, _| Ok(Value::list(Vec::new())))
            }
            "first" | "fetchone" | "scalar" | "scalar_one_or_none" => {
                function(name, |_, _, _| Ok(Value::None))
            }
            "rowcount" => Value::Int(0),
            _ => Value::native(Anything(format!("{}.{name}", self.0))),
        })
    }

    fn setattr(&self, _name: &str, _value: Value, _ctx: &mut Ctx) -> Result<()> {
        Ok(())
    }

    fn call(
        &self,
        args: Vec<Value>,
        _kwargs: Vec<(String, Value)>,
        _ctx: &mut Ctx,
    ) -> Result<Value> {
        if self.0.ends_with(".to_string") {
            if let Some(arg) = args.first().and_then(|a| a.downcast_native::<Anything>()) {
                return Ok(Value::str(arg.0.rsplit('.').next().unwrap_or_default()));
            }
        }
        if self.0.ends_with(".view_type_to_stages") {
            return Ok(Value::list(vec![
                Value::str("active"),
                Value::str("deleted"),
            ]));
        }
        Ok(Value::native(Anything(format!("{}()", self.0))))
    }

    fn getitem(&self, _index: &Value, _ctx: &mut Ctx) -> Result<Value> {
        Ok(Value::native(Anything(format!("{}[]", self.0))))
    }

    fn enter(&self, _ctx: &mut Ctx) -> Result<Value> {
        Ok(Value::native(Anything(self.0.clone())))
    }

    fn iter(&self, _ctx: &mut Ctx) -> Result<Vec<Value>> {
        Ok(Vec::new())
    }

    fn len(&self, _ctx: &mut Ctx) -> Result<usize> {
        Ok(0)
    }

    fn truth(&self, _ctx: &mut Ctx) -> Result<bool> {
        Ok(false)
    }

    fn compare(
        &self,
        _op: CmpOp,
        _other: &Value,
        _reflected: bool,
        _ctx: &mut Ctx,
    ) -> Result<Option<Value>> {
        Ok(Some(Value::native(Anything(format!("{} <cmp>", self.0)))))
    }

    fn binary(
        &self,
        _op: BinOp,
        _other: &Value,
        _reflected: bool,
        _ctx: &mut Ctx,
    ) -> Result<Value> {
        Ok(Value::native(Anything(format!("{} <op>", self.0))))
    }

    fn unary(&self, _op: UnaryOp, _ctx: &mut Ctx) -> Result<Value> {
        Ok(Value::native(Anything(format!("{} <unary>", self.0))))
    }

    fn str(&self, _ctx: &mut Ctx) -> Result<String> {
        Ok(self.0.clone())
    }

    fn repr(&self, _ctx: &mut Ctx) -> Result<String> {
        Ok(format!("<{}>", self.0))
    }

    fn is_instance(&self, _value: &Value, _ctx: &mut Ctx) -> Result<bool> {
        Ok(false)
    }
}
