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
