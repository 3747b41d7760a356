"""What the weekly summary reads beyond the metrics: open incidents, and per-service
failure counts for the speed-versus-stability check."""

from __future__ import annotations

from collections.abc import Sequence

import sqlite_utils

from storage.records import Incident
from storage.schema import FAILED


def open_incidents(
    db: sqlite_utils.Database, service: str | None, limit: int
) -> tuple[list[Incident], int]:
    """The first `limit` unresolved incidents (most severe, then longest open, first) and
    how many there are in all. An incident without a severity sorts last."""
    where = "resolved_at IS NULL" + (" AND service = ?" if service is not None else "")
    params: tuple = (service,) if service is not None else ()
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
) -> list[tuple[str, int, int, int, int]]:
    """(service, baseline deployments, baseline failed, recent deployments, recent failed)
    for baseline `[start, middle)` and recent `[middle, end)`, with deployments and failures
    counted as the metrics count them (storage.schema.FAILED)."""
    marks = ", ".join("?" for _ in environments)
    rows = db.conn.execute(
        f"""SELECT service, sum(NOT recent), sum(failed AND NOT recent), sum(recent),
                   sum(failed AND recent)
            FROM (SELECT d.service AS service, d.deployed_at >= ? AS recent, {FAILED} AS failed
                  FROM deploys d
                  WHERE d.status = 'success' AND d.environment IN ({marks})
                    AND d.deployed_at >= ? AND d.deployed_at < ?)
            GROUP BY service ORDER BY service""",
        (middle, *environments, start, end),
    ).fetchall()
    return [(str(r[0]), int(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in rows]
