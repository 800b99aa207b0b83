//! The one currency between the compiler and the database: a statement's SQL with what kind of
//! work it is and what it does to the schema, settled when the statement is made. Plans,
//! offline scripts, the journal, resume and drift consume these; nothing downstream reads SQL
//! text again.

use crate::dialect::sqltext::{read_statement, Family};
use crate::dialect::Database;
use crate::schema::effect::{Effect, Reading};

/// What kind of work a statement is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// It changes the schema (on MySQL and MariaDB it commits on its own).
    Ddl,
    /// It changes rows of the application's tables: on MySQL and MariaDB it runs in a
    /// transaction with its checkpoint, and its row count is reported.
    Dml,
    /// It creates the version table or changes its rows.
    Version,
}

/// One SQL statement of a plan.
#[derive(Debug, Clone)]
pub struct Statement {
    pub sql: String,
    pub kind: Kind,
    /// What it does to the schema objects a live database can be asked about: read from the
    /// text on first ask ([`Statement::effect`]; a direct install never asks for most of the
    /// statements its compile renders), or given.
    effect: std::sync::OnceLock<Reading>,
    family: Family,
    /// It runs outside the revision's transaction, committed on its own (Alembic's
    /// `autocommit_block()`: `CREATE INDEX CONCURRENTLY`, batched backfills): what ran before it
    /// in the revision is committed first.
    pub autocommit: bool,
    /// `Some(n)`: it runs again while a run changes at least `n` rows: a script's loop of one
    /// batched statement (`while True: if conn.execute(s).rowcount < n: break`; `<= 0` is
    /// `n = 1`).
    pub repeat: Option<u64>,
}

impl PartialEq for Statement {
    fn eq(&self, other: &Statement) -> bool {
        self.sql == other.sql
            && self.kind == other.kind
            && self.autocommit == other.autocommit
            && self.repeat == other.repeat
            && self.effect() == other.effect()
    }
}

impl Eq for Statement {}

impl Statement {
    /// A statement an operation rendered for `database`: its kind read from the text here,
    /// its effect when first asked for.
    pub fn read(sql: String, database: Database) -> Statement {
        let family = Family::of(database);
        let kind = if crate::dialect::sqltext::changes_rows(&sql, family) {
            Kind::Dml
        } else {
            Kind::Ddl
        };
        Statement {
            sql,
            kind,
            effect: std::sync::OnceLock::new(),
            family,
            autocommit: false,
            repeat: None,
        }
    }

    /// A statement on the version table.
    pub fn version(sql: String, database: Database) -> Statement {
        Statement {
            kind: Kind::Version,
            ..Statement::read(sql, database)
        }
    }

    /// A DDL statement whose effect is given (statements an optimiser merged: the effects of
    /// those it merged).
    pub fn with_effect(sql: String, database: Database, effect: Reading) -> Statement {
        Statement {
            kind: Kind::Ddl,
            effect: std::sync::OnceLock::from(effect),
            ..Statement::read(sql, database)
        }
    }

    /// What the statement does to the schema objects a live database can be asked about,
    /// read from its text once.
    pub fn effect(&self) -> &Reading {
        self.effect
            .get_or_init(|| read_statement(&self.sql, self.family))
    }

    pub fn is_dml(&self) -> bool {
        self.kind == Kind::Dml
    }

    /// Whether it changes rows only, data or version rows (not the version table's DDL): on
    /// MySQL/MariaDB it runs in one transaction with its checkpoint, so a crash leaves both or
    /// neither.
    pub fn changes_rows_only(&self) -> bool {
        match self.kind {
            Kind::Dml => true,
            Kind::Version => {
                let head = self.sql.trim_start().to_ascii_uppercase();
                ["INSERT", "UPDATE", "DELETE"]
                    .iter()
                    .any(|k| head.starts_with(k))
            }
            _ => false,
        }
    }

    /// Running it again is harmless (`IF NOT EXISTS` forms, `ALTER … MODIFY`).
    pub fn is_idempotent(&self) -> bool {
        *self.effect() == Reading::Idempotent
    }

    /// The tables it creates, drops, renames or alters (temporary tables left out).
    pub fn tables(&self) -> Vec<String> {
        let Reading::Effects(effects) = self.effect() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for e in effects {
            match e {
                Effect::Set(o, _) => out.extend(o.table().map(str::to_string)),
                Effect::DropTable(t) | Effect::Fill { table: t, .. } => out.push(t.clone()),
                Effect::RenameTable { from, to } => out.extend([from.clone(), to.clone()]),
                Effect::Temporary(_) => {}
            }
        }
        out
    }

    /// Whether it creates an index and nothing else.
    pub fn creates_index(&self) -> bool {
        matches!(self.effect(), Reading::Effects(e) if !e.is_empty() && e.iter().all(|e| matches!(
            e,
            Effect::Set(crate::schema::effect::Object::Index(..), crate::schema::effect::State::Present)
        )))
    }

    /// The statement on one line, at most 160 characters: for messages.
    /// Whether the statement only reads `table`: rows inserted into another table from a
    /// query (triggers aside: an optimiser leaves alone the tables a trigger names).
    pub fn only_reads(&self, table: &str, family: Family) -> bool {
        let table = table.trim_matches(|c| c == '`' || c == '"');
        self.kind == Kind::Dml
            && crate::dialect::sqltext::without_statement_settings(&self.sql, family)
                .starts_with("INSERT INTO ")
            && matches!(self.effect(), Reading::Effects(effects)
                if !effects.is_empty() && effects.iter().all(|e| matches!(e,
                    Effect::Fill { table: t, .. } if t != table)))
    }

    pub fn one_line(&self) -> String {
        one_line(&self.sql)
    }

    /// The first words of the statement, up to the name it acts on (`ALTER TABLE runs`): for
    /// progress lines.
    pub fn summary(&self) -> String {
        let words: Vec<&str> = self.sql.split_whitespace().collect();
        let keep = words
            .iter()
            .position(|w| !LEADING_WORDS.contains(&w.to_ascii_uppercase().as_str()))
            .map_or(words.len(), |i| i + 1);
        let text = words[..keep.min(words.len())].join(" ");
        text.split('(')
            .next()
            .unwrap_or("")
            .trim()
            .chars()
            .take(80)
            .collect()
    }
}

/// Words a statement starts with before the name it acts on.
const LEADING_WORDS: &[&str] = &[
    "CREATE",
    "ALTER",
    "DROP",
    "INSERT",
    "INTO",
    "UPDATE",
    "DELETE",
    "FROM",
    "TABLE",
    "UNIQUE",
    "INDEX",
    "TRIGGER",
    "TEMPORARY",
    "RENAME",
    "FUNCTION",
    "OR",
    "REPLACE",
    "TYPE",
    "SEQUENCE",
];

/// SQL on one line, at most 160 characters.
pub fn one_line(sql: &str) -> String {
    let one = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    one.chars().take(160).collect()
}

/// Whether `sql` names `table` as an identifier (bare or quoted, not as part of a longer
/// name such as `latest_metrics`).
pub fn names_table(sql: &str, table: &str) -> bool {
    let bare = table.trim_matches(|c| c == '`' || c == '"');
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$';
    sql.match_indices(bare).any(|(i, _)| {
        let before = sql[..i].chars().next_back();
        let after = sql[i + bare.len()..].chars().next();
        !before.is_some_and(word) && !after.is_some_and(word)
    })
}

/// Statements an optimisation made one: `statements` consecutive statements on `table`
/// (`ALTER TABLE`s made one, whole rebuilds made one copy of the table, or an index's build
/// and drop made nothing).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Merge {
    pub table: String,
    pub statements: usize,
    pub kind: MergeKind,
}

/// What a merge made one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MergeKind {
    /// `ALTER TABLE` statements, as one with all their clauses (MySQL, MariaDB).
    AlterTable,
    /// Move-and-copy rebuilds of a table, as one copy into the last one's shape (SQLite).
    Rebuild,
    /// An index or key built and dropped later in the run: neither statement runs
    /// (PostgreSQL).
    BuiltThenDropped,
}

/// Statements merged across operations of several revisions: the merge, and the range of
/// operations (indexes into those given to the optimiser) it drew from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Joined {
    pub merge: Merge,
    pub ops: std::ops::RangeInclusive<usize>,
}

/// A plan's unit of work: one revision's statements, ending with its version-table change
/// (the first also carries the initial tables and the version table's creation).
#[derive(Debug, Clone)]
pub struct Unit {
    pub revision: String,
    pub statements: Vec<Statement>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::effect::{Object, State};

    #[test]
    fn kinds_and_effects_are_settled_when_a_statement_is_made() {
        let insert = Statement::read(
            "INSERT INTO runs (id) SELECT id FROM x".into(),
            Database::Sqlite,
        );
        assert_eq!(insert.kind, Kind::Dml);
        let index = Statement::read(
            "CREATE INDEX ix_runs_a ON runs (a)".into(),
            Database::Postgresql,
        );
        assert_eq!(index.kind, Kind::Ddl);
        assert!(index.creates_index());
        assert_eq!(index.tables(), vec!["runs".to_string()]);
        let table = Statement::read("CREATE TABLE t (id INTEGER)".into(), Database::Mysql);
        assert!(!table.creates_index());
        assert!(matches!(table.effect(), Reading::Effects(e)
            if e.contains(&Effect::Set(Object::Table("t".into()), State::Present))));
        assert_eq!(table.summary(), "CREATE TABLE t");
    }

    #[test]
    fn names_are_whole_identifiers() {
        assert!(names_table("SELECT * FROM `metrics`", "metrics"));
        assert!(names_table("UPDATE metrics SET a = 1", "metrics"));
        assert!(names_table("DROP TABLE \"order\"", "\"order\""));
        assert!(!names_table(
            "ALTER TABLE latest_metrics ADD x INT",
            "metrics"
        ));
        assert!(!names_table("ALTER TABLE metrics_2 ADD x INT", "metrics"));
    }
}
