//! A fresh install: on an empty database, the schema at the end of a plan created directly
//! from the compiled model, then the version rows written — what Alembic users do with
//! `create_all` plus `stamp`, but derived from the scripts. Replaying every revision's DDL on
//! empty tables is most of a fresh upgrade's time and changes nothing a direct install does not
//! give.
//!
//! What the model does not hold is carried over from the revisions, in order, after the tables:
//! rows inserted with constant values (MLflow's default workspace), triggers and functions.
//! Statements that do nothing on empty tables (updates, deletes, copies between tables, a
//! recipe's guards and temporary helpers) are left out. Anything else a revision runs as raw
//! SQL, rows a later revision changes, or a schema the dialect does not rebuild identically
//! from its own model keeps the revision-by-revision plan: the refusal says why.

use std::collections::BTreeSet;

use super::{Kind, Plan, PlannedStep, Planner, Statement};
use crate::compile::{CompiledStep, EmittedOp};
use crate::dialect::sqltext::{without_statement_settings, Family};
use crate::graph::{apply_changes, Direction, VersionChange};
use crate::ir::{Op, Table};
use crate::schema::effect::{Effect, Object, Reading};
use crate::schema::{SchemaDiff, SchemaModel};

/// How a plan for an empty database runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fresh {
    /// The final schema created directly (`Planner::install`) where it can be.
    #[default]
    Direct,
    /// Every revision replayed, as Alembic does.
    Replay,
}

/// Why a plan cannot be installed directly (it then runs revision by revision).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotDirect {
    #[error("the plan does not start from an empty database")]
    NotFresh,
    #[error("the plan has nothing to install")]
    Empty,
    #[error("revision {revision} runs SQL that changes the schema in a way the model does not follow: {sql}")]
    RawSchemaChange { revision: String, sql: String },
    #[error("revision {revision} inserts rows into '{table}' that revision {later} changes")]
    RowsChanged {
        revision: String,
        table: String,
        later: String,
    },
    #[error("revision {revision} inserts rows computed from tables: {sql}")]
    ComputedRows { revision: String, sql: String },
    #[error("tables {0} reference each other in a cycle")]
    Cycle(String),
    #[error(
        "the tables created directly would differ from what the revisions leave ({difference})"
    )]
    Differs { difference: String },
    #[error("{0}")]
    Render(String),
}

/// What a direct install carries over from one revision.
enum Carried<'a> {
    /// Nothing on empty tables, or gone before the end (temporary helpers).
    Nothing,
    /// A trigger or function, by its key (`trigger:name`, `function:name`); `None`: a drop.
    Routine {
        key: String,
        create: Option<&'a Statement>,
    },
    /// Rows inserted with constant values.
    Rows {
        table: String,
        statement: &'a Statement,
    },
    /// Not something a direct install can reproduce.
    Refused(NotDirect),
}

impl Planner<'_> {
    /// The plan that creates `plan`'s final schema directly on an empty database and writes
    /// its version rows, or why it cannot.
    pub fn install(&self, plan: &Plan) -> Result<Plan, NotDirect> {
        if !plan.create_version_table
            || plan
                .steps
                .iter()
                .any(|s| s.compiled.direction != Direction::Up)
        {
            return Err(NotDirect::NotFresh);
        }
        let first = plan.steps.first().ok_or(NotDirect::Empty)?;
        let carried = carried_over(plan)?;
        let dialect = &self.compiler.dialect;
        let database = dialect.database();
        let mut model = SchemaModel {
            other_tables: plan.schema.other_tables.clone(),
            ..SchemaModel::default()
        };
        let mut emitted = Vec::new();
        for table in creation_order(&plan.schema)? {
            let declared = dialect.declared(table);
            let sql = dialect
                .create_whole_table(&mut model, &declared)
                .map_err(|e| NotDirect::Render(e.to_string()))?;
            emitted.push(emitted_op(
                Op::CreateTable { table: declared },
                sql,
                database,
            ));
        }
        let wanted = SchemaModel {
            tables: plan.schema.tables.clone(),
            ..SchemaModel::default()
        };
        let created = SchemaModel {
            tables: model.tables.clone(),
            ..SchemaModel::default()
        };
        let diff = SchemaDiff::between(&wanted, &created);
        if let Some(line) = diff.lines.first() {
            return Err(NotDirect::Differs {
                difference: line.clone(),
            });
        }
        for statement in carried {
            emitted.push(EmittedOp {
                op: Op::Execute {
                    statement: crate::ir::Statement::Sql {
                        text: statement.sql.clone(),
                    },
                },
                statements: vec![statement.clone()],
                pos: Default::default(),
                types_before: Vec::new(),
            });
        }
        let heads = final_heads(plan).into_iter().collect::<Vec<_>>();
        let label = format!(
            "Installing the schema at {} directly ({} revisions)",
            heads.join(", "),
            plan.steps.len()
        );
        let step = PlannedStep {
            compiled: CompiledStep {
                // The run is journalled under the first revision of its path, as a
                // revision-by-revision run's first unit is: a resumed run finds it there.
                revision: first.compiled.revision.clone(),
                direction: Direction::Up,
                emitted,
                empty_body: false,
            },
            label,
            message: format!("the schema at {} created directly", heads.join(", ")),
            version_changes: heads.into_iter().map(VersionChange::Insert).collect(),
            joined: Vec::new(),
        };
        Ok(Plan {
            database: plan.database,
            version_table: plan.version_table.clone(),
            initial: None,
            create_version_table: true,
            steps: vec![step],
            schema: plan.schema.clone(),
            direct: Some(plan.steps.len()),
        })
    }
}

/// The version rows at the end of a plan.
fn final_heads(plan: &Plan) -> BTreeSet<String> {
    let mut heads = BTreeSet::new();
    for step in &plan.steps {
        apply_changes(&mut heads, &step.version_changes);
    }
    heads
}

fn emitted_op(op: Op, sql: Vec<String>, database: crate::dialect::Database) -> EmittedOp {
    EmittedOp {
        op,
        statements: sql
            .into_iter()
            .map(|s| Statement::read(s, database))
            .collect(),
        pos: Default::default(),
        types_before: Vec::new(),
    }
}

/// The model's tables, each after the tables its foreign keys name (self-references aside).
fn creation_order(model: &SchemaModel) -> Result<Vec<&Table>, NotDirect> {
    let names: BTreeSet<&str> = model.table_names().collect();
    // The tables a table's foreign keys name (other than itself).
    let needs = |t: &Table| -> BTreeSet<String> {
        let constraints = t.constraints.iter().filter_map(|c| match c {
            crate::ir::Constraint::ForeignKey(fk) => Some(&fk.ref_table),
            _ => None,
        });
        let columns = t
            .columns
            .iter()
            .flat_map(|c| c.foreign_keys.iter().map(|fk| &fk.ref_table));
        constraints
            .chain(columns)
            .filter(|r| **r != t.name && names.contains(r.as_str()))
            .cloned()
            .collect()
    };
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut order = Vec::with_capacity(model.tables.len());
    let mut left: Vec<&Table> = model.tables.iter().collect();
    while !left.is_empty() {
        let before = left.len();
        left.retain(|t| {
            if needs(t).iter().all(|r| done.contains(r)) {
                done.insert(t.name.clone());
                order.push(*t);
                false
            } else {
                true
            }
        });
        if left.len() == before {
            let names: Vec<&str> = left.iter().map(|t| t.name.as_str()).collect();
            return Err(NotDirect::Cycle(names.join(", ")));
        }
    }
    Ok(order)
}

/// The statements a direct install runs after the tables, in the revisions' order: the
/// triggers and functions still there at the end, and rows inserted with constant values.
fn carried_over(plan: &Plan) -> Result<Vec<Statement>, NotDirect> {
    let family = Family::of(plan.database);
    let mut kept: Vec<(String, Statement)> = Vec::new();
    // (the revision that inserts, the table, the statement)
    let mut rows: Vec<(String, String, Statement)> = Vec::new();
    for step in &plan.steps {
        let revision = &step.compiled.revision;
        for e in &step.compiled.emitted {
            let inserted = |table: &str| rows.iter().find(|(_, t, _)| t == table);
            if let Some(table) = e.op.table() {
                if let (true, Some((by, _, _))) = (changes_rows(&e.op), inserted(table)) {
                    return Err(NotDirect::RowsChanged {
                        revision: by.clone(),
                        table: table.to_string(),
                        later: revision.clone(),
                    });
                }
            }
            for st in &e.statements {
                // A table dropped (or rebuilt by a copy, on SQLite) loses its triggers (the
                // statement's effect is read only while there are triggers to lose).
                if kept.iter().any(|(key, _)| key.starts_with("trigger:")) {
                    for dropped in dropped_tables(st) {
                        kept.retain(|(key, st)| !trigger_on(key, st, &dropped));
                    }
                }
                // Data statements on a table that holds inserted rows change them.
                if st.kind == Kind::Dml {
                    if let Some((by, t, _)) = rows.iter().find(|(_, t, _)| mentions(&st.sql, t)) {
                        return Err(NotDirect::RowsChanged {
                            revision: by.clone(),
                            table: t.clone(),
                            later: revision.clone(),
                        });
                    }
                }
            }
            if !matches!(e.op, Op::Execute { .. } | Op::BulkInsert { .. }) {
                continue;
            }
            for st in &e.statements {
                match carried(revision, &e.op, st, family) {
                    Carried::Nothing => {}
                    Carried::Routine { key, create } => {
                        kept.retain(|(k, _)| *k != key);
                        if let Some(create) = create {
                            kept.push((key, create.clone()));
                        }
                    }
                    Carried::Rows { table, statement } => {
                        rows.push((revision.clone(), table, statement.clone()));
                    }
                    Carried::Refused(why) => return Err(why),
                }
            }
        }
    }
    let mut out: Vec<Statement> = kept.into_iter().map(|(_, s)| s).collect();
    out.extend(rows.into_iter().map(|(_, _, s)| s));
    Ok(out)
}

/// Whether an operation on a table changes rows already in it (adding a column, an index or a
/// constraint does not, in a batch or outside it).
fn changes_rows(op: &Op) -> bool {
    if let Op::Batch(b) = op {
        // A rebuild copies the rows as they are.
        return b.ops.iter().any(changes_rows);
    }
    !matches!(
        op,
        Op::AddColumn { .. }
            | Op::CreateIndex { .. }
            | Op::DropIndex { .. }
            | Op::AddConstraint { .. }
            | Op::DropConstraint { .. }
            | Op::CreateTable { .. }
            | Op::BulkInsert { .. }
            | Op::Execute { .. }
    )
}

/// The tables a statement drops (a SQLite rebuild drops the old table).
fn dropped_tables(st: &Statement) -> Vec<String> {
    match st.effect() {
        Reading::Effects(effects) => effects
            .iter()
            .filter_map(|e| match e {
                Effect::DropTable(t) => Some(t.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn trigger_on(key: &str, st: &Statement, table: &str) -> bool {
    key.starts_with("trigger:") && trigger_table(&st.sql).is_some_and(|t| t == table)
}

/// The table of `CREATE TRIGGER … ON table …`.
fn trigger_table(sql: &str) -> Option<String> {
    let words: Vec<&str> = sql.split_whitespace().collect();
    let on = words.iter().position(|w| w.eq_ignore_ascii_case("ON"))?;
    words
        .get(on + 1)
        .map(|t| t.trim_matches(|c| c == '"' || c == '`').to_string())
}

/// Whether SQL text names a table (as a whole word, quoted or not).
fn mentions(sql: &str, table: &str) -> bool {
    sql.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .any(|w| w == table)
}

/// What one statement of an `execute` or `bulk_insert` carries into a direct install.
fn carried<'a>(revision: &str, op: &Op, st: &'a Statement, family: Family) -> Carried<'a> {
    if let Op::BulkInsert { table, rows, .. } = op {
        return if rows.is_empty() {
            Carried::Nothing
        } else {
            Carried::Rows {
                table: table.clone(),
                statement: st,
            }
        };
    }
    let words: Vec<String> = st
        .sql
        .split_whitespace()
        .take(6)
        .map(|w| w.to_ascii_uppercase())
        .collect();
    let word = |i: usize| words.get(i).map_or("", String::as_str);
    let name_after = |i: usize| {
        let mut k = i;
        while ["IF", "NOT", "EXISTS"].contains(&word(k)) {
            k += 1;
        }
        let raw = st.sql.split_whitespace().nth(k).unwrap_or("");
        raw.split('(')
            .next()
            .unwrap_or("")
            .trim_matches(|c| c == '"' || c == '`')
            .to_ascii_lowercase()
    };
    let temporary = |name: &str| name.starts_with("pg_temp.");
    match (word(0), word(1), word(2), word(3)) {
        ("CREATE", "TRIGGER", ..) => Carried::Routine {
            key: format!("trigger:{}", name_after(2)),
            create: Some(st),
        },
        ("DROP", "TRIGGER", ..) => Carried::Routine {
            key: format!("trigger:{}", name_after(2)),
            create: None,
        },
        ("CREATE", "FUNCTION", ..) | ("CREATE", "OR", "REPLACE", "FUNCTION") => {
            let at = if word(1) == "OR" { 4 } else { 2 };
            let name = name_after(at);
            if temporary(&name) {
                Carried::Nothing
            } else {
                Carried::Routine {
                    key: format!("function:{name}"),
                    create: Some(st),
                }
            }
        }
        ("DROP", "FUNCTION", ..) => {
            let name = name_after(2);
            if temporary(&name) {
                Carried::Nothing
            } else {
                Carried::Routine {
                    key: format!("function:{name}"),
                    create: None,
                }
            }
        }
        _ if temporary_only(st) => Carried::Nothing,
        _ if st.kind == Kind::Dml => data(revision, st, family),
        _ => Carried::Refused(NotDirect::RawSchemaChange {
            revision: revision.to_string(),
            sql: st.one_line(),
        }),
    }
}

/// Whether a statement only makes, fills or drops temporary tables.
fn temporary_only(st: &Statement) -> bool {
    let Reading::Effects(effects) = st.effect() else {
        return false;
    };
    !effects.is_empty()
        && effects.iter().all(|e| match e {
            Effect::Temporary(_) => true,
            Effect::DropTable(t) => t.starts_with("alembic_engine_"),
            Effect::Set(Object::Rows(t), _) | Effect::Fill { table: t, .. } => {
                t.starts_with("alembic_engine_")
            }
            _ => false,
        })
}

/// A data statement on empty tables: updates, deletes and copies change nothing; an insert of
/// constant values adds rows. The statement is read after the session settings a MySQL
/// statement may carry (`SET STATEMENT … FOR`), which change how it runs, not what it does.
fn data<'a>(revision: &str, st: &'a Statement, family: Family) -> Carried<'a> {
    let upper = without_statement_settings(&st.sql, family).to_ascii_uppercase();
    let head = upper.trim_start();
    if head.starts_with("WITH") {
        // What a common table expression feeds (a recursive one makes rows of nothing) is
        // not read here: the revisions are replayed.
        return Carried::Refused(NotDirect::ComputedRows {
            revision: revision.to_string(),
            sql: st.one_line(),
        });
    }
    if !head.starts_with("INSERT") {
        return Carried::Nothing;
    }
    let table = match st.effect() {
        Reading::Effects(effects) => effects.iter().find_map(|e| match e {
            Effect::Set(Object::Rows(t), _) | Effect::Fill { table: t, .. } => Some(t.clone()),
            _ => None,
        }),
        _ => None,
    };
    let Some(table) = table else {
        return Carried::Refused(NotDirect::ComputedRows {
            revision: revision.to_string(),
            sql: st.one_line(),
        });
    };
    if table.starts_with("alembic_engine_") {
        return Carried::Nothing;
    }
    let words: Vec<&str> = head
        .split(|c: char| c.is_whitespace() || c == '(' || c == ')')
        .filter(|w| !w.is_empty())
        .collect();
    let selects = words.contains(&"SELECT");
    let reads = words.contains(&"FROM");
    let aggregates = ["COUNT", "SUM", "MAX", "MIN", "AVG"]
        .iter()
        .any(|f| upper.contains(&format!("{f}(")));
    let grouped = upper.contains("GROUP BY");
    match (selects, reads) {
        // A copy from tables: nothing comes of empty tables, unless an aggregate without
        // GROUP BY makes one row of nothing.
        (true, true) if !aggregates || grouped => Carried::Nothing,
        (true, true) => Carried::Refused(NotDirect::ComputedRows {
            revision: revision.to_string(),
            sql: st.one_line(),
        }),
        _ => Carried::Rows {
            table,
            statement: st,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::Database;

    fn classed(sql: &str) -> &'static str {
        let st = Statement::read(sql.to_string(), Database::Mariadb);
        match data("r1", &st, Family::Mysql) {
            Carried::Nothing => "nothing",
            Carried::Rows { .. } => "rows",
            Carried::Routine { .. } => "routine",
            Carried::Refused(_) => "refused",
        }
    }

    #[test]
    fn statement_settings_do_not_hide_what_a_mysql_statement_does() {
        // A copy from (empty) tables carries nothing, with or without settings.
        let copy = "INSERT INTO latest_metrics (`key`, step) SELECT `key`, MAX(step) FROM metrics GROUP BY `key`";
        assert_eq!(classed(copy), "nothing");
        assert_eq!(
            classed(&format!(
                "SET STATEMENT optimizer_switch='materialization=on' FOR {copy}"
            )),
            "nothing"
        );
        // Constant rows are carried over: the settings must not make them "nothing".
        let rows = "INSERT INTO workspaces (name) VALUES ('default')";
        assert_eq!(classed(rows), "rows");
        assert_eq!(
            classed(&format!("SET STATEMENT sql_mode='' FOR {rows}")),
            "rows"
        );
        // An aggregate without GROUP BY makes a row of nothing: refused either way.
        let computed = "INSERT INTO counts (n) SELECT COUNT(*) FROM metrics";
        assert_eq!(classed(computed), "refused");
        assert_eq!(
            classed(&format!("SET STATEMENT sql_mode='' FOR {computed}")),
            "refused"
        );
    }
}
