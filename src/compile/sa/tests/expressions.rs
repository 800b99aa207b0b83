//! SQL expressions and Core statements.

use super::{convert, convert_err, run};
use crate::compile::sa::{to_sql_expr, to_sql_text, to_statement, to_statement_with_params};
use crate::ir::{BinaryOp, Literal, SqlExpr, Statement};

fn col(table: Option<&str>, name: &str) -> SqlExpr {
    SqlExpr::Column {
        table: table.map(str::to_string),
        name: name.into(),
    }
}

fn lit(l: Literal) -> SqlExpr {
    SqlExpr::Literal { value: l }
}

fn statement(expr: &str) -> Statement {
    convert(expr, to_statement)
}

const JOBS: &str = "(lambda jobs: jobs.update().where(jobs.c.status.in_([0, 1])).values(status=5, last_update_time=1000))\
                    (sa.table('jobs', sa.column('status'), sa.column('last_update_time')))";

#[test]
fn update_where_values_is_a_structured_statement() {
    // dc11669786a5 cancels unfinished jobs this way.
    assert_eq!(
        statement(JOBS),
        Statement::Update {
            table: "jobs".into(),
            values: vec![
                ("status".into(), lit(Literal::Int(5))),
                ("last_update_time".into(), lit(Literal::Int(1000)))
            ],
            filter: Some(SqlExpr::InList {
                expr: Box::new(col(Some("jobs"), "status")),
                values: vec![lit(Literal::Int(0)), lit(Literal::Int(1))],
                negate: false,
            }),
        }
    );
}

#[test]
fn several_where_clauses_are_and_ed() {
    let s = statement(
        "(lambda t: sa.update(t).where(t.c.a == 1).where(t.c.b != None, t.c.c.is_(None)).values({'a': 2}))\
         (sa.table('t', sa.column('a'), sa.column('b'), sa.column('c')))",
    );
    let Statement::Update {
        filter: Some(SqlExpr::And { items }),
        values,
        ..
    } = s
    else {
        panic!("{s:?}")
    };
    assert_eq!(values, vec![("a".into(), lit(Literal::Int(2)))]);
    assert_eq!(items.len(), 3);
    assert_eq!(
        items[1],
        SqlExpr::IsNull {
            expr: Box::new(col(Some("t"), "b")),
            negate: true
        }
    );
}

#[test]
fn insert_and_delete_statements() {
    assert_eq!(
        statement("(lambda t: t.insert().values([{'a': 1, 'b': 'x'}, {'a': 2, 'b': None}]))(sa.table('t', sa.column('a'), sa.column('b')))"),
        Statement::Insert {
            table: "t".into(),
            columns: vec!["a".into(), "b".into()],
            rows: vec![
                vec![lit(Literal::Int(1)), lit(Literal::Str("x".into()))],
                vec![lit(Literal::Int(2)), lit(Literal::Null)],
            ],
        }
    );
    assert_eq!(
        statement("(lambda t: sa.delete(t).where(t.c.key.like('mlflow.%')))(sa.table('tags', sa.column('key')))"),
        Statement::Delete {
            table: "tags".into(),
            filter: Some(SqlExpr::Binary {
                op: BinaryOp::Like,
                left: Box::new(col(Some("tags"), "key")),
                right: Box::new(lit(Literal::Str("mlflow.%".into()))),
            }),
        }
    );
}

#[test]
fn values_for_columns_the_table_lacks_are_a_compile_error() {
    let err = super::run_err(
        "import sqlalchemy as sa\nt = sa.table('t', sa.column('a'))\nt.update().values(b=1)\n",
    );
    assert!(err.contains("Unconsumed column names: b"), "{err}");
}

#[test]
fn text_and_strings_are_sql_statements() {
    assert_eq!(
        statement("'DROP TRIGGER x'"),
        Statement::Sql {
            text: "DROP TRIGGER x".into()
        }
    );
    assert_eq!(
        statement("sa.text('DELETE FROM t')"),
        Statement::Sql {
            text: "DELETE FROM t".into()
        }
    );
    assert_eq!(
        statement("sa.text(\"UPDATE t SET a = :v WHERE b = :w\").bindparams(v='it''s', w=3)"),
        Statement::Sql {
            text: "UPDATE t SET a = 'its' WHERE b = 3".into()
        }
    );
    // PostgreSQL casts, clock times and escaped colons are not parameters.
    assert_eq!(
        statement(r#"sa.text(r"SELECT '12:30:00', 'x'::text, a\:b")"#),
        Statement::Sql {
            text: "SELECT '12:30:00', 'x'::text, a:b".into()
        }
    );
}

#[test]
fn parameters_without_values_are_a_data_migration() {
    let err = convert_err("sa.text('DELETE FROM t WHERE id = :id')", to_statement);
    assert!(err.contains("no value for the parameter `:id`"), "{err}");
    let err = convert_err(
        "(lambda t: t.update().where(t.c.id == sa.bindparam('id_param')).values(a=sa.bindparam('a')))(sa.table('t', sa.column('id'), sa.column('a')))",
        to_statement,
    );
    assert!(err.contains("data migration"), "{err}");
}

#[test]
fn execution_parameters_bind_values() {
    let src = "import sqlalchemy as sa\n\
               t = sa.table('t', sa.column('id'), sa.column('a'))\n\
               stmt = t.update().where(t.c.id == sa.bindparam('id_param')).values(a=sa.bindparam('a'))\n\
               text = sa.text('UPDATE x SET k = :key')\n\
               ins = t.insert()\n\
               p1 = {'id_param': 7, 'a': 'v'}\n\
               p2 = {'key': 'mlflow.user'}\n\
               rows = [{'id': 1, 'a': 'x'}, {'id': 2, 'a': 'y'}]\n";
    let (mut interp, ns) = run(src);
    let get = |n: &str| ns.get(n).expect(n);
    let ctx = interp.ctx();
    let s = to_statement_with_params(&get("stmt"), &get("p1"), ctx)
        .unwrap_or_else(|_| panic!("update"));
    assert_eq!(
        s,
        Statement::Update {
            table: "t".into(),
            values: vec![("a".into(), lit(Literal::Str("v".into())))],
            filter: Some(SqlExpr::Binary {
                op: BinaryOp::Eq,
                left: Box::new(col(Some("t"), "id")),
                right: Box::new(lit(Literal::Int(7)))
            }),
        }
    );
    let s =
        to_statement_with_params(&get("text"), &get("p2"), ctx).unwrap_or_else(|_| panic!("text"));
    assert_eq!(
        s,
        Statement::Sql {
            text: "UPDATE x SET k = 'mlflow.user'".into()
        }
    );
    let s = to_statement_with_params(&get("ins"), &get("rows"), ctx)
        .unwrap_or_else(|_| panic!("insert"));
    assert!(
        matches!(s, Statement::Insert { ref rows, .. } if rows.len() == 2),
        "{s:?}"
    );
}

#[test]
fn selects_can_be_built_but_not_run() {
    let src = "(lambda t: sa.select(t.c.a).where(t.c.a > 1).order_by(t.c.a).limit(10))(sa.table('t', sa.column('a')))";
    let err = convert_err(src, to_statement);
    assert!(err.contains("data migration"), "{err}");
    let err = convert_err(
        "(lambda t: t.update().where(t.c.a.in_(sa.select(t.c.a))).values(a=1))(sa.table('t', sa.column('a')))",
        to_statement,
    );
    assert!(err.contains("reading rows"), "{err}");
}

#[test]
fn comparisons_with_the_column_on_the_right_are_flipped() {
    let e = convert("5 < sa.column('x')", to_sql_expr);
    assert_eq!(
        e,
        SqlExpr::Binary {
            op: BinaryOp::Gt,
            left: Box::new(col(None, "x")),
            right: Box::new(lit(Literal::Int(5)))
        }
    );
}

#[test]
fn operators_build_expressions() {
    let text = |e: &str| convert(e, to_sql_text);
    assert_eq!(
        text("(sa.column('a') == 1) & (sa.column('b') == 2)"),
        "a = 1 AND b = 2"
    );
    assert_eq!(
        text("(sa.column('a') == 1) | ~(sa.column('b') == 2)"),
        "a = 1 OR NOT (b = 2)"
    );
    assert_eq!(
        text("sa.column('a').not_in(['x', 'y'])"),
        "a NOT IN ('x', 'y')"
    );
    assert_eq!(text("sa.column('a', sa.String(5)) + 'x'"), "a || 'x'");
    assert_eq!(text("sa.column('n') + 1"), "n + 1");
    assert_eq!(
        text("sa.func.coalesce(sa.column('a'), 0)"),
        "coalesce(a, 0)"
    );
    assert_eq!(text("sa.func.count()"), "count(*)");
    assert_eq!(
        text("sa.literal_column('CURRENT_TIMESTAMP')"),
        "CURRENT_TIMESTAMP"
    );
    assert_eq!(text("sa.column('Key') == 'x'"), "\"Key\" = 'x'");
}

#[test]
fn a_bare_column_is_not_sql_text() {
    let err = convert_err("sa.column('a')", to_sql_text);
    assert!(err.contains("a column, not SQL text"), "{err}");
}

#[test]
fn functions_keep_their_names_in_expressions() {
    // The renderer spells now() per dialect.
    assert_eq!(
        convert("sa.func.now()", to_sql_expr),
        SqlExpr::Func {
            name: "now".into(),
            args: vec![]
        }
    );
    assert_eq!(
        convert("sa.func.current_timestamp()", to_sql_expr),
        SqlExpr::Sql {
            text: "CURRENT_TIMESTAMP".into()
        }
    );
    assert_eq!(convert("sa.true()", to_sql_expr), lit(Literal::Bool(true)));
}

#[test]
fn the_truth_of_a_clause_is_a_type_error() {
    let err = super::run_err("import sqlalchemy as sa\nif sa.column('a') == 1:\n    pass\n");
    assert!(
        err.contains("TypeError") && err.contains("Boolean value of this clause"),
        "{err}"
    );
}
