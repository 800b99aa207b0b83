//! The MLflow releases table (`revisions/mlflow/releases.toml`, `alembic_engine::releases`)
//! against the real thing: a sample of releases' own wheels, read with this crate's script
//! reader (not the Python generator that wrote the table), the pinned MLflow's revision graph,
//! and MLflow's own schema check in the reference environment.
//!
//! The wheels are fetched once with `python3 -m pip download --no-deps` into
//! `<target>/release-wheels/` under an exclusive file lock; later runs read them from there.

mod support;

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use alembic_engine::graph::RevisionGraph;
use alembic_engine::releases::{ReleaseError, Releases};
use alembic_engine::script::{parse_revision, ScriptDirectory};

/// Releases whose wheels are checked: spread over 1.x-3.x, small wheels where there is a
/// choice, and the releases where something changes (the auth project appears in 2.5.0; 3.1.0
/// ships an older head than 3.0.1; the pinned 3.17.2).
const SAMPLE: &[&str] = &[
    "1.14.0", "1.15.0", "1.16.0", "1.20.2", "2.0.1", "2.5.0", "2.9.2", "3.0.0", "3.0.1", "3.1.0",
    "3.7.0", "3.17.2",
];

const TRACKING: &str = "mlflow/store/db_migrations/versions/";
const AUTH: &str = "mlflow/server/auth/db/migrations/versions/";

/// `<target>/release-wheels/mlflow_skinny-<version>-py3-none-any.whl`, downloaded if missing.
fn wheel(version: &str) -> PathBuf {
    let cache = support::target_dir().join("release-wheels");
    fs::create_dir_all(&cache).unwrap_or_else(|e| panic!("cannot create {}: {e}", cache.display()));
    let lock = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(cache.join(".lock"))
        .expect("open the wheel cache lock");
    // Held until `lock` is dropped: one download of each wheel across parallel test processes.
    fs4::fs_std::FileExt::lock_exclusive(&lock).expect("lock the wheel cache");

    let path = cache.join(format!("mlflow_skinny-{version}-py3-none-any.whl"));
    if path.is_file() {
        return path;
    }
    // Download into a scratch folder and move the finished wheel into place, so an
    // interrupted download never leaves a truncated wheel in the cache.
    let scratch = tempfile::tempdir_in(&cache).expect("create a scratch folder");
    let out = Command::new("python3")
        .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:"])
        .args(["--disable-pip-version-check", "--no-input", "-d"])
        .arg(scratch.path())
        .arg(format!("mlflow-skinny=={version}"))
        .output()
        .expect("run `python3 -m pip download`");
    assert!(
        out.status.success(),
        "pip could not download mlflow-skinny {version}:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    fs::rename(scratch.path().join(path.file_name().unwrap()), &path)
        .unwrap_or_else(|e| panic!("pip did not leave {} ({e})", path.display()));
    path
}

/// What one project folder of a wheel holds: its heads (as `alembic heads` lists them) and
/// how many revisions it has; `None` when the wheel does not ship the folder.
fn heads_in_wheel(wheel: &Path, folder: &str) -> Option<(Vec<String>, usize)> {
    let file = fs::File::open(wheel).expect("open the wheel");
    let mut archive = zip::ZipArchive::new(file).expect("read the wheel as a zip");
    let names: Vec<String> = archive
        .file_names()
        .filter(|name| {
            // Alembic's candidates: `*.py` directly in the folder, no `__init__*`.
            name.strip_prefix(folder).is_some_and(|rest| {
                rest.ends_with(".py") && !rest.contains('/') && !rest.starts_with("__init__")
            })
        })
        .map(str::to_string)
        .collect();
    if names.is_empty() {
        return None;
    }
    let mut revisions = Vec::new();
    for name in names {
        let mut source = String::new();
        archive
            .by_name(&name)
            .expect("a listed member")
            .read_to_string(&mut source)
            .expect("a UTF-8 revision file");
        let revision = parse_revision(Path::new(&name), &source, String::new())
            .unwrap_or_else(|e| panic!("{}: {e}", wheel.display()));
        revisions.push(revision);
    }
    let count = revisions.len();
    let graph = RevisionGraph::build(revisions).expect("a valid revision graph");
    let mut heads: Vec<String> = graph
        .heads()
        .iter()
        .map(|&ix| graph.id(ix).to_string())
        .collect();
    heads.sort();
    Some((heads, count))
}

/// The tracking project's graph as the reference environment (the pinned 3.17.2) installs it.
fn pinned_graph() -> RevisionGraph {
    let dir = support::mlflow_scripts_dir();
    let scripts = ScriptDirectory::load(&dir, &[dir.join("versions")], false).unwrap();
    RevisionGraph::build(scripts.revisions).unwrap()
}

#[test]
fn sampled_releases_record_the_heads_their_own_wheels_ship() {
    let releases = Releases::builtin();
    let mut wrong = Vec::new();
    for version in SAMPLE {
        let release = releases.get(version).expect("a sampled release is listed");
        let wheel = wheel(version);

        let (heads, count) = heads_in_wheel(&wheel, TRACKING).expect("tracking migrations");
        let recorded = (vec![release.head.clone()], release.revisions);
        if (heads.clone(), count) != recorded {
            wrong.push(format!(
                "{version} tracking: wheel {heads:?} in {count} revisions, table {recorded:?}"
            ));
        }

        let auth = heads_in_wheel(&wheel, AUTH);
        let recorded = release
            .auth_head
            .clone()
            .map(|head| (vec![head], release.auth_revisions.unwrap_or(0)));
        if auth != recorded {
            wrong.push(format!(
                "{version} auth: wheel {auth:?}, table {recorded:?}"
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "releases.toml disagrees with the wheels:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_pinned_release_maps_to_the_pinned_scripts_head() {
    let releases = Releases::builtin();
    assert_eq!(releases.head_of("3.17.2").unwrap(), "dc11669786a5");
    assert_eq!(
        releases.auth_head_of("3.17.2").unwrap(),
        Some("f1a2b3c4d5e6")
    );

    // The reference environment installs the pinned wheel: its scripts' head is the one listed.
    let graph = pinned_graph();
    let heads: Vec<&str> = graph.heads().iter().map(|&ix| graph.id(ix)).collect();
    assert_eq!(heads, [releases.head_of("3.17.2").unwrap()]);
}

#[test]
fn release_2_9_2_expects_acf3f17fdcc7_and_the_first_auth_revision() {
    let releases = Releases::builtin();
    assert_eq!(releases.head_of("2.9.2").unwrap(), "acf3f17fdcc7");
    assert_eq!(
        releases.auth_head_of("2.9.2").unwrap(),
        Some("8606fa83a998")
    );
    assert_eq!(releases.auth_head_of("2.4.2").unwrap(), None);
}

#[test]
fn an_unknown_release_is_an_error_naming_the_nearest_known() {
    let releases = Releases::builtin();
    let err = releases.head_of("9.9.9").unwrap_err();
    let latest = releases.latest().version.clone();
    match &err {
        ReleaseError::UnknownRelease {
            version, nearest, ..
        } => {
            assert_eq!(version, "9.9.9");
            assert_eq!(nearest, std::slice::from_ref(&latest));
        }
        other => panic!("expected UnknownRelease, got {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        format!("MLflow 9.9.9 is not a known release; nearest known: {latest}")
    );
    // Between two releases: the series and both neighbours.
    let err = releases.head_of("2.13.4").unwrap_err();
    assert!(
        err.to_string()
            .ends_with("nearest known: 2.13.0, 2.13.1, 2.13.2, 2.13.3, 2.14.0"),
        "{err}"
    );
}

#[test]
fn releases_at_a_head_are_a_contiguous_range() {
    let releases = Releases::builtin();
    let at = releases.releases_at("acf3f17fdcc7");
    let versions: Vec<&str> = at.iter().map(|r| r.version.as_str()).collect();
    let all: Vec<&str> = releases.all().iter().map(|r| r.version.as_str()).collect();
    let start = all.iter().position(|v| *v == "2.8.0").unwrap();
    let end = all.iter().position(|v| *v == "2.12.2").unwrap();
    assert_eq!(versions, &all[start..=end]);
    assert!(versions.contains(&"2.9.2"));
    assert_eq!(releases.range_text(&at), "MLflow 2.8.0 – 2.12.2");
}

#[test]
fn releases_whose_heads_go_back_in_version_order_print_as_runs() {
    // 3.1.0 (wheel-checked above) ships 6953534de441, older than 3.0.1's bda7b8c39065.
    let releases = Releases::builtin();
    let at = releases.releases_at("6953534de441");
    assert_eq!(releases.range_text(&at), "MLflow 3.0.0, 3.1.0");
    assert_eq!(releases.head_of("3.0.1").unwrap(), "bda7b8c39065");
}

#[test]
fn a_revision_between_release_heads_lies_after_older_releases_and_before_newer_ones() {
    let graph = pinned_graph();
    let releases = Releases::builtin();

    // 2d6e25af4d3e (the parent of acf3f17fdcc7) is no release's head.
    let placement = releases.place(&graph, "2d6e25af4d3e").unwrap();
    assert!(placement.at.is_empty());
    assert!(placement.elsewhere.is_empty(), "MLflow's history is linear");
    assert_eq!(
        releases.range_text(&placement.before),
        "MLflow 1.14.0 – 2.7.1"
    );
    assert_eq!(
        releases.range_text(&placement.after),
        "MLflow 2.8.0 – 3.17.2"
    );
    // The pinned scripts do not know the heads of later releases.
    assert!(placement.unknown.iter().any(|r| r.version == "3.18.0"));
    assert!(placement.unknown.iter().all(|r| r
        .version
        .split('.')
        .map(|p| p.parse::<u64>().unwrap())
        .collect::<Vec<_>>()
        > vec![3, 17, 2]));

    let containing = releases
        .releases_containing(&graph, "acf3f17fdcc7")
        .unwrap();
    assert_eq!(containing.first().unwrap().version, "2.8.0");
    assert_eq!(containing.last().unwrap().version, "3.17.2");
    assert!(matches!(
        releases.place(&graph, "ffffffffffff"),
        Err(ReleaseError::UnknownRevision { .. })
    ));
}

#[test]
fn compatible_server_agrees_with_mlflows_own_schema_check() {
    // Version-table contents: the head, an older release's head, a newer release's head, an
    // empty table, and two rows.
    let cases: Vec<Vec<&str>> = vec![
        vec!["dc11669786a5"],
        vec!["1b5f0d9ad7c1"],
        vec!["f4a9b2c7d1e6"],
        vec![],
        vec!["dc11669786a5", "1b5f0d9ad7c1"],
    ];
    // MLflow 3.17.2's `_verify_schema` (the reference environment pins that release) on a
    // SQLite database whose alembic_version holds each case: True when it accepts.
    let script = r#"
import json, sys, sqlalchemy
from mlflow.store.db.utils import _verify_schema
answers = []
for rows in json.loads(sys.argv[1]):
    engine = sqlalchemy.create_engine("sqlite://")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        for row in rows:
            conn.exec_driver_sql("INSERT INTO alembic_version VALUES (?)", (row,))
    try:
        _verify_schema(engine)
        answers.append(True)
    except Exception:
        answers.append(False)
print(json.dumps(answers))
"#;
    let out = Command::new(support::ref_python())
        .arg("-c")
        .arg(script)
        .arg(serde_json::to_string(&cases).unwrap())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("run the reference python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected: Vec<bool> = serde_json::from_slice(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .last()
            .unwrap()
            .as_bytes(),
    )
    .unwrap();

    let releases = Releases::builtin();
    let ours: Vec<bool> = cases
        .iter()
        .map(|rows| releases.compatible_server(rows, "3.17.2").unwrap())
        .collect();
    assert_eq!(ours, expected);
    assert_eq!(expected, [true, false, false, false, false]);
}
