"""Weekly summary subscriptions (one per channel) and the claim rows that make each channel's
summary of an ISO week go out once, whichever process or attempt gets there first."""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from storage.records import Record


@dataclass(frozen=True, slots=True)
class Subscription(Record):
    channel_id: str
    day: str  # mon..sun
    time: str  # HH:MM, 24-hour, in `timezone`
    timezone: str
    service: str | None
    enabled: int
    disabled_reason: str | None
    created_by: str
    created_at: str
    updated_at: str
    team: str | None = None  # a team's summary (migration m011); service is then None


@dataclass(frozen=True, slots=True)
class Claim(Record):
    channel_id: str
    week: str  # the week summarised, "2026-W47"
    claimed_at: str
    lease_until: str
    holder: str
    message_ts: str | None
    posted_at: str | None


def get(db: sqlite_utils.Database, channel_id: str) -> Subscription | None:
    row = db.conn.execute(
        "SELECT * FROM subscriptions WHERE channel_id = ?", (channel_id,)
    ).fetchone()
    return Subscription.from_row(row) if row else None


def every(db: sqlite_utils.Database) -> list[Subscription]:
    rows = db.conn.execute("SELECT * FROM subscriptions ORDER BY channel_id").fetchall()
    return [Subscription.from_row(r) for r in rows]


def save(db: sqlite_utils.Database, sub: Subscription) -> None:
    """Insert or replace the channel's subscription; a replaced one keeps its created_at."""
    db.conn.execute(
        """INSERT INTO subscriptions (channel_id, day, time, timezone, service, enabled,
               disabled_reason, created_by, created_at, updated_at, team)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (channel_id) DO UPDATE SET day = excluded.day, time = excluded.time,
               timezone = excluded.timezone, service = excluded.service, team = excluded.team,
               enabled = excluded.enabled, disabled_reason = excluded.disabled_reason,
               created_by = excluded.created_by, updated_at = excluded.updated_at""",
        (
            sub.channel_id,
            sub.day,
            sub.time,
            sub.timezone,
            sub.service,
            sub.enabled,
            sub.disabled_reason,
            sub.created_by,
            sub.created_at,
            sub.updated_at,
            sub.team,
        ),
    )


def delete(db: sqlite_utils.Database, channel_id: str) -> bool:
    cursor = db.conn.execute("DELETE FROM subscriptions WHERE channel_id = ?", (channel_id,))
    return cursor.rowcount == 1


def disable(db: sqlite_utils.Database, channel_id: str, reason: str, at: str) -> None:
    db.conn.execute(
        """UPDATE subscriptions SET enabled = 0, disabled_reason = ?, updated_at = ?
           WHERE channel_id = ?""",
        (reason, at, channel_id),
    )


# ---- claims ------------------------------------------------------------------------------


def claim(
    db: sqlite_utils.Database, channel_id: str, week: str, holder: str, now: str, lease_until: str
) -> Claim | None:
    """Take the (channel, week) claim for `holder`: None when taken, else the claim that
    stands in the way (posted, or held by someone whose lease is still running). A claim
    with no message_ts whose lease ran out belonged to a process that died mid-post, and is
    taken over. Run inside one write transaction, so two takers cannot both win."""
    cursor = db.conn.execute(
        """INSERT INTO summary_claims (channel_id, week, claimed_at, lease_until, holder)
           VALUES (?, ?, ?, ?, ?) ON CONFLICT (channel_id, week) DO NOTHING""",
        (channel_id, week, now, lease_until, holder),
    )
    if cursor.rowcount == 1:
        return None
    cursor = db.conn.execute(
        """UPDATE summary_claims SET claimed_at = ?, lease_until = ?, holder = ?
           WHERE channel_id = ? AND week = ? AND message_ts IS NULL AND lease_until < ?""",
        (now, lease_until, holder, channel_id, week, now),
    )
    if cursor.rowcount == 1:
        return None
    found = get_claim(db, channel_id, week)
    assert found is not None  # it conflicted, and rows are deleted only inside a write
    return found


def get_claim(db: sqlite_utils.Database, channel_id: str, week: str) -> Claim | None:
    row = db.conn.execute(
        "SELECT * FROM summary_claims WHERE channel_id = ? AND week = ?", (channel_id, week)
    ).fetchone()
    return Claim.from_row(row) if row else None


def mark_posted(
    db: sqlite_utils.Database, channel_id: str, week: str, holder: str, ts: str, at: str
) -> bool:
    """Keep the claim for good; False when `holder` no longer holds it (its lease ran out
    and another process took it over)."""
    cursor = db.conn.execute(
        """UPDATE summary_claims SET message_ts = ?, posted_at = ?
           WHERE channel_id = ? AND week = ? AND holder = ?""",
        (ts, at, channel_id, week, holder),
    )
    return cursor.rowcount == 1


def release(db: sqlite_utils.Database, channel_id: str, week: str, holder: str) -> None:
    """Give the claim up after a failed post, so the week can be tried again; only while we
    still hold it, never someone else's."""
    db.conn.execute(
        """DELETE FROM summary_claims
           WHERE channel_id = ? AND week = ? AND holder = ? AND message_ts IS NULL""",
        (channel_id, week, holder),
    )
