//! What an `op.execute("...")` text does to the schema, as operations on the `SchemaModel`:
//! the compiler runs the text as it is and follows it with these, so the next revision sees
//! the schema the text left. Only DDL whose effect is certain is read: a table renamed, an
//! index created or dropped. Other statements leave the model as it was, as before (recipes
//! use temporary tables this way; triggers are read from the live database when it matters).

use sqlparser::ast::{
    AlterTableOperation, Expr, ObjectType, RenameTableNameKind, Statement as Parsed,
};

use super::{last_ident, parse, Family};
use crate::ir::{Index, IndexPart, Op};

/// The schema operations `text` performs, in order; statements that change no schema
/// (`INSERT`, `UPDATE`, `DELETE`, `SELECT`) give none. Text the parser cannot read gives none
/// as well: it is sent as it is, as Alembic does, and only what we can read is followed.
pub fn model_ops(text: &str, family: Family) -> Vec<Op> {
    let Some(statements) = parse(family, text) else {
        return Vec::new();
    };
    let mut ops = Vec::new();
    for statement in &statements {
        match statement {
            Parsed::AlterTable(alter) => {
                for operation in &alter.operations {
                    if let AlterTableOperation::RenameTable { table_name } = operation {
                        let (RenameTableNameKind::To(new) | RenameTableNameKind::As(new)) =
                            table_name;
                        ops.push(Op::RenameTable {
                            table: last_ident(&alter.name),
                            new_name: last_ident(new),
                        });
                    }
                }
            }
            Parsed::CreateIndex(ci) => {
                let Some(name) = &ci.name else {
                    continue;
                };
                let parts = ci
                    .columns
                    .iter()
                    .map(|c| match &c.column.expr {
                        Expr::Identifier(i) if c.operator_class.is_none() => {
                            IndexPart::Column(i.value.clone())
                        }
                        _ => IndexPart::Expression(c.to_string()),
                    })
                    .collect();
                let mut index = Index {
                    name: last_ident(name),
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
                ops.push(Op::CreateIndex { index });
            }
            Parsed::Drop {
                object_type: ObjectType::Index,
                names,
                table,
                ..
            } => {
                for name in names {
                    ops.push(Op::DropIndex {
                        table: table.as_ref().map(last_ident),
                        name: last_ident(name),
                    });
                }
            }
            _ => {}
        }
    }
    ops
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renames_and_indexes_are_followed_other_statements_are_not() {
        let ops = model_ops(
            "ALTER TABLE block_data RENAME TO block;\n\
             CREATE UNIQUE INDEX uq_x ON block (name, lower(slug)) WHERE name IS NOT NULL;\n\
             UPDATE block SET name = 'x';\n\
             DROP INDEX ix_old;\n\
             CREATE TEMPORARY TABLE guard (n INTEGER);",
            Family::Sqlite,
        );
        assert_eq!(ops.len(), 3, "{ops:?}");
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
            vec![Op::DropIndex {
                table: Some("t".into()),
                name: "ix_a".into()
            }]
        );
        assert!(model_ops("this is not SQL", Family::Postgres).is_empty());
    }
}
