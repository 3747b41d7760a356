"""The rows the metrics need for one window, with counting and date arithmetic in SQL."""

from __future__ import annotations

from collections.abc import Sequence

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
        Deployment(row[0], row[1], row[2], bool(row[3]), bool(row[4]), bool(row[5]))
        for row in conn.execute(
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
    leads = [
        ChangeLead(row[0], row[1])
        for row in conn.execute(
            f"""SELECT c.deploy_id, unixepoch(d.deployed_at) - unixepoch(c.authored_at)
                FROM deploys d JOIN changes c ON c.deploy_id = d.id
                WHERE d.status = 'success' AND {scope} AND {in_window}
                  AND c.authored_at IS NOT NULL""",
            (*scope_params, start, end),
        )
    ]
    recoveries = [
        row[0]
        for row in conn.execute(
            f"""SELECT unixepoch(i.resolved_at) - unixepoch(i.started_at)
                FROM incidents i JOIN deploys d ON d.id = i.deploy_id
                WHERE i.resolved_at >= ? AND i.resolved_at < ?
                  AND d.status = 'success' AND {scope}""",
            (start, end, *scope_params),
        )
    ]
    by_service = " AND i.service = ?" if service is not None else ""
    restores = [
        row[0]
        for row in conn.execute(
            f"""SELECT unixepoch(i.resolved_at) - unixepoch(i.started_at) FROM incidents i
                WHERE i.resolved_at >= ? AND i.resolved_at < ?{by_service}""",
            (start, end, *([service] if service is not None else [])),
        )
    ]
    return Facts(window_days, deployments, leads, recoveries, restores, failed_attempts)
