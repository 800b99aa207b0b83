//! Which revisions of a project compile for a database, and why the others are refused: the
//! answer a user needs before trusting the engine with a project of their own.
//!
//! Every revision on the upgrade path from base to the heads is compiled in order, against the
//! schema the compiled revisions before it leave. A refused revision leaves that schema as it
//! was, so a later revision that needs what the refused one would have made is refused as well;
//! the report says which refusal each later refusal follows, so that the first ones, the ones
//! to fix, stand out.

use serde::Serialize;

use super::Rendered;
use crate::compile::CompileError;
use crate::graph::{Direction, RevisionGraph, Step};
use crate::plan::{Mode, PlanError, Planner};

/// What became of one revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Compiled into this many statements.
    Compiled { statements: usize },
    /// Refused, with the engine's one-paragraph reason; `after` is the first refused revision
    /// before this one, when there is one (this refusal may be that one's consequence).
    Refused {
        reason: String,
        after: Option<String>,
    },
}

/// One revision of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RevisionOutcome {
    pub revision: String,
    pub path: String,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// The whole report for one database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CompileReport {
    pub database: String,
    /// Compiled as `upgrade` runs revisions (online) or as `sql` writes them (offline): a
    /// script may branch on `context.is_offline_mode()`.
    pub mode: Mode,
    /// The SQLAlchemy line whose spelling the revisions were compiled to.
    pub sqlalchemy: crate::dialect::SqlAlchemy,
    /// What the project's `env.py` configures, when it has one the engine read.
    pub env: Option<crate::compile::EnvReading>,
    pub revisions: Vec<RevisionOutcome>,
}

impl CompileReport {
    /// Compile `steps` (an upgrade path, base first) with `planner`, for the database `key`.
    pub fn build(
        planner: &Planner<'_>,
        graph: &RevisionGraph,
        steps: &[Step],
        key: &str,
    ) -> Result<CompileReport, PlanError> {
        let mut model = planner.schema_at(&[])?;
        let mut first_refusal: Option<String> = None;
        let mut revisions = Vec::with_capacity(steps.len());
        for step in steps.iter().filter(|s| s.direction == Direction::Up) {
            let rev = graph.revision(step.revision);
            let outcome = match planner
                .compiler
                .compile_step(rev, Direction::Up, model.clone())
            {
                Ok((compiled, after)) => {
                    model = after;
                    Outcome::Compiled {
                        statements: compiled.statements().count(),
                    }
                }
                Err(error) => {
                    let after = first_refusal.clone();
                    first_refusal.get_or_insert_with(|| rev.id.clone());
                    Outcome::Refused {
                        reason: reason(&error),
                        after,
                    }
                }
            };
            revisions.push(RevisionOutcome {
                revision: rev.id.clone(),
                path: rev.path.display().to_string(),
                outcome,
            });
        }
        Ok(CompileReport {
            database: key.to_string(),
            mode: planner.mode(),
            sqlalchemy: planner.compiler.dialect.sqlalchemy(),
            env: planner.compiler.env.clone(),
            revisions,
        })
    }

    /// How many revisions compiled.
    pub fn compiled(&self) -> usize {
        self.revisions
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Compiled { .. }))
            .count()
    }

    /// The report as JSON (`database`, `mode`, `sqlalchemy`, `compiled`, `refused`, `revisions`) and as text: one line
    /// per revision, then the totals.
    pub fn rendered(&self) -> Rendered {
        let compiled = self.compiled();
        let refused = self.revisions.len() - compiled;
        let mut text = String::new();
        for r in &self.revisions {
            match &r.outcome {
                Outcome::Compiled { statements } => text.push_str(&format!(
                    "{}  compiled ({statements} statements)\n",
                    r.revision
                )),
                Outcome::Refused { reason, after } => {
                    let after = after
                        .as_ref()
                        .map(|a| format!(" [after the refusal of {a}]"))
                        .unwrap_or_default();
                    text.push_str(&format!("{}  refused{after}: {reason}\n", r.revision));
                }
            }
        }
        let mode = match self.mode {
            Mode::Online => "upgrade",
            Mode::Offline => "sql",
        };
        let env = self.env.as_ref().map(|env| {
            let convention: serde_json::Map<String, serde_json::Value> = env
                .naming_convention
                .iter()
                .map(|(k, v)| (k.clone(), v.clone().into()))
                .collect();
            match (&env.unread, &env.declared_in) {
                (Some(why), Some(declared)) => text.push_str(&format!(
                    "env.py: its target_metadata could not be read ({why}); the naming \
                     convention declared in {declared} is used\n"
                )),
                (Some(why), None) => text.push_str(&format!(
                    "env.py: its target_metadata could not be read ({why}); constraints Alembic \
                     would name by its naming convention are named as without one\n"
                )),
                (None, _) if convention.is_empty() => {
                    text.push_str("env.py: no naming convention on its target_metadata\n")
                }
                (None, _) => text.push_str(&format!(
                    "env.py: naming convention of its target_metadata: {}\n",
                    env.naming_convention
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            }
            match (&env.version_locations, &env.version_locations_unread) {
                (Some(folders), _) => text.push_str(&format!(
                    "env.py: revisions read from the version folders it sets: {}\n",
                    folders
                        .iter()
                        .map(|f| f.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
                (None, Some(why)) => text.push_str(&format!(
                    "env.py: version folders not read ({why}); revisions read from the folders \
                     given or configured\n"
                )),
                (None, None) => {}
            }
            serde_json::json!({
                "naming_convention": convention,
                "version_locations": env.version_locations,
                "version_locations_unread": env.version_locations_unread,
                "read_from": env.source,
                "unread": env.unread,
                "declared_in": env.declared_in,
                "version_table": env.version_table,
            })
        });
        text.push_str(&format!(
            "{compiled} of {} revisions compile for {} ({mode}, SQLAlchemy {}); {refused} refused\n",
            self.revisions.len(),
            self.database,
            self.sqlalchemy
        ));
        Rendered {
            json: serde_json::json!({
                "database": self.database,
                "mode": mode,
                "sqlalchemy": self.sqlalchemy,
                "env": env,
                "compiled": compiled,
                "refused": refused,
                "revisions": self.revisions,
            }),
            text,
        }
    }
}

/// The error's message without the `revision X: ` prefix the report's line already gives.
fn reason(error: &CompileError) -> String {
    let text = error.to_string();
    match error {
        CompileError::Interp { revision, .. } => text
            .strip_prefix(&format!("revision {revision}: "))
            .map(str::to_string)
            .unwrap_or(text),
        _ => text,
    }
}
