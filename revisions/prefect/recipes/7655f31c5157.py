"""Recipe for Prefect revisions 7655f31c5157 (SQLite) and 4160a4841eed (PostgreSQL): flow run
notification policies removed.

The script turns each flow run notification policy into an automation built in Python (a new
`uuid4()` per trigger, the states it expects listed from a Python set, the message template
formatted by `str.format`) and then drops both notification tables. What it writes for a
policy cannot be planned ahead, and is not the same from one run of it to the next. On a
database where `flow_run_notification_policy` is empty, the loop has nothing to do and the
script is its table drops. This recipe checks that first (`empty_tables`: the check
`flow_run_notification_policies_to_migrate`; a database holding policies needs Prefect's own
migration for this revision), then runs the script, whose query of that table gives no row.
"""

import alembic_engine
from alembic_engine import original
from alembic_engine.original import downgrade  # noqa: F401

revision = "7655f31c5157"
down_revision = "bbca16f6f218"
script_sha256 = "42caa08f1b185d7740b8bed24b0739a1af0c808c0e6d241d9fde269643854bd8"
twins = {"4160a4841eed": "033a11d6f3caaec3894a0ded1aba242da27f4682578b3e0a6c1e2e16eb78757e"}


def upgrade():
    alembic_engine.empty_tables(
        "flow_run_notification_policies_to_migrate", "flow_run_notification_policy"
    )
    original.upgrade()
