"""Recipe for Prefect revision e73c6f1fe752 (sqlite).

The script reads every block schema and records, in Python, the block schemas its fields reference: a loop over rows that cannot be planned ahead. On a database where
`block_schema` is empty, the loop has nothing to do and the script is its schema changes. This recipe
checks that first (`empty_tables`: the check `block_schemas_to_reference`; a database holding rows there
needs Prefect's own migration for this revision), then runs the script, whose reads of
that table give no row.
"""

import alembic_engine
from alembic_engine import original
from alembic_engine.original import downgrade  # noqa: F401

revision = "e73c6f1fe752"
down_revision = "33439667aeea"
script_sha256 = "db617321c80d5427d84a3752c37414f20bcb6ab11ef5a49e7cf8c5cee2662148"


def upgrade():
    alembic_engine.empty_tables("block_schemas_to_reference", "block_schema")
    original.upgrade()
