from alembic import op
import sqlalchemy as sa

revision = "c3c0"
down_revision = "b0"

NAMING = {
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
}


def upgrade():
    with op.batch_alter_table("posts", schema=None, naming_convention=NAMING) as batch_op:
        batch_op.add_column(sa.Column("edited", sa.Boolean(), nullable=True))
        batch_op.alter_column("title", existing_type=sa.String(length=200), type_=sa.String(length=300), nullable=True)
        batch_op.alter_column("score", new_column_name="rating", existing_type=sa.Float())
        batch_op.drop_constraint("ck_posts_score", type_="check")
        batch_op.create_unique_constraint(None, ["title"])
        batch_op.create_check_constraint("rating_range", "rating <= 10")
        batch_op.drop_column("body")
    with op.batch_alter_table("users", recreate="always") as batch_op:
        batch_op.alter_column("email", existing_type=sa.String(255), nullable=False, server_default="")
        batch_op.create_index("ix_users_created", ["created"])


def downgrade():
    with op.batch_alter_table("users") as b:
        b.drop_index("ix_users_created")
        b.alter_column("email", existing_type=sa.String(255), nullable=True, server_default=None)
    with op.batch_alter_table("posts", schema=None) as b:
        b.add_column(sa.Column("body", sa.Text()))
        b.drop_constraint("uq_posts_title", type_="unique")
        b.alter_column("rating", new_column_name="score")
        b.drop_column("edited")
