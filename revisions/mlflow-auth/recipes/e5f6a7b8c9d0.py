"""Recipe for MLflow auth revision e5f6a7b8c9d0 (migrate permissions to roles).

The script is a data migration only: it reads the legacy per-resource permission tables and
writes synthetic per-user roles and role permissions (with URL-quoting and permission
rewrites done in Python). It changes no schema. The set-based rewrite of that data is not
written yet: on a database whose legacy permission tables are empty there is nothing to move
and the result is the script's; on one that holds permissions the recipe refuses to run (the
guard fails before any change) rather than silently skip the move.
"""

from alembic import op

revision = "e5f6a7b8c9d0"
down_revision = "c3d4e5f6a7b8"
script_sha256 = "85ea01a91f156c5ef00c84082c5c2f9720f84c2e60f624fcb5a39027b687c8be"

_LEGACY_TABLES = [
    "workspace_permissions",
    "experiment_permissions",
    "registered_model_permissions",
    "scorer_permissions",
    "gateway_secret_permissions",
    "gateway_endpoint_permissions",
    "gateway_model_definition_permissions",
]


def upgrade():
    counts = " + ".join(f"(SELECT COUNT(*) FROM {t})" for t in _LEGACY_TABLES)
    op.execute(
        "CREATE TEMPORARY TABLE alembic_engine_guard (n INTEGER, "
        "CONSTRAINT recipe_e5f6a7b8c9d0_needs_empty_legacy_permissions CHECK (n = 0))"
    )
    op.execute(f"INSERT INTO alembic_engine_guard (n) SELECT {counts}")
    op.execute("DROP TABLE alembic_engine_guard")


def downgrade():
    # The script's downgrade moves data back in Python; that is not written as SQL yet.
    raise NotImplementedError("the recipe for e5f6a7b8c9d0 does not downgrade yet")
