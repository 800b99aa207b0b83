//! The cache of the pinned wheel: the wheel itself and the few folders of it the built-in
//! projects read, unpacked beside it.
//!
//! Layout under the cache folder:
//! ```text
//! mlflow_skinny-3.17.2-py3-none-any.whl   the wheel, sha256 as pinned
//! mlflow-skinny-3.17.2/                   the unpacked scripts, initial models, helpers
//! mlflow-skinny-3.17.2/.sha256            manifest: the wheel's sha256, the unpacked
//!                                         prefixes, and each unpacked file's sha256
//! .lock                                   taken while the cache is being written
//! ```
//! Every use checks the wheel's hash and every unpacked file against the manifest (a few
//! milliseconds), without taking the lock or writing, so a complete cache works on a read-only
//! file system. Anything amiss — a partial download, a tampered file, a missing or extra
//! unpacked file, an older layout — is repaired under the lock: the wheel is fetched again
//! through a temporary file renamed into place, and the folder is unpacked into a staging
//! folder that replaces the old one.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::{io, sha256_file, ProjectError, WheelPin};

const MANIFEST: &str = ".sha256";
const MANIFEST_HEADER: &str = "alembic-engine wheel cache 4";

/// The paths of a cache for one pin.
#[derive(Debug, Clone)]
pub struct WheelCache {
    pub dir: PathBuf,
    pub wheel: PathBuf,
    pub unpacked: PathBuf,
}

/// What is wrong with a cache, said in the message that announces its repair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheProblem {
    WheelMissing,
    WheelHash { actual: String },
    Unpacked(String),
}

impl std::fmt::Display for CacheProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CacheProblem::WheelMissing => f.write_str("the wheel is not cached"),
            CacheProblem::WheelHash { actual } => {
                write!(
                    f,
                    "the cached wheel has sha256 {actual}, not the pinned one"
                )
            }
            CacheProblem::Unpacked(why) => write!(f, "the unpacked folder {why}"),
        }
    }
}

impl WheelCache {
    pub fn new(dir: PathBuf, pin: &WheelPin) -> Self {
        WheelCache {
            wheel: dir.join(&pin.wheel),
            unpacked: dir.join(format!("{}-{}", pin.package, pin.version)),
            dir,
        }
    }

    /// The wheel entries the built-in projects need, as path prefixes.
    pub fn prefixes(pin: &WheelPin) -> Vec<String> {
        let mut prefixes: Vec<String> = pin
            .projects
            .values()
            .flat_map(|p| {
                std::iter::once(format!("{}/", p.scripts))
                    .chain(p.initial_models.clone())
                    .chain(p.package_files.clone())
            })
            .collect();
        prefixes.sort();
        prefixes.dedup();
        prefixes
    }

    /// Remove what a killed process left: partial downloads, staging folders. Only called
    /// under the lock, so no living process is writing them.
    pub fn remove_leftovers(&self) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            if name.starts_with(".unpack-") || name.starts_with(".pip-") {
                let _ = fs::remove_dir_all(&path);
            } else if name.starts_with('.') && name.contains(".part-") {
                let _ = fs::remove_file(&path);
            }
        }
    }

    /// The wheel: present with the pinned hash?
    pub fn check_wheel(&self, pin: &WheelPin) -> Result<(), CacheProblem> {
        if !self.wheel.is_file() {
            return Err(CacheProblem::WheelMissing);
        }
        match sha256_file(&self.wheel) {
            Ok(actual) if actual == pin.sha256 => Ok(()),
            Ok(actual) => Err(CacheProblem::WheelHash { actual }),
            Err(e) => Err(CacheProblem::WheelHash {
                actual: format!("(unreadable: {e})"),
            }),
        }
    }

    /// The unpacked folder: exactly the files its manifest lists, each with its hash, from
    /// this pin's wheel and this layout.
    pub fn check_unpacked(&self, pin: &WheelPin) -> Result<(), CacheProblem> {
        let bad = |why: String| Err(CacheProblem::Unpacked(why));
        let Ok(text) = fs::read_to_string(self.unpacked.join(MANIFEST)) else {
            return bad("has no manifest".into());
        };
        let expected_head = manifest_head(pin);
        let Some(files_part) = text.strip_prefix(&expected_head) else {
            return bad("was unpacked from another wheel or layout".into());
        };
        let mut listed = BTreeMap::new();
        for line in files_part.lines() {
            let Some((hash, rel)) = line.strip_prefix("file ").and_then(|l| l.split_once(' '))
            else {
                return bad(format!("has a malformed manifest line '{line}'"));
            };
            listed.insert(rel.to_string(), hash.to_string());
        }
        let mut present = Vec::new();
        if let Err(e) = walk(&self.unpacked, &self.unpacked, &mut present) {
            return bad(format!("cannot be read: {e}"));
        }
        present.retain(|rel| rel != MANIFEST);
        for rel in &present {
            let Some(expected) = listed.get(rel) else {
                return bad(format!("holds {rel}, which the manifest does not list"));
            };
            match sha256_file(&self.unpacked.join(rel)) {
                Ok(actual) if &actual == expected => {}
                _ => return bad(format!("holds a changed {rel}")),
            }
        }
        if present.len() != listed.len() {
            let missing = listed
                .keys()
                .find(|k| !present.contains(k))
                .cloned()
                .unwrap_or_default();
            return bad(format!("lacks {missing}"));
        }
        Ok(())
    }

    /// Unpack the (checked) wheel into a staging folder with its manifest, then put it in
    /// place of the old folder.
    pub fn unpack(&self, pin: &WheelPin) -> Result<(), ProjectError> {
        let staging = self.dir.join(format!(".unpack-{}", std::process::id()));
        let _ = fs::remove_dir_all(&staging);
        let files = unpack_prefixes(&self.wheel, &staging, &Self::prefixes(pin))?;
        let mut manifest = manifest_head(pin);
        for (rel, hash) in files {
            manifest.push_str(&format!("file {hash} {rel}\n"));
        }
        let path = staging.join(MANIFEST);
        fs::write(&path, manifest).map_err(io(&path))?;
        if self.unpacked.exists() {
            fs::remove_dir_all(&self.unpacked).map_err(io(&self.unpacked))?;
        }
        fs::rename(&staging, &self.unpacked).map_err(io(&self.unpacked))?;
        Ok(())
    }
}

fn manifest_head(pin: &WheelPin) -> String {
    let mut head = format!("{MANIFEST_HEADER}\nwheel {} {}\n", pin.sha256, pin.wheel);
    for prefix in WheelCache::prefixes(pin) {
        head.push_str(&format!("prefix {prefix}\n"));
    }
    head
}

/// Relative paths (with `/`) of the files under `dir`.
fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            walk(root, &path, out)?;
        } else if let Ok(rel) = path.strip_prefix(root) {
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
    Ok(())
}

/// Extract the entries under `prefixes` (and nothing that would escape `dest`); returns each
/// written file's relative path and sha256.
fn unpack_prefixes(
    wheel: &Path,
    dest: &Path,
    prefixes: &[String],
) -> Result<Vec<(String, String)>, ProjectError> {
    use sha2::{Digest, Sha256};
    let unpack_err = |detail: String| ProjectError::Unpack {
        path: wheel.to_path_buf(),
        detail,
    };
    let file = fs::File::open(wheel).map_err(io(wheel))?;
    let mut archive = zip::ZipArchive::new(file).map_err(|e| unpack_err(e.to_string()))?;
    let mut written = Vec::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|e| unpack_err(e.to_string()))?;
        let Some(rel) = entry.enclosed_name() else {
            continue;
        };
        let rel_str = rel.to_string_lossy().replace('\\', "/");
        if entry.is_dir() || !prefixes.iter().any(|p| rel_str.starts_with(p.as_str())) {
            continue;
        }
        let out = dest.join(&rel);
        if let Some(parent) = out.parent() {
            fs::create_dir_all(parent).map_err(io(parent))?;
        }
        let mut bytes = Vec::new();
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| unpack_err(e.to_string()))?;
        fs::write(&out, &bytes).map_err(io(&out))?;
        written.push((rel_str, hex::encode(Sha256::digest(&bytes))));
    }
    if written.is_empty() {
        return Err(unpack_err(
            "it holds none of the folders the built-in projects read".into(),
        ));
    }
    Ok(written)
}
