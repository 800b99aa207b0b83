"""Recipe for MLflow revision 8b6ad64cb8f5 (issues: last seen time, metadata, category rows).

The script adds `last_seen_timestamp`, `last_updated_by` and `metadata` to `issues` with two
indexes, creates `issue_categories` (one row per issue and category, keyed by the sha256 of the
category stripped and lower-cased), sets every issue's `last_seen_timestamp` to its
`created_timestamp`, then reads each issue's `categories` (a JSON list) into Python, 500 rows at
a time, and inserts one row per distinct hash: for a hash met twice in one list, the text of
the last category with it, as Python's dict comprehension keeps.

Here the schema steps are the script's, restated, and the copy is one INSERT ... SELECT the
database runs, exact where this tool can prove it so and refused, before any change, where it
cannot:

- PostgreSQL, MySQL/MariaDB: each list's elements are read by the database's JSON functions
  with their positions; the hash is `sha256` / `SHA2(…, 256)` of the text with Python's ASCII
  whitespace stripped and ASCII letters lowered; the last element per hash wins. Exact for
  categories of ASCII text (what MLflow writes: its JSON escapes every other character).
  A category holding another character after decoding (Python's `lower()` and `strip()` follow
  Unicode, which no server's functions reproduce for every character) is refused:
  `recipe_8b6ad64cb8f5_non_ascii_issue_category`.
- SQLite has no sha256 function: a database with at least one category in some issue's list is
  refused, `recipe_8b6ad64cb8f5_issue_categories_on_sqlite`; with none (every list empty or
  NULL, as on servers that never used issue categories) the copy has nothing to do.
- Everywhere, `categories` that is not a JSON list of strings is refused,
  `recipe_8b6ad64cb8f5_issue_categories_not_a_list_of_strings`: the script fails on such a
  value (or iterates a string's characters or an object's keys).

Each refusal is a temporary table whose named CHECK demands zero rows of its kind, filled
before the first change. A refused database can be taken through this one revision by
`mlflow db upgrade` with MLflow 3.18.0 and then continue here.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.mysql import LONGTEXT

import alembic_engine

revision = "8b6ad64cb8f5"
down_revision = "e7d1f4b2a9c6"
script_sha256 = "4b890071223fc21ee3bb3ff73a5e1f25f615c6f43dbfa491e1853b9d29d6c5ae"

_GUARD = "alembic_engine_guard"
# The ASCII characters str.isspace() accepts: what str.strip() removes from ASCII text.
_ASCII_SPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f "
_PREFIX = "recipe_8b6ad64cb8f5_"


def _dialect():
    return op.get_bind().dialect.name


def _refuse_unless_zero(check, count_sql):
    op.execute(
        f"CREATE TEMPORARY TABLE {_GUARD} (n INTEGER, CONSTRAINT {_PREFIX}{check} CHECK (n = 0))"
    )
    op.execute(f"INSERT INTO {_GUARD} (n) {count_sql}")
    op.execute(f"DROP TABLE {_GUARD}")


def _elements():
    """One row per element of every issue's categories list: issue_id, position n (from 1),
    its JSON kind (as SQLite spells it) and its decoded text (strings only)."""
    d = _dialect()
    if d == "postgresql":
        return (
            "SELECT i.issue_id, e.n, "
            "CASE json_typeof(e.value) WHEN 'string' THEN 'text' ELSE json_typeof(e.value) END "
            "AS kind, "
            "CASE json_typeof(e.value) WHEN 'string' THEN e.value #>> '{}' END AS category "
            "FROM issues AS i, "
            "json_array_elements(pg_temp.alembic_engine_json_list(i.categories)) "
            "WITH ORDINALITY AS e(value, n) "
            "WHERE i.categories IS NOT NULL"
        )
    if d == "mysql":
        return (
            "SELECT i.issue_id, e.n, "
            "CASE JSON_TYPE(JSON_EXTRACT(i.categories, CONCAT('$[', e.n - 1, ']'))) "
            "WHEN 'STRING' THEN 'text' ELSE 'other' END AS kind, e.category "
            "FROM issues AS i, JSON_TABLE(i.categories, '$[*]' COLUMNS ("
            "n FOR ORDINALITY, category LONGTEXT PATH '$')) AS e "
            "WHERE i.categories IS NOT NULL AND JSON_VALID(i.categories) "
            "AND JSON_TYPE(i.categories) = 'ARRAY'"
        )
    return (
        "SELECT i.issue_id, e.key + 1 AS n, e.type AS kind, "
        "CASE e.type WHEN 'text' THEN e.value END AS category "
        "FROM issues AS i, json_each(i.categories) AS e "
        "WHERE i.categories IS NOT NULL AND json_valid(i.categories) "
        "AND json_type(i.categories) = 'array'"
    )


def _not_lists():
    """Issues whose categories is not NULL and not a JSON array."""
    d = _dialect()
    if d == "postgresql":
        return (
            "SELECT COUNT(*) FROM issues WHERE categories IS NOT NULL "
            "AND pg_temp.alembic_engine_json_list(categories) IS NULL"
        )
    if d == "mysql":
        return (
            "SELECT COUNT(*) FROM issues WHERE categories IS NOT NULL "
            "AND NOT (JSON_VALID(categories) AND JSON_TYPE(categories) = 'ARRAY')"
        )
    return (
        "SELECT COUNT(*) FROM issues WHERE categories IS NOT NULL "
        "AND NOT (json_valid(categories) AND json_type(categories) = 'array')"
    )


def _non_ascii(text):
    if _dialect() == "postgresql":
        return f"octet_length({text}) <> char_length({text})"
    return f"LENGTH({text}) <> CHAR_LENGTH({text})"


def _hash(text):
    """Hex sha256 of `text` (ASCII, checked before) stripped of Python's ASCII whitespace and
    with ASCII letters lowered, whatever the column's collation."""
    if _dialect() == "postgresql":
        stripped = f"btrim({text}, '{_ASCII_SPACE}')"
        return f"encode(sha256(convert_to(lower({stripped} COLLATE \"C\"), 'UTF8')), 'hex')"
    stripped = f"REGEXP_REPLACE({text}, '^[{_ASCII_SPACE}]+|[{_ASCII_SPACE}]+$', '')"
    return f"SHA2(LOWER(CONVERT({stripped} USING ascii)), 256)"


def _validate():
    _refuse_unless_zero("issue_categories_not_a_list_of_strings", _not_lists())
    _refuse_unless_zero(
        "issue_categories_not_a_list_of_strings",
        f"SELECT COUNT(*) FROM ({_elements()}) AS e WHERE e.kind <> 'text'",
    )
    if _dialect() == "sqlite":
        _refuse_unless_zero("issue_categories_on_sqlite", f"SELECT COUNT(*) FROM ({_elements()})")
    else:
        _refuse_unless_zero(
            "non_ascii_issue_category",
            f"SELECT COUNT(*) FROM ({_elements()}) AS e WHERE {_non_ascii('e.category')}",
        )


def _copy_categories():
    if _dialect() == "sqlite":
        return  # nothing to copy: refused above otherwise
    hashed = f"SELECT e.issue_id, e.n, {_hash('e.category')} AS category_hash, e.category FROM ({_elements()}) AS e"
    op.execute(
        "INSERT INTO issue_categories (issue_id, category_hash, category) "
        "SELECT h.issue_id, h.category_hash, h.category FROM ("
        "SELECT x.issue_id, x.category_hash, x.category, ROW_NUMBER() OVER ("
        "PARTITION BY x.issue_id, x.category_hash ORDER BY x.n DESC) AS last_first "
        f"FROM ({hashed}) AS x) AS h WHERE h.last_first = 1"
    )


def upgrade():
    if _dialect() == "postgresql":
        op.execute(
            "CREATE FUNCTION pg_temp.alembic_engine_json_list(doc TEXT) RETURNS JSON "
            "LANGUAGE plpgsql AS $$ BEGIN "
            "IF json_typeof(doc::json) = 'array' THEN RETURN doc::json; END IF; RETURN NULL; "
            "EXCEPTION WHEN invalid_text_representation THEN RETURN NULL; END $$"
        )
    _validate()
    with op.batch_alter_table("issues") as batch_op:
        batch_op.add_column(sa.Column("last_seen_timestamp", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("last_updated_by", sa.String(255), nullable=True))
        batch_op.add_column(
            sa.Column("metadata", sa.Text().with_variant(LONGTEXT(), "mysql"), nullable=True)
        )
        batch_op.create_index(
            "index_issues_experiment_last_seen", ["experiment_id", "last_seen_timestamp"]
        )
        batch_op.create_index(
            "index_issues_experiment_updated", ["experiment_id", "last_updated_timestamp"]
        )
    op.create_table(
        "issue_categories",
        sa.Column("issue_id", sa.String(36), nullable=False),
        sa.Column("category_hash", sa.String(64), nullable=False),
        sa.Column("category", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("issue_id", "category_hash", name="issue_categories_pk"),
        sa.ForeignKeyConstraint(
            ["issue_id"],
            ["issues.issue_id"],
            name="fk_issue_categories_issue_id",
            ondelete="CASCADE",
        ),
    )
    op.create_index("index_issue_categories_hash", "issue_categories", ["category_hash"])
    op.execute("UPDATE issues SET last_seen_timestamp = created_timestamp")
    _copy_categories()
    if _dialect() == "postgresql":
        op.execute("DROP FUNCTION pg_temp.alembic_engine_json_list(TEXT)")


from alembic_engine.original import downgrade  # noqa: E402,F401
