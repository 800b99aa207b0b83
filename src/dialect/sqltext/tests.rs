use super::*;

#[test]
fn splits_only_where_the_parser_agrees() {
    assert_eq!(
        split_statements("UPDATE t SET a = ';'; DELETE FROM u;", Family::Mysql),
        vec!["UPDATE t SET a = ';'", "DELETE FROM u"]
    );
    let trigger = "CREATE TRIGGER tr BEFORE UPDATE ON t FOR EACH ROW BEGIN IF 1 THEN SIGNAL SQLSTATE '45000'; END IF; END";
    assert_eq!(split_statements(trigger, Family::Mysql), vec![trigger]);
    assert_eq!(
        split_statements("  SELECT 1;\n", Family::Postgres),
        vec!["  SELECT 1;\n"]
    );
    assert_eq!(
        split_statements("this is not sql; at all", Family::Sqlite),
        vec!["this is not sql; at all"]
    );
}

#[test]
fn reads_what_ddl_creates_and_drops() {
    let r = read_statement(
        "ALTER TABLE jobs CHANGE function_fullname job_name VARCHAR(500) NULL",
        Family::Mysql,
    );
    assert_eq!(
        r,
        Reading::Effects(vec![
            Effect::Set(
                Object::Column("jobs".into(), "function_fullname".into()),
                State::Absent
            ),
            Effect::Set(
                Object::Column("jobs".into(), "job_name".into()),
                State::Present
            ),
        ])
    );
    assert_eq!(
        read_statement(
            "ALTER TABLE metrics MODIFY value FLOAT(53) NOT NULL",
            Family::Mysql
        ),
        Reading::Idempotent
    );
    assert_eq!(
        read_statement(
            "ALTER TABLE trace_tags DROP FOREIGN KEY fk_x",
            Family::Mysql
        ),
        Reading::Effects(vec![Effect::Set(
            Object::Constraint("trace_tags".into(), "fk_x".into()),
            State::Absent
        )])
    );
    assert_eq!(
        read_statement(
            "ALTER TABLE runs ADD CHECK (status IN ('A', 'B'))",
            Family::Mysql
        ),
        Reading::Effects(vec![Effect::Set(
            Object::Check("runs".into(), "statusin('a','b')".into()),
            State::Present
        )])
    );
    assert_eq!(
        read_statement("INSERT INTO t (a) VALUES (1)", Family::Postgres),
        Reading::Effects(vec![Effect::Set(Object::Rows("t".into()), State::Present)])
    );
    // Rows copied from a query: perhaps none.
    assert_eq!(
        read_statement("INSERT INTO t (a) SELECT a FROM u", Family::Postgres),
        Reading::Effects(vec![Effect::Fill {
            table: "t".into(),
            copy_of: Some("u".into())
        }])
    );
    assert_eq!(
        read_statement(
            "INSERT INTO t (a) SELECT a FROM u WHERE a > 0",
            Family::Postgres
        ),
        Reading::Effects(vec![Effect::Fill {
            table: "t".into(),
            copy_of: None
        }])
    );
    assert_eq!(
        read_statement("DROP INDEX ix ON t", Family::Mysql),
        Reading::Effects(vec![Effect::Set(
            Object::Index("t".into(), "ix".into()),
            State::Absent
        )])
    );
    assert_eq!(
        read_statement(
            "ALTER TABLE _alembic_tmp_runs RENAME TO runs",
            Family::Sqlite
        ),
        Reading::Effects(vec![Effect::RenameTable {
            from: "_alembic_tmp_runs".into(),
            to: "runs".into()
        }])
    );
}

#[test]
fn plain_selects_name_the_tables_their_rows_come_from() {
    let tables = |sql: &str| plain_select_tables(sql, Family::Postgres);
    assert_eq!(
        tables("SELECT id, is_active FROM flow_run_notification_policy"),
        Some(vec!["flow_run_notification_policy".to_string()])
    );
    assert_eq!(
        tables("SELECT p.id, q.* FROM p JOIN q ON q.p_id = p.id WHERE p.x IN (SELECT x FROM r)"),
        Some(vec!["p".to_string(), "q".to_string()])
    );
    // A row even from empty tables, or rows from elsewhere: not plain.
    assert_eq!(
        tables("SELECT COUNT(*) FROM work_queue WHERE work_pool_id IS NULL"),
        None
    );
    assert_eq!(tables("SELECT 1"), None);
    assert_eq!(tables("SELECT name FROM t GROUP BY name"), None);
    assert_eq!(tables("SELECT id FROM (SELECT id FROM t) AS s"), None);
    assert_eq!(
        tables("WITH s AS (SELECT id FROM t) SELECT id FROM s"),
        None
    );
    assert_eq!(tables("SELECT id FROM a UNION SELECT id FROM b"), None);
}

#[test]
fn a_mariadb_statement_settings_prefix_is_read_through() {
    let sql = "SET STATEMENT optimizer_switch='materialization=on,in_to_exists=off' FOR \
               INSERT INTO latest_metrics (a) SELECT a FROM metrics";
    assert_eq!(
        without_statement_settings(sql, Family::Mysql),
        "INSERT INTO latest_metrics (a) SELECT a FROM metrics"
    );
    assert!(changes_rows(sql, Family::Mysql));
    assert_eq!(
        read_statement(sql, Family::Mysql),
        read_statement(
            "INSERT INTO latest_metrics (a) SELECT a FROM metrics",
            Family::Mysql
        )
    );
    let quoted = "SET STATEMENT x=' for ' FOR DELETE FROM t";
    assert_eq!(
        without_statement_settings(quoted, Family::Mysql),
        "DELETE FROM t"
    );
    assert_eq!(without_statement_settings(sql, Family::Postgres), sql);
    assert!(!changes_rows(
        "SET STATEMENT max_statement_time=1",
        Family::Mysql
    ));
}
