//! The compiler: runs a revision's `upgrade()`/`downgrade()` in the interpreter against
//! emulated `alembic.op` and `sqlalchemy`, producing typed operations and SQL per dialect.

pub mod sa;
