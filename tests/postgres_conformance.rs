//! PostgreSQL conformance with the real thing: the SQL we compile from MLflow's revision
//! scripts, run by `psql`, leaves the same schema (normalized reflection: tables, columns,
//! types, nullability, defaults, keys, constraints, indexes, sequences, enum types, functions
//! and triggers, names included) as Python Alembic + MLflow on PostgreSQL 15 — for the whole
//! chain at once, and revision by revision from the reference's own database at each parent,
//! so a mismatch names its revision. Along the way, the names our schema model gives what
//! the scripts leave unnamed must be the names the server chose: later revisions drop
//! constraints by them.

mod support;

use alembic_engine::dialect::postgresql::Postgresql;
use alembic_engine::graph::{Lower, RevisionGraph};
use alembic_engine::ir::{Constraint, ConstraintKind, IndexPart, ServerDefault};
use alembic_engine::plan::{DbState, Initial, Mode, Planner};
use alembic_engine::project::Project as OurProject;
use alembic_engine::schema::SchemaModel;
use serde_json::Value;
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
        std::sync::Arc::new(Postgresql::default()),
        Mode::Offline,
    )
    .unwrap()
}

/// Where our schema model and the server's reflection disagree on names: each table's
/// primary key, foreign keys, unique and check constraints and indexes, by name and columns,
/// and the sequences SERIAL columns draw from.
fn model_names_differences(
    model: &SchemaModel,
    reflection: &Value,
    version_table: &str,
) -> Vec<String> {
    let mut out = Vec::new();
    let empty = serde_json::Map::new();
    let tables = reflection["tables"].as_object().unwrap_or(&empty);
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    for (name, t) in tables {
        if name == version_table {
            continue;
        }
        let Some(ours) = model.table(name) else {
            out.push(format!("table {name}: not in the model"));
            continue;
        };
        let mut theirs: Vec<(String, String, Vec<String>)> = Vec::new();
        if let Some(pk) = t["primary_key"].as_object() {
            let n = pk["name"].as_str().unwrap_or("").to_string();
            theirs.push(("primary key".into(), n, strings(&pk["columns"])));
        }
        for (key, kind) in [
            ("foreign_keys", "foreign key"),
            ("unique_constraints", "unique"),
        ] {
            for c in t[key].as_array().into_iter().flatten() {
                let n = c["name"].as_str().unwrap_or("").to_string();
                theirs.push((kind.into(), n, strings(&c["columns"])));
            }
        }
        for c in t["check_constraints"].as_array().into_iter().flatten() {
            let n = c["name"].as_str().unwrap_or("").to_string();
            theirs.push(("check".into(), n, Vec::new()));
        }
        for i in t["indexes"].as_array().into_iter().flatten() {
            if i.get("duplicates_constraint").is_none() {
                let n = i["name"].as_str().unwrap_or("").to_string();
                theirs.push(("index".into(), n, strings(&i["columns"])));
            }
        }
        let mut mine: Vec<(String, String, Vec<String>)> = Vec::new();
        for c in &ours.constraints {
            let kind = match c.kind() {
                ConstraintKind::PrimaryKey => "primary key",
                ConstraintKind::ForeignKey => "foreign key",
                ConstraintKind::Unique => "unique",
                ConstraintKind::Check => "check",
            };
            let cols = match c {
                Constraint::Check { .. } => Vec::new(),
                other => other.columns().to_vec(),
            };
            mine.push((kind.into(), c.name().unwrap_or("").to_string(), cols));
        }
        for i in &ours.indexes {
            // `col DESC` is still the column `col` to the inspector.
            let cols = i
                .parts
                .iter()
                .map(|p| match p {
                    IndexPart::Column(c) => c.clone(),
                    IndexPart::Expression(e) => e
                        .strip_suffix(" DESC")
                        .or_else(|| e.strip_suffix(" ASC"))
                        .unwrap_or(e)
                        .to_string(),
                })
                .collect();
            mine.push(("index".into(), i.name.clone(), cols));
        }
        // The sequence behind a SERIAL column, as the column's default.
        for c in t["columns"].as_array().into_iter().flatten() {
            let default = c["default"].as_str().filter(|d| d.starts_with("nextval("));
            if let Some(d) = default {
                theirs.push((
                    "serial".into(),
                    c["name"].as_str().unwrap_or("").into(),
                    vec![d.into()],
                ));
            }
        }
        for c in &ours.columns {
            if let Some(ServerDefault::Sql(d)) = &c.server_default {
                if d.starts_with("nextval(") {
                    mine.push(("serial".into(), c.name.clone(), vec![d.clone()]));
                }
            }
        }
        theirs.sort();
        mine.sort();
        for x in theirs.iter().filter(|x| !mine.contains(x)) {
            out.push(format!(
                "table {name}: the server has {} {:?} {:?}, the model does not",
                x.0, x.1, x.2
            ));
        }
        for x in mine.iter().filter(|x| !theirs.contains(x)) {
            out.push(format!(
                "table {name}: the model has {} {:?} {:?}, the server does not",
                x.0, x.1, x.2
            ));
        }
    }
    for t in &model.tables {
        if !tables.contains_key(&t.name) {
            out.push(format!("table {}: in the model only", t.name));
        }
    }
    out
}

fn full_script_matches(project: Project, cli_project: &str) {
    let out = support::mlflow_migrate()
        .args(["--project", cli_project, "--scripts"])
        .arg(project.scripts_dir())
        .args(["sql", "heads", "--dialect", "postgresql"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let script = String::from_utf8(out.stdout).unwrap();
    assert!(script.starts_with("BEGIN;") && script.trim_end().ends_with("COMMIT;"));
    let db = TestDb::postgres();
    db.run_sql_script(&script)
        .unwrap_or_else(|e| panic!("psql refused our script: {e}"));
    let expected = reference_reflection(Dialect::Postgres, project, "heads");
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
    for_each_revision(Dialect::Postgres, project, |step| {
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
            failures.push(format!("{}: psql refused our SQL: {e}", step.revision));
            return;
        }
        let actual = reflect(&step.before, project.version_table());
        let mut diff = schema_differences(step.expected, &actual);
        diff.extend(model_names_differences(
            &model,
            step.expected,
            project.version_table(),
        ));
        if !diff.is_empty() {
            failures.push(format!("{}:\n    {}", step.revision, diff.join("\n    ")));
        }
    });
    assert!(checked > 0);
    assert!(
        failures.is_empty(),
        "{} of {checked} revisions differ from Python Alembic on PostgreSQL:\n  {}",
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

/// MLflow #13890: `0584bdc529eb` drops the foreign key datasets → experiments, which the
/// initial models leave unnamed, by the name it reflects from the database. Offline, that
/// name must come from our model, and it must be the one PostgreSQL chose.
#[test]
fn unnamed_datasets_foreign_key_is_dropped_by_the_name_postgresql_gave_it() {
    const REVISION: &str = "0584bdc529eb";
    let (ours, graph) = open(Project::Mlflow);
    let planner = planner(&ours, &graph);
    let parent = graph.revision(graph.get(REVISION).unwrap()).down_revisions[0].clone();
    let reference = reference_reflection(Dialect::Postgres, Project::Mlflow, &parent);
    let server_name = reference["tables"]["datasets"]["foreign_keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|fk| fk["referred_table"] == "experiments")
        .and_then(|fk| fk["name"].as_str())
        .expect("the reference has a datasets -> experiments foreign key")
        .to_string();

    let steps = graph
        .upgrade_path(&Lower::Many(vec![parent.clone()]), REVISION)
        .unwrap();
    let plan = planner
        .plan_for(&DbState::on_paper(&[parent]), &steps)
        .unwrap()
        .plan;
    let statements: Vec<&str> = plan.steps[0].compiled.statements().collect();
    let drops: Vec<&&str> = statements
        .iter()
        .filter(|s| s.contains("DROP CONSTRAINT"))
        .collect();
    assert_eq!(
        drops,
        [&format!("ALTER TABLE datasets DROP CONSTRAINT {server_name}").as_str()],
        "all statements: {statements:#?}"
    );
}
