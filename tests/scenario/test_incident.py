"""/incident through the real app: signed slash commands, interactive payloads, a fake Slack
Web API and a real SQLite file. Clock: 2026-11-24T12:00:00Z (13:00 CET in Europe/Berlin)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from bot.summary import build as summary
from storage import incidents
from tests.conftest import Bot, Reply
from tests.fakes.fake_slack import TEAM, block_actions, view_submission
from tests.scenario.test_dora import home_opened
from tests.scenario.test_summary_delivery import run_job, started, subscribe, summaries

CHANNEL = "C0CHAN01"
OPEN_EXAMPLE = 'For example: `/incident open api Checkout errors sev=2 at="15m ago"`'
RESOLVE_EXAMPLE = "For example: `/incident resolve 7`"
LINK_EXAMPLE = "For example: `/incident link 7 deploy=42`"
LIST_EXAMPLE = "For example: `/incident list all`"
NO_DEPLOY = "No deploy caused this (`deploy=none`): it counts in no deploy's failure rate."


# ---- helpers -----------------------------------------------------------------------------


def settle(bot: Bot) -> None:
    """Wait until every listener has finished its work after the ack (posts, updates, the
    message ts written back), so what follows reads a quiet app. No sleeping: the futures
    of the app's own listener pool are waited on."""
    assert bot.server.wait_idle(10), "listeners still running after 10 s"


def posts(bot: Bot, prefix: str = "Incident #") -> list[dict[str, Any]]:
    return [c for c in bot.slack.calls_to("chat.postMessage") if c["text"].startswith(prefix)]


def deploy(bot: Bot, text: str) -> int:
    """Record a deploy with /deploy; returns its id from the channel confirmation."""
    before = len(bot.slack.calls_to("chat.postMessage"))
    reply = bot.command("/deploy", text)
    assert reply.status == 200 and reply.body == "", reply.body
    post = bot.slack.wait_for("chat.postMessage", count=before + 1)[-1]
    match = re.match(r"Deploy #(\d+) recorded", post["text"])
    assert match, post["text"]
    settle(bot)
    return int(match.group(1))


def open_incident(bot: Bot, text: str, **kwargs: Any) -> dict[str, Any]:
    """Open an incident; returns the chat.postMessage call that announced it."""
    before = len(bot.slack.calls_to("chat.postMessage"))
    reply = bot.command("/incident", text, **kwargs)
    assert reply.status == 200 and reply.body == "", reply.body
    post = bot.slack.wait_for("chat.postMessage", count=before + 1)[-1]
    settle(bot)
    assert post["text"].startswith("Incident #"), post["text"]
    return post


def incident(bot: Bot, incident_id: int) -> dict[str, Any]:
    rows = [r for r in bot.rows("incidents") if r["id"] == incident_id]
    assert rows, f"no incident #{incident_id}"
    return rows[0]


def link_section(message: dict[str, Any]) -> str:
    return message["blocks"][1]["text"]["text"]


def button(message: dict[str, Any]) -> dict[str, Any]:
    actions = [b for b in message["blocks"] if b["type"] == "actions"]
    assert len(actions) == 1
    (element,) = actions[0]["elements"]
    return element


def assert_refused(bot: Bot, reply: Reply, problem: str, example: str) -> None:
    """An ephemeral reply naming the problem with an example; nothing stored or posted."""
    assert reply.status == 200
    assert reply.json["response_type"] == "ephemeral"
    assert reply.text == f":warning: {problem}\n{example}"
    settle(bot)
    assert bot.rows("incidents") == []
    assert posts(bot) == []
    assert bot.slack.calls_to("chat.update") == []
    assert bot.slack.calls_to("response_url") == []


def ephemeral_text(reply: Reply) -> str:
    assert reply.status == 200
    assert reply.json["response_type"] == "ephemeral"
    return reply.text


def change_link_click(message: dict[str, Any], value: str, *, trigger_id: str) -> dict[str, Any]:
    """The payload Slack sends when someone clicks "Change link" on an incident message."""
    action = {
        "action_id": button(message)["action_id"],
        "block_id": "incident_actions",
        "text": {"type": "plain_text", "text": "Change link", "emoji": True},
        "value": value,
        "type": "button",
    }
    return block_actions(
        user="U0BOB0001",
        channel=CHANNEL,
        message=message,
        ts=message["ts"],
        action=action,
        trigger_id=trigger_id,
        response_url="https://hooks.slack.com/actions/T0TEAM01/1/x",
    )


def modal_save(
    callback_id: str,
    values: dict[str, dict[str, Any]],
    *,
    view_id: str,
    private_metadata: str,
) -> dict[str, Any]:
    """The payload Slack sends when someone presses Save on an incident modal."""
    return view_submission(
        user="U0ALICE1",
        callback_id=callback_id,
        private_metadata=private_metadata,
        values={block: {"value": state} for block, state in values.items()},
        view_id=view_id,
        trigger_id=f"trigger.{view_id}",
    )


def text_input(value: str | None) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def select(value: str | None) -> dict[str, Any]:
    option = None
    if value is not None:
        option = {"text": {"type": "plain_text", "text": value}, "value": value}
    return {"type": "static_select", "selected_option": option}


def with_ts(bot: Bot, post: dict[str, Any], incident_id: int) -> dict[str, Any]:
    """The posted message as Slack keeps it: with the ts the bot stored for it."""
    return {**post, "ts": incident(bot, incident_id)["message_ts"]}


def open_link_modal(bot: Bot, message: dict[str, Any], incident_id: int) -> dict[str, Any]:
    """Click "Change link"; returns the view passed to views.open."""
    before = len(bot.slack.calls_to("views.open"))
    payload = change_link_click(message, str(incident_id), trigger_id=f"trig.link.{before}")
    reply = bot.interact(payload)
    assert reply.status == 200
    call = bot.slack.wait_for("views.open", count=before + 1)[-1]
    assert call["trigger_id"] == f"trig.link.{before}"
    return call["view"]


def submit_link(bot: Bot, view: dict[str, Any], value: str | None, view_id: str) -> Reply:
    payload = modal_save(
        "incident_link_modal",
        {"deploy": text_input(value)},
        view_id=view_id,
        private_metadata=view["private_metadata"],
    )
    return bot.interact(payload)


# ---- open: what is stored and posted -------------------------------------------------------


def test_open_posts_the_incident_in_the_channel_and_stores_it(bot: Bot) -> None:
    deploy_id = deploy(bot, "api v1.2.3 at=2026-11-24T11:00Z")
    post = open_incident(
        bot, "open api Checkout errors on the pay page sev=2", trigger_id="trig.open.1"
    )

    assert post["channel"] == CHANNEL
    assert post["text"] == "Incident #1 opened on api: Checkout errors on the pay page (sev 2)"
    assert post["blocks"][0]["text"]["text"] == post["text"]
    assert link_section(post) == (
        f"Caused by deploy #{deploy_id} (api v1.2.3 to production, finished 2026-11-24 12:00 CET):"
        " it counts as a failed change."
    )
    assert button(post)["action_id"] == "incident_change_link"
    assert button(post)["value"] == "1"
    assert button(post)["text"]["text"] == "Change link"
    assert post["blocks"][-1]["elements"][0]["text"] == "Started 2026-11-24 13:00 CET"

    (row,) = bot.rows("incidents")
    message_ts = row.pop("message_ts")
    assert re.fullmatch(r"\d+\.\d{6}", message_ts)
    assert row == {
        "id": 1,
        "service": "api",
        "title": "Checkout errors on the pay page",
        "severity": 2,
        "started_at": "2026-11-24T12:00:00Z",
        "resolved_at": None,
        "deploy_id": deploy_id,
        "cause": "deploy",
        "source": "slack",
        "source_key": f"{TEAM}:{CHANNEL}:trig.open.1",
        "channel_id": CHANNEL,
        "created_at": "2026-11-24T12:00:00Z",
        "channel_private": 0,  # conversations.info: a public channel
        "url": None,  # its page elsewhere: none for an incident opened in Slack
    }


def test_the_stored_message_ts_is_the_one_slack_gave_for_the_post(bot: Bot) -> None:
    post = open_incident(bot, "open api Checkout errors")
    ts = incident(bot, 1)["message_ts"]
    bot.command("/incident", "resolve 1")
    (update,) = bot.slack.wait_for("chat.update")
    assert (update["channel"], update["ts"]) == (CHANNEL, ts)
    assert post["channel"] == CHANNEL


@pytest.mark.parametrize("sev", ["1", "2", "3", "4"])
def test_open_with_each_severity(bot: Bot, sev: str) -> None:
    post = open_incident(bot, f"open api Checkout errors sev={sev}")
    assert post["text"] == f"Incident #1 opened on api: Checkout errors (sev {sev})"
    assert incident(bot, 1)["severity"] == int(sev)


def test_open_without_severity_stores_none_and_shows_none(bot: Bot) -> None:
    post = open_incident(bot, "open web Login page slow")
    assert post["text"] == "Incident #1 opened on web: Login page slow"
    assert incident(bot, 1)["severity"] is None


def test_options_may_come_before_the_title_and_titles_may_be_quoted(bot: Bot) -> None:
    post = open_incident(bot, 'open api sev=3 "Checkout errors" at="15m ago"')
    assert post["text"] == "Incident #1 opened on api: Checkout errors (sev 3)"
    assert incident(bot, 1)["started_at"] == "2026-11-24T11:45:00Z"


def test_title_keeps_an_apostrophe(bot: Bot) -> None:
    # "Users can't log in" is an ordinary title; an apostrophe is not an opening quote.
    reply = bot.command("/incident", "open auth Users can't log in sev=1")
    assert reply.body == "", reply.text
    post = bot.slack.wait_for("chat.postMessage")[-1]
    assert post["text"] == "Incident #1 opened on auth: Users can't log in (sev 1)"
    assert incident(bot, 1)["title"] == "Users can't log in"


def test_slack_escaping_in_the_title_is_undone_and_done_again_to_show_it(bot: Bot) -> None:
    post = open_incident(bot, "open api Checkout &amp; payments &lt;down&gt;")
    assert incident(bot, 1)["title"] == "Checkout & payments <down>"
    assert post["text"] == "Incident #1 opened on api: Checkout &amp; payments &lt;down&gt;"


@pytest.mark.parametrize(
    ("at", "stored", "shown"),
    [
        ("at=2026-11-24T10:30Z", "2026-11-24T10:30:00Z", "2026-11-24 11:30 CET"),
        ('at="2026-11-24 10:30"', "2026-11-24T09:30:00Z", "2026-11-24 10:30 CET"),
        ("at=2026-11-24T11:00+01:00", "2026-11-24T10:00:00Z", "2026-11-24 11:00 CET"),
        ('at="15m ago"', "2026-11-24T11:45:00Z", "2026-11-24 12:45 CET"),
        ("at=2h ago", "2026-11-24T10:00:00Z", "2026-11-24 11:00 CET"),
        ('at="yesterday 14:00"', "2026-11-23T13:00:00Z", "2026-11-23 14:00 CET"),
        ("at=yesterday 14:00", "2026-11-23T13:00:00Z", "2026-11-23 14:00 CET"),
    ],
)
def test_open_at_forms(bot: Bot, at: str, stored: str, shown: str) -> None:
    post = open_incident(bot, f"open api Checkout errors {at}")
    assert incident(bot, 1)["started_at"] == stored
    assert post["blocks"][-1]["elements"][0]["text"] == f"Started {shown}"
    assert post["text"] == "Incident #1 opened on api: Checkout errors"


def test_open_defaults_start_to_now(bot: Bot) -> None:
    open_incident(bot, "open api Checkout errors")
    assert incident(bot, 1)["started_at"] == "2026-11-24T12:00:00Z"


# ---- open: automatic link ------------------------------------------------------------------


def test_auto_link_picks_latest_successful_production_deploy_of_the_service(bot: Bot) -> None:
    deploy(bot, "api v1 at=2026-11-24T09:00Z")
    expected = deploy(bot, "api v2 at=2026-11-24T10:00Z")
    deploy(bot, "api v3 env=staging at=2026-11-24T10:30Z")
    deploy(bot, "api v4 status=failed at=2026-11-24T10:40Z")
    deploy(bot, "web v9 at=2026-11-24T10:50Z")
    deploy(bot, "api v5 at=2026-11-24T11:30Z")  # after the start

    post = open_incident(bot, "open api Checkout errors at=2026-11-24T11:00Z")

    assert expected == 2
    row = incident(bot, 1)
    assert (row["deploy_id"], row["cause"]) == (2, "deploy")
    assert link_section(post) == (
        "Caused by deploy #2 (api v2 to production, finished 2026-11-24 11:00 CET):"
        " it counts as a failed change."
    )


def test_auto_link_counts_every_production_environment_name(bot: Bot) -> None:
    deploy(bot, "api v1 at=2026-11-24T09:00Z")
    prod = deploy(bot, "api v2 env=prod at=2026-11-24T10:00Z")
    post = open_incident(bot, "open api Checkout errors")
    assert (incident(bot, 1)["deploy_id"], incident(bot, 1)["cause"]) == (prod, "deploy")
    assert "(api v2 to prod, finished 2026-11-24 11:00 CET)" in link_section(post)


def test_auto_link_includes_a_deploy_finished_exactly_at_the_start(bot: Bot) -> None:
    deploy(bot, "api v1 at=2026-11-24T09:00Z")
    same = deploy(bot, "api v2 at=2026-11-24T11:00Z")
    open_incident(bot, "open api Checkout errors at=2026-11-24T11:00Z")
    assert incident(bot, 1)["deploy_id"] == same


def test_auto_link_breaks_ties_by_the_later_id(bot: Bot) -> None:
    deploy(bot, "api v1 at=2026-11-24T10:00Z")
    later = deploy(bot, "api v2 at=2026-11-24T10:00Z")
    open_incident(bot, "open api Checkout errors")
    assert later == 2
    assert incident(bot, 1)["deploy_id"] == 2


def test_auto_link_with_default_start_takes_a_deploy_finished_now(bot: Bot) -> None:
    deploy(bot, "api v1 at=2026-11-24T09:00Z")
    now = deploy(bot, "api v2")
    open_incident(bot, "open api Checkout errors")
    assert incident(bot, 1)["deploy_id"] == now


def test_no_earlier_production_deploy_leaves_the_incident_unlinked(bot: Bot) -> None:
    deploy(bot, "api v1 env=staging at=2026-11-24T09:00Z")
    deploy(bot, "api v2 status=failed at=2026-11-24T09:30Z")
    deploy(bot, "web v3 at=2026-11-24T09:45Z")
    deploy(bot, "api v4 at=2026-11-24T11:30Z")  # after the start

    post = open_incident(bot, "open api Checkout errors sev=2 at=2026-11-24T11:00Z")

    row = incident(bot, 1)
    assert (row["deploy_id"], row["cause"]) == (None, "unknown")
    assert link_section(post) == (
        "Not linked to a deploy: no successful production deploy of api finished at or before"
        " 2026-11-24 12:00 CET. Use *Change link* if a deploy caused it."
    )
    assert button(post)["action_id"] == "incident_change_link"


def test_no_deploys_at_all_leaves_the_incident_unlinked(bot: Bot) -> None:
    post = open_incident(bot, "open api Checkout errors")
    row = incident(bot, 1)
    assert (row["deploy_id"], row["cause"]) == (None, "unknown")
    assert link_section(post).startswith("Not linked to a deploy:")


# ---- open: explicit link -------------------------------------------------------------------


@pytest.mark.parametrize("ref", ["1", "#1"])
def test_open_with_deploy_id_links_that_deploy(bot: Bot, ref: str) -> None:
    named = deploy(bot, "api v1 at=2026-11-24T09:00Z")
    deploy(bot, "api v2 at=2026-11-24T10:00Z")  # the automatic choice, overridden
    post = open_incident(bot, f"open api Checkout errors deploy={ref}")
    row = incident(bot, 1)
    assert (row["deploy_id"], row["cause"]) == (named, "deploy")
    assert link_section(post) == (
        "Caused by deploy #1 (api v1 to production, finished 2026-11-24 10:00 CET):"
        " it counts as a failed change."
    )


def test_open_with_deploy_none_says_no_deploy_caused_it(bot: Bot) -> None:
    deploy(bot, "api v1 at=2026-11-24T09:00Z")
    post = open_incident(bot, "open api Checkout errors deploy=none")
    row = incident(bot, 1)
    assert (row["deploy_id"], row["cause"]) == (None, "none")
    assert link_section(post) == NO_DEPLOY


def test_open_linking_a_failed_attempt_is_refused(bot: Bot) -> None:
    failed = deploy(bot, "api v1 status=failed at=2026-11-24T09:00Z")
    before = len(bot.slack.calls_to("chat.postMessage"))
    reply = bot.command("/incident", f"open api Checkout errors deploy={failed}")
    assert_refused(
        bot,
        reply,
        "Deploy #1 was a failed attempt that never reached production, so it cannot have"
        " caused an incident. Link the deploy that did reach production, or `deploy=none`.",
        OPEN_EXAMPLE,
    )
    assert len(bot.slack.calls_to("chat.postMessage")) == before


def test_open_linking_an_unknown_deploy_is_refused(bot: Bot) -> None:
    reply = bot.command("/incident", "open api Checkout errors deploy=999")
    assert_refused(
        bot,
        reply,
        "There is no deploy #999. `/deploy list` shows the latest deploys and their ids.",
        OPEN_EXAMPLE,
    )


def test_open_with_a_deploy_ref_that_is_not_an_id_is_refused(bot: Bot) -> None:
    reply = bot.command("/incident", "open api Checkout errors deploy=latest")
    assert_refused(
        bot,
        reply,
        "`latest` is not a deploy id. Ids are numbers, like `42` or `#42`.",
        OPEN_EXAMPLE,
    )


# ---- the "Change link" button --------------------------------------------------------------


def test_change_link_button_opens_the_link_modal(bot: Bot) -> None:
    deploy(bot, "api v1 at=2026-11-24T09:00Z")
    post = open_incident(bot, "open api Checkout errors")
    message = with_ts(bot, post, 1)

    view = open_link_modal(bot, message, 1)

    assert view["type"] == "modal"
    assert view["callback_id"] == "incident_link_modal"
    assert json.loads(view["private_metadata"]) == {
        "incident_id": 1,
        "channel_id": CHANNEL,
        "message_ts": message["ts"],
    }
    inputs = [b for b in view["blocks"] if b["type"] == "input"]
    assert [b["block_id"] for b in inputs] == ["deploy"]
    assert inputs[0]["element"]["initial_value"] == "1"
    settle(bot)
    assert bot.slack.calls_to("chat.update") == []


def test_change_link_modal_to_none_updates_row_and_message(bot: Bot) -> None:
    deploy(bot, "api v1 at=2026-11-24T09:00Z")
    post = open_incident(bot, "open api Checkout errors sev=2")
    message = with_ts(bot, post, 1)
    view = open_link_modal(bot, message, 1)

    reply = submit_link(bot, view, "none", "V0LINK001")

    assert reply.status == 200 and reply.body == ""
    row = incident(bot, 1)
    assert (row["deploy_id"], row["cause"]) == (None, "none")
    (update,) = bot.slack.wait_for("chat.update")
    assert (update["channel"], update["ts"]) == (CHANNEL, message["ts"])
    assert update["text"] == "Incident #1 opened on api: Checkout errors (sev 2)"
    assert link_section(update) == NO_DEPLOY
    assert button(update)["value"] == "1"
    assert len(posts(bot)) == 1


def test_change_link_modal_to_a_deploy_id_updates_row_and_message(bot: Bot) -> None:
    post = open_incident(bot, "open api Checkout errors at=2026-11-24T11:00Z")
    deploy(bot, "api v1 at=2026-11-24T10:00Z")  # recorded late: not linked automatically
    assert incident(bot, 1)["cause"] == "unknown"
    message = with_ts(bot, post, 1)
    view = open_link_modal(bot, message, 1)
    inputs = [b for b in view["blocks"] if b["type"] == "input"]
    assert inputs[0]["element"].get("initial_value") in (None, "")

    reply = submit_link(bot, view, "#1", "V0LINK002")

    assert reply.status == 200 and reply.body == ""
    row = incident(bot, 1)
    assert (row["deploy_id"], row["cause"]) == (1, "deploy")
    (update,) = bot.slack.wait_for("chat.update")
    assert update["ts"] == message["ts"]
    assert link_section(update) == (
        "Caused by deploy #1 (api v1 to production, finished 2026-11-24 11:00 CET):"
        " it counts as a failed change."
    )


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("soon", "`soon` is not a deploy id. Ids are numbers, like `42` or `#42`."),
        (None, "is not a deploy id"),
        ("999", "There is no deploy #999. `/deploy list` shows the latest deploys and their ids."),
        ("2", "Deploy #2 was a failed attempt that never reached production"),
    ],
)
def test_change_link_modal_with_an_invalid_value_shows_an_error(
    bot: Bot, value: str | None, error: str
) -> None:
    deploy(bot, "api v1 at=2026-11-24T09:00Z")
    deploy(bot, "api v2 status=failed at=2026-11-24T10:00Z")
    post = open_incident(bot, "open api Checkout errors")
    before = incident(bot, 1)
    view = open_link_modal(bot, with_ts(bot, post, 1), 1)

    reply = submit_link(bot, view, value, "V0LINK003")

    assert reply.status == 200
    assert reply.json["response_action"] == "errors"
    assert list(reply.json["errors"]) == ["deploy"]
    assert error in reply.json["errors"]["deploy"]
    settle(bot)
    assert incident(bot, 1) == before
    assert bot.slack.calls_to("chat.update") == []


# ---- resolve -------------------------------------------------------------------------------


def test_resolve_defaults_to_now_and_updates_the_message(bot: Bot) -> None:
    deploy(bot, "api v1 at=2026-11-24T09:00Z")
    post = open_incident(bot, 'open api Checkout errors sev=2 at="90m ago"')
    ts = incident(bot, 1)["message_ts"]

    reply = bot.command("/incident", "resolve 1")

    assert ephemeral_text(reply) == "Incident #1 resolved."
    assert incident(bot, 1)["resolved_at"] == "2026-11-24T12:00:00Z"
    (update,) = bot.slack.wait_for("chat.update")
    assert (update["channel"], update["ts"]) == (CHANNEL, ts)
    assert update["text"] == "Incident #1 on api resolved after 1h 30m: Checkout errors"
    assert update["blocks"][0]["text"]["text"] == update["text"]
    assert link_section(update) == link_section(post)
    assert update["blocks"][-1]["elements"][0]["text"] == (
        "Started 2026-11-24 11:30 CET · resolved 2026-11-24 13:00 CET"
    )
    assert len(posts(bot)) == 1


@pytest.mark.parametrize(
    ("at", "stored", "took"),
    [
        ('at="15m ago"', "2026-11-24T11:45:00Z", "1d 1h"),
        ("at=2026-11-24T10:00Z", "2026-11-24T10:00:00Z", "1d"),
        ('at="2026-11-24 09:05"', "2026-11-24T08:05:00Z", "22h 5m"),
    ],
)
def test_resolve_at(bot: Bot, at: str, stored: str, took: str) -> None:
    open_incident(bot, "open api Checkout errors at=2026-11-23T10:00Z")
    reply = bot.command("/incident", f"resolve #1 {at}")
    assert ephemeral_text(reply) == "Incident #1 resolved."
    assert incident(bot, 1)["resolved_at"] == stored
    (update,) = bot.slack.wait_for("chat.update")
    assert update["text"] == f"Incident #1 on api resolved after {took}: Checkout errors"


def test_resolve_at_the_start_is_allowed(bot: Bot) -> None:
    open_incident(bot, "open api Checkout errors at=2026-11-24T11:00Z")
    reply = bot.command("/incident", "resolve 1 at=2026-11-24T11:00Z")
    assert ephemeral_text(reply) == "Incident #1 resolved."
    assert incident(bot, 1)["resolved_at"] == "2026-11-24T11:00:00Z"


def test_resolving_twice_is_refused_with_the_reason(bot: Bot) -> None:
    open_incident(bot, "open api Checkout errors at=2026-11-24T11:00Z")
    bot.command("/incident", "resolve 1 at=2026-11-24T11:30Z")
    bot.slack.wait_for("chat.update")
    settle(bot)
    before = bot.rows("incidents")

    reply = bot.command("/incident", "resolve 1")

    assert ephemeral_text(reply).startswith(
        ":warning: Incident #1 was already resolved at 2026-11-24 12:30 CET; nothing changed."
    )
    settle(bot)
    assert bot.rows("incidents") == before
    assert len(bot.slack.calls_to("chat.update")) == 1


def test_resolving_twice_shows_an_example(bot: Bot) -> None:
    # Issue 2: every refused command (resolve twice included) shows a correct example.
    open_incident(bot, "open api Checkout errors at=2026-11-24T11:00Z")
    bot.command("/incident", "resolve 1")
    reply = bot.command("/incident", "resolve 1")
    assert "Incident #1 was already resolved" in reply.text
    assert "\nFor example: `/incident " in reply.text


def test_resolving_before_the_start_is_refused(bot: Bot) -> None:
    open_incident(bot, "open api Checkout errors at=2026-11-24T11:00Z")
    before = bot.rows("incidents")

    reply = bot.command("/incident", "resolve 1 at=2026-11-24T10:59Z")

    assert ephemeral_text(reply) == (
        ":warning: Incident #1 started at 2026-11-24 12:00 CET; it cannot be resolved before"
        f" that. Check `at=`.\n{RESOLVE_EXAMPLE}"
    )
    settle(bot)
    assert bot.rows("incidents") == before
    assert bot.slack.calls_to("chat.update") == []


def test_resolving_an_unknown_incident_is_refused(bot: Bot) -> None:
    reply = bot.command("/incident", "resolve 42")
    assert_refused(
        bot,
        reply,
        "There is no incident #42. `/incident list all` shows incidents and their ids.",
        LIST_EXAMPLE,
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("resolve", "The incident id is missing. Name the incident to resolve by its id."),
        ("resolve 1 2", "Name one incident to resolve by its id."),
        ("resolve first", "`first` is not a incident id. Ids are numbers, like `42` or `#42`."),
    ],
)
def test_resolve_needs_one_incident_id(bot: Bot, text: str, problem: str) -> None:
    reply = bot.command("/incident", text)
    assert_refused(bot, reply, problem, RESOLVE_EXAMPLE)


# ---- link ----------------------------------------------------------------------------------


def test_link_to_a_deploy_updates_and_says_so(bot: Bot) -> None:
    open_incident(bot, "open api Checkout errors deploy=none")
    ts = incident(bot, 1)["message_ts"]
    target = deploy(bot, "api v7 at=2026-11-24T10:00Z")

    reply = bot.command("/incident", f"link 1 deploy={target}")

    expected = (
        "Caused by deploy #1 (api v7 to production, finished 2026-11-24 11:00 CET):"
        " it counts as a failed change."
    )
    assert ephemeral_text(reply) == f"Incident #1 updated. {expected}"
    row = incident(bot, 1)
    assert (row["deploy_id"], row["cause"]) == (target, "deploy")
    (update,) = bot.slack.wait_for("chat.update")
    assert (update["channel"], update["ts"]) == (CHANNEL, ts)
    assert link_section(update) == expected


def test_link_with_hash_id(bot: Bot) -> None:
    open_incident(bot, "open api Checkout errors")
    target = deploy(bot, "api v7 at=2026-11-24T10:00Z")
    reply = bot.command("/incident", "link #1 deploy=#1")
    assert ephemeral_text(reply).startswith("Incident #1 updated. Caused by deploy #1 ")
    assert incident(bot, 1)["deploy_id"] == target


def test_link_to_none_updates_and_says_so(bot: Bot) -> None:
    deploy(bot, "api v1 at=2026-11-24T09:00Z")
    open_incident(bot, "open api Checkout errors")
    assert incident(bot, 1)["cause"] == "deploy"

    reply = bot.command("/incident", "link 1 deploy=none")

    assert ephemeral_text(reply) == f"Incident #1 updated. {NO_DEPLOY}"
    row = incident(bot, 1)
    assert (row["deploy_id"], row["cause"]) == (None, "none")
    (update,) = bot.slack.wait_for("chat.update")
    assert link_section(update) == NO_DEPLOY


@pytest.mark.parametrize("text", ["link 1 none", "link 1 2 deploy=2"])
def test_link_without_an_incident_and_deploy_is_refused(bot: Bot, text: str) -> None:
    reply = bot.command("/incident", text)
    assert_refused(
        bot,
        reply,
        "Name the incident and its cause: an incident id and `deploy=ID` or `deploy=none`.",
        LINK_EXAMPLE,
    )


def test_link_to_an_unknown_or_failed_deploy_is_refused(bot: Bot) -> None:
    deploy(bot, "api v1 at=2026-11-24T09:00Z")
    failed = deploy(bot, "api v2 status=failed at=2026-11-24T10:00Z")
    open_incident(bot, "open api Checkout errors")
    before = bot.rows("incidents")

    unknown = bot.command("/incident", "link 1 deploy=999")
    attempt = bot.command("/incident", f"link 1 deploy={failed}")

    assert ephemeral_text(unknown) == (
        ":warning: There is no deploy #999. `/deploy list` shows the latest deploys and their"
        f" ids.\n{LINK_EXAMPLE}"
    )
    assert ephemeral_text(attempt).startswith(
        ":warning: Deploy #2 was a failed attempt that never reached production"
    )
    assert attempt.text.endswith(LINK_EXAMPLE)
    settle(bot)
    assert bot.rows("incidents") == before
    assert bot.slack.calls_to("chat.update") == []


def test_link_of_an_unknown_incident_is_refused(bot: Bot) -> None:
    reply = bot.command("/incident", "link 5 deploy=none")
    assert_refused(
        bot,
        reply,
        "There is no incident #5. `/incident list all` shows incidents and their ids.",
        LIST_EXAMPLE,
    )


# ---- list ----------------------------------------------------------------------------------


def _three_incidents(bot: Bot) -> None:
    deploy(bot, "api v1 at=2026-11-24T08:00Z")
    open_incident(bot, "open api Checkout errors sev=2 at=2026-11-24T09:00Z")
    open_incident(bot, "open web Login slow at=2026-11-24T10:00Z deploy=none")
    open_incident(bot, "open db Replica lag sev=4 at=2026-11-24T11:00Z")
    bot.command("/incident", "resolve 2 at=2026-11-24T10:45Z")
    bot.slack.wait_for("chat.update")
    settle(bot)


OPEN_LIST = (
    "*2 open incidents* (times in Europe/Berlin)\n"
    "`#3` 2026-11-24 12:00 CET · db: Replica lag · sev 4 · open · not linked · slack\n"
    "`#1` 2026-11-24 10:00 CET · api: Checkout errors · sev 2 · open · deploy #1 · slack"
)


@pytest.mark.parametrize("text", ["list", "list open", "list OPEN"])
def test_list_shows_open_incidents(bot: Bot, text: str) -> None:
    _three_incidents(bot)
    assert ephemeral_text(bot.command("/incident", text)) == OPEN_LIST


def test_list_all_shows_resolved_incidents_too(bot: Bot) -> None:
    _three_incidents(bot)
    assert ephemeral_text(bot.command("/incident", "list all")) == (
        "*3 latest incidents* (times in Europe/Berlin)\n"
        "`#3` 2026-11-24 12:00 CET · db: Replica lag · sev 4 · open · not linked · slack\n"
        "`#2` 2026-11-24 11:00 CET · web: Login slow · resolved after 45m · no deploy · slack\n"
        "`#1` 2026-11-24 10:00 CET · api: Checkout errors · sev 2 · open · deploy #1 · slack"
    )


def test_list_when_nothing_is_recorded(bot: Bot) -> None:
    assert ephemeral_text(bot.command("/incident", "list")) == "No open incidents."
    assert ephemeral_text(bot.command("/incident", "list open")) == "No open incidents."
    assert ephemeral_text(bot.command("/incident", "list all")) == "No incidents recorded yet."


def test_list_when_every_incident_is_resolved(bot: Bot) -> None:
    open_incident(bot, "open api Checkout errors at=2026-11-24T11:00Z")
    bot.command("/incident", "resolve 1")
    assert ephemeral_text(bot.command("/incident", "list")) == "No open incidents."
    assert ephemeral_text(bot.command("/incident", "list all")).startswith(
        "*1 latest incidents* (times in Europe/Berlin)\n`#1` 2026-11-24 12:00 CET · api:"
    )


@pytest.mark.parametrize(
    ("text", "shown"), [("list bogus", "bogus"), ("list open all", "open all")]
)
def test_list_with_an_unknown_filter_is_refused(bot: Bot, text: str, shown: str) -> None:
    reply = bot.command("/incident", text)
    assert_refused(
        bot,
        reply,
        f"`/incident list {shown}` is not a listing I know. Use `/incident list` or"
        " `/incident list all`.",
        LIST_EXAMPLE,
    )


# ---- help and the modal --------------------------------------------------------------------


@pytest.mark.parametrize("text", ["help", "HELP", "  help  "])
def test_help_shows_every_form_with_an_example(bot: Bot, text: str) -> None:
    shown = ephemeral_text(bot.command("/incident", text))
    assert shown.startswith("*Record incidents*\n")
    for form in (
        "`/incident open SERVICE TITLE... [sev=1|2|3|4] [deploy=ID|none] [at=TIME]`",
        "`/incident resolve ID [at=TIME]`",
        "`/incident link ID deploy=ID|none`",
        "`/incident list [open|all]`",
        "`/incident` alone opens a form.",
        'e.g. `/incident open api Checkout errors sev=2 at="15m ago"`',
    ):
        assert form in shown
    settle(bot)
    assert bot.rows("incidents") == []
    assert bot.slack.calls_to("chat.postMessage") == []


def test_empty_command_opens_the_incident_modal(bot: Bot) -> None:
    reply = bot.command("/incident", "   ", trigger_id="trig.modal.1")
    assert reply.status == 200 and reply.body == ""
    (call,) = bot.slack.wait_for("views.open")
    assert call["trigger_id"] == "trig.modal.1"
    view = call["view"]
    assert view["type"] == "modal"
    assert view["callback_id"] == "incident_modal"
    assert json.loads(view["private_metadata"]) == {"channel_id": CHANNEL}
    blocks = [b["block_id"] for b in view["blocks"] if b["type"] == "input"]
    assert blocks == ["service", "title", "sev", "deploy", "at"]
    settle(bot)
    assert bot.rows("incidents") == []


def _modal_values(**given: str | None) -> dict[str, dict[str, Any]]:
    return {
        "service": text_input(given.get("service")),
        "title": text_input(given.get("title")),
        "sev": select(given.get("sev")),
        "deploy": text_input(given.get("deploy")),
        "at": text_input(given.get("at")),
    }


def _submit_modal(bot: Bot, view_id: str, **given: str | None) -> Reply:
    payload = modal_save(
        "incident_modal",
        _modal_values(**given),
        view_id=view_id,
        private_metadata=json.dumps({"channel_id": CHANNEL}),
    )
    return bot.interact(payload)


def test_modal_submission_records_once_even_when_submitted_twice(bot: Bot) -> None:
    linked = deploy(bot, "api v1 at=2026-11-24T09:00Z")
    first = _submit_modal(
        bot, "V0MODAL01", service="api", title="Checkout errors", sev="2", at="15m ago"
    )
    assert first.status == 200 and first.body == ""
    post = bot.slack.wait_for("chat.postMessage", count=2)[-1]
    second = _submit_modal(
        bot, "V0MODAL01", service="api", title="Checkout errors", sev="2", at="15m ago"
    )
    assert second.status == 200
    settle(bot)

    assert post["channel"] == CHANNEL
    assert post["text"] == "Incident #1 opened on api: Checkout errors (sev 2)"
    assert button(post)["value"] == "1"
    assert len(posts(bot)) == 1
    (row,) = bot.rows("incidents")
    assert row["source_key"] == f"{TEAM}:{CHANNEL}:V0MODAL01"
    assert (row["service"], row["title"], row["severity"]) == ("api", "Checkout errors", 2)
    assert (row["started_at"], row["deploy_id"], row["cause"]) == (
        "2026-11-24T11:45:00Z",
        linked,
        "deploy",
    )
    assert (row["channel_id"], row["message_ts"] is not None) == (CHANNEL, True)


def test_modal_submission_with_deploy_none(bot: Bot) -> None:
    deploy(bot, "api v1 at=2026-11-24T09:00Z")
    reply = _submit_modal(bot, "V0MODAL02", service="api", title="Disk full", deploy="none")
    assert reply.body == ""
    post = bot.slack.wait_for("chat.postMessage", count=2)[-1]
    settle(bot)
    assert link_section(post) == NO_DEPLOY
    row = incident(bot, 1)
    assert (row["deploy_id"], row["cause"], row["severity"]) == (None, "none", None)
    assert row["started_at"] == "2026-11-24T12:00:00Z"


@pytest.mark.parametrize(
    ("given", "block", "error"),
    [
        (
            {"service": "api", "title": "Checkout errors", "sev": "9"},
            "sev",
            "`sev=9` is not a severity. Use 1 (most severe) to 4, like `sev=2`.",
        ),
        (
            {"service": "api", "title": "Checkout errors", "at": "tomorrow-ish"},
            "at",
            "I can't read `at=tomorrow-ish` as a time.",
        ),
        (
            {"service": "api", "title": "Checkout errors", "at": "2026-11-25 09:00"},
            "at",
            "`at=2026-11-25 09:00` is in the future. Record things once they have happened.",
        ),
        (
            {"service": "api", "title": "   "},
            "title",
            "The title is missing. Describe the incident in a few words after the service name.",
        ),
        (
            {"service": "api", "title": "x" * 201},
            "title",
            "The title is 201 characters long; keep it to 200.",
        ),
        (
            {"service": "", "title": "Checkout errors"},
            "service",
            "The service is missing. Name the affected service.",
        ),
        (
            {"service": "api gateway", "title": "Checkout errors"},
            "service",
            "`api gateway` is not a service name.",
        ),
        (
            {"service": "api", "title": "Checkout errors", "deploy": "999"},
            "deploy",
            "There is no deploy #999.",
        ),
        (
            {"service": "api", "title": "Checkout errors", "deploy": "yesterday's"},
            "deploy",
            "`yesterday's` is not a deploy id.",
        ),
    ],
)
def test_modal_submission_with_an_invalid_field_names_it(
    bot: Bot, given: dict[str, str], block: str, error: str
) -> None:
    reply = _submit_modal(bot, "V0MODAL03", **given)
    assert reply.status == 200
    assert reply.json["response_action"] == "errors"
    assert list(reply.json["errors"]) == [block]
    assert reply.json["errors"][block].startswith(error)
    settle(bot)
    assert bot.rows("incidents") == []
    assert bot.slack.calls_to("chat.postMessage") == []


def test_modal_submission_linking_a_failed_attempt_names_the_deploy_field(bot: Bot) -> None:
    failed = deploy(bot, "api v1 status=failed at=2026-11-24T09:00Z")
    reply = _submit_modal(
        bot, "V0MODAL04", service="api", title="Checkout errors", deploy=str(failed)
    )
    assert reply.json["response_action"] == "errors"
    assert reply.json["errors"] == {
        "deploy": "Deploy #1 was a failed attempt that never reached production, so it cannot"
        " have caused an incident. Link the deploy that did reach production, or `deploy=none`."
    }
    settle(bot)
    assert bot.rows("incidents") == []
    assert posts(bot) == []


# ---- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "problem", "example"),
    [
        (
            "close 3",
            "`close` is not something /incident does. Use `open`, `resolve`, `link`, `list` or"
            " `help`.",
            OPEN_EXAMPLE,
        ),
        (
            "open",
            "The service and the title are missing. Name the affected service and describe the"
            " incident.",
            OPEN_EXAMPLE,
        ),
        (
            "open api",
            "The title is missing. Describe the incident in a few words after the service name.",
            OPEN_EXAMPLE,
        ),
        (
            "open api sev=2",
            "The title is missing. Describe the incident in a few words after the service name.",
            OPEN_EXAMPLE,
        ),
        (
            "open api Checkout errors sev=9",
            "`sev=9` is not a severity. Use 1 (most severe) to 4, like `sev=2`.",
            OPEN_EXAMPLE,
        ),
        (
            "open api Checkout errors sev=0",
            "`sev=0` is not a severity. Use 1 (most severe) to 4, like `sev=2`.",
            OPEN_EXAMPLE,
        ),
        (
            "open api Checkout errors sev=high",
            "`sev=high` is not a severity. Use 1 (most severe) to 4, like `sev=2`.",
            OPEN_EXAMPLE,
        ),
        (
            "open api Checkout errors at=soonish",
            "I can't read `at=soonish` as a time. Use ISO-8601 like `at=2026-11-20T14:05Z`,"
            ' or `at="2026-11-20 14:05"` (taken in Europe/Berlin), or `at="15m ago"`,'
            ' `at="2h ago"`, `at="yesterday 14:00"`.',
            OPEN_EXAMPLE,
        ),
        (
            "open api Checkout errors at=2026-11-25T09:00Z",
            "`at=2026-11-25T09:00Z` is in the future. Record things once they have happened.",
            OPEN_EXAMPLE,
        ),
        (
            "open api Checkout errors at=1999-12-31T23:00Z",
            "`at=1999-12-31T23:00Z` is before the year 2000. Check the date.",
            OPEN_EXAMPLE,
        ),
        (
            "open api Checkout errors sev=2 sev=3",
            "`sev=` is given twice. Give each option once.",
            OPEN_EXAMPLE,
        ),
        (
            "open api Checkout errors at=2026-11-24T10:00Z at=2026-11-24T11:00Z",
            "`at=` is given twice. Give each option once.",
            OPEN_EXAMPLE,
        ),
        (
            "open api Checkout errors prio=2",
            "`prio=` is not an option here. Options: `at=`, `deploy=`, `sev=`.",
            OPEN_EXAMPLE,
        ),
        (
            "open api Checkout errors --hotfix",
            "`--hotfix` is not a flag here. Flags: none.",
            OPEN_EXAMPLE,
        ),
        (
            "open api Checkout errors sev=",
            "`sev=` has no value. Write it as `sev=VALUE`, quoting values with spaces.",
            OPEN_EXAMPLE,
        ),
        (
            "open api! Checkout errors",
            "`api!` is not a service name. Use letters, digits, `.`, `_`, `-` or `/`, starting"
            " with a letter or digit (at most 80 characters), like `api` or `checkout-web`.",
            OPEN_EXAMPLE,
        ),
        (
            "resolve 1 at=2026-11-25T09:00Z",
            "`at=2026-11-25T09:00Z` is in the future. Record things once they have happened.",
            RESOLVE_EXAMPLE,
        ),
        (
            "resolve 1 sev=2",
            "`sev=` is not an option here. Options: `at=`.",
            RESOLVE_EXAMPLE,
        ),
    ],
)
def test_bad_input_is_refused_with_the_problem_and_an_example(
    bot: Bot, text: str, problem: str, example: str
) -> None:
    reply = bot.command("/incident", text)
    assert_refused(bot, reply, problem, example)


def test_an_unclosed_quote_is_refused_with_advice_that_works(bot: Bot) -> None:
    reply = bot.command("/incident", 'open api "Checkout errors sev=2')
    shown = ephemeral_text(reply)
    assert shown.startswith(":warning: A double quote is not closed.")
    assert shown.endswith(f"\n{OPEN_EXAMPLE}")
    settle(bot)
    assert bot.rows("incidents") == []
    assert posts(bot) == []
    # The advice may only suggest options that /incident open accepts.
    suggested = set(re.findall(r"\b([a-z]+)=", shown))
    assert suggested <= {"sev", "deploy", "at"}, suggested


def test_text_over_2000_characters_is_refused(bot: Bot) -> None:
    text = "open api " + "x" * 1992
    assert len(text) == 2001
    reply = bot.command("/incident", text)
    assert_refused(
        bot,
        reply,
        "That command is 2001 characters long; the limit is 2000. Shorten it.",
        OPEN_EXAMPLE,
    )


def test_text_of_exactly_2000_characters_is_read(bot: Bot) -> None:
    # A title over 200 characters is refused for its own reason, not for the command length.
    text = "open api " + "x" * 1991
    assert len(text) == 2000
    reply = bot.command("/incident", text)
    assert_refused(bot, reply, "The title is 1991 characters long; keep it to 200.", OPEN_EXAMPLE)


def test_bad_input_leaves_existing_incidents_alone(bot: Bot) -> None:
    open_incident(bot, "open api Checkout errors")
    before = bot.rows("incidents")
    for text in ("open api Checkout errors sev=9", "close 1", "resolve 1 at=bogus"):
        reply = bot.command("/incident", text)
        assert reply.text.startswith(":warning: ")
    settle(bot)
    assert bot.rows("incidents") == before
    assert len(posts(bot)) == 1
    assert bot.slack.calls_to("chat.update") == []


# ---- idempotency ---------------------------------------------------------------------------


def test_same_trigger_id_twice_stores_one_incident_and_posts_once(bot: Bot) -> None:
    open_incident(bot, "open api Checkout errors sev=2", trigger_id="trig.same")
    again = bot.command("/incident", "open api Checkout errors sev=2", trigger_id="trig.same")
    assert ephemeral_text(again) == (
        "Incident #1 was already recorded from this request; nothing was added."
    )
    settle(bot)
    assert len(bot.rows("incidents")) == 1
    assert len(bot.slack.calls_to("chat.postMessage")) == 1


def test_a_slack_retry_of_the_same_request_stores_one_incident(bot: Bot) -> None:
    open_incident(bot, "open api Checkout errors", trigger_id="trig.retry")
    bot.command(
        "/incident",
        "open api Checkout errors",
        trigger_id="trig.retry",
        headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
    )
    settle(bot)
    assert len(bot.rows("incidents")) == 1
    assert len(bot.slack.calls_to("chat.postMessage")) == 1


def test_different_triggers_store_separate_incidents(bot: Bot) -> None:
    open_incident(bot, "open api Checkout errors")
    open_incident(bot, "open api Checkout errors")
    assert [r["id"] for r in bot.rows("incidents")] == [1, 2]
    assert len(posts(bot)) == 2


# ---- undoing a deploy ----------------------------------------------------------------------


def test_undoing_a_deploy_unlinks_its_incidents(bot: Bot) -> None:
    deploy(bot, "api v1 at=2026-11-24T08:00Z")
    bad = deploy(bot, "api v2 at=2026-11-24T09:00Z")
    open_incident(bot, "open api Checkout errors at=2026-11-24T10:00Z")  # auto: v2
    open_incident(bot, "open api Slow search deploy=2")
    open_incident(bot, "open api Disk full deploy=none")
    open_incident(bot, "open api Old bug deploy=1")

    reply = bot.command("/deploy", f"undo {bad}", user="U0BOB0001", channel=CHANNEL)

    assert ephemeral_text(reply) == (
        "Deploy #2 (api v2 to production) deleted.\n"
        "Incident #1 was linked to it and is now unlinked.\n"
        "Incident #2 was linked to it and is now unlinked."
    )
    causes = [(r["id"], r["deploy_id"], r["cause"]) for r in bot.rows("incidents")]
    assert causes == [
        (1, None, "unknown"),
        (2, None, "unknown"),
        (3, None, "none"),
        (4, 1, "deploy"),
    ]
    assert [r["id"] for r in bot.rows("deploys")] == [1]


def test_undoing_a_deploy_updates_the_messages_of_its_incidents(bot: Bot) -> None:
    # SPEC: "incidents linked to it are unlinked and say so": their channel messages must
    # stop saying the deleted deploy caused them.
    deploy(bot, "api v1 at=2026-11-24T09:00Z")
    open_incident(bot, "open api Checkout errors")
    ts = incident(bot, 1)["message_ts"]

    reply = bot.command("/deploy", "undo 1")
    assert "Incident #1 was linked to it and is now unlinked." in reply.text
    settle(bot)

    updates = bot.slack.calls_to("chat.update")
    assert len(updates) == 1, "the incident's message still names the deleted deploy"
    (update,) = updates
    assert (update["channel"], update["ts"]) == (CHANNEL, ts)
    assert link_section(update).startswith("Not linked to a deploy")
    assert "deploy #1" not in link_section(update)


# ---- issue 11: what is missing, text that is not text, extreme dates, production names ----


@pytest.mark.parametrize(
    ("text", "problem", "example"),
    [
        (
            "open api",
            "The title is missing. Describe the incident in a few words after the service name.",
            OPEN_EXAMPLE,
        ),
        (
            "open",
            "The service and the title are missing. Name the affected service and describe the"
            " incident.",
            OPEN_EXAMPLE,
        ),
        (
            "open sev=2",
            "The service and the title are missing. Name the affected service and describe the"
            " incident.",
            OPEN_EXAMPLE,
        ),
        (
            "resolve",
            "The incident id is missing. Name the incident to resolve by its id.",
            RESOLVE_EXAMPLE,
        ),
        (
            "link",
            "The incident id is missing. Name the incident, then its cause.",
            LINK_EXAMPLE,
        ),
        (
            "link deploy=2",
            "The incident id is missing. Name the incident, then its cause.",
            LINK_EXAMPLE,
        ),
        (
            "link 7",
            "The cause is missing. After the incident id give `deploy=ID`, or `deploy=none` when"
            " no deploy caused it.",
            LINK_EXAMPLE,
        ),
    ],
)
def test_a_refusal_names_what_is_missing(bot: Bot, text: str, problem: str, example: str) -> None:
    assert_refused(bot, bot.command("/incident", text), problem, example)


@pytest.mark.parametrize(
    ("title", "found"),
    [
        ("Checkout \u202edown", "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
        ("Checkout \u2067down", "U+2067 (RIGHT-TO-LEFT ISOLATE)"),
        ("Checkout\x00 down", "U+0000 (a control character)"),
        ("Checkout \x1b[31mdown", "U+001B (a control character)"),
    ],
)
def test_a_title_with_control_or_bidi_characters_is_refused(
    bot: Bot, title: str, found: str
) -> None:
    problem = (
        f"The title contains {found}, an invisible character that can hide or reorder what"
        " people read. Type it again without it, like `Checkout errors`."
    )
    assert_refused(bot, bot.command("/incident", f"open api {title}"), problem, OPEN_EXAMPLE)


def test_the_modal_refuses_a_bidi_override_in_the_title_field(bot: Bot) -> None:
    reply = _submit_modal(bot, "V0MODAL11", service="api", title="Checkout \u202edown")
    assert reply.json["response_action"] == "errors"
    assert list(reply.json["errors"]) == ["title"]
    assert "U+202E" in reply.json["errors"]["title"]
    settle(bot)
    assert bot.rows("incidents") == []


def test_a_title_pasted_over_lines_is_one_line(bot: Bot) -> None:
    reply = _submit_modal(bot, "V0MODAL12", service="api", title="Checkout\n\tdown")
    assert reply.status == 200 and reply.body == "", reply.body
    settle(bot)
    assert incident(bot, 1)["title"] == "Checkout down"


@pytest.mark.parametrize(
    ("at", "problem"),
    [
        ("0001-01-01", "`at=0001-01-01` is before the year 2000. Check the date."),
        ("0001-01-01T00:00+01:00", "`at=0001-01-01T00:00+01:00` is before the year 2000."),
        (
            "9999-12-31T23:59-05:00",
            "`at=9999-12-31T23:59-05:00` is in the future. Record things once they have happened.",
        ),
    ],
)
def test_extreme_start_times_are_refused(bot: Bot, at: str, problem: str) -> None:
    reply = bot.command("/incident", f"open api Checkout errors at={at}")
    assert ephemeral_text(reply).startswith(f":warning: {problem}"), reply.text
    assert reply.text.endswith(OPEN_EXAMPLE)
    settle(bot)
    assert bot.rows("incidents") == []


def test_extreme_resolve_time_is_refused(bot: Bot) -> None:
    open_incident(bot, "open api Checkout errors at=2026-11-24T09:00Z")
    reply = bot.command("/incident", "resolve 1 at=0001-01-01")
    assert "`at=0001-01-01` is before the year 2000" in ephemeral_text(reply)
    assert incident(bot, 1)["resolved_at"] is None


def test_auto_link_treats_every_production_name_as_one_production(bot: Bot) -> None:
    deploy(bot, "api v1 at=2026-11-24T08:00Z")  # production
    prod = deploy(bot, "api v2 env=prod at=2026-11-24T09:00Z")  # the latest production deploy
    deploy(bot, "api v3 env=staging at=2026-11-24T10:00Z")
    open_incident(bot, "open api Checkout errors at=2026-11-24T10:30Z")
    assert (incident(bot, 1)["deploy_id"], incident(bot, 1)["cause"]) == (prod, "deploy")


# ---- incidents of private channels ---------------------------------------------------------

PRIVATE = "C0PRIV001"


def _private_incident(bot: Bot) -> dict[str, Any]:
    """Incident #1, opened in a private channel (conversations.info says so)."""
    bot.slack.private_channels.add(PRIVATE)
    return open_incident(bot, "open api Acquisition of Initech leaked sev=1", channel=PRIVATE)


def test_a_private_channels_incident_keeps_its_title_in_that_channel(bot: Bot) -> None:
    post = _private_incident(bot)
    assert post["channel"] == PRIVATE
    assert post["text"] == "Incident #1 opened on api: Acquisition of Initech leaked (sev 1)"
    (asked,) = bot.slack.calls_to("conversations.info")
    assert asked["channel"] == PRIVATE
    assert incident(bot, 1)["channel_private"] == 1
    here = ephemeral_text(bot.command("/incident", "list", channel=PRIVATE))
    assert "`#1` 2026-11-24 13:00 CET · api: Acquisition of Initech leaked · sev 1 · open" in here


def test_elsewhere_a_private_channels_incident_is_listed_and_counted_without_its_title(
    bot: Bot,
) -> None:
    _private_incident(bot)
    open_incident(bot, "open web Login slow at=2026-11-24T11:00Z")
    assert incident(bot, 2)["channel_private"] == 0
    shown = ephemeral_text(bot.command("/incident", "list all"))
    assert shown == (
        "*2 latest incidents* (times in Europe/Berlin)\n"
        "`#1` 2026-11-24 13:00 CET · api: Incident #1 (private channel) · sev 1 · open · "
        "not linked · slack\n"
        "`#2` 2026-11-24 12:00 CET · web: Login slow · open · not linked · slack"
    )


def test_app_home_never_shows_a_private_channels_title(bot: Bot) -> None:
    _private_incident(bot)
    assert home_opened(bot).status == 200
    (call,) = bot.slack.wait_for("views.publish")
    every = json.dumps(call["view"], ensure_ascii=False)
    assert "Initech" not in every
    assert "api: Incident #1 (private channel) · sev 1 · open" in every


def test_a_weekly_summary_shows_a_private_title_only_in_that_channel(bot: Bot) -> None:
    started(bot)
    _private_incident(bot)
    subscribe(bot)  # in the public CHANNEL
    bot.clock.set("2026-11-30T08:00:00Z")
    run_job(bot)
    (post,) = summaries(bot.slack)
    assert post["channel"] == CHANNEL
    assert "Initech" not in json.dumps(post, ensure_ascii=False)
    assert "#1 api: Incident #1 (private channel) (sev 1), open since" in json.dumps(
        post, ensure_ascii=False
    )
    deps = bot.server.deps
    inside = summary.build(deps, 2026, 48, channel=PRIVATE)
    _, blocks = summary.slack_message(inside)
    assert "#1 api: Acquisition of Initech leaked (sev 1)" in json.dumps(
        [b.to_dict() for b in blocks]
    )
    # Operators at the terminal see every title.
    everywhere = summary.build(deps, 2026, 48, channel=CHANNEL)
    assert "#1 api: Acquisition of Initech leaked (sev 1)" in summary.terminal_text(everywhere)


def test_a_channel_whose_privacy_slack_did_not_tell_is_treated_as_private(bot: Bot) -> None:
    bot.slack.fail_next("conversations.info", "channel_not_found")
    open_incident(bot, "open api Checkout errors", channel="C0SECRET1")
    assert incident(bot, 1)["channel_private"] is None
    assert "Checkout errors" not in ephemeral_text(bot.command("/incident", "list"))
    here = ephemeral_text(bot.command("/incident", "list", channel="C0SECRET1"))
    assert "api: Checkout errors" in here


def test_github_incidents_are_never_private(bot: Bot) -> None:
    with bot.server.store.write() as db:
        incidents.insert(
            db,
            {
                "service": "api",
                "title": "Checkout errors (acme/api#12)",
                "started_at": "2026-11-24T11:00:00Z",
                "cause": "unknown",
                "source": "github",
                "source_key": "acme/api#12",
                "created_at": "2026-11-24T11:00:00Z",
            },
        )
    assert "api: Checkout errors (acme/api#12)" in ephemeral_text(bot.command("/incident", "list"))


# ---- answers that tell the truth (issue 11) ------------------------------------------------


def test_an_incident_post_that_fails_after_the_ack_tells_the_person_what_was_recorded(
    bot: Bot,
) -> None:
    bot.slack.fail_next("chat.postMessage", "ratelimited")
    reply = bot.command("/incident", "open api checkout down")
    assert reply.status == 200 and reply.body == ""
    (told,) = bot.slack.wait_for("response_url")
    assert told["response_type"] == "ephemeral"
    assert told["text"].startswith("Incident #1")
    assert "posting it in <#C0CHAN01> failed (ratelimited)" in told["text"]
    assert [i["title"] for i in bot.rows("incidents")] == ["checkout down"]


def test_an_incident_posted_while_the_database_turns_busy_is_not_called_unrecorded(
    bot: Bot,
) -> None:
    import sqlite3

    # Another program takes the database between the incident's write and the write that
    # remembers its message (for later updates), and keeps it past the bot's whole wait.
    other = sqlite3.connect(bot.db_path, isolation_level=None, check_same_thread=False)
    bot.slack.on_call["chat.postMessage"] = lambda: other.execute("BEGIN EXCLUSIVE")
    try:
        reply = bot.command("/incident", "open api checkout down")
        assert reply.status == 200 and reply.body == ""
        assert bot.server.wait_idle(20)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert bot.slack.calls_to("response_url") == []  # no "nothing was recorded"
    (row,) = bot.rows("incidents")
    assert row["title"] == "checkout down" and row["message_ts"] is None
