//! CREATE TABLE, DROP TABLE, types and the names of keys created with a table.

use super::*;

#[test]
fn create_table_writes_serial_native_enums_and_types_as_sqlalchemy() {
    let mut model = SchemaModel::default();
    let mut k = col(
        "k",
        SqlType::Boolean {
            create_constraint: true,
            name: None,
        },
    );
    k.server_default = Some(ServerDefault::Bool(false));
    let sql = create(
        &mut model,
        table(
            "t",
            vec![
                pk("id", SqlType::Integer),
                col("s", enum_type(&["a", "b"], Some("st"), true)),
                col("s2", enum_type(&["a", "b"], Some("st"), true)),
                k,
                col("u", SqlType::Uuid),
                col("d", SqlType::DateTime { timezone: false }),
                col(
                    "j",
                    SqlType::DialectSpecific {
                        dialect: "postgresql".into(),
                        name: "JSONB".into(),
                    },
                ),
                col("e2", enum_type(&["x", "y"], Some("ne"), false)),
            ],
            Vec::new(),
        ),
    );
    assert_eq!(
        sql,
        [
            "CREATE TYPE st AS ENUM ('a', 'b')",
            "CREATE TABLE t (\n\tid SERIAL NOT NULL, \n\ts st, \n\ts2 st, \n\tk BOOLEAN DEFAULT false, \n\tu UUID, \n\td TIMESTAMP WITHOUT TIME ZONE, \n\tj JSONB, \n\te2 VARCHAR(1), \n\tPRIMARY KEY (id), \n\tCONSTRAINT ne CHECK (e2 IN ('x', 'y'))\n)",
        ]
    );
    // The server: `t_pkey`; the sequence behind SERIAL shows as the column's default.
    assert_eq!(names(&model, "t"), ["t_pkey", "ne"]);
    let id = model.table("t").unwrap().column("id").unwrap();
    assert_eq!(
        id.server_default,
        Some(ServerDefault::Sql("nextval('t_id_seq'::regclass)".into()))
    );
}

#[test]
fn drop_table_drops_no_enum_type() {
    let mut model = SchemaModel::default();
    create(
        &mut model,
        table(
            "t",
            vec![col("s", enum_type(&["a"], Some("st"), true))],
            Vec::new(),
        ),
    );
    let sql = render(&mut model, Op::DropTable { table: "t".into() });
    assert_eq!(sql, ["DROP TABLE t"]);
}

#[test]
fn autoincrement_column_leads_a_composite_primary_key_and_types_follow_postgresql() {
    let mut model = SchemaModel::default();
    let mut a = pk("a", SqlType::SmallInteger);
    a.autoincrement = Autoincrement::Yes;
    let mut f = col(
        "f",
        SqlType::Float {
            precision: None,
            double: false,
        },
    );
    f.server_default = Some(ServerDefault::Literal("1.5".into()));
    let mut txt = col("txt", SqlType::Text { length: None });
    txt.server_default = Some(ServerDefault::Literal("it's".into()));
    let sql = create(
        &mut model,
        table(
            "c2",
            vec![
                pk("id", SqlType::BigInteger),
                a,
                f,
                col(
                    "n",
                    SqlType::Numeric {
                        precision: Some(10),
                        scale: Some(2),
                    },
                ),
                col("i", SqlType::Interval),
                col("t", SqlType::Time { timezone: false }),
                col("b", SqlType::LargeBinary { length: None }),
                col(
                    "dd",
                    SqlType::Float {
                        precision: None,
                        double: true,
                    },
                ),
                txt,
            ],
            Vec::new(),
        ),
    );
    assert_eq!(
        sql,
        ["CREATE TABLE c2 (\n\tid BIGINT NOT NULL, \n\ta SMALLSERIAL NOT NULL, \n\tf FLOAT DEFAULT '1.5', \n\tn NUMERIC(10, 2), \n\ti INTERVAL, \n\tt TIME WITHOUT TIME ZONE, \n\tb BYTEA, \n\tdd DOUBLE PRECISION, \n\ttxt TEXT DEFAULT 'it''s', \n\tPRIMARY KEY (a, id)\n)"]
    );
}

#[test]
fn identity_and_stored_computed_columns() {
    let mut model = SchemaModel::default();
    let mut id = pk("id", SqlType::Integer);
    id.server_default = Some(ServerDefault::Sql("1".into()));
    let mut ts = col("ts", SqlType::DateTime { timezone: true });
    ts.server_default = Some(ServerDefault::Sql("now()".into()));
    let mut x = col("x", SqlType::Integer);
    x.nullable = false;
    x.identity = Some(Identity {
        always: false,
        start: None,
        increment: None,
    });
    let mut y = col("y", SqlType::Integer);
    y.nullable = false;
    y.computed = Some(Computed {
        sqltext: "x+1".into(),
        persisted: Some(true),
    });
    let mut z = pk("z", SqlType::BigInteger);
    z.identity = Some(Identity {
        always: true,
        start: Some(5),
        increment: Some(2),
    });
    let sql = create(&mut model, table("v", vec![id, ts, x, y], Vec::new()));
    assert_eq!(
        sql,
        ["CREATE TABLE v (\n\tid INTEGER DEFAULT 1 NOT NULL, \n\tts TIMESTAMP WITH TIME ZONE DEFAULT now(), \n\tx INTEGER GENERATED BY DEFAULT AS IDENTITY, \n\ty INTEGER GENERATED ALWAYS AS (x+1) STORED NOT NULL, \n\tPRIMARY KEY (id)\n)"]
    );
    let sql = create(&mut model, table("c", vec![z], Vec::new()));
    assert_eq!(
        sql,
        ["CREATE TABLE c (\n\tz BIGINT GENERATED ALWAYS AS IDENTITY (INCREMENT BY 2 START WITH 5), \n\tPRIMARY KEY (z)\n)"]
    );
}

#[test]
fn create_table_names_keys_as_postgresql_and_folds_a_unique_repeating_the_primary_key() {
    let mut model = SchemaModel::default();
    create(
        &mut model,
        table("o", vec![pk("id", SqlType::Integer)], Vec::new()),
    );
    let mut name = col("name", varchar(256));
    name.nullable = false;
    name.unique = true;
    // registered_models in MLflow: a named primary key and `unique=True` on the same column.
    create(
        &mut model,
        table(
            "registered_models",
            vec![name],
            vec![Constraint::PrimaryKey {
                name: Some("registered_model_pk".into()),
                columns: vec!["name".into()],
            }],
        ),
    );
    assert_eq!(names(&model, "registered_models"), ["registered_model_pk"]);

    let mut b = pk("b", SqlType::Integer);
    b.foreign_keys.push(fk(&[], "o", &["id"]));
    let mut n = pk("name", varchar(20));
    n.unique = true;
    let mut q = col("q", SqlType::Integer);
    q.foreign_keys.push(fk(&[], "o", &["id"]));
    q.unique = true;
    q.index = true;
    let sql = create(
        &mut model,
        table(
            "u",
            vec![pk("id", SqlType::Integer), b, n, q],
            vec![
                Constraint::PrimaryKey {
                    name: None,
                    columns: vec!["id".into(), "b".into()],
                },
                Constraint::Check {
                    name: None,
                    sqltext: "q > 0 and b > 0".into(),
                },
                Constraint::Unique {
                    name: Some("uqq".into()),
                    columns: vec!["q".into(), "b".into()],
                },
            ],
        ),
    );
    assert_eq!(sql[1], "CREATE UNIQUE INDEX ix_u_q ON u (q)");
    let mut got = names(&model, "u");
    got.sort();
    assert_eq!(
        got,
        [
            "u_b_fkey",
            "u_check",
            "u_name_key",
            "u_pkey",
            "u_q_fkey",
            "uqq"
        ]
    );
}
