//! An index or key built and dropped later in the same run is not built (live runs; offline
//! scripts stay as Alembic writes them). MLflow's 451aebb31d03 swaps `metrics`' primary key
//! for one with `step`, and 181f10493468 swaps it again for one that adds `is_nan`: from a
//! database older than 451aebb31d03, the key in between is built over every metric and dropped
//! two revisions later.
//!
//! A build (`ALTER TABLE t ADD CONSTRAINT n PRIMARY KEY|UNIQUE (…)`, `CREATE [UNIQUE] INDEX n
//! ON t …`) and its drop (`ALTER TABLE t DROP CONSTRAINT n`, `DROP INDEX n`) both go when in
//! between nothing could see the index:
//!
//! - statements naming the table only add columns or alter them (a type, a default, `SET NOT
//!   NULL`): no read (it may be planned on the index), no write (a key checks what is written),
//!   no other DDL on the table (a foreign key may need the key);
//! - nothing else names the index or constraint;
//! - no row of another table is updated or deleted (a cascade could write the table), and the
//!   schema has no triggers (a trigger's function, not in its SQL, could write the table);
//! - a primary key makes its columns NOT NULL: the key that replaces it, added right after
//!   the drop, must cover every one of them.
//!
//! Skipping the intermediate key also skips its check of the rows: rows that the final key
//! takes but the intermediate one would have refused (duplicates on fewer columns) no longer
//! stop the run, as MySQL's merged key swap does not build that key either. The revisions from
//! the build to the drop run as one checkpoint unit (one transaction), as the plan fuses them.

use crate::plan::{names_table, Joined, Kind, Merge, MergeKind, Statement};

/// What a statement builds: the table, the index or constraint's name, whether it is dropped
/// by `DROP CONSTRAINT` (or `DROP INDEX`), and a primary key's columns.
#[derive(Debug, PartialEq)]
struct Build<'a> {
    table: &'a str,
    name: &'a str,
    constraint: bool,
    key: Option<Vec<&'a str>>,
}

/// The columns of `(a, b, …)` at the start of `text`.
fn columns(text: &str) -> Option<Vec<&str>> {
    let inner = text.strip_prefix('(')?.split(')').next()?;
    Some(inner.split(", ").collect())
}

fn build(sql: &str) -> Option<Build<'_>> {
    if let Some(rest) = sql.strip_prefix("ALTER TABLE ") {
        let (table, rest) = rest.split_once(" ADD CONSTRAINT ")?;
        let (name, rest) = rest.split_once(' ')?;
        let key = match rest.strip_prefix("PRIMARY KEY ") {
            Some(cols) => Some(columns(cols)?),
            None => {
                rest.strip_prefix("UNIQUE ")?;
                None
            }
        };
        return Some(Build {
            table,
            name,
            constraint: true,
            key,
        });
    }
    let rest = sql
        .strip_prefix("CREATE INDEX ")
        .or_else(|| sql.strip_prefix("CREATE UNIQUE INDEX "))?;
    let (name, rest) = rest.split_once(" ON ")?;
    let table = rest.split(' ').next()?;
    (name != "CONCURRENTLY" && !name.contains(' ')).then_some(Build {
        table,
        name,
        constraint: false,
        key: None,
    })
}

fn drops(sql: &str, b: &Build) -> bool {
    if b.constraint {
        sql == format!("ALTER TABLE {} DROP CONSTRAINT {}", b.table, b.name)
    } else {
        sql == format!("DROP INDEX {}", b.name)
    }
}

/// Whether a statement naming the table leaves any index on it unseen.
fn leaves_indexes_alone(sql: &str, table: &str) -> bool {
    let column_change = [" ADD COLUMN ", " ALTER COLUMN "]
        .iter()
        .any(|k| sql.starts_with(&format!("ALTER TABLE {table}{k}")));
    column_change && !sql.contains(" DROP NOT NULL") && !sql.contains(", ")
}

/// Whether a statement could write rows of another table through a cascade.
fn could_cascade(st: &Statement) -> bool {
    st.kind == Kind::Dml && !st.sql.trim_start().starts_with("INSERT ")
}

/// Where the build at `at` is dropped with nothing seeing it in between, as the module says.
fn dropped_unseen(ops: &[Vec<Statement>], at: (usize, usize), b: &Build) -> Option<(usize, usize)> {
    let mut dropped = None;
    for (o, statements) in ops.iter().enumerate().skip(at.0) {
        for (s, st) in statements.iter().enumerate() {
            if (o, s) <= at {
                continue;
            }
            let sql = st.sql.as_str();
            let Some(d) = dropped else {
                if drops(sql, b) {
                    if b.key.is_none() {
                        return Some((o, s));
                    }
                    dropped = Some((o, s));
                } else if names_table(sql, b.name)
                    || could_cascade(st)
                    || (names_table(sql, b.table) && !leaves_indexes_alone(sql, b.table))
                {
                    return None;
                }
                continue;
            };
            // A primary key: the next statement on the table adds one covering its columns.
            if !names_table(sql, b.table) {
                continue;
            }
            let covered = build(sql).is_some_and(|next| {
                next.table == b.table
                    && next
                        .key
                        .as_ref()
                        .is_some_and(|cols| b.key.iter().flatten().all(|c| cols.contains(c)))
            });
            return covered.then_some(d);
        }
    }
    None
}

/// Leave out every build dropped unseen later in `ops` (each operation's statements, in
/// order, over several revisions), with its drop; nothing when the schema has triggers.
pub(super) fn leave_out(ops: &mut [Vec<Statement>], triggers: &[&str]) -> Vec<Joined> {
    // A trigger's function can write any table, and its body is not in the trigger's SQL.
    if !triggers.is_empty() {
        return Vec::new();
    }
    let mut found = Vec::new();
    for (o, statements) in ops.iter().enumerate() {
        for (s, st) in statements.iter().enumerate() {
            let Some(b) = build(&st.sql).filter(|_| st.kind == Kind::Ddl) else {
                continue;
            };
            if let Some(d) = dropped_unseen(ops, (o, s), &b) {
                found.push(((o, s), d, b.table.trim_matches('"').to_string()));
            }
        }
    }
    // A drop is paired with the last build of its name before it.
    found.dedup_by(|later, earlier| later.1 == earlier.1);
    let mut removed: Vec<(usize, usize)> = Vec::new();
    let mut out = Vec::new();
    for (built, dropped, table) in found {
        removed.extend([built, dropped]);
        out.push(Joined {
            merge: Merge {
                table,
                statements: 2,
                kind: MergeKind::BuiltThenDropped,
            },
            ops: built.0..=dropped.0,
        });
    }
    crate::plan::remove_statements(ops, removed);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::Database;

    use crate::plan::testing::{sql, untouched};

    fn ops(ops: &[&[&str]]) -> Vec<Vec<Statement>> {
        crate::plan::testing::ops(Database::Postgresql, ops)
    }

    /// MLflow's path from before 451aebb31d03.
    const PATH: [&[&str]; 3] = [
        &[
            "ALTER TABLE metrics ADD COLUMN step BIGINT DEFAULT '0' NOT NULL",
            "ALTER TABLE metrics DROP CONSTRAINT metric_pk",
            "ALTER TABLE metrics ADD CONSTRAINT metric_pk PRIMARY KEY (key, timestamp, step, run_uuid, value)",
        ],
        &["INSERT INTO tags (key, value, run_uuid) SELECT 'mlflow.user', runs.user_id, runs.run_uuid FROM runs"],
        &[
            "ALTER TABLE metrics ALTER COLUMN value TYPE FLOAT(53)",
            "ALTER TABLE metrics ADD COLUMN is_nan BOOLEAN DEFAULT '0' NOT NULL",
            "ALTER TABLE metrics DROP CONSTRAINT metric_pk",
            "ALTER TABLE metrics ADD CONSTRAINT metric_pk PRIMARY KEY (key, timestamp, step, run_uuid, value, is_nan)",
        ],
    ];

    #[test]
    fn a_key_swapped_again_later_is_never_built() {
        let mut path = ops(&PATH);
        let joined = leave_out(&mut path, &[]);
        assert_eq!(joined.len(), 1);
        assert_eq!(joined[0].ops, 0..=2);
        assert_eq!(joined[0].merge.kind, MergeKind::BuiltThenDropped);
        assert_eq!(
            sql(&path),
            vec![
                vec![PATH[0][0], PATH[0][1]],
                vec![PATH[1][0]],
                vec![PATH[2][0], PATH[2][1], PATH[2][3]],
            ]
        );
        // An index built and dropped, with other tables' work between.
        let mut index = ops(&[
            &["CREATE INDEX ix_jobs ON jobs (name)"],
            &[
                "CREATE TABLE other (a INTEGER)",
                "ALTER TABLE jobs ADD COLUMN b INTEGER",
            ],
            &["DROP INDEX ix_jobs"],
        ]);
        assert_eq!(leave_out(&mut index, &[]).len(), 1);
        assert_eq!(sql(&index)[0].len() + sql(&index)[2].len(), 0);
    }

    #[test]
    fn reads_writes_other_ddl_cascades_triggers_and_uncovered_columns_keep_the_build() {
        let kept = |ops: &mut Vec<Vec<Statement>>, triggers: &[&str], what: &str| {
            untouched(ops, |ops| leave_out(ops, triggers), what)
        };
        for between in [
            "INSERT INTO latest_metrics (key) SELECT key FROM metrics",
            "INSERT INTO metrics (key) VALUES ('a')",
            "UPDATE runs SET status = 'FAILED'",
            "CREATE TABLE child (k VARCHAR(250), FOREIGN KEY(k) REFERENCES metrics (key))",
            "ALTER TABLE metrics ALTER COLUMN value DROP NOT NULL",
            "ALTER INDEX metric_pk RENAME TO metric_pk_old",
        ] {
            let mut path = ops(&PATH);
            path[1] = ops(&[&[between]]).remove(0);
            kept(&mut path, &[], between);
        }
        let mut path = ops(&PATH);
        kept(
            &mut path,
            &["CREATE TRIGGER tr AFTER INSERT ON runs FOR EACH ROW EXECUTE FUNCTION f()"],
            "a trigger on another table",
        );
        let mut path = ops(&PATH);
        kept(
            &mut path,
            &["CREATE TRIGGER tr BEFORE UPDATE ON metrics FOR EACH ROW EXECUTE FUNCTION f()"],
            "a trigger on the table",
        );
        // The later key leaves out a column the intermediate one made NOT NULL.
        let mut narrower = ops(&PATH);
        narrower[2][3] = Statement::read(
            "ALTER TABLE metrics ADD CONSTRAINT metric_pk PRIMARY KEY (key, timestamp, run_uuid)"
                .into(),
            Database::Postgresql,
        );
        kept(&mut narrower, &[], "an uncovered column");
    }
}
