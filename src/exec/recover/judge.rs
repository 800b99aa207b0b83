//! How far a revision got, told from the live schema: each statement is read for what it
//! creates, drops and renames; the schema that "statements 1..=j ran" predicts is simulated
//! for every j; the live catalog says which predictions hold.
//!
//! Two callers: a MySQL/MariaDB run that died between a DDL statement and its checkpoint (did
//! statement k land?), and a database Python Alembic left half-migrated (how many statements
//! of the next revision ran before it stopped, its version row still behind).
//!
//! The prediction for "nothing ran" is what each touched object was before its first touch
//! (a created table was absent, a dropped one present), except objects first touched after
//! their table was dropped or renamed in the same revision (SQLite's batch rebuild drops a
//! table with its indexes and creates them again): of those nothing is known beforehand.
//! `INSERT`s are judged only into tables the revision itself created (by whether they hold
//! rows); other data statements, and text the parser cannot read, cannot be judged, and a
//! choice that depends on them is refused, never guessed.

use std::collections::{BTreeMap, BTreeSet};

use crate::db::{Conn, DbError};
use crate::plan::Statement;
use crate::schema::effect::{Effect, Object, Reading, State};

/// The outcome: statements 1..=`applied` ran, the rest did not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Applied(usize),
    /// The schema does not tell: why, in a sentence.
    Unclear(String),
}

type Expect = BTreeMap<Object, State>;

struct Simulation {
    /// The prediction after statements 1..=j, for j = 0..=n.
    states: Vec<Expect>,
    /// Per statement: whether the schema shows that it ran.
    trace: Vec<Trace>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trace {
    Visible,
    /// Not visible, but running it again is harmless.
    Idempotent,
    /// Not visible, and why.
    Hidden(&'static str),
}

fn retable(o: &Object, to: &str) -> Object {
    match o {
        Object::Table(_) => Object::Table(to.into()),
        Object::Column(_, c) => Object::Column(to.into(), c.clone()),
        Object::Index(_, i) => Object::Index(to.into(), i.clone()),
        Object::Constraint(_, c) => Object::Constraint(to.into(), c.clone()),
        Object::PrimaryKey(_) => Object::PrimaryKey(to.into()),
        Object::Check(_, c) => Object::Check(to.into(), c.clone()),
        Object::Rows(_) => Object::Rows(to.into()),
        Object::Trigger(t) => Object::Trigger(t.clone()),
    }
}

fn inverse(s: &State) -> State {
    match s {
        State::Absent => State::Present,
        State::Present | State::Columns(_) | State::RowsOf(_) => State::Absent,
    }
}

/// Find the key an index is known by (statements that drop an index may not name its table).
fn index_key(map: &Expect, o: &Object) -> Object {
    if let Object::Index(t, name) = o {
        if t.is_empty() {
            if let Some(k) = map
                .keys()
                .find(|k| matches!(k, Object::Index(_, n) if n == name))
            {
                return k.clone();
            }
        }
    }
    o.clone()
}

/// The state before any statement ran: the inverse of each object's first touch, unless its
/// table was dropped or renamed earlier in the revision.
fn state_before(readings: &[Reading]) -> Expect {
    let mut before = Expect::new();
    let mut touched: BTreeSet<Object> = BTreeSet::new();
    let mut unsettled: BTreeSet<String> = BTreeSet::new();
    let mut temporary: BTreeSet<String> = BTreeSet::new();
    for r in readings {
        let Reading::Effects(effects) = r else {
            continue;
        };
        for e in effects {
            if let Effect::Temporary(t) = e {
                temporary.insert(t.clone());
                continue;
            }
            if on_temporary(e, &temporary) {
                continue;
            }
            match e {
                Effect::Temporary(_) | Effect::Fill { .. } => {}
                Effect::Set(o, s) => {
                    if matches!(o, Object::Rows(_)) {
                        continue;
                    }
                    // Indexes are told apart by table and name (MySQL's names are per
                    // table), except that an index named without its table (PostgreSQL's and
                    // SQLite's DROP INDEX) is the one of that name touched before or after.
                    let key = match o {
                        Object::Index(t, n) if t.is_empty() => touched
                            .iter()
                            .find(|k| matches!(k, Object::Index(_, m) if m == n))
                            .cloned()
                            .unwrap_or_else(|| o.clone()),
                        Object::Index(_, n)
                            if touched.contains(&Object::Index(String::new(), n.clone())) =>
                        {
                            Object::Index(String::new(), n.clone())
                        }
                        other => other.clone(),
                    };
                    if touched.insert(key) {
                        let table_known = o.table().is_none_or(|t| !unsettled.contains(t));
                        if table_known {
                            before.insert(o.clone(), inverse(s));
                        }
                    }
                }
                Effect::DropTable(t) => {
                    if touched.insert(Object::Table(t.clone())) && !unsettled.contains(t) {
                        before.insert(Object::Table(t.clone()), State::Present);
                    }
                    unsettled.insert(t.clone());
                }
                Effect::RenameTable { from, to } => {
                    for (t, s) in [(from, State::Present), (to, State::Absent)] {
                        if touched.insert(Object::Table(t.clone())) && !unsettled.contains(t) {
                            before.insert(Object::Table(t.clone()), s);
                        }
                    }
                    unsettled.insert(from.clone());
                    unsettled.insert(to.clone());
                }
            }
        }
    }
    before
}

fn simulate(readings: &[Reading]) -> Simulation {
    let mut states = vec![state_before(readings)];
    let mut trace = Vec::new();
    let mut created: BTreeSet<String> = BTreeSet::new();
    let mut temporary: BTreeSet<String> = BTreeSet::new();
    for r in readings {
        let mut next = states.last().cloned().unwrap_or_default();
        let trace_of = match r {
            Reading::Effects(effects) => advance(&mut next, effects, &mut created, &mut temporary),
            Reading::Idempotent => Trace::Idempotent,
            Reading::Data => Trace::Hidden("it changes rows"),
            Reading::Unknown => Trace::Hidden("its effect cannot be read"),
        };
        trace.push(trace_of);
        states.push(next);
    }
    Simulation { states, trace }
}

/// Advance the prediction `next` past one statement's effects; returns whether the schema
/// shows that it ran.
fn advance(
    next: &mut Expect,
    effects: &[Effect],
    created: &mut BTreeSet<String>,
    temporary: &mut BTreeSet<String>,
) -> Trace {
    let mut trace_of = if effects.iter().all(|e| on_temporary(e, temporary)) {
        Trace::Idempotent
    } else {
        Trace::Visible
    };
    for e in effects {
        if let Effect::Temporary(t) = e {
            temporary.insert(t.clone());
            continue;
        }
        if on_temporary(e, temporary) {
            continue;
        }
        match e {
            Effect::Temporary(_) => {}
            Effect::Fill { table, copy_of } => match copy_of {
                // A whole copy of a table into one made here: as many rows as it holds.
                Some(source) if created.contains(table) => {
                    next.insert(Object::Rows(table.clone()), State::RowsOf(source.clone()));
                }
                // As many rows as the query reads, perhaps none: the rows tell nothing.
                _ => {
                    next.remove(&Object::Rows(table.clone()));
                    trace_of =
                        Trace::Hidden("it copies as many rows as a query reads, perhaps none");
                }
            },
            Effect::Set(Object::Rows(t), s) => {
                if created.contains(t) {
                    next.insert(Object::Rows(t.clone()), s.clone());
                } else {
                    trace_of = Trace::Hidden("it changes rows of a table that existed before");
                }
            }
            Effect::Set(o, s) => {
                if let Object::Table(t) = o {
                    if *s == State::Present {
                        created.insert(t.clone());
                        next.insert(Object::Rows(t.clone()), State::Absent);
                    }
                }
                let key = index_key(next, o);
                next.insert(key, s.clone());
            }
            Effect::DropTable(t) => {
                next.retain(|o, _| o.table() != Some(t.as_str()));
                next.insert(Object::Table(t.clone()), State::Absent);
                created.remove(t);
            }
            Effect::RenameTable { from, to } => {
                let moved: Vec<(Object, State)> = next
                    .iter()
                    .filter(|(o, _)| o.table() == Some(from.as_str()))
                    .map(|(o, s)| (retable(o, to), s.clone()))
                    .collect();
                next.retain(|o, _| o.table() != Some(from.as_str()));
                next.extend(moved);
                next.insert(Object::Table(from.clone()), State::Absent);
                next.insert(Object::Table(to.clone()), State::Present);
                if created.remove(from) {
                    created.insert(to.clone());
                }
            }
        }
    }
    trace_of
}
/// Whether `table` holds rows (asked once per judgement).
async fn held(
    conn: &mut Conn,
    asked: &mut BTreeMap<String, bool>,
    table: &str,
) -> Result<State, DbError> {
    let has = match asked.get(table) {
        Some(h) => *h,
        None => {
            let h = conn.has_rows(table).await?;
            asked.insert(table.to_string(), h);
            h
        }
    };
    Ok(if has { State::Present } else { State::Absent })
}

/// Whether the effect is on a temporary table (or creates one): no trace in the catalog,
/// and harmless to repeat in a new session.
fn on_temporary(e: &Effect, temporary: &BTreeSet<String>) -> bool {
    match e {
        Effect::Temporary(_) => true,
        Effect::Set(o, _) => o.table().is_some_and(|t| temporary.contains(t)),
        Effect::DropTable(t) | Effect::Fill { table: t, .. } => temporary.contains(t),
        Effect::RenameTable { from, .. } => temporary.contains(from),
    }
}

/// The statements of `prefix` (0-based) that made or filled a temporary table still there at
/// its end, and touch nothing else: what a resumed run in a new session must run again.
pub fn temporary_replay(prefix: &[Statement]) -> Vec<usize> {
    let mut temporary: BTreeSet<String> = BTreeSet::new();
    let mut alive: BTreeSet<String> = BTreeSet::new();
    let mut only_temporary: Vec<(usize, BTreeSet<String>)> = Vec::new();
    for (i, statement) in prefix.iter().enumerate() {
        let Reading::Effects(effects) = statement.effect() else {
            continue;
        };
        let mut tables = BTreeSet::new();
        let mut all = true;
        for e in effects {
            if let Effect::Temporary(t) = e {
                temporary.insert(t.clone());
                alive.insert(t.clone());
                tables.insert(t.clone());
            } else if on_temporary(e, &temporary) {
                match e {
                    Effect::DropTable(t) => {
                        alive.remove(t);
                        tables.insert(t.clone());
                    }
                    Effect::Fill { table, .. } => {
                        tables.insert(table.clone());
                    }
                    Effect::Set(o, _) => tables.extend(o.table().map(str::to_string)),
                    Effect::RenameTable { from, .. } => {
                        tables.insert(from.clone());
                    }
                    Effect::Temporary(_) => {}
                }
            } else {
                all = false;
            }
        }
        if all && !tables.is_empty() {
            only_temporary.push((i, tables));
        }
    }
    only_temporary
        .into_iter()
        .filter(|(_, tables)| tables.iter().all(|t| alive.contains(t)))
        .map(|(i, _)| i)
        .collect()
}

fn agrees(expected: &State, live: &State) -> bool {
    match (expected, live) {
        (State::Present, State::Columns(_)) => true,
        (a, b) => a == b,
    }
}

/// Which of the hypotheses `candidates` ("statements 1..=j ran") the live database agrees
/// with, for the statements `stmts` of one revision (its schema statements, without the
/// version-table change).
pub async fn judge(
    conn: &mut Conn,
    stmts: &[Statement],
    candidates: std::ops::RangeInclusive<usize>,
) -> Result<Verdict, DbError> {
    let readings: Vec<Reading> = stmts.iter().map(|s| s.effect().clone()).collect();
    let sim = simulate(&readings);
    let live = conn.introspect().await?;
    let checks_comparable = conn.checks_comparable();
    let mut rows: BTreeMap<String, bool> = BTreeMap::new();
    let mut consistent = Vec::new();
    let mut first_mismatch: Vec<String> = Vec::new();
    for j in candidates.clone() {
        let Some(expect) = sim.states.get(j) else {
            continue;
        };
        let mut mismatch = None;
        for (o, s) in expect {
            let actual = match o {
                Object::Rows(t) => {
                    // Only meaningful while the table is expected to exist.
                    if expect.get(&Object::Table(t.clone())) != Some(&State::Present)
                        || live.table(t).is_none()
                    {
                        continue;
                    }
                    held(conn, &mut rows, t).await?
                }
                _ => match o.state_in(&live, checks_comparable) {
                    Some(a) => a,
                    None => continue,
                },
            };
            // A whole copy holds rows exactly when its source does (if it is still there).
            let s = &match s {
                State::RowsOf(source) if live.table(source).is_none() => continue,
                State::RowsOf(source) => held(conn, &mut rows, source).await?,
                other => other.clone(),
            };
            if !agrees(s, &actual) {
                mismatch = Some(format!(
                    "{o} is {}",
                    if actual == State::Absent {
                        "absent"
                    } else {
                        "present"
                    }
                ));
                break;
            }
        }
        match mismatch {
            None => consistent.push(j),
            Some(m) => first_mismatch.push(format!("after statement {j}: {m}")),
        }
    }
    let (Some(&lo), Some(&hi)) = (consistent.first(), consistent.last()) else {
        return Ok(Verdict::Unclear(format!(
            "the live schema matches none of the states the statements pass through ({})",
            first_mismatch
                .iter()
                .take(3)
                .cloned()
                .collect::<Vec<_>>()
                .join("; ")
        )));
    };
    // Several states agree when statements between them leave no visible trace: taking the
    // earliest re-runs them, which is only safe if they are idempotent.
    for k in lo + 1..=hi {
        match sim.trace.get(k - 1).copied().unwrap_or(Trace::Visible) {
            Trace::Visible | Trace::Idempotent => {}
            Trace::Hidden(why) => {
                return Ok(Verdict::Unclear(format!(
                    "statement {k} cannot be told from the schema ({why}), and the schema is the same whether or not it ran"
                )))
            }
        }
    }
    if consistent.len() != hi - lo + 1 {
        return Ok(Verdict::Unclear(format!(
            "the live schema matches the states after statements {} alike",
            consistent
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(Verdict::Applied(lo))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::Database;

    fn statements(stmts: &[&str], database: Database) -> Vec<Statement> {
        stmts
            .iter()
            .map(|s| Statement::read(s.to_string(), database))
            .collect()
    }

    fn readings(stmts: &[&str]) -> Vec<Reading> {
        statements(stmts, Database::Sqlite)
            .into_iter()
            .map(|s| s.effect().clone())
            .collect()
    }

    #[test]
    fn statements_on_a_temporary_table_leave_no_trace_and_may_run_again() {
        let sim = simulate(&readings(&[
            "CREATE TEMPORARY TABLE guard (n INTEGER, CONSTRAINT g CHECK (n = 0))",
            "INSERT INTO guard (n) SELECT COUNT(*) FROM runs",
            "DROP TABLE guard",
            "CREATE TABLE t (id INTEGER)",
        ]));
        assert!(!sim.states[0].contains_key(&Object::Table("guard".into())));
        assert_eq!(&sim.trace[..3], &[Trace::Idempotent; 3]);
        assert_eq!(sim.trace[3], Trace::Visible);
        assert_eq!(
            sim.states[0].get(&Object::Table("t".into())),
            Some(&State::Absent)
        );
    }

    #[test]
    fn a_resumed_run_remakes_the_temporary_tables_still_in_use() {
        let stmts = statements(
            &[
                "CREATE TEMPORARY TABLE guard (n INTEGER, CONSTRAINT g CHECK (n = 0))",
                "INSERT INTO guard (n) SELECT COUNT(*) FROM runs",
                "DROP TABLE guard",
                "CREATE TEMPORARY TABLE positions (i INTEGER)",
                "INSERT INTO positions (i) VALUES (1), (2)",
                "ALTER TABLE runs ADD COLUMN x INTEGER",
                "INSERT INTO tags (k) SELECT CAST(i AS CHAR) FROM positions",
            ],
            Database::Mysql,
        );
        assert_eq!(temporary_replay(&stmts), vec![3, 4]);
        assert_eq!(temporary_replay(&stmts[..2]), vec![0, 1]);
        assert!(temporary_replay(&stmts[..3]).is_empty());
    }

    #[test]
    fn indexes_of_one_name_on_two_tables_are_two_indexes() {
        // MySQL names a column's unique index after the column, on every table.
        let sim = simulate(
            &statements(
                &[
                    "ALTER TABLE experiments DROP INDEX name",
                    "ALTER TABLE registered_models ADD COLUMN workspace VARCHAR(63)",
                    "ALTER TABLE registered_models DROP INDEX name",
                ],
                Database::Mysql,
            )
            .into_iter()
            .map(|s| s.effect().clone())
            .collect::<Vec<_>>(),
        );
        let second = Object::Index("registered_models".into(), "name".into());
        assert_eq!(sim.states[0].get(&second), Some(&State::Present));
        assert_eq!(sim.states[2].get(&second), Some(&State::Present));
        assert_eq!(sim.states[3].get(&second), Some(&State::Absent));
    }

    #[test]
    fn a_batch_rebuild_knows_nothing_of_indexes_recreated_after_the_drop() {
        let sim = simulate(&readings(&[
            "CREATE TABLE _alembic_tmp_runs (id INTEGER NOT NULL, CONSTRAINT runs_pk PRIMARY KEY (id))",
            "INSERT INTO _alembic_tmp_runs (id) SELECT id FROM runs",
            "DROP TABLE runs",
            "ALTER TABLE _alembic_tmp_runs RENAME TO runs",
            "CREATE INDEX ix_runs_id ON runs (id)",
        ]));
        let before = &sim.states[0];
        assert_eq!(
            before.get(&Object::Table("_alembic_tmp_runs".into())),
            Some(&State::Absent)
        );
        assert_eq!(
            before.get(&Object::Table("runs".into())),
            Some(&State::Present)
        );
        assert!(!before.keys().any(|o| matches!(o, Object::Index(..))));
        // A whole copy holds as many rows as its source.
        let after_copy = &sim.states[2];
        assert_eq!(
            after_copy.get(&Object::Rows("_alembic_tmp_runs".into())),
            Some(&State::RowsOf("runs".into()))
        );
        assert_eq!(
            sim.states[1].get(&Object::Rows("_alembic_tmp_runs".into())),
            Some(&State::Absent)
        );
        let done = &sim.states[5];
        assert_eq!(
            done.get(&Object::Table("_alembic_tmp_runs".into())),
            Some(&State::Absent)
        );
        assert_eq!(
            done.get(&Object::Column("runs".into(), "id".into())),
            Some(&State::Present)
        );
        assert_eq!(
            done.get(&Object::Index("runs".into(), "ix_runs_id".into())),
            Some(&State::Present)
        );
    }
}
