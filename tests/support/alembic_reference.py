"""Answer revision-graph questions with Python Alembic, for conformance tests.

Usage: alembic_reference.py <alembic.ini | script directory> <queries.json>

queries.json holds a JSON list of query objects; one JSON document
{"answers": [...]} is printed, one answer per query in the same order. A query
that raises is answered with {"error": "<message>"} so the caller can check that
our engine refuses the same input. Run with PYTHONHASHSEED=0: Alembic keeps some
sets internally and their order can leak into results.
"""

import json
import os
import sys

sys.dont_write_bytecode = True  # never leave __pycache__ inside fixture folders

from alembic.config import Config  # noqa: E402
from alembic.script import ScriptDirectory  # noqa: E402


def open_scripts(location):
    if os.path.isfile(location):
        return ScriptDirectory.from_config(Config(location))
    return ScriptDirectory(location)


def as_list(value):
    """Alembic accepts None, a string or a sequence for these module variables."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return list(value)


def describe(sc):
    return {
        "revision": sc.revision,
        "down_revisions": as_list(sc.down_revision),
        "depends_on": as_list(sc.dependencies),
        "branch_labels": sorted(sc.branch_labels),
        "is_head": sc.is_head,
        "is_branch_point": sc.is_branch_point,
        "is_merge_point": sc.is_merge_point,
        "doc": sc.doc,
    }


def current_heads(script, spec):
    """What a database stamped with the comma-separated `spec` would report."""
    if spec == "base":
        return ()
    ids = []
    for part in spec.split(","):
        for sc in script.get_revisions(part):
            if sc is not None:
                ids.append(sc.revision)
    return tuple(ids)


def answer(script, query):
    kind = query["kind"]
    if kind == "heads":
        return list(script.get_heads())
    if kind == "branches":
        return [
            {"revision": sc.revision, "children": sorted(sc.nextrev)}
            for sc in script.walk_revisions()
            if sc.is_branch_point
        ]
    if kind == "history":
        base = head = None
        rev_range = query.get("range")
        if rev_range is not None:
            # As `alembic history -r`: one colon, either side may be empty.
            if ":" not in rev_range:
                raise ValueError("a history range needs a colon: %r" % (rev_range,))
            base, head = rev_range.strip().split(":")
        return [
            sc.revision
            for sc in script.walk_revisions(base or "base", head or "heads")
        ]
    if kind == "revision":
        return [describe(sc) for sc in script.get_revisions(query["spec"]) if sc is not None]
    if kind == "path":
        current = current_heads(script, query["from"])
        graph = script.revision_map
        if query["direction"] == "up":
            steps = graph.iterate_revisions(query["to"], current, implicit_base=True)
            return [r.revision for r in reversed(list(steps))]
        if query["direction"] == "down":
            steps = graph.iterate_revisions(current, query["to"], select_for_downgrade=True)
            return [r.revision for r in steps]
        raise ValueError("unknown direction %r" % (query["direction"],))
    raise ValueError("unknown query kind %r" % (kind,))


def main():
    location, queries_path = sys.argv[1], sys.argv[2]
    with open(queries_path, encoding="utf-8") as f:
        queries = json.load(f)
    script = open_scripts(location)
    answers = []
    for query in queries:
        try:
            answers.append(answer(script, query))
        except Exception as e:  # each failure belongs to its own query
            answers.append({"error": str(e)})
    json.dump({"answers": answers}, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
