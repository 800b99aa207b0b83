//! Any bytes as a revision script, run by the compiler: interpreting `upgrade()` (and then
//! `downgrade()`) against emulated `alembic.op` and `sqlalchemy` for SQLite must return a
//! compiled step or an error, never panic, hang or overflow the stack (revision scripts are
//! user input, and the interpreter's limits exist to turn runaway scripts into errors).
//!
//! Input: bytes decoded like a revision file. When the text parses but lacks a usable header
//! (`revision`, `down_revision`), one is prepended, or appended (the last assignment wins, so
//! this also overrides a bad one), so that most inputs reach the interpreter.
//!
//! The schema the step starts from is fixed: two related tables (`users`, `posts`), made once
//! by compiling `BASE` below. `INTERPRETER_FUZZ_VERBOSE=1` prints each input's outcome (useful
//! to check that the seeds compile).
#![no_main]

use std::path::Path;
use std::rc::Rc;

use alembic_engine::compile::{Compiler, Facts};
use alembic_engine::dialect::sqlite::Sqlite;
use alembic_engine::graph::Direction;
use alembic_engine::schema::SchemaModel;
use alembic_engine::script::{parse_revision, Revision, ScriptError};
use libfuzzer_sys::fuzz_target;

/// The revision that makes the starting schema.
const BASE: &str = r#"
from alembic import op
import sqlalchemy as sa

revision = "b0"
down_revision = None


def upgrade():
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.text("1"), nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=True),
        sa.UniqueConstraint("name", name="uq_users_name"),
    )
    op.create_index("ix_users_email", "users", ["email"], unique=False)
    op.create_table(
        "posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("score", sa.Float(), server_default="0", nullable=True),
        sa.Column("status", sa.String(length=20), server_default="draft", nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_posts_user_id", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_posts"),
        sa.CheckConstraint("score >= 0", name="ck_posts_score"),
    )
"#;

/// Header lines for inputs that have none (or a bad one).
const HEADERS: &[&str] = &[
    "revision = \"f0\"\ndown_revision = None\n",
    "revision = 'f1'\ndown_revision = 'b0'\nbranch_labels = None\ndepends_on = None\n",
];

struct Fixture {
    compiler: Compiler,
    model: SchemaModel,
    verbose: bool,
}

impl Fixture {
    fn new() -> Self {
        let compiler = Compiler::new(Rc::new(Sqlite), Facts::mlflow());
        let base = parse_revision(Path::new("base.py"), BASE, String::new())
            .expect("the base revision parses");
        let (_, model) = compiler
            .compile_step(&base, Direction::Up, SchemaModel::default())
            .expect("the base revision compiles");
        assert_eq!(model.tables.len(), 2, "the base revision makes two tables");
        Fixture {
            compiler,
            model,
            verbose: std::env::var_os("INTERPRETER_FUZZ_VERBOSE").is_some(),
        }
    }
}

thread_local! {
    // `Compiler` holds `Rc`s: one per thread (libFuzzer runs the target on one thread).
    static FIXTURE: Fixture = Fixture::new();
}

/// The input as a revision: as it is, else with a header before or after it.
fn revision(src: &str) -> Result<Revision, ScriptError> {
    let path = Path::new("fuzz.py");
    let first = match parse_revision(path, src, String::new()) {
        Ok(rev) => return Ok(rev),
        // Not Python: a header will not help.
        Err(e @ ScriptError::Syntax { .. }) => return Err(e),
        Err(e) => e,
    };
    for header in HEADERS {
        if let Ok(rev) = parse_revision(path, &format!("{header}{src}"), String::new()) {
            return Ok(rev);
        }
    }
    parse_revision(path, &format!("{src}\n{}", HEADERS[0]), String::new()).map_err(|_| first)
}

fuzz_target!(|data: &[u8]| {
    // The same lossy decoding `read_revision` applies to file bytes.
    let src = String::from_utf8_lossy(data);
    FIXTURE.with(|f| {
        let rev = match revision(&src) {
            Ok(rev) => rev,
            Err(e) => {
                if f.verbose {
                    eprintln!("not a revision: {e}");
                }
                return;
            }
        };
        let up = f
            .compiler
            .compile_step(&rev, Direction::Up, f.model.clone());
        // Then downgrade from wherever the upgrade left the schema.
        let after = match up {
            Ok((step, model)) => {
                if f.verbose {
                    eprintln!("upgrade: {} statements", step.statements().count());
                    for s in step.statements() {
                        eprintln!("  {s}");
                    }
                }
                model
            }
            Err(e) => {
                if f.verbose {
                    eprintln!("upgrade: error: {e}");
                }
                f.model.clone()
            }
        };
        let down = f.compiler.compile_step(&rev, Direction::Down, after);
        if f.verbose {
            match down {
                Ok((step, _)) => eprintln!("downgrade: {} statements", step.statements().count()),
                Err(e) => eprintln!("downgrade: error: {e}"),
            }
        }
    });
});
