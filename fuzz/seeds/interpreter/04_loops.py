from alembic import op
import sqlalchemy as sa

revision = "c4d0"
down_revision = "b0"

TABLES = ["users", "posts"]
COLUMNS = (("archived", sa.Boolean), ("note", sa.Text), ("rank", sa.SmallInteger))


def upgrade():
    for table in TABLES:
        for i, (name, type_) in enumerate(COLUMNS):
            if name == "rank" and table == "users":
                continue
            op.add_column(table, sa.Column(f"{name}", type_(), nullable=True))
        else:
            op.create_index(f"ix_{table}_archived", table, ["archived"])
    n = 0
    while True:
        n += 1
        if n > 3:
            break
        op.execute("UPDATE posts SET score = score + %d" % n)
    else:
        raise RuntimeError("not reached")
    for table, column in zip(TABLES, ["name", "title"]):
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column(column, existing_type=sa.String(), nullable=False)
    k = len(range(0, 10, 3)) + sum([1, 2, 3]) + max(1, 2) - min([4, 5])
    assert k == 8, k


def downgrade():
    for table in reversed(TABLES):
        op.drop_index(f"ix_{table}_archived", table_name=table)
        for name, _ in COLUMNS[::-1]:
            if (table, name) != ("users", "rank"):
                op.drop_column(table, name)
