"""Recipe for Airflow revision 7645189f3479 (`try_id` and `task_instance_id` for
`task_instance_history`).

The script reads the id of every history row whose `try_id` is empty into Python, then updates
the rows one by one with a `uuid7()` made in Python: a loop over rows that cannot be planned
ahead. This recipe fills the same rows (`try_id IS NULL`) with one UPDATE whose value is
`alembic_engine.UUID7`, a new UUID version 7 per row from the database's clock and random bytes
(the value a Python `uuid7()` would have made at that moment, up to its random bits; cast to
`uuid` on PostgreSQL, whose column has that type).

The rest is the script's, step for step: the two nullable columns; each row's
`task_instance_id` taken from the task instance with the same dag, task, run and map index
(one UPDATE per database, in that database's join syntax); then both columns made NOT NULL,
the old integer `id` dropped and `try_id` made the primary key.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import alembic_engine
from alembic_engine.original import downgrade  # noqa: F401

revision = "7645189f3479"
down_revision = "e00344393f31"
script_sha256 = "418e0887beff7e6a1cd3ffb743347f7c047ff9af09d3d8670c365af8aa71c8aa"

_KEY = ("dag_id", "task_id", "run_id", "map_index")


def _uuid_column_type():
    return sa.String(length=36).with_variant(postgresql.UUID(), "postgresql")


def _same_task_instance(history, instance):
    return " AND ".join(f"{history}.{c} = {instance}.{c}" for c in _KEY)


def _fill_task_instance_id(dialect):
    match = _same_task_instance("task_instance_history", "task_instance")
    if dialect == "postgresql":
        op.execute(
            "UPDATE task_instance_history SET task_instance_id = task_instance.id "
            f"FROM task_instance WHERE {match}"
        )
    elif dialect == "mysql":
        op.execute(
            "UPDATE task_instance_history JOIN task_instance "
            f"ON {match} SET task_instance_history.task_instance_id = task_instance.id"
        )
    else:
        op.execute(
            "UPDATE task_instance_history SET task_instance_id = "
            f"(SELECT task_instance.id FROM task_instance WHERE {match})"
        )


def upgrade():
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table("task_instance_history", schema=None) as batch_op:
        batch_op.add_column(sa.Column("task_instance_id", _uuid_column_type()))
        batch_op.add_column(sa.Column("try_id", _uuid_column_type(), nullable=True))
    new_uuid = alembic_engine.UUID7
    if dialect == "postgresql":
        new_uuid = f"CAST({new_uuid} AS UUID)"
    op.execute(f"UPDATE task_instance_history SET try_id = {new_uuid} WHERE try_id IS NULL")
    _fill_task_instance_id(dialect)
    with op.batch_alter_table("task_instance_history") as batch_op:
        batch_op.alter_column("try_id", existing_type=_uuid_column_type(), nullable=False)
        batch_op.drop_column("id")
        batch_op.alter_column(
            "task_instance_id", nullable=False, existing_type=_uuid_column_type()
        )
        batch_op.create_primary_key("task_instance_history_pkey", ["try_id"])
