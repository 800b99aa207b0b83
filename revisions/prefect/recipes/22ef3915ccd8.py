"""Recipe for Prefect revision 22ef3915ccd8 (SQLite): block documents' type names indexed and
backfilled, in a `sql` script too.

The script indexes `block_document (block_type_name, name)`, then fills `block_type_name` from
each document's block type, 500 rows at a time until an UPDATE changes no row (an autocommit
block). `upgrade` runs the script as it is: the draining loop is one statement the executor
repeats. The `sqlite3` client cannot loop, so a `sql` script gets the backfill as one UPDATE of
every row the batches would reach: a pass sets a row from its block type (a table the statement
does not change), so the rows the batches select are those without a type name when the loop
starts, each set once. (A document whose type is gone stays selected, and Python's loop never
ends; the one UPDATE does.)
"""

from alembic import context, op

from alembic_engine import original
from alembic_engine.original import downgrade  # noqa: F401

revision = "22ef3915ccd8"
down_revision = "cef24af2ec34"
script_sha256 = "b57482d5cac6f16e2257114a1eb5245e8b0cc84ffd831c9a203321f76b07f1b5"


def upgrade():
    if not context.is_offline_mode():
        return original.upgrade()
    with op.batch_alter_table("block_document") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_block_document__block_type_name_name"),
            ["block_type_name", "name"],
            unique=False,
        )
    with op.get_context().autocommit_block():
        op.execute(
            "UPDATE block_document SET block_type_name = (SELECT name FROM block_type "
            "WHERE block_type.id = block_document.block_type_id) "
            "WHERE block_type_name IS NULL"
        )
