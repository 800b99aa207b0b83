"""Recipe for Airflow revision 686269002441 (MySQL: the `connection` unique constraints).

On MySQL the script drops the unique indexes `unique_conn_id` and `connection_conn_id_uq` of
`connection` only where they exist: online it reads `information_schema` to know; offline it
writes a prepared statement built from a `SET @var = IF(...)`, SQL whose effect depends on the
database. This recipe answers "where they exist" from the schema the revisions before it
leave (the engine checks the live schema is that one before it runs), and drops the index
with `op.drop_constraint(..., type_="unique")`, which MySQL spells as the script's statement
(`ALTER TABLE connection DROP INDEX ...`). Every other step,
and every other database, is the script's own.
"""

import sqlalchemy as sa
from alembic import op

import alembic_engine


def _drop_unique_where_it_is(conn, table, index_name):
    inspector = sa.inspect(conn)
    unique = {c["name"] for c in inspector.get_unique_constraints(table)}
    unique |= {i["name"] for i in inspector.get_indexes(table) if i["unique"]}
    if index_name in unique:
        # On MySQL: `ALTER TABLE connection DROP INDEX ...`, the script's statement.
        op.drop_constraint(index_name, table, type_="unique")


# Before the original module runs, so that its helper is this one.
alembic_engine.replace_nested("_mysql_drop_unique_constraint_if_exists", _drop_unique_where_it_is)

from alembic_engine.original import downgrade, upgrade  # noqa: E402,F401

revision = "686269002441"
down_revision = "bff083ad727d"
script_sha256 = "9289f72d553d04499d21e68ab4789dfb8a5a9745bf0ad5a5f26b5f0e453f5cbd"
