"""Recipe for Prefect revisions 2ac65f1758c2 (SQLite) and 94622c1663e8 (PostgreSQL): variables'
values kept as JSON.

The script adds `json_value` (Prefect's JSON type: JSON on SQLite, JSONB on PostgreSQL), reads
every variable into Python and writes `json.dumps(value)` back one row at a time, then drops
`value` and renames `json_value` to it. Reading rows into Python cannot be planned ahead.

This recipe writes the same JSON with one UPDATE. On PostgreSQL `to_jsonb(value)` is the JSONB
value the script's text parses to, for every string. On SQLite the column keeps the text as
written: `json_quote(value)` escapes quotes, backslashes and control characters as `json.dumps`
does (DEL, which `json.dumps` also escapes, is replaced after it), but leaves characters
beyond ASCII as they are where `json.dumps` writes `\\uXXXX`, so a
variable holding one stops the run before any change (the check
`variable_values_beyond_ascii`; such a database needs Prefect's own migration for this
revision).
"""

import sqlalchemy as sa
from alembic import op

import alembic_engine
from alembic_engine.original import downgrade  # noqa: F401
from prefect.server.utilities.database import JSON

revision = "2ac65f1758c2"
down_revision = "20fbd53b3cef"
script_sha256 = "5392e61e51329d9fadf53d24d3db5b82f06c297b0a658a8d1776d4649c5111b1"
twins = {"94622c1663e8": "d589f79c597696a35a6d0b781e69fabe87cafbfd5694bfedb4ee02b120bf1c68"}


def upgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        alembic_engine.refuse_if_rows(
            "variable_values_beyond_ascii",
            "SELECT id FROM variable WHERE length(value) <> length(CAST(value AS BLOB))",
        )
    op.add_column("variable", sa.Column("json_value", JSON, nullable=True))
    op.execute(
        "UPDATE variable SET json_value = "
        + (r"replace(json_quote(value), char(127), '\u007f')" if sqlite else "to_jsonb(value)")
    )
    if sqlite:
        with op.batch_alter_table("variable") as batch_op:
            batch_op.drop_column("value")
            batch_op.alter_column("json_value", new_column_name="value")
    else:
        op.drop_column("variable", "value")
        op.alter_column("variable", "json_value", new_column_name="value")
