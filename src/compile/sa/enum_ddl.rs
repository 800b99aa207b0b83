//! `Enum.create(bind)` and `.drop(bind)`: what a script asks of a named native enum type
//! itself, outside any table (Prefect creates its PostgreSQL enums so before adding the columns
//! that use them, since Alembic's `add_column` creates none).

use crate::compile::session::Bind;
use crate::interp::{Args, Ctx, Result, Value};
use crate::ir::Op;

/// `Enum.create(bind)` / `.drop(bind)` of a named native enum: `CREATE TYPE` / `DROP TYPE` on
/// PostgreSQL, nothing on SQLite. With `checkfirst` (PostgreSQL's `ENUM` by default), a type a
/// column of the model uses exists, and is not created again; one no column uses is dropped
/// `IF EXISTS`, which is what checking first does.
#[derive(Debug, Clone)]
pub(crate) struct EnumDdl {
    pub create: bool,
    pub name: String,
    pub values: Vec<String>,
    pub postgresql_class: bool,
}

impl EnumDdl {
    pub(crate) fn run(
        &self,
        args: Vec<Value>,
        kwargs: Vec<(String, Value)>,
        ctx: &mut Ctx,
    ) -> Result<Value> {
        let what = if self.create {
            "Enum.create"
        } else {
            "Enum.drop"
        };
        let mut a = Args::new(what.to_string(), args, kwargs);
        let bind = a.required(0, "bind", ctx)?;
        let checkfirst = match a.take(1, "checkfirst") {
            Some(v) => ctx.truthy(&v)?,
            None => self.postgresql_class,
        };
        a.finish(ctx)?;
        let Some(bind) = bind.downcast_native::<Bind>() else {
            return Err(ctx.native_unsupported(what, "a bind other than op.get_bind()"));
        };
        let session = bind.session.clone();
        let database = session.0.borrow().dialect.database();
        match database {
            crate::dialect::Database::Postgresql => {}
            crate::dialect::Database::Sqlite => return Ok(Value::None),
            // MySQL's ENUM is part of the column; SQLAlchemy's Enum creates nothing there.
            _ if !self.postgresql_class => return Ok(Value::None),
            _ => return Err(ctx.native_unsupported(
                what,
                "PostgreSQL's ENUM on MySQL (SQLAlchemy would send it PostgreSQL's CREATE TYPE)",
            )),
        }
        let exists = crate::dialect::postgresql::enum_types_in_use(&session.0.borrow().model)
            .contains(&self.name.as_str());
        let quoted = crate::dialect::postgresql::quote(&self.name);
        let text = match (self.create, checkfirst, exists) {
            (true, true, true) => return Ok(Value::None),
            (true, _, _) => {
                crate::dialect::postgresql::create_enum_type_sql(&self.name, &self.values)
            }
            (false, true, false) => format!("DROP TYPE IF EXISTS {quoted}"),
            (false, _, _) => format!("DROP TYPE {quoted}"),
        };
        session.emit(
            Op::Execute {
                statement: crate::ir::Statement::Sql { text },
            },
            ctx,
        )?;
        Ok(Value::None)
    }
}
