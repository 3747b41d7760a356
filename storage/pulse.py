"""Pulse surveys, rounds and invites: who is asked, when, and where their DM went.

Nothing here touches an answer (storage/pulse_answers.py). Invites name people only while
their round is open: close_round deletes them with the round's key and responders.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import sqlite_utils

from storage import pulse_answers


@dataclass(frozen=True)
class Survey:
    id: int
    channel_id: str
    audience_kind: str  # "channel" or "usergroup"
    audience_id: str
    cadence: str  # "weekly" or "biweekly"
    day: str  # mon..sun
    time: str  # HH:MM in `timezone`
    timezone: str
    created_at: str = ""  # UTC; a round scheduled before it was never missed


@dataclass(frozen=True)
class Round:
    id: int
    survey_id: int
    opened_at: str
    closes_at: str
    hash_key: bytes


@dataclass(frozen=True)
class Invite:
    user_id: str
    dm_channel: str | None
    message_ts: str | None


_SURVEY_COLUMNS = (
    "id, channel_id, audience_kind, audience_id, cadence, day, time, timezone, created_at"
)


def _survey(row: sqlite3.Row | None) -> Survey | None:
    return None if row is None else Survey(**dict(row))


def _round(row: sqlite3.Row | None) -> Round | None:
    return None if row is None else Round(**dict(row))


# ---- surveys -------------------------------------------------------------------------------


def start_survey(db: sqlite_utils.Database, survey: Survey, started_by: str, at: str) -> Survey:
    """The channel's active survey with these settings; an existing one keeps its id (and
    so its rounds) and takes the new settings. `survey.id` is ignored."""
    settings = (
        survey.audience_kind,
        survey.audience_id,
        survey.cadence,
        survey.day,
        survey.time,
        survey.timezone,
        started_by,
    )
    existing = active_survey(db, survey.channel_id)
    if existing is not None:
        db.conn.execute(
            """UPDATE pulse_surveys SET audience_kind = ?, audience_id = ?, cadence = ?,
                   day = ?, time = ?, timezone = ?, started_by = ?
               WHERE id = ?""",
            (*settings, existing.id),
        )
        survey_id = existing.id
    else:
        cursor = db.conn.execute(
            """INSERT INTO pulse_surveys (audience_kind, audience_id, cadence, day, time,
                   timezone, started_by, channel_id, created_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (*settings, survey.channel_id, at),
        )
        survey_id = int(cursor.lastrowid or 0)
    found = get_survey(db, survey_id)
    assert found is not None
    return found


def get_survey(db: sqlite_utils.Database, survey_id: int) -> Survey | None:
    return _survey(
        db.conn.execute(
            f"SELECT {_SURVEY_COLUMNS} FROM pulse_surveys WHERE id = ? AND active = 1",
            (survey_id,),
        ).fetchone()
    )


def active_survey(db: sqlite_utils.Database, channel_id: str) -> Survey | None:
    return _survey(
        db.conn.execute(
            f"SELECT {_SURVEY_COLUMNS} FROM pulse_surveys WHERE channel_id = ? AND active = 1",
            (channel_id,),
        ).fetchone()
    )


def active_surveys(db: sqlite_utils.Database) -> list[Survey]:
    rows = db.conn.execute(
        f"SELECT {_SURVEY_COLUMNS} FROM pulse_surveys WHERE active = 1 ORDER BY id"
    ).fetchall()
    return [Survey(**dict(r)) for r in rows]


def stop_survey(db: sqlite_utils.Database, survey_id: int, at: str) -> None:
    db.conn.execute(
        "UPDATE pulse_surveys SET active = 0, stopped_at = ? WHERE id = ?", (at, survey_id)
    )


# ---- rounds --------------------------------------------------------------------------------

_ROUND_COLUMNS = "id, survey_id, opened_at, closes_at, hash_key"


def open_round(
    db: sqlite_utils.Database,
    survey_id: int,
    opened_at: str,
    closes_at: str,
    key: bytes,
    source_key: str | None = None,
) -> int:
    """`source_key` names the `/pulse now` that opens it (None for a scheduled round)."""
    cursor = db.conn.execute(
        """INSERT INTO pulse_rounds (survey_id, opened_at, closes_at, hash_key, source_key)
           VALUES (?, ?, ?, ?, ?)""",
        (survey_id, opened_at, closes_at, key, source_key),
    )
    return int(cursor.lastrowid or 0)


def round_opened_by(db: sqlite_utils.Database, source_key: str) -> tuple[int, str] | None:
    """The round (id, closes_at) that this `/pulse now` opened, open or closed by now."""
    row = db.conn.execute(
        "SELECT id, closes_at FROM pulse_rounds WHERE source_key = ?", (source_key,)
    ).fetchone()
    return None if row is None else (int(row["id"]), str(row["closes_at"]))


def open_round_for(db: sqlite_utils.Database, round_id: int) -> Round | None:
    """The round if it is still open (closed_at IS NULL), for answers to check."""
    return _round(
        db.conn.execute(
            f"SELECT {_ROUND_COLUMNS} FROM pulse_rounds WHERE id = ? AND closed_at IS NULL",
            (round_id,),
        ).fetchone()
    )


def open_round_of(db: sqlite_utils.Database, survey_id: int) -> Round | None:
    return _round(
        db.conn.execute(
            f"SELECT {_ROUND_COLUMNS} FROM pulse_rounds WHERE survey_id = ? AND closed_at IS NULL",
            (survey_id,),
        ).fetchone()
    )


def open_rounds(db: sqlite_utils.Database) -> list[Round]:
    rows = db.conn.execute(
        f"SELECT {_ROUND_COLUMNS} FROM pulse_rounds WHERE closed_at IS NULL ORDER BY id"
    ).fetchall()
    return [Round(**dict(r)) for r in rows]


def last_opened_at(db: sqlite_utils.Database, survey_id: int) -> str | None:
    row = db.conn.execute(
        "SELECT max(opened_at) FROM pulse_rounds WHERE survey_id = ?", (survey_id,)
    ).fetchone()
    return row[0] if row else None


def rounds_to_close(db: sqlite_utils.Database, now: str) -> list[int]:
    rows = db.conn.execute(
        "SELECT id FROM pulse_rounds WHERE closed_at IS NULL AND closes_at <= ? ORDER BY id",
        (now,),
    ).fetchall()
    return [int(r[0]) for r in rows]


def close_round(db: sqlite_utils.Database, round_id: int, at: str) -> None:
    """Forget who was asked and who answered: the key, the responders and the invites go,
    and the answers are re-inserted in random order. Run inside the caller's transaction,
    so a round is either open with all of them or closed with none."""
    db.conn.execute(
        "UPDATE pulse_rounds SET closed_at = ?, hash_key = NULL WHERE id = ? AND closed_at IS NULL",
        (at, round_id),
    )
    db.conn.execute("DELETE FROM pulse_responders WHERE round_id = ?", (round_id,))
    db.conn.execute("DELETE FROM pulse_invites WHERE round_id = ?", (round_id,))
    pulse_answers.shuffle_answers(db, round_id)


# ---- invites -------------------------------------------------------------------------------


def claim_invite(db: sqlite_utils.Database, round_id: int, user_id: str) -> bool:
    """Take the right to DM this person for this round; False when someone already has
    (this process earlier, or one that died) or the round has closed."""
    cursor = db.conn.execute(
        """INSERT INTO pulse_invites (round_id, user_id)
           SELECT ?, ? WHERE EXISTS
               (SELECT 1 FROM pulse_rounds WHERE id = ? AND closed_at IS NULL)
           ON CONFLICT (round_id, user_id) DO NOTHING""",
        (round_id, user_id, round_id),
    )
    return cursor.rowcount == 1


def invited_users(db: sqlite_utils.Database, round_id: int) -> set[str]:
    rows = db.conn.execute(
        "SELECT user_id FROM pulse_invites WHERE round_id = ?", (round_id,)
    ).fetchall()
    return {r[0] for r in rows}


def mark_sent(
    db: sqlite_utils.Database, round_id: int, user_id: str, dm_channel: str, ts: str, at: str
) -> None:
    db.conn.execute(
        """UPDATE pulse_invites SET dm_channel = ?, message_ts = ?, sent_at = ?
           WHERE round_id = ? AND user_id = ?""",
        (dm_channel, ts, at, round_id, user_id),
    )
    db.conn.execute("UPDATE pulse_rounds SET invited = invited + 1 WHERE id = ?", (round_id,))


def unreminded(db: sqlite_utils.Database, round_id: int, sent_before: str) -> list[Invite]:
    rows = db.conn.execute(
        """SELECT user_id, dm_channel, message_ts FROM pulse_invites
           WHERE round_id = ? AND sent_at <= ? AND reminded_at IS NULL ORDER BY sent_at""",
        (round_id, sent_before),
    ).fetchall()
    return [Invite(**dict(r)) for r in rows]


def claim_reminder(db: sqlite_utils.Database, round_id: int, user_id: str, at: str) -> bool:
    """Like claim_invite, for the one reminder: taken before it is sent."""
    cursor = db.conn.execute(
        """UPDATE pulse_invites SET reminded_at = ?
           WHERE round_id = ? AND user_id = ? AND reminded_at IS NULL""",
        (at, round_id, user_id),
    )
    db.conn.execute(
        "UPDATE pulse_rounds SET reminded_at = coalesce(reminded_at, ?) WHERE id = ?",
        (at, round_id),
    )
    return cursor.rowcount == 1


def mark_reminded(db: sqlite_utils.Database, round_id: int, user_id: str, ts: str) -> None:
    db.conn.execute(
        "UPDATE pulse_invites SET reminder_ts = ? WHERE round_id = ? AND user_id = ?",
        (ts, round_id, user_id),
    )


def sent_messages(db: sqlite_utils.Database, round_id: int) -> list[tuple[str, str]]:
    """(DM channel, ts) of every survey DM of the round, read before close_round forgets
    them, to mark them closed: all of them alike, so the update reveals nothing."""
    rows = db.conn.execute(
        """SELECT dm_channel, message_ts FROM pulse_invites
           WHERE round_id = ? AND message_ts IS NOT NULL
           UNION ALL
           SELECT dm_channel, reminder_ts FROM pulse_invites
           WHERE round_id = ? AND reminder_ts IS NOT NULL""",
        (round_id, round_id),
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


# ---- people --------------------------------------------------------------------------------


def opted_out(db: sqlite_utils.Database) -> set[str]:
    return {r[0] for r in db.conn.execute("SELECT user_id FROM pulse_opt_outs").fetchall()}


def dm_channel(db: sqlite_utils.Database, user_id: str) -> str | None:
    row = db.conn.execute(
        "SELECT channel_id FROM slack_dm_channels WHERE user_id = ?", (user_id,)
    ).fetchone()
    return row[0] if row else None


def remember_dm_channel(db: sqlite_utils.Database, user_id: str, channel_id: str) -> None:
    db.conn.execute(
        """INSERT INTO slack_dm_channels (user_id, channel_id) VALUES (?, ?)
           ON CONFLICT (user_id) DO UPDATE SET channel_id = excluded.channel_id""",
        (user_id, channel_id),
    )
