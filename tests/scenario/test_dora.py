"""/dora and the App Home through the real app: signed requests, the loopback Slack fake
and a real SQLite file. Clock: 2026-11-24T12:00:00Z, a Tuesday (13:00 CET in Europe/Berlin).

The history (all times UTC; "prod" is the default production environment):
  #1 api 2026-11-12 10:00            (previous 7 days)
  #2 api 2026-11-18 10:00
  #3 api 2026-11-19 10:00            caused incident #1 (11:00 to 12:30: 1h 30m)
  #4 api 2026-11-20 10:00 --hotfix   rolled back by #5
  #5 api 2026-11-20 15:00 --rollback=4
  #6 api 2026-11-21 10:00 status=failed (a failed attempt)
  #7 web 2026-11-21 10:00            incident #2 deploy=none (11:00 to 11:20)
  #8 api 2026-11-22 10:00 env=staging
  incident #3 on api, deploy=none, opened 2026-11-23 09:00, still open
"""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Any

import pytest

from bot.metrics.definitions import SOURCE
from tests.conftest import Bot, Reply, sign
from tests.fakes.fake_slack import TEAM

CHANNEL = "C0CHAN01"
NO_DEPLOYMENTS = "no deployments in this window"
NOT_INDIVIDUALS = "Shipshape reports teams, services and environments, never individuals"


# ---- helpers -----------------------------------------------------------------------------


def settle(bot: Bot) -> None:
    assert bot.server.wait_idle(10), "listeners still running after 10 s"


def record(bot: Bot, command: str, text: str) -> None:
    """A /deploy or /incident that the bot confirms in the channel."""
    before = len(bot.slack.calls_to("chat.postMessage"))
    reply = bot.command(command, text)
    assert reply.status == 200 and reply.body == "", reply.body
    bot.slack.wait_for("chat.postMessage", count=before + 1)
    settle(bot)


def resolve(bot: Bot, text: str) -> None:
    reply = bot.command("/incident", f"resolve {text}")
    assert reply.json["text"].startswith("Incident #"), reply.body
    settle(bot)


@pytest.fixture
def history(bot: Bot) -> Bot:
    record(bot, "/deploy", "api v1 at=2026-11-12T10:00Z")
    record(bot, "/deploy", "api v2 at=2026-11-18T10:00Z")
    record(bot, "/deploy", "api v3 at=2026-11-19T10:00Z")
    record(bot, "/deploy", "api v4 at=2026-11-20T10:00Z --hotfix")
    record(bot, "/deploy", "api v3 at=2026-11-20T15:00Z --rollback=4")
    record(bot, "/deploy", "api v5 at=2026-11-21T10:00Z status=failed")
    record(bot, "/deploy", "web w1 at=2026-11-21T10:00Z")
    record(bot, "/deploy", "api v5 env=staging at=2026-11-22T10:00Z")
    record(bot, "/incident", "open api Checkout errors at=2026-11-19T11:00Z")
    resolve(bot, "1 at=2026-11-19T12:30Z")
    record(bot, "/incident", "open web Slow pages deploy=none at=2026-11-21T11:00Z")
    resolve(bot, "2 at=2026-11-21T11:20Z")
    record(bot, "/incident", "open api Latency deploy=none at=2026-11-23T09:00Z")
    deploys = {r["id"]: r for r in bot.rows("deploys")}
    assert [i["deploy_id"] for i in bot.rows("incidents")] == [3, None, None]
    assert deploys[5]["rollback_of"] == 4
    return bot


def dora(bot: Bot, text: str) -> Reply:
    reply = bot.command("/dora", text)
    assert reply.status == 200, reply.body
    assert reply.json["response_type"] == "ephemeral", reply.body
    return reply


def sections(blocks: list[dict[str, Any]]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "section"]


def metric(blocks: list[dict[str, Any]], name: str) -> str:
    (found,) = [s for s in sections(blocks) if s.startswith(f"*{name}*")]
    return found


def header(blocks: list[dict[str, Any]]) -> str:
    return next(b["text"]["text"] for b in blocks if b["type"] == "header")


def contexts(blocks: list[dict[str, Any]]) -> list[str]:
    return [e["text"] for b in blocks if b["type"] == "context" for e in b["elements"]]


def cards_posted(bot: Bot) -> list[dict[str, Any]]:
    return [
        c for c in bot.slack.calls_to("chat.postMessage") if c["text"].startswith("Delivery health")
    ]


def assert_nothing_posted(bot: Bot) -> None:
    settle(bot)
    assert cards_posted(bot) == []
    assert bot.slack.calls_to("response_url") == []


# ---- the card ----------------------------------------------------------------------------


def test_one_service_over_seven_days(history: Bot) -> None:
    reply = dora(history, "api 7d")
    blocks = reply.json["blocks"]
    assert header(blocks) == "Delivery health: api, production"
    # 7 days up to 13:00 CET; the previous 7 days before that.
    assert contexts(blocks)[0] == (
        "2026-11-17 13:00 CET up to 2026-11-24 13:00 CET; "
        "compared with 2026-11-10 13:00 CET up to 2026-11-17 13:00 CET"
    )
    # 4 deployments (#2 to #5) on 3 Berlin days; 4/7 a day is "high"; 1 the week before.
    assert metric(blocks, "Deployment frequency") == (
        "*Deployment frequency*: 4 (4.0 a week) · *high*\n"
        "↑ 300% (was 1) · 4 deployments on 3 deploy days\n"
        "1 failed deploy attempt (never reached production; in no metric)"
    )
    # No changes are known: lead time is unknown, not zero.
    assert metric(blocks, "Change lead time") == (
        "*Change lead time*: no changes known for these deployments\n"
        "lead time known for 0 of 4 deployments (0 changes)"
    )
    # #3 caused an incident and #4 was rolled back: 2 of 4, above 15% is "low".
    assert metric(blocks, "Change failure rate") == (
        "*Change failure rate*: 50.0% · *low*\n"
        "↑ 50.0 pts (was 0.0%) · "
        "2 of 4 deployments failed in production (an incident or a rollback)"
    )
    # Incident #1: 11:00 to 12:30. Under a day is "high"; nothing recovered the week before.
    assert metric(blocks, "Failed deployment recovery time") == (
        "*Failed deployment recovery time*: median 1h 30m, p90 1h 30m · *high*\n"
        "new (none in the window before) · "
        "1 incident caused by a deployment, resolved in this window"
    )
    # Beside it, time to restore over every incident (the same one here).
    assert metric(blocks, "Time to restore, all incidents") == (
        "*Time to restore, all incidents*: median 1h 30m, p90 1h 30m\n"
        "new (none in the window before) · "
        "1 incident resolved in this window, caused by a deploy or not"
    )
    # The hotfix #4 and the rollback #5; rework has no band.
    assert metric(blocks, "Deployment rework rate") == (
        "*Deployment rework rate*: 50.0%\n"
        "↑ 50.0 pts (was 0.0%) · 2 of 4 deployments were hotfixes or rollbacks"
    )
    assert contexts(blocks)[-1].startswith(f"Bands: {SOURCE}.")
    assert "`/dora help`" in contexts(blocks)[-1]
    # The fallback text carries the same numbers for notifications and screen readers.
    assert reply.text.startswith("Delivery health: api, production\n2026-11-17 13:00 CET")
    assert "*Change failure rate*: 50.0% · *low*" in reply.text
    assert_nothing_posted(history)


def test_default_is_all_services_over_thirty_days(history: Bot) -> None:
    blocks = dora(history, "").json["blocks"]
    assert header(blocks) == "Delivery health: all services, production"
    assert contexts(blocks)[0].startswith("2026-10-25 13:00 CET up to 2026-11-24 13:00 CET;")
    # api #1 to #5 and web #7: 6 in 30 days, 1.4 a week, on 5 Berlin days.
    assert metric(blocks, "Deployment frequency").startswith(
        "*Deployment frequency*: 6 (1.4 a week) · *high*\n"
        "new (none in the window before) · 6 deployments on 5 deploy days"
    )
    assert metric(blocks, "Change failure rate").startswith(
        "*Change failure rate*: 33.3% · *low*\nnew (none in the window before) · 2 of 6"
    )


def test_all_services_last_week(history: Bot) -> None:
    blocks = dora(history, "all last week").json["blocks"]
    # Monday 16 to Monday 23 November, midnight to midnight in Berlin.
    assert contexts(blocks)[0] == (
        "2026-11-16 00:00 CET up to 2026-11-23 00:00 CET; "
        "compared with 2026-11-09 00:00 CET up to 2026-11-16 00:00 CET"
    )
    # #2 to #5 and web #7; the staging deploy does not count.
    assert metric(blocks, "Deployment frequency").startswith(
        "*Deployment frequency*: 5 (5.0 a week) · *high*\n"
        "↑ 400% (was 1) · 5 deployments on 4 deploy days"
    )
    assert "2 of 5 deployments failed" in metric(blocks, "Change failure rate")
    assert metric(blocks, "Change failure rate").startswith("*Change failure rate*: 40.0% · *low*")
    # Time to restore counts the unlinked web incident too: median of 1h 30m and 20m is 55m;
    # p90 (inclusive) is 20m + 0.9 x 1h 10m = 1h 23m.
    restore = metric(blocks, "Time to restore, all incidents")
    assert restore.startswith("*Time to restore, all incidents*: median 55m, p90 1h 23m\n")
    assert restore.endswith("2 incidents resolved in this window, caused by a deploy or not")


def test_from_to_covers_whole_days_both_included(history: Bot) -> None:
    blocks = dora(history, "from=2026-11-01 to=2026-11-30").json["blocks"]
    assert contexts(blocks)[0].startswith("2026-11-01 00:00 CET up to 2026-12-01 00:00 CET;")
    # 6 deployments in 30 days: 1.4 a week, 0.2 a day is "high"; days 12, 18, 19, 20, 21.
    assert metric(blocks, "Deployment frequency").startswith(
        "*Deployment frequency*: 6 (1.4 a week) · *high*\n"
        "new (none in the window before) · 6 deployments on 5 deploy days"
    )


def test_env_counts_that_environment_instead_of_production(history: Bot) -> None:
    blocks = dora(history, "env=staging").json["blocks"]
    assert header(blocks) == "Delivery health: all services, staging"
    # 1 in 30 days is exactly monthly: "medium".
    assert metric(blocks, "Deployment frequency").startswith(
        "*Deployment frequency*: 1 (0.2 a week) · *medium*"
    )
    assert "0 of 1 deployment failed" in metric(blocks, "Change failure rate")


def test_a_window_without_deployments_says_so(history: Bot) -> None:
    blocks = dora(history, "checkout 7d").json["blocks"]
    assert header(blocks) == "Delivery health: checkout, production"
    # Deployment frequency is always reported: a count of 0 is a fact.
    assert metric(blocks, "Deployment frequency") == (
        "*Deployment frequency*: 0 (0.0 a week) · *low*\n"
        "no change (was 0) · 0 deployments on 0 deploy days"
    )
    for name in (
        "Change lead time",
        "Change failure rate",
        "Failed deployment recovery time",
        "Deployment rework rate",
    ):
        assert metric(blocks, name) == f"*{name}*: {NO_DEPLOYMENTS}"
    text = json.dumps(blocks)
    assert "NaN" not in text and "0.0%" not in text


def test_recovery_counts_incidents_of_earlier_deployments(history: Bot) -> None:
    # One hour with no deployment, in which incident #1 (caused by #3 at 10:00) was resolved.
    blocks = dora(history, "api from=2026-11-19T12:00Z to=2026-11-19T13:00Z").json["blocks"]
    assert metric(blocks, "Change failure rate") == f"*Change failure rate*: {NO_DEPLOYMENTS}"
    assert metric(blocks, "Failed deployment recovery time").startswith(
        "*Failed deployment recovery time*: median 1h 30m, p90 1h 30m · *high*\n"
        "new (none in the window before) · 1 incident caused by a deployment"
    )


def test_this_week_runs_from_monday_to_now(history: Bot) -> None:
    blocks = dora(history, "this week").json["blocks"]
    # Monday 00:00 CET to now is 37 hours; the 37 hours before start at 11:00 CET on
    # Saturday, exactly when web #7 finished, so it counts there (the start is included).
    assert contexts(blocks)[0] == (
        "2026-11-23 00:00 CET up to 2026-11-24 13:00 CET; "
        "compared with 2026-11-21 11:00 CET up to 2026-11-23 00:00 CET"
    )
    assert metric(blocks, "Deployment frequency").startswith(
        "*Deployment frequency*: 0 (0.0 a week) · *low*\n↓ 100% (was 1)"
    )


def test_lead_time_from_known_changes(bot: Bot) -> None:
    record(bot, "/deploy", "api v9 at=2026-11-23T10:00Z sha=a1b2c3d repo=acme/api")
    # Changes as a GitHub push would record them: 2h and 24h before the deploy, and one
    # authored after it (clock skew), which is dropped.
    conn = sqlite3.connect(bot.db_path)
    with conn:
        for sha, authored in (
            ("1111111", "2026-11-23T08:00:00Z"),
            ("2222222", "2026-11-22T10:00:00Z"),
            ("3333333", "2026-11-23T11:00:00Z"),
        ):
            conn.execute(
                "INSERT INTO changes (repo, sha, authored_at, deploy_id, source, source_key,"
                " created_at) VALUES ('acme/api', ?, ?, 1, 'import', ?, ?)",
                (sha, authored, sha, "2026-11-23T10:00:00Z"),
            )
    conn.close()
    blocks = dora(bot, "api 7d").json["blocks"]
    # Median of 2h and 24h is 13h (under a day: "elite"); p90 is 2h + 0.9 x 22h = 21h 48m.
    assert metric(blocks, "Change lead time") == (
        "*Change lead time*: median 13h, p90 21h 48m · *elite*\n"
        "new (none in the window before) · lead time known for 1 of 1 deployment (2 changes)"
    )


def test_share_posts_the_card_in_the_channel(history: Bot) -> None:
    before = len(history.slack.calls_to("chat.postMessage"))
    reply = history.command("/dora", "api 7d share")
    assert reply.status == 200 and reply.body == "", reply.body
    post = history.slack.wait_for("chat.postMessage", count=before + 1)[-1]
    assert post["channel"] == CHANNEL
    assert header(post["blocks"]) == "Delivery health: api, production"
    assert metric(post["blocks"], "Change failure rate").startswith(
        "*Change failure rate*: 50.0% · *low*"
    )
    assert contexts(post["blocks"])[-1].endswith("Shared by <@U0ALICE1>")
    assert post["text"].startswith("Delivery health: api, production")


def test_share_may_come_first(history: Bot) -> None:
    before = len(history.slack.calls_to("chat.postMessage"))
    reply = history.command("/dora", "share web 7d")
    assert reply.status == 200 and reply.body == ""
    post = history.slack.wait_for("chat.postMessage", count=before + 1)[-1]
    assert header(post["blocks"]) == "Delivery health: web, production"


# ---- help, later forms, refusals ---------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "<@U0BOB0001>",
        "<@U0BOB0001|bob> 7d",
        "api @bob",
        "api by=bob",
        "api by=<@U0BOB0001>",
        "USER=U0BOB0001",
        "author=bob 30d",
        "person=bob",
        "engineer=bob share",
    ],
)
def test_a_request_about_a_person_is_refused_with_the_reason(history: Bot, text: str) -> None:
    before = (history.rows("deploys"), history.rows("incidents"))
    reply = dora(history, text)
    assert NOT_INDIVIDUALS in reply.text
    assert "Nothing was looked up or stored" in reply.text
    assert "Deployment frequency" not in reply.body
    assert_nothing_posted(history)
    assert (history.rows("deploys"), history.rows("incidents")) == before


# ---- bad input ---------------------------------------------------------------------------

WINDOWS = (
    "`7d`, `30d` (the default), `90d`, any `Nd`, `this week`, `last week`, `this month`, "
    "`last month`, `this quarter`, `last quarter`, or `from=DATE to=DATE`"
)
RANGE_EXAMPLE = "For example: `/dora api from=2026-11-01 to=2026-11-30`"


@pytest.mark.parametrize(
    ("text", "problem", "example"),
    [
        (
            "api 30days",
            f"I can't read `30days` as a window. Use {WINDOWS}.",
            "For example: `/dora api last month`",
        ),
        (
            "api next week",
            f"I can't read `next week` as a window. Use {WINDOWS}.",
            "For example: `/dora api last month`",
        ),
        (
            "this",
            f"I can't read `this` as a window. Use {WINDOWS}.",
            "For example: `/dora api last month`",
        ),
        (
            "api 0d",
            "`0d` is not a window I can show: use 1d to 3650d.",
            "For example: `/dora api last month`",
        ),
        (
            "from=2026-11-01",
            "`to=` is missing: `from=` and `to=` go together, give both dates.",
            RANGE_EXAMPLE,
        ),
        (
            "api to=2026-11-30",
            "`from=` is missing: `from=` and `to=` go together, give both dates.",
            RANGE_EXAMPLE,
        ),
        (
            "from=2026-11-30 to=2026-11-01",
            "`to=2026-11-01` is not after `from=2026-11-30`: the window must end after it starts.",
            RANGE_EXAMPLE,
        ),
        (
            "7d from=2026-11-01 to=2026-11-30",
            "Give either a window like `7d` or `from=` and `to=`, not both.",
            RANGE_EXAMPLE,
        ),
        (
            "api web",
            "I did not expect `web` there. The form is "
            "`/dora [SERVICE|all] [WINDOW] [env=ENV] [share]`; quote values with spaces.",
            "For example: `/dora api 30d`",
        ),
        (
            "api window=7d",
            "`window=` is not an option here. Options: `env=`, `from=`, `team=`, `to=`.",
            "For example: `/dora api 30d`",
        ),
        (
            "api share share",
            "`share` is given twice. Give each option once.",
            "For example: `/dora api 30d`",
        ),
    ],
)
def test_bad_input_names_the_problem_with_an_example(
    bot: Bot, text: str, problem: str, example: str
) -> None:
    reply = dora(bot, text)
    assert reply.text == f":warning: {problem}\n{example}"
    assert_nothing_posted(bot)


def test_an_unreadable_date_is_refused(bot: Bot) -> None:
    reply = dora(bot, "from=yesterday to=2026-11-30")
    assert reply.text.startswith(":warning: I can't read `from=yesterday to=2026-11-30`")
    assert reply.text.endswith(RANGE_EXAMPLE)


def test_a_too_long_request_is_refused(bot: Bot) -> None:
    reply = dora(bot, "api " + "x" * 2000)
    assert reply.text.startswith(":warning: That command is 2004 characters long")
    assert_nothing_posted(bot)


def test_a_bad_environment_is_refused(bot: Bot) -> None:
    reply = dora(bot, "env=" + "p" * 256)
    assert reply.text.startswith(":warning: `" + "p" * 40 + "` is not an environment name")


# ---- App Home ----------------------------------------------------------------------------


def home_opened(bot: Bot, event_id: str = "Ev1") -> Reply:
    body = json.dumps(
        {
            "type": "event_callback",
            "team_id": TEAM,
            "api_app_id": "A0APP001",
            "event": {
                "type": "app_home_opened",
                "user": "U0ALICE1",
                "tab": "home",
                "channel": "D0HOME001",
                "event_ts": "1700000000.000100",
            },
            "event_id": event_id,
            "event_time": 1,
        }
    )
    return bot.post("/slack/events", body, sign(body), "application/json")


def test_app_home_shows_the_last_thirty_days(history: Bot) -> None:
    assert home_opened(history).status == 200
    (call,) = history.slack.wait_for("views.publish")
    assert call["user_id"] == "U0ALICE1"
    view = call["view"]
    assert view["type"] == "home"
    blocks = view["blocks"]
    texts = [b["text"]["text"] for b in blocks if b["type"] in ("header", "section")]
    assert texts[0] == "Shipshape: delivery health"
    assert texts[1].startswith("Shipshape measures how fast and how safely changes reach users")
    # The same card as `/dora`: all services, production, the last 30 days.
    assert "Delivery health: all services, production" in texts
    assert metric(blocks, "Deployment frequency").startswith(
        "*Deployment frequency*: 6 (1.4 a week) · *high*"
    )
    assert metric(blocks, "Change failure rate").startswith("*Change failure rate*: 33.3% · *low*")
    assert any(c.startswith("Bands: ") for c in contexts(blocks))
    # The busiest services, then the open incidents.
    assert "*Most deployments, last 30 days*\n• api: 5 deployments\n• web: 1 deployment" in texts
    (incidents,) = [t for t in texts if "open incidents" in t]
    assert re.search(r"`#3` 2026-11-23 10:00 CET · api: Latency", incidents)
    assert "Checkout errors" not in incidents


def test_app_home_with_nothing_recorded(bot: Bot) -> None:
    assert home_opened(bot).status == 200
    (call,) = bot.slack.wait_for("views.publish")
    blocks = call["view"]["blocks"]
    texts = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert f"*Change failure rate*: {NO_DEPLOYMENTS}" in texts
    assert any("No deployments to production in the last 30 days" in t for t in texts)
    assert "No open incidents." in texts


def test_app_home_ignores_the_messages_tab(bot: Bot) -> None:
    body = json.dumps(
        {
            "type": "event_callback",
            "team_id": TEAM,
            "api_app_id": "A0APP001",
            "event": {"type": "app_home_opened", "user": "U0ALICE1", "tab": "messages"},
            "event_id": "Ev2",
            "event_time": 1,
        }
    )
    assert bot.post("/slack/events", body, sign(body), "application/json").status == 200
    settle(bot)
    assert bot.slack.calls_to("views.publish") == []


# ---- issue 11: extreme dates, environments with spaces, what is missing ---------------------


@pytest.mark.parametrize(
    "text",
    [
        "from=0001-01-01 to=9999-12-31",
        "api from=0001-01-01 to=2026-11-01",
        "from=2026-11-01 to=9999-12-31",
        "from=1999-12-31 to=2026-11-01",
        "from=2026-11-01 to=2100-01-01",
        "from=0001-01-01T00:00+01:00 to=2026-11-01",
        "from=2026-11-01 to=9999-12-31T23:59-05:00",
    ],
)
def test_dates_outside_the_range_get_a_usage_reply_naming_it(bot: Bot, text: str) -> None:
    reply = dora(bot, text)
    assert reply.text.startswith(":warning: `" + text.removeprefix("api ") + "` goes outside")
    assert "give dates from 2000-01-01 to 2099-12-31" in reply.text
    assert reply.text.endswith(RANGE_EXAMPLE)
    assert_nothing_posted(bot)


def test_the_widest_range_is_answered_with_its_previous_window(history: Bot) -> None:
    reply = dora(history, "from=2000-01-01 to=2099-12-31")
    assert reply.text.startswith("Delivery health"), reply.text
    assert "went wrong" not in reply.text


def test_an_environment_with_spaces_is_counted_and_shown_quoted(bot: Bot) -> None:
    record(bot, "/deploy", 'api v1 env="eu west" at=2026-11-20T10:00Z')
    reply = dora(bot, 'api 7d env="EU West"')
    assert header(reply.json["blocks"]) == 'Delivery health: api, "eu west"'
    assert metric(reply.json["blocks"], "Deployment frequency").startswith(
        "*Deployment frequency*: 1 "
    )


def test_an_environment_with_a_control_character_is_refused(bot: Bot) -> None:
    reply = dora(bot, 'env="prod\u202e"')
    assert reply.text.startswith(":warning: The environment contains U+202E"), reply.text
    assert reply.text.endswith("For example: `/dora api 30d`")


@pytest.mark.parametrize(
    ("text", "missing"), [("from=2026-11-01", "to"), ("to=2026-11-30", "from")]
)
def test_a_range_names_the_missing_end(bot: Bot, text: str, missing: str) -> None:
    reply = dora(bot, text)
    assert reply.text == (
        f":warning: `{missing}=` is missing: `from=` and `to=` go together, give both dates.\n"
        f"{RANGE_EXAMPLE}"
    )
