"""Teams in Slack through the real app: /dora team set|remove, /dora teams, /dora team=,
/dora scope per channel, App Home's team rows, and a team's weekly summary through the
scheduler's own job and the fake Slack (the rules and the numbers by hand:
tests/unit/test_teams.py).

Clock: 2026-11-24T12:00:00Z, a Tuesday in ISO week 48; the team time zone is Europe/Berlin.
U0ADMIN1 is in SHIPSHAPE_ADMINS; U0ALICE1 is nobody special.

The history (UTC, production unless said), in the last 30 days [10-25T12:00Z, 11-24T12:00Z):
  api       11-10 10:00, 11-20 10:00 (caused an incident, 11:00 to 12:00), 11-24 10:00
  checkout  11-15 10:00
  web       11-01 10:00, 11-05 10:00, 11-12 10:00, 11-24 09:00
  open incidents: api (sev 2, 11-23 09:00), web (sev 1, 11-23 08:00)
payments = {api, checkout, ledger}: 4 deployments, 1 failed (25.0%); ledger has nothing yet.
platform = {web}: 4 deployments, none failed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from bot.teams import rules as teams
from tests.conftest import Bot, Reply, sign
from tests.fakes import records
from tests.fakes.fake_slack import TEAM
from tests.scenario import test_summary_delivery as summary_delivery

ADMIN, ALICE = "U0ADMIN1", "U0ALICE1"
PAY, OTHER, WEB = "C0PAY0001", "C0OTHER01", "C0WEB0001"
FIRST_RUN = "2026-11-30T08:00:00Z"  # Monday 09:00 CET: the summary of 2026-W48
PAYMENTS_HEADER = "Delivery health of the payments team: api, checkout, ledger; production"
ALL_HEADER = "Delivery health: all services, production"
ADMINS_ONLY = "Only Shipshape admins can change teams or what `/dora` answers for in a channel"


# ---- helpers -----------------------------------------------------------------------------


def settle(bot: Bot) -> None:
    assert bot.server.wait_idle(10), "listeners still running after 10 s"


def dora(bot: Bot, text: str, *, user: str = ALICE, channel: str = PAY) -> Reply:
    reply = bot.command("/dora", text, user=user, channel=channel)
    assert reply.status == 200, reply.body
    assert reply.json["response_type"] == "ephemeral", reply.body
    settle(bot)
    return reply


def header(reply: Reply) -> str:
    return next(b["text"]["text"] for b in reply.json["blocks"] if b["type"] == "header")


def metric(reply: Reply, name: str) -> str:
    sections = [b["text"]["text"] for b in reply.json["blocks"] if b["type"] == "section"]
    (found,) = [s for s in sections if s.startswith(f"*{name}*")]
    return found


def table(bot: Bot, name: str) -> list[dict[str, Any]]:
    return summary_delivery.table(bot.db_path, name)


@pytest.fixture
def history(bot: Bot) -> Iterator[Bot]:
    with bot.server.store.write() as db:
        records.deploy(db, "2026-11-10T10:00:00Z", service="api")
        failed = records.deploy(db, "2026-11-20T10:00:00Z", service="api")
        records.incident(
            db, "api", "2026-11-20T11:00:00Z", "2026-11-20T12:00:00Z", deploy_id=failed
        )
        records.deploy(db, "2026-11-24T10:00:00Z", service="api")
        records.deploy(db, "2026-11-15T10:00:00Z", service="checkout")
        for day in ("01", "05", "12"):
            records.deploy(db, f"2026-11-{day}T10:00:00Z", service="web")
        records.deploy(db, "2026-11-24T09:00:00Z", service="web")
        records.incident(db, "api", "2026-11-23T09:00:00Z", None, cause="none")
        web = records.incident(db, "web", "2026-11-23T08:00:00Z", None, cause="none")
        db.conn.execute("UPDATE incidents SET severity = 1, title = 'Web down' WHERE id = ?",
                        (web,))  # fmt: skip
    yield bot


@pytest.fixture
def teamed(history: Bot) -> Bot:
    dora(history, "team set payments api checkout ledger", user=ADMIN)
    dora(history, "team set platform web", user=ADMIN)
    return history


# ---- setting teams up ----------------------------------------------------------------------


def test_an_admin_sets_a_team_and_is_warned_of_a_service_not_seen_yet(history: Bot) -> None:
    reply = dora(history, "team set payments checkout api ledger api", user=ADMIN)
    assert reply.text == (
        "Team `payments` set up: `api`, `checkout`, `ledger`.\n"
        "Warning: no deploy or incident has been recorded for `ledger` yet. Kept in the team "
        "anyway: it counts once recorded. Check the spelling if that is a surprise."
    )
    assert table(history, "team_services") == [
        {"team": "payments", "service": s} for s in ("api", "checkout", "ledger")
    ]
    again = dora(history, "team set payments api", user=ADMIN)
    assert again.text == "Team `payments` is now `api` (was `api`, `checkout`, `ledger`)."
    assert table(history, "team_services") == [{"team": "payments", "service": "api"}]


def test_everyone_lists_the_teams_by_name(teamed: Bot) -> None:
    assert dora(teamed, "teams").text == (
        "*Teams* (each reported as if its services were one; listed by name, never ranked)\n"
        "• `payments`: `api`, `checkout`, `ledger`\n"
        "• `platform`: `web`"
    )


def test_no_teams_yet(bot: Bot) -> None:
    assert dora(bot, "teams").text == (
        "No teams yet. An admin can set one up with `/dora team set payments api checkout ledger`."
    )


def test_a_non_admin_changes_nothing_and_is_told_why(teamed: Bot) -> None:
    before = [table(teamed, t) for t in ("teams", "team_services", "channel_scopes")]
    for text in ("team set payments api", "team remove platform", "scope team=payments"):
        answer = dora(teamed, text, user=ALICE).text
        assert answer.startswith(ADMINS_ONLY), text
        assert "SHIPSHAPE_ADMINS" in answer and "`/dora teams`" in answer
    assert [table(teamed, t) for t in ("teams", "team_services", "channel_scopes")] == before
    assert [c["user"] for c in teamed.slack.calls_to("users.info")] == [ALICE] * 3


def test_remove_a_team_and_one_that_is_still_used(teamed: Bot) -> None:
    dora(teamed, "scope team=platform", user=ADMIN, channel=WEB)
    refused = dora(teamed, "team remove platform", user=ADMIN).text
    assert refused == (
        "Team `platform` is still in use, so nothing was removed: `/dora` in <#C0WEB0001> "
        "answers for it. First run `/dora scope all` or `/dora subscribe` without `team=` in "
        "that channel."
    )
    assert [t.name for t in teams.every(teamed.server.store.db)] == ["payments", "platform"]
    removed = dora(teamed, "team remove payments", user=ADMIN).text
    assert removed == "Team `payments` removed (it was `api`, `checkout`, `ledger`)."
    assert dora(teamed, "team remove payments", user=ADMIN).text.startswith(
        ":warning: There is no team `payments`. Teams: `platform`."
    )


# ---- reports -------------------------------------------------------------------------------


def test_a_team_report_counts_its_services_as_one(teamed: Bot) -> None:
    reply = dora(teamed, "team=payments")
    assert header(reply) == PAYMENTS_HEADER
    # 4 deployments in 30 days: 4 / 30 x 7 = 0.93 a week, on 4 days.
    assert metric(reply, "Deployment frequency").startswith("*Deployment frequency*: 4 (0.9 a")
    assert "4 deployments on 4 deploy days" in metric(reply, "Deployment frequency")
    assert metric(reply, "Change failure rate").startswith("*Change failure rate*: 25.0%")


def test_an_unknown_team_is_refused_with_the_known_ones(teamed: Bot) -> None:
    assert dora(teamed, "team=payment 7d").text == (
        ":warning: There is no team `payment`. Teams: `payments`, `platform`.\n"
        "For example: `/dora team=payments`"
    )


def test_an_unknown_team_with_no_teams_at_all(bot: Bot) -> None:
    assert dora(bot, "team=payments").text == (
        ":warning: There is no team `payments`: no teams are set up yet.\n"
        "For example: `/dora team set payments api checkout ledger`"
    )


def test_a_channels_scope_answers_a_plain_dora_there_and_nowhere_else(teamed: Bot) -> None:
    assert dora(teamed, "scope").text.startswith(
        "A plain `/dora` in this channel answers for all services."
    )
    changed = dora(teamed, "scope team=payments", user=ADMIN).text
    assert changed == (
        "A plain `/dora` in this channel now answers for the `payments` team (was all "
        "services). Changed by <@U0ADMIN1>."
    )
    dora(teamed, "scope service=web", user=ADMIN, channel=WEB)
    assert header(dora(teamed, "")) == PAYMENTS_HEADER
    assert header(dora(teamed, "7d")) == PAYMENTS_HEADER  # with any window
    assert header(dora(teamed, "", channel=OTHER)) == ALL_HEADER  # no scope: as before
    assert header(dora(teamed, "", channel=WEB)) == "Delivery health: web, production"
    # Asking for something else still answers for it.
    assert header(dora(teamed, "all")) == ALL_HEADER
    assert header(dora(teamed, "web")) == "Delivery health: web, production"
    assert header(dora(teamed, "team=platform", channel=WEB)).startswith(
        "Delivery health of the platform team: web"
    )
    assert table(teamed, "channel_scopes") == [
        {"channel_id": PAY, "kind": "team", "name": "payments", "set_by": ADMIN,
         "set_at": "2026-11-24T12:00:00Z"},
        {"channel_id": WEB, "kind": "service", "name": "web", "set_by": ADMIN,
         "set_at": "2026-11-24T12:00:00Z"},
    ]  # fmt: skip
    assert dora(teamed, "scope all", user=ADMIN).text.startswith(
        "A plain `/dora` in this channel now answers for all services (was the `payments` team)"
    )
    assert header(dora(teamed, "")) == ALL_HEADER
    assert header(dora(teamed, "", channel=WEB)) == "Delivery health: web, production"


def test_a_scope_for_an_unknown_team_stores_nothing(teamed: Bot) -> None:
    assert dora(teamed, "scope team=billing", user=ADMIN).text.startswith(
        ":warning: There is no team `billing`. Teams: `payments`, `platform`."
    )
    assert table(teamed, "channel_scopes") == []


def test_help_lists_the_team_commands(bot: Bot) -> None:
    text = dora(bot, "help").text
    forms = ["/dora team=NAME", "/dora teams", "/dora team set NAME SERVICE...",
             "/dora team remove NAME", "/dora scope team=NAME | service=NAME | all"]  # fmt: skip
    for form in forms:
        assert form in text, form


# ---- App Home ------------------------------------------------------------------------------


def home_blocks(bot: Bot) -> list[dict[str, Any]]:
    body_event = {
        "type": "app_home_opened",
        "user": ALICE,
        "tab": "home",
        "channel": "D0HOME001",
        "event_ts": "1700000000.000100",
    }
    body = json.dumps({"type": "event_callback", "team_id": TEAM, "api_app_id": "A0APP001",
                       "event": body_event, "event_id": "Ev1", "event_time": 1})  # fmt: skip
    assert bot.post("/slack/events", body, sign(body), "application/json").status == 200
    (call,) = bot.slack.wait_for("views.publish")
    return call["view"]["blocks"]


def test_app_home_shows_one_row_per_team_by_name_before_the_services(teamed: Bot) -> None:
    # A team whose numbers are best comes last all the same: by name, never by score.
    teams.set_team(teamed.server.store, "zeta", ("web",), teamed.clock.now())
    blocks = home_blocks(teamed)
    texts = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    (rows,) = [t for t in texts if t.startswith("*Teams, last 30 days*")]
    assert rows.split("\n") == [
        "*Teams, last 30 days* (by name, not ranked)",
        "• payments team: api, checkout, ledger: 4 deployments · lead time unknown · "
        "failure rate 25.0%",
        "• platform team: web: 4 deployments · lead time unknown · failure rate 0.0%",
        "• zeta team: web: 4 deployments · lead time unknown · failure rate 0.0%",
    ]
    top = next(i for i, t in enumerate(texts) if t.startswith("*Most deployments"))
    assert texts.index(rows) < top


def test_app_home_stays_within_slacks_limit_with_many_teams(history: Bot) -> None:
    store, now = history.server.store, history.clock.now()
    for n in range(300):
        teams.set_team(store, f"team-{n:03d}", ("api", "web", f"service-{n}"), now)
    blocks = home_blocks(history)
    assert len(blocks) <= 100
    text = "\n".join(b["text"]["text"] for b in blocks if b["type"] == "section")
    assert "team-000 team" in text and "more lines: more than one Slack message" in text


# ---- a team's weekly summary ------------------------------------------------------------------


def first_run_summary(bot: Bot) -> dict[str, Any]:
    """Run #payments' summary job at its first run, as the scheduler does; its post."""
    bot.clock.set(FIRST_RUN)
    job = bot.server.scheduler.get_job(f"summary:{PAY}")
    assert job is not None
    job.func(*job.args)
    (post,) = [
        c for c in bot.slack.calls_to("chat.postMessage")
        if c["text"].startswith("Weekly summary 2026-W48")
    ]  # fmt: skip
    return post


def test_a_team_subscription_posts_the_teams_summary(teamed: Bot) -> None:
    assert teamed.server.summaries_caught_up.wait(10)
    before = len(teamed.slack.calls_to("chat.postMessage"))
    reply = teamed.command("/dora", "subscribe team=payments", user=ADMIN, channel=PAY)
    assert reply.status == 200 and reply.body == "", reply.body
    (confirmation,) = teamed.slack.wait_for("chat.postMessage", before + 1)[before:]
    settle(teamed)
    assert confirmation["text"].startswith(
        "Weekly summary every Monday at 09:00 (Europe/Berlin), the payments team's services, "
        "in this channel"
    )
    (row,) = table(teamed, "subscriptions")
    assert (row["service"], row["team"]) == (None, "payments")
    assert "the payments team's services" in dora(teamed, "subscriptions").text

    post = first_run_summary(teamed)
    title = "Weekly summary 2026-W48: payments team: api, checkout, ledger"
    assert post["channel"] == PAY
    assert post["blocks"][0]["text"]["text"] == title
    shown = "\n".join(b["text"]["text"] for b in post["blocks"] if b["type"] == "section")
    # W48 (Mon 23 Nov to Mon 30 Nov, Berlin): api's deploy of the 24th only; web's is not
    # the team's, and neither is web's open incident.
    assert "*Deployment frequency*: 1 (1.0 a week)" in shown
    assert "api: something broke" in shown
    assert "Web down" not in shown and "web:" not in shown
    (upload,) = teamed.slack.calls_to("upload")
    assert upload["bytes"].startswith(b"\x89PNG")


def test_a_plain_subscription_in_a_scoped_channel_follows_the_scope(teamed: Bot) -> None:
    assert teamed.server.summaries_caught_up.wait(10)
    dora(teamed, "scope team=platform", user=ADMIN)
    before = len(teamed.slack.calls_to("chat.postMessage"))
    reply = teamed.command("/dora", "subscribe", user=ADMIN, channel=PAY)
    assert reply.status == 200 and reply.body == "", reply.body
    (confirmation,) = teamed.slack.wait_for("chat.postMessage", before + 1)[before:]
    settle(teamed)
    assert (
        "(Europe/Berlin), the `platform` team, as this channel's `/dora scope` says"
        in (confirmation["text"])
    )
    (row,) = table(teamed, "subscriptions")
    assert (row["service"], row["team"]) == (None, None)  # the scope decides when it posts

    post = first_run_summary(teamed)
    assert post["blocks"][0]["text"]["text"] == "Weekly summary 2026-W48: platform team: web"
    shown = "\n".join(b["text"]["text"] for b in post["blocks"] if b["type"] == "section")
    # W48: web's deploy of the 24th only, and web's open incident; api's are not platform's.
    assert "*Deployment frequency*: 1 (1.0 a week)" in shown
    assert "Web down" in shown and "api: something broke" not in shown


def test_a_subscription_for_an_unknown_team_stores_nothing(teamed: Bot) -> None:
    assert dora(teamed, "subscribe team=billing", user=ADMIN).text.startswith(
        ":warning: There is no team `billing`. Teams: `payments`, `platform`."
    )
    assert table(teamed, "subscriptions") == []
    assert teamed.server.scheduler.get_job(f"summary:{PAY}") is None


def test_a_team_with_a_summary_is_not_removed(teamed: Bot) -> None:
    reply = teamed.command("/dora", "subscribe team=platform", user=ADMIN, channel=WEB)
    assert reply.status == 200
    teamed.slack.wait_for("chat.postMessage")
    settle(teamed)
    assert (
        "the weekly summary in <#C0WEB0001> is for it"
        in dora(teamed, "team remove platform", user=ADMIN).text
    )
