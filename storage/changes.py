"""Queries on changes (commits shipped by deploys)."""

from __future__ import annotations

from typing import Any

import sqlite_utils

from storage.records import Change


def get(db: sqlite_utils.Database, change_id: int) -> Change | None:
    row = db.conn.execute("SELECT * FROM changes WHERE id = ?", (change_id,)).fetchone()
    return Change.from_row(row) if row else None


def insert(db: sqlite_utils.Database, values: dict[str, Any]) -> Change:
    columns = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    cursor = db.conn.execute(
        f"INSERT INTO changes ({columns}) VALUES ({marks})", tuple(values.values())
    )
    change = get(db, int(cursor.lastrowid or 0))
    assert change is not None
    return change
