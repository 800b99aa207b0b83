//! Declarative models, MLflow's initial models first. The expected tables are what
//! SQLAlchemy builds from `initial_models.py` (`Base.metadata.tables`).

use std::path::PathBuf;
use std::rc::Rc;

use super::{run, run_with, SaHost};
use crate::compile::sa::declarative_tables;
use crate::ir::{Autoincrement, Column, Constraint, ForeignKey, SqlType, Table};

/// MLflow's package in the reference virtualenv, if it is there.
pub(super) fn mlflow_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target/ref-venv/lib/python3.11/site-packages/mlflow");
    dir.is_dir().then_some(dir)
}

fn varchar(n: u32) -> SqlType {
    SqlType::Varchar {
        length: Some(n),
        collation: None,
    }
}

fn col(name: &str, ty: SqlType, nullable: bool) -> Column {
    let mut c = Column::new(name, ty);
    c.nullable = nullable;
    c
}

fn pk(mut c: Column) -> Column {
    c.primary_key = true;
    c
}

fn fk_to(mut c: Column, table: &str, column: &str) -> Column {
    c.foreign_keys.push(ForeignKey {
        name: None,
        columns: vec![c.name.clone()],
        ref_table: table.into(),
        ref_columns: vec![column.into()],
        ondelete: None,
        onupdate: None,
        deferrable: None,
        initially: None,
    });
    c
}

fn check(name: &str, sql: &str) -> Constraint {
    Constraint::Check {
        name: Some(name.into()),
        sqltext: sql.into(),
    }
}

fn primary(name: &str, cols: &[&str]) -> Constraint {
    Constraint::PrimaryKey {
        name: Some(name.into()),
        columns: cols.iter().map(|c| c.to_string()).collect(),
    }
}

fn table(name: &str, columns: Vec<Column>, constraints: Vec<Constraint>) -> Table {
    Table {
        name: name.into(),
        columns,
        constraints,
        indexes: Vec::new(),
        comment: None,
    }
}

/// The tables of MLflow's initial models, in definition order.
fn expected_initial_models() -> Vec<Table> {
    vec![
        expected_experiments(),
        expected_runs(),
        expected_tags(),
        expected_metrics(),
        expected_params(),
    ]
}

/// `experiments`: an autoincrementing key and a unique name.
fn expected_experiments() -> Table {
    let mut experiment_id = pk(col("experiment_id", SqlType::Integer, false));
    experiment_id.autoincrement = Autoincrement::Yes;
    let mut name = col("name", varchar(256), false);
    name.unique = true;
    table(
        "experiments",
        vec![
            experiment_id,
            name,
            col("artifact_location", varchar(256), true),
            col("lifecycle_stage", varchar(32), true),
        ],
        vec![
            check(
                "experiments_lifecycle_stage",
                "lifecycle_stage IN ('active', 'deleted')",
            ),
            primary("experiment_pk", &["experiment_id"]),
        ],
    )
}

/// `runs`: keyed by UUID, referring to its experiment, with enum-like CHECKs.
fn expected_runs() -> Table {
    table(
        "runs",
        vec![
            pk(col("run_uuid", varchar(32), false)),
            col("name", varchar(250), true),
            col("source_type", varchar(20), true),
            col("source_name", varchar(500), true),
            col("entry_point_name", varchar(50), true),
            col("user_id", varchar(256), true),
            col("status", varchar(20), true),
            col("start_time", SqlType::BigInteger, true),
            col("end_time", SqlType::BigInteger, true),
            col("source_version", varchar(50), true),
            col("lifecycle_stage", varchar(20), true),
            col("artifact_uri", varchar(200), true),
            fk_to(
                col("experiment_id", SqlType::Integer, true),
                "experiments",
                "experiment_id",
            ),
        ],
        vec![
            check(
                "source_type",
                "source_type IN ('NOTEBOOK', 'JOB', 'LOCAL', 'UNKNOWN', 'PROJECT')",
            ),
            check(
                "status",
                "status IN ('SCHEDULED', 'FAILED', 'FINISHED', 'RUNNING')",
            ),
            check(
                "runs_lifecycle_stage",
                "lifecycle_stage IN ('active', 'deleted')",
            ),
            primary("run_pk", &["run_uuid"]),
        ],
    )
}

/// The key column of a run's child table: part of its primary key, referring to `runs`.
fn run_uuid_key() -> Column {
    pk(fk_to(
        col("run_uuid", varchar(32), false),
        "runs",
        "run_uuid",
    ))
}

/// `tags`: key/value pairs of a run.
fn expected_tags() -> Table {
    table(
        "tags",
        vec![
            pk(col("key", varchar(250), false)),
            col("value", varchar(250), true),
            run_uuid_key(),
        ],
        vec![primary("tag_pk", &["key", "run_uuid"])],
    )
}

/// `metrics`: a run's float values by key and timestamp.
fn expected_metrics() -> Table {
    table(
        "metrics",
        vec![
            pk(col("key", varchar(250), false)),
            col(
                "value",
                SqlType::Float {
                    precision: None,
                    double: false,
                },
                false,
            ),
            pk(col("timestamp", SqlType::BigInteger, false)),
            run_uuid_key(),
        ],
        vec![primary("metric_pk", &["key", "timestamp", "run_uuid"])],
    )
}

/// `params`: a run's parameters by key.
fn expected_params() -> Table {
    table(
        "params",
        vec![
            pk(col("key", varchar(250), false)),
            col("value", varchar(250), false),
            run_uuid_key(),
        ],
        vec![primary("param_pk", &["key", "run_uuid"])],
    )
}

#[test]
fn mlflow_initial_models_give_five_tables_in_definition_order() {
    let Some(dir) = mlflow_dir() else {
        eprintln!("skipped: the reference virtualenv with MLflow is not installed");
        return;
    };
    let path = dir.join("store/tracking/dbmodels/initial_models.py");
    let src = std::fs::read_to_string(&path).expect("initial_models.py is readable");
    let (mut interp, result) = run_with(Rc::new(SaHost), &src, &path.display().to_string());
    let ns = result.unwrap_or_else(|e| panic!("{e}"));
    let tables = declarative_tables(&ns, interp.ctx())
        .unwrap_or_else(|_| panic!("declarative_tables failed"));
    let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["experiments", "runs", "tags", "metrics", "params"]);
    for (got, want) in tables.iter().zip(expected_initial_models()) {
        assert_eq!(got, &want, "table {}", want.name);
    }
}

#[test]
fn model_attributes_are_readable_after_the_class_is_defined() {
    let (mut interp, ns) = run(
        "import sqlalchemy as sa\n\
         from sqlalchemy.orm import declarative_base, relationship\n\
         Base = declarative_base()\n\
         class SqlThing(Base):\n\
         \x20   __tablename__ = 'things'\n\
         \x20   id = sa.Column(sa.Integer, primary_key=True)\n\
         \x20   label = sa.Column('label_text', sa.String(20), index=True)\n\
         \x20   parent = relationship('SqlOther')\n\
         \x20   __table_args__ = (sa.Index('ix_things_label', 'label_text'), {'mysql_engine': 'InnoDB'})\n\
         name = SqlThing.__tablename__\n\
         cond = SqlThing.id.in_([1, 2])\n",
    );
    assert_eq!(
        ns.get("name")
            .and_then(|v| v.as_str().map(str::to_string))
            .as_deref(),
        Some("things")
    );
    let tables = declarative_tables(&ns, interp.ctx())
        .unwrap_or_else(|_| panic!("declarative_tables failed"));
    assert_eq!(tables.len(), 1);
    let t = &tables[0];
    let names: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["id", "label_text"]);
    assert!(t.columns[1].index);
    assert_eq!(t.indexes.len(), 1);
    let cond = ns.get("cond").expect("cond");
    let text = crate::compile::sa::to_sql_text(&cond, interp.ctx()).unwrap_or_default();
    assert_eq!(text, "id IN (1, 2)");
}

#[test]
fn classes_without_a_table_name_and_abstract_ones_are_not_models() {
    let (mut interp, ns) = run("from sqlalchemy import Column, Integer\n\
         from sqlalchemy.orm import DeclarativeBase\n\
         class Base(DeclarativeBase):\n\
         \x20   pass\n\
         class Abstract(Base):\n\
         \x20   __abstract__ = True\n\
         \x20   __tablename__ = 'nope'\n\
         class B(Base):\n\
         \x20   __tablename__ = 'b'\n\
         \x20   id = Column(Integer, primary_key=True)\n\
         class A(Base):\n\
         \x20   __tablename__ = 'a'\n\
         \x20   id = Column(Integer, primary_key=True)\n");
    let tables = declarative_tables(&ns, interp.ctx())
        .unwrap_or_else(|_| panic!("declarative_tables failed"));
    let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["b", "a"]);
}

#[test]
fn orm_sessions_are_refused_when_used() {
    let err = super::run_err(
        "from sqlalchemy import orm\nsession = orm.Session(bind=None)\nsession.query(1)\n",
    );
    assert!(
        err.contains("not modeled") && err.contains("data migration"),
        "{err}"
    );
}

#[test]
fn declarative_base_from_the_ext_module() {
    let (mut interp, ns) = run(
        "from sqlalchemy.ext.declarative import declarative_base\nimport sqlalchemy as sa\nBase = declarative_base()\n\
         class T(Base):\n    __tablename__ = 't'\n    x = sa.Column(sa.Integer, primary_key=True)\n",
    );
    let tables = declarative_tables(&ns, interp.ctx())
        .unwrap_or_else(|_| panic!("declarative_tables failed"));
    assert_eq!(tables[0].name, "t");
}
