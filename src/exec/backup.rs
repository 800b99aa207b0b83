//! A backup taken under the upgrade lock, right before a run's first statement: SQLite's own
//! consistent copy (`VACUUM INTO`), or the server's dump tool (`pg_dump`, `mariadb-dump` /
//! `mysqldump`) found on PATH, given the URL's credentials through the environment (never on
//! a command line that `ps` or a log would show). A backup that fails, or finds too little
//! room, stops the run before anything changed.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::ExecError;
use crate::db::{Backend, Conn, DbUrl, Params};

/// What to back up before a run changes anything.
#[derive(Debug, Clone, Default)]
pub enum Backup {
    #[default]
    None,
    /// SQLite: a consistent copy of the database file, beside it or in `dir`.
    SqliteCopy { dir: Option<PathBuf> },
    /// PostgreSQL, MySQL, MariaDB: the server's dump tool writes into `dir`.
    Dump { url: Box<DbUrl>, dir: PathBuf },
}

/// A backup that was made: where, how big, and how to put it back.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BackupMade {
    pub path: PathBuf,
    pub bytes: u64,
    /// The command that restores it (the password left out).
    pub restore: String,
}

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("not enough room for the backup in {dir}: it needs about {needed} bytes, {available} are free; nothing was changed")]
    NoRoom {
        dir: PathBuf,
        needed: u64,
        available: u64,
    },
    #[error("the backup tool {tool} could not start ({reason}); nothing was changed")]
    Tool { tool: String, reason: String },
    #[error("the backup by {tool} failed (exit {status}): {stderr}; nothing was changed")]
    Failed {
        tool: String,
        status: String,
        stderr: String,
    },
    #[error("the backup {path} is empty or missing after {tool} ran; nothing was changed")]
    Empty { tool: String, path: PathBuf },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// `stem` + `ext` in `dir`, or, when a backup of the same second is already there (two runs
/// within one second), `stem-2` + `ext`, `stem-3` + `ext`, …: never an existing file.
fn free_path(dir: &Path, stem: &str, ext: &str) -> PathBuf {
    let mut path = dir.join(format!("{stem}{ext}"));
    let mut n = 2;
    while path.exists() {
        path = dir.join(format!("{stem}-{n}{ext}"));
        n += 1;
    }
    path
}

fn stamp() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    super::status::utc_text(&secs.to_string())
        .trim_end_matches(" UTC")
        .replace(['-', ':'], "")
        .replace(' ', "T")
}

/// Take the backup `backup` asks for; `label` goes into the file name (`before-<revision>`).
pub(super) async fn take(
    conn: &mut Conn,
    backup: &Backup,
    label: &str,
) -> Result<Option<BackupMade>, ExecError> {
    match backup {
        Backup::None => Ok(None),
        Backup::SqliteCopy { dir } => sqlite_copy(conn, dir.as_deref(), label).await,
        Backup::Dump { url, dir } => Ok(Some(dump(url, dir, label)?)),
    }
}

async fn sqlite_copy(
    conn: &mut Conn,
    dir: Option<&Path>,
    label: &str,
) -> Result<Option<BackupMade>, ExecError> {
    if conn.backend() != Backend::Sqlite {
        return Ok(None);
    }
    let file = conn
        .strings("SELECT file FROM pragma_database_list WHERE name = 'main'")
        .await?
        .into_iter()
        .flatten()
        .next()
        .unwrap_or_default();
    if file.is_empty() {
        return Ok(None); // an in-memory database
    }
    let file = PathBuf::from(file);
    let dir = dir
        .map(Path::to_path_buf)
        .or_else(|| file.parent().map(Path::to_path_buf))
        .unwrap_or_default();
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "database".into());
    let path = free_path(&dir, &format!("{name}.backup-{label}-{}", stamp()), "");
    let size = conn
        .strings(
            "SELECT CAST(page_count * page_size AS TEXT) FROM pragma_page_count, pragma_page_size",
        )
        .await?
        .into_iter()
        .flatten()
        .next()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(0);
    let available = fs4::available_space(&dir).map_err(|source| BackupError::Io {
        path: dir.clone(),
        source,
    })?;
    // The copy is compacted, so never larger than the file; keep a margin for the journal.
    let needed = size + size / 10 + (1 << 20);
    if available < needed {
        return Err(BackupError::NoRoom {
            dir,
            needed,
            available,
        }
        .into());
    }
    let quoted = path.display().to_string().replace('\'', "''");
    conn.execute(&format!("VACUUM INTO '{quoted}'")).await?;
    let bytes = std::fs::metadata(&path)
        .map_err(|source| BackupError::Io {
            path: path.clone(),
            source,
        })?
        .len();
    let restore = format!("cp '{}' '{}'", path.display(), file.display());
    Ok(Some(BackupMade {
        path,
        bytes,
        restore,
    }))
}

/// The dump tool for a server, and its arguments (no password: it goes in the environment).
pub fn dump_command(url: &DbUrl, file: &Path) -> (String, Vec<String>) {
    let mut args = Vec::new();
    let mut push = |a: &str, b: Option<String>| {
        if let Some(b) = b {
            args.push(a.to_string());
            args.push(b);
        }
    };
    let (host, port) = endpoint(url);
    match url.backend {
        Backend::Postgres => {
            push("--host", host);
            push("--port", port.map(|p| p.to_string()));
            push("--username", url.user.clone());

            args.extend([
                "--format=custom".to_string(),
                "--no-password".to_string(),
                format!("--file={}", file.display()),
                url.database.clone(),
            ]);
            ("pg_dump".into(), args)
        }
        _ => {
            match &url.params {
                Params::Mysql(m) if m.unix_socket.is_some() => push(
                    "--socket",
                    m.unix_socket.as_ref().map(|p| p.display().to_string()),
                ),
                _ => {
                    push("--host", host);
                    push("--port", port.map(|p| p.to_string()));
                }
            }
            push("--user", url.user.clone());
            args.extend([
                "--single-transaction".to_string(),
                "--routines".to_string(),
                "--triggers".to_string(),
                format!("--result-file={}", file.display()),
                url.database.clone(),
            ]);
            let tool = if which("mariadb-dump") {
                "mariadb-dump"
            } else {
                "mysqldump"
            };
            (tool.into(), args)
        }
    }
}

/// The host (or PostgreSQL socket folder) and port the URL connects to, its query
/// parameters over its authority, as the connection reads them.
fn endpoint(url: &DbUrl) -> (Option<String>, Option<u16>) {
    match &url.params {
        Params::Postgres(pg) => (
            pg.host
                .clone()
                .or_else(|| pg.socket_dir.as_ref().map(|d| d.display().to_string()))
                .or_else(|| url.host.clone()),
            pg.port.or(url.port),
        ),
        _ => (url.host.clone(), url.port),
    }
}

/// How to put a dump back (the password left out).
pub fn restore_command(url: &DbUrl, file: &Path) -> String {
    let (host, port) = endpoint(url);
    let host = host.unwrap_or_else(|| "localhost".into());
    let user = url.user.as_deref().unwrap_or("");
    match url.backend {
        Backend::Postgres => format!(
            "pg_restore --clean --if-exists --host {host}{} --username '{user}' --dbname '{}' '{}'",
            port.map(|p| format!(" --port {p}")).unwrap_or_default(),
            url.database,
            file.display()
        ),
        _ => format!(
            "mysql --host {host}{} --user '{user}' -p '{}' < '{}'",
            port.map(|p| format!(" --port {p}")).unwrap_or_default(),
            url.database,
            file.display()
        ),
    }
}

fn which(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(tool).is_file()))
}

/// The file a dump of `url` goes to in `dir`.
pub fn dump_file(url: &DbUrl, dir: &Path, label: &str) -> PathBuf {
    let ext = match url.backend {
        Backend::Postgres => "dump",
        _ => "sql",
    };
    free_path(
        dir,
        &format!("{}.backup-{label}-{}", url.database, stamp()),
        &format!(".{ext}"),
    )
}

fn dump(url: &DbUrl, dir: &Path, label: &str) -> Result<BackupMade, BackupError> {
    std::fs::create_dir_all(dir).map_err(|source| BackupError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let path = dump_file(url, dir, label);
    let (tool, args) = dump_command(url, &path);
    let mut command = Command::new(&tool);
    command.args(&args);
    if let Some(password) = &url.password {
        match url.backend {
            Backend::Postgres => command.env("PGPASSWORD", password),
            _ => command.env("MYSQL_PWD", password),
        };
    }
    if let Params::Postgres(pg) = &url.params {
        let files = [
            ("PGSSLMODE", pg.ssl_mode.clone()),
            (
                "PGSSLROOTCERT",
                pg.ssl_root_cert.as_ref().map(|p| p.display().to_string()),
            ),
            (
                "PGSSLCERT",
                pg.ssl_cert.as_ref().map(|p| p.display().to_string()),
            ),
            (
                "PGSSLKEY",
                pg.ssl_key.as_ref().map(|p| p.display().to_string()),
            ),
        ];
        for (var, value) in files {
            if let Some(value) = value {
                command.env(var, value);
            }
        }
    }
    let out = command.output().map_err(|e| BackupError::Tool {
        tool: tool.clone(),
        reason: if e.kind() == std::io::ErrorKind::NotFound {
            format!("{tool} is not on PATH; install the database's client tools")
        } else {
            e.to_string()
        },
    })?;
    if !out.status.success() {
        let _ = std::fs::remove_file(&path);
        return Err(BackupError::Failed {
            tool,
            status: out
                .status
                .code()
                .map_or_else(|| "by a signal".into(), |c| c.to_string()),
            stderr: String::from_utf8_lossy(&out.stderr)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
        });
    }
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    if bytes == 0 {
        return Err(BackupError::Empty { tool, path });
    }
    Ok(BackupMade {
        restore: restore_command(url, &path),
        path,
        bytes,
    })
}
