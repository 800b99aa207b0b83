"""Recipe for MLflow revision dc11669786a5 (job executor persistence).

The schema changes are the script's own, interpreted as they are. One line is not: when the
script cancels the jobs left pending or running, it stamps them with `int(time.time() * 1000)`,
the wall clock of the Python process at the moment the revision runs. A compiled plan is made
before it runs, and its statements must be the same text when an interrupted upgrade is
resumed (the journal compares their sha256), so the plan cannot hold a clock reading. This
recipe replaces that one helper (`_cancel_non_terminal_jobs`) with the same UPDATE — the same
rows (status pending or running), the same new status (cancelled) — whose timestamp is the
database server's clock in epoch milliseconds, read when the statement runs. The result is the
script's, up to the moment the clock is read: a comparison with Python's upgrade accepts
`jobs.last_update_time` of the cancelled rows within the time both upgrades took.
"""

from alembic import op

import alembic_engine

revision = "dc11669786a5"
down_revision = "75868b020152"
script_sha256 = "18c0bb7ea2f2dcce9d7cc94c99622779b9f18fefd9e1d3fe2648fae3a58c6bc9"

_PENDING = 0
_RUNNING = 1
_CANCELED = 5

_EPOCH_MS = {
    # Julian days since the Unix epoch, in milliseconds.
    "sqlite": "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)",
    "postgresql": "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)",
    "mysql": "CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS SIGNED)",
}


def _cancel_with_server_clock():
    now = _EPOCH_MS[op.get_bind().dialect.name]
    op.execute(
        f"UPDATE jobs SET status = {_CANCELED}, last_update_time = {now} "
        f"WHERE jobs.status IN ({_PENDING}, {_RUNNING})"
    )


# Before the original module runs, so that its module-level helper is this one.
alembic_engine.replace_nested("_cancel_non_terminal_jobs", _cancel_with_server_clock)

from alembic_engine.original import downgrade, upgrade  # noqa: E402,F401
