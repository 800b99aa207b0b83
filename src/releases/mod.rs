//! MLflow releases and the database schema each one expects.
//!
//! `revisions/mlflow/releases.toml` (generated from PyPI by `revisions/mlflow/releases.py`) lists
//! every final `mlflow-skinny` release from 1.14.0 on, with the head revision of the tracking
//! project its wheel ships and, from 2.5.0 on, the auth project's head. The file is embedded in
//! the library and parsed once. This module answers "which revision does MLflow X expect",
//! "which releases run on a database at revision R", and "will a server of release X start on
//! this database". It knows nothing about revisions beyond their ids: ancestry questions take
//! the caller's [`RevisionGraph`], so the answers are only as complete as that graph (a graph
//! read from an older MLflow does not know newer releases' heads).
//!
//! Releases are kept in version order, which is not always the order of their heads: 3.1.0
//! expects an older revision than 3.0.1 (a patch release published after it). Ranges are
//! therefore written as runs of consecutive releases, never assumed to be one interval.

use std::collections::HashSet;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::graph::RevisionGraph;

mod project;
pub use project::{ReleaseHeadError, SchemaReleases};

/// The generated table, embedded at build time.
const BUILTIN: &str = include_str!("../../revisions/mlflow/releases.toml");

/// One published MLflow release and the schema its wheel ships.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Release {
    /// The release number on PyPI, e.g. `2.9.2`.
    pub version: String,
    /// Upload date of the release's wheel (`YYYY-MM-DD`).
    pub published: String,
    /// PyPI marks the release yanked (still installable when pinned exactly).
    #[serde(default)]
    pub yanked: bool,
    /// The single head of the tracking project (`mlflow/store/db_migrations`).
    pub head: String,
    /// How many revision files the tracking project has in this release.
    pub revisions: usize,
    /// The head of the auth project (`mlflow/server/auth/db/migrations`), from 2.5.0 on.
    #[serde(default)]
    pub auth_head: Option<String>,
    /// How many revision files the auth project has, when shipped.
    #[serde(default)]
    pub auth_revisions: Option<usize>,
}

impl Release {
    /// Whether a tracking server of this release starts on a database whose `alembic_version`
    /// table holds `rows`.
    ///
    /// MLflow's tracking store checks the schema when it opens a populated database
    /// (`_verify_schema` in `mlflow/store/db/utils.py`): the version table's revision must
    /// *equal* the scripts' head. An older database is refused ("out-of-date database schema,
    /// run `mlflow db upgrade`"), and so is a newer one; an empty version table reads as no
    /// revision and is refused; two rows make Alembic's current-revision query fail.
    ///
    /// ```
    /// use alembic_engine::releases::Releases;
    ///
    /// let release = Releases::builtin().get("2.9.2")?;
    /// assert!(release.starts_on(&["acf3f17fdcc7"]));
    /// assert!(!release.starts_on(&["867495a8f9d4"])); // newer than 2.9.2's schema
    /// assert!(!release.starts_on::<&str>(&[]));
    /// # Ok::<(), alembic_engine::releases::ReleaseError>(())
    /// ```
    pub fn starts_on<S: AsRef<str>>(&self, rows: &[S]) -> bool {
        matches!(rows, [only] if only.as_ref() == self.head)
    }
}

/// Why a release or revision could not be answered for.
#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    #[error("MLflow {version} is not a known release{}; nearest known: {}", before_first(.first_known, .version), .nearest.join(", "))]
    UnknownRelease {
        version: String,
        /// Known releases closest to the one asked for (same minor series and neighbours).
        nearest: Vec<String>,
        /// The first release listed (`mlflow-skinny` starts there).
        first_known: String,
    },
    #[error("revision {revision} is not in the revision graph given")]
    UnknownRevision { revision: String },
    #[error("releases table: {message}")]
    Invalid { message: String },
}

fn before_first(first_known: &str, version: &str) -> String {
    match (version_key(version), version_key(first_known)) {
        (Some(asked), Some(first)) if asked < first => {
            format!(" (the list starts with mlflow-skinny's first release, {first_known})")
        }
        _ => String::new(),
    }
}

/// Where the releases stand relative to one revision (see [`Releases::place`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Placement<'a> {
    /// Releases whose head is a strict ancestor: their servers expect an older schema.
    pub before: Vec<&'a Release>,
    /// Releases whose head is the revision itself.
    pub at: Vec<&'a Release>,
    /// Releases whose head descends from the revision: upgrading to them runs past it.
    pub after: Vec<&'a Release>,
    /// Releases whose head is in the graph but on another branch (neither side).
    pub elsewhere: Vec<&'a Release>,
    /// Releases whose head the graph does not know (a graph from an older MLflow).
    pub unknown: Vec<&'a Release>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    source: String,
    first_skinny: String,
    release: Vec<Release>,
}

/// The table of MLflow releases, in version order.
#[derive(Debug, Clone)]
pub struct Releases {
    source: String,
    releases: Vec<Release>,
}

impl Releases {
    /// The table embedded from `revisions/mlflow/releases.toml`, parsed on first use.
    ///
    /// ```
    /// use alembic_engine::releases::Releases;
    ///
    /// let releases = Releases::builtin();
    /// assert_eq!(releases.all()[0].version, "1.14.0");
    /// assert_eq!(releases.head_of("3.17.2")?, "dc11669786a5");
    /// # Ok::<(), alembic_engine::releases::ReleaseError>(())
    /// ```
    pub fn builtin() -> &'static Releases {
        static BUILT: OnceLock<Releases> = OnceLock::new();
        BUILT.get_or_init(|| {
            // The embedded file is part of the build and checked by this module's tests.
            Releases::parse(BUILTIN).expect("the embedded releases.toml is valid")
        })
    }

    /// Parse a table in `releases.toml`'s format; releases must be in ascending version order.
    pub fn parse(text: &str) -> Result<Releases, ReleaseError> {
        let file: File = toml::from_str(text).map_err(|e| ReleaseError::Invalid {
            message: e.to_string(),
        })?;
        let mut previous: Option<Vec<u64>> = None;
        for release in &file.release {
            let key = version_key(&release.version).ok_or_else(|| ReleaseError::Invalid {
                message: format!("{:?} is not a release number", release.version),
            })?;
            if previous.as_ref().is_some_and(|p| *p >= key) {
                return Err(ReleaseError::Invalid {
                    message: format!("{} is out of version order", release.version),
                });
            }
            previous = Some(key);
        }
        if file.release.first().map(|r| &r.version) != Some(&file.first_skinny) {
            return Err(ReleaseError::Invalid {
                message: format!(
                    "first_skinny {} is not the first release",
                    file.first_skinny
                ),
            });
        }
        Ok(Releases {
            source: file.source,
            releases: file.release,
        })
    }

    /// Where the table was generated from (PyPI's JSON API for `mlflow-skinny`).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Every release, oldest first.
    pub fn all(&self) -> &[Release] {
        &self.releases
    }

    /// The newest release listed.
    pub fn latest(&self) -> &Release {
        // `parse` accepts no empty table: `first_skinny` must name the first release.
        &self.releases[self.releases.len() - 1]
    }

    /// A release by its number; an unknown number is an error naming the nearest known ones.
    ///
    /// ```
    /// use alembic_engine::releases::{Releases, ReleaseError};
    ///
    /// let err = Releases::builtin().get("2.9.7").unwrap_err();
    /// assert!(matches!(&err, ReleaseError::UnknownRelease { nearest, .. }
    ///     if nearest == &["2.9.0", "2.9.1", "2.9.2", "2.10.0"]));
    /// assert_eq!(
    ///     err.to_string(),
    ///     "MLflow 2.9.7 is not a known release; nearest known: 2.9.0, 2.9.1, 2.9.2, 2.10.0"
    /// );
    /// ```
    pub fn get(&self, version: &str) -> Result<&Release, ReleaseError> {
        let version = version.trim();
        self.releases
            .iter()
            .find(|r| r.version == version)
            .ok_or_else(|| ReleaseError::UnknownRelease {
                version: version.to_string(),
                nearest: self.nearest(version),
                first_known: self.releases[0].version.clone(),
            })
    }

    /// Whether `version` is a release number above every release listed (published after
    /// this table was generated), as opposed to a gap in it.
    ///
    /// ```
    /// use alembic_engine::releases::Releases;
    ///
    /// let releases = Releases::builtin();
    /// assert!(releases.after_latest("99.0.0"));
    /// assert!(!releases.after_latest("2.9.7"));
    /// assert!(!releases.after_latest("not-a-version"));
    /// ```
    pub fn after_latest(&self, version: &str) -> bool {
        match (
            version_key(version.trim()),
            version_key(&self.latest().version),
        ) {
            (Some(asked), Some(latest)) => asked > latest,
            _ => false,
        }
    }

    /// The tracking-project revision a release's server expects.
    pub fn head_of(&self, version: &str) -> Result<&str, ReleaseError> {
        Ok(&self.get(version)?.head)
    }

    /// The auth-project revision a release expects; `None` before the auth project existed.
    pub fn auth_head_of(&self, version: &str) -> Result<Option<&str>, ReleaseError> {
        Ok(self.get(version)?.auth_head.as_deref())
    }

    /// The releases whose tracking head is exactly `revision`, oldest first.
    ///
    /// ```
    /// use alembic_engine::releases::Releases;
    ///
    /// let releases = Releases::builtin();
    /// let at = releases.releases_at("acf3f17fdcc7");
    /// assert_eq!(releases.range_text(&at), "MLflow 2.8.0 – 2.12.2");
    /// // 3.1.0 ships an older head than 3.0.1: two runs.
    /// assert_eq!(releases.range_text(&releases.releases_at("6953534de441")), "MLflow 3.0.0, 3.1.0");
    /// ```
    pub fn releases_at(&self, revision: &str) -> Vec<&Release> {
        self.releases
            .iter()
            .filter(|r| r.head == revision)
            .collect()
    }

    /// `releases` as text: runs of releases consecutive in this table joined by an en dash,
    /// runs separated by commas ("MLflow 2.9.0 – 2.10.2", "MLflow 3.0.0, 3.1.0").
    pub fn range_text(&self, releases: &[&Release]) -> String {
        let positions: Vec<usize> = {
            let wanted: HashSet<&str> = releases.iter().map(|r| r.version.as_str()).collect();
            (0..self.releases.len())
                .filter(|&i| wanted.contains(self.releases[i].version.as_str()))
                .collect()
        };
        if positions.is_empty() {
            return "no MLflow release".to_string();
        }
        let mut runs: Vec<(usize, usize)> = Vec::new();
        for i in positions {
            match runs.last_mut() {
                Some((_, end)) if *end + 1 == i => *end = i,
                _ => runs.push((i, i)),
            }
        }
        let runs: Vec<String> = runs
            .into_iter()
            .map(|(start, end)| {
                let (first, last) = (&self.releases[start].version, &self.releases[end].version);
                if start == end {
                    first.clone()
                } else {
                    format!("{first} – {last}")
                }
            })
            .collect();
        format!("MLflow {}", runs.join(", "))
    }

    /// Sort the releases by where their tracking head stands relative to `revision` in
    /// `graph` (ancestry through `down_revision` and `depends_on`, as an upgrade runs it).
    ///
    /// ```
    /// use alembic_engine::graph::RevisionGraph;
    /// use alembic_engine::releases::Releases;
    /// use alembic_engine::script::Revision;
    ///
    /// // A stretch of MLflow's history (the real ids and parents).
    /// let graph = RevisionGraph::build(vec![
    ///     Revision::synthetic("acf3f17fdcc7", &[], &[], &[]),
    ///     Revision::synthetic("867495a8f9d4", &["acf3f17fdcc7"], &[], &[]),
    ///     Revision::synthetic("5b0e9adcef9c", &["867495a8f9d4"], &[], &[]),
    /// ])?;
    /// let releases = Releases::builtin();
    /// let placement = releases.place(&graph, "867495a8f9d4")?;
    /// assert_eq!(releases.range_text(&placement.before), "MLflow 2.8.0 – 2.12.2");
    /// assert_eq!(releases.range_text(&placement.at), "MLflow 2.13.0");
    /// assert_eq!(releases.range_text(&placement.after), "MLflow 2.13.1 – 2.14.3");
    /// // Every other release's head is outside this small graph.
    /// assert_eq!(placement.unknown.len(), releases.all().len() - 25);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn place<'a>(
        &'a self,
        graph: &RevisionGraph,
        revision: &str,
    ) -> Result<Placement<'a>, ReleaseError> {
        let ix = graph
            .get(revision)
            .ok_or_else(|| ReleaseError::UnknownRevision {
                revision: revision.to_string(),
            })?;
        let descendants = graph.descendants(&[ix], true);
        let ancestors = graph.ancestors(&[ix], true);
        let mut placement = Placement::default();
        for release in &self.releases {
            let side = match graph.get(&release.head) {
                None => &mut placement.unknown,
                Some(head) if head == ix => &mut placement.at,
                Some(head) if descendants.contains(&head) => &mut placement.after,
                Some(head) if ancestors.contains(&head) => &mut placement.before,
                Some(_) => &mut placement.elsewhere,
            };
            side.push(release);
        }
        Ok(placement)
    }

    /// The releases whose tracking head is `revision` or descends from it: the releases whose
    /// schema includes that revision (heads unknown to `graph` are left out).
    pub fn releases_containing<'a>(
        &'a self,
        graph: &RevisionGraph,
        revision: &str,
    ) -> Result<Vec<&'a Release>, ReleaseError> {
        let placement = self.place(graph, revision)?;
        let mut containing = placement.at;
        containing.extend(placement.after);
        containing.sort_by_key(|r| version_key(&r.version));
        Ok(containing)
    }

    /// Whether a tracking server of `release` starts on a database whose `alembic_version`
    /// holds `current_rows` (see [`Release::starts_on`]: exact equality with the head).
    ///
    /// ```
    /// use alembic_engine::releases::Releases;
    ///
    /// let releases = Releases::builtin();
    /// assert!(releases.compatible_server(&["dc11669786a5"], "3.17.2")?);
    /// assert!(!releases.compatible_server(&["dc11669786a5"], "3.18.0")?);
    /// assert!(releases.compatible_server(&["dc11669786a5"], "9.9.9").is_err());
    /// # Ok::<(), alembic_engine::releases::ReleaseError>(())
    /// ```
    pub fn compatible_server<S: AsRef<str>>(
        &self,
        current_rows: &[S],
        release: &str,
    ) -> Result<bool, ReleaseError> {
        Ok(self.get(release)?.starts_on(current_rows))
    }

    /// Known releases of the same minor series as `version`, plus the closest release below
    /// and above it; for text that is no release number, the newest release.
    fn nearest(&self, version: &str) -> Vec<String> {
        let Some(asked) = version_key(version) else {
            return vec![self.latest().version.clone()];
        };
        let keys: Vec<Vec<u64>> = self
            .releases
            .iter()
            .filter_map(|r| version_key(&r.version))
            .collect();
        let below = keys.iter().rposition(|k| *k < asked);
        let above = keys.iter().position(|k| *k > asked);
        let series = |k: &Vec<u64>| k.len() >= 2 && asked.len() >= 2 && k[..2] == asked[..2];
        (0..keys.len())
            .filter(|&i| Some(i) == below || Some(i) == above || series(&keys[i]))
            .map(|i| self.releases[i].version.clone())
            .collect()
    }
}

/// `2.10.1` as `[2, 10, 1]`; `None` for anything but dot-separated numbers.
fn version_key(version: &str) -> Option<Vec<u64>> {
    version.split('.').map(|part| part.parse().ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_builtin_table_parses_in_version_order() {
        let releases = Releases::builtin();
        assert_eq!(releases.all()[0].version, "1.14.0");
        assert!(releases.all().len() > 100);
        assert!(releases.source().starts_with("https://pypi.org/"));
    }

    #[test]
    fn releases_parse_rejects_out_of_order_versions() {
        let text = "source = \"x\"\nfirst_skinny = \"2.10.0\"\n\
                    [[release]]\nversion = \"2.10.0\"\npublished = \"d\"\nhead = \"a\"\nrevisions = 1\n\
                    [[release]]\nversion = \"2.9.0\"\npublished = \"d\"\nhead = \"a\"\nrevisions = 1\n";
        let err = Releases::parse(text).unwrap_err();
        assert_eq!(
            err.to_string(),
            "releases table: 2.9.0 is out of version order"
        );
    }

    #[test]
    fn releases_unknown_before_the_first_says_where_the_list_starts() {
        let err = Releases::builtin().get("1.2.0").unwrap_err();
        assert_eq!(
            err.to_string(),
            "MLflow 1.2.0 is not a known release (the list starts with mlflow-skinny's first \
             release, 1.14.0); nearest known: 1.14.0"
        );
    }

    #[test]
    fn releases_range_text_of_nothing_says_so() {
        let releases = Releases::builtin();
        assert_eq!(
            releases.range_text(&releases.releases_at("000000000000")),
            "no MLflow release"
        );
    }
}
