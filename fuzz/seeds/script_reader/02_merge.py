"""merge the reporting and billing lines

Revision ID: 77aa01bc02de
Revises: 3f9d2c1ab001, 91c0ffee0002
"""
revision = '77aa01bc02de'
down_revision = ('3f9d2c1ab001', '91c0ffee0002')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
