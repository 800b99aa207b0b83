import sqlalchemy as sa
from alembic import op
from mlflow.exceptions import MlflowException


def _helper(table, *cols, **kw):
    for c in cols:
        op.add_column(table, sa.Column(c, sa.String(kw.get("length", 10))))


def upgrade():
    _helper("users", "a", "b", length=20)
    x = [1, 2, 3]
    x[1:2] = [9, 9]
    a, *rest = x
    del x[0]
    d = dict(k=1)
    d.setdefault("j", []).append(a)
    if (n := len(rest)) > 2 and not d.get("missing"):
        _helper("posts", *[f"p{i}" for i in range(n)])
    try:
        raise MlflowException("boom")
    except MlflowException:
        pass
