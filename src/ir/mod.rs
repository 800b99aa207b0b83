//! The typed operations a revision performs: what a migration asks for, independent of how a
//! database spells it (that is `dialect`'s job). Ops are produced per dialect, because scripts
//! branch on the dialect name while they run.

mod table;
mod types;

use serde::Serialize;

pub use table::*;
pub use types::*;

/// A literal value in data statements.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Literal {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// The current time in UTC, as a timestamp value (`datetime.now(timezone.utc)`,
    /// `datetime.utcnow()`): the database's clock when the statement runs, spelled per
    /// database in the format SQLAlchemy stores a datetime in.
    UtcNow,
}

/// A small SQL expression language for the Core statements scripts build
/// (`update(t).where(t.c.x.in_([...])).values(y=...)`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SqlExpr {
    Column {
        table: Option<String>,
        name: String,
    },
    Literal {
        value: Literal,
    },
    /// SQL text used as is (`sa.text(...)`, `sa.literal_column(...)`).
    Sql {
        text: String,
    },
    Binary {
        op: BinaryOp,
        left: Box<SqlExpr>,
        right: Box<SqlExpr>,
    },
    InList {
        expr: Box<SqlExpr>,
        values: Vec<SqlExpr>,
        negate: bool,
    },
    IsNull {
        expr: Box<SqlExpr>,
        negate: bool,
    },
    And {
        items: Vec<SqlExpr>,
    },
    Or {
        items: Vec<SqlExpr>,
    },
    Not {
        expr: Box<SqlExpr>,
    },
    Func {
        name: String,
        args: Vec<SqlExpr>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BinaryOp {
    Eq,
    NotEq,
    Lt,
    LtE,
    Gt,
    GtE,
    Like,
    Add,
    Sub,
    Mul,
    Div,
    Concat,
}

/// A statement passed to `op.execute`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Statement {
    /// Raw SQL text (a string or `sa.text`).
    Sql { text: String },
    Update {
        table: String,
        values: Vec<(String, SqlExpr)>,
        filter: Option<SqlExpr>,
    },
    Delete {
        table: String,
        filter: Option<SqlExpr>,
    },
    Insert {
        table: String,
        columns: Vec<String>,
        rows: Vec<Vec<SqlExpr>>,
    },
}

/// `alter_column`'s arguments. `None` means "not changing"; the `existing_*` fields describe
/// the column as it is, for dialects that must restate it (MySQL).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlterColumn {
    pub table: String,
    pub column: String,
    pub nullable: Option<bool>,
    /// `Some(None)` drops the default.
    pub server_default: Option<Option<ServerDefault>>,
    pub new_name: Option<String>,
    pub type_: Option<SqlType>,
    pub autoincrement: Option<bool>,
    /// `Some(None)` drops the comment.
    pub comment: Option<Option<String>>,
    pub existing_type: Option<SqlType>,
    pub existing_nullable: Option<bool>,
    pub existing_server_default: Option<ServerDefault>,
    pub existing_comment: Option<String>,
    /// `postgresql_using`: the expression PostgreSQL converts the old values with on a type
    /// change (`ALTER COLUMN c TYPE t USING expr`).
    pub postgresql_using: Option<String>,
}

impl AlterColumn {
    pub fn new(table: &str, column: &str) -> Self {
        AlterColumn {
            table: table.to_string(),
            column: column.to_string(),
            nullable: None,
            server_default: None,
            new_name: None,
            type_: None,
            autoincrement: None,
            comment: None,
            existing_type: None,
            existing_nullable: None,
            existing_server_default: None,
            existing_comment: None,
            postgresql_using: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Recreate {
    Auto,
    Always,
    Never,
}

/// `with op.batch_alter_table(...) as batch_op:` and the operations made on `batch_op`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Batch {
    pub table: String,
    pub recreate: Recreate,
    /// `naming_convention={"fk": "fk_%(table_name)s_%(column_0_name)s_..."}`.
    pub naming_convention: Vec<(String, String)>,
    /// Constraints restated with `table_args` (e.g. unnamed CHECKs a rebuild would lose).
    pub table_args: Vec<Constraint>,
    /// `partial_reordering=[("a", "b"), ...]`.
    pub partial_reordering: Vec<Vec<String>>,
    pub ops: Vec<Op>,
}

/// One operation of a migration.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    CreateTable {
        table: Table,
    },
    DropTable {
        table: String,
    },
    RenameTable {
        table: String,
        new_name: String,
    },
    AddColumn {
        table: String,
        column: Column,
        insert_before: Option<String>,
        insert_after: Option<String>,
    },
    DropColumn {
        table: String,
        column: String,
    },
    AlterColumn(AlterColumn),
    CreateIndex {
        index: Index,
    },
    DropIndex {
        table: Option<String>,
        name: String,
    },
    AddConstraint {
        table: String,
        constraint: Constraint,
    },
    DropConstraint {
        table: String,
        name: String,
        kind: Option<ConstraintKind>,
    },
    Execute {
        statement: Statement,
    },
    BulkInsert {
        table: String,
        columns: Vec<String>,
        rows: Vec<Vec<Literal>>,
    },
    Batch(Batch),
}

impl Op {
    /// The table the operation changes, if it is about one table.
    pub fn table(&self) -> Option<&str> {
        match self {
            Op::CreateTable { table } => Some(&table.name),
            Op::DropTable { table }
            | Op::RenameTable { table, .. }
            | Op::AddColumn { table, .. }
            | Op::DropColumn { table, .. }
            | Op::AddConstraint { table, .. }
            | Op::DropConstraint { table, .. }
            | Op::BulkInsert { table, .. } => Some(table),
            Op::AlterColumn(a) => Some(&a.table),
            Op::CreateIndex { index } => Some(&index.table),
            Op::DropIndex { table, .. } => table.as_deref(),
            Op::Batch(b) => Some(&b.table),
            Op::Execute { .. } => None,
        }
    }
}
