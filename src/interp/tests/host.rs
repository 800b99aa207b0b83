//! Host objects: the dialect tests MLflow writes, `with` on host objects, host callbacks into
//! Python values, modules and exceptions a host provides.

use std::rc::Rc;

use super::fakes::OpHost;
use super::{fails, run_with, PATH};
use crate::interp::{exception_class, Args, Class, Ctx, Error, Host, NativeFunction, Value};

fn run_upgrade(dialect: &str, src: &str) -> (Vec<String>, Result<Value, Error>) {
    let host = OpHost::new(dialect);
    let (mut interp, result) = run_with(host.clone(), src);
    let ns = result.unwrap_or_else(|e| panic!("{e}"));
    let out = interp.call(&ns, "upgrade", Vec::new());
    let log = host.log.borrow().clone();
    (log, out)
}

const DIALECT_SCRIPT: &str = "\
from alembic import op
import sqlalchemy as sa

revision = 'abc123'

def upgrade():
    bind = op.get_bind()
    if op.get_bind().dialect.name == 'mysql':
        op.execute('mysql only')
    elif bind.engine.name == 'postgresql':
        op.execute('postgresql only')
    else:
        op.execute(f'other: {bind.dialect.name}')
    if op.get_context().dialect.name != 'mysql':
        op.create_index('ix', 't', ['c'], unique=True)
";

#[test]
fn dialect_tests_take_the_branch_of_the_hosts_dialect() {
    let (log, out) = run_upgrade("sqlite", DIALECT_SCRIPT);
    assert!(out.unwrap().is_none());
    assert_eq!(
        log,
        [
            "execute('other: sqlite')",
            "create_index('ix', 't', ['c'], unique=True)"
        ]
    );
    let (log, _) = run_upgrade("mysql", DIALECT_SCRIPT);
    assert_eq!(log, ["execute('mysql only')"]);
    let (log, _) = run_upgrade("postgresql", DIALECT_SCRIPT);
    assert_eq!(log[0], "execute('postgresql only')");
}

#[test]
fn with_on_a_host_object_enters_binds_and_exits() {
    let src = "\
from alembic import op
def upgrade():
    for table in ['a', 'b']:
        with op.batch_alter_table(table, recreate='auto') as batch_op:
            batch_op.add_column(table + '_col')
";
    let (log, out) = run_upgrade("sqlite", src);
    out.unwrap();
    assert_eq!(
        log,
        [
            "batch_alter_table('a', recreate='auto')",
            "enter batch[a]",
            "batch[a].add_column('a_col')",
            "exit batch[a] normally",
            "batch_alter_table('b', recreate='auto')",
            "enter batch[b]",
            "batch[b].add_column('b_col')",
            "exit batch[b] normally",
        ]
    );
}

#[test]
fn with_exit_sees_python_exceptions_leaving_the_block() {
    let src = "\
from alembic import op
def upgrade():
    try:
        with op.batch_alter_table('t') as b:
            raise ValueError('inside')
    except ValueError:
        return 'caught'
";
    let (log, out) = run_upgrade("sqlite", src);
    assert_eq!(out.unwrap().as_str(), Some("caught"));
    assert_eq!(
        log.last().map(String::as_str),
        Some("exit batch[t] with an exception")
    );
}

#[test]
fn host_objects_that_refuse_an_operation_are_plan_errors() {
    let src = "from alembic import op\ndef upgrade():\n    try:\n        op.get_bind().info\n    except Exception:\n        pass\n";
    let (_, out) = run_upgrade("sqlite", src);
    let err = out.unwrap_err();
    assert!(matches!(err, Error::Native { .. }));
    assert_eq!(
        err.to_string(),
        format!("{PATH}:4:9: Connection: reading attribute `info` is not supported")
    );
}

/// A host whose `helpers.apply(f, x)` calls back into the script, `helpers.check(x)` raises a
/// catchable `ValueError`, and `errors.MlflowException` is a host exception class.
struct CallbackHost;

impl Host for CallbackHost {
    fn import(&self, module: &str) -> Option<Value> {
        match module {
            "helpers" => Some(Value::module(
                "helpers",
                [
                    (
                        "apply".to_string(),
                        Value::native(NativeFunction::new(
                            "helpers.apply",
                            |args, kwargs, ctx: &mut Ctx| {
                                let mut a = Args::new("helpers.apply", args, kwargs);
                                let f = a.required(0, "f", ctx)?;
                                let x = a.required(1, "x", ctx)?;
                                a.finish(ctx)?;
                                ctx.call(&f, vec![x], Vec::new())
                            },
                        )),
                    ),
                    (
                        "check".to_string(),
                        Value::native(NativeFunction::new(
                            "helpers.check",
                            |_, _, ctx: &mut Ctx| {
                                Err(ctx.raise("ValueError", "rejected by the host"))
                            },
                        )),
                    ),
                ],
            )),
            "errors" => {
                let base = exception_class("Exception")
                    .map(Value::Class)
                    .into_iter()
                    .collect();
                Some(Value::module(
                    "errors",
                    [(
                        "MlflowException".to_string(),
                        Value::Class(Class::new("MlflowException", base)),
                    )],
                ))
            }
            _ => None,
        }
    }
}

#[test]
fn host_functions_call_back_into_lambdas_and_raise_catchable_exceptions() {
    let src = "\
from helpers import apply, check
from errors import MlflowException
doubled = apply(lambda v: v * 2, 21)
try:
    check(1)
except ValueError as e:
    message = str(e)
try:
    raise MlflowException('host class')
except Exception as e:
    host_exc = type(e).__name__
r = (doubled, message, host_exc)
";
    let (mut interp, result) = run_with(Rc::new(CallbackHost), src);
    let ns = result.unwrap_or_else(|e| panic!("{e}"));
    let r = ns.get("r").unwrap();
    assert_eq!(
        interp.ctx().to_repr(&r).unwrap(),
        "(42, 'rejected by the host', 'MlflowException')"
    );
}

#[test]
fn host_argument_parsing_reports_unmodeled_arguments() {
    let (_, result) = run_with(
        Rc::new(CallbackHost),
        "from helpers import apply\napply(len, 'x', strict=True)\n",
    );
    assert_eq!(
        result.unwrap_err().to_string(),
        format!("{PATH}:2:1: helpers.apply: keyword argument `strict` is not modeled")
    );
}

#[test]
fn names_a_host_module_does_not_define_are_not_modeled() {
    let (_, result) = run_with(Rc::new(CallbackHost), "import helpers\nhelpers.missing\n");
    assert_eq!(
        result.unwrap_err().to_string(),
        format!("{PATH}:2:1: `helpers.missing` is not modeled (module `helpers` as modeled does not define it)")
    );
}

#[test]
fn submodules_the_host_models_are_reachable_through_an_opaque_parent() {
    struct Sub;
    impl Host for Sub {
        fn import(&self, module: &str) -> Option<Value> {
            (module == "pkg.sub")
                .then(|| Value::module("pkg.sub", [("X".to_string(), Value::Int(7))]))
        }
    }
    let (mut interp, result) = run_with(
        Rc::new(Sub),
        "import pkg.sub\nfrom pkg import sub as s2\nr = (pkg.sub.X, s2.X)\n",
    );
    let r = result.unwrap().get("r").unwrap();
    assert_eq!(interp.ctx().to_repr(&r).unwrap(), "(7, 7)");
    let (_, result) = run_with(Rc::new(Sub), "import pkg.sub\npkg.other\n");
    assert!(matches!(result.unwrap_err(), Error::NotModeled { name, .. } if name == "pkg"));
}

#[test]
fn classes_derived_from_host_objects_are_defined_but_not_instantiated() {
    let src = "import sqlalchemy as sa\nBase = sa.orm.declarative_base()\nclass Run(Base):\n    __tablename__ = 'runs'\nname = Run.__tablename__\nRun()\n";
    let (_, result) = run_with(OpHost::new("sqlite"), src);
    let err = result.unwrap_err();
    assert!(matches!(err, Error::Native { .. }), "{err}");
    assert!(err
        .to_string()
        .contains("instantiating `Run`, a class derived from it is not supported"));
    // Deriving from an unmodeled class defines a placeholder: only using it fails.
    let err = fails("from mlflow import Base\nclass C(Base):\n    pass\nC()\n");
    assert!(matches!(err, Error::NotModeled { .. }), "{err}");
    assert!(
        err.to_string().ends_with(
            "4:1: `C (a class deriving from `mlflow.Base`)` is not modeled (calling it)"
        ),
        "{err}"
    );
}

/// A stand-in for a SQL column: comparisons build expressions (here: strings), equality in
/// containers is identity.
#[derive(Debug)]
struct Column(&'static str);

impl crate::interp::Native for Column {
    fn type_name(&self) -> &str {
        "Column"
    }

    fn compare(
        &self,
        op: crate::script::ast::CmpOp,
        other: &Value,
        reflected: bool,
        ctx: &mut Ctx,
    ) -> crate::interp::Result<Option<Value>> {
        let other = ctx.to_repr(other)?;
        let (l, r) = if reflected {
            (other.as_str(), self.0)
        } else {
            (self.0, other.as_str())
        };
        Ok(Some(Value::string(format!("{l} {op:?} {r}"))))
    }
}

struct ColumnHost;

impl Host for ColumnHost {
    fn import(&self, module: &str) -> Option<Value> {
        (module == "model").then(|| {
            Value::module(
                "model",
                [("name".to_string(), Value::native(Column("name")))],
            )
        })
    }
}

#[test]
fn host_comparisons_build_expressions_and_containers_use_identity() {
    let src = "from model import name\nexpr = name == 'x'\nrev = 3 < name\nfound = name in [1, name]\nkeyed = {name: 1}[name]\nr = (expr, rev, found, keyed)\n";
    let (mut interp, result) = run_with(Rc::new(ColumnHost), src);
    let r = result.unwrap_or_else(|e| panic!("{e}")).get("r").unwrap();
    assert_eq!(
        interp.ctx().to_repr(&r).unwrap(),
        "(\"name Eq 'x'\", '3 Lt name', True, 1)"
    );
    let (_, result) = run_with(
        Rc::new(ColumnHost),
        "from model import name\nif name:\n    pass\n",
    );
    assert_eq!(
        result.unwrap_err().to_string(),
        format!("{PATH}:2:4: Column: testing its truth value is not supported")
    );
}

#[test]
fn hosts_build_dicts_with_any_hashable_keys() {
    let (mut interp, _) = run_with(Rc::new(ColumnHost), "x = 1\n");
    let ctx = interp.ctx();
    let d = ctx
        .dict(vec![
            (Value::Int(1), Value::str("a")),
            (Value::tuple(vec![Value::str("k")]), Value::None),
        ])
        .unwrap();
    assert_eq!(ctx.to_repr(&d).unwrap(), "{1: 'a', ('k',): None}");
    assert!(ctx
        .dict(vec![(Value::list(Vec::new()), Value::None)])
        .is_err());
}
