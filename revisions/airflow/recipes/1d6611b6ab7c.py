"""Recipe for Airflow revision 1d6611b6ab7c (`callback.bundle_name`).

Online, the script reads every dag-processor callback and copies the bundle name out of its
JSON request data in Python; offline it adds the column and backfills nothing. On a database
without dag-processor callbacks both branches leave the same database. This recipe checks that
first (`refuse_if_rows`, the check `dag_processor_callbacks_to_backfill`: a database holding
them needs Airflow's own migration for this revision), then runs the script's offline branch.
"""

from alembic import context

import alembic_engine
from alembic_engine import original
from alembic_engine.original import downgrade  # noqa: F401

revision = "1d6611b6ab7c"
down_revision = "888b59e02a5b"
script_sha256 = "29e346307c2ee4f0fbb811a4480122c40b7a1855308b47203391cec9a9bc8194"


def upgrade():
    if not context.is_offline_mode():
        alembic_engine.refuse_if_rows(
            "dag_processor_callbacks_to_backfill",
            "SELECT id FROM callback WHERE type = 'dag_processor'",
        )
    with alembic_engine.offline_branch():
        original.upgrade()
