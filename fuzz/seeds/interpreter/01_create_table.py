"""create tags and a link table

Revision ID: c1a0
Revises: b0
"""
from alembic import op
import sqlalchemy as sa

revision = "c1a0"
down_revision = "b0"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "tags",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("label", sa.String(length=50), nullable=False),
        sa.Column("weight", sa.Numeric(precision=6, scale=2), server_default=sa.text("1.0")),
        sa.Column("kind", sa.Enum("plain", "system", name="tag_kind"), nullable=True),
        sa.Column("meta", sa.JSON(), nullable=True),
        sa.Column("made_at", sa.DateTime(timezone=False), server_default=sa.text("(CURRENT_TIMESTAMP)")),
        sa.PrimaryKeyConstraint("id", name="tags_pk"),
        sa.UniqueConstraint("label", name="tags_label_uq"),
    )
    op.create_table(
        "post_tags",
        sa.Column("post_id", sa.Integer(), sa.ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("tag_id", sa.Integer(), sa.ForeignKey("tags.id"), primary_key=True),
    )
    op.create_index(op.f("ix_post_tags_tag_id"), "post_tags", ["tag_id"], unique=False)


def downgrade():
    op.drop_index("ix_post_tags_tag_id", table_name="post_tags")
    op.drop_table("post_tags")
    op.drop_table("tags")
