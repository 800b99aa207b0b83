//! The operator's answers (issue "operator-proof"): folders without revisions refused,
//! read-only commands that create nothing, `status` during a run, `check`'s exit codes, JSON
//! on every command, Ctrl-C, `-q`, the finished display, the URL from the environment,
//! `downgrade -1`, help texts, and journal pruning.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use support::cli::{assert_matches_head, head, migrate, ok, run, JOURNAL};
use support::db::{Dialect, TestDb};
use support::reference_db::{mlflow_chain, Project};

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn sqlite3(db: &TestDb, sql: &str) -> String {
    db.run_sql_script(sql).unwrap()
}

/// `mlflow-migrate --scripts DIR ARGS` for a generic Alembic project.
fn generic(dir: &std::path::Path, args: &[&str]) -> Output {
    support::mlflow_migrate()
        .arg("--scripts")
        .arg(dir)
        .args(args)
        .output()
        .unwrap()
}

// ---- a folder with no revisions -------------------------------------------------------------

#[test]
fn a_folder_without_revisions_is_an_error_naming_it_and_what_was_expected() {
    let empty = tempfile::tempdir().unwrap();
    let db = empty.path().join("never.db");
    let url = format!("sqlite:///{}", db.display());
    for args in [vec!["heads"], vec!["upgrade", &url]] {
        let out = generic(empty.path(), &args);
        let (_, err) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains(&empty.path().display().to_string())
                && err.contains("alembic.ini")
                && err.contains("env.py"),
            "{args:?}: {err}"
        );
    }
    assert!(!db.exists(), "a refused upgrade created the database file");
    // An Alembic folder whose versions/ is empty.
    std::fs::write(empty.path().join("env.py"), "").unwrap();
    std::fs::create_dir(empty.path().join("versions")).unwrap();
    let (_, err) = text(&generic(empty.path(), &["heads"]));
    assert!(err.contains("no revision scripts in"), "{err}");
    // MLflow's package root and its versions/ folder given as --scripts.
    let package = support::site_packages().join("mlflow");
    let versions = support::mlflow_scripts_dir().join("versions");
    for dir in [package, versions] {
        let out = support::mlflow_migrate()
            .args(["--project", "mlflow", "--scripts"])
            .arg(&dir)
            .arg("heads")
            .output()
            .unwrap();
        let (stdout, err) = text(&out);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}: {stdout}{err}",
            dir.display()
        );
        assert!(err.contains(&dir.display().to_string()), "{err}");
    }
}

// ---- read-only commands ---------------------------------------------------------------------

#[test]
fn read_only_commands_on_a_missing_sqlite_file_fail_and_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mistyped.db");
    let url = format!("sqlite:///{}", path.display());
    for (args, code) in [
        (vec!["current", &url], 1),
        (vec!["status", &url], 1),
        (vec!["check", &url], 3),
    ] {
        let out = run(&args);
        let (_, err) = text(&out);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
        assert!(err.contains("no SQLite database at"), "{args:?}: {err}");
    }
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "files were created: {left:?}");
}

// ---- status and the lock --------------------------------------------------------------------

/// Hold `db`'s upgrade lock the way a running upgrader does (through the library), run `f`,
/// release.
fn holding_the_lock(db: &TestDb, f: impl FnOnce()) {
    use alembic_engine::db::{Conn, DbUrl, Lock};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let url = DbUrl::parse(&db.our_url()).unwrap();
    let (mut conn, lock) = rt.block_on(async {
        let mut conn = Conn::connect(&url).await.unwrap();
        let lock = Lock::acquire(
            &mut conn,
            &url,
            "alembic_version",
            std::time::Duration::from_secs(5),
        )
        .await
        .unwrap();
        (conn, lock)
    });
    f();
    rt.block_on(async {
        lock.release(&mut conn).await;
        conn.close().await;
    });
}

fn status_while_another_upgrader_runs(dialect: Dialect) {
    let db = TestDb::new(dialect);
    // A run that died after 60 statements: interrupted while nobody holds the lock.
    let crashed = migrate(&["upgrade", "--quiet", "--replay", &db.our_url()])
        .env(support::fault("ALEMBIC_ENGINE_FAIL_AFTER"), "60")
        .output()
        .unwrap();
    assert!(!crashed.status.success());
    let (stdout, _) = text(&run(&["status", &db.our_url()]));
    assert!(stdout.contains("interrupted"), "{stdout}");
    holding_the_lock(&db, || {
        let out = run(&["--format", "json", "status", &db.our_url()]);
        ok(&out);
        let status: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(status["last_run"]["state"], "running", "{status}");
        assert!(status["lock_holder"]["who"].is_string(), "{status}");
        let (stdout, _) = text(&run(&["status", &db.our_url()]));
        assert!(
            stdout.contains("running now") && stdout.contains("holds the lock"),
            "{stdout}"
        );
        // A second upgrader says it waits, and for whom, then gives up.
        let waiting = run(&["upgrade", "--lock-timeout", "1", &db.our_url()]);
        let (_, err) = text(&waiting);
        assert_eq!(waiting.status.code(), Some(1), "{err}");
        assert!(
            err.contains("waiting up to 1 s for the upgrade lock, held by"),
            "{err}"
        );
        // The wait is said rounded, with what to do.
        assert!(
            err.contains("within 1.") && err.contains(" s (wait longer with --lock-timeout"),
            "{err}"
        );
        if dialect != Dialect::Sqlite {
            // The server names the holding session.
            assert!(
                err.contains("held by pid") || err.contains("held by connection"),
                "{err}"
            );
        }
    });
    // Started time, direction, revisions done and remaining.
    let out = run(&["--format", "json", "status", &db.our_url()]);
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    let last = &status["last_run"];
    assert_eq!(last["state"], "interrupted", "{status}");
    assert_eq!(last["direction"], "up");
    let started = last["started_at"].as_str().unwrap();
    assert!(
        started.len() == 23 && started.ends_with(" UTC") && started.starts_with("20"),
        "{started}"
    );
    let planned = last["planned"].as_array().unwrap().len();
    let done = last["done"].as_array().unwrap().len();
    let remaining = last["remaining"].as_array().unwrap().len();
    assert_eq!(planned, mlflow_chain(Project::Mlflow).len());
    assert_eq!(done + remaining, planned);
    assert!(done >= 1 && remaining >= 1, "{status}");
    // The version row says how far the committed revisions went: on SQLite and PostgreSQL
    // exactly the done revisions (each revision commits whole).
    if dialect != Dialect::MariaDb {
        let current = status["current"][0]["revision"].as_str().unwrap();
        assert_eq!(last["done"][done - 1], current, "{status}");
    }
}

#[test]
fn status_during_a_held_lock_says_running_on_sqlite() {
    status_while_another_upgrader_runs(Dialect::Sqlite);
}

#[test]
fn status_during_a_held_lock_says_running_on_postgres() {
    status_while_another_upgrader_runs(Dialect::Postgres);
}

#[test]
fn status_during_a_held_lock_says_running_on_mariadb() {
    status_while_another_upgrader_runs(Dialect::MariaDb);
}

// ---- check ----------------------------------------------------------------------------------

#[test]
fn check_returns_each_of_its_exit_codes() {
    let chain = mlflow_chain(Project::Mlflow);
    let middle = &chain[30];
    let db = TestDb::sqlite();
    ok(&run(&["upgrade", "--quiet", &db.our_url(), middle]));
    // 1: behind, with the revisions to apply and their messages.
    let behind = run(&["check", &db.our_url()]);
    let (stdout, _) = text(&behind);
    assert_eq!(behind.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&chain[31]) && stdout.contains(&head()),
        "{stdout}"
    );
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("  ")).count(),
        chain.len() - 31
    );
    // 0: at the target.
    assert_eq!(
        run(&["check", &db.our_url(), middle]).status.code(),
        Some(0)
    );
    // 2: ahead of the target.
    let ahead = run(&["check", &db.our_url(), &chain[10]]);
    assert_eq!(ahead.status.code(), Some(2), "{:?}", text(&ahead));
    assert!(text(&ahead).0.contains("ahead"));
    // 3: cannot tell — an unreachable server, an unknown revision in the table.
    let unreachable = run(&["check", "postgresql://postgres@127.0.0.1:1/nothing"]);
    assert_eq!(
        unreachable.status.code(),
        Some(3),
        "{:?}",
        text(&unreachable)
    );
    sqlite3(
        &db,
        "UPDATE alembic_version SET version_num = 'feedfacecafe';",
    );
    let unknown = run(&["check", &db.our_url()]);
    assert_eq!(unknown.status.code(), Some(3));
    assert!(text(&unknown).1.contains("feedfacecafe"));
}

#[test]
fn check_says_2_for_a_database_on_another_branch() {
    let project = support::fixture("branches_merges");
    let db = TestDb::sqlite();
    ok(&generic(
        &project,
        &["upgrade", &db.our_url(), "25b12d513407"],
    ));
    let out = generic(&project, &["check", &db.our_url(), "76118253df59"]);
    assert_eq!(out.status.code(), Some(2), "{:?}", text(&out));
    assert!(text(&out).0.contains("another branch"));
    let out = generic(
        &project,
        &["--format", "json", "check", &db.our_url(), "heads"],
    );
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["position"], "behind");
    assert_eq!(v["pending"][0]["revision"], "76118253df59");
}

// ---- JSON everywhere -------------------------------------------------------------------------

fn json_of(args: &[&str]) -> Value {
    let out = run(&[&["--format", "json"], args].concat());
    ok(&out);
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", text(&out).0))
}

fn assert_revision_object(v: &Value) {
    for key in [
        "revision",
        "down_revisions",
        "depends_on",
        "branch_labels",
        "doc",
        "is_head",
        "is_branch_point",
        "is_merge_point",
        "path",
    ] {
        assert!(v.get(key).is_some(), "no {key} in {v}");
    }
}

#[test]
fn every_command_speaks_json_in_its_documented_shape() {
    let db = TestDb::sqlite();
    let url = db.our_url();
    let chain = mlflow_chain(Project::Mlflow);
    // upgrade: one object per line, each an event, the last a summary (revision by
    // revision: an empty database is otherwise installed at once).
    let out = run(&["--format", "json", "upgrade", "--replay", &url]);
    ok(&out);
    let events: Vec<Value> = text(&out)
        .0
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(events.iter().all(|e| e["event"].is_string()));
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    for kind in [
        "locked",
        "planned",
        "step",
        "statement",
        "committed",
        "summary",
    ] {
        assert!(kinds.contains(&kind), "no {kind} event in {kinds:?}");
    }
    let summary = events.last().unwrap();
    assert_eq!(summary["event"], "summary");
    assert_eq!(summary["after"][0], head().as_str());
    // Every revision ran: alone, or in a unit with those an optimisation fused to it.
    assert_eq!(
        support::cli::revisions_covered(&summary["revisions"]),
        chain.len()
    );
    for r in summary["revisions"].as_array().unwrap() {
        for key in [
            "revision",
            "direction",
            "message",
            "statements",
            "rows",
            "seconds",
        ] {
            assert!(r.get(key).is_some(), "no {key} in {r}");
        }
    }
    // current: revision objects, like heads.
    let current = json_of(&["current", &url]);
    assert_eq!(current["current"].as_array().unwrap().len(), 1);
    assert_revision_object(&current["current"][0]);
    let heads = json_of(&["heads"]);
    assert_revision_object(&heads["heads"][0]);
    let status = json_of(&["status", &url]);
    assert_revision_object(&status["current"][0]);
    assert_eq!(status["last_run"]["state"], "completed");
    // check at the target.
    let check = json_of(&["check", &url]);
    assert_eq!(check["position"], "at_target");
    assert_eq!(check["pending"].as_array().unwrap().len(), 0);
    // downgrade, stamp, sql, history, show, path, branches, journal prune.
    let out = run(&["--format", "json", "downgrade", &url, "-1"]);
    ok(&out);
    let last: Value = serde_json::from_str(text(&out).0.lines().last().unwrap()).unwrap();
    assert_eq!(last["after"][0], chain[chain.len() - 2].as_str());
    assert_eq!(last["revisions"][0]["direction"], "down");
    let stamped = json_of(&["stamp", &url, &head()]);
    assert_eq!(stamped["stamped"][0]["revision"], head().as_str());
    let sql = json_of(&["sql", "base:heads", "--dialect", "sqlite"]);
    assert_eq!(sql["steps"].as_array().unwrap().len(), chain.len());
    assert!(sql["script"].as_str().unwrap().contains("CREATE TABLE"));
    assert!(!sql["steps"][0]["statements"].as_array().unwrap().is_empty());
    assert!(json_of(&["history"])["history"].as_array().unwrap().len() == chain.len());
    assert_revision_object(&json_of(&["show", "heads"])["revisions"][0]);
    assert_eq!(
        json_of(&["path", "base", "heads"])["steps"]
            .as_array()
            .unwrap()
            .len(),
        chain.len()
    );
    assert!(json_of(&["branches"])["branch_points"].is_array());
    let pruned = json_of(&["journal", "prune", &url, "--keep", "1"]);
    assert!(pruned["runs_removed"].as_u64().unwrap() >= 1, "{pruned}");
    // An error in JSON mode is a JSON object too.
    let out = run(&["--format", "json", "current", "sqlite:///does/not/exist.db"]);
    assert_eq!(out.status.code(), Some(1));
    let err: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(err["error"]
        .as_str()
        .unwrap()
        .contains("no SQLite database"));
}

// ---- the terminal ----------------------------------------------------------------------------

#[test]
fn quiet_prints_nothing_but_errors() {
    let db = TestDb::sqlite();
    let out = run(&["-q", "upgrade", &db.our_url()]);
    ok(&out);
    assert_eq!(text(&out), (String::new(), String::new()));
    let out = run(&["-q", "upgrade", &db.our_url(), "nonexistent"]);
    assert_eq!(out.status.code(), Some(1));
    let (stdout, err) = text(&out);
    assert!(stdout.is_empty() && err.contains("nonexistent"), "{err}");
}

#[test]
fn the_finished_display_lists_each_revision_with_counts_and_time() {
    let db = TestDb::sqlite();
    let out = run(&["upgrade", "--replay", &db.our_url()]);
    ok(&out);
    let (_, err) = text(&out);
    let chain = mlflow_chain(Project::Mlflow);
    let table: Vec<&str> = err
        .lines()
        .skip_while(|l| !l.starts_with("revision "))
        .skip(1)
        .take_while(|l| !l.starts_with("mlflow-migrate:"))
        .collect();
    // One line per unit: a revision alone, or the first of those an optimisation fused, which
    // says how many ran with it ("(+N revisions)").
    let mut at = 0;
    for line in &table {
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(fields[0], chain[at], "{line}");
        assert!(fields[1].parse::<usize>().is_ok(), "{line}");
        assert!(fields[2].parse::<u64>().is_ok(), "{line}");
        assert!(fields[3].ends_with('s'), "{line}");
        let fused = fields[4]
            .strip_prefix("(+")
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(0);
        at += 1 + fused;
    }
    assert_eq!(at, chain.len(), "{err}");
    assert!(!err.contains(JOURNAL), "bookkeeping shown: {err}");
    // A revision with a data statement counts its rows: 90e64c465722 copies user ids into
    // tags (none on an empty database) — the rows column is a count, the messages are there.
    assert!(err.contains("migrate user column to tags"), "{err}");
}

/// The terminal display under tmux at 80 columns: no line wider than the terminal.
/// Whether a line shows a step counter, `[k/N]`.
fn step_counter(line: &str) -> bool {
    line.split('[').any(|part| {
        part.split_once(']')
            .and_then(|(inner, _)| inner.split_once('/'))
            .is_some_and(|(k, n)| k.parse::<usize>().is_ok() && n.parse::<usize>().is_ok())
    })
}

#[test]
fn the_progress_bar_fits_80_columns() {
    let db = TestDb::sqlite();
    let session = format!("aet{}", std::process::id());
    let bin = env!("CARGO_BIN_EXE_mlflow-migrate");
    let scripts = support::mlflow_scripts_dir();
    let command = format!(
        "{bin} --project mlflow --scripts {} upgrade --replay {} ; sleep 30",
        scripts.display(),
        db.our_url()
    );
    let tmux = |args: &[&str]| Command::new("tmux").args(args).output().unwrap();
    let started = tmux(&[
        "new-session",
        "-d",
        "-s",
        &session,
        "-x",
        "80",
        "-y",
        "50",
        &command,
    ]);
    assert!(started.status.success(), "{:?}", text(&started));
    let mut seen = String::new();
    let mut bars = 0;
    for _ in 0..400 {
        std::thread::sleep(std::time::Duration::from_millis(20));
        let pane = tmux(&["capture-pane", "-p", "-t", &session]);
        seen = text(&pane).0;
        for line in seen.lines() {
            assert!(line.chars().count() <= 80, "wider than 80: {line:?}");
        }
        // The bar's line: elapsed time, the bar, statement n/N and the revision at work.
        bars += seen
            .lines()
            .filter(|l| l.starts_with("00:00:") && l.contains("] ") && step_counter(l))
            .count();
        if seen.contains(" -> ") && seen.contains("statement(s))") {
            break;
        }
    }
    tmux(&["kill-session", "-t", &session]);
    assert!(
        seen.contains("statement(s))"),
        "the upgrade did not finish:\n{seen}"
    );
    assert!(bars > 0, "no progress bar seen");
}

#[test]
fn ctrl_c_stops_after_the_current_checkpoint_and_says_how_to_resume() {
    let db = TestDb::sqlite();
    let mut child = migrate(&["upgrade", "--replay", &db.our_url()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let mut seen = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        seen += &line;
        seen.push('\n');
        if line.starts_with("[10/") {
            let kill = Command::new("kill")
                .args(["-INT", &child.id().to_string()])
                .status()
                .unwrap();
            assert!(kill.success());
            break;
        }
    }
    for line in lines {
        seen += &line.unwrap();
        seen.push('\n');
    }
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{seen}");
    assert!(
        seen.contains("stopping after the current checkpoint"),
        "{seen}"
    );
    assert!(
        seen.contains("stopped on request") && seen.contains("run the same command again"),
        "{seen}"
    );
    let at = sqlite3(&db, "SELECT version_num FROM alembic_version;");
    let chain = mlflow_chain(Project::Mlflow);
    let index = chain.iter().position(|r| r == at.trim()).unwrap();
    assert!((9..chain.len() - 1).contains(&index), "stopped at {at}");
    let (stdout, _) = text(&run(&["status", &db.our_url()]));
    assert!(stdout.contains("stopped on request"), "{stdout}");
    ok(&run(&["upgrade", "--quiet", &db.our_url()]));
    assert_matches_head(&db, Dialect::Sqlite, "resumed after Ctrl-C");
}

// ---- the environment, downgrade -1, help ------------------------------------------------------

#[test]
fn the_url_comes_from_the_environment_when_not_given() {
    let db = TestDb::sqlite();
    let chain = mlflow_chain(Project::Mlflow);
    let out = migrate(&["upgrade", &chain[3]])
        .env("MLFLOW_BACKEND_STORE_URI", db.our_url())
        .env("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/wrong")
        .output()
        .unwrap();
    ok(&out);
    assert!(
        text(&out).1.contains("MLFLOW_BACKEND_STORE_URI"),
        "{:?}",
        text(&out)
    );
    let out = migrate(&["current"])
        .env_remove("MLFLOW_BACKEND_STORE_URI")
        .env("DATABASE_URL", db.our_url())
        .output()
        .unwrap();
    ok(&out);
    let (stdout, err) = text(&out);
    assert!(
        stdout.contains(&chain[3]) && err.contains("DATABASE_URL"),
        "{stdout}{err}"
    );
    let out = migrate(&["current"])
        .env_remove("MLFLOW_BACKEND_STORE_URI")
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).1.contains("MLFLOW_BACKEND_STORE_URI"));
}

#[test]
fn downgrade_minus_one_goes_one_revision_down() {
    let db = TestDb::sqlite();
    let chain = mlflow_chain(Project::Mlflow);
    ok(&run(&["upgrade", "--quiet", &db.our_url()]));
    ok(&run(&["downgrade", "--quiet", &db.our_url(), "-1"]));
    assert_eq!(
        sqlite3(&db, "SELECT version_num FROM alembic_version;").trim(),
        chain[chain.len() - 2]
    );
}

#[test]
fn help_describes_urls_and_targets_and_only_the_options_that_apply() {
    let help = |cmd: &str| text(&run(&[cmd, "--help"])).0;
    let upgrade = help("upgrade");
    assert!(upgrade.contains("sqlite:///") && upgrade.contains("MLFLOW_BACKEND_STORE_URI"));
    assert!(upgrade.contains("label@head") && upgrade.contains("+N"));
    let current = help("current");
    assert!(!current.contains("--lock-timeout") && !current.contains("--transaction"));
    assert!(!help("sql").contains("--lock-timeout"));
    assert!(help("check").contains("3 cannot tell") || help("check").contains("3"));
}

// ---- the journal ------------------------------------------------------------------------------

#[test]
fn journal_prune_keeps_the_newest_runs_and_an_unfinished_one() {
    let db = TestDb::sqlite();
    let chain = mlflow_chain(Project::Mlflow);
    for target in [&chain[5], &chain[10], &chain[15]] {
        ok(&run(&["upgrade", "--quiet", &db.our_url(), target]));
    }
    let runs = |db: &TestDb| {
        sqlite3(
            db,
            &format!("SELECT COUNT(DISTINCT run_id) FROM {JOURNAL};"),
        )
        .trim()
        .parse::<usize>()
        .unwrap()
    };
    assert_eq!(runs(&db), 3);
    let newest = sqlite3(
        &db,
        &format!("SELECT run_id FROM {JOURNAL} ORDER BY at DESC, seq DESC LIMIT 1;"),
    );
    let out = run(&["journal", "prune", &db.our_url(), "--keep", "1"]);
    ok(&out);
    assert!(
        text(&out).0.contains("removed 2 run(s)"),
        "{:?}",
        text(&out)
    );
    assert_eq!(runs(&db), 1);
    assert_eq!(
        sqlite3(&db, &format!("SELECT DISTINCT run_id FROM {JOURNAL};")),
        newest
    );
    // An interrupted run is what a resume reads: --keep 0 keeps it.
    let crashed = migrate(&["upgrade", "--quiet", "--replay", &db.our_url()])
        .env(support::fault("ALEMBIC_ENGINE_FAIL_AFTER"), "20")
        .output()
        .unwrap();
    assert!(!crashed.status.success());
    ok(&run(&["journal", "prune", &db.our_url(), "--keep", "0"]));
    assert_eq!(runs(&db), 1);
    ok(&run(&["upgrade", "--quiet", &db.our_url()]));
    assert_matches_head(&db, Dialect::Sqlite, "after pruning");
}

// ---- history against the database -------------------------------------------------------------

#[test]
fn history_with_a_database_marks_applied_current_and_pending_revisions() {
    let chain = mlflow_chain(Project::Mlflow);
    // Python Alembic applied the first six revisions; we apply the next five.
    let db = support::reference_db::reference_at(Dialect::Sqlite, Project::Mlflow, &chain[5]);
    ok(&run(&["upgrade", "--quiet", &db.our_url(), &chain[10]]));
    let status = json_of(&["status", &db.our_url()]);
    let run_id = status["last_run"]["run_id"].as_str().unwrap().to_string();
    let history = json_of(&["history", &db.our_url()]);
    let list = history["history"].as_array().unwrap();
    assert_eq!(list.len(), chain.len());
    for entry in list {
        let id = entry["revision"].as_str().unwrap();
        let i = chain.iter().position(|c| c == id).unwrap();
        let expected = match i {
            10 => "current",
            0..=9 => "applied",
            _ => "pending",
        };
        assert_eq!(entry["state"], expected, "{id}");
        match i {
            6..=10 => assert_eq!(entry["applied"]["run_id"], run_id.as_str(), "{id}"),
            _ => assert!(entry["applied"].is_null(), "{id}: {entry}"),
        }
    }
    let (stdout, _) = text(&run(&["history", &db.our_url()]));
    let line = |rev: &str| {
        stdout
            .lines()
            .find(|l| l.contains(&format!("-> {rev},")))
            .unwrap()
            .to_string()
    };
    assert!(line(&chain[3]).ends_with("[applied (not by mlflow-migrate)]"));
    assert!(line(&chain[8]).contains(&format!("by run {run_id}")));
    assert!(line(&chain[10]).contains("[current, applied"));
    assert!(line(&chain[20]).ends_with("[pending]"));
}

// ---- MLflow releases ---------------------------------------------------------------------------

#[test]
fn mlflow_version_targets_resolve_to_the_release_head_and_check_answers_for_a_server() {
    let db = TestDb::sqlite();
    // MLflow 2.9.2 ships acf3f17fdcc7 (its wheel's head; tests/releases.rs reads the wheel).
    ok(&run(&[
        "upgrade",
        "--quiet",
        &db.our_url(),
        "--mlflow-version",
        "2.9.2",
    ]));
    assert_eq!(
        sqlite3(&db, "SELECT version_num FROM alembic_version;").trim(),
        "acf3f17fdcc7"
    );
    let (stdout, _) = text(&run(&["current", &db.our_url()]));
    assert!(
        stdout.contains("schema of: MLflow 2.8.0 – 2.12.2"),
        "{stdout}"
    );
    assert_eq!(
        run(&["check", &db.our_url(), "--mlflow-version", "2.9.2"])
            .status
            .code(),
        Some(0)
    );
    // The reference's own server (3.17.2) refuses this database: check says 1, and agrees
    // with MLflow's schema check.
    let verify = |db: &TestDb| {
        Command::new(support::ref_python())
            .args([
                "-c",
                "import sys, sqlalchemy; from mlflow.store.db.utils import _verify_schema; \
                 _verify_schema(sqlalchemy.create_engine(sys.argv[1]))",
            ])
            .arg(db.sqlalchemy_url())
            .output()
            .unwrap()
            .status
            .success()
    };
    let behind = run(&["check", &db.our_url(), "--mlflow-version", "3.17.2"]);
    assert_eq!(behind.status.code(), Some(1), "{:?}", text(&behind));
    assert!(text(&behind).0.contains("does not start"));
    assert!(!verify(&db));
    // An older release's server does not start on the newer schema either.
    assert_eq!(
        run(&["check", &db.our_url(), "--mlflow-version", "2.5.0"])
            .status
            .code(),
        Some(2)
    );
    ok(&run(&[
        "upgrade",
        "--quiet",
        &db.our_url(),
        "--mlflow-version",
        "3.17.2",
    ]));
    assert_eq!(
        run(&["check", &db.our_url(), "--mlflow-version", "3.17.2"])
            .status
            .code(),
        Some(0)
    );
    assert!(verify(&db));
    // An unknown release is a clear error: 3 for check, 1 for upgrade, nothing changed.
    let unknown = run(&["check", &db.our_url(), "--mlflow-version", "9.9.9"]);
    assert_eq!(unknown.status.code(), Some(3));
    assert!(text(&unknown).1.contains("9.9.9"));
    let unknown = run(&["upgrade", &db.our_url(), "--mlflow-version", "9.9.9"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert_eq!(
        sqlite3(&db, "SELECT version_num FROM alembic_version;").trim(),
        head()
    );
}
