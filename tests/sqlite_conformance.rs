//! SQLite conformance with the real thing: the SQL we compile from MLflow's revision scripts,
//! run by `sqlite3`, leaves the same schema (normalized reflection: tables, columns, types,
//! nullability, defaults, keys, constraints and indexes, names included) as Python Alembic +
//! MLflow — for the whole chain at once, and revision by revision from the reference's own
//! database at each parent, so a mismatch names its revision.

mod support;

use alembic_engine::dialect::sqlite::Sqlite;
use alembic_engine::graph::{Lower, RevisionGraph};
use alembic_engine::plan::{Initial, Mode, Planner};
use alembic_engine::project::Project as OurProject;
use alembic_engine::schema::SchemaModel;
use support::db::{Dialect, TestDb};
use support::reference_db::{for_each_revision, reference_reflection, reflect, Project, INITIAL};
use support::schema_diff::schema_differences;

fn open(project: Project) -> (OurProject, RevisionGraph) {
    support::cli::open_project(project)
}

fn planner<'a>(project: &OurProject, graph: &'a RevisionGraph) -> Planner<'a> {
    Planner::for_project(
        project,
        graph,
        std::sync::Arc::new(Sqlite::default()),
        Mode::Offline,
    )
    .unwrap()
}

fn full_script_matches(project: Project, cli_project: &str) {
    let out = support::mlflow_migrate()
        .args(["--project", cli_project, "--scripts"])
        .arg(project.scripts_dir())
        .args(["sql", "heads", "--dialect", "sqlite"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let script = String::from_utf8(out.stdout).unwrap();
    let db = TestDb::sqlite();
    db.run_sql_script(&script)
        .unwrap_or_else(|e| panic!("sqlite3 refused our script: {e}"));
    let head = support::reference_db::mlflow_chain(project)
        .last()
        .cloned()
        .unwrap();
    let expected = reference_reflection(Dialect::Sqlite, project, &head);
    let actual = reflect(&db, project.version_table());
    let diff = schema_differences(&expected, &actual);
    assert!(
        diff.is_empty(),
        "base -> heads differs:\n  {}",
        diff.join("\n  ")
    );
}

fn each_revision_matches(project: Project) {
    let (ours, graph) = open(project);
    let planner = planner(&ours, &graph);
    // The model follows the chain: after revision r it is the schema r leaves.
    let mut model = match &ours.initial_models {
        Some(path) => {
            planner
                .compiler
                .compile_initial_models(path, SchemaModel::default())
                .unwrap()
                .1
        }
        None => SchemaModel::default(),
    };
    let mut failures = Vec::new();
    let mut checked = 0;
    for_each_revision(Dialect::Sqlite, project, |step| {
        checked += 1;
        let rows: Vec<String> = if step.parent == INITIAL {
            Vec::new()
        } else {
            vec![step.parent.to_string()]
        };
        let steps = graph
            .upgrade_path(&Lower::Many(rows.clone()), step.revision)
            .unwrap();
        let plan = match planner.plan(&rows, &steps, model.clone(), Initial::Skip) {
            Ok(plan) => plan,
            Err(e) => {
                failures.push(format!("{}: does not compile: {e}", step.revision));
                return;
            }
        };
        model = plan.schema.clone();
        if let Err(e) = step.before.run_sql_script(&plan.offline_sql()) {
            failures.push(format!("{}: sqlite3 refused our SQL: {e}", step.revision));
            return;
        }
        let actual = reflect(&step.before, project.version_table());
        let diff = schema_differences(step.expected, &actual);
        if !diff.is_empty() {
            failures.push(format!("{}:\n    {}", step.revision, diff.join("\n    ")));
        }
    });
    assert!(checked > 0);
    assert!(
        failures.is_empty(),
        "{} of {checked} revisions differ from Python Alembic on SQLite:\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
}

#[test]
fn mlflow_tracking_full_script_equals_mlflow_db_upgrade() {
    full_script_matches(Project::Mlflow, "mlflow");
}

#[test]
fn mlflow_tracking_every_revision_equals_python_alembic() {
    each_revision_matches(Project::Mlflow);
}

#[test]
fn mlflow_auth_full_script_equals_python_alembic() {
    full_script_matches(Project::MlflowAuth, "mlflow-auth");
}

#[test]
fn mlflow_auth_every_revision_equals_python_alembic() {
    each_revision_matches(Project::MlflowAuth);
}
