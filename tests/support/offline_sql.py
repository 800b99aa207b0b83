"""Python Alembic's offline scripts for many small projects, in one process.

Usage: offline_sql.py <url> <project dir>...   -> {"<dir>": {"sql": "..."} | {"error": "..."}}
       offline_sql.py --reserved-words         -> {"<dialect>": [words SQLAlchemy quotes]}

Each project is upgraded from base to its heads with `sql=True` against the URL's dialect (no
server is reached). A project Python cannot compile is answered with the exception's class, so
the caller can check that we refuse it too.
"""

import io
import json
import sys

sys.dont_write_bytecode = True  # never leave __pycache__ inside the projects

from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402


def offline(url, directory):
    out = io.StringIO()
    cfg = Config(output_buffer=out)
    cfg.set_main_option("script_location", directory)
    cfg.set_main_option("sqlalchemy.url", url)
    try:
        command.upgrade(cfg, "heads", sql=True)
    except Exception as exc:  # noqa: BLE001 - any failure is an answer
        return {"error": f"{type(exc).__name__}: {exc}"}
    return {"sql": out.getvalue()}


def reserved_words():
    from sqlalchemy.dialects.mysql import reserved_words as mysql_words
    from sqlalchemy.dialects.postgresql.base import PGIdentifierPreparer
    from sqlalchemy.dialects.sqlite.base import SQLiteIdentifierPreparer

    return {
        "sqlite": sorted(SQLiteIdentifierPreparer.reserved_words),
        "postgresql": sorted(PGIdentifierPreparer.reserved_words),
        "mysql": sorted(mysql_words.RESERVED_WORDS_MYSQL),
        "mariadb": sorted(mysql_words.RESERVED_WORDS_MARIADB),
    }


if __name__ == "__main__":
    if sys.argv[1] == "--reserved-words":
        print(json.dumps(reserved_words()))
    else:
        url = sys.argv[1]
        print(json.dumps({d: offline(url, d) for d in sys.argv[2:]}))
