//! One rebuild of a table for `ALTER TABLE` statements of several revisions: MLflow's path
//! alters `metrics` in 451aebb31d03 and 181f10493468 (each swapping the primary key) and in
//! 39d1c3be5f05 and c48cb773bb87 (each making `is_nan` NOT NULL with a CHECK), and every one of
//! those statements copies the table. A later statement joins an earlier one on the same table
//! when nothing between them names the table (statements in between keep their order and
//! place; the joined clauses move up to the first statement), and its clauses compose with the
//! earlier ones:
//!
//! - a later `DROP PRIMARY KEY` cancels the earlier `ADD … PRIMARY KEY` (the intermediate key is
//!   never built), and the later key is added instead;
//! - a later `MODIFY c` replaces an earlier `MODIFY c` that differs from it only in its
//!   `DEFAULT` (one clause per column is all MySQL takes, and the data converts the same);
//! - `ADD COLUMN`, `ADD CHECK`, unique and primary keys are added as they come.
//!
//! Only statements that rebuild or scan the table join (adding columns alone is done in place:
//! fusing revisions for it would save nothing).
//!
//! A statement that only reads the table (an `INSERT` into another table selecting from it:
//! MLflow's 89d4b8295536 fills `latest_metrics` from `metrics` between 181f10493468 and
//! 39d1c3be5f05) lets later statements join only with clauses that leave every row as the read
//! sees it: `CHECK`s (the rows read are the ones checked, earlier), and a `MODIFY c` giving `c`
//! the definition it already has in the merge (nothing to do). Merges are repeated until none
//! is left, so that two later statements merged together (39d1c3be5f05's and c48cb773bb87's)
//! can then join an earlier one.
//!
//! Anything else on the table (a foreign key, a rename, a dropped column, a write, an index)
//! ends the merge. Statements that join across revisions make those revisions one checkpoint
//! unit (the plan fuses them), so a crash leaves either none or all of them.

use crate::dialect::sqltext::Family;
use crate::plan::{Joined, Kind, Merge, MergeKind, Statement};
use crate::schema::effect::Reading;

/// The table and clauses of `ALTER TABLE <table> <clause>, <clause>…` when every clause is
/// one that composes.
fn alter(sql: &str) -> Option<(&str, Vec<&str>)> {
    let rest = sql.strip_prefix("ALTER TABLE ")?;
    let (table, clauses) = rest.split_once(' ')?;
    if clauses.contains(';') {
        return None;
    }
    let clauses = split_clauses(clauses)?;
    clauses
        .iter()
        .all(|c| composes(c))
        .then_some((table, clauses))
}

fn composes(clause: &str) -> bool {
    clause.starts_with("ADD COLUMN ")
        || clause.starts_with("MODIFY ")
        || clause == "DROP PRIMARY KEY"
        || clause.starts_with("ADD CHECK ")
        || clause.starts_with("ADD PRIMARY KEY ")
        || clause.starts_with("ADD UNIQUE ")
        || constraint_kind(clause).is_some_and(|k| {
            k.starts_with("PRIMARY KEY ") || k.starts_with("UNIQUE ") || k.starts_with("CHECK ")
        })
}

/// Whether a statement's clauses make the server rebuild or scan the table (anything but
/// adding columns, which MariaDB and MySQL 8 do in place): only those are worth fusing
/// revisions for.
fn rebuilds(clauses: &[&str]) -> bool {
    clauses.iter().any(|c| !c.starts_with("ADD COLUMN "))
}

/// What follows `ADD CONSTRAINT <name> `.
fn constraint_kind(clause: &str) -> Option<&str> {
    let named = clause.strip_prefix("ADD CONSTRAINT ")?;
    named.split_once(' ').map(|(_, kind)| kind)
}

fn adds_primary_key(clause: &str) -> bool {
    clause.starts_with("ADD PRIMARY KEY ")
        || constraint_kind(clause).is_some_and(|k| k.starts_with("PRIMARY KEY "))
}

/// The column a `MODIFY` or `ADD COLUMN` clause names.
fn column_of(clause: &str) -> Option<&str> {
    clause
        .strip_prefix("MODIFY ")
        .or_else(|| clause.strip_prefix("ADD COLUMN "))
        .and_then(|r| r.split(' ').next())
}

/// A `MODIFY` clause without its `DEFAULT …` (up to the next keyword or the end).
fn without_default(clause: &str) -> String {
    let words: Vec<&str> = clause.split(' ').collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        if words[i] == "DEFAULT" {
            i += 2;
            continue;
        }
        out.push(words[i]);
        i += 1;
    }
    out.join(" ")
}

/// Top-level `, `-separated clauses (none inside parentheses or quotes); `None` for text this
/// simple reading cannot split with certainty.
fn split_clauses(text: &str) -> Option<Vec<&str>> {
    let mut out = Vec::new();
    let (mut depth, mut quote, mut start) = (0i32, None::<char>, 0usize);
    let bytes: Vec<(usize, char)> = text.char_indices().collect();
    for (k, &(i, c)) in bytes.iter().enumerate() {
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '`' | '"') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => depth -= 1,
            (None, ',') if depth == 0 => {
                if bytes.get(k + 1).map(|b| b.1) != Some(' ') {
                    return None;
                }
                out.push(&text[start..i]);
                start = i + 2;
            }
            _ => {}
        }
    }
    (quote.is_none() && depth == 0).then(|| {
        out.push(&text[start..]);
        out
    })
}

/// The merge being built: the statement it started at and the clauses so far.
struct Open {
    at: (usize, usize),
    table: String,
    clauses: Vec<String>,
    effects: Vec<Reading>,
    statements: usize,
    absorbed: Vec<(usize, usize)>,
    last_op: usize,
    /// A statement since the first only read the table: later clauses must leave its rows as
    /// they were read.
    read: bool,
}

impl Open {
    /// The clauses of a later statement that still have work to do: a `MODIFY c` giving `c`
    /// the very definition the merge gives it (by `ADD COLUMN` or `MODIFY`) is left out.
    fn effective<'a>(&self, clauses: &[&'a str]) -> Vec<&'a str> {
        let definition = |clause: &str| {
            let column = column_of(clause)?;
            let rest = clause
                .strip_prefix("MODIFY ")
                .or_else(|| clause.strip_prefix("ADD COLUMN "))?;
            Some((column.to_string(), rest.to_string()))
        };
        clauses
            .iter()
            .copied()
            .filter(|c| {
                !(c.starts_with("MODIFY ")
                    && definition(c).is_some_and(|d| {
                        self.clauses
                            .iter()
                            .rev()
                            .find_map(|e| definition(e).filter(|(column, _)| *column == d.0))
                            == Some(d)
                    }))
            })
            .collect()
    }

    /// Whether `clauses` leave every row of the table as a read before them saw it.
    fn keeps_rows(clauses: &[&str]) -> bool {
        clauses.iter().all(|c| {
            c.starts_with("ADD CHECK ")
                || constraint_kind(c).is_some_and(|k| k.starts_with("CHECK "))
        })
    }

    /// Take a later statement's clauses, or say it cannot join (then nothing is changed).
    fn join(&mut self, clauses: &[&str]) -> bool {
        let mut next = self.clauses.clone();
        for &clause in clauses {
            if clause == "DROP PRIMARY KEY" {
                match next.iter().position(|c| adds_primary_key(c)) {
                    // The intermediate key is never built.
                    Some(k) => {
                        next.remove(k);
                        continue;
                    }
                    None if next.iter().any(|c| c == "DROP PRIMARY KEY") => return false,
                    None => {}
                }
            } else if adds_primary_key(clause) && next.iter().any(|c| adds_primary_key(c)) {
                return false;
            } else if let Some(column) = column_of(clause) {
                let earlier = next.iter().position(|c| column_of(c) == Some(column));
                if let Some(k) = earlier {
                    let replaceable = clause.starts_with("MODIFY ")
                        && next[k].starts_with("MODIFY ")
                        && without_default(&next[k]) == without_default(clause);
                    if !replaceable {
                        return false;
                    }
                    next[k] = clause.to_string();
                    continue;
                }
            }
            next.push(clause.to_string());
        }
        self.clauses = next;
        true
    }
}

/// Merge `ALTER TABLE` statements on one table across operations (`ops`: each operation's
/// statements, in order, over several revisions), as the module describes. The merged
/// statement takes the first one's place. Tables that `triggers` (triggers' SQL) name are left
/// alone: a statement on another table could write to them.
pub fn merge_across(ops: &mut [Vec<Statement>], triggers: &[&str]) -> Vec<Joined> {
    let mut joined = Vec::new();
    loop {
        let pass = merge_pass(ops, triggers);
        if pass.is_empty() {
            return joined;
        }
        joined.extend(pass);
    }
}

/// One pass of [`merge_across`]: each statement that rebuilds a table, with the later ones that
/// can join it.
fn merge_pass(ops: &mut [Vec<Statement>], triggers: &[&str]) -> Vec<Joined> {
    let mut done: Vec<Open> = Vec::new();
    let mut absorbed: Vec<(usize, usize)> = Vec::new();
    for o in 0..ops.len() {
        for s in 0..ops[o].len() {
            if absorbed.contains(&(o, s)) || ops[o][s].kind != Kind::Ddl {
                continue;
            }
            let Some((table, clauses)) = alter(&ops[o][s].sql) else {
                continue;
            };
            if !rebuilds(&clauses) || triggers.iter().any(|t| crate::plan::names_table(t, table)) {
                continue;
            }
            let mut open = Open {
                at: (o, s),
                table: table.to_string(),
                clauses: clauses.iter().map(|c| c.to_string()).collect(),
                effects: vec![ops[o][s].effect().clone()],
                statements: 1,
                absorbed: Vec::new(),
                last_op: o,
                read: false,
            };
            extend(ops, &mut open, &absorbed);
            if open.statements > 1 {
                absorbed.extend(open.absorbed.iter().copied());
                done.push(open);
            }
        }
    }
    apply(ops, done)
}

/// Join the later statements that can join `open`, up to the first that names its table and
/// cannot.
fn extend(ops: &[Vec<Statement>], open: &mut Open, absorbed: &[(usize, usize)]) {
    let (o0, s0) = open.at;
    for (o, statements) in ops.iter().enumerate().skip(o0) {
        for (s, statement) in statements.iter().enumerate() {
            if (o, s) <= (o0, s0) || absorbed.contains(&(o, s)) {
                continue;
            }
            if !crate::plan::names_table(&statement.sql, &open.table) {
                continue;
            }
            if statement.only_reads(&open.table, Family::Mysql) {
                open.read = true;
                continue;
            }
            let joins = statement.kind == Kind::Ddl
                && alter(&statement.sql).is_some_and(|(t, clauses)| {
                    let clauses = open.effective(&clauses);
                    t == open.table
                        && rebuilds(&clauses)
                        && (!open.read || Open::keeps_rows(&clauses))
                        && open.join(&clauses)
                });
            if !joins {
                return;
            }
            open.effects.push(statement.effect().clone());
            open.statements += 1;
            open.absorbed.push((o, s));
            open.last_op = o;
        }
    }
}

fn apply(ops: &mut [Vec<Statement>], done: Vec<Open>) -> Vec<Joined> {
    let mut out = Vec::new();
    let mut removed = Vec::new();
    for open in done {
        let (o, s) = open.at;
        ops[o][s] = Statement::with_effect(
            format!("ALTER TABLE {} {}", open.table, open.clauses.join(", ")),
            crate::dialect::Database::Mysql,
            super::merge::combined(open.effects),
        );
        removed.extend(open.absorbed);
        out.push(Joined {
            merge: Merge {
                table: open.table.trim_matches('`').to_string(),
                statements: open.statements,
                kind: MergeKind::AlterTable,
            },
            ops: o..=open.last_op,
        });
    }
    crate::plan::remove_statements(ops, removed);
    out
}

#[cfg(test)]
mod tests {
    use super::super::merge::tests::{ops, sql};
    use super::*;

    #[test]
    fn a_later_key_swap_cancels_the_earlier_key_and_statements_between_stay() {
        let mut ops = ops(&[
            &["ALTER TABLE metrics ADD COLUMN step BIGINT NOT NULL DEFAULT '0', DROP PRIMARY KEY, ADD CONSTRAINT metric_pk PRIMARY KEY (`key`, step)"],
            &["INSERT INTO tags (k) SELECT k FROM runs"],
            &["ALTER TABLE metrics MODIFY value FLOAT(53) NOT NULL, ADD COLUMN is_nan BOOL NOT NULL DEFAULT '0', DROP PRIMARY KEY, ADD CONSTRAINT metric_pk PRIMARY KEY (`key`, step, is_nan)"],
        ]);
        let joined = merge_across(&mut ops, &[]);
        assert_eq!(
            sql(&ops),
            vec![
                vec!["ALTER TABLE metrics ADD COLUMN step BIGINT NOT NULL DEFAULT '0', DROP PRIMARY KEY, MODIFY value FLOAT(53) NOT NULL, ADD COLUMN is_nan BOOL NOT NULL DEFAULT '0', ADD CONSTRAINT metric_pk PRIMARY KEY (`key`, step, is_nan)"],
                vec!["INSERT INTO tags (k) SELECT k FROM runs"],
                vec![],
            ]
        );
        assert_eq!(joined.len(), 1);
        assert_eq!(joined[0].ops, 0..=2);
        assert_eq!(joined[0].merge.statements, 2);
    }

    #[test]
    fn a_later_modify_replaces_one_that_differs_only_in_its_default() {
        let mut ops = ops(&[
            &[
                "ALTER TABLE metrics MODIFY is_nan BOOL NOT NULL, ADD CHECK (is_nan IN (0, 1))",
                "ALTER TABLE latest_metrics MODIFY is_nan BOOL NOT NULL",
            ],
            &["ALTER TABLE metrics MODIFY is_nan BOOL NOT NULL DEFAULT '0', ADD CHECK (is_nan IN (0, 1))"],
        ]);
        merge_across(&mut ops, &[]);
        assert_eq!(
            sql(&ops)[0],
            vec![
                "ALTER TABLE metrics MODIFY is_nan BOOL NOT NULL DEFAULT '0', ADD CHECK (is_nan IN (0, 1)), ADD CHECK (is_nan IN (0, 1))",
                "ALTER TABLE latest_metrics MODIFY is_nan BOOL NOT NULL",
            ]
        );
    }

    #[test]
    fn a_write_of_the_table_an_index_a_retype_or_a_trigger_keeps_statements_apart() {
        for between in [
            "INSERT INTO metrics (k) SELECT k FROM runs",
            "UPDATE latest_metrics SET k = (SELECT MAX(k) FROM metrics)",
            "CREATE INDEX ix ON metrics (k)",
        ] {
            let mut ops = ops(&[
                &["ALTER TABLE metrics MODIFY a INTEGER NOT NULL"],
                &[between],
                &["ALTER TABLE metrics ADD CHECK (b > 0)"],
            ]);
            assert!(merge_across(&mut ops, &[]).is_empty(), "{between}");
            assert_eq!(ops[2].len(), 1);
        }
        let mut retyped = ops(&[
            &["ALTER TABLE t MODIFY a INTEGER NOT NULL"],
            &["ALTER TABLE t MODIFY a BIGINT NOT NULL"],
        ]);
        assert!(merge_across(&mut retyped, &[]).is_empty());
        let mut triggered = ops(&[
            &["ALTER TABLE t ADD CHECK (a > 0)"],
            &["ALTER TABLE t ADD CHECK (b > 0)"],
        ]);
        let trigger = "CREATE TRIGGER tr AFTER INSERT ON u FOR EACH ROW INSERT INTO t VALUES (1)";
        assert!(merge_across(&mut triggered, &[trigger]).is_empty());
    }

    #[test]
    fn after_a_read_only_checks_and_definitions_already_given_join() {
        // MLflow's path: 181f10493468, 89d4b8295536's read, 39d1c3be5f05, c48cb773bb87.
        let mut path = ops(&[
            &["ALTER TABLE metrics MODIFY value FLOAT(53) NOT NULL, ADD COLUMN is_nan BOOL NOT NULL DEFAULT '0', DROP PRIMARY KEY, ADD CONSTRAINT metric_pk PRIMARY KEY (`key`, is_nan)"],
            &["INSERT INTO latest_metrics (`key`, is_nan) SELECT m.`key`, m.is_nan FROM metrics AS m"],
            &[
                "ALTER TABLE latest_metrics MODIFY is_nan BOOL NOT NULL, ADD CHECK (is_nan IN (0, 1))",
                "ALTER TABLE metrics MODIFY is_nan BOOL NOT NULL, ADD CHECK (is_nan IN (0, 1))",
            ],
            &["ALTER TABLE metrics MODIFY is_nan BOOL NOT NULL DEFAULT '0', ADD CHECK (is_nan IN (0, 1))"],
        ]);
        let joined = merge_across(&mut path, &[]);
        assert_eq!(
            sql(&path),
            vec![
                vec!["ALTER TABLE metrics MODIFY value FLOAT(53) NOT NULL, ADD COLUMN is_nan BOOL NOT NULL DEFAULT '0', DROP PRIMARY KEY, ADD CONSTRAINT metric_pk PRIMARY KEY (`key`, is_nan), ADD CHECK (is_nan IN (0, 1)), ADD CHECK (is_nan IN (0, 1))"],
                vec!["INSERT INTO latest_metrics (`key`, is_nan) SELECT m.`key`, m.is_nan FROM metrics AS m"],
                vec!["ALTER TABLE latest_metrics MODIFY is_nan BOOL NOT NULL, ADD CHECK (is_nan IN (0, 1))"],
                vec![],
            ]
        );
        let spans: Vec<_> = joined.iter().map(|j| j.ops.clone()).collect();
        assert_eq!(spans, [2..=3, 0..=2]);
        // After a read, a clause that changes rows (a retype, a default-less column) does not.
        for later in [
            "ALTER TABLE metrics MODIFY value FLOAT NOT NULL, ADD CHECK (value > 0)",
            "ALTER TABLE metrics ADD COLUMN b BOOL NOT NULL, ADD CHECK (b IN (0, 1))",
        ] {
            let mut ops = ops(&[
                &["ALTER TABLE metrics MODIFY value FLOAT(53) NOT NULL"],
                &["INSERT INTO latest_metrics (value) SELECT value FROM metrics"],
                &[later],
            ]);
            assert!(merge_across(&mut ops, &[]).is_empty(), "{later}");
        }
    }

    #[test]
    fn columns_added_in_place_are_not_worth_fusing_revisions_for() {
        let mut added = ops(&[
            &["ALTER TABLE t ADD COLUMN a INTEGER"],
            &["ALTER TABLE t MODIFY b INTEGER NOT NULL"],
            &["ALTER TABLE t ADD COLUMN c INTEGER"],
        ]);
        assert!(merge_across(&mut added, &[]).is_empty());
        let mut both = ops(&[
            &["ALTER TABLE t ADD COLUMN a INTEGER, ADD CHECK (a > 0)"],
            &["ALTER TABLE t MODIFY b INTEGER NOT NULL"],
        ]);
        assert_eq!(merge_across(&mut both, &[]).len(), 1);
    }
}
