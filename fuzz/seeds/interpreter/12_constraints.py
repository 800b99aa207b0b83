"""merge of two lines with constraint changes"""
from alembic import op
import sqlalchemy as sa

revision = "ccf6"
down_revision = ("c1a0", "c2b0")
branch_labels = ("core",)
depends_on = "c3c0"


def upgrade():
    op.add_column("posts", sa.Column("editor_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("posts") as batch_op:
        batch_op.create_foreign_key("fk_posts_editor", "users", ["editor_id"], ["id"], ondelete="SET NULL")
    with op.batch_alter_table("users", recreate="always") as batch_op:
        batch_op.create_unique_constraint("uq_users_email", ["email"])
        batch_op.create_check_constraint("ck_users_name_len", sa.func.length(sa.column("name")) > 2)
        batch_op.drop_constraint("uq_users_name", type_="unique")
    op.drop_table("posts")


def downgrade():
    pass
