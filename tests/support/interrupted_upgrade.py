"""An upgrade by MLflow's own tooling that dies part-way, as a killed pod does: `mlflow db
upgrade`'s steps (reference.py's MlflowTracking.build) with a hook that ends the process
abruptly (os._exit, no cleanup, no rollback sent) right after the n-th schema or data
statement of the migrations has run.

Usage (with the reference virtualenv's interpreter): interrupted_upgrade.py URL SCRIPTS TO N

Exits 17 when it died as asked; any other status means the upgrade ended before statement n.
"""

import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from sqlalchemy import event  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

import reference  # noqa: E402

CHANGES = re.compile(r"^\s*(CREATE|ALTER|DROP|INSERT|UPDATE|DELETE|RENAME)\b", re.IGNORECASE)


def main():
    url, scripts, to, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    seen = 0

    @event.listens_for(Engine, "after_cursor_execute")
    def count(conn, cursor, statement, parameters, context, executemany):
        nonlocal seen
        if CHANGES.match(statement) and "alembic_version" not in statement:
            seen += 1
            if seen == n:
                sys.stdout.flush()
                os._exit(17)

    reference.MlflowTracking(scripts).build(url, to)
    return 0


if __name__ == "__main__":
    sys.exit(main())
