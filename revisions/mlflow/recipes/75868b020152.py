"""Recipe for MLflow revision 75868b020152 (SQL trace analytics schema).

The script adds analytics columns to trace_info, spans and assessments, backfills them in
Python from tags, request metadata, span attributes and assessments (paginated reads), moves
legacy analytics rows, tightens `assessments.is_numeric_value` to NOT NULL, creates four rollup
tables and their indexes, and drops `spans.dimension_attributes`.

This recipe runs the script's own schema steps (its helper functions, interpreted from the
original file, with the column definitions from MLflow's frozen
`trace_analytics_schema_75868b020152` module) in the script's order. The Python backfill is not
reproduced yet: on tables that hold no traces, spans or assessments there is nothing to
backfill and the result is the script's. On a database that does hold such rows the recipe
refuses to run (the guard below fails before any change), rather than leave the new columns
empty.
"""

from alembic import op

from alembic_engine.original import (
    _add_analytics_columns,
    _create_analytics_indexes,
    _create_rollup_tables,
    _drop_dimension_attributes,
    _finalize_assessment_not_null,
)

revision = "75868b020152"
down_revision = "b7e2c1a4d9f3"
script_sha256 = "c60fedf1d17c2be02b440dc3df371cc573b8790371ddc2cafd7adb905ee8ee79"

_ROWS_TO_BACKFILL = ["trace_info", "spans", "assessments"]


def _require_empty(tables):
    # A temporary table whose CHECK fails when any of the tables has rows: portable across
    # SQLite, PostgreSQL and MySQL/MariaDB, and the error names the constraint.
    counts = " + ".join(f"(SELECT COUNT(*) FROM {t})" for t in tables)
    op.execute(
        "CREATE TEMPORARY TABLE alembic_engine_guard (n INTEGER, "
        "CONSTRAINT recipe_75868b020152_needs_empty_trace_tables CHECK (n = 0))"
    )
    op.execute(f"INSERT INTO alembic_engine_guard (n) SELECT {counts}")
    op.execute("DROP TABLE alembic_engine_guard")


def upgrade():
    _require_empty(_ROWS_TO_BACKFILL)
    _add_analytics_columns()
    _finalize_assessment_not_null()
    _create_rollup_tables()
    _drop_dimension_attributes()
    _create_analytics_indexes()


def downgrade():
    # The script's downgrade moves data back in Python; that is not written as SQL yet.
    raise NotImplementedError("the recipe for 75868b020152 does not downgrade yet")
