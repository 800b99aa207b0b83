"""Recipe for Prefect revision f335f9633eec (sqlite).

The script reads every block type and schema and rewrites names into slugs in Python: a loop over rows that cannot be planned ahead. On a database where
`block_type` is empty, the loop has nothing to do and the script is its schema changes. This recipe
checks that first (`empty_tables`: the check `block_types_to_slug`; a database holding rows there
needs Prefect's own migration for this revision), then runs the script, whose reads of
that table give no row.
"""

import alembic_engine
from alembic_engine import original
from alembic_engine.original import downgrade  # noqa: F401

revision = "f335f9633eec"
down_revision = "2fe8ef6a6514"
script_sha256 = "dcc81b9b43058d9f79eff9ac5677eed862fe3fada187deacf0e6826c6d789d7d"


def upgrade():
    alembic_engine.empty_tables("block_types_to_slug", "block_type")
    original.upgrade()
