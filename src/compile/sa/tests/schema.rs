//! Columns, constraints, indexes and tables.

use super::{convert, convert_err, run};
use crate::compile::sa::{
    is_column, is_constraint, is_index, table_from_items, table_value, to_column, to_constraint,
    to_index, to_server_default, to_table,
};
use crate::interp::Value;
use crate::ir::{
    Autoincrement, Column, Computed, Constraint, DialectOption, ForeignKey, Identity, Index,
    IndexPart, ServerDefault, SqlType, Table,
};

fn column(expr: &str) -> Column {
    convert(expr, to_column)
}

fn constraint(expr: &str) -> Constraint {
    convert(expr, |v, ctx| to_constraint(v, Some("t"), ctx))
}

/// `op.create_table("t", *items)` as the op layer does it.
fn table(items: &str) -> Table {
    convert(&format!("[{items}]"), |v, ctx| {
        let items = v.as_items().unwrap_or_default();
        table_from_items("t", &items, ctx)
    })
}

fn varchar(n: u32) -> SqlType {
    SqlType::Varchar {
        length: Some(n),
        collation: None,
    }
}

#[test]
fn a_column_is_nullable_unless_it_is_a_primary_key() {
    let c = column("sa.Column('x', sa.Integer)");
    assert_eq!(c, Column::new("x", SqlType::Integer));
    let pk = column("sa.Column('id', sa.Integer(), primary_key=True)");
    assert!(pk.primary_key && !pk.nullable);
    assert!(column("sa.Column('id', sa.Integer, primary_key=True, nullable=True)").nullable);
    assert!(!column("sa.Column('x', sa.String(5), nullable=False)").nullable);
}

#[test]
fn an_identity_column_is_not_null_by_default() {
    let c = column("sa.Column('id', sa.BigInteger(), sa.Identity(always=False), primary_key=True)");
    assert_eq!(
        c.identity,
        Some(Identity {
            always: false,
            start: None,
            increment: None
        })
    );
    assert!(!c.nullable);
    assert!(!column("sa.Column('n', sa.Integer, sa.Identity(start=5, increment=2))").nullable);
}

#[test]
fn column_options_reach_the_ir_and_client_side_defaults_do_not() {
    let c = column(
        "sa.Column('status', sa.String(length=20), nullable=False, unique=True, index=True, comment='state', \
         autoincrement=False, default=lambda: 'x', onupdate=lambda: 'y', info={'a': 1}, doc='d')",
    );
    let mut want = Column::new("status", varchar(20));
    want.nullable = false;
    want.unique = true;
    want.index = true;
    want.comment = Some("state".into());
    want.autoincrement = Autoincrement::No;
    assert_eq!(c, want);
    assert_eq!(
        column("sa.Column('id', sa.Integer, autoincrement=True)").autoincrement,
        Autoincrement::Yes
    );
}

#[test]
fn a_column_without_a_name_or_type_cannot_be_converted() {
    let err = convert_err("sa.Column(sa.Integer)", to_column);
    assert!(err.contains("no name"), "{err}");
    let err = convert_err("sa.Column('x')", to_column);
    assert!(err.contains("without a type"), "{err}");
}

#[test]
fn server_defaults_by_kind() {
    let d = |e: &str| convert(e, to_server_default);
    assert_eq!(d("'0'"), ServerDefault::Literal("0".into()));
    assert_eq!(
        d("sa.text(\"'default'\")"),
        ServerDefault::Sql("'default'".into())
    );
    assert_eq!(d("sa.false()"), ServerDefault::Bool(false));
    assert_eq!(d("sa.true()"), ServerDefault::Bool(true));
    assert_eq!(
        d("sa.literal_column('CURRENT_TIMESTAMP')"),
        ServerDefault::Sql("CURRENT_TIMESTAMP".into())
    );
    assert_eq!(
        d("sa.func.current_timestamp()"),
        ServerDefault::Sql("CURRENT_TIMESTAMP".into())
    );
    assert_eq!(
        d("sa.func.lower('A')"),
        ServerDefault::Sql("lower('A')".into())
    );
    assert_eq!(
        column("sa.Column('is_nan', sa.Boolean(create_constraint=False), nullable=False, server_default='0')").server_default,
        Some(ServerDefault::Literal("0".into()))
    );
}

#[test]
fn server_defaults_spelled_differently_per_dialect_are_refused() {
    // SQLite compiles func.now() to CURRENT_TIMESTAMP, PostgreSQL to now().
    let err = convert_err("sa.func.now()", to_server_default);
    assert!(err.contains("differs per dialect"), "{err}");
    let err = convert_err("0", to_server_default);
    assert!(err.contains("int value"), "{err}");
}

#[test]
fn foreign_key_targets_are_table_dot_column() {
    let c = column("sa.Column('run_uuid', sa.String(32), sa.ForeignKey('runs.run_uuid', name='fk_run', ondelete='CASCADE'))");
    assert_eq!(
        c.foreign_keys,
        vec![ForeignKey {
            name: Some("fk_run".into()),
            columns: vec!["run_uuid".into()],
            ref_table: "runs".into(),
            ref_columns: vec!["run_uuid".into()],
            ondelete: Some("CASCADE".into()),
            onupdate: None,
            deferrable: None,
            initially: None,
        }]
    );
    let err = convert_err(
        "sa.Column('x', sa.Integer, sa.ForeignKey('main.runs.id'))",
        to_column,
    );
    assert!(err.contains("schema-qualified"), "{err}");
    let err = convert_err(
        "sa.Column('x', sa.Integer, sa.ForeignKey('runs'))",
        to_column,
    );
    assert!(err.contains("Invalid foreign key"), "{err}");
}

#[test]
fn table_level_constraints_keep_their_names() {
    assert_eq!(
        constraint("sa.PrimaryKeyConstraint('lease_key', name='scheduler_leases_pk')"),
        Constraint::PrimaryKey {
            name: Some("scheduler_leases_pk".into()),
            columns: vec!["lease_key".into()]
        }
    );
    assert_eq!(
        constraint("sa.UniqueConstraint('workspace', 'name', name='uq_ws_name')"),
        Constraint::Unique {
            name: Some("uq_ws_name".into()),
            columns: vec!["workspace".into(), "name".into()]
        }
    );
    assert_eq!(
        constraint("sa.UniqueConstraint('a')"),
        Constraint::Unique {
            name: None,
            columns: vec!["a".into()]
        }
    );
    assert_eq!(
        constraint("sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name='fk_job_locks_job_id', ondelete='CASCADE')"),
        Constraint::ForeignKey(ForeignKey {
            name: Some("fk_job_locks_job_id".into()),
            columns: vec!["job_id".into()],
            ref_table: "jobs".into(),
            ref_columns: vec!["id".into()],
            ondelete: Some("CASCADE".into()),
            onupdate: None,
            deferrable: None,
            initially: None,
        })
    );
    assert_eq!(
        constraint("sa.CheckConstraint('value > 0', name='positive')"),
        Constraint::Check {
            name: Some("positive".into()),
            sqltext: "value > 0".into()
        }
    );
    assert_eq!(
        constraint("sa.CheckConstraint(sa.text('a <> b'))"),
        Constraint::Check {
            name: None,
            sqltext: "a <> b".into()
        }
    );
}

#[test]
fn a_foreign_key_constraint_needs_as_many_referenced_as_local_columns() {
    let err =
        super::run_err("import sqlalchemy as sa\nsa.ForeignKeyConstraint(['a', 'b'], ['t.a'])\n");
    assert!(err.contains("ArgumentError"), "{err}");
}

#[test]
fn check_text_from_in_is_rendered_like_sqlalchemy() {
    assert_eq!(
        constraint("sa.CheckConstraint(sa.column('lifecycle_stage').in_(['active', 'deleted']), name='ck')"),
        Constraint::Check { name: Some("ck".into()), sqltext: "lifecycle_stage IN ('active', 'deleted')".into() }
    );
    let c = |e: &str| match constraint(&format!("sa.CheckConstraint({e})")) {
        Constraint::Check { sqltext, .. } => sqltext,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        c("sa.and_(sa.column('a') == 1, sa.column('b') != None)"),
        "a = 1 AND b IS NOT NULL"
    );
    assert_eq!(
        c("sa.or_(sa.column('a') > 5, sa.column('a') < 2)"),
        "a > 5 OR a < 2"
    );
    assert_eq!(c("sa.column('a').is_(None)"), "a IS NULL");
}

#[test]
fn index_dialect_options_are_kept() {
    let t = table(
        "sa.Column('a', sa.String(300)), sa.Column('b', sa.Integer), sa.Column('c', sa.Integer), \
         sa.Index('ix_ab', 'a', 'b', unique=True, mysql_length={'a': 255}, postgresql_include=['c'], \
                  postgresql_where=sa.text('b > 1'), postgresql_using='btree', sqlite_where=sa.column('b').isnot(None)), \
         sa.Index('ix_lower', sa.text('lower(a)'), mysql_length=10)",
    );
    assert_eq!(
        t.indexes,
        vec![
            Index {
                name: "ix_ab".into(),
                table: "t".into(),
                parts: vec![IndexPart::Column("a".into()), IndexPart::Column("b".into())],
                unique: true,
                dialect_options: vec![
                    (
                        "mysql_length".into(),
                        DialectOption::PerColumn(vec![("a".into(), 255)])
                    ),
                    (
                        "postgresql_include".into(),
                        DialectOption::Names(vec!["c".into()])
                    ),
                    (
                        "postgresql_where".into(),
                        DialectOption::Sql("b > 1".into())
                    ),
                    (
                        "postgresql_using".into(),
                        DialectOption::Str("btree".into())
                    ),
                    (
                        "sqlite_where".into(),
                        DialectOption::Sql("b IS NOT NULL".into())
                    ),
                ],
            },
            Index {
                name: "ix_lower".into(),
                table: "t".into(),
                parts: vec![IndexPart::Expression("lower(a)".into())],
                unique: false,
                dialect_options: vec![("mysql_length".into(), DialectOption::Int(10))],
            },
        ]
    );
}

#[test]
fn index_keywords_must_be_dialect_options() {
    let err = convert_err("sa.Index('ix', 'a', bogus=1)", |v, ctx| {
        to_index(v, Some("t"), ctx)
    });
    assert!(err.contains("<dialectname>_<argument>"), "{err}");
    let err = convert_err("sa.Index('ix', 'a')", |v, ctx| to_index(v, None, ctx));
    assert!(err.contains("not attached to a table"), "{err}");
}

#[test]
fn create_table_items_become_one_table() {
    let t = table(
        "sa.Column('lock_key', sa.String(length=255), nullable=False), \
         sa.Column('job_id', sa.String(length=36)), \
         sa.Column('acquired_at', sa.BigInteger(), nullable=False), \
         sa.Column('span_len', sa.BigInteger(), sa.Computed('end - start', persisted=True)), \
         sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name='fk_job'), \
         sa.PrimaryKeyConstraint('lock_key', 'job_id', name='job_locks_pk')",
    );
    assert_eq!(t.name, "t");
    let names: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["lock_key", "job_id", "acquired_at", "span_len"]);
    // The table-level primary key marks its columns, and makes them NOT NULL unless said.
    let job_id = t.column("job_id").expect("job_id");
    assert!(job_id.primary_key && !job_id.nullable);
    assert_eq!(
        t.column("span_len").and_then(|c| c.computed.clone()),
        Some(Computed {
            sqltext: "end - start".into(),
            persisted: Some(true)
        })
    );
    assert_eq!(t.constraints.len(), 2);
    assert_eq!(t.constraints[1].name(), Some("job_locks_pk"));
}

#[test]
fn a_column_belongs_to_one_table() {
    let err = super::run_err(
        "import sqlalchemy as sa\nm = sa.MetaData()\nc = sa.Column('x', sa.Integer)\n\
         sa.Table('a', m, c)\nsa.Table('b', m, c)\n",
    );
    assert!(err.contains("already assigned to Table 'a'"), "{err}");
}

#[test]
fn core_tables_expose_their_columns() {
    let (mut interp, ns) = run(
        "import sqlalchemy as sa\n\
         m = sa.MetaData()\n\
         t = sa.Table('datasets', m, sa.Column('id', sa.Integer, primary_key=True), sa.Column('name', sa.String(10), key='n'))\n\
         same = sa.Table('datasets', m) is t or sa.Table('datasets', m).name == 'datasets'\n\
         name = t.c.n.name\n\
         by_index = t.c['n'].name\n\
         keys = t.c.keys()\n\
         has = 'n' in t.c\n\
         count = len(t.c)\n\
         col = t.c.id\n",
    );
    let s = |n: &str| ns.get(n).and_then(|v| v.as_str().map(str::to_string));
    assert_eq!(s("name").as_deref(), Some("name"));
    assert_eq!(s("by_index").as_deref(), Some("name"));
    assert_eq!(ns.get("has").and_then(|v| v.as_bool()), Some(true));
    assert_eq!(ns.get("count").and_then(|v| v.as_int()), Some(2));
    assert_eq!(ns.get("same").and_then(|v| v.as_bool()), Some(true));
    let col = ns.get("col").expect("col");
    assert!(is_column(&col));
    let t = to_table(&ns.get("t").expect("t"), interp.ctx()).expect("table");
    assert_eq!(t.columns.len(), 2);
    assert!(!t.column("id").expect("id").nullable);
}

#[test]
fn a_table_value_round_trips() {
    let t = table(
        "sa.Column('id', sa.Integer, primary_key=True), sa.Column('name', sa.String(50), nullable=False, server_default='x'), \
         sa.Column('run_uuid', sa.String(32), sa.ForeignKey('runs.run_uuid')), \
         sa.UniqueConstraint('name', name='uq_name'), sa.CheckConstraint('id > 0', name='ck'), \
         sa.Index('ix_name', 'name', postgresql_where=sa.text('id > 1'))",
    );
    let back = convert("0", |_, ctx| to_table(&table_value(&t), ctx));
    assert_eq!(back, t);
}

#[test]
fn is_predicates_tell_objects_apart() {
    let (_, ns) = run("import sqlalchemy as sa\nc = sa.Column('x', sa.Integer)\nk = sa.UniqueConstraint('x')\ni = sa.Index('ix', 'x')\n");
    let get = |n: &str| ns.get(n).unwrap_or(Value::None);
    assert!(is_column(&get("c")) && !is_column(&get("k")));
    assert!(is_constraint(&get("k")) && !is_constraint(&get("i")));
    assert!(is_index(&get("i")) && !is_index(&get("c")));
}

#[test]
fn constraints_given_to_a_column_are_refused() {
    let err = super::run_err(
        "import sqlalchemy as sa\nsa.Column('x', sa.Integer, sa.CheckConstraint('x > 0'))\n",
    );
    assert!(err.contains("give it to the table"), "{err}");
}
