//! Database URLs as MLflow users write them (SQLAlchemy's form): `sqlite:///relative.db`,
//! `sqlite:////absolute.db`, `postgresql://`, `postgresql+psycopg2://`, `postgres://`,
//! `mysql://`, `mysql+pymysql://`, `mariadb://`, with %-escaped user and password and query
//! parameters, each honoured or refused by name: [`Params`], and per backend the lists
//! [`POSTGRES_PARAMETERS`], [`MYSQL_PARAMETERS`], [`SQLITE_PARAMETERS`].

mod params;

use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub use params::{
    MysqlParams, MysqlTls, Params, PgParams, SqliteMode, SqliteParams, MYSQL_PARAMETERS,
    POSTGRES_PARAMETERS, SQLITE_PARAMETERS,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    /// MySQL or MariaDB; which one is asked of the server once connected.
    Mysql,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbUrl {
    pub backend: Backend,
    /// The URL said `mariadb://`.
    pub mariadb: bool,
    pub user: Option<String>,
    /// `None` also when the URL spells an empty one (`root:@host`), as the Python drivers
    /// read it.
    pub password: Option<String>,
    pub host: Option<String>,
    pub port: Option<u16>,
    /// Database name; for SQLite the file path (`:memory:` for an in-memory database).
    pub database: String,
    /// The query parameters as written (decoded), in order.
    pub query: Vec<(String, String)>,
    /// What they ask for, read for this backend.
    pub params: Params,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("'{0}' is not a database URL; expected e.g. sqlite:///mlflow.db, postgresql://user:pass@host/db or mysql://user:pass@host/db")]
    Malformed(String),
    #[error(
        "'{scheme}' databases are not supported yet; supported: sqlite, postgresql, mysql, mariadb"
    )]
    Unsupported { scheme: String },
    #[error("'{0}': invalid %-escape in the URL")]
    Escape(String),
    #[error("'{0}': the port is not a number")]
    Port(String),
    #[error(
        "URL parameter '{parameter}' is not supported for {backend}{}; supported: {}",
        reason.map(|r| format!(" ({r})")).unwrap_or_default(),
        supported.join(", ")
    )]
    UnsupportedParameter {
        backend: &'static str,
        parameter: String,
        /// Why a parameter the driver knows cannot be honoured.
        reason: Option<&'static str>,
        supported: Vec<&'static str>,
    },
    #[error("URL parameter {parameter}={value}: expected {expected}")]
    ParameterValue {
        parameter: String,
        value: String,
        expected: String,
    },
    #[error("URL parameter '{parameter}' is given more than once")]
    RepeatedParameter { parameter: String },
    #[error(
        "PostgreSQL options: '{option}' is not a setting; only -c name=value (or --name=value) \
         settings can be passed, e.g. options=-csearch_path%3Dmlflow"
    )]
    PgOption { option: String },
    #[error(
        "the URL names several hosts ({hosts}); a migration runs against one server: give the \
         primary's address"
    )]
    HostList { hosts: String },
}

/// How long connecting to a server may take when neither the URL nor the program says.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

const UNSET: u64 = u64::MAX;
static CONNECT_TIMEOUT_MS: AtomicU64 = AtomicU64::new(UNSET);

/// Set the connect timeout of every server connection this process opens from then on,
/// over the URLs' own `connect_timeout` (a program's setting, e.g. from its command line).
/// `None` goes back to the URLs' own, else [`DEFAULT_CONNECT_TIMEOUT`].
pub fn set_connect_timeout(timeout: Option<Duration>) {
    let ms = timeout.map_or(UNSET, |t| {
        u64::try_from(t.as_millis())
            .unwrap_or(UNSET - 1)
            .min(UNSET - 1)
    });
    CONNECT_TIMEOUT_MS.store(ms, Ordering::Relaxed);
}

fn percent_decode(s: &str, whole: &str) -> Result<String, UrlError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .ok_or_else(|| UrlError::Escape(redact(whole)))?;
            let b = u8::from_str_radix(hex, 16).map_err(|_| UrlError::Escape(redact(whole)))?;
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| UrlError::Escape(redact(whole)))
}

impl DbUrl {
    pub fn parse(url: &str) -> Result<DbUrl, UrlError> {
        let malformed = || UrlError::Malformed(redact(url));
        let (scheme, rest) = url.split_once("://").ok_or_else(malformed)?;
        let (backend, mariadb) = scheme_backend(scheme, url)?;
        let (userinfo, rest) = split_userinfo(rest);
        let (rest, query) = match rest.split_once('?') {
            Some((r, q)) => (r, q),
            None => (rest, ""),
        };
        let pairs = query_pairs(query, url)?;
        let params = params::read(backend, &pairs)?;
        if backend == Backend::Sqlite {
            if userinfo.is_some() {
                return Err(malformed());
            }
            return Ok(DbUrl {
                backend,
                mariadb,
                user: None,
                password: None,
                host: None,
                port: None,
                database: sqlite_database(rest, &pairs, url)?,
                query: pairs,
                params,
            });
        }
        let (hostport, database) = match rest.split_once('/') {
            Some((a, d)) => (a, d),
            None => (rest, ""),
        };
        let (user, password) = credentials(userinfo, url)?;
        let (host, port) = host_port(hostport, url)?;
        if database.is_empty() {
            return Err(malformed());
        }
        Ok(DbUrl {
            backend,
            mariadb,
            user,
            password,
            host,
            port,
            database: percent_decode(database, url)?,
            query: pairs,
            params,
        })
    }

    pub fn sqlite_path(&self) -> Option<PathBuf> {
        (self.backend == Backend::Sqlite && self.database != ":memory:")
            .then(|| PathBuf::from(&self.database))
    }

    /// How long connecting may take: the process-wide setting ([`set_connect_timeout`]),
    /// else the URL's `connect_timeout`, else [`DEFAULT_CONNECT_TIMEOUT`]. `None`: no limit
    /// (libpq's `connect_timeout=0`). SQLite files open without one.
    pub fn connect_timeout(&self) -> Option<Duration> {
        match CONNECT_TIMEOUT_MS.load(Ordering::Relaxed) {
            UNSET => {}
            ms => return Some(Duration::from_millis(ms)),
        }
        match &self.params {
            Params::Postgres(p) => p.connect_timeout.unwrap_or(Some(DEFAULT_CONNECT_TIMEOUT)),
            Params::Mysql(p) => Some(p.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT)),
            Params::Sqlite(_) => None,
        }
    }

    pub fn option(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// The URL with its password hidden, for messages.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match split_userinfo(rest) {
        (Some(userinfo), after) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{after}"),
            None => url.to_string(),
        },
        (None, _) => url.to_string(),
    }
}

/// `user:password@` and what follows, read as SQLAlchemy reads URLs: the user name has no
/// `:` or `/`, the password runs to the first `@` (so it may hold `/`, `?` or `:` unescaped).
fn split_userinfo(rest: &str) -> (Option<&str>, &str) {
    match rest.split_once('@') {
        Some((userinfo, after)) if !userinfo.split(':').next().unwrap_or("").contains('/') => {
            (Some(userinfo), after)
        }
        _ => (None, rest),
    }
}

/// The backend a URL scheme names (`postgresql+psycopg2` is PostgreSQL), and whether it
/// said `mariadb`.
fn scheme_backend(scheme: &str, url: &str) -> Result<(Backend, bool), UrlError> {
    let base = scheme.split('+').next().unwrap_or("").to_ascii_lowercase();
    match base.as_str() {
        "sqlite" => Ok((Backend::Sqlite, false)),
        "postgresql" | "postgres" | "pgsql" => Ok((Backend::Postgres, false)),
        "mysql" => Ok((Backend::Mysql, false)),
        "mariadb" => Ok((Backend::Mysql, true)),
        "" => Err(UrlError::Malformed(redact(url))),
        other => Err(UrlError::Unsupported {
            scheme: other.to_string(),
        }),
    }
}

/// The `key=value` pairs of a query string, decoded, in order.
fn query_pairs(query: &str, url: &str) -> Result<Vec<(String, String)>, UrlError> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|part| {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            Ok((percent_decode(k, url)?, percent_decode(v, url)?))
        })
        .collect()
}

/// The SQLite file a URL's path names (`:memory:` for none); with `uri=true` a `file:` URI
/// is read as pysqlite hands it to SQLite.
fn sqlite_database(rest: &str, pairs: &[(String, String)], url: &str) -> Result<String, UrlError> {
    let malformed = || UrlError::Malformed(redact(url));
    // sqlite:///relative.db, sqlite:////absolute.db, sqlite:// (memory).
    let path = match rest.strip_prefix('/') {
        Some(p) if !p.is_empty() => p,
        _ if rest.is_empty() => return Ok(":memory:".to_string()),
        _ => return Err(malformed()),
    };
    // With uri=true, pysqlite hands the name to SQLite as a URI: `file:path`,
    // `file:///abs/path`.
    let uri = pairs
        .iter()
        .any(|(k, v)| k == "uri" && params::boolean(k, v) == Ok(true));
    let Some(file) = path.strip_prefix("file:").filter(|_| uri) else {
        return Ok(path.to_string());
    };
    let file = file.strip_prefix("//localhost").unwrap_or(file);
    let file = match file.strip_prefix("//") {
        Some(abs) if abs.starts_with('/') => abs,
        Some(_) => return Err(malformed()),
        None => file,
    };
    percent_decode(file, url)
}

/// The decoded user and password of `user:password@`; an empty password is none.
fn credentials(
    userinfo: Option<&str>,
    url: &str,
) -> Result<(Option<String>, Option<String>), UrlError> {
    let Some(u) = userinfo else {
        return Ok((None, None));
    };
    Ok(match u.split_once(':') {
        Some((user, pass)) => (
            Some(percent_decode(user, url)?),
            Some(percent_decode(pass, url)?).filter(|p| !p.is_empty()),
        ),
        None => (Some(percent_decode(u, url)?), None),
    })
}

/// The host and port of a server URL's authority (`host`, `host:port`, `[v6]:port`); a
/// list of hosts is refused.
fn host_port(hostport: &str, url: &str) -> Result<(Option<String>, Option<u16>), UrlError> {
    // libpq's multi-host form (`h1:5432,h2:5432`), for fail-over between servers.
    if hostport.contains(',') {
        return Err(UrlError::HostList {
            hosts: hostport.to_string(),
        });
    }
    let port =
        |p: &str| -> Result<u16, UrlError> { p.parse().map_err(|_| UrlError::Port(redact(url))) };
    if let Some(h) = hostport.strip_prefix('[') {
        let (h, after) = h
            .split_once(']')
            .ok_or_else(|| UrlError::Malformed(redact(url)))?;
        let port = after.strip_prefix(':').map(port).transpose()?;
        return Ok((Some(h.to_string()), port));
    }
    Ok(match hostport.rsplit_once(':') {
        Some((h, p)) => (Some(h.to_string()), Some(port(p)?)),
        None => ((!hostport.is_empty()).then(|| hostport.to_string()), None),
    })
}

impl fmt::Display for DbUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match (self.backend, self.mariadb) {
            (Backend::Sqlite, _) => "sqlite",
            (Backend::Postgres, _) => "postgresql",
            (Backend::Mysql, true) => "mariadb",
            (Backend::Mysql, false) => "mysql",
        };
        // Where the connection goes: a host= or port= in the query wins over the authority,
        // and a socket is shown as the query that names it.
        let (host, port, socket) = match &self.params {
            Params::Postgres(p) => (
                p.host.as_ref().or(self.host.as_ref()),
                p.port.or(self.port),
                p.socket_dir
                    .as_ref()
                    .map(|d| format!("?host={}", d.display())),
            ),
            Params::Mysql(p) => (
                self.host.as_ref(),
                self.port,
                p.unix_socket
                    .as_ref()
                    .map(|d| format!("?unix_socket={}", d.display())),
            ),
            Params::Sqlite(_) => return write!(f, "sqlite:///{}", self.database),
        };
        write!(
            f,
            "{scheme}://{}{}{}/{}{}",
            self.user
                .as_ref()
                .map(|u| format!("{u}{}@", if self.password.is_some() { ":***" } else { "" }))
                .unwrap_or_default(),
            host.map_or(
                if socket.is_some() { "" } else { "localhost" },
                String::as_str
            ),
            port.map(|p| format!(":{p}")).unwrap_or_default(),
            self.database,
            socket.unwrap_or_default()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_relative_absolute_and_memory() {
        assert_eq!(
            DbUrl::parse("sqlite:///mlflow.db").unwrap().database,
            "mlflow.db"
        );
        assert_eq!(
            DbUrl::parse("sqlite:////tmp/x/mlflow.db").unwrap().database,
            "/tmp/x/mlflow.db"
        );
        assert_eq!(DbUrl::parse("sqlite://").unwrap().database, ":memory:");
    }

    #[test]
    fn drivers_passwords_and_options() {
        let u = DbUrl::parse(
            "postgresql+psycopg2://ml%40flow:p%2Fss%3Aw@db.example:6432/track?sslmode=require",
        )
        .unwrap();
        assert_eq!(u.backend, Backend::Postgres);
        assert_eq!(u.user.as_deref(), Some("ml@flow"));
        assert_eq!(u.password.as_deref(), Some("p/ss:w"));
        assert_eq!(
            (u.host.as_deref(), u.port),
            (Some("db.example"), Some(6432))
        );
        assert_eq!(u.database, "track");
        assert_eq!(u.option("sslmode"), Some("require"));
        let m = DbUrl::parse("mysql+pymysql://root@127.0.0.1/mlflow?charset=utf8mb4").unwrap();
        assert_eq!((m.backend, m.mariadb), (Backend::Mysql, false));
        assert!(DbUrl::parse("mariadb://root@h/db").unwrap().mariadb);
        assert_eq!(
            DbUrl::parse("postgres://u@h/d").unwrap().backend,
            Backend::Postgres
        );
    }

    #[test]
    fn unsupported_and_malformed_urls_are_clear_errors() {
        assert!(matches!(
            DbUrl::parse("mssql+pyodbc://u:p@h/db"),
            Err(UrlError::Unsupported { .. })
        ));
        assert!(matches!(
            DbUrl::parse("not a url"),
            Err(UrlError::Malformed(_))
        ));
        assert!(matches!(
            DbUrl::parse("postgresql://u@h:port/db"),
            Err(UrlError::Port(_))
        ));
        let e = DbUrl::parse("postgresql://u:secret@h")
            .unwrap_err()
            .to_string();
        assert!(!e.contains("secret"), "{e}");
    }

    #[test]
    fn an_unknown_parameter_is_refused_by_name_with_the_supported_ones() {
        let e = DbUrl::parse("postgresql://u@h/db?foo=bar").unwrap_err();
        assert_eq!(
            e,
            UrlError::UnsupportedParameter {
                backend: "PostgreSQL",
                parameter: "foo".into(),
                reason: None,
                supported: POSTGRES_PARAMETERS.to_vec(),
            }
        );
        let text = e.to_string();
        assert!(
            text.contains("'foo'") && text.contains("options, sslmode"),
            "{text}"
        );
        // A parameter of another backend is refused too.
        assert!(matches!(
            DbUrl::parse("mysql://u@h/db?sslmode=require"),
            Err(UrlError::UnsupportedParameter {
                backend: "MySQL/MariaDB",
                ..
            })
        ));
        // Known to the driver but not honourable: refused with the reason.
        let text = DbUrl::parse("sqlite:///x.db?isolation_level=IMMEDIATE")
            .unwrap_err()
            .to_string();
        assert!(text.contains("own transaction"), "{text}");
        assert!(matches!(
            DbUrl::parse("postgresql://u@h/db?sslmode=sometimes"),
            Err(UrlError::ParameterValue { .. })
        ));
        assert!(matches!(
            DbUrl::parse("postgresql://u@h/db?sslmode=require&sslmode=disable"),
            Err(UrlError::RepeatedParameter { .. })
        ));
    }

    #[test]
    fn host_lists_are_refused() {
        for url in [
            "postgresql://u@h1:5432,h2:5432/db",
            "postgresql://u@h1,h2/db",
            "postgresql://u@/db?host=h1,h2",
            "mysql://u@h1,h2/db",
        ] {
            assert!(
                matches!(DbUrl::parse(url), Err(UrlError::HostList { .. })),
                "{url}"
            );
        }
    }

    #[test]
    fn an_empty_password_is_no_password() {
        let u = DbUrl::parse("mysql://root:@127.0.0.1:3306/db").unwrap();
        assert_eq!((u.user.as_deref(), u.password), (Some("root"), None));
    }

    #[test]
    fn search_path_and_socket_directory_are_read_from_the_query() {
        let u =
            DbUrl::parse("postgresql://u@/db?options=-csearch_path%3Dmlf&host=/var/run/postgresql")
                .unwrap();
        let Params::Postgres(p) = &u.params else {
            panic!("{u:?}")
        };
        assert_eq!(p.search_path(), Some("mlf"));
        assert_eq!(p.socket_dir, Some(PathBuf::from("/var/run/postgresql")));
    }

    #[test]
    fn sqlite_uri_filenames_and_modes() {
        let u = DbUrl::parse("sqlite:///file:data/m.db?mode=ro&uri=true").unwrap();
        assert_eq!(u.database, "data/m.db");
        assert_eq!(
            u.params,
            Params::Sqlite(SqliteParams {
                mode: SqliteMode::ReadOnly,
                ..Default::default()
            })
        );
        assert_eq!(
            DbUrl::parse("sqlite:///file:///abs/m.db?uri=true")
                .unwrap()
                .database,
            "/abs/m.db"
        );
        // Without uri=true the name is a plain file name, as for sqlite3.
        assert_eq!(
            DbUrl::parse("sqlite:///file:m.db").unwrap().database,
            "file:m.db"
        );
        let u = DbUrl::parse("sqlite:///m.db?timeout=2.5&check_same_thread=False").unwrap();
        let Params::Sqlite(p) = u.params else {
            panic!()
        };
        assert_eq!(p.busy_timeout, Some(Duration::from_millis(2500)));
    }

    #[test]
    fn passwords_with_url_characters_parse_and_are_never_shown() {
        let u = DbUrl::parse("postgresql://u:pa/ss?w:d@h:5433/db?sslmode=require").unwrap();
        assert_eq!(u.password.as_deref(), Some("pa/ss?w:d"));
        assert_eq!((u.host.as_deref(), u.port), (Some("h"), Some(5433)));
        assert_eq!(u.database, "db");
        assert!(!u.to_string().contains("pa/ss"), "{u}");
        for bad in [
            "postgresql://u:se/cret@h:port/db",
            "postgresql://u:se%zzcret@h/db",
            "postgresql://u:secret@h/db?foo=1",
        ] {
            let e = DbUrl::parse(bad).unwrap_err().to_string();
            assert!(!e.contains("cret"), "{e}");
        }
        let e = DbUrl::parse("mssql+pyodbc://u:p@h/db")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("supported: sqlite, postgresql, mysql, mariadb"),
            "{e}"
        );
        // An '@' in a SQLite path is part of the path.
        assert_eq!(
            DbUrl::parse("sqlite:////tmp/a@b.db").unwrap().database,
            "/tmp/a@b.db"
        );
    }

    #[test]
    fn display_names_where_the_connection_goes_without_the_password() {
        let show = |u: &str| DbUrl::parse(u).unwrap().to_string();
        assert_eq!(
            show("postgresql://u:secret@/db?host=/var/run/postgresql"),
            "postgresql://u:***@/db?host=/var/run/postgresql"
        );
        assert_eq!(
            show("postgresql://u@a:1/db?host=b&port=2"),
            "postgresql://u@b:2/db"
        );
        assert_eq!(show("mariadb://root:@h/db"), "mariadb://root@h/db");
    }
}
