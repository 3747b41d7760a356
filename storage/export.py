"""Every record of a table, streamed in id order, for `shipshape export`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlite_utils

from storage.schema import SHIPPED

TABLES = ("deploys", "incidents", "changes")
# Columns the metrics keep for speed, copied from each change's deploy: an export shows the
# records as SPEC.md "Data" defines them, and deploy_id already says which deploy it was.
_INTERNAL = {"changes": set(SHIPPED)}


def columns(db: sqlite_utils.Database, table: str) -> list[str]:
    if table not in TABLES:
        raise ValueError(f"unknown table {table!r}")
    return [c.name for c in db[table].columns if c.name not in _INTERNAL.get(table, ())]


def rows(db: sqlite_utils.Database, table: str) -> Iterator[dict[str, Any]]:
    selected = ", ".join(columns(db, table))
    for row in db.conn.execute(f"SELECT {selected} FROM {table} ORDER BY id"):
        yield dict(row)
