"""Recipe for Prefect revisions 2dbcec43c857 (SQLite) and 15f5083c16bd (PostgreSQL): each
artifact collection filled from its latest artifact.

The script (the same in both chains, SQLite's turning foreign keys off around it, PostgreSQL's
locking the rows it reads) pages through `artifact_collection` in `id` order, 500 rows a page,
reading each page into Python and updating each row's collection from its latest artifact.
Its offset grows by 500 for every row of a page, not once per page: after a full first page
the next starts at row 250,000, the one after at 500,000, and so on; rows between are left as
they were. Reading pages of rows into Python cannot be planned ahead.

This recipe makes the same updates with one statement: the collections whose position in `id`
order (from 0) falls in the first 500 of a stretch of 250,000 — which are the rows the script's
pages read, whatever the table holds — filled from their latest artifact.
"""

from alembic import op

from alembic_engine.original import downgrade  # noqa: F401

revision = "2dbcec43c857"
down_revision = "3d46e23593d6"
script_sha256 = "99f06ce85d03e70f8cc47aa78a756b4adabeb7c139d25894c2b6525648e71a26"
twins = {"15f5083c16bd": "e6e700c9e2a4736e0d104c23ac8b13edec6eea84b450da47cc35c691b18fa928"}


def upgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("PRAGMA foreign_keys=OFF")
    with op.get_context().autocommit_block():
        op.execute(
            "UPDATE artifact_collection "
            "SET data = artifact.data, description = artifact.description, "
            "flow_run_id = artifact.flow_run_id, task_run_id = artifact.task_run_id, "
            "type = artifact.type, metadata_ = artifact.metadata_ "
            "FROM artifact "
            "WHERE artifact_collection.latest_id = artifact.id "
            "AND artifact.id IN (SELECT latest_id FROM "
            "(SELECT latest_id, ROW_NUMBER() OVER (ORDER BY id) - 1 AS position "
            "FROM artifact_collection) AS paged WHERE position % 250000 < 500)"
        )
    if sqlite:
        op.execute("PRAGMA foreign_keys=ON")
