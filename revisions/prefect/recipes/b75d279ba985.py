"""Recipe for Prefect revision b75d279ba985 (SQLite: block schemas keyed by checksum).

For each block schema, the script computes a checksum of its fields in Python (Prefect's
`Block._calculate_schema_checksum`) and creates its block type. That cannot be planned
ahead. On a database without block schemas the script does nothing but its schema changes;
this recipe checks first that `block_schema` is empty (`empty_tables`: the check
`block_schemas_to_checksum`; a database holding block schemas needs Prefect's own migration
for this revision) and then runs the script, whose reads of it give no row.
"""

import alembic_engine
from alembic_engine import original
from alembic_engine.original import downgrade  # noqa: F401

revision = "b75d279ba985"
down_revision = "fd966d4ad99c"
script_sha256 = "d562a10ac47bb876de208e1e27469abe74b4a1a81bc10ad6c40386792e81ba46"


def upgrade():
    alembic_engine.empty_tables("block_schemas_to_checksum", "block_schema")
    original.upgrade()
