"""`POST /pagerduty/webhook` through the real app: signed deliveries built from real PagerDuty
V3 payloads (tests/fakes/pagerduty_payloads, only ids, times, titles, priority, urgency and
the service changed), checked by what a person sees: the HTTP answer, the rows stored, the
cards Slack would show, `/incident list` and `shipshape report --json`."""

from __future__ import annotations

import copy
import itertools
import json
import sqlite3
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from bot.app.cli import main
from bot.core.clock import FixedClock
from bot.sources.pagerduty.webhook import signature
from tests.conftest import NOW, Bot, Reply
from tests.fakes.fake_slack import FakeSlack
from tests.scenario.conftest import running_bot

PAYLOADS = Path(__file__).parent.parent / "fakes" / "pagerduty_payloads"
SECRET = "pagerduty-signing-secret"
OLD_SECRET = "the-secret-before-the-rotation"
CHANNEL = "C0PAGER01"
_ids = itertools.count(1)


@cache
def _payload(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / name).read_text())
    return data


def event(
    kind: str,
    incident: str = "PGR0VU2",
    *,
    at: str = "2026-11-24T10:00:00Z",
    created_at: str | None = "2026-11-24T10:00:00Z",
    service: str = "Checkout API",
    service_id: str = "PF9KMXH",
    **data: Any,
) -> dict[str, Any]:
    """A V3 event of `kind` (triggered, resolved, reopened) from the real capture of that
    kind, with a fresh event id."""
    payload = copy.deepcopy(_payload(f"zulip_{kind}_v3.json"))
    body = payload["event"]
    body.update(id=f"01EVENT{next(_ids):019d}", occurred_at=at)
    body["data"].update(id=incident, html_url=f"https://acme.pagerduty.com/incidents/{incident}")
    body["data"]["created_at"] = created_at
    body["data"]["service"].update(id=service_id, summary=service)
    body["data"].update(data)
    return payload


def deliver(bot: Bot, payload: dict[str, Any] | str, header: str | None = None) -> Reply:
    body = payload if isinstance(payload, str) else json.dumps(payload)
    sig = signature(SECRET, body.encode()) if header is None else header
    return bot.post("/pagerduty/webhook", body, {"X-PagerDuty-Signature": sig}, "application/json")


def settle(bot: Bot) -> None:
    assert bot.server.wait_idle(10), "work after the answer still running after 10 s"


def incidents(bot: Bot) -> list[dict[str, Any]]:
    return bot.rows("incidents")


def deliveries(bot: Bot) -> int:
    conn = sqlite3.connect(bot.db_path)
    try:
        return int(conn.execute("SELECT count(*) FROM source_deliveries").fetchone()[0])
    finally:
        conn.close()


def cli(bot: Bot, *args: str) -> str:
    env = {"SHIPSHAPE_DB": str(bot.db_path), "SHIPSHAPE_NOW": NOW, "SHIPSHAPE_TIMEZONE": "UTC"}
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def bot(
    tmp_path: Path, slack: FakeSlack, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Bot]:
    monkeypatch.chdir(tmp_path)  # no .env of the developer's reaches the command line
    with running_bot(tmp_path, slack, clock, pagerduty_webhook_secret=SECRET) as started:
        yield started


# ---- the real payloads -----------------------------------------------------------------------


def test_the_real_triggered_capture_opens_an_incident(bot: Bot) -> None:
    reply = deliver(bot, _payload("zulip_triggered_v3.json"))
    assert reply.status == 200, reply.body
    (row,) = incidents(bot)
    # The 2021 capture has no data.created_at: it started when the event occurred.
    assert row["started_at"] == "2021-06-04T13:35:29Z"
    assert (row["title"], row["service"], row["severity"]) == ("Test Incident 3", "pig208", 2)
    assert (row["source"], row["source_key"]) == ("pagerduty", "PFQZPSY")
    assert row["url"] == "https://pig208.pagerduty.com/incidents/PFQZPSY"
    assert row["resolved_at"] is None and row["cause"] == "unknown"
    assert reply.json == {"ok": True, "result": f"incident #{row['id']} opened"}


def test_the_real_resolved_capture_resolves_what_was_triggered(bot: Bot) -> None:
    resolved = copy.deepcopy(_payload("zulip_resolved_v3.json"))
    resolved["event"]["data"]["id"] = "PFQZPSY"  # the triggered capture's incident
    resolved["event"]["occurred_at"] = "2021-06-04T14:05:29.781Z"
    assert deliver(bot, _payload("zulip_triggered_v3.json")).status == 200
    assert deliver(bot, resolved).status == 200
    (row,) = incidents(bot)
    assert row["resolved_at"] == "2021-06-04T14:05:29Z"


def test_a_resolve_for_an_incident_never_seen_without_its_start_stores_nothing(bot: Bot) -> None:
    # The real 2021 resolved capture carries no created_at: a start cannot be made up.
    reply = deliver(bot, _payload("zulip_resolved_v3.json"))
    assert reply.status == 202
    assert "never triggered here" in reply.json["reason"]
    assert incidents(bot) == [] and deliveries(bot) == 0


def test_the_real_reopened_capture_opens_an_incident_it_never_saw(bot: Bot) -> None:
    # It carries created_at, so the incident is recorded from its true start, open.
    reply = deliver(bot, _payload("zulip_reopened_v3.json"))
    assert reply.status == 200, reply.body
    (row,) = incidents(bot)
    assert (row["service"], row["severity"], row["resolved_at"]) == ("default-service", 3, None)
    assert row["started_at"] == "2026-03-30T13:37:07Z"


def test_the_published_signature_vector_is_accepted_and_its_event_type_ignored(
    tmp_path: Path, slack: FakeSlack, clock: FixedClock
) -> None:
    body = (PAYLOADS / "go-pagerduty_signature_test_body.json").read_text()
    with running_bot(
        tmp_path,
        slack,
        clock,
        pagerduty_webhook_secret="lDQHScfUeXUKaQRNF+8XIiDKZ7XX3itBAYzwU0TARw8lJqRnkKl2iB1anSb0Z+IK",
    ) as other:
        good = "v1=0c0b9495b893a39e70d1fea2fe11fbe0a825f88b9f67846f6cc07dd2bc5476cd"
        bad = "v1=7020c8a7ec668a9b7012bc3dd82e483394b038f4230acc6785efbf2a7d8bcaf5"
        assert deliver(other, body, bad).status == 401
        reply = deliver(other, body, good)
        assert (reply.status, reply.json) == (202, {"ignored": "incident.priority_updated"})
        assert incidents(other) == [] and deliveries(other) == 0


# ---- resolved, reopened, resolved: the report ------------------------------------------------


def test_resolved_reopened_and_resolved_again_counts_once_until_the_last_resolve(bot: Bot) -> None:
    deploy = bot.command("/deploy", "checkout-api v7 at=2026-11-24T09:00Z")
    assert deploy.status == 200
    bot.slack.wait_for("chat.postMessage")
    settle(bot)
    steps = [
        event("triggered", at="2026-11-24T10:00:00Z", priority={"summary": "P1"}),
        event("resolved", at="2026-11-24T10:30:00Z"),
        event("reopened", at="2026-11-24T10:45:00Z"),
        event("resolved", at="2026-11-24T11:15:00Z"),
    ]
    results = [deliver(bot, step).json["result"] for step in steps]
    assert results == [
        "incident #1 opened",
        "incident #1 resolved",
        "incident #1 reopened",
        "incident #1 resolved",
    ]
    (row,) = incidents(bot)
    assert (row["severity"], row["deploy_id"], row["cause"]) == (1, 1, "deploy")
    assert row["resolved_at"] == "2026-11-24T11:15:00Z"
    report = json.loads(cli(bot, "report", "checkout-api", "--window", "7d", "--json"))
    assert report["change_failure_rate"]["failed"] == 1
    assert report["change_failure_rate"]["deployments"] == 1
    # 11:15 - 10:00: from the trigger to the last resolve, the reopened half hour included.
    assert report["recovery_time"]["median_seconds"] == 75 * 60
    assert report["recovery_time"]["incidents"] == 1


# ---- severity and service names --------------------------------------------------------------


@pytest.mark.parametrize(
    ("priority", "urgency", "expected"),
    [
        ({"summary": "P1"}, "low", 1),
        ({"summary": "P2"}, "low", 2),
        ({"summary": "P3"}, "high", 3),
        ({"summary": "P4"}, "high", 4),
        ({"summary": "P5"}, "high", 4),
        (None, "high", 2),
        (None, "low", 3),
        ({"summary": "SEV-1"}, "low", 3),  # an account's own priority names: urgency decides
        (None, None, None),
    ],
)
def test_severity_comes_from_the_priority_then_the_urgency(
    bot: Bot, priority: dict[str, str] | None, urgency: str | None, expected: int | None
) -> None:
    assert deliver(bot, event("triggered", priority=priority, urgency=urgency)).status == 200
    assert incidents(bot)[0]["severity"] == expected


@pytest.mark.parametrize(
    ("name", "service"),
    [
        ("Checkout API", "checkout-api"),
        ("payments.v2_eu-west", "payments.v2_eu-west"),
        ("Search  &  Browse (EU)", "search-browse-eu-"),
        ("Zahlungs-Dienst Ü", "zahlungs-dienst-"),
    ],
)
def test_the_service_is_the_pagerduty_name_made_a_service(
    bot: Bot, name: str, service: str
) -> None:
    assert deliver(bot, event("triggered", service=name)).status == 200
    assert incidents(bot)[0]["service"] == service


def test_started_at_is_created_at_where_the_payload_has_it(bot: Bot) -> None:
    payload = event("triggered", at="2026-11-24T10:05:00Z", created_at="2026-11-24T10:01:00+01:00")
    assert deliver(bot, payload).status == 200
    assert incidents(bot)[0]["started_at"] == "2026-11-24T09:01:00Z"


# ---- mapping and the card in Slack -----------------------------------------------------------


def test_a_mapped_service_counts_for_its_service_and_posts_the_card(bot: Bot) -> None:
    cli(bot, "pagerduty", "service", "PF9KMXH", "service=checkout", f"channel={CHANNEL}")
    assert "checkout" in cli(bot, "pagerduty", "services")
    reply = deliver(bot, event("triggered", title="Checkout errors"))
    assert reply.status == 200
    post = bot.slack.wait_for("chat.postMessage")[-1]
    settle(bot)
    assert post["channel"] == CHANNEL
    assert "checkout" in post["text"] and "Checkout errors" in post["text"]
    origin = json.dumps(post["blocks"])
    assert "from PagerDuty: <https://acme.pagerduty.com/incidents/PGR0VU2|PGR0VU2>" in origin
    (row,) = incidents(bot)
    assert (row["service"], row["channel_id"]) == ("checkout", CHANNEL)
    assert row["message_ts"]  # where the card is, so later changes update it
    # Resolved in PagerDuty: the same message now says so.
    assert deliver(bot, event("resolved", at="2026-11-24T10:20:00Z")).status == 200
    (update,) = bot.slack.wait_for("chat.update")
    settle(bot)
    assert update["ts"] == row["message_ts"] and "resolved" in update["text"].lower()


def test_the_name_maps_when_the_id_is_not_mapped_and_the_id_wins(bot: Bot) -> None:
    cli(bot, "pagerduty", "service", "Checkout API", "service=by-name")
    assert deliver(bot, event("triggered", "PA")).status == 200
    cli(bot, "pagerduty", "service", "PF9KMXH", "service=by-id")
    assert deliver(bot, event("triggered", "PB")).status == 200
    assert [r["service"] for r in incidents(bot)] == ["by-name", "by-id"]
    settle(bot)
    assert bot.slack.calls_to("chat.postMessage") == []  # no channel mapped: posted nowhere


def test_incident_list_links_to_pagerduty(bot: Bot) -> None:
    assert deliver(bot, event("triggered", title="Checkout errors")).status == 200
    reply = bot.command("/incident", "list")
    assert reply.status == 200
    assert "<https://acme.pagerduty.com/incidents/PGR0VU2|pagerduty>" in reply.text


@pytest.mark.parametrize("word", ["channel=general", "channel=#Pay Ments", "color=red", "service="])
def test_a_wrong_mapping_is_refused_with_an_example(bot: Bot, word: str) -> None:
    env = {"SHIPSHAPE_DB": str(bot.db_path), "SHIPSHAPE_NOW": NOW}
    result = CliRunner().invoke(main, ["pagerduty", "service", "PF9KMXH", word], env=env)
    assert result.exit_code != 0
    assert "shipshape pagerduty service PF9KMXH service=checkout" in result.output
    assert "No PagerDuty services are mapped" in cli(bot, "pagerduty", "services")


def slack_cli(bot: Bot, *args: str, token: str | None = "xoxb-cli") -> Result:
    """The command line with the bot's Slack settings, as an operator runs it beside serve."""
    env = {"SHIPSHAPE_DB": str(bot.db_path), "SHIPSHAPE_NOW": NOW, "SLACK_API_URL": bot.slack.url,
           "SLACK_BOT_TOKEN": token}  # fmt: skip
    return CliRunner().invoke(main, list(args), env=env)


def test_a_channel_given_by_its_name_is_looked_up_in_slack_and_gets_the_card(bot: Bot) -> None:
    # More channels than one page of conversations.list holds: the name is on the second.
    bot.slack.channel_names = {f"C{n:08d}": f"team-{n}" for n in range(1_200)}
    bot.slack.channel_names["C0PAYMENTS"] = "payments"
    result = slack_cli(bot, "pagerduty", "service", "PF9KMXH", "channel=#payments")
    assert result.exit_code == 0, result.output
    assert "C0PAYMENTS" in result.output
    assert len(bot.slack.calls_to("conversations.list")) == 2
    assert deliver(bot, event("triggered")).status == 200
    assert bot.slack.wait_for("chat.postMessage")[-1]["channel"] == "C0PAYMENTS"


@pytest.mark.parametrize(
    ("token", "error", "expected"),
    [(None, None, "set SLACK_BOT_TOKEN"), ("xoxb-cli", None, "No channel called #payments"),
     ("xoxb-cli", "missing_scope", "(missing_scope)")],
)  # fmt: skip
def test_a_channel_name_that_cannot_be_found_is_refused_and_nothing_stored(
    bot: Bot, token: str | None, error: str | None, expected: str
) -> None:
    bot.slack.channel_names = {"C0GENERAL1": "general"}
    if error:
        bot.slack.fail_next("conversations.list", error)
    result = slack_cli(bot, "pagerduty", "service", "PF9KMXH", "channel=#payments", token=token)
    assert result.exit_code == 1
    assert expected in result.output and "like C0123ABCD" in result.output
    assert "Nothing was stored" in result.output
    assert "No PagerDuty services are mapped" in cli(bot, "pagerduty", "services")


# ---- rotation, redelivery, refusals ----------------------------------------------------------


def test_during_a_rotation_one_matching_signature_is_enough(bot: Bot) -> None:
    body = json.dumps(event("triggered"))
    both = f"{signature(OLD_SECRET, body.encode())},{signature(SECRET, body.encode())}"
    assert deliver(bot, body, both).status == 200
    assert len(incidents(bot)) == 1


def test_a_redelivery_changes_nothing(bot: Bot) -> None:
    trigger = event("triggered")
    assert deliver(bot, trigger).status == 200
    resolve = event("resolved", at="2026-11-24T10:20:00Z")
    assert deliver(bot, resolve).status == 200
    assert deliver(bot, event("reopened", at="2026-11-24T10:30:00Z")).status == 200
    before = incidents(bot)
    reply = deliver(bot, resolve)  # PagerDuty retrying the resolve after a timeout
    assert (reply.status, reply.json) == (200, {"duplicate": True})
    assert incidents(bot) == before and before[0]["resolved_at"] is None
    assert deliveries(bot) == 3


def test_other_event_types_are_accepted_and_ignored(bot: Bot) -> None:
    reply = deliver(bot, _payload("zulip_acknowledged_v3.json"))
    assert (reply.status, reply.json) == (202, {"ignored": "incident.acknowledged"})
    assert incidents(bot) == [] and deliveries(bot) == 0


def test_without_the_secret_the_route_answers_503_naming_it(
    tmp_path: Path, slack: FakeSlack, clock: FixedClock
) -> None:
    with running_bot(tmp_path, slack, clock) as unset:
        reply = deliver(unset, event("triggered"))
        assert reply.status == 503
        assert "PAGERDUTY_WEBHOOK_SECRET" in reply.json["error"]
        assert incidents(unset) == [] and deliveries(unset) == 0


@pytest.mark.parametrize("header", ["", "v1=00", "sha256=abc", "v1=" + "0" * 64])
def test_a_bad_or_missing_signature_is_401(bot: Bot, header: str) -> None:
    reply = deliver(bot, event("triggered"), header)
    assert reply.status == 401 and "X-PagerDuty-Signature" in reply.json["error"]
    assert incidents(bot) == [] and deliveries(bot) == 0


def test_a_body_over_1_mib_is_413_unread(bot: Bot) -> None:
    payload = event("triggered", title="x" * 1_048_576)
    reply = deliver(bot, payload)
    assert reply.status == 413 and "1,048,576 bytes" in reply.json["error"]
    assert incidents(bot) == [] and deliveries(bot) == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d["data"].pop("id"), "event.data.id"),
        (lambda d: d["data"].update(title=7), "event.data.title"),
        (lambda d: d.update(occurred_at="yesterday"), "event.occurred_at"),
        (lambda d: d.update(occurred_at="0001-01-01T00:00:00+01:00"), "event.occurred_at"),
        (lambda d: d["data"]["service"].pop("summary"), "event.data.service.summary"),
        (lambda d: d["data"].update(priority="P1"), "event.data.priority"),
        (lambda d: d.update(id=None), "event.id"),
    ],
)
def test_a_malformed_event_is_400_naming_the_field(bot: Bot, change: Any, field: str) -> None:
    payload = event("triggered")
    change(payload["event"])
    reply = deliver(bot, payload)
    assert reply.status == 400, reply.body
    assert reply.json["field"] == field and field in reply.json["error"]
    assert incidents(bot) == [] and deliveries(bot) == 0


@pytest.mark.parametrize("body", ["{not json", "[1, 2]", '"text"', ""])
def test_a_body_that_is_not_a_json_object_is_400(bot: Bot, body: str) -> None:
    reply = deliver(bot, body)
    assert reply.status == 400 and "not a JSON object" in reply.json["error"]
    assert deliveries(bot) == 0


def test_a_card_resolved_from_slack_still_says_it_came_from_pagerduty(bot: Bot) -> None:
    cli(bot, "pagerduty", "service", "PF9KMXH", "service=checkout", f"channel={CHANNEL}")
    assert deliver(bot, event("triggered", title="Checkout errors")).status == 200
    bot.slack.wait_for("chat.postMessage")
    settle(bot)
    (row,) = incidents(bot)
    bot.command("/incident", f"resolve {row['id']}", channel=CHANNEL)
    (update,) = bot.slack.wait_for("chat.update")
    assert update["ts"] == row["message_ts"] and "resolved" in update["text"].lower()
    origin = json.dumps(update["blocks"])
    assert "from PagerDuty: <https://acme.pagerduty.com/incidents/PGR0VU2|PGR0VU2>" in origin
