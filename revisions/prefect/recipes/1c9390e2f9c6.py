"""Recipe for Prefect revision 1c9390e2f9c6 (postgresql).

The script computes a checksum of each block schema's fields in Python (Prefect's `Block._calculate_schema_checksum`) and creates its block type: a loop over rows that cannot be planned ahead. On a database where
`block_schema` is empty, the loop has nothing to do and the script is its schema changes. This recipe
checks that first (`empty_tables`: the check `block_schemas_to_checksum`; a database holding rows there
needs Prefect's own migration for this revision), then runs the script, whose reads of
that table give no row.
"""

import alembic_engine
from alembic_engine import original
from alembic_engine.original import downgrade  # noqa: F401

revision = "1c9390e2f9c6"
down_revision = "d38c5e6a9115"
script_sha256 = "2ea1d37affa65f01b85bc3dcd78ab3a39792378550af955c023df3ed8339a9dc"


def upgrade():
    alembic_engine.empty_tables("block_schemas_to_checksum", "block_schema")
    original.upgrade()
