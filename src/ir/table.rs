//! Tables, columns, constraints and indexes: the nouns both the operations and the schema
//! model are made of.

use serde::Serialize;

use super::SqlType;

/// A server-side default.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum ServerDefault {
    /// `server_default="0"`: a string rendered as a quoted literal.
    Literal(String),
    /// `sa.text("...")` or a reflected default: SQL text rendered as is.
    Sql(String),
    /// `sa.true()` / `sa.false()`: rendered per dialect (`1`/`0` or `true`/`false`).
    Bool(bool),
}

/// `Computed(sqltext, persisted=...)`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Computed {
    pub sqltext: String,
    pub persisted: Option<bool>,
}

/// `Identity(always=..., start=..., increment=...)`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Identity {
    pub always: bool,
    pub start: Option<i64>,
    pub increment: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Autoincrement {
    Auto,
    Yes,
    No,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Column {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: SqlType,
    pub nullable: bool,
    pub primary_key: bool,
    pub server_default: Option<ServerDefault>,
    pub autoincrement: Autoincrement,
    /// `unique=True` on the column: an unnamed unique constraint.
    pub unique: bool,
    /// `index=True` on the column: an index named by the naming convention.
    pub index: bool,
    pub comment: Option<String>,
    pub computed: Option<Computed>,
    pub identity: Option<Identity>,
    /// `sa.ForeignKey(...)` given positionally to the column.
    pub foreign_keys: Vec<ForeignKey>,
}

impl Column {
    pub fn new(name: &str, ty: SqlType) -> Self {
        Column {
            name: name.to_string(),
            ty,
            nullable: true,
            primary_key: false,
            server_default: None,
            autoincrement: Autoincrement::Auto,
            unique: false,
            index: false,
            comment: None,
            computed: None,
            identity: None,
            foreign_keys: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForeignKey {
    pub name: Option<String>,
    pub columns: Vec<String>,
    pub ref_table: String,
    pub ref_columns: Vec<String>,
    pub ondelete: Option<String>,
    pub onupdate: Option<String>,
    pub deferrable: Option<bool>,
    pub initially: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Constraint {
    PrimaryKey {
        name: Option<String>,
        columns: Vec<String>,
    },
    ForeignKey(ForeignKey),
    Unique {
        name: Option<String>,
        columns: Vec<String>,
    },
    Check {
        name: Option<String>,
        sqltext: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConstraintKind {
    PrimaryKey,
    ForeignKey,
    Unique,
    Check,
}

impl Constraint {
    pub fn name(&self) -> Option<&str> {
        match self {
            Constraint::PrimaryKey { name, .. }
            | Constraint::Unique { name, .. }
            | Constraint::Check { name, .. } => name.as_deref(),
            Constraint::ForeignKey(fk) => fk.name.as_deref(),
        }
    }

    pub fn set_name(&mut self, new: Option<String>) {
        match self {
            Constraint::PrimaryKey { name, .. }
            | Constraint::Unique { name, .. }
            | Constraint::Check { name, .. } => *name = new,
            Constraint::ForeignKey(fk) => fk.name = new,
        }
    }

    pub fn kind(&self) -> ConstraintKind {
        match self {
            Constraint::PrimaryKey { .. } => ConstraintKind::PrimaryKey,
            Constraint::ForeignKey(_) => ConstraintKind::ForeignKey,
            Constraint::Unique { .. } => ConstraintKind::Unique,
            Constraint::Check { .. } => ConstraintKind::Check,
        }
    }

    /// The local columns the constraint names (none for a CHECK, whose text is opaque).
    pub fn columns(&self) -> &[String] {
        match self {
            Constraint::PrimaryKey { columns, .. } | Constraint::Unique { columns, .. } => columns,
            Constraint::ForeignKey(fk) => &fk.columns,
            Constraint::Check { .. } => &[],
        }
    }
}

/// One element of an index: a column, or an SQL expression (`sa.text("lower(name)")`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum IndexPart {
    Column(String),
    Expression(String),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Index {
    pub name: String,
    pub table: String,
    pub parts: Vec<IndexPart>,
    pub unique: bool,
    /// Dialect options such as `mysql_length`, `postgresql_where`, `postgresql_include`,
    /// `sqlite_where`, kept as rendered SQL fragments or literal values.
    pub dialect_options: Vec<(String, DialectOption)>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum DialectOption {
    Sql(String),
    Int(i64),
    Str(String),
    Bool(bool),
    Names(Vec<String>),
    /// `mysql_length={"col": 255}`.
    PerColumn(Vec<(String, i64)>),
    /// `postgresql_ops={"col": "gin_trgm_ops"}`.
    PerColumnText(Vec<(String, String)>),
}

impl Index {
    pub fn option(&self, key: &str) -> Option<&DialectOption> {
        self.dialect_options
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    pub fn column_names(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            IndexPart::Column(c) => Some(c.as_str()),
            IndexPart::Expression(_) => None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    pub name: String,
    pub columns: Vec<Column>,
    pub constraints: Vec<Constraint>,
    pub indexes: Vec<Index>,
    pub comment: Option<String>,
}

impl Table {
    pub fn new(name: &str) -> Self {
        Table {
            name: name.to_string(),
            columns: Vec::new(),
            constraints: Vec::new(),
            indexes: Vec::new(),
            comment: None,
        }
    }

    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    pub fn column_mut(&mut self, name: &str) -> Option<&mut Column> {
        self.columns.iter_mut().find(|c| c.name == name)
    }

    pub fn primary_key(&self) -> Option<&Constraint> {
        self.constraints
            .iter()
            .find(|c| c.kind() == ConstraintKind::PrimaryKey)
    }
}
