"""create the inventory table

Revision ID: 3f9d2c1ab001
Revises:
Create Date: 2024-03-02 10:15:00
"""
from alembic import op
import sqlalchemy as sa

revision = "3f9d2c1ab001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "inventory",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("count", sa.Integer(), server_default="0"),
        sa.UniqueConstraint("sku", name="uq_inventory_sku"),
    )
    op.create_index("ix_inventory_sku", "inventory", ["sku"])


def downgrade():
    op.drop_index("ix_inventory_sku", table_name="inventory")
    op.drop_table("inventory")
