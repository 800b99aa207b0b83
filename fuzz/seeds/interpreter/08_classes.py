from alembic import op
import sqlalchemy as sa

revision = "c8b2"
down_revision = "b0"


class ColumnPlan:
    default_type = sa.String

    def __init__(self, table, name, length=None):
        self.table = table
        self.name = name
        self.length = length

    def column(self):
        t = self.default_type(length=self.length) if self.length else sa.Text()
        return sa.Column(self.name, t, nullable=True)

    def __repr__(self):
        return f"ColumnPlan({self.table}.{self.name})"


class Audit:
    def __init__(self):
        self.entered = 0

    def __enter__(self):
        self.entered += 1
        return self

    def __exit__(self, kind, value, tb):
        self.entered -= 1
        return False

    def __call__(self, plan):
        op.add_column(plan.table, plan.column())
        return plan


def upgrade():
    plans = [ColumnPlan("users", "bio", 500), ColumnPlan("posts", "summary")]
    with Audit() as audit:
        done = [audit(p) for p in plans]
    assert audit.entered == 0 and isinstance(done[0], ColumnPlan)
    assert repr(done[1]) == "ColumnPlan(posts.summary)"
    assert getattr(plans[0], "length") == 500 and hasattr(plans[1], "table")
    setattr(plans[1], "name", "abstract")


def downgrade():
    op.drop_column("posts", "summary")
    op.drop_column("users", "bio")
