from alembic import op
import sqlalchemy as sa

revision = "c9c3"
down_revision = "b0"


def counter(start=0):
    count = start

    def bump(by=1):
        nonlocal count
        count += by
        return count

    return bump


def upgrade():
    bump = counter(10)
    bump()
    bump(by=5)
    key = lambda item: (-item[1], item[0])
    ranked = sorted({"a": 2, "b": 3, "c": 2}.items(), key=key)
    names = list(map(lambda p: p[0], ranked))
    odd = list(filter(lambda n: n % 2, range(bump())))
    make = lambda name, *types, nullable=True, **kw: sa.Column(name, *types, nullable=nullable, **kw)
    for name in names:
        op.add_column("posts", make("x_" + name, sa.Integer(), server_default=str(len(odd))))
    global LAST
    LAST = names[-1]
    op.alter_column("posts", "x_" + LAST, new_column_name="x_last", existing_type=sa.Integer())


def downgrade():
    for n in ["x_b", "x_a", "x_last"]:
        op.drop_column("posts", n)
