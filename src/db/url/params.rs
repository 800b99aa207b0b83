//! A URL's query parameters, read per backend into typed settings. Every parameter is either
//! honoured or refused by name (with the list this backend supports): a parameter dropped
//! silently would connect somewhere the user did not mean, e.g. tables created in `public`
//! when `options=-csearch_path=mlf` asked for `mlf`.
//!
//! The names are the ones SQLAlchemy URLs carry to the Python drivers MLflow users have:
//! libpq's (through psycopg2) for PostgreSQL, PyMySQL's for MySQL/MariaDB, and pysqlite's
//! plus SQLite's URI parameters for SQLite.

use std::path::PathBuf;
use std::time::Duration;

use super::UrlError;

/// PostgreSQL parameters (libpq's names).
pub const POSTGRES_PARAMETERS: &[&str] = &[
    "options",
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "connect_timeout",
    "application_name",
    "host",
    "port",
];

/// MySQL/MariaDB parameters (PyMySQL's names, and SQLAlchemy's `ssl_check_hostname`).
pub const MYSQL_PARAMETERS: &[&str] = &[
    "charset",
    "collation",
    "ssl_ca",
    "ssl_cert",
    "ssl_key",
    "ssl_check_hostname",
    "ssl_verify_cert",
    "ssl_verify_identity",
    "ssl_disabled",
    "unix_socket",
    "connect_timeout",
];

/// SQLite parameters: pysqlite's, then SQLite's URI parameters.
pub const SQLITE_PARAMETERS: &[&str] = &[
    "uri",
    "timeout",
    "check_same_thread",
    "cached_statements",
    "detect_types",
    "mode",
    "immutable",
    "cache",
];

/// Parameters the drivers know that we cannot honour, and why.
const REFUSED: &[(&str, &str)] = &[
    (
        "isolation_level",
        "alembic-engine runs each revision in its own transaction",
    ),
    ("ssl_capath", "give one CA file with ssl_ca instead"),
    ("ssl_cipher", "the TLS library chooses the cipher"),
    (
        "target_session_attrs",
        "alembic-engine connects to one server",
    ),
    (
        "hostaddr",
        "name the server in the URL's host or with host=",
    ),
];

/// The settings a URL's query asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Params {
    Sqlite(SqliteParams),
    Postgres(PgParams),
    Mysql(MysqlParams),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PgParams {
    /// `-c name=value` settings from `options`, in order (`search_path` among them).
    pub settings: Vec<(String, String)>,
    /// `sslmode` as libpq spells it (`disable` ... `verify-full`).
    pub ssl_mode: Option<String>,
    pub ssl_root_cert: Option<PathBuf>,
    pub ssl_cert: Option<PathBuf>,
    pub ssl_key: Option<PathBuf>,
    pub application_name: Option<String>,
    /// `host=/dir`: the directory of the server's Unix socket.
    pub socket_dir: Option<PathBuf>,
    /// `host=name`: the server, overriding the URL's authority.
    pub host: Option<String>,
    pub port: Option<u16>,
    /// `connect_timeout`; `Some(None)` for libpq's 0, no limit.
    pub connect_timeout: Option<Option<Duration>>,
}

impl PgParams {
    /// The `search_path` that `options` sets, as written.
    pub fn search_path(&self) -> Option<&str> {
        self.settings
            .iter()
            .rev()
            .find(|(k, _)| k == "search_path")
            .map(|(_, v)| v.as_str())
    }
}

/// How a MySQL connection uses TLS (PyMySQL's reading of its `ssl_*` parameters).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MysqlTls {
    /// No `ssl_*` parameter: TLS when the server offers it.
    #[default]
    Preferred,
    Disabled,
    /// TLS without checking the server's certificate.
    Required,
    /// The certificate is checked against the CA, not the host name.
    VerifyCa,
    VerifyIdentity,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MysqlParams {
    pub charset: Option<String>,
    pub collation: Option<String>,
    pub tls: MysqlTls,
    pub ssl_ca: Option<PathBuf>,
    pub ssl_cert: Option<PathBuf>,
    pub ssl_key: Option<PathBuf>,
    pub unix_socket: Option<PathBuf>,
    pub connect_timeout: Option<Duration>,
}

/// How a SQLite file is opened (SQLite's URI `mode`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SqliteMode {
    ReadOnly,
    /// Read-write; the file must exist.
    ReadWrite,
    /// Read-write, created when missing.
    #[default]
    ReadWriteCreate,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SqliteParams {
    pub mode: SqliteMode,
    pub immutable: bool,
    pub shared_cache: bool,
    /// pysqlite's `timeout`: how long to wait for another writer's lock.
    pub busy_timeout: Option<Duration>,
}

/// Read `pairs` for `backend`: typed settings, or the first parameter refused.
pub(super) fn read(
    backend: super::Backend,
    pairs: &[(String, String)],
) -> Result<Params, UrlError> {
    for (i, (k, _)) in pairs.iter().enumerate() {
        if pairs[..i].iter().any(|(earlier, _)| earlier == k) {
            return Err(UrlError::RepeatedParameter {
                parameter: k.clone(),
            });
        }
    }
    match backend {
        super::Backend::Postgres => postgres(pairs).map(Params::Postgres),
        super::Backend::Mysql => mysql(pairs).map(Params::Mysql),
        super::Backend::Sqlite => sqlite(pairs).map(Params::Sqlite),
    }
}

fn refuse(backend: &'static str, parameter: &str, supported: &[&'static str]) -> UrlError {
    UrlError::UnsupportedParameter {
        backend,
        parameter: parameter.to_string(),
        reason: REFUSED
            .iter()
            .find(|(name, _)| *name == parameter)
            .map(|(_, why)| *why),
        supported: supported.to_vec(),
    }
}

fn bad(parameter: &str, value: &str, expected: &str) -> UrlError {
    UrlError::ParameterValue {
        parameter: parameter.to_string(),
        value: value.to_string(),
        expected: expected.to_string(),
    }
}

/// Python's spellings of a boolean in a URL (SQLAlchemy's `asbool`, PyMySQL's strings).
pub(super) fn boolean(parameter: &str, value: &str) -> Result<bool, UrlError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "y" | "t" | "1" => Ok(true),
        "false" | "no" | "off" | "n" | "f" | "0" => Ok(false),
        _ => Err(bad(parameter, value, "true or false")),
    }
}

fn seconds(parameter: &str, value: &str) -> Result<u64, UrlError> {
    value
        .trim()
        .parse()
        .map_err(|_| bad(parameter, value, "a whole number of seconds"))
}

/// libpq's host lists (`host=a,b`) are for failing over between servers; a migration must
/// run against one.
fn host_list(value: &str) -> Result<(), UrlError> {
    if value.contains(',') {
        return Err(UrlError::HostList {
            hosts: value.to_string(),
        });
    }
    Ok(())
}

fn postgres(pairs: &[(String, String)]) -> Result<PgParams, UrlError> {
    let mut p = PgParams::default();
    for (k, v) in pairs {
        match k.as_str() {
            "options" => p.settings = pg_options(v)?,
            "sslmode" => {
                const MODES: [&str; 6] = [
                    "disable",
                    "allow",
                    "prefer",
                    "require",
                    "verify-ca",
                    "verify-full",
                ];
                if !MODES.contains(&v.as_str()) {
                    return Err(bad(k, v, &MODES.join(", ")));
                }
                p.ssl_mode = Some(v.clone());
            }
            "sslrootcert" => p.ssl_root_cert = Some(v.into()),
            "sslcert" => p.ssl_cert = Some(v.into()),
            "sslkey" => p.ssl_key = Some(v.into()),
            "application_name" => p.application_name = Some(v.clone()),
            "connect_timeout" => {
                // libpq: zero (or less) waits forever; it never waits less than 2 seconds.
                let secs: i64 = v
                    .trim()
                    .parse()
                    .map_err(|_| bad(k, v, "a whole number of seconds"))?;
                p.connect_timeout =
                    Some((secs > 0).then(|| Duration::from_secs(secs.max(2).unsigned_abs())));
            }
            "host" => {
                host_list(v)?;
                if v.starts_with('/') {
                    p.socket_dir = Some(v.into());
                } else {
                    p.host = Some(v.clone());
                }
            }
            "port" => {
                host_list(v)?;
                p.port = Some(v.parse().map_err(|_| bad(k, v, "a port number"))?);
            }
            _ => return Err(refuse("PostgreSQL", k, POSTGRES_PARAMETERS)),
        }
    }
    Ok(p)
}

/// libpq's `options`: command-line switches for the server, of which a migration tool can
/// pass on the settings (`-c name=value`, `-cname=value`, `--name=value`). Spaces separate
/// switches; a backslash escapes the next character.
fn pg_options(text: &str) -> Result<Vec<(String, String)>, UrlError> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut chars = text.chars();
    let mut in_word = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                word.extend(chars.next());
                in_word = true;
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    let refuse_switch = |switch: &str| UrlError::PgOption {
        option: switch.to_string(),
    };
    let mut settings = Vec::new();
    let mut words = words.into_iter();
    while let Some(w) = words.next() {
        let setting = if w == "-c" {
            words.next().ok_or_else(|| refuse_switch(&w))?
        } else if let Some(s) = w.strip_prefix("-c") {
            s.to_string()
        } else if let Some(s) = w.strip_prefix("--") {
            // The server reads `--name=value` as `-c name=value`, dashes as underscores.
            match s.split_once('=') {
                Some((name, value)) => format!("{}={value}", name.replace('-', "_")),
                None => return Err(refuse_switch(&w)),
            }
        } else {
            return Err(refuse_switch(&w));
        };
        match setting.split_once('=') {
            Some((name, value)) if !name.is_empty() => {
                settings.push((name.to_string(), value.to_string()));
            }
            _ => return Err(refuse_switch(&w)),
        }
    }
    Ok(settings)
}

fn mysql(pairs: &[(String, String)]) -> Result<MysqlParams, UrlError> {
    let mut p = MysqlParams::default();
    let (mut disabled, mut verify_cert, mut verify_identity, mut check_hostname) =
        (false, false, false, None);
    for (k, v) in pairs {
        match k.as_str() {
            "charset" => p.charset = Some(v.clone()),
            "collation" => p.collation = Some(v.clone()),
            "ssl_ca" => p.ssl_ca = Some(v.into()),
            "ssl_cert" => p.ssl_cert = Some(v.into()),
            "ssl_key" => p.ssl_key = Some(v.into()),
            "ssl_check_hostname" => check_hostname = Some(boolean(k, v)?),
            "ssl_verify_cert" => verify_cert = boolean(k, v)?,
            "ssl_verify_identity" => verify_identity = boolean(k, v)?,
            "ssl_disabled" => disabled = boolean(k, v)?,
            "unix_socket" => p.unix_socket = Some(v.into()),
            "connect_timeout" => match seconds(k, v)? {
                // PyMySQL refuses 0 (and more than a year).
                0 => return Err(bad(k, v, "at least 1 second")),
                s => p.connect_timeout = Some(Duration::from_secs(s)),
            },
            _ => return Err(refuse("MySQL/MariaDB", k, MYSQL_PARAMETERS)),
        }
    }
    // PyMySQL: a CA checks the certificate, and the host name unless SQLAlchemy's
    // ssl_check_hostname=false; a client certificate alone asks for TLS without checks.
    p.tls = if disabled {
        MysqlTls::Disabled
    } else if verify_identity || (p.ssl_ca.is_some() && check_hostname != Some(false)) {
        MysqlTls::VerifyIdentity
    } else if verify_cert || p.ssl_ca.is_some() {
        MysqlTls::VerifyCa
    } else if p.ssl_cert.is_some() || p.ssl_key.is_some() || check_hostname.is_some() {
        MysqlTls::Required
    } else {
        MysqlTls::Preferred
    };
    Ok(p)
}

/// pysqlite's parameters and SQLite's URI parameters. SQLAlchemy hands the URI ones to SQLite
/// only with `uri=true` (and warns that it ignores them otherwise); we honour them either way,
/// since each one only narrows what the connection may do.
fn sqlite(pairs: &[(String, String)]) -> Result<SqliteParams, UrlError> {
    let mut p = SqliteParams::default();
    for (k, v) in pairs {
        match k.as_str() {
            "uri" => {
                boolean(k, v)?;
            }
            "timeout" => {
                let secs: f64 = v
                    .trim()
                    .parse()
                    .ok()
                    .filter(|s: &f64| s.is_finite() && *s >= 0.0)
                    .ok_or_else(|| bad(k, v, "a number of seconds"))?;
                p.busy_timeout = Some(Duration::from_secs_f64(secs));
            }
            // Settings of Python's sqlite3 module with no bearing on the database.
            "check_same_thread" => {
                boolean(k, v)?;
            }
            "cached_statements" | "detect_types" => {
                v.trim()
                    .parse::<i64>()
                    .map_err(|_| bad(k, v, "a whole number"))?;
            }
            "mode" => {
                p.mode = match v.as_str() {
                    "ro" => SqliteMode::ReadOnly,
                    "rw" => SqliteMode::ReadWrite,
                    "rwc" => SqliteMode::ReadWriteCreate,
                    _ => return Err(bad(k, v, "ro, rw or rwc")),
                }
            }
            "immutable" => p.immutable = boolean(k, v)?,
            "cache" => {
                p.shared_cache = match v.as_str() {
                    "shared" => true,
                    "private" => false,
                    _ => return Err(bad(k, v, "shared or private")),
                }
            }
            _ => return Err(refuse("SQLite", k, SQLITE_PARAMETERS)),
        }
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pg_options_read_every_spelling_of_a_setting() {
        assert_eq!(
            pg_options("-csearch_path=mlf").unwrap(),
            vec![("search_path".into(), "mlf".into())]
        );
        assert_eq!(
            pg_options("-c search_path=mlf,public -c statement_timeout=5min").unwrap(),
            vec![
                ("search_path".into(), "mlf,public".into()),
                ("statement_timeout".into(), "5min".into())
            ]
        );
        assert_eq!(
            pg_options("--search-path=a\\ b").unwrap(),
            vec![("search_path".into(), "a b".into())]
        );
        assert_eq!(
            pg_options("-B 100"),
            Err(UrlError::PgOption {
                option: "-B".into()
            })
        );
        assert!(pg_options("-c").is_err());
        assert!(pg_options("-c =x").is_err());
    }

    #[test]
    fn pymysql_tls_parameters_map_to_one_mode() {
        let tls = |q: &[(&str, &str)]| {
            let pairs: Vec<(String, String)> = q
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            mysql(&pairs).unwrap().tls
        };
        assert_eq!(tls(&[]), MysqlTls::Preferred);
        assert_eq!(tls(&[("ssl_ca", "/ca.pem")]), MysqlTls::VerifyIdentity);
        assert_eq!(
            tls(&[("ssl_ca", "/ca.pem"), ("ssl_check_hostname", "false")]),
            MysqlTls::VerifyCa
        );
        assert_eq!(tls(&[("ssl_cert", "/c.pem")]), MysqlTls::Required);
        assert_eq!(tls(&[("ssl_verify_cert", "true")]), MysqlTls::VerifyCa);
        assert_eq!(
            tls(&[("ssl_verify_identity", "1"), ("ssl_disabled", "true")]),
            MysqlTls::Disabled
        );
    }

    #[test]
    fn libpq_connect_timeout_zero_is_no_limit_and_at_least_two_seconds() {
        let t = |v: &str| postgres(&[("connect_timeout".into(), v.into())]).unwrap();
        assert_eq!(t("0").connect_timeout, Some(None));
        assert_eq!(t("1").connect_timeout, Some(Some(Duration::from_secs(2))));
        assert_eq!(t("30").connect_timeout, Some(Some(Duration::from_secs(30))));
    }
}
