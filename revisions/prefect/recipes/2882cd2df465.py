"""Recipe for Prefect revision 2882cd2df465 (PostgreSQL: state results copied into `artifact`).

The PostgreSQL twin of SQLite's f92143d30c26 (see its recipe): the script copies every task and
flow run state holding data into `artifact` in pages of 500 rows (`ORDER BY id LIMIT 500
OFFSET n`, the offset growing until a page inserts no row), then points each state at its
artifact in batches of 500 until an UPDATE changes no row, each statement committed on its own.

This recipe runs each copy as one statement over the rows its pages cover, in the same order,
and each back-fill as one UPDATE of the rows its batches change, in the same autocommit block.
"""

from alembic import op

from alembic_engine.original import downgrade  # noqa: F401

revision = "2882cd2df465"
down_revision = "2882cd2df464"
script_sha256 = "8b041b277a014c069ed15ab2c4178318c1b533d84dd5456899bde397dcc8bf7f"


def upgrade():
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
