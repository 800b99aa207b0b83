"""Recipe for Prefect revision 22b7cb02e593 (both chains; SQLite's offline): run state
timestamps added and backfilled, in a SQLite `sql` script too.

The script adds `state_timestamp` (indexed) to `flow_run` and `task_run`, then fills it from
each run's current state, 500 rows at a time until an UPDATE changes no row (an autocommit
block). `upgrade`, and a PostgreSQL `sql` script (a `DO` block per loop), run the script as it
is. The `sqlite3` client cannot loop, so a SQLite `sql` script gets each backfill as one UPDATE
of every row the batches would reach: a pass sets a row from its state (a table the statement
does not change), so the rows the batches select are those without a timestamp and with a
state when the loop starts, each set once.
"""

import sqlalchemy as sa
from alembic import context, op
from prefect.server.utilities.database import Timestamp

from alembic_engine import original
from alembic_engine.original import downgrade  # noqa: F401

revision = "22b7cb02e593"
down_revision = "e757138e954a"
# SQLite's chain and PostgreSQL's each have a revision of this id.
script_sha256 = (
    "f700deebf9dd1cc06f840b6f3983ab5fc2767e365e6cee825006e1de5cd76e88",
    "457922eeabbdefd689322bcbea92229c8d2a8a8c0c8360595d0517bcb7e27682",
)


def upgrade():
    if not context.is_offline_mode() or op.get_bind().dialect.name != "sqlite":
        return original.upgrade()
    for run in ("flow_run", "task_run"):
        with op.batch_alter_table(run) as batch_op:
            batch_op.add_column(
                sa.Column("state_timestamp", Timestamp(timezone=True), nullable=True)
            )
            batch_op.create_index(f"ix_{run}__state_timestamp", ["state_timestamp"], unique=False)
    with op.get_context().autocommit_block():
        for run in ("flow_run", "task_run"):
            op.execute(
                f"UPDATE {run} SET state_timestamp = (SELECT timestamp FROM {run}_state "
                f"WHERE {run}.state_id = {run}_state.id) "
                "WHERE state_timestamp IS NULL AND state_id IS NOT NULL"
            )
