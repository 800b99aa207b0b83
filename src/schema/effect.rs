//! What a statement does to the schema objects a live database can be asked about: the
//! objects, their states, and a statement's effects on them. Statements carry these from the
//! moment they are made (`plan::Statement`), so that resuming and adopting a half-applied
//! revision compare the live schema with effects, never with SQL text.

/// A schema object a live database can be asked about. Index names are per table on MySQL
/// and per schema elsewhere; they are kept with their table here and compared by name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Object {
    Table(String),
    Column(String, String),
    /// An index by its table (empty when a statement does not name it) and name; a live
    /// database is asked by name.
    Index(String, String),
    /// A named constraint (foreign key, unique, check) of a table.
    Constraint(String, String),
    /// A table's primary key, by its columns.
    PrimaryKey(String),
    /// An unnamed CHECK constraint, by its normalized clause.
    Check(String, String),
    Trigger(String),
    /// Whether a table created by the same revision holds rows (an `INSERT` into it ran).
    Rows(String),
}

impl std::fmt::Display for Object {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Object::Table(t) => write!(f, "table {t}"),
            Object::Column(t, c) => write!(f, "column {t}.{c}"),
            Object::Index(_, i) => write!(f, "index {i}"),
            Object::Constraint(t, c) => write!(f, "constraint {c} on {t}"),
            Object::PrimaryKey(t) => write!(f, "the primary key of {t}"),
            Object::Check(t, c) => write!(f, "CHECK ({c}) on {t}"),
            Object::Trigger(t) => write!(f, "trigger {t}"),
            Object::Rows(t) => write!(f, "rows in {t}"),
        }
    }
}

impl Object {
    /// The table the object belongs to.
    pub fn table(&self) -> Option<&str> {
        match self {
            Object::Table(t)
            | Object::Column(t, _)
            | Object::Constraint(t, _)
            | Object::PrimaryKey(t)
            | Object::Check(t, _)
            | Object::Rows(t) => Some(t),
            Object::Index(t, _) => (!t.is_empty()).then_some(t.as_str()),
            Object::Trigger(_) => None,
        }
    }
}

/// What the object is after a statement: absent, present, or (a primary key) present on
/// these columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    Absent,
    Present,
    Columns(Vec<String>),
    /// Rows: as many as table `0` holds (present when it holds any).
    RowsOf(String),
}

/// What one statement does to the objects it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// The object is in this state afterwards.
    Set(Object, State),
    /// Table `from` is renamed to `to`: its columns and constraints move with it.
    RenameTable { from: String, to: String },
    /// Every object of a dropped table goes with it.
    DropTable(String),
    /// Rows copied into `table` from a query (`INSERT … SELECT`): how many, none included,
    /// depends on the rows read. `copy_of`: the one table the query copies every row of (a
    /// batch rebuild's copy), whose rows then tell whether it ran.
    Fill {
        table: String,
        copy_of: Option<String>,
    },
    /// A temporary table: it lives as long as the session, the catalog never shows it, and
    /// what later statements do to it leaves no trace.
    Temporary(String),
}

/// How a statement can be judged from the schema afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reading {
    /// Its effects on named objects (they tell whether it ran).
    Effects(Vec<Effect>),
    /// Running it again is harmless, and its effect may not be visible (ALTER ... MODIFY,
    /// SET DEFAULT, IF \[NOT\] EXISTS forms).
    Idempotent,
    /// Rows, not schema: the schema cannot tell whether it ran.
    Data,
    /// Text the parser cannot read, or a statement kind not judged here.
    Unknown,
}

impl Object {
    /// The object's state in a live database's schema, or `None` when the schema cannot tell:
    /// rows are asked of the database separately, and unnamed CHECK clauses are compared only
    /// where `checks_comparable` (PostgreSQL names them and rewrites their text).
    pub fn state_in(&self, live: &super::SchemaModel, checks_comparable: bool) -> Option<State> {
        use crate::ir::Constraint;
        let present = |b: bool| if b { State::Present } else { State::Absent };
        let table = |t: &str| live.table(t);
        Some(match self {
            Object::Table(t) => present(table(t).is_some()),
            Object::Column(t, c) => present(table(t).and_then(|t| t.column(c)).is_some()),
            // Index names are per table on MySQL, per schema elsewhere; a statement that
            // does not name the table matches the name on any table.
            Object::Index(t, i) if t.is_empty() => present(
                live.tables
                    .iter()
                    .any(|t| t.indexes.iter().any(|x| &x.name == i)),
            ),
            Object::Index(t, i) => {
                present(table(t).is_some_and(|t| t.indexes.iter().any(|x| &x.name == i)))
            }
            Object::Constraint(t, c) => present(table(t).is_some_and(|t| {
                t.constraints.iter().any(|x| {
                    !matches!(x, Constraint::PrimaryKey { .. }) && x.name() == Some(c.as_str())
                })
            })),
            Object::PrimaryKey(t) => match table(t).and_then(|t| t.primary_key()) {
                Some(pk) => State::Columns(pk.columns().to_vec()),
                None => State::Absent,
            },
            Object::Check(t, clause) => {
                if !checks_comparable {
                    return None;
                }
                present(table(t).is_some_and(|t| {
                    t.constraints.iter().any(
                        |x| matches!(x, Constraint::Check { sqltext, .. } if sqltext == clause),
                    )
                }))
            }
            Object::Trigger(name) => present(live.triggers.iter().any(|x| &x.name == name)),
            Object::Rows(_) => return None,
        })
    }
}
