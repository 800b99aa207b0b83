"""Recipe for MLflow revision 1b5f0d9ad7c1 (workspaces).

The upgrade is the script's own, interpreted as it is.

The downgrade folds every workspace back into one, so it first makes sure that will not
create duplicates: for each table with a per-workspace uniqueness (experiment names, model
names, model versions, tags, aliases, secrets, endpoints, ...), the script reads the values
that occur more than once and, if there are any, raises an error listing up to five of them
before changing anything. A compiled plan cannot read rows, so this recipe replaces that one
nested helper of the script (`_assert_no_workspace_conflicts`) with a guard the database
evaluates when the downgrade runs: the same GROUP BY ... HAVING COUNT(*) > 1 query, counted
into a temporary table whose CHECK fails when the count is not zero. The downgrade therefore
refuses under exactly the same condition and before any change; the error names the table
(in the constraint's name) rather than listing the conflicting values. Everything else in the
downgrade — moving resources to the default workspace, the index, key and column changes —
is the script's own.
"""

from alembic import op

import alembic_engine
from alembic_engine.original import downgrade, upgrade  # noqa: F401

revision = "1b5f0d9ad7c1"
down_revision = "c8d9e0f1a2b3"
script_sha256 = "4ac76be4881b0ee427a8c952e78536cbb1ba735c4e163b41d034578993f69004"


def _quote(name):
    if op.get_bind().dialect.name == "mysql":
        return "`" + name + "`"
    return '"' + name + '"'


def _refuse_duplicates(table_name, columns, resource_description):
    names = ", ".join(_quote(c) for c in columns)
    check = "downgrade_1b5f0d9ad7c1_duplicates_in_" + table_name
    op.execute(
        "CREATE TEMPORARY TABLE alembic_engine_guard "
        f"(n INTEGER, CONSTRAINT {check} CHECK (n = 0))"
    )
    op.execute(
        "INSERT INTO alembic_engine_guard (n) SELECT COUNT(*) FROM "
        f"(SELECT {names} FROM {_quote(table_name)} GROUP BY {names} HAVING COUNT(*) > 1) "
        "AS duplicates"
    )
    op.execute("DROP TABLE alembic_engine_guard")


alembic_engine.replace_nested(
    "downgrade.<locals>._assert_no_workspace_conflicts", _refuse_duplicates
)
