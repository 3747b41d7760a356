"""What the weekly summary reads beyond the metrics: open incidents, and per-service
failure counts for the speed-versus-stability check."""

from __future__ import annotations

from collections.abc import Sequence

import sqlite_utils

from storage.records import Incident
from storage.schema import FAILED


def _marks(values: Sequence[object]) -> str:
    return ", ".join("?" for _ in values)


def open_incidents(
    db: sqlite_utils.Database, services: Sequence[str] | None, limit: int
) -> tuple[list[Incident], int]:
    """The first `limit` unresolved incidents of `services` (None: every service), most
    severe, then longest open, first, and how many there are in all. An incident without a
    severity sorts last."""
    where = "resolved_at IS NULL"
    params: tuple = ()
    if services is not None:
        where += f" AND service IN ({_marks(services)})"
        params = tuple(services)
    total = db.conn.execute(f"SELECT count(*) FROM incidents WHERE {where}", params).fetchone()[0]
    rows = db.conn.execute(
        f"""SELECT * FROM incidents WHERE {where}
            ORDER BY severity IS NULL, severity, started_at, id LIMIT ?""",
        (*params, limit),
    ).fetchall()
    return [Incident.from_row(row) for row in rows], int(total)


def failures_by_service(
    db: sqlite_utils.Database,
    start: str,
    middle: str,
    end: str,
    environments: Sequence[str],
    services: Sequence[str] | None = None,
) -> list[tuple[str, int, int, int, int]]:
    """(service, baseline deployments, baseline failed, recent deployments, recent failed)
    for baseline `[start, middle)` and recent `[middle, end)`, with deployments and failures
    counted as the metrics count them (storage.schema.FAILED); only `services`, when given
    (a team's)."""
    marks = _marks(environments)
    only = f" AND d.service IN ({_marks(services)})" if services is not None else ""
    chosen = tuple(services or ())
    # Deployments by service from the time index alone, and failures from the few deploys
    # an incident or a rollback names: testing every deployment of the 12 weeks for
    # both took 0.3 s on a million deploys.
    rows = db.conn.execute(
        f"""WITH shipped AS (
                SELECT d.id, d.service, d.deployed_at >= ? AS recent FROM deploys d
                WHERE d.status = 'success' AND d.environment IN ({marks})
                  AND d.deployed_at >= ? AND d.deployed_at < ?{only}),
            named AS (
                SELECT deploy_id AS id FROM incidents WHERE deploy_id IS NOT NULL
                UNION
                -- Without the hint SQLite scans a covering index of every deploy.
                SELECT rollback_of FROM deploys INDEXED BY deploys_rollback_of
                WHERE rollback_of IS NOT NULL AND status = 'success' AND deployed_at >= ?),
            failed AS (
                SELECT d.service, d.deployed_at >= ? AS recent
                FROM named JOIN deploys d ON d.id = named.id
                WHERE d.status = 'success' AND d.environment IN ({marks})
                  AND d.deployed_at >= ? AND d.deployed_at < ?{only} AND {FAILED})
            SELECT service, sum(base), sum(f_base), sum(recent), sum(f_recent)
            FROM (SELECT service, NOT recent AS base, recent, 0 AS f_base, 0 AS f_recent
                  FROM shipped
                  UNION ALL
                  SELECT service, 0, 0, NOT recent, recent FROM failed)
            GROUP BY service ORDER BY service""",
        (
            *(middle, *environments, start, end, *chosen),
            *(start, middle, *environments, start, end, *chosen),
        ),
    ).fetchall()
    return [(str(r[0]), int(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in rows]
