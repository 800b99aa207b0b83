"""The real thing, for schema conformance tests: build databases with Python Alembic the way
MLflow does, and describe them through SQLAlchemy's inspector.

Usage (with the reference virtualenv's interpreter):

  reference.py build   --url URL --project mlflow|mlflow-auth|fixture --scripts DIR --to REV
  reference.py chain   --project ... --scripts DIR
  (serve only) downgrade: url, project (mlflow), scripts, to — MLflow's Alembic downgrade
  reference.py reflect --url URL [--version-table NAME]
  reference.py rows    --url URL
  reference.py serve

`build` brings a database to REV: a revision, `heads`, or `initial` (what the project's own
tooling creates before Alembic's first revision: MLflow's initial models for the tracking
store, nothing for the others). An empty database first gets that initial schema; a database
that already holds tables continues from its current revision, so a database built at r-1
can then be built at r.

`chain` prints the revision ids from base to head as a JSON list; it refuses a history that is
not one line. `reflect` and `rows` print one JSON document (rules below, next to the code).

`serve` answers the same requests, one JSON object per line on stdin
({"op": "build"|"chain"|"reflect"|"rows", ...the options above with underscores}), one line
{"ok": answer} or {"error": message} per request on stdout, so that a test process pays for
Python's and MLflow's start-up once. It holds no database connection between requests
(PostgreSQL cannot copy a database that has sessions).
"""

import argparse
import datetime
import decimal
import json
import math
import os
import re
import sys
import traceback
import uuid

sys.dont_write_bytecode = True  # never leave __pycache__ inside fixture folders

import sqlalchemy  # noqa: E402
from sqlalchemy import inspect, text  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

INITIAL = "initial"


class Refused(Exception):
    """A request the database's state cannot honour."""


def open_engine(url):
    # NullPool: a connection is closed as soon as it is released, never parked in a pool.
    return sqlalchemy.create_engine(url, poolclass=NullPool)


# ---------------------------------------------------------------------------------------------
# Building


class MlflowTracking:
    """`mlflow db upgrade`, stopping at a chosen revision (mlflow/store/db/utils.py: an empty
    database gets the initial models through metadata.create_all, then Alembic upgrades it
    with MLflow's config, handed a connection in a transaction)."""

    version_table = "alembic_version"

    def __init__(self, scripts):
        self.scripts = str(scripts)

    def config(self, url):
        from mlflow.store.db.utils import _get_alembic_config

        return _get_alembic_config(url, alembic_dir=self.scripts)

    def build(self, url, to):
        from alembic import command
        from mlflow.store.db.utils import (
            _is_empty_database,
            create_sqlalchemy_engine_with_retry,
        )
        from mlflow.store.tracking.dbmodels.initial_models import Base as InitialBase

        engine = create_sqlalchemy_engine_with_retry(url)
        try:
            if _is_empty_database(engine):
                InitialBase.metadata.create_all(engine)
            elif to == INITIAL:
                require_unversioned(engine, self.version_table)
            if to == INITIAL:
                return
            config = self.config(engine.url.render_as_string(hide_password=False))
            with engine.begin() as connection:
                config.attributes["connection"] = connection
                command.upgrade(config, to)
        finally:
            engine.dispose()

    def downgrade(self, url, to):
        """`alembic downgrade TO` through MLflow's configuration, as `build` upgrades."""
        from alembic import command
        from mlflow.store.db.utils import create_sqlalchemy_engine_with_retry

        engine = create_sqlalchemy_engine_with_retry(url)
        try:
            config = self.config(engine.url.render_as_string(hide_password=False))
            with engine.begin() as connection:
                config.attributes["connection"] = connection
                command.downgrade(config, to)
        finally:
            engine.dispose()


class MlflowAuth:
    """mlflow/server/auth/db/utils.py `migrate` (run by the auth store at start-up), stopping
    at a chosen revision: its alembic.ini with script_location and the URL set, then its
    env.py's online body, whose one setting is version_table="alembic_version_auth". That
    body is run here because the env.py itself cannot be imported with mlflow-skinny (it
    imports mlflow.server, which needs Flask). The first revision creates the tables."""

    version_table = "alembic_version_auth"

    def __init__(self, scripts):
        self.scripts = str(scripts)

    def config(self, url):
        from alembic.config import Config

        config = Config(os.path.join(self.scripts, "alembic.ini"))
        config.set_main_option("script_location", self.scripts)
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
        return config

    def build(self, url, to):
        engine = open_engine(url)
        try:
            if to == INITIAL:
                require_unversioned(engine, self.version_table)
                return
            run_online(self.config(url), engine, to, version_table=self.version_table)
        finally:
            engine.dispose()


class Fixture:
    """A project under revisions/fixtures: its alembic.ini with `sqlalchemy.url` set, upgraded
    by its env.py when it has one, else by the online body every env.py runs."""

    version_table = "alembic_version"

    def __init__(self, scripts):
        scripts = str(scripts)
        self.ini = scripts if os.path.isfile(scripts) else os.path.join(scripts, "alembic.ini")

    def config(self, url):
        from alembic.config import Config

        config = Config(self.ini)
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
        return config

    def build(self, url, to):
        from alembic import command
        from alembic.script import ScriptDirectory

        engine = open_engine(url)
        try:
            if to == INITIAL:
                require_unversioned(engine, self.version_table)
                return
            config = self.config(url)
            if os.path.exists(os.path.join(ScriptDirectory.from_config(config).dir, "env.py")):
                command.upgrade(config, to)
            else:
                run_online(config, engine, to)
        finally:
            engine.dispose()


def run_online(config, engine, to, **configure):
    """What `alembic upgrade TO` does through a typical online env.py: one connection, the
    context configured on it, the migrations in one transaction."""
    from alembic.runtime.environment import EnvironmentContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(config)

    def upgrade_steps(current, _context):
        return script._upgrade_revs(to, current)

    with EnvironmentContext(config, script, fn=upgrade_steps, destination_rev=to) as env:
        with engine.connect() as connection:
            env.configure(connection=connection, **configure)
            with env.begin_transaction():
                env.run_migrations()
            connection.commit()


PROJECTS = {"mlflow": MlflowTracking, "mlflow-auth": MlflowAuth, "fixture": Fixture}


def require_unversioned(engine, version_table):
    if version_table in inspect(engine).get_table_names():
        with engine.connect() as connection:
            rows = connection.execute(text(f"SELECT version_num FROM {version_table}")).all()
        if rows:
            raise Refused(
                f"cannot build to {INITIAL!r}: the database is already at "
                + ", ".join(r[0] for r in rows)
            )


def build(url, project, scripts, to):
    PROJECTS[project](scripts).build(url, to)
    return to


def chain(project, scripts):
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(PROJECTS[project](scripts).config("sqlite://"))
    ids = []
    for sc in script.walk_revisions("base", "heads"):
        if len(sc.nextrev) > 1 or isinstance(sc.down_revision, (tuple, list)):
            raise Refused(f"the history is not a single line at {sc.revision}")
        ids.append(sc.revision)
    ids.reverse()
    return ids


# ---------------------------------------------------------------------------------------------
# Reflection
#
# Normalization rules (each keeps every difference a database would act on):
#  - types: PostgreSQL and MariaDB give SQLAlchemy's compiled type for the reflected column,
#    as compiled (already canonical; an enum type's quoted name keeps its case). SQLite gives
#    the declared type text itself, because SQLAlchemy maps it loosely (INT and INTEGER both
#    read as INTEGER, yet only INTEGER PRIMARY KEY aliases the rowid), upper-cased with runs
#    of spaces collapsed: SQLite reads type names case-insensitively, word by word.
#  - defaults: the database's own text, trimmed. PostgreSQL and MariaDB store a canonical
#    deparse, so equal defaults read equal as they are; SQLite keeps the text of the CREATE
#    TABLE, which later batch migrations copy, so it is compared as written. MariaDB's
#    DEFAULT NULL on a nullable column is what "no default" is there, so it reads as null.
#  - check constraints, computed columns, index predicates and expressions, trigger and view
#    bodies (SQLite, MariaDB): layout only, by squeeze_sql; PostgreSQL deparses these itself
#    and is left alone.
#  - index dialect options: an empty one (PostgreSQL's `postgresql_include: []` on every
#    index) is left out, as the index is the same without it.
#  - lists (foreign keys, unique and check constraints, indexes, triggers...) are sorted by
#    name, then by content: their order in a catalog is an accident.
#  - left out: MariaDB's AUTO_INCREMENT counter and PostgreSQL sequences' current values
#    (data, not schema).


def jsonable(value):
    """Plain JSON for whatever the inspector hands back (dialect options can hold types)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return str(value)


def squeeze_sql(sql):
    """Collapse whitespace outside quotes to one space, and drop it just inside parentheses
    and around commas. Quoted strings and identifiers are kept byte for byte, so two texts
    still differ whenever one token does."""
    if sql is None:
        return None
    out = []
    quote = None
    pending_space = False
    for ch in sql.strip():
        if quote:
            out.append(ch)
            if ch == quote:
                quote = None  # a doubled quote re-opens on the next character
            continue
        if ch.isspace():
            pending_space = True
            continue
        if pending_space and out and out[-1] not in "(," and ch not in "),":
            out.append(" ")
        pending_space = False
        out.append(ch)
        if ch in "'\"`":
            quote = ch
    return "".join(out)


def spaced_upper(text_):
    return re.sub(r"\s+", " ", text_.strip()).upper()


def by_name_then_content(items):
    return sorted(items, key=lambda e: (e.get("name") is None, e.get("name") or "",
                                        json.dumps(e, sort_keys=True)))


class Reflector:
    def __init__(self, connection):
        self.connection = connection
        self.insp = inspect(connection)
        self.dialect = connection.dialect
        self.name = connection.dialect.name

    def document(self, version_table):
        tables = sorted(self.insp.get_table_names())
        # One catalog query per kind for all tables (SQLAlchemy 2's get_multi_*), not one per
        # table: a PostgreSQL reflection of MLflow's 65 tables goes from ~0.4 s to ~0.1 s.
        self.multi = {
            kind: getattr(self.insp, f"get_multi_{kind}")()
            for kind in ("columns", "pk_constraint", "foreign_keys", "unique_constraints",
                         "check_constraints", "indexes", "table_options")
        }
        doc = {
            "dialect": self.name,
            "tables": {t: self.table(t) for t in tables},
            "versions": [],
        }
        doc.update(self.extras())
        if version_table in tables:
            rows = self.connection.execute(text(f"SELECT version_num FROM {version_table}"))
            doc["versions"] = sorted(r[0] for r in rows)
        return doc

    def table(self, table):
        pk = self.of("pk_constraint", table) or {}
        pk_columns = list(pk.get("constrained_columns") or [])
        declared, options = {}, {}
        if self.name == "sqlite":
            declared, options = self.sqlite_facts(table)
        elif self.name == "mysql":
            options = {
                k: v
                for k, v in jsonable(self.of("table_options", table) or {}).items()
                if not k.endswith("auto_increment")
            }
        foreign_keys = [
            {
                "name": fk.get("name"),
                "columns": list(fk["constrained_columns"]),
                "referred_table": fk["referred_table"],
                "referred_columns": list(fk["referred_columns"]),
                "options": jsonable(
                    {k: v for k, v in (fk.get("options") or {}).items() if v is not None}
                ),
            }
            for fk in self.of("foreign_keys", table)
        ]
        uniques = [
            {"name": uq.get("name"), "columns": list(uq["column_names"])}
            for uq in self.of("unique_constraints", table)
        ]
        checks = [
            {"name": ck.get("name"), "sqltext": self.sql_text(ck["sqltext"])}
            for ck in self.of("check_constraints", table)
        ]
        return {
            "columns": self.columns(table, pk_columns, declared, options),
            "primary_key": {"name": pk.get("name"), "columns": pk_columns} if pk_columns else None,
            "foreign_keys": by_name_then_content(foreign_keys),
            "unique_constraints": by_name_then_content(uniques),
            "check_constraints": by_name_then_content(checks),
            "indexes": by_name_then_content(self.index(ix) for ix in self.of("indexes", table)),
            "options": options,
        }

    def of(self, kind, table):
        return self.multi[kind].get((None, table), [] if kind.endswith("s") else None)

    def sql_text(self, sql):
        return sql if self.name == "postgresql" else squeeze_sql(sql)

    def sqlite_facts(self, table):
        declared = {
            row[1]: row[2]
            for row in self.connection.exec_driver_sql(f'PRAGMA table_xinfo("{table}")').all()
        }
        sql = self.connection.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
        ).scalar() or ""
        bare = re.sub(r"'(?:[^']|'')*'", "''", sql).upper()  # keywords outside literals
        options = {
            "autoincrement": bool(re.search(r"\bAUTOINCREMENT\b", bare)),
            "without_rowid": bool(re.search(r"\bWITHOUT\s+ROWID\s*$", bare.strip())),
        }
        return declared, options

    def columns(self, table, pk_columns, declared, options):
        columns = []
        for col in self.of("columns", table):
            if self.name == "sqlite":
                type_ = spaced_upper(declared.get(col["name"], ""))
                # What autoincrements in SQLite is the rowid, which a one-column INTEGER
                # primary key aliases (the AUTOINCREMENT keyword is in the table's options).
                autoincrement = (
                    pk_columns == [col["name"]]
                    and type_ == "INTEGER"
                    and not options["without_rowid"]
                )
            else:
                type_ = str(col["type"].compile(dialect=self.dialect))
                # MariaDB: the AUTO_INCREMENT flag; PostgreSQL: a serial (nextval default) or
                # an identity column. SQLAlchemy says "auto" when it knows nothing.
                autoincrement = col.get("autoincrement") is True or "identity" in col
            entry = {
                "name": col["name"],
                "type": type_,
                "nullable": bool(col["nullable"]),
                "default": self.default(col.get("default")),
                "autoincrement": autoincrement,
            }
            for extra in ("identity", "computed", "comment"):
                if col.get(extra) is not None:
                    entry[extra] = jsonable(col[extra])
            if "computed" in entry:
                entry["computed"]["sqltext"] = self.sql_text(entry["computed"]["sqltext"])
            columns.append(entry)
        return columns

    def default(self, default):
        if default is None:
            return None
        default = str(default).strip()
        if self.name == "mysql" and default.upper() == "NULL":
            return None
        return default

    def index(self, ix):
        entry = {
            "name": ix.get("name"),
            "columns": list(ix.get("column_names") or []),
            "unique": bool(ix.get("unique")),
        }
        if any(c is None for c in entry["columns"]):
            entry["expressions"] = [self.sql_text(e) for e in ix.get("expressions") or []]
        for extra in ("include_columns", "column_sorting", "duplicates_constraint"):
            if ix.get(extra):
                entry[extra] = jsonable(ix[extra])
        # An empty option (PostgreSQL reports `postgresql_include: []` on every index) is
        # the same index as no option at all.
        options = {
            k: (self.sql_text(v) if k.endswith("_where") and isinstance(v, str) else v)
            for k, v in (ix.get("dialect_options") or {}).items()
            if v not in (None, [], {}, "")
        }
        if options:
            entry["dialect_options"] = jsonable(options)
        return entry

    def extras(self):
        """Schema objects beside the tables: triggers and views everywhere; enum types,
        sequences and functions on PostgreSQL."""
        query = self.connection.exec_driver_sql
        extras = {}
        if self.name == "sqlite":
            rows = query("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'")
            extras["triggers"] = [
                {"name": n, "table": t, "sql": squeeze_sql(s)} for n, t, s in rows
            ]
        elif self.name == "postgresql":
            rows = query(
                "SELECT t.tgname, c.relname, pg_get_triggerdef(t.oid) FROM pg_trigger t "
                "JOIN pg_class c ON c.oid = t.tgrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE NOT t.tgisinternal AND n.nspname = current_schema()"
            )
            extras["triggers"] = [{"name": n, "table": t, "sql": s} for n, t, s in rows]
            extras["enums"] = [
                {"name": e["name"], "labels": list(e["labels"])} for e in self.insp.get_enums()
            ]
            rows = query(
                "SELECT sequencename, data_type::text, start_value, increment_by "
                "FROM pg_sequences WHERE schemaname = current_schema()"
            )
            extras["sequences"] = [
                {"name": n, "type": t, "start": int(s), "increment": int(i)}
                for n, t, s, i in rows
            ]
            rows = query(
                "SELECT p.proname, pg_get_functiondef(p.oid) FROM pg_proc p "
                "JOIN pg_namespace n ON n.oid = p.pronamespace "
                "WHERE n.nspname = current_schema()"
            )
            extras["functions"] = [{"name": n, "sql": s} for n, s in rows]
        elif self.name == "mysql":
            rows = query(
                "SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION, "
                "ACTION_STATEMENT FROM information_schema.TRIGGERS "
                "WHERE TRIGGER_SCHEMA = DATABASE()"
            )
            extras["triggers"] = [
                {"name": n, "table": t, "sql": f"{timing} {event} {squeeze_sql(body)}"}
                for n, t, timing, event, body in rows
            ]
        extras["views"] = [
            {"name": v, "sql": self.sql_text(self.insp.get_view_definition(v))}
            for v in self.insp.get_view_names()
        ]
        return {k: by_name_then_content(v) for k, v in extras.items()}


def reflect(url, version_table="alembic_version"):
    engine = open_engine(url)
    try:
        with engine.connect() as connection:
            return Reflector(connection).document(version_table)
    finally:
        engine.dispose()


# ---------------------------------------------------------------------------------------------
# Rows


def cell(value):
    """JSON for one value. Strings, integers, booleans and NULL are themselves; whatever plain
    JSON would blur is tagged: floats as repr (NaN, inf and -0.0 survive), bytes as hex,
    temporal and decimal values as text."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return {"float": repr(value)}
    if isinstance(value, decimal.Decimal):
        return {"decimal": str(value)}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"hex": bytes(value).hex()}
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return {type(value).__name__: value.isoformat()}
    if isinstance(value, datetime.timedelta):
        return {"timedelta": value.total_seconds()}
    if isinstance(value, uuid.UUID):
        return {"uuid": str(value)}
    return {type(value).__name__: jsonable(value)}


def order_key(value):
    """Rows are sorted here, not in SQL: collations differ and some types (json) do not order."""
    if value is None:
        return (0,)
    if isinstance(value, (bool, int, float, decimal.Decimal)):
        if isinstance(value, float) and math.isnan(value):
            return (1, 1)
        return (1, 0, value)
    if isinstance(value, str):
        return (2, value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return (3, bytes(value))
    return (4, repr(value))


def rows(url):
    """Every table's rows: {table: {"columns", "primary_key", "rows"}}, rows ordered by the
    primary key, then by every column (by every column alone when there is no key)."""
    engine = open_engine(url)
    try:
        with engine.connect() as connection:
            insp = inspect(connection)
            doc = {}
            for table in sorted(insp.get_table_names()):
                columns = [c["name"] for c in insp.get_columns(table)]
                pk = list((insp.get_pk_constraint(table) or {}).get("constrained_columns") or [])
                key_at = [columns.index(c) for c in pk]
                source = sqlalchemy.table(table, *[sqlalchemy.column(c) for c in columns])
                fetched = connection.execute(sqlalchemy.select(source)).all()
                fetched.sort(
                    key=lambda r: (
                        [order_key(r[i]) for i in key_at],
                        [order_key(v) for v in r],
                    )
                )
                doc[table] = {
                    "columns": columns,
                    "primary_key": pk,
                    "rows": [[cell(v) for v in r] for r in fetched],
                }
            return doc
    finally:
        engine.dispose()


def diff_rows(url_a, url_b, limit=200):
    """The rows of every table that one database holds and the other does not (as multisets,
    cells as `cell` writes them): {table: {"columns", "only_a", "only_b"}} for the tables that
    differ, at most `limit` rows a side; a table only one side has is listed with `missing`."""
    a, b = rows(url_a), rows(url_b)
    out = {}
    for table in sorted(set(a) | set(b)):
        if table not in a or table not in b:
            out[table] = {"missing": "a" if table not in a else "b"}
            continue
        if a[table]["columns"] != b[table]["columns"]:
            out[table] = {"columns": [a[table]["columns"], b[table]["columns"]]}
            continue
        counted = {}
        for side, sign in ((a, 1), (b, -1)):
            for r in side[table]["rows"]:
                k = json.dumps(r, sort_keys=True)
                counted[k] = counted.get(k, 0) + sign
        only_a = [json.loads(k) for k, n in sorted(counted.items()) for _ in range(max(n, 0))]
        only_b = [json.loads(k) for k, n in sorted(counted.items()) for _ in range(max(-n, 0))]
        if only_a or only_b:
            out[table] = {
                "columns": a[table]["columns"],
                "only_a": only_a[:limit],
                "only_b": only_b[:limit],
                "count_a": len(only_a),
                "count_b": len(only_b),
            }
    return {"differences": out, "tables": {t: len(a[t]["rows"]) for t in a}}


# ---------------------------------------------------------------------------------------------


def answer(request):
    op = request["op"]
    if op == "build":
        return build(request["url"], request["project"], request["scripts"], request["to"])
    if op == "downgrade":
        return PROJECTS[request["project"]](request["scripts"]).downgrade(request["url"], request["to"])
    if op == "chain":
        return chain(request["project"], request["scripts"])
    if op == "reflect":
        return reflect(request["url"], request.get("version_table", "alembic_version"))
    if op == "rows":
        return rows(request["url"])
    if op == "diff_rows":
        return diff_rows(request["a"], request["b"])
    if op == "populate":
        import populate

        return populate.populate(request["url"], request["metrics"], request.get("seed", 7))
    if op == "populate_ties":
        import populate

        return populate.ties(request["url"], request["nan_tie"])
    raise Refused(f"unknown op {op!r}")


def serve():
    replies = sys.stdout
    sys.stdout = sys.stderr  # whatever MLflow or Alembic print must not corrupt the replies
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            reply = {"ok": answer(json.loads(line))}
        except Refused as e:
            reply = {"error": str(e)}
        except Exception:
            reply = {"error": traceback.format_exc()}
        replies.write(json.dumps(reply, sort_keys=True) + "\n")
        replies.flush()


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="op", required=True)
    p = sub.add_parser("build")
    p.add_argument("--url", required=True)
    p.add_argument("--project", required=True, choices=sorted(PROJECTS))
    p.add_argument("--scripts", required=True)
    p.add_argument("--to", required=True)
    p = sub.add_parser("chain")
    p.add_argument("--project", required=True, choices=sorted(PROJECTS))
    p.add_argument("--scripts", required=True)
    p = sub.add_parser("reflect")
    p.add_argument("--url", required=True)
    p.add_argument("--version-table", default="alembic_version")
    p = sub.add_parser("rows")
    p.add_argument("--url", required=True)
    sub.add_parser("serve")
    args = parser.parse_args()
    if args.op == "serve":
        serve()
        return
    try:
        result = answer(vars(args))
    except Refused as e:
        sys.exit(str(e))
    if args.op != "build":
        print(json.dumps(result, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
