"""A realistic, seeded MLflow tracking database for the data tests and the benches.

`populate(url, metrics=..., seed=...)` fills a database that MLflow's Alembic scripts (or
MLflow's initial tables) have brought to some revision, with what users' servers hold at that
revision: experiments (active and deleted, unicode names), runs in every status the revision's
CHECK allows and both lifecycle stages, metrics with many steps, duplicate steps with different
timestamps, duplicate timestamps with different values, NaN and +-inf (as MLflow stores them once
`is_nan` exists), params, run and experiment tags with unicode, registered models, versions,
tags and aliases, datasets and inputs, logged models, traces with tags, request metadata, spans,
span and trace metrics, assessments, jobs in every state, webhooks and scorers — each only if
its table exists at the database's revision, each row only with the columns that exist.

Rows are written in bulk through SQLAlchemy Core, so 1M metrics take seconds, not the hours an
MLflow client would. The same seed and revision give the same rows on every backend.
"""

import json
import math
import random
import sys
import uuid

import sqlalchemy as sa

FLOAT_MAX = sys.float_info.max

LIFECYCLE = ["active", "deleted"]
RUN_STATUSES = ["SCHEDULED", "FAILED", "FINISHED", "RUNNING", "KILLED"]
SOURCE_TYPES = ["NOTEBOOK", "JOB", "LOCAL", "UNKNOWN", "PROJECT"]
STAGES = ["None", "Staging", "Production", "Archived"]
NAMES = ["train", "évaluation", "모델", "データ", "naïve", "smoke test", "ünïcödé", "🚀 launch"]
METRIC_KEYS = ["loss", "accuracy", "val/loss", "lr", "f1 score"]


class Writer:
    def __init__(self, connection):
        self.connection = connection
        if connection.dialect.name == "mysql":
            # As MLflow does for its Default experiment: id 0 in an AUTO_INCREMENT column.
            connection.exec_driver_sql("SET @@SESSION.sql_mode = CONCAT(@@SESSION.sql_mode, ',NO_AUTO_VALUE_ON_ZERO')")
        self.meta = sa.MetaData()
        self.meta.reflect(bind=connection)
        for t in self.meta.tables.values():
            for c in t.columns:
                # Python None is SQL NULL here, not the JSON text 'null'.
                if isinstance(c.type, sa.JSON):
                    c.type = sa.JSON(none_as_null=True)
        self.counts = {}

    def has(self, table, column=None):
        if table not in self.meta.tables:
            return False
        return column is None or column in self.meta.tables[table].c

    def check_allows(self, table, word):
        """Whether no CHECK constraint of `table` mentions a list that lacks `word` (KILLED is
        not a run status before cfd24bdc0731)."""
        inspector = sa.inspect(self.connection)
        for check in inspector.get_check_constraints(table):
            text = check.get("sqltext") or ""
            if "RUNNING" in text and word not in text:
                return False
        return True

    def insert(self, table, rows, chunk=20_000):
        if table not in self.meta.tables or not rows:
            return
        t = self.meta.tables[table]
        names = [c.name for c in t.columns if c.name in rows[0] and c.computed is None]
        as_text = {c.name for c in t.columns if not isinstance(c.type, sa.JSON)}
        shaped = [
            {
                n: json.dumps(r[n]) if n in as_text and isinstance(r[n], (dict, list)) else r[n]
                for n in names
            }
            for r in rows
        ]
        for i in range(0, len(shaped), chunk):
            self.connection.execute(t.insert(), shaped[i : i + chunk])
        self.counts[table] = self.counts.get(table, 0) + len(rows)


def stored_metric(value, has_is_nan):
    """The (value, is_nan) MLflow's store writes for a logged float."""
    if not has_is_nan:
        return value, None
    if math.isnan(value):
        return 0.0, True
    if math.isinf(value):
        return (FLOAT_MAX if value > 0 else -FLOAT_MAX), False
    return value, False


def populate(url, metrics=100_000, seed=7):
    rng = random.Random(seed)
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            w = Writer(connection)
            fill(w, rng, metrics)
            return w.counts
    finally:
        engine.dispose()


def uid(rng):
    return uuid.UUID(int=rng.getrandbits(128)).hex


def fill(w, rng, n_metrics):
    t0 = 1_600_000_000_000
    statuses = [s for s in RUN_STATUSES if w.check_allows("runs", s)]

    # Experiments: 0 is MLflow's Default, the rest a mix of active and deleted.
    n_experiments = 12
    experiments = []
    for e in range(n_experiments):
        experiments.append(
            {
                "experiment_id": e,
                "name": "Default" if e == 0 else f"{NAMES[e % len(NAMES)]} {e}",
                "artifact_location": f"s3://bucket/{e}",
                "lifecycle_stage": LIFECYCLE[1] if e % 5 == 4 else LIFECYCLE[0],
                "creation_time": t0 + e,
                "last_update_time": t0 + 1000 * e,
            }
        )
    w.insert("experiments", experiments)
    w.insert(
        "experiment_tags",
        [
            {"experiment_id": e, "key": k, "value": f"{v} {e}"}
            for e in range(n_experiments)
            for k, v in [("mlflow.note.content", "note ✓"), ("team", NAMES[e % len(NAMES)])]
        ],
    )

    # Runs: enough for the metrics at 5 keys x ~100 points each.
    n_runs = max(20, n_metrics // 500)
    runs = []
    for r in range(n_runs):
        user = ["alice", "", None, "bob@example.com", "jürgen"][r % 5]
        runs.append(
            {
                "run_uuid": uid(rng),
                "name": f"run {r} {NAMES[r % len(NAMES)]}",
                "source_type": SOURCE_TYPES[r % len(SOURCE_TYPES)],
                "source_name": f"train.py#{r}",
                "entry_point_name": "main",
                "user_id": user,
                "status": statuses[r % len(statuses)],
                "start_time": t0 + 60_000 * r,
                "end_time": None if r % 7 == 0 else t0 + 60_000 * r + 5_000,
                "source_version": f"{r:040x}"[:40],
                "lifecycle_stage": LIFECYCLE[1] if r % 9 == 8 else LIFECYCLE[0],
                "artifact_uri": f"s3://bucket/{r % n_experiments}/{r}/artifacts",
                "experiment_id": r % n_experiments,
                "deleted_time": t0 + 90_000 * r if r % 9 == 8 else None,
            }
        )
    w.insert("runs", runs)
    run_ids = [r["run_uuid"] for r in runs]

    # Tags: some runs already carry an mlflow.user tag (90e64c465722 must not add another).
    tags = []
    for i, run in enumerate(runs):
        tags.append({"run_uuid": run["run_uuid"], "key": "mlflow.runName", "value": run["name"]})
        tags.append({"run_uuid": run["run_uuid"], "key": "note ✎", "value": f"ünï {i}"})
        if i % 10 == 3:
            tags.append({"run_uuid": run["run_uuid"], "key": "mlflow.user", "value": "preset"})
    w.insert("tags", tags)
    w.insert(
        "params",
        [
            {"run_uuid": rid, "key": k, "value": v}
            for i, rid in enumerate(run_ids)
            for k, v in [("lr", str(10 ** -(i % 5))), ("optimizer", "adam"), ("名前", "値")]
        ],
    )

    # Metrics, with ties: a repeated step at a later timestamp, a repeated timestamp with a
    # larger value, and (once `is_nan` exists) NaN and +-inf values.
    has_is_nan = w.has("metrics", "is_nan")
    special = [float("nan"), float("inf"), float("-inf")] if has_is_nan else []
    metrics = []
    seen = set()
    per_series = n_metrics // (n_runs * len(METRIC_KEYS)) + 2
    for rid in run_ids:
        for key in METRIC_KEYS:
            step = 0
            ts = t0
            for j in range(per_series):
                if len(metrics) >= n_metrics:
                    break
                roll = rng.random()
                if roll < 0.05 and j:
                    ts += 1  # the same step again, later
                elif roll < 0.10 and j:
                    pass  # the same step and timestamp, another value
                else:
                    step += 1
                    ts += rng.randint(1, 1000)
                if special and rng.random() < 0.01:
                    logged = rng.choice(special)
                else:
                    logged = round(rng.uniform(-10, 10), rng.randint(0, 12))
                value, is_nan = stored_metric(logged, has_is_nan)
                pk = (key, ts, step, rid, value, is_nan)
                if pk in seen:
                    continue
                seen.add(pk)
                row = {"key": key, "value": value, "timestamp": ts, "run_uuid": rid, "step": step}
                if has_is_nan:
                    row["is_nan"] = is_nan
                metrics.append(row)
    w.insert("metrics", metrics)

    if w.has("latest_metrics"):
        # What MLflow's store keeps there: the greatest (step, timestamp, value) per run and key.
        latest = {}
        for m in metrics:
            k = (m["run_uuid"], m["key"])
            if k not in latest or (m["step"], m["timestamp"], m["value"]) > (
                latest[k]["step"],
                latest[k]["timestamp"],
                latest[k]["value"],
            ):
                latest[k] = m
        w.insert("latest_metrics", list(latest.values()))

    fill_registry(w, rng, t0, run_ids)
    fill_datasets(w, rng, run_ids)
    fill_logged_models(w, rng, t0, run_ids, n_experiments)
    fill_traces(w, rng, t0, n_experiments)
    fill_jobs_and_friends(w, rng, t0, n_experiments)


def fill_registry(w, rng, t0, run_ids):
    models = [f"model {i} {NAMES[i % len(NAMES)]}" for i in range(8)]
    w.insert(
        "registered_models",
        [
            {
                "name": m,
                "creation_time": t0 + i,
                "last_updated_time": t0 + 10 * i,
                "description": f"描述 {i}" if i % 2 else None,
            }
            for i, m in enumerate(models)
        ],
    )
    versions = []
    for i, m in enumerate(models):
        for v in range(1, 1 + (i % 4) + 1):
            versions.append(
                {
                    "name": m,
                    "version": v,
                    "creation_time": t0 + 100 * v,
                    "last_updated_time": t0 + 200 * v,
                    "description": None,
                    "user_id": "alice",
                    "current_stage": STAGES[(i + v) % len(STAGES)],
                    "source": f"runs:/{run_ids[v]}/model",
                    "run_id": run_ids[(i * 3 + v) % len(run_ids)] if v % 3 else None,
                    "status": "READY",
                    "status_message": None,
                    "run_link": None,
                    "storage_location": f"s3://models/{i}/{v}",
                }
            )
    w.insert("model_versions", versions)
    w.insert(
        "registered_model_tags",
        [{"name": m, "key": "owner", "value": "équipe"} for m in models[::2]],
    )
    w.insert(
        "model_version_tags",
        [{"name": v["name"], "version": v["version"], "key": "validated", "value": "yes"} for v in versions[::3]],
    )
    w.insert(
        "registered_model_aliases",
        [{"name": v["name"], "version": v["version"], "alias": f"champion{v['version']}"} for v in versions[::2]],
    )


def fill_datasets(w, rng, run_ids):
    if not w.has("datasets"):
        return
    datasets = []
    for i in range(10):
        datasets.append(
            {
                "dataset_uuid": uid(rng)[:36],
                "experiment_id": i % 3,
                "name": f"dataset {i}",
                "digest": f"{i:08x}",
                "dataset_source_type": "local",
                "dataset_source": json.dumps({"uri": f"/data/{i}.parquet"}),
                "dataset_schema": json.dumps({"cols": ["a", "b"]}),
                "dataset_profile": None,
            }
        )
    w.insert("datasets", datasets)
    inputs = []
    tags = []
    for i, rid in enumerate(run_ids[:40]):
        d = datasets[i % len(datasets)]
        input_uuid = uid(rng)[:36]
        inputs.append(
            {
                "input_uuid": input_uuid,
                "source_type": "DATASET",
                "source_id": d["dataset_uuid"],
                "destination_type": "RUN",
                "destination_id": rid,
                "step": i % 4,
            }
        )
        tags.append({"input_uuid": input_uuid, "name": "mlflow.data.context", "value": "training"})
    w.insert("inputs", inputs)
    w.insert("input_tags", tags)


def fill_logged_models(w, rng, t0, run_ids, n_experiments):
    if not w.has("logged_models"):
        return
    models = []
    for i in range(15):
        models.append(
            {
                "model_id": f"m-{uid(rng)[:32]}",
                "experiment_id": i % n_experiments,
                "name": f"logged {i}",
                "artifact_location": f"s3://bucket/models/{i}",
                "creation_timestamp_ms": t0 + i,
                "last_updated_timestamp_ms": t0 + 2 * i,
                "status": i % 3,
                "lifecycle_stage": LIFECYCLE[i % 2],
                "model_type": "agent",
                "source_run_id": run_ids[i],
                "status_message": None,
            }
        )
    w.insert("logged_models", models)
    w.insert(
        "logged_model_params",
        [{"model_id": m["model_id"], "experiment_id": m["experiment_id"], "param_key": "temperature", "param_value": "0.7"} for m in models],
    )
    w.insert(
        "logged_model_tags",
        [{"model_id": m["model_id"], "experiment_id": m["experiment_id"], "tag_key": "stage", "tag_value": "dev ✓"} for m in models],
    )
    w.insert(
        "logged_model_metrics",
        [
            {
                "model_id": m["model_id"],
                "metric_name": "accuracy",
                "metric_timestamp_ms": t0 + s,
                "metric_step": s,
                "metric_value": rng.random(),
                "experiment_id": m["experiment_id"],
                "run_id": run_ids[i],
                "dataset_uuid": None,
                "dataset_name": None,
                "dataset_digest": None,
            }
            for i, m in enumerate(models)
            for s in range(3)
        ],
    )


def fill_traces(w, rng, t0, n_experiments):
    if not w.has("trace_info"):
        return
    traces = []
    trace_tags = []
    metadata = []
    spans = []
    assessments = []
    trace_metrics = []
    span_metrics = []
    for i in range(60):
        rid = f"tr-{uid(rng)}"
        e = i % n_experiments
        traces.append(
            {
                "request_id": rid,
                "experiment_id": e,
                "timestamp_ms": t0 + 1000 * i,
                "execution_time_ms": 10 * i,
                "status": ["OK", "ERROR", "IN_PROGRESS"][i % 3],
                "client_request_id": None,
                "request_preview": f"question {i} ❓",
                "response_preview": f"answer {i}",
            }
        )
        if i % 4:
            trace_tags.append({"request_id": rid, "key": "mlflow.traceName", "value": f"chat {i}"})
        trace_tags.append({"request_id": rid, "key": "mlflow.user", "value": "alice"})
        if i % 3 == 0:
            metadata.append({"request_id": rid, "key": "mlflow.trace.session", "value": f"session-{i // 6}"})
        if i % 2 == 0:
            usage = {"input_tokens": 10 + i, "output_tokens": 20 + i, "total_tokens": 30 + 2 * i}
            metadata.append({"request_id": rid, "key": "mlflow.trace.tokenUsage", "value": json.dumps(usage)})
        if i % 5 == 0:
            cost = {"input_cost": 0.001 * i, "output_cost": 0.002 * i, "total_cost": 0.003 * i}
            metadata.append({"request_id": rid, "key": "mlflow.trace.cost", "value": json.dumps(cost)})
        if w.has("trace_metrics") and i % 6 == 1:
            trace_metrics.append({"request_id": rid, "key": "input_tokens", "value": float(100 + i)})
        for s in range(3):
            sid = f"{i:08x}{s:08x}"
            span = {
                "trace_id": rid,
                "experiment_id": e,
                "span_id": sid,
                "parent_span_id": None if s == 0 else f"{i:08x}{0:08x}",
                "name": f"span {s}",
                "type": ["CHAIN", "LLM", "TOOL"][s],
                "status": "OK",
                "start_time_unix_nano": (t0 + 1000 * i) * 1_000_000 + s,
                "end_time_unix_nano": (t0 + 1000 * i) * 1_000_000 + 500 + s,
                "content": json.dumps({"name": f"span {s}", "attributes": {}}),
            }
            if w.has("spans", "dimension_attributes"):
                span["dimension_attributes"] = (
                    {"mlflow.llm.model": "gpt-x", "mlflow.llm.provider": "openai"} if s == 1 else None
                )
            spans.append(span)
            if w.has("span_metrics") and s == 1:
                span_metrics.append({"trace_id": rid, "span_id": sid, "key": "total_cost", "value": 0.01 * i})
        if w.has("assessments") and i % 2:
            assessments.append(
                {
                    "assessment_id": f"a-{uid(rng)}",
                    "trace_id": rid,
                    "name": "relevance",
                    "assessment_type": "feedback",
                    "value": json.dumps([0.5, True, "yes", 3][i % 4]),
                    "error": None,
                    "created_timestamp": t0 + i,
                    "last_updated_timestamp": t0 + i,
                    "source_type": "HUMAN",
                    "source_id": "alice",
                    "run_id": None,
                    "span_id": None,
                    "rationale": "because",
                    "overrides": None,
                    "valid": True,
                    "assessment_metadata": None,
                }
            )
    w.insert("trace_info", traces)
    w.insert("trace_tags", trace_tags)
    w.insert("trace_request_metadata", metadata)
    w.insert("spans", spans)
    w.insert("trace_metrics", trace_metrics)
    w.insert("span_metrics", span_metrics)
    w.insert("assessments", assessments)


def fill_jobs_and_friends(w, rng, t0, n_experiments):
    if w.has("jobs"):
        jobs = []
        for i in range(12):
            job = {
                "id": str(uuid.UUID(int=rng.getrandbits(128))),
                "creation_time": t0 + i,
                "job_name": f"optimize {i}",
                "params": json.dumps({"n": i}),
                "timeout": 60.0 if i % 2 else None,
                "status": i % 6,  # pending, running, succeeded, failed, timeout, cancelled
                "result": None,
                "retry_count": i % 3,
                "last_update_time": t0 + 10 * i,
            }
            jobs.append(job)
        w.insert("jobs", jobs)
    if w.has("webhooks"):
        hooks = [
            {
                "webhook_id": f"wh-{i}",
                "name": f"hook {i}",
                "description": None,
                "url": f"https://example.com/hook/{i}",
                "status": ["ACTIVE", "DISABLED"][i % 2],
                "secret": None,
                "creation_timestamp": t0,
                "last_updated_timestamp": t0,
                "deleted_timestamp": None,
            }
            for i in range(4)
        ]
        w.insert("webhooks", hooks)
        w.insert(
            "webhook_events",
            [{"webhook_id": h["webhook_id"], "entity": "model_version", "action": "created"} for h in hooks],
        )
    if w.has("scorers"):
        scorers = [
            {"experiment_id": i % n_experiments, "scorer_name": f"scorer {i}", "scorer_id": str(uuid.UUID(int=rng.getrandbits(128)))}
            for i in range(5)
        ]
        w.insert("scorers", scorers)
        w.insert(
            "scorer_versions",
            [{"scorer_id": s["scorer_id"], "scorer_version": 1, "serialized_scorer": "{}", "creation_time": t0} for s in scorers],
        )


def ties(url, nan_tie=False, seed=11):
    """Adversarial metrics for `89d4b8295536` (a database at `7ac759974ad8`): per run and key,
    the latest step logged at several timestamps, the latest timestamp with several values,
    NaN at the latest point and below it, +-inf, negative ties, a later timestamp at a lower
    step; and a bulk of short series drawn from a few values so that ties are the rule. With
    `nan_tie`, one metric whose latest (step, timestamp) holds both a NaN and a real value."""
    rng = random.Random(seed)
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            w = Writer(connection)
            w.insert("experiments", [{"experiment_id": 0, "name": "Default", "artifact_location": "/a", "lifecycle_stage": "active"}])
            run_ids = [f"{i:032x}" for i in range(1, 41)]
            w.insert(
                "runs",
                [
                    {"run_uuid": r, "experiment_id": 0, "status": "FINISHED", "lifecycle_stage": "active", "source_type": "LOCAL", "user_id": None}
                    for r in run_ids
                ],
            )
            nan, inf = float("nan"), float("inf")
            # (key, [(step, timestamp, logged value)...]) for the first run.
            crafted = [
                ("later timestamp wins", [(1, 1, 5.0), (3, 10, 9.0), (3, 12, 1.0), (2, 50, 7.0)]),
                ("larger value wins", [(5, 7, 1.0), (5, 7, 3.0), (5, 7, 2.0), (4, 9, 8.0)]),
                ("nan is latest", [(1, 1, 4.0), (2, 2, nan)]),
                ("nan below", [(1, 1, nan), (2, 2, -4.0)]),
                ("nan later timestamp", [(3, 1, 9.0), (3, 2, nan)]),
                ("inf ties", [(2, 2, 5.0), (2, 2, inf), (1, 1, -inf)]),
                ("-inf only", [(2, 2, -inf), (2, 2, -1e300)]),
                ("negative ties", [(1, 1, -1.0), (1, 1, -2.0)]),
                ("higher step, older timestamp", [(2, 100, 1.0), (3, 50, 2.0)]),
                ("zero and nan apart", [(1, 1, 0.0), (1, 2, nan), (1, 3, 0.0)]),
                ("single", [(0, 0, 0.1)]),
                ("precision", [(1, 1, 0.1 + 0.2), (1, 1, 0.30000000000000004), (1, 1, 1 / 3)]),
            ]
            if nan_tie:
                crafted.append(("nan tie", [(9, 9, nan), (9, 9, 0.5), (1, 1, 100.0)]))
            rows = []
            seen = set()

            def add(run, key, step, ts, logged):
                value, is_nan = stored_metric(logged, True)
                pk = (key, ts, step, run, value, is_nan)
                if pk not in seen:
                    seen.add(pk)
                    rows.append({"key": key, "value": value, "timestamp": ts, "run_uuid": run, "step": step, "is_nan": is_nan})

            for key, points in crafted:
                for step, ts, logged in points:
                    add(run_ids[0], key, step, ts, logged)
            for run in run_ids[1:]:
                for key in ("a", "b", "c"):
                    for _ in range(60):
                        logged = rng.choice([0.0, 1.0, -1.0, 2.5, nan, inf]) if rng.random() < 0.9 else rng.random()
                        add(run, key, rng.randint(0, 4), rng.randint(0, 4), logged)
            # Without the crafted NaN tie, keep the bulk migratable by Python: drop any NaN that
            # shares the latest (step, timestamp) of its metric with a real value.
            if not nan_tie:
                rows = without_nan_ties(rows)
            w.insert("metrics", rows)
            return w.counts
    finally:
        engine.dispose()


def without_nan_ties(rows):
    top = {}
    for m in rows:
        k = (m["run_uuid"], m["key"])
        if k not in top or (m["step"], m["timestamp"]) > top[k]:
            top[k] = (m["step"], m["timestamp"])
    at_top = {}
    for m in rows:
        k = (m["run_uuid"], m["key"])
        if (m["step"], m["timestamp"]) == top[k]:
            at_top.setdefault(k, set()).add(m["is_nan"])
    mixed = {k for k, kinds in at_top.items() if len(kinds) > 1}
    return [
        m
        for m in rows
        if not (
            (m["run_uuid"], m["key"]) in mixed
            and (m["step"], m["timestamp"]) == top[(m["run_uuid"], m["key"])]
            and m["is_nan"]
        )
    ]
