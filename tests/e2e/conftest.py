"""The end-to-end tier: the real server on an ephemeral loopback port, spoken to over HTTP."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from bot.core.clock import FixedClock
from tests.conftest import Bot, Reply, running
from tests.fakes.fake_slack import FakeSlack
from tests.scenario.test_github_webhook import GITHUB_SECRET


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

    def get(self, path: str) -> Reply:
        return _fetch(urllib.request.Request(self.url + path))


def _fetch(request: urllib.request.Request) -> Reply:
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return Reply(response.status, response.read().decode())
    except urllib.error.HTTPError as error:
        return Reply(error.code, error.read().decode())


def running_bot(
    tmp_path: Path, slack: FakeSlack, clock: FixedClock, **options: Any
) -> AbstractContextManager[HttpBot]:
    """The real server on an ephemeral loopback port (tests.conftest.running's options)."""
    return running(HttpBot, tmp_path, slack, clock, **options)


@pytest.fixture
def bot(tmp_path: Path, slack: FakeSlack, clock: FixedClock) -> Iterator[HttpBot]:
    with running_bot(tmp_path, slack, clock) as started:
        yield started


@pytest.fixture
def hub(tmp_path: Path, slack: FakeSlack, clock: FixedClock) -> Iterator[HttpBot]:
    """The real server with GITHUB_WEBHOOK_SECRET set (the `bot` fixture has none), over HTTP;
    the scenario tier's own is in tests/scenario/test_github_webhook.py."""
    with running_bot(tmp_path, slack, clock, github_webhook_secret=GITHUB_SECRET) as started:
        yield started
