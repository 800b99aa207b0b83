//! ALTERs, indexes, constraints added later, data statements and batch blocks.

use super::*;

#[test]
fn add_column_adds_its_constraints_and_index_with_statements_of_their_own() {
    let mut model = SchemaModel::default();
    create(
        &mut model,
        table("o", vec![pk("id", SqlType::Integer)], Vec::new()),
    );
    create(
        &mut model,
        table("t", vec![col("a", SqlType::Integer)], Vec::new()),
    );
    let mut f = col("f", SqlType::Integer);
    f.foreign_keys.push(fk(&[], "o", &["id"]));
    f.unique = true;
    f.index = true;
    let add = |model: &mut SchemaModel, table: &str, column: Column| {
        render(
            model,
            Op::AddColumn {
                table: table.into(),
                column,
                insert_before: None,
                insert_after: None,
            },
        )
    };
    assert_eq!(
        add(&mut model, "t", f),
        [
            "ALTER TABLE t ADD COLUMN f INTEGER",
            "ALTER TABLE t ADD FOREIGN KEY(f) REFERENCES o (id)",
            "CREATE UNIQUE INDEX ix_t_f ON t (f)",
        ]
    );
    assert_eq!(names(&model, "t"), ["t_f_fkey"]);
    assert_eq!(
        add(
            &mut model,
            "t",
            col("s3", enum_type(&["c"], Some("st3"), true))
        ),
        ["ALTER TABLE t ADD COLUMN s3 st3"]
    );
    assert_eq!(
        add(&mut model, "t", pk("newid", SqlType::BigInteger)),
        ["ALTER TABLE t ADD COLUMN newid BIGSERIAL NOT NULL"]
    );
    let mut select = col("select", varchar(10));
    select.comment = Some("hi".into());
    render(
        &mut model,
        Op::RenameTable {
            table: "t".into(),
            new_name: "order".into(),
        },
    );
    assert_eq!(
        add(&mut model, "order", select)
            .iter()
            .map(|s| s.replace("\"order\"", "T"))
            .collect::<Vec<_>>(),
        [
            "ALTER TABLE T ADD COLUMN \"select\" VARCHAR(10)",
            "COMMENT ON COLUMN T.\"select\" IS 'hi'",
        ]
    );
}

#[test]
fn alter_column_changes_type_first_and_renames_last() {
    let mut model = SchemaModel::default();
    create(
        &mut model,
        table("t", vec![col("s", varchar(5))], Vec::new()),
    );
    let mut a = AlterColumn::new("t", "s");
    a.type_ = Some(enum_type(&["a", "b", "c"], Some("st4"), true));
    a.nullable = Some(false);
    a.server_default = Some(Some(ServerDefault::Literal("a".into())));
    a.new_name = Some("s5".into());
    assert_eq!(
        render(&mut model, Op::AlterColumn(a)),
        [
            "ALTER TABLE t ALTER COLUMN s TYPE st4",
            "ALTER TABLE t ALTER COLUMN s SET NOT NULL",
            "ALTER TABLE t ALTER COLUMN s SET DEFAULT 'a'",
            "ALTER TABLE t RENAME s TO s5",
        ]
    );
    let mut a = AlterColumn::new("t", "s5");
    a.server_default = Some(None);
    a.comment = Some(None);
    assert_eq!(
        render(&mut model, Op::AlterColumn(a)),
        [
            "ALTER TABLE t ALTER COLUMN s5 DROP DEFAULT",
            "COMMENT ON COLUMN t.s5 IS NULL",
        ]
    );
}

#[test]
fn a_schema_type_change_drops_the_old_check_and_adds_the_new_one() {
    let mut model = SchemaModel::default();
    create(
        &mut model,
        table(
            "runs",
            vec![col("status", enum_type(&["A"], Some("status"), false))],
            Vec::new(),
        ),
    );
    assert_eq!(names(&model, "runs"), ["status"]);
    let mut a = AlterColumn::new("runs", "status");
    a.existing_type = Some(enum_type(&["A"], Some("status"), false));
    a.type_ = Some(enum_type(&["A", "KILLED"], None, false));
    assert_eq!(
        render(&mut model, Op::AlterColumn(a)),
        [
            "ALTER TABLE runs DROP CONSTRAINT status",
            "ALTER TABLE runs ALTER COLUMN status TYPE VARCHAR(6)",
            "ALTER TABLE runs ADD CHECK (status IN ('A', 'KILLED'))",
        ]
    );
    assert_eq!(names(&model, "runs"), ["runs_status_check"]);
    // A native Boolean has no CHECK to drop or add.
    let boolean = |name: Option<&str>| SqlType::Boolean {
        create_constraint: true,
        name: name.map(str::to_string),
    };
    let mut a = AlterColumn::new("runs", "status");
    a.existing_type = Some(boolean(Some("oldb")));
    a.type_ = Some(boolean(None));
    assert_eq!(
        render(&mut model, Op::AlterColumn(a)),
        ["ALTER TABLE runs ALTER COLUMN status TYPE BOOLEAN"]
    );
}

#[test]
fn indexes_take_postgresql_options_and_expressions() {
    let mut model = SchemaModel::default();
    create(
        &mut model,
        table(
            "t",
            vec![
                col("name", varchar(5)),
                col("b", SqlType::Integer),
                col("c", SqlType::Integer),
                col("a", SqlType::Integer),
            ],
            Vec::new(),
        ),
    );
    let index = |name: &str, parts: Vec<IndexPart>, options: Vec<(&str, DialectOption)>| Index {
        name: name.into(),
        table: "t".into(),
        parts,
        unique: false,
        dialect_options: options
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    };
    let sql = render(
        &mut model,
        Op::CreateIndex {
            index: index(
                "ix",
                vec![
                    IndexPart::Expression("lower(name)".into()),
                    IndexPart::Column("b".into()),
                ],
                vec![
                    ("postgresql_where", DialectOption::Sql("b > 0".into())),
                    ("postgresql_using", DialectOption::Str("gin".into())),
                    ("postgresql_include", DialectOption::Names(vec!["c".into()])),
                    ("mysql_length", DialectOption::Int(10)),
                ],
            ),
        },
    );
    assert_eq!(
        sql,
        ["CREATE INDEX ix ON t USING gin (lower(name), b) INCLUDE (c) WHERE b > 0"]
    );
    let mut unique = index(
        "i3",
        vec![
            IndexPart::Column("a".into()),
            IndexPart::Expression("b DESC".into()),
        ],
        vec![
            ("postgresql_where", DialectOption::Str("a > 1".into())),
            ("postgresql_concurrently", DialectOption::Bool(true)),
            ("postgresql_nulls_not_distinct", DialectOption::Bool(true)),
        ],
    );
    unique.unique = true;
    assert_eq!(
        render(&mut model, Op::CreateIndex { index: unique }),
        ["CREATE UNIQUE INDEX CONCURRENTLY i3 ON t (a, b DESC) NULLS NOT DISTINCT WHERE a > 1"]
    );
    assert_eq!(
        render(
            &mut model,
            Op::DropIndex {
                table: Some("t".into()),
                name: "i3".into(),
            }
        ),
        ["DROP INDEX i3"]
    );
}

#[test]
fn unnamed_constraints_added_later_get_postgresql_names() {
    let mut model = SchemaModel::default();
    create(
        &mut model,
        table("o", vec![pk("id", SqlType::Integer)], Vec::new()),
    );
    create(
        &mut model,
        table(
            "t",
            vec![col("a", SqlType::Integer), col("b", SqlType::Integer)],
            Vec::new(),
        ),
    );
    let add = |model: &mut SchemaModel, constraint: Constraint| {
        render(
            model,
            Op::AddConstraint {
                table: "t".into(),
                constraint,
            },
        )
    };
    assert_eq!(
        add(
            &mut model,
            Constraint::Check {
                name: None,
                sqltext: "a > 0".into(),
            }
        ),
        ["ALTER TABLE t ADD CHECK (a > 0)"]
    );
    assert_eq!(
        add(
            &mut model,
            Constraint::Unique {
                name: None,
                columns: vec!["a".into(), "b".into()],
            }
        ),
        ["ALTER TABLE t ADD UNIQUE (a, b)"]
    );
    let mut deferred = fk(&["a"], "o", &["id"]);
    deferred.ondelete = Some("CASCADE".into());
    deferred.deferrable = Some(true);
    deferred.initially = Some("DEFERRED".into());
    assert_eq!(
        add(&mut model, Constraint::ForeignKey(deferred)),
        ["ALTER TABLE t ADD FOREIGN KEY(a) REFERENCES o (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED"]
    );
    add(&mut model, Constraint::ForeignKey(fk(&["a"], "o", &["id"])));
    assert_eq!(
        names(&model, "t"),
        ["t_a_check", "t_a_b_key", "t_a_fkey", "t_a_fkey1"]
    );
    let sql = render(
        &mut model,
        Op::DropConstraint {
            table: "t".into(),
            name: "t_a_fkey1".into(),
            kind: Some(ConstraintKind::ForeignKey),
        },
    );
    assert_eq!(sql, ["ALTER TABLE t DROP CONSTRAINT t_a_fkey1"]);
    // Dropping a column drops the CHECK that uses it, as the server does.
    render(
        &mut model,
        Op::DropColumn {
            table: "t".into(),
            column: "a".into(),
        },
    );
    assert!(names(&model, "t").is_empty());
}

#[test]
fn reserved_words_and_capitals_are_quoted() {
    assert_eq!(quote("user"), "\"user\"");
    assert_eq!(quote("old"), "\"old\"");
    assert_eq!(quote("lateral"), "\"lateral\"");
    assert_eq!(quote("Name"), "\"Name\"");
    assert_eq!(quote("key"), "key");
    assert_eq!(quote("timestamp"), "timestamp");
    assert!(keywords::KEYWORDS.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn data_statements_use_postgresql_booleans() {
    let mut model = SchemaModel::default();
    let sql = render(
        &mut model,
        Op::BulkInsert {
            table: "c2".into(),
            columns: vec!["a".into(), "b".into(), "c".into()],
            rows: vec![
                vec![
                    Literal::Int(1),
                    Literal::Bool(true),
                    Literal::Str("x'y".into()),
                ],
                vec![Literal::Int(2), Literal::Null, Literal::Null],
            ],
        },
    );
    assert_eq!(
        sql,
        [
            "INSERT INTO c2 (a, b, c) VALUES (1, true, 'x''y')",
            "INSERT INTO c2 (a, b, c) VALUES (2, NULL, NULL)",
        ]
    );
    let body = "CREATE FUNCTION f() RETURNS TRIGGER AS $$\nBEGIN\n  RETURN NEW;\nEND;\n$$ LANGUAGE plpgsql;";
    let sql = render(
        &mut model,
        Op::Execute {
            statement: Statement::Sql { text: body.into() },
        },
    );
    assert_eq!(sql, [body]);
}

#[test]
fn batch_runs_its_operations_as_plain_alters() {
    let mut model = SchemaModel::default();
    create(
        &mut model,
        table("t", vec![col("a", SqlType::Integer)], Vec::new()),
    );
    let mut batch = Batch {
        table: "t".into(),
        recreate: Recreate::Auto,
        naming_convention: Vec::new(),
        table_args: Vec::new(),
        partial_reordering: Vec::new(),
        ops: vec![
            Op::AddColumn {
                table: "t".into(),
                column: col("b", SqlType::Integer),
                insert_before: None,
                insert_after: None,
            },
            Op::DropColumn {
                table: "t".into(),
                column: "a".into(),
            },
        ],
    };
    assert_eq!(
        render(&mut model, Op::Batch(batch.clone())),
        [
            "ALTER TABLE t ADD COLUMN b INTEGER",
            "ALTER TABLE t DROP COLUMN a"
        ]
    );
    batch.ops = vec![Op::AddColumn {
        table: "t".into(),
        column: col("c", SqlType::Integer),
        insert_before: Some("b".into()),
        insert_after: None,
    }];
    assert!(Postgresql::default()
        .render(&mut model, &Op::Batch(batch))
        .is_err());
}
