"""Recipe for Airflow revision 55297ae24532 (the `deadline_alert` table).

Online, after its schema changes, the script reads every serialized DAG whose data may hold
deadline definitions (compressed ones, and those whose JSON has a non-empty `dag.deadline`),
decodes them in Python (zlib, JSON), and writes `deadline_alert` rows and rewritten DAGs;
offline it skips that. On a database without such DAGs both branches leave the same database.
This recipe checks that first, with the script's own filter (`refuse_if_rows`, the check
`serialized_dags_with_deadlines`: a database holding such DAGs needs Airflow's own migration
for this revision), then runs the script's offline branch.
"""

from alembic import context, op

import alembic_engine
from alembic_engine import original
from alembic_engine.original import downgrade  # noqa: F401

revision = "55297ae24532"
down_revision = "e79fc784f145"
script_sha256 = "4c46eab1bb6dcb1209bddc7bcf5c191950fd8ceb0fe77c0e8a645be9fe8891bb"

# A non-empty `dag.deadline` in the uncompressed JSON, per database.
_HAS_DEADLINE = {
    "postgresql": (
        "(data::jsonb -> 'dag' -> 'deadline') IS NOT NULL"
        " AND (data::jsonb -> 'dag' -> 'deadline') NOT IN ('null'::jsonb, '[]'::jsonb)"
    ),
    "mysql": (
        "JSON_EXTRACT(data, '$.dag.deadline') IS NOT NULL"
        " AND IFNULL(JSON_LENGTH(JSON_EXTRACT(data, '$.dag.deadline')), 0) > 0"
    ),
    "sqlite": (
        "json_extract(data, '$.dag.deadline') IS NOT NULL"
        " AND json_extract(data, '$.dag.deadline') NOT IN ('null', '[]')"
    ),
}


def upgrade():
    if not context.is_offline_mode():
        has_deadline = _HAS_DEADLINE[op.get_bind().dialect.name]
        alembic_engine.refuse_if_rows(
            "serialized_dags_with_deadlines",
            "SELECT id FROM serialized_dag WHERE data_compressed IS NOT NULL"
            f" OR (data IS NOT NULL AND {has_deadline})",
        )
    with alembic_engine.offline_branch():
        original.upgrade()
