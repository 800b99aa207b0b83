//! A populated MLflow database upgraded from the base revision to the head, by
//! `mlflow-migrate` and by `mlflow db upgrade`, timed side by side with their peak resident
//! memory (both measured by `/usr/bin/time`, as a user would).
//!
//! `cargo bench --bench populated_upgrade` builds, for each database in `$DATABASES` (default
//! `sqlite`; also `postgresql` and `mariadb`, the local servers the tests use) and each size
//! in `$METRICS` (default `100000,1000000`), a database with MLflow's initial tables at
//! `451aebb31d03` filled by `tests/support/populate.py` (the generator the data tests use),
//! copies it, and upgrades one copy with the release binary and the other with MLflow 3.17.2
//! from the reference virtualenv (`target/ref-venv`, created by the test suite: run `cargo
//! test --test data_conformance` once first). Before the populated sizes, an empty database
//! is upgraded `$EMPTY_RUNS` times (default 5) by each — ours installed directly and with
//! `--replay`, and MLflow's — alternating, and the medians kept (goals: SQLite 0.08 s,
//! PostgreSQL 0.2 s, MariaDB 0.4 s);
//! `$OURS_ONLY_METRICS` (say `10000000`) adds SQLite sizes for mlflow-migrate alone, and the
//! bench then fails if 10× the rows took over 10× the time. It prints the machine it ran on.
//! `$SKIP_PYTHON=1` times only ours — MLflow needs
//! about 3 minutes at 1M metrics on SQLite and 6 on MariaDB on this machine. The last lines
//! are a table for the README. The bench fails when our peak RSS is over 40 MB at any size,
//! or when `plan`'s estimate for the upgrade is not within 2× of its measured time at 1M
//! metrics or more (below that, fixed costs dominate).

use std::path::{Path, PathBuf};
use std::process::Command;

/// Peak resident memory `mlflow-migrate` may use, whatever the size of the database.
const RSS_GOAL_MB: f64 = 40.0;

/// Seconds an empty database may take to reach the head (installed directly), end to end.
fn empty_goal(kind: &str) -> f64 {
    match kind {
        "sqlite" => 0.08,
        "postgresql" => 0.2,
        _ => 0.4,
    }
}

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

/// A database of one kind, named for the bench: its URL for us and for SQLAlchemy.
struct BenchDb {
    kind: &'static str,
    name: String,
    ours: String,
    sqlalchemy: String,
}

impl BenchDb {
    fn new(kind: &'static str, dir: &Path, name: &str) -> BenchDb {
        let (ours, sqlalchemy) = match kind {
            "sqlite" => {
                let url = format!("sqlite:///{}", dir.join(format!("{name}.db")).display());
                (url.clone(), url)
            }
            "postgresql" => (
                format!("postgresql://postgres@127.0.0.1:5432/{name}"),
                format!("postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"),
            ),
            "mariadb" => (
                format!("mysql://root@127.0.0.1:3306/{name}"),
                format!("mysql+pymysql://root@127.0.0.1:3306/{name}?charset=utf8mb4"),
            ),
            other => panic!("DATABASES: unknown kind '{other}' (sqlite, postgresql, mariadb)"),
        };
        let db = BenchDb {
            kind,
            name: name.to_string(),
            ours,
            sqlalchemy,
        };
        db.drop();
        match kind {
            "postgresql" => db.psql(&format!("CREATE DATABASE {name}")),
            "mariadb" => db.mysql(&format!("CREATE DATABASE {name} CHARACTER SET utf8mb4")),
            _ => {}
        }
        db
    }

    fn psql(&self, sql: &str) {
        sh(
            Command::new("psql")
                .args([
                    "-h",
                    "127.0.0.1",
                    "-U",
                    "postgres",
                    "-q",
                    "-v",
                    "ON_ERROR_STOP=1",
                ])
                .args(["-d", "postgres", "-c", sql]),
            sql,
        );
    }

    fn mysql(&self, sql: &str) {
        sh(
            Command::new("mysql").args(["-h127.0.0.1", "-uroot", "-e", sql]),
            sql,
        );
    }

    /// A copy of this database named `name`.
    fn copy(&self, dir: &Path, name: &str) -> BenchDb {
        let copy = BenchDb::new(self.kind, dir, name);
        match self.kind {
            "sqlite" => {
                let path = |db: &BenchDb| PathBuf::from(db.ours.trim_start_matches("sqlite:///"));
                std::fs::copy(path(self), path(&copy)).unwrap();
            }
            "postgresql" => {
                copy.drop();
                self.psql(&format!("CREATE DATABASE {name} TEMPLATE {}", self.name));
            }
            _ => {
                let script = format!(
                    "set -o pipefail; mariadb-dump -h127.0.0.1 -uroot --single-transaction {} | mysql -h127.0.0.1 -uroot {name}",
                    self.name
                );
                sh(
                    Command::new("bash").args(["-c", &script]),
                    "copy the database",
                );
            }
        }
        copy
    }

    fn drop(&self) {
        match self.kind {
            "postgresql" => self.psql(&format!("DROP DATABASE IF EXISTS {}", self.name)),
            "mariadb" => self.mysql(&format!("DROP DATABASE IF EXISTS {}", self.name)),
            _ => {}
        }
    }
}

/// A base-revision database holding `metrics` metric rows (and the rest of populate.py).
fn build(kind: &'static str, dir: &Path, metrics: usize) -> BenchDb {
    let db = BenchDb::new(kind, dir, &format!("bench_base_{metrics}"));
    let url = &db.sqlalchemy;
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

/// `$NAME` as a comma-separated list of counts (empty when unset and no default).
fn counts(name: &str, default: &str) -> Vec<usize> {
    std::env::var(name)
        .unwrap_or_else(|_| default.into())
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().parse().expect("comma-separated counts"))
        .collect()
}

/// The machine the numbers come from: CPU model and count, memory, kernel.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|m| m.trim_start_matches([' ', '\t', ':']))
        })
        .unwrap_or("unknown CPU")
        .to_string();
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_gb = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0 / 1024.0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!("{cpus} × {model}, {mem_gb:.0} GB, Linux {}", kernel.trim())
}

/// The goal: memory does not grow with the database.
fn check_rss(what: &str, mb: f64, misses: &mut Vec<String>) {
    if mb > RSS_GOAL_MB {
        misses.push(format!(
            "{what}: peak RSS {mb:.1} MB is over the {RSS_GOAL_MB} MB goal"
        ));
    }
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    xs[xs.len() / 2]
}

/// One row of the table: (seconds, peak MB) for ours, plan's estimate, and MLflow's.
struct Cell {
    kind: &'static str,
    what: String,
    ours: (f64, f64),
    estimate: Option<f64>,
    theirs: Option<(f64, f64)>,
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is not used here.
    let sizes = counts("METRICS", "100000,1000000");
    // Sizes run by mlflow-migrate alone on SQLite (MLflow would need hours): `10000000`.
    let ours_only = counts("OURS_ONLY_METRICS", "");
    let empty_runs = counts("EMPTY_RUNS", "5").first().copied().unwrap_or(0);
    let kinds: Vec<&'static str> = std::env::var("DATABASES")
        .unwrap_or_else(|_| "sqlite".into())
        .split(',')
        .map(|k| match k.trim() {
            "sqlite" => "sqlite",
            "postgresql" => "postgresql",
            "mariadb" => "mariadb",
            other => panic!("DATABASES: unknown kind '{other}' (sqlite, postgresql, mariadb)"),
        })
        .collect();
    let skip_python = std::env::var("SKIP_PYTHON").is_ok_and(|v| v == "1");
    let ours = PathBuf::from(env!("CARGO_BIN_EXE_mlflow-migrate"));
    let mlflow = python().with_file_name("mlflow");
    let dir = tempfile::tempdir_in(repo().join("target")).unwrap();
    let mut table: Vec<Cell> = Vec::new();
    let mut misses = Vec::new();
    for &kind in &kinds {
        // Empty → head, alternating ours and MLflow's on fresh databases; medians.
        if empty_runs > 0 {
            let (mut us, mut replayed, mut them) = (Vec::new(), Vec::new(), Vec::new());
            for run in 0..empty_runs {
                let a = BenchDb::new(kind, dir.path(), &format!("bench_empty_ours_{run}"));
                us.push(timed(
                    &ours,
                    &["upgrade", "--quiet", "--no-backup", &a.ours],
                    "mlflow-migrate upgrade",
                ));
                a.drop();
                let r = BenchDb::new(kind, dir.path(), &format!("bench_empty_replay_{run}"));
                replayed.push(timed(
                    &ours,
                    &["upgrade", "--quiet", "--no-backup", "--replay", &r.ours],
                    "mlflow-migrate upgrade --replay",
                ));
                r.drop();
                if !skip_python {
                    let b = BenchDb::new(kind, dir.path(), &format!("bench_empty_mlflow_{run}"));
                    them.push(timed(
                        &mlflow,
                        &["db", "upgrade", &b.sqlalchemy],
                        "mlflow db upgrade",
                    ));
                    b.drop();
                }
            }
            let medians = |runs: &[(f64, f64)]| {
                (
                    median(runs.iter().map(|t| t.0).collect()),
                    median(runs.iter().map(|t| t.1).collect()),
                )
            };
            let ours_cell = medians(&us);
            let replay_cell = medians(&replayed);
            let theirs = (!them.is_empty()).then(|| {
                (
                    median(them.iter().map(|t| t.0).collect()),
                    median(them.iter().map(|t| t.1).collect()),
                )
            });
            println!(
                "{kind}, empty: mlflow-migrate {:.2} s (--replay {:.2} s; medians of \
                 {empty_runs}), MLflow {:?}",
                ours_cell.0, replay_cell.0, theirs
            );
            check_rss(&format!("{kind}, empty"), ours_cell.1, &mut misses);
            let goal = empty_goal(kind);
            if ours_cell.0 > goal {
                misses.push(format!(
                    "{kind}, empty: {:.2} s, over the {goal} s goal",
                    ours_cell.0
                ));
            }
            table.push(Cell {
                kind,
                what: "empty (--replay)".into(),
                ours: replay_cell,
                estimate: None,
                theirs,
            });
            table.push(Cell {
                kind,
                what: "empty".into(),
                ours: ours_cell,
                estimate: None,
                theirs,
            });
        }
        let all_sizes: Vec<(usize, bool)> = sizes
            .iter()
            .map(|&n| (n, skip_python))
            .chain(
                ours_only
                    .iter()
                    .filter(|_| kind == "sqlite")
                    .map(|&n| (n, true)),
            )
            .collect();
        for (n, without_mlflow) in all_sizes {
            let base = build(kind, dir.path(), n);
            let a = base.copy(dir.path(), &format!("bench_ours_{n}"));
            let estimate = plan_estimate(&ours, &a.ours);
            let (s, mb) = timed(
                &ours,
                &["upgrade", "--quiet", "--no-backup", &a.ours],
                "mlflow-migrate upgrade",
            );
            println!(
                "{kind}, {n} metrics: mlflow-migrate {s:.1} s (plan estimated {estimate:.1} s), peak RSS {mb:.1} MB"
            );
            let ratio = s / estimate;
            if n >= 1_000_000 && !(0.5..=2.0).contains(&ratio) {
                misses.push(format!(
                    "{kind}, {n} metrics: plan estimated {estimate:.1} s, the upgrade took {s:.1} s ({ratio:.2}×)"
                ));
            }
            check_rss(&format!("{kind}, {n} metrics"), mb, &mut misses);
            let theirs = if without_mlflow {
                None
            } else {
                let b = base.copy(dir.path(), &format!("bench_mlflow_{n}"));
                let t = timed(
                    &mlflow,
                    &["db", "upgrade", &b.sqlalchemy],
                    "mlflow db upgrade",
                );
                println!(
                    "{kind}, {n} metrics: mlflow db upgrade {:.1} s, peak RSS {:.1} MB",
                    t.0, t.1
                );
                b.drop();
                Some(t)
            };
            a.drop();
            base.drop();
            table.push(Cell {
                kind,
                what: n.to_string(),
                ours: (s, mb),
                estimate: Some(estimate),
                theirs,
            });
        }
    }
    // Cost growth: 10× the rows must not cost more than 10× the time.
    let time_of = |kind: &str, n: usize| {
        table
            .iter()
            .find(|c| c.kind == kind && c.what == n.to_string())
            .map(|c| c.ours.0)
    };
    for &n in &ours_only {
        if let (Some(big), Some(small)) = (time_of("sqlite", n), time_of("sqlite", n / 10)) {
            println!(
                "sqlite: {n} metrics took {:.1}× the time of {}",
                big / small,
                n / 10
            );
            if big > 10.0 * small {
                misses.push(format!(
                    "sqlite: {n} metrics took {big:.1} s, over 10× the {small:.1} s of {}",
                    n / 10
                ));
            }
        }
    }
    println!();
    println!("machine: {}", machine());
    println!();
    println!(
        "| database | metrics | mlflow-migrate | plan's estimate | peak RSS | mlflow db upgrade | peak RSS | ratio |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for c in &table {
        let (ts, tmb, ratio) = c
            .theirs
            .map(|(a, b)| {
                (
                    format!("{a:.2} s"),
                    format!("{b:.0} MB"),
                    format!("{:.1}×", a / c.ours.0),
                )
            })
            .unwrap_or(("-".into(), "-".into(), "-".into()));
        let estimate = c.estimate.map_or("-".into(), |e| format!("{e:.1} s"));
        println!(
            "| {} | {} | {:.2} s | {estimate} | {:.1} MB | {ts} | {tmb} | {ratio} |",
            c.kind, c.what, c.ours.0, c.ours.1
        );
    }
    assert!(
        misses.is_empty(),
        "goals missed:\n  {}",
        misses.join("\n  ")
    );
}
