"""Bookkeeping of the sources beside GitHub: deliveries handled once, and per-project or
per-service settings (which Shipshape service, incident label and channel)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from storage.records import Record


def claim_delivery(db: sqlite_utils.Database, source: str, delivery_id: str, at: str) -> bool:
    """Record a delivery id; False when it was handled before (a redelivery). Inside the
    transaction that does the delivery's work, so a failed delivery can be delivered again."""
    cursor = db.conn.execute(
        """INSERT INTO source_deliveries (source, delivery_id, received_at) VALUES (?, ?, ?)
           ON CONFLICT (source, delivery_id) DO NOTHING""",
        (source, delivery_id, at),
    )
    return cursor.rowcount == 1


@dataclass(frozen=True, slots=True)
class SourceSettings(Record):
    source: str
    key: str  # GitLab: GROUP/PROJECT; PagerDuty: the service's name or id
    service: str | None
    incident_label: str | None
    channel_id: str | None
    updated_at: str


def settings(db: sqlite_utils.Database, source: str, key: str) -> SourceSettings | None:
    row = db.conn.execute(
        "SELECT * FROM source_settings WHERE source = ? AND key = ?", (source, key)
    ).fetchone()
    return SourceSettings.from_row(row) if row else None


def all_settings(db: sqlite_utils.Database, source: str) -> list[SourceSettings]:
    rows = db.conn.execute(
        "SELECT * FROM source_settings WHERE source = ? ORDER BY key", (source,)
    ).fetchall()
    return [SourceSettings.from_row(r) for r in rows]


def save_settings(db: sqlite_utils.Database, settings: SourceSettings) -> None:
    db.conn.execute(
        """INSERT INTO source_settings
               (source, key, service, incident_label, channel_id, updated_at)
           VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (source, key) DO UPDATE SET service = excluded.service,
               incident_label = excluded.incident_label, channel_id = excluded.channel_id,
               updated_at = excluded.updated_at""",
        (
            settings.source,
            settings.key,
            settings.service,
            settings.incident_label,
            settings.channel_id,
            settings.updated_at,
        ),
    )
