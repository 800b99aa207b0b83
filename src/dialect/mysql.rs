//! MySQL and MariaDB (work in progress): the DDL SQLAlchemy's MySQL compiler and Alembic's
//! MySQL implementation write. Scripts see `dialect.name == "mysql"` on both.

use crate::dialect::{Dialect, RenderError};
use crate::ir::Op;
use crate::schema::SchemaModel;

#[derive(Debug, Clone, Copy, Default)]
pub struct Mysql {
    /// MariaDB spells some things differently (e.g. `DROP CONSTRAINT` for checks).
    pub mariadb: bool,
}

impl Dialect for Mysql {
    fn name(&self) -> &'static str {
        "mysql"
    }

    fn quote(&self, ident: &str) -> String {
        format!("`{}`", ident.replace('`', "``"))
    }

    fn render(&self, _model: &mut SchemaModel, op: &Op) -> Result<Vec<String>, RenderError> {
        Err(RenderError::Unsupported(format!(
            "the MySQL renderer is not built yet ({:?})",
            op.table()
        )))
    }

    fn transactional_ddl(&self) -> bool {
        false
    }
}
