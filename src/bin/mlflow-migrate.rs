//! `mlflow-migrate`: argument parsing and printing over the `alembic_engine` library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use serde_json::json;

use alembic_engine::db::DbUrl;
use alembic_engine::exec::Event;
use alembic_engine::graph::{Direction, Lower, RevisionGraph, Step};
use alembic_engine::inspect::{revision_entry, revision_line, LineStyle, RevisionInfo};
use alembic_engine::project::{Locator, Project};

mod distribution;

#[derive(Parser, Debug)]
#[command(
    name = "mlflow-migrate",
    version,
    about = "Inspect and upgrade Alembic-managed databases (MLflow first) without Python"
)]
struct Cli {
    /// Alembic script directory, a folder holding alembic.ini, or an alembic.ini file.
    /// Without --project this is a generic Alembic project.
    #[arg(long, global = true, value_name = "DIR")]
    scripts: Option<PathBuf>,
    /// Built-in project: mlflow (tracking database) or mlflow-auth. Default: mlflow, unless
    /// --scripts names a generic project.
    #[arg(long, global = true)]
    project: Option<String>,
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// The version table (default: the project's, `alembic_version` for MLflow tracking,
    /// `alembic_version_auth` for its auth database).
    #[arg(long, global = true, value_name = "NAME")]
    version_table: Option<String>,
    /// Where the pinned MLflow wheel is cached (default: $MLFLOW_MIGRATE_CACHE or ~/.cache/alembic-engine).
    #[arg(long, global = true, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Do not look for an installed mlflow package; use --scripts or the pinned wheel.
    #[arg(long, global = true)]
    ignore_installed: bool,
    #[command(subcommand)]
    command: Command,
    /// The Python package index (PEP 503/691 simple index) to fetch the pinned MLflow wheel
    /// from (default: $PIP_INDEX_URL, else PyPI).
    #[arg(long, global = true, value_name = "URL")]
    index_url: Option<String>,
    /// Never download the pinned MLflow wheel: use the cache (see `fetch`) or fail.
    #[arg(long, global = true)]
    offline: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum Format {
    Text,
    Json,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum DirectionArg {
    Up,
    Down,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum DialectArg {
    Sqlite,
    Postgresql,
    Mysql,
    Mariadb,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum TransactionArg {
    PerRevision,
    All,
}

#[derive(clap::Args, Debug)]
struct RunArgs {
    /// Seconds to wait for another upgrader's lock.
    #[arg(long, default_value_t = 300)]
    lock_timeout: u64,
    /// One transaction per revision (resumable), or one for the whole run.
    #[arg(long, value_enum, default_value_t = TransactionArg::PerRevision)]
    transaction: TransactionArg,
    /// No progress output.
    #[arg(long, short)]
    quiet: bool,
    /// MySQL/MariaDB: the statement an interrupted run may or may not have applied was
    /// applied; continue after it.
    #[arg(long, conflicts_with = "resume_retry")]
    resume_skip: bool,
    /// MySQL/MariaDB: that statement was not applied; run it again.
    #[arg(long)]
    resume_retry: bool,
    /// Upgrade even when the live tables and columns differ from what the recorded revisions
    /// leave.
    #[arg(long)]
    ignore_drift: bool,
    /// When the database is half-way through its next revision (its first statements ran,
    /// by Python Alembic or another tool, but the version row is behind), run the rest of it.
    #[arg(long)]
    adopt_partial: bool,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Upgrade a database (default target: heads). An empty MLflow database first gets MLflow's
    /// initial tables, as `mlflow db upgrade` does.
    Upgrade {
        /// e.g. sqlite:///mlflow.db, postgresql://user:pass@host/db
        url: String,
        #[arg(default_value = "heads")]
        target: String,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Downgrade a database to a target revision.
    Downgrade {
        url: String,
        target: String,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Show the revisions recorded in the database's version table.
    Current { url: String },
    /// Show the recorded revisions and how the last run ended (its error, if it failed).
    Status { url: String },
    /// Exit 0 when the database is at the target (default heads), 1 when it is behind (the
    /// path is printed).
    Check {
        url: String,
        #[arg(default_value = "heads")]
        target: String,
    },
    /// Record revisions in the version table without running migrations.
    Stamp {
        url: String,
        #[arg(required = true)]
        revisions: Vec<String>,
        /// Replace whatever the table holds, even rows the scripts do not know.
        #[arg(long)]
        purge: bool,
    },
    /// Print the SQL script for a range of revisions, without a database (like
    /// `alembic upgrade --sql`). From `base` on the MLflow project, the initial schema first.
    Sql {
        /// `[FROM:]TO`, e.g. `heads`, `base:heads`, `ae10:dc11`, `heads:base` (a downgrade).
        range: String,
        /// The database to write SQL for.
        #[arg(long, value_enum)]
        dialect: DialectArg,
    },
    /// Show the head revisions.
    Heads,
    /// Show the branch points and the revisions they branch into.
    Branches,
    /// List revisions, newest first.
    History {
        /// A range `[start]:[end]`, e.g. `base:heads`, `ae10:`, `:label@head`.
        #[arg(short = 'r', long = "rev-range", allow_hyphen_values = true)]
        range: Option<String>,
    },
    /// Show the revisions a spec names (`head`, `heads`, an id or prefix, `label@head`, `rev+1`).
    Show { rev: String },
    /// The steps from a state to a target, in the order they would run.
    Path {
        /// The current state: `base`, or revision specs separated by commas.
        from: String,
        /// The target spec.
        to: String,
        /// Force upgrade or downgrade; by default, upgrade if that runs anything, else downgrade.
        #[arg(long, value_enum)]
        direction: Option<DirectionArg>,
    },
    /// Download, check and unpack the pinned MLflow wheel into the cache now (for images that
    /// have no network when they run).
    Fetch,
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    Man,
}

fn main() -> ExitCode {
    // Scripts are interpreted recursively; on a large stack, absurdly deep scripts end in the
    // interpreter's own limit errors, not in a stack overflow.
    std::thread::Builder::new()
        .stack_size(512 << 20)
        .spawn(real_main)
        .and_then(|worker| {
            worker
                .join()
                .map_err(|_| std::io::Error::other("the worker thread panicked"))
        })
        .unwrap_or_else(|e| {
            eprintln!("mlflow-migrate: error: {e}");
            ExitCode::FAILURE
        })
}

fn real_main() -> ExitCode {
    let cli = Cli::parse();
    let mut out = String::new();
    let result = run(&cli, &mut out);
    {
        use std::io::Write as _;
        let _ = std::io::stdout().lock().write_all(out.as_bytes());
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if err.is::<Behind>() => ExitCode::FAILURE,
        Err(err) => {
            let mut message = err.to_string();
            let mut source = err.source();
            while let Some(s) = source {
                let text = s.to_string();
                if !message.contains(&text) {
                    message += &format!(": {text}");
                }
                source = s.source();
            }
            eprintln!("mlflow-migrate: error: {message}");
            ExitCode::FAILURE
        }
    }
}

type BoxError = Box<dyn std::error::Error>;

fn open_project(cli: &Cli) -> Result<Project, BoxError> {
    let locator = Locator {
        scripts: cli.scripts.clone(),
        cache_dir: cli.cache_dir.clone(),
        ignore_installed: cli.ignore_installed,
        ..distribution::fetch_options(cli)
    };
    let name = match (&cli.project, &cli.scripts) {
        (Some(p), _) => Some(p.as_str()),
        (None, Some(_)) => None,
        (None, None) => Some("mlflow"),
    };
    let mut project = locator.open(name)?;
    if let Some(table) = &cli.version_table {
        if table.is_empty() || !table.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!(
                "--version-table '{table}' must be letters, digits and underscores"
            )
            .into());
        }
        project.version_table = table.clone();
    }
    if !matches!(
        project.origin,
        alembic_engine::project::ScriptOrigin::Explicit(_)
    ) {
        eprintln!("mlflow-migrate: {} ({})", project.origin, project.name);
    }
    Ok(project)
}

fn print_json(out: &mut String, value: serde_json::Value) {
    out.push_str(&serde_json::to_string_pretty(&value).unwrap_or_default());
    out.push('\n');
}

/// `println!` into the output buffer (printed once at the end, so a closed pipe is harmless).
macro_rules! say {
    ($out:expr) => { $out.push('\n') };
    ($out:expr, $($arg:tt)*) => {{ use std::fmt::Write as _; let _ = writeln!($out, $($arg)*); }};
}

fn run(cli: &Cli, out: &mut String) -> Result<(), BoxError> {
    if let Some(done) = distribution::run_without_project(cli, out) {
        return done;
    }
    let project = open_project(cli)?;
    let graph = RevisionGraph::build(project.scripts.revisions.clone())?;
    let info = |ix| RevisionInfo::new(&graph, ix);
    match &cli.command {
        Command::Heads => {
            let heads = graph.heads();
            if cli.format == Format::Json {
                print_json(
                    out,
                    json!({ "heads": heads.iter().map(|&h| info(h)).collect::<Vec<_>>() }),
                );
            } else {
                let style = LineStyle {
                    branches: true,
                    ..Default::default()
                };
                for &h in heads {
                    say!(out, "{}", revision_line(&graph, h, style));
                }
            }
        }
        Command::Branches => {
            let points: Vec<_> = graph
                .history("base", "heads")?
                .into_iter()
                .filter(|&ix| graph.is_branch_point(ix))
                .collect();
            if cli.format == Format::Json {
                let list: Vec<_> = points
                    .iter()
                    .map(|&ix| {
                        let mut v = serde_json::to_value(info(ix)).unwrap_or_default();
                        let mut children: Vec<&str> =
                            graph.children(ix).iter().map(|&c| graph.id(c)).collect();
                        children.sort();
                        v["children"] = json!(children);
                        v
                    })
                    .collect();
                print_json(out, json!({ "branch_points": list }));
            } else {
                for ix in points {
                    let style = LineStyle {
                        branches: true,
                        tree: true,
                        ..Default::default()
                    };
                    say!(out, "{}", revision_line(&graph, ix, style));
                    let pad = " ".repeat(graph.id(ix).len());
                    for &child in graph.children(ix) {
                        let child_style = LineStyle {
                            branches: true,
                            tree: true,
                            ..Default::default()
                        };
                        say!(
                            out,
                            "{pad} -> {}",
                            revision_line(&graph, child, child_style)
                        );
                    }
                    say!(out);
                }
            }
        }
        Command::History { range } => {
            let (base, head) = match range {
                None => ("base".to_string(), "heads".to_string()),
                Some(r) => {
                    let Some((b, h)) = r.trim().split_once(':') else {
                        return Err(format!(
                            "history range '{r}' must be [start]:[end], [start]: or :[end]"
                        )
                        .into());
                    };
                    let or = |s: &str, d: &str| {
                        if s.is_empty() {
                            d.to_string()
                        } else {
                            s.to_string()
                        }
                    };
                    (or(b, "base"), or(h, "heads"))
                }
            };
            let revs = graph.history(&base, &head)?;
            if cli.format == Format::Json {
                print_json(
                    out,
                    json!({ "history": revs.iter().map(|&r| info(r)).collect::<Vec<_>>() }),
                );
            } else {
                let style = LineStyle {
                    parents: true,
                    branches: true,
                    doc: true,
                    tree: true,
                };
                for r in revs {
                    say!(out, "{}", revision_line(&graph, r, style));
                }
            }
        }
        Command::Show { rev } => {
            let revs = graph.resolve(rev)?;
            if cli.format == Format::Json {
                print_json(
                    out,
                    json!({ "revisions": revs.iter().map(|&r| info(r)).collect::<Vec<_>>() }),
                );
            } else if revs.is_empty() {
                say!(out, "Rev: base");
            } else {
                for (i, r) in revs.into_iter().enumerate() {
                    if i > 0 {
                        say!(out);
                    }
                    out.push_str(&revision_entry(&graph, r));
                }
            }
        }
        Command::Upgrade { url, target, run } => {
            migrate(&project, &graph, url, target, Direction::Up, run, out)?;
        }
        Command::Downgrade { url, target, run } => {
            migrate(&project, &graph, url, target, Direction::Down, run, out)?;
        }
        Command::Current { url } => {
            let db = DbUrl::parse(url)?;
            let rows = alembic_engine::exec::blocking::current(&db, &project, &graph)?;
            if cli.format == Format::Json {
                print_json(out, json!({ "current": rows }));
            } else if rows.is_empty() {
                say!(out, "(base: no revision recorded)");
            } else {
                for r in rows {
                    let ix = graph.get(&r).expect("checked against the scripts");
                    let style = LineStyle {
                        branches: true,
                        ..Default::default()
                    };
                    say!(out, "{}", revision_line(&graph, ix, style));
                }
            }
        }
        Command::Status { url } => {
            let db = DbUrl::parse(url)?;
            let (rows, last) = alembic_engine::exec::blocking::status(&db, &project)?;
            let at = if rows.is_empty() {
                "base".to_string()
            } else {
                rows.join(", ")
            };
            if cli.format == Format::Json {
                print_json(
                    out,
                    json!({
                        "current": rows,
                        "last_run": last.as_ref().map(|l| json!({
                            "run_id": l.run_id,
                            "statements": l.statements,
                            "last_revision": l.last_revision,
                            "error": l.error,
                            "completed": l.completed,
                        })),
                    }),
                );
            } else {
                say!(out, "at: {at}");
                match last {
                    None => say!(out, "no run recorded by mlflow-migrate"),
                    Some(l) => {
                        say!(
                            out,
                            "last run {}: {} statement(s) applied, last in {}",
                            l.run_id,
                            l.statements,
                            if l.last_revision.is_empty() {
                                "-"
                            } else {
                                &l.last_revision
                            }
                        );
                        match (l.error, l.completed) {
                            (Some(e), _) => say!(out, "it failed: {e}\nrun `upgrade` again to resume from the last committed revision"),
                            (None, true) => say!(out, "it completed"),
                            (None, false) => say!(out, "it was interrupted; run `upgrade` again to resume from the last committed revision"),
                        }
                    }
                }
            }
        }
        Command::Check { url, target } => {
            let db = DbUrl::parse(url)?;
            let rows = alembic_engine::exec::blocking::current(&db, &project, &graph)?;
            let steps = graph.upgrade_path(&Lower::Many(rows.clone()), target)?;
            if steps.is_empty() {
                say!(
                    out,
                    "up to date at {}",
                    if rows.is_empty() {
                        "base".into()
                    } else {
                        rows.join(", ")
                    }
                );
            } else {
                say!(out, "{} revision(s) to apply:", steps.len());
                for s in &steps {
                    say!(out, "  {}", graph.id(s.revision));
                }
                return Err(Box::new(Behind));
            }
        }
        Command::Stamp {
            url,
            revisions,
            purge,
        } => {
            let db = DbUrl::parse(url)?;
            let rows = alembic_engine::exec::blocking::stamp(
                &db,
                &project,
                &graph,
                revisions,
                *purge,
                std::time::Duration::from_secs(300),
            )?;
            say!(
                out,
                "stamped: {}",
                if rows.is_empty() {
                    "base".into()
                } else {
                    rows.join(", ")
                }
            );
        }
        Command::Sql { range, dialect } => {
            let (from, to) = match range.split_once(':') {
                Some((f, t)) => (if f.is_empty() { "base" } else { f }, t),
                None => ("base", range.as_str()),
            };
            let dialect_name = match dialect {
                DialectArg::Sqlite => "sqlite",
                DialectArg::Postgresql => "postgresql",
                DialectArg::Mysql => "mysql",
                DialectArg::Mariadb => "mariadb",
            };
            let dialect = alembic_engine::dialect::for_name(dialect_name)
                .ok_or_else(|| format!("unknown dialect {dialect_name}"))?;
            let transactional = dialect.name() == "postgresql";
            let planner =
                alembic_engine::plan::Planner::for_project(&project, &graph, dialect, true)?;
            let current = current_state(&graph, from)?;
            let rows = current_ids(&current);
            let steps = match graph.upgrade_path(&current, to) {
                Ok(up) if !up.is_empty() => up,
                up => match graph.downgrade_path(&current, to) {
                    Ok(down) => down,
                    Err(e) => match up {
                        Ok(empty) => empty,
                        Err(_) => return Err(e.into()),
                    },
                },
            };
            let fresh = rows.is_empty();
            let model = if fresh {
                alembic_engine::schema::SchemaModel::default()
            } else {
                planner.schema_at(&rows)?
            };
            let plan = planner.plan(&rows, &steps, model, fresh)?;
            out.push_str(&plan.offline_sql(transactional));
        }
        Command::Path {
            from,
            to,
            direction,
        } => {
            let current = current_state(&graph, from)?;
            let steps: Vec<Step> = match direction {
                Some(DirectionArg::Up) => graph.upgrade_path(&current, to)?,
                Some(DirectionArg::Down) => graph.downgrade_path(&current, to)?,
                None => match graph.upgrade_path(&current, to) {
                    Ok(up) if !up.is_empty() => up,
                    up => match graph.downgrade_path(&current, to) {
                        Ok(down) => down,
                        Err(down_err) => match up {
                            Ok(empty) => empty,
                            Err(_) => return Err(down_err.into()),
                        },
                    },
                },
            };
            let dir = match (direction, steps.first()) {
                (Some(DirectionArg::Down), _) => Direction::Down,
                (_, Some(s)) => s.direction,
                _ => Direction::Up,
            };
            if cli.format == Format::Json {
                let from_ids = current_ids(&current);
                print_json(
                    out,
                    json!({
                        "from": from_ids,
                        "to": to,
                        "direction": dir,
                        "steps": steps.iter().map(|s| json!({
                            "revision": graph.id(s.revision),
                            "direction": s.direction,
                        })).collect::<Vec<_>>(),
                    }),
                );
            } else if steps.is_empty() {
                say!(out, "nothing to do: {from} is already at {to}");
            } else {
                let n = steps.len();
                for (i, s) in steps.iter().enumerate() {
                    let rev = graph.revision(s.revision);
                    let down = if rev.down_revisions.is_empty() {
                        "<base>".to_string()
                    } else {
                        rev.down_revisions.join(", ")
                    };
                    let (verb, a, b) = match s.direction {
                        Direction::Up => ("upgrade  ", down.as_str(), rev.id.as_str()),
                        Direction::Down => ("downgrade", rev.id.as_str(), down.as_str()),
                    };
                    say!(
                        out,
                        "{:>width$}/{n} {verb} {a} -> {b}, {}",
                        i + 1,
                        rev.doc(),
                        width = n.to_string().len()
                    );
                }
            }
        }
        // Answered before the project is opened.
        Command::Fetch | Command::Completions { .. } | Command::Man => {}
    }
    Ok(())
}

/// `check` found the database behind its target: exit code 1 with no error text.
#[derive(Debug)]
struct Behind;

impl std::fmt::Display for Behind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the database is behind its target")
    }
}

impl std::error::Error for Behind {}

fn migrate(
    project: &Project,
    graph: &RevisionGraph,
    url: &str,
    target: &str,
    direction: Direction,
    run: &RunArgs,
    out: &mut String,
) -> Result<(), BoxError> {
    use std::io::{IsTerminal, Write};
    let db = DbUrl::parse(url)?;
    let options = alembic_engine::exec::Options {
        target: target.to_string(),
        direction,
        lock_timeout: std::time::Duration::from_secs(run.lock_timeout),
        transaction: match run.transaction {
            TransactionArg::PerRevision => alembic_engine::exec::TransactionMode::PerRevision,
            TransactionArg::All => alembic_engine::exec::TransactionMode::All,
        },
        ignore_drift: run.ignore_drift,
        adopt_partial: run.adopt_partial,
        uncertain: match (run.resume_skip, run.resume_retry) {
            (true, _) => Some(alembic_engine::exec::Uncertain::Skip),
            (_, true) => Some(alembic_engine::exec::Uncertain::Retry),
            _ => None,
        },
        ..Default::default()
    };
    let terminal = std::io::stderr().is_terminal();
    let quiet = run.quiet;
    // On a terminal, a bar over the run's statements; otherwise plain lines: one per
    // revision, and one per data statement with the rows it changed.
    let bar = (terminal && !quiet).then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{elapsed_precise} [{bar:30}] statement {pos}/{len} {wide_msg}",
            )
            .expect("a valid progress template")
            .progress_chars("=> "),
        );
        bar
    });
    let mut label = String::new();
    let mut progress = |event: Event| {
        if quiet {
            return;
        }
        let mut err = std::io::stderr().lock();
        match (event, &bar) {
            (Event::Planned { steps, statements }, bar) => {
                let line =
                    format!("mlflow-migrate: {steps} revision(s), {statements} statement(s)");
                match bar {
                    Some(bar) => {
                        bar.println(line);
                        bar.set_length(statements as u64);
                    }
                    None => {
                        let _ = writeln!(err, "{line}");
                    }
                }
            }
            (
                Event::Step {
                    index,
                    total,
                    label: l,
                },
                bar,
            ) => {
                label = format!("[{index}/{total}] {l}");
                if bar.is_none() {
                    let _ = writeln!(err, "{label}");
                }
            }
            (Event::Statement { index, summary, .. }, Some(bar)) => {
                bar.set_position(index.saturating_sub(1) as u64);
                bar.set_message(format!("{label}: {summary}"));
            }
            (Event::Rows { summary, rows, .. }, bar)
                if !summary.ends_with(&format!(" {}", project.version_table)) =>
            {
                let line = format!("  {summary}: {rows} row(s)");
                match bar {
                    Some(bar) => bar.println(line),
                    None => {
                        let _ = writeln!(err, "{line}");
                    }
                }
            }
            _ => {}
        }
        let _ = err.flush();
    };
    let outcome =
        alembic_engine::exec::blocking::migrate(&db, project, graph, &options, &mut progress);
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let outcome = outcome?;
    let show = |v: &[String]| {
        if v.is_empty() {
            "base".to_string()
        } else {
            v.join(", ")
        }
    };
    if outcome.steps == 0 {
        say!(out, "nothing to do: {} is at {}", db, show(&outcome.after));
    } else {
        say!(
            out,
            "{} -> {} ({} revision(s), {} statement(s))",
            show(&outcome.before),
            show(&outcome.after),
            outcome.steps,
            outcome.statements
        );
    }
    Ok(())
}

/// The revisions a database would hold: each comma-separated spec resolved to revision ids.
fn current_state(graph: &RevisionGraph, from: &str) -> Result<Lower, BoxError> {
    let mut ids = Vec::new();
    for spec in from.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        for ix in graph.resolve(spec)? {
            ids.push(graph.id(ix).to_string());
        }
    }
    Ok(Lower::Many(ids))
}

fn current_ids(lower: &Lower) -> Vec<String> {
    match lower {
        Lower::None => Vec::new(),
        Lower::One(s) => vec![s.clone()],
        Lower::Many(v) => v.clone(),
    }
}
