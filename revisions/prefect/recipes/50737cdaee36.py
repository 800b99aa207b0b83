"""Recipe for Prefect's PostgreSQL revisions that build an index concurrently after asking the
server about it: 50737cdaee36 (`ix_event_resources__event_id`), 9e9dadc36797
(`ix_flow_run__deployment_id`), c8d5f2a71b3e (`ix_event_resources__occurred`) and
d4a7e1c93f52 (`ix_flow_run__state_type_coalesce_start_time`).

Each script asks `pg_index` whether its index is there and valid (a build of it interrupted
before may have left it invalid), gets rid of an invalid one (the first two drop it and build
it again, the last two `REINDEX … CONCURRENTLY`), builds it concurrently if missing, and the
last two check it is valid afterwards, raising if not (and refuse to write an offline
script). What the server answers is not known before the run.

This recipe makes the same decision in the server: a `DO` block drops the index if it is
there and invalid (an invalid index holds no usable data; dropping it takes the table's lock
for that moment only, where `DROP … CONCURRENTLY` would wait for other transactions), then
`CREATE INDEX CONCURRENTLY IF NOT EXISTS` builds it, which is what a rebuild gives; for the
last two, the check `<index>_invalid_after_build` stops the run as their `RuntimeError` would.
An offline script (where the last two scripts refuse, having no server to ask) holds the same
steps: the `DO` block, the build, and for the last two a `DO` block raising when the index is
not valid afterwards, which stops `psql -v ON_ERROR_STOP=1` there.
"""

from alembic import op

import alembic_engine
from alembic_engine import original
from alembic_engine.original import downgrade  # noqa: F401

revision = "50737cdaee36"
down_revision = "bad1e352c597"
script_sha256 = "c1efd161e9bcd7819d8ffacc48e6ba50979a24f144e56117c1f3b4e730459b25"
twins = {
    "9e9dadc36797": "0fd90cb4adcd79bd7c84d239029ce65032f10c157a8ab03bb3228f4f57246baa",
    "c8d5f2a71b3e": "2dd3136237ec4daa79070f40919a26352c04b1057736886bbbf747e8829362b4",
    "d4a7e1c93f52": "33c6b9a5f6513674e2e5a7c63075161dfc82e8e9bfb400b671f24ffd7ba49ef6",
}

# Each revision's index, what it is on, and whether the script checks it afterwards.
INDEXES = {
    "50737cdaee36": ("ix_event_resources__event_id", "event_resources (event_id)", False),
    "9e9dadc36797": ("ix_flow_run__deployment_id", "flow_run (deployment_id)", False),
    "c8d5f2a71b3e": ("ix_event_resources__occurred", "event_resources (occurred)", True),
    "d4a7e1c93f52": (
        "ix_flow_run__state_type_coalesce_start_time",
        "flow_run (state_type, (coalesce(start_time, expected_start_time)))",
        True,
    ),
}


def upgrade():
    name, on, checked = INDEXES[original.revision]
    context = op.get_context()
    with context.autocommit_block():
        found = (
            "SELECT 1 FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid "
            f"WHERE c.relname = '{name}'"
        )
        op.execute(
            f"DO $$ BEGIN IF EXISTS ({found} AND NOT i.indisvalid) "
            f"THEN DROP INDEX IF EXISTS {name}; END IF; END $$"
        )
        op.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {on}")
        if checked and context.as_sql:
            op.execute(
                f"DO $$ BEGIN IF NOT EXISTS ({found} AND i.indisvalid) "
                f"THEN RAISE EXCEPTION '{name}_invalid_after_build: the index is not valid "
                "after its build'; END IF; END $$"
            )
        elif checked:
            alembic_engine.refuse_if_rows(
                f"{name}_invalid_after_build",
                f"SELECT 1 WHERE NOT EXISTS ({found} AND i.indisvalid)",
            )
