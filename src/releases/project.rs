//! A project's scripts against MLflow's releases: which revision a release's server expects
//! in this project (tracking or auth), whether the scripts at hand know it, which releases a
//! database's version rows are the schema of, and which release first shipped a revision.
//!
//! Only the built-in `mlflow` and `mlflow-auth` projects have releases; a generic Alembic
//! project answers `None` or [`ReleaseHeadError::NotMlflow`]. A project read from a release's
//! own wheel that the table does not list yet (published after this build) takes its head
//! from the scripts themselves.

use std::fmt;

use super::{ReleaseError, Releases};
use crate::graph::RevisionGraph;
use crate::project::{Project, ScriptOrigin};

/// Why a release's head revision could not be named for a project.
#[derive(Debug, thiserror::Error)]
pub enum ReleaseHeadError {
    #[error(transparent)]
    Release(#[from] ReleaseError),
    #[error("MLflow {version}'s scripts have more than one head")]
    SeveralHeads { version: String },
    #[error("MLflow {version} has no auth database (it appears in 2.5.0)")]
    NoAuthDatabase { version: String },
    /// Releases are MLflow's; `project` is another Alembic project.
    #[error(
        "MLflow releases name schemas of the mlflow projects; the project here is '{project}'"
    )]
    NotMlflow { project: String },
}

/// The releases whose schema a database's single version row is (tracking project only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaReleases {
    /// The releases whose head is the row, as [`Releases::range_text`] writes them.
    Of(String),
    /// No release's head: the newest release before it and the oldest after it, if any.
    Between {
        before: Option<String>,
        after: Option<String>,
    },
}

impl fmt::Display for SchemaReleases {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (before, after) = match self {
            SchemaReleases::Of(range) => return f.write_str(range),
            SchemaReleases::Between { before, after } => (before, after),
        };
        match (before, after) {
            (Some(b), Some(a)) => write!(
                f,
                "no release's schema: after MLflow {b}, before MLflow {a}"
            ),
            (None, Some(a)) => write!(f, "no release's schema: before MLflow {a}"),
            (Some(b), None) => write!(f, "no release's schema: after MLflow {b}"),
            (None, None) => f.write_str("no known release"),
        }
    }
}

impl Releases {
    /// The head revision MLflow release `version` ships for `project`: from the table, or,
    /// for a release newer than it whose wheel the project was read from, the graph's head.
    pub fn head_for(
        &self,
        project: &Project,
        graph: &RevisionGraph,
        version: &str,
    ) -> Result<String, ReleaseHeadError> {
        let from_wheel = matches!(&project.origin,
            ScriptOrigin::Wheel { requested: Some(v), .. } if v == version);
        if from_wheel && self.get(version).is_err() {
            return match graph.heads()[..] {
                [head] => Ok(graph.id(head).to_string()),
                _ => Err(ReleaseHeadError::SeveralHeads {
                    version: version.to_string(),
                }),
            };
        }
        match self.project_head(project, version) {
            Some(head) => Ok(head?.ok_or_else(|| ReleaseHeadError::NoAuthDatabase {
                version: version.to_string(),
            })?),
            None => Err(ReleaseHeadError::NotMlflow {
                project: project.name.clone(),
            }),
        }
    }

    /// Whether targeting release `version` needs that (listed) release's own scripts: its
    /// head is not among the revisions in `graph`.
    pub fn lacking(&self, project: &Project, graph: &RevisionGraph, version: &str) -> bool {
        matches!(self.project_head(project, version), Some(Ok(Some(head))) if graph.get(&head).is_none())
    }

    /// The releases whose schema the version `rows` are: `None` unless `project` is MLflow's
    /// tracking project and there is exactly one row the graph knows.
    pub fn schema_of(
        &self,
        project: &Project,
        graph: &RevisionGraph,
        rows: &[String],
    ) -> Option<SchemaReleases> {
        let ([row], "mlflow") = (rows, project.name.as_str()) else {
            return None;
        };
        let at = self.releases_at(row);
        if !at.is_empty() {
            return Some(SchemaReleases::Of(self.range_text(&at)));
        }
        let place = self.place(graph, row).ok()?;
        let version = |r: &&super::Release| r.version.clone();
        Some(SchemaReleases::Between {
            before: place
                .before
                .iter()
                .max_by_key(|r| &r.published)
                .map(version),
            after: place.after.iter().min_by_key(|r| &r.published).map(version),
        })
    }

    /// The first release whose schema includes `revision` (tracking project only).
    pub fn introducing(
        &self,
        project: &Project,
        graph: &RevisionGraph,
        revision: &str,
    ) -> Option<String> {
        if project.name != "mlflow" {
            return None;
        }
        let containing = self.releases_containing(graph, revision).ok()?;
        containing.first().map(|r| r.version.clone())
    }

    /// The listed head of `version` in `project` (`Ok(None)`: an auth database before it
    /// existed); `None` for a project that is not MLflow's.
    fn project_head(
        &self,
        project: &Project,
        version: &str,
    ) -> Option<Result<Option<String>, ReleaseError>> {
        let owned = |head: Option<&str>| head.map(str::to_string);
        match project.name.as_str() {
            "mlflow" => Some(self.head_of(version).map(|h| owned(Some(h)))),
            "mlflow-auth" => Some(self.auth_head_of(version).map(owned)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_between_releases_names_the_neighbours() {
        let both = SchemaReleases::Between {
            before: Some("2.9.2".into()),
            after: Some("2.10.0".into()),
        };
        assert_eq!(
            both.to_string(),
            "no release's schema: after MLflow 2.9.2, before MLflow 2.10.0"
        );
        let none = SchemaReleases::Between {
            before: None,
            after: None,
        };
        assert_eq!(none.to_string(), "no known release");
    }
}
