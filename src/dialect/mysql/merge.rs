//! One `ALTER TABLE` instead of several: MySQL and MariaDB rebuild a table for most `ALTER
//! TABLE` statements (dropping or adding a primary key, changing a type, adding a CHECK), so
//! consecutive statements on one table, merged into one statement with several clauses,
//! rebuild it once. The server applies a statement's clauses together and atomically, which
//! also makes the merged statement one journal unit.
//!
//! Only clauses whose meaning does not depend on running apart are merged: adding columns,
//! changing a column that was there before the statement, dropping and adding the primary
//! key, unique keys, plain indexes by name and CHECKs. Foreign keys (MySQL refuses to drop
//! and add one of a name in one statement), renames and dropped columns end a group.

use crate::plan::{Kind, Merge, MergeKind, Statement};
use crate::schema::effect::Reading;

/// A clause a merged statement may hold, with the column it adds or changes.
enum Clause<'a> {
    AddColumn(&'a str),
    Modify(&'a str),
    Other,
}

/// The table and clause of `ALTER TABLE <table> <clause>`, when the clause may be merged.
fn mergeable(sql: &str) -> Option<(&str, &str, Clause<'_>)> {
    let rest = sql.strip_prefix("ALTER TABLE ")?;
    let (table, clause) = rest.split_once(' ')?;
    let first_word = |s: &'static str| clause.strip_prefix(s).and_then(|r| r.split(' ').next());
    let kind = if let Some(column) = first_word("ADD COLUMN ") {
        Clause::AddColumn(column)
    } else if let Some(column) = first_word("MODIFY ") {
        Clause::Modify(column)
    } else if clause == "DROP PRIMARY KEY"
        || clause.starts_with("DROP INDEX ")
        || clause.starts_with("ADD CHECK ")
        || clause.starts_with("ADD PRIMARY KEY ")
        || clause.starts_with("ADD UNIQUE ")
        || constraint_kind(clause).is_some_and(|k| {
            k.starts_with("PRIMARY KEY ") || k.starts_with("UNIQUE ") || k.starts_with("CHECK ")
        })
    {
        Clause::Other
    } else {
        return None;
    };
    (!clause.contains(';')).then_some((table, clause, kind))
}

/// What follows `ADD CONSTRAINT <name> `.
fn constraint_kind(clause: &str) -> Option<&str> {
    let named = clause.strip_prefix("ADD CONSTRAINT ")?;
    named.split_once(' ').map(|(_, kind)| kind)
}

/// A run of statements being merged.
struct Group {
    /// Where its first statement is: (operation, statement).
    at: (usize, usize),
    table: String,
    clauses: Vec<String>,
    effects: Vec<Reading>,
    /// The columns its clauses add or change: a second clause on one of them ends it.
    columns: Vec<String>,
    /// The later statements it absorbed: (operation, statement).
    absorbed: Vec<(usize, usize)>,
}

/// Merge consecutive `ALTER TABLE` statements on one table, across the operations of one
/// revision (`ops` holds each operation's statements, in order). The merged statement takes
/// the first one's place; the others are removed. Returns what was merged.
pub fn merge_alters(ops: &mut [Vec<Statement>]) -> Vec<Merge> {
    let mut groups: Vec<Group> = Vec::new();
    let mut open: Option<Group> = None;
    for (o, statements) in ops.iter().enumerate() {
        for (s, statement) in statements.iter().enumerate() {
            let parsed = (statement.kind == Kind::Ddl)
                .then(|| mergeable(&statement.sql))
                .flatten();
            let Some((table, clause, kind)) = parsed else {
                groups.extend(open.take());
                continue;
            };
            let column = match kind {
                Clause::AddColumn(c) | Clause::Modify(c) => Some(c),
                Clause::Other => None,
            };
            let joins = open.as_ref().is_some_and(|g| {
                g.table == table && column.is_none_or(|c| !g.columns.iter().any(|a| a == c))
            });
            if !joins {
                groups.extend(open.take());
                open = Some(Group {
                    at: (o, s),
                    table: table.to_string(),
                    clauses: Vec::new(),
                    effects: Vec::new(),
                    columns: Vec::new(),
                    absorbed: Vec::new(),
                });
            }
            let Some(group) = open.as_mut() else { continue };
            if joins {
                group.absorbed.push((o, s));
            }
            group.columns.extend(column.map(str::to_string));
            group.clauses.push(clause.to_string());
            group.effects.push(statement.effect().clone());
        }
    }
    groups.extend(open);
    apply(ops, groups)
}

/// Put each group of two or more statements into its first statement's place.
fn apply(ops: &mut [Vec<Statement>], groups: Vec<Group>) -> Vec<Merge> {
    let mut merges = Vec::new();
    let mut removed: Vec<(usize, usize)> = Vec::new();
    for group in groups.into_iter().filter(|g| g.clauses.len() > 1) {
        let (o, s) = group.at;
        ops[o][s] = Statement::with_effect(
            format!("ALTER TABLE {} {}", group.table, group.clauses.join(", ")),
            crate::dialect::Database::Mysql,
            combined(group.effects),
        );
        removed.extend(group.absorbed);
        merges.push(Merge {
            table: group.table.trim_matches('`').to_string(),
            statements: group.clauses.len(),
            kind: MergeKind::AlterTable,
        });
    }
    // Later positions first, so earlier ones stay valid.
    crate::plan::remove_statements(ops, removed);
    merges
}

/// The effect of statements run as one: their effects in order; harmless to repeat when
/// each is; unreadable when any is.
pub(super) fn combined(readings: Vec<Reading>) -> Reading {
    let mut effects = Vec::new();
    for r in readings {
        match r {
            Reading::Effects(e) => effects.extend(e),
            Reading::Idempotent => {}
            other => return other,
        }
    }
    if effects.is_empty() {
        Reading::Idempotent
    } else {
        Reading::Effects(effects)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::dialect::Database;

    pub(in crate::dialect::mysql) fn ops(groups: &[&[&str]]) -> Vec<Vec<Statement>> {
        crate::plan::testing::ops(Database::Mariadb, groups)
    }

    pub(in crate::dialect::mysql) use crate::plan::testing::sql;

    #[test]
    fn a_primary_key_swap_with_its_new_column_is_one_statement() {
        let mut ops = ops(&[
            &["ALTER TABLE metrics ADD COLUMN step BIGINT NOT NULL DEFAULT '0'"],
            &[
                "ALTER TABLE metrics DROP PRIMARY KEY",
                "ALTER TABLE metrics ADD CONSTRAINT metric_pk PRIMARY KEY (`key`, step)",
            ],
            &["CREATE INDEX ix ON runs (a)"],
        ]);
        let merges = merge_alters(&mut ops);
        assert_eq!(
            sql(&ops),
            vec![
                vec!["ALTER TABLE metrics ADD COLUMN step BIGINT NOT NULL DEFAULT '0', DROP PRIMARY KEY, ADD CONSTRAINT metric_pk PRIMARY KEY (`key`, step)"],
                vec![],
                vec!["CREATE INDEX ix ON runs (a)"],
            ]
        );
        assert_eq!(
            merges,
            vec![Merge {
                table: "metrics".into(),
                statements: 3,
                kind: MergeKind::AlterTable,
            }]
        );
        let Reading::Effects(effects) = ops[0][0].effect() else {
            panic!("{:?}", ops[0][0].effect())
        };
        assert!(effects.len() >= 2, "{effects:?}");
    }

    #[test]
    fn foreign_keys_other_tables_data_and_changes_to_new_columns_end_a_group() {
        let mut ops = ops(&[&[
            "ALTER TABLE a ADD COLUMN x INTEGER",
            "ALTER TABLE a MODIFY x BIGINT",
            "ALTER TABLE a DROP FOREIGN KEY fk",
            "ALTER TABLE a ADD COLUMN y INTEGER",
            "ALTER TABLE b ADD COLUMN y INTEGER",
            "UPDATE b SET y = 1",
            "ALTER TABLE b ADD COLUMN z INTEGER",
        ]]);
        assert!(merge_alters(&mut ops).is_empty());
        assert_eq!(ops[0].len(), 7);
    }

    #[test]
    fn checks_and_unique_keys_join_the_columns_they_name() {
        let mut ops = ops(&[&[
            "ALTER TABLE t DROP INDEX name",
            "ALTER TABLE t ADD COLUMN w VARCHAR(63) NOT NULL DEFAULT 'default'",
            "ALTER TABLE t ADD CONSTRAINT uq_t UNIQUE (w, name)",
            "ALTER TABLE t MODIFY c BOOL NOT NULL",
            "ALTER TABLE t ADD CHECK (c IN (0, 1))",
        ]]);
        let merges = merge_alters(&mut ops);
        assert_eq!(merges.len(), 1);
        assert_eq!(merges[0].statements, 5);
        assert_eq!(ops[0].len(), 1);
    }
}
