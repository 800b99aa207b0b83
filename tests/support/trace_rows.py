"""Insert hand-written trace data into an MLflow database at revision b7e2c1a4d9f3, the
parent of 75868b020152 (SQL trace analytics), for tests/trace_analytics_data.rs.

    trace_rows.py URL CASE

CASE names a data set below: `main` (the adversarial mix every dialect can store), `empty`,
or one of the sets written for a single documented difference or a refusal. The `downgrade-*`
sets are written at 75868b020152 itself, into the analytics columns, for the downgrade.
Columns the set does not name but the schema requires are filled with plain values of their
type.
"""

import json
import sys

import sqlalchemy as sa

EXPERIMENT_ID = 7
LONG_UNICODE = "é漢😀" * 1700  # 5100 characters, beyond trace_name's 4096
SESSION_300 = "sessión-" + "ü" * 292


def tag(key, value):
    return ("trace_tags", {"key": key, "value": value})


def meta(key, value):
    return ("trace_request_metadata", {"key": key, "value": value})


def metric(key, value):
    return ("trace_metrics", {"key": key, "value": value})


def usage(**members):
    return meta("mlflow.trace.tokenUsage", json.dumps(members))


def cost(**members):
    return meta("mlflow.trace.cost", json.dumps(members))


GATEWAY = meta("mlflow.gateway.endpointId", "endpoint-1")


def main_set(dialect):
    traces = {
        "t01": [
            tag("mlflow.traceName", "simple"),
            tag("other.tag", "stays"),
            meta("mlflow.trace.session", "s1"),
            usage(input_tokens=10, output_tokens=20, total_tokens=30),
            cost(input_cost=0.5, output_cost=1.25, total_cost=1.75),
            meta("other.meta", "stays"),
        ],
        "t02": [],
        "t03": [
            tag("mlflow.traceName", LONG_UNICODE),
            meta("mlflow.trace.session", SESSION_300),
        ],
        "t04": [
            usage(
                input_tokens=12.0,
                output_tokens=1e3,
                total_tokens=1.5,
                cache_read_input_tokens=-5,
                cache_creation_input_tokens=99999999999999999999,
                cache_creation_input_tokens_above_1hr=9223372036854775807,
            )
        ],
        "t05": [
            usage(
                input_tokens="12",
                output_tokens=" 34 ",
                total_tokens="\u00a056\u3000\x1c",
                cache_read_input_tokens="1e3",
                cache_creation_input_tokens="7.0",
                cache_creation_input_tokens_above_1hr="-9223372036854775808",
            ),
            cost(input_cost=" 2.5\n", output_cost="abc", total_cost="-0.0025"),
        ],
        "t06": [
            usage(
                input_tokens=True,
                output_tokens=None,
                total_tokens=[1],
                cache_read_input_tokens={"a": 1},
                cache_creation_input_tokens="",
                cache_creation_input_tokens_above_1hr="9223372036854775808",
            ),
            cost(input_cost=True, output_cost=None, total_cost=[1.5]),
        ],
        "t07": [
            meta("mlflow.trace.tokenUsage", '{"input_tokens": 5,'),
            meta("mlflow.trace.cost", "not json"),
            tag("mlflow.traceName", ""),
            meta("mlflow.trace.session", ""),
        ],
        "t08": [
            meta("mlflow.trace.tokenUsage", "[1, 2]"),
            meta("mlflow.trace.cost", '"1.5"'),
            tag("mlflow.traceName", None),
        ],
        "t09": [
            usage(input_tokens=10, output_tokens=20, total_tokens=30),
            metric("input_tokens", 99.0),
            metric("output_tokens", None),
            metric("total_tokens", 3.5),
            metric("cache_read_input_tokens", -4.0),
            metric("cache_creation_input_tokens", 1e20),
            metric("latency", 12.5),
        ],
        "t10": [
            meta(
                "mlflow.trace.cost",
                '{"input_cost": 123456789012345678901234567890, "output_cost": 1e400, '
                '"total_cost": "1.5e-3", "unrelated": 1}',
            ),
            meta(
                "mlflow.trace.tokenUsage",
                '  {"input_tokens": -0, "output_tokens": 5e0, "total_tokens": "nan",'
                ' "cache_read_input_tokens": "\\u0031\\u0032"}  ',
            ),
        ],
        "t11": [GATEWAY, tag("mlflow.traceName", "gateway")],
        "t12": [GATEWAY, cost(total_cost=9.0)],
        "t13": [GATEWAY],
        "t14": [cost(input_cost=0, output_cost=-1, total_cost=1.7976931348623157e307)],
    }
    infinite = float("inf") if dialect != "mariadb" else None
    spans = [
        # (trace, span, dimension_attributes, {metric: value})
        (
            "t11",
            "s1",
            '{"mlflow.llm.model": "gpt-4", "mlflow.llm.provider": "openai"}',
            {"input_cost": 0.1, "output_cost": 0.2, "total_cost": 0.3, "latency": 5.0},
        ),
        ("t11", "s2", None, {"total_cost": 1.5}),
        ("t11", "s3", "null", {"total_cost": infinite, "input_cost": -0.0}),
        ("t12", "s4", "{}", {"total_cost": 4.0}),
        ("t13", "s5", '{"mlflow.llm.provider": "anthropic", "mlflow.llm.model": null}', {}),
        (
            "t03",
            "s6",
            json.dumps({"mlflow.llm.model": LONG_UNICODE[:600], "mlflow.llm.provider": None}),
            {"output_cost": 2.0},
        ),
        ("t01", "s7", '{"mlflow.llm.model": "caf\\u00e9 \\"q\\""}', {"input_cost": None}),
    ]
    if dialect == "postgresql":
        spans.append(("t01", "s8", None, {"total_cost": float("nan")}))
    assessments = [
        "1",
        "2.5",
        "true",
        "false",
        '"Yes"',
        '" no\u00a0"',
        "yes",
        "  NO\t",
        '{"a": 1}',
        "null",
        '"maybe"',
        "1e400",
        "-0.5",
        "12345678901234567890",
        "NaN",
        "[1]",
        '"5"',
        " 7 ",
        "yés",
        "\u3000yes\x1c",
        "",
        "-1.7976931348623157e307",
        '"y\\u0065s"',
        "Infinity",
    ]
    return traces, spans, [("t01", value) for value in assessments]


def exception_set(name):
    """One documented difference: the rows that show it (trace t01)."""
    rows = {
        "fraction-or-exponent": [
            metric("input_tokens", 4611686018427387904.0),
            usage(output_tokens="0.99999999999999999999"),
        ],
        "number-strings": [usage(input_tokens="+5", output_tokens="007", total_tokens="1_000")],
        "huge-exponents": [cost(input_cost="1e-99999", output_cost=1.5e308)],
        "nan-words": [
            meta("mlflow.trace.tokenUsage", '{"input_tokens": 5, "output_tokens": NaN}')
        ],
        "repeated-keys": [
            meta("mlflow.trace.tokenUsage", '{"input_tokens": 1, "input_tokens": 2}')
        ],
    }
    return {"t01": rows[name]}


def analytics_set(name, dialect):
    """Rows written at 75868b020152 itself, straight into the analytics columns, for the
    downgrade: {trace: ({column: value}, [(key, value) tags]), ...} and spans
    (trace, span, {column: value})."""
    if name == "downgrade-float-text":
        # One documented difference of the downgrade's float text per dialect.
        traces = {
            "f01": (
                {"input_cost": 971.9216918936607, "output_cost": 9e119, "total_cost": 1e23},
                [],
            ),
            "f02": ({"input_cost": 0.00123456789012345}, []),
        }
        return traces, [("f02", "s1", {"input_cost": 1e-11, "output_cost": 0.00123456789012345})]
    # Text a JSON writer must escape, and floats at each turn of repr's layout.
    odd = '"q" \\ \x01\x1f\x7f \t\n\r\b\f \u2028 é 漢 😀 \U0010ffff'
    costs = [1e16, 1e-05, 2.0, 1e15, 9999999999999998.0, 0.0001, 123456.5, -7.5e-07, 1e-10]
    costs += [-0.0, 1e99, -1234567890123.25, 5e-05, 100.0, 0.5e-4]
    if dialect != "mariadb":
        # MLflow on MariaDB reads costs to 10 places (a documented difference).
        costs += [0.30000000000000004, 1234567890123456.8, 1.7976931348623157e308, 1e-80]
        costs += [2.2250738585072014e-100, 123456789012345.67, 3.0000000000000004e-05]
    tokens = [0, -1, 2**53 + 1, 2**63 - 1, -(2**63), 1000000]
    traces = {}
    for n in range(0, len(costs), 3):
        trace_id = f"d{n:02}"
        row = dict(zip(["input_cost", "output_cost", "total_cost"], costs[n : n + 3]))
        row.update(zip(["input_tokens", "total_tokens"], tokens[n % 6 : n % 6 + 2]))
        traces[trace_id] = (row, [])
    traces["d90"] = (
        {"trace_name": odd, "session_id": "s-" + odd, "cache_read_input_tokens": 5},
        [("mlflow.traceName", "stale"), ("keep", "me")],
    )
    if dialect != "mariadb":  # one key there, by its collation
        traces["d90"][1].append(("MLflow.TraceName", "other case"))
    traces["d91"] = ({"trace_name": "", "session_id": "", "output_cost": 3.0}, [])
    spans = [
        ("d90", "s1", {"model_name": odd, "model_provider": "", "total_cost": 0.25}),
        ("d90", "s2", {"model_name": "\\", "input_cost": 1e16}),
        ("d90", "s3", {"model_provider": "😀" * 500, "output_cost": -0.0}),
        ("d91", "s4", {"model_name": "plain", "model_provider": "x" * 500}),
        ("d91", "s5", {}),
    ]
    return traces, spans


def insert_analytics(conn, case, dialect):
    traces, spans = analytics_set(case, dialect)
    known = sa.text("SELECT COUNT(*) FROM experiments WHERE experiment_id = :e")
    if conn.execute(known, {"e": EXPERIMENT_ID}).scalar() == 0:
        insert(conn, "experiments", {"experiment_id": EXPERIMENT_ID, "name": "traces"})
    for n, (trace_id, (columns, tags)) in enumerate(traces.items()):
        insert(
            conn,
            "trace_info",
            {
                "request_id": trace_id,
                "experiment_id": EXPERIMENT_ID,
                "timestamp_ms": 1_800_000_000_000 + n,
                "status": "OK",
                **columns,
            },
        )
        for key, value in tags:
            insert(conn, "trace_tags", {"request_id": trace_id, "key": key, "value": value})
    for n, (trace_id, span_id, columns) in enumerate(spans):
        insert_span(conn, n, trace_id, span_id, columns)


def insert_span(conn, n, trace_id, span_id, columns):
    """The n-th span of a set, lasting 10 ns."""
    insert(
        conn,
        "spans",
        {
            "trace_id": trace_id,
            "experiment_id": EXPERIMENT_ID,
            "span_id": span_id,
            "start_time_unix_nano": 1000 * n,
            "end_time_unix_nano": 1000 * n + 10,
            **columns,
        },
    )


def main():
    url, case = sys.argv[1], sys.argv[2]
    engine = sa.create_engine(url)
    dialect = "mariadb" if engine.dialect.name == "mysql" else engine.dialect.name
    spans, assessments = [], []
    if case.startswith("downgrade-"):
        with engine.begin() as conn:
            insert_analytics(conn, case, dialect)
        return
    if case == "main":
        traces, spans, assessments = main_set(dialect)
    elif case == "doubly-encoded-dimensions":
        traces = {"t01": []}
        spans = [("t01", "s1", json.dumps('{"mlflow.llm.model": "m"}'), {})]
    elif case == "span-cost-places":
        traces = {"t01": []}
        spans = [("t01", "s1", None, {"input_cost": 0.00123456789012345, "output_cost": 1e-11})]
    elif case == "unsupported-dimensions":
        traces = {"t01": []}
        spans = [("t01", "s1", '{"mlflow.llm.model": "m", "temperature": 0.5}', {})]
    elif case == "empty":
        traces = {}
    elif case == "orphan-span":
        traces = {"t01": []}
        spans = [("t01", "s1", None, {}), ("gone", "s2", None, {})]
    else:
        traces = exception_set(case)
    with engine.begin() as conn:
        if case == "orphan-span":
            if dialect == "postgresql":
                conn.execute(sa.text("SET session_replication_role = replica"))
            elif dialect == "mariadb":
                conn.execute(sa.text("SET FOREIGN_KEY_CHECKS = 0"))
        insert(conn, "experiments", {"experiment_id": EXPERIMENT_ID, "name": "traces"})
        for n, (trace_id, rows) in enumerate(traces.items()):
            insert(
                conn,
                "trace_info",
                {
                    "request_id": trace_id,
                    "experiment_id": EXPERIMENT_ID,
                    "timestamp_ms": 1_700_000_000_000 + n,
                    "status": "OK",
                },
            )
            for table, row in rows:
                insert(conn, table, {"request_id": trace_id, **row})
        for n, (trace_id, span_id, dimensions, metrics) in enumerate(spans):
            insert_span(conn, n, trace_id, span_id, {"dimension_attributes": dimensions})
            for key, value in metrics.items():
                insert(
                    conn,
                    "span_metrics",
                    {"trace_id": trace_id, "span_id": span_id, "key": key, "value": value},
                )
        for n, (trace_id, value) in enumerate(assessments):
            insert(
                conn,
                "assessments",
                {
                    "assessment_id": f"a{n:02}",
                    "trace_id": trace_id,
                    "name": f"check{n}",
                    "value": value,
                },
            )


def insert(conn, table_name, values):
    """INSERT `values`, filling the other required columns with plain values of their type."""
    columns = sa.inspect(conn).get_columns(table_name)
    row = dict(values)
    for column in columns:
        name = column["name"]
        if name in row or column["nullable"] or column.get("default") is not None:
            continue
        if column.get("computed") or column.get("autoincrement") is True:
            continue
        row[name] = filler(column["type"], name)
    names = list(row)
    table = sa.table(table_name, *(sa.column(n) for n in names))
    conn.execute(table.insert().values(**row))


def filler(type_, name):
    if isinstance(type_, sa.Boolean):
        return False
    if isinstance(type_, sa.Integer):
        return 1
    if isinstance(type_, (sa.Float, sa.Numeric)):
        return 1.0
    return f"{name}-x"[: getattr(type_, "length", None) or 50]


if __name__ == "__main__":
    main()
