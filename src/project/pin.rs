//! The pinned MLflow wheel (`revisions/mlflow/source.toml`): which release, its sha256, and
//! where each built-in project's scripts lie inside it; and the pins of other releases,
//! recorded in the cache on first use.

use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{io, ProjectError};

const SOURCE_TOML: &str = include_str!("../../revisions/mlflow/source.toml");

#[derive(Debug, Clone, Deserialize)]
pub struct WheelPin {
    pub package: String,
    pub version: String,
    pub wheel: String,
    pub sha256: String,
    pub projects: std::collections::BTreeMap<String, ProjectPin>,
    /// For a release no pin names: the file its sha256 was recorded in on first use.
    #[serde(skip)]
    pub recorded_in: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ProjectPin {
    pub scripts: String,
    pub version_table: String,
    /// Tables the application creates before its first revision (relative to the package root).
    #[serde(default)]
    pub initial_models: Option<String>,
    /// Further package files the scripts import (interpreted, not run).
    #[serde(default)]
    pub package_files: Vec<String>,
}

impl WheelPin {
    pub fn builtin() -> Self {
        toml::from_str(SOURCE_TOML)
            .expect("revisions/mlflow/source.toml is valid (checked by a test)")
    }

    /// The file name of release `version`'s pure-Python wheel of the same package.
    pub fn wheel_of(&self, version: &str) -> String {
        format!(
            "{}-{version}-py3-none-any.whl",
            self.package.replace('-', "_")
        )
    }

    /// The same projects, read from another release's wheel whose sha256 was recorded in
    /// `recorded_in` on first use.
    pub fn for_release(&self, version: &str, sha256: &str, recorded_in: PathBuf) -> WheelPin {
        WheelPin {
            version: version.to_string(),
            wheel: self.wheel_of(version),
            sha256: sha256.to_string(),
            recorded_in: Some(recorded_in),
            ..self.clone()
        }
    }

    /// Where the sha256 comes from, as messages say it.
    pub fn pinned_by(&self) -> String {
        match &self.recorded_in {
            None => "revisions/mlflow/source.toml".into(),
            Some(path) => format!("the hash recorded on first use in {}", path.display()),
        }
    }
}

/// The pin of release `version` if its sha256 was recorded in `record`.
pub(super) fn recorded_pin(
    builtin: &WheelPin,
    version: &str,
    record: &Path,
) -> Result<Option<WheelPin>, ProjectError> {
    let text = match fs::read_to_string(record) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(record)(e)),
    };
    let hash = text.trim().to_ascii_lowercase();
    if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ProjectError::RecordedHash {
            path: record.to_path_buf(),
            text: text.trim().chars().take(80).collect(),
        });
    }
    Ok(Some(builtin.for_release(
        version,
        &hash,
        record.to_path_buf(),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_pin_parses_and_names_both_projects() {
        let pin = WheelPin::builtin();
        assert_eq!(pin.version, "3.17.2");
        assert_eq!(pin.sha256.len(), 64);
        assert_eq!(
            pin.projects["mlflow-auth"].version_table,
            "alembic_version_auth"
        );
    }
}
