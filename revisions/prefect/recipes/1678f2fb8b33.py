"""Recipe for Prefect revisions 1678f2fb8b33 (SQLite) and f98ae6d8e2cc (PostgreSQL): work
queues into a default work pool.

The script is the same in both of Prefect's chains. When some work queue has no work pool (every queue, at this revision), the script creates the
pool `default-agent-pool` and, unless a queue is named `default`, that queue; moves every queue
without a pool into it; makes `default` its default queue; numbers the queues' `priority` 1, 2,
... in the order its `SELECT id, name FROM work_queue WHERE work_pool_id = ...` returns them; and
points the flow runs and deployments naming each queue at it. It does so by reading rows into
Python and looping over them, which cannot be planned ahead.

This recipe does the same with statements that decide in SQL, each guarded by the script's
condition (a queue without a pool), before any queue is moved. The priorities follow the order
the database returns the script's query in, after the move: `rowid` order on SQLite; on
PostgreSQL storage order, where a moved queue's new row version comes after those of the
queues that did not move (the `default` queue created in the pool), each group in the order
it was stored. The script's loops over flow runs and
deployments stop after one batch of 250 rows per queue (`rowcount <= batch_size` holds at once),
leaving the rest of a larger queue's runs unassigned, and which 250 is up to the database: a
queue with more than 250 flow runs or deployments to assign stops the run before any change
(the check `work_queue_runs_over_one_batch`; such a database needs Prefect's own migration for
this revision). Otherwise every run naming a queue of the pool gets it, as Python's batch does.
"""

from alembic import op

import alembic_engine
from alembic_engine.original import downgrade  # noqa: F401

revision = "1678f2fb8b33"
down_revision = "b9bda9f142f1"
script_sha256 = "dd7bb192a02c31d4eadb73311dc418db0fe908d2a5b91360a3760bdaa5eb3eef"
twins = {"f98ae6d8e2cc": "adab576224a4390e3b7454c4df21e9eed5da7af49b5b629e0772e07bf8b40eca"}

UNPOOLED = "EXISTS (SELECT 1 FROM work_queue WHERE work_pool_id IS NULL)"
POOL = "(SELECT id FROM work_pool WHERE name = 'default-agent-pool')"
# The queues that end in the pool: those without one, and `default` once created in it.
POOLED = f"(work_pool_id IS NULL OR work_pool_id = {POOL})"


def over_one_batch(table):
    return (
        f"SELECT work_queue_name FROM {table} "
        f"WHERE work_queue_id IS NULL AND {UNPOOLED} "
        "AND (work_queue_name IN (SELECT name FROM work_queue WHERE work_pool_id IS NULL) "
        "OR work_queue_name = 'default') "
        "GROUP BY work_queue_name HAVING COUNT(*) > 250"
    )


def upgrade():
    # Whether queue `earlier` comes before (or is) `work_queue` in the script's query.
    if op.get_bind().dialect.name == "sqlite":
        before = "earlier.rowid <= work_queue.rowid"
    else:
        before = (
            "(earlier.work_pool_id IS NOT NULL AND work_queue.work_pool_id IS NULL) OR "
            "((earlier.work_pool_id IS NULL) = (work_queue.work_pool_id IS NULL) "
            "AND earlier.ctid <= work_queue.ctid)"
        )
    alembic_engine.refuse_if_rows(
        "work_queue_runs_over_one_batch",
        f"{over_one_batch('flow_run')} UNION {over_one_batch('deployment')}",
    )
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_flow_run__work_queue_id_work_queue_name ON"
        " flow_run (work_queue_id, work_queue_name)"
    )
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_deployment__work_queue_id_work_queue_name ON"
        " deployment (work_queue_id, work_queue_name)"
    )
    op.execute(
        "INSERT INTO work_pool (name, type) "
        f"SELECT 'default-agent-pool', 'prefect-agent' WHERE {UNPOOLED}"
    )
    op.execute(
        f"INSERT INTO work_queue (name, work_pool_id) SELECT 'default', {POOL} "
        f"WHERE {UNPOOLED} AND NOT EXISTS (SELECT 1 FROM work_queue WHERE name = 'default')"
    )
    op.execute(
        "UPDATE work_pool SET default_queue_id = "
        f"(SELECT id FROM work_queue WHERE name = 'default' AND {POOLED}) "
        f"WHERE name = 'default-agent-pool' AND {UNPOOLED}"
    )
    op.execute(
        "UPDATE work_queue SET priority = "
        "(SELECT COUNT(*) FROM work_queue AS earlier "
        f"WHERE (earlier.work_pool_id IS NULL OR earlier.work_pool_id = {POOL}) "
        f"AND ({before})) "
        f"WHERE {POOLED} AND {UNPOOLED}"
    )
    for table in ("flow_run", "deployment"):
        op.execute(
            f"UPDATE {table} SET work_queue_id = "
            f"(SELECT id FROM work_queue WHERE name = {table}.work_queue_name AND {POOLED}) "
            f"WHERE work_queue_id IS NULL AND {UNPOOLED} AND work_queue_name IN "
            f"(SELECT name FROM work_queue WHERE {POOLED})"
        )
    op.execute(f"UPDATE work_queue SET work_pool_id = {POOL} WHERE work_pool_id IS NULL")
    with op.batch_alter_table("work_queue", schema=None) as batch_op:
        batch_op.drop_constraint("uq_work_queue__name")
        batch_op.create_unique_constraint(
            op.f("uq_work_queue__work_pool_id_name"), ["work_pool_id", "name"]
        )
        batch_op.alter_column("work_pool_id", nullable=False)
    op.execute("DROP INDEX IF EXISTS ix_flow_run__work_queue_id_work_queue_name")
    op.execute("DROP INDEX IF EXISTS ix_deployment__work_queue_id_work_queue_name")
