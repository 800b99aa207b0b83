"""Recipe for Prefect revision 4ff2f2bf81f4 (postgresql).

The script reads every block type and schema and rewrites names into slugs in Python: a loop over rows that cannot be planned ahead. On a database where
`block_type` is empty, the loop has nothing to do and the script is its schema changes. This recipe
checks that first (`empty_tables`: the check `block_types_to_slug`; a database holding rows there
needs Prefect's own migration for this revision), then runs the script, whose reads of
that table give no row.
"""

import alembic_engine
from alembic_engine import original
from alembic_engine.original import downgrade  # noqa: F401

revision = "4ff2f2bf81f4"
down_revision = "e085c9cbf8ce"
script_sha256 = "179c6ec184e580c763bbd48e5300653d56b41841c9120637ad1677995c54d62e"


def upgrade():
    alembic_engine.empty_tables("block_types_to_slug", "block_type")
    original.upgrade()
