"""Every record of a table, streamed in id order, for `shipshape export`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlite_utils

TABLES = ("deploys", "incidents", "changes")


def columns(db: sqlite_utils.Database, table: str) -> list[str]:
    return [c.name for c in db[table].columns]


def rows(db: sqlite_utils.Database, table: str) -> Iterator[dict[str, Any]]:
    if table not in TABLES:
        raise ValueError(f"unknown table {table!r}")
    for row in db.conn.execute(f"SELECT * FROM {table} ORDER BY id"):
        yield dict(row)
