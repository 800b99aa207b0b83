"""Recipe for Airflow revision e812941398f4 (deadline callbacks move to the `callback` table).

Online, the script reads every deadline in batches and moves its inline callback into a new
`callback` row, keyed in Python; offline it deletes the deadlines instead. On a database
without deadlines both branches leave the same database. This recipe checks that first
(`refuse_if_rows`, the check `deadline_rows_to_move`: a database holding deadlines needs
Airflow's own migration for this revision), then runs the script's offline branch.
"""

from alembic import context

import alembic_engine
from alembic_engine import original
from alembic_engine.original import downgrade  # noqa: F401

revision = "e812941398f4"
down_revision = "b87d2135fa50"
script_sha256 = "be3e59955fdba33ac64ee73729597e1c49cc500775eec8ce2662a02f6145df6c"


def upgrade():
    if not context.is_offline_mode():
        alembic_engine.refuse_if_rows("deadline_rows_to_move", "SELECT id FROM deadline")
    with alembic_engine.offline_branch():
        original.upgrade()
