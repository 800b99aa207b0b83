//! MLflow 3.17.2's two Alembic projects, read from the pinned package: the tracking database
//! (67 revisions) and the auth database (7), with ids scoped per project.

mod support;

use alembic_engine::graph::{Direction, Lower, RevisionGraph};
use alembic_engine::project::Locator;
use alembic_engine::script::ScriptDirectory;

fn graph_of(dir: &std::path::Path) -> RevisionGraph {
    let scripts = ScriptDirectory::load(dir, &[dir.join("versions")], false).unwrap();
    RevisionGraph::build(scripts.revisions).unwrap()
}

/// The chain from base to head, read off `down_revision` links alone.
fn chain(graph: &RevisionGraph) -> Vec<String> {
    let mut at = graph.heads()[0];
    let mut out = vec![graph.id(at).to_string()];
    while let [parent] = graph.parents(at) {
        at = *parent;
        out.push(graph.id(at).to_string());
    }
    assert!(graph.parents(at).is_empty(), "the chain ends at a base");
    out.reverse();
    out
}

#[test]
fn tracking_project_has_67_revisions_from_451aebb31d03_to_dc11669786a5() {
    let graph = graph_of(&support::mlflow_scripts_dir());
    assert_eq!(graph.len(), 67);
    let heads: Vec<&str> = graph.heads().iter().map(|&h| graph.id(h)).collect();
    let bases: Vec<&str> = graph.bases().iter().map(|&b| graph.id(b)).collect();
    assert_eq!(heads, ["dc11669786a5"]);
    assert_eq!(bases, ["451aebb31d03"]);

    let steps = graph.upgrade_path(&Lower::None, "heads").unwrap();
    let ids: Vec<String> = steps
        .iter()
        .map(|s| graph.id(s.revision).to_string())
        .collect();
    assert_eq!(steps.len(), 67);
    assert!(steps.iter().all(|s| s.direction == Direction::Up));
    assert_eq!(
        ids,
        chain(&graph),
        "upgrade order is the down_revision chain"
    );
    assert!(
        ids.contains(&"1bd49d398cd23".to_string()),
        "the 13-digit id is read as is"
    );
}

#[test]
fn auth_project_has_7_revisions_and_shares_an_id_with_tracking_without_clashing() {
    let auth = graph_of(&support::mlflow_auth_scripts_dir());
    assert_eq!(auth.len(), 7);
    let heads: Vec<&str> = auth.heads().iter().map(|&h| auth.id(h)).collect();
    assert_eq!(heads, ["f1a2b3c4d5e6"]);
    assert_eq!(auth.id(auth.bases()[0]), "8606fa83a998");

    let tracking = graph_of(&support::mlflow_scripts_dir());
    let shared = "a1b2c3d4e5f6";
    let in_auth = auth.get(shared).expect("auth has it");
    let in_tracking = tracking.get(shared).expect("tracking has it");
    assert_ne!(
        auth.revision(in_auth).path.parent(),
        tracking.revision(in_tracking).path.parent()
    );
    let down = auth
        .downgrade_path(&Lower::Many(vec!["f1a2b3c4d5e6".into()]), shared)
        .unwrap();
    assert!(down.iter().all(|s| auth
        .revision(s.revision)
        .path
        .starts_with(support::mlflow_auth_scripts_dir())));
}

#[test]
fn cli_reads_the_mlflow_projects_and_prints_alembic_style_history() {
    let out = support::mlflow_migrate()
        .args(["--project", "mlflow", "--scripts"])
        .arg(support::mlflow_scripts_dir())
        .args(["history", "-r", "-2:heads"])
        .output()
        .unwrap();
    // `-2` as the lower end names the revision two below the head, as in Alembic.
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let first = stdout.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("75868b020152 -> dc11669786a5 (head), "),
        "got: {stdout}"
    );

    let out = support::mlflow_migrate()
        .args(["--project", "mlflow-auth", "--scripts"])
        .arg(support::mlflow_auth_scripts_dir())
        .args(["--format", "json", "heads"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["heads"][0]["revision"], "f1a2b3c4d5e6");
}

#[test]
fn without_scripts_the_pinned_wheel_is_fetched_checked_and_unpacked_once() {
    let cache = tempfile::tempdir().unwrap();
    let run = || {
        support::mlflow_migrate()
            .args(["--project", "mlflow", "--ignore-installed", "--cache-dir"])
            .arg(cache.path())
            .args(["--format", "json", "heads"])
            .output()
            .unwrap()
    };
    let first = run();
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(first.status.success(), "{stderr}");
    assert!(
        stderr.contains("pinned wheel"),
        "says where scripts came from: {stderr}"
    );
    let json: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    assert_eq!(json["heads"][0]["revision"], "dc11669786a5");
    assert!(cache.path().join("mlflow-skinny-3.17.2/.sha256").is_file());

    let project = Locator {
        cache_dir: Some(cache.path().to_path_buf()),
        ignore_installed: true,
        ..Default::default()
    }
    .open(Some("mlflow-auth"))
    .unwrap();
    assert_eq!(project.version_table, "alembic_version_auth");
    assert_eq!(project.scripts.revisions.len(), 7);

    // The tracking project also needs MLflow's initial models and the frozen helper module
    // revision 75868b020152 imports: both are unpacked with the scripts.
    let tracking = Locator {
        cache_dir: Some(cache.path().to_path_buf()),
        ignore_installed: true,
        ..Default::default()
    }
    .open(Some("mlflow"))
    .unwrap();
    let initial = tracking.initial_models.expect("initial models unpacked");
    assert!(initial.ends_with("mlflow/store/tracking/dbmodels/initial_models.py"));
    let root = tracking.package_root.expect("package root");
    assert!(root
        .join("mlflow/store/db/trace_analytics_schema_75868b020152.py")
        .is_file());
}
