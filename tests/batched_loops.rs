//! Alembic's `autocommit_block()` and scripts' draining loops (`while True:` one batched
//! statement, `if result.rowcount <= 0: break`), as Prefect's migrations use them: the loop is
//! one statement the executor repeats until a pass changes no row; the block's statements run
//! outside the revision's transaction (`CREATE INDEX CONCURRENTLY` cannot run inside one), and
//! the `sql` script for PostgreSQL commits before them and begins again after, as Alembic's
//! offline mode writes it. Expected values follow from the scripts: every row the loop's
//! statement selects ends updated, however many batches that takes.

mod support;

use std::fs;
use std::path::Path;

use support::db::TestDb;

/// 1,234 tasks, none done; then a revision marks them done 500 at a time inside an autocommit
/// block, next to an index built concurrently on PostgreSQL (online only: the script skips
/// the loop offline).
fn project(dir: &Path) {
    project_with(dir, "not context.is_offline_mode()")
}

/// [`project`] whose loop runs under `guard` (a Python condition).
fn project_with(dir: &Path, guard: &str) {
    let versions = dir.join("versions");
    fs::create_dir_all(&versions).unwrap();
    fs::write(dir.join("env.py"), "").unwrap();
    fs::write(
        versions.join("a1_tasks.py"),
        "import sqlalchemy as sa\nfrom alembic import op\n\n\
         revision = 'a1'\ndown_revision = None\n\n\
         def upgrade():\n\
         \x20   op.create_table('tasks', sa.Column('id', sa.Integer, primary_key=True),\n\
         \x20                   sa.Column('done', sa.Boolean, nullable=True))\n\
         \x20   op.execute('WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1234) '\n\
         \x20              'INSERT INTO tasks (id) SELECT i FROM n')\n\n\
         def downgrade():\n    op.drop_table('tasks')\n",
    )
    .unwrap();
    fs::write(
        versions.join("b2_backfill.py"),
        format!("import sqlalchemy as sa\nfrom alembic import context, op\n\n\
         revision = 'b2'\ndown_revision = 'a1'\n\n\
         BATCH = 'UPDATE tasks SET done = true WHERE id IN (SELECT id FROM tasks WHERE done IS NULL LIMIT 500)'\n\n\
         def upgrade():\n\
         \x20   op.add_column('tasks', sa.Column('note', sa.String(20), nullable=True))\n\
         \x20   with op.get_context().autocommit_block():\n\
         \x20       if op.get_bind().dialect.name == 'postgresql':\n\
         \x20           op.execute('CREATE INDEX CONCURRENTLY ix_tasks_done ON tasks (done)')\n\
         \x20       else:\n\
         \x20           op.create_index('ix_tasks_done', 'tasks', ['done'])\n\
         \x20       if {guard}:\n\
         \x20           conn = op.get_bind()\n\
         \x20           while True:\n\
         \x20               result = conn.execute(sa.text(BATCH))\n\
         \x20               if result.rowcount <= 0:\n\
         \x20                   break\n\
         \x20   op.create_index('ix_tasks_note', 'tasks', ['note'])\n\n\
         def downgrade():\n    pass\n"),
    )
    .unwrap();
}

fn upgrade(dir: &Path, db: &TestDb) -> String {
    let out = support::mlflow_migrate()
        .arg("--scripts")
        .arg(dir)
        .args(["upgrade", &db.our_url()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    // The progress table and the summary are on stderr.
    stderr
}

fn one(db: &TestDb, sql: &str) -> String {
    db.run_sql_script(sql).unwrap().trim().to_string()
}

#[test]
fn a_draining_loop_runs_its_statement_until_no_row_is_left_on_sqlite() {
    let tmp = tempfile::tempdir().unwrap();
    project(tmp.path());
    let db = TestDb::sqlite();
    let report = upgrade(tmp.path(), &db);
    assert_eq!(
        one(&db, "SELECT count(*) FROM tasks WHERE done IS NULL;"),
        "0"
    );
    // A recursive common table expression makes rows of nothing: a fresh database replays
    // the revision rather than being created directly.
    assert_eq!(one(&db, "SELECT count(*) FROM tasks;"), "1234");
    assert!(
        report
            .lines()
            .any(|l| l.contains("UPDATE tasks") && l.contains("1234")),
        "the rows the repeated statement changed, over all its passes:\n{report}"
    );
    assert_eq!(one(&db, "SELECT version_num FROM alembic_version;"), "b2");
}

#[test]
fn an_autocommit_block_runs_outside_the_revision_transaction_on_postgresql() {
    let tmp = tempfile::tempdir().unwrap();
    project(tmp.path());
    let db = TestDb::postgres();
    upgrade(tmp.path(), &db);
    assert_eq!(one(&db, "SELECT count(*) FROM tasks;"), "1234");
    assert_eq!(
        one(&db, "SELECT count(*) FROM tasks WHERE done IS NULL;"),
        "0"
    );
    assert_eq!(
        one(
            &db,
            "SELECT indisvalid FROM pg_index WHERE indexrelid = 'ix_tasks_done'::regclass;"
        ),
        "t"
    );
    assert_eq!(one(&db, "SELECT version_num FROM alembic_version;"), "b2");

    // The script for later: COMMIT before the block, BEGIN after, so psql can run the
    // concurrent build; the loop is Python's own offline (the script skips it).
    let script = support::cli::succeeds(
        support::mlflow_migrate()
            .arg("--scripts")
            .arg(tmp.path())
            .args(["sql", "base:heads", "--dialect", "postgresql"]),
    );
    let block = script
        .find("COMMIT;\n\nCREATE INDEX CONCURRENTLY ix_tasks_done ON tasks (done);\n\nBEGIN;")
        .unwrap_or_else(|| panic!("{script}"));
    assert!(
        script[block..].contains("CREATE INDEX ix_tasks_note"),
        "{script}"
    );
    let fresh = TestDb::postgres();
    fresh
        .run_sql_script(&script)
        .unwrap_or_else(|e| panic!("psql refused the script: {e}\n{script}"));
    assert_eq!(
        one(&fresh, "SELECT version_num FROM alembic_version;"),
        "b2"
    );
}

#[test]
fn an_upgrade_stopped_after_any_statement_of_an_autocommit_block_resumes_on_postgresql() {
    let tmp = tempfile::tempdir().unwrap();
    project(tmp.path());
    let run = |db: &TestDb, fail_after: Option<usize>| {
        let mut cmd = support::mlflow_migrate();
        cmd.arg("--scripts")
            .arg(tmp.path())
            .args(["upgrade", "--replay", &db.our_url()]);
        if let Some(k) = fail_after {
            cmd.env(support::fault("ALEMBIC_ENGINE_FAIL_AFTER"), k.to_string());
        }
        cmd.output().unwrap()
    };
    let mut stopped = 0;
    for k in 1.. {
        let db = TestDb::postgres();
        if run(&db, Some(k)).status.success() {
            // Past the last statement: nothing left to stop after.
            break;
        }
        stopped += 1;
        let resumed = run(&db, None);
        assert!(
            resumed.status.success(),
            "stopped after statement {k}, the resume failed:\n{}",
            String::from_utf8_lossy(&resumed.stderr)
        );
        assert_eq!(one(&db, "SELECT count(*) FROM tasks;"), "1234", "after {k}");
        assert_eq!(
            one(&db, "SELECT count(*) FROM tasks WHERE done IS NULL;"),
            "0",
            "after {k}"
        );
        assert_eq!(
            one(
                &db,
                "SELECT indisvalid FROM pg_index WHERE indexrelid = 'ix_tasks_done'::regclass;"
            ),
            "t",
            "after {k}"
        );
        assert_eq!(one(&db, "SELECT version_num FROM alembic_version;"), "b2");
    }
    // a1's table, rows and version table; b2's column, index, loop, index and version row.
    assert!(stopped >= 8, "stopped after {stopped} statements only");
}

#[test]
fn a_draining_loop_in_the_sql_script_is_a_do_block_on_postgresql_and_refused_on_sqlite() {
    let tmp = tempfile::tempdir().unwrap();
    project_with(tmp.path(), "True");
    let sql = |dialect: &str| {
        support::mlflow_migrate()
            .arg("--scripts")
            .arg(tmp.path())
            .args(["sql", "base:heads", "--dialect", dialect])
            .output()
            .unwrap()
    };
    let script = String::from_utf8(sql("postgresql").stdout).unwrap();
    assert!(script.contains("DO $loop$"), "{script}");
    let db = TestDb::postgres();
    db.run_sql_script(&script)
        .unwrap_or_else(|e| panic!("psql refused the script: {e}\n{script}"));
    assert_eq!(one(&db, "SELECT count(*) FROM tasks;"), "1234");
    assert_eq!(
        one(&db, "SELECT count(*) FROM tasks WHERE done IS NULL;"),
        "0"
    );
    assert_eq!(one(&db, "SELECT version_num FROM alembic_version;"), "b2");

    // sqlite3 cannot loop: the revision is refused by name, where it reads the row count.
    let refused = sql("sqlite");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("b2_backfill.py") && stderr.contains("rowcount"),
        "{stderr}"
    );
}
