from alembic import op
import sqlalchemy as sa

revision = "cbe5"
down_revision = "b0"

users = sa.table(
    "users",
    sa.column("id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("active", sa.Boolean),
)
posts = sa.Table(
    "posts",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer),
    sa.Column("status", sa.String(20)),
)


def upgrade():
    op.bulk_insert(users, [{"id": 1, "name": "root", "active": True}, {"id": 2, "name": "guest", "active": False}])
    op.execute(users.update().where(users.c.name == op.inline_literal("guest")).values(active=True))
    op.execute(posts.delete().where(sa.and_(posts.c.status == "spam", posts.c.user_id.in_([1, 2]))))
    op.execute(
        posts.update()
        .where(sa.or_(posts.c.user_id == 2, posts.c.status.is_(None)))
        .values(status="hidden")
    )
    conn = op.get_bind()
    conn.execute(sa.text("UPDATE posts SET status = 'ok' WHERE id = :id"), {"id": 3})
    op.execute(users.insert().values(id=3, name=sa.func.upper("x")))


def downgrade():
    op.execute(users.delete().where(users.c.id.in_([1, 2, 3])))
