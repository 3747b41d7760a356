"""Socket Mode: the same app reached over a WebSocket instead of HTTP (SLACK_APP_TOKEN set)."""

from __future__ import annotations

import json
import sqlite3
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.app.serve import Server
from bot.core.clock import FixedClock
from tests.conftest import NOW, make_config
from tests.fakes.fake_slack import FakeSlack, slash_form
from tests.fakes.fake_socket_mode import FakeSocketMode


@pytest.fixture
def socket_mode() -> Iterator[FakeSocketMode]:
    fake = FakeSocketMode()
    yield fake
    fake.stop()


@pytest.fixture
def server(tmp_path: Path, slack: FakeSlack, socket_mode: FakeSocketMode) -> Iterator[Server]:
    slack.socket_mode_url = socket_mode.url
    config = make_config(
        tmp_path / "s.db", slack, slack_app_token="xapp-test", slack_signing_secret=None
    )
    server = Server(config, FixedClock(NOW), "127.0.0.1", 0)
    server.serve_in_thread()
    socket_mode.wait_connected()
    yield server
    server.stop()


def command(socket_mode: FakeSocketMode, envelope_id: str, text: str) -> dict[str, Any]:
    form = slash_form(
        "/deploy", text, response_url="http://127.0.0.1:9/unused", trigger_id=envelope_id
    )
    return socket_mode.send(
        {
            "envelope_id": envelope_id,
            "type": "slash_commands",
            "accepts_response_payload": True,
            "payload": form,
        }
    )


def deploys(server: Server) -> list[tuple[int, str, str]]:
    conn = sqlite3.connect(server.config.db_path)
    try:
        return conn.execute("SELECT id, service, version FROM deploys ORDER BY id").fetchall()
    finally:
        conn.close()


def test_health_reports_the_socket_connection(server: Server) -> None:
    # The client counts as connected once its handshake is done, a moment after the fake
    # saw it: a bounded readiness poll, not a fixed sleep.
    poll = threading.Event()
    for _ in range(200):
        if server.health()[1]["slack"]["connected"] or poll.wait(0.05):
            break
    assert server.health()[1]["slack"] == {"mode": "socket", "connected": True}


def test_a_deploy_over_the_socket_is_recorded_and_posted(
    server: Server, slack: FakeSlack, socket_mode: FakeSocketMode
) -> None:
    ack = command(socket_mode, "env-1", "api v1.2.3")
    assert ack["envelope_id"] == "env-1"
    post = slack.wait_for("chat.postMessage")[0]
    assert post["text"] == "Deploy #1 recorded: api v1.2.3 to production"
    assert deploys(server) == [(1, "api", "v1.2.3")]


def test_a_bad_command_over_the_socket_gets_the_usage_reply(
    server: Server, socket_mode: FakeSocketMode
) -> None:
    ack = command(socket_mode, "env-2", "api at=whenever")
    reply = ack["payload"]
    assert reply["response_type"] == "ephemeral"
    assert reply["text"].startswith(":warning: I can't read `at=whenever` as a time.")
    assert deploys(server) == []


def test_http_slack_route_is_absent_in_socket_mode(server: Server) -> None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{server.port}/slack/events", data=b"{}", method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request, timeout=5)
    assert error.value.code == 404
    assert json.loads(error.value.read()) == {"error": "not found"}
