"""Scale benchmark: the metrics report on 1,000,000 deploys and 5,000,000 changes.

Run:  uv run python benchmarks/metrics_scale.py [--db PATH] [--runs N] [--budget SECONDS]

The first run builds a database with the project's real schema (`Store(path).migrate()`):
1,000,000 deploys across 1,000 services over 3 years, 5,000,000 changes linked to
deployments and 20,000 incidents, all from a fixed seed. Later runs reuse the file when its
row counts and generator mark match (only new migrations are applied), so reruns are quick.

It then times `bot.metrics.report.build` (a window and the previous one, as /dora computes them) for
one service over 90 days, for a team over 90 days (the --team-size busiest services, counted
as one) and for all services over 90 days. Beside each, in the same run and
on the same connection, it times a bare SQLite aggregate over the same rows, the
successful production deploys of both windows:

    SELECT count(*), sum(is_hotfix) FROM deploys
    WHERE environment IN (...) [AND service = ?] AND status = 'success'
      AND deployed_at >= ? AND deployed_at < ?

and a second one that counts every row the report summarises, in both windows, with plain
count(*) queries on the indexes the report reads: those successful production deploys, the
changes they shipped with a known lead time (migration m003's columns), and the incidents
resolved in the window. It prints medians, p90s and the ratios of the medians, so the
numbers read as "N times the cost of merely counting the rows" on this machine. Targets
(issue 3): one service < 20 ms, all services < 200 ms, ratio <= 3 (to the first, the
stricter); (issue 14) the team's report within 2x the all-services report. Exit status 1
when a target is missed.

Runs are bounded: at most --runs timed runs per case and at most --budget seconds per case
(but at least MIN_RUNS), after WARMUP untimed runs that bring the pages into the cache.
"""

from __future__ import annotations

import argparse
import math
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pendulum

# Running this file puts benchmarks/ (not the project root) on sys.path.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.core.moments import utc_text  # noqa: E402
from bot.core.windows import Window, last_days  # noqa: E402
from bot.metrics.report import Report, build  # noqa: E402
from storage.db import Store  # noqa: E402
from storage.schema import migrations  # noqa: E402
from storage.teams import Team  # noqa: E402

SEED = 20240601
SERVICES = 1_000
DEPLOYS = 1_000_000
CHANGES = 5_000_000
INCIDENTS = 20_000
YEARS = 3
# The data ends here and the benchmark's "now" is this moment, so both the 90-day window
# and the one before it are full of history whatever day the benchmark runs.
END = datetime(2025, 1, 1, tzinfo=UTC)
# Changed whenever the generator changes, so an old file is rebuilt rather than reused.
MARK = "scale-v1"
ENVIRONMENTS = ("production", "prod")  # the default production environments (bot/config.py)
WINDOW_DAYS = 90
TZ = "Europe/Berlin"  # a team zone with daylight saving, so deploy days do real work
CHUNK = 200_000  # rows per executemany and per transaction while building
WARMUP = 2
MIN_RUNS = 5
TARGET_ONE_MS = 20.0
TARGET_ALL_MS = 200.0
TARGET_RATIO = 3.0
TARGET_TEAM_TO_ALL = 2.0
TEAM_SIZE = 10
DEFAULT_DB = Path(tempfile.gettempdir()) / "shipshape-metrics-scale.db"


# ----------------------------------------------------------------------------- building


class Clock:
    """UTC text for epoch seconds, in the bot's own format, fast enough for 6 M rows:
    datetime.strftime per row alone would take longer than the inserts."""

    def __init__(self) -> None:
        self._days: dict[int, str] = {}

    def text(self, epoch: int) -> str:
        day, second = divmod(epoch, 86_400)
        prefix = self._days.get(day)
        if prefix is None:
            prefix = datetime.fromtimestamp(day * 86_400, UTC).strftime("%Y-%m-%dT")
            self._days[day] = prefix
        hour, rest = divmod(second, 3_600)
        minute, sec = divmod(rest, 60)
        return f"{prefix}{hour:02d}:{minute:02d}:{sec:02d}Z"


@dataclass
class Deploys:
    """What the changes and incidents need to know about the generated deploys."""

    service: list[int]  # index by id - 1
    at: list[int]  # epoch seconds, by id - 1
    shipped: list[int]  # ids of successful production deploys, the ones that ship changes


def service_name(i: int) -> str:
    return f"svc-{i:04d}"


def production_name(i: int) -> str:
    # One service in ten calls its production environment "prod", as real teams do.
    return "prod" if i % 10 == 0 else "production"


def chunks(rows: Iterable[tuple[Any, ...]], size: int = CHUNK) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def insert(conn: sqlite3.Connection, sql: str, rows: Iterable[tuple[Any, ...]]) -> None:
    for batch in chunks(rows):
        conn.execute("BEGIN")
        conn.executemany(sql, batch)
        conn.execute("COMMIT")


def make_deploys(rng: random.Random, clock: Clock) -> tuple[Deploys, list[tuple[Any, ...]]]:
    end = int(END.timestamp())
    start = end - YEARS * 365 * 86_400
    # Ids follow time, as they do when deploys are reported as they happen; a rollback can
    # then always name an earlier id.
    times = sorted(rng.randrange(start, end) for _ in range(DEPLOYS))
    # Some services deploy much more than others (weights 0.2 to 3.4, ~1,000 deploys each
    # on average over three years).
    weights = [0.2 + 3.2 * rng.random() ** 2 for _ in range(SERVICES)]
    services = rng.choices(range(SERVICES), weights=weights, k=DEPLOYS)
    last_success: dict[int, int] = {}
    shipped: list[int] = []
    rows: list[tuple[Any, ...]] = []
    for index, (service, at) in enumerate(zip(services, times, strict=True)):
        deploy_id = index + 1
        roll = rng.random()
        production = roll < 0.86
        environment = production_name(service) if production else "staging"
        failed = rng.random() < 0.05
        rollback_of = None
        is_hotfix = 0
        if not failed:
            if production and service in last_success and rng.random() < 0.015:
                rollback_of = last_success[service]
            elif rng.random() < 0.03:
                is_hotfix = 1
        if production and not failed:
            last_success[service] = deploy_id
            if rollback_of is None:
                shipped.append(deploy_id)
        text = clock.text(at)
        rows.append(
            (
                deploy_id,
                service_name(service),
                environment,
                f"1.{deploy_id // 1000}.{deploy_id % 1000}",
                f"{deploy_id:040x}",
                f"acme/{service_name(service)}",
                "failed" if failed else "success",
                text,
                is_hotfix,
                rollback_of,
                None,
                "import",
                f"{MARK}-{deploy_id}",
                None,
                text,
            )
        )
    return Deploys(services, times, shipped), rows


def make_changes(rng: random.Random, clock: Clock, deploys: Deploys) -> Iterator[tuple[Any, ...]]:
    # Each change goes to a random shipping deploy (about 6 each, a few with none); sorting
    # keeps ids in deploy order, as a live system would write them.
    owners = sorted(rng.choices(deploys.shipped, k=CHANGES))
    for index, deploy_id in enumerate(owners):
        change_id = index + 1
        at = deploys.at[deploy_id - 1]
        roll = rng.random()
        if roll < 0.01:
            authored = None  # a change whose commit time is unknown
        elif roll < 0.015:
            authored = at + rng.randrange(1, 7_200)  # clock skew, rebases: negative lead
        else:
            # Lead times from minutes to weeks, median about a day.
            authored = at - max(1, int(rng.lognormvariate(math.log(86_400), 1.3)))
        authored_text = clock.text(authored) if authored is not None else None
        yield (
            change_id,
            f"acme/{service_name(deploys.service[deploy_id - 1])}",
            f"{change_id:040x}",
            authored_text,
            change_id // 3 if roll < 0.6 else None,
            clock.text(at - rng.randrange(0, 3_600)) if roll < 0.6 else None,
            deploy_id,
            "import",
            f"{MARK}-{change_id}",
            clock.text(at),
        )


def make_incidents(rng: random.Random, clock: Clock, deploys: Deploys) -> list[tuple[Any, ...]]:
    end = int(END.timestamp())
    start = end - YEARS * 365 * 86_400
    rows: list[tuple[Any, ...]] = []
    for index in range(INCIDENTS):
        incident_id = index + 1
        if rng.random() < 0.8:
            deploy_id: int | None = rng.choice(deploys.shipped)
            assert deploy_id is not None
            service = deploys.service[deploy_id - 1]
            started = deploys.at[deploy_id - 1] + rng.randrange(60, 6 * 3_600)
            cause = "deploy"
        else:
            deploy_id = None
            service = rng.randrange(SERVICES)
            started = rng.randrange(start, end)
            cause = rng.choice(("none", "unknown"))
        # Minutes to days: median about 2 hours; 2% are still open.
        duration = max(60, int(rng.lognormvariate(math.log(7_200), 1.6)))
        resolved = None if rng.random() < 0.02 else clock.text(started + duration)
        rows.append(
            (
                incident_id,
                service_name(service),
                f"Incident {incident_id}",
                rng.randint(1, 4),
                clock.text(started),
                resolved,
                deploy_id,
                cause,
                "import",
                f"{MARK}-{incident_id}",
                None,
                None,
                clock.text(started),
            )
        )
    return rows


def is_built(path: Path) -> bool:
    if not path.exists():
        return False
    conn = sqlite3.connect(path)
    try:
        counts = tuple(
            conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("deploys", "changes", "incidents")
        )
        mark = conn.execute("SELECT source_key FROM deploys WHERE id = 1").fetchone()
    except sqlite3.Error:
        return False
    finally:
        conn.close()
    return counts == (DEPLOYS, CHANGES, INCIDENTS) and mark == (f"{MARK}-1",)


def build_database(path: Path) -> float:
    """Build the file from scratch; returns the seconds it took."""
    began = time.perf_counter()
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    store = Store(path)
    store.migrate()  # the real schema, every migration the bot would apply
    store.close()

    rng = random.Random(SEED)
    clock = Clock()
    conn = sqlite3.connect(path, isolation_level=None)
    # Build-only settings: a crash here just means building again, so skip the journal and
    # the fsyncs; the bot's own connections set WAL and synchronous=NORMAL again.
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -2000000")  # 2 GB: the index inserts stay in memory
    conn.execute("PRAGMA foreign_keys = ON")  # generated links must be real links

    deploys, deploy_rows = make_deploys(rng, clock)
    insert(
        conn,
        """INSERT INTO deploys (id, service, environment, version, sha, repo, status,
               deployed_at, is_hotfix, rollback_of, url, source, source_key, channel_id,
               created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        deploy_rows,
    )
    del deploy_rows
    print(f"  deploys inserted   {time.perf_counter() - began:7.1f} s", flush=True)
    insert(
        conn,
        """INSERT INTO changes (id, repo, sha, authored_at, pr_number, merged_at, deploy_id,
               source, source_key, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        make_changes(rng, clock, deploys),
    )
    print(f"  changes inserted   {time.perf_counter() - began:7.1f} s", flush=True)
    insert(
        conn,
        """INSERT INTO incidents (id, service, title, severity, started_at, resolved_at,
               deploy_id, cause, source, source_key, channel_id, message_ts, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        make_incidents(rng, clock, deploys),
    )
    print(f"  incidents inserted {time.perf_counter() - began:7.1f} s", flush=True)
    conn.execute("PRAGMA journal_mode = WAL")  # as the bot leaves it
    conn.close()
    return time.perf_counter() - began


# ----------------------------------------------------------------------------- timing


@dataclass
class Timing:
    name: str
    samples_ms: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p90(self) -> float:
        if len(self.samples_ms) == 1:
            return self.samples_ms[0]
        return statistics.quantiles(self.samples_ms, n=10, method="inclusive")[8]


def _marks(values: tuple[str, ...]) -> str:
    return ", ".join("?" for _ in values)


def bare_aggregate(
    conn: sqlite3.Connection, windows: list[tuple[str, str]], services: tuple[str, ...] | None
) -> list[tuple[int, int]]:
    marks = _marks(ENVIRONMENTS)
    by_service = f" AND service IN ({_marks(services)})" if services is not None else ""
    return [
        conn.execute(
            f"""SELECT count(*), sum(is_hotfix) FROM deploys
                WHERE environment IN ({marks}){by_service} AND status = 'success'
                  AND deployed_at >= ? AND deployed_at < ?""",
            (*ENVIRONMENTS, *(services or ()), start, end),
        ).fetchone()
        for start, end in windows
    ]


def bare_rows(
    conn: sqlite3.Connection, windows: list[tuple[str, str]], services: tuple[str, ...] | None
) -> list[tuple[int, int, int]]:
    """(deployments, changes with a known lead, incidents resolved) of each window."""
    marks = _marks(ENVIRONMENTS)
    # Each on its covering index from m003: lead_bucket is set exactly when lead_seconds >= 0.
    if services is None:
        known = "shipped_at >= ? AND shipped_at < ? AND lead_bucket IS NOT NULL"
    else:
        known = (
            f"service IN ({_marks(services)}) AND shipped_at >= ? AND shipped_at < ?"
            " AND lead_seconds >= 0"
        )
    counts = []
    for start, end in windows:
        deployments, _ = bare_aggregate(conn, [(start, end)], services)[0]
        changes = conn.execute(
            f"SELECT count(*) FROM changes WHERE environment IN ({marks}) AND {known}",
            (*ENVIRONMENTS, *(services or ()), start, end),
        ).fetchone()[0]
        incidents = conn.execute(
            "SELECT count(*) FROM incidents WHERE resolved_at >= ? AND resolved_at < ?",
            (start, end),
        ).fetchone()[0]
        counts.append((deployments, changes, incidents))
    return counts


def time_cases(
    cases: dict[str, Callable[[], object]], runs: int, budget: float
) -> dict[str, list[float]]:
    """Alternate the cases (the report and the bare aggregates), so all see the same cache
    and load."""
    for _ in range(WARMUP):
        for case in cases.values():
            case()
    samples: dict[str, list[float]] = {name: [] for name in cases}
    began = time.perf_counter()
    while len(samples["report"]) < runs:
        for name, case in cases.items():
            t0 = time.perf_counter()
            case()
            samples[name].append((time.perf_counter() - t0) * 1000)
        if len(samples["report"]) >= MIN_RUNS and time.perf_counter() - began > budget:
            break
    return samples


def busiest_services(conn: sqlite3.Connection, start: str, end: str, count: int) -> list[str]:
    """The `count` services with the most deployments in the window: the worst case for
    one service (the first) and for a team of that many."""
    marks = ", ".join("?" for _ in ENVIRONMENTS)
    rows = conn.execute(
        f"""SELECT service FROM deploys
            WHERE environment IN ({marks}) AND status = 'success'
              AND deployed_at >= ? AND deployed_at < ?
            GROUP BY service ORDER BY count(*) DESC, service LIMIT ?""",
        (*ENVIRONMENTS, start, end, count),
    ).fetchall()
    return [str(row[0]) for row in rows]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=DEFAULT_DB, help=f"default {DEFAULT_DB}")
    parser.add_argument("--runs", type=int, default=30, help="timed runs per case (max)")
    parser.add_argument("--budget", type=float, default=60.0, help="seconds per case (max)")
    parser.add_argument("--rebuild", action="store_true", help="build even if the file is fine")
    team_help = f"services in the team case, the busiest (default {TEAM_SIZE})"
    parser.add_argument("--team-size", type=int, default=TEAM_SIZE, help=team_help)
    args = parser.parse_args(argv)
    if not 1 <= args.runs <= 10_000 or not 1 <= args.budget <= 3_600:
        parser.error("--runs must be 1..10000 and --budget 1..3600")
    if not 1 <= args.team_size <= SERVICES:
        parser.error(f"--team-size must be 1..{SERVICES}")

    path: Path = args.db
    if args.rebuild or not is_built(path):
        print(f"building {path} (seed {SEED}) ...", flush=True)
        print(f"build time          {build_database(path):8.1f} s")
    else:
        print(f"reusing {path}")
    began = time.perf_counter()
    store = Store(path)
    applied = {m.name for m in migrations.applied(store.db)}
    store.migrate()  # applies migrations newer than the file (e.g. new indexes), once
    new = [m.name for m in migrations.applied(store.db) if m.name not in applied]
    print(f"migrate             {time.perf_counter() - began:8.1f} s  {', '.join(new) or '-'}")
    size = sum(
        Path(f"{path}{s}").stat().st_size for s in ("", "-wal") if Path(f"{path}{s}").exists()
    )
    print(f"database size       {size / 1e6:8.0f} MB (file + WAL)")

    db = store.db
    now = pendulum.instance(END)
    window: Window = last_days(WINDOW_DAYS, now)
    windows = [window, window.previous()]
    spans = [(utc_text(w.start), utc_text(w.end)) for w in windows]
    busiest = busiest_services(db.conn, *spans[0], args.team_size)
    team = Team("bench", tuple(sorted(busiest)))
    # (label, the service, the team, the services read): all services last, since the
    # team's target is a ratio to it.
    scopes: list[tuple[str, str | None, Team | None, tuple[str, ...] | None]] = [
        (f"one service ({busiest[0]})", busiest[0], None, (busiest[0],)),
        (f"a team of the {len(team.services)} busiest services", None, team, team.services),
        ("all services", None, None, None),
    ]

    results: dict[str, dict[str, Any]] = {}
    for label, service, chosen, services in scopes:

        def report(service: str | None = service, chosen: Team | None = chosen) -> Report:
            return build(
                db, window, environments=ENVIRONMENTS, environment=None, service=service,
                tz=TZ, team=chosen,
            )  # fmt: skip

        def bare(services: tuple[str, ...] | None = services) -> list[tuple[int, int]]:
            return bare_aggregate(db.conn, spans, services)

        def rows(services: tuple[str, ...] | None = services) -> list[tuple[int, int, int]]:
            return bare_rows(db.conn, spans, services)

        samples = time_cases({"report": report, "bare": bare, "rows": rows}, args.runs, args.budget)
        results[label] = {
            **{name: Timing(name, ms) for name, ms in samples.items()},
            "answer": report(),
            "counted": rows(),
            "team": chosen is not None,
            "one": service is not None,
        }

    print(f"window              {spans[0][0]} .. {spans[0][1]} and the {WINDOW_DAYS} days before")
    print(f"team                {', '.join(team.services)}")
    all_median = results["all services"]["report"].median
    failed = False
    for label, result in results.items():
        answer: Report = result["answer"]
        rep: Timing = result["report"]
        target = TARGET_ONE_MS if result["one"] else TARGET_ALL_MS
        current, previous = result["counted"]
        print()
        print(f"{label}: {len(rep.samples_ms)} runs")
        print(
            f"  rows                deployments {current[0]} + {previous[0]}, changes with a "
            f"lead time {current[1]} + {previous[1]}, incidents resolved {current[2]} + "
            f"{previous[2]} (current + previous)"
        )
        lead = answer.current.lead_time
        assert (lead.changes if lead else 0) == current[1]
        print(f"  report.build        median {rep.median:9.2f} ms   p90 {rep.p90:9.2f} ms")
        ratios = {}
        for name, title in (("bare", "bare deploy count"), ("rows", "bare count, all rows")):
            bar: Timing = result[name]
            ratios[name] = rep.median / bar.median if bar.median > 0 else math.inf
            print(
                f"  {title:21s}median {bar.median:9.2f} ms   p90 {bar.p90:9.2f} ms"
                f"   ratio {ratios[name]:7.2f}"
            )
        if result["team"]:
            to_all = rep.median / all_median if all_median > 0 else math.inf
            met = to_all <= TARGET_TEAM_TO_ALL
            print(
                f"  target <= {TARGET_TEAM_TO_ALL:.0f}x the all-services report "
                f"({all_median:.2f} ms): {to_all:.2f}x, {'met' if met else 'MISSED'}"
            )
            failed = failed or not met
            continue
        met_time = rep.median < target
        met_ratio = ratios["bare"] <= TARGET_RATIO
        print(
            f"  target < {target:.0f} ms: {'met' if met_time else 'MISSED'};"
            f" ratio to the deploy count <= {TARGET_RATIO:.0f}: {'met' if met_ratio else 'MISSED'}"
            f" (to all rows: {'met' if ratios['rows'] <= TARGET_RATIO else 'MISSED'})"
        )
        failed = failed or not (met_time and met_ratio)
    store.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
