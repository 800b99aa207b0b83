from alembic import op
import sqlalchemy as sa

revision = "c5e0"
down_revision = "b0"

PREFIX = "legacy"


def upgrade():
    width = 12
    name = f"{PREFIX}_{'flag'!s}_{width:03d}"
    label = "{}-{:>6}-{x}".format("a", "b", x=3.5)
    pct = "%s is %.2f%% done (%r)" % (name, 12.345, None)
    op.add_column("users", sa.Column(name, sa.String(length=width), nullable=True))
    op.execute(
        f"UPDATE users SET {name} = '{label}' "
        f"WHERE id > {width * 2} AND email LIKE '%@example.com'"
    )
    op.execute(sa.text("UPDATE posts SET status = :s WHERE status = :old").bindparams(s="live", old="draft"))
    parts = "a,b,,c".split(",")
    joined = "|".join(p.upper().strip() for p in parts if p)
    assert joined == "A|B|C" and pct.startswith("legacy") and "%" in pct
    assert name.replace("_", "-").endswith("012") and label.count("-") == 2
    op.execute("-- " + joined.lower().center(20, "*") + " " + repr(label) + str(b"x"))


def downgrade():
    op.drop_column("users", "legacy_flag_012")
