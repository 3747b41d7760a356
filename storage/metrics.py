"""What the metrics need for one window, counted in SQL.

One service's rows are few, and so are a team's (a set of services counted as one), so
they are read raw. For all services a window holds hundreds
of thousands of changes, so whole UTC hours of deploys and whole UTC days of lead times
come from the rollup tables of migration m003 (storage/schema.py), and only the partial
hours and days at the window's edges from raw rows, through the same SQL the rollups are
built with. The median and p90 lead time need only a few order statistics: the rollups
count lead times per bucket, so only the bucket holding each needed position is read value
by value. Rows are fetched as plain tuples: at scale building Python objects is what costs.
"""

from __future__ import annotations

import sqlite3
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import accumulate

import sqlite_utils

from storage.facts import Deployments, Facts, Ordered, order_positions
from storage.schema import hour_rows

# How the tables write a moment in UTC (bot.core.moments writes them the same way).
UTC_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
EPOCH = datetime(1970, 1, 1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
HOUR_KEY = len("YYYY-MM-DDTHH")  # deploy_hours.hour
DAY_KEY = len("YYYY-MM-DD")  # lead_days.day


def _marks(values: Sequence[object]) -> str:
    return ", ".join("?" for _ in values)


def _services(services: Sequence[str] | None, alias: str) -> tuple[str, list]:
    """` AND alias.service IN (...)` for some services; nothing for all (None)."""
    if services is None:
        return "", []
    return f" AND {alias}.service IN ({_marks(services)})", list(services)


def _scope(
    environments: Sequence[str], services: Sequence[str] | None, alias: str = "d"
) -> tuple[str, list]:
    by_service, params = _services(services, alias)
    sql = f"{alias}.environment IN ({_marks(environments)}){by_service}"
    return sql, [*environments, *params]


def _tuples(conn: sqlite3.Connection, sql: str, params: Sequence) -> sqlite3.Cursor:
    # The store's connections make sqlite3.Row objects; plain tuples are cheaper, and a
    # cursor's own row_factory leaves the connection's untouched for everyone else.
    cursor = conn.cursor()
    cursor.row_factory = None
    return cursor.execute(sql, params)


@dataclass(frozen=True)
class _Split:
    """`[start, end)` as whole units `[first, last)` (rollup keys; empty when first == last)
    and the partial units at the edges, as `[from, to)` UTC text."""

    first: str
    last: str
    edges: list[tuple[str, str]]


def _union(sources: Sequence[tuple[str, Sequence]]) -> tuple[str, list]:
    """SELECTs with their parameters as one UNION ALL and one parameter list."""
    sql = " UNION ALL ".join(source for source, _ in sources)
    return sql, [p for _, params in sources for p in params]


def _split(start: str, end: str, unit: timedelta, key_length: int) -> _Split:
    begin, finish = datetime.strptime(start, UTC_FORMAT), datetime.strptime(end, UTC_FORMAT)
    whole_to = finish - (finish - EPOCH) % unit
    whole_from = begin - (begin - EPOCH) % unit
    if whole_from < begin:
        whole_from += unit
    if whole_from >= whole_to:
        return _Split("", "", [(start, end)])
    first, last = whole_from.strftime(UTC_FORMAT), whole_to.strftime(UTC_FORMAT)
    edges = [(a, b) for a, b in ((start, first), (last, end)) if a < b]
    return _Split(first[:key_length], last[:key_length], edges)


def _deploy_hours(
    start: str, end: str, environments: Sequence[str], services: Sequence[str] | None
) -> tuple[str, list]:
    """SQL for the deploy_hours rows of the window (hours of all environments, maybe
    several rows an hour) and its parameters: the rollup's whole hours, raw edges."""
    scope, scope_params = _scope(environments, services)
    columns = "deployments, failed, rework, with_changes, first_at, last_at"
    sources: list[tuple[str, list]] = []
    raw = [(start, end)]
    if services is None:
        split = _split(start, end, HOUR, HOUR_KEY)
        sources.append(
            (
                f"""SELECT {columns} FROM deploy_hours
                    WHERE environment IN ({_marks(environments)}) AND hour >= ? AND hour < ?""",
                [*environments, split.first, split.last],
            )
        )
        raw = split.edges
    in_range = f"{scope} AND d.deployed_at >= ? AND d.deployed_at < ?"
    # Without ANALYZE statistics SQLite read a team's hours through the environment index,
    # every service's deploys of the window, at twice the time; it finds one service's
    # index by itself, but is told so too.
    index = "deploys_metrics_service" if services is not None else None
    sources += [
        (f"SELECT {columns} FROM ({hour_rows(in_range, index)})", [*scope_params, a, b])
        for a, b in raw
    ]
    return _union(sources)


def _deployments(
    conn: sqlite3.Connection,
    start: str,
    end: str,
    environments: Sequence[str],
    services: Sequence[str] | None,
) -> Deployments:
    hours, params = _deploy_hours(start, end, environments, services)
    # One read of the hours, summed here: a second query for the sums would compute the
    # raw hours (all of them, for one service) twice.
    rows = _tuples(conn, hours, params).fetchall()
    if not rows:
        return Deployments()
    count, failed, rework, with_changes, firsts, lasts = zip(*rows, strict=True)
    spans = list(zip(firsts, lasts, strict=True))
    return Deployments(sum(count), sum(failed), sum(rework), sum(with_changes), spans)


def deployments(
    db: sqlite_utils.Database,
    start: str,
    end: str,
    environments: Sequence[str],
    services: Sequence[str] | None,
) -> Deployments:
    """Only the deployments of `[start, end)`, counted as `facts` counts them: the weekly
    trend needs no lead times or incidents, and reading those for 12 weeks costs more than
    the rest of a weekly summary."""
    return _deployments(db.conn, start, end, environments, services)


def _service_leads(
    conn: sqlite3.Connection,
    start: str,
    end: str,
    environments: Sequence[str],
    services: Sequence[str],
) -> Ordered:
    return Ordered.of(
        row[0]
        for row in _tuples(
            conn,
            f"""SELECT lead_seconds FROM changes
                WHERE service IN ({_marks(services)}) AND environment IN ({_marks(environments)})
                  AND shipped_at >= ? AND shipped_at < ? AND lead_seconds >= 0""",
            (*services, *environments, start, end),
        )
    )


def _bucket_counts(
    conn: sqlite3.Connection, start: str, end: str, environments: Sequence[str]
) -> list[tuple[int, int]]:
    """(bucket, changes) of the window's non-negative lead times, by ascending bucket."""
    envs = f"environment IN ({_marks(environments)})"
    split = _split(start, end, DAY, DAY_KEY)
    sources = [
        (
            f"SELECT bucket, changes FROM lead_days WHERE {envs} AND day >= ? AND day < ?",
            [*environments, split.first, split.last],
        )
    ]
    sources += [
        (
            f"""SELECT lead_bucket, 1 FROM changes
                WHERE {envs} AND shipped_at >= ? AND shipped_at < ? AND lead_bucket IS NOT NULL""",
            [*environments, a, b],
        )
        for a, b in split.edges
    ]
    union, params = _union(sources)
    return list(
        _tuples(
            conn,
            f"SELECT bucket, sum(changes) FROM ({union}) GROUP BY bucket ORDER BY bucket",
            params,
        )
    )


def _all_leads(
    conn: sqlite3.Connection, start: str, end: str, environments: Sequence[str]
) -> Ordered:
    """The count and the order statistics the metrics need, reading exact values only from
    the buckets that hold those positions."""
    counts = _bucket_counts(conn, start, end, environments)
    ends = list(accumulate(n for _, n in counts))  # position after each bucket's last
    total = ends[-1] if ends else 0
    wanted: dict[int, list[int]] = {}  # bucket index -> positions in it
    for position in order_positions(total):
        wanted.setdefault(bisect_right(ends, position), []).append(position)
    at: dict[int, int] = {}
    for index, positions in wanted.items():
        values = sorted(
            row[0]
            for row in _tuples(
                conn,
                f"""SELECT lead_seconds FROM changes
                    WHERE environment IN ({_marks(environments)}) AND lead_bucket = ?
                      AND shipped_at >= ? AND shipped_at < ?""",
                (*environments, counts[index][0], start, end),
            )
        )
        before = ends[index] - counts[index][1]
        at.update((p, values[p - before]) for p in positions)
    return Ordered(total, at)


def facts(
    db: sqlite_utils.Database,
    start: str,
    end: str,
    window_days: float,
    environments: Sequence[str],
    services: Sequence[str] | None,
) -> Facts:
    """Deployments, change lead times and incident durations of `[start, end)` (UTC text).

    Deployments are successful deploys to `environments` (of `services`, when given: None
    is every service); recovery counts incidents linked to such a deploy; time to restore
    counts every incident resolved in the window (of `services`, when given)."""
    scope, scope_params = _scope(environments, services)
    conn = db.conn
    failed_attempts = conn.execute(
        f"""SELECT count(*) FROM deploys d WHERE d.status = 'failed' AND {scope}
              AND d.deployed_at >= ? AND d.deployed_at < ?""",
        (*scope_params, start, end),
    ).fetchone()[0]
    leads = (
        _all_leads(conn, start, end, environments)
        if services is None
        else _service_leads(conn, start, end, environments, services)
    )
    # CROSS JOIN keeps incidents as the outer loop: the few incidents resolved in the
    # window, then each one's deploy by primary key. Left to itself (no ANALYZE statistics)
    # SQLite walked every production deploy of all time instead.
    recoveries = [
        row[0]
        for row in _tuples(
            conn,
            f"""SELECT unixepoch(i.resolved_at) - unixepoch(i.started_at)
                FROM incidents i CROSS JOIN deploys d ON d.id = i.deploy_id
                WHERE i.resolved_at >= ? AND i.resolved_at < ?
                  AND d.status = 'success' AND {scope}""",
            (start, end, *scope_params),
        )
    ]
    by_service, service_params = _services(services, "i")
    restores = [
        row[0]
        for row in _tuples(
            conn,
            f"""SELECT unixepoch(i.resolved_at) - unixepoch(i.started_at) FROM incidents i
                WHERE i.resolved_at >= ? AND i.resolved_at < ?{by_service}""",
            (start, end, *service_params),
        )
    ]
    deployments = _deployments(conn, start, end, environments, services)
    return Facts(window_days, deployments, leads, recoveries, restores, failed_attempts)
