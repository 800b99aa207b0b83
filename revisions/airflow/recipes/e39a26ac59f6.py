"""Recipe for Airflow revision e39a26ac59f6 (pickled `dag_run.conf` to JSON).

Online, the script reads every run whose `conf` is set (other than the pickle of an empty
dict), unpickles it in Python and writes it back as JSON; offline it converts nothing and the
new `conf` is NULL. Unpickling cannot be done in SQL. On a database where no run holds such a
pickle, both branches leave the same database. So this recipe first checks that in the
database (`refuse_if_rows`: the run stops there, naming the check
`dag_run_conf_holds_pickles_to_convert`, before this revision changes anything; such a
database needs Airflow's own migration for this revision), then runs the script's offline
branch: the JSON column in, the pickled column out, renamed to `conf`.
"""

from alembic import context, op

import alembic_engine
from alembic_engine import original
from alembic_engine.original import downgrade  # noqa: F401

revision = "e39a26ac59f6"
down_revision = "38770795785f"
script_sha256 = "e10ff3b79401f8d5ae4cc82983287e30313b23028e67be83fc0d3a11d72e1d88"

# The pickle of `{}` (protocol 5), which the script skips, as a binary literal.
_EMPTY_PICKLE = {"postgresql": "'\\x80057d942e'::bytea"}


def upgrade():
    if not context.is_offline_mode():
        empty = _EMPTY_PICKLE.get(op.get_bind().dialect.name, "X'80057D942E'")
        alembic_engine.refuse_if_rows(
            "dag_run_conf_holds_pickles_to_convert",
            f"SELECT id FROM dag_run WHERE conf IS NOT NULL AND conf != {empty}",
        )
    with alembic_engine.offline_branch():
        original.upgrade()
