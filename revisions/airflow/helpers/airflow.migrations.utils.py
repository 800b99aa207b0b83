"""Replacements for helpers of Airflow's `airflow.migrations.utils` that the plan cannot follow.

They run after the module's own definitions, in its namespace, for the version of the module
pinned below (another version keeps its own helpers).

`mysql_drop_foreignkey_if_exists` creates, calls and drops a stored procedure that drops a
foreign key when `information_schema` says the table has it: what a procedure does is not
followed by the schema model, so the revisions after it see a key that is gone. This version
asks the inspector the same question and drops the key with `op.drop_constraint`: the same key
dropped, or none. An offline script (`sql`) gets the `ALTER TABLE` for a key the schema model
has, where Alembic's writes the procedure.
"""

import sqlalchemy as sa

module_sha256 = "ebd55cde2abae5dab328a75bc0af7f0cdea1877591213c3421892201484448e2"


def mysql_drop_foreignkey_if_exists(constraint_name, table_name, op):
    keys = sa.inspect(op.get_bind()).get_foreign_keys(table_name)
    if any(key["name"] == constraint_name for key in keys):
        op.drop_constraint(constraint_name, table_name, type_="foreignkey")
