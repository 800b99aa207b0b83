//! Emulated `sqlalchemy` (work in progress).
