"""Recipe for Prefect revisions f92143d30c26 (SQLite) and 2882cd2df465 (PostgreSQL): state
results copied into `artifact`.

The script (the same in both of Prefect's chains, SQLite's turning foreign keys off first)
copies every task and flow run state holding data into `artifact` in pages of 500 rows
(`ORDER BY id LIMIT 500 OFFSET n`, the offset growing each pass until a page inserts no row),
then points each state at its artifact in batches of 500 until an UPDATE changes no row, each
statement committed on its own (`autocommit_block`). A loop whose statement changes from pass to
pass cannot be planned as one repeated statement.

This recipe runs each copy as one statement over the rows its pages cover, in the same order,
and each back-fill as one UPDATE of the rows its batches change, in the same autocommit block.
The pages read a state table the copy does not change, so together they cover each row holding
data once, in `id` order; the batches end when no state holding data lacks its artifact.
"""

from alembic import op

from alembic_engine.original import downgrade  # noqa: F401

revision = "f92143d30c26"
down_revision = "f92143d30c25"
script_sha256 = "bcdc638d3f6999d785faa1814dd9da8987ac23f0924542b4f52fdfe160227e6f"
twins = {"2882cd2df465": "8b041b277a014c069ed15ab2c4178318c1b533d84dd5456899bde397dcc8bf7f"}


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute("PRAGMA foreign_keys=OFF")
    with op.get_context().autocommit_block():
        for state in ("task_run_state", "flow_run_state"):
            run = state.replace("_state", "_id")
            op.execute(
                f"INSERT INTO artifact ({state}_id, {run}, data) "
                f"SELECT id, {run}, data FROM {state} WHERE has_data IS TRUE ORDER BY id"
            )
            op.execute(
                f"UPDATE {state} SET result_artifact_id = "
                f"(SELECT id FROM artifact WHERE {state}.id = {state}_id) "
                "WHERE has_data IS TRUE AND result_artifact_id IS NULL"
            )
