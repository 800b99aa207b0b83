"""Recipe for Prefect revision 724e6dcc6b5d (postgresql).

The script reads every block schema and derives its capabilities from its block class in Python: a loop over rows that cannot be planned ahead. On a database where
`block_schema` is empty, the loop has nothing to do and the script is its schema changes. This recipe
checks that first (`empty_tables`: the check `block_schemas_to_type`; a database holding rows there
needs Prefect's own migration for this revision), then runs the script, whose reads of
that table give no row.
"""

import alembic_engine
from alembic_engine import original
from alembic_engine.original import downgrade  # noqa: F401

revision = "724e6dcc6b5d"
down_revision = "dc7a3c6fd3e9"
script_sha256 = "e570ad8d13128ec70b4c6f87d0b892799fa51c3b480fc1bd93bf24afcb232a6b"


def upgrade():
    alembic_engine.empty_tables("block_schemas_to_type", "block_schema")
    original.upgrade()
