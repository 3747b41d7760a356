"""Signed but malformed requests: each answers 400 with the reason, stores nothing, and
leaves no traceback in the log. Slack must never see a 500, and neither must GitHub for a
body that will never be valid (a 500 makes it redeliver)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.app.serve import Server
from bot.core.clock import FixedClock
from tests.conftest import NOW, Bot, make_config, sign
from tests.fakes.fake_slack import FakeSlack, slash_form
from tests.fakes.fake_socket_mode import FakeSocketMode
from tests.scenario.test_github_webhook import (
    assert_nothing_stored as assert_no_github_records,
)
from tests.scenario.test_github_webhook import deliver, deployment_status, sha

FORM = "application/x-www-form-urlencoded"
DEEP = 100_000


def assert_no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    for record in caplog.records:
        assert record.levelno < logging.ERROR, record.getMessage()
        assert record.exc_info is None, record.getMessage()


def assert_slack_stored_nothing(bot: Bot) -> None:
    assert bot.rows("deploys") == []
    assert bot.rows("incidents") == []
    assert bot.slack.calls_to("chat.postMessage") == []
    assert bot.slack.calls_to("response_url") == []


def command_form(bot: Bot, **changes: str | None) -> dict[str, str]:
    form = slash_form(
        "/deploy", "api v1.2.3", response_url=bot.slack.response_url(), trigger_id="trigger.bad"
    )
    for key, value in changes.items():
        if value is None:
            form.pop(key)
        else:
            form[key] = value
    return form


@pytest.mark.parametrize(
    ("form", "named"),
    [
        ({"payload": "notjson"}, "payload"),
        ({"payload": "[1, 2]"}, "payload"),
        ({"payload": '"text"'}, "payload"),
        ({"payload": "[" * DEEP + "]" * DEEP}, "payload"),
        ({"payload": json.dumps({"type": ["block_actions"]})}, "type"),
    ],
    ids=["not-json", "list", "string", "deep", "type-not-text"],
)
def test_a_malformed_interaction_payload_is_refused(
    bot: Bot, caplog: pytest.LogCaptureFixture, form: dict[str, str], named: str
) -> None:
    caplog.set_level(logging.INFO)
    reply = bot.slack_form(form)
    assert reply.status == 400, reply.body
    assert named in reply.json["error"]
    assert bot.server.wait_idle()
    assert_slack_stored_nothing(bot)
    assert_no_traceback(caplog)


@pytest.mark.parametrize("missing", ["user_id", "command", "channel_id", "team_id", "trigger_id"])
def test_a_slash_command_missing_a_field_is_refused(
    bot: Bot, caplog: pytest.LogCaptureFixture, missing: str
) -> None:
    caplog.set_level(logging.INFO)
    reply = bot.slack_form(command_form(bot, **{missing: None}))
    assert reply.status == 400, reply.body
    assert f"`{missing}`" in reply.json["error"]
    assert bot.server.wait_idle()
    assert_slack_stored_nothing(bot)
    assert_no_traceback(caplog)


def test_a_slash_command_with_an_empty_user_is_refused(bot: Bot) -> None:
    reply = bot.slack_form(command_form(bot, user_id=""))
    assert reply.status == 400
    assert "`user_id`" in reply.json["error"]
    assert_slack_stored_nothing(bot)


@pytest.mark.parametrize(
    "body",
    ["notjson", "[]", "[" * DEEP + "]" * DEEP],
    ids=["not-json", "list", "deep"],
)
def test_a_malformed_json_event_is_refused(
    bot: Bot, caplog: pytest.LogCaptureFixture, body: str
) -> None:
    caplog.set_level(logging.INFO)
    reply = bot.post("/slack/events", body, sign(body), "application/json")
    assert reply.status == 400, reply.body
    assert reply.json["error"]
    assert_slack_stored_nothing(bot)
    assert_no_traceback(caplog)


def test_an_unsigned_malformed_request_is_still_unauthorised(bot: Bot) -> None:
    body = urlencode({"payload": "notjson"})
    headers = {"X-Slack-Request-Timestamp": "1700000000", "X-Slack-Signature": "v0=" + "0" * 64}
    reply = bot.post("/slack/events", body, headers, FORM)
    assert reply.status == 401
    assert_slack_stored_nothing(bot)


def test_a_well_formed_command_still_records_after_the_checks(bot: Bot) -> None:
    reply = bot.slack_form(command_form(bot))
    assert reply.status == 200, reply.body
    bot.slack.wait_for("chat.postMessage")
    assert [d["service"] for d in bot.rows("deploys")] == ["api"]


# ---- GitHub --------------------------------------------------------------------------------


def _status(**deployment: Any) -> dict[str, Any]:
    payload = deployment_status(1, 1, "success", "2026-11-20T10:00:00Z", sha(1))
    payload["deployment"].update(deployment)
    return payload


def _repo(full_name: str) -> dict[str, Any]:
    payload = _status()
    payload["repository"]["full_name"] = full_name
    return payload


@pytest.mark.parametrize(
    ("payload", "named"),
    [
        (_status(id=10**30), "deployment.id"),
        (_status(id=-1), "deployment.id"),
        (_repo("no-slash"), "repository.full_name"),
        (_repo("/api"), "repository.full_name"),
        (_repo("acme/"), "repository.full_name"),
        (_repo("a/b/c"), "repository.full_name"),
    ],
    ids=["id-too-big", "id-negative", "no-slash", "no-owner", "no-name", "two-slashes"],
)
def test_a_delivery_with_a_bad_field_is_refused_naming_it(
    hub: Bot, caplog: pytest.LogCaptureFixture, payload: dict[str, Any], named: str
) -> None:
    caplog.set_level(logging.INFO)
    reply = deliver(hub, "deployment_status", payload)
    assert reply.status == 400, reply.body
    assert named in reply.json["error"]
    assert_no_github_records(hub)
    assert_no_traceback(caplog)


@pytest.mark.parametrize("event", ["push", "deployment_status", "ping"])
def test_a_deeply_nested_delivery_is_refused(
    hub: Bot, caplog: pytest.LogCaptureFixture, event: str
) -> None:
    caplog.set_level(logging.INFO)
    reply = deliver(hub, event, '{"a":' * DEEP + "1" + "}" * DEEP)
    assert reply.status == 400, reply.body
    assert "nested" in reply.json["error"]
    assert_no_github_records(hub)
    assert_no_traceback(caplog)


# Strings full of brackets, quotes and backslashes: the depth count must skip them.


# ---- Socket Mode ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "envelope",
    [
        # (A payload that is a JSON list never reaches the app: slack_sdk refuses it.)
        {"envelope_id": "bad-1", "type": "interactive", "payload": "notjson"},
        {"envelope_id": "bad-2", "type": "interactive", "payload": {"actions": []}},
        {"envelope_id": "bad-3", "type": "slash_commands", "payload": {"text": "api v1"}},
    ],
    ids=["text", "no-type", "command-without-fields"],
)
def test_a_malformed_envelope_leaves_the_socket_working(
    tmp_path: Path, slack: FakeSlack, caplog: pytest.LogCaptureFixture, envelope: dict[str, Any]
) -> None:
    socket_mode = FakeSocketMode()
    slack.socket_mode_url = socket_mode.url
    config = make_config(
        tmp_path / "s.db", slack, slack_app_token="xapp-test", slack_signing_secret=None
    )
    server = Server(config, FixedClock(NOW), "127.0.0.1", 0)
    try:
        server.serve_in_thread()
        socket_mode.wait_connected()
        caplog.set_level(logging.INFO)
        assert socket_mode.send(envelope)["envelope_id"] == envelope["envelope_id"]
        assert server.wait_idle()
        assert any("refused" in r.getMessage() for r in caplog.records)
        assert_no_traceback(caplog)
        form = slash_form("/deploy", "api v1.2.3", response_url="http://127.0.0.1:9/x",
                          trigger_id="good-1")  # fmt: skip
        socket_mode.send({"envelope_id": "good-1", "type": "slash_commands", "payload": form})
        slack.wait_for("chat.postMessage")
    finally:
        server.stop()
        socket_mode.stop()
