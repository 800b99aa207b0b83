//! What differs per database driver, as one small trait (sqlx's `Migrate` per driver, refinery's
//! drivers): opening a connection, running SQL, reading rows as text, the upgrade lock and who
//! holds it, and the catalog an introspection reads. `sqlite.rs`, `postgres.rs` and `mysql.rs`
//! implement it; [`super::Conn`] dispatches to them, and everything said once for all databases
//! (version rows, row counts, assembling the live `SchemaModel`) is written against it.

use std::time::Duration;

use super::{Backend, DbError, DbUrl, Lock, LockHolder};
use crate::ir::Constraint;

/// Every row of a query's result, each column as text (`None` for NULL). The catalog queries
/// cast what they select to text, so one decoding serves every database.
pub(crate) type TextRows = Vec<Vec<Option<String>>>;

/// The first column of the first row, if any.
pub(crate) fn first_cell(rows: TextRows) -> Option<String> {
    rows.into_iter().next()?.into_iter().next().flatten()
}

/// The catalog queries of one database, each over the connection's current database or
/// schema, each column cast to text.
pub(crate) struct Catalog {
    /// The user tables: `name`.
    pub tables: &'static str,
    /// Every column: `table, column, type, nullable ('1' or '0')`, in table and column order.
    pub columns: &'static str,
    /// Every index (on SQLite and PostgreSQL also those behind primary keys and unique
    /// constraints): `table, index, unique ('1' or '0'), column (NULL for an expression)`, in
    /// the index's column order.
    pub indexes: &'static str,
    /// Every trigger: `name, table`.
    pub triggers: &'static str,
    /// Rows per table, from statistics where there are some: `table, rows` (-1 when unknown).
    pub row_estimates: &'static str,
}

/// One connection to one kind of database.
pub(crate) trait Driver: Sized {
    const BACKEND: Backend;
    const CATALOG: Catalog;

    /// Connect to `url`'s database; `create` lets a SQLite file be created.
    async fn open(url: &DbUrl, create: bool) -> Result<Self, DbError>;

    /// Run SQL text as is (one or several statements, no parameters); the rows it changed.
    async fn execute(&mut self, sql: &str) -> Result<u64, DbError>;

    /// Every row of a query, every column as text.
    async fn rows(&mut self, sql: &str) -> Result<TextRows, DbError>;

    /// Take the upgrade lock of `url`'s database and `version_table`, waiting up to `timeout`.
    async fn lock(
        &mut self,
        url: &DbUrl,
        version_table: &str,
        timeout: Duration,
    ) -> Result<Lock, DbError>;

    /// Who holds that lock, asked without taking it.
    async fn lock_holder(
        &mut self,
        url: &DbUrl,
        version_table: &str,
    ) -> Result<Option<LockHolder>, DbError>;

    /// Every constraint of every user table, with its table: primary keys, unique
    /// constraints, foreign keys and CHECKs (CHECK clauses normalized as statements' effects
    /// name them).
    async fn constraints(&mut self) -> Result<Vec<(String, Constraint)>, DbError>;

    async fn close(self);
}

/// Read every row of `$query` (a `sqlx::query`) on `$conn` as text: the same few lines for each
/// driver, whose connection types share no trait the decoding could be written against.
macro_rules! text_rows {
    ($conn:expr, $sql:expr) => {{
        use sqlx::Row as _;
        let sql: &str = $sql;
        sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_all($conn)
            .await
            .map(|rows| {
                rows.iter()
                    .map(|r| {
                        (0..r.len())
                            .map(|i| r.try_get::<Option<String>, _>(i).ok().flatten())
                            .collect::<Vec<_>>()
                    })
                    .collect::<Vec<_>>()
            })
            .map_err(|e| super::statement_error(sql, &e))
    }};
}

/// Run `$sql` as raw SQL on `$conn`; the rows it changed.
macro_rules! execute_raw {
    ($conn:expr, $sql:expr) => {{
        let sql: &str = $sql;
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
            .execute($conn)
            .await
            .map(|r| r.rows_affected())
            .map_err(|e| super::statement_error(sql, &e))
    }};
}

/// `Driver::execute` and `Driver::rows` for a driver that wraps one sqlx connection.
macro_rules! sqlx_io {
    () => {
        async fn execute(&mut self, sql: &str) -> Result<u64, DbError> {
            execute_raw!(&mut self.0, sql)
        }

        async fn rows(&mut self, sql: &str) -> Result<TextRows, DbError> {
            text_rows!(&mut self.0, sql)
        }
    };
}

pub(crate) use {execute_raw, sqlx_io, text_rows};
