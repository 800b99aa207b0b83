from alembic import op
import sqlalchemy as sa

revision = "c6f0"
down_revision = ("b0", "c5e0")

SPEC = {"alpha": 10, "beta": 20, "gamma": None}


def columns():
    return [
        sa.Column(k, sa.String(length=v) if v else sa.Text(), nullable=v is None)
        for k, v in sorted(SPEC.items())
    ]


def upgrade():
    extra = {f"c_{k}": (v or 0) * 2 for k, v in SPEC.items() if k != "beta"}
    seen = {len(k) for k in extra}
    pairs = [(a, b) for a in range(3) for b in range(a) if (a + b) % 2]
    op.create_table(
        "settings",
        sa.Column("id", sa.Integer(), primary_key=True),
        *columns(),
        *[sa.Column(name, sa.Integer(), server_default=str(default)) for name, default in extra.items()],
    )
    op.bulk_insert(
        sa.table("settings", sa.column("id", sa.Integer), sa.column("alpha", sa.String)),
        [{"id": i, "alpha": "x" * i} for i in range(1, 4)],
    )
    total = sum(x * y for x, y in pairs) + len(seen)
    op.execute(f"DELETE FROM settings WHERE id > {total}")
    assert any(k.startswith("c_") for k in extra) and all(v >= 0 for v in extra.values())


def downgrade():
    op.drop_table("settings")
