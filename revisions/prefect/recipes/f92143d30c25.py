"""Recipe for Prefect revision f92143d30c25 (SQLite): run states marked as holding data, in a
`sql` script too.

The script adds `has_data` (indexed) to `flow_run_state` and `task_run_state` with foreign keys
off, then sets it (`data IS NOT NULL AND data IS NOT 'null'`) 500 rows at a time until an
UPDATE changes fewer than 500 rows (an autocommit block). `upgrade` runs the script as it is:
each draining loop is one statement the executor repeats. The `sqlite3` client cannot loop, so
a `sql` script gets each as one UPDATE of every row the batches would reach: a pass sets
`has_data` to true or false, never NULL, so a row once set leaves the batches' selection, and
they select every row without `has_data` when the loop starts, each once.
"""

import sqlalchemy as sa
from alembic import context, op

from alembic_engine import original
from alembic_engine.original import downgrade  # noqa: F401

revision = "f92143d30c25"
down_revision = "f92143d30c24"
script_sha256 = "05e28f1e28f376b68658ee486997eb703b37b645f89bd34e129838eb20f6cffc"


def upgrade():
    if not context.is_offline_mode():
        return original.upgrade()
    op.execute("PRAGMA foreign_keys=OFF")
    for state in ("flow_run_state", "task_run_state"):
        with op.batch_alter_table(state) as batch_op:
            batch_op.add_column(sa.Column("has_data", sa.Boolean))
            batch_op.create_index(batch_op.f(f"ix_{state}__has_data"), ["has_data"], unique=False)
    with op.get_context().autocommit_block():
        for state in ("flow_run_state", "task_run_state"):
            op.execute(
                f"UPDATE {state} SET has_data = (data IS NOT NULL AND data IS NOT 'null') "
                "WHERE has_data IS NULL"
            )
