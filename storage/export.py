"""Every record of a table, streamed in id order, for `shipshape export`."""

from __future__ import annotations

import re
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


def row(db: sqlite_utils.Database, table: str, record_id: int) -> dict[str, Any] | None:
    """One record as `rows` shows it (the HTTP API answers with the record it stored)."""
    selected = ", ".join(columns(db, table))
    found = db.conn.execute(f"SELECT {selected} FROM {table} WHERE id = ?", (record_id,))
    record = found.fetchone()
    return None if record is None else dict(record)


# A spreadsheet evaluates a cell that starts with one of these as a formula (tab and
# carriage return too, in some): `=HYPERLINK(...)` in a title would be a live link.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Text that is a plain decimal number is read as that number and nothing else, so it
# stays as it is: prefixing "-1.5" would change a value without making anything safer.
_PLAIN_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")


def csv_cell(value: Any) -> Any:
    """A value as a CSV cell a spreadsheet shows and never runs: text that would start a
    formula gets OWASP's leading single quote. Numbers are numbers, never touched; JSON
    exports keep every value exact."""
    text = isinstance(value, str) and value.startswith(_FORMULA_STARTS)
    return "'" + value if text and not _PLAIN_NUMBER.match(value) else value


def csv_rows(db: sqlite_utils.Database, table: str) -> Iterator[dict[str, Any]]:
    for row in rows(db, table):
        yield {key: csv_cell(value) for key, value in row.items()}
