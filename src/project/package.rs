//! The Python package a generic project's scripts live in, found on disk without Python.

use std::path::{Path, PathBuf};

use crate::dialect::SqlAlchemy;

use super::ProjectError;

/// The line of the SQLAlchemy installed in `root` (a `site-packages` folder, or a source tree
/// that vendors it): `sqlalchemy/__init__.py`'s `__version__`. `None` when there is none or it
/// names no version; an error when it is a line whose spelling is not reproduced.
pub(super) fn sqlalchemy_beside(root: &Path) -> Result<Option<SqlAlchemy>, ProjectError> {
    let path = root.join("sqlalchemy").join("__init__.py");
    let Ok(source) = std::fs::read_to_string(&path) else {
        return Ok(None);
    };
    let Some(version) = source.lines().find_map(|line| {
        let value = line
            .strip_prefix("__version__")?
            .trim_start()
            .strip_prefix('=')?;
        Some(value.trim().trim_matches(['"', '\'']).to_string())
    }) else {
        return Ok(None);
    };
    match SqlAlchemy::of_version(&version) {
        Some(line) => Ok(Some(line)),
        None => Err(ProjectError::SqlAlchemyLine {
            path,
            found: version,
        }),
    }
}

/// The top-level Python package a script directory lies in, and the folder holding it: the
/// outermost of the unbroken chain of folders with an `__init__.py` above and including `dir`
/// (or its parent, for a scripts folder that is not a package itself, as Prefect's).
pub(super) fn enclosing_package(dir: &Path) -> Option<(PathBuf, String)> {
    let dir = dir.canonicalize().ok()?;
    let mut top = None;
    let start = if dir.join("__init__.py").is_file() {
        Some(dir.as_path())
    } else {
        dir.parent()
    };
    let mut at = start;
    while let Some(d) = at.filter(|d| d.join("__init__.py").is_file()) {
        top = Some(d.to_path_buf());
        at = d.parent();
    }
    let top = top?;
    let name = top.file_name()?.to_str()?.to_string();
    Some((top.parent()?.to_path_buf(), name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn the_enclosing_package_is_the_outermost_unbroken_chain_of_packages() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().canonicalize().unwrap();
        let touch = |p: &str| {
            let path = root.join(p);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, "").unwrap();
        };
        touch("site/app/__init__.py");
        touch("site/app/db/__init__.py");
        touch("site/app/db/migrations/__init__.py");
        touch("site/app/server/__init__.py");
        fs::create_dir_all(root.join("site/app/server/_migrations")).unwrap();
        fs::create_dir_all(root.join("plain/migrations")).unwrap();
        let expected = Some((root.join("site"), "app".to_string()));
        // A scripts folder that is a package, and one that is a plain folder of a package.
        assert_eq!(
            enclosing_package(&root.join("site/app/db/migrations")),
            expected
        );
        assert_eq!(
            enclosing_package(&root.join("site/app/server/_migrations")),
            expected
        );
        assert_eq!(enclosing_package(&root.join("plain/migrations")), None);
    }
}
