"""Recipe for MLflow revision 89d4b8295536 (create the latest_metrics table).

The script computes, through the ORM, the latest metric of every (run_uuid, key) — the row
with the greatest step, then the greatest timestamp at that step, then the greatest value,
grouped also by is_nan — creates `latest_metrics`, and inserts the results one object at a
time. Here the table is created exactly as the script declares it, and the same aggregate is
one INSERT ... SELECT: max step per run and key; max timestamp at that step; max value at that
step and timestamp. Whenever the script succeeds these are the rows Python inserts, computed by
the database without loading them into memory.

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
    # PostgreSQL has no MIN over booleans; "all of them NaN" is the same thing there.
    real_first = "bool_and(m.is_nan)" if dialect == "postgresql" else "MIN(m.is_nan)"
    max_step = (
        f"SELECT run_uuid, {k}, MAX(step) AS max_step FROM metrics GROUP BY {k}, run_uuid"
    )
    max_ts = (
        f"SELECT mt.run_uuid, mt.{k}, mt.step, MAX(mt.{ts}) AS max_ts "
        f"FROM metrics AS mt JOIN ({max_step}) AS ms ON mt.step = ms.max_step "
        f"AND mt.run_uuid = ms.run_uuid AND mt.{k} = ms.{k} "
        f"GROUP BY mt.{k}, mt.run_uuid, mt.step"
    )
    max_value = (
        f"SELECT mv.run_uuid, mv.{k}, mv.step, mv.{ts}, MAX(mv.value) AS max_value "
        f"FROM metrics AS mv JOIN ({max_ts}) AS mts ON mv.{ts} = mts.max_ts "
        f"AND mv.run_uuid = mts.run_uuid AND mv.{k} = mts.{k} AND mv.step = mts.step "
        f"GROUP BY mv.run_uuid, mv.{k}, mv.step, mv.{ts}"
    )
    op.execute(
        f"INSERT INTO latest_metrics ({k}, value, {ts}, step, is_nan, run_uuid) "
        f"SELECT m.{k}, m.value, m.{ts}, m.step, {real_first}, m.run_uuid "
        f"FROM metrics AS m JOIN ({max_value}) AS mx ON m.{ts} = mx.{ts} "
        f"AND m.run_uuid = mx.run_uuid AND m.{k} = mx.{k} AND m.step = mx.step "
        f"AND m.value = mx.max_value "
        f"GROUP BY m.run_uuid, m.{k}, m.step, m.{ts}, m.value"
    )


def downgrade():
    op.drop_table("latest_metrics")
