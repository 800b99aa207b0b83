//! Live introspection yields a `SchemaModel`: tables with columns and nullability, composite
//! primary and foreign keys in key order, named unique and CHECK constraints, indexes with
//! their columns, triggers; and `Object::state_in` answers from it as the resume judge asks. On
//! all three servers, from a schema each server's own client created.

mod support;

use alembic_engine::db::{Conn, DbUrl};
use alembic_engine::ir::Constraint;
use alembic_engine::schema::effect::{Object, State};
use support::db::{Dialect, TestDb};

const TABLES: &str = "
CREATE TABLE parent (id INTEGER NOT NULL, k VARCHAR(10) NOT NULL,
  CONSTRAINT parent_pk PRIMARY KEY (id, k));
CREATE TABLE child (id INTEGER NOT NULL PRIMARY KEY, pid INTEGER, pk VARCHAR(10), v INTEGER,
  CONSTRAINT child_fk FOREIGN KEY (pid, pk) REFERENCES parent (id, k),
  CONSTRAINT child_v_uq UNIQUE (v),
  CONSTRAINT child_v_ck CHECK (v > 0));
CREATE INDEX child_ix ON child (pk, v);
";

fn trigger(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => {
            "CREATE TRIGGER child_tr AFTER INSERT ON child BEGIN \
             UPDATE child SET v = v WHERE id = NEW.id; END;"
        }
        Dialect::Postgres => {
            "CREATE FUNCTION child_fn() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RETURN NEW; END $$;\n\
             CREATE TRIGGER child_tr BEFORE INSERT ON child FOR EACH ROW EXECUTE FUNCTION child_fn();"
        }
        Dialect::MariaDb => {
            "CREATE TRIGGER child_tr BEFORE INSERT ON child FOR EACH ROW SET NEW.v = NEW.v;"
        }
    }
}

fn introspects_the_schema_its_client_made(dialect: Dialect) {
    let db = TestDb::new(dialect);
    db.run_sql_script(&format!("{TABLES}\n{}\n", trigger(dialect)))
        .unwrap();
    let url = DbUrl::parse(&db.our_url()).unwrap();
    let (live, comparable) = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let mut conn = Conn::connect_existing(&url).await.unwrap();
        let live = conn.introspect().await.unwrap();
        let comparable = conn.checks_comparable();
        conn.close().await;
        (live, comparable)
    });

    let names: Vec<&str> = live.table_names().collect();
    assert_eq!(names, ["child", "parent"], "{dialect}");
    let parent = live.table("parent").unwrap();
    let child = live.table("child").unwrap();
    assert_eq!(parent.primary_key().unwrap().columns(), ["id", "k"]);
    assert_eq!(child.primary_key().unwrap().columns(), ["id"]);
    assert!(!parent.column("k").unwrap().nullable);
    assert!(child.column("pid").unwrap().nullable);
    assert!(child.column("id").unwrap().primary_key);

    let fk = child
        .constraints
        .iter()
        .find_map(|c| match c {
            Constraint::ForeignKey(fk) if fk.name.as_deref() == Some("child_fk") => Some(fk),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{dialect}: no child_fk in {:?}", child.constraints));
    assert_eq!(fk.columns, ["pid", "pk"]);
    assert_eq!(fk.ref_table, "parent");
    assert_eq!(fk.ref_columns, ["id", "k"]);
    assert!(child.constraints.iter().any(|c| matches!(c,
        Constraint::Unique { name: Some(n), columns } if n == "child_v_uq" && columns == &["v"])));
    assert!(child
        .constraints
        .iter()
        .any(|c| matches!(c, Constraint::Check { name: Some(n), .. } if n == "child_v_ck")));

    let ix = child.indexes.iter().find(|i| i.name == "child_ix").unwrap();
    assert_eq!(ix.column_names().collect::<Vec<_>>(), ["pk", "v"]);
    assert!(!ix.unique);
    assert!(live
        .triggers
        .iter()
        .any(|t| t.name == "child_tr" && t.table == "child"));

    let state = |o: Object| o.state_in(&live, comparable);
    let present = Some(State::Present);
    assert_eq!(
        state(Object::Constraint("child".into(), "child_fk".into())),
        present
    );
    assert_eq!(
        state(Object::Index(String::new(), "child_ix".into())),
        present
    );
    assert_eq!(
        state(Object::Index("child".into(), "nope".into())),
        Some(State::Absent)
    );
    assert_eq!(
        state(Object::PrimaryKey("parent".into())),
        Some(State::Columns(vec!["id".into(), "k".into()]))
    );
    assert_eq!(state(Object::Column("child".into(), "v".into())), present);
    assert_eq!(state(Object::Trigger("child_tr".into())), present);
    // The primary key is asked for by its columns, not as a named constraint.
    assert_eq!(
        state(Object::Constraint("parent".into(), "parent_pk".into())),
        Some(State::Absent)
    );
    let check = Object::Check("child".into(), "v>0".into());
    if dialect == Dialect::Postgres {
        assert_eq!(state(check), None, "PostgreSQL rewrites CHECK text");
    } else {
        assert_eq!(state(check), present);
    }
}

#[test]
fn sqlite_introspection_yields_the_schema_model() {
    introspects_the_schema_its_client_made(Dialect::Sqlite);
}

#[test]
fn postgres_introspection_yields_the_schema_model() {
    introspects_the_schema_its_client_made(Dialect::Postgres);
}

#[test]
fn mariadb_introspection_yields_the_schema_model() {
    introspects_the_schema_its_client_made(Dialect::MariaDb);
}
