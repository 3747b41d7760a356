"""/dora subscribe, unsubscribe and subscriptions through the real app, the subscribe parser
(with a property test), and the pure run-time math the schedule and the replies share.

Clock: 2026-11-24T12:00:00Z, a Tuesday in ISO week 48 (13:00 CET in Europe/Berlin, the
team time zone). U0ADMIN1 is in SHIPSHAPE_ADMINS; U0ALICE1 is nobody special.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

import pendulum
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.core.errors import UsageError
from bot.core.weeks import this_weeks_run
from bot.scheduling import next_run, trigger
from commands import _fields as fields
from commands import dora
from storage.subscriptions import Subscription
from tests.conftest import Bot

ADMIN = "U0ADMIN1"
CHANNEL = "C0CHAN01"
OTHER = "C0OTHER1"
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Auckland"]


def moment(text: str) -> pendulum.DateTime:
    parsed = pendulum.parse(text)
    assert isinstance(parsed, pendulum.DateTime)
    return parsed


def sub(day: str = "mon", time: str = "09:00", tz: str = "Europe/Berlin") -> Subscription:
    return Subscription(
        channel_id=CHANNEL,
        day=day,
        time=time,
        timezone=tz,
        service=None,
        enabled=1,
        disabled_reason=None,
        created_by=ADMIN,
        created_at="2026-11-01T00:00:00Z",
        updated_at="2026-11-01T00:00:00Z",
    )


def settle(bot: Bot) -> None:
    assert bot.server.wait_idle(10), "listeners still running after 10 s"


def posts(bot: Bot) -> list[dict[str, Any]]:
    return bot.slack.calls_to("chat.postMessage")


def subscribe(
    bot: Bot, text: str = "", channel: str = CHANNEL, user: str = ADMIN
) -> dict[str, Any]:
    """A subscription change an admin makes; returns the confirmation posted in the channel."""
    before = len(posts(bot))
    reply = bot.command("/dora", f"subscribe {text}".strip(), user=user, channel=channel)
    assert reply.status == 200 and reply.body == "", reply.body
    confirmation = bot.slack.wait_for("chat.postMessage", before + 1)[-1]
    settle(bot)
    assert confirmation["channel"] == channel
    return confirmation


def refused(bot: Bot, text: str, user: str = ADMIN) -> str:
    """An ephemeral refusal; nothing stored, nothing posted, no job."""
    reply = bot.command("/dora", text, user=user)
    assert reply.status == 200, reply.body
    assert reply.json["response_type"] == "ephemeral", reply.body
    settle(bot)
    assert rows(bot) == []
    assert posts(bot) == []
    assert bot.server.scheduler.get_job(f"summary:{CHANNEL}") is None
    return reply.text


def rows(bot: Bot) -> list[dict[str, Any]]:
    """The subscriptions as stored (Bot.rows orders by an id this table does not have)."""
    conn = sqlite3.connect(bot.db_path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM subscriptions ORDER BY channel_id")]
    finally:
        conn.close()


# ---- subscribe ---------------------------------------------------------------------------


def test_subscribe_with_defaults(bot: Bot) -> None:
    confirmation = subscribe(bot)
    assert confirmation["text"] == (
        "Weekly summary every Monday at 09:00 (Europe/Berlin), all services, in this channel; "
        "next on Mon 30 Nov 09:00. Set up by <@U0ADMIN1>; `/dora unsubscribe` stops it."
    )
    (row,) = rows(bot)
    assert row | {"created_at": None, "updated_at": None} == {
        "channel_id": CHANNEL,
        "day": "mon",
        "time": "09:00",
        "timezone": "Europe/Berlin",
        "service": None,
        "enabled": 1,
        "disabled_reason": None,
        "created_by": ADMIN,
        "created_at": None,
        "updated_at": None,
        "team": None,
    }
    assert row["created_at"] == row["updated_at"] == "2026-11-24T12:00:00Z"
    job = bot.server.scheduler.get_job(f"summary:{CHANNEL}")
    assert job is not None
    assert job.args[-1] == CHANNEL


def test_subscribe_words_in_any_order_and_case(bot: Bot) -> None:
    confirmation = subscribe(bot, "service=api America/New_York 7:30 FRIDAY")
    assert confirmation["text"].startswith(
        "Weekly summary every Friday at 07:30 (America/New_York), api only, in this channel; "
        "next on Fri 27 Nov 07:30."
    )
    (row,) = rows(bot)
    assert (row["day"], row["time"], row["timezone"], row["service"]) == (
        "fri",
        "07:30",
        "America/New_York",
        "api",
    )
    job = bot.server.scheduler.get_job(f"summary:{CHANNEL}")
    fields = {f.name: str(f) for f in job.trigger.fields}
    assert (fields["day_of_week"], fields["hour"], fields["minute"]) == ("fri", "7", "30")
    assert str(job.trigger.timezone) == "America/New_York"


def test_subscribing_again_replaces_and_says_what_changed(bot: Bot) -> None:
    subscribe(bot)
    confirmation = subscribe(bot, "tue 10:00")
    assert confirmation["text"] == (
        "Weekly summary in this channel changed to every Tuesday at 10:00 (Europe/Berlin), "
        "all services (was every Monday at 09:00 (Europe/Berlin), all services); "
        "next on Tue 1 Dec 10:00. Changed by <@U0ADMIN1>."
    )
    (row,) = rows(bot)
    assert (row["day"], row["time"]) == ("tue", "10:00")
    assert row["created_at"] == "2026-11-24T12:00:00Z"
    job = bot.server.scheduler.get_job(f"summary:{CHANNEL}")
    assert {f.name: str(f) for f in job.trigger.fields}["day_of_week"] == "tue"
    assert [j.id for j in bot.server.scheduler.get_jobs() if j.id.startswith("summary")] == [
        f"summary:{CHANNEL}"
    ]


def test_subscribing_again_the_same_way_changes_nothing(bot: Bot) -> None:
    subscribe(bot, "monday")
    stored = rows(bot)
    bot.clock.advance(days=1)
    confirmation = subscribe(bot, "mon 09:00 Europe/Berlin")
    assert confirmation["text"] == (
        "This channel already gets the weekly summary every Monday at 09:00 (Europe/Berlin), "
        "all services; next on Mon 30 Nov 09:00. Nothing changed."
    )
    assert rows(bot) == stored  # updated_at too: it still counts from the first time


def test_a_time_zone_in_lower_case_is_understood(bot: Bot) -> None:
    subscribe(bot, "europe/london")
    assert rows(bot)[0]["timezone"] == "Europe/London"


def test_a_private_channel_without_the_bot_is_told_to_invite_it(bot: Bot) -> None:
    bot.slack.fail_next("chat.postMessage", "not_in_channel")
    reply = bot.command("/dora", "subscribe", user=ADMIN)
    assert reply.status == 200 and reply.body == ""
    answers = bot.slack.wait_for("response_url", 2)
    assert answers[0]["response_type"] == "in_channel"
    assert answers[0]["text"].startswith("Weekly summary every Monday")
    assert answers[1]["response_type"] == "ephemeral"
    assert "invite me with `/invite @shipshape`" in answers[1]["text"]
    assert len(rows(bot)) == 1


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("subscribe funday", "I can't read `funday` as a day (monday to sunday), a time"),
        ("subscribe 25:00", "`25:00` is not a time of day: use 24-hour HH:MM"),
        ("subscribe 9:60", "`9:60` is not a time of day"),
        ("subscribe 9am", "I can't read `9am` as a day"),
        ("subscribe Europe/Berlim", "I can't read `Europe/Berlim` as a day"),
        ("subscribe localtime/x", "I can't read `localtime/x`"),
        ("subscribe mon tue", "Two days, `mon` and `tue`: give one."),
        ("subscribe 09:00 10:00", "Two times, `09:00` and `10:00`: give one."),
        ("subscribe UTC Europe/Berlin", "Two time zones, `UTC` and `Europe/Berlin`"),
        ("subscribe service=-api", "-api"),
        ("subscribe env=prod", "`env=` is not an option here. Options: `service=`, `team=`."),
        ("unsubscribe now", "I did not expect `now` there. The form is `/dora unsubscribe`"),
        ("subscriptions all", "I did not expect `all` there."),
    ],
)
def test_bad_subscribe_input_is_named_with_an_example(bot: Bot, text: str, problem: str) -> None:
    answer = refused(bot, text)
    assert answer.startswith(":warning: ")
    assert problem in answer
    assert "For example: `" in answer


def test_only_admins_subscribe_or_unsubscribe(bot: Bot) -> None:
    for text in ("subscribe", "unsubscribe"):
        answer = refused(bot, text, user="U0ALICE1")
        assert answer.startswith("Only Shipshape admins can subscribe a channel")
        assert "SHIPSHAPE_ADMINS" in answer and "workspace admins and owners" in answer
    assert [c["user"] for c in bot.slack.calls_to("users.info")] == ["U0ALICE1", "U0ALICE1"]


def test_a_workspace_admin_may_subscribe(bot: Bot) -> None:
    bot.slack.users["U0OWNER1"] = {"id": "U0OWNER1", "is_owner": True}
    confirmation = subscribe(bot, user="U0OWNER1")
    assert "Set up by <@U0OWNER1>" in confirmation["text"]


# ---- unsubscribe and the list -----------------------------------------------------------


def test_unsubscribe_stops_it_and_removes_the_job(bot: Bot) -> None:
    subscribe(bot, "wed 16:00")
    before = len(posts(bot))
    reply = bot.command("/dora", "unsubscribe", user=ADMIN)
    assert reply.body == ""
    stopped = bot.slack.wait_for("chat.postMessage", before + 1)[-1]
    settle(bot)
    assert stopped["text"] == (
        "Weekly summary stopped in this channel (it was every Wednesday at 16:00 "
        "(Europe/Berlin), all services). Stopped by <@U0ADMIN1>."
    )
    assert rows(bot) == []
    assert bot.server.scheduler.get_job(f"summary:{CHANNEL}") is None


def test_unsubscribe_where_there_is_nothing(bot: Bot) -> None:
    answer = refused(bot, "unsubscribe")
    assert answer.startswith("This channel has no weekly summary, so there is nothing to stop.")


def test_subscriptions_lists_every_channel_to_anyone(bot: Bot) -> None:
    assert refused(bot, "subscriptions", user="U0ALICE1").startswith(
        "No channel gets the weekly summary yet. An admin can start one in a channel with "
        "`/dora subscribe monday 09:00 Europe/Berlin service=api`."
    )
    subscribe(bot, "service=api", channel=OTHER)
    subscribe(bot, "fri 16:30 UTC")
    reply = bot.command("/dora", "subscriptions", user="U0ALICE1")
    assert reply.json["response_type"] == "ephemeral"
    assert reply.text == (
        "*Weekly summaries in this workspace*\n"
        "• <#C0CHAN01>: every Friday at 16:30 (UTC), all services\n"
        "• <#C0OTHER1>: every Monday at 09:00 (Europe/Berlin), api only"
    )


def test_help_mentions_the_subscribe_commands(bot: Bot) -> None:
    text = bot.command("/dora", "help").text
    assert "`/dora subscribe [DAY] [HH:MM] [TZ] [service=SERVICE|team=TEAM]`" in text
    assert "`/dora unsubscribe`" in text and "`/dora subscriptions`" in text


# ---- the parser --------------------------------------------------------------------------


def test_parse_defaults_to_monday_nine_in_the_team_zone() -> None:
    assert dora.parse_subscribe("subscribe", "Asia/Kolkata") == dora.Subscribe(
        "mon", "09:00", "Asia/Kolkata", None
    )


DAY_WORDS = st.sampled_from(sorted(fields.DAY_WORDS)).flatmap(
    lambda w: st.sampled_from([w, w.upper(), w.capitalize()])
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    day=st.none() | DAY_WORDS,
    hour=st.none() | st.integers(0, 23),
    minute=st.integers(0, 59),
    short_hour=st.booleans(),
    tz=st.none() | st.sampled_from(ZONES),
    service=st.none() | st.sampled_from(["api", "web/app", "checkout-web", "a.b_c"]),
    order=st.randoms(use_true_random=False),
)
def test_valid_subscribe_text_round_trips(
    day: str | None,
    hour: int | None,
    minute: int,
    short_hour: bool,
    tz: str | None,
    service: str | None,
    order: Any,
) -> None:
    clock = None
    if hour is not None:
        clock = f"{hour}:{minute:02d}" if short_hour else f"{hour:02d}:{minute:02d}"
    words = [w for w in (day, clock, tz) if w is not None]
    if service:
        words.append(f"service={service}")
    order.shuffle(words)
    parsed = dora.parse_subscribe(" ".join(["subscribe", *words]), "Europe/Berlin")
    assert parsed == dora.Subscribe(
        day=day[:3].lower() if day else "mon",  # every day word starts with its name
        time="09:00" if hour is None else f"{hour:02d}:{minute:02d}",
        timezone=tz or "Europe/Berlin",
        service=service,
    )


SUBSCRIBE_WORDS = [
    "mon", "Sunday", "sun", "funday", "9:00", "09:00", "24:00", "23:59", "0:0", "1:2:3",
    "٣:٠٠", "１２:００", "UTC", "utc", "Europe/Berlin", "europe/BERLIN", "../etc", "/etc/passwd",
    "Europe/", "\x00", "localtime", "service=api", "service=", "service=@bob", "env=x", "--x",
    '"', "“", "<@U0BOB0001>", "&lt;", "x" * 200,
]  # fmt: skip


@settings(max_examples=500, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from(SUBSCRIBE_WORDS) | st.text(max_size=15), max_size=6))
@example(["x" * 2100])
def test_subscribe_parse_answers_or_refuses(words: list[str]) -> None:
    text = " ".join(["subscribe", *words])
    try:
        request = dora.parse(text, "Europe/Berlin", moment("2026-11-24T12:00:00Z"))
    except UsageError as error:
        assert error.problem.strip()
        return
    assert isinstance(request, dora.Subscribe | dora.NamesAPerson), request


# ---- when it runs ------------------------------------------------------------------------


def test_the_trigger_uses_day_names_in_the_subscriptions_zone() -> None:
    cron = trigger(sub())
    assert {f.name: str(f) for f in cron.fields}["day_of_week"] == "mon"
    # Monday 09:00 in Berlin is 08:00Z in winter (CET) and 07:00Z in summer (CEST).
    assert cron.get_next_fire_time(None, datetime(2026, 1, 1, tzinfo=UTC)) == datetime(
        2026, 1, 5, 8, tzinfo=UTC
    )
    assert cron.get_next_fire_time(None, datetime(2026, 7, 1, tzinfo=UTC)) == datetime(
        2026, 7, 6, 7, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("subscription", "now", "this_week", "upcoming"),
    [
        # Tuesday 24 Nov 13:00 CET: Monday's run is behind, the next is Monday 30 Nov.
        (sub(), "2026-11-24T12:00Z", "2026-11-23T08:00Z", "2026-11-30T08:00Z"),
        # Monday 23 Nov 08:59 CET: today's run is still ahead.
        (sub(), "2026-11-23T07:59Z", "2026-11-23T08:00Z", "2026-11-23T08:00Z"),
        # Sunday 22 Nov 23:30Z is Monday 00:30 in Berlin: ISO week 48 there already.
        (sub(), "2026-11-22T23:30Z", "2026-11-23T08:00Z", "2026-11-23T08:00Z"),
        # Sunday 16:00 in New York, seen on Monday 23 Nov 03:00Z (still Sunday 22:00 there).
        (sub("sun", "16:00", "America/New_York"), "2026-11-23T03:00Z",
         "2026-11-22T21:00Z", "2026-11-29T21:00Z"),
        # The week of the spring change: Monday 30 March 2026 09:00 CEST is 07:00Z.
        (sub(), "2026-03-31T12:00Z", "2026-03-30T07:00Z", "2026-04-06T07:00Z"),
        # Auckland is 13 hours ahead: Friday 17:00 there is Friday 04:00Z.
        (sub("fri", "17:00", "Pacific/Auckland"), "2026-11-24T12:00Z",
         "2026-11-27T04:00Z", "2026-11-27T04:00Z"),
    ],
)  # fmt: skip
def test_runs_around_a_moment(
    subscription: Subscription, now: str, this_week: str, upcoming: str
) -> None:
    at = moment(now)
    assert this_weeks_run(subscription, at) == moment(this_week)
    assert next_run(subscription, at) == moment(upcoming)
