"""Recipe for Prefect revision 9e83011d1f2a (SQLite and PostgreSQL): concurrency limits moved
from V1 to V2.

The script reads every V1 limit into Python and, unless a V2 limit named `tag:<tag>` exists,
creates one with the same id, limit and timestamps (active, no slots denied, no decay, an
average occupancy of 600 seconds, as many active slots as the V1 limit's JSON list holds), then
asks the server's lease storage for a lease per active slot; finally it deletes every V1 limit.
Reading rows into Python cannot be planned ahead, and the leases live outside the database
(in the migrating process's memory by default, in Redis when so configured), where no SQL
reaches.

This recipe creates the same V2 limits with one `INSERT … SELECT` and deletes the V1 limits.
A V1 limit holding active slots (whose leases only the script can create) stops the run before
any change (the check `concurrency_limits_holding_active_slots`; such a database needs
Prefect's own migration for this revision).
"""

from alembic import op

import alembic_engine
from alembic_engine.original import downgrade  # noqa: F401

revision = "9e83011d1f2a"
down_revision = "8bb517bae6f9"
script_sha256 = (
    "1b61db60d2e523b561be076d951297b916a7a3006467d5b8ca17e3927df03b75",
    "99a4ecb869f75d661bd7781ee16cd5d02195b805ec7af6fe8b5d7ce4505f9952",
)


def upgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    length = "json_array_length" if sqlite else "jsonb_array_length"
    alembic_engine.refuse_if_rows(
        "concurrency_limits_holding_active_slots",
        "SELECT id FROM concurrency_limit "
        f"WHERE active_slots IS NOT NULL AND {length}(active_slots) > 0",
    )
    op.execute(
        "INSERT INTO concurrency_limit_v2 "
        '(id, name, "limit", active, active_slots, denied_slots, '
        "slot_decay_per_second, avg_slot_occupancy_seconds, created, updated) "
        "SELECT id, 'tag:' || tag, concurrency_limit, "
        + ("1" if sqlite else "true")
        + ", 0, 0, 0.0, 600.0, created, updated FROM concurrency_limit AS v1 "
        "WHERE NOT EXISTS (SELECT 1 FROM concurrency_limit_v2 "
        "WHERE name = 'tag:' || v1.tag)"
    )
    op.execute("DELETE FROM concurrency_limit")
