"""The rows the metrics need for one window, with counting and date arithmetic in SQL.

Every query here is served by a covering index from migration m002 (storage/schema.py): the
window's rows are one ordered index range, never a table scan. At scale most of the time
goes into turning rows into Python objects, so rows are fetched as plain tuples.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from itertools import starmap

import sqlite_utils

from bot.metrics import ChangeLead, Deployment, Facts


def _scope(environments: Sequence[str], service: str | None, alias: str = "d") -> tuple[str, list]:
    marks = ", ".join("?" for _ in environments)
    sql = f"{alias}.environment IN ({marks})"
    params: list = list(environments)
    if service is not None:
        sql += f" AND {alias}.service = ?"
        params.append(service)
    return sql, params


def _tuples(conn: sqlite3.Connection, sql: str, params: Sequence) -> sqlite3.Cursor:
    # The store's connections make sqlite3.Row objects; for hundreds of thousands of rows
    # plain tuples are markedly cheaper, and a cursor's own row_factory leaves the
    # connection's untouched for everyone else.
    cursor = conn.cursor()
    cursor.row_factory = None
    return cursor.execute(sql, params)


def facts(
    db: sqlite_utils.Database,
    start: str,
    end: str,
    window_days: float,
    environments: Sequence[str],
    service: str | None,
) -> Facts:
    """Deployments, change lead times and incident durations of `[start, end)` (UTC text).

    Deployments are successful deploys to `environments` (of `service`, when given);
    recovery counts incidents linked to such a deploy; time to restore counts every
    incident resolved in the window (of `service`, when given)."""
    scope, scope_params = _scope(environments, service)
    in_window = "d.deployed_at >= ? AND d.deployed_at < ?"
    conn = db.conn
    deployments = [
        Deployment(deploy_id, name, at, bool(hotfix), bool(rollback), bool(failed))
        for deploy_id, name, at, hotfix, rollback, failed in _tuples(
            conn,
            f"""SELECT d.id, d.service, unixepoch(d.deployed_at), d.is_hotfix,
                       d.rollback_of IS NOT NULL,
                       EXISTS (SELECT 1 FROM incidents i WHERE i.deploy_id = d.id)
                       OR EXISTS (SELECT 1 FROM deploys r WHERE r.rollback_of = d.id
                                  AND r.status = 'success' AND r.deployed_at >= d.deployed_at)
                FROM deploys d
                WHERE d.status = 'success' AND {scope} AND {in_window}""",
            (*scope_params, start, end),
        )
    ]
    failed_attempts = conn.execute(
        f"SELECT count(*) FROM deploys d WHERE d.status = 'failed' AND {scope} AND {in_window}",
        (*scope_params, start, end),
    ).fetchone()[0]
    # The bulk of the work at scale (about 6 changes per deployment): starmap builds the
    # records straight from the row tuples, with no per-row Python frame of our own.
    leads = list(
        starmap(
            ChangeLead,
            _tuples(
                conn,
                f"""SELECT c.deploy_id, unixepoch(d.deployed_at) - unixepoch(c.authored_at)
                    FROM deploys d JOIN changes c ON c.deploy_id = d.id
                    WHERE d.status = 'success' AND {scope} AND {in_window}
                      AND c.authored_at IS NOT NULL""",
                (*scope_params, start, end),
            ),
        )
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
    by_service = " AND i.service = ?" if service is not None else ""
    restores = [
        row[0]
        for row in _tuples(
            conn,
            f"""SELECT unixepoch(i.resolved_at) - unixepoch(i.started_at) FROM incidents i
                WHERE i.resolved_at >= ? AND i.resolved_at < ?{by_service}""",
            (start, end, *([service] if service is not None else [])),
        )
    ]
    return Facts(window_days, deployments, leads, recoveries, restores, failed_attempts)
