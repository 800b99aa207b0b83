from alembic import op
import sqlalchemy as sa

revision = "c2b0"
down_revision = "b0"


def upgrade():
    op.add_column("users", sa.Column("nickname", sa.String(length=32), nullable=True))
    op.add_column("posts", sa.Column("views", sa.Integer(), server_default="0", nullable=False))
    op.create_index("ix_posts_user_title", "posts", ["user_id", "title"], unique=True)
    op.create_index("ix_users_lower_name", "users", [sa.text("lower(name)")])
    op.drop_index("ix_users_email", table_name="users")
    op.rename_table("posts", "articles")
    op.execute("UPDATE users SET nickname = name WHERE nickname IS NULL")


def downgrade():
    op.rename_table("articles", "posts")
    op.drop_index("ix_posts_user_title", table_name="posts")
    op.drop_column("posts", "views")
    op.drop_column("users", "nickname")
