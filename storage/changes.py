"""Queries on changes (commits shipped by deploys)."""

from __future__ import annotations

from typing import Any

import sqlite_utils

from storage import records
from storage.records import Change


def get(db: sqlite_utils.Database, change_id: int) -> Change | None:
    return records.fetch(db, Change, "changes", change_id)


def insert(db: sqlite_utils.Database, values: dict[str, Any]) -> Change:
    return records.insert(db, Change, "changes", values)


def find(db: sqlite_utils.Database, repo: str, sha: str) -> Change | None:
    """A change is one row per commit of a repository, whichever source told us first."""
    row = db.conn.execute(
        "SELECT * FROM changes WHERE repo = ? AND sha = ?", (repo, sha)
    ).fetchone()
    return Change.from_row(row) if row else None
