from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql

revision = "cad4"
down_revision = "b0"


def upgrade():
    bind = op.get_bind()
    dialect = bind.dialect.name
    if dialect == "postgresql":
        op.add_column("posts", sa.Column("extra", postgresql.JSONB(), nullable=True))
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    elif dialect in ("mysql", "mariadb"):
        op.add_column("posts", sa.Column("extra", mysql.LONGTEXT(), nullable=True))
    else:
        with op.batch_alter_table("posts") as batch_op:
            batch_op.add_column(sa.Column("extra", sa.Text(), nullable=True))
    inspector = sa.inspect(bind)
    if inspector.has_table("users"):
        cols = {c["name"]: c for c in inspector.get_columns("users")}
        if "email" in cols and cols["email"]["nullable"]:
            op.create_index("ix_users_name_email", "users", ["name", "email"])
    fks = inspector.get_foreign_keys("posts")
    with op.batch_alter_table("posts") as batch_op:
        for fk in fks:
            batch_op.drop_constraint(fk["name"], type_="foreignkey")
    if op.get_context().dialect.name != "sqlite" and not op.get_context().as_sql:
        op.alter_column("users", "name", type_=sa.String(128))
    names = [ix["name"] for ix in inspector.get_indexes("users")]
    uqs = inspector.get_unique_constraints("users")
    op.execute("-- %d indexes, %d unique, pk %s" % (len(names), len(uqs), inspector.get_pk_constraint("posts")))


def downgrade():
    if op.get_bind().engine.name == "sqlite":
        with op.batch_alter_table("posts") as batch_op:
            batch_op.drop_column("extra")
    else:
        op.drop_column("posts", "extra")
