//! Bad input gets a clear one-paragraph error and a non-zero exit, never a panic.

use std::path::Path;
use std::process::{Command, Output};

fn write_project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("versions")).unwrap();
    for (name, body) in files {
        std::fs::write(dir.path().join("versions").join(name), body).unwrap();
    }
    dir
}

fn rev(id: &str, down: &str) -> String {
    format!("\"\"\"rev {id}\"\"\"\nrevision = '{id}'\ndown_revision = {down}\n\ndef upgrade():\n    pass\n")
}

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mlflow-migrate"))
        .arg("--scripts")
        .arg(dir)
        .args(args)
        .output()
        .unwrap()
}

/// Exit code 1 and a single paragraph on stderr that contains every `needle`.
fn assert_fails_with(out: &Output, needles: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        !stderr.trim().contains("\n\n"),
        "more than one paragraph: {stderr}"
    );
    for needle in needles {
        assert!(stderr.contains(needle), "expected {needle:?} in: {stderr}");
    }
}

#[test]
fn python_syntax_error_names_file_line_and_column() {
    let dir = write_project(&[
        ("aaaa00000001_base.py", &rev("aaaa00000001", "None")),
        (
            "bbbb00000002_broken.py",
            "revision = 'bbbb00000002'\ndown_revision = 'aaaa00000001'\ndef upgrade(:\n    pass\n",
        ),
    ]);
    let out = run(dir.path(), &["heads"]);
    assert_fails_with(&out, &["bbbb00000002_broken.py:3:13", "syntax error"]);
}

#[test]
fn missing_revision_variable_is_reported() {
    let dir = write_project(&[("cafe_add_things.py", "down_revision = None\n")]);
    let out = run(dir.path(), &["heads"]);
    assert_fails_with(
        &out,
        &["cafe_add_things.py", "no module variable `revision`"],
    );
}

#[test]
fn unknown_down_revision_is_reported() {
    let dir = write_project(&[
        ("a.py", &rev("aaaa00000001", "None")),
        ("b.py", &rev("bbbb00000002", "'ffff99999999'")),
    ]);
    let out = run(dir.path(), &["history"]);
    assert_fails_with(&out, &["bbbb00000002", "ffff99999999", "not a revision"]);
}

#[test]
fn a_cycle_is_reported_with_its_members() {
    let dir = write_project(&[
        ("0.py", &rev("aaaa00000000", "None")),
        ("a.py", &rev("aaaa00000001", "'cccc00000003'")),
        ("b.py", &rev("bbbb00000002", "'aaaa00000001'")),
        ("c.py", &rev("cccc00000003", "'bbbb00000002'")),
    ]);
    let out = run(dir.path(), &["heads"]);
    assert_fails_with(
        &out,
        &[
            "cycle",
            "aaaa00000001 -> bbbb00000002 -> cccc00000003 -> aaaa00000001",
        ],
    );
}

#[test]
fn duplicate_revision_id_names_both_files() {
    let dir = write_project(&[
        ("a.py", &rev("aaaa00000001", "None")),
        ("b.py", &rev("aaaa00000001", "None")),
    ]);
    let out = run(dir.path(), &["heads"]);
    assert_fails_with(&out, &["aaaa00000001", "defined twice", "a.py", "b.py"]);
}

#[test]
fn ambiguous_prefix_lists_the_candidates() {
    let dir = write_project(&[
        ("a.py", &rev("abcd00000001", "None")),
        ("b.py", &rev("abcd00000002", "'abcd00000001'")),
    ]);
    let out = run(dir.path(), &["show", "abcd"]);
    assert_fails_with(&out, &["ambiguous", "abcd00000001", "abcd00000002"]);
}

#[test]
fn unknown_target_is_reported() {
    let dir = write_project(&[("a.py", &rev("abcd00000001", "None"))]);
    let out = run(dir.path(), &["path", "base", "feedbeef"]);
    assert_fails_with(&out, &["no revision or branch label 'feedbeef'"]);
}

#[test]
fn head_with_two_heads_names_them_and_suggests_alternatives() {
    let dir = write_project(&[
        ("a.py", &rev("aaaa00000001", "None")),
        ("b.py", &rev("bbbb00000002", "'aaaa00000001'")),
        ("c.py", &rev("cccc00000003", "'aaaa00000001'")),
    ]);
    let out = run(dir.path(), &["path", "base", "head"]);
    assert_fails_with(&out, &["bbbb00000002", "cccc00000003", "'heads'", "@head"]);
}

#[test]
fn a_path_that_is_not_a_directory_is_reported() {
    let out = run(Path::new("/nonexistent/alembic-engine/scripts"), &["heads"]);
    assert_fails_with(
        &out,
        &["/nonexistent/alembic-engine/scripts", "not a directory"],
    );
}

/// Offline, a cached wheel that fails its check is refused (online it is fetched again:
/// tests/distribution.rs).
#[test]
fn a_wheel_whose_sha256_does_not_match_the_pin_is_refused() {
    let cache = tempfile::tempdir().unwrap();
    let pin: toml::Value = toml::from_str(include_str!("../revisions/mlflow/source.toml")).unwrap();
    let wheel = pin["wheel"].as_str().unwrap();
    std::fs::write(cache.path().join(wheel), b"not the real wheel").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mlflow-migrate"))
        .args([
            "--project",
            "mlflow",
            "--ignore-installed",
            "--offline",
            "--cache-dir",
        ])
        .arg(cache.path())
        .arg("heads")
        .output()
        .unwrap();
    assert_fails_with(&out, &["sha256", pin["sha256"].as_str().unwrap(), wheel]);
    assert!(
        !cache.path().join("mlflow-skinny-3.17.2").exists(),
        "nothing may be unpacked from a wheel that failed its check"
    );
}
