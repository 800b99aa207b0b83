"""Recipe for Prefect revision 4cdc2ba709a4 (postgresql).

The script looks up Prefect's built-in block types and schemas by name and checksum and moves their documents to new schemas: a loop over rows that cannot be planned ahead. On a database where
`block_type`, `block_schema` are empty, the loop has nothing to do and the script is its schema changes. This recipe
checks that first (`empty_tables`: the check `block_schemas_to_resecret`; a database holding rows there
needs Prefect's own migration for this revision), then runs the script, whose reads of
those tables give no row.
"""

import alembic_engine
from alembic_engine import original
from alembic_engine.original import downgrade  # noqa: F401

revision = "4cdc2ba709a4"
down_revision = "813ddf14e2de"
script_sha256 = "2583f47ab0268433805491bfe4fbe0d2f5d8ae376bf2390f3d87bc5fd55ba8d2"


def upgrade():
    alembic_engine.empty_tables("block_schemas_to_resecret", "block_type", "block_schema")
    original.upgrade()
