"""Call-count benchmark: `github sync` of 1,000 and 10,000 deployments, GraphQL against REST.

Run:  uv run python benchmarks/sync_calls.py [--sizes 1000,10000] [--json]

For each size N it builds, in the loopback fake of GitHub (tests/fakes/fake_github.py), a
repository with N production deployments over the 80 days before "now", each of 3 new
default-branch commits and finishing with a success (one in ten fails, one in twenty
errors), and a merged pull request per deployment. It then imports it twice with
bot.sources.github.sync into a fresh SQLite file, as `shipshape github sync OWNER/REPO`
does: the first run (the default 90 days) and a second one with nothing new. The fake
counts the requests it answered, REST (GET) and GraphQL (POST /graphql) apart, and each run
is timed on the wall clock. The same repository is imported again through REST alone (the
fake answering 404 to GraphQL, as a server without it: the sync's fallback), as the
baseline, and the two databases' exports must be identical.

Targets (issue 15): a first import through GraphQL takes at most 30 calls per 1,000
deployments, a second run with nothing new at most 5. Exit status 1 when a target is
missed or the records differ.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import pendulum

# Running this file puts benchmarks/ (not the project root) on sys.path.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.config import Config  # noqa: E402
from bot.core.clock import FixedClock  # noqa: E402
from bot.deps import Deps  # noqa: E402
from bot.sources.github import sync as github_sync  # noqa: E402
from storage import export  # noqa: E402
from storage.db import Store  # noqa: E402
from tests.fakes.fake_github import TOKEN, FakeGitHub  # noqa: E402

NOW = pendulum.datetime(2026, 11, 24, 12)
DAYS = 80  # within the 90 days a first sync reaches back
COMMITS_EACH = 3
TARGET_PER_1000 = 30
TARGET_SECOND = 5


@dataclass
class Run:
    api: str  # the path asked for: graphql (the default) or rest (GraphQL unavailable)
    deployments: int
    run: str  # first or second
    rest_calls: int
    graphql_calls: int
    points: int
    seconds: float

    @property
    def calls(self) -> int:
        return self.rest_calls + self.graphql_calls


def _text(moment: pendulum.DateTime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def build(fake: FakeGitHub, size: int) -> None:
    step = DAYS * 86400 / size
    start = NOW.subtract(days=DAYS)
    for n in range(size):
        at = start.add(seconds=int(n * step))
        shas = [
            fake.commit(f"c{n}-{k}", _text(at.subtract(minutes=30 * (COMMITS_EACH - k))))
            for k in range(COMMITS_EACH)
        ]
        state = "failure" if n % 10 == 3 else "error" if n % 20 == 7 else "success"
        finished = _text(at.add(minutes=5))
        fake.deployment(n + 1, shas[-1], _text(at), ("in_progress", _text(at)), (state, finished))
        merged = _text(at.subtract(minutes=10))
        fake.pull(n + 1, merged, merged, shas[-1])


def import_twice(api: str, size: int, folder: Path) -> tuple[list[Run], Path]:
    fake = FakeGitHub(graphql=api == "graphql").start()
    build(fake, size)
    db = folder / f"{api}-{size}.db"
    config = Config(github_token=TOKEN, github_api_url=fake.url, db_path=str(db))
    store = Store(str(db))
    store.migrate()
    deps = Deps(config=config, store=store, clock=FixedClock(NOW))
    runs = []
    try:
        for name in ("first", "second"):
            fake.clear()
            began = time.perf_counter()
            result = github_sync.sync(deps, "acme/app")
            seconds = time.perf_counter() - began
            rest, graphql = len(fake.rest_requests()), len(fake.graphql_requests())
            assert (rest, graphql) == (
                result.api_calls - result.graphql_calls,
                result.graphql_calls,
            )
            runs.append(Run(api, size, name, rest, graphql, result.points, seconds))
    finally:
        store.close()
        fake.stop()
    return runs, db


def exports(db: Path) -> dict[str, list[dict[str, object]]]:
    store = Store(str(db))
    try:
        return {table: list(export.rows(store.db, table)) for table in export.TABLES}
    finally:
        store.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="deployments per repository")
    parser.add_argument("--json", action="store_true", help="print the runs as JSON too")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    if not all(1 <= s <= 50_000 for s in sizes):
        parser.error("--sizes must be 1..50000 each")

    runs: list[Run] = []
    failed = False
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            databases = {}
            for api in ("graphql", "rest"):
                found, databases[api] = import_twice(api, size, Path(folder))
                runs.extend(found)
            same = exports(databases["graphql"]) == exports(databases["rest"])
            print(f"\n{size:,} deployments, {size * COMMITS_EACH:,} commits, {size:,} merged PRs")
            print("  path     run     REST  GraphQL  calls  points  calls/1,000   wall s")
            for run in (r for r in runs if r.deployments == size):
                per = run.calls * 1000 / size
                print(
                    f"  {run.api:<7}  {run.run:<6} {run.rest_calls:5d}  {run.graphql_calls:7d}"
                    f"  {run.calls:5d}  {run.points:6d}  {per:11.1f}  {run.seconds:7.2f}"
                )
            first, second = (r for r in runs if r.deployments == size and r.api == "graphql")
            met_first = first.calls <= TARGET_PER_1000 * size / 1000
            met_second = second.calls <= TARGET_SECOND
            print(
                f"  records identical (export deploys, changes, incidents): "
                f"{'yes' if same else 'NO'}"
            )
            print(
                f"  target first run <= {TARGET_PER_1000} calls per 1,000: "
                f"{'met' if met_first else 'MISSED'}; second run <= {TARGET_SECOND}: "
                f"{'met' if met_second else 'MISSED'}"
            )
            failed = failed or not (same and met_first and met_second)
    if args.json:
        print(json.dumps([asdict(r) for r in runs], indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
