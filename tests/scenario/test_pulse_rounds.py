"""Pulse rounds through the real server: who is DMed, once; the reminder; closing; restarts
and the schedule. Clock: 2026-11-24T12:00:00Z, a Tuesday (13:00 CET in Europe/Berlin)."""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pendulum
import pytest

from bot.core.clock import FixedClock
from bot.pulse import dm as pulse_dm
from bot.pulse import schedule as pulse_schedule
from storage.pulse import Survey
from tests.conftest import Bot
from tests.fakes.fake_slack import BOT_USER, FakeSlack
from tests.scenario.conftest import running_bot
from tests.scenario.test_pulse_answers import click, rate
from tests.scenario.test_pulse_command import ADMIN, CHANNEL, settle, start, table

HUMANS = [f"U{n:07d}" for n in range(246)]
A_BOT, GONE, OPTED_OUT = "U0ROBOT01", "U0GONE001", "U0OPTOUT1"
SMALL = ["U0ANNA01", "U0BEN001", "U0CARA01", "U0DAN001"]


@pytest.fixture
def slack(slack: FakeSlack) -> FakeSlack:
    slack.users[A_BOT] = {"id": A_BOT, "is_bot": True}
    slack.users[GONE] = {"id": GONE, "deleted": True}
    return slack


def serve(tmp_path: Path, slack: FakeSlack, clock: FixedClock) -> Iterator[Bot]:
    return running_bot(tmp_path, slack, clock, pulse_send_interval=0)  # type: ignore[return-value]


@pytest.fixture
def bot(tmp_path: Path, slack: FakeSlack, clock: FixedClock) -> Iterator[Bot]:
    with serve(tmp_path, slack, clock) as started:
        yield started


def dms(slack: FakeSlack, text: str | None = None) -> Counter[str]:
    """How many messages each DM channel got (of this text, if given)."""
    return Counter(
        c["channel"]
        for c in slack.calls_to("chat.postMessage")
        if text is None or c["text"] == text
    )


def run_job(bot: Bot, job_id: str) -> None:
    """Run a scheduled job now, on the scheduler, as if its time had come."""
    job = bot.server.scheduler.get_job(job_id)
    assert job is not None, job_id
    job.modify(next_run_time=datetime.now(UTC))
    settle(bot)


def now(bot: Bot) -> None:
    reply = bot.command("/pulse", "now", user=ADMIN)
    assert reply.text.startswith("Round "), reply.body
    settle(bot)


def small_round(bot: Bot) -> int:
    bot.slack.channel_members[CHANNEL] = SMALL
    start(bot)
    now(bot)
    return int(bot.rows("pulse_rounds")[-1]["id"])


def opt_out(bot: Bot, user: str) -> None:
    conn = sqlite3.connect(bot.db_path)
    with conn:
        conn.execute("INSERT INTO pulse_opt_outs VALUES (?, '2026-11-01T00:00:00Z')", (user,))
    conn.close()


# ---- sending -------------------------------------------------------------------------------


def test_a_round_dms_exactly_the_eligible_people_once(bot: Bot, slack: FakeSlack) -> None:
    slack.channel_members[CHANNEL] = [
        *HUMANS[:150],
        A_BOT,
        BOT_USER,
        GONE,
        OPTED_OUT,
        *HUMANS[150:],
    ]
    opt_out(bot, OPTED_OUT)
    assert "246 people in <#C0CHAN01>" in start(bot)
    now(bot)

    pages = [(c.get("limit"), c.get("cursor")) for c in slack.calls_to("conversations.members")]
    # Twice for the count in /pulse start, twice for the round: 250 members, 200 a page.
    assert pages == [("200", None), ("200", "200")] * 2
    assert dms(slack) == {f"D{u}": 1 for u in HUMANS}
    assert Counter(c["users"] for c in slack.calls_to("conversations.open")) == {
        u: 1 for u in HUMANS
    }
    (opened,) = bot.rows("pulse_rounds")
    assert opened["invited"] == 246 and opened["closes_at"] == "2026-11-30T12:00:00Z"
    invites = table(bot, "pulse_invites")
    assert sorted(i["user_id"] for i in invites) == sorted(HUMANS)
    assert all(i["sent_at"] == "2026-11-24T12:00:00Z" and i["message_ts"] for i in invites)
    text, _ = pulse_dm.question_message(opened["id"], opened["closes_at"], "Europe/Berlin")
    assert {c["text"] for c in slack.calls_to("chat.postMessage")} == {text}


def test_a_user_group_round_and_a_dm_that_fails(bot: Bot, slack: FakeSlack) -> None:
    slack.usergroups["S0DEVS001"] = {"handle": "devs", "users": SMALL}
    start(bot, "start <!subteam^S0DEVS001|@devs> weekly")
    slack.fail_next("conversations.open", "cannot_dm_bot")  # the first person
    now(bot)
    assert dms(slack) == {f"D{u}": 1 for u in SMALL[1:]}
    assert bot.rows("pulse_rounds")[0]["invited"] == 3
    # Claimed before the DM: never tried again this round, even after a restart.
    assert {i["user_id"]: i["sent_at"] for i in table(bot, "pulse_invites")}[SMALL[0]] is None


def test_now_again_closes_the_open_round_first(bot: Bot, slack: FakeSlack) -> None:
    first = small_round(bot)
    now(bot)
    rounds = bot.rows("pulse_rounds")
    assert [r["closed_at"] is None for r in rounds] == [False, True]
    assert {i["round_id"] for i in table(bot, "pulse_invites")} == {first + 1}
    assert dms(slack) == {f"D{u}": 2 for u in SMALL}  # once per round
    closed_text, _ = pulse_dm.closed_message()
    assert [c["text"] for c in slack.calls_to("chat.update")] == [closed_text] * 4


# ---- the reminder and closing --------------------------------------------------------------


def test_the_reminder_goes_once_to_those_who_neither_answered_nor_skipped(
    bot: Bot, slack: FakeSlack, clock: FixedClock
) -> None:
    round_id = small_round(bot)
    anna, ben, cara, dan = SMALL
    assert rate(bot, anna, round_id, 4).status == 200
    assert click(bot, ben, round_id, pulse_dm.SKIP_ACTION).status == 200
    assert click(bot, dan, round_id, pulse_dm.STOP_ACTION).status == 200
    settle(bot)
    opened = bot.rows("pulse_rounds")[0]
    reminder, _ = pulse_dm.reminder_message(round_id, opened["closes_at"], "Europe/Berlin")

    clock.advance(hours=23)
    run_job(bot, pulse_schedule.TICK_JOB)
    assert dms(slack, reminder) == {}

    clock.advance(hours=2)
    run_job(bot, pulse_schedule.TICK_JOB)
    run_job(bot, pulse_schedule.TICK_JOB)
    # Dan chose "Stop asking me" in this round's DM: no reminder either.
    assert dms(slack, reminder) == {f"D{cara}": 1}
    reminded = {i["user_id"]: i["reminded_at"] for i in table(bot, "pulse_invites")}
    assert reminded == {anna: None, ben: None, cara: "2026-11-25T13:00:00Z", dan: None}

    # At close the reminder's buttons go too, with the first DMs: all alike.
    clock.advance(days=5)
    run_job(bot, pulse_schedule.TICK_JOB)
    closed_text, _ = pulse_dm.closed_message()
    updated = [(c["channel"], c["ts"]) for c in slack.calls_to("chat.update")
               if c["text"] == closed_text]  # fmt: skip
    assert len(updated) == 5
    assert {channel for channel, _ in updated} == {f"D{u}" for u in SMALL}


def test_a_round_closes_after_six_days_and_forgets_who_was_asked(
    bot: Bot, slack: FakeSlack, clock: FixedClock
) -> None:
    round_id = small_round(bot)
    for user, score in zip(SMALL[:3], (2, 4, 5), strict=True):
        rate(bot, user, round_id, score)
    settle(bot)
    assert len(table(bot, "pulse_responders")) == 3
    key = bytes(bot.rows("pulse_rounds")[0]["hash_key"])
    hashes = [bytes(r["responder"]) for r in table(bot, "pulse_responders")]

    clock.advance(days=6)
    run_job(bot, pulse_schedule.TICK_JOB)
    # Not even the bytes stay behind: deleted rows are overwritten (secure_delete) and the
    # WAL, which held copies of their pages, is emptied at close.
    files = [bot.db_path, bot.db_path.with_name(bot.db_path.name + "-wal")]
    raw = b"".join(f.read_bytes() for f in files if f.exists())
    assert key not in raw and not any(h in raw for h in hashes)
    (closed,) = bot.rows("pulse_rounds")
    assert closed["closed_at"] == "2026-11-30T12:00:00Z" and closed["hash_key"] is None
    assert table(bot, "pulse_invites") == [] and table(bot, "pulse_responders") == []
    assert sorted(a["ease"] for a in bot.rows("pulse_answers")) == [2, 4, 5]
    # No column of an answer can hold a person, and no row left anywhere near one does.
    columns = {
        r[1] for r in sqlite3.connect(bot.db_path).execute("PRAGMA table_info(pulse_answers)")
    }
    assert columns == {"id", "round_id", "ease", "sinks", "comment"}
    conn = sqlite3.connect(bot.db_path)
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for name in set(tables) - {"pulse_opt_outs", "slack_dm_channels"}:
        dump = repr(conn.execute(f"SELECT * FROM {name}").fetchall())
        assert not any(user in dump for user in SMALL), name
    conn.close()
    closed_text, _ = pulse_dm.closed_message()
    assert [c["channel"] for c in slack.calls_to("chat.update") if c["text"] == closed_text] == [
        f"D{u}" for u in SMALL
    ]


# ---- restarts and the schedule -------------------------------------------------------------


def test_a_restart_during_sending_dms_nobody_twice(
    tmp_path: Path, slack: FakeSlack, clock: FixedClock
) -> None:
    anna, ben, cara, dan = SMALL
    slack.channel_members[CHANNEL] = SMALL
    with serve(tmp_path, slack, clock) as first:
        start(first)
        # Slack cannot list the channel when the round opens: it stays open with no DMs.
        slack.fail_next("conversations.members", "internal_error")
        now(first)
        assert dms(slack) == {}
        # As the process had left it when killed: Anna DMed; Ben claimed, then the crash.
        conn = sqlite3.connect(first.db_path)
        with conn:
            conn.execute(
                "INSERT INTO pulse_invites (round_id, user_id, dm_channel, message_ts, sent_at)"
                " VALUES (1, ?, ?, '1700000000.000001', '2026-11-24T12:00:00Z')",
                (anna, f"D{anna}"),
            )
            conn.execute("INSERT INTO pulse_invites (round_id, user_id) VALUES (1, ?)", (ben,))
        conn.close()
    with serve(tmp_path, slack, clock) as second:
        settle(second)
        assert dms(slack) == {f"D{cara}": 1, f"D{dan}": 1}
    with serve(tmp_path, slack, clock) as third:
        settle(third)
        assert dms(slack) == {f"D{cara}": 1, f"D{dan}": 1}
        assert len(table(third, "pulse_invites")) == 4


def test_biweekly_rounds_are_two_weeks_apart_across_restarts(
    tmp_path: Path, slack: FakeSlack, clock: FixedClock
) -> None:
    slack.channel_members[CHANNEL] = SMALL
    clock.set("2026-11-27T13:00:00Z")  # Friday 14:00 in Berlin
    with serve(tmp_path, slack, clock) as first:
        start(first, "start biweekly friday 14:00")
        run_job(first, "pulse:1")
        assert [r["opened_at"] for r in first.rows("pulse_rounds")] == ["2026-11-27T13:00:00Z"]
    clock.set("2026-12-04T13:00:00Z")
    with serve(tmp_path, slack, clock) as second:
        run_job(second, "pulse:1")
        assert len(second.rows("pulse_rounds")) == 1
        # The start-up tick closed the first round after its six days.
        assert second.rows("pulse_rounds")[0]["closed_at"] == "2026-12-04T13:00:00Z"
    clock.set("2026-12-11T13:00:00Z")
    with serve(tmp_path, slack, clock) as third:
        run_job(third, "pulse:1")
        assert [r["opened_at"] for r in third.rows("pulse_rounds")] == [
            "2026-11-27T13:00:00Z",
            "2026-12-11T13:00:00Z",
        ]
    assert dms(slack) == {f"D{u}": 2 for u in SMALL}


def test_a_round_missed_while_down_is_sent_at_the_next_start_once(
    tmp_path: Path, slack: FakeSlack, clock: FixedClock
) -> None:
    slack.channel_members[CHANNEL] = SMALL
    clock.set("2026-11-27T12:00:00Z")  # Friday 13:00 in Berlin, an hour before the round
    with serve(tmp_path, slack, clock) as first:
        start(first, "start weekly friday 14:00")
    clock.set("2026-11-27T15:30:00Z")  # down at 14:00; back at 16:30
    with serve(tmp_path, slack, clock) as second:
        settle(second)
        assert [r["opened_at"] for r in second.rows("pulse_rounds")] == ["2026-11-27T15:30:00Z"]
    clock.set("2026-11-27T16:00:00Z")
    with serve(tmp_path, slack, clock) as third:
        settle(third)
        assert len(third.rows("pulse_rounds")) == 1
    assert dms(slack) == {f"D{u}": 1 for u in SMALL}


@pytest.mark.parametrize(
    ("created", "now", "expected"),
    [
        ("2026-11-20T09:00:00Z", "2026-11-27T13:00:00Z", True),  # at the time itself
        ("2026-11-20T09:00:00Z", "2026-11-28T12:59:00Z", True),  # within a day
        ("2026-11-20T09:00:00Z", "2026-11-28T13:01:00Z", False),  # more than a day late
        ("2026-11-27T14:00:00Z", "2026-11-27T15:00:00Z", False),  # started after the time
        ("2026-11-20T09:00:00Z", "2026-11-27T12:59:00Z", False),  # last week's is too old
    ],
)
def test_which_start_up_sends_a_missed_round(created: str, now: str, expected: bool) -> None:
    survey = replace(_survey("weekly"), created_at=created)  # Friday 14:00 Berlin = 13:00Z
    assert pulse_schedule.missed(survey, None, pendulum.parse(now)) is expected
    # A round opened at or after the scheduled time means nothing was missed.
    assert not pulse_schedule.missed(survey, "2026-11-27T13:00:00Z", pendulum.parse(now))
    # Biweekly: last round a week before, so this week's time was not a round's.
    fortnightly = replace(survey, cadence="biweekly")
    assert not pulse_schedule.missed(fortnightly, "2026-11-20T13:00:00Z", pendulum.parse(now))


def test_the_cron_job_uses_day_names_in_the_team_time_zone(bot: Bot, slack: FakeSlack) -> None:
    slack.channel_members[CHANNEL] = SMALL
    start(bot, "start friday 14:00")
    trigger = bot.server.scheduler.get_job("pulse:1").trigger
    fields = {f.name: str(f) for f in trigger.fields}
    assert (fields["day_of_week"], fields["hour"], fields["minute"]) == ("fri", "14", "0")
    assert str(trigger.timezone) == "Europe/Berlin"
    at = pendulum.instance(bot.server.scheduler.get_job("pulse:1").next_run_time)
    assert (at.in_timezone("Europe/Berlin").format("ddd HH:mm")) == "Fri 14:00"


def _survey(cadence: str) -> Survey:
    return Survey(1, CHANNEL, "channel", CHANNEL, cadence, "fri", "14:00", "Europe/Berlin")


def test_next_round_in_winter_and_summer() -> None:
    winter = pulse_schedule.next_round_at(_survey("weekly"), None, pendulum.parse(
        "2026-11-24T12:00:00Z"))  # fmt: skip
    assert winter.in_timezone("UTC").to_iso8601_string() == "2026-11-27T13:00:00Z"
    summer = pulse_schedule.next_round_at(_survey("weekly"), None, pendulum.parse(
        "2026-07-01T12:00:00Z"))  # fmt: skip
    assert summer.in_timezone("UTC").to_iso8601_string() == "2026-07-03T12:00:00Z"


def test_next_biweekly_round_skips_the_week_after_a_round() -> None:
    survey = _survey("biweekly")
    after = pendulum.parse("2026-11-28T09:00:00Z")
    assert pulse_schedule.next_round_at(survey, "2026-11-27T13:00:00Z", after).to_date_string() == (
        "2026-12-11"
    )
    assert pulse_schedule.next_round_at(_survey("weekly"), "2026-11-27T13:00:00Z", after) == (
        pendulum.datetime(2026, 12, 4, 14, tz="Europe/Berlin")
    )


# ---- closing while someone reads (issue 11) ------------------------------------------------


def test_stop_while_a_reader_holds_the_wal_answers_at_once_and_empties_it_after(
    bot: Bot,
) -> None:
    import time

    round_id = small_round(bot)
    for user, score in zip(SMALL[:3], (2, 4, 5), strict=True):
        rate(bot, user, round_id, score)
    settle(bot)
    key = bytes(bot.rows("pulse_rounds")[0]["hash_key"])
    hashes = [bytes(r["responder"]) for r in table(bot, "pulse_responders")]
    wal = bot.db_path.with_name(bot.db_path.name + "-wal")

    # A BI tool in the middle of a long read: its snapshot keeps the WAL from being emptied.
    reader = sqlite3.connect(bot.db_path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM pulse_responders").fetchone()
    started = time.monotonic()
    reply = bot.command("/pulse", "stop", user=ADMIN)
    assert time.monotonic() - started < 3, "Slack would have shown the stop as failed"
    assert reply.text.startswith("The pulse survey of <#C0CHAN01> is stopped"), reply.body
    assert "Its open round is closed." in reply.text
    assert table(bot, "pulse_responders") == []
    reader.execute("COMMIT")
    reader.close()

    # Then the WAL is emptied without anyone asking, and the bytes are gone.
    deadline = time.monotonic() + 20
    while wal.exists() and wal.stat().st_size > 0 and time.monotonic() < deadline:
        time.sleep(0.05)  # polling a file the bot empties on its own schedule
    assert not wal.exists() or wal.stat().st_size == 0
    raw = b"".join(f.read_bytes() for f in (bot.db_path, wal) if f.exists())
    assert key not in raw and not any(h in raw for h in hashes)
