"""Recipe for MLflow revision 89d4b8295536 (create the latest_metrics table).

The script computes, through the ORM, the latest metric of every (run_uuid, key) — the row
with the greatest step, then the greatest timestamp at that step, then the greatest value,
grouped also by is_nan — creates `latest_metrics`, and inserts the results one object at a
time. Here the table is created exactly as the script declares it, and the same aggregate is
one INSERT ... SELECT: per run and key, the first metric row ordered by step, timestamp and value,
each descending (a window function: one sort, where the script's three nested GROUP BY joins
take minutes on a large SQLite file). That is the script's max step per run and key, then max
timestamp at that step, then max value at that step and timestamp, so whenever the script
succeeds these are the rows Python inserts, computed by the database without loading them into
memory. (Window functions: SQLite 3.25, PostgreSQL, MariaDB 10.2, MySQL 8.) SQLite,
PostgreSQL and MariaDB first take the greatest step per run and key and rank only the rows
at that step: the same rows, found with less sorting.

One difference, on data the script cannot migrate: the script groups its last level by
`is_nan` as well, so when the latest (step, timestamp) of a metric holds both a NaN (stored as
value 0 with is_nan true) and a real value, it produces two rows with the same primary key and
the upgrade fails with an integrity error. Here that metric gets one row: the greatest stored
value, and on a tie between a NaN and a real 0.0, the real one. (Documented in the README; the
ties test asserts Python's failure and this choice.)
"""

import time

from alembic import op
from sqlalchemy import BigInteger, Boolean, Column, Float, ForeignKey, PrimaryKeyConstraint, String

revision = "89d4b8295536"
down_revision = "7ac759974ad8"
script_sha256 = "600f0e8b50b97be22f93a5f968fc9d6f70e5a084d8440520a6c6485631d1bd72"


def upgrade():
    op.create_table(
        "latest_metrics",
        Column("key", String(length=250)),
        Column("value", Float(precision=53), nullable=False),
        Column("timestamp", BigInteger, default=lambda: int(time.time())),
        Column("step", BigInteger, default=0, nullable=False),
        Column("is_nan", Boolean, default=False, nullable=False),
        Column("run_uuid", String(length=32), ForeignKey("runs.run_uuid"), nullable=False),
        PrimaryKeyConstraint("key", "run_uuid", name="latest_metric_pk"),
    )
    dialect = op.get_bind().dialect.name
    q = "`" if dialect == "mysql" else '"'
    k = f"{q}key{q}"
    ts = f"{q}timestamp{q}"
    # One sort of the metrics per (run, key): the first row by step, then timestamp, then
    # value, each descending, then a real value before a NaN (is_nan false sorts first).
    ranked = (
        f"SELECT m.{k}, m.value, m.{ts}, m.step, m.is_nan, m.run_uuid, "
        f"ROW_NUMBER() OVER (PARTITION BY m.run_uuid, m.{k} "
        f"ORDER BY m.step DESC, m.{ts} DESC, m.value DESC, m.is_nan ASC) AS place "
        f"FROM metrics AS m"
    )
    if dialect in ("sqlite", "postgresql"):
        # SQLite and PostgreSQL: the greatest step per (run, key) first (one GROUP BY), then
        # the window over the few rows at that step. CROSS JOIN makes SQLite scan metrics once
        # and probe the per-(run, key) maxima through an automatic index (4.4 s -> 2.0 s at 1M
        # rows); a plain JOIN lets it probe metrics by key alone instead (minutes). PostgreSQL
        # hashes the maxima and joins (0.88 s -> 0.45 s at 1M rows, with the run's work_mem).
        # key, run_uuid and step are NOT NULL here, so the equality join loses no row.
        latest = (
            f"SELECT run_uuid, {k}, MAX(step) AS step FROM metrics GROUP BY run_uuid, {k}"
        )
        ranked = (
            f"SELECT m.{k}, m.value, m.{ts}, m.step, m.is_nan, m.run_uuid, "
            f"ROW_NUMBER() OVER (PARTITION BY m.run_uuid, m.{k} "
            f"ORDER BY m.{ts} DESC, m.value DESC, m.is_nan ASC) AS place "
            f"FROM metrics AS m CROSS JOIN ({latest}) AS g "
            f"WHERE g.run_uuid = m.run_uuid AND g.{k} = m.{k} AND g.step = m.step"
        )
    settings = ""
    if dialect == "mysql" and op.get_bind().dialect.is_mariadb:
        # MariaDB: the greatest step per (run, key) materialized once with a unique key, and
        # every metric row probed against it (a semi-join), then the window over the few rows
        # at that step (6.9 s -> 2.5 s at 1M rows). Only materialization is allowed for this
        # statement: the other strategy, IN-to-EXISTS, would group again for every row. (A
        # JOIN with the maxima as a derived table got no key there, and ran for minutes.)
        latest = f"SELECT run_uuid, {k}, MAX(step) FROM metrics GROUP BY run_uuid, {k}"
        ranked = (
            f"SELECT m.{k}, m.value, m.{ts}, m.step, m.is_nan, m.run_uuid, "
            f"ROW_NUMBER() OVER (PARTITION BY m.run_uuid, m.{k} "
            f"ORDER BY m.{ts} DESC, m.value DESC, m.is_nan ASC) AS place "
            f"FROM metrics AS m WHERE (m.run_uuid, m.{k}, m.step) IN ({latest})"
        )
        settings = "SET STATEMENT optimizer_switch='materialization=on,in_to_exists=off' FOR "
    op.execute(
        f"{settings}INSERT INTO latest_metrics ({k}, value, {ts}, step, is_nan, run_uuid) "
        f"SELECT r.{k}, r.value, r.{ts}, r.step, r.is_nan, r.run_uuid "
        f"FROM ({ranked}) AS r WHERE r.place = 1"
    )


def downgrade():
    op.drop_table("latest_metrics")
