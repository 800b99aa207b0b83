//! The library embedded in a service: `exec::migrate`'s future is `Send`, so a tokio
//! multi-threaded runtime can `spawn` it, and the blocking facade works from inside a runtime
//! (where blocking on another would panic) as well as outside one. On all three servers.

mod support;

use alembic_engine::db::DbUrl;
use alembic_engine::exec::{self, Event, Options};
use alembic_engine::graph::RevisionGraph;
use alembic_engine::project::{Locator, Project};
use support::cli::{assert_matches_head, head};
use support::db::{Dialect, TestDb};

fn mlflow() -> (Project, RevisionGraph) {
    let project = Locator {
        scripts: Some(support::mlflow_scripts_dir()),
        ..Default::default()
    }
    .open(Some("mlflow"))
    .unwrap();
    let graph = RevisionGraph::build(project.scripts.revisions.clone()).unwrap();
    (project, graph)
}

fn multi_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn spawned_upgrade(dialect: Dialect) {
    let db = TestDb::new(dialect);
    let (project, graph) = mlflow();
    let url = DbUrl::parse(&db.our_url()).unwrap();
    let (outcome, events) = multi_thread().block_on(async move {
        tokio::spawn(async move {
            let mut events = Vec::new();
            let mut progress = |e: Event| events.push(format!("{e:?}"));
            let outcome =
                exec::migrate(&url, &project, &graph, &Options::default(), &mut progress).await;
            (outcome, events)
        })
        .await
        .unwrap()
    });
    let outcome = outcome.unwrap();
    assert_eq!(outcome.after, [head()], "{dialect}");
    assert!(
        events.iter().any(|e| e.starts_with("Planned")),
        "progress reached the caller: {events:?}"
    );
    assert_matches_head(&db, dialect, &format!("spawned upgrade on {dialect}"));
}

fn blocking_inside_a_runtime(dialect: Dialect) {
    let db = TestDb::new(dialect);
    let (project, graph) = mlflow();
    let url = DbUrl::parse(&db.our_url()).unwrap();
    // From a task of a multi-threaded runtime, and from a current-thread runtime's own thread.
    let rows = multi_thread().block_on(async {
        let options = Options {
            target: "+3".into(),
            ..Options::default()
        };
        exec::blocking::migrate(&url, &project, &graph, &options, &mut |_| {}).unwrap();
        exec::blocking::current(&url, &project, &graph).unwrap()
    });
    let chain = support::reference_db::mlflow_chain(support::reference_db::Project::Mlflow);
    assert_eq!(rows, [chain[2].clone()], "{dialect}");
    let current_thread = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let outcome = current_thread.block_on(async {
        exec::blocking::migrate(&url, &project, &graph, &Options::default(), &mut |_| {})
    });
    assert_eq!(outcome.unwrap().after, [head()], "{dialect}");
    assert_matches_head(&db, dialect, &format!("blocking upgrade on {dialect}"));
}

#[test]
fn a_spawned_upgrade_on_sqlite() {
    spawned_upgrade(Dialect::Sqlite);
}

#[test]
fn a_spawned_upgrade_on_postgres() {
    spawned_upgrade(Dialect::Postgres);
}

#[test]
fn a_spawned_upgrade_on_mariadb() {
    spawned_upgrade(Dialect::MariaDb);
}

#[test]
fn the_blocking_facade_inside_a_runtime_on_sqlite() {
    blocking_inside_a_runtime(Dialect::Sqlite);
}

#[test]
fn the_blocking_facade_inside_a_runtime_on_postgres() {
    blocking_inside_a_runtime(Dialect::Postgres);
}

#[test]
fn the_blocking_facade_inside_a_runtime_on_mariadb() {
    blocking_inside_a_runtime(Dialect::MariaDb);
}

/// The `Migrator` entry point: an upgrade spawned on a multi-threaded runtime, then the dry
/// run (nothing left to do) and `current` from it, then a downgrade and `status` through its
/// blocking calls inside a runtime; each answer checked against the database and MLflow's own
/// chain. On MariaDB, MLflow's last downgrade cannot run (MySQL refuses to drop an index a
/// foreign key needs): it is refused before any change.
fn migrator_round_trip(dialect: Dialect) {
    let db = TestDb::new(dialect);
    let migrator = std::sync::Arc::new(
        alembic_engine::Migrator::open(
            &Locator {
                scripts: Some(support::mlflow_scripts_dir()),
                ..Default::default()
            },
            Some("mlflow"),
        )
        .unwrap(),
    );
    assert_eq!(migrator.heads(), [head()]);
    let url = DbUrl::parse(&db.our_url()).unwrap();
    let runtime = multi_thread();
    let (spawned, task_url) = (migrator.clone(), url.clone());
    let (planned, outcome, current) = runtime.block_on(async move {
        tokio::spawn(async move {
            let outcome = spawned
                .upgrade(&task_url, "heads", &mut |_| {})
                .await
                .unwrap();
            let planned = spawned.plan(&task_url, &Options::default()).await.unwrap();
            let current = spawned.current(&task_url).await.unwrap();
            (planned, outcome, current)
        })
        .await
        .unwrap()
    });
    let chain = support::reference_db::mlflow_chain(support::reference_db::Project::Mlflow);
    assert!(planned.plan.is_none(), "{dialect}: nothing left to do");
    assert_eq!(outcome.steps, chain.len(), "{dialect}");
    assert_eq!(outcome.after, [head()], "{dialect}");
    assert_eq!(current, [head()], "{dialect}");
    assert_matches_head(&db, dialect, &format!("Migrator upgrade on {dialect}"));
    let (down, status) = runtime.block_on(async {
        let blocking = migrator.blocking();
        let down = blocking.downgrade(&url, "-1", &mut |_| {});
        (down, blocking.status(&url).unwrap())
    });
    if dialect == Dialect::MariaDb {
        let err = down.unwrap_err().to_string();
        assert!(err.contains(&head()), "{err}");
        assert_eq!(status.current, [head()], "refused before any change");
        return;
    }
    let down = down.unwrap();
    assert_eq!(down.after, [chain[chain.len() - 2].clone()], "{dialect}");
    assert_eq!(status.current, down.after, "{dialect}");
}

#[test]
fn the_migrator_on_sqlite() {
    migrator_round_trip(Dialect::Sqlite);
}

#[test]
fn the_migrator_on_postgres() {
    migrator_round_trip(Dialect::Postgres);
}

#[test]
fn the_migrator_on_mariadb() {
    migrator_round_trip(Dialect::MariaDb);
}
