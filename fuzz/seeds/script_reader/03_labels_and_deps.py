"""start the billing branch

Revision ID: 91c0ffee0001
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = "91c0ffee0001"
down_revision: Union[str, None] = None
branch_labels: Union[str, Sequence[str], None] = ("billing",)
depends_on: Union[str, Sequence[str], None] = ["3f9d", "reporting"]


def upgrade() -> None:
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("paid_at", sa.DateTime(), nullable=True))
        batch_op.alter_column("amount", existing_type=sa.Numeric(10, 2), type_=sa.Numeric(12, 4))


def downgrade() -> None:
    with op.batch_alter_table("invoices") as batch_op:
        batch_op.drop_column("paid_at")
