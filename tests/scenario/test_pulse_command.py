"""/pulse through the real app: parsing, who may do what, and what is stored.
Clock: 2026-11-24T12:00:00Z, a Tuesday (13:00 CET in Europe/Berlin)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.clock import FixedClock
from bot.core.errors import UsageError
from commands.pulse import Audience, Help, Now, Results, Start, Stop, parse
from tests.conftest import Bot
from tests.fakes.fake_slack import FakeSlack
from tests.scenario.conftest import running_bot

ADMIN = "U0ADMIN1"
CHANNEL = "C0CHAN01"
TEAM_CHANNEL = "C0TEAM001"
PEOPLE = ["U0ANNA01", "U0BEN001", "U0CARA01"]


def settle(bot: Bot) -> None:
    """Wait for the listeners, then for every job queued on the pulse thread: it runs one
    job at a time in order, so a marker job runs only after those before it."""
    assert bot.server.wait_idle(10), "listeners still running after 10 s"
    done = threading.Event()
    bot.server.scheduler.add_job(done.set, executor="pulse", misfire_grace_time=None)
    assert done.wait(30), "pulse jobs still running after 30 s"


def reply_through_url(bot: Bot, before: int) -> str:
    """The reply of `/pulse start`, which comes through response_url."""
    calls = bot.slack.wait_for("response_url", before + 1)
    return str(calls[before]["text"])


def start(bot: Bot, text: str = "start", *, channel: str = CHANNEL) -> str:
    before = len(bot.slack.calls_to("response_url"))
    reply = bot.command("/pulse", text, user=ADMIN, channel=channel)
    assert reply.status == 200 and reply.body == "", reply.body
    return reply_through_url(bot, before)


@pytest.fixture
def slack(slack: FakeSlack) -> FakeSlack:
    slack.channel_members[CHANNEL] = [ADMIN, *PEOPLE]
    slack.channel_members[TEAM_CHANNEL] = PEOPLE[:2]
    slack.usergroups["S0DEVS001"] = {"handle": "devs", "users": PEOPLE[1:]}
    return slack


@pytest.fixture
def bot(tmp_path: Path, slack: FakeSlack, clock: FixedClock) -> Iterator[Bot]:
    with running_bot(tmp_path, slack, clock, pulse_send_interval=0) as started:
        yield started


def table(bot: Bot, name: str) -> list[dict[str, Any]]:
    """Every row of a table without an id column, read straight from the file."""
    conn = sqlite3.connect(bot.db_path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(f"SELECT * FROM {name}")]
    finally:
        conn.close()


# ---- parse ---------------------------------------------------------------------------------


def test_defaults_are_this_channel_biweekly_friday_at_two() -> None:
    assert parse("start") == Start(audience=None, cadence="biweekly", day="fri", time="14:00")


def test_each_form_of_the_audience_is_read() -> None:
    assert parse("start <#C0TEAM001|team>").audience == Audience("channel", "C0TEAM001")  # type: ignore[union-attr]
    assert parse("start C0TEAM001").audience == Audience("channel", "C0TEAM001")  # type: ignore[union-attr]
    assert parse("start &lt;#C0TEAM001&gt;").audience == Audience("channel", "C0TEAM001")  # type: ignore[union-attr]
    assert parse("start <!subteam^S0DEVS001|@devs>").audience == Audience("usergroup", "S0DEVS001")  # type: ignore[union-attr]
    assert parse("start @devs").audience == Audience("usergroup", "", handle="devs")  # type: ignore[union-attr]


def test_other_subcommands() -> None:
    assert isinstance(parse(""), Help)
    assert isinstance(parse("help"), Help)
    assert isinstance(parse("NOW"), Now)
    assert isinstance(parse("stop"), Stop)
    assert parse("results") == Results(2)
    assert parse("results 3") == Results(3)
    assert parse("results 1 round") == Results(1)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("start fortnightly", "`fortnightly`"),
        ("start 25:00", "`25:00`"),
        ("start 14.30", "`14.30`"),
        ("start friday monday", "`friday` and `monday`"),
        ("start weekly biweekly", "`weekly` and `biweekly`"),
        ("start #deploys", "`#deploys`"),
        ("start key=value", "`key=`"),
        ("survey", "`survey`"),
        ("now please", "`please`"),
        ("results 0", "`0`"),
        ("results 13", "`13`"),
        ("results two", "`two`"),
        ("results 2 weeks", "`weeks`"),
    ],
)
def test_bad_input_names_the_word(text: str, named: str) -> None:
    with pytest.raises(UsageError) as raised:
        parse(text)
    assert named in raised.value.problem


_CADENCES = ["weekly", "biweekly"]
_DAYS = {"monday": "mon", "Tue": "tue", "wednesday": "wed", "THU": "thu", "friday": "fri",
         "sat": "sat", "Sunday": "sun"}  # fmt: skip


@given(
    audience=st.one_of(st.none(), st.sampled_from(["<#C0TEAM001|team>", "<!subteam^S0DEVS001>"])),
    cadence=st.one_of(st.none(), st.sampled_from(_CADENCES)),
    day=st.one_of(st.none(), st.sampled_from(sorted(_DAYS))),
    clock=st.one_of(st.none(), st.tuples(st.integers(0, 23), st.integers(0, 59))),
    order=st.randoms(use_true_random=False),
)
def test_start_words_are_read_in_any_order(audience, cadence, day, clock, order) -> None:  # type: ignore[no-untyped-def]
    time = f"{clock[0]}:{clock[1]:02d}" if clock else None
    words = [w for w in (audience, cadence, day, time) if w is not None]
    order.shuffle(words)
    parsed = parse(" ".join(["start", *words]))
    assert isinstance(parsed, Start)
    assert parsed.cadence == (cadence or "biweekly")
    assert parsed.day == (_DAYS[day] if day else "fri")
    assert parsed.time == (f"{clock[0]:02d}:{clock[1]:02d}" if clock else "14:00")
    assert (parsed.audience is None) == (audience is None)


@given(st.text(max_size=80))
def test_any_text_parses_or_is_a_usage_error(text: str) -> None:
    try:
        parse(text)
    except UsageError as error:
        assert error.problem


# ---- /pulse start --------------------------------------------------------------------------


def test_start_stores_the_survey_and_says_who_and_when(bot: Bot) -> None:
    text = start(bot)
    surveys = bot.rows("pulse_surveys")
    assert [(s["channel_id"], s["audience_kind"], s["audience_id"], s["cadence"], s["day"],
             s["time"], s["timezone"], s["active"], s["started_by"]) for s in surveys] == [
        (CHANNEL, "channel", CHANNEL, "biweekly", "fri", "14:00", "Europe/Berlin", 1, ADMIN)
    ]  # fmt: skip
    # The admin and three people; the admin is a person too.
    assert "4 people in <#C0CHAN01>" in text
    assert "every other week on Friday at 14:00 (Europe/Berlin)" in text
    assert "first round goes out 2026-11-27 14:00 CET" in text
    assert "at least 5 respondents" in text
    assert bot.rows("pulse_rounds") == []
    job = bot.server.scheduler.get_job(f"pulse:{surveys[0]['id']}")
    assert job is not None


def test_starting_again_replaces_the_settings(bot: Bot) -> None:
    start(bot)
    text = start(bot, "start <#C0TEAM001|team> weekly monday 9:30")
    assert text.startswith("Pulse survey settings replaced")
    assert "2 people in <#C0TEAM001>" in text
    assert "every week on Monday at 09:30" in text
    assert "2026-11-30 09:30 CET" in text
    surveys = bot.rows("pulse_surveys")
    assert len(surveys) == 1
    assert (surveys[0]["audience_id"], surveys[0]["cadence"], surveys[0]["day"]) == (
        TEAM_CHANNEL, "weekly", "mon"
    )  # fmt: skip


def test_a_user_group_by_id_or_by_handle(bot: Bot) -> None:
    assert "2 people in <!subteam^S0DEVS001>" in start(bot, "start <!subteam^S0DEVS001|@devs>")
    assert "2 people in <!subteam^S0DEVS001>" in start(bot, "start @DEVS")
    assert bot.slack.calls_to("usergroups.users.list")[0]["usergroup"] == "S0DEVS001"


def test_an_unknown_handle_or_unreadable_channel_stores_nothing(bot: Bot) -> None:
    assert "no user group `@nobody`" in start(bot, "start @nobody")
    text = start(bot, "start <#C0SECRET1|secret>")
    assert "<#C0SECRET1>" in text and "/invite @shipshape" in text
    assert bot.rows("pulse_surveys") == []


def test_nobody_to_ask_starts_nothing(bot: Bot, slack: FakeSlack) -> None:
    slack.channel_members["C0BOTS001"] = ["UBOT0001", "USLACKBOT"]
    assert "Nobody there could be asked" in start(bot, "start C0BOTS001")
    assert bot.rows("pulse_surveys") == []


def test_only_admins_start_send_or_stop(bot: Bot) -> None:
    for text in ("start", "now", "stop"):
        reply = bot.command("/pulse", text, user="U0ANNA01")
        assert reply.json["text"].startswith("Only Shipshape admins"), reply.body
    assert bot.rows("pulse_surveys") == []
    assert bot.slack.calls_to("conversations.members") == []


def test_bad_input_is_answered_privately_and_stores_nothing(bot: Bot) -> None:
    reply = bot.command("/pulse", "start fortnightly", user=ADMIN)
    assert reply.json["response_type"] == "ephemeral"
    assert "`fortnightly`" in reply.json["text"]
    assert "For example: `/pulse start biweekly friday 14:00`" in reply.json["text"]
    reply = bot.command("/pulse", "start #deploys", user=ADMIN)
    assert "Run `/pulse start` in that channel" in reply.json["text"]
    assert bot.rows("pulse_surveys") == []


def test_help_and_empty_text(bot: Bot) -> None:
    for text in ("", "help"):
        reply = bot.command("/pulse", text, user="U0ANNA01")
        assert "/pulse start [#CHANNEL|@USERGROUP] [weekly|biweekly] [DAY] [HH:MM]" in reply.text
        assert "Anonymous by construction" in reply.text
        assert "at least 5 respondents" in reply.text


def test_results_are_for_anyone(bot: Bot) -> None:
    start(bot)
    reply = bot.command("/pulse", "results 3 rounds", user="U0ANNA01")
    assert reply.status == 200 and reply.json["response_type"] == "ephemeral"
    assert reply.text


# ---- /pulse now and stop -------------------------------------------------------------------


def test_now_and_stop_need_a_survey(bot: Bot) -> None:
    for text in ("now", "stop"):
        reply = bot.command("/pulse", text, user=ADMIN)
        assert reply.text.startswith("There is no pulse survey in this channel"), reply.body


def test_now_opens_a_round_and_stop_closes_it(bot: Bot) -> None:
    start(bot)
    reply = bot.command("/pulse", "now", user=ADMIN)
    assert reply.text.startswith("Round 1 is open"), reply.body
    assert "closes 2026-11-30 13:00 CET" in reply.text
    settle(bot)
    assert len(bot.slack.calls_to("chat.postMessage")) == 4

    reply = bot.command("/pulse", "stop", user=ADMIN)
    assert "is stopped: no more rounds. Its open round is closed." in reply.text
    settle(bot)
    survey = bot.rows("pulse_surveys")[0]
    assert (survey["active"], survey["stopped_at"]) == (0, "2026-11-24T12:00:00Z")
    (closed,) = bot.rows("pulse_rounds")
    assert closed["closed_at"] == "2026-11-24T12:00:00Z" and closed["hash_key"] is None
    assert table(bot, "pulse_invites") == []
    # Every DM of the round, alike, says the round closed.
    assert len(bot.slack.calls_to("chat.update")) == 4
    assert bot.server.scheduler.get_job(f"pulse:{survey['id']}") is None


# ---- a replayed /pulse now ------------------------------------------------------------------


@pytest.mark.parametrize(
    "replay",
    [{}, {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}],
    ids=["same-trigger", "slack-retry"],
)
def test_a_replayed_now_opens_no_second_round(bot: Bot, replay: dict[str, str]) -> None:
    start(bot)
    first = bot.command("/pulse", "now", user=ADMIN, trigger_id="trigger.now.1")
    assert first.text.startswith("Round 1 is open"), first.body
    settle(bot)
    again = bot.command("/pulse", "now", user=ADMIN, trigger_id="trigger.now.1", headers=replay)
    settle(bot)
    assert again.status == 200
    assert again.text == first.text  # answered as the first was
    (opened,) = bot.rows("pulse_rounds")
    assert opened["closed_at"] is None
    # One set of DMs: the three people of the channel, once each.
    assert len(bot.slack.calls_to("chat.postMessage")) == 4
    assert bot.slack.calls_to("chat.update") == []


def test_a_new_now_still_opens_the_next_round(bot: Bot) -> None:
    start(bot)
    bot.command("/pulse", "now", user=ADMIN, trigger_id="trigger.now.1")
    settle(bot)
    reply = bot.command("/pulse", "now", user=ADMIN, trigger_id="trigger.now.2")
    assert reply.text.startswith("Round 2 is open"), reply.body
    settle(bot)
    rounds = bot.rows("pulse_rounds")
    assert [r["closed_at"] is None for r in rounds] == [False, True]
