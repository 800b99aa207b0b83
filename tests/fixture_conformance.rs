//! SQLite conformance on the fixture projects under `revisions/fixtures/`: Alembic projects in
//! the style of real users other than MLflow (batch mode with `recreate` auto and always,
//! column renames, type and nullability changes, server defaults as strings and as SQL text,
//! named CHECK and UNIQUE constraints, a naming convention naming a reflected unnamed foreign
//! key, Boolean/Enum constraints, data migrations). Python Alembic runs each fixture (the
//! harness's standard online body, as they have no env.py) and is the expected value:
//!
//! - the whole `sql base:heads --dialect sqlite` script, run by `sqlite3` on an empty file,
//!   leaves the schema Python Alembic leaves at the heads (every fixture, linear or not);
//! - revision by revision on the linear fixtures: our SQL for r, run on a copy of Python
//!   Alembic's database at r's parent, leaves Alembic's database at r; and our downgrade of r,
//!   run on a copy of Alembic's database at r, leaves what Alembic's own downgrade leaves;
//! - with rows: the same walk on databases holding rows, so the data migrations (`UPDATE`s,
//!   `bulk_insert`, batch copies) must leave the same rows too.

mod support;

use std::path::{Path, PathBuf};

use alembic_engine::compile::Compiler;
use alembic_engine::dialect::sqlite::Sqlite;
use alembic_engine::graph::{Lower, RevisionGraph};
use alembic_engine::plan::{Initial, Plan, Planner};
use alembic_engine::project::{Locator, Project as OurProject};
use alembic_engine::schema::SchemaModel;
use serde_json::Value;
use support::db::{Dialect, TestDb};
use support::reference_db::{build_reference, reflect, rows, Project, ReferenceLadder, INITIAL};
use support::schema_diff::schema_differences;

const VERSION_TABLE: &str = "alembic_version";

/// Fixtures whose history is one line: compared revision by revision as well.
const LINEAR: &[&str] = &[
    "saas_billing",
    "helpdesk",
    "ambiguous_prefixes",
    "packaged_app",
];

/// Fixtures with branches, merges or several bases: compared on the whole script only.
const BRANCHED: &[&str] = &[
    "branches_merges",
    "branch_labels",
    "depends_on_cross_branch",
    "two_bases_two_folders",
];

/// Rows put into both databases just before upgrading to a revision, so that its data
/// migration has something to change. Timestamps are explicit: a CURRENT_TIMESTAMP default
/// would differ between the two databases.
const SEEDS: &[(&str, &str, &[&str])] = &[
    (
        "saas_billing",
        "1f7e1dff1717",
        &[
            "INSERT INTO organizations (id, name, slug, billing_notes, created_at) VALUES \
             (1, 'Acme', 'acme', 'net 30', '2024-01-02 03:04:05'), \
             (2, 'Globex', 'globex', NULL, '2024-02-03 04:05:06')",
            "INSERT INTO users (id, organization_id, email, fullname, is_admin, created_at) VALUES \
             (1, 1, 'ada@acme.test', 'Ada', 1, '2024-01-02 03:04:05'), \
             (2, 1, 'bob@acme.test', NULL, 0, '2024-01-03 03:04:05'), \
             (3, 2, 'cy@globex.test', NULL, 0, '2024-02-03 04:05:06')",
            "INSERT INTO invoices (id, organization_id, number, status, amount_cents, issued_at) \
             VALUES (1, 1, 'A-1', 'paid', 4900, '2024-02-01 00:00:00'), \
             (2, 1, 'A-2', 'open', 4900, NULL), (3, 2, 'G-1', 'draft', 0, NULL)",
        ],
    ),
    (
        "helpdesk",
        "ac6c6db2d391",
        &[
            "INSERT INTO agents (id, email, display_name, active) VALUES \
             (1, 'kim@help.test', 'Kim', 1), (2, 'lou@help.test', NULL, 0)",
            "INSERT INTO tickets (id, subject, body, status, agent_id, legacy_ref, created_at, \
             priority) VALUES \
             (1, 'Printer on fire', 'It is', 'new', 1, 'L-9', '2024-03-01 10:00:00', 0), \
             (2, 'Refund', NULL, 'open', NULL, NULL, '2024-03-02 11:00:00', 2), \
             (3, 'Login loop', 'again', 'new', 2, NULL, '2024-03-03 12:00:00', 3)",
            "INSERT INTO ticket_tags (ticket_id, tag_id) VALUES (1, 2), (2, 1), (3, 2), (3, 3)",
        ],
    ),
];

fn seeds(fixture: &str, revision: &str) -> Vec<&'static str> {
    SEEDS
        .iter()
        .filter(|(f, r, _)| *f == fixture && *r == revision)
        .flat_map(|(_, _, sql)| sql.iter().copied())
        .collect()
}

fn open(dir: &Path) -> (OurProject, RevisionGraph) {
    let ours = Locator {
        scripts: Some(dir.to_path_buf()),
        ..Default::default()
    }
    .open(None)
    .unwrap();
    let graph = RevisionGraph::build(ours.scripts.revisions.clone()).unwrap();
    (ours, graph)
}

fn planner<'a>(project: &OurProject, graph: &'a RevisionGraph) -> Planner<'a> {
    let mut compiler =
        Compiler::for_project(project, std::sync::Arc::new(Sqlite::default())).unwrap();
    compiler.offline = true;
    Planner {
        graph,
        compiler,
        version_table: project.version_table.clone(),
        initial_models: None,
    }
}

/// The plan from `rows` (the version table's content) to `target`, up or down, starting from
/// the schema `model`.
fn plan(
    planner: &Planner<'_>,
    graph: &RevisionGraph,
    rows: &[String],
    target: &str,
    up: bool,
    model: SchemaModel,
) -> Result<Plan, String> {
    let current = Lower::Many(rows.to_vec());
    let steps = if up {
        graph.upgrade_path(&current, target)
    } else {
        graph.downgrade_path(&current, target)
    }
    .map_err(|e| e.to_string())?;
    planner
        .plan(rows, &steps, model, Initial::Skip)
        .map_err(|e| e.to_string())
}

fn run(db: &TestDb, sql: &str) -> Result<(), String> {
    db.run_sql_script(sql)
        .map(drop)
        .map_err(|e| format!("sqlite3 refused our SQL: {e}"))
}

fn diff(expected: &Value, actual: &Value) -> Vec<String> {
    schema_differences(expected, actual)
}

fn fail_if_any(failures: Vec<String>, checked: usize, what: &str) {
    assert!(checked > 0, "nothing was checked");
    assert!(
        failures.is_empty(),
        "{} of {checked} {what} differ from Python Alembic on SQLite:\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
}

// ---------------------------------------------------------------------------------------------
// The whole script

fn full_script_failure(fixture: &str) -> Option<String> {
    let dir = support::fixture(fixture);
    let out = support::mlflow_migrate()
        .arg("--scripts")
        .arg(&dir)
        .args(["sql", "base:heads", "--dialect", "sqlite"])
        .output()
        .unwrap();
    if !out.status.success() {
        return Some(format!(
            "{fixture}: sql base:heads failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let ours = TestDb::sqlite();
    if let Err(e) = run(&ours, &String::from_utf8_lossy(&out.stdout)) {
        return Some(format!("{fixture}: {e}"));
    }
    let reference = TestDb::sqlite();
    build_reference(&reference, Project::Fixture, &dir, "heads");
    let differences = diff(
        &reflect(&reference, VERSION_TABLE),
        &reflect(&ours, VERSION_TABLE),
    );
    (!differences.is_empty()).then(|| {
        format!(
            "{fixture}: base -> heads:\n    {}",
            differences.join("\n    ")
        )
    })
}

#[test]
fn linear_fixtures_full_script_equals_python_alembic_at_head() {
    let failures: Vec<String> = LINEAR
        .iter()
        .filter_map(|f| full_script_failure(f))
        .collect();
    fail_if_any(failures, LINEAR.len(), "fixtures");
}

#[test]
fn branched_fixtures_full_script_equals_python_alembic_at_heads() {
    let failures: Vec<String> = BRANCHED
        .iter()
        .filter_map(|f| full_script_failure(f))
        .collect();
    fail_if_any(failures, BRANCHED.len(), "fixtures");
}

// ---------------------------------------------------------------------------------------------
// Revision by revision, up and down

fn parent_rows(parent: &str) -> Vec<String> {
    if parent == INITIAL {
        Vec::new()
    } else {
        vec![parent.to_string()]
    }
}

fn each_revision_upgrade_matches(fixture: &str) {
    let dir = support::fixture(fixture);
    let (ours, graph) = open(&dir);
    let planner = planner(&ours, &graph);
    let mut ladder = ReferenceLadder::new(Dialect::Sqlite, Project::Fixture, &dir);
    let chain = ladder.chain().to_vec();
    let mut model = SchemaModel::default();
    let mut failures = Vec::new();
    let mut parent = INITIAL.to_string();
    for revision in &chain {
        let before = ladder.take(&parent);
        let expected = ladder.reflection(revision);
        let planned = plan(
            &planner,
            &graph,
            &parent_rows(&parent),
            revision,
            true,
            model.clone(),
        );
        match planned.and_then(|p| {
            run(&before, &p.offline_sql())?;
            Ok(p.schema)
        }) {
            Ok(after) => {
                model = after;
                let differences = diff(&expected, &reflect(&before, VERSION_TABLE));
                if !differences.is_empty() {
                    failures.push(format!("{revision}:\n    {}", differences.join("\n    ")));
                }
            }
            Err(e) => {
                // The revisions after it start from a schema we could not compile.
                failures.push(format!("{revision} (and so the rest of the chain): {e}"));
                break;
            }
        }
        parent = revision.clone();
    }
    fail_if_any(failures, chain.len(), &format!("{fixture} upgrades"));
}

/// Python Alembic's downgrade of the fixture at `ini` on the database at `url` to `to`, with
/// the same online body as the reference's upgrades.
const ALEMBIC_DOWNGRADE: &str = r#"
import sys
import sqlalchemy
from sqlalchemy.pool import NullPool
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.script import ScriptDirectory

ini, url, to = sys.argv[1:4]
config = Config(ini)
config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
script = ScriptDirectory.from_config(config)
engine = sqlalchemy.create_engine(url, poolclass=NullPool)

def downgrade_steps(current, _context):
    return script._downgrade_revs(to, current)

with EnvironmentContext(config, script, fn=downgrade_steps, destination_rev=to) as env:
    with engine.connect() as connection:
        env.configure(connection=connection)
        with env.begin_transaction():
            env.run_migrations()
        connection.commit()
engine.dispose()
"#;

fn alembic_downgrade(db: &TestDb, dir: &Path, to: &str) {
    let out = support::reference_db::reference_command(&support::ref_python())
        .arg("-c")
        .arg(ALEMBIC_DOWNGRADE)
        .arg(dir.join("alembic.ini"))
        .arg(db.sqlalchemy_url())
        .arg(to)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "Python Alembic could not downgrade {} to {to}:\n{}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn each_revision_downgrade_matches(fixture: &str) {
    let dir = support::fixture(fixture);
    let (ours, graph) = open(&dir);
    let planner = planner(&ours, &graph);
    let mut ladder = ReferenceLadder::new(Dialect::Sqlite, Project::Fixture, &dir);
    let chain = ladder.chain().to_vec();
    let mut failures = Vec::new();
    let mut parent = INITIAL.to_string();
    for revision in &chain {
        let target = if parent == INITIAL { "base" } else { &parent };
        let theirs = ladder.at(revision);
        alembic_downgrade(&theirs, &dir, target);
        let mine = ladder.take(revision);
        let result = planner
            .schema_at(std::slice::from_ref(revision))
            .map_err(|e| e.to_string())
            .and_then(|model| {
                plan(
                    &planner,
                    &graph,
                    std::slice::from_ref(revision),
                    target,
                    false,
                    model,
                )
            })
            .and_then(|p| run(&mine, &p.offline_sql()));
        match result {
            Ok(()) => {
                let differences = diff(
                    &reflect(&theirs, VERSION_TABLE),
                    &reflect(&mine, VERSION_TABLE),
                );
                if !differences.is_empty() {
                    failures.push(format!(
                        "{revision} -> {target}:\n    {}",
                        differences.join("\n    ")
                    ));
                }
            }
            Err(e) => failures.push(format!("{revision} -> {target}: {e}")),
        }
        parent = revision.clone();
    }
    fail_if_any(failures, chain.len(), &format!("{fixture} downgrades"));
}

/// One walk base to head on two databases holding rows (seeded before the revisions whose data
/// migrations need some): ours by our SQL, the other by Python Alembic; schema and rows must
/// agree after every revision.
fn populated_walk_matches(fixture: &str) {
    let dir = support::fixture(fixture);
    let (ours, graph) = open(&dir);
    let planner = planner(&ours, &graph);
    let chain = support::reference_db::chain(Project::Fixture, &dir);
    let mine = TestDb::sqlite();
    let theirs = TestDb::sqlite();
    let mut model = SchemaModel::default();
    let mut parent = INITIAL.to_string();
    let mut seeded = 0;
    for revision in &chain {
        for sql in seeds(fixture, revision) {
            for db in [&mine, &theirs] {
                db.run_sql_script(&format!("{sql};"))
                    .unwrap_or_else(|e| panic!("{fixture}: seeding before {revision}: {e}"));
            }
            seeded += 1;
        }
        build_reference(&theirs, Project::Fixture, &dir, revision);
        let p = plan(
            &planner,
            &graph,
            &parent_rows(&parent),
            revision,
            true,
            model,
        )
        .unwrap_or_else(|e| panic!("{fixture} {revision}: {e}"));
        run(&mine, &p.offline_sql()).unwrap_or_else(|e| panic!("{fixture} {revision}: {e}"));
        model = p.schema;
        let differences = diff(
            &reflect(&theirs, VERSION_TABLE),
            &reflect(&mine, VERSION_TABLE),
        );
        assert!(
            differences.is_empty(),
            "{fixture} {revision} (with rows): schema differs:\n  {}",
            differences.join("\n  ")
        );
        assert_eq!(
            rows(&theirs),
            rows(&mine),
            "{fixture} {revision}: the rows differ from Python Alembic's"
        );
        parent = revision.clone();
    }
    assert!(
        seeded > 0 || SEEDS.iter().all(|(f, _, _)| *f != fixture),
        "{fixture}: a seed names no revision of the chain"
    );
}

#[test]
fn saas_billing_every_revision_equals_python_alembic() {
    each_revision_upgrade_matches("saas_billing");
}

#[test]
fn helpdesk_every_revision_equals_python_alembic() {
    each_revision_upgrade_matches("helpdesk");
}

#[test]
fn ambiguous_prefixes_every_revision_equals_python_alembic() {
    each_revision_upgrade_matches("ambiguous_prefixes");
}

/// Types and helpers from the project's own package (`taskboard.db.types`), interpreted from
/// its source: `TypeDecorator`s, a `super().__init__` subclass of `TIMESTAMP`.
#[test]
fn packaged_app_every_revision_equals_python_alembic() {
    each_revision_upgrade_matches("packaged_app");
}

#[test]
fn packaged_app_every_downgrade_equals_python_alembic() {
    each_revision_downgrade_matches("packaged_app");
}

#[test]
fn saas_billing_every_downgrade_equals_python_alembic() {
    each_revision_downgrade_matches("saas_billing");
}

#[test]
fn helpdesk_every_downgrade_equals_python_alembic() {
    each_revision_downgrade_matches("helpdesk");
}

#[test]
fn ambiguous_prefixes_every_downgrade_equals_python_alembic() {
    each_revision_downgrade_matches("ambiguous_prefixes");
}

#[test]
fn saas_billing_data_migrations_leave_python_alembics_rows() {
    populated_walk_matches("saas_billing");
}

#[test]
fn helpdesk_data_migrations_leave_python_alembics_rows() {
    populated_walk_matches("helpdesk");
}

#[test]
fn every_linear_fixture_is_listed_and_is_linear() {
    // A new fixture must be put in one list or the other; the linear ones must be one line
    // for the revision-by-revision comparison (the reference refuses anything else).
    let mut listed: Vec<&str> = LINEAR.iter().chain(BRANCHED).copied().collect();
    listed.sort_unstable();
    let mut found: Vec<String> = std::fs::read_dir(support::repo_root().join("revisions/fixtures"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    found.sort_unstable();
    assert_eq!(listed, found);
    for fixture in LINEAR {
        let dir: PathBuf = support::fixture(fixture);
        let (_, graph) = open(&dir);
        assert_eq!(graph.heads().len(), 1, "{fixture} has one head");
    }
}
