"""Queries on deploys."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlite_utils

from storage import records
from storage.records import Deploy


def find_by_source(db: sqlite_utils.Database, source: str, source_key: str) -> Deploy | None:
    row = db.conn.execute(
        "SELECT * FROM deploys WHERE source = ? AND source_key = ?", (source, source_key)
    ).fetchone()
    return Deploy.from_row(row) if row else None


def get(db: sqlite_utils.Database, deploy_id: int) -> Deploy | None:
    return records.fetch(db, Deploy, "deploys", deploy_id)


def insert(db: sqlite_utils.Database, values: dict[str, Any]) -> Deploy:
    return records.insert(db, Deploy, "deploys", values)


def latest_success(
    db: sqlite_utils.Database,
    service: str,
    environments: Iterable[str],
    at_or_before: str,
    exclude_id: int | None = None,
) -> Deploy | None:
    """The latest successful deploy of a service to one of the environments, finished at
    or before a moment (ties broken by the later id, the later report)."""
    envs = tuple(environments)
    marks = ", ".join("?" for _ in envs)
    row = db.conn.execute(
        f"""SELECT * FROM deploys
            WHERE service = ? AND environment IN ({marks}) AND status = 'success'
              AND deployed_at <= ? AND id IS NOT ?
            ORDER BY deployed_at DESC, id DESC LIMIT 1""",
        (service, *envs, at_or_before, exclude_id),
    ).fetchone()
    return Deploy.from_row(row) if row else None


def latest(db: sqlite_utils.Database, service: str | None, limit: int) -> list[Deploy]:
    where, params = ("WHERE service = ?", (service,)) if service else ("", ())
    rows = db.conn.execute(
        f"SELECT * FROM deploys {where} ORDER BY deployed_at DESC, id DESC LIMIT ?",
        (*params, limit),
    ).fetchall()
    return [Deploy.from_row(r) for r in rows]


def rolled_back_by(db: sqlite_utils.Database, deploy_id: int) -> list[Deploy]:
    rows = db.conn.execute(
        "SELECT * FROM deploys WHERE rollback_of = ? ORDER BY id", (deploy_id,)
    ).fetchall()
    return [Deploy.from_row(r) for r in rows]


def delete(db: sqlite_utils.Database, deploy_id: int) -> list[int]:
    """Delete a deploy, first unlinking what points at it; returns the unlinked incident ids."""
    incident_ids = [
        r[0]
        for r in db.conn.execute(
            "SELECT id FROM incidents WHERE deploy_id = ? ORDER BY id", (deploy_id,)
        )
    ]
    db.conn.execute(
        "UPDATE incidents SET deploy_id = NULL, cause = 'unknown' WHERE deploy_id = ?",
        (deploy_id,),
    )
    db.conn.execute("UPDATE changes SET deploy_id = NULL WHERE deploy_id = ?", (deploy_id,))
    db.conn.execute("UPDATE deploys SET rollback_of = NULL WHERE rollback_of = ?", (deploy_id,))
    db.conn.execute("DELETE FROM deploys WHERE id = ?", (deploy_id,))
    return incident_ids


def update(db: sqlite_utils.Database, deploy_id: int, values: dict[str, Any]) -> Deploy:
    """Replace some of a deploy's columns (named by us, never by input); returns it."""
    assignments = ", ".join(f"{column} = ?" for column in values)
    db.conn.execute(f"UPDATE deploys SET {assignments} WHERE id = ?", (*values.values(), deploy_id))
    updated = get(db, deploy_id)
    assert updated is not None
    return updated


def shipped_with_commit_before(
    db: sqlite_utils.Database, repo: str, production: Sequence[str], before: str
) -> bool:
    """Whether a successful production deploy of the repository before `before` is stored
    with its commit."""
    row = db.conn.execute(
        f"""SELECT 1 FROM deploys d
            WHERE d.repo = ? AND d.status = 'success' AND d.environment IN ({_marks(production)})
              AND d.deployed_at < ?
              AND EXISTS (SELECT 1 FROM changes c WHERE c.repo = d.repo AND c.sha = d.sha)
            LIMIT 1""",
        (repo, *production, before),
    ).fetchone()
    return row is not None


def shipping_since(
    db: sqlite_utils.Database, repo: str, production: Sequence[str], since: str
) -> list[Deploy]:
    """The repository's successful production deploys with a sha from `since` on, oldest
    first."""
    rows = db.conn.execute(
        f"""SELECT * FROM deploys
            WHERE repo = ? AND status = 'success' AND environment IN ({_marks(production)})
              AND sha IS NOT NULL AND deployed_at >= ?
            ORDER BY deployed_at, id""",
        (repo, *production, since),
    )
    return [Deploy.from_row(row) for row in rows]


def _marks(values: Sequence[str]) -> str:
    return ", ".join("?" for _ in values)
