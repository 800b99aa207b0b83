"""legacy file named after its id, no revision variable"""
down_revision = None

from alembic import op


def upgrade():
    op.add_column("t", __import__("sqlalchemy").Column("c", __import__("sqlalchemy").Integer))


def downgrade():
    op.drop_column("t", "c")
