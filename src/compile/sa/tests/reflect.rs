//! `sa.inspect(...)` and `Table(..., autoload_with=bind)` through the compiler's hook, and the
//! column objects the host makes for model attributes.

use std::rc::Rc;

use super::{run_with, PATH};
use crate::compile::sa::{self, column_value, to_sql_expr, to_table, type_value, Hooks};
use crate::interp::{Ctx, Host, Native, NativeFunction, Result, Value};
use crate::ir::{Constraint, ForeignKey, ServerDefault, SqlExpr, SqlType};

/// An inspector that knows one table, `datasets`, as SQLAlchemy's inspector would report it.
#[derive(Debug)]
struct CannedInspector;

fn dict(items: Vec<(&str, Value)>) -> Value {
    Value::dict_of_str(items.into_iter().map(|(k, v)| (k.to_string(), v)))
}

fn names(items: &[&str]) -> Value {
    Value::list(items.iter().map(|s| Value::str(s)).collect())
}

impl Native for CannedInspector {
    fn type_name(&self) -> &str {
        "Inspector"
    }

    fn getattr(&self, name: &str, _ctx: &mut Ctx) -> Result<Value> {
        let answer = match name {
            "get_columns" => Value::list(vec![
                dict(vec![
                    ("name", Value::str("dataset_uuid")),
                    (
                        "type",
                        type_value(&SqlType::Varchar {
                            length: Some(36),
                            collation: None,
                        }),
                    ),
                    ("nullable", Value::Bool(false)),
                    ("default", Value::None),
                ]),
                dict(vec![
                    ("name", Value::str("experiment_id")),
                    ("type", type_value(&SqlType::Integer)),
                    ("nullable", Value::Bool(false)),
                    ("default", Value::str("0")),
                ]),
            ]),
            "get_pk_constraint" => dict(vec![
                ("name", Value::str("dataset_pk")),
                (
                    "constrained_columns",
                    names(&["experiment_id", "dataset_uuid"]),
                ),
            ]),
            "get_foreign_keys" => Value::list(vec![dict(vec![
                ("name", Value::str("datasets_experiment_id_fkey")),
                ("constrained_columns", names(&["experiment_id"])),
                ("referred_table", Value::str("experiments")),
                ("referred_columns", names(&["experiment_id"])),
                ("options", dict(vec![("ondelete", Value::str("CASCADE"))])),
            ])]),
            _ => Value::list(Vec::new()),
        };
        Ok(Value::native(NativeFunction::new(name, move |_, _, _| {
            Ok(answer.clone())
        })))
    }
}

struct ReflectingHost;

impl Host for ReflectingHost {
    fn import(&self, module: &str) -> Option<Value> {
        let hooks = Hooks {
            inspect: Some(Rc::new(|_: &Value, _: &mut Ctx| {
                Ok(Value::native(CannedInspector))
            })),
        };
        sa::import_with(module, &hooks)
    }
}

#[test]
fn autoload_builds_the_table_the_inspector_describes() {
    // 0584bdc529eb looks up the generated name of the datasets → experiments foreign key so.
    let src = "import sqlalchemy as sa\n\
               conn = 'bind'\n\
               metadata = sa.MetaData()\n\
               metadata.bind = conn\n\
               datasets = sa.Table('datasets', metadata, autoload_with=conn)\n\
               found = None\n\
               for constraint in datasets.foreign_key_constraints:\n\
               \x20   if constraint.referred_table.name == 'experiments' and constraint.column_keys[0] == 'experiment_id':\n\
               \x20       found = constraint.name\n\
               columns = sa.inspect(conn).get_columns('datasets')\n";
    let (mut interp, result) = run_with(Rc::new(ReflectingHost), src, PATH);
    let ns = result.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        ns.get("found")
            .and_then(|v| v.as_str().map(str::to_string))
            .as_deref(),
        Some("datasets_experiment_id_fkey")
    );
    let t = to_table(&ns.get("datasets").expect("datasets"), interp.ctx())
        .unwrap_or_else(|_| panic!("to_table"));
    let cols: Vec<(&str, bool, bool)> = t
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.primary_key, c.nullable))
        .collect();
    assert_eq!(
        cols,
        [
            ("dataset_uuid", true, false),
            ("experiment_id", true, false)
        ]
    );
    assert_eq!(
        t.column("experiment_id")
            .and_then(|c| c.server_default.clone()),
        Some(ServerDefault::Sql("0".into()))
    );
    assert_eq!(
        t.constraints,
        vec![
            Constraint::PrimaryKey {
                name: Some("dataset_pk".into()),
                columns: vec!["experiment_id".into(), "dataset_uuid".into()]
            },
            Constraint::ForeignKey(ForeignKey {
                name: Some("datasets_experiment_id_fkey".into()),
                columns: vec!["experiment_id".into()],
                ref_table: "experiments".into(),
                ref_columns: vec!["experiment_id".into()],
                ondelete: Some("CASCADE".into()),
                onupdate: None,
                deferrable: None,
                initially: None,
            }),
        ]
    );
    assert_eq!(
        ns.get("columns")
            .and_then(|v| v.as_items())
            .map(|c| c.len()),
        Some(2)
    );
}

#[test]
fn without_an_inspector_inspection_is_refused() {
    let err = super::run_err(
        "import sqlalchemy as sa\nsa.Table('t', sa.MetaData(), autoload_with='bind')\n",
    );
    assert!(err.contains("no inspector is available"), "{err}");
    let err = super::run_err("import sqlalchemy as sa\nsa.inspect('bind')\n");
    assert!(err.contains("no inspector is available"), "{err}");
}

#[test]
fn host_made_columns_work_in_expressions() {
    let (mut interp, _) = super::run("x = 1\n");
    let c = column_value("status", Some("runs"));
    let e = to_sql_expr(&c, interp.ctx()).unwrap_or_else(|_| panic!("to_sql_expr"));
    assert_eq!(
        e,
        SqlExpr::Column {
            table: Some("runs".into()),
            name: "status".into()
        }
    );
}
