//! A release newer than the pinned wheel (`--mlflow-version X`, `--scripts-from-release X`):
//! its wheel is fetched on first use, the sha256 the index lists is recorded in the cache and
//! required from then on, and its new revisions compile (and equal Python Alembic's result)
//! or are refused with file:line before anything changes.
//!
//! Most tests serve made-up newer releases (the pinned wheel plus a revision) from a local
//! index, so they can change the bytes and the listed hash. The others fetch MLflow 3.18.0
//! from the real index, as an operator would the week a release comes out.

mod support;

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex, OnceLock};

use alembic_engine::project::WheelPin;
use support::cli::{head, ok, ours, run};
use support::db::{Dialect, TestDb};
use support::index::{LocalIndex, PROXY_VARS};
use support::reference_db::{build_reference, reference_at, reflect, Project};
use support::schema_diff::schema_differences;

const SCRIPTS: &str = "mlflow/store/db_migrations/versions";

/// The pinned wheel's bytes (fetched once per target directory with `mlflow-migrate fetch`).
fn pinned_wheel() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        let cache = support::target_dir().join("dist-test-cache");
        let out = support::mlflow_migrate()
            .args(["--quiet", "fetch", "--cache-dir"])
            .arg(&cache)
            .output()
            .unwrap();
        ok(&out);
        fs::read(cache.join(WheelPin::builtin().wheel)).unwrap()
    })
}

/// The pinned wheel with `extra` revision files added: a made-up newer release.
fn newer_wheel(extra: &[(&str, String)]) -> Vec<u8> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(pinned_wheel())).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let name = entry.name().to_string();
        if entry.is_dir() {
            continue;
        }
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        out.start_file(name, options).unwrap();
        out.write_all(&bytes).unwrap();
    }
    for (name, text) in extra {
        out.start_file(format!("{SCRIPTS}/{name}"), options)
            .unwrap();
        out.write_all(text.as_bytes()).unwrap();
    }
    out.finish().unwrap().into_inner()
}

/// An ordinary revision after the pinned head: a table and a nullable column.
fn ordinary_revision() -> (&'static str, String) {
    (
        "aaaa90000001_newer_notes.py",
        format!(
            r#""""add a table and a column, as a release newer than the pinned one might"""
import sqlalchemy as sa
from alembic import op

revision = "aaaa90000001"
down_revision = "{}"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "newer_release_notes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("note", sa.String(255), nullable=True),
    )
    op.add_column("experiments", sa.Column("newer_flag", sa.Boolean(), nullable=True))


def downgrade():
    op.drop_column("experiments", "newer_flag")
    op.drop_table("newer_release_notes")
"#,
            head()
        ),
    )
}

/// A data migration reading rows in Python after it: no recipe covers it.
const READS_ROWS: &str = r#""""copy notes in Python"""
import sqlalchemy as sa
from alembic import op

revision = "aaaa90000002"
down_revision = "aaaa90000001"
branch_labels = None
depends_on = None


def upgrade():
    conn = op.get_bind()
    notes = sa.table("newer_release_notes", sa.column("id"), sa.column("note"))
    rows = conn.execute(sa.select(notes.c.id, notes.c.note))
    for row in rows:
        conn.execute(notes.update().where(notes.c.id == row.id).values(note=row.note.strip()))


def downgrade():
    pass
"#;

/// What the local index serves per release: the hash its page lists, and the file's bytes.
type Served = Arc<Mutex<BTreeMap<String, (Option<String>, Vec<u8>)>>>;

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}

fn wheel_name(version: &str) -> String {
    WheelPin::builtin().wheel_of(version)
}

/// A PEP 503 index serving `served`, which the test may change while it runs.
fn index(served: &Served) -> LocalIndex {
    let served = served.clone();
    LocalIndex::start(move |path| {
        let files = served.lock().unwrap();
        if path == "/simple/mlflow-skinny/" {
            let mut page = String::from("<!DOCTYPE html><html><body>\n");
            for (version, (hash, _)) in files.iter() {
                let file = wheel_name(version);
                let fragment = hash
                    .as_ref()
                    .map(|h| format!("#sha256={h}"))
                    .unwrap_or_default();
                page += &format!("<a href=\"../../files/{file}{fragment}\">{file}</a><br/>\n");
            }
            return (200, "text/html", page.into_bytes());
        }
        for (version, (_, bytes)) in files.iter() {
            if path == format!("/files/{}", wheel_name(version)) {
                return (200, "application/octet-stream", bytes.clone());
            }
        }
        (404, "text/plain", b"not found".to_vec())
    })
}

fn serve(served: &Served, version: &str, listed: Option<String>, bytes: Vec<u8>) {
    served
        .lock()
        .unwrap()
        .insert(version.to_string(), (listed, bytes));
}

/// `mlflow-migrate` using only the local index and `cache`: no python3 on PATH (neither an
/// installed MLflow nor pip), no proxies.
fn local(dir: &Path, cache: &Path, index: &LocalIndex) -> Command {
    let bin = dir.join("empty-bin");
    fs::create_dir_all(&bin).unwrap();
    let mut cmd = support::mlflow_migrate();
    cmd.env("PATH", &bin)
        .env_remove("PIP_INDEX_URL")
        .env_remove("MLFLOW_MIGRATE_CACHE");
    for var in PROXY_VARS {
        cmd.env_remove(var);
    }
    cmd.arg("--cache-dir")
        .arg(cache)
        .args(["--index-url", &index.simple()]);
    cmd
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn failed_with(out: &Output, code: i32) -> String {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        stderr(out)
    );
    stderr(out)
}

fn version_rows(db: &TestDb) -> Vec<String> {
    let doc = reflect(db, "alembic_version");
    doc["versions"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|r| r.as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn unpacked_scripts(cache: &Path, version: &str) -> PathBuf {
    cache
        .join(format!("mlflow-skinny-{version}"))
        .join("mlflow/store/db_migrations")
}

#[test]
fn a_newer_release_is_fetched_its_hash_recorded_and_its_revision_upgrades_as_alembic_does() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let served: Served = Arc::default();
    let bytes = newer_wheel(&[ordinary_revision()]);
    serve(&served, "9.0.0", Some(sha256_hex(&bytes)), bytes.clone());
    let index = index(&served);

    let db = TestDb::sqlite();
    let out = local(dir.path(), &cache, &index)
        .args([
            "upgrade",
            &db.our_url(),
            "--mlflow-version",
            "9.0.0",
            "--no-backup",
        ])
        .output()
        .unwrap();
    ok(&out);
    assert!(
        stderr(&out).contains("recorded in the cache")
            && stderr(&out).contains("scripts from MLflow 9.0.0's wheel"),
        "{}",
        stderr(&out)
    );
    let record = cache.join(format!("{}.sha256", wheel_name("9.0.0")));
    assert_eq!(
        fs::read_to_string(&record).unwrap().trim(),
        sha256_hex(&bytes)
    );
    assert_eq!(version_rows(&db), ["aaaa90000001"]);

    // Python Alembic with the same scripts builds the same database.
    let twin = TestDb::sqlite();
    build_reference(
        &twin,
        Project::Mlflow,
        &unpacked_scripts(&cache, "9.0.0"),
        "heads",
    );
    let diff = schema_differences(&reflect(&twin, "alembic_version"), &ours(&db));
    assert!(diff.is_empty(), "{}", diff.join("\n"));

    // Later runs use the cache: no download, and the release's server would start.
    let check = local(dir.path(), &cache, &index)
        .args(["check", &db.our_url(), "--mlflow-version", "9.0.0"])
        .output()
        .unwrap();
    ok(&check);
    assert_eq!(index.count("/files/"), 1);

    // The index now serves other bytes under the same listing: once the cached wheel is
    // gone, the download is refused against the recorded hash.
    let mut tampered = bytes.clone();
    tampered.extend_from_slice(b"tampered");
    serve(
        &served,
        "9.0.0",
        Some(sha256_hex(&tampered)),
        tampered.clone(),
    );
    fs::remove_file(cache.join(wheel_name("9.0.0"))).unwrap();
    let refused = local(dir.path(), &cache, &index)
        .args(["check", &db.our_url(), "--mlflow-version", "9.0.0"])
        .output()
        .unwrap();
    let err = failed_with(&refused, 3);
    assert!(
        err.contains("the hash recorded on first use in")
            && err.contains(&sha256_hex(&tampered))
            && err.contains("refusing it"),
        "{err}"
    );
    serve(&served, "9.0.0", None, tampered);
    let refused = local(dir.path(), &cache, &index)
        .args(["--scripts-from-release", "9.0.0", "heads"])
        .output()
        .unwrap();
    let err = failed_with(&refused, 1);
    assert!(
        err.contains("delivered a file with sha256") && err.contains("recorded on first use"),
        "{err}"
    );
    assert!(!cache.join(wheel_name("9.0.0")).exists());
    assert_eq!(
        fs::read_to_string(&record).unwrap().trim(),
        sha256_hex(&bytes),
        "the record is kept"
    );
}

#[test]
fn a_newer_release_whose_revision_reads_rows_is_refused_with_file_and_line_before_any_change() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let served: Served = Arc::default();
    let bytes = newer_wheel(&[
        ordinary_revision(),
        ("aaaa90000002_copy_notes.py", READS_ROWS.to_string()),
    ]);
    serve(&served, "9.0.1", Some(sha256_hex(&bytes)), bytes);
    let index = index(&served);

    let db = TestDb::sqlite();
    ok(&run(&["upgrade", "--quiet", "--no-backup", &db.our_url()]));
    let before = reflect(&db, "alembic_version");
    let out = local(dir.path(), &cache, &index)
        .args([
            "upgrade",
            &db.our_url(),
            "--mlflow-version",
            "9.0.1",
            "--no-backup",
        ])
        .output()
        .unwrap();
    let err = failed_with(&out, 1);
    let line = READS_ROWS
        .lines()
        .position(|l| l.contains("rows = conn.execute"))
        .unwrap()
        + 1;
    assert!(
        err.contains(&format!("aaaa90000002_copy_notes.py:{line}:")),
        "names the file and line: {err}"
    );
    assert_eq!(
        reflect(&db, "alembic_version"),
        before,
        "nothing changed, not even the ordinary revision before it"
    );
    // `sql` says the same without a database.
    let sql = local(dir.path(), &cache, &index)
        .args(["--scripts-from-release", "9.0.1", "sql", "base:heads"])
        .args(["--dialect", "postgresql"])
        .output()
        .unwrap();
    assert!(failed_with(&sql, 1).contains(&format!("aaaa90000002_copy_notes.py:{line}:")));
}

#[test]
fn a_release_the_index_does_not_list_and_an_offline_first_use_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let served: Served = Arc::default();
    let index = index(&served);
    let db = TestDb::sqlite();
    let out = local(dir.path(), &cache, &index)
        .args(["upgrade", &db.our_url(), "--mlflow-version", "9.5.0"])
        .output()
        .unwrap();
    let err = failed_with(&out, 1);
    assert!(
        err.contains("MLflow 9.5.0 is not a known release")
            && err.contains(&format!("does not list {}", wheel_name("9.5.0"))),
        "{err}"
    );
    assert!(!err.contains("pip"), "a listing without it is final: {err}");
    assert!(
        db.path().is_some_and(|p| !p.exists()),
        "the database was not created"
    );

    let offline_cache = dir.path().join("offline-cache");
    let out = local(dir.path(), &offline_cache, &index)
        .args(["--offline", "--scripts-from-release", "9.0.0", "heads"])
        .output()
        .unwrap();
    let err = failed_with(&out, 1);
    assert!(
        err.contains("--offline") && err.contains(&wheel_name("9.0.0")),
        "{err}"
    );
    assert!(!offline_cache.exists(), "nothing was created");

    // The scripts come from one place.
    let both = local(dir.path(), &cache, &index)
        .args(["--scripts", ".", "--scripts-from-release", "9.0.0", "heads"])
        .output()
        .unwrap();
    failed_with(&both, 2);
}

/// `mlflow-migrate` keeping release wheels in the tests' shared release cache.
fn with_release_cache() -> Command {
    let mut cmd = support::mlflow_migrate();
    cmd.arg("--cache-dir").arg(support::release_cache());
    cmd
}

/// An SQL string literal of `text` on `dialect` (MySQL reads backslashes as escapes).
fn literal(dialect: Dialect, text: &str) -> String {
    let text = text.replace('\'', "''");
    match dialect {
        Dialect::MariaDb => format!("'{}'", text.replace('\\', "\\\\")),
        _ => format!("'{text}'"),
    }
}

/// An experiment and one issue per entry of `categories` (JSON text, or NULL).
fn write_issues(db: &TestDb, categories: &[Option<&str>]) {
    let mut script = String::from(
        "INSERT INTO experiments (experiment_id, name, lifecycle_stage, creation_time, \
         last_update_time) VALUES (7, 'issues', 'active', 0, 0);\n",
    );
    for (i, cats) in categories.iter().enumerate() {
        let cats = cats.map_or("NULL".to_string(), |c| literal(db.dialect(), c));
        script += &format!(
            "INSERT INTO issues (issue_id, experiment_id, name, description, status, categories, \
             created_timestamp, last_updated_timestamp) VALUES ('issue-{i}', 7, 'n{i}', 'd', \
             'open', {cats}, {}, 5);\n",
            1000 + i
        );
    }
    db.run_sql_script(&script).unwrap();
}

/// What MLflow writes (`json.dumps` escapes all but ASCII), and the awkward corners the
/// recipe must agree on: whitespace Python strips (\x1f, tabs), escapes, one hash met several
/// times (the last text wins), empty lists and NULL.
const CATEGORIES: &[Option<&str>] = &[
    Some(r#"["Latency", "  latency ", "Cost", "cost\t"]"#),
    Some("[]"),
    None,
    Some(r#"["A\u0042c", " \u001fTrim\t", "x  y"]"#),
    Some(r#"["Dup", "dup", "DUP"]"#),
    Some(" [ ] "),
];

fn rows_of(db: &TestDb, table: &str) -> serde_json::Value {
    support::reference_db::rows(db)[table].clone()
}

/// MLflow 3.18.0 from the real index, on `dialect`: its three revisions (skill registry tables;
/// issue facets, whose Python copy of categories the recipe replaces; case-sensitive MCP
/// versions) give Python Alembic's schema and rows; where the recipe cannot be exact it
/// refuses before any change.
fn mlflow_3_18_0(dialect: Dialect) {
    let scripts = support::newer_release_scripts_dir();
    let db = reference_at(dialect, Project::Mlflow, &head());
    // SQLite has no sha256: only lists without categories are copied there.
    let categories: Vec<Option<&str>> = match dialect {
        Dialect::Sqlite => vec![Some("[]"), None, Some(" [ ] ")],
        _ => CATEGORIES.to_vec(),
    };
    write_issues(&db, &categories);
    let twin = db.copy_to_new();
    let ours_cmd = |args: &[&str]| with_release_cache().args(args).output().unwrap();
    ok(&ours_cmd(&[
        "upgrade",
        "--quiet",
        "--no-backup",
        &db.our_url(),
        "--mlflow-version",
        support::NEWER_RELEASE,
    ]));
    build_reference(&twin, Project::Mlflow, &scripts, "heads");
    let diff = schema_differences(&reflect(&twin, "alembic_version"), &ours(&db));
    assert!(diff.is_empty(), "{dialect}:\n{}", diff.join("\n"));
    assert_eq!(version_rows(&db), ["f4a9b2c7d1e6"]);
    for table in ["issues", "issue_categories"] {
        assert_eq!(
            rows_of(&db, table),
            rows_of(&twin, table),
            "{dialect}: {table}"
        );
    }
    if dialect != Dialect::Sqlite {
        let copied = rows_of(&db, "issue_categories");
        assert_eq!(
            copied["rows"].as_array().map(Vec::len),
            Some(6),
            "{dialect}: the comparison compared something: {copied}"
        );
    }
    // A server of 3.18.0 would start.
    ok(&ours_cmd(&[
        "check",
        &db.our_url(),
        "--mlflow-version",
        support::NEWER_RELEASE,
    ]));
}

/// `categories` values the recipe refuses on `dialect`, with the check that names each.
fn refused_categories(dialect: Dialect) -> Vec<(&'static str, &'static str)> {
    let mut cases = vec![
        (r#"{"a": "b"}"#, "issue_categories_not_a_list_of_strings"),
        (r#"["ok", 3]"#, "issue_categories_not_a_list_of_strings"),
        ("not json", "issue_categories_not_a_list_of_strings"),
    ];
    cases.push(match dialect {
        Dialect::Sqlite => (r#"["Latency"]"#, "issue_categories_on_sqlite"),
        _ => (r#"["caf\u00e9"]"#, "non_ascii_issue_category"),
    });
    cases
}

fn refuses_what_it_cannot_copy_exactly(dialect: Dialect) {
    let base = reference_at(dialect, Project::Mlflow, &head());
    ok(&with_release_cache()
        .args(["--scripts-from-release", support::NEWER_RELEASE])
        .args([
            "upgrade",
            "--quiet",
            "--no-backup",
            &base.our_url(),
            "e7d1f4b2a9c6",
        ])
        .output()
        .unwrap());
    for (categories, check) in refused_categories(dialect) {
        let db = base.copy_to_new();
        write_issues(&db, &[Some(categories)]);
        let before = reflect(&db, "alembic_version");
        let out = with_release_cache()
            .args(["upgrade", "--no-backup", &db.our_url(), "--mlflow-version"])
            .arg(support::NEWER_RELEASE)
            .output()
            .unwrap();
        let err = failed_with(&out, 1);
        assert!(
            err.contains(&format!("recipe_8b6ad64cb8f5_{check}")),
            "{dialect}, {categories}: {err}"
        );
        assert_eq!(
            reflect(&db, "alembic_version"),
            before,
            "{dialect}: unchanged"
        );
    }
}

#[test]
fn mlflow_3_18_0_on_sqlite() {
    mlflow_3_18_0(Dialect::Sqlite);
    refuses_what_it_cannot_copy_exactly(Dialect::Sqlite);
}

#[test]
fn mlflow_3_18_0_on_postgres() {
    mlflow_3_18_0(Dialect::Postgres);
    refuses_what_it_cannot_copy_exactly(Dialect::Postgres);
}

#[test]
fn mlflow_3_18_0_on_mariadb() {
    mlflow_3_18_0(Dialect::MariaDb);
    refuses_what_it_cannot_copy_exactly(Dialect::MariaDb);
}

/// On MariaDB, MLflow 3.18.0 refuses an MCP version reference that matches its server version
/// only case-insensitively; so does the recipe, naming its check, after the revisions before
/// it.
#[test]
fn mlflow_3_18_0_refuses_case_insensitive_mcp_version_references_on_mariadb() {
    let db = reference_at(Dialect::MariaDb, Project::Mlflow, &head());
    db.run_sql_script(
        "INSERT INTO mcp_servers (name, created_at, last_updated_at) VALUES ('srv', 0, 0);\n\
         INSERT INTO mcp_server_versions (name, version, version_major, version_minor, \
         version_patch, version_prerelease_sort_key, server_json, created_at, last_updated_at) \
         VALUES ('srv', 'V1', 1, 0, 0, '', '{}', 0, 0);\n\
         INSERT INTO mcp_server_aliases (name, alias, version) VALUES ('srv', 'prod', 'v1');\n",
    )
    .unwrap();
    let twin = db.copy_to_new();
    let python = support::reference_db::try_build_reference(
        &twin,
        Project::Mlflow,
        &support::newer_release_scripts_dir(),
        "heads",
    );
    assert!(
        python
            .as_ref()
            .is_err_and(|e| e.contains("Cannot make MCP server versions case-sensitive")),
        "MLflow refuses it too: {python:?}"
    );
    let out = with_release_cache()
        .args(["upgrade", "--no-backup", &db.our_url(), "--mlflow-version"])
        .arg(support::NEWER_RELEASE)
        .output()
        .unwrap();
    let err = failed_with(&out, 1);
    assert!(
        err.contains("recipe_f4a9b2c7d1e6_case_insensitive_version_reference"),
        "{err}"
    );
    assert_eq!(version_rows(&db), ["8b6ad64cb8f5"]);
    assert_eq!(version_rows(&twin), ["8b6ad64cb8f5"]);
}
