//! Compiling whole projects for SQLite, against the goal the project set: MLflow's 67 tracking
//! revisions compiled from the initial models in under 20 ms; MLflow's 7 auth revisions
//! alongside.
//!
//! One iteration is what `Planner::plan` does for a fresh database (the `sql` command, so
//! offline): `compile_initial_models` (reading and interpreting `initial_models.py`, when the
//! project has one) and then `compile_step` for every revision from base to heads, each step
//! starting from the schema model the previous one left. Reading the revision scripts and
//! building the graph are not part of it (`benches/graph.rs` measures those).
//!
//! `cargo bench --bench compile` ends with one line per bench comparing its mean time to its
//! goal, split into the initial models and the revisions, then the slowest revisions of each
//! chain (timed one at a time, from the model the chain had before them) and how much the
//! process's resident memory grew while the benches ran.
//!
//! The scripts come from `$MLFLOW_SCRIPTS` / `$MLFLOW_AUTH_SCRIPTS` (each MLflow's migrations
//! folder, inside an installed `mlflow` package, so that the package files the scripts use are
//! found next to them), else the reference venv under `target/ref-venv`, else the pinned wheel
//! (fetched with pip once and cached).

use std::cell::OnceCell;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use alembic_engine::compile::Compiler;
use alembic_engine::dialect::sqlite::Sqlite;
use alembic_engine::graph::{Direction, Lower, RevisionGraph};
use alembic_engine::plan::{Initial, Planner};
use alembic_engine::project::{Locator, Project};
use alembic_engine::schema::SchemaModel;
use alembic_engine::script::Revision;
use criterion::{black_box, Criterion, SamplingMode};

/// Samples per bench: one iteration is a whole chain (milliseconds), so fewer, flat samples.
const SAMPLES: usize = 20;
/// Warm-up and measurement times per bench, shorter than criterion's defaults (3 s, 5 s)
/// because compiles once kept memory they never freed (about 20 MiB per MLflow chain at first,
/// 2 MiB later, 39 KiB of allocator noise now: see the memory lines of the summary).
const MLFLOW_TIMES: (Duration, Duration) = (Duration::from_secs(1), Duration::from_secs(2));
const AUTH_TIMES: (Duration, Duration) = (Duration::from_millis(500), Duration::from_secs(1));
/// How many of each chain's slowest revisions the summary names.
const SLOWEST: usize = 5;
/// Repetitions when timing revisions one at a time.
const PER_REVISION_RUNS: u32 = 20;

// ---- timing record -------------------------------------------------------------------------

/// One `iter_custom` call: how many chains and how long they took, with the initial models
/// timed apart.
#[derive(Clone, Copy)]
struct Sample {
    iters: u64,
    total: Duration,
    initial: Duration,
}

/// Every call of every bench, in order. Criterion's measurement phase is the last
/// `SAMPLES` calls (warm-up calls come before), so the summary averages those.
static SAMPLES_SEEN: Mutex<Vec<(&'static str, Sample)>> = Mutex::new(Vec::new());

fn record(bench: &'static str, sample: Sample) {
    SAMPLES_SEEN
        .lock()
        .expect("sample record")
        .push((bench, sample));
}

/// A bench as the summary reports it.
struct Goal {
    bench: &'static str,
    goal: Option<Duration>,
}

const GOALS: &[Goal] = &[
    Goal {
        bench: "mlflow/compile_chain_sqlite",
        goal: Some(Duration::from_millis(20)),
    },
    Goal {
        bench: "mlflow_auth/compile_chain_sqlite",
        goal: None,
    },
];

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

fn summary(chains: impl Fn(&str) -> Option<String>) -> String {
    let all = SAMPLES_SEEN.lock().expect("sample record");
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
        let measured = &mine[mine.len().saturating_sub(SAMPLES)..];
        let per_iter = |d: fn(&Sample) -> Duration| -> Duration {
            let sum: f64 = measured
                .iter()
                .map(|s| d(s).as_secs_f64() / s.iters as f64)
                .sum();
            Duration::from_secs_f64(sum / measured.len() as f64)
        };
        let mean = per_iter(|s| s.total);
        let initial = per_iter(|s| s.initial);
        let _ = write!(
            out,
            "summary: {:<34} mean {:>10} (initial models {} + {} revisions {})",
            goal.bench,
            fmt(mean),
            fmt(initial),
            chains(goal.bench).unwrap_or_else(|| "?".into()),
            fmt(mean.saturating_sub(initial)),
        );
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
        out.push('\n');
    }
    out
}

// ---- projects --------------------------------------------------------------------------------

/// `target/ref-venv/lib/python3.*/site-packages/<rel>`, when it has a `versions` folder.
fn ref_venv_dir(rel: &str) -> Option<PathBuf> {
    let lib = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/ref-venv/lib");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&lib)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("python3."))
        .map(|e| e.path().join("site-packages").join(rel))
        .filter(|p| p.join("versions").is_dir())
        .collect();
    found.sort();
    found.pop()
}

/// A built-in project (`mlflow` or `mlflow-auth`): from `$<env>`, else the reference venv,
/// else the pinned wheel.
fn open_project(name: &str, env: &str, rel: &str) -> Project {
    let scripts = std::env::var_os(env)
        .map(PathBuf::from)
        .or_else(|| ref_venv_dir(rel));
    let locator = match scripts {
        Some(dir) => Locator {
            scripts: Some(dir),
            ..Default::default()
        },
        None => Locator {
            ignore_installed: true,
            ..Default::default()
        },
    };
    locator.open(Some(name)).unwrap_or_else(|e| {
        panic!("{name} scripts: {e} (set {env}, or let pip fetch the pinned wheel)")
    })
}

/// A project ready to compile: its compiler, the revisions from base to heads in order, and
/// its initial models.
struct Chain {
    compiler: Compiler,
    steps: Vec<(Revision, Direction)>,
    initial_models: Option<PathBuf>,
}

impl Chain {
    fn new(name: &str, env: &str, rel: &str) -> Chain {
        let project = open_project(name, env, rel);
        let graph =
            RevisionGraph::build(project.scripts.revisions.clone()).expect("the graph builds");
        let path = graph
            .upgrade_path(&Lower::None, "heads")
            .expect("an upgrade path from base to heads");
        let steps: Vec<(Revision, Direction)> = path
            .iter()
            .map(|s| (graph.revision(s.revision).clone(), s.direction))
            .collect();
        let mut compiler = Compiler::for_project(&project, std::sync::Arc::new(Sqlite::default()))
            .expect("the project's compiler");
        // As the `sql` command plans.
        compiler.offline = true;
        let chain = Chain {
            compiler,
            steps,
            initial_models: project.initial_models.clone(),
        };

        // The bench must measure what the planner does: same statements.
        let (_, statements) = chain.compile();
        let mut check = Compiler::for_project(&project, std::sync::Arc::new(Sqlite::default()))
            .expect("compiler");
        check.offline = true;
        let planner = Planner {
            graph: &graph,
            compiler: check,
            version_table: project.version_table.clone(),
            initial_models: project.initial_models.clone(),
        };
        let plan = planner
            .plan(&[], &path, SchemaModel::default(), Initial::Create)
            .expect("the planner plans the whole chain");
        let planned: usize = plan.initial.as_ref().map_or(0, |i| i.statements().count())
            + plan
                .steps
                .iter()
                .map(|s| s.compiled.statements().count())
                .sum::<usize>();
        assert_eq!(
            statements, planned,
            "the bench compiles what Planner::plan compiles"
        );
        eprintln!(
            "{name}: {} revisions{} from {} ({statements} statements)",
            chain.steps.len(),
            if chain.initial_models.is_some() {
                " and the initial models"
            } else {
                ""
            },
            project.scripts.dir.display()
        );
        chain
    }

    fn initial(&self) -> SchemaModel {
        match &self.initial_models {
            Some(path) => {
                self.compiler
                    .compile_initial_models(path, SchemaModel::default())
                    .expect("the initial models compile")
                    .1
            }
            None => SchemaModel::default(),
        }
    }

    /// The whole chain once: the final model and the number of statements.
    fn compile(&self) -> (SchemaModel, usize) {
        let mut statements = 0;
        let mut model = SchemaModel::default();
        if let Some(path) = &self.initial_models {
            let (step, after) = self
                .compiler
                .compile_initial_models(path, model)
                .expect("the initial models compile");
            statements += step.statements().count();
            model = after;
        }
        for (rev, direction) in &self.steps {
            let (step, after) = self
                .compiler
                .compile_step(rev, *direction, model)
                .unwrap_or_else(|e| panic!("{}: {e}", rev.id));
            statements += step.statements().count();
            model = after;
        }
        (model, statements)
    }

    /// The slowest revisions, each timed on its own from the model the chain had before it.
    fn slowest(&self, n: usize) -> Vec<(String, Duration)> {
        let mut model = self.initial();
        let mut times = Vec::new();
        for (rev, direction) in &self.steps {
            let start = Instant::now();
            for _ in 0..PER_REVISION_RUNS {
                black_box(self.compiler.compile_step(rev, *direction, model.clone()))
                    .expect("the step compiles");
            }
            times.push((rev.id.clone(), start.elapsed() / PER_REVISION_RUNS));
            model = self
                .compiler
                .compile_step(rev, *direction, model)
                .expect("the step compiles")
                .1;
        }
        times.sort_by_key(|t| std::cmp::Reverse(t.1));
        times.truncate(n);
        times
    }
}

type Group<'c> = criterion::BenchmarkGroup<'c, criterion::measurement::WallTime>;

fn bench_chain<'f>(c: &mut Group<'_>, name: &'static str, chain: impl Fn() -> &'f Chain) {
    let bench = name.rsplit('/').next().expect("bench name");
    c.bench_function(bench, |b| {
        let chain = chain();
        b.iter_custom(|iters| {
            let mut initial = Duration::ZERO;
            let start = Instant::now();
            for _ in 0..iters {
                let t = Instant::now();
                let mut model = black_box(chain.initial());
                initial += t.elapsed();
                for (rev, direction) in &chain.steps {
                    model = chain
                        .compiler
                        .compile_step(rev, *direction, model)
                        .expect("the step compiles")
                        .1;
                }
                black_box(model);
            }
            let total = start.elapsed();
            record(
                name,
                Sample {
                    iters,
                    total,
                    initial,
                },
            );
            total
        })
    });
}

/// Resident memory of this process, from `/proc/self/statm` (Linux only).
fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

// ---- main ------------------------------------------------------------------------------------

fn main() {
    let mut c = Criterion::default().configure_from_args();

    let mlflow_fixture: OnceCell<Chain> = OnceCell::new();
    let mlflow = || {
        mlflow_fixture
            .get_or_init(|| Chain::new("mlflow", "MLFLOW_SCRIPTS", "mlflow/store/db_migrations"))
    };
    let auth_fixture: OnceCell<Chain> = OnceCell::new();
    let auth = || {
        auth_fixture.get_or_init(|| {
            Chain::new(
                "mlflow-auth",
                "MLFLOW_AUTH_SCRIPTS",
                "mlflow/server/auth/db/migrations",
            )
        })
    };

    // Resident memory growth per bench (fixture set-up included).
    let mut grown: Vec<(&'static str, u64)> = Vec::new();
    {
        let before = rss_bytes();
        let mut g = c.benchmark_group("mlflow");
        g.sample_size(SAMPLES)
            .sampling_mode(SamplingMode::Flat)
            .warm_up_time(MLFLOW_TIMES.0)
            .measurement_time(MLFLOW_TIMES.1);
        bench_chain(&mut g, "mlflow/compile_chain_sqlite", mlflow);
        g.finish();
        if let (Some(b), Some(a)) = (before, rss_bytes()) {
            grown.push(("mlflow/compile_chain_sqlite", a.saturating_sub(b)));
        }
    }
    {
        let before = rss_bytes();
        let mut g = c.benchmark_group("mlflow_auth");
        g.sample_size(SAMPLES)
            .sampling_mode(SamplingMode::Flat)
            .warm_up_time(AUTH_TIMES.0)
            .measurement_time(AUTH_TIMES.1);
        bench_chain(&mut g, "mlflow_auth/compile_chain_sqlite", auth);
        g.finish();
        if let (Some(b), Some(a)) = (before, rss_bytes()) {
            grown.push(("mlflow_auth/compile_chain_sqlite", a.saturating_sub(b)));
        }
    }
    c.final_summary();
    // Under `--profile-time`, keep the per-revision timing out of the profile.
    let profiling = std::env::args().any(|a| a == "--profile-time");

    // Chain sizes and per-revision times only for fixtures this run made.
    let sizes: Vec<(&str, String)> = [
        ("mlflow/compile_chain_sqlite", mlflow_fixture.get()),
        ("mlflow_auth/compile_chain_sqlite", auth_fixture.get()),
    ]
    .into_iter()
    .filter_map(|(b, chain)| Some((b, chain?.steps.len().to_string())))
    .collect();
    let mut out = summary(|bench| {
        sizes
            .iter()
            .find(|(b, _)| *b == bench)
            .map(|(_, n)| n.clone())
    });
    for (name, chain) in [
        ("mlflow", mlflow_fixture.get()),
        ("mlflow-auth", auth_fixture.get()),
    ] {
        let Some(chain) = chain.filter(|_| !profiling) else {
            continue;
        };
        let slowest = chain
            .slowest(SLOWEST)
            .into_iter()
            .map(|(id, t)| format!("{id} {}", fmt(t)))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(out, "slowest {name} revisions (each alone): {slowest}");
    }
    for (bench, grew) in grown {
        // The fixture's set-up compiles the chain twice (its own loop and the planner check).
        let chains = 2 + SAMPLES_SEEN
            .lock()
            .expect("sample record")
            .iter()
            .filter(|(b, _)| *b == bench)
            .map(|(_, s)| s.iters)
            .sum::<u64>();
        let _ = writeln!(
            out,
            "memory: {bench}: resident set grew {:.1} MiB over {chains} chain compiles ({:.0} KiB per chain)",
            grew as f64 / (1 << 20) as f64,
            grew as f64 / 1024.0 / chains as f64
        );
    }
    eprint!("{out}");
}
