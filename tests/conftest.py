"""Fixtures every tier shares: a fake Slack, a fixed clock, the real Server on a temp SQLite
file, and `Bot`, which speaks to it as Slack does. A request reaches the app over HTTP on a
loopback port (HttpBot, the `bot` of e2e/ and of files not yet in a tier) or dispatched in
process (scenario/conftest.py)."""

from __future__ import annotations

import itertools
import json
import sqlite3
import time
import urllib.error
import urllib.request
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import pytest
from slack_sdk.signature import SignatureVerifier

from bot.app.serve import Server
from bot.config import Config
from bot.core.clock import FixedClock
from tests.fakes.fake_slack import FakeSlack, slash_form

SECRET = "test-signing-secret"
NOW = "2026-11-24T12:00:00Z"
_ids = itertools.count(1)


@dataclass
class Reply:
    status: int
    body: str

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body) if self.body else {}

    @property
    def text(self) -> str:
        """What the person sees in an ephemeral reply (empty for a bare ack)."""
        return self.json.get("text", "") if self.body else ""


def sign(body: str, timestamp: int | None = None, secret: str = SECRET) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}


class Bot(ABC):
    """The real Server, reached the way Slack and GitHub reach it; the tier decides how."""

    def __init__(self, server: Server, slack: FakeSlack, clock: FixedClock, db_path: Path) -> None:
        self.server = server
        self.slack = slack
        self.clock = clock
        self.db_path = db_path

    @abstractmethod
    def start(self) -> None:
        """Start the server's background work, and whatever carries requests to it."""

    @abstractmethod
    def post(self, path: str, body: str, headers: dict[str, str], content_type: str) -> Reply: ...

    @abstractmethod
    def get(self, path: str, headers: dict[str, str] | None = None) -> Reply: ...

    def slack_form(self, form: dict[str, str], headers: dict[str, str] | None = None) -> Reply:
        body = urlencode(form)
        return self.post(
            "/slack/events",
            body,
            {**sign(body), **(headers or {})},
            "application/x-www-form-urlencoded",
        )

    def command(
        self,
        command: str,
        text: str = "",
        *,
        user: str = "U0ALICE1",
        channel: str = "C0CHAN01",
        trigger_id: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        form = slash_form(
            command,
            text,
            response_url=self.slack.response_url(),
            trigger_id=trigger_id or f"trigger.{next(_ids)}",
            user=user,
            channel=channel,
        )
        return self.slack_form(form, headers)

    def interact(self, payload: dict[str, Any]) -> Reply:
        return self.slack_form({"payload": json.dumps(payload)})

    def rows(self, table: str) -> list[dict[str, Any]]:
        """Read the database file directly, as an exporter or a person with sqlite3 would."""
        conn = sqlite3.connect(self.db_path)
        conn.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in conn.execute(f"SELECT * FROM {table} ORDER BY id")]
        finally:
            conn.close()


class HttpBot(Bot):
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def start(self) -> None:
        self.server.serve_in_thread()

    def post(self, path: str, body: str, headers: dict[str, str], content_type: str) -> Reply:
        request = urllib.request.Request(
            self.url + path,
            data=body.encode(),
            headers={"Content-Type": content_type, **headers},
            method="POST",
        )
        return _fetch(request)

    def get(self, path: str, headers: dict[str, str] | None = None) -> Reply:
        return _fetch(urllib.request.Request(self.url + path, headers=headers or {}))


def _fetch(request: urllib.request.Request) -> Reply:
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return Reply(response.status, response.read().decode())
    except urllib.error.HTTPError as error:
        return Reply(error.code, error.read().decode())


AnyBot = TypeVar("AnyBot", bound=Bot)


def make_config(db_path: Path, slack: FakeSlack, **overrides: Any) -> Config:
    values: dict[str, Any] = {
        "slack_bot_token": "xoxb-test",
        "slack_signing_secret": SECRET,
        "slack_api_url": slack.url,
        "db_path": str(db_path),
        "timezone": "Europe/Berlin",
        "admins": frozenset({"U0ADMIN1"}),
    }
    values.update(overrides)
    return Config(**values)


@contextmanager
def running(
    kind: type[AnyBot],
    tmp_path: Path,
    slack: FakeSlack,
    clock: FixedClock,
    *,
    server_options: dict[str, Any] | None = None,
    **overrides: Any,
) -> Iterator[AnyBot]:
    """The real Server on a temp database, reached as `kind` reaches it; `overrides` change
    its Config and `server_options` the Server's own (its HTTP bounds)."""
    db_path = tmp_path / "shipshape.db"
    config = make_config(db_path, slack, **overrides)
    server = Server(config, clock, "127.0.0.1", 0, **(server_options or {}))
    started = kind(server, slack, clock, db_path)
    try:
        started.start()
        yield started
    finally:
        server.stop()


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def bot(tmp_path: Path, slack: FakeSlack, clock: FixedClock) -> Iterator[HttpBot]:
    """The real server over HTTP: e2e's, and the default of a test file not yet sorted into a
    tier; scenario/ overrides it with the app dispatched in process."""
    with running(HttpBot, tmp_path, slack, clock) as started:
        yield started
