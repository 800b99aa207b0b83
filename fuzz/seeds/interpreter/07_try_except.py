from alembic import op
import sqlalchemy as sa

revision = "c7a1"
down_revision = "b0"


class SkipStep(Exception):
    pass


def maybe(flag):
    if flag:
        raise SkipStep("skip %s" % flag)
    return flag


def upgrade():
    done = []
    try:
        maybe("first")
    except (KeyError, SkipStep) as e:
        done.append(str(e))
    else:
        done.append("no error")
    finally:
        done.append("finally")
    try:
        {"a": 1}["b"]
    except KeyError:
        done.append("key")
    try:
        [1, 2][5]
    except IndexError as err:
        done.append(type(err).__name__)
    try:
        try:
            1 / 0
        except ZeroDivisionError:
            raise
    except ArithmeticError:
        done.append("reraised")
    try:
        int("nope")
    except ValueError:
        op.add_column("users", sa.Column("errors", sa.Integer(), nullable=True))
    assert done == ["skip first", "finally", "key", "IndexError", "reraised"], done


def downgrade():
    try:
        op.drop_column("users", "errors")
    except Exception:
        pass
    raise NotImplementedError("irreversible")
