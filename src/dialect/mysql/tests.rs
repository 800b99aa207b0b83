//! Unit tests of the MySQL/MariaDB renderer, each a small script compiled as a revision. The
//! expected SQL is what Alembic 1.20 + SQLAlchemy 2.1 write offline for the same operations
//! (`MigrationContext.configure(dialect_name="mysql", opts={"as_sql": True})`); the names are
//! the ones MariaDB 10.11 gives.

use std::path::Path;

use super::Mysql;
use crate::compile::{Compiler, Facts};
use crate::graph::Direction;
use crate::ir::{ConstraintKind, Table};
use crate::schema::SchemaModel;
use crate::script::parse_revision;

const PARENT: &str = "\
    op.create_table('p', sa.Column('id', sa.Integer, primary_key=True),
                    sa.Column('a', sa.Integer), sa.Column('b', sa.Integer))
";

/// Compile `upgrade()`'s body for MySQL or MariaDB, starting from `model`. Lines of the body
/// that start without indentation (Rust's `\` line continuation eats it) get four spaces.
fn compile(
    body: &str,
    mariadb: bool,
    model: SchemaModel,
) -> Result<(Vec<String>, SchemaModel), String> {
    let body: String = body
        .lines()
        .map(|l| {
            if l.starts_with(' ') || l.is_empty() {
                format!("{l}\n")
            } else {
                format!("    {l}\n")
            }
        })
        .collect();
    let source = format!(
        "from alembic import op\nimport sqlalchemy as sa\n\
         from sqlalchemy.dialects.mysql import MEDIUMTEXT\n\n\
         revision = 'abc123'\ndown_revision = None\n\n\
         def upgrade():\n{body}\n\ndef downgrade():\n    pass\n"
    );
    let rev = parse_revision(Path::new("versions/abc123_test.py"), &source, String::new())
        .map_err(|e| e.to_string())?;
    let compiler = Compiler::new(
        std::sync::Arc::new(Mysql {
            mariadb,
            ..Default::default()
        }),
        Facts::default(),
    );
    let (step, model) = compiler
        .compile_step(&rev, Direction::Up, model)
        .map_err(|e| e.to_string())?;
    let sql = step.statements().map(|s| s.replace('\t', "    ")).collect();
    Ok((sql, model))
}

fn sql(body: &str) -> Vec<String> {
    compile(body, true, SchemaModel::default()).unwrap().0
}

/// The SQL of `body` after `setup` ran (its SQL left out), and the model after both.
fn after(setup: &str, body: &str, mariadb: bool) -> (Vec<String>, SchemaModel) {
    let (_, model) = compile(setup, mariadb, SchemaModel::default()).unwrap();
    compile(body, mariadb, model).unwrap()
}

fn error(body: &str) -> String {
    compile(body, true, SchemaModel::default()).unwrap_err()
}

fn table<'a>(model: &'a SchemaModel, name: &str) -> &'a Table {
    model.table(name).unwrap()
}

fn names(t: &Table, kind: ConstraintKind) -> Vec<String> {
    t.constraints
        .iter()
        .filter(|c| c.kind() == kind)
        .map(|c| c.name().unwrap_or("?").to_string())
        .collect()
}

fn index_names(t: &Table) -> Vec<String> {
    t.indexes.iter().map(|i| i.name.clone()).collect()
}

#[test]
fn create_table_spells_types_defaults_and_autoincrement_as_sqlalchemy() {
    let out = sql("\
    op.create_table('things',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('name', sa.String(50), nullable=False, server_default='x'),
        sa.Column('flag', sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column('ratio', sa.Float(precision=53)),
        sa.Column('at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP')),
        sa.Column('blob', sa.LargeBinary()),
        sa.Column('doc', sa.JSON()),
        sa.Column('kind', sa.Enum('a', \"b'c\", name='kind')),
        sa.Column('body', sa.Text().with_variant(MEDIUMTEXT, 'mysql')),
        sa.Column('n', sa.BigInteger(), server_default=sa.text('-1')),
        sa.Column('key', sa.String(10), comment='the key'),
        sa.Column('ok', sa.Boolean(create_constraint=True)),
        sa.Column('path', sa.String(20), server_default='C:\\\\tmp'),
        comment='things table')");
    assert_eq!(
        out,
        ["CREATE TABLE things (\n    \
            id INTEGER NOT NULL AUTO_INCREMENT, \n    \
            name VARCHAR(50) NOT NULL DEFAULT 'x', \n    \
            flag BOOL NOT NULL DEFAULT false, \n    \
            ratio FLOAT(53), \n    \
            at DATETIME DEFAULT CURRENT_TIMESTAMP, \n    \
            `blob` BLOB, \n    \
            doc JSON, \n    \
            kind ENUM('a','b''c'), \n    \
            `body` MEDIUMTEXT, \n    \
            n BIGINT DEFAULT (-1), \n    \
            `key` VARCHAR(10) COMMENT 'the key', \n    \
            ok BOOL, \n    \
            path VARCHAR(20) DEFAULT 'C:\\\\tmp', \n    \
            PRIMARY KEY (id), \n    \
            CHECK (ok IN (0, 1))\n\
         )COMMENT='things table'"]
    );
}

#[test]
fn autoincrement_follows_sqlalchemy_rules() {
    let out = sql("\
    op.create_table('t', sa.Column('a', sa.Integer, primary_key=True),
                    sa.Column('b', sa.Integer, primary_key=True, autoincrement=True))");
    assert_eq!(
        out,
        [
            "CREATE TABLE t (\n    a INTEGER NOT NULL, \n    b INTEGER NOT NULL AUTO_INCREMENT, \
          \n    PRIMARY KEY (b, a)\n)"
        ]
    );
    // An integer primary key that is also a foreign key is not AUTO_INCREMENT.
    let (out, _) = after(
        PARENT,
        "    op.create_table('t', sa.Column('a', sa.Integer, sa.ForeignKey('p.id'), primary_key=True))",
        true,
    );
    assert_eq!(
        out,
        [
            "CREATE TABLE t (\n    a INTEGER NOT NULL, \n    PRIMARY KEY (a), \
          \n    FOREIGN KEY(a) REFERENCES p (id)\n)"
        ]
    );
}

#[test]
fn a_string_without_length_is_an_error_naming_the_column() {
    let e = error("    op.create_table('t', sa.Column('id', sa.Integer, primary_key=True), sa.Column('name', sa.String()))");
    assert!(
        e.contains("t.name") && e.contains("VARCHAR requires a length"),
        "{e}"
    );
}

#[test]
fn alter_column_restates_the_column_from_existing_arguments() {
    let setup = "    op.create_table('t', sa.Column('id', sa.Integer, primary_key=True), sa.Column('c', sa.String(50), nullable=False, server_default='x'))";
    let (out, model) = after(
        setup,
        "    op.alter_column('t', 'c', type_=sa.String(100), existing_type=sa.String(50), existing_nullable=False, existing_server_default='x')",
        true,
    );
    assert_eq!(
        out,
        ["ALTER TABLE t MODIFY c VARCHAR(100) NOT NULL DEFAULT 'x'"]
    );
    let c = table(&model, "t").column("c").unwrap();
    assert!(!c.nullable && c.server_default.is_some());
    // Without existing_nullable / existing_server_default MySQL loses both, and so does the model.
    let (out, model) = after(
        setup,
        "    op.alter_column('t', 'c', type_=sa.String(100), existing_type=sa.String(50))",
        true,
    );
    assert_eq!(out, ["ALTER TABLE t MODIFY c VARCHAR(100) NULL"]);
    let c = table(&model, "t").column("c").unwrap();
    assert!(c.nullable && c.server_default.is_none());
}

#[test]
fn alter_column_renames_with_change_and_defaults_with_alter_column() {
    let setup = "    op.create_table('t', sa.Column('id', sa.Integer, primary_key=True), sa.Column('c', sa.Integer), sa.Column('d', sa.DateTime()))";
    let cases = [
        (
            "op.alter_column('t', 'c', new_column_name='e', existing_type=sa.Integer)",
            "ALTER TABLE t CHANGE c e INTEGER NULL",
        ),
        (
            "op.alter_column('t', 'c', server_default='5', existing_type=sa.Integer)",
            "ALTER TABLE t ALTER COLUMN c SET DEFAULT '5'",
        ),
        (
            "op.alter_column('t', 'c', server_default=None, existing_type=sa.Integer)",
            "ALTER TABLE t ALTER COLUMN c DROP DEFAULT",
        ),
        (
            "op.alter_column('t', 'd', nullable=False, existing_type=sa.DateTime())",
            "ALTER TABLE t CHANGE d d DATETIME NOT NULL",
        ),
        (
            "op.alter_column('t', 'c', comment='hi', existing_type=sa.Integer, existing_nullable=True)",
            "ALTER TABLE t MODIFY c INTEGER NULL COMMENT 'hi'",
        ),
    ];
    for (call, expected) in cases {
        let (out, _) = after(setup, &format!("    {call}"), true);
        assert_eq!(out, [expected], "{call}");
    }
}

#[test]
fn alter_column_to_a_boolean_with_a_check_adds_the_check() {
    let (out, model) = after(
        "    op.create_table('t', sa.Column('id', sa.Integer, primary_key=True), sa.Column('c', sa.Boolean()))",
        "    op.alter_column('t', 'c', type_=sa.Boolean(create_constraint=True), nullable=False, server_default='0')",
        true,
    );
    assert_eq!(
        out,
        [
            "ALTER TABLE t MODIFY c BOOL NOT NULL DEFAULT '0'",
            "ALTER TABLE t ADD CHECK (c IN (0, 1))"
        ]
    );
    assert_eq!(
        names(table(&model, "t"), ConstraintKind::Check),
        ["CONSTRAINT_1"]
    );
}

#[test]
fn alter_column_without_a_type_is_an_error_not_invalid_sql() {
    let (_, model) = compile(
        "    op.create_table('t', sa.Column('id', sa.Integer, primary_key=True), sa.Column('c', sa.Integer))",
        true,
        SchemaModel::default(),
    )
    .unwrap();
    let e = compile("    op.alter_column('t', 'c', nullable=False)", true, model).unwrap_err();
    assert!(
        e.contains("abc123") && e.contains("'t', 'c'") && e.contains("existing_type"),
        "{e}"
    );
}

#[test]
fn constraint_drops_name_their_kind_and_checks_differ_between_servers() {
    let setup = "\
    op.create_table('p', sa.Column('id', sa.Integer, primary_key=True))
    op.create_table('t', sa.Column('id', sa.Integer), sa.Column('a', sa.Integer),
        sa.PrimaryKeyConstraint('id', name='pk_x'),
        sa.ForeignKeyConstraint(['a'], ['p.id'], name='fk_x'),
        sa.UniqueConstraint('id', 'a', name='uq_x'),
        sa.CheckConstraint('a > 0', name='ck_x'))
";
    let drop = |what: &str, mariadb: bool| after(setup, &format!("    {what}"), mariadb).0;
    assert_eq!(
        drop("op.drop_constraint('fk_x', 't', type_='foreignkey')", true),
        ["ALTER TABLE t DROP FOREIGN KEY fk_x"]
    );
    assert_eq!(
        drop("op.drop_constraint('uq_x', 't', type_='unique')", true),
        ["ALTER TABLE t DROP INDEX uq_x"]
    );
    assert_eq!(
        drop("op.drop_constraint('ck_x', 't', type_='check')", true),
        ["ALTER TABLE t DROP CONSTRAINT ck_x"]
    );
    assert_eq!(
        drop("op.drop_constraint('ck_x', 't', type_='check')", false),
        ["ALTER TABLE t DROP CHECK ck_x"]
    );
    // The primary key goes by any name; the foreign key's own index (fk_x) still serves `a`.
    assert_eq!(
        drop("op.drop_constraint('pk_x', 't', type_='primary')", true),
        ["ALTER TABLE t DROP PRIMARY KEY"]
    );
    let (_, model) = compile(setup, true, SchemaModel::default()).unwrap();
    let e = compile("    op.drop_constraint('ck_x', 't')", true, model).unwrap_err();
    assert!(e.contains("type_"), "{e}");
}

#[test]
fn indexes_take_prefix_lengths_and_drop_on_their_table() {
    let setup = "    op.create_table('t', sa.Column('id', sa.Integer, primary_key=True), sa.Column('a', sa.String(500)), sa.Column('b', sa.String(500)))";
    assert_eq!(
        after(
            setup,
            "    op.create_index('ix_a', 't', ['a', 'b'], mysql_length=10)",
            true
        )
        .0,
        ["CREATE INDEX ix_a ON t (a(10), b(10))"]
    );
    assert_eq!(
        after(
            setup,
            "    op.create_index('ix_a', 't', ['a', 'b'], unique=True, mysql_length={'b': 64})\n    op.drop_index('ix_a', table_name='t')",
            true
        )
        .0,
        ["CREATE UNIQUE INDEX ix_a ON t (a, b(64))", "DROP INDEX ix_a ON t"]
    );
}

#[test]
fn add_column_adds_its_constraints_and_index_one_by_one() {
    let (out, model) = after(
        &format!("{PARENT}    op.create_table('t', sa.Column('id', sa.Integer, primary_key=True))"),
        "\
    op.add_column('t', sa.Column('p', sa.Integer, sa.ForeignKey('p.id'), unique=True, index=True))
    op.add_column('t', sa.Column('b', sa.Boolean(create_constraint=True, name='ck_b'), nullable=False, server_default=sa.true()))",
        true,
    );
    assert_eq!(
        out,
        [
            "ALTER TABLE t ADD COLUMN p INTEGER",
            "ALTER TABLE t ADD FOREIGN KEY(p) REFERENCES p (id)",
            "CREATE UNIQUE INDEX ix_t_p ON t (p)",
            "ALTER TABLE t ADD COLUMN b BOOL NOT NULL DEFAULT true",
            "ALTER TABLE t ADD CONSTRAINT ck_b CHECK (b IN (0, 1))",
        ]
    );
    let t = table(&model, "t");
    assert_eq!(names(t, ConstraintKind::ForeignKey), ["t_ibfk_1"]);
    // The unique index replaced the index MariaDB made for the foreign key.
    assert_eq!(index_names(t), ["ix_t_p"]);
    assert_eq!(names(t, ConstraintKind::Unique), ["ix_t_p"]);
}

#[test]
fn unnamed_constraints_get_the_names_mariadb_gives() {
    let (out, model) = after(
        PARENT,
        "\
    op.create_table('c', sa.Column('id', sa.Integer, primary_key=True), sa.Column('pid', sa.Integer),
        sa.Column('x', sa.Integer), sa.Column('y', sa.Integer),
        sa.ForeignKeyConstraint(['pid'], ['p.id']),
        sa.ForeignKeyConstraint(['x', 'y'], ['p.a', 'p.b']),
        sa.ForeignKeyConstraint(['y'], ['p.id'], name='fk_named'),
        sa.CheckConstraint('x > 0'), sa.CheckConstraint('y > 0'),
        sa.UniqueConstraint('x'), sa.UniqueConstraint('x', 'y'))
    op.create_foreign_key(None, 'c', 'p', ['x'], ['id'])
    op.create_check_constraint(None, 'c', 'x < 100')
    op.create_unique_constraint(None, 'c', ['x'])",
        true,
    );
    assert_eq!(out.len(), 4);
    let c = table(&model, "c");
    assert_eq!(names(c, ConstraintKind::PrimaryKey), ["PRIMARY"]);
    assert_eq!(
        names(c, ConstraintKind::ForeignKey),
        ["c_ibfk_1", "c_ibfk_2", "fk_named", "c_ibfk_3"]
    );
    assert_eq!(
        names(c, ConstraintKind::Check),
        ["CONSTRAINT_1", "CONSTRAINT_2", "CONSTRAINT_3"]
    );
    assert_eq!(names(c, ConstraintKind::Unique), ["x", "x_2", "x_3"]);
    // pid and fk_named are the indexes MariaDB made; x is served by the unique key x_2.
    let mut idx = index_names(c);
    idx.sort();
    assert_eq!(idx, ["fk_named", "pid", "x", "x_2", "x_3"]);
}

#[test]
fn numbering_reuses_what_mariadb_reuses() {
    let (_, model) = after(
        PARENT,
        "\
    op.create_table('c', sa.Column('id', sa.Integer, primary_key=True), sa.Column('a', sa.Integer),
        sa.Column('b', sa.Integer), sa.Column('d', sa.Integer),
        sa.ForeignKeyConstraint(['a'], ['p.id']), sa.ForeignKeyConstraint(['b'], ['p.id']),
        sa.CheckConstraint('a > 0'), sa.CheckConstraint('b > 0'), sa.CheckConstraint('d > 0'))
    op.drop_constraint('c_ibfk_1', 'c', type_='foreignkey')
    op.drop_constraint('CONSTRAINT_2', 'c', type_='check')
    op.create_foreign_key(None, 'c', 'p', ['d'], ['id'])
    op.create_check_constraint(None, 'c', 'd < 10')
    op.create_check_constraint(None, 'c', 'd < 11')",
        true,
    );
    let c = table(&model, "c");
    // Foreign keys: one past the highest; CHECKs: the lowest free number.
    assert_eq!(
        names(c, ConstraintKind::ForeignKey),
        ["c_ibfk_2", "c_ibfk_3"]
    );
    assert_eq!(
        names(c, ConstraintKind::Check),
        [
            "CONSTRAINT_1",
            "CONSTRAINT_3",
            "CONSTRAINT_2",
            "CONSTRAINT_4"
        ]
    );
}

#[test]
fn a_covering_key_replaces_the_index_made_for_a_foreign_key_even_after_the_key_is_gone() {
    let (_, model) = after(
        PARENT,
        "\
    op.create_table('c', sa.Column('id', sa.Integer, primary_key=True), sa.Column('a', sa.Integer),
        sa.Column('d', sa.Integer),
        sa.ForeignKeyConstraint(['a'], ['p.id']), sa.ForeignKeyConstraint(['d'], ['p.id']))
    op.drop_constraint('c_ibfk_1', 'c', type_='foreignkey')
    op.create_index('ix_a', 'c', ['a', 'd'])
    op.create_unique_constraint(None, 'c', ['d', 'a'])",
        true,
    );
    let c = table(&model, "c");
    assert_eq!(index_names(c), ["ix_a", "d"]);
    assert_eq!(names(c, ConstraintKind::Unique), ["d"]);
}

#[test]
fn dropping_a_key_a_foreign_key_needs_is_refused() {
    let (_, model) = compile(
        &format!(
            "{PARENT}    op.create_table('c', sa.Column('id', sa.Integer, primary_key=True), sa.Column('a', sa.Integer), sa.ForeignKeyConstraint(['a'], ['p.id']))"
        ),
        true,
        SchemaModel::default(),
    )
    .unwrap();
    let e = compile("    op.drop_index('a', table_name='c')", true, model).unwrap_err();
    assert!(e.contains("c_ibfk_1") && e.contains("needs it"), "{e}");
}

#[test]
fn drop_column_shrinks_indexes_and_drops_its_checks() {
    let (out, model) = after(
        "\
    op.create_table('c', sa.Column('id', sa.Integer, primary_key=True), sa.Column('a', sa.Integer),
        sa.Column('b', sa.Integer), sa.CheckConstraint('b > 0'), sa.CheckConstraint('a > 0'))
    op.create_index('ix_ab', 'c', ['a', 'b'])
    op.create_index('ix_b', 'c', ['b'])",
        "    op.drop_column('c', 'b')",
        true,
    );
    assert_eq!(out, ["ALTER TABLE c DROP COLUMN b"]);
    let c = table(&model, "c");
    assert_eq!(index_names(c), ["ix_ab"]);
    assert_eq!(c.indexes[0].column_names().collect::<Vec<_>>(), ["a"]);
    assert_eq!(names(c, ConstraintKind::Check), ["CONSTRAINT_2"]);
}

#[test]
fn renaming_a_table_renames_its_generated_foreign_key_names() {
    let (out, model) = after(
        PARENT,
        "\
    op.create_table('c', sa.Column('id', sa.Integer, primary_key=True), sa.Column('a', sa.Integer),
        sa.ForeignKeyConstraint(['a'], ['p.id']))
    op.rename_table('c', 'd')",
        true,
    );
    assert_eq!(out[1], "ALTER TABLE c RENAME TO d");
    assert_eq!(
        names(table(&model, "d"), ConstraintKind::ForeignKey),
        ["d_ibfk_1"]
    );
}

#[test]
fn foreign_key_names_are_unique_per_database() {
    let e = error(&format!(
        "{PARENT}    op.create_table('a', sa.Column('id', sa.Integer, primary_key=True), sa.Column('u', sa.Integer), sa.ForeignKeyConstraint(['u'], ['p.id'], name='fk_u'))
    op.create_table('b', sa.Column('id', sa.Integer, primary_key=True), sa.Column('u', sa.Integer), sa.ForeignKeyConstraint(['u'], ['p.id'], name='fk_u'))"
    ));
    assert!(e.contains("'fk_u'") && e.contains("table 'a'"), "{e}");
}

#[test]
fn data_statements_use_mysql_literals() {
    let out = sql("\
    op.create_table('t', sa.Column('a', sa.Integer), sa.Column('b', sa.String(10)), sa.Column('c', sa.Boolean), sa.Column('d', sa.Float))
    t = sa.table('t', sa.column('a', sa.Integer), sa.column('b', sa.String), sa.column('c', sa.Boolean), sa.column('d', sa.Float))
    op.bulk_insert(t, [{'a': 1, 'b': \"x'\\\\y\", 'c': True, 'd': 1.5}, {'a': 2, 'b': None, 'c': False, 'd': 2.0}])
    op.execute(t.update().where(t.c.a.in_([1, 2])).values(c=True, b=\"x\\\\y's\"))
    op.execute('UPDATE t SET a = 1 WHERE b = \"q\"')");
    assert_eq!(
        &out[1..],
        [
            "INSERT INTO t (a, b, c, d) VALUES (1, 'x''\\\\y', true, 1.5)",
            "INSERT INTO t (a, b, c, d) VALUES (2, NULL, false, 2.0)",
            "UPDATE t SET c=true, b='x\\\\y''s' WHERE t.a IN (1, 2)",
            "UPDATE t SET a = 1 WHERE b = \"q\"",
        ]
    );
}

#[test]
fn batch_blocks_run_as_plain_alters() {
    let (out, _) = after(
        "    op.create_table('t', sa.Column('id', sa.Integer, primary_key=True), sa.Column('v', sa.String(250)))",
        "\
    with op.batch_alter_table('t') as batch_op:
        batch_op.alter_column('v', existing_type=sa.String(250), type_=sa.String(5000), existing_nullable=True, existing_server_default=None)
        batch_op.add_column(sa.Column('w', sa.Integer, nullable=False, server_default='0'))
        batch_op.create_index('ix_w', ['w'])",
        true,
    );
    assert_eq!(
        out,
        [
            "ALTER TABLE t MODIFY v VARCHAR(5000) NULL",
            "ALTER TABLE t ADD COLUMN w INTEGER NOT NULL DEFAULT '0'",
            "CREATE INDEX ix_w ON t (w)",
        ]
    );
    let e = compile(
        "    with op.batch_alter_table('t', recreate='always') as batch_op:\n        batch_op.drop_column('v')",
        true,
        compile("    op.create_table('t', sa.Column('id', sa.Integer, primary_key=True), sa.Column('v', sa.Integer))", true, SchemaModel::default()).unwrap().1,
    )
    .unwrap_err();
    assert!(e.contains("recreate"), "{e}");
}

#[test]
fn scripts_see_mysql_on_both_servers() {
    use crate::dialect::Dialect;
    assert_eq!(
        Mysql {
            mariadb: true,
            ..Default::default()
        }
        .name(),
        "mysql"
    );
    assert_eq!(
        Mysql {
            mariadb: false,
            ..Default::default()
        }
        .name(),
        "mysql"
    );
    assert!(!Mysql {
        mariadb: true,
        ..Default::default()
    }
    .transactional_ddl());
}

#[test]
fn keywords_are_sorted_for_binary_search() {
    let kw = super::keywords::KEYWORDS;
    assert!(kw.windows(2).all(|w| w[0] < w[1]));
    for word in ["key", "schema", "system", "rank", "window", "body"] {
        assert!(kw.binary_search(&word).is_ok(), "{word}");
    }
}
