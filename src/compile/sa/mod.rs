//! The emulated `sqlalchemy` package: host objects ([`Native`](crate::interp::Native)) that
//! scripts build with `sa.Column(...)`, `sa.String(255)`, `sa.ForeignKeyConstraint(...)`,
//! `table.update().where(...)`, declarative models and so on, and the conversions that turn them
//! into our IR (`SqlType`, `Column`, `Constraint`, `Index`, `Table`, `SqlExpr`, `Statement`).
//!
//! Types stay symbolic: a MySQL `MEDIUMTEXT` is `SqlType::DialectSpecific` spelled the way
//! SQLAlchemy's MySQL compiler spells it, a `with_variant` chain is `SqlType::Variant`; the
//! dialect renderers decide what each becomes.
//!
//! # Limits
//! - No database access: `sa.inspect(bind)` and `Table(..., autoload_with=bind)` go through the
//!   [`Hooks::inspect`] callback the compiler supplies; without it they fail.
//! - Reading rows (`select`, `exists`, ORM sessions) is a data migration: the objects can be
//!   built, but turning them into a statement, or using a session, is a typed error.
//! - Expressions rendered to text here (CHECK constraints, computed columns, partial-index
//!   predicates) use generic SQL: identifiers are quoted only for case or special characters,
//!   not per-dialect reserved words; booleans render as `true`/`false`.
//! - Types, arguments and attributes not listed in this module are refused with an error naming
//!   them, never approximated.

mod args;
mod clauses;
mod column;
mod constraint;
mod convert;
mod custom_types;
mod declarative;
mod dialect_types;
mod dml;
mod enum_ddl;
mod expr;
mod from_ir;
mod lower;
mod module;
mod reflect;
pub(crate) mod table;
mod type_objects;
mod types;

#[cfg(test)]
mod tests;

use std::rc::Rc;

use crate::interp::{Ctx, Result, Value};

pub(crate) use args::{literal, UtcNow};
pub use convert::{
    column_name, column_value, is_column, is_constraint, is_index, is_table, is_type,
    table_from_items, to_column, to_constraint, to_dialect_option, to_index, to_server_default,
    to_sql_expr, to_sql_text, to_statement, to_statement_with_params, to_table, to_type,
    type_value,
};
pub use declarative::declarative_tables;
pub(crate) use dml::QueryObj;
pub use from_ir::table_value;

/// Answers `sa.inspect(bind)`: given the bind, return an inspector object (with
/// `get_columns`, `get_pk_constraint`, `get_foreign_keys`, `get_unique_constraints`,
/// `get_indexes`, `get_check_constraints` shaped like SQLAlchemy's).
pub type InspectFn = Rc<dyn Fn(&Value, &mut Ctx) -> Result<Value>>;

/// What the emulated package needs from the compiler that hosts it.
#[derive(Clone, Default)]
pub struct Hooks {
    /// `sa.inspect(...)`, also used by `Table(name, metadata, autoload_with=bind)`.
    pub inspect: Option<InspectFn>,
}

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hooks")
            .field("inspect", &self.inspect.is_some())
            .finish()
    }
}

/// The module `module` (`sqlalchemy`, `sqlalchemy.types`, `sqlalchemy.dialects.mysql`, ...), or
/// `None` if it is not modeled. Inspection is unavailable; see [`import_with`].
pub fn import(module: &str) -> Option<Value> {
    import_with(module, &Hooks::default())
}

/// Like [`import`], with the compiler's hooks (inspection). Each call builds fresh module
/// objects, so a host may adjust one without affecting others.
pub fn import_with(module: &str, hooks: &Hooks) -> Option<Value> {
    module::build(module, hooks)
}
