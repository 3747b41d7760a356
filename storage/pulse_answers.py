"""Pulse survey answers, stored so that none can be traced to the person who gave it.

What is stored:
- pulse_answers: round_id, ease (1-5), sinks (a JSON list of option keys) and comment.
  Never a user id, a DM channel, a Slack message ts or a time.
- pulse_responders, only while the round is open: HMAC-SHA256(round key, "round:user") and
  the id of that person's one answer (or skipped = 1). It lets a person change their answer,
  and stops a second answer from counting twice, without naming them.
- pulse_rounds.hash_key: the round's random key, only while the round is open.
- pulse_invites (who was sent the round's DM), only while the round is open.
Closing a round (storage/pulse.close_round) deletes the key, the responders and the
invites in one transaction, and shuffle_answers re-inserts the round's answers in a random
order, so their row ids no longer tell the order in which people answered.

What a reader of the database file can learn:
- after a round closes: how many answers it had and what they were, with nothing that
  links any of them to a person, not even by trying every user id of the workspace;
  who chose "Stop asking me" (pulse_opt_outs) and each person's DM channel
  (slack_dm_channels), neither of which holds or points at an answer.
- while a round is open: who was invited, how many answered or skipped, and the answers.
  Someone holding the file AND reading the round's key from it can test each invited user
  id against the hashes and so tie an answer to a person. The key sits in the same file,
  so this protects nobody from a reader of a live round; what it guarantees is that the
  link disappears for good when the round closes. Row ids of an open round's answers also
  follow answer order until the close shuffles them.
What it cannot protect against:
- SQLite keeps the earlier versions of changed pages in the -wal file until a checkpoint
  has copied them back and the WAL is truncated or overwritten, and leaves deleted bytes
  in free space of the main file unless PRAGMA secure_delete is on. So a forensic reader
  of the raw files soon after a close may find the old key, hashes, invites or answer
  order there (seen in a test: right after close_round the -wal file still held the key
  and the user ids; after PRAGMA wal_checkpoint(TRUNCATE) neither file did).
- Comments are free text: a person who signs or describes themselves is identifiable, and
  the comment modal tells them anything they write is shown as written.
- Slack keeps the DM, which shows the person their own current choices; that record is
  Slack's and the person's, not ours.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

import sqlite_utils

# The time sinks a person can name, in the order the survey shows them (SPEC.md "Pulse
# surveys"). These keys are what is stored; bot/pulse/text.py holds their labels.
SINKS: tuple[str, ...] = (
    "ci",
    "flaky_tests",
    "code_review",
    "deploy_process",
    "environments",
    "requirements",
    "incidents",
    "meetings",
    "other",
)
EASE_SCORES = range(1, 6)
MAX_COMMENT = 1000


@dataclass(frozen=True)
class RoundState:
    """A round and whether its survey still runs, as answering needs them."""

    id: int
    survey_id: int
    channel_id: str
    opened_at: str
    closes_at: str
    closed_at: str | None
    hash_key: bytes | None
    survey_active: bool

    def is_open(self, now: str) -> bool:
        return self.closed_at is None and self.hash_key is not None and now < self.closes_at


@dataclass(frozen=True)
class Choices:
    """One person's current answer in an open round, shown back to them in their DM."""

    ease: int | None = None
    sinks: tuple[str, ...] = ()
    comment: str | None = None
    skipped: bool = False

    @property
    def answered(self) -> bool:
        return self.ease is not None or bool(self.sinks) or bool(self.comment)


@dataclass(frozen=True)
class Answer:
    ease: int | None
    sinks: tuple[str, ...]
    comment: str | None


@dataclass(frozen=True)
class RoundRow:
    id: int
    opened_at: str
    closes_at: str
    closed_at: str | None


class Refused(Exception):
    """An answer that cannot be taken: `reason` is "closed" or "not_invited"."""

    def __init__(self, reason: str, round_state: RoundState | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.round = round_state


def responder_hash(key: bytes, round_id: int, user_id: str) -> bytes:
    return hmac.new(key, f"{round_id}:{user_id}".encode(), hashlib.sha256).digest()


def has_responded(db: sqlite_utils.Database, round_id: int, key: bytes, user_id: str) -> bool:
    """Whether the person answered or skipped this round (the reminder skips them)."""
    row = db.conn.execute(
        "SELECT 1 FROM pulse_responders WHERE round_id = ? AND responder = ?",
        (round_id, responder_hash(key, round_id, user_id)),
    ).fetchone()
    return row is not None


def round_state(db: sqlite_utils.Database, round_id: int) -> RoundState | None:
    row = db.conn.execute(
        """SELECT r.id, r.survey_id, s.channel_id, r.opened_at, r.closes_at, r.closed_at,
                  r.hash_key, s.active
           FROM pulse_rounds r JOIN pulse_surveys s ON s.id = r.survey_id
           WHERE r.id = ?""",
        (round_id,),
    ).fetchone()
    if row is None:
        return None
    return RoundState(
        id=row["id"],
        survey_id=row["survey_id"],
        channel_id=row["channel_id"],
        opened_at=row["opened_at"],
        closes_at=row["closes_at"],
        closed_at=row["closed_at"],
        hash_key=row["hash_key"],
        survey_active=bool(row["active"]),
    )


def _open_round(
    db: sqlite_utils.Database, round_id: int, user_id: str, now: str
) -> tuple[RoundState, bytes]:
    """The round and the person's responder hash, or Refused. An invite row is what makes
    a payload genuine: a forged or stale round id, or another person's click, has none."""
    state = round_state(db, round_id)
    if state is None:
        raise Refused("not_invited", None)
    if not state.is_open(now):
        raise Refused("closed", state)
    invited = db.conn.execute(
        "SELECT 1 FROM pulse_invites WHERE round_id = ? AND user_id = ?", (round_id, user_id)
    ).fetchone()
    if invited is None:
        raise Refused("not_invited", state)
    assert state.hash_key is not None
    return state, responder_hash(state.hash_key, round_id, user_id)


def _responder(db: sqlite_utils.Database, round_id: int, responder: bytes) -> sqlite3.Row | None:
    return db.conn.execute(
        "SELECT answer_id, skipped FROM pulse_responders WHERE round_id = ? AND responder = ?",
        (round_id, responder),
    ).fetchone()


def _answer_id(db: sqlite_utils.Database, round_id: int, responder: bytes) -> int:
    """The person's one answer in the round, created on their first choice; answering
    after a skip takes the skip back."""
    row = _responder(db, round_id, responder)
    if row is not None and row["answer_id"] is not None:
        return int(row["answer_id"])
    cursor = db.conn.execute("INSERT INTO pulse_answers (round_id) VALUES (?)", (round_id,))
    answer_id = int(cursor.lastrowid or 0)
    db.conn.execute(
        """INSERT INTO pulse_responders (round_id, responder, answer_id, skipped)
           VALUES (?, ?, ?, 0)
           ON CONFLICT (round_id, responder)
           DO UPDATE SET answer_id = excluded.answer_id, skipped = 0""",
        (round_id, responder, answer_id),
    )
    return answer_id


def _choices(db: sqlite_utils.Database, round_id: int, responder: bytes) -> Choices:
    row = db.conn.execute(
        """SELECT p.skipped, a.ease, a.sinks, a.comment
           FROM pulse_responders p LEFT JOIN pulse_answers a ON a.id = p.answer_id
           WHERE p.round_id = ? AND p.responder = ?""",
        (round_id, responder),
    ).fetchone()
    if row is None:
        return Choices()
    return Choices(
        ease=row["ease"],
        sinks=_sinks(row["sinks"]),
        comment=row["comment"],
        skipped=bool(row["skipped"]),
    )


def _sinks(stored: str | None) -> tuple[str, ...]:
    named = set(json.loads(stored or "[]"))
    return tuple(s for s in SINKS if s in named)


def current(db: sqlite_utils.Database, round_id: int, user_id: str, now: str) -> Choices:
    """The person's answer so far (raises Refused like the writes, so a closed round or a
    stranger sees nothing)."""
    _, responder = _open_round(db, round_id, user_id, now)
    return _choices(db, round_id, responder)


def record_ease(
    db: sqlite_utils.Database, round_id: int, user_id: str, ease: int, now: str
) -> Choices:
    if ease not in EASE_SCORES:
        raise ValueError(f"ease {ease} is not 1 to 5")
    _, responder = _open_round(db, round_id, user_id, now)
    answer_id = _answer_id(db, round_id, responder)
    db.conn.execute("UPDATE pulse_answers SET ease = ? WHERE id = ?", (ease, answer_id))
    return _choices(db, round_id, responder)


def record_sinks(
    db: sqlite_utils.Database, round_id: int, user_id: str, sinks: Sequence[str], now: str
) -> Choices:
    """Replaces the person's time sinks; unknown keys (a forged payload) are dropped."""
    _, responder = _open_round(db, round_id, user_id, now)
    answer_id = _answer_id(db, round_id, responder)
    chosen = json.dumps([s for s in SINKS if s in set(sinks)])
    db.conn.execute("UPDATE pulse_answers SET sinks = ? WHERE id = ?", (chosen, answer_id))
    return _choices(db, round_id, responder)


def record_comment(
    db: sqlite_utils.Database, round_id: int, user_id: str, comment: str, now: str
) -> Choices:
    """An empty comment removes the person's comment."""
    if len(comment) > MAX_COMMENT:
        raise ValueError(f"comment of {len(comment)} characters")
    _, responder = _open_round(db, round_id, user_id, now)
    answer_id = _answer_id(db, round_id, responder)
    db.conn.execute(
        "UPDATE pulse_answers SET comment = ? WHERE id = ?", (comment or None, answer_id)
    )
    return _choices(db, round_id, responder)


def skip(db: sqlite_utils.Database, round_id: int, user_id: str, now: str) -> Choices:
    """The person sits this round out: an answer they gave is withdrawn, and the reminder
    passes them by."""
    _, responder = _open_round(db, round_id, user_id, now)
    row = _responder(db, round_id, responder)
    if row is not None and row["answer_id"] is not None:
        db.conn.execute("DELETE FROM pulse_answers WHERE id = ?", (row["answer_id"],))
    db.conn.execute(
        """INSERT INTO pulse_responders (round_id, responder, answer_id, skipped)
           VALUES (?, ?, NULL, 1)
           ON CONFLICT (round_id, responder) DO UPDATE SET answer_id = NULL, skipped = 1""",
        (round_id, responder),
    )
    return _choices(db, round_id, responder)


def stop_asking(db: sqlite_utils.Database, user_id: str, now: str) -> None:
    db.conn.execute(
        "INSERT INTO pulse_opt_outs (user_id, opted_out_at) VALUES (?, ?) "
        "ON CONFLICT (user_id) DO NOTHING",
        (user_id, now),
    )


def start_asking(db: sqlite_utils.Database, user_id: str) -> None:
    db.conn.execute("DELETE FROM pulse_opt_outs WHERE user_id = ?", (user_id,))


def shuffle_answers(db: sqlite_utils.Database, round_id: int) -> None:
    """Re-insert the round's answers in a random order, so row ids stop telling who
    answered first. Call inside close_round's transaction."""
    rows = db.conn.execute(
        "SELECT ease, sinks, comment FROM pulse_answers WHERE round_id = ?", (round_id,)
    ).fetchall()
    shuffled = [tuple(r) for r in rows]
    secrets.SystemRandom().shuffle(shuffled)
    db.conn.execute("DELETE FROM pulse_answers WHERE round_id = ?", (round_id,))
    db.conn.executemany(
        "INSERT INTO pulse_answers (round_id, ease, sinks, comment) VALUES (?, ?, ?, ?)",
        [(round_id, *row) for row in shuffled],
    )


# ---- results -------------------------------------------------------------------------------


def rounds(db: sqlite_utils.Database, channel_id: str | None, limit: int) -> list[RoundRow]:
    """The latest rounds, newest first: of the surveys of `channel_id`, or of every survey."""
    where = "WHERE s.channel_id = ?" if channel_id is not None else ""
    params: tuple[object, ...] = (channel_id, limit) if channel_id is not None else (limit,)
    found = db.conn.execute(
        f"""SELECT r.id, r.opened_at, r.closes_at, r.closed_at
            FROM pulse_rounds r JOIN pulse_surveys s ON s.id = r.survey_id
            {where} ORDER BY r.opened_at DESC, r.id DESC LIMIT ?""",
        params,
    ).fetchall()
    return [RoundRow(r["id"], r["opened_at"], r["closes_at"], r["closed_at"]) for r in found]


def answers(db: sqlite_utils.Database, round_id: int) -> list[Answer]:
    found = db.conn.execute(
        "SELECT ease, sinks, comment FROM pulse_answers WHERE round_id = ?", (round_id,)
    ).fetchall()
    return [Answer(r["ease"], _sinks(r["sinks"]), r["comment"]) for r in found]
