"""Recipe for Prefect revision db6bde582447 (SQLite): run state names backfilled, in a `sql`
script too.

The script fills `flow_run.state_name`, then `task_run.state_name`, from each run's current
state, 500 rows at a time until an UPDATE changes no row (an autocommit block). `upgrade` runs
that as it is: each draining loop is one statement the executor repeats. The `sqlite3` client
cannot loop, so a `sql` script gets each backfill as one UPDATE of every row the batches would
reach: a pass sets a row from its state (a table the statement does not change), so the rows
the batches select are those without a name and with a state when the loop starts, each set
once. (A run whose state has no name stays selected, and Python's loop never ends; the one
UPDATE does.)
"""

from alembic import context, op

from alembic_engine import original
from alembic_engine.original import downgrade  # noqa: F401

revision = "db6bde582447"
down_revision = "7f5f335cace3"
script_sha256 = "b912412d4c5c8ab997a3ca622d4f9f46ffbf94f19370a4b12e50c34b2f7ff37f"


def upgrade():
    if not context.is_offline_mode():
        return original.upgrade()
    with op.get_context().autocommit_block():
        for run in ("flow_run", "task_run"):
            op.execute(
                f"UPDATE {run} SET state_name = (SELECT name FROM {run}_state "
                f"WHERE {run}.state_id = {run}_state.id) "
                "WHERE state_name IS NULL AND state_id IS NOT NULL"
            )
