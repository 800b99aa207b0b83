"""Recipe for Airflow revision 5f2621c13b39 (`dag_schedule_dataset_alias_reference`'s keys
renamed).

On MySQL the script adds its two new foreign keys through a stored procedure that adds a key
when `information_schema` says the table lacks it; what a procedure does is not followed by
the schema model, so the revisions after it would not know the keys (0041 drops them again,
asking the server). This recipe's version of the script's helper asks the inspector the same
question and adds the key with `op.create_foreign_key`: the same keys, as the script writes
them (both on `alias_id`, referring to `dataset_alias.id`, `ON DELETE CASCADE`). The procedure
that drops a key goes through `airflow.migrations.utils`' replacement
(`revisions/airflow/helpers`). Elsewhere the script runs as it is.
"""

import sqlalchemy as sa

import alembic_engine


def _create_foreignkey_where_missing(
    constraint_name, table_name, column_name, ref_table, ref_column, op
):
    keys = sa.inspect(op.get_bind()).get_foreign_keys(table_name)
    if not any(key["name"] == constraint_name for key in keys):
        op.create_foreign_key(
            constraint_name,
            table_name,
            ref_table,
            [column_name],
            [ref_column],
            ondelete="CASCADE",
        )


# Before the original module runs, so that its helper is this one.
alembic_engine.replace_nested(
    "mysql_create_foreignkey_if_not_exists", _create_foreignkey_where_missing
)

from alembic_engine.original import downgrade, upgrade  # noqa: E402,F401

revision = "5f2621c13b39"
down_revision = "22ed7efa9da2"
script_sha256 = "b63cabdc44df4f58630b9e09c41ba4bddddebe7a2fe124d8363833f2a89300dd"
