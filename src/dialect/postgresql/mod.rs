//! PostgreSQL (work in progress): the DDL SQLAlchemy's PostgreSQL compiler and Alembic's
//! PostgreSQL implementation write.

use crate::dialect::{Dialect, RenderError};
use crate::ir::Op;
use crate::schema::SchemaModel;

#[derive(Debug, Clone, Copy, Default)]
pub struct Postgresql;

impl Dialect for Postgresql {
    fn name(&self) -> &'static str {
        "postgresql"
    }

    fn quote(&self, ident: &str) -> String {
        format!("\"{}\"", ident.replace('"', "\"\""))
    }

    fn render(&self, _model: &mut SchemaModel, op: &Op) -> Result<Vec<String>, RenderError> {
        Err(RenderError::Unsupported(format!(
            "the PostgreSQL renderer is not built yet ({:?})",
            op.table()
        )))
    }

    fn transactional_ddl(&self) -> bool {
        true
    }
}
