"""A project's own Alembic upgrade, one revision at a time, its schema reflected after each
(as `reference.py reflect` reflects it), in one process so that the project's start-up is paid
once.

Usage (with the project's virtualenv's interpreter):

  project_steps.py airflow <airflow/migrations> <url> <revision>...

Prints one JSON line per revision, in order: {"revision": ..., "schema": <reflection>}. The
project's own settings name the database (for Airflow, AIRFLOW__DATABASE__SQL_ALCHEMY_CONN);
`url` is what the reflection reads.
"""

import json
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from reference import reflect  # noqa: E402


def airflow(scripts, url, revisions):
    from alembic import command
    from alembic.config import Config

    config = Config(os.path.join(os.path.dirname(scripts), "alembic.ini"))
    config.set_main_option("script_location", scripts)
    for revision in revisions:
        command.upgrade(config, revision)
        print(json.dumps({"revision": revision, "schema": reflect(url)}), flush=True)


if __name__ == "__main__":
    project, scripts, url, *revisions = sys.argv[1:]
    {"airflow": airflow}[project](scripts, url, revisions)
