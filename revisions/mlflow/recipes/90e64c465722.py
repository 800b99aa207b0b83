"""Recipe for MLflow revision 90e64c465722 (migrate user column to tags).

The script loads every run through the ORM and, for each run with a user id and no
`mlflow.user` tag, merges a tag `mlflow.user = <user_id>`. That is a pure data migration; no
DDL. Here it is one set-based INSERT ... SELECT with the same filter: a run qualifies when its
`user_id` is neither NULL nor empty (Python's `if not run.user_id`) and it has no `mlflow.user`
tag yet; the new tag's value is the run's `user_id`.

Known difference (documented in the README): the script's local ORM model declares
`experiment_id` as the runs' primary key, so SQLAlchemy's identity map keeps only the first
run row of each experiment and the script tags at most one run per experiment. The evident
intent — tag every qualifying run — is what this recipe does.
"""

from alembic import op

revision = "90e64c465722"
down_revision = "451aebb31d03"
script_sha256 = "b507e33deff108aa0e16cfb5b87fe91c5579894fd9a47a1107d9e79d18c84f09"


def upgrade():
    q = "`" if op.get_bind().dialect.name == "mysql" else '"'
    op.execute(
        f"INSERT INTO tags ({q}key{q}, value, run_uuid) "
        f"SELECT 'mlflow.user', runs.user_id, runs.run_uuid FROM runs "
        f"WHERE runs.user_id IS NOT NULL AND runs.user_id <> '' "
        f"AND NOT EXISTS (SELECT 1 FROM tags AS t "
        f"WHERE t.run_uuid = runs.run_uuid AND t.{q}key{q} = 'mlflow.user')"
    )


def downgrade():
    pass
