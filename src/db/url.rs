//! Database URLs as MLflow users write them (SQLAlchemy's form): `sqlite:///relative.db`,
//! `sqlite:////absolute.db`, `postgresql://`, `postgresql+psycopg2://`, `postgres://`,
//! `mysql://`, `mysql+pymysql://`, `mariadb://`, with %-escaped user and password and query
//! options (`sslmode`, `charset`, ...).

use std::fmt;
use std::path::PathBuf;

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
    pub password: Option<String>,
    pub host: Option<String>,
    pub port: Option<u16>,
    /// Database name; for SQLite the file path (`:memory:` for an in-memory database).
    pub database: String,
    pub query: Vec<(String, String)>,
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
}

fn percent_decode(s: &str, whole: &str) -> Result<String, UrlError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .ok_or_else(|| UrlError::Escape(whole.into()))?;
            let b = u8::from_str_radix(hex, 16).map_err(|_| UrlError::Escape(whole.into()))?;
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| UrlError::Escape(whole.into()))
}

impl DbUrl {
    pub fn parse(url: &str) -> Result<DbUrl, UrlError> {
        let malformed = || UrlError::Malformed(redact(url));
        let (scheme, rest) = url.split_once("://").ok_or_else(malformed)?;
        let base = scheme.split('+').next().unwrap_or("").to_ascii_lowercase();
        let (backend, mariadb) = match base.as_str() {
            "sqlite" => (Backend::Sqlite, false),
            "postgresql" | "postgres" | "pgsql" => (Backend::Postgres, false),
            "mysql" => (Backend::Mysql, false),
            "mariadb" => (Backend::Mysql, true),
            "" => return Err(malformed()),
            other => {
                return Err(UrlError::Unsupported {
                    scheme: other.to_string(),
                })
            }
        };
        let (rest, query) = match rest.split_once('?') {
            Some((r, q)) => (r, q),
            None => (rest, ""),
        };
        let mut pairs = Vec::new();
        for part in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            pairs.push((percent_decode(k, url)?, percent_decode(v, url)?));
        }
        if backend == Backend::Sqlite {
            // sqlite:///relative.db, sqlite:////absolute.db, sqlite:// (memory).
            let path = match rest.strip_prefix('/') {
                Some(p) if !p.is_empty() => p.to_string(),
                _ if rest.is_empty() => ":memory:".to_string(),
                _ => return Err(malformed()),
            };
            return Ok(DbUrl {
                backend,
                mariadb,
                user: None,
                password: None,
                host: None,
                port: None,
                database: path,
                query: pairs,
            });
        }
        let (authority, database) = match rest.split_once('/') {
            Some((a, d)) => (a, d),
            None => (rest, ""),
        };
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let (user, password) = match userinfo {
            None => (None, None),
            Some(u) => match u.split_once(':') {
                Some((user, pass)) => (
                    Some(percent_decode(user, url)?),
                    Some(percent_decode(pass, url)?),
                ),
                None => (Some(percent_decode(u, url)?), None),
            },
        };
        let (host, port) = if let Some(h) = hostport.strip_prefix('[') {
            let (h, after) = h.split_once(']').ok_or_else(malformed)?;
            let port = match after.strip_prefix(':') {
                Some(p) => Some(p.parse().map_err(|_| UrlError::Port(redact(url)))?),
                None => None,
            };
            (Some(h.to_string()), port)
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (
                    Some(h.to_string()),
                    Some(p.parse().map_err(|_| UrlError::Port(redact(url)))?),
                ),
                None => ((!hostport.is_empty()).then(|| hostport.to_string()), None),
            }
        };
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
        })
    }

    pub fn sqlite_path(&self) -> Option<PathBuf> {
        (self.backend == Backend::Sqlite && self.database != ":memory:")
            .then(|| PathBuf::from(&self.database))
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
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{}", &rest[authority_end..]),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

impl fmt::Display for DbUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match (self.backend, self.mariadb) {
            (Backend::Sqlite, _) => "sqlite",
            (Backend::Postgres, _) => "postgresql",
            (Backend::Mysql, true) => "mariadb",
            (Backend::Mysql, false) => "mysql",
        };
        match self.backend {
            Backend::Sqlite => write!(f, "sqlite:///{}", self.database),
            _ => write!(
                f,
                "{scheme}://{}{}{}/{}",
                self.user
                    .as_ref()
                    .map(|u| format!("{u}{}@", if self.password.is_some() { ":***" } else { "" }))
                    .unwrap_or_default(),
                self.host.as_deref().unwrap_or("localhost"),
                self.port.map(|p| format!(":{p}")).unwrap_or_default(),
                self.database
            ),
        }
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
}
