//! A populated MLflow SQLite database upgraded from the base revision to the head, by
//! `mlflow-migrate` and by `mlflow db upgrade`, timed side by side with their peak resident
//! memory (both measured by `/usr/bin/time`, as a user would).
//!
//! `cargo bench --bench populated_upgrade` builds, for each size in `$METRICS` (default
//! `100000,1000000`), a database with MLflow's initial tables at `451aebb31d03` filled by
//! `tests/support/populate.py` (the generator the data tests use), copies it, and upgrades one
//! copy with the release binary and the other with MLflow 3.17.2 from the reference virtualenv
//! (`target/ref-venv`, created by the test suite: run `cargo test --test data_conformance`
//! once first). `$SKIP_PYTHON=1` times only ours — MLflow needs about 15 minutes at 1M metrics
//! on this machine. The last lines are a table for the README. The bench fails when our peak
//! RSS is over 40 MB at any size, or when `plan`'s estimate for the upgrade is not within 2×
//! of its measured time at 1M metrics or more (below that, fixed costs dominate).

use std::path::{Path, PathBuf};
use std::process::Command;

/// Peak resident memory `mlflow-migrate` may use, whatever the size of the database.
const RSS_GOAL_MB: f64 = 40.0;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn python() -> PathBuf {
    let p = repo().join("target/ref-venv/bin/python");
    assert!(
        p.exists(),
        "no reference virtualenv at {}: run `cargo test --test data_conformance` once first",
        p.display()
    );
    p
}

fn sh(cmd: &mut Command, what: &str) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot {what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A base-revision database holding `metrics` metric rows (and the rest of populate.py).
fn build(dir: &Path, metrics: usize) -> PathBuf {
    let db = dir.join(format!("base-{metrics}.db"));
    let url = format!("sqlite:///{}", db.display());
    let script = format!(
        "import sys\n\
         sys.path.insert(0, {support:?})\n\
         import reference, populate\n\
         reference.build({url:?}, 'mlflow', {scripts:?}, '451aebb31d03')\n\
         print(populate.populate({url:?}, {metrics}), file=sys.stderr)\n",
        support = repo().join("tests/support").display().to_string(),
        scripts = scripts_dir().display().to_string(),
    );
    sh(
        Command::new(python()).arg("-c").arg(script),
        "build the populated database",
    );
    db
}

fn scripts_dir() -> PathBuf {
    let out = Command::new(python())
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        ])
        .output()
        .expect("ask the reference python for its site-packages");
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join("mlflow/store/db_migrations")
}

/// (seconds, peak RSS in MB) of `cmd`, by /usr/bin/time.
fn timed(program: &Path, args: &[&str], what: &str) -> (f64, f64) {
    let err = sh(
        Command::new("/usr/bin/time")
            .args(["-f", "TIMED %e %M"])
            .arg(program)
            .args(args),
        what,
    );
    let line = err
        .lines()
        .rev()
        .find(|l| l.starts_with("TIMED "))
        .unwrap_or_else(|| panic!("no /usr/bin/time line from {what}:\n{err}"));
    let mut f = line[6..].split_whitespace();
    let secs: f64 = f.next().unwrap().parse().unwrap();
    let kb: f64 = f.next().unwrap().parse().unwrap();
    (secs, kb / 1024.0)
}

/// The upgrade's estimated seconds, as `plan --format json` gives them.
fn plan_estimate(program: &Path, url: &str) -> f64 {
    let out = Command::new(program)
        .args(["--quiet", "--format", "json", "plan", url])
        .output()
        .expect("mlflow-migrate plan runs");
    assert!(
        out.status.success(),
        "plan failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).expect("plan prints JSON");
    plan["estimate_seconds"]
        .as_f64()
        .expect("plan gives estimate_seconds")
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is not used here.
    let sizes: Vec<usize> = std::env::var("METRICS")
        .unwrap_or_else(|_| "100000,1000000".into())
        .split(',')
        .map(|s| s.trim().parse().expect("METRICS: comma-separated counts"))
        .collect();
    let skip_python = std::env::var("SKIP_PYTHON").is_ok_and(|v| v == "1");
    let ours = PathBuf::from(env!("CARGO_BIN_EXE_mlflow-migrate"));
    let mlflow = python().with_file_name("mlflow");
    let dir = tempfile::tempdir_in(repo().join("target")).unwrap();
    let mut table = Vec::new();
    for &n in &sizes {
        let base = build(dir.path(), n);
        let a = dir.path().join(format!("ours-{n}.db"));
        let b = dir.path().join(format!("mlflow-{n}.db"));
        std::fs::copy(&base, &a).unwrap();
        std::fs::copy(&base, &b).unwrap();
        let url_a = format!("sqlite:///{}", a.display());
        let estimate = plan_estimate(&ours, &url_a);
        let (s, mb) = timed(
            &ours,
            &["upgrade", "--quiet", "--no-backup", &url_a],
            "mlflow-migrate upgrade",
        );
        println!(
            "{n} metrics: mlflow-migrate {s:.1} s (plan estimated {estimate:.1} s), peak RSS {mb:.1} MB"
        );
        if n >= 1_000_000 {
            let ratio = s / estimate;
            assert!(
                (0.5..=2.0).contains(&ratio),
                "{n} metrics: plan estimated {estimate:.1} s, the upgrade took {s:.1} s ({ratio:.2}×)"
            );
        }
        // The goal: memory does not grow with the database.
        assert!(
            mb <= RSS_GOAL_MB,
            "{n} metrics: peak RSS {mb:.1} MB is over the {RSS_GOAL_MB} MB goal"
        );
        let theirs = if skip_python {
            None
        } else {
            let url_b = format!("sqlite:///{}", b.display());
            let t = timed(&mlflow, &["db", "upgrade", &url_b], "mlflow db upgrade");
            println!(
                "{n} metrics: mlflow db upgrade {:.1} s, peak RSS {:.1} MB",
                t.0, t.1
            );
            Some(t)
        };
        table.push((n, (s, mb), estimate, theirs));
    }
    println!();
    println!(
        "| metrics | mlflow-migrate | plan's estimate | peak RSS | mlflow db upgrade | peak RSS |"
    );
    println!("|---|---|---|---|---|---|");
    for (n, (s, mb), estimate, theirs) in table {
        let (ts, tmb) = theirs
            .map(|(a, b)| (format!("{a:.1} s"), format!("{b:.0} MB")))
            .unwrap_or(("-".into(), "-".into()));
        println!("| {n} | {s:.1} s | {estimate:.1} s | {mb:.1} MB | {ts} | {tmb} |");
    }
}
