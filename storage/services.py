"""Queries across services (the App Home's busiest services)."""

from __future__ import annotations

from collections.abc import Sequence

import sqlite_utils


def top_services(
    db: sqlite_utils.Database,
    start: str,
    end: str,
    environments: Sequence[str],
    limit: int,
) -> list[tuple[str, int]]:
    """The services with most deployments (successful deploys to `environments`) in
    `[start, end)` (UTC text), most first; ties by name so the order is stable."""
    marks = ", ".join("?" for _ in environments)
    # The (environment, deployed_at) index narrows the rows; grouping them is cheap.
    rows = db.conn.execute(
        f"""SELECT service, count(*) AS n FROM deploys
            WHERE status = 'success' AND environment IN ({marks})
              AND deployed_at >= ? AND deployed_at < ?
            GROUP BY service ORDER BY n DESC, service LIMIT ?""",
        (*environments, start, end, limit),
    )
    return [(row[0], int(row[1])) for row in rows]
