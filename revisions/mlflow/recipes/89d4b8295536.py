"""Recipe for MLflow revision 89d4b8295536 (create the latest_metrics table).

The script computes, through the ORM, the latest metric of every (run_uuid, key) — the row
with the greatest step, then the greatest timestamp at that step, then the greatest value,
grouped also by is_nan — creates `latest_metrics`, and inserts the results one object at a
time. Here the table is created exactly as the script declares it, and the same three-level
aggregate is one INSERT ... SELECT: the selection is the script's own query (max step per run
and key; max timestamp at that step; max value at that step and timestamp), so the rows are
the rows Python inserts, computed by the database without loading them into memory.
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
    q = "`" if op.get_bind().dialect.name == "mysql" else '"'
    k = f"{q}key{q}"
    ts = f"{q}timestamp{q}"
    op.execute(
        f"INSERT INTO latest_metrics ({k}, value, {ts}, step, is_nan, run_uuid) "
        f"SELECT m.{k}, MAX(m.value), m.{ts}, m.step, m.is_nan, m.run_uuid "
        f"FROM metrics AS m JOIN ("
        f"SELECT mt.run_uuid, mt.{k}, mt.step, MAX(mt.{ts}) AS max_ts "
        f"FROM metrics AS mt JOIN ("
        f"SELECT run_uuid, {k}, MAX(step) AS max_step FROM metrics GROUP BY {k}, run_uuid"
        f") AS ms ON mt.step = ms.max_step AND mt.run_uuid = ms.run_uuid AND mt.{k} = ms.{k} "
        f"GROUP BY mt.{k}, mt.run_uuid, mt.step"
        f") AS mts ON m.{ts} = mts.max_ts AND m.run_uuid = mts.run_uuid "
        f"AND m.{k} = mts.{k} AND m.step = mts.step "
        f"GROUP BY m.run_uuid, m.{k}, m.step, m.{ts}, m.is_nan"
    )


def downgrade():
    op.drop_table("latest_metrics")
