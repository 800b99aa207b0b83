//! The compiler: runs a revision's `upgrade()`/`downgrade()` in the interpreter against
//! emulated `alembic.op` and `sqlalchemy`, producing typed operations and SQL per dialect.
//! (The pipeline lands once the `sqlalchemy` emulation is in.)

pub mod sa;
