//! MariaDB conformance with the real thing: the SQL we compile from MLflow's revision scripts
//! for `--dialect mariadb`, run by the `mysql` client, leaves the same schema (normalized
//! reflection: tables, columns, types, nullability, defaults, keys, constraints and indexes,
//! the names MariaDB generates included) as Python Alembic + MLflow on MariaDB 10.11 — for the
//! whole chain at once, and revision by revision from the reference's own database at each
//! parent, so a mismatch names its revision. Plus the field failures of MySQL upgrades:
//! CHECK drops, `alter_column` without `existing_type`, and MLflow's auth project, which
//! cannot be created on MySQL/MariaDB at all (its first revision gives two tables the same
//! foreign key name, and InnoDB names foreign keys per database).

mod support;

use std::fs;

use alembic_engine::dialect::mysql::{is_for_foreign_key, Mysql};
use alembic_engine::graph::{Lower, RevisionGraph};
use alembic_engine::plan::{DbState, Initial, Mode, Plan, Planner};
use alembic_engine::project::Project as OurProject;
use alembic_engine::schema::SchemaModel;
use support::db::{Dialect, TestDb};
use support::reference_db::{
    build_reference, for_each_revision, reference_at, reference_reflection, reflect, Project,
    INITIAL,
};
use support::schema_diff::schema_differences;

fn open(project: Project) -> (OurProject, RevisionGraph) {
    support::cli::open_project(project)
}

fn planner<'a>(project: &OurProject, graph: &'a RevisionGraph, mariadb: bool) -> Planner<'a> {
    Planner::for_project(
        project,
        graph,
        std::sync::Arc::new(Mysql {
            mariadb,
            ..Default::default()
        }),
        Mode::Offline,
    )
    .unwrap()
}

/// The plan's offline script for the `mysql` client (no BEGIN/COMMIT: MySQL DDL is not
/// transactional; trigger bodies come with their `DELIMITER`).
fn mysql_script(plan: &Plan) -> String {
    plan.offline_sql()
}

fn head_of(project: Project) -> String {
    support::reference_db::mlflow_chain(project)
        .last()
        .cloned()
        .unwrap()
}

fn assert_same_as_reference_head(project: Project, db: &TestDb, how: &str) {
    let expected = reference_reflection(Dialect::MariaDb, project, &head_of(project));
    let actual = reflect(db, project.version_table());
    let diff = schema_differences(&expected, &actual);
    assert!(
        diff.is_empty(),
        "base -> heads ({how}) differs from Python Alembic on MariaDB:\n  {}",
        diff.join("\n  ")
    );
}

/// `mlflow-migrate sql heads --dialect mariadb`, run by `mysql` on an empty database.
fn cli_script_matches(project: Project, cli_project: &str) {
    let out = support::mlflow_migrate()
        .args(["--project", cli_project, "--scripts"])
        .arg(project.scripts_dir())
        .args(["sql", "heads", "--dialect", "mariadb"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let script = String::from_utf8(out.stdout).unwrap();
    assert!(
        !script.contains("BEGIN;"),
        "MySQL DDL is not transactional: no BEGIN/COMMIT"
    );
    let db = TestDb::mariadb();
    db.run_sql_script(&script)
        .unwrap_or_else(|e| panic!("mysql refused our script: {e}"));
    assert_same_as_reference_head(project, &db, "the CLI's script");
}

/// The same plan built through the library and written with `mysql_script`.
fn library_script_matches(project: Project) {
    let (ours, graph) = open(project);
    let planner = planner(&ours, &graph, true);
    let steps = graph
        .upgrade_path(&Lower::Many(Vec::new()), "heads")
        .unwrap();
    let plan = planner
        .plan(&[], &steps, SchemaModel::default(), Initial::Create)
        .unwrap();
    let db = TestDb::mariadb();
    db.run_sql_script(&mysql_script(&plan))
        .unwrap_or_else(|e| panic!("mysql refused our script: {e}"));
    assert_same_as_reference_head(project, &db, "the library's plan");
}

/// The indexes MariaDB made for a foreign key that a step replaces with a covering key, by
/// table. The reference databases a step starts from are `mysqldump` copies, and a dump
/// declares such an index like any other, so on the copy the covering key cannot replace it
/// (on the original it does). The whole-chain tests, on fresh databases, check that
/// replacement against the real thing; here those indexes are left out of the comparison when
/// the reference no longer has them.
fn replaced_foreign_key_indexes(
    before: &SchemaModel,
    after: &SchemaModel,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for t in &before.tables {
        let Some(now) = after.table(&t.name) else {
            continue;
        };
        for i in t.indexes.iter().filter(|i| is_for_foreign_key(i)) {
            if !now.indexes.iter().any(|x| x.name == i.name) {
                out.push((t.name.clone(), i.name.clone()));
            }
        }
    }
    out
}

fn forget_indexes(
    actual: &mut serde_json::Value,
    expected: &serde_json::Value,
    which: &[(String, String)],
) {
    for (table, name) in which {
        let named = |i: &serde_json::Value| i["name"].as_str() == Some(name.as_str());
        let in_reference = expected["tables"][table]["indexes"]
            .as_array()
            .is_some_and(|list| list.iter().any(named));
        if let (false, Some(list)) = (
            in_reference,
            actual["tables"][table]["indexes"].as_array_mut(),
        ) {
            list.retain(|i| !named(i));
        }
    }
}

fn each_revision_matches(project: Project) {
    let (ours, graph) = open(project);
    let planner = planner(&ours, &graph, true);
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
    for_each_revision(Dialect::MariaDb, project, |step| {
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
        let replaced = replaced_foreign_key_indexes(&model, &plan.schema);
        model = plan.schema.clone();
        if let Err(e) = step.before.run_sql_script(&mysql_script(&plan)) {
            failures.push(format!("{}: mysql refused our SQL: {e}", step.revision));
            return;
        }
        let mut actual = reflect(&step.before, project.version_table());
        forget_indexes(&mut actual, step.expected, &replaced);
        let diff = schema_differences(step.expected, &actual);
        if !diff.is_empty() {
            failures.push(format!("{}:\n    {}", step.revision, diff.join("\n    ")));
        }
    });
    assert!(checked > 0);
    assert!(
        failures.is_empty(),
        "{} of {checked} revisions differ from Python Alembic on MariaDB:\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
}

#[test]
fn mlflow_tracking_cli_script_equals_mlflow_db_upgrade() {
    cli_script_matches(Project::Mlflow, "mlflow");
}

#[test]
fn mlflow_tracking_plan_equals_mlflow_db_upgrade() {
    library_script_matches(Project::Mlflow);
}

#[test]
fn mlflow_tracking_every_revision_equals_python_alembic() {
    each_revision_matches(Project::Mlflow);
}

/// MLflow's auth project on MariaDB: `8606fa83a998` creates `experiment_permissions` and
/// `registered_model_permissions` with the same foreign key name `fk_user_id`. InnoDB names
/// foreign keys per database, so Python Alembic fails there with errno 121; we refuse to plan
/// it, naming the revision and the name, instead of writing a script that stops halfway.
#[test]
fn mlflow_auth_is_refused_on_mariadb_as_python_alembic_fails_on_it() {
    let out = support::mlflow_migrate()
        .args(["--project", "mlflow-auth", "--scripts"])
        .arg(Project::MlflowAuth.scripts_dir())
        .args(["sql", "heads", "--dialect", "mariadb"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    for needle in [
        "8606fa83a998",
        "fk_user_id",
        "registered_model_permissions",
        "experiment_permissions",
    ] {
        assert!(stderr.contains(needle), "{needle} missing from: {stderr}");
    }

    let db = TestDb::mariadb();
    let reference = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        build_reference(
            &db,
            Project::MlflowAuth,
            &Project::MlflowAuth.scripts_dir(),
            "8606fa83a998",
        )
    }));
    let message = match reference {
        Ok(()) => panic!("Python Alembic created MLflow's auth tables on MariaDB after all"),
        Err(payload) => payload
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default(),
    };
    assert!(
        message.contains("Duplicate key on write or update")
            && message.contains("registered_model_permissions"),
        "Python Alembic failed otherwise: {message}"
    );
}

#[test]
fn mlflow_auth_plan_for_mysql_is_refused_too() {
    let (ours, graph) = open(Project::MlflowAuth);
    let planner = planner(&ours, &graph, false);
    let steps = graph
        .upgrade_path(&Lower::Many(Vec::new()), "heads")
        .unwrap();
    let err = planner
        .plan(&[], &steps, SchemaModel::default(), Initial::Create)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("8606fa83a998") && err.contains("fk_user_id"),
        "{err}"
    );
}

/// The SQL one revision compiles to (upgrading from its parent), on MariaDB or MySQL.
fn revision_sql(revision: &str, mariadb: bool) -> (Plan, Vec<String>) {
    let (ours, graph) = open(Project::Mlflow);
    let planner = planner(&ours, &graph, mariadb);
    let parent = graph
        .revision(graph.get(revision).unwrap())
        .down_revisions
        .clone();
    let steps = graph
        .upgrade_path(&Lower::Many(parent.clone()), revision)
        .unwrap();
    let plan = planner
        .plan_for(&DbState::on_paper(&parent), &steps)
        .unwrap()
        .plan;
    let sql = plan.steps[0]
        .compiled
        .statements()
        .map(str::to_string)
        .collect();
    (plan, sql)
}

/// Run one revision's SQL on the reference database at its parent and compare with the
/// reference at the revision.
fn revision_matches_reference(revision: &str, plan: &Plan) {
    let chain = support::reference_db::mlflow_chain(Project::Mlflow);
    let at = chain.iter().position(|r| r == revision).unwrap();
    let parent = if at == 0 { INITIAL } else { &chain[at - 1] };
    let db = reference_at(Dialect::MariaDb, Project::Mlflow, parent);
    db.run_sql_script(&mysql_script(plan))
        .unwrap_or_else(|e| panic!("mysql refused the SQL of {revision}: {e}"));
    let expected = reference_reflection(Dialect::MariaDb, Project::Mlflow, revision);
    let diff = schema_differences(&expected, &reflect(&db, "alembic_version"));
    assert!(diff.is_empty(), "{revision}:\n  {}", diff.join("\n  "));
}

#[test]
fn check_constraint_drop_is_drop_constraint_on_mariadb_and_drop_check_on_mysql() {
    // MLflow #1397: `drop_constraint("status", "runs", type_="check")` on MySQL.
    let (plan, sql) = revision_sql("0a8213491aaa", true);
    assert_eq!(sql, ["ALTER TABLE runs DROP CONSTRAINT status"]);
    revision_matches_reference("0a8213491aaa", &plan);
    let (_, sql) = revision_sql("0a8213491aaa", false);
    assert_eq!(sql, ["ALTER TABLE runs DROP CHECK status"]);
}

#[test]
fn enum_check_swap_keeps_the_old_check_and_adds_an_unnamed_one() {
    // cfd24bdc0731 retypes runs.status to a non-native Enum with KILLED: Alembic leaves the
    // old type's CHECK ("status") in place on MySQL (0a8213491aaa drops it later), restates the
    // column with MODIFY, and adds the new type's CHECK unnamed (MariaDB: CONSTRAINT_1).
    let (plan, sql) = revision_sql("cfd24bdc0731", true);
    assert_eq!(
        sql,
        [
            "ALTER TABLE runs MODIFY status VARCHAR(9) NULL",
            "ALTER TABLE runs ADD CHECK (status IN ('SCHEDULED', 'FAILED', 'FINISHED', \
             'RUNNING', 'KILLED'))",
        ]
    );
    let runs = plan.schema.table("runs").unwrap();
    let checks: Vec<&str> = runs
        .constraints
        .iter()
        .filter(|c| c.kind() == alembic_engine::ir::ConstraintKind::Check)
        .filter_map(|c| c.name())
        .collect();
    assert!(
        checks.contains(&"status") && checks.contains(&"CONSTRAINT_1"),
        "{checks:?}"
    );
    revision_matches_reference("cfd24bdc0731", &plan);
}

#[test]
fn alter_column_without_existing_type_is_an_error_naming_the_revision() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("versions")).unwrap();
    fs::write(
        dir.path().join("alembic.ini"),
        "[alembic]\nscript_location = %(here)s\n",
    )
    .unwrap();
    fs::write(
        dir.path().join("versions/4e5f6a7b8c9d_tighten_name.py"),
        "\"\"\"tighten name\"\"\"\n\
         from alembic import op\n\
         import sqlalchemy as sa\n\
         \n\
         revision = \"4e5f6a7b8c9d\"\n\
         down_revision = None\n\
         \n\
         def upgrade():\n\
         \x20   op.create_table(\"things\", sa.Column(\"id\", sa.Integer, primary_key=True),\n\
         \x20                   sa.Column(\"name\", sa.String(50)))\n\
         \x20   op.alter_column(\"things\", \"name\", nullable=False)\n\
         \n\
         def downgrade():\n\
         \x20   pass\n",
    )
    .unwrap();
    let out = support::mlflow_migrate()
        .arg("--scripts")
        .arg(dir.path())
        .args(["sql", "heads", "--dialect", "mariadb"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty(), "no SQL at all on a refusal");
    for needle in ["4e5f6a7b8c9d", "things", "name", "existing_type"] {
        assert!(stderr.contains(needle), "{needle} missing from: {stderr}");
    }
}
