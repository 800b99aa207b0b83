#!/usr/bin/env python3
"""Write revisions/mlflow/releases.toml: each final mlflow-skinny release on PyPI and the head
revision of the Alembic projects its wheel ships.

Run by a developer when MLflow publishes a release (stdlib only, Python 3.8+):

    python3 revisions/mlflow/releases.py            # rewrites releases.toml next to this file
    python3 revisions/mlflow/releases.py --check    # exit 1 if the file is out of date

Only the zip members needed are read: the wheel's central directory and the revision files,
through HTTP range requests (about 1% of each wheel). Nothing is written to disk but the toml.

The heads are computed here with Python's `ast` module and nothing else: a revision file's
module-level `revision` and `down_revision`, and the heads are the revisions no other revision
names as its `down_revision` (what `alembic heads` lists). The Rust tests recompute a sample
with the crate's own reader from whole wheels, so the two readers check each other.
"""

import argparse
import ast
import io
import json
import posixpath
import re
import sys
import urllib.parse
import urllib.request
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

INDEX = "https://pypi.org/pypi/mlflow-skinny/json"
PROJECTS = {
    "head": "mlflow/store/db_migrations/versions/",
    "auth_head": "mlflow/server/auth/db/migrations/versions/",
}
FINAL = re.compile(r"^\d+\.\d+\.\d+$")
OUT = Path(__file__).with_name("releases.toml")
BLOCK = 1 << 16


class RangeFile(io.RawIOBase):
    """A read-only, seekable view of a remote file that fetches 64 KiB blocks on demand."""

    def __init__(self, url, size):
        self.url, self.size, self.pos, self.blocks = url, size, 0, {}

    def readable(self):
        return True

    def seekable(self):
        return True

    def tell(self):
        return self.pos

    def seek(self, offset, whence=io.SEEK_SET):
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.size}[whence]
        self.pos = max(0, base + offset)
        return self.pos

    def _fetch(self, first, last):
        start, end = first * BLOCK, min(self.size, (last + 1) * BLOCK) - 1
        request = urllib.request.Request(self.url, headers={"Range": f"bytes={start}-{end}"})
        with urllib.request.urlopen(request, timeout=120) as response:
            body = response.read()
            if response.status == 200:  # the server ignored the range: keep the whole file
                start = 0
                first = 0
                last = (len(body) - 1) // BLOCK
        for block in range(first, last + 1):
            self.blocks[block] = body[(block - first) * BLOCK : (block - first + 1) * BLOCK]

    def readinto(self, buffer):
        n = min(len(buffer), self.size - self.pos)
        if n <= 0:
            return 0
        first, last = self.pos // BLOCK, (self.pos + n - 1) // BLOCK
        missing = [b for b in range(first, last + 1) if b not in self.blocks]
        if missing:
            self._fetch(missing[0], missing[-1])
        data = b"".join(self.blocks[b] for b in range(first, last + 1))
        offset = self.pos - first * BLOCK
        buffer[:n] = data[offset : offset + n]
        self.pos += n
        return n


def header_value(node):
    """A `revision`/`down_revision` value: a string, None, or a tuple/list of strings."""
    value = ast.literal_eval(node)
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return list(value)


def revision_header(source, name):
    found = {}
    for stmt in ast.parse(source, filename=name).body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target, value = stmt.targets[0], stmt.value
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            target, value = stmt.target, stmt.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
            found[target.id] = header_value(value)
    if "revision" not in found:
        return None  # Alembic skips a .py file without `revision`
    return found["revision"][0], found.get("down_revision", [])


def heads_of(wheel, folder):
    """The heads of the project whose revision files are `folder*.py`; None if absent."""
    names = [
        n
        for n in wheel.namelist()
        if n.startswith(folder)
        and n.endswith(".py")
        and "/" not in n[len(folder) :]
        and not posixpath.basename(n).startswith(("__init__", ".#"))
    ]
    if not names:
        return None
    ids, downs = set(), set()
    for name in sorted(names):
        header = revision_header(wheel.read(name), name)
        if header is not None:
            ids.add(header[0])
            downs.update(header[1])
    return sorted(ids - downs), len(ids)


def release_facts(release):
    version, wheel_file = release
    url = urllib.parse.urljoin(INDEX, wheel_file["url"])
    with zipfile.ZipFile(RangeFile(url, wheel_file["size"])) as wheel:
        facts = {"version": version, "published": wheel_file["upload_time"][:10]}
        if wheel_file.get("yanked"):
            facts["yanked"] = True
        for key, folder in PROJECTS.items():
            found = heads_of(wheel, folder)
            if found is None:
                continue
            heads, count = found
            if len(heads) != 1:
                sys.exit(f"{version}: {folder} has {len(heads)} heads {heads}; extend the format")
            facts[key] = heads[0]
            facts[key.replace("head", "revisions")] = count
        if "head" not in facts:
            sys.exit(f"{version}: the wheel ships no {PROJECTS['head']}")
        return facts


def version_key(version):
    return tuple(int(part) for part in version.split("."))


def render(rows):
    first = rows[0]["version"]
    lines = [
        "# MLflow releases and the database schema each one expects. GENERATED FILE: do not edit;",
        "# rerun `python3 revisions/mlflow/releases.py` (it reads " + INDEX + ",",
        "# takes every final release (no rc/dev) of mlflow-skinny that has a wheel, reads the",
        "# wheel's revision files through HTTP range requests and computes the heads with `ast`).",
        "#",
        f"# mlflow-skinny starts at {first}: earlier MLflow releases exist only as the full `mlflow`",
        "# package and are not listed. Per release, oldest first:",
        "#   version      the release number on PyPI",
        "#   published    upload date of its wheel (backport releases can be newer than later ones)",
        "#   yanked       present and true when PyPI marks the release yanked",
        "#   head         the single head of the tracking project (mlflow/store/db_migrations)",
        "#   revisions    how many revision files that project has",
        "#   auth_head    the head of the auth project (mlflow/server/auth/db/migrations), when",
        "#                the wheel ships it; auth_revisions counts its revision files",
        "",
        f'source = "{INDEX}"',
        f'first_skinny = "{first}"',
    ]
    keys = ["version", "published", "yanked", "head", "revisions", "auth_head", "auth_revisions"]
    for row in rows:
        lines += ["", "[[release]]"]
        for key in keys:
            if key not in row:
                continue
            value = row[key]
            if isinstance(value, bool):
                text = "true" if value else "false"
            elif isinstance(value, int):
                text = str(value)
            else:
                text = json.dumps(value)
            lines.append(f"{key} = {text}")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    parser.add_argument("--jobs", type=int, default=4, help="wheels read in parallel")
    args = parser.parse_args()

    with urllib.request.urlopen(INDEX, timeout=120) as response:
        index = json.load(response)
    releases = []
    for version, files in index["releases"].items():
        if not FINAL.match(version):
            continue
        wheels = [f for f in files if f["packagetype"] == "bdist_wheel"]
        if wheels:
            releases.append((version, wheels[0]))
    releases.sort(key=lambda r: version_key(r[0]))

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        rows = []
        for facts in pool.map(release_facts, releases):
            print(f"{facts['version']}: {facts['head']} {facts.get('auth_head', '-')}", file=sys.stderr)
            rows.append(facts)
    text = render(rows)
    if args.check:
        if OUT.read_text() != text:
            sys.exit(f"{OUT} is out of date: rerun {sys.argv[0]}")
        print(f"{OUT} is up to date ({len(rows)} releases)")
        return
    OUT.write_text(text)
    print(f"wrote {OUT} ({len(rows)} releases)")


if __name__ == "__main__":
    main()
