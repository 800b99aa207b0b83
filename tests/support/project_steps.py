"""A project's own Alembic upgrade, one revision at a time, its schema reflected after each
(as `reference.py reflect` reflects it), in one process so that the project's start-up is paid
once.

Usage (with the project's virtualenv's interpreter):

  project_steps.py airflow <airflow/migrations> <url> <revision>...
  project_steps.py prefect - <url> <revision>...

Prints one JSON line per revision, in order: {"revision": ..., "schema": <reflection>}. The
project's own settings name the database (Airflow: AIRFLOW__DATABASE__SQL_ALCHEMY_CONN;
Prefect: PREFECT_API_DATABASE_CONNECTION_URL, its upgrade run as `prefect server database
upgrade` runs it, in a worker thread); `url` is what the reflection reads.
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


def prefect(_scripts, url, revisions):
    import anyio
    from prefect.server.database.alembic_commands import alembic_upgrade
    from prefect.utilities.asyncutils import run_sync_in_worker_thread

    async def steps():
        for revision in revisions:
            await run_sync_in_worker_thread(alembic_upgrade, revision=revision)
            print(json.dumps({"revision": revision, "schema": reflect(url)}), flush=True)

    anyio.run(steps)


if __name__ == "__main__":
    project, scripts, url, *revisions = sys.argv[1:]
    {"airflow": airflow, "prefect": prefect}[project](scripts, url, revisions)
