//! The rolling-upgrade verdicts of `alembic_engine::report` against reality: a server of an
//! older MLflow release (its own tracking and model-registry stores, in a virtualenv of that
//! release) keeps working on a database that `mlflow-migrate` upgraded past its head exactly
//! when the verdict says so.
//!
//! The old release builds its database itself (its stores create the schema of its head and
//! some rows); `mlflow-migrate` then upgrades a copy of it to each later revision in turn;
//! `tests/support/old_server.py` runs the release's main store operations against every copy
//! with the stores' schema-version check off, as a server started before the upgrade would
//! never re-check. Per revision the verdict is compared with the operations that start failing
//! at that revision:
//! - a revision whose verdict keeps old servers must make no operation fail, and every path
//!   whose verdict keeps old servers must leave every operation working;
//! - a breaking revision with no new failure is a conservative verdict: allowed, but it must
//!   be one listed in `CONSERVATIVE` with the reason reality does not break;
//! - each class of breaking reason met on the path must be shown by at least one revision
//!   that really breaks, or be listed in `CONSERVATIVE`.
//!
//! Each release's virtualenv is built on first use under `<target>/old-mlflow-<version>`,
//! serialised by an exclusive lock on `<target>/old-mlflow-<version>.lock` and marked complete
//! by a `.complete` file holding the pin line, as the reference environment is.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use alembic_engine::graph::{Lower, RevisionGraph};
use alembic_engine::plan::{DbState, Mode, Planner};
use alembic_engine::report::{report, PlanReport, Server};
use serde_json::Value;

use support::cli;
use support::reference_db::Project;

/// An older MLflow release and the packages its stores need, exactly as handed to pip.
struct Release {
    version: &'static str,
    /// The classes of breaking verdicts that this release's server really fails on, found by
    /// running it (the test checks the finding stays true).
    really_breaks: &'static [&'static str],
    /// Its tracking head (`revisions/mlflow/releases.toml`).
    head: &'static str,
    pins: &'static [&'static str],
}

const MLFLOW_2_9_2: Release = Release {
    version: "2.9.2",
    // Every later change that touches what 2.9.2 uses is a widening rebuild or the workspace
    // keys; its server keeps working up to the newest revision.
    really_breaks: &[],
    head: "acf3f17fdcc7",
    // 2.9.2 predates SQLAlchemy 2.1 and Alembic 1.14; the newest of each before them work.
    pins: &[
        "mlflow-skinny==2.9.2",
        "sqlalchemy==2.0.58",
        "alembic==1.13.3",
    ],
};

const MLFLOW_3_5_0: Release = Release {
    version: "3.5.0",
    // 5d2d30f0abce renames jobs.function_fullname: its job store's inserts fail.
    really_breaks: &["rename"],
    head: "bf29a5ff90ea",
    // mlflow-skinny 3.x no longer installs SQLAlchemy and Alembic; these are from its months.
    pins: &[
        "mlflow-skinny==3.5.0",
        "sqlalchemy==2.0.58",
        "alembic==1.16.5",
    ],
};

/// Breaking verdicts that reality does not confirm for a server of the release, with why.
/// (release, revision, why the old server does not notice). A conservative verdict is
/// acceptable; a "keeps" that reality breaks is not (the test fails on it).
const CONSERVATIVE: &[(&str, &str, &str)] = &[
    (
        "2.9.2",
        "f5a4f2784254",
        "widens tags.value by a SQLite table rebuild: writes wait for the copy (milliseconds \
         here), nothing fails afterwards; the verdict speaks of the stall, not of failures",
    ),
    (
        "2.9.2",
        "bda7b8c39065",
        "widens model_version_tags.value by a SQLite table rebuild: a stall while it copies, \
         no failure afterwards",
    ),
    (
        "2.9.2",
        "17e22815139b",
        "widens experiment_tags.value (VARCHAR(5000) to TEXT) by a SQLite table rebuild: a \
         stall while it copies, no failure afterwards",
    ),
    (
        "2.9.2",
        "1b5f0d9ad7c1",
        "replaces the unique key on experiments.name (and registered_models' primary key on \
         name) by (workspace, name) with workspace defaulted to 'default': every row an old \
         server writes has the default workspace, so the new key refuses exactly what the old \
         one did. The report cannot see the dropped key's columns, so it stays conservative",
    ),
    (
        "3.5.0",
        "1b5f0d9ad7c1",
        "as for 2.9.2: the new (workspace, ...) keys replace keys on the same names, with the \
         workspace defaulted, so they refuse nothing more from a 3.5.0 server",
    ),
    (
        "3.5.0",
        "17e22815139b",
        "as for 2.9.2: widens experiment_tags.value by a table rebuild, a stall while it \
         copies, no failure afterwards",
    ),
];

/// The class of a breaking verdict's reason, as `src/report.rs` words them.
fn reason_class(reason: &str) -> &'static str {
    if reason.starts_with("drops") {
        "drop"
    } else if reason.starts_with("renames") {
        "rename"
    } else if reason.contains("NOT NULL without a default") {
        "not null without default"
    } else if reason.contains("narrower or other") {
        "narrowing"
    } else if reason.contains("uniqueness") || reason.contains("CHECK") {
        "new uniqueness or check"
    } else if reason.starts_with("rewrites") {
        "rewrite"
    } else {
        panic!("a breaking verdict whose reason has no class: {reason}")
    }
}

/// The interpreter of `release`'s virtualenv, building the environment first if needed.
fn old_python(release: &Release) -> PathBuf {
    let name = format!("old-mlflow-{}", release.version);
    support::project_venv::python(&support::project_venv::Venv {
        name: &name,
        packages: release.pins,
        check: &satisfies(release),
    })
}

/// Python that runs when every pin is installed at its version and both SQLAlchemy stores
/// import.
fn satisfies(release: &Release) -> String {
    let pins = release
        .pins
        .iter()
        .map(|p| {
            let (name, version) = p.split_once("==").unwrap();
            format!("({name:?}, {version:?})")
        })
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "import importlib.metadata as md\n\
         for name, version in [{pins}]:\n\
         \x20   assert md.version(name) == version, (name, md.version(name), version)\n\
         import mlflow.store.tracking.sqlalchemy_store, mlflow.store.model_registry.sqlalchemy_store\n"
    )
}

/// `tests/support/old_server.py MODE DB...` in the release's environment: per database, per
/// operation, "ok" or the exception.
fn old_server(
    python: &Path,
    mode: &str,
    dbs: &[PathBuf],
) -> BTreeMap<String, Vec<(String, String)>> {
    let script = support::repo_root().join("tests/support/old_server.py");
    let out = Command::new(python)
        .arg(script)
        .arg(mode)
        .args(dbs)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("MLFLOW_DISABLE_TELEMETRY", "true")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "old_server.py {mode} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "old_server.py printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    doc.as_object()
        .unwrap()
        .iter()
        .map(|(db, ops)| {
            let ops = ops
                .as_object()
                .unwrap()
                .iter()
                .map(|(op, r)| (op.clone(), r.as_str().unwrap().to_string()))
                .collect();
            (db.clone(), ops)
        })
        .collect()
}

/// The report of the offline plan from `from` to `to` on SQLite.
fn plan_report(
    project: &alembic_engine::project::Project,
    graph: &RevisionGraph,
    from: &str,
    to: &str,
) -> PlanReport {
    let dialect = alembic_engine::dialect::for_name("sqlite").unwrap();
    let planner = Planner::for_project(project, graph, dialect, Mode::Offline).unwrap();
    let rows = vec![from.to_string()];
    let steps = graph.upgrade_path(&Lower::Many(rows.clone()), to).unwrap();
    let plan = planner
        .plan_for(&DbState::on_paper(&rows), &steps)
        .unwrap()
        .plan;
    report(&plan, Server::Sqlite, "test", &BTreeMap::new())
}

fn failures(ops: &[(String, String)]) -> BTreeMap<String, String> {
    ops.iter()
        .filter(|(_, r)| r != "ok")
        .map(|(op, r)| (op.clone(), r.clone()))
        .collect()
}

fn check_release(release: &Release) {
    let python = old_python(release);
    let (project, graph) = cli::open_project(Project::Mlflow);
    let full = plan_report(&project, &graph, release.head, "heads");
    let revisions: Vec<String> = full.revisions.iter().map(|r| r.revision.clone()).collect();
    assert!(
        !revisions.is_empty(),
        "MLflow {}'s head {} is the newest revision",
        release.version,
        release.head
    );

    // The old release's own database, then one copy upgraded to each later revision.
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.db");
    let init = old_server(&python, "init", std::slice::from_ref(&base));
    let init_failures = failures(&init[&base.display().to_string()]);
    assert!(
        init_failures.is_empty(),
        "MLflow {} fails on its own database: {init_failures:?}",
        release.version
    );
    let mut dbs = vec![base.clone()];
    for (i, rev) in revisions.iter().enumerate() {
        let db = dir.path().join(format!("{i:02}-{rev}.db"));
        fs::copy(dbs.last().unwrap(), &db).unwrap();
        let url = format!("sqlite:///{}", db.display());
        cli::ok(&cli::run(&["upgrade", "--quiet", "--no-backup", &url, rev]));
        dbs.push(db);
    }
    let results = old_server(&python, "check", &dbs);
    let outcome = |db: &PathBuf| failures(&results[&db.display().to_string()]);
    let baseline = outcome(&base);
    assert!(
        baseline.is_empty(),
        "MLflow {} fails on its own database with the schema check off: {baseline:?}",
        release.version
    );

    let mut table = String::new();
    let mut problems = Vec::new();
    let mut confirmed: BTreeSet<&'static str> = BTreeSet::new();
    let mut met: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    let mut previous = baseline;
    for (i, rev) in revisions.iter().enumerate() {
        let now = outcome(&dbs[i + 1]);
        let new: BTreeMap<_, _> = now
            .iter()
            .filter(|(op, _)| !previous.contains_key(*op))
            .collect();
        let step = &full.revisions[i].verdict;
        let path = plan_report(&project, &graph, release.head, rev).verdict;
        table.push_str(&format!(
            "  {rev} step {} path {} failing {:?}\n",
            if step.keeps_old_servers {
                "keeps "
            } else {
                "breaks"
            },
            if path.keeps_old_servers {
                "keeps "
            } else {
                "breaks"
            },
            now.keys().collect::<Vec<_>>()
        ));
        if path.keeps_old_servers && !now.is_empty() {
            problems.push(format!(
                "path {}..{rev} keeps old servers by the verdict, but MLflow {} fails: {now:?}",
                release.head, release.version
            ));
        }
        if step.keeps_old_servers && !new.is_empty() {
            problems.push(format!(
                "revision {rev} keeps old servers by the verdict ({}), but MLflow {} starts failing: {new:?}",
                step.reason, release.version
            ));
        }
        if !step.keeps_old_servers {
            let class = reason_class(&step.reason);
            met.entry(class).or_default().push(rev.clone());
            let listed = CONSERVATIVE
                .iter()
                .any(|(v, r, _)| *v == release.version && r == rev);
            if !new.is_empty() {
                confirmed.insert(class);
                if listed {
                    problems.push(format!(
                        "{rev} is listed as conservative but MLflow {} does break: {new:?}",
                        release.version
                    ));
                }
            } else if !listed {
                problems.push(format!(
                    "revision {rev} breaks old servers by the verdict ({}), but MLflow {} \
                     starts no new failure there: list it in CONSERVATIVE with the reason",
                    step.reason, release.version
                ));
            }
        }
        previous = now;
    }
    for (class, revs) in &met {
        if !confirmed.contains(class) {
            let all_listed = revs.iter().all(|rev| {
                CONSERVATIVE
                    .iter()
                    .any(|(v, r, _)| *v == release.version && r == rev)
            });
            if !all_listed {
                problems.push(format!(
                    "no revision shows the class `{class}` breaking MLflow {} ({revs:?})",
                    release.version
                ));
            }
        }
    }
    let confirmed: Vec<&str> = confirmed.into_iter().collect();
    if confirmed != release.really_breaks {
        problems.push(format!(
            "MLflow {} really fails on the classes {confirmed:?}, expected {:?}",
            release.version, release.really_breaks
        ));
    }

    // A server of the release that starts after the upgrade (or a worker that restarts)
    // refuses the database: the verdict speaks of servers already running. Its stores find
    // tables they do not know, take the database for an empty one, run their own migrations
    // and stop at the unknown revision (before the schema-version check is even reached).
    let started = old_server(&python, "start", std::slice::from_ref(&dbs[1]));
    let refused = &started[&dbs[1].display().to_string()];
    assert!(
        refused
            .iter()
            .any(|(op, r)| op == "open tracking store" && r.contains("Can't locate revision")),
        "MLflow {} started on a database at {} with its checks on: {refused:?}",
        release.version,
        revisions[0]
    );

    eprintln!("MLflow {} from {}:\n{table}", release.version, release.head);
    assert!(
        problems.is_empty(),
        "MLflow {}:\n{}\n{table}",
        release.version,
        problems.join("\n")
    );
}

#[test]
fn mlflow_2_9_2_server_against_later_revisions() {
    check_release(&MLFLOW_2_9_2);
}

#[test]
fn mlflow_3_5_0_server_against_later_revisions() {
    check_release(&MLFLOW_3_5_0);
}
