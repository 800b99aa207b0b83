//! Fetching the pinned wheel from a Python package index, without Python.
//!
//! The index is a PEP 503 (HTML) or PEP 691 (JSON) "simple" index: `PIP_INDEX_URL` or
//! `--index-url`, else PyPI's. The project page lists files by name; the pinned file is found
//! by its exact name, its listed sha256 (when the index gives one) must be the pin's, and the
//! downloaded bytes are hashed while they stream into a temporary file that is renamed into
//! place only when the hash matches. Proxies come from the usual variables (`HTTPS_PROXY`,
//! `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`, lower case too); extra CA certificates from
//! `PIP_CERT` or `SSL_CERT_FILE` (a PEM bundle), else the bundled Mozilla roots, so a minimal
//! container needs no CA files. When the index cannot be reached, `python3 -m pip download` is
//! tried as a fallback (the caller decides). Nothing here prints: progress goes to a
//! [`FetchObserver`].

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};

mod page;

pub(crate) use page::{parse_html_page, parse_json_page};

/// The index asked when neither `--index-url` nor `PIP_INDEX_URL` names one.
pub const DEFAULT_INDEX: &str = "https://pypi.org/simple/";

/// What a fetch reports while it works, for a progress display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchEvent {
    /// A cached file failed its check and is being replaced.
    Repairing { path: PathBuf, reason: String },
    /// The download starts: `size` is the server's Content-Length, if it sent one.
    Downloading {
        file: String,
        url: String,
        index: String,
        size: Option<u64>,
    },
    /// Bytes received so far.
    Progress { received: u64 },
    /// The file arrived and its sha256 is the pinned one (`first_use`: no pin named it; its
    /// hash, the one the index lists, is recorded for later runs).
    Downloaded {
        file: String,
        bytes: u64,
        first_use: bool,
    },
    /// The index could not be used; `python3 -m pip download` is tried instead.
    PipFallback { reason: String },
}

impl FetchEvent {
    /// The event as one line for a person; `None` for bytes received, which a progress bar
    /// shows rather than a line.
    pub fn text(&self) -> Option<String> {
        Some(match self {
            FetchEvent::Downloading {
                file,
                url,
                index,
                size,
            } => {
                let size = size.map(|s| format!(" ({})", indicatif::HumanBytes(s)));
                format!("downloading {file}{} from {url} (index {index})", size.unwrap_or_default())
            }
            FetchEvent::Progress { .. } => return None,
            FetchEvent::Downloaded {
                file,
                bytes,
                first_use: true,
            } => format!("{file}: {bytes} bytes, sha256 as the index lists it, recorded in the cache: later runs require the same bytes"),
            FetchEvent::Downloaded { file, bytes, .. } => {
                format!("{file}: {bytes} bytes, sha256 is the pinned one")
            }
            FetchEvent::Repairing { path, reason } => {
                format!("{}: {reason}; replacing it", path.display())
            }
            FetchEvent::PipFallback { reason } => format!(
                "the package index could not be used ({reason}); trying `python3 -m pip download`"
            ),
        })
    }
}

type ObserverFn = dyn Fn(&FetchEvent) + Send + Sync;

/// A callback for [`FetchEvent`]s (the CLI draws a progress bar with it).
#[derive(Clone, Default)]
pub struct FetchObserver(Option<Arc<ObserverFn>>);

impl FetchObserver {
    pub fn new(f: impl Fn(&FetchEvent) + Send + Sync + 'static) -> Self {
        FetchObserver(Some(Arc::new(f)))
    }

    pub(crate) fn emit(&self, event: FetchEvent) {
        if let Some(f) = &self.0 {
            f(&event);
        }
    }
}

impl std::fmt::Debug for FetchObserver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "FetchObserver(Some(..))"
        } else {
            "FetchObserver(None)"
        })
    }
}

/// Why the index could not deliver the pinned file.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{url}: {detail}")]
    Http { url: String, detail: String },
    #[error("{url} answered HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{url}: cannot read the index page: {detail}")]
    IndexPage { url: String, detail: String },
    #[error("the index page {url} does not list {file}")]
    NotListed { url: String, file: String },
    #[error("the index {url} lists {file} with sha256 {listed}, but {pinned_by} pins {expected}; refusing it")]
    ListedHash {
        url: String,
        file: String,
        listed: String,
        expected: String,
        /// Where the expected hash comes from (`revisions/mlflow/source.toml`, a hash file
        /// recorded on first use).
        pinned_by: String,
    },
    #[error("{url} delivered a file with sha256 {actual}, but {pinned_by} pins {expected}; refusing it (nothing was kept)")]
    Hash {
        url: String,
        actual: String,
        expected: String,
        pinned_by: String,
    },
    #[error("{path}: cannot read the CA certificates: {detail}")]
    Certificates { path: PathBuf, detail: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl FetchError {
    /// A refusal on integrity grounds: another source would not make the file acceptable.
    pub fn is_integrity(&self) -> bool {
        matches!(
            self,
            FetchError::ListedHash { .. } | FetchError::Hash { .. }
        )
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> FetchError + '_ {
    move |source| FetchError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The file to fetch and where from.
#[derive(Debug, Clone)]
pub struct WheelRequest<'a> {
    pub package: &'a str,
    pub file: &'a str,
    /// The sha256 the file must have; `None` on first use of a release no pin names: the
    /// hash the index lists is then the one required (trust on first use), and the caller
    /// records what arrived.
    pub sha256: Option<&'a str>,
    /// Where `sha256` comes from, for messages.
    pub pinned_by: &'a str,
    /// A simple index (`…/simple/`).
    pub index: &'a str,
}

/// The index to ask: the explicit one, else `PIP_INDEX_URL`, else PyPI.
pub fn index_url(explicit: Option<&str>) -> String {
    explicit
        .map(str::to_string)
        .or_else(|| {
            std::env::var("PIP_INDEX_URL")
                .ok()
                .filter(|s| !s.trim().is_empty())
        })
        .unwrap_or_else(|| DEFAULT_INDEX.to_string())
}

/// A URL as it may be shown: a password in it is replaced by `****`.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("****"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

/// PEP 503's normalized project name: lower case, runs of `-`, `_`, `.` as one `-`.
pub fn normalized_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_sep {
                out.push('-');
            }
            in_sep = true;
        } else {
            out.extend(c.to_lowercase());
            in_sep = false;
        }
    }
    out
}

/// A file a project page lists: its absolute URL and the sha256 the index gives for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub url: String,
    pub sha256: Option<String>,
}

/// Download `req.file` from the index into `dest_dir/req.file`, through a temporary file that
/// is renamed into place once its sha256 is the expected one; returns the path and the sha256.
pub fn download_from_index(
    req: &WheelRequest<'_>,
    dest_dir: &Path,
    observer: &FetchObserver,
) -> Result<(PathBuf, String), FetchError> {
    let agent = agent()?;
    let listed = find_file(&agent, req)?;
    let (expected, pinned_by) = match (req.sha256, &listed.sha256) {
        (Some(pinned), Some(listed_hash)) if !listed_hash.eq_ignore_ascii_case(pinned) => {
            return Err(FetchError::ListedHash {
                url: redact(&page_url(req.index, req.package)),
                file: req.file.to_string(),
                listed: listed_hash.clone(),
                expected: pinned.to_string(),
                pinned_by: req.pinned_by.to_string(),
            });
        }
        (Some(pinned), _) => (Some(pinned.to_string()), req.pinned_by.to_string()),
        (None, Some(listed_hash)) => (
            Some(listed_hash.to_ascii_lowercase()),
            format!(
                "the index page {}",
                redact(&page_url(req.index, req.package))
            ),
        ),
        (None, None) => (None, String::new()),
    };
    let shown_url = redact(&listed.url);
    let mut response = agent
        .get(&listed.url)
        .call()
        .map_err(|e| http(&shown_url, e))?;
    check_status(&shown_url, response.status().as_u16())?;
    observer.emit(FetchEvent::Downloading {
        file: req.file.to_string(),
        url: shown_url.clone(),
        index: redact(req.index),
        size: response.body().content_length(),
    });

    let final_path = dest_dir.join(req.file);
    let part = dest_dir.join(format!(".{}.part-{}", req.file, std::process::id()));
    let result = stream_to(
        &mut response.body_mut().as_reader(),
        &part,
        observer,
        &shown_url,
    );
    let (actual, bytes) = match result {
        Ok(done) => done,
        Err(e) => {
            let _ = fs::remove_file(&part);
            return Err(e);
        }
    };
    if let Some(expected) = expected.filter(|e| !actual.eq_ignore_ascii_case(e)) {
        let _ = fs::remove_file(&part);
        return Err(FetchError::Hash {
            url: shown_url,
            actual,
            expected,
            pinned_by,
        });
    }
    fs::rename(&part, &final_path).map_err(io(&final_path))?;
    observer.emit(FetchEvent::Downloaded {
        file: req.file.to_string(),
        bytes,
        first_use: req.sha256.is_none(),
    });
    Ok((final_path, actual))
}

/// Copy a body into `path`, hashing it; returns the hex sha256 and the length.
fn stream_to(
    body: &mut impl Read,
    path: &Path,
    observer: &FetchObserver,
    url: &str,
) -> Result<(String, u64), FetchError> {
    let mut file = fs::File::create(path).map_err(io(path))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut received = 0u64;
    loop {
        let n = match body.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(FetchError::Http {
                    url: url.to_string(),
                    detail: format!("the download broke off after {received} bytes: {e}"),
                })
            }
        };
        hasher.update(&buf[..n]);
        file.write_all(&buf[..n]).map_err(io(path))?;
        received += n as u64;
        observer.emit(FetchEvent::Progress { received });
    }
    file.sync_all().map_err(io(path))?;
    Ok((hex::encode(hasher.finalize()), received))
}

fn page_url(index: &str, package: &str) -> String {
    format!(
        "{}/{}/",
        index.trim_end_matches('/'),
        normalized_name(package)
    )
}

fn http(url: &str, e: ureq::Error) -> FetchError {
    FetchError::Http {
        url: url.to_string(),
        detail: e.to_string(),
    }
}

fn check_status(url: &str, status: u16) -> Result<(), FetchError> {
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(FetchError::Status {
            url: url.to_string(),
            status,
        })
    }
}

fn agent() -> Result<ureq::Agent, FetchError> {
    let mut tls = ureq::tls::TlsConfig::builder();
    let ca_file = ["PIP_CERT", "SSL_CERT_FILE"]
        .iter()
        .find_map(|var| std::env::var_os(var).filter(|v| !v.is_empty()));
    if let Some(path) = ca_file.map(PathBuf::from) {
        let pem = fs::read(&path).map_err(io(&path))?;
        let mut certs = Vec::new();
        for item in ureq::tls::parse_pem(&pem) {
            match item {
                Ok(ureq::tls::PemItem::Certificate(cert)) => certs.push(cert),
                Ok(_) => {}
                Err(e) => {
                    return Err(FetchError::Certificates {
                        path,
                        detail: e.to_string(),
                    })
                }
            }
        }
        if certs.is_empty() {
            return Err(FetchError::Certificates {
                path,
                detail: "no certificate in the file".into(),
            });
        }
        tls = tls.root_certs(ureq::tls::RootCerts::Specific(Arc::new(certs)));
    }
    // The default configuration already reads the proxy variables (and NO_PROXY).
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_recv_response(Some(Duration::from_secs(60)))
        .user_agent(concat!("alembic-engine/", env!("CARGO_PKG_VERSION")))
        .tls_config(tls.build())
        .build();
    Ok(config.into())
}

/// Read the project page and find `req.file` on it.
fn find_file(agent: &ureq::Agent, req: &WheelRequest<'_>) -> Result<Listed, FetchError> {
    let page = page_url(req.index, req.package);
    let shown = redact(&page);
    let mut response = agent
        .get(&page)
        .header(
            "Accept",
            "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01",
        )
        .call()
        .map_err(|e| http(&shown, e))?;
    check_status(&shown, response.status().as_u16())?;
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    // Relative links are relative to the page as finally served (after redirects).
    let base = ureq::ResponseExt::get_uri(&response).to_string();
    let body = response
        .body_mut()
        .read_to_string()
        .map_err(|e| http(&shown, e))?;
    let entries = if content_type.contains("json") {
        parse_json_page(&body).map_err(|detail| FetchError::IndexPage {
            url: shown.clone(),
            detail,
        })?
    } else {
        parse_html_page(&body)
    };
    let (href, sha256) = entries
        .into_iter()
        .find(|(name, _, _)| name == req.file)
        .map(|(_, href, sha)| (href, sha))
        .ok_or_else(|| FetchError::NotListed {
            url: shown.clone(),
            file: req.file.to_string(),
        })?;
    let url = url::Url::parse(&base)
        .and_then(|b| b.join(&href))
        .map_err(|e| FetchError::IndexPage {
            url: shown,
            detail: format!("bad link {href}: {e}"),
        })?;
    let mut url = url.to_string();
    if let Some(i) = url.find('#') {
        url.truncate(i);
    }
    Ok(Listed { url, sha256 })
}

/// `python3 -m pip download --no-deps` of the pinned file into `dest_dir` (the fallback when
/// the index cannot be reached from here but pip's own configuration can).
pub fn download_with_pip(
    package: &str,
    version: &str,
    file: &str,
    index: Option<&str>,
    dest_dir: &Path,
) -> Result<PathBuf, String> {
    // pip writes into a folder of its own first, so a half-written file never has the
    // pinned name in the cache.
    let staging = dest_dir.join(format!(".pip-{}", std::process::id()));
    let _ = fs::remove_dir_all(&staging);
    let mut cmd = Command::new("python3");
    cmd.args([
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary",
        ":all:",
        "-q",
        "-d",
    ])
    .arg(&staging);
    if let Some(index) = index {
        cmd.args(["--index-url", index]);
    }
    cmd.arg(format!("{package}=={version}"));
    let output = cmd.output().map_err(|e| format!("could not start: {e}"));
    let result = output.and_then(|output| {
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            return Err(format!("failed ({}): {}", output.status, stderr.trim()));
        }
        let got = staging.join(file);
        if !got.is_file() {
            return Err("succeeded but did not produce the pinned file name".into());
        }
        let dest = dest_dir.join(file);
        fs::rename(&got, &dest).map_err(|e| format!("{}: {e}", dest.display()))?;
        Ok(dest)
    });
    let _ = fs::remove_dir_all(&staging);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalized_as_pep_503_says() {
        assert_eq!(normalized_name("mlflow-skinny"), "mlflow-skinny");
        assert_eq!(normalized_name("MLflow__Skinny"), "mlflow-skinny");
        assert_eq!(normalized_name("a.-_b"), "a-b");
    }

    #[test]
    fn passwords_in_index_urls_are_not_shown() {
        assert_eq!(
            redact("https://user:secret@pypi.example/simple/"),
            "https://user:****@pypi.example/simple/"
        );
        assert_eq!(redact(DEFAULT_INDEX), DEFAULT_INDEX);
    }
}
