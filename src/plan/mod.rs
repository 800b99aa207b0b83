//! Plans: the compiled steps from one state of a database to another, with the version-table
//! changes between them, and their offline SQL script.
//!
//! Planning never touches a database. Offline, the schema at the starting point is obtained
//! by compiling everything before it (the path from base), so batch rebuilds and inspector
//! answers are exact even without a live connection.

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::compile::{CompileError, CompiledStep, Compiler};
use crate::graph::{Direction, GraphError, Lower, RevisionGraph, Step, VersionChange};
use crate::schema::SchemaModel;

mod install;
mod optimise;
mod state;
mod statement;
pub use install::{Fresh, NotDirect};
pub(crate) use optimise::remove_statements;
#[cfg(test)]
pub(crate) use optimise::testing;
pub use optimise::Optimised;
pub use state::{DbState, Decided, Start};
pub use statement::{names_table, one_line, Joined, Kind, Merge, MergeKind, Statement, Unit};

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Graph(#[from] GraphError),
    #[error(transparent)]
    Compile(#[from] CompileError),
    #[error("revision {revision} cannot be downgraded: its downgrade() does nothing (the script marks it irreversible); downgrading past it would only fake the version")]
    Irreversible { revision: String },
}

/// One step of a plan.
#[derive(Debug, Clone)]
pub struct PlannedStep {
    pub compiled: CompiledStep,
    /// `-- Running upgrade <from> -> <to>` as Alembic labels it.
    pub label: String,
    /// The revision's message (the first paragraph of its docstring).
    pub message: String,
    pub version_changes: Vec<VersionChange>,
    /// The revisions after this one that run in its unit, fused with it by the optimiser
    /// (statements merged across them): one checkpoint for all, the version row moved once.
    pub joined: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Plan {
    /// The database the statements are written for.
    pub database: crate::dialect::Database,
    pub version_table: String,
    /// MLflow's initial tables, when the plan starts from an empty database.
    pub initial: Option<CompiledStep>,
    /// Whether the plan creates the version table (it starts from nothing).
    pub create_version_table: bool,
    pub steps: Vec<PlannedStep>,
    /// The schema after the last step.
    pub schema: SchemaModel,
    /// A direct install (`Planner::install`): its one step creates the schema the revisions
    /// would leave; this many revisions are not replayed.
    pub direct: Option<usize>,
}

/// What to plan against.
pub struct Planner<'a> {
    pub graph: &'a RevisionGraph,
    pub compiler: Compiler,
    pub version_table: String,
    /// `initial_models.py` for projects (MLflow's tracking database) that create their first
    /// tables outside Alembic.
    pub initial_models: Option<PathBuf>,
}

fn label(graph: &RevisionGraph, step: &Step) -> String {
    let rev = graph.revision(step.revision);
    let downs = rev.down_revisions.join(", ");
    match step.direction {
        Direction::Up => format!("Running upgrade {downs} -> {}", rev.id),
        Direction::Down => format!("Running downgrade {} -> {downs}", rev.id),
    }
}

/// Whether a plan is a script for later (`sql`, like `alembic upgrade --sql`) or runs on a
/// live database now: what scripts see as `context.is_offline_mode()` and `context.as_sql`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Offline,
    Online,
}

/// Whether a plan first creates the tables the application makes before its first revision
/// (MLflow's initial models): on an empty database, as the application does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Initial {
    Create,
    Skip,
}

impl Initial {
    /// `Create` for a database with no version row yet (`rows` empty), else `Skip`.
    pub fn for_rows(rows: &[String]) -> Initial {
        if rows.is_empty() {
            Initial::Create
        } else {
            Initial::Skip
        }
    }
}

impl<'a> Planner<'a> {
    /// A planner for a project on one dialect: its compiler (facts, recipes, package folder),
    /// version table and initial models.
    pub fn for_project(
        project: &crate::project::Project,
        graph: &'a RevisionGraph,
        dialect: std::sync::Arc<dyn crate::dialect::Dialect>,
        mode: Mode,
    ) -> Result<Self, crate::recipes::RecipeError> {
        let mut compiler = Compiler::for_project(project, dialect)?;
        compiler.offline = mode == Mode::Offline;
        Ok(Planner {
            graph,
            compiler,
            version_table: project.version_table.clone(),
            initial_models: project.initial_models.clone(),
        })
    }

    /// Whether this planner compiles for `upgrade` (online) or for `sql` (offline).
    pub fn mode(&self) -> Mode {
        match self.compiler.offline {
            true => Mode::Offline,
            false => Mode::Online,
        }
    }

    /// The schema of a database created by this project's tools and then brought to `rows`
    /// (the heads in its version table), compiled from the start.
    pub fn schema_at(&self, rows: &[String]) -> Result<SchemaModel, PlanError> {
        let mut model = SchemaModel::default();
        if let Some(path) = &self.initial_models {
            model = self.compiler.compile_initial_models(path, model)?.1;
        }
        if rows.is_empty() {
            return Ok(model);
        }
        let steps = self
            .graph
            .upgrade_path(&Lower::Many(Vec::new()), &rows.join(","))?;
        for step in steps {
            let rev = self.graph.revision(step.revision);
            model = self.compiler.compile_step(rev, step.direction, model)?.1;
        }
        Ok(model)
    }

    /// Plan `steps` for a database whose version table holds `rows` (empty: no version table
    /// yet, so the plan creates it) and whose schema is `model`; with `Initial::Create`, the
    /// project's initial models are created first (a fresh database, as the application does).
    pub fn plan(
        &self,
        rows: &[String],
        steps: &[Step],
        model: SchemaModel,
        initial_tables: Initial,
    ) -> Result<Plan, PlanError> {
        let mut model = model;
        let mut initial = None;
        if initial_tables == Initial::Create {
            if let Some(path) = &self.initial_models {
                let (step, after) = self.compiler.compile_initial_models(path, model)?;
                initial = Some(step);
                model = after;
            }
        }
        let mut heads: BTreeSet<String> = rows.iter().cloned().collect();
        let mut planned = Vec::with_capacity(steps.len());
        for step in steps {
            let rev = self.graph.revision(step.revision);
            let (compiled, after) = self.compiler.compile_step(rev, step.direction, model)?;
            if step.direction == Direction::Down && compiled.empty_body {
                return Err(PlanError::Irreversible {
                    revision: rev.id.clone(),
                });
            }
            model = after;
            let version_changes = self.graph.version_changes(&mut heads, step)?;
            planned.push(PlannedStep {
                compiled,
                label: label(self.graph, step),
                message: rev.doc().to_string(),
                version_changes,
                joined: Vec::new(),
            });
        }
        Ok(Plan {
            database: self.compiler.dialect.database(),
            version_table: self.version_table.clone(),
            initial,
            create_version_table: rows.is_empty(),
            steps: planned,
            schema: model,
            direct: None,
        })
    }
}

impl Plan {
    /// The revision the plan ends at: its last step's, or for a direct install the (first)
    /// version row it writes.
    pub fn last_revision(&self) -> Option<&str> {
        let last = self.steps.last()?;
        if self.direct.is_some() {
            return last.version_changes.iter().find_map(|c| match c {
                VersionChange::Insert(v) => Some(v.as_str()),
                _ => None,
            });
        }
        Some(last.compiled.revision.as_str())
    }

    /// How many revisions the plan runs (those fused into one unit or installed directly
    /// counted each).
    pub fn revision_count(&self) -> usize {
        self.direct
            .unwrap_or_else(|| self.steps.iter().map(|s| 1 + s.joined.len()).sum())
    }

    pub fn version_table_ddl(&self) -> String {
        format!(
            "CREATE TABLE {t} (\n    version_num VARCHAR(32) NOT NULL, \n    CONSTRAINT {t}_pkc PRIMARY KEY (version_num)\n)",
            t = self.version_table
        )
    }

    pub fn version_change_sql(&self, change: &VersionChange) -> String {
        let t = &self.version_table;
        match change {
            VersionChange::Insert(v) => format!("INSERT INTO {t} (version_num) VALUES ('{v}')"),
            VersionChange::Delete(v) => {
                format!("DELETE FROM {t} WHERE {t}.version_num = '{v}'")
            }
            VersionChange::Update { from, to } => {
                format!("UPDATE {t} SET version_num='{to}' WHERE {t}.version_num = '{from}'")
            }
        }
    }

    /// The plan as units of work: the initial schema and the version table go with the first
    /// revision; each revision's statements end with its version-table change.
    pub fn units(&self) -> Vec<Unit> {
        let version = |sql: String| Statement::version(sql, self.database);
        let mut first: Vec<Statement> = Vec::new();
        if let Some(initial) = &self.initial {
            first.extend(initial.typed().cloned());
        }
        if self.create_version_table {
            first.push(version(self.version_table_ddl()));
        }
        let mut units = Vec::with_capacity(self.steps.len());
        for step in &self.steps {
            let mut statements = std::mem::take(&mut first);
            statements.extend(step.compiled.typed().cloned());
            statements.extend(
                step.version_changes
                    .iter()
                    .map(|c| version(self.version_change_sql(c))),
            );
            units.push(Unit {
                revision: step.compiled.revision.clone(),
                statements,
            });
        }
        units
    }

    /// Number of SQL statements the plan runs (schema and version table).
    pub fn statement_count(&self) -> usize {
        self.initial.as_ref().map_or(0, |i| i.statements().count())
            + usize::from(self.create_version_table)
            + self
                .steps
                .iter()
                .map(|s| s.compiled.statements().count() + s.version_changes.len())
                .sum::<usize>()
    }

    /// The offline script, in the shape of `alembic upgrade --sql`: BEGIN/COMMIT around
    /// everything where Alembic writes them (PostgreSQL).
    pub fn offline_sql(&self) -> String {
        let dialect = self.database.dialect();
        let transactional = dialect.wraps_offline_script();
        let offline_statement = |sql: &str| dialect.offline_statement(sql);
        let mut out = String::new();
        if transactional {
            out += "BEGIN;\n\n";
        }
        if let Some(initial) = &self.initial {
            out += "-- Initial schema (created before the first revision, as the application does)\n\n";
            for s in initial.statements() {
                out += &offline_statement(s);
            }
        }
        if self.create_version_table {
            out += &offline_statement(&self.version_table_ddl());
        }
        for step in &self.steps {
            out += &format!("-- {}\n\n", step.label);
            // An autocommit block ends the script's transaction and begins another after it.
            let mut autocommit = false;
            for s in step.compiled.typed() {
                if transactional && s.autocommit != autocommit {
                    out += if s.autocommit {
                        "COMMIT;\n\n"
                    } else {
                        "BEGIN;\n\n"
                    };
                    autocommit = s.autocommit;
                }
                match s.repeat {
                    Some(at_least) => match dialect.offline_loop(&s.sql, at_least, s.autocommit) {
                        Some(looped) => out += &offline_statement(&looped),
                        // Never compiled so: a loop is kept offline only where it can be
                        // written (see `Dialect::offline_loop`).
                        None => out += &offline_statement(&s.sql),
                    },
                    None => out += &offline_statement(&s.sql),
                }
            }
            if autocommit {
                out += "BEGIN;\n\n";
            }
            for change in &step.version_changes {
                out += &offline_statement(&self.version_change_sql(change));
            }
        }
        if transactional {
            out += "COMMIT;\n\n";
        }
        out
    }
}
