"""Play a server of an older MLflow release against databases whose schema is newer.

Usage:
    python old_server.py init DB_PATH
        Create DB_PATH with the release's own stores (they build the schema of the release's
        head) and run the operations once, so later checks find rows of the old release.
    python old_server.py start DB_PATH...
        Open the stores as a server of the release starting now would, start-up checks on.
    python old_server.py check DB_PATH...
        Run the operations against each database, as a server of the release that was already
        running would: the stores' start-up checks (schema version, table set) are switched
        off.

Prints one JSON object: {"<db path>": {"<operation>": "ok" | "<exception>"}}, operations in
the order they ran. An operation whose prerequisite failed is reported as failing too.
"""

import json
import os
import sys
import tempfile
import time
import traceback

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

import mlflow.store.db.utils as db_utils  # noqa: E402
from mlflow.entities import Metric, Param, RunStatus, RunTag  # noqa: E402
from mlflow.entities.model_registry import RegisteredModelTag  # noqa: E402
from mlflow.store.model_registry.sqlalchemy_store import (  # noqa: E402
    SqlAlchemyStore as RegistryStore,
)
from mlflow.store.tracking.sqlalchemy_store import (  # noqa: E402
    SqlAlchemyStore as TrackingStore,
)

try:  # MLflow 3.x: traces with spans in the tracking database, and a job store
    from mlflow.entities.span import create_mlflow_span
    from mlflow.store.jobs.sqlalchemy_store import SqlAlchemyJobStore as JobStore
    from mlflow.tracing.utils import generate_trace_id_v3
    from opentelemetry.sdk.trace import TracerProvider
except ImportError:
    JobStore = None


def describe(exc):
    text = f"{type(exc).__name__}: {exc}"
    # SQLAlchemy appends long SQL and a link; the first lines name the cause.
    return " ".join(text.splitlines()[:3])[:400]


def operations(db_path, label, verify):
    uri = f"sqlite:///{db_path}"
    results = {}
    state = {}

    def attempt(name, needs, action):
        missing = [n for n in needs if n not in state]
        if missing:
            results[name] = f"not run: needs {', '.join(missing)}"
            return
        try:
            value = action()
        except Exception as exc:  # what a server would turn into an error response
            results[name] = describe(exc)
            if os.environ.get("OLD_SERVER_TRACEBACK"):
                traceback.print_exc(file=sys.stderr)
            return
        state[name] = value
        results[name] = "ok"

    # The stores' constructors run two start-up checks: the schema version (`_verify_schema`)
    # and, in older releases, that the set of tables is exactly the release's own (else they
    # take the database for an empty one and run their migrations on it). A server that was
    # running before the upgrade has passed both; skipping them plays that server.
    saved = db_utils._verify_schema, db_utils._all_tables_exist
    if not verify:
        db_utils._verify_schema = lambda engine: None
        db_utils._all_tables_exist = lambda engine: True
    try:
        artifacts = tempfile.mkdtemp(prefix="old-server-artifacts-")
        attempt("open tracking store", [], lambda: TrackingStore(uri, artifacts))
        attempt("open registry store", [], lambda: RegistryStore(uri))
        if JobStore is not None:
            attempt("open job store", [], lambda: JobStore(uri))
    finally:
        db_utils._verify_schema, db_utils._all_tables_exist = saved

    tracking = state.get("open tracking store")
    registry = state.get("open registry store")
    now = int(time.time() * 1000)
    tr = ["open tracking store"]
    mr = ["open registry store"]

    attempt(
        "create experiment",
        tr,
        lambda: tracking.create_experiment(f"experiment-{label}"),
    )
    attempt(
        "create run",
        tr + ["create experiment"],
        lambda: tracking.create_run(
            state["create experiment"], "someone", now, [RunTag("team", "a")], f"run-{label}"
        ).info.run_id,
    )
    attempt(
        "log batch (metrics, params, tags)",
        tr + ["create run"],
        lambda: tracking.log_batch(
            state["create run"],
            metrics=[Metric("loss", 0.5, now, 0), Metric("loss", 0.25, now + 1, 1)],
            params=[Param("lr", "0.01"), Param("layers", "3")],
            tags=[RunTag("stage", "train")],
        ),
    )
    attempt(
        "log metric",
        tr + ["create run"],
        lambda: tracking.log_metric(state["create run"], Metric("acc", 0.9, now, 2)),
    )
    attempt(
        "set run tag",
        tr + ["create run"],
        lambda: tracking.set_tag(state["create run"], RunTag("note", "x" * 100)),
    )
    attempt(
        "get run",
        tr + ["create run"],
        lambda: tracking.get_run(state["create run"]),
    )

    def search():
        ids = [e.experiment_id for e in tracking.search_experiments()]
        runs = tracking.search_runs(ids, "metrics.loss < 1", 1, max_results=100)
        if not runs:
            raise AssertionError("search runs found no run with metrics.loss < 1")
        return len(runs)

    attempt("search runs", tr + ["log batch (metrics, params, tags)"], search)
    attempt(
        "terminate run",
        tr + ["create run"],
        lambda: tracking.update_run_info(
            state["create run"], RunStatus.from_string("FINISHED"), now + 10, None
        ),
    )
    attempt(
        "create registered model",
        mr,
        lambda: registry.create_registered_model(f"model-{label}").name,
    )
    attempt(
        "set registered model tag",
        mr + ["create registered model"],
        lambda: registry.set_registered_model_tag(
            state["create registered model"], RegisteredModelTag("owner", "team-a")
        ),
    )
    attempt(
        "create model version",
        mr + ["create registered model", "create run"],
        lambda: registry.create_model_version(
            state["create registered model"],
            "runs:/" + state["create run"] + "/model",
            run_id=state["create run"],
        ).version,
    )
    attempt(
        "search model versions",
        mr + ["create model version"],
        lambda: registry.search_model_versions(f"name='{state['create registered model']}'"),
    )
    attempt(
        "delete run",
        tr + ["create run", "create model version"],
        lambda: tracking.delete_run(state["create run"]),
    )

    if JobStore is not None:

        def log_spans():
            otel = TracerProvider().get_tracer("old-server").start_span(f"root-{label}")
            span = create_mlflow_span(otel, generate_trace_id_v3(otel))
            otel.end()
            return tracking.log_spans(state["create experiment"], [span])

        attempt("log spans", tr + ["create experiment"], log_spans)

        def search_traces():
            found, _ = tracking.search_traces(
                [state["create experiment"]], filter_string=f"span.name = 'root-{label}'"
            )
            if len(found) != 1:
                raise AssertionError(f"search traces by span name found {len(found)} traces")
            return found

        attempt("search traces by span", tr + ["log spans"], search_traces)
        jobs = state.get("open job store")
        attempt(
            "create job",
            ["open job store"],
            lambda: jobs.create_job(f"jobs.{label}", "{}").job_id,
        )

        def list_jobs():
            found = list(jobs.list_jobs(function_fullname=f"jobs.{label}"))
            if len(found) != 1:
                raise AssertionError(f"list jobs found {len(found)} jobs")
            return found

        attempt("list jobs", ["create job"], list_jobs)
        attempt("get job", ["create job"], lambda: jobs.get_job(state["create job"]))

    for store in (tracking, registry, state.get("open job store")):
        if store is not None:
            store.engine.dispose()
    return results


def main():
    mode, paths = sys.argv[1], sys.argv[2:]
    if mode == "init":
        out = {p: operations(p, "init", verify=True) for p in paths}
    elif mode == "start":
        out = {p: operations(p, "start", verify=True) for p in paths}
    elif mode == "check":
        out = {p: operations(p, f"check-{i}", verify=False) for i, p in enumerate(paths)}
    else:
        raise SystemExit(f"unknown mode {mode}")
    json.dump(out, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
