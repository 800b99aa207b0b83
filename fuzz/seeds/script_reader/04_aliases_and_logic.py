"""data fix with control flow

Revision ID: 5e5e5e5e0004
Revises: 77aa01bc02de
"""
import logging
from alembic import op
from sqlalchemy import orm, text
import sqlalchemy as sa

_logger = logging.getLogger(__name__)

REV = "5e5e5e5e0004"
PARENT = "77aa01bc02de"
revision = REV
down_revision = PARENT
branch_labels = ()
depends_on = None

STATUSES = {"new": 0, "done": 1, **{"x": 2}}


def _rows(conn, limit=100, *args, table="jobs", **kwargs):
    return conn.execute(text(f"SELECT id, status FROM {table} LIMIT :n"), {"n": limit}).fetchall()


class Job(object):
    __tablename__ = "jobs"

    def label(self):
        return "job-%d" % self.id


def upgrade():
    bind = op.get_bind()
    session = orm.Session(bind=bind)
    if bind.dialect.name == "sqlite":
        _logger.info("sqlite: batch mode")
    elif bind.dialect.name in ("mysql", "mariadb"):
        op.execute("SET foreign_key_checks = 0")
    else:
        pass
    for i, (row_id, status) in enumerate(_rows(bind)):
        if status not in STATUSES:
            continue
        session.execute(sa.text("UPDATE jobs SET status = :s WHERE id = :i"), {"s": STATUSES[status], "i": row_id})
    try:
        op.drop_constraint("fk_jobs_owner", "jobs", type_="foreignkey")
    except Exception as exc:  # noqa
        _logger.warning("no constraint: %s", exc)
    finally:
        session.commit()
    values = [v * 2 for v in range(3) if v != 1]
    assert len(values) == 2, "two values"
    lam = lambda x: -x if x > 0 else ~x
    del lam
    n = 0
    while n < 3:
        n += 1


def downgrade():
    raise NotImplementedError("no way back")
