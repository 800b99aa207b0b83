"""Recipe for Airflow revision eed27faa34e3 (pickled values out of `xcom`).

The script's schema changes and data statements are its own, run as they are. Two reads are
not, and this recipe states their answers instead:

- SQLite: the script probes `SELECT json_valid('{}')` to learn whether the JSON functions are
  there, to guard its sanitizing UPDATE with them. The SQLite this engine links (and every
  SQLite since 3.38, where JSON is built in) has them: the probe is answered "yes", which is
  the script's own answer on such a SQLite.
- PostgreSQL: the script reads the session's `statement_timeout` and, when it is above zero and
  under 1800 s, raises it to 1800 s for the transaction. This recipe does that in the
  database, one statement (a DO block with `SET LOCAL`) before the script runs, and then
  answers the script's read with the setting as it now stands for the script's purpose: no
  timeout under 1800 s left to raise.
"""

from alembic import op

import alembic_engine

revision = "eed27faa34e3"
down_revision = "9fc3fc5de720"
script_sha256 = "3879392716a09919f6cfa97923987ab79b497f7fc1976fe3bf0cb0ca8e8ee4e9"

_RAISE_SHORT_TIMEOUT = """DO $$
BEGIN
    IF current_setting('statement_timeout')::interval > interval '0'
        AND current_setting('statement_timeout')::interval < interval '1800 seconds' THEN
        SET LOCAL statement_timeout = '1800s';
    END IF;
END
$$"""


def _json_functions_available(conn):
    return True


alembic_engine.replace_nested("_sqlite_has_json1", _json_functions_available)
alembic_engine.answer(
    "SELECT setting FROM pg_settings WHERE name = 'statement_timeout'", [("0",)]
)

# After the replacement, so that the original module's helper is this recipe's.
from alembic_engine import original  # noqa: E402
from alembic_engine.original import downgrade  # noqa: E402,F401


def upgrade():
    if op.get_bind().dialect.name == "postgresql" and not op.get_context().as_sql:
        op.execute(_RAISE_SHORT_TIMEOUT)
    original.upgrade()
