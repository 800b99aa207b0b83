//! `compile-report`: which revisions of a project compile for a database and why the others
//! are refused. The fixture's revision ids and counts come from its files; the refusals from a
//! project written here, whose own package defines a type on a base the engine cannot model.

mod support;

use std::fs;
use std::path::Path;
use std::process::Output;

use serde_json::Value;

fn report(dir: &Path, dialect: &str, json: bool) -> Output {
    report_in(dir, dialect, json, &[])
}

fn report_in(dir: &Path, dialect: &str, json: bool, extra: &[&str]) -> Output {
    let mut cmd = support::mlflow_migrate();
    cmd.arg("--scripts").arg(dir);
    if json {
        cmd.args(["--format", "json"]);
    }
    cmd.args(["compile-report", "--dialect", dialect])
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn a_project_whose_revisions_all_compile_is_reported_so_and_exits_zero() {
    let dir = support::fixture("packaged_app");
    let versions = dir.join("taskboard/migrations/versions");
    let mut ids: Vec<String> = fs::read_dir(&versions)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".py"))
        .map(|n| n.split('_').next().unwrap().to_string())
        .collect();
    ids.sort();
    assert!(ids.len() >= 3, "{ids:?}");
    let n = ids.len();
    for dialect in ["sqlite", "postgresql", "mariadb"] {
        let out = report(&dir, dialect, false);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{dialect}: {text}");
        for id in &ids {
            assert!(
                text.lines()
                    .any(|l| l.starts_with(&format!("{id}  compiled ("))),
                "{dialect}: {id} missing:\n{text}"
            );
        }
        assert!(
            text.ends_with(&format!(
                "{n} of {n} revisions compile for {dialect} (upgrade, SQLAlchemy 2.1); 0 refused\n"
            )),
            "{text}"
        );
    }
    let out = report(&dir, "sqlite", true);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["compiled"], n);
    assert_eq!(json["refused"], 0);
    assert_eq!(json["revisions"].as_array().unwrap().len(), n);
    // Its env.py configures the models' metadata, whose naming convention Alembic applies.
    assert_eq!(json["env"]["read_from"], "configure", "{}", json["env"]);
    assert_eq!(
        json["env"]["naming_convention"]["ix"], "idx_%(table_name)s_%(column_0_N_name)s",
        "{}",
        json["env"]
    );
    let text = String::from_utf8_lossy(&report(&dir, "sqlite", false).stdout).into_owned();
    assert!(
        text.contains("env.py: naming convention of its target_metadata: ix=idx_"),
        "{text}"
    );
}

#[test]
fn an_env_py_whose_metadata_cannot_be_read_is_reported_with_the_place_that_failed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("app");
    write(
        &dir.join("env.py"),
        "from alembic import context\nfrom yaml import safe_load\n\n\
         target_metadata = safe_load('naming: {}')\n",
    );
    write(
        &dir.join("versions/a1_t.py"),
        "revision = 'a1'\ndown_revision = None\n\n\ndef upgrade():\n    pass\n\n\n\
         def downgrade():\n    pass\n",
    );
    let out = report(&dir, "sqlite", true);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let unread = json["env"]["unread"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        unread.contains("env.py:4:") && unread.contains("yaml"),
        "{}",
        json["env"]
    );
    assert_eq!(json["env"]["read_from"], "global");
    let text = String::from_utf8_lossy(&report(&dir, "sqlite", false).stdout).into_owned();
    assert!(text.contains("are named as without one"), "{text}");
}

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn revision(id: &str, down: Option<&str>, body: &str) -> String {
    let down = down.map_or("None".to_string(), |d| format!("'{d}'"));
    format!(
        "import sqlalchemy as sa\nfrom alembic import op\nfrom app.types import Weird\n\n\
         revision = '{id}'\ndown_revision = {down}\nbranch_labels = None\ndepends_on = None\n\n\
         def upgrade():\n{body}\n\ndef downgrade():\n    pass\n"
    )
}

#[test]
fn refusals_name_the_failed_definition_and_the_revisions_that_follow_from_them() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    write(&root.join("app/__init__.py"), "");
    write(
        &root.join("app/types.py"),
        "import yaml\n\nclass Weird(yaml.YAMLObject):\n    pass\n",
    );
    write(&root.join("app/migrations/__init__.py"), "");
    let versions = root.join("app/migrations/versions");
    write(
        &versions.join("aaa1_things.py"),
        &revision(
            "aaa1",
            None,
            "    op.create_table('things', sa.Column('id', sa.Integer, primary_key=True), \
             sa.Column('w', Weird()))",
        ),
    );
    write(
        &versions.join("bbb2_more.py"),
        &revision(
            "bbb2",
            Some("aaa1"),
            "    op.add_column('things', sa.Column('n', sa.Integer))",
        ),
    );
    write(
        &versions.join("ccc3_other.py"),
        &revision(
            "ccc3",
            Some("bbb2"),
            "    op.create_table('other', sa.Column('id', sa.Integer, primary_key=True))",
        ),
    );
    let dir = root.join("app/migrations");
    let out = report(&dir, "sqlite", false);
    let text = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{text}{stderr}");
    assert!(stderr.is_empty(), "the report says it all: {stderr}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(lines[0].starts_with("aaa1  refused: "), "{text}");
    assert!(lines[0].contains("aaa1_things.py:"), "{text}");
    assert!(
        lines[0].contains("app.types.Weird (its definition failed: ")
            && lines[0].contains("types.py:3:"),
        "{text}"
    );
    assert!(
        lines[1].starts_with("bbb2  refused [after the refusal of aaa1]: ")
            && lines[1].contains("'things' does not exist"),
        "{text}"
    );
    assert!(
        lines[2].starts_with("ccc3  compiled (1 statements)"),
        "{text}"
    );
    assert_eq!(
        lines[3],
        "1 of 3 revisions compile for sqlite (upgrade, SQLAlchemy 2.1); 2 refused"
    );
    let json: Value = serde_json::from_slice(&report(&dir, "sqlite", true).stdout).unwrap();
    assert_eq!(json["compiled"], 1);
    assert_eq!(json["refused"], 2);
    assert_eq!(json["revisions"][0]["outcome"], "refused");
    assert_eq!(json["revisions"][1]["after"], "aaa1");
    assert_eq!(json["revisions"][2]["statements"], 1);
}

#[test]
fn a_script_that_reads_rows_only_online_compiles_for_sql_and_is_refused_for_upgrade() {
    let tmp = tempfile::tempdir().unwrap();
    let versions = tmp.path().join("versions");
    write(&tmp.path().join("env.py"), "");
    write(
        &versions.join("aaa1_things.py"),
        "import sqlalchemy as sa\nfrom alembic import context, op\n\n\
         revision = 'aaa1'\ndown_revision = None\n\n\
         def upgrade():\n\
         \x20   op.create_table('things', sa.Column('id', sa.Integer, primary_key=True))\n\
         \x20   if not context.is_offline_mode():\n\
         \x20       for row in op.get_bind().execute(sa.text('SELECT id FROM things')):\n\
         \x20           pass\n\n\
         def downgrade():\n    pass\n",
    );
    let online = report_in(tmp.path(), "sqlite", true, &[]);
    let json: Value = serde_json::from_slice(&online.stdout).unwrap();
    assert_eq!(online.status.code(), Some(1));
    assert_eq!(json["mode"], "upgrade");
    assert_eq!(json["refused"], 1);
    assert!(
        json["revisions"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("reading rows"),
        "{json}"
    );
    let offline = report_in(tmp.path(), "sqlite", false, &["--sql"]);
    let text = String::from_utf8_lossy(&offline.stdout);
    assert!(offline.status.success(), "{text}");
    assert!(
        text.ends_with("1 of 1 revisions compile for sqlite (sql, SQLAlchemy 2.1); 0 refused\n"),
        "{text}"
    );
}

/// The script directory `app` upgraded to its heads by Python Alembic (through an ini beside
/// it) and by us: both databases reflected, with the version table `version_table`.
fn upgrade_both(app: &Path, version_table: &str) -> (Value, Value) {
    let theirs = support::db::TestDb::sqlite();
    let ini = app.parent().unwrap().join("alembic.ini");
    fs::write(
        &ini,
        format!(
            "[alembic]\nscript_location = {}\nsqlalchemy.url = {}\n",
            app.display(),
            theirs.sqlalchemy_url()
        ),
    )
    .unwrap();
    support::cli::succeeds(
        std::process::Command::new(support::ref_python())
            .args(["-m", "alembic", "-c"])
            .arg(&ini)
            .args(["upgrade", "heads"])
            .env("PYTHONDONTWRITEBYTECODE", "1"),
    );
    let ours = support::db::TestDb::sqlite();
    support::cli::succeeds(
        support::mlflow_migrate()
            .arg("--scripts")
            .arg(&ini)
            .args(["upgrade", &ours.our_url()]),
    );
    let expected = support::reference_db::reflect(&theirs, version_table);
    let mut actual = support::reference_db::reflect(&ours, version_table);
    actual["tables"]
        .as_object_mut()
        .unwrap()
        .remove(support::cli::JOURNAL);
    (expected, actual)
}

fn table_revision(id: &str, down: Option<&str>, table: &str) -> String {
    let down = down.map_or("None".to_string(), |d| format!("'{d}'"));
    format!(
        "import sqlalchemy as sa\nfrom alembic import op\n\n\
         revision = '{id}'\ndown_revision = {down}\n\n\n\
         def upgrade():\n    op.create_table('{table}', sa.Column('id', sa.Integer, primary_key=True))\n\n\n\
         def downgrade():\n    op.drop_table('{table}')\n"
    )
}

#[test]
fn the_version_table_env_py_configures_is_the_one_upgrade_writes_as_python_alembic_does() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("app");
    write(
        &dir.join("env.py"),
        "import sqlalchemy as sa\nfrom alembic import context\n\n\
         url = context.config.get_main_option('sqlalchemy.url')\n\
         if context.is_offline_mode():\n\
         \x20   context.configure(url=url, version_table='app_versions', literal_binds=True)\n\
         \x20   with context.begin_transaction():\n\
         \x20       context.run_migrations()\n\
         else:\n\
         \x20   with sa.create_engine(url).connect() as connection:\n\
         \x20       context.configure(connection=connection, version_table='app_versions')\n\
         \x20       with context.begin_transaction():\n\
         \x20           context.run_migrations()\n",
    );
    write(
        &dir.join("versions/a1_t.py"),
        &table_revision("a1", None, "t"),
    );
    let (expected, actual) = upgrade_both(&dir, "app_versions");
    assert!(
        expected["tables"].get("app_versions").is_some(),
        "{expected}"
    );
    assert!(
        expected["tables"].get("alembic_version").is_none(),
        "{expected}"
    );
    assert_eq!(actual, expected);

    let json: Value = serde_json::from_slice(&report(&dir, "sqlite", true).stdout).unwrap();
    assert_eq!(
        json["env"]["version_table"], "app_versions",
        "{}",
        json["env"]
    );
}

/// An env.py choosing its version folders as projects do: the memoized locations dropped, then
/// a list built with `os.path` and `pathlib`. A decoy in `versions/` shows which are read.
const ENV_SETTING_FOLDERS: &str = "import os\nfrom pathlib import Path\n\n\
    import sqlalchemy as sa\nfrom alembic import context\n\n\
    HERE = os.path.dirname(os.path.abspath(__file__))\n\
    context.script.__dict__.pop('_version_locations', None)\n\
    context.script.version_locations = [\n\
    \x20   os.path.join(HERE, os.environ.get('APP_NO_SUCH_SETTING', 'sqlite_versions')),\n\
    \x20   str(Path(__file__).parent / 'shared'),\n\
    ]\n\n\
    url = context.config.get_main_option('sqlalchemy.url')\n\
    if context.is_offline_mode():\n\
    \x20   context.configure(url=url, literal_binds=True)\n\
    \x20   with context.begin_transaction():\n\
    \x20       context.run_migrations()\n\
    else:\n\
    \x20   with sa.create_engine(url).connect() as connection:\n\
    \x20       context.configure(connection=connection)\n\
    \x20       with context.begin_transaction():\n\
    \x20           context.run_migrations()\n";

#[test]
fn the_version_folders_env_py_sets_are_the_ones_read_as_python_alembic_reads_them() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("app");
    write(&dir.join("env.py"), ENV_SETTING_FOLDERS);
    write(
        &dir.join("sqlite_versions/a1_t.py"),
        &table_revision("a1", None, "t"),
    );
    write(
        &dir.join("shared/b2_u.py"),
        &table_revision("b2", Some("a1"), "u"),
    );
    write(
        &dir.join("versions/z9_decoy.py"),
        &table_revision("z9", None, "decoy"),
    );
    let (expected, actual) = upgrade_both(&dir, "alembic_version");
    assert!(expected["tables"].get("u").is_some(), "{expected}");
    assert!(expected["tables"].get("decoy").is_none(), "{expected}");
    assert_eq!(actual, expected);

    let json: Value = serde_json::from_slice(&report(&dir, "sqlite", true).stdout).unwrap();
    let folders: Vec<String> = json["env"]["version_locations"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", json["env"]))
        .iter()
        .map(|f| f.as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        folders,
        [dir.join("sqlite_versions"), dir.join("shared")].map(|p| p.display().to_string())
    );
    // Folders given by the user win over env.py's.
    let given = support::mlflow_migrate()
        .arg("--scripts")
        .arg(&dir)
        .arg("--version-location")
        .arg(dir.join("versions"))
        .args(["history"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&given.stdout);
    assert!(given.status.success() && text.contains("z9"), "{text}");
    assert!(!text.contains("a1"), "{text}");
}

#[test]
fn version_folders_env_py_sets_in_code_not_followed_are_named_when_no_revisions_are_found() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("app");
    write(
        &dir.join("env.py"),
        "from alembic import context\nfrom app.settings import orm\n\n\n\
         def run():\n    context.script.version_locations = [orm.versions_dir]\n    context.run_migrations()\n\n\nrun()\n",
    );
    write(
        &dir.join("sqlite/a1_t.py"),
        &table_revision("a1", None, "t"),
    );
    // `history` of the project, reading the folders given with --version-location if any.
    let history = |given: &[&Path]| {
        let mut cmd = support::mlflow_migrate();
        cmd.arg("--scripts").arg(&dir);
        for folder in given {
            cmd.arg("--version-location").arg(folder);
        }
        cmd.arg("history").output().unwrap()
    };
    let out = history(&[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("{}:6:", dir.join("env.py").display()))
            && err.contains("--version-location"),
        "{err}"
    );
    let given = history(&[&dir.join("sqlite")]);
    assert!(
        given.status.success() && String::from_utf8_lossy(&given.stdout).contains("a1"),
        "{}",
        String::from_utf8_lossy(&given.stderr)
    );
    assert!(!String::from_utf8_lossy(&given.stderr).contains("warning"));
    // With revisions in versions/ too, those are read, and the assignment is warned about.
    write(
        &dir.join("versions/b1_u.py"),
        &table_revision("b1", None, "u"),
    );
    let defaulted = history(&[]);
    let err = String::from_utf8_lossy(&defaulted.stderr);
    assert!(defaulted.status.success(), "{err}");
    assert!(
        err.contains("warning: ")
            && err.contains(&format!("{}:6:", dir.join("env.py").display()))
            && err.contains("--version-location"),
        "{err}"
    );
}
