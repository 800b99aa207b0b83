//! Where MLflow operators already are: the pinned wheel fetched without Python, a cache that
//! is checked on every use and repaired, `--offline`, `fetch`, shell completions and the man
//! page.
//!
//! One test reaches the real package index (PyPI, or `PIP_INDEX_URL`), as an operator's first
//! run does. The others serve the pinned wheel from a small HTTP server on 127.0.0.1 acting as
//! a PEP 503 or PEP 691 index (and as a proxy), so they can serve wrong bytes and wrong hashes.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use alembic_engine::project::WheelPin;
use support::cli::{assert_mlflow_accepts, ok};
use support::db::TestDb;
use support::index::{LocalIndex, PROXY_VARS};

fn pin() -> WheelPin {
    WheelPin::builtin()
}

/// `mlflow-migrate` with a `PATH` that holds no `python3` (an empty folder), so neither an
/// installed MLflow nor pip can be found.
fn without_python(dir: &Path) -> Command {
    let bin = dir.join("empty-bin");
    fs::create_dir_all(&bin).unwrap();
    let mut cmd = support::mlflow_migrate();
    cmd.env("PATH", &bin)
        .env_remove("PIP_INDEX_URL")
        .env_remove("MLFLOW_MIGRATE_CACHE")
        .env_remove("VIRTUAL_ENV");
    cmd
}

/// The same, talking only to a local index: no proxy variables from the environment.
fn local(dir: &Path, cache: &Path, index: &str) -> Command {
    let mut cmd = without_python(dir);
    for var in PROXY_VARS {
        cmd.env_remove(var);
    }
    cmd.args(["--ignore-installed", "--cache-dir"])
        .arg(cache)
        .args(["--index-url", index]);
    cmd
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn failed(out: &Output) -> String {
    assert!(
        !out.status.success(),
        "expected a failure; stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(out.status.code(), Some(1));
    stderr(out)
}

fn heads(out: &Output) -> String {
    ok(out);
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The pinned wheel's bytes, fetched once per target directory with `mlflow-migrate fetch`
/// (from the real index) and served by the local index of the other tests.
fn wheel_bytes() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        let cache = support::target_dir().join("dist-test-cache");
        let out = support::mlflow_migrate()
            .args(["fetch", "--cache-dir"])
            .arg(&cache)
            .output()
            .unwrap();
        ok(&out);
        fs::read(cache.join(pin().wheel)).unwrap()
    })
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}

/// A PEP 503 page listing the pinned file by a relative link with `hash` in its fragment,
/// next to another file; and the file itself serving `body`.
fn html_index(hash: Option<String>, body: Vec<u8>) -> LocalIndex {
    let file = pin().wheel;
    LocalIndex::start(move |path| match path {
        "/simple/mlflow-skinny/" => {
            let fragment = hash
                .as_ref()
                .map(|h| format!("#sha256={h}"))
                .unwrap_or_default();
            let page = format!(
                "<!DOCTYPE html><html><body>\n\
                 <a href=\"../../files/mlflow_skinny-3.17.1-py3-none-any.whl#sha256=00\">mlflow_skinny-3.17.1-py3-none-any.whl</a><br/>\n\
                 <a href=\"../../files/{file}{fragment}\" data-requires-python=\"&gt;=3.10\">{file}</a><br/>\n\
                 </body></html>"
            );
            (200, "text/html", page.into_bytes())
        }
        p if p == format!("/files/{file}") => (200, "application/octet-stream", body.clone()),
        _ => (404, "text/plain", b"not found".to_vec()),
    })
}

#[test]
fn without_python_an_empty_cache_is_fetched_from_the_index_checked_and_used_to_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let db = TestDb::sqlite();
    let out = without_python(dir.path())
        .args(["--ignore-installed", "--cache-dir"])
        .arg(&cache)
        .args(["upgrade", &db.our_url()])
        .output()
        .unwrap();
    ok(&out);
    let err = stderr(&out);
    assert!(
        err.contains(&format!("downloading {}", pin().wheel)) && err.contains("from https://"),
        "says what it downloads and from where: {err}"
    );
    assert!(err.contains("sha256 is the pinned one"), "{err}");
    assert!(!err.contains("pip"), "no pip involved: {err}");
    let wheel = fs::read(cache.join(pin().wheel)).unwrap();
    assert_eq!(sha256_hex(&wheel), pin().sha256);
    assert_mlflow_accepts(&db, "upgraded from a wheel fetched without Python");

    // The second run uses the cache as it is: no download.
    let again = without_python(dir.path())
        .args(["--ignore-installed", "--cache-dir"])
        .arg(&cache)
        .args(["--offline", "heads"])
        .output()
        .unwrap();
    assert_eq!(heads(&again), "dc11669786a5 (head)");
    assert!(
        !stderr(&again).contains("downloading"),
        "{}",
        stderr(&again)
    );
}

#[test]
fn a_tampered_cached_wheel_is_refused_and_fetched_again() {
    let index = html_index(Some(pin().sha256), wheel_bytes().to_vec());
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let run = |extra: &[&str]| {
        local(dir.path(), &cache, &index.simple())
            .args(extra)
            .arg("heads")
            .output()
            .unwrap()
    };
    assert_eq!(heads(&run(&[])), "dc11669786a5 (head)");
    assert_eq!(index.count(&pin().wheel), 1);

    // Same length, one byte changed: only the hash can tell.
    let wheel_path = cache.join(pin().wheel);
    let mut bytes = fs::read(&wheel_path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    fs::write(&wheel_path, &bytes).unwrap();

    let offline = failed(&run(&["--offline"]));
    assert!(
        offline.contains("refusing it") && offline.contains(&pin().sha256),
        "{offline}"
    );
    assert_eq!(index.count(&pin().wheel), 1, "--offline downloads nothing");

    let repaired = run(&[]);
    assert_eq!(heads(&repaired), "dc11669786a5 (head)");
    let err = stderr(&repaired);
    assert!(
        err.contains("the cached wheel has sha256") && err.contains("replacing it"),
        "{err}"
    );
    assert_eq!(index.count(&pin().wheel), 2, "fetched again");
    assert_eq!(sha256_hex(&fs::read(&wheel_path).unwrap()), pin().sha256);
}

#[test]
fn a_partial_download_is_fetched_again_and_leftovers_of_killed_runs_are_removed() {
    let index = html_index(None, wheel_bytes().to_vec());
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    fs::create_dir_all(&cache).unwrap();
    let half = &wheel_bytes()[..wheel_bytes().len() / 2];
    fs::write(cache.join(pin().wheel), half).unwrap();
    // What a killed download and a killed unpack leave behind.
    let part = cache.join(format!(".{}.part-999999", pin().wheel));
    fs::write(&part, half).unwrap();
    fs::create_dir_all(cache.join(".unpack-999999/mlflow")).unwrap();
    let out = local(dir.path(), &cache, &index.simple())
        .arg("heads")
        .output()
        .unwrap();
    assert_eq!(heads(&out), "dc11669786a5 (head)");
    assert!(stderr(&out).contains("replacing it"), "{}", stderr(&out));
    assert_eq!(
        fs::read(cache.join(pin().wheel)).unwrap().len(),
        wheel_bytes().len()
    );
    assert!(!part.exists() && !cache.join(".unpack-999999").exists());
}

#[test]
fn a_changed_or_extra_unpacked_script_is_detected_and_unpacked_again_offline() {
    let index = html_index(None, wheel_bytes().to_vec());
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let run = || {
        local(dir.path(), &cache, &index.simple())
            .args(["--offline", "heads"])
            .output()
            .unwrap()
    };
    ok(&local(dir.path(), &cache, &index.simple())
        .arg("fetch")
        .output()
        .unwrap());
    let versions = cache.join("mlflow-skinny-3.17.2/mlflow/store/db_migrations/versions");
    let script = fs::read_dir(&versions)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "py") && !p.ends_with("__init__.py"))
        .unwrap();
    let original = fs::read(&script).unwrap();
    fs::write(&script, b"revision = 'hijacked'\ndown_revision = None\n").unwrap();
    let out = run();
    assert_eq!(heads(&out), "dc11669786a5 (head)");
    assert!(
        stderr(&out).contains("holds a changed") && stderr(&out).contains("replacing it"),
        "{}",
        stderr(&out)
    );
    assert_eq!(fs::read(&script).unwrap(), original);

    // A file the wheel does not hold would be read as one more revision.
    fs::write(
        versions.join("ffffffffffff_extra.py"),
        b"revision = 'ffffffffffff'\ndown_revision = 'dc11669786a5'\n",
    )
    .unwrap();
    let out = run();
    assert_eq!(heads(&out), "dc11669786a5 (head)");
    assert!(
        stderr(&out).contains("which the manifest does not list"),
        "{}",
        stderr(&out)
    );
    assert!(!versions.join("ffffffffffff_extra.py").exists());
    assert_eq!(index.count(&pin().wheel), 1, "repairs reuse the wheel");
}

#[test]
fn offline_with_an_empty_cache_fails_with_a_clear_message_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    fs::create_dir(&cache).unwrap();
    let db_path = dir.path().join("mlflow.db");
    let url = format!("sqlite:///{}", db_path.display());
    // An index that would answer, to show --offline does not ask it.
    let index = html_index(None, wheel_bytes().to_vec());
    for args in [vec!["upgrade", url.as_str()], vec!["heads"], vec!["fetch"]] {
        let out = local(dir.path(), &cache, &index.simple())
            .arg("--offline")
            .args(&args)
            .output()
            .unwrap();
        let err = failed(&out);
        assert!(
            err.contains("--offline")
                && err.contains(&pin().wheel)
                && err.contains("mlflow-migrate fetch"),
            "{args:?}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "one paragraph: {err}");
    }
    assert_eq!(fs::read_dir(&cache).unwrap().count(), 0, "cache untouched");
    assert!(!db_path.exists(), "no database file created");
    assert_eq!(index.requests.lock().unwrap().len(), 0);
}

#[test]
fn fetch_prefills_a_cache_that_offline_runs_use_without_writing() {
    let index = html_index(Some(pin().sha256), wheel_bytes().to_vec());
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let out = local(dir.path(), &cache, &index.simple())
        .args(["--format", "json", "fetch"])
        .output()
        .unwrap();
    ok(&out);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        PathBuf::from(json["wheel"].as_str().unwrap()),
        cache.join(pin().wheel)
    );
    // The lock file is only made when the cache needs writing: a complete cache is read as
    // it is (a read-only image).
    fs::remove_file(cache.join(".lock")).unwrap();
    let db = TestDb::sqlite();
    let out = local(dir.path(), &cache, "http://127.0.0.1:9/unused/")
        .args(["--offline", "upgrade", "--quiet", &db.our_url()])
        .output()
        .unwrap();
    ok(&out);
    assert!(!cache.join(".lock").exists());
    assert_mlflow_accepts(&db, "upgraded offline from a fetched cache");
}

#[test]
fn a_json_index_named_by_pip_index_url_and_reached_through_a_proxy_serves_the_wheel() {
    let wheel = pin().wheel;
    let sha = pin().sha256;
    let proxy = LocalIndex::start(move |path| match path {
        "/pypi/simple/mlflow-skinny/" => {
            let page = serde_json::json!({
                "meta": {"api-version": "1.1"},
                "name": "mlflow-skinny",
                "files": [{"filename": wheel, "url": format!("/blobs/{wheel}"),
                           "hashes": {"sha256": sha}}],
            });
            (
                200,
                "application/vnd.pypi.simple.v1+json",
                page.to_string().into_bytes(),
            )
        }
        p if p.starts_with("/blobs/") => (200, "application/octet-stream", wheel_bytes().to_vec()),
        _ => (404, "text/plain", Vec::new()),
    });
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let mut cmd = without_python(dir.path());
    for var in PROXY_VARS {
        cmd.env_remove(var);
    }
    // The index's host name exists nowhere: only the proxy can answer for it.
    let out = cmd
        .env("PIP_INDEX_URL", "http://pypi.invalid/pypi/simple")
        .env("HTTP_PROXY", &proxy.base)
        .args(["--ignore-installed", "--cache-dir"])
        .arg(&cache)
        .arg("heads")
        .output()
        .unwrap();
    assert_eq!(heads(&out), "dc11669786a5 (head)");
    assert!(
        stderr(&out).contains("from http://pypi.invalid/blobs/")
            && stderr(&out).contains("index http://pypi.invalid/pypi/simple"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        proxy.count("CONNECT pypi.invalid:80"),
        2,
        "page and file through the proxy"
    );
}

#[test]
fn an_index_listing_another_hash_is_refused_before_downloading() {
    let index = html_index(Some("ab".repeat(32)), wheel_bytes().to_vec());
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let out = local(dir.path(), &cache, &index.simple())
        .arg("heads")
        .output()
        .unwrap();
    let err = failed(&out);
    assert!(
        err.contains("lists mlflow_skinny-3.17.2-py3-none-any.whl with sha256 abab")
            && err.contains(&pin().sha256),
        "{err}"
    );
    assert_eq!(index.count(&format!("/files/{}", pin().wheel)), 0);
    assert!(!cache.join(pin().wheel).exists());
}

#[test]
fn downloaded_bytes_with_another_hash_are_refused_and_nothing_is_kept() {
    let mut bytes = wheel_bytes().to_vec();
    bytes[100] ^= 1;
    let index = html_index(None, bytes);
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let out = local(dir.path(), &cache, &index.simple())
        .arg("heads")
        .output()
        .unwrap();
    let err = failed(&out);
    assert!(
        err.contains("delivered a file with sha256") && err.contains("nothing was kept"),
        "{err}"
    );
    let left: Vec<_> = fs::read_dir(&cache)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != ".lock")
        .collect();
    assert!(left.is_empty(), "left in the cache: {left:?}");
}

#[test]
fn an_unreachable_index_without_python_names_both_failures() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    // Port 9 (discard) on the loopback: nothing listens there.
    let out = local(dir.path(), &cache, "http://user:secret@127.0.0.1:9/simple/")
        .arg("heads")
        .output()
        .unwrap();
    let err = failed(&out);
    assert!(
        err.contains("from the index http://user:****@127.0.0.1:9/simple/")
            && err.contains("`python3 -m pip download` could not start"),
        "{err}"
    );
    assert!(!err.contains("secret"), "the password is not shown: {err}");
}

#[test]
fn bash_completions_are_generated_and_load_in_bash() {
    let out = support::mlflow_migrate()
        .args(["completions", "bash"])
        .output()
        .unwrap();
    ok(&out);
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("mlflow-migrate.bash");
    fs::write(&script, &out.stdout).unwrap();
    let bash = Command::new("bash")
        .arg("-c")
        .arg("set -e; source \"$1\"; complete -p mlflow-migrate")
        .arg("bash")
        .arg(&script)
        .output()
        .unwrap();
    ok(&bash);
    assert!(
        String::from_utf8_lossy(&bash.stdout).contains("mlflow-migrate"),
        "the completion is registered"
    );
    // The completion function offers the subcommands, `fetch` among them.
    let words = Command::new("bash")
        .arg("-c")
        .arg(
            "source \"$1\"; f=$(complete -p mlflow-migrate | sed -E 's/.* -F ([^ ]+) .*/\\1/'); \
             COMP_WORDS=(mlflow-migrate fe); COMP_CWORD=1; COMP_LINE='mlflow-migrate fe'; \
             COMP_POINT=${#COMP_LINE}; \"$f\" mlflow-migrate fe mlflow-migrate; \
             printf '%s\\n' \"${COMPREPLY[@]}\"",
        )
        .arg("bash")
        .arg(&script)
        .output()
        .unwrap();
    ok(&words);
    assert_eq!(String::from_utf8_lossy(&words.stdout).trim(), "fetch");

    for shell in ["zsh", "fish"] {
        let out = support::mlflow_migrate()
            .args(["completions", shell])
            .output()
            .unwrap();
        ok(&out);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("mlflow-migrate") && text.contains("offline"),
            "{shell}"
        );
    }
}

#[test]
fn the_man_page_documents_every_command_and_the_fetch_flags() {
    let out = support::mlflow_migrate().arg("man").output().unwrap();
    ok(&out);
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(page.starts_with(".ie") || page.starts_with(".TH"), "{page}");
    assert!(page.contains(".TH mlflow-migrate"), "{page}");
    for word in [
        "upgrade",
        "downgrade",
        "fetch",
        "completions",
        "offline",
        "index\\-url",
    ] {
        assert!(page.contains(word), "the man page mentions {word}");
    }
}

#[test]
fn when_the_index_cannot_be_reached_pip_download_is_the_fallback_and_its_file_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    // A stand-in `python3` that does what `python3 -m pip download -d DIR` does: puts the
    // file named by $FAKE_WHEEL into DIR, and logs its arguments.
    let bin = dir.path().join("empty-bin");
    fs::create_dir_all(&bin).unwrap();
    let python = bin.join("python3");
    fs::write(
        &python,
        "#!/bin/sh\n\
         PATH=/usr/bin:/bin\n\
         echo \"$@\" >> \"$FAKE_LOG\"\n\
         while [ $# -gt 0 ]; do if [ \"$1\" = -d ]; then dest=$2; fi; shift; done\n\
         mkdir -p \"$dest\" && cp \"$FAKE_WHEEL\" \"$dest/\"\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&python, fs::Permissions::from_mode(0o755)).unwrap();
    let source = dir.path().join("from-pip");
    fs::create_dir_all(&source).unwrap();
    let wheel = source.join(pin().wheel);
    let log = dir.path().join("pip.log");
    let run = |cache: &Path| {
        local(dir.path(), cache, "http://127.0.0.1:9/simple/")
            .env("PATH", &bin)
            .env("FAKE_WHEEL", &wheel)
            .env("FAKE_LOG", &log)
            .arg("heads")
            .output()
            .unwrap()
    };

    fs::write(&wheel, wheel_bytes()).unwrap();
    let out = run(&dir.path().join("cache"));
    assert_eq!(heads(&out), "dc11669786a5 (head)");
    assert!(
        stderr(&out).contains("trying `python3 -m pip download`"),
        "{}",
        stderr(&out)
    );
    let args = fs::read_to_string(&log).unwrap();
    assert!(
        args.contains("-m pip download --no-deps")
            && args.contains("--index-url http://127.0.0.1:9/simple/")
            && args.contains("mlflow-skinny==3.17.2"),
        "{args}"
    );

    // What pip brings is held to the same pin.
    let mut bad = wheel_bytes().to_vec();
    bad[7] ^= 1;
    fs::write(&wheel, bad).unwrap();
    let cache = dir.path().join("cache2");
    let err = failed(&run(&cache));
    assert!(
        err.contains("python3 -m pip download delivered a file with sha256"),
        "{err}"
    );
    assert!(!cache.join(pin().wheel).exists());
}

#[test]
fn on_a_terminal_the_download_shows_a_progress_bar() {
    let index = html_index(None, wheel_bytes().to_vec());
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    // util-linux's `script` gives the command a pseudo-terminal.
    let command = format!(
        "'{}' --ignore-installed --cache-dir '{}' --index-url '{}' fetch",
        env!("CARGO_BIN_EXE_mlflow-migrate"),
        cache.display(),
        index.simple()
    );
    let mut script = Command::new("script");
    for var in PROXY_VARS {
        script.env_remove(var);
    }
    let out = script
        .args(["-qec", &command, "/dev/null"])
        .output()
        .unwrap();
    ok(&out);
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(
        screen.contains(&format!("downloading {} (3.92 MiB)", pin().wheel)),
        "{screen}"
    );
    assert!(
        screen.contains("/3.92 MiB") && screen.contains("  ["),
        "a bar: {screen}"
    );
    assert!(screen.contains("cache ready in"), "{screen}");

    // Not on a terminal: the same lines, no bar.
    let plain = local(dir.path(), &dir.path().join("cache2"), &index.simple())
        .arg("fetch")
        .output()
        .unwrap();
    ok(&plain);
    assert!(stderr(&plain).contains("downloading"));
    assert!(!stderr(&plain).contains("/3.92 MiB"), "{}", stderr(&plain));
}
