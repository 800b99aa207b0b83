//! Dialects: how each database spells the operations, reproducing what Alembic and SQLAlchemy
//! emit. One file (or folder) per database behind the `Dialect` trait; the pieces every SQL
//! dialect shares (quoting rules, literals, the small expression language) live here once.
//!
//! A renderer also advances the `SchemaModel`, because what an operation does can depend on
//! the table as it is (SQLite's batch rebuild copies the reflected table).

pub mod mysql;
pub mod postgresql;
pub(crate) mod spelling;
pub mod sqlalchemy;
pub mod sqlite;
pub mod sqltext;

use crate::ir::{BinaryOp, Literal, Op, SqlExpr, Statement, Table};
use crate::schema::{SchemaError, SchemaModel};
pub use sqlalchemy::SqlAlchemy;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RenderError {
    #[error("{0}")]
    Schema(#[from] SchemaError),
    /// Something the real Alembic would also refuse or fail on for this dialect.
    #[error("{0}")]
    Unsupported(String),
}

/// The databases this engine renders for and runs on, from URL to renderer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Database {
    Sqlite,
    Postgresql,
    Mysql,
    Mariadb,
}

impl Database {
    /// The database a name spells, as URLs and `--dialect` do: `sqlite`, `postgresql`
    /// (`postgres`), `mysql`, `mariadb`.
    pub fn from_name(name: &str) -> Option<Database> {
        Some(match name {
            "sqlite" => Database::Sqlite,
            "postgresql" | "postgres" => Database::Postgresql,
            "mysql" => Database::Mysql,
            "mariadb" => Database::Mariadb,
            _ => return None,
        })
    }

    /// Its name, MariaDB's included (scripts see `mysql` for both: [`Dialect::name`]).
    pub fn key(self) -> &'static str {
        match self {
            Database::Sqlite => "sqlite",
            Database::Postgresql => "postgresql",
            Database::Mysql => "mysql",
            Database::Mariadb => "mariadb",
        }
    }

    /// The longest name SQLAlchemy lets through for it (`max_identifier_length`); SQLite has
    /// no practical limit.
    pub fn max_identifier_length(self) -> Option<usize> {
        match self {
            Database::Sqlite => None,
            Database::Postgresql => Some(63),
            Database::Mysql | Database::Mariadb => Some(64),
        }
    }

    /// What a run sends on its own connection before its statements: session settings for
    /// the bulk work of data migrations, raised only where the server's are lower, and gone
    /// when the run's connection closes. PostgreSQL: `work_mem` 64 MB, so that grouping and
    /// sorting a large table (MLflow's `latest_metrics` from `metrics`) stays in memory
    /// instead of spilling to disk (4 MB by default).
    pub fn bulk_session(self) -> Option<&'static str> {
        match self {
            Database::Postgresql => Some(
                "SELECT set_config('work_mem', '64MB', false) FROM pg_settings \
                 WHERE name = 'work_mem' AND setting::bigint < 65536",
            ),
            _ => None,
        }
    }

    /// Its renderer, spelling as SQLAlchemy 2.1 does.
    pub fn dialect(self) -> std::sync::Arc<dyn Dialect> {
        self.dialect_for(SqlAlchemy::default())
    }

    /// Its renderer, spelling as the SQLAlchemy release line `sqlalchemy` does.
    pub fn dialect_for(self, sqlalchemy: SqlAlchemy) -> std::sync::Arc<dyn Dialect> {
        match self {
            Database::Sqlite => std::sync::Arc::new(sqlite::Sqlite { sqlalchemy }),
            Database::Postgresql => std::sync::Arc::new(postgresql::Postgresql { sqlalchemy }),
            Database::Mysql | Database::Mariadb => std::sync::Arc::new(mysql::Mysql {
                mariadb: self == Database::Mariadb,
                sqlalchemy,
            }),
        }
    }
}

/// The dialect for a name as URLs and `--dialect` spell it: `sqlite`, `postgresql`
/// (`postgres`), `mysql`, `mariadb`.
pub fn for_name(name: &str) -> Option<std::sync::Arc<dyn Dialect>> {
    Database::from_name(name).map(Database::dialect)
}

/// A database's spelling of operations.
pub trait Dialect: Send + Sync {
    /// `sqlite`, `postgresql` or `mysql` — the value scripts see as `dialect.name`.
    fn name(&self) -> &'static str;
    /// The database it renders for (MariaDB apart from MySQL).
    fn database(&self) -> Database;
    /// The SQLAlchemy line whose spelling it reproduces.
    fn sqlalchemy(&self) -> SqlAlchemy;
    /// Quote an identifier if the database needs it.
    fn quote(&self, ident: &str) -> String;
    /// A value written into a data statement (booleans and the clock differ per database).
    fn data_literal(&self, value: &crate::ir::Literal) -> String;
    /// The SQL statements for one operation; `model` is advanced past it.
    fn render(&self, model: &mut SchemaModel, op: &Op) -> Result<Vec<String>, RenderError>;
    /// Whether DDL can run inside a transaction (PostgreSQL, SQLite) or commits at once (MySQL).
    fn transactional_ddl(&self) -> bool;
    /// Whether an offline script is wrapped in `BEGIN;` … `COMMIT;`, as Alembic writes one for
    /// this database: PostgreSQL only (Alembic treats SQLite's DDL as non-transactional).
    fn wraps_offline_script(&self) -> bool {
        false
    }
    /// Make the statements of one revision's operations (`ops`, each operation's statements
    /// in order) cheaper to run with the same outcome; returns what was merged. None by
    /// default.
    fn optimise(&self, ops: &mut [Vec<crate::plan::Statement>]) -> Vec<crate::plan::Merge> {
        let _ = ops;
        Vec::new()
    }
    /// Merge statements across the revisions of a run (`ops`: every operation's statements,
    /// in order, over several revisions; `triggers`: the SQL of the schema's triggers). Each
    /// merge comes with the operations it drew from; their revisions then run as one
    /// checkpoint unit. None by default.
    fn optimise_across(
        &self,
        ops: &mut [Vec<crate::plan::Statement>],
        triggers: &[&str],
    ) -> Vec<crate::plan::Joined> {
        let _ = (ops, triggers);
        Vec::new()
    }
    /// A table of a model as a script would declare it, so that rendering its creation
    /// settles it into the same table: what creating it adds on its own left out (the CHECK of
    /// a non-native Enum or Boolean; each database adds what else it settles).
    fn declared(&self, table: &Table) -> Table {
        crate::schema::declared(table)
    }
    /// The statements that create a whole table at once (a direct install), settling it into
    /// the model as `render` of `CreateTable` does: by default the same statements; a database
    /// that declares indexes inside `CREATE TABLE` does so, one statement per table.
    fn create_whole_table(
        &self,
        model: &mut SchemaModel,
        table: &Table,
    ) -> Result<Vec<String>, RenderError> {
        self.render(
            model,
            &Op::CreateTable {
                table: table.clone(),
            },
        )
    }
    /// A statement that runs again while a run changes at least `at_least` rows (a script's
    /// draining loop), written as one statement an offline script can hold, where the
    /// database loops in SQL; `autocommit`: each run is committed on its own, as in the
    /// script's autocommit block. `None` where the database's client cannot loop.
    fn offline_loop(&self, sql: &str, at_least: u64, autocommit: bool) -> Option<String> {
        let _ = (sql, at_least, autocommit);
        None
    }
    /// A statement as an offline script writes it (Alembic's form: tabs as four spaces,
    /// trimmed, `;`, a blank line). MySQL's client needs `DELIMITER` around bodies with `;`.
    fn offline_statement(&self, sql: &str) -> String {
        format!("{};\n\n", sql.replace('\t', "    ").trim())
    }
}

/// SQLAlchemy's rule: quote names that are keywords, have upper-case letters, characters
/// other than letters, digits, `_` and `$`, or start with a digit or `$`.
pub fn needs_quotes(ident: &str, keywords: &[&str]) -> bool {
    let lower = ident.to_lowercase();
    ident.is_empty()
        || lower != ident
        || ident.starts_with(|c: char| c.is_ascii_digit() || c == '$')
        || !ident
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
        || keywords.binary_search(&lower.as_str()).is_ok()
}

/// A string literal in single quotes, quotes doubled.
pub fn string_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Literal rendering shared by the dialects; booleans differ per dialect.
pub fn literal(value: &Literal, bool_text: fn(bool) -> &'static str) -> String {
    match value {
        Literal::Null => "NULL".into(),
        Literal::Bool(b) => bool_text(*b).into(),
        Literal::Int(i) => i.to_string(),
        Literal::Float(f) => {
            if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e16 {
                format!("{f:.1}")
            } else {
                format!("{f}")
            }
        }
        Literal::Str(s) => string_literal(s),
        Literal::UtcNow => "CURRENT_TIMESTAMP".into(),
    }
}

/// Renders the small expression language of Core statements.
pub struct ExprWriter<'a> {
    pub quote: &'a dyn Fn(&str) -> String,
    /// How a literal value is spelled on this database.
    pub literal: fn(&Literal) -> String,
    /// Whether column references carry their table (`t.c` in a multi-table context).
    pub qualify: bool,
}

impl ExprWriter<'_> {
    pub fn expr(&self, e: &SqlExpr) -> String {
        match e {
            SqlExpr::Column { table, name } => match (table, self.qualify) {
                (Some(t), true) => format!("{}.{}", (self.quote)(t), (self.quote)(name)),
                _ => (self.quote)(name),
            },
            SqlExpr::Literal { value } => (self.literal)(value),
            SqlExpr::Sql { text } => text.clone(),
            SqlExpr::Binary { op, left, right } => {
                let op = match op {
                    BinaryOp::Eq => "=",
                    BinaryOp::NotEq => "!=",
                    BinaryOp::Lt => "<",
                    BinaryOp::LtE => "<=",
                    BinaryOp::Gt => ">",
                    BinaryOp::GtE => ">=",
                    BinaryOp::Like => "LIKE",
                    BinaryOp::Add => "+",
                    BinaryOp::Sub => "-",
                    BinaryOp::Mul => "*",
                    BinaryOp::Div => "/",
                    BinaryOp::Concat => "||",
                };
                // `x = NULL` means IS NULL in SQLAlchemy.
                if let SqlExpr::Literal {
                    value: Literal::Null,
                } = right.as_ref()
                {
                    if matches!(op, "=" | "!=") {
                        let not = if op == "!=" { " NOT" } else { "" };
                        return format!("{} IS{not} NULL", self.expr(left));
                    }
                }
                format!("{} {op} {}", self.expr(left), self.expr(right))
            }
            SqlExpr::InList {
                expr,
                values,
                negate,
            } => {
                let items: Vec<String> = values.iter().map(|v| self.expr(v)).collect();
                let not = if *negate { "NOT " } else { "" };
                format!("{} {not}IN ({})", self.expr(expr), items.join(", "))
            }
            SqlExpr::IsNull { expr, negate } => {
                let not = if *negate { " NOT" } else { "" };
                format!("{} IS{not} NULL", self.expr(expr))
            }
            SqlExpr::And { items } => self.join(items, " AND "),
            SqlExpr::Or { items } => self.join(items, " OR "),
            SqlExpr::Not { expr } => format!("NOT ({})", self.expr(expr)),
            SqlExpr::Func { name, args } => format!(
                "{name}({})",
                args.iter()
                    .map(|a| self.expr(a))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    fn join(&self, items: &[SqlExpr], sep: &str) -> String {
        let parts: Vec<String> = items
            .iter()
            .map(|i| match i {
                SqlExpr::And { .. } | SqlExpr::Or { .. } => format!("({})", self.expr(i)),
                _ => self.expr(i),
            })
            .collect();
        parts.join(sep)
    }

    /// An `op.execute` statement as SQL.
    pub fn statement(&self, stmt: &Statement) -> String {
        match stmt {
            Statement::Sql { text } => text.clone(),
            Statement::Update {
                table,
                values,
                filter,
            } => {
                let sets: Vec<String> = values
                    .iter()
                    .map(|(c, v)| format!("{}={}", (self.quote)(c), self.expr(v)))
                    .collect();
                let mut sql = format!("UPDATE {} SET {}", (self.quote)(table), sets.join(", "));
                if let Some(f) = filter {
                    sql += &format!(" WHERE {}", self.expr(f));
                }
                sql
            }
            Statement::Delete { table, filter } => {
                let mut sql = format!("DELETE FROM {}", (self.quote)(table));
                if let Some(f) = filter {
                    sql += &format!(" WHERE {}", self.expr(f));
                }
                sql
            }
            Statement::Insert {
                table,
                columns,
                rows,
            } => {
                let cols: Vec<String> = columns.iter().map(|c| (self.quote)(c)).collect();
                let rows: Vec<String> = rows
                    .iter()
                    .map(|r| {
                        format!(
                            "({})",
                            r.iter()
                                .map(|v| self.expr(v))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    })
                    .collect();
                format!(
                    "INSERT INTO {} ({}) VALUES {}",
                    (self.quote)(table),
                    cols.join(", "),
                    rows.join(", ")
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_follows_sqlalchemy_rules() {
        let kw = ["key", "order"];
        assert!(needs_quotes("key", &kw));
        assert!(needs_quotes("Key", &kw));
        assert!(needs_quotes("1abc", &kw));
        assert!(needs_quotes("a-b", &kw));
        assert!(!needs_quotes("timestamp", &kw));
        assert!(!needs_quotes("run_uuid", &kw));
    }

    #[test]
    fn keyword_lists_are_sorted_for_binary_search() {
        let kw = sqlite::keywords::KEYWORDS;
        assert!(kw.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn each_database_keeps_its_identity_from_name_to_renderer() {
        use Database::*;
        for database in [Sqlite, Postgresql, Mysql, Mariadb] {
            assert_eq!(Database::from_name(database.key()), Some(database));
            assert_eq!(database.dialect().database(), database, "{database:?}");
            // Scripts see `mysql` for MariaDB too.
            let seen = if database == Mariadb {
                "mysql"
            } else {
                database.key()
            };
            assert_eq!(database.dialect().name(), seen);
            assert_eq!(
                database.dialect().wraps_offline_script(),
                database == Postgresql
            );
            assert_eq!(
                database.dialect().transactional_ddl(),
                !matches!(database, Mysql | Mariadb)
            );
        }
        assert_eq!(Database::from_name("postgres"), Some(Postgresql));
        assert_eq!(Database::from_name("oracle"), None);
    }
}
