"""The HTTP API over real HTTP: bearer tokens as a pipeline sends them, a body over 1 MiB
refused by its Content-Length, tokens rotated without downtime, a held database refused with
Retry-After."""

from __future__ import annotations

import http.client
import json
import sqlite3
from pathlib import Path

from bot.core.clock import FixedClock
from bot.sources.api.routes import MAX_BODY_BYTES, RETRY_AFTER_SECONDS
from tests.conftest import HttpBot
from tests.e2e.conftest import running_bot
from tests.fakes.fake_slack import FakeSlack

OLD, NEW = "tok-old-0123456789", "tok-new-9876543210"


def send(
    bot: HttpBot, method: str, path: str, body: bytes = b"", token: str | None = None
) -> tuple[int, dict[str, str], dict[str, object]]:
    """One request on its own connection; the status, headers and JSON answer."""
    connection = http.client.HTTPConnection("127.0.0.1", bot.server.port, timeout=15)
    headers = {"Content-Type": "application/json", "Content-Length": str(len(body))}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), json.loads(response.read() or b"{}")
    finally:
        connection.close()


def deploy_body(key: str) -> bytes:
    return json.dumps({"service": "checkout", "version": "v1", "key": key}).encode()


def test_bearer_tokens_over_http_and_rotation(
    tmp_path: Path, slack: FakeSlack, clock: FixedClock
) -> None:
    # Both tokens during the rotation: either one records.
    with running_bot(tmp_path, slack, clock, api_tokens=(OLD, NEW)) as bot:
        assert send(bot, "POST", "/api/deploys", deploy_body("run-1"), OLD)[0] == 201
        assert send(bot, "POST", "/api/deploys", deploy_body("run-2"), NEW)[0] == 201
        status, _, answer = send(bot, "POST", "/api/deploys", deploy_body("run-3"))
        assert status == 401 and "Bearer" in str(answer["error"])
        assert send(bot, "GET", "/api/report?window=7d", token=NEW)[0] == 200
    # The old one dropped: it is refused, the new one still records.
    with running_bot(tmp_path, slack, clock, api_tokens=(NEW,)) as bot:
        assert send(bot, "POST", "/api/deploys", deploy_body("run-4"), OLD)[0] == 401
        assert send(bot, "GET", "/api/report", token=OLD)[0] == 401
        status, _, answer = send(bot, "POST", "/api/deploys", deploy_body("run-1"), NEW)
        assert (status, answer["created"]) == (200, False)
        assert [d["source_key"] for d in bot.rows("deploys")] == ["run-1", "run-2"]


def test_a_body_over_one_mib_is_413_by_its_content_length(
    tmp_path: Path, slack: FakeSlack, clock: FixedClock
) -> None:
    with running_bot(tmp_path, slack, clock, api_tokens=(NEW,)) as bot:
        over = b" " * (MAX_BODY_BYTES + 1)
        status, _, answer = send(bot, "POST", "/api/deploys", over, NEW)
        assert status == 413 and "1,048,576" in str(answer["error"])
        # At the limit it is read: JSON padded with spaces to exactly 1 MiB is recorded.
        body = deploy_body("run-1")
        status, _, _ = send(bot, "POST", "/api/deploys", body.ljust(MAX_BODY_BYTES), NEW)
        assert status == 201
        assert len(bot.rows("deploys")) == 1


def test_off_without_tokens_over_http(bot: HttpBot) -> None:
    status, _, answer = send(bot, "POST", "/api/deploys", deploy_body("run-1"), NEW)
    assert status == 503 and "SHIPSHAPE_API_TOKENS" in str(answer["error"])
    assert bot.rows("deploys") == []


def test_a_held_database_is_503_with_retry_after_and_nothing_stored(
    tmp_path: Path, slack: FakeSlack, clock: FixedClock
) -> None:
    with running_bot(tmp_path, slack, clock, api_tokens=(NEW,)) as bot:
        other = sqlite3.connect(bot.db_path, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        try:
            status, headers, answer = send(bot, "POST", "/api/deploys", deploy_body("r"), NEW)
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert status == 503 and "busy" in str(answer["error"])
        assert headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
        assert bot.rows("deploys") == []
        # Sent again once the database is free, it is recorded.
        assert send(bot, "POST", "/api/deploys", deploy_body("r"), NEW)[0] == 201
