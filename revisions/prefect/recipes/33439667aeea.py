"""Recipe for Prefect revision 33439667aeea (sqlite).

The script reads every block schema and derives its capabilities from its block class in Python: a loop over rows that cannot be planned ahead. On a database where
`block_schema` is empty, the loop has nothing to do and the script is its schema changes. This recipe
checks that first (`empty_tables`: the check `block_schemas_to_type`; a database holding rows there
needs Prefect's own migration for this revision), then runs the script, whose reads of
that table give no row.
"""

import alembic_engine
from alembic_engine import original
from alembic_engine.original import downgrade  # noqa: F401

revision = "33439667aeea"
down_revision = "888a0bb0df7b"
script_sha256 = "00fa7a1b158d74e1bbe64a55911e31879cac8257b2456482b7a6804d1c0ebc61"


def upgrade():
    alembic_engine.empty_tables("block_schemas_to_type", "block_schema")
    original.upgrade()
