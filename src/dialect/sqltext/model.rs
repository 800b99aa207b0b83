//! What an `op.execute("...")` text does to the schema, as operations on the `SchemaModel`:
//! the compiler runs the text as it is and follows it with these, so the next revision sees
//! the schema the text left. DDL whose effect is certain is read: a table created (its columns
//! with their types as the text spells them, its constraints), renamed or dropped, an index
//! created, renamed or dropped, a constraint dropped. Changes made `IF EXISTS` are marked: the model
//! applies them when it has the object. Other statements leave the model as it was (temporary
//! tables, triggers, `PRAGMA`).

use sqlparser::ast::{
    AlterIndexOperation, AlterTableOperation, ColumnOption, CreateTable, Expr, ObjectType,
    RenameTableNameKind, Statement as Parsed,
};

use super::{last_ident, parse, table_constraints, Family};
use crate::ir::{Column, Index, IndexPart, Op, ServerDefault, SqlType, Table};

/// A schema change read from SQL text.
#[derive(Debug, Clone, PartialEq)]
pub struct TextChange {
    pub change: Change,
    /// Made `IF EXISTS` (`IF NOT EXISTS`): applied only when the model has the object (has
    /// none of that name).
    pub if_exists: bool,
}

/// What the text changes: an operation, or what no Alembic operation does.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Op(Box<Op>),
    /// PostgreSQL's `ALTER INDEX a RENAME TO b` (also renaming the constraint whose index it is).
    RenameIndex {
        from: String,
        to: String,
    },
}

impl TextChange {
    /// Apply it to `model`.
    pub fn apply(
        &self,
        model: &mut crate::schema::SchemaModel,
    ) -> Result<(), crate::schema::SchemaError> {
        match &self.change {
            Change::Op(op) => model.apply(op),
            Change::RenameIndex { from, to } => model.rename_index(from, to),
        }
    }
}

fn certain(op: Op) -> TextChange {
    TextChange {
        change: Change::Op(Box::new(op)),
        if_exists: false,
    }
}

/// The schema operations `text` performs, in order; statements that change no schema
/// (`INSERT`, `UPDATE`, `DELETE`, `SELECT`) give none. Text the parser cannot read gives none
/// as well: it is sent as it is, as Alembic does, and only what we can read is followed.
pub fn model_ops(text: &str, family: Family) -> Vec<TextChange> {
    let mut ops = read_ops(text, family);
    if family == Family::Postgres {
        for change in &mut ops {
            cut_names(&mut change.change);
        }
    }
    ops
}

/// PostgreSQL's longest name in bytes: the server cuts a longer one in SQL text (with a notice).
const POSTGRES_NAME_BYTES: usize = 63;

/// A name as PostgreSQL keeps it.
fn cut(name: &mut String) {
    if name.len() > POSTGRES_NAME_BYTES {
        let mut end = POSTGRES_NAME_BYTES;
        while !name.is_char_boundary(end) {
            end -= 1;
        }
        name.truncate(end);
    }
}

/// The names a change read from PostgreSQL text makes or refers to, as the server keeps them.
fn cut_names(change: &mut Change) {
    let index = |i: &mut Index| {
        cut(&mut i.name);
        cut(&mut i.table);
        for part in &mut i.parts {
            if let IndexPart::Column(c) = part {
                cut(c);
            }
        }
    };
    match change {
        Change::RenameIndex { from, to } => {
            cut(from);
            cut(to);
        }
        Change::Op(op) => match op.as_mut() {
            Op::CreateTable { table } => {
                cut(&mut table.name);
                for c in &mut table.columns {
                    cut(&mut c.name);
                }
                for c in &mut table.constraints {
                    if let Some(mut name) = c.name().map(str::to_string) {
                        cut(&mut name);
                        c.set_name(Some(name));
                    }
                }
                table.indexes.iter_mut().for_each(index);
            }
            Op::CreateIndex { index: i } => index(i),
            Op::DropTable { table } => cut(table),
            Op::RenameTable { table, new_name } => {
                cut(table);
                cut(new_name);
            }
            Op::DropIndex { table, name } => {
                cut(name);
                if let Some(t) = table {
                    cut(t);
                }
            }
            Op::DropConstraint { table, name, .. } => {
                cut(table);
                cut(name);
            }
            _ => {}
        },
    }
}

fn read_ops(text: &str, family: Family) -> Vec<TextChange> {
    let Some(statements) = parse(family, text) else {
        return Vec::new();
    };
    let mut ops = Vec::new();
    for statement in &statements {
        match statement {
            Parsed::AlterTable(alter) => ops.extend(alter_table(alter)),
            Parsed::CreateTable(ct) if !ct.temporary && !ct.if_not_exists => {
                ops.push(certain(Op::CreateTable {
                    table: table_of(ct, family),
                }));
            }
            Parsed::Drop {
                object_type: ObjectType::Table,
                names,
                temporary: false,
                ..
            } => {
                // Applied only when the model has the table, `IF EXISTS` or not: one it does
                // not have is a temporary table made by earlier text (not followed).
                for name in names {
                    ops.push(TextChange {
                        change: Change::Op(Box::new(Op::DropTable {
                            table: last_ident(name),
                        })),
                        if_exists: true,
                    });
                }
            }
            Parsed::CreateIndex(ci) => ops.extend(create_index(ci, family)),
            Parsed::AlterIndex {
                name,
                operation: AlterIndexOperation::RenameIndex { index_name },
            } => ops.push(TextChange {
                change: Change::RenameIndex {
                    from: last_ident(name),
                    to: last_ident(index_name),
                },
                if_exists: false,
            }),
            Parsed::Drop {
                object_type: ObjectType::Index,
                names,
                table,
                if_exists,
                ..
            } => {
                for name in names {
                    ops.push(TextChange {
                        change: Change::Op(Box::new(Op::DropIndex {
                            table: table.as_ref().map(last_ident),
                            name: last_ident(name),
                        })),
                        if_exists: *if_exists,
                    });
                }
            }
            _ => {}
        }
    }
    ops
}

/// The renames and constraint drops of an `ALTER TABLE`.
fn alter_table(alter: &sqlparser::ast::AlterTable) -> Vec<TextChange> {
    let table = last_ident(&alter.name);
    let mut out = Vec::new();
    for operation in &alter.operations {
        match operation {
            AlterTableOperation::RenameTable { table_name } => {
                let (RenameTableNameKind::To(new) | RenameTableNameKind::As(new)) = table_name;
                out.push(certain(Op::RenameTable {
                    table: table.clone(),
                    new_name: last_ident(new),
                }));
            }
            AlterTableOperation::DropConstraint {
                if_exists, name, ..
            } => out.push(TextChange {
                change: Change::Op(Box::new(Op::DropConstraint {
                    table: table.clone(),
                    name: name.value.clone(),
                    kind: None,
                })),
                if_exists: *if_exists,
            }),
            _ => {}
        }
    }
    out
}

/// A named index a `CREATE INDEX` makes (its partial-index predicate kept as SQL).
fn create_index(ci: &sqlparser::ast::CreateIndex, family: Family) -> Option<TextChange> {
    let parts = ci
        .columns
        .iter()
        .map(|c| match &c.column.expr {
            Expr::Identifier(i) if c.operator_class.is_none() => IndexPart::Column(i.value.clone()),
            _ => IndexPart::Expression(c.to_string()),
        })
        .collect();
    let mut index = Index {
        name: last_ident(ci.name.as_ref()?),
        table: last_ident(&ci.table_name),
        parts,
        unique: ci.unique,
        dialect_options: Vec::new(),
    };
    if let Some(predicate) = &ci.predicate {
        let key = match family {
            Family::Sqlite => "sqlite_where",
            _ => "postgresql_where",
        };
        index.dialect_options.push((
            key.to_string(),
            crate::ir::DialectOption::Sql(predicate.to_string()),
        ));
    }
    Some(TextChange {
        change: Change::Op(Box::new(Op::CreateIndex { index })),
        if_exists: ci.if_not_exists,
    })
}

/// A table as a `CREATE TABLE` text defines it: each column's type as the text spells it.
fn table_of(ct: &CreateTable, family: Family) -> Table {
    let mut table = Table::new(&last_ident(&ct.name));
    for def in &ct.columns {
        let mut column = Column::new(
            &def.name.value,
            SqlType::Reflected(def.data_type.to_string()),
        );
        for option in &def.options {
            match &option.option {
                ColumnOption::NotNull => column.nullable = false,
                ColumnOption::PrimaryKey(_) => {
                    column.primary_key = true;
                    column.nullable = false;
                }
                ColumnOption::Default(e) => {
                    column.server_default = Some(ServerDefault::Sql(e.to_string()))
                }
                ColumnOption::Unique(_) => column.unique = true,
                _ => {}
            }
        }
        table.columns.push(column);
    }
    table.constraints = table_constraints(&Parsed::CreateTable(ct.clone()).to_string(), family);
    let keyed: Vec<String> = table
        .constraints
        .iter()
        .filter_map(|c| match c {
            crate::ir::Constraint::PrimaryKey { columns, .. } => Some(columns.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    for c in keyed {
        if let Some(col) = table.column_mut(&c) {
            col.nullable = false;
        }
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Prefect's 54c1876c68ae creates an index whose 77-character name PostgreSQL cuts to 63.
    #[test]
    fn postgresql_text_names_are_cut_as_the_server_cuts_them() {
        let long = "ix_flow_run__scheduler_deployment_id_auto_scheduled_next_scheduled_start_time";
        let text = format!("CREATE INDEX CONCURRENTLY {long} ON flow_run (deployment_id)");
        let pg = model_ops(&text, Family::Postgres);
        let Change::Op(op) = &pg[0].change else {
            panic!("{pg:?}")
        };
        let Op::CreateIndex { index } = op.as_ref() else {
            panic!("{op:?}")
        };
        assert_eq!(index.name, &long[..63]);
        let sqlite = model_ops(&text.replace(" CONCURRENTLY", ""), Family::Sqlite);
        assert!(matches!(&sqlite[0].change, Change::Op(op)
            if matches!(op.as_ref(), Op::CreateIndex { index } if index.name == long)));
    }

    /// Prefect's cdcb4018dd0e: a table renamed, then its primary key's index and an index of
    /// its own renamed by `ALTER INDEX` (the constraint takes the index's new name).
    #[test]
    fn postgresql_index_renames_rename_indexes_and_the_constraints_behind_them() {
        let mut model = crate::schema::SchemaModel::default();
        let create = "CREATE TABLE alert (id INTEGER, name VARCHAR, CONSTRAINT pk_alert PRIMARY KEY (id));\n\
                      CREATE INDEX ix_alert__name ON alert (name);";
        let rename = "ALTER TABLE alert RENAME TO policy;\n\
                      ALTER INDEX pk_alert RENAME TO pk_policy;\n\
                      ALTER INDEX ix_alert__name RENAME TO ix_policy__name;";
        for text in [create, rename] {
            for change in model_ops(text, Family::Postgres) {
                change.apply(&mut model).unwrap();
            }
        }
        let policy = model.table("policy").unwrap();
        assert_eq!(policy.indexes[0].name, "ix_policy__name");
        assert_eq!(
            policy.primary_key().and_then(|pk| pk.name()),
            Some("pk_policy")
        );
        let missing = model_ops("ALTER INDEX ix_gone RENAME TO ix_new", Family::Postgres);
        assert!(missing[0].apply(&mut model).is_err());
    }

    #[test]
    fn renames_and_indexes_are_followed_other_statements_are_not() {
        let ops = model_ops(
            "ALTER TABLE block_data RENAME TO block;\n\
             CREATE UNIQUE INDEX uq_x ON block (name, lower(slug)) WHERE name IS NOT NULL;\n\
             UPDATE block SET name = 'x';\n\
             DROP INDEX ix_old;\n\
             CREATE TEMPORARY TABLE guard (n INTEGER);\n\
             DROP TABLE guard;",
            Family::Sqlite,
        );
        let ops: Vec<Op> = ops
            .into_iter()
            .filter_map(|c| match c.change {
                Change::Op(op) => Some(*op),
                Change::RenameIndex { .. } => None,
            })
            .collect();
        assert!(changes_drop_guard_tolerantly());
        assert_eq!(ops.len(), 4, "{ops:?}");
        assert_eq!(
            ops[3],
            Op::DropTable {
                table: "guard".into()
            }
        );
        assert_eq!(
            ops[0],
            Op::RenameTable {
                table: "block_data".into(),
                new_name: "block".into()
            }
        );
        let Op::CreateIndex { index } = &ops[1] else {
            panic!("{ops:?}")
        };
        assert_eq!(index.name, "uq_x");
        assert_eq!(index.table, "block");
        assert!(index.unique);
        assert_eq!(index.parts[0], IndexPart::Column("name".into()));
        assert!(matches!(&index.parts[1], IndexPart::Expression(e) if e == "lower(slug)"));
        assert_eq!(
            ops[2],
            Op::DropIndex {
                table: None,
                name: "ix_old".into()
            }
        );
        // MySQL names the table of an index it drops.
        assert_eq!(
            model_ops("DROP INDEX ix_a ON t", Family::Mysql),
            vec![certain(Op::DropIndex {
                table: Some("t".into()),
                name: "ix_a".into()
            })]
        );
        assert!(model_ops("this is not SQL", Family::Postgres).is_empty());
    }

    /// `DROP TABLE` of a temporary table (made by text the model does not follow) must not
    /// fail the model: drops of tables are applied only when the model has the table.
    fn changes_drop_guard_tolerantly() -> bool {
        model_ops("DROP TABLE guard", Family::Sqlite)
            .iter()
            .all(|c| c.if_exists)
    }

    #[test]
    fn created_tables_keep_their_spelled_types_and_constraints_and_if_exists_is_marked() {
        let changes = model_ops(
            "CREATE TABLE connection_new (id INTEGER NOT NULL, conn_id VARCHAR(250) NOT NULL, \
             extra TEXT DEFAULT '{}', CONSTRAINT connection_pkey PRIMARY KEY (id), \
             CONSTRAINT connection_conn_id_uq UNIQUE (conn_id));\n\
             ALTER TABLE connection DROP CONSTRAINT IF EXISTS unique_conn_id;\n\
             DROP TABLE IF EXISTS old_connection",
            Family::Postgres,
        );
        assert_eq!(changes.len(), 3, "{changes:?}");
        let Change::Op(op) = &changes[0].change else {
            panic!("{changes:?}")
        };
        let Op::CreateTable { table } = op.as_ref() else {
            panic!("{changes:?}")
        };
        assert!(!changes[0].if_exists);
        assert_eq!(table.name, "connection_new");
        let conn_id = table.column("conn_id").unwrap();
        assert_eq!(conn_id.ty, SqlType::Reflected("VARCHAR(250)".into()));
        assert!(!conn_id.nullable);
        assert!(!table.column("id").unwrap().nullable);
        assert_eq!(
            table.column("extra").unwrap().server_default,
            Some(ServerDefault::Sql("'{}'".into()))
        );
        assert_eq!(table.constraints.len(), 2, "{:?}", table.constraints);
        assert_eq!(
            changes[1],
            TextChange {
                change: Change::Op(Box::new(Op::DropConstraint {
                    table: "connection".into(),
                    name: "unique_conn_id".into(),
                    kind: None
                })),
                if_exists: true
            }
        );
        assert!(changes[2].if_exists);
    }
}
