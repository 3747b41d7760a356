"""The HTTP surface of `shipshape serve`: Slack request verification, health, and paths that
are not ours. Slack must never see a 500, and an unverified request stores nothing."""

from __future__ import annotations

import contextlib
import json
import selectors
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from bot.core.clock import FixedClock
from tests.conftest import Bot, Reply, sign
from tests.e2e.conftest import running_bot
from tests.fakes.fake_slack import FakeSlack, slash_form

FORM = "application/x-www-form-urlencoded"


def deploy_form(bot: Bot, text: str = "api v1.2.3", trigger_id: str = "trigger.http") -> str:
    return urlencode(
        slash_form("/deploy", text, response_url=bot.slack.response_url(), trigger_id=trigger_id)
    )


def assert_nothing_stored(bot: Bot) -> None:
    assert bot.rows("deploys") == []
    assert bot.rows("incidents") == []
    assert bot.slack.calls_to("chat.postMessage") == []
    assert bot.slack.calls_to("response_url") == []


def request(bot: Bot, method: str, path: str, body: bytes | None = None) -> Reply:
    req = urllib.request.Request(bot.url + path, data=body, method=method)
    try:
        with urllib.request.urlopen(req, timeout=15) as response:
            return Reply(response.status, response.read().decode())
    except urllib.error.HTTPError as error:
        return Reply(error.code, error.read().decode())


# ---- signature verification ----------------------------------------------------------------


def test_a_signed_request_is_accepted(bot: Bot) -> None:
    # The baseline the refusals below differ from by one thing each.
    body = deploy_form(bot)
    reply = bot.post("/slack/events", body, sign(body), FORM)
    assert reply.status == 200
    bot.slack.wait_for("chat.postMessage")
    assert [d["service"] for d in bot.rows("deploys")] == ["api"]


def test_forged_signature_is_refused_and_nothing_stored(bot: Bot) -> None:
    body = deploy_form(bot)
    headers = {
        "X-Slack-Request-Timestamp": str(int(time.time())),
        "X-Slack-Signature": "v0=" + "0" * 64,
    }
    reply = bot.post("/slack/events", body, headers, FORM)
    assert reply.status == 401
    assert_nothing_stored(bot)


def test_signature_made_with_another_secret_is_refused(bot: Bot) -> None:
    body = deploy_form(bot)
    reply = bot.post("/slack/events", body, sign(body, secret="someone-elses-secret"), FORM)
    assert reply.status == 401
    assert_nothing_stored(bot)


def test_signature_of_another_body_is_refused(bot: Bot) -> None:
    body = deploy_form(bot)
    headers = sign(deploy_form(bot, text="web v9"))
    reply = bot.post("/slack/events", body, headers, FORM)
    assert reply.status == 401
    assert_nothing_stored(bot)


def test_stale_timestamp_is_refused(bot: Bot) -> None:
    body = deploy_form(bot)
    ten_minutes_ago = int(time.time()) - 600
    reply = bot.post("/slack/events", body, sign(body, timestamp=ten_minutes_ago), FORM)
    assert reply.status == 401
    assert_nothing_stored(bot)


def test_timestamp_from_the_future_is_refused(bot: Bot) -> None:
    body = deploy_form(bot)
    in_ten_minutes = int(time.time()) + 600
    reply = bot.post("/slack/events", body, sign(body, timestamp=in_ten_minutes), FORM)
    assert reply.status == 401
    assert_nothing_stored(bot)


@pytest.mark.parametrize(
    "drop", ["X-Slack-Signature", "X-Slack-Request-Timestamp", "both"], ids=lambda d: d
)
def test_missing_headers_are_refused(bot: Bot, drop: str) -> None:
    body = deploy_form(bot)
    headers = {k: v for k, v in sign(body).items() if drop not in (k, "both")}
    reply = bot.post("/slack/events", body, headers, FORM)
    assert reply.status == 401
    assert_nothing_stored(bot)


def test_non_numeric_timestamp_is_refused(bot: Bot) -> None:
    body = deploy_form(bot)
    headers = {**sign(body), "X-Slack-Request-Timestamp": "yesterday"}
    reply = bot.post("/slack/events", body, headers, FORM)
    assert reply.status == 401
    assert_nothing_stored(bot)


# ---- malformed but signed requests ---------------------------------------------------------


def test_malformed_interactive_payload_is_never_a_500(bot: Bot) -> None:
    body = "payload=not-json"
    reply = bot.post("/slack/events", body, sign(body), FORM)
    assert reply.status < 500, reply
    assert_nothing_stored(bot)


def test_interactive_payload_of_an_unknown_kind_is_never_a_500(bot: Bot) -> None:
    reply = bot.interact({"type": "block_actions", "actions": [{"action_id": "nope"}]})
    assert reply.status < 500, reply
    assert_nothing_stored(bot)


def test_signed_garbage_body_is_never_a_500(bot: Bot) -> None:
    body = "\x00\x01 not a form at all %%%"
    reply = bot.post("/slack/events", body, sign(body), FORM)
    assert reply.status < 500, reply
    assert_nothing_stored(bot)


def test_signed_json_that_is_not_an_event_is_never_a_500(bot: Bot) -> None:
    body = json.dumps({"hello": "world"})
    reply = bot.post("/slack/events", body, sign(body), "application/json")
    assert reply.status < 500, reply
    assert_nothing_stored(bot)


def test_unknown_slash_command_is_never_a_500(bot: Bot) -> None:
    reply = bot.command("/nope", "api v1")
    assert reply.status < 500, reply
    assert_nothing_stored(bot)


def test_url_verification_challenge_is_answered(bot: Bot) -> None:
    body = json.dumps({"type": "url_verification", "token": "x", "challenge": "abc123"})
    reply = bot.post("/slack/events", body, sign(body), "application/json")
    assert reply.status == 200
    assert "abc123" in reply.body


# ---- other paths and methods ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/"), ("GET", "/nope"), ("POST", "/nope"), ("GET", "/slack/events/x")],
)
def test_unknown_path_is_404(bot: Bot, method: str, path: str) -> None:
    reply = request(bot, method, path, b"x=1" if method == "POST" else None)
    assert reply.status == 404


def test_get_slack_events_is_not_a_500(bot: Bot) -> None:
    reply = bot.get("/slack/events")
    assert 400 <= reply.status < 500


def test_healthz_reports_database_and_slack_state(bot: Bot) -> None:
    reply = bot.get("/healthz")
    assert reply.status == 200
    state = reply.json
    assert state["database"] == "ok"
    assert state["slack"]["mode"] == "http"
    assert state["slack"]["connected"] is True
    assert state["scheduler"] == "running"


def test_healthz_answers_head(bot: Bot) -> None:
    reply = request(bot, "HEAD", "/healthz")
    assert reply.status == 200


def test_healthz_reports_the_database_writable(bot: Bot) -> None:
    reply = bot.get("/healthz")
    assert reply.status == 200
    assert reply.json["database"] == "ok" and reply.json["database_writable"] is True


# ---- slow clients --------------------------------------------------------------------------


HEADERS_SO_FAR = b"POST /slack/events HTTP/1.1\r\nHost: shipshape\r\n"
BODY_TO_COME = HEADERS_SO_FAR + b"Content-Length: 100000\r\n\r\n"


class Dribblers:
    """`count` unauthenticated connections that send the start of a request (half of them
    in its headers, half in its body) and then one byte at a time, every quarter of a
    second: each byte would reset a per-byte timer."""

    def __init__(self, bot: Bot, count: int) -> None:
        self.sockets = [
            socket.create_connection(("127.0.0.1", bot.server.port), timeout=5)
            for _ in range(count)
        ]
        for n, each in enumerate(self.sockets):
            each.sendall(BODY_TO_COME if n % 2 else HEADERS_SO_FAR)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._dribble, daemon=True)
        self._thread.start()

    def _dribble(self) -> None:
        while not self._stop.wait(0.25):  # the pace of a slow client, not a synchronisation
            for each in self.sockets:
                with contextlib.suppress(OSError):  # closed by the server: what we want
                    each.send(b"X")

    def wait_all_closed(self, timeout: float) -> float:
        """Seconds until the server had closed every one (each read sees the end)."""
        began = time.monotonic()
        open_ = set(self.sockets)
        with selectors.DefaultSelector() as selector:
            for each in open_:
                selector.register(each, selectors.EVENT_READ)
            while open_:
                left = began + timeout - time.monotonic()
                assert left > 0, f"{len(open_)} slow connections still open after {timeout} s"
                for key, _ in selector.select(left):
                    try:
                        ended = key.fileobj.recv(4096) == b""  # type: ignore[union-attr]
                    except OSError:
                        ended = True
                    if ended:
                        selector.unregister(key.fileobj)
                        open_.discard(key.fileobj)  # type: ignore[arg-type]
        return time.monotonic() - began

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        for each in self.sockets:
            each.close()


@contextlib.contextmanager
def dribbling(bot: Bot, count: int) -> Iterator[Dribblers]:
    slow = Dribblers(bot, count)
    try:
        yield slow
    finally:
        slow.close()


def answered_within(bot: Bot, seconds: float) -> Reply:
    """A signed /deploy, which must be answered within `seconds`."""
    body = deploy_form(bot)
    request = urllib.request.Request(
        bot.url + "/slack/events",
        data=body.encode(),
        headers={"Content-Type": FORM, **sign(body)},
        method="POST",
    )
    began = time.monotonic()
    with urllib.request.urlopen(request, timeout=seconds + 5) as response:
        reply = Reply(response.status, response.read().decode())
    assert time.monotonic() - began < seconds
    return reply


def test_a_signed_request_is_answered_while_120_slow_clients_dribble(bot: Bot) -> None:
    with dribbling(bot, 120):
        reply = answered_within(bot, 3)  # Slack's window
    assert reply.status == 200
    assert [d["service"] for d in bot.rows("deploys")] == ["api"]


@pytest.fixture
def bounded(tmp_path: Path, slack: FakeSlack, clock: FixedClock) -> Iterator[Bot]:
    """A server whose requests must arrive within 1 s, with room for 30 connections."""
    with running_bot(
        tmp_path, slack, clock, server_options={"request_seconds": 1, "connections": 30}
    ) as started:
        yield started


def test_slow_clients_are_closed_once_their_request_is_overdue(bounded: Bot) -> None:
    with dribbling(bounded, 20) as slow:
        # 1 s for the request, up to 1 s for waitress's loop to look, and some slack.
        assert slow.wait_all_closed(timeout=4) >= 0.9


def test_when_slow_clients_fill_every_connection_signed_traffic_waits_one_bound(
    bounded: Bot,
) -> None:
    with dribbling(bounded, 40):
        reply = answered_within(bounded, 4)
    assert reply.status == 200
