"""Recipe for MLflow revision 75868b020152 (SQL trace analytics schema).

The script adds analytics columns to trace_info, spans and assessments, fills them in Python
from tags, request metadata (JSON), trace and span metrics, span dimension attributes (JSON)
and assessment values (JSON), reading the tables page by page; then it makes
`assessments.is_numeric_value` NOT NULL, creates four rollup tables, deletes the legacy rows
it promoted, drops `spans.dimension_attributes` and creates its indexes. The schema steps here
are the script's own helpers (interpreted from the original file). Every Python loop is
replaced by one set-based statement the database runs, in the script's order, so memory does
not grow with the data:

1. Validation, before any change. The script raises when a span or an assessment names a
   trace_info row that does not exist, and when a span's dimension_attributes is malformed
   JSON, is neither JSON null nor an object, has a key other than `mlflow.llm.model` /
   `mlflow.llm.provider`, or has a value there that is neither null nor a string. Each
   condition is counted into a temporary table whose named CHECK demands zero, so the upgrade
   fails on the first statement with the constraint's name in the error:
   `recipe_75868b020152_span_without_trace_info`,
   `recipe_75868b020152_assessment_without_trace_info`,
   `recipe_75868b020152_unsupported_dimension_attributes`. (The script's later check that no
   assessment lacks an experiment id or trace timestamp cannot fire: both are copied from
   trace_info's NOT NULL columns of a trace that exists.)
2. Trace backfill, one UPDATE per source. `trace_name` is the `mlflow.traceName` tag and
   `session_id` the `mlflow.trace.session` metadata value, cut to 4096 and 250 characters
   (SUBSTR counts characters, as Python's slice does); the token and cost columns are reset
   to NULL first, as the script writes every column of every row. Token counts come from the
   `mlflow.trace.tokenUsage` JSON object, then a trace_metrics row of the same name replaces
   the JSON value even when it converts to NULL (the script's `token_metrics.get(column,
   json value)`). Costs come from the `mlflow.trace.cost` JSON object. A metadata value that
   is not valid JSON, or not an object, gives NULLs, like the script's `json_object`.
3. Span backfill: each cost column is the span's span_metrics row of that name when its value
   is finite; model name and provider are the dimension attributes' string values cut to
   500 characters.
4. Trace cost from spans: the script's own statement (total_cost := SUM of the spans'
   total_cost for gateway traces whose total_cost is still NULL).
5. Assessment backfill: experiment id and trace timestamp from the trace; the aggregate as the
   script computes it: JSON true/false -> 1.0/0.0, a finite JSON number -> itself (and
   is_numeric_value true), a string (the decoded JSON string, or the raw text when the value
   is not JSON) that is `yes` or `no` after stripping whitespace (every character
   `str.isspace()` accepts) and lower-casing -> 1.0/0.0, anything else NULL.
6. Legacy cleanup: the same keys deleted with the same WHERE clauses as the script's batches.

Conversions, matching the script's helpers. A token count (`token_count_or_none`) is a JSON
integer or a number string whose value is a whole number within BIGINT; a number written with
a fraction or exponent, and a trace_metrics value (a double), must be finite and integral.
Bools, nulls, arrays and objects give NULL. A cost (`finite_float_or_none`) is a JSON number
or number string converted to a double. Number strings are trimmed of the whitespace Python's
`Decimal` (tokens) or `float` (costs) strips. On PostgreSQL, text that may not be JSON is
parsed by a temporary function that returns NULL where the cast fails (dropped at the end).
On MariaDB, metadata and metric keys are compared as binary strings, as the script's Python
dictionaries compare them, while the deletes keep the script's own (case-insensitive) SQL.

Known differences, all on inputs MLflow does not write:
- Token counts with a fraction or exponent are read as doubles: beyond 2**53 in magnitude, or
  with more than 15 significant digits, the result is the double's whole value where the
  script, going through the decimal repr, may give another whole number or NULL (a
  trace_metrics value of 4611686018427387904.0 is 4611686018427387904 here,
  4611686018427388000 in the script on SQLite and PostgreSQL; the string
  "0.99999999999999999999" is 1 here, NULL in the script).
- On MariaDB the script reads span_metrics and trace_metrics values through SQLAlchemy's
  MySQL DOUBLE, which returns decimals rounded to 10 places: span costs are rounded there
  (1e-11 becomes 0.0). Here they are copied exactly, as the script does on SQLite and
  PostgreSQL.
- Number strings must be written like JSON numbers (after trimming): the script's `Decimal()`
  and `float()` also read a leading `+`, leading zeros, `.5`, `5.`, underscores, non-ASCII
  digits and `Infinity`/`NaN` words, which give NULL here.
- Numbers whose exponent has more than four digits give NULL (the script: 0 for `1e-99999`),
  and a cost or assessment number of magnitude 1e308 or more gives NULL (the script keeps
  values up to the largest double, 1.7976931348623157e308).
- Token-usage and cost JSON that uses the non-standard words NaN or Infinity is malformed here
  (all its values NULL); Python's `json` reads the object and its other values.
- A dimension_attributes value that is a JSON string (JSON encoded twice) is refused as
  unsupported on every database; the script decodes it a second time on SQLite and
  PostgreSQL (and refuses it on MariaDB).
- In a JSON object with a repeated key the script uses the last occurrence; PostgreSQL does
  too, SQLite and MariaDB use the first.

The downgrade is the script's own (`spans.dimension_attributes` added back, then the legacy
rows rebuilt, then its indexes, rollup tables and analytics columns dropped), with its one
Python loop, `_reconstruct_legacy_analytics`, replaced by set-based statements that write what
the loop writes, row for row:

1. The legacy rows of the analytics keys are deleted first, by the same statements as the
   upgrade's clean-up (the script calls the same helper).
2. Per trace: a `mlflow.traceName` tag from a non-NULL trace_name, a `mlflow.trace.session`
   metadata row from a non-NULL session_id (INSERT ... SELECT each).
3. Token usage: a `mlflow.trace.tokenUsage` metadata row when any count is not NULL, the JSON
   object of the non-NULL counts in the script's key order; one trace_metrics row per non-NULL
   count, its value the count as a double (what the driver's integer becomes in the DOUBLE
   column). The counts are BIGINTs, which `token_count_or_none` returns unchanged; on SQLite,
   whose BIGINT column can hold anything, only integers are counts.
4. Costs: a `mlflow.trace.cost` metadata row when any finite cost is not NULL, the JSON
   object of the finite ones (`finite_float_or_none`).
5. Per span: dimension_attributes the JSON object of the non-NULL model name and provider
   (under `mlflow.llm.model`, `mlflow.llm.provider`), for spans having either; one span_metrics
   row per non-NULL cost column, the value copied.

The JSON text is json.dumps's with its defaults: `{"key": value, ...}` with `", "` and `": "`;
integers in decimal; strings with `"` and `\\` escaped, `\\b \\f \\n \\r \\t` for those
controls and `\\u` + four lower-case hex digits for every other character outside printable
ASCII (UTF-16 surrogate pairs beyond U+FFFF), built character by character over a temporary
table of positions only for the strings that need it. Floats as repr writes them: the
shortest digits that read back as the double, in fixed notation with at least one decimal
(`2.0`, `0.0001`, `1000000000000000.0`) for decimal exponents -4 to 15, else as
`d[.ddd]e±XX` (`1e-05`, `1e+16`, `1.5e+300`); `-0.0` keeps its sign. The digits come from the
database (SQLite: printf with 15, 16 or 17 significant digits, the fewest that SQLite reads
back as the double; PostgreSQL: float8 text with extra_float_digits 3, through a temporary
function; MariaDB: CAST AS CHAR), and are laid out in SQL as repr lays them out.

Known differences of the downgrade, all on float text in the rebuilt JSON and metric values:
- SQLite's printf is not correctly rounded beyond 15 significant digits, and SQLite reads
  numbers of magnitude below 1e-80 or from 1e100 inexactly. A cost whose repr needs 16 or 17
  significant digits may be written with another last digit, always the same double
  (971.9216918936607 as 971.9216918936608); a cost below 1e-80 or from 1e100 in magnitude may
  be written with up to 17 digits, possibly a neighbouring double (9e+119 as
  9.000000000000001e+119). Costs with at most 15 significant digits between 1e-80 and 1e100
  are written as Python writes them.
- PostgreSQL's shortest float text never lies exactly halfway between two doubles, which
  repr's may (reading back by ties-to-even): such costs, all of magnitude 2**54 or more, are
  written with more digits, the same double (1e+23 as 9.999999999999999e+22).
- On MariaDB the script reads the trace and span costs as decimals rounded to 10 places, so
  its cost JSON and span_metrics values are rounded there (0.00123456789012345 becomes
  0.0012345679, 1e-11 becomes 0.0); here they are the stored doubles, as the script writes
  them on SQLite and PostgreSQL.
"""

from alembic import op

import alembic_engine

revision = "75868b020152"
down_revision = "b7e2c1a4d9f3"
# The script as MLflow 3.6.0 - 3.17.2 ship it, and as MLflow 3.18.0 ships it: 3.18.0 changed
# only how its Python loops page through spans and deleted rows (a keyset cursor instead of
# re-reading from the start), which selects and deletes the same rows.
script_sha256 = (
    "c60fedf1d17c2be02b440dc3df371cc573b8790371ddc2cafd7adb905ee8ee79",
    "d92bb8bb6741028458f5071684d91be28fd18d653b7315d525a6cf25b32a0f3e",
)

_TOKEN_KEYS = [
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "cache_creation_input_tokens_above_1hr",
]
_COST_KEYS = ["input_cost", "output_cost", "total_cost"]
_DIMENSIONS = [("model_name", "mlflow.llm.model"), ("model_provider", "mlflow.llm.provider")]

# The characters str.isspace() accepts: what str.strip() and Decimal() strip.
_SPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
# float() strips the same, except the four information separators.
_FLOAT_SPACE = _SPACE.replace("\x1c\x1d\x1e\x1f", "")
_JSON_SPACE = " \t\n\r"
_NUMBER_PATTERN = "^-?(0|[1-9][0-9]*)([.][0-9]+)?([eE][+-]?[0-9]{1,4})?$"
_MAX_DOUBLE = "1.7976931348623157e308"
_GUARD = "alembic_engine_guard"


def _dialect():
    return op.get_bind().dialect.name


def _q(name):
    if _dialect() == "mysql":
        return "`" + name + "`"
    return '"' + name + '"'


def _key_is(column, key):
    # The script picks rows by key in SQL and then looks them up in a Python dict, which is
    # exact even where MariaDB's collation is not.
    if _dialect() == "mysql":
        return f"BINARY {column} = '{key}'"
    return f"{column} = '{key}'"


def _double_literal(text):
    if _dialect() == "postgresql":
        return f"CAST({text} AS DOUBLE PRECISION)"
    return text


def _trim(value, chars):
    d = _dialect()
    if d == "sqlite":
        return f"trim({value}, '{chars}')"
    if d == "postgresql":
        return f"btrim({value}, '{chars}')"
    return f"REGEXP_REPLACE({value}, '^[{chars}]+|[{chars}]+$', '')"


def _length(value):
    if _dialect() == "sqlite":
        return f"length({value})"
    return f"CHAR_LENGTH({value})"


def _json_doc(text):
    """The text when it is valid JSON (on PostgreSQL: as json), else NULL."""
    d = _dialect()
    if d == "sqlite":
        return f"CASE WHEN json_valid({text}) THEN {text} END"
    if d == "postgresql":
        return f"pg_temp.alembic_engine_json({text})"
    return f"CASE WHEN JSON_VALID({text}) THEN {text} END"


def _json_kind(doc):
    """The JSON type of a valid document, spelled as SQLite does; NULL for NULL."""
    d = _dialect()
    if d == "sqlite":
        return f"json_type({doc})"
    if d == "postgresql":
        return (
            f"CASE json_typeof({doc}) WHEN 'object' THEN 'object' WHEN 'array' THEN 'array' "
            f"WHEN 'string' THEN 'text' WHEN 'number' THEN 'number' WHEN 'null' THEN 'null' "
            f"WHEN 'boolean' THEN CASE WHEN btrim(CAST({doc} AS TEXT), '{_JSON_SPACE}') = 'true' "
            f"THEN 'true' ELSE 'false' END END"
        )
    return (
        f"CASE JSON_TYPE({doc}) WHEN 'OBJECT' THEN 'object' WHEN 'ARRAY' THEN 'array' "
        f"WHEN 'STRING' THEN 'text' WHEN 'INTEGER' THEN 'number' "
        f"WHEN 'UNSIGNED INTEGER' THEN 'number' WHEN 'DOUBLE' THEN 'number' "
        f"WHEN 'NULL' THEN 'null' "
        f"WHEN 'BOOLEAN' THEN CASE WHEN JSON_EXTRACT({doc}, '$') = 'true' THEN 'true' "
        f"ELSE 'false' END END"
    )


def _member_text(obj, key, spaces):
    """The text of member `key` of the JSON object `obj` when it is a number (as written) or
    a string (decoded, trimmed of `spaces`); NULL otherwise."""
    d = _dialect()
    if d == "sqlite":
        path = f"'$.\"{key}\"'"
        return (
            f"CASE json_type({obj}, {path}) WHEN 'integer' THEN {obj} -> {path} "
            f"WHEN 'real' THEN {obj} -> {path} "
            f"WHEN 'text' THEN {_trim(f'{obj} ->> {path}', spaces)} END"
        )
    if d == "postgresql":
        quoted = "'" + key + "'"
        return (
            f"CASE json_typeof({obj} -> '{key}') "
            f"WHEN 'number' THEN btrim(CAST({obj} -> '{key}' AS TEXT), '{_JSON_SPACE}') "
            f"WHEN 'string' THEN {_trim(obj + ' ->> ' + quoted, spaces)} END"
        )
    member = f"JSON_EXTRACT({obj}, '$.\"{key}\"')"
    return (
        f"CASE JSON_TYPE({member}) WHEN 'INTEGER' THEN {member} "
        f"WHEN 'UNSIGNED INTEGER' THEN {member} WHEN 'DOUBLE' THEN {member} "
        f"WHEN 'STRING' THEN {_trim(f'JSON_UNQUOTE({member})', spaces)} END"
    )


def _number_text(text):
    """`text` when it is written like a JSON number with an exponent of at most four digits,
    else NULL."""
    d = _dialect()
    if d == "sqlite":
        return (
            f"CASE WHEN json_valid({text}) THEN CASE WHEN json_type({text}) IN "
            f"('integer', 'real') AND lower({text}) NOT GLOB '*e*[0-9][0-9][0-9][0-9][0-9]*' "
            f"THEN {text} END END"
        )
    if d == "postgresql":
        return f"CASE WHEN {text} ~ '{_NUMBER_PATTERN}' THEN {text} END"
    return f"CASE WHEN {text} REGEXP '{_NUMBER_PATTERN}' THEN {text} END"


def _mysql_decimal_exponent(t):
    # The power of ten of the first significant digit of the number text t (-1000 for zero),
    # read from the text: MariaDB's CAST of an overflowing string is an error in an UPDATE.
    at = f"LOCATE('e', LOWER({t}))"
    mantissa = f"IF({at} > 0, LEFT({t}, {at} - 1), {t})"
    exponent = f"IF({at} > 0, CAST(SUBSTRING({t}, {at} + 1) AS SIGNED), 0)"
    whole = f"REGEXP_SUBSTR({mantissa}, '[0-9]+')"
    fraction = f"IF(LOCATE('.', {mantissa}) > 0, SUBSTRING({mantissa}, LOCATE('.', {mantissa}) + 1), '')"
    significant = f"TRIM(LEADING '0' FROM {fraction})"
    return (
        f"IF({whole} <> '0', CHAR_LENGTH({whole}) - 1 + {exponent}, "
        f"IF({significant} = '', -1000, "
        f"{exponent} - (CHAR_LENGTH({fraction}) - CHAR_LENGTH({significant})) - 1))"
    )


def _double(t):
    """The number text t (checked by _number_text, or NULL) as a double; NULL when its
    magnitude is 1e308 or more."""
    d = _dialect()
    if d == "sqlite":
        return f"CASE WHEN abs(CAST({t} AS REAL)) < 1e308 THEN CAST({t} AS REAL) END"
    if d == "postgresql":
        n = f"CAST({t} AS NUMERIC)"
        # float8 refuses what would round to zero; Python gives 0.0 there.
        return (
            f"CASE WHEN abs({n}) >= 1e308 THEN NULL "
            f"WHEN abs({n}) < 2.4703282292062328e-324 THEN CAST(0 AS DOUBLE PRECISION) "
            f"ELSE CAST({n} AS DOUBLE PRECISION) END"
        )
    return f"CASE WHEN {_mysql_decimal_exponent(t)} < 308 THEN CAST({t} AS DOUBLE) END"


def _finite(x):
    return f"CASE WHEN {x} BETWEEN {_double_literal('-' + _MAX_DOUBLE)} AND {_double_literal(_MAX_DOUBLE)} THEN {x} END"


def _token_from_double(x):
    d = _dialect()
    if d == "sqlite":
        whole, convert = f"{x} = CAST({x} AS INTEGER)", f"CAST({x} AS INTEGER)"
    elif d == "postgresql":
        whole, convert = f"{x} = trunc({x})", f"CAST({x} AS BIGINT)"
    else:
        whole, convert = f"{x} = TRUNCATE({x}, 0)", f"CAST({x} AS SIGNED)"
    low = _double_literal("-9.223372036854775808e18")
    high = _double_literal("9.223372036854775808e18")
    return f"CASE WHEN {x} >= {low} AND {x} < {high} AND {whole} THEN {convert} END"


def _token_from_text(t, x):
    """The number text t (checked by _number_text, or NULL) as a BIGINT token count; x is
    _double(t), for the numbers written with a fraction or an exponent."""
    d = _dialect()
    if d == "sqlite":
        digits, convert, collate = f"ltrim({t}, '-')", f"CAST({t} AS INTEGER)", ""
    elif d == "postgresql":
        digits, convert, collate = f"ltrim({t}, '-')", f"CAST({t} AS BIGINT)", ' COLLATE "C"'
    else:
        digits, convert, collate = f"TRIM(LEADING '-' FROM {t})", f"CAST({t} AS SIGNED)", ""
    limit = f"CASE WHEN {t} LIKE '-%' THEN '9223372036854775808' ELSE '9223372036854775807' END"
    fits = (
        f"({_length(digits)} < 19 OR ({_length(digits)} = 19 AND {digits}{collate} <= {limit}))"
    )
    return (
        f"CASE WHEN {t} LIKE '%.%' OR {t} LIKE '%e%' OR {t} LIKE '%E%' "
        f"THEN {_token_from_double(x)} WHEN {fits} THEN {convert} END"
    )


def _yes_no(s):
    lowered = f"lower({_trim(s, _SPACE)})"
    if _dialect() == "mysql":
        lowered = f"BINARY {lowered}"
    return f"CASE WHEN {lowered} = 'yes' THEN 1.0 WHEN {lowered} = 'no' THEN 0.0 END"


def _update_from(table, key_column, source, source_key, assignments):
    """UPDATE `table` from the derived table `source` joined on its key."""
    if _dialect() == "mysql":
        sets = ", ".join(f"{table}.{c} = {e}" for c, e in assignments)
        return (
            f"UPDATE {table} JOIN ({source}) AS src ON src.{source_key} = {table}.{key_column} "
            f"SET {sets}"
        )
    sets = ", ".join(f"{c} = {e}" for c, e in assignments)
    return (
        f"UPDATE {table} SET {sets} FROM ({source}) AS src "
        f"WHERE src.{source_key} = {table}.{key_column}"
    )


def _refuse_unless_zero(check, count_sql):
    # A temporary table whose CHECK fails when the count is not zero: the statement fails
    # before any change, and the error names the constraint. Portable to all three servers.
    op.execute(f"CREATE TEMPORARY TABLE {_GUARD} (n INTEGER, CONSTRAINT {check} CHECK (n = 0))")
    op.execute(f"INSERT INTO {_GUARD} (n) {count_sql}")
    op.execute(f"DROP TABLE {_GUARD}")


def _unsupported_dimension_attributes(doc):
    d = _dialect()
    model, provider = _DIMENSIONS[0][1], _DIMENSIONS[1][1]
    if d == "sqlite":
        return (
            f"{doc} IS NOT NULL AND NOT (CASE WHEN json_valid({doc}) THEN "
            f"json_type({doc}) = 'null' OR (json_type({doc}) = 'object' AND NOT EXISTS "
            f"(SELECT 1 FROM json_each({doc}) AS e WHERE e.key NOT IN ('{model}', '{provider}') "
            f"OR e.type NOT IN ('null', 'text'))) ELSE 0 END)"
        )
    if d == "postgresql":
        return (
            f"{doc} IS NOT NULL AND NOT (json_typeof({doc}) = 'null' OR "
            f"(json_typeof({doc}) = 'object' AND NOT EXISTS (SELECT 1 FROM json_each({doc}) AS e "
            f"WHERE e.key NOT IN ('{model}', '{provider}') "
            f"OR json_typeof(e.value) NOT IN ('null', 'string'))))"
        )
    paths = [f"'$.\"{model}\"'", f"'$.\"{provider}\"'"]
    present = " + ".join(f"JSON_CONTAINS_PATH({doc}, 'one', {p})" for p in paths)
    typed = " AND ".join(
        f"COALESCE(JSON_TYPE(JSON_EXTRACT({doc}, {p})), 'NULL') IN ('NULL', 'STRING')"
        for p in paths
    )
    return (
        f"{doc} IS NOT NULL AND NOT (CASE WHEN JSON_VALID({doc}) THEN "
        f"JSON_TYPE({doc}) = 'NULL' OR (JSON_TYPE({doc}) = 'OBJECT' "
        f"AND JSON_LENGTH({doc}) = {present} AND {typed}) ELSE 0 END)"
    )


def _validate():
    for child in ["spans", "assessments"]:
        _refuse_unless_zero(
            f"recipe_75868b020152_{child[:-1]}_without_trace_info",
            f"SELECT COUNT(*) FROM {child} AS c WHERE c.trace_id IS NOT NULL AND NOT EXISTS "
            f"(SELECT 1 FROM trace_info AS t WHERE t.request_id = c.trace_id)",
        )
    _refuse_unless_zero(
        "recipe_75868b020152_unsupported_dimension_attributes",
        "SELECT COUNT(*) FROM spans WHERE "
        + _unsupported_dimension_attributes("spans.dimension_attributes"),
    )


def _json_objects_of_metadata(key):
    """Derived table (rid, obj): each trace's metadata value under `key` when it is a JSON
    object, else NULL."""
    k = _q("key")
    parsed = (
        f"SELECT md.request_id AS rid, {_json_doc('md.value')} AS doc "
        f"FROM trace_request_metadata AS md WHERE {_key_is('md.' + k, key)}"
    )
    return (
        f"SELECT p.rid, CASE WHEN {_json_kind('p.doc')} = 'object' THEN p.doc END AS obj "
        f"FROM ({parsed}) AS p"
    )


def _numbers_of_metadata(key, members, spaces):
    """Derived table (rid, <member>, <member>_x ...): the number text of each member, checked,
    and its value as a double."""
    raw = ", ".join(f"{_member_text('o.obj', m, spaces)} AS {m}" for m in members)
    checked = ", ".join(f"{_number_text('r.' + m)} AS {m}" for m in members)
    doubles = ", ".join(f"n.{m}, {_double('n.' + m)} AS {m}_x" for m in members)
    return (
        f"SELECT n.rid, {doubles} FROM (SELECT r.rid, {checked} FROM "
        f"(SELECT o.rid, {raw} FROM ({_json_objects_of_metadata(key)}) AS o) AS r) AS n"
    )


def _metric_row(name):
    k = _q("key")
    return (
        "FROM trace_metrics AS m WHERE m.request_id = trace_info.request_id "
        f"AND {_key_is('m.' + k, name)}"
    )


def _backfill_traces():
    k = _q("key")
    nulls = ", ".join(f"{c} = NULL" for c in _TOKEN_KEYS + _COST_KEYS)
    op.execute(
        "UPDATE trace_info SET "
        "trace_name = (SELECT SUBSTR(tg.value, 1, 4096) FROM trace_tags AS tg "
        f"WHERE tg.request_id = trace_info.request_id AND tg.{k} = 'mlflow.traceName'), "
        "session_id = (SELECT SUBSTR(md.value, 1, 250) FROM trace_request_metadata AS md "
        "WHERE md.request_id = trace_info.request_id AND "
        f"{_key_is('md.' + k, 'mlflow.trace.session')}), {nulls}"
    )
    op.execute(
        _update_from(
            "trace_info",
            "request_id",
            _numbers_of_metadata("mlflow.trace.tokenUsage", _TOKEN_KEYS, _SPACE),
            "rid",
            [(c, _token_from_text("src." + c, "src." + c + "_x")) for c in _TOKEN_KEYS],
        )
    )
    sets = ", ".join(
        f"{c} = CASE WHEN EXISTS (SELECT 1 {_metric_row(c)}) "
        f"THEN (SELECT {_token_from_double('m.value')} {_metric_row(c)}) ELSE {c} END"
        for c in _TOKEN_KEYS
    )
    keys = ", ".join(f"'{c}'" for c in _TOKEN_KEYS)
    op.execute(
        f"UPDATE trace_info SET {sets} WHERE EXISTS (SELECT 1 FROM trace_metrics AS m "
        f"WHERE m.request_id = trace_info.request_id AND m.{k} IN ({keys}))"
    )
    op.execute(
        _update_from(
            "trace_info",
            "request_id",
            _numbers_of_metadata("mlflow.trace.cost", _COST_KEYS, _FLOAT_SPACE),
            "rid",
            [(c, "src." + c + "_x") for c in _COST_KEYS],
        )
    )


def _dimension(doc, key):
    d = _dialect()
    if d == "sqlite":
        path = f"'$.\"{key}\"'"
        return f"CASE WHEN json_type({doc}, {path}) = 'text' THEN SUBSTR({doc} ->> {path}, 1, 500) END"
    if d == "postgresql":
        return (
            f"CASE WHEN json_typeof({doc} -> '{key}') = 'string' "
            f"THEN SUBSTR({doc} ->> '{key}', 1, 500) END"
        )
    member = f"JSON_EXTRACT({doc}, '$.\"{key}\"')"
    return f"CASE WHEN JSON_TYPE({member}) = 'STRING' THEN SUBSTR(JSON_UNQUOTE({member}), 1, 500) END"


def _backfill_spans():
    k = _q("key")
    costs = [
        f"{c} = (SELECT {_finite('m.value')} FROM span_metrics AS m "
        f"WHERE m.trace_id = spans.trace_id AND m.span_id = spans.span_id "
        f"AND {_key_is('m.' + k, c)})"
        for c in _COST_KEYS
    ]
    dims = [f"{c} = {_dimension('spans.dimension_attributes', key)}" for c, key in _DIMENSIONS]
    op.execute("UPDATE spans SET " + ", ".join(costs + dims))


def _backfill_trace_costs_from_spans():
    k = _q("key")
    span_total = "(SELECT SUM(s.total_cost) FROM spans AS s WHERE s.trace_id = trace_info.request_id)"
    op.execute(
        f"UPDATE trace_info SET total_cost = {span_total} "
        f"WHERE trace_info.total_cost IS NULL AND {span_total} IS NOT NULL AND EXISTS "
        f"(SELECT 1 FROM trace_request_metadata AS md WHERE md.request_id = trace_info.request_id "
        f"AND md.{k} = 'mlflow.gateway.endpointId')"
    )


def _backfill_assessments():
    d = _dialect()
    parsed = (
        f"SELECT a.assessment_id AS aid, t.experiment_id AS eid, t.timestamp_ms AS ts, "
        f"a.value AS v, {_json_doc('a.value')} AS doc "
        f"FROM assessments AS a JOIN trace_info AS t ON t.request_id = a.trace_id"
    )
    kind = _json_kind("p.doc")
    if d == "sqlite":
        decoded = "p.doc ->> '$'"
        number = f"trim(p.doc, '{_JSON_SPACE}')"
    elif d == "postgresql":
        decoded = "p.doc #>> '{}'"
        number = f"btrim(CAST(p.doc AS TEXT), '{_JSON_SPACE}')"
    else:
        decoded = "JSON_UNQUOTE(JSON_EXTRACT(p.doc, '$'))"
        number = "JSON_EXTRACT(p.doc, '$')"
    classified = (
        f"SELECT p.aid, p.eid, p.ts, "
        f"CASE WHEN p.doc IS NULL THEN NULL WHEN {kind} = 'true' THEN 1.0 "
        f"WHEN {kind} = 'false' THEN 0.0 END AS flag, "
        f"CASE WHEN {kind} IN ('integer', 'real', 'number') THEN {number} END AS num, "
        f"CASE WHEN p.doc IS NULL THEN p.v WHEN {kind} = 'text' THEN {decoded} END AS s "
        f"FROM ({parsed}) AS p"
    )
    checked = (
        f"SELECT c.aid, c.eid, c.ts, c.flag, {_number_text('c.num')} AS num, "
        f"{_yes_no('c.s')} AS yn FROM ({classified}) AS c"
    )
    source = (
        f"SELECT n.aid, n.eid, n.ts, n.flag, n.yn, {_double('n.num')} AS dbl "
        f"FROM ({checked}) AS n"
    )
    op.execute(
        _update_from(
            "assessments",
            "assessment_id",
            source,
            "aid",
            [
                ("experiment_id", "src.eid"),
                ("trace_timestamp_ms", "src.ts"),
                ("aggregate_value", "COALESCE(src.flag, src.dbl, src.yn)"),
                ("is_numeric_value", "src.dbl IS NOT NULL"),
            ],
        )
    )


def _listed(keys):
    return ", ".join(f"'{key}'" for key in keys)


def _cleanup_legacy_analytics():
    k = _q("key")
    op.execute(f"DELETE FROM trace_tags WHERE {k} = 'mlflow.traceName'")
    op.execute(
        f"DELETE FROM trace_request_metadata WHERE {k} IN "
        f"({_listed(['mlflow.trace.session', 'mlflow.trace.tokenUsage', 'mlflow.trace.cost'])})"
    )
    op.execute(f"DELETE FROM trace_metrics WHERE {k} IN ({_listed(_TOKEN_KEYS)})")
    op.execute(f"DELETE FROM span_metrics WHERE {k} IN ({_listed(_COST_KEYS)})")


# ---------------------------------------------------------------------------------------------
# Downgrade: the legacy rows rebuilt from the analytics columns.


def _cat(*parts):
    if _dialect() == "mysql":
        return "CONCAT(" + ", ".join(parts) + ")"
    return "(" + " || ".join(parts) + ")"


def _position(needle, haystack):
    d = _dialect()
    if d == "sqlite":
        return f"instr({haystack}, {needle})"
    if d == "postgresql":
        return f"strpos({haystack}, {needle})"
    return f"LOCATE({needle}, {haystack})"


def _strip_zeros(value, side):
    if _dialect() == "mysql":
        return f"TRIM({side} '0' FROM {value})"
    return ("ltrim" if side == "LEADING" else "rtrim") + f"({value}, '0')"


def _integer(text):
    return f"CAST({text} AS {'SIGNED' if _dialect() == 'mysql' else 'INTEGER'})"


def _text(number):
    return f"CAST({number} AS {'CHAR' if _dialect() == 'mysql' else 'TEXT'})"


def _zeros(n):
    return f"SUBSTR('0000000000000000', 1, {n})"


def _shortest_text(x):
    """A number text of the finite double x with the fewest significant digits that read
    back as x, as the database writes it; NULL for NULL."""
    d = _dialect()
    if d == "sqlite":
        # 15 significant digits suffice for a double whose shortest form has at most 15, 17
        # for every double. printf writes NULL as zero, hence the first test.
        tries = [f"printf('%!.{n}e', {x})" for n in (14, 15)]
        whens = " ".join(f"WHEN CAST({t} AS REAL) = {x} THEN {t}" for t in tries)
        return f"CASE WHEN {x} IS NULL THEN NULL {whens} ELSE printf('%!.16e', {x}) END"
    if d == "postgresql":
        return f"pg_temp.alembic_engine_float_text({x})"
    return f"CAST({x} AS CHAR)"


def _float_texts(source, keys, columns):
    """Derived table (keys..., columns...) of `source`: its columns, finite doubles, as the
    text Python's repr writes; NULL for NULL. The database's shortest text is split into
    sign, significant digits and decimal exponent, then laid out as repr lays them out."""
    kept = ", ".join(f"s.{k}" for k in keys)
    texts = ", ".join(f"{_shortest_text('s.' + c)} AS {c}" for c in columns)
    split = []
    for c in columns:
        t, at = f"s.{c}", _position("'e'", f"s.{c}")
        split.append(
            f"CASE WHEN {t} LIKE '-%' THEN '-' ELSE '' END AS {c}_neg, "
            f"REPLACE(CASE WHEN {at} > 0 THEN SUBSTR({t}, 1, {at} - 1) ELSE {t} END, '-', '') "
            f"AS {c}_m, CASE WHEN {at} > 0 THEN {_integer(f'SUBSTR({t}, {at} + 1)')} ELSE 0 END "
            f"AS {c}_p"
        )
    digits = []
    for c in columns:
        m = f"s.{c}_m"
        dot = _position("'.'", m)
        whole = f"CASE WHEN {dot} > 0 THEN SUBSTR({m}, 1, {dot} - 1) ELSE {m} END"
        all_digits = f"REPLACE({m}, '.', '')"
        significant = _strip_zeros(all_digits, "LEADING")
        digits.append(
            f"s.{c}_neg, {_strip_zeros(significant, 'TRAILING')} AS {c}_d, "
            f"s.{c}_p + {_length(whole)} - 1 - ({_length(all_digits)} - {_length(significant)}) "
            f"AS {c}_e"
        )
    layouts = []
    point, dot_zero, zero = "'.'", "'.0'", "'0.0'"
    for c in columns:
        n, d, e = f"s.{c}_neg", f"s.{c}_d", f"s.{c}_e"
        whole_part = (
            f"CASE WHEN {_length(d)} <= {e} + 1 "
            f"THEN {_cat(d, _zeros(f'{e} + 1 - {_length(d)}'), dot_zero)} "
            f"ELSE {_cat(f'SUBSTR({d}, 1, {e} + 1)', point, f'SUBSTR({d}, {e} + 2)')} END"
        )
        fraction = _cat("'0.'", _zeros(f"-{e} - 1"), d)
        scientific = _cat(
            f"SUBSTR({d}, 1, 1)",
            f"CASE WHEN {_length(d)} > 1 THEN {_cat(point, f'SUBSTR({d}, 2)')} ELSE '' END",
            "'e'",
            f"CASE WHEN {e} < 0 THEN '-' ELSE '+' END",
            f"CASE WHEN ABS({e}) < 10 THEN '0' ELSE '' END",
            _text(f"ABS({e})"),
        )
        layouts.append(
            f"CASE WHEN {d} IS NULL THEN NULL WHEN {d} = '' THEN {_cat(n, zero)} "
            f"WHEN {e} BETWEEN 0 AND 15 THEN {_cat(n, whole_part)} "
            f"WHEN {e} BETWEEN -4 AND -1 THEN {_cat(n, fraction)} "
            f"ELSE {_cat(n, scientific)} END AS {c}"
        )
    sql = f"SELECT {kept}, {texts} FROM ({source}) AS s"
    for listed in [split, digits, layouts]:
        sql = f"SELECT {kept}, {', '.join(listed)} FROM ({sql}) AS s"
    return sql


def _hex4(n):
    d = _dialect()
    if d == "sqlite":
        return f"printf('%04x', {n})"
    if d == "postgresql":
        return f"lpad(to_hex({n}), 4, '0')"
    return f"LPAD(LOWER(HEX({n})), 4, '0')"


def _escaped_character(c):
    """What json.dumps (ensure_ascii) writes for the one-character string c."""
    d = _dialect()
    if d == "sqlite":
        u, backslash, over = f"unicode({c})", "char(92)", "/"
    elif d == "postgresql":
        u, backslash, over = f"ascii({c})", "chr(92)", "/"
    else:
        code = f"CONV(HEX(CONVERT({c} USING utf32)), 16, 10)"
        u, backslash, over = f"CAST({code} AS SIGNED)", "CHAR(92 USING utf8mb4)", "DIV"
    short = [(34, "'\"'"), (92, backslash), (10, "'n'"), (13, "'r'"), (9, "'t'"), (8, "'b'")]
    short.append((12, "'f'"))
    whens = " ".join(f"WHEN {u} = {n} THEN {_cat(backslash, e)}" for n, e in short)
    u_escape = _cat(backslash, "'u'")
    above = f"({u} - 65536)"
    pair = _cat(
        u_escape,
        _hex4(f"55296 + {above} {over} 1024"),
        u_escape,
        _hex4(f"56320 + {above} % 1024"),
    )
    return (
        f"CASE {whens} WHEN {u} BETWEEN 32 AND 126 THEN {c} "
        f"WHEN {u} < 65536 THEN {_cat(u_escape, _hex4(u))} ELSE {pair} END"
    )


def _plain_ascii(s):
    """True when json.dumps writes the string s as it is: printable ASCII without `"`, `\\`."""
    d = _dialect()
    if d == "sqlite":
        return f"({s} NOT GLOB '*[^ -~]*' AND instr({s}, '\"') = 0 AND instr({s}, char(92)) = 0)"
    if d == "postgresql":
        return f"({s} !~ '[^ -~]' AND strpos({s}, '\"') = 0 AND strpos({s}, chr(92)) = 0)"
    # The UTF-8 bytes, in hex, pair by pair: 20-7E except 22 and 5C (no collation involved).
    return f"(HEX({s}) REGEXP '^(2[01345-9A-F]|[346][0-9A-F]|5[0-9ABD-F]|7[0-9A-E])*$')"


def _json_string(s):
    """json.dumps(s) for the text s: the characters escaped one by one (over the positions
    table) when any needs it."""
    d = _dialect()
    c = f"SUBSTR({s}, p.i, 1)"
    if d == "sqlite":
        joined = f"group_concat({_escaped_character(c)}, '' ORDER BY p.i)"
    elif d == "postgresql":
        joined = f"string_agg({_escaped_character(c)}, '' ORDER BY p.i)"
    else:
        joined = f"GROUP_CONCAT({_escaped_character(c)} ORDER BY p.i SEPARATOR '')"
    escaped = f"(SELECT {joined} FROM {_POSITIONS} AS p WHERE p.i <= {_length(s)})"
    return (
        f"CASE WHEN {s} IS NULL THEN NULL WHEN {_plain_ascii(s)} THEN {_cat(_QUOTE, s, _QUOTE)} "
        f"ELSE {_cat(_QUOTE, f'COALESCE({escaped}, {_EMPTY})', _QUOTE)} END"
    )


_QUOTE, _EMPTY, _LBRACE, _RBRACE = "'\"'", "''", "'{'", "'}'"
_POSITIONS = "alembic_engine_positions"


def _json_object(members):
    """json.dumps of a dict of (key, JSON text or NULL) pairs in order, the NULLs left out
    (at least one must not be NULL)."""
    pieces = []
    for key, value in members:
        label = "', \"" + key + "\": '"
        pieces.append(f"COALESCE({_cat(label, value)}, {_EMPTY})")
    return _cat(_LBRACE, f"SUBSTR({_cat(*pieces)}, 3)", _RBRACE)


def _any_present(values):
    return "(" + " OR ".join(f"{v} IS NOT NULL" for v in values) + ")"


def _token(column):
    # On SQLite a BIGINT column can hold any value; the script keeps integers only.
    if _dialect() == "sqlite":
        return f"CASE WHEN typeof({column}) = 'integer' THEN {column} END"
    return column


def _create_positions():
    """A temporary table of the character positions 1..n of the longest model dimension."""
    op.execute(f"CREATE TEMPORARY TABLE {_POSITIONS} (i INTEGER PRIMARY KEY)")
    if _dialect() == "sqlite":
        # SQLite does not enforce VARCHAR(500): count the longest value.
        longest = (
            "SELECT MAX(n) FROM (SELECT length(model_name) AS n FROM spans "
            "UNION ALL SELECT length(model_provider) FROM spans) AS lengths"
        )
        op.execute(
            f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
            f"WHERE i < ({longest})) INSERT INTO {_POSITIONS} (i) SELECT i FROM n"
        )
    else:
        values = ", ".join(f"({i})" for i in range(1, 501))
        op.execute(f"INSERT INTO {_POSITIONS} (i) VALUES {values}")


def _double_of(column):
    d = _dialect()
    kind = "REAL" if d == "sqlite" else "DOUBLE PRECISION" if d == "postgresql" else "DOUBLE"
    return f"CAST({column} AS {kind})"


def _rebuild_legacy_analytics():
    """The script's _reconstruct_legacy_analytics as set-based statements (see the
    docstring)."""
    k, d = _q("key"), _dialect()
    _cleanup_legacy_analytics()
    if d == "postgresql":
        op.execute(
            "CREATE FUNCTION pg_temp.alembic_engine_float_text(x DOUBLE PRECISION) RETURNS TEXT "
            "LANGUAGE sql IMMUTABLE STRICT SET extra_float_digits = 3 "
            "AS $$ SELECT CAST(x AS TEXT) $$"
        )
    op.execute(
        f"INSERT INTO trace_tags (request_id, {k}, value) SELECT request_id, "
        "'mlflow.traceName', trace_name FROM trace_info WHERE trace_name IS NOT NULL"
    )
    metadata = f"INSERT INTO trace_request_metadata (request_id, {k}, value) "
    op.execute(
        metadata + "SELECT request_id, 'mlflow.trace.session', session_id FROM trace_info "
        "WHERE session_id IS NOT NULL"
    )
    tokens = [(c, _token(c)) for c in _TOKEN_KEYS]
    texts = [(c, _text(t)) for c, t in tokens]
    op.execute(
        metadata + f"SELECT request_id, 'mlflow.trace.tokenUsage', {_json_object(texts)} "
        f"FROM trace_info WHERE {_any_present([t for _, t in tokens])}"
    )
    op.execute(
        f"INSERT INTO trace_metrics (request_id, {k}, value) "
        + " UNION ALL ".join(
            f"SELECT request_id, '{c}', {_double_of(t)} FROM trace_info WHERE {t} IS NOT NULL"
            for c, t in tokens
        )
    )
    finite = ", ".join(f"{_finite(c)} AS {c}" for c in _COST_KEYS)
    costs = _float_texts(
        f"SELECT request_id, {finite} FROM trace_info", ["request_id"], _COST_KEYS
    )
    texts = [(c, "f." + c) for c in _COST_KEYS]
    op.execute(
        metadata + f"SELECT f.request_id, 'mlflow.trace.cost', {_json_object(texts)} "
        f"FROM ({costs}) AS f WHERE {_any_present([t for _, t in texts])}"
    )
    _create_positions()
    dimensions = _json_object([(key, _json_string("spans." + c)) for c, key in _DIMENSIONS])
    if d == "postgresql":
        dimensions = f"CAST({dimensions} AS JSON)"
    op.execute(
        f"UPDATE spans SET dimension_attributes = {dimensions} "
        "WHERE model_name IS NOT NULL OR model_provider IS NOT NULL"
    )
    op.execute(f"DROP TABLE {_POSITIONS}")
    op.execute(
        f"INSERT INTO span_metrics (trace_id, span_id, {k}, value) "
        + " UNION ALL ".join(
            f"SELECT trace_id, span_id, '{c}', {c} FROM spans WHERE {c} IS NOT NULL"
            for c in _COST_KEYS
        )
    )
    if d == "postgresql":
        op.execute("DROP FUNCTION pg_temp.alembic_engine_float_text(DOUBLE PRECISION)")


def upgrade():
    _validate()
    if _dialect() == "postgresql":
        op.execute(
            "CREATE FUNCTION pg_temp.alembic_engine_json(doc TEXT) RETURNS JSON "
            "LANGUAGE plpgsql AS $$ BEGIN RETURN doc::json; "
            "EXCEPTION WHEN invalid_text_representation THEN RETURN NULL; END $$"
        )
    _add_analytics_columns()
    _backfill_traces()
    _backfill_spans()
    _backfill_trace_costs_from_spans()
    _backfill_assessments()
    _finalize_assessment_not_null()
    _create_rollup_tables()
    _cleanup_legacy_analytics()
    _drop_dimension_attributes()
    _create_analytics_indexes()
    if _dialect() == "postgresql":
        op.execute("DROP FUNCTION pg_temp.alembic_engine_json(TEXT)")


def downgrade():
    _script_downgrade()


alembic_engine.replace_nested("_reconstruct_legacy_analytics", _rebuild_legacy_analytics)

from alembic_engine.original import (  # noqa: E402
    _add_analytics_columns,
    _create_analytics_indexes,
    _create_rollup_tables,
    _drop_dimension_attributes,
    _finalize_assessment_not_null,
)
from alembic_engine.original import downgrade as _script_downgrade  # noqa: E402
