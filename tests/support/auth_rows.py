"""Rows for MLflow's auth database before its role migration (auth revision c3d4e5f6a7b8), and
MLflow's own Alembic runs on it, for tests/auth_data_conformance.rs.

  auth_rows.py populate URL [--seed N] [--users N]   legacy permissions, users, a few roles
  auth_rows.py taken-role URL                         a role named __user_<id>__ held by others
  auth_rows.py odd-role-names URL                     roles only Python's regex calls synthetic
  auth_rows.py registry URL                           registered models and prompts (tracking)
  auth_rows.py upgrade URL SCRIPTS TO [--reverse-scan | --parallel-scan | --distinct-fk-names]
  auth_rows.py downgrade URL SCRIPTS TO

`upgrade` is what the auth store runs at start-up (reference.py's MlflowAuth), optionally on
a connection whose unordered SELECTs return rows in another order than a plain scan: SQLite's
`PRAGMA reverse_unordered_selects`, or PostgreSQL planning parallel scans for any table.

The data is written to be awkward: every legacy table, every permission value the server
writes plus misspelled and NULL ones, names that need URL quoting (spaces, slashes, '%',
quotes, non-ASCII, four-byte characters), the same names in several workspaces, the ids
'*', rows updated and deleted after insertion (PostgreSQL then scans them out of id order),
pre-existing roles, and on SQLite (no foreign keys) grants of users that no longer exist.
"""

import argparse
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True

import sqlalchemy  # noqa: E402
from sqlalchemy import text  # noqa: E402

import reference  # noqa: E402

WORKSPACES = ["default", "team-a", "Team A", "research/nlp", "données", "50%off", "ws'q"]
RESOURCE_PERMISSIONS = ["READ", "USE", "EDIT", "MANAGE", "NO_PERMISSIONS", "read", "Edit", None]
WORKSPACE_PERMISSIONS = ["READ", "USE", "EDIT", "MANAGE", "NO_PERMISSIONS", "read", "OWNER"]
NAMES = [
    "model",
    "my model",
    "a/b",
    "a/b/c",
    "100%",
    "%2F",
    "naïve",
    "模型",
    "emoji 😀",
    "tab\tname",
    "quote'd",
    'dq"x',
    "~tilde.dot-dash_",
    "plus+and&amp=eq?",
    "*",
    "",
    " lead and trail ",
    "UPPER",
    "upper",
]
SCRIPT_RESOURCES = [
    ("gateway_secret_permissions", "secret_id"),
    ("gateway_endpoint_permissions", "endpoint_id"),
    ("gateway_model_definition_permissions", "model_definition_id"),
]


def engine_for(url, reverse_scan=False, parallel_scan=False, distinct_fk_names=False):
    engine = reference.open_engine(url)
    if distinct_fk_names:
        # MySQL/MariaDB cannot take auth's first revision as written (two tables, one foreign
        # key name); the second table's key gets its own name, nothing else changes.
        @sqlalchemy.event.listens_for(engine, "before_cursor_execute", retval=True)
        def _rename(_conn, _cursor, statement, parameters, _context, _many):
            if statement.lstrip().startswith("CREATE TABLE registered_model_permissions"):
                statement = statement.replace("CONSTRAINT fk_user_id", "CONSTRAINT fk_rmp_user_id")
            return statement, parameters

    if reverse_scan or parallel_scan:

        @sqlalchemy.event.listens_for(engine, "connect")
        def _scan_order(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            if reverse_scan:
                cursor.execute("PRAGMA reverse_unordered_selects = ON")
            else:
                for setting in [
                    "SET parallel_setup_cost = 0",
                    "SET parallel_tuple_cost = 0",
                    "SET min_parallel_table_scan_size = 0",
                    "SET max_parallel_workers_per_gather = 4",
                ]:
                    cursor.execute(setting)
            cursor.close()

    return engine


def insert(conn, table, row):
    cols = ", ".join(row)
    marks = ", ".join(f":{c}" for c in row)
    conn.execute(text(f"INSERT INTO {table} ({cols}) VALUES ({marks})"), row)


def populate(url, seed, users):
    rng = random.Random(seed)
    engine = reference.open_engine(url)
    sqlite = url.startswith("sqlite")
    # MySQL/MariaDB compare names case-insensitively, so one of a case pair is a duplicate.
    names = [n for n in NAMES if not (url.startswith("mysql") and n == "upper")]
    with engine.begin() as conn:
        ids = []
        for i in range(users):
            name = rng.choice(["user", "Ünïcode", "svc account", "a/b"]) + f"-{i}"
            insert(
                conn,
                "users",
                {"username": name, "password_hash": "x", "is_admin": i % 9 == 0},
            )
        ids = [r[0] for r in conn.execute(text("SELECT id FROM users ORDER BY id"))]

        def perm(choices):
            return rng.choice(choices)

        for uid in ids:
            for ws in rng.sample(WORKSPACES, rng.randint(0, 4)):
                insert(
                    conn,
                    "workspace_permissions",
                    {"workspace": ws, "user_id": uid, "permission": perm(WORKSPACE_PERMISSIONS)},
                )
            experiments = rng.sample([str(n) for n in range(1, 60)] + ["*"], rng.randint(0, 5))
            for exp in experiments:
                insert(
                    conn,
                    "experiment_permissions",
                    {"experiment_id": exp, "user_id": uid, "permission": perm(RESOURCE_PERMISSIONS)},
                )
            for ws in rng.sample(WORKSPACES, rng.randint(0, 3)):
                for name in rng.sample(names, rng.randint(1, 4)):
                    insert(
                        conn,
                        "registered_model_permissions",
                        {
                            "name": name,
                            "workspace": ws,
                            "user_id": uid,
                            "permission": perm(RESOURCE_PERMISSIONS),
                        },
                    )
            for exp in rng.sample(["1", "2", "7", "a/b", "*"], rng.randint(0, 3)):
                for name in rng.sample(names, rng.randint(1, 3)):
                    insert(
                        conn,
                        "scorer_permissions",
                        {
                            "experiment_id": exp,
                            "scorer_name": name,
                            "user_id": uid,
                            "permission": perm(RESOURCE_PERMISSIONS),
                        },
                    )
            for table, column in SCRIPT_RESOURCES:
                for rid in rng.sample(["s-1", "s-2", "e/3", "*", "ß"], rng.randint(0, 2)):
                    insert(
                        conn,
                        table,
                        {column: rid, "user_id": uid, "permission": perm(RESOURCE_PERMISSIONS)},
                    )

        # Permission changes and revocations as the server makes them: rows updated in place
        # and deleted, then granted again (new rows at the end of the table).
        for table in ["experiment_permissions", "registered_model_permissions",
                      "scorer_permissions", "workspace_permissions"]:
            conn.execute(
                text(f"UPDATE {table} SET permission = 'MANAGE' WHERE user_id % 7 = 3")
            )
        conn.execute(text("DELETE FROM experiment_permissions WHERE user_id % 11 = 5"))
        for uid in [u for u in ids if u % 11 == 5]:
            insert(
                conn,
                "experiment_permissions",
                {"experiment_id": "42", "user_id": uid, "permission": "EDIT"},
            )

        # Roles made at this revision by an admin: an ordinary one, and ones with the reserved
        # name that the migration reuses (assigned to its user, or to nobody), one of them
        # already holding a grant the migration would add (it keeps the old permission).
        insert(conn, "roles", {"name": "editors", "workspace": "default", "description": "d"})
        editors = conn.execute(text("SELECT id FROM roles WHERE name = 'editors'")).scalar_one()
        insert(conn, "user_role_assignments", {"user_id": ids[1], "role_id": editors})
        insert(
            conn,
            "role_permissions",
            {"role_id": editors, "resource_type": "experiment", "resource_pattern": "*",
             "permission": "READ"},
        )
        ws_row = conn.execute(
            text(
                "SELECT user_id, workspace FROM workspace_permissions "
                "WHERE permission IN ('USE', 'MANAGE', 'READ', 'EDIT') ORDER BY user_id"
            )
        ).first()
        uid, ws = ws_row
        insert(conn, "roles", {"name": f"__user_{uid}__", "workspace": ws, "description": None})
        reused = conn.execute(
            text("SELECT id FROM roles WHERE name = :n AND workspace = :w"),
            {"n": f"__user_{uid}__", "w": ws},
        ).scalar_one()
        insert(conn, "user_role_assignments", {"user_id": uid, "role_id": reused})
        insert(
            conn,
            "role_permissions",
            {"role_id": reused, "resource_type": "workspace", "resource_pattern": "*",
             "permission": "MANAGE"},
        )
        insert(
            conn,
            "roles",
            {"name": f"__user_{ids[-1]}__", "workspace": "default", "description": "unassigned"},
        )
        insert(conn, "experiment_permissions",
               {"experiment_id": "999", "user_id": ids[-1], "permission": "READ"})

        if sqlite:
            # A user deleted without scrubbing their grants (no foreign keys on SQLite).
            ghost = max(ids) + 1000
            insert(conn, "experiment_permissions",
                   {"experiment_id": "1", "user_id": ghost, "permission": "READ"})
            insert(conn, "workspace_permissions",
                   {"workspace": "team-a", "user_id": ghost, "permission": "EDIT"})


def taken_role(url):
    """A role named after user A in a workspace A has a grant in, held by user B."""
    engine = reference.open_engine(url)
    with engine.begin() as conn:
        a, ws = conn.execute(
            text(
                "SELECT user_id, workspace FROM registered_model_permissions "
                "WHERE permission = 'EDIT' ORDER BY id"
            )
        ).first()
        b = conn.execute(
            text("SELECT id FROM users WHERE id <> :a ORDER BY id"), {"a": a}
        ).scalar()
        insert(conn, "roles", {"name": f"__user_{a}__", "workspace": ws, "description": None})
        role = conn.execute(
            text("SELECT id FROM roles WHERE name = :n AND workspace = :w"),
            {"n": f"__user_{a}__", "w": ws},
        ).scalar_one()
        insert(conn, "user_role_assignments", {"user_id": b, "role_id": role})


def odd_role_names(url):
    """Roles whose names Python's `^__user_\\d+__$` matches but no upgrade creates."""
    engine = reference.open_engine(url)
    with engine.begin() as conn:
        for name in ["__user_\u0663__", "__user_\uff17\uff17__", "__user_12__\n", "__user_x__",
                     "__user__", "__USER_3__", "__user_3__ "]:
            insert(conn, "roles", {"name": name, "workspace": "default", "description": None})
            role = conn.execute(
                text("SELECT id FROM roles WHERE name = :n AND workspace = 'default'"),
                {"n": name},
            ).scalar_one()
            insert(
                conn,
                "role_permissions",
                {"role_id": role, "resource_type": "experiment", "resource_pattern": "1",
                 "permission": "READ"},
            )


def registry(url):
    """Registered models and prompts in the tracking tables, and grants on them."""
    engine = reference.open_engine(url)
    with engine.begin() as conn:
        models = [
            ("default", "plain model", None),
            ("default", "my prompt", "true"),
            ("default", "Shouty Prompt", "TRUE"),
            ("default", "not a prompt", "false"),
            ("team-a", "my prompt", None),
            ("team-a", "other prompt", "True"),
            ("Team A", "a/b", "true"),
            ("default", "*", "true"),
        ]
        for ws, name, is_prompt in models:
            insert(conn, "registered_models",
                   {"workspace": ws, "name": name, "creation_time": 1, "last_updated_time": 1})
            if is_prompt is not None:
                insert(conn, "registered_model_tags",
                       {"workspace": ws, "name": name, "key": "mlflow.prompt.is_prompt",
                        "value": is_prompt})
            insert(conn, "registered_model_tags",
                   {"workspace": ws, "name": name, "key": "other", "value": "true"})
        for i in range(4):
            insert(conn, "users",
                   {"username": f"prompt-user-{i}", "password_hash": "x", "is_admin": False})
        uids = [r[0] for r in conn.execute(
            text("SELECT id FROM users WHERE username LIKE 'prompt-user-%' ORDER BY id"))]
        for uid in uids:
            insert(conn, "workspace_permissions",
                   {"workspace": "team-a", "user_id": uid, "permission": "EDIT"})
            for ws, name, _ in models:
                insert(conn, "registered_model_permissions",
                       {"name": name, "workspace": ws, "user_id": uid, "permission": "READ"})


def run(url, scripts, to, direction, reverse_scan=False, parallel_scan=False,
        distinct_fk_names=False):
    from alembic.runtime.environment import EnvironmentContext
    from alembic.script import ScriptDirectory

    project = reference.MlflowAuth(scripts)
    config = project.config(url)
    script = ScriptDirectory.from_config(config)
    engine = engine_for(url, reverse_scan, parallel_scan, distinct_fk_names)

    def steps(current, _context):
        if direction == "up":
            return script._upgrade_revs(to, current)
        return script._downgrade_revs(to, current)

    try:
        with EnvironmentContext(config, script, fn=steps, destination_rev=to) as env:
            with engine.connect() as connection:
                env.configure(connection=connection, version_table=project.version_table)
                with env.begin_transaction():
                    env.run_migrations()
                connection.commit()
    finally:
        engine.dispose()


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="op", required=True)
    p = sub.add_parser("populate")
    p.add_argument("url")
    p.add_argument("--seed", type=int, default=17)
    p.add_argument("--users", type=int, default=250)
    for name in ["taken-role", "odd-role-names", "registry"]:
        sub.add_parser(name).add_argument("url")
    for name in ["upgrade", "downgrade"]:
        p = sub.add_parser(name)
        p.add_argument("url")
        p.add_argument("scripts")
        p.add_argument("to")
        p.add_argument("--reverse-scan", action="store_true")
        p.add_argument("--parallel-scan", action="store_true")
        p.add_argument("--distinct-fk-names", action="store_true")
    args = parser.parse_args()
    if args.op == "populate":
        populate(args.url, args.seed, args.users)
    elif args.op == "taken-role":
        taken_role(args.url)
    elif args.op == "odd-role-names":
        odd_role_names(args.url)
    elif args.op == "registry":
        registry(args.url)
    else:
        run(args.url, args.scripts, args.to, "up" if args.op == "upgrade" else "down",
            args.reverse_scan, args.parallel_scan, args.distinct_fk_names)


if __name__ == "__main__":
    main()
