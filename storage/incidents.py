"""Queries on incidents."""

from __future__ import annotations

from typing import Any

import sqlite_utils

from storage import records
from storage.records import Incident


def find_by_source(db: sqlite_utils.Database, source: str, source_key: str) -> Incident | None:
    row = db.conn.execute(
        "SELECT * FROM incidents WHERE source = ? AND source_key = ?", (source, source_key)
    ).fetchone()
    return Incident.from_row(row) if row else None


def get(db: sqlite_utils.Database, incident_id: int) -> Incident | None:
    return records.fetch(db, Incident, "incidents", incident_id)


def insert(db: sqlite_utils.Database, values: dict[str, Any]) -> Incident:
    return records.insert(db, Incident, "incidents", values)


def resolve(db: sqlite_utils.Database, incident_id: int, resolved_at: str) -> None:
    db.conn.execute("UPDATE incidents SET resolved_at = ? WHERE id = ?", (resolved_at, incident_id))


def describe(
    db: sqlite_utils.Database,
    incident_id: int,
    service: str,
    title: str,
    severity: int | None,
    started_at: str,
) -> None:
    db.conn.execute(
        "UPDATE incidents SET service = ?, title = ?, severity = ?, started_at = ? WHERE id = ?",
        (service, title, severity, started_at, incident_id),
    )


def reopen(db: sqlite_utils.Database, incident_id: int) -> None:
    db.conn.execute("UPDATE incidents SET resolved_at = NULL WHERE id = ?", (incident_id,))


def link(db: sqlite_utils.Database, incident_id: int, deploy_id: int | None, cause: str) -> None:
    db.conn.execute(
        "UPDATE incidents SET deploy_id = ?, cause = ? WHERE id = ?",
        (deploy_id, cause, incident_id),
    )


def remember_message(
    db: sqlite_utils.Database, incident_id: int, channel_id: str, message_ts: str
) -> None:
    db.conn.execute(
        "UPDATE incidents SET channel_id = ?, message_ts = ? WHERE id = ?",
        (channel_id, message_ts, incident_id),
    )


def remember_privacy(db: sqlite_utils.Database, incident_id: int, private: bool | None) -> None:
    db.conn.execute(
        "UPDATE incidents SET channel_private = ? WHERE id = ?",
        (None if private is None else int(private), incident_id),
    )


def opened_in_private(incident: Incident) -> bool:
    """Opened in Slack in a channel not known to be public: a private channel, a DM, or one
    whose privacy Slack never confirmed (storage.schema m008). GitHub and imported
    incidents have no channel, so they are never private."""
    return incident.source == "slack" and incident.channel_private != 0


def listing(db: sqlite_utils.Database, only_open: bool, limit: int) -> list[Incident]:
    where = "WHERE resolved_at IS NULL" if only_open else ""
    rows = db.conn.execute(
        f"SELECT * FROM incidents {where} ORDER BY started_at DESC, id DESC LIMIT ?", (limit,)
    ).fetchall()
    return [Incident.from_row(r) for r in rows]
