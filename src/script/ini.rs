//! `alembic.ini`: the `[alembic]` section, read the way Python's configparser reads it
//! (`key = value` or `key: value`, `#`/`;` comment lines, indented continuation lines,
//! `%(name)s` interpolation with `here` = the file's folder, `%%` for a literal percent).
//!
//! Relative paths are taken relative to the ini file's folder (Alembic takes them relative to
//! the working directory, which is the same thing when it is run next to its ini, as usual).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::ScriptError;

#[derive(Debug, Clone)]
pub struct AlembicIni {
    pub path: PathBuf,
    section: HashMap<String, (String, usize)>,
}

impl AlembicIni {
    pub fn read(path: &Path) -> Result<Self, ScriptError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScriptError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Self, ScriptError> {
        let err = |line: usize, message: String| ScriptError::Ini {
            path: path.to_path_buf(),
            line,
            message,
        };
        let mut sections: HashMap<String, HashMap<String, (String, usize)>> = HashMap::new();
        let mut current: Option<String> = None;
        let mut last_key: Option<String> = None;
        for (idx, raw) in text.lines().enumerate() {
            let lineno = idx + 1;
            let trimmed = raw.trim();
            if trimmed.is_empty() {
                last_key = None;
                continue;
            }
            if trimmed.starts_with('#') || trimmed.starts_with(';') {
                continue;
            }
            let indented = raw.starts_with(' ') || raw.starts_with('\t');
            if indented {
                if let (Some(section), Some(key)) = (&current, &last_key) {
                    if let Some(entry) = sections.get_mut(section).and_then(|s| s.get_mut(key)) {
                        entry.0.push('\n');
                        entry.0.push_str(trimmed);
                        continue;
                    }
                }
            }
            if let Some(name) = trimmed.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
                current = Some(name.to_string());
                sections.entry(name.to_string()).or_default();
                last_key = None;
                continue;
            }
            let Some(section) = &current else {
                return Err(err(lineno, "a setting before any [section] header".into()));
            };
            let split = trimmed.find(['=', ':']);
            let Some(at) = split else {
                return Err(err(
                    lineno,
                    format!("expected `key = value`, found `{trimmed}`"),
                ));
            };
            let key = trimmed[..at].trim().to_lowercase();
            let value = trimmed[at + 1..].trim().to_string();
            sections
                .entry(section.clone())
                .or_default()
                .insert(key.clone(), (value, lineno));
            last_key = Some(key);
        }
        let Some(section) = sections.remove("alembic") else {
            return Err(err(0, "no [alembic] section".into()));
        };
        Ok(AlembicIni {
            path: path.to_path_buf(),
            section,
        })
    }

    fn here(&self) -> PathBuf {
        let parent = self.path.parent().unwrap_or(Path::new("."));
        let parent = if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        };
        parent
            .canonicalize()
            .unwrap_or_else(|_| parent.to_path_buf())
    }

    /// The interpolated value of a key in `[alembic]`.
    pub fn get(&self, key: &str) -> Result<Option<String>, ScriptError> {
        match self.section.get(key) {
            None => Ok(None),
            Some((raw, line)) => self.interpolate(raw, *line, 0).map(Some),
        }
    }

    fn interpolate(&self, raw: &str, line: usize, depth: usize) -> Result<String, ScriptError> {
        let err = |message: String| ScriptError::Ini {
            path: self.path.clone(),
            line,
            message,
        };
        if depth > 10 {
            return Err(err("interpolation nests too deeply".into()));
        }
        let mut out = String::new();
        let mut rest = raw;
        while let Some(at) = rest.find('%') {
            out.push_str(&rest[..at]);
            rest = &rest[at..];
            if let Some(after) = rest.strip_prefix("%%") {
                out.push('%');
                rest = after;
            } else if let Some(after) = rest.strip_prefix("%(") {
                let Some(close) = after.find(")s") else {
                    return Err(err(format!("bad interpolation syntax in `{raw}`")));
                };
                let name = after[..close].to_lowercase();
                let value = if name == "here" {
                    self.here().to_string_lossy().into_owned()
                } else {
                    match self.section.get(&name) {
                        Some((v, _)) => self.interpolate(v, line, depth + 1)?,
                        None => return Err(err(format!("`%({name})s` names no setting"))),
                    }
                };
                out.push_str(&value);
                rest = &after[close + 2..];
            } else {
                return Err(err(format!(
                    "a lone '%' in `{raw}` (write %% for a percent sign)"
                )));
            }
        }
        out.push_str(rest);
        Ok(out)
    }

    fn resolve(&self, value: &str) -> PathBuf {
        let p = PathBuf::from(value);
        if p.is_absolute() {
            p
        } else {
            self.here().join(p)
        }
    }

    pub fn script_location(&self) -> Result<PathBuf, ScriptError> {
        let Some(location) = self.get("script_location")? else {
            return Err(ScriptError::Ini {
                path: self.path.clone(),
                line: 0,
                message: "no `script_location` in [alembic]".into(),
            });
        };
        if !Path::new(&location).is_absolute() && location.contains(':') {
            return self.package_resource(&location).ok_or_else(|| {
                let package = location.split(':').next().unwrap_or_default();
                ScriptError::Ini {
                    path: self.path.clone(),
                    line: self.section.get("script_location").map_or(0, |v| v.1),
                    message: format!(
                        "script_location `{location}` is a Python package resource, and the package `{package}` is neither a folder above this file nor beside one of them (nor in `prepend_sys_path`); give the scripts folder's path instead"
                    ),
                }
            });
        }
        Ok(self.resolve(&location))
    }

    /// A package resource `pkg:sub:dir` (Alembic reads it with `importlib.resources`): the
    /// package's folder, found without Python as the folder named `pkg` holding an
    /// `__init__.py` that is this file's folder or one above it, or beside one of those, or in
    /// a `prepend_sys_path` entry; then the other parts as subfolders.
    fn package_resource(&self, location: &str) -> Option<PathBuf> {
        let mut tokens = location.split(':');
        let package = tokens.next()?;
        let here = self.here().canonicalize().ok()?;
        let is_package = |d: &Path| d.join("__init__.py").is_file();
        let mut candidates: Vec<PathBuf> = Vec::new();
        for dir in here.ancestors() {
            if dir.file_name().is_some_and(|n| n == package) {
                candidates.push(dir.to_path_buf());
            }
            candidates.push(dir.join(package));
        }
        if let Ok(Some(paths)) = self.get("prepend_sys_path") {
            for p in paths.split([',', ' ', ':']).filter(|p| !p.is_empty()) {
                candidates.push(self.resolve(p).join(package));
            }
        }
        let root = candidates.into_iter().find(|d| is_package(d))?;
        Some(tokens.fold(root, |dir, part| dir.join(part)))
    }

    /// `version_locations`, split on `path_separator` (or the legacy spaces/commas).
    pub fn version_locations(&self) -> Result<Option<Vec<PathBuf>>, ScriptError> {
        let Some(value) = self.get("version_locations")? else {
            return Ok(None);
        };
        if value.trim().is_empty() {
            return Ok(None);
        }
        let separator = match self.get("path_separator")? {
            Some(s) => Some(s),
            None => self.get("version_path_separator")?,
        };
        let parts: Vec<String> = match separator.as_deref() {
            None => value
                .split([' ', ','])
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            Some(sep) => {
                let ch = match sep {
                    "space" => " ",
                    "newline" => "\n",
                    "os" | ":" => ":",
                    ";" => ";",
                    other => {
                        return Err(ScriptError::Ini {
                            path: self.path.clone(),
                            line: self.section.get("path_separator").map_or(0, |v| v.1),
                            message: format!(
                                "'{other}' is not a valid path_separator; expected space, newline, os, ':' or ';'"
                            ),
                        })
                    }
                };
                value
                    .split(ch)
                    .filter(|s| !s.is_empty())
                    .map(|s| s.trim().to_string())
                    .collect()
            }
        };
        Ok(Some(parts.iter().map(|p| self.resolve(p)).collect()))
    }

    pub fn recursive_version_locations(&self) -> bool {
        matches!(
            self.get("recursive_version_locations")
                .ok()
                .flatten()
                .map(|v| v.to_lowercase())
                .as_deref(),
            Some("true" | "yes" | "on" | "1")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn here_interpolation_and_path_separator() {
        let ini = AlembicIni::parse(
            Path::new("/proj/alembic.ini"),
            "[alembic]\nscript_location = %(here)s/migrations\npath_separator = os\n\
             version_locations = %(here)s/a:%(here)s/b\n[loggers]\nkeys = root\n",
        )
        .unwrap();
        let here = ini.here();
        assert_eq!(ini.script_location().unwrap(), here.join("migrations"));
        assert_eq!(
            ini.version_locations().unwrap().unwrap(),
            vec![here.join("a"), here.join("b")]
        );
    }

    #[test]
    fn package_resource_locations_are_found_above_the_ini_without_python() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("app/db/migrations")).unwrap();
        std::fs::write(root.join("app/__init__.py"), "").unwrap();
        let ini_path = root.join("app/db/alembic.ini");
        let ini = AlembicIni::parse(
            &ini_path,
            "[alembic]\nscript_location = app:db:migrations\n",
        )
        .unwrap();
        assert_eq!(
            ini.script_location().unwrap(),
            root.join("app").join("db").join("migrations")
        );
        // Beside a folder above the ini (a source tree's root), or through prepend_sys_path.
        std::fs::create_dir_all(root.join("src/lib/pkg/m")).unwrap();
        std::fs::write(root.join("src/lib/pkg/__init__.py"), "").unwrap();
        let ini = AlembicIni::parse(
            &root.join("alembic.ini"),
            "[alembic]\nscript_location = pkg:m\nprepend_sys_path = src/lib\n",
        )
        .unwrap();
        assert_eq!(ini.script_location().unwrap(), root.join("src/lib/pkg/m"));
        let ini = AlembicIni::parse(&ini_path, "[alembic]\nscript_location = nopkg:x\n").unwrap();
        let err = ini.script_location().unwrap_err().to_string();
        assert!(
            err.contains("`nopkg:x` is a Python package resource, and the package `nopkg`"),
            "{err}"
        );
    }

    #[test]
    fn legacy_separator_splits_on_spaces_and_commas() {
        let ini = AlembicIni::parse(
            Path::new("/p/alembic.ini"),
            "[alembic]\nscript_location = m\nversion_locations = x, y z\n",
        )
        .unwrap();
        assert_eq!(ini.version_locations().unwrap().unwrap().len(), 3);
    }

    #[test]
    fn missing_section_is_an_error() {
        assert!(AlembicIni::parse(Path::new("a.ini"), "[other]\nx=1\n").is_err());
    }
}
