"""Recipe for Airflow revision 808787349f22 (`deadline.callback` as one JSON document).

Online, the script reads every deadline in batches and rewrites its callback path and keyword
arguments as a JSON document made in Python; offline it deletes the deadlines instead. On a
database without deadlines both branches leave the same database. This recipe checks that
first (`refuse_if_rows`, the check `deadline_rows_to_convert`: a database holding deadlines
needs Airflow's own migration for this revision), then runs the script's offline branch.
"""

from alembic import context

import alembic_engine
from alembic_engine import original
from alembic_engine.original import downgrade  # noqa: F401

revision = "808787349f22"
down_revision = "3bda03debd04"
script_sha256 = "7b9bcfb53555caa1ecfcc0ce93b7acba727512bafbb8f54bb0b1d18a058eb28d"


def upgrade():
    if not context.is_offline_mode():
        alembic_engine.refuse_if_rows("deadline_rows_to_convert", "SELECT id FROM deadline")
    with alembic_engine.offline_branch():
        original.upgrade()
