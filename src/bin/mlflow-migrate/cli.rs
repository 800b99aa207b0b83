//! The command line: every command, argument and option, with the help texts `--help` shows
//! (the README's command table is checked against them by a test).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub const URL_HELP: &str = "The database, as SQLAlchemy URLs are written: sqlite:///relative.db, \
sqlite:////absolute.db, postgresql://user:pass@host:5432/db (also postgresql+psycopg2://, \
postgres://), mysql://user:pass@host:3306/db (also mysql+pymysql://, mariadb://); query \
parameters as the README lists. Without it: $MLFLOW_BACKEND_STORE_URI, else $DATABASE_URL.";

pub const TARGET_HELP: &str = "A revision spec, as Alembic's: heads, head, base, a revision id \
or unique prefix, a branch label, label@head, rev@head, relative +N / -N, rev+N, label@+N.";

pub const EXIT_CODES: &str = "Exit codes: 0 success; 1 error (one paragraph on stderr; the \
database is left as it was, or at its last checkpoint); 2 usage error; 130 stopped by Ctrl-C \
at a checkpoint. `check`: 0 at the target, 1 behind, 2 ahead of the target or on another \
branch, 3 cannot tell (connection, unknown revision).";

#[derive(Parser, Debug)]
#[command(
    name = "mlflow-migrate",
    version,
    about = "Inspect and upgrade Alembic-managed databases (MLflow first) without Python",
    after_help = EXIT_CODES
)]
pub struct Cli {
    /// Alembic script directory, a folder holding alembic.ini, or an alembic.ini file.
    /// Without --project this is a generic Alembic project.
    #[arg(long, global = true, value_name = "DIR")]
    pub scripts: Option<PathBuf>,
    /// For a generic project: read its revisions from DIR instead of the version locations
    /// its alembic.ini names (repeatable), as a project whose env.py sets them needs (Prefect:
    /// `.../_migrations/versions/sqlite`).
    #[arg(long = "version-location", global = true, value_name = "DIR")]
    pub version_locations: Vec<PathBuf>,
    /// Built-in project: mlflow (tracking database) or mlflow-auth. Default: mlflow, unless
    /// --scripts names a generic project.
    #[arg(long, global = true, value_name = "NAME")]
    pub project: Option<String>,
    /// Output: text, or json (one document; upgrade and downgrade: one JSON object per line
    /// for each event, then a summary).
    #[arg(long, global = true, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// The version table (default: the project's, `alembic_version` for MLflow tracking,
    /// `alembic_version_auth` for its auth database).
    #[arg(long, global = true, value_name = "NAME")]
    pub version_table: Option<String>,
    /// Where the pinned MLflow wheel is cached (default: $MLFLOW_MIGRATE_CACHE or
    /// ~/.cache/alembic-engine).
    #[arg(long, global = true, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Print nothing but errors.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// Seconds a connection to the database server may take (over the URL's connect_timeout;
    /// default 15).
    #[arg(long, global = true, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub connect_timeout: Option<u64>,
    /// Do not look for an installed mlflow package; use --scripts or the pinned wheel.
    #[arg(long, global = true)]
    pub ignore_installed: bool,
    /// The Python package index (PEP 503/691 simple index) to fetch the pinned MLflow wheel
    /// from (default: $PIP_INDEX_URL, else PyPI).
    #[arg(long, global = true, value_name = "URL")]
    pub index_url: Option<String>,
    /// Never download the pinned MLflow wheel: use the cache (see `fetch`) or fail.
    #[arg(long, global = true)]
    pub offline: bool,
    /// The SQLAlchemy line whose DDL the scripts get, 2.0 or 2.1 (they differ in a few
    /// spellings, e.g. `sa.Uuid()` on MariaDB: CHAR(32) in 2.0, UUID in 2.1). Default: the
    /// SQLAlchemy installed beside the scripts' package, else 2.1.
    #[arg(long, global = true, value_name = "LINE", value_parser = parse_sqlalchemy)]
    pub sqlalchemy: Option<alembic_engine::dialect::SqlAlchemy>,
    /// Read MLflow's scripts from release X's `mlflow-skinny` wheel instead of the pinned one
    /// or an installed mlflow. A release newer than the pinned one is fetched from the index
    /// on first use; the sha256 the index lists is recorded in the cache and required from
    /// then on. `--mlflow-version X` does this by itself when X's schema is newer than the
    /// scripts at hand.
    #[arg(long, global = true, value_name = "X", conflicts_with = "scripts")]
    pub scripts_from_release: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum DirectionArg {
    Up,
    Down,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum DialectArg {
    Sqlite,
    Postgresql,
    Mysql,
    Mariadb,
}

impl DialectArg {
    pub fn database(self) -> alembic_engine::dialect::Database {
        use alembic_engine::dialect::Database;
        match self {
            DialectArg::Sqlite => Database::Sqlite,
            DialectArg::Postgresql => Database::Postgresql,
            DialectArg::Mysql => Database::Mysql,
            DialectArg::Mariadb => Database::Mariadb,
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum TransactionArg {
    PerRevision,
    All,
}

/// The database argument, which may come from the environment.
#[derive(Args, Debug)]
pub struct UrlArg {
    #[arg(value_name = "URL", help = URL_HELP)]
    pub url: Option<String>,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Seconds to wait for another upgrader's lock.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub lock_timeout: u64,
    /// One transaction per revision (resumable), or one for the whole run (SQLite,
    /// PostgreSQL).
    #[arg(long, value_enum, default_value_t = TransactionArg::PerRevision)]
    pub transaction: TransactionArg,
    /// MySQL/MariaDB: the statement an interrupted run may or may not have applied was
    /// applied; continue after it.
    #[arg(long, conflicts_with = "resume_retry")]
    pub resume_skip: bool,
    /// MySQL/MariaDB: that statement was not applied; run it again.
    #[arg(long)]
    pub resume_retry: bool,
    /// Run even when the live tables and columns differ from what the recorded revisions
    /// leave.
    #[arg(long)]
    pub ignore_drift: bool,
    /// Target the schema MLflow release X ships (its head revision; see `releases.toml`)
    /// instead of TARGET.
    #[arg(long, value_name = "X")]
    pub mlflow_version: Option<String>,
    /// Where backups go. SQLite: a consistent copy of the database before the first
    /// statement, beside the database unless this names a folder. PostgreSQL, MySQL, MariaDB:
    /// pg_dump / mariadb-dump / mysqldump into this folder first; without it, the command is
    /// printed.
    #[arg(long, value_name = "DIR")]
    pub backup: Option<std::path::PathBuf>,
    /// SQLite: no backup copy before the first statement.
    #[arg(long, conflicts_with = "backup")]
    pub no_backup: bool,
    /// When the database is half-way through its next revision (its first statements ran,
    /// by Python Alembic or another tool, but the version row is behind), run the rest of it.
    #[arg(long)]
    pub adopt_partial: bool,
    /// Refuse, before any change, a path that would break servers of the release before it
    /// (a rolling upgrade: old servers keep serving while it runs); `plan` shows the verdicts.
    #[arg(long)]
    pub require_compatible: bool,
    /// On an empty database, run every revision as Alembic does instead of creating the
    /// target's schema directly.
    #[arg(long)]
    pub replay: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Upgrade a database (default target: heads). An empty MLflow database first gets
    /// MLflow's initial tables, as `mlflow db upgrade` does. Ctrl-C stops at the next
    /// checkpoint; run it again to continue.
    Upgrade {
        #[command(flatten)]
        url: UrlArg,
        #[arg(value_name = "TARGET", help = TARGET_HELP, allow_hyphen_values = true)]
        target: Option<String>,
        #[command(flatten)]
        run: RunArgs,
    },
    /// A dry run against the live database, changing nothing: per revision its MLflow
    /// release and statements; per operation its kind (additive, destructive, table rewrite,
    /// data migration), what it locks and how, rows touched (live statistics), an estimated
    /// time, and whether servers of the old release keep working (rolling upgrades). Totals
    /// at the end. Reads only.
    Plan {
        #[command(flatten)]
        url: UrlArg,
        #[arg(value_name = "TARGET", help = TARGET_HELP, allow_hyphen_values = true)]
        target: Option<String>,
        /// Plan a downgrade to TARGET instead of an upgrade.
        #[arg(long)]
        downgrade: bool,
        /// Target the schema MLflow release X ships (its head revision).
        #[arg(long, value_name = "X", conflicts_with = "target")]
        mlflow_version: Option<String>,
        /// Plan even when the live tables and columns differ from what the recorded
        /// revisions leave.
        #[arg(long)]
        ignore_drift: bool,
        /// Plan the rest of a revision the database is half-way through (see upgrade).
        #[arg(long)]
        adopt_partial: bool,
        /// On an empty database, plan every revision instead of a direct install (see
        /// upgrade).
        #[arg(long)]
        replay: bool,
    },
    /// Downgrade a database to a target revision (`-1`: one step down; `base`: everything).
    #[command(allow_negative_numbers = true)]
    Downgrade {
        /// URL (see upgrade) and TARGET, or TARGET alone with the URL from the environment.
        #[arg(value_name = "[URL] TARGET", num_args = 1..=2, required = true, allow_hyphen_values = true)]
        args: Vec<String>,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Show the revisions recorded in the database's version table. Reads only.
    Current {
        #[command(flatten)]
        url: UrlArg,
    },
    /// Show the recorded revisions and the last run: running now (and who holds the lock),
    /// completed, failed with its error, stopped or interrupted; when it started, its
    /// direction, revisions done and remaining. Reads only.
    Status {
        #[command(flatten)]
        url: UrlArg,
    },
    /// Whether the database is at the target (default heads): exit 0 at it, 1 behind (the
    /// revisions to apply are listed), 2 ahead or on another branch, 3 cannot tell. Reads
    /// only; fit for a Kubernetes init container or readiness probe.
    Check {
        #[command(flatten)]
        url: UrlArg,
        #[arg(value_name = "TARGET", help = TARGET_HELP, allow_hyphen_values = true)]
        target: Option<String>,
        /// Whether a server of MLflow release X starts on this database (its schema must be
        /// exactly that release's head).
        #[arg(long, value_name = "X", conflicts_with = "target")]
        mlflow_version: Option<String>,
    },
    /// Record revisions in the version table without running migrations.
    Stamp {
        /// URL (see upgrade) and the revisions to record, or the revisions alone with the
        /// URL from the environment.
        #[arg(value_name = "[URL] REVISION", num_args = 1.., required = true)]
        args: Vec<String>,
        /// Replace whatever the table holds, even rows the scripts do not know.
        #[arg(long)]
        purge: bool,
        /// Seconds to wait for another upgrader's lock.
        #[arg(long, value_name = "SECS", default_value_t = 300)]
        lock_timeout: u64,
    },
    /// Print the SQL script for a range of revisions, without a database (like
    /// `alembic upgrade --sql`). From `base` on the MLflow project, the initial schema first.
    Sql {
        /// `[FROM:]TO`, e.g. `heads`, `base:heads`, `ae10:dc11`, `heads:base` (a downgrade).
        #[arg(value_name = "[FROM:]TO")]
        range: String,
        /// The database to write SQL for.
        #[arg(long, value_enum)]
        dialect: DialectArg,
    },
    /// Which revisions, from base to the heads, compile for a database and why the others are
    /// refused (file, line and what is not modeled); one line each, then the totals. Exit 0
    /// when all compile, 1 when any is refused. Needs no database: revisions are compiled as
    /// `upgrade` would run them, or with --sql as `sql` writes them.
    CompileReport {
        /// The database to compile for.
        #[arg(long, value_enum)]
        dialect: DialectArg,
        /// Compile as `sql` writes a script for later (scripts see
        /// `context.is_offline_mode()` true and read no rows).
        #[arg(long)]
        sql: bool,
    },
    /// Show the head revisions.
    Heads,
    /// Show the branch points and the revisions they branch into.
    Branches,
    /// List revisions, newest first. Given a database, each is marked current, applied (when,
    /// by which run and how long, where our journal saw it) or pending. Reads only.
    History {
        /// The database to mark revisions against (optional; no environment fallback).
        #[arg(value_name = "URL")]
        url: Option<String>,
        /// A range `[start]:[end]`, e.g. `base:heads`, `ae10:`, `:label@head`.
        #[arg(short = 'r', long = "rev-range", allow_hyphen_values = true)]
        range: Option<String>,
    },
    /// Show the revisions a spec names (`head`, `heads`, an id or prefix, `label@head`, `rev+1`).
    Show {
        #[arg(value_name = "REV")]
        rev: String,
    },
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
    /// Keep the journal (our own bookkeeping table) small.
    Journal {
        #[command(subcommand)]
        action: JournalAction,
    },
}

#[derive(Subcommand, Debug)]
pub enum JournalAction {
    /// Delete the journal rows of all but the most recent runs (an unfinished last run is
    /// always kept: a resume reads it).
    Prune {
        #[command(flatten)]
        url: UrlArg,
        /// How many of the most recent runs to keep.
        #[arg(long, value_name = "N", default_value_t = 10)]
        keep: usize,
        /// Seconds to wait for another upgrader's lock.
        #[arg(long, value_name = "SECS", default_value_t = 300)]
        lock_timeout: u64,
    },
}

/// `--sqlalchemy`: a release line or a version of it (`2.0`, `2.0.59`, `2.1`).
fn parse_sqlalchemy(value: &str) -> Result<alembic_engine::dialect::SqlAlchemy, String> {
    alembic_engine::dialect::SqlAlchemy::of_version(value)
        .ok_or_else(|| format!("'{value}' is not SQLAlchemy 2.0 or 2.1"))
}
