//! Downgrades on live databases: for every MLflow revision whose script defines a downgrade,
//! upgrading a database to it and downgrading back returns the schema to where it started —
//! or, where MLflow's own downgrade does not restore it either, to what MLflow's leaves;
//! a revision whose `downgrade()` is `pass` is refused as irreversible and leaves the
//! database as it was; a downgrade the database refuses (MLflow's own scripts drop tables in
//! an order the foreign keys forbid, or copy into a generated column) fails for MLflow's own
//! Alembic run too, and ours leaves the database as it was. On SQLite, PostgreSQL and MariaDB.

mod support;

use support::cli::{ok, ours, run};
use support::db::{Dialect, TestDb};
use support::reference_db::{mlflow_chain, try_mlflow_downgrade, Project};
use support::schema_diff::schema_differences;

/// Revisions whose recipe refuses to downgrade (with the error naming it, before any change):
/// the script's downgrade moves data back in Python, not yet written as SQL.
const NO_DOWNGRADE_RECIPE_YET: &[&str] = &[];

fn up_and_down_every_revision(dialect: Dialect) {
    let chain = mlflow_chain(Project::Mlflow);
    let mut db = TestDb::new(dialect);
    ok(&run(&["upgrade", "--quiet", &db.our_url(), &chain[0]]));
    let (mut reversible, mut irreversible) = (0, 0);
    let (mut broken, mut not_restored) = (Vec::new(), Vec::new());
    for pair in chain.windows(2) {
        let (parent, rev) = (&pair[0], &pair[1]);
        let db = &mut db;
        let start = ours(db);
        ok(&run(&["upgrade", "--quiet", &db.our_url(), rev]));
        let at_rev = ours(db);
        let down = run(&["downgrade", "--quiet", &db.our_url(), parent]);
        let stderr = String::from_utf8_lossy(&down.stderr).to_string();
        let refused_by_database = stderr.contains("failed at statement")
            || stderr.contains("refuses this")
            || stderr.contains("fails here too");
        if !down.status.success() && refused_by_database {
            // The database refuses a statement of the script's downgrade (when it ran, or
            // known at planning): MLflow's own downgrade must fail too, and ours must have
            // left the database as it was (the revision's transaction, or its first
            // statement, refused; or nothing ran).
            assert_eq!(
                ours(db),
                at_rev,
                "{rev}: the failed downgrade changed the database"
            );
            let twin = db.copy_to_new();
            let python = try_mlflow_downgrade(&twin, parent);
            assert!(
                python.is_err(),
                "{rev}: our downgrade failed ({stderr}) but MLflow's succeeded"
            );
            broken.push(rev.clone());
        } else if down.status.success() {
            let diff = schema_differences(&start, &ours(db));
            if diff.is_empty() {
                reversible += 1;
            } else {
                // Not where it started: MLflow's own downgrade must leave the same schema.
                // Compared on two copies of a fresh database at `rev` made the same way; the
                // walk goes on from that fresh database, since this one now differs from any
                // upgrade's history.
                let fresh = TestDb::new(dialect);
                ok(&run(&["upgrade", "--quiet", &fresh.our_url(), rev]));
                let (python, ours_copy) = (fresh.copy_to_new(), fresh.copy_to_new());
                try_mlflow_downgrade(&python, parent)
                    .unwrap_or_else(|e| panic!("{rev}: MLflow's downgrade failed: {e}"));
                ok(&run(&[
                    "downgrade",
                    "--quiet",
                    &ours_copy.our_url(),
                    parent,
                ]));
                let versus_python = schema_differences(&ours(&python), &ours(&ours_copy));
                assert!(
                    versus_python.is_empty(),
                    "{rev} up then down differs from the start ({}) and from MLflow's own downgrade:\n  {}",
                    diff.join("; "),
                    versus_python.join("\n  ")
                );
                *db = fresh;
                not_restored.push(format!("{rev} ({})", diff.join("; ")));
                continue;
            }
            ok(&run(&["upgrade", "--quiet", &db.our_url(), rev]));
        } else if NO_DOWNGRADE_RECIPE_YET.contains(&rev.as_str()) {
            assert!(stderr.contains("does not downgrade yet"), "{rev}: {stderr}");
            assert_eq!(
                ours(db),
                at_rev,
                "{rev}: the refused downgrade changed the database"
            );
            irreversible += 1;
        } else {
            assert!(stderr.contains("irreversible"), "{rev}: {stderr}");
            assert_eq!(
                ours(db),
                at_rev,
                "{rev}: the refused downgrade changed the database"
            );
            irreversible += 1;
        }
    }
    eprintln!(
        "{} revisions: {reversible} reversible, {irreversible} irreversible, broken in MLflow too: {broken:?}, not restored by MLflow's downgrade either: {not_restored:?}",
        chain.len() - 1
    );
    assert_eq!(
        reversible + irreversible + broken.len() + not_restored.len(),
        chain.len() - 1
    );
    assert!(reversible >= 25, "{reversible} reversible revisions");
}

#[test]
fn sqlite_every_revision_up_then_down_returns_to_the_start() {
    up_and_down_every_revision(Dialect::Sqlite);
}

#[test]
fn postgres_every_revision_up_then_down_returns_to_the_start() {
    up_and_down_every_revision(Dialect::Postgres);
}

#[test]
fn mariadb_every_revision_up_then_down_returns_to_the_start() {
    up_and_down_every_revision(Dialect::MariaDb);
}
