//! Symbolic evaluation of the Python subset Alembic revision scripts use (work in progress).
