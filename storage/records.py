"""Plain records read from and written to the database. Times are UTC ISO-8601 text."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, fields
from typing import Any, Self, TypeVar

import sqlite_utils


class Record:
    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Self:
        names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        return cls(**{k: row[k] for k in row.keys() if k in names})  # noqa: SIM118 (Row iterates values)

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}  # type: ignore[arg-type]


R = TypeVar("R", bound=Record)


def fetch(db: sqlite_utils.Database, kind: type[R], table: str, row_id: int) -> R | None:
    """One record by id; `table` is one of ours, never user input."""
    row = db.conn.execute(f"SELECT * FROM {table} WHERE id = ?", (row_id,)).fetchone()
    return kind.from_row(row) if row else None


def insert(db: sqlite_utils.Database, kind: type[R], table: str, values: dict[str, Any]) -> R:
    """Insert a row of named columns and return it as stored (defaults and id filled in)."""
    columns = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    cursor = db.conn.execute(
        f"INSERT INTO {table} ({columns}) VALUES ({marks})", tuple(values.values())
    )
    stored = fetch(db, kind, table, int(cursor.lastrowid or 0))
    assert stored is not None
    return stored


@dataclass(frozen=True, slots=True)
class Deploy(Record):
    id: int
    service: str
    environment: str
    version: str | None
    sha: str | None
    repo: str | None
    status: str
    deployed_at: str
    is_hotfix: int
    rollback_of: int | None
    url: str | None
    source: str
    source_key: str
    channel_id: str | None
    created_at: str


@dataclass(frozen=True, slots=True)
class Change(Record):
    id: int
    repo: str
    sha: str
    authored_at: str | None
    pr_number: int | None
    merged_at: str | None
    deploy_id: int | None
    source: str
    source_key: str
    created_at: str


@dataclass(frozen=True, slots=True)
class Incident(Record):
    id: int
    service: str
    title: str
    severity: int | None
    started_at: str
    resolved_at: str | None
    deploy_id: int | None
    cause: str
    source: str
    source_key: str
    channel_id: str | None
    message_ts: str | None
    created_at: str
    channel_private: int | None = None  # m008: 1 private, 0 public, None not known
    url: str | None = None  # m010: its page in the tool it came from
