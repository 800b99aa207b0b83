"""Recipe for Airflow revision d59cbbef95eb (a UUID primary key for `task_instance`).

The script gives every existing task instance a new UUID version 7 in `id`, then makes `id` the
primary key. On PostgreSQL it does so in batches of `[database] migration_batch_size` rows,
looping until an UPDATE reports no row changed; on SQLite it reads every rowid into Python and
updates the rows one by one with a `uuid7()` made in Python. Neither loop can be planned ahead:
both depend on rows the database holds when the revision runs.

This recipe fills the same rows (`id IS NULL`) with one set-based UPDATE each:
- PostgreSQL: the script's own `uuid_generate_v7(...)` function over the same timestamp
  (`queued_dttm`, else `start_date`, else the clock), defined and dropped as the script does;
  batching only bounded the size of each statement, inside the same transaction.
- SQLite: `alembic_engine.UUID7`, a new UUID version 7 per row from the database's clock and
  random bytes: the value a Python `uuid7()` would have made at that moment, up to its random bits.

Every later step (the primary key and unique constraint, the foreign keys) is the script's own;
on MySQL, whose branch is already set-based, the script runs as it is.
"""

import sqlalchemy as sa
from alembic import op

import alembic_engine
from alembic_engine import original
from alembic_engine.original import downgrade  # noqa: F401

revision = "d59cbbef95eb"
down_revision = "05234396c6fc"
script_sha256 = "8a4be42ff46326737e5b97fe9efea855385d41f8affc2682072e1d964dd734c4"


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "mysql":
        return original.upgrade()
    id_type = original._get_type_id_column(dialect)
    op.add_column("task_instance", sa.Column("id", id_type, nullable=True))
    if dialect == "postgresql":
        op.execute(original.pg_uuid7_fn)
        op.execute(
            "UPDATE task_instance "
            "SET id = uuid_generate_v7(coalesce(queued_dttm, start_date, clock_timestamp())) "
            "WHERE id IS NULL"
        )
        op.execute(original.pg_uuid7_fn_drop)
        op.execute("ALTER TABLE IF EXISTS task_instance DROP CONSTRAINT task_instance_pkey CASCADE")
    else:
        op.execute(f"UPDATE task_instance SET id = {alembic_engine.UUID7} WHERE id IS NULL")
        with op.batch_alter_table("task_instance") as batch_op:
            batch_op.drop_constraint("task_instance_pkey", type_="primary")
    with op.batch_alter_table("task_instance") as batch_op:
        batch_op.alter_column("id", type_=id_type, nullable=False)
        batch_op.create_unique_constraint("task_instance_composite_key", original.ti_fk_cols)
        batch_op.create_primary_key("task_instance_pkey", ["id"])
    original.create_foreign_keys()
