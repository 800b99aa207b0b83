//! The pure planner: from what a database holds (its version rows, its tables, whether a run
//! stopped inside the next revision) to the plan that brings it to a target. The executor
//! plans with it under its lock, the `plan` command without, the `sql` command for a database
//! that exists only on paper; none of them reads anything else to decide.
//!
//! A database without version rows starts from nothing when none of the tables this project
//! makes is there (other applications' tables may be), and from the project's initial tables
//! (MLflow's) when they are: after `downgrade base`, or an upgrade that died before its first
//! revision ended. Tables the schema does not know and the plan does not create belong to other
//! applications: scripts that inspect the database see them, as Alembic lists them.

use std::collections::BTreeSet;

use super::{Initial, Plan, PlanError, Planner};
use crate::graph::Step;
use crate::ir::Op;
use crate::schema::SchemaModel;

/// What planning needs to know of a database.
#[derive(Debug, Clone, Default)]
pub struct DbState {
    /// The rows of its version table (empty: none, or no version table).
    pub version_rows: Vec<String>,
    /// Its tables, without the version table and the engine's journal.
    pub tables: BTreeSet<String>,
    /// Whether its version table exists (Alembic leaves it empty after `downgrade base`).
    pub version_table: bool,
    /// Whether a run stopped inside the first revision of the path (the journal says so): it
    /// continues as the run it was.
    pub interrupted_run: bool,
}

impl DbState {
    /// A database at `rows` as this project's tools leave it, with no other tables: what the
    /// `sql` command plans for.
    pub fn on_paper(rows: &[String]) -> DbState {
        DbState {
            version_rows: rows.to_vec(),
            tables: BTreeSet::new(),
            version_table: !rows.is_empty(),
            interrupted_run: false,
        }
    }
}

/// Where a database starts, as its version rows and tables tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    /// The version table names revisions: the schema is what they leave.
    Versioned,
    /// No version row and none of this project's tables: the initial tables, then every
    /// revision.
    Fresh,
    /// No version row, but these tables of this project are there: the schema must be the
    /// initial tables' (the project must have some).
    Unversioned { found: Vec<String> },
}

/// A plan with what was decided on the way to it.
#[derive(Debug, Clone)]
pub struct Decided {
    pub plan: Plan,
    pub start: Start,
    /// The schema the database should have before the plan, as its version rows (or their
    /// absence) say.
    pub before: SchemaModel,
    /// Tables present that the schema before does not know: other applications' tables, and
    /// tables an interrupted run made that the plan creates.
    pub unknown: BTreeSet<String>,
    /// Of those, the ones the plan leaves alone: other applications' tables.
    pub others: BTreeSet<String>,
}

impl Plan {
    /// The tables the plan creates or renames into, anywhere along it.
    pub fn tables_created(&self) -> BTreeSet<String> {
        self.initial
            .iter()
            .chain(self.steps.iter().map(|s| &s.compiled))
            .flat_map(|c| c.emitted.iter())
            .filter_map(|e| match &e.op {
                Op::CreateTable { table } => Some(table.name.clone()),
                Op::RenameTable { new_name, .. } => Some(new_name.clone()),
                _ => None,
            })
            .collect()
    }
}

impl Planner<'_> {
    /// Plan `steps` for a database in `state`.
    pub fn plan_for(&self, state: &DbState, steps: &[Step]) -> Result<Decided, PlanError> {
        let rows = &state.version_rows;
        let (start, fresh) = self.start(state, steps)?;
        let (before, initial) = match start {
            Start::Fresh => (SchemaModel::default(), Initial::Create),
            _ => (self.schema_at(rows)?, Initial::Skip),
        };
        let known: BTreeSet<&str> = before.tables.iter().map(|t| t.name.as_str()).collect();
        let unknown: BTreeSet<String> = state
            .tables
            .iter()
            .filter(|t| !known.contains(t.as_str()))
            .cloned()
            .collect();
        let mut plan = match fresh {
            Some(plan) => plan,
            None => self.plan(rows, steps, before.clone(), initial)?,
        };
        // A table the plan itself creates is not another application's, even when it is
        // already there: an interrupted run (ours, or Python's) created it, and the plan must
        // stay the one that run had (MLflow's 3500859a5d39 creates its table only when it is
        // missing).
        let others_of = |plan: &Plan| -> BTreeSet<String> {
            unknown
                .difference(&plan.tables_created())
                .cloned()
                .collect()
        };
        let mut others = others_of(&plan);
        if !others.is_empty() {
            let mut model = before.clone();
            model.other_tables = others;
            plan = self.plan(rows, steps, model, initial)?;
            others = others_of(&plan);
        }
        if !state.interrupted_run {
            plan.create_version_table = !state.version_table;
        }
        Ok(Decided {
            plan,
            start,
            before,
            unknown,
            others,
        })
    }

    /// Where a database starts; for a fresh one, the plan made to find this project's tables
    /// (the run's plan when no other table is there).
    fn start(&self, state: &DbState, steps: &[Step]) -> Result<(Start, Option<Plan>), PlanError> {
        if !state.version_rows.is_empty() {
            return Ok((Start::Versioned, None));
        }
        let fresh = self.plan(&[], steps, SchemaModel::default(), Initial::Create)?;
        if state.interrupted_run {
            return Ok((Start::Fresh, Some(fresh)));
        }
        let ours = fresh.tables_created();
        let found: Vec<String> = state
            .tables
            .iter()
            .filter(|t| ours.contains(*t))
            .cloned()
            .collect();
        if found.is_empty() {
            Ok((Start::Fresh, Some(fresh)))
        } else {
            Ok((Start::Unversioned { found }, None))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{Lower, RevisionGraph};
    use crate::plan::Mode;
    use crate::project::{Locator, Project};

    fn helpdesk() -> (Project, RevisionGraph) {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("revisions/fixtures/helpdesk");
        let project = Locator {
            scripts: Some(dir),
            ..Default::default()
        }
        .open(None)
        .unwrap();
        let graph = RevisionGraph::build(project.scripts.revisions.clone()).unwrap();
        (project, graph)
    }

    fn decide(state: &DbState) -> Result<Decided, PlanError> {
        let (project, graph) = helpdesk();
        let planner = Planner::for_project(
            &project,
            &graph,
            crate::dialect::Database::Sqlite.dialect(),
            Mode::Online,
        )
        .unwrap();
        let current = Lower::Many(state.version_rows.clone());
        let steps = graph.upgrade_path(&current, "heads").unwrap();
        planner.plan_for(state, &steps)
    }

    fn tables(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn an_empty_database_starts_fresh_and_gets_a_version_table() {
        let decided = decide(&DbState::default()).unwrap();
        assert_eq!(decided.start, Start::Fresh);
        assert!(decided.plan.create_version_table);
        assert_eq!(decided.plan.steps.len(), 7);
        assert!(decided.plan.tables_created().contains("tickets"));
        assert!(decided.others.is_empty());
    }

    #[test]
    fn other_applications_tables_are_listed_to_scripts_and_left_alone() {
        let decided = decide(&DbState {
            tables: tables(&["their_jobs"]),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(decided.start, Start::Fresh);
        assert_eq!(decided.others, tables(&["their_jobs"]));
        assert!(decided.plan.schema.other_tables.contains("their_jobs"));
    }

    #[test]
    fn this_projects_tables_without_a_version_row_are_an_unversioned_database() {
        let decided = decide(&DbState {
            tables: tables(&["agents", "their_jobs"]),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(
            decided.start,
            Start::Unversioned {
                found: vec!["agents".to_string()]
            }
        );
    }

    #[test]
    fn an_interrupted_first_revision_continues_as_the_fresh_run_it_was() {
        let decided = decide(&DbState {
            tables: tables(&["agents"]),
            interrupted_run: true,
            ..Default::default()
        })
        .unwrap();
        assert_eq!(decided.start, Start::Fresh);
        assert_eq!(decided.unknown, tables(&["agents"]));
        assert!(decided.others.is_empty(), "agents is the plan's own table");
    }

    #[test]
    fn a_versioned_database_plans_from_the_schema_its_rows_leave() {
        let decided = decide(&DbState {
            version_rows: vec!["cc1c79c23587".into()],
            tables: tables(&["agents", "tickets", "tags", "ticket_tags"]),
            version_table: true,
            interrupted_run: false,
        })
        .unwrap();
        assert_eq!(decided.start, Start::Versioned);
        assert!(!decided.plan.create_version_table);
        assert_eq!(decided.plan.steps.len(), 4);
        assert!(decided.before.table("ticket_tags").is_some());
        assert!(decided.unknown.is_empty());
    }
}
