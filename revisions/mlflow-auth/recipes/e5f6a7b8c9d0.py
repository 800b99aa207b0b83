"""Recipe for MLflow auth revision e5f6a7b8c9d0 (migrate legacy permissions to roles).

The script changes no schema. It walks the seven legacy permission tables in a fixed order
(workspace, experiment, registered model, scorer, gateway secret, gateway endpoint, gateway
model definition) with an unordered SELECT each, turns every row into zero or more grants
(user, workspace, resource type, resource pattern, permission), and for each grant, in that
order: finds or creates the role `__user_<user id>__` in the grant's workspace, assigns the
user to it unless already assigned, and adds the grant to the role unless the role already
has a grant on the same (resource type, resource pattern). Here the same work is three
INSERT ... SELECT statements per legacy table, in the script's table order, after one guard:

- Which rows survive, and what they become, is a join with a constant rule list rather than
  Python branches. Workspace rows: USE and MANAGE stay; READ becomes USE; EDIT becomes a
  workspace USE grant plus one `*` EDIT grant on each of the six resource types, in the
  script's order; anything else (NO_PERMISSIONS, unknown values) is dropped, as the script's
  rewrite-then-validate drops it. Resource rows survive when their permission is exactly one
  of READ, USE, EDIT, MANAGE (NULL and any other spelling are dropped: the script's set
  membership test is case-sensitive, so on MySQL/MariaDB the comparison is made BINARY).
- Workspaces and patterns are the script's: the row's workspace for workspace and
  registered-model rows, `default` for the others; the experiment id, model name, secret,
  endpoint or model definition id as it is; for scorers `<experiment id>/<quoted name>`, where
  the name is percent-encoded like `urllib.parse.quote(name, safe='')`: every character
  outside `A-Z a-z 0-9 _ . - ~` becomes `%XX` for each byte of its UTF-8 encoding, hex in
  upper case. SQL has no such function, so a recursive query encodes one character per step
  (per dialect: the UTF-8 bytes come from CAST AS BLOB, CONVERT_TO or CONVERT USING utf8mb4).
- Role names are `'__user_' || user_id || '__'`, the script's format of the integer id.
- Roles: the (user, workspace) pairs of a table's surviving grants that have no role of that
  name in that workspace yet (the script's lookup, so pre-existing roles of that name are
  reused as the script reuses them). A role is created for a pair even when all its grants
  turn out to be there already, as in the script, where the role comes first.
- Assignments: the (user, role) pairs not yet assigned.
- Grants: those whose (role, resource type, pattern) is not there yet. The script keeps the
  first grant for a key; since the tables are done in its order and no table yields the same
  key twice (each legacy table is unique on what the pattern is built from, and the scorer
  encoding never yields `/`, so `<id>/<name>` splits back at its last `/`), "not there
  before this statement" is "first". The only keys two grants share are a workspace EDIT's
  `*` grants and a resource row whose id is literally `*` (or a pre-existing grant of a
  reused role): the earlier one wins, in both.
- The guard: the script refuses (raises) when it would reuse a pre-existing role of the
  reserved name that is assigned to another user. The migration itself only ever assigns a
  user to that user's own role, so whether this happens is decided by the rows before the
  migration: the guard counts such (user, workspace) pairs into a temporary table whose
  CHECK demands zero, before any change. The script stops at the first such grant, inside
  its transaction; the recipe stops before the first INSERT. Either way nothing is migrated.

Generated ids. Roles, assignments and grants get their ids from the order they are inserted
in, and the script inserts in the order its unordered SELECTs return the legacy rows. Each
INSERT here is ordered by the position of the row in a plain full scan of the legacy table
(the first row naming a pair, for roles and assignments; row then fan-out position, for
grants): `rowid` on SQLite, the physical row address `ctid` on PostgreSQL, the primary key
on MySQL/MariaDB (InnoDB scans in key order) — the order the script's SELECTs get from those
databases when they scan the table from start to end. Documented exception: where the
database hands the script its rows in another order (PostgreSQL may split a large table over
parallel workers, or start a scan mid-table to share it with a concurrent one), the ids of
roles, user_role_assignments and role_permissions may differ from the script's; the rows are
the same once each id is replaced by its natural key (roles: workspace and name;
assignments: user and role; grants: role, resource type and pattern). The same holds on
MySQL/MariaDB always: InnoDB hands an INSERT ... SELECT its AUTO_INCREMENT values in growing
batches and drops what the statement does not use, so ids are in the script's order but jump
between statements where the script's are consecutive. (MLflow's auth tables cannot be created
on MySQL/MariaDB by Alembic in the first place; the MySQL spelling is here for databases whose
tables were created by other means.)

Downgrade. The script's downgrade deletes the grants, assignments and roles of every role
whose name matches Python's `^__user_\\d+__$` (the legacy tables were never emptied, so no
data moves back). Here the same three DELETEs select those roles in SQL: `__user_`, one or
more ASCII digits, `__`, optionally one final newline (Python's `$` also matches before a
trailing newline). Documented exception: Python's `\\d` also matches non-ASCII decimal
digits (e.g. `__user_٣__`); no upgrade creates such names, and the recipe leaves those roles
alone rather than ship a table of Unicode digits.
"""

from alembic import op

revision = "e5f6a7b8c9d0"
down_revision = "c3d4e5f6a7b8"
script_sha256 = "85ea01a91f156c5ef00c84082c5c2f9720f84c2e60f624fcb5a39027b687c8be"

DEFAULT_WORKSPACE = "default"

RESOURCE_PERMISSIONS = ["READ", "USE", "EDIT", "MANAGE"]

# Workspace rows: (legacy permission, resource type, granted permission, fan-out position).
WORKSPACE_RULES = [
    ("USE", "workspace", "USE", 0),
    ("MANAGE", "workspace", "MANAGE", 0),
    ("READ", "workspace", "USE", 0),
    ("EDIT", "workspace", "USE", 0),
    ("EDIT", "experiment", "EDIT", 1),
    ("EDIT", "registered_model", "EDIT", 2),
    ("EDIT", "scorer", "EDIT", 3),
    ("EDIT", "gateway_secret", "EDIT", 4),
    ("EDIT", "gateway_endpoint", "EDIT", 5),
    ("EDIT", "gateway_model_definition", "EDIT", 6),
]

# Resource tables after the workspace one, in the script's order:
# (table, its primary key, workspace column or None for the default, resource type, pattern
# column or None for the scorer's compound pattern).
RESOURCE_TABLES = [
    ("experiment_permissions", "id", None, "experiment", "experiment_id"),
    ("registered_model_permissions", "id", "workspace", "registered_model", "name"),
    ("scorer_permissions", "id", None, "scorer", None),
    ("gateway_secret_permissions", "id", None, "gateway_secret", "secret_id"),
    ("gateway_endpoint_permissions", "id", None, "gateway_endpoint", "endpoint_id"),
    (
        "gateway_model_definition_permissions",
        "id",
        None,
        "gateway_model_definition",
        "model_definition_id",
    ),
]

# What urllib.parse.quote never encodes.
UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~"


def _dialect():
    return op.get_bind().dialect.name


def _lit(s):
    return "'" + s.replace("'", "''") + "'"


def _cat(parts):
    if _dialect() == "mysql":
        return "CONCAT(" + ", ".join(parts) + ")"
    return "(" + " || ".join(parts) + ")"


def _exact(expr):
    """`expr` compared byte for byte, as Python compares strings."""
    if _dialect() == "mysql":
        return "BINARY " + expr
    return expr


def _role_name(user_id):
    text = {"sqlite": "TEXT", "postgresql": "VARCHAR", "mysql": "CHAR"}[_dialect()]
    return _cat(["'__user_'", f"CAST({user_id} AS {text})", "'__'"])


def _scan_position(table_pk):
    """A row's position in a plain full scan of its table."""
    d = _dialect()
    if d == "sqlite":
        return "rowid"
    if d == "postgresql":
        return "ROW_NUMBER() OVER (ORDER BY ctid)"
    return f"ROW_NUMBER() OVER (ORDER BY {table_pk})"


def _values(rows, names):
    """A constant derived table, spelled the same on every dialect."""
    selects = []
    for row in rows:
        cells = [_lit(v) if isinstance(v, str) else str(v) for v in row]
        selects.append("SELECT " + ", ".join(f"{c} AS {n}" for c, n in zip(cells, names)))
    return "(" + " UNION ALL ".join(selects) + ")"


def _percent_encoded(ch):
    """`quote(ch, safe='')` for one character `ch` (never empty)."""
    d = _dialect()
    if d == "sqlite":
        safe = f"INSTR({_lit(UNRESERVED)}, {ch}) > 0"
        hexed = f"HEX(CAST({ch} AS BLOB))"
    elif d == "postgresql":
        safe = f"STRPOS({_lit(UNRESERVED)}, {ch}) > 0"
        hexed = f"UPPER(ENCODE(CONVERT_TO({ch}, 'UTF8'), 'hex'))"
    else:
        safe = f"LOCATE(BINARY {ch}, {_lit(UNRESERVED)}) > 0"
        hexed = f"HEX(CONVERT({ch} USING utf8mb4))"
    # One to four UTF-8 bytes: two to eight hex digits, each pair prefixed with '%'.
    pieces = ["'%'", f"SUBSTR({hexed}, 1, 2)"]
    for start in [3, 5, 7]:
        pieces.append(
            f"CASE WHEN LENGTH({hexed}) > {start - 1} "
            f"THEN {_cat([_lit('%'), f'SUBSTR({hexed}, {start}, 2)'])} ELSE '' END"
        )
    return f"CASE WHEN {safe} THEN {ch} ELSE {_cat(pieces)} END"


def _char_length(expr):
    return ("LENGTH" if _dialect() == "sqlite" else "CHAR_LENGTH") + f"({expr})"


def _resource_filter():
    allowed = ", ".join(_lit(p) for p in RESOURCE_PERMISSIONS)
    return f"{_exact('permission')} IN ({allowed})"


def _workspace_pairs():
    legacy = ", ".join(_lit(p) for p in ["USE", "MANAGE", "READ", "EDIT"])
    return (
        f"(SELECT user_id, workspace AS ws, {_scan_position('workspace, user_id')} AS pos "
        f"FROM workspace_permissions WHERE {_exact('permission')} IN ({legacy}))"
    )


def _workspace_grants():
    rules = _values(WORKSPACE_RULES, ["legacy", "rtype", "perm", "fan"])
    return (
        f"(SELECT w.user_id, w.workspace AS ws, rules.rtype, '*' AS pattern, rules.perm, "
        f"w.pos, rules.fan FROM (SELECT user_id, workspace, permission, "
        f"{_scan_position('workspace, user_id')} AS pos FROM workspace_permissions) AS w "
        f"JOIN {rules} AS rules ON {_exact('w.permission')} = rules.legacy)"
    )


def _resource_pairs(table, pk, ws_column):
    ws = ws_column or _lit(DEFAULT_WORKSPACE)
    return (
        f"(SELECT user_id, {ws} AS ws, {_scan_position(pk)} AS pos "
        f"FROM {table} WHERE {_resource_filter()})"
    )


def _resource_grants(table, pk, ws_column, rtype, pattern_column):
    ws = ws_column or _lit(DEFAULT_WORKSPACE)
    return (
        f"(SELECT user_id, {ws} AS ws, {_lit(rtype)} AS rtype, {pattern_column} AS pattern, "
        f"permission AS perm, {_scan_position(pk)} AS pos, 0 AS fan "
        f"FROM {table} WHERE {_resource_filter()})"
    )


def _scorer_grants():
    d = _dialect()
    if d == "postgresql":
        rest0, done0 = "CAST(scorer_name AS TEXT)", "CAST('' AS TEXT)"
    elif d == "mysql":
        # The recursion's column types come from its first part: wide enough, and four-byte
        # UTF-8 whatever the connection's character set.
        rest0 = "CAST(scorer_name AS CHAR(256) CHARACTER SET utf8mb4)"
        done0 = "CAST('' AS CHAR(3072) CHARACTER SET utf8mb4)"
    else:
        rest0, done0 = "scorer_name", "''"
    first = "SUBSTR(rest, 1, 1)"
    step = _cat(["done", _percent_encoded(first)])
    return (
        "(WITH RECURSIVE encoded (user_id, experiment_id, permission, pos, rest, done) AS ("
        f"SELECT user_id, experiment_id, permission, pos, {rest0}, {done0} FROM ("
        f"SELECT user_id, experiment_id, scorer_name, permission, {_scan_position('id')} AS pos "
        f"FROM scorer_permissions WHERE {_resource_filter()}) AS s "
        f"UNION ALL SELECT user_id, experiment_id, permission, pos, SUBSTR(rest, 2), {step} "
        f"FROM encoded WHERE {_char_length('rest')} > 0) "
        f"SELECT user_id, {_lit(DEFAULT_WORKSPACE)} AS ws, 'scorer' AS rtype, "
        f"{_cat(['experiment_id', _lit('/'), 'done'])} AS pattern, permission AS perm, pos, "
        f"0 AS fan FROM encoded WHERE {_char_length('rest')} = 0)"
    )


def _role_of(t):
    return f"roles AS r ON r.workspace = {t}.ws AND r.name = {_role_name(t + '.user_id')}"


def _migrate(pairs, grants):
    op.execute(
        f"INSERT INTO roles (name, workspace, description) "
        f"SELECT {_role_name('t.user_id')}, t.ws, NULL FROM {pairs} AS t "
        f"WHERE NOT EXISTS (SELECT 1 FROM roles AS r "
        f"WHERE r.workspace = t.ws AND r.name = {_role_name('t.user_id')}) "
        f"GROUP BY t.user_id, t.ws ORDER BY MIN(t.pos)"
    )
    op.execute(
        f"INSERT INTO user_role_assignments (user_id, role_id) "
        f"SELECT t.user_id, r.id FROM {pairs} AS t JOIN {_role_of('t')} "
        f"WHERE NOT EXISTS (SELECT 1 FROM user_role_assignments AS a "
        f"WHERE a.user_id = t.user_id AND a.role_id = r.id) "
        f"GROUP BY t.user_id, r.id ORDER BY MIN(t.pos)"
    )
    op.execute(
        f"INSERT INTO role_permissions (role_id, resource_type, resource_pattern, permission) "
        f"SELECT r.id, t.rtype, t.pattern, t.perm FROM {grants} AS t JOIN {_role_of('t')} "
        f"WHERE NOT EXISTS (SELECT 1 FROM role_permissions AS p WHERE p.role_id = r.id "
        f"AND p.resource_type = t.rtype AND p.resource_pattern = t.pattern) "
        f"ORDER BY t.pos, t.fan"
    )


def _refuse_taken_role_names(all_pairs):
    pairs = " UNION ALL ".join(f"SELECT user_id, ws FROM {p} AS x" for p in all_pairs)
    op.execute(
        "CREATE TEMPORARY TABLE alembic_engine_guard (n INTEGER, "
        "CONSTRAINT e5f6a7b8c9d0_user_role_name_taken_by_another_user CHECK (n = 0))"
    )
    op.execute(
        f"INSERT INTO alembic_engine_guard (n) SELECT COUNT(*) FROM ({pairs}) AS t "
        f"JOIN {_role_of('t')} WHERE EXISTS (SELECT 1 FROM user_role_assignments AS a "
        f"WHERE a.role_id = r.id AND a.user_id <> t.user_id)"
    )
    op.execute("DROP TABLE alembic_engine_guard")


def upgrade():
    work = [(_workspace_pairs(), _workspace_grants())]
    for table, pk, ws_column, rtype, pattern_column in RESOURCE_TABLES:
        pairs = _resource_pairs(table, pk, ws_column)
        if pattern_column is None:
            grants = _scorer_grants()
        else:
            grants = _resource_grants(table, pk, ws_column, rtype, pattern_column)
        work.append((pairs, grants))
    _refuse_taken_role_names([pairs for pairs, _ in work])
    for pairs, grants in work:
        _migrate(pairs, grants)


def _synthetic_role():
    """Roles named like the ones the upgrade creates (see the docstring)."""
    d = _dialect()
    if d == "postgresql":
        return "name ~ '^__user_[0-9]+__\\n?$'"
    if d == "mysql":
        # PCRE's `$` matches before a final newline, as Python's does.
        return "CAST(name AS BINARY) REGEXP '^__user_[0-9]+__$'"
    digits = "NOT GLOB '*[^0-9]*'"
    return (
        f"((name GLOB '__user_[0-9]*__' AND SUBSTR(name, 8, LENGTH(name) - 9) {digits}) "
        f"OR (name GLOB '__user_[0-9]*__' || char(10) "
        f"AND SUBSTR(name, 8, LENGTH(name) - 10) {digits}))"
    )


def downgrade():
    roles = f"(SELECT id FROM roles WHERE {_synthetic_role()})"
    op.execute(f"DELETE FROM role_permissions WHERE role_id IN {roles}")
    op.execute(f"DELETE FROM user_role_assignments WHERE role_id IN {roles}")
    op.execute(f"DELETE FROM roles WHERE {_synthetic_role()}")
