//! `os`, `os.path` and `pathlib`, reduced to what an `env.py` uses to name folders: joining
//! and splitting paths, the process environment (read as Python would read it), and
//! `pathlib.Path` with `/`, `parent`, `name`, `resolve()`. Paths are strings, as `os.path`'s
//! are; nothing here writes to the file system.

use std::path::{Component, Path, PathBuf};

use crate::interp::{Args, Ctx, Native, NativeFunction, Result, Value};
use crate::script::ast::BinOp;

/// A function of the module `module` named `name`, taking positional path-like arguments.
fn path_function(
    module: &'static str,
    name: &'static str,
    f: fn(&[String]) -> Value,
) -> (String, Value) {
    (
        name.to_string(),
        Value::native(NativeFunction::new(
            format!("{module}.{name}"),
            move |args, kwargs, ctx| {
                if !kwargs.is_empty() {
                    return Err(ctx.type_error(format!("{name}() takes no keyword arguments")));
                }
                let paths = args
                    .iter()
                    .map(|a| fspath(a, ctx))
                    .collect::<Result<Vec<_>>>()?;
                Ok(f(&paths))
            },
        )),
    )
}

/// The string a path-like value stands for (`os.fspath`).
fn fspath(value: &Value, ctx: &mut Ctx) -> Result<String> {
    if let Some(s) = value.as_str() {
        return Ok(s.to_string());
    }
    match value.downcast_native::<PathObj>() {
        Some(p) => Ok(p.0.clone()),
        None => Err(ctx.type_error(format!(
            "expected str or os.PathLike object, not {}",
            value.type_name()
        ))),
    }
}

/// `os.path`: `join`, `dirname`, `basename`, `abspath`, `realpath`, `normpath`, `exists`,
/// `isdir`, `isfile`, `sep`.
pub(super) fn os_path_module() -> Value {
    let m = "os.path";
    Value::module(
        m,
        [
            path_function(m, "join", |p| Value::string(join(p))),
            path_function(m, "dirname", |p| Value::string(dirname(first(p)))),
            path_function(m, "basename", |p| {
                Value::string(first(p).rsplit('/').next().unwrap_or("").to_string())
            }),
            path_function(m, "abspath", |p| {
                Value::string(normalize(&absolute(first(p))))
            }),
            path_function(m, "realpath", |p| Value::string(real(first(p)))),
            path_function(m, "normpath", |p| Value::string(normalize(first(p)))),
            path_function(m, "exists", |p| Value::Bool(Path::new(first(p)).exists())),
            path_function(m, "isdir", |p| Value::Bool(Path::new(first(p)).is_dir())),
            path_function(m, "isfile", |p| Value::Bool(Path::new(first(p)).is_file())),
            ("sep".to_string(), Value::str("/")),
        ],
    )
}

/// `os`: `path`, `environ` (the process's environment, copied when imported), `getenv`,
/// `sep`, `fspath`.
pub(super) fn os_module() -> Value {
    let environ = || Value::dict_of_str(std::env::vars().map(|(k, v)| (k, Value::string(v))));
    Value::module(
        "os",
        [
            ("path".to_string(), os_path_module()),
            ("environ".to_string(), environ()),
            ("sep".to_string(), Value::str("/")),
            (
                "getenv".to_string(),
                Value::native(NativeFunction::new("os.getenv", |args, kwargs, ctx| {
                    let mut a = Args::new("os.getenv", args, kwargs);
                    let key = a.required(0, "key", ctx)?;
                    let default = a.take(1, "default").unwrap_or(Value::None);
                    a.finish(ctx)?;
                    let key = key
                        .as_str()
                        .ok_or_else(|| ctx.type_error("getenv() expects a string"))?;
                    Ok(std::env::var(key).map_or(default, Value::string))
                })),
            ),
            (
                "fspath".to_string(),
                Value::native(NativeFunction::new("os.fspath", |args, kwargs, ctx| {
                    let mut a = Args::new("os.fspath", args, kwargs);
                    let path = a.required(0, "path", ctx)?;
                    a.finish(ctx)?;
                    fspath(&path, ctx).map(Value::string)
                })),
            ),
        ],
    )
}

/// `pathlib`: `Path` (and `PurePath`, `PosixPath`, the same class here).
pub(super) fn pathlib_module() -> Value {
    let class = Value::native(PathClass);
    Value::module(
        "pathlib",
        ["Path", "PurePath", "PosixPath", "PurePosixPath"].map(|n| (n.to_string(), class.clone())),
    )
}

fn first(paths: &[String]) -> &str {
    paths.first().map_or("", String::as_str)
}

/// `os.path.dirname`: up to the last slash, trailing slashes dropped unless that is all.
fn dirname(path: &str) -> String {
    let head = &path[..path.rfind('/').map_or(0, |i| i + 1)];
    match head.trim_end_matches('/') {
        "" => head.to_string(),
        trimmed => trimmed.to_string(),
    }
}

/// `os.path.join`: an absolute part discards what came before it.
fn join(parts: &[String]) -> String {
    let mut out = String::new();
    for part in parts {
        if part.starts_with('/') || out.is_empty() {
            out = part.clone();
        } else if out.ends_with('/') {
            out.push_str(part);
        } else {
            out.push('/');
            out.push_str(part);
        }
    }
    out
}

fn absolute(path: &str) -> String {
    match path.starts_with('/') {
        true => path.to_string(),
        false => std::env::current_dir()
            .map(|cwd| join(&[cwd.display().to_string(), path.to_string()]))
            .unwrap_or_else(|_| path.to_string()),
    }
}

/// `normpath`: `.` and repeated slashes dropped, `..` taken back lexically.
fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            ".." if path.starts_with('/') => {}
            other => parts.push(other),
        }
    }
    let body = parts.join("/");
    match (path.starts_with('/'), body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".to_string(),
        (false, false) => body,
    }
}

/// `realpath` / `Path.resolve()`: symbolic links followed where the path exists.
fn real(path: &str) -> String {
    let absolute = PathBuf::from(normalize(&absolute(path)));
    match absolute.canonicalize() {
        Ok(p) => p.display().to_string(),
        Err(_) => absolute.display().to_string(),
    }
}

/// `pathlib.Path`.
#[derive(Debug)]
struct PathClass;

impl Native for PathClass {
    fn type_name(&self) -> &str {
        "pathlib.Path"
    }

    fn call(&self, args: Vec<Value>, kwargs: Vec<(String, Value)>, ctx: &mut Ctx) -> Result<Value> {
        if !kwargs.is_empty() {
            return Err(ctx.type_error("Path() takes no keyword arguments"));
        }
        let parts = args
            .iter()
            .map(|a| fspath(a, ctx))
            .collect::<Result<Vec<_>>>()?;
        Ok(PathObj::value(match parts.is_empty() {
            true => ".".to_string(),
            false => join(&parts),
        }))
    }

    fn is_instance(&self, value: &Value, _: &mut Ctx) -> Result<bool> {
        Ok(value.downcast_native::<PathObj>().is_some())
    }
}

/// A `pathlib.Path`: its string, normalised as `pathlib` does (no trailing or repeated
/// slashes, no `.` parts).
#[derive(Debug)]
pub(crate) struct PathObj(String);

impl PathObj {
    /// The path's text.
    pub(crate) fn text(&self) -> &str {
        &self.0
    }

    fn value(path: String) -> Value {
        let p = Path::new(&path);
        let mut out = PathBuf::new();
        for c in p.components() {
            if c != Component::CurDir {
                out.push(c);
            }
        }
        let text = out.display().to_string();
        Value::native(PathObj(if text.is_empty() { ".".into() } else { text }))
    }

    fn method(&self, name: &'static str, f: fn(&str) -> Value) -> Value {
        let path = self.0.clone();
        Value::native(NativeFunction::new(
            format!("Path.{name}"),
            move |args, kwargs, ctx| {
                Args::new(format!("Path.{name}"), args, kwargs).finish(ctx)?;
                Ok(f(&path))
            },
        ))
    }
}

impl Native for PathObj {
    fn type_name(&self) -> &str {
        "pathlib.Path"
    }

    fn getattr(&self, name: &str, ctx: &mut Ctx) -> Result<Value> {
        let path = Path::new(&self.0);
        let text = |s: Option<&std::ffi::OsStr>| {
            Value::string(
                s.map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            )
        };
        Ok(match name {
            "parent" => PathObj::value(match path.parent() {
                Some(p) if p.as_os_str().is_empty() => ".".into(),
                Some(p) => p.display().to_string(),
                None => self.0.clone(),
            }),
            "name" => text(path.file_name()),
            "stem" => text(path.file_stem()),
            "suffix" => Value::string(
                path.extension()
                    .map(|e| format!(".{}", e.to_string_lossy()))
                    .unwrap_or_default(),
            ),
            "resolve" => self.method("resolve", |p| PathObj::value(real(p))),
            "absolute" => self.method("absolute", |p| PathObj::value(absolute(p))),
            "exists" => self.method("exists", |p| Value::Bool(Path::new(p).exists())),
            "is_dir" => self.method("is_dir", |p| Value::Bool(Path::new(p).is_dir())),
            "is_file" => self.method("is_file", |p| Value::Bool(Path::new(p).is_file())),
            "__fspath__" | "as_posix" => self.method("as_posix", Value::str),
            "joinpath" => {
                let path = self.0.clone();
                Value::native(NativeFunction::new(
                    "Path.joinpath",
                    move |args, kwargs, ctx| {
                        if !kwargs.is_empty() {
                            return Err(ctx.type_error("joinpath() takes no keyword arguments"));
                        }
                        let mut parts = vec![path.clone()];
                        for a in &args {
                            parts.push(fspath(a, ctx)?);
                        }
                        Ok(PathObj::value(join(&parts)))
                    },
                ))
            }
            _ => return Err(ctx.native_unsupported("pathlib.Path", format!("`{name}`"))),
        })
    }

    fn binary(&self, op: BinOp, other: &Value, reflected: bool, ctx: &mut Ctx) -> Result<Value> {
        if op != BinOp::Div {
            return Err(ctx.native_unsupported("pathlib.Path", format!("the operator {op:?}")));
        }
        let other = fspath(other, ctx)?;
        Ok(PathObj::value(match reflected {
            false => join(&[self.0.clone(), other]),
            true => join(&[other, self.0.clone()]),
        }))
    }

    fn eq(&self, other: &Value, _: &mut Ctx) -> Result<bool> {
        Ok(other
            .downcast_native::<PathObj>()
            .is_some_and(|o| o.0 == self.0))
    }

    fn str(&self, _: &mut Ctx) -> Result<String> {
        Ok(self.0.clone())
    }

    fn repr(&self, _: &mut Ctx) -> Result<String> {
        Ok(format!("PosixPath('{}')", self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joining_and_normalising_as_os_path_does() {
        let s = |v: &[&str]| v.iter().map(|p| p.to_string()).collect::<Vec<_>>();
        assert_eq!(join(&s(&["a", "b/", "c"])), "a/b/c");
        assert_eq!(join(&s(&["a", "/b", "c"])), "/b/c");
        assert_eq!(normalize("/a/./b/../c//d"), "/a/c/d");
        assert_eq!(normalize("../a/.."), "..");
        assert_eq!(normalize("/.."), "/");
        assert_eq!(dirname("/a/b"), "/a");
        assert_eq!(dirname("/a"), "/");
        assert_eq!(dirname("a"), "");
        assert_eq!(dirname("/a/b/"), "/a/b");
    }
}
