"""Weekly summaries reach Slack once per channel and week: through the scheduler's real job,
across restarts and two servers on one database, after failed posts and dead processes
(`shipshape summary --post`: tests/e2e/test_summary_cli.py).

The subscription is made at 2026-11-24T12:00:00Z (Tuesday of ISO week 48, 13:00 CET):
Monday 09:00 Europe/Berlin, so its first run is Monday 30 Nov 08:00Z, summarising week 48.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.core.clock import FixedClock
from bot.summary.post import AlreadyPosted, Disabled, Failed, InProgress, Posted, PostResult
from tests.conftest import Bot
from tests.fakes import records
from tests.fakes.fake_slack import FakeSlack
from tests.scenario.conftest import running_bot

ADMIN = "U0ADMIN1"
CHANNEL = "C0CHAN01"
JOB = f"summary:{CHANNEL}"
RETRY = f"summary-retry:{CHANNEL}"
FIRST_RUN = "2026-11-30T08:00:00Z"  # Monday 09:00 CET


# ---- helpers -----------------------------------------------------------------------------


def table(db_path: Path, name: str) -> list[dict[str, Any]]:
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(f"SELECT * FROM {name} ORDER BY 1, 2")]
    finally:
        conn.close()


def summaries(slack: FakeSlack) -> list[dict[str, Any]]:
    """Every chat.postMessage of a weekly summary, the refused ones included."""
    return [
        c for c in slack.calls_to("chat.postMessage") if c["text"].startswith("Weekly summary 20")
    ]


def subscribe(bot: Bot, text: str = "") -> None:
    before = len(bot.slack.calls_to("chat.postMessage"))
    reply = bot.command("/dora", f"subscribe {text}".strip(), user=ADMIN, channel=CHANNEL)
    assert reply.status == 200 and reply.body == "", reply.body
    bot.slack.wait_for("chat.postMessage", before + 1)
    assert bot.server.wait_idle(10)


def started(bot: Bot) -> Bot:
    """The bot once its start-up catch-up has finished."""
    assert bot.server.summaries_caught_up.wait(10), "the start-up catch-up did not finish"
    return bot


def run_job(bot: Bot, job_id: str = JOB) -> PostResult | None:
    """What the scheduler does when the job is due: its own function with its own args."""
    job = bot.server.scheduler.get_job(job_id)
    assert job is not None, f"no job {job_id}"
    return job.func(*job.args)


@pytest.fixture
def subscribed(bot: Bot) -> Iterator[Bot]:
    """A Monday 09:00 subscription, with the clock at its first run."""
    started(bot)
    with bot.server.store.write() as db:
        records.deploy(db, "2026-11-25T10:00:00Z")
        records.deploy(db, "2026-11-26T10:00:00Z", service="web")
    subscribe(bot)
    bot.clock.set(FIRST_RUN)
    yield bot


# ---- the scheduled job -------------------------------------------------------------------


def test_the_job_posts_the_summary_and_uploads_the_chart(subscribed: Bot) -> None:
    slack = subscribed.slack
    result = run_job(subscribed)
    (post,) = summaries(slack)
    assert isinstance(result, Posted) and result.chart
    assert result.week == "2026-W48"
    assert post["channel"] == CHANNEL
    assert post["text"].startswith("Weekly summary 2026-W48: all services")
    header = post["blocks"][0]
    assert (header["type"], header["text"]["text"]) == (
        "header",
        "Weekly summary 2026-W48: all services",
    )
    assert any("Deployment frequency" in str(b) for b in post["blocks"])
    (asked,) = slack.calls_to("files.getUploadURLExternal")
    (upload,) = slack.calls_to("upload")
    (completed,) = slack.calls_to("files.completeUploadExternal")
    assert asked["filename"] == "shipshape-2026-W48.png"
    assert upload["bytes"].startswith(b"\x89PNG\r\n\x1a\n")
    assert int(asked["length"]) == len(upload["bytes"])
    assert completed["channel_id"] == CHANNEL
    assert completed["files"] == [
        {
            "id": upload["file_id"],
            "title": "Deployments and change failure rate per week, 12 weeks up to 2026-W48",
        }
    ]
    assert "thread_ts" not in completed  # in the channel, right after the summary
    assert table(subscribed.db_path, "summary_claims") == [
        {
            "channel_id": CHANNEL,
            "week": "2026-W48",
            "claimed_at": FIRST_RUN,
            "lease_until": "2026-11-30T08:10:00Z",
            "holder": table(subscribed.db_path, "summary_claims")[0]["holder"],
            "message_ts": result.ts,
            "posted_at": FIRST_RUN,
        }
    ]


def test_running_the_job_twice_posts_once(subscribed: Bot) -> None:
    first = run_job(subscribed)
    subscribed.clock.advance(minutes=20)  # past the lease: only the ts keeps it
    second = run_job(subscribed)
    assert isinstance(first, Posted)
    assert second == AlreadyPosted("2026-W48", first.ts, FIRST_RUN)
    assert len(summaries(subscribed.slack)) == 1
    assert len(subscribed.slack.calls_to("upload")) == 1


def test_two_servers_on_one_database_post_once(
    tmp_path: Path, slack: FakeSlack, clock: FixedClock
) -> None:
    with running_bot(tmp_path, slack, clock) as one:
        subscribe(started(one))
        with running_bot(tmp_path, slack, clock) as two:
            started(two)
            assert two.server.scheduler.get_job(JOB) is not None  # read from the database
            clock.set(FIRST_RUN)
            gate = threading.Barrier(2)
            results: list[PostResult | None] = []

            def fire(bot: Bot) -> None:
                gate.wait()
                results.append(run_job(bot))

            threads = [threading.Thread(target=fire, args=(b,)) for b in (one, two)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(30)
    assert len(summaries(slack)) == 1
    assert len(slack.calls_to("upload")) == 1
    kinds = sorted(type(r).__name__ for r in results)
    assert kinds in (["AlreadyPosted", "Posted"], ["InProgress", "Posted"]), results


# ---- restarts ----------------------------------------------------------------------------


def test_a_run_missed_while_down_is_posted_once_at_the_next_start(
    tmp_path: Path, slack: FakeSlack, clock: FixedClock
) -> None:
    with running_bot(tmp_path, slack, clock) as bot:
        subscribe(started(bot))
    clock.set("2026-11-30T10:00:00Z")  # Monday 11:00 CET: the 09:00 run was missed
    with running_bot(tmp_path, slack, clock) as again:
        started(again)
        (post,) = summaries(slack)
        assert post["text"].startswith("Weekly summary 2026-W48")
        assert len(slack.calls_to("upload")) == 1
    clock.set("2026-12-02T10:00:00Z")  # a restart later the same week
    with running_bot(tmp_path, slack, clock) as third:
        started(third)
    assert len(summaries(slack)) == 1
    (claim,) = table(tmp_path / "shipshape.db", "summary_claims")
    assert (claim["week"], claim["posted_at"]) == ("2026-W48", "2026-11-30T10:00:00Z")


def test_a_start_before_this_weeks_run_posts_nothing(
    tmp_path: Path, slack: FakeSlack, clock: FixedClock
) -> None:
    with running_bot(tmp_path, slack, clock) as bot:
        subscribe(started(bot))
    clock.set("2026-11-30T07:59:00Z")  # Monday 08:59 CET
    with running_bot(tmp_path, slack, clock) as again:
        started(again)
    assert summaries(slack) == []
    assert table(tmp_path / "shipshape.db", "summary_claims") == []


def test_a_subscription_made_after_this_weeks_run_did_not_miss_it(
    tmp_path: Path, slack: FakeSlack, clock: FixedClock
) -> None:
    with running_bot(tmp_path, slack, clock) as bot:
        subscribe(started(bot))  # Tuesday; Monday's run was before it existed
    with running_bot(tmp_path, slack, clock) as again:
        started(again)
    assert summaries(slack) == []


def test_after_weeks_down_only_the_last_complete_week_is_posted(
    tmp_path: Path, slack: FakeSlack, clock: FixedClock
) -> None:
    with running_bot(tmp_path, slack, clock) as bot:
        subscribe(started(bot))
    # Down through the runs of 30 Nov (week 48) and up on Monday 7 Dec 11:00 CET: the run
    # missed this week is the one of week 49; week 48's chance went with its own week.
    clock.set("2026-12-07T10:00:00Z")
    with running_bot(tmp_path, slack, clock) as again:
        started(again)
    (post,) = summaries(slack)
    assert post["text"].startswith("Weekly summary 2026-W49")
    assert [c["week"] for c in table(tmp_path / "shipshape.db", "summary_claims")] == ["2026-W49"]


# ---- failures ----------------------------------------------------------------------------


def test_a_failed_post_releases_the_claim_and_the_retry_posts_once(subscribed: Bot) -> None:
    subscribed.slack.fail_next("chat.postMessage", "internal_error")
    assert run_job(subscribed) == Failed("2026-W48", "internal_error")
    assert table(subscribed.db_path, "summary_claims") == []
    assert subscribed.slack.calls_to("upload") == []
    retry = subscribed.server.scheduler.get_job(RETRY)
    assert retry is not None and retry.args[2:] == (CHANNEL, 1, 2026, 48)
    assert str(retry.trigger) == "interval[0:15:00]"
    subscribed.clock.advance(minutes=15)
    result = run_job(subscribed, RETRY)
    assert isinstance(result, Posted) and result.week == "2026-W48"
    assert subscribed.server.scheduler.get_job(RETRY) is None
    assert len(summaries(subscribed.slack)) == 2  # the refused one and the one that went out
    assert len(subscribed.slack.calls_to("upload")) == 1
    assert run_job(subscribed) == AlreadyPosted("2026-W48", result.ts, "2026-11-30T08:15:00Z")


def test_retries_stop_after_four(subscribed: Bot) -> None:
    for _ in range(5):
        subscribed.slack.fail_next("chat.postMessage", "internal_error")
    assert isinstance(run_job(subscribed), Failed)
    for attempt in range(1, 5):
        assert subscribed.server.scheduler.get_job(RETRY).args[3] == attempt
        assert isinstance(run_job(subscribed, RETRY), Failed)
    assert subscribed.server.scheduler.get_job(RETRY) is None
    assert subscribed.server.scheduler.get_job(JOB) is not None  # next week runs as usual
    assert len(summaries(subscribed.slack)) == 5
    assert table(subscribed.db_path, "summary_claims") == []


@pytest.mark.parametrize(
    ("code", "why"),
    [
        ("channel_not_found", "Slack could not find the channel"),
        ("not_in_channel", "I am not a member of the channel"),
        ("is_archived", "the channel is archived"),
    ],
)
def test_a_channel_slack_refuses_disables_the_subscription(
    subscribed: Bot, code: str, why: str
) -> None:
    subscribed.slack.fail_next("chat.postMessage", code)
    assert run_job(subscribed) == Disabled("2026-W48", code)
    assert subscribed.server.scheduler.get_job(JOB) is None
    assert subscribed.server.scheduler.get_job(RETRY) is None
    assert table(subscribed.db_path, "summary_claims") == []
    (row,) = table(subscribed.db_path, "subscriptions")
    assert (row["enabled"], row["disabled_reason"]) == (0, code)
    listed = subscribed.command("/dora", "subscriptions").text
    assert (
        f"• <#{CHANNEL}>: every Monday at 09:00 (Europe/Berlin), all services. *Stopped*: {why}"
        in listed
    )
    assert f"({code}). An admin's `/dora subscribe` there starts it again." in listed
    subscribe(subscribed)  # an admin fixes the channel and subscribes again
    assert subscribed.server.scheduler.get_job(JOB) is not None
    assert table(subscribed.db_path, "subscriptions")[0]["enabled"] == 1


def test_a_failed_chart_upload_keeps_the_summary_posted(subscribed: Bot) -> None:
    subscribed.slack.fail_next("files.getUploadURLExternal", "internal_error")
    result = run_job(subscribed)
    assert isinstance(result, Posted) and not result.chart
    assert subscribed.server.scheduler.get_job(RETRY) is None
    assert isinstance(run_job(subscribed), AlreadyPosted)
    assert len(summaries(subscribed.slack)) == 1


def test_a_claim_whose_holder_died_is_taken_over(subscribed: Bot) -> None:
    with subscribed.server.store.write() as db:
        db.conn.execute(
            """INSERT INTO summary_claims (channel_id, week, claimed_at, lease_until, holder)
               VALUES (?, '2026-W48', '2026-11-30T07:40:00Z', '2026-11-30T07:50:00Z', 'dead')""",
            (CHANNEL,),
        )
    result = run_job(subscribed)
    assert isinstance(result, Posted)
    (claim,) = table(subscribed.db_path, "summary_claims")
    assert claim["holder"] != "dead"
    assert (claim["claimed_at"], claim["message_ts"]) == (FIRST_RUN, result.ts)
    assert len(summaries(subscribed.slack)) == 1


def test_a_claim_being_posted_elsewhere_is_left_alone(subscribed: Bot) -> None:
    with subscribed.server.store.write() as db:
        db.conn.execute(
            """INSERT INTO summary_claims (channel_id, week, claimed_at, lease_until, holder)
               VALUES (?, '2026-W48', '2026-11-30T07:59:00Z', '2026-11-30T08:09:00Z', 'alive')""",
            (CHANNEL,),
        )
    assert run_job(subscribed) == InProgress("2026-W48", "2026-11-30T07:59:00Z")
    assert summaries(subscribed.slack) == []
    assert table(subscribed.db_path, "summary_claims")[0]["holder"] == "alive"


def test_the_job_of_a_channel_unsubscribed_elsewhere_posts_nothing(subscribed: Bot) -> None:
    with subscribed.server.store.write() as db:  # as another process would
        db.conn.execute("DELETE FROM subscriptions")
    assert run_job(subscribed) is None
    assert subscribed.server.scheduler.get_job(JOB) is None
    assert summaries(subscribed.slack) == []


# ---- shipshape summary --post ------------------------------------------------------------
