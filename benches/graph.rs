//! Reading revision scripts and building the revision graph, against the goals the project set:
//! MLflow's tracking scripts read and built in under 20 ms, a generated 10,000-revision project
//! in under 1 s.
//!
//! `cargo bench --bench graph` runs everything and ends with one line per bench comparing its
//! mean time to its goal; read-and-build lines also split the time into reading (file I/O,
//! sha256, parsing) and building the graph. The MLflow scripts come from `$MLFLOW_SCRIPTS`, else the reference venv
//! under `target/ref-venv`, else the pinned wheel (fetched with pip once and cached).
//!
//! When a Python with Alembic is at hand (`$ALEMBIC_PYTHON`, else `target/ref-venv/bin/python`),
//! the read-and-build lines also show Python Alembic loading the same directory into its
//! revision map, as the reference: warm (best of the later runs in one process) and the first
//! run in a fresh process (what one `alembic` command pays).

use std::cell::OnceCell;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use alembic_engine::graph::{Lower, RevisionGraph};
use alembic_engine::project::Locator;
use alembic_engine::script::ScriptDirectory;
use criterion::{black_box, Criterion, SamplingMode};

/// Size of the generated project.
const GENERATED_REVISIONS: usize = 10_000;
/// Samples for the benches whose one iteration takes a large fraction of a second.
const HEAVY_SAMPLES: usize = 10;
/// Criterion's default sample count, used by the light benches.
const LIGHT_SAMPLES: usize = 100;

// ---- timing record -------------------------------------------------------------------------

/// One `iter_custom` call: how many iterations and how long they took, with the reading part
/// of read-and-build benches timed apart.
#[derive(Clone, Copy)]
struct Sample {
    iters: u64,
    total: Duration,
    read: Duration,
}

/// Every call of every bench, in order. Criterion's measurement phase is the last
/// `sample_size` calls (warm-up calls come before), so the summary averages those.
static SAMPLES: Mutex<Vec<(&'static str, Sample)>> = Mutex::new(Vec::new());

fn record(bench: &'static str, sample: Sample) {
    SAMPLES.lock().expect("sample record").push((bench, sample));
}

/// A bench as the summary reports it.
struct Goal {
    bench: &'static str,
    samples: usize,
    goal: Option<Duration>,
    split_read: bool,
}

const GOALS: &[Goal] = &[
    Goal {
        bench: "mlflow/read_and_build",
        samples: LIGHT_SAMPLES,
        goal: Some(Duration::from_millis(20)),
        split_read: true,
    },
    Goal {
        bench: "mlflow/upgrade_path_base_heads",
        samples: LIGHT_SAMPLES,
        goal: None,
        split_read: false,
    },
    Goal {
        bench: "generated_10k/read_and_build",
        samples: HEAVY_SAMPLES,
        goal: Some(Duration::from_secs(1)),
        split_read: true,
    },
    Goal {
        bench: "generated_10k/history_base_heads",
        samples: HEAVY_SAMPLES,
        goal: None,
        split_read: false,
    },
    Goal {
        bench: "generated_10k/upgrade_path_base_heads",
        samples: HEAVY_SAMPLES,
        goal: None,
        split_read: false,
    },
];

fn summary(reference: impl Fn(&str) -> Option<Reference>) -> String {
    let all = SAMPLES.lock().expect("sample record");
    let mut out = String::new();
    for goal in GOALS {
        let mine: Vec<Sample> = all
            .iter()
            .filter(|(b, _)| *b == goal.bench)
            .map(|(_, s)| *s)
            .collect();
        if mine.is_empty() {
            continue; // filtered out on the command line
        }
        let measured = &mine[mine.len().saturating_sub(goal.samples)..];
        let per_iter = |d: fn(&Sample) -> Duration| -> Duration {
            let sum: f64 = measured
                .iter()
                .map(|s| d(s).as_secs_f64() / s.iters as f64)
                .sum();
            Duration::from_secs_f64(sum / measured.len() as f64)
        };
        let mean = per_iter(|s| s.total);
        let _ = write!(out, "summary: {:<40} mean {:>10}", goal.bench, fmt(mean));
        if goal.split_read {
            let read = per_iter(|s| s.read);
            let _ = write!(
                out,
                " (read {} + build {})",
                fmt(read),
                fmt(mean.saturating_sub(read))
            );
        }
        match goal.goal {
            Some(g) if mean < g => {
                let _ = write!(
                    out,
                    "  goal < {}: met ({:.1}x under)",
                    fmt(g),
                    g.as_secs_f64() / mean.as_secs_f64()
                );
            }
            Some(g) => {
                let _ = write!(
                    out,
                    "  goal < {}: MISSED ({:.1}x over)",
                    fmt(g),
                    mean.as_secs_f64() / g.as_secs_f64()
                );
            }
            None => out.push_str("  (no goal set)"),
        }
        if let Some(py) = reference(goal.bench) {
            let _ = write!(
                out,
                "; Python Alembic {} warm ({:.1}x ours), {} first run in a fresh process",
                fmt(py.warm),
                py.warm.as_secs_f64() / mean.as_secs_f64(),
                fmt(py.first)
            );
        }
        out.push('\n');
    }
    out
}

fn fmt(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 {
        format!("{s:.3} s")
    } else if s >= 1e-3 {
        format!("{:.3} ms", s * 1e3)
    } else {
        format!("{:.3} µs", s * 1e6)
    }
}

// ---- read and build --------------------------------------------------------------------------

/// Where to read a script directory from, as `ScriptDirectory::load` takes it.
struct Scripts {
    dir: PathBuf,
    locations: Vec<PathBuf>,
}

impl Scripts {
    fn read(&self) -> ScriptDirectory {
        ScriptDirectory::load(&self.dir, &self.locations, false).expect("scripts read")
    }
}

type Group<'c> = criterion::BenchmarkGroup<'c, criterion::measurement::WallTime>;

fn bench_read_and_build<'f>(
    c: &mut Group<'_>,
    name: &'static str,
    scripts: impl Fn() -> &'f Scripts,
) {
    let bench = name.rsplit('/').next().expect("bench name");
    c.bench_function(bench, |b| {
        let scripts = scripts();
        b.iter_custom(|iters| {
            let mut read = Duration::ZERO;
            let start = Instant::now();
            for _ in 0..iters {
                let t = Instant::now();
                let dir = scripts.read();
                read += t.elapsed();
                black_box(RevisionGraph::build(dir.revisions).expect("graph builds"));
            }
            let total = start.elapsed();
            record(name, Sample { iters, total, read });
            total
        })
    });
}

fn bench_query<'f>(
    c: &mut Group<'_>,
    name: &'static str,
    graph: impl Fn() -> &'f RevisionGraph,
    query: impl Fn(&RevisionGraph) -> usize,
) {
    let bench = name.rsplit('/').next().expect("bench name");
    c.bench_function(bench, |b| {
        let graph = graph();
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                black_box(query(black_box(graph)));
            }
            let total = start.elapsed();
            record(
                name,
                Sample {
                    iters,
                    total,
                    read: Duration::ZERO,
                },
            );
            total
        })
    });
}

// ---- MLflow ----------------------------------------------------------------------------------

/// `$MLFLOW_SCRIPTS`, else `target/ref-venv/lib/python3.*/site-packages/mlflow/...`, else the
/// pinned wheel through the project locator.
fn mlflow_scripts() -> Scripts {
    let bare = |dir: PathBuf| Scripts {
        locations: vec![dir.join("versions")],
        dir,
    };
    if let Some(dir) = std::env::var_os("MLFLOW_SCRIPTS") {
        return bare(PathBuf::from(dir));
    }
    let lib = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/ref-venv/lib");
    let mut venv: Vec<PathBuf> = std::fs::read_dir(&lib)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("python3."))
        .map(|e| e.path().join("site-packages/mlflow/store/db_migrations"))
        .filter(|p| p.join("versions").is_dir())
        .collect();
    venv.sort();
    if let Some(dir) = venv.pop() {
        return bare(dir);
    }
    let project = Locator {
        ignore_installed: true,
        ..Default::default()
    }
    .open(Some("mlflow"))
    .expect("MLflow scripts: set MLFLOW_SCRIPTS, or let pip fetch the pinned wheel");
    Scripts {
        dir: project.scripts.dir,
        locations: project.scripts.version_locations,
    }
}

struct Mlflow {
    scripts: Scripts,
    graph: RevisionGraph,
}

// ---- generated project -----------------------------------------------------------------------

/// One generated revision before it is written out.
struct GenRevision {
    id: String,
    down: Vec<String>,
    labels: Vec<String>,
    depends_on: Vec<String>,
}

/// splitmix64: deterministic, well-spread ids.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A mostly linear history: every 100 revisions a branch point whose two short lines merge
/// back; every tenth such diamond one line also depends on the other. The base carries a
/// branch label, as multi-line projects do.
fn generate(n: usize) -> Vec<GenRevision> {
    let mut revs: Vec<GenRevision> = Vec::with_capacity(n);
    let new_id = |k: usize| format!("{:012x}", mix(k as u64) & 0xffff_ffff_ffff);
    let push =
        |revs: &mut Vec<GenRevision>, down: Vec<String>, depends_on: Vec<String>| -> String {
            let id = new_id(revs.len());
            let labels = if revs.is_empty() {
                vec!["core".to_string()]
            } else {
                Vec::new()
            };
            revs.push(GenRevision {
                id: id.clone(),
                down,
                labels,
                depends_on,
            });
            id
        };
    let mut tip: Option<String> = None;
    let mut diamonds = 0;
    while revs.len() < n {
        let down: Vec<String> = tip.iter().cloned().collect();
        if revs.len() % 100 == 50 && n - revs.len() >= 5 {
            let parent = down;
            let a1 = push(&mut revs, parent.clone(), Vec::new());
            let a2 = push(&mut revs, vec![a1.clone()], Vec::new());
            let cross = if diamonds % 10 == 0 {
                vec![a1]
            } else {
                Vec::new()
            };
            let b1 = push(&mut revs, parent, Vec::new());
            let b2 = push(&mut revs, vec![b1], cross);
            tip = Some(push(&mut revs, vec![a2, b2], Vec::new()));
            diamonds += 1;
        } else {
            tip = Some(push(&mut revs, down, Vec::new()));
        }
    }
    let unique: std::collections::HashSet<&str> = revs.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(unique.len(), revs.len(), "generated ids are unique");
    revs
}

fn py_list(items: &[String]) -> String {
    match items {
        [] => "None".into(),
        [one] => format!("{one:?}"),
        many => format!(
            "({},)",
            many.iter()
                .map(|s| format!("{s:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// A revision file of the usual size and shape: docstring, imports, header variables, an
/// upgrade and a downgrade with a couple of operations each.
fn revision_file(i: usize, r: &GenRevision) -> String {
    let table = format!("table_{}", i % 37);
    let column = format!("col_{i}");
    let labels = if r.labels.is_empty() {
        "None".to_string()
    } else {
        format!("({:?},)", r.labels[0])
    };
    format!(
        r#""""add {column} to {table}

Revision ID: {id}
Revises: {revises}
Create Date: 2024-05-{day:02} 12:{minute:02}:00.000000

Adds a nullable column and an index on it for lookups by {column}.
"""
from alembic import op
import sqlalchemy as sa


revision = "{id}"
down_revision = {down}
branch_labels = {labels}
depends_on = {deps}


def upgrade():
    op.add_column("{table}", sa.Column("{column}", sa.String(length=255), nullable=True))
    op.create_index("ix_{table}_{column}", "{table}", ["{column}"], unique=False)


def downgrade():
    op.drop_index("ix_{table}_{column}", table_name="{table}")
    op.drop_column("{table}", "{column}")
"#,
        id = r.id,
        revises = r.down.join(", "),
        day = 1 + i % 28,
        minute = i % 60,
        down = py_list(&r.down),
        deps = py_list(&r.depends_on),
    )
}

struct Generated {
    // Kept alive for the benches; removed on drop.
    _dir: tempfile::TempDir,
    scripts: Scripts,
    graph: RevisionGraph,
}

impl Generated {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let versions = dir.path().join("versions");
        std::fs::create_dir(&versions).expect("versions dir");
        let mut bytes = 0;
        for (i, r) in generate(GENERATED_REVISIONS).iter().enumerate() {
            let text = revision_file(i, r);
            bytes += text.len();
            std::fs::write(versions.join(format!("{}_add_col_{i}.py", r.id)), text)
                .expect("write revision");
        }
        eprintln!(
            "generated {GENERATED_REVISIONS} revision files ({} KiB) in {}",
            bytes / 1024,
            dir.path().display()
        );
        let scripts = Scripts {
            dir: dir.path().to_path_buf(),
            locations: vec![versions],
        };
        let graph = RevisionGraph::build(scripts.read().revisions).expect("generated graph builds");
        assert_eq!(graph.len(), GENERATED_REVISIONS);
        assert_eq!(
            graph.heads().len(),
            1,
            "the generated history ends in one head"
        );
        Generated {
            _dir: dir,
            scripts,
            graph,
        }
    }
}

// ---- reference ---------------------------------------------------------------------------------

/// Python Alembic reading `dir` into its revision map, `runs` times in one process: the first
/// run (which also imports SQLAlchemy and may write `.pyc` files, as a fresh `alembic` command
/// does) and the best of the rest.
const ALEMBIC_LOAD: &str = r#"
import sys, time
from alembic.script import ScriptDirectory
times = []
for _ in range(int(sys.argv[2])):
    start = time.perf_counter()
    ScriptDirectory(sys.argv[1]).revision_map.heads
    times.append(time.perf_counter() - start)
print(times[0], min(times[1:]))
"#;

/// Python Alembic's time to load a script directory.
struct Reference {
    first: Duration,
    warm: Duration,
}

fn alembic_python() -> Option<PathBuf> {
    if let Some(py) = std::env::var_os("ALEMBIC_PYTHON") {
        return Some(PathBuf::from(py));
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/ref-venv/bin/python");
    venv.is_file().then_some(venv)
}

fn alembic_load_time(dir: &Path, runs: u32) -> Option<Reference> {
    let out = std::process::Command::new(alembic_python()?)
        .args(["-c", ALEMBIC_LOAD])
        .arg(dir)
        .arg(runs.max(2).to_string())
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!(
            "reference skipped: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut secs = text.split_whitespace().map(|t| t.parse::<f64>().ok());
    let (first, warm) = (secs.next()??, secs.next()??);
    Some(Reference {
        first: Duration::from_secs_f64(first),
        warm: Duration::from_secs_f64(warm),
    })
}

// ---- main ------------------------------------------------------------------------------------

fn main() {
    let mut c = Criterion::default().configure_from_args();

    // Fixtures are made on first use, so a filtered run does not pay for the others.
    let mlflow_fixture: OnceCell<Mlflow> = OnceCell::new();
    let mlflow = || {
        mlflow_fixture.get_or_init(|| {
            let scripts = mlflow_scripts();
            let graph =
                RevisionGraph::build(scripts.read().revisions).expect("MLflow graph builds");
            eprintln!(
                "MLflow scripts: {} revisions from {}",
                graph.len(),
                scripts.dir.display()
            );
            Mlflow { scripts, graph }
        })
    };
    {
        let mut g = c.benchmark_group("mlflow");
        g.sample_size(LIGHT_SAMPLES);
        bench_read_and_build(&mut g, "mlflow/read_and_build", || &mlflow().scripts);
        bench_query(
            &mut g,
            "mlflow/upgrade_path_base_heads",
            || &mlflow().graph,
            |graph| {
                graph
                    .upgrade_path(&Lower::None, "heads")
                    .expect("upgrade path")
                    .len()
            },
        );
        g.finish();
    }

    let generated_fixture: OnceCell<Generated> = OnceCell::new();
    let generated = || generated_fixture.get_or_init(Generated::new);
    {
        let mut g = c.benchmark_group("generated_10k");
        g.sample_size(HEAVY_SAMPLES)
            .sampling_mode(SamplingMode::Flat);
        bench_read_and_build(&mut g, "generated_10k/read_and_build", || {
            &generated().scripts
        });
        bench_query(
            &mut g,
            "generated_10k/history_base_heads",
            || &generated().graph,
            |graph| graph.history("base", "heads").expect("history").len(),
        );
        bench_query(
            &mut g,
            "generated_10k/upgrade_path_base_heads",
            || &generated().graph,
            |graph| {
                graph
                    .upgrade_path(&Lower::None, "heads")
                    .expect("upgrade path")
                    .len()
            },
        );
        g.finish();
    }

    c.final_summary();
    // Reference timings only for fixtures this run made (a filtered run skips the others).
    let reference = |bench: &str| match bench {
        "mlflow/read_and_build" => alembic_load_time(&mlflow_fixture.get()?.scripts.dir, 5),
        "generated_10k/read_and_build" => {
            alembic_load_time(&generated_fixture.get()?.scripts.dir, 2)
        }
        _ => None,
    };
    eprint!("{}", summary(reference));
}
