"""Records written straight into a test database, as the importer or any SQLite client
would write them: for tests that build histories by hand."""

from __future__ import annotations

import itertools

import sqlite_utils

from storage import deploys, incidents

CREATED = "2026-12-05T12:00:00Z"
_keys = itertools.count(1)


def deploy(
    db: sqlite_utils.Database,
    at: str,
    *,
    service: str = "api",
    environment: str = "production",
    status: str = "success",
    hotfix: bool = False,
    rollback_of: int | None = None,
) -> int:
    return deploys.insert(
        db,
        {
            "service": service,
            "environment": environment,
            "version": None,
            "sha": f"{next(_keys):040x}",
            "repo": f"acme/{service}",
            "status": status,
            "deployed_at": at,
            "is_hotfix": int(hotfix),
            "rollback_of": rollback_of,
            "source": "import",
            "source_key": f"deploy-{next(_keys)}",
            "created_at": CREATED,
        },
    ).id


def change(
    db: sqlite_utils.Database,
    deploy_id: int | None,
    authored_at: str | None,
    repo: str = "acme/api",
) -> int:
    key = next(_keys)
    cursor = db.conn.execute(
        """INSERT INTO changes (repo, sha, authored_at, deploy_id, source, source_key, created_at)
           VALUES (?, ?, ?, ?, 'import', ?, ?)""",
        (repo, f"{key:040x}", authored_at, deploy_id, f"change-{key}", CREATED),
    )
    return int(cursor.lastrowid or 0)


def incident(
    db: sqlite_utils.Database,
    service: str,
    started: str,
    resolved: str | None,
    *,
    deploy_id: int | None = None,
    cause: str | None = None,
) -> int:
    return incidents.insert(
        db,
        {
            "service": service,
            "title": "something broke",
            "severity": 2,
            "started_at": started,
            "resolved_at": resolved,
            "deploy_id": deploy_id,
            "cause": cause or ("deploy" if deploy_id is not None else "unknown"),
            "source": "import",
            "source_key": f"incident-{next(_keys)}",
            "created_at": CREATED,
        },
    ).id
