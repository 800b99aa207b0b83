"""Recipe for Prefect revision e2dae764a603 (sqlite).

The script looks up Prefect's built-in block types and schemas by name and checksum and moves their documents to new schemas: a loop over rows that cannot be planned ahead. On a database where
`block_type`, `block_schema` are empty, the loop has nothing to do and the script is its schema changes. This recipe
checks that first (`empty_tables`: the check `block_schemas_to_resecret`; a database holding rows there
needs Prefect's own migration for this revision), then runs the script, whose reads of
those tables give no row.
"""

import alembic_engine
from alembic_engine import original
from alembic_engine.original import downgrade  # noqa: F401

revision = "e2dae764a603"
down_revision = "3bd87ecdac38"
script_sha256 = "61fa196aca7d5daecb148a6b5694594fcb81ac5793838d9e0882c125da1a6617"


def upgrade():
    alembic_engine.empty_tables("block_schemas_to_resecret", "block_type", "block_schema")
    original.upgrade()
