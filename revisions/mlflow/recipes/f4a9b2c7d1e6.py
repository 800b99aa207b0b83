"""Recipe for MLflow revision f4a9b2c7d1e6 (MCP server versions become case-sensitive).

On SQLite and PostgreSQL the script does nothing. On MySQL and MariaDB it first looks for a
version reference (in mcp_server_version_tags, mcp_server_aliases, mcp_access_endpoints) that
matches its server version only because the columns compare case-insensitively today, reading
the first such row into Python and raising when there is one; then it changes the four version
columns to a binary collation, rebuilding the keys around them.

The schema steps are the script's own, interpreted as they are. The check is replaced by the
same join counted in SQL into a temporary table whose named CHECK demands zero, so a database
the script would refuse fails on the first statement, before any change, with
`recipe_f4a9b2c7d1e6_case_insensitive_version_reference` in the error: correct the references
to the exact stored version text (as MLflow's message says) and run the upgrade again.
"""

from alembic import op

import alembic_engine

revision = "f4a9b2c7d1e6"
down_revision = "8b6ad64cb8f5"
script_sha256 = "b66c2ce17e3bf3cb62fd246366b138515810b91b15f4149aed6220ea9d1d61fd"

_GUARD = "alembic_engine_guard"
_REFERENCES = [
    ("mcp_server_version_tags", "name", "version"),
    ("mcp_server_aliases", "name", "version"),
    ("mcp_access_endpoints", "server_name", "server_version"),
]


def _count_case_insensitive_references(connection, collation):
    counts = " + ".join(
        f"(SELECT COUNT(*) FROM {table} AS r JOIN mcp_server_versions AS v "
        f"ON r.workspace = v.workspace AND r.{name} = v.name AND r.{version} = v.version "
        f"WHERE r.{version} COLLATE {collation} <> v.version COLLATE {collation})"
        for table, name, version in _REFERENCES
    )
    check = "recipe_f4a9b2c7d1e6_case_insensitive_version_reference"
    op.execute(f"CREATE TEMPORARY TABLE {_GUARD} (n INTEGER, CONSTRAINT {check} CHECK (n = 0))")
    op.execute(f"INSERT INTO {_GUARD} (n) SELECT {counts}")
    op.execute(f"DROP TABLE {_GUARD}")


# Before the original module runs, so that its module-level helper is this one.
alembic_engine.replace_nested("_check_version_references", _count_case_insensitive_references)

from alembic_engine.original import downgrade, upgrade  # noqa: E402,F401
