"""Recipe for Prefect revision 2fe6fe6ca16e (postgresql).

The script reads every block schema and records, in Python, the block schemas its fields reference: a loop over rows that cannot be planned ahead. On a database where
`block_schema` is empty, the loop has nothing to do and the script is its schema changes. This recipe
checks that first (`empty_tables`: the check `block_schemas_to_reference`; a database holding rows there
needs Prefect's own migration for this revision), then runs the script, whose reads of
that table give no row.
"""

import alembic_engine
from alembic_engine import original
from alembic_engine.original import downgrade  # noqa: F401

revision = "2fe6fe6ca16e"
down_revision = "724e6dcc6b5d"
script_sha256 = "ffbc95d3f2b0131275689aa4de1d51f7c7bf3887c61f7b27bc494e30c51826ec"


def upgrade():
    alembic_engine.empty_tables("block_schemas_to_reference", "block_schema")
    original.upgrade()
