//! Every way the compiler refuses a revision script, end to end: a small project written by the
//! test, `mlflow-migrate sql heads --dialect sqlite` on it, and the refusal is exit code 1, no
//! SQL at all on stdout, and one line on stderr naming `file:line:column` and the construct.
//! A refusal is never a guess: Python constructs the interpreter does not model, imports and
//! APIs it does not model, `op` arguments it does not model, what SQLite cannot do outside
//! batch mode, what Alembic's batch mode itself refuses, and a recipe pinned to another script.
//!
//! Positions are given as the text the error must point at (its first occurrence in the
//! script), so the expectations read like the scripts.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

const REVISION: &str = "1a2b3c4d5e6f";

/// A revision script: the usual header, then `body` (which defines `upgrade`/`downgrade`).
fn script(body: &str) -> String {
    format!(
        "\"\"\"A revision written by the test\"\"\"\n\
         from alembic import op\n\
         import sqlalchemy as sa\n\
         \n\
         revision = \"{REVISION}\"\n\
         down_revision = None\n\
         \n\
         {body}"
    )
}

/// A generic Alembic project holding one revision file.
struct TempProject {
    _dir: tempfile::TempDir,
    root: PathBuf,
    file: PathBuf,
}

impl TempProject {
    fn new(source: &str) -> TempProject {
        TempProject::at_depth(source, "project", "")
    }

    /// The project at `<tmp>/<sub>`, its `alembic.ini` holding `ini_extra`.
    fn at_depth(source: &str, sub: &str, ini_extra: &str) -> TempProject {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join(sub);
        fs::create_dir_all(root.join("versions")).unwrap();
        fs::write(
            root.join("alembic.ini"),
            format!("[alembic]\nscript_location = %(here)s\n{ini_extra}"),
        )
        .unwrap();
        let file = root
            .join("versions")
            .join(format!("{REVISION}_written_by_the_test.py"));
        fs::write(&file, source).unwrap();
        TempProject {
            _dir: dir,
            root,
            file,
        }
    }

    fn sql(&self, range: &str, project: Option<&str>) -> Output {
        let mut cmd = support::mlflow_migrate();
        if let Some(p) = project {
            cmd.args(["--project", p]);
        }
        cmd.arg("--scripts")
            .arg(&self.root)
            .args(["sql", range, "--dialect", "sqlite"])
            .output()
            .unwrap()
    }
}

/// 1-based line and column of the first occurrence of `needle` in `source`.
fn position_of(source: &str, needle: &str) -> (usize, usize) {
    let offset = source
        .find(needle)
        .unwrap_or_else(|| panic!("the script does not contain {needle:?}"));
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, col)
}

/// The error message of a refused run, after checking the shape every refusal has.
fn refusal(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(1),
        "expected exit code 1, got {:?}; stderr:\n{stderr}",
        out.status
    );
    assert!(
        out.stdout.is_empty(),
        "a refused plan prints no SQL, got:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let message = stderr.trim_end();
    assert!(
        message.starts_with("mlflow-migrate: error: ") && !message.contains('\n'),
        "expected one line `mlflow-migrate: error: ...`, got:\n{stderr}"
    );
    message.to_string()
}

/// Compile `body` and expect a refusal pointing at `at` and naming `construct`.
fn refused(body: &str, at: &str, construct: &str) {
    let source = script(body);
    let project = TempProject::new(&source);
    let message = refusal(&project.sql("heads", None));
    let (line, col) = position_of(&source, at);
    let place = format!("{}:{line}:{col}", project.file.display());
    assert!(
        message.contains(&place),
        "the message should name {place} ({at:?}):\n{message}"
    );
    assert!(
        message.contains(construct),
        "the message should name the construct {construct:?}:\n{message}"
    );
}

const NO_DOWNGRADE: &str = "\n\ndef downgrade():\n    pass\n";

fn upgrade(lines: &str) -> String {
    format!("def upgrade():\n{lines}{NO_DOWNGRADE}")
}

/// `t(id INTEGER PRIMARY KEY, x INTEGER)`, created first by the upgrades that need a table.
const CREATE_T: &str = "    op.create_table(\"t\", sa.Column(\"id\", sa.Integer, primary_key=True), sa.Column(\"x\", sa.Integer))\n";

// ---------------------------------------------------------------------------------------------
// Python the interpreter does not model

#[test]
fn a_match_statement_is_refused() {
    refused(
        &upgrade(
            "    match op.get_bind().dialect.name:\n        case \"sqlite\":\n            pass\n",
        ),
        "match op",
        "unsupported construct: match statement",
    );
}

#[test]
fn a_helper_with_an_unmodeled_decorator_is_refused_at_the_decorator() {
    refused(
        &format!(
            "import functools\n\n\n@functools.cache\ndef dialect():\n    return op.get_bind().dialect.name\n\n\n{}",
            upgrade("    dialect()\n")
        ),
        "functools.cache",
        "`functools.cache` is not modeled (module `functools` as modeled does not define it)",
    );
}

#[test]
fn an_async_upgrade_is_refused() {
    refused(
        &format!("async def upgrade():\n    pass\n{NO_DOWNGRADE}"),
        "async def",
        "unsupported construct: async def",
    );
}

#[test]
fn a_metaclass_is_refused() {
    refused(
        &format!(
            "class Registry(type):\n    pass\n\n\n{}",
            upgrade("    pass\n")
        ),
        "type):",
        "a class deriving from the built-in type `type`",
    );
}

#[test]
fn a_generator_is_refused_where_it_is_iterated() {
    // Only a `@contextmanager` generator used in `with` is modeled.
    refused(
        &format!(
            "def batches():\n    yield [1, 2]\n\n\n{}",
            upgrade("    for batch in batches():\n        pass\n")
        ),
        "batches():\n        pass",
        "`generator batches` is not modeled (iterating it",
    );
}

#[test]
fn a_type_alias_statement_is_refused() {
    refused(
        &format!("type Names = list[str]\n\n\n{}", upgrade("    pass\n")),
        "type Names",
        "unsupported construct: type alias",
    );
}

#[test]
fn try_except_star_is_refused() {
    refused(
        &upgrade("    try:\n        pass\n    except* ValueError:\n        pass\n"),
        "try:",
        "unsupported construct: try/except*",
    );
}

#[test]
fn a_complex_literal_is_refused() {
    refused(
        &upgrade("    ratio = 2j\n"),
        "2j",
        "unsupported construct: complex number literal",
    );
}

#[test]
fn an_integer_literal_beyond_64_bits_is_refused() {
    refused(
        &upgrade("    big = 123456789012345678901234567890\n"),
        "1234567890123",
        "integer literal larger than 64 bits",
    );
}

#[test]
fn reading_a_file_is_refused() {
    refused(
        &upgrade("    rows = open(\"seed.csv\").read()\n"),
        "open(",
        "the built-in `open`",
    );
}

#[test]
fn exec_is_refused() {
    refused(
        &upgrade("    exec(\"op.drop_table('t')\")\n"),
        "exec(",
        "the built-in `exec`",
    );
}

#[test]
fn an_endless_loop_stops_at_the_iteration_limit() {
    refused(
        &upgrade("    while True:\n        pass\n"),
        "while True",
        "limit reached",
    );
}

#[test]
fn an_uncaught_exception_is_refused_with_its_message() {
    refused(
        &upgrade("    raise NotImplementedError(\"needs PostgreSQL\")\n"),
        "raise",
        "uncaught NotImplementedError: needs PostgreSQL",
    );
}

// ---------------------------------------------------------------------------------------------
// Imports and APIs the host does not model

#[test]
fn an_unmodeled_application_import_is_refused_where_it_is_used() {
    refused(
        &format!(
            "from myapp.models import Invoice\n\n\n{}",
            upgrade("    op.drop_table(Invoice.__tablename__)\n")
        ),
        "Invoice.__tablename__",
        "`myapp.models.Invoice` is not modeled (reading attribute `__tablename__`)",
    );
}

#[test]
fn an_unmodeled_standard_module_is_refused_where_it_is_used() {
    refused(
        &format!(
            "import os\n\n\n{}",
            upgrade("    if os.environ.get(\"SKIP_BACKFILL\"):\n        return\n")
        ),
        "os.environ",
        "`os` is not modeled (reading attribute `environ`)",
    );
}

#[test]
fn an_orm_session_query_is_refused() {
    refused(
        &upgrade("    sa.orm.Session(bind=op.get_bind()).query(1)\n"),
        "sa.orm.Session",
        "`sqlalchemy.orm.Session` is not modeled (`.query`",
    );
}

#[test]
fn reading_rows_through_the_connection_is_refused() {
    refused(
        &upgrade("    rows = op.get_bind().execute(sa.text(\"SELECT id FROM t\")).fetchall()\n"),
        "op.get_bind().execute",
        "reading rows (a data migration: it needs a recipe)",
    );
}

#[test]
fn an_unmodeled_inspector_method_is_refused() {
    refused(
        &upgrade("    views = sa.inspect(op.get_bind()).get_view_names()\n"),
        "sa.inspect",
        "Inspector: `get_view_names` is not supported",
    );
}

#[test]
fn an_enum_of_a_python_enum_class_is_refused() {
    refused(
        &format!(
            "import enum\n\n\nclass Plan(enum.Enum):\n    free = 1\n\n\n{}",
            upgrade("    op.create_table(\"t\", sa.Column(\"plan\", sa.Enum(Plan)))\n")
        ),
        "enum.Enum",
        "`enum` is not modeled",
    );
}

#[test]
fn an_unmodeled_sqlalchemy_type_is_refused() {
    refused(
        &upgrade("    op.create_table(\"t\", sa.Column(\"ids\", sa.ARRAY(sa.Integer)))\n"),
        "sa.ARRAY",
        "`sqlalchemy.ARRAY` is not modeled",
    );
}

#[test]
fn a_dialect_dependent_function_as_server_default_is_refused() {
    refused(
        &upgrade("    op.create_table(\"t\", sa.Column(\"at\", sa.DateTime, server_default=sa.func.now()))\n"),
        // The position is the column the default belongs to.
        "sa.Column(\"at\"",
        "func.now",
    );
}

// ---------------------------------------------------------------------------------------------
// `op` methods and arguments we do not model

#[test]
fn an_unmodeled_op_method_is_refused() {
    refused(
        &upgrade("    op.create_table_comment(\"t\", \"billing\")\n"),
        "op.create_table_comment",
        "`op.create_table_comment` is not supported",
    );
}

#[test]
fn create_table_in_another_schema_is_refused() {
    refused(
        &upgrade("    op.create_table(\"t\", sa.Column(\"id\", sa.Integer, primary_key=True), schema=\"billing\")\n"),
        "op.create_table",
        "op.create_table: `schema=`",
    );
}

#[test]
fn an_unmodeled_create_table_keyword_is_refused() {
    refused(
        &upgrade("    op.create_table(\"t\", sa.Column(\"id\", sa.Integer, primary_key=True), sqlite_autoincrement=True)\n"),
        "op.create_table",
        "keyword argument `sqlite_autoincrement`",
    );
}

#[test]
fn a_foreign_key_match_option_is_refused() {
    refused(
        &upgrade("    op.create_foreign_key(\"fk_a_b\", \"a\", \"b\", [\"b_id\"], [\"id\"], match=\"FULL\")\n"),
        "op.create_foreign_key",
        "op.create_foreign_key: `match=`",
    );
}

#[test]
fn batch_copy_from_is_refused() {
    refused(
        &upgrade("    table = sa.Table(\"t\", sa.MetaData(), sa.Column(\"id\", sa.Integer))\n    with op.batch_alter_table(\"t\", copy_from=table) as batch_op:\n        batch_op.drop_column(\"x\")\n"),
        "op.batch_alter_table",
        "op.batch_alter_table: `copy_from=`",
    );
}

#[test]
fn batch_reflect_args_are_refused() {
    refused(
        &upgrade("    with op.batch_alter_table(\"t\", reflect_args=[sa.Column(\"x\", sa.Integer)]) as batch_op:\n        batch_op.drop_column(\"x\")\n"),
        "op.batch_alter_table",
        "op.batch_alter_table: `reflect_args=`",
    );
}

#[test]
fn a_batch_inside_a_batch_is_refused() {
    refused(
        &upgrade(&format!("{CREATE_T}    with op.batch_alter_table(\"t\") as batch_op:\n        with batch_op.batch_alter_table(\"t\") as inner:\n            pass\n")),
        "batch_op.batch_alter_table",
        "a batch inside a batch",
    );
}

#[test]
fn an_unmodeled_batch_method_is_refused() {
    refused(
        &upgrade(&format!("{CREATE_T}    with op.batch_alter_table(\"t\") as batch_op:\n        batch_op.create_table_comment(\"billing\")\n")),
        "batch_op.create_table_comment",
        "BatchOperations: `batch_op.create_table_comment` is not supported",
    );
}

#[test]
fn an_index_without_a_name_is_refused() {
    refused(
        &upgrade(&format!(
            "{CREATE_T}    op.create_index(None, \"t\", [\"x\"])\n"
        )),
        "op.create_index",
        "an index needs a name",
    );
}

// ---------------------------------------------------------------------------------------------
// What SQLite cannot do outside batch mode (Alembic raises, or SQLite rejects the ALTER)

#[test]
fn sqlite_refuses_a_unique_constraint_outside_batch() {
    refused(
        &upgrade(&format!(
            "{CREATE_T}    op.create_unique_constraint(\"uq_t_x\", \"t\", [\"x\"])\n"
        )),
        "op.create_unique_constraint",
        "SQLite has no ALTER for constraints (unique constraint 'uq_t_x' on 't')",
    );
}

#[test]
fn sqlite_refuses_a_foreign_key_outside_batch() {
    refused(
        &upgrade(&format!(
            "{CREATE_T}    op.create_foreign_key(\"fk_t_x\", \"t\", \"t\", [\"x\"], [\"id\"])\n"
        )),
        "op.create_foreign_key",
        "SQLite has no ALTER for constraints (foreign key 'fk_t_x' on 't')",
    );
}

#[test]
fn sqlite_refuses_a_check_constraint_outside_batch() {
    refused(
        &upgrade(&format!(
            "{CREATE_T}    op.create_check_constraint(\"ck_t_x\", \"t\", \"x > 0\")\n"
        )),
        "op.create_check_constraint",
        "SQLite has no ALTER for constraints (check constraint 'ck_t_x' on 't')",
    );
}

#[test]
fn sqlite_refuses_dropping_a_constraint_outside_batch() {
    refused(
        &upgrade("    op.create_table(\"t\", sa.Column(\"x\", sa.Integer), sa.UniqueConstraint(\"x\", name=\"uq_t_x\"))\n    op.drop_constraint(\"uq_t_x\", \"t\", type_=\"unique\")\n"),
        "op.drop_constraint",
        "SQLite has no ALTER for constraints (dropping 'uq_t_x' on 't')",
    );
}

#[test]
fn sqlite_refuses_a_type_change_outside_batch() {
    refused(
        &upgrade(&format!("{CREATE_T}    op.alter_column(\"t\", \"x\", type_=sa.String(10), existing_type=sa.Integer())\n")),
        "op.alter_column",
        "SQLite cannot ALTER COLUMN 't.x'",
    );
}

#[test]
fn sqlite_refuses_a_nullability_change_outside_batch() {
    refused(
        &upgrade(&format!("{CREATE_T}    op.alter_column(\"t\", \"x\", existing_type=sa.Integer(), nullable=False)\n")),
        "op.alter_column",
        "SQLite cannot ALTER COLUMN 't.x'",
    );
}

#[test]
fn sqlite_refuses_adding_a_primary_key_column() {
    refused(
        &upgrade("    op.create_table(\"t\", sa.Column(\"x\", sa.Integer))\n    op.add_column(\"t\", sa.Column(\"id\", sa.Integer, primary_key=True))\n"),
        "op.add_column",
        "SQLite cannot add the primary key column 't.id'",
    );
}

#[test]
fn sqlite_refuses_adding_a_column_with_a_foreign_key() {
    refused(
        &upgrade(&format!("{CREATE_T}    op.add_column(\"t\", sa.Column(\"parent_id\", sa.Integer, sa.ForeignKey(\"t.id\")))\n")),
        "op.add_column",
        "SQLite cannot add the foreign key of 't.parent_id'",
    );
}

#[test]
fn sqlite_refuses_adding_a_unique_column() {
    refused(
        &upgrade(&format!(
            "{CREATE_T}    op.add_column(\"t\", sa.Column(\"code\", sa.String(8), unique=True))\n"
        )),
        "op.add_column",
        "SQLite cannot add the unique constraint of 't.code'",
    );
}

// ---------------------------------------------------------------------------------------------
// What Alembic's batch mode refuses (a batch is rendered when its `with` block ends, so the
// position is the `with`)

#[test]
fn batch_mode_refuses_an_unnamed_constraint() {
    refused(
        &upgrade(&format!("{CREATE_T}    with op.batch_alter_table(\"t\") as batch_op:\n        batch_op.create_foreign_key(None, \"t\", [\"x\"], [\"id\"])\n")),
        "with op.batch_alter_table",
        "a constraint added in batch mode on 't' must have a name",
    );
}

#[test]
fn a_batch_naming_convention_does_not_name_new_constraints() {
    // Alembic applies the convention to the reflected table only: a constraint the batch
    // creates without a name is refused all the same ("Constraint must have a name").
    refused(
        &upgrade(&format!("{CREATE_T}    convention = {{\"uq\": \"uq_%(table_name)s_%(column_0_name)s\"}}\n    with op.batch_alter_table(\"t\", naming_convention=convention) as batch_op:\n        batch_op.create_unique_constraint(None, [\"x\"])\n")),
        "with op.batch_alter_table",
        "must have a name",
    );
}

#[test]
fn batch_mode_refuses_dropping_a_missing_constraint() {
    // Alembic's batch raises a Python ValueError, which a script may catch (Airflow does).
    refused(
        &upgrade(&format!("{CREATE_T}    with op.batch_alter_table(\"t\") as batch_op:\n        batch_op.drop_constraint(\"uq_t_missing\", type_=\"unique\")\n")),
        "with op.batch_alter_table",
        "uncaught ValueError: No such constraint: 'uq_t_missing'",
    );
}

#[test]
fn a_missing_constraint_in_a_batch_is_a_value_error_the_script_can_catch() {
    let source = script(&upgrade(&format!(
        "{CREATE_T}    try:\n        with op.batch_alter_table(\"t\") as batch_op:\n            batch_op.drop_constraint(\"uq_t_missing\", type_=\"unique\")\n    except ValueError:\n        op.create_index(\"ix_t_x\", \"t\", [\"x\"])\n"
    )));
    let project = TempProject::new(&source);
    let out = project.sql("heads", None);
    let sql = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(sql.contains("CREATE INDEX ix_t_x ON t (x)"), "{sql}");
    assert!(
        !sql.contains("_alembic_tmp_t"),
        "the failed batch emits nothing: {sql}"
    );
}

#[test]
fn batch_mode_refuses_dropping_a_missing_index() {
    refused(
        &upgrade(&format!("{CREATE_T}    with op.batch_alter_table(\"t\") as batch_op:\n        batch_op.drop_index(\"ix_t_missing\")\n")),
        "with op.batch_alter_table",
        "index 'ix_t_missing' does not exist",
    );
}

#[test]
fn dropping_a_table_that_does_not_exist_is_refused() {
    refused(
        &upgrade("    op.drop_table(\"invoices\")\n"),
        "op.drop_table",
        "table 'invoices' does not exist",
    );
}

// ---------------------------------------------------------------------------------------------
// Whole scripts

#[test]
fn a_script_without_upgrade_is_refused_naming_the_file() {
    let project = TempProject::new(&script("def downgrade():\n    pass\n"));
    let message = refusal(&project.sql("heads", None));
    assert!(
        message.contains(&project.file.display().to_string())
            && message.contains("defines no `upgrade()`"),
        "{message}"
    );
}

#[test]
fn an_unsupported_construct_counts_only_in_the_direction_that_runs_it() {
    let source = script(
        "def upgrade():\n    op.create_table(\"t\", sa.Column(\"id\", sa.Integer, primary_key=True))\n\n\n\
         def downgrade():\n    match 1:\n        case 1:\n            op.drop_table(\"t\")\n",
    );
    let project = TempProject::new(&source);
    let up = project.sql("heads", None);
    assert!(
        up.status.success(),
        "the upgrade does not reach the match statement:\n{}",
        String::from_utf8_lossy(&up.stderr)
    );
    let message = refusal(&project.sql(&format!("{REVISION}:base"), None));
    let (line, col) = position_of(&source, "match 1");
    assert!(
        message.contains(&format!("{}:{line}:{col}", project.file.display()))
            && message.contains("match statement"),
        "{message}"
    );
}

/// A revision with the id of an MLflow revision that ships a recipe, but not MLflow's script:
/// its sha256 differs from the recipe's pin, so it is refused rather than migrated by a recipe
/// written for another script.
#[test]
fn a_script_whose_recipe_is_pinned_to_another_sha256_is_refused() {
    let source = "\"\"\"not MLflow's script\"\"\"\nfrom alembic import op\nimport sqlalchemy as sa\n\n\
                  revision = \"90e64c465722\"\ndown_revision = None\n\n\n\
                  def upgrade():\n    op.create_table(\"t\", sa.Column(\"id\", sa.Integer, primary_key=True))\n\n\n\
                  def downgrade():\n    op.drop_table(\"t\")\n";
    // Deep enough that the MLflow package root derived from it holds no initial models.
    let dir = tempfile::tempdir().unwrap();
    let root: PathBuf = dir.path().join("pkg/store/migrations");
    fs::create_dir_all(root.join("versions")).unwrap();
    let file = root.join("versions/90e64c465722_not_mlflows_script.py");
    fs::write(&file, source).unwrap();
    let out = support::mlflow_migrate()
        .args(["--project", "mlflow", "--scripts"])
        .arg(&root)
        .args(["sql", "heads", "--dialect", "sqlite"])
        .output()
        .unwrap();
    let message = refusal(&out);
    let sha = sha256_hex(&file);
    assert!(
        message.contains(&file.display().to_string())
            && message.contains("90e64c465722")
            && message.contains(&sha)
            && message.contains("pinned to"),
        "the message should name the file, its sha256 {sha} and the pin:\n{message}"
    );
    // What to do, in the operator's terms, without paths of this repository.
    assert!(
        !message.contains("revisions/mlflow") && message.contains("without --scripts"),
        "{message}"
    );
}

fn sha256_hex(path: &Path) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(fs::read(path).unwrap());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

// ---------------------------------------------------------------------------------------------
// Alembic's if_exists / if_not_exists: settled by the schema model, not refused

#[test]
fn if_exists_and_if_not_exists_leave_out_what_would_do_nothing() {
    let body = format!(
        "{CREATE_T}\
         \x20   op.create_table(\"t\", sa.Column(\"id\", sa.Integer, primary_key=True), if_not_exists=True)\n\
         \x20   op.add_column(\"t\", sa.Column(\"x\", sa.Integer), if_not_exists=True)\n\
         \x20   op.add_column(\"t\", sa.Column(\"y\", sa.Integer), if_not_exists=True)\n\
         \x20   op.create_index(\"ix_t_x\", \"t\", [\"x\"], if_not_exists=True)\n\
         \x20   op.create_index(\"ix_t_x\", \"t\", [\"x\"], if_not_exists=True)\n\
         \x20   op.drop_index(\"ix_nope\", table_name=\"t\", if_exists=True)\n\
         \x20   op.drop_column(\"t\", \"nope\", if_exists=True)\n\
         \x20   op.drop_table(\"nope\", if_exists=True)\n\
         \x20   op.drop_index(\"ix_t_x\", table_name=\"t\", if_exists=True)\n"
    );
    let project = TempProject::new(&script(&upgrade(&body)));
    let out = project.sql("heads", None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let count = |needle: &str| stdout.matches(needle).count();
    assert_eq!(count("CREATE TABLE t "), 1, "{stdout}");
    assert_eq!(count("ADD COLUMN x"), 0, "{stdout}");
    assert_eq!(count("ADD COLUMN y"), 1, "{stdout}");
    assert_eq!(count("CREATE INDEX ix_t_x"), 1, "{stdout}");
    assert_eq!(count("DROP INDEX ix_t_x"), 1, "{stdout}");
    assert_eq!(count("ix_nope") + count("nope"), 0, "{stdout}");
}
