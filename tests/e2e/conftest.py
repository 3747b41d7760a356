"""The end-to-end tier: the real server on an ephemeral loopback port, spoken to over HTTP
(its `bot` fixture is the one in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from bot.core.clock import FixedClock
from tests.conftest import HttpBot, running
from tests.fakes.fake_slack import FakeSlack
from tests.scenario.test_github_webhook import GITHUB_SECRET


def running_bot(
    tmp_path: Path, slack: FakeSlack, clock: FixedClock, **options: Any
) -> AbstractContextManager[HttpBot]:
    """The real server on an ephemeral loopback port (tests.conftest.running's options)."""
    return running(HttpBot, tmp_path, slack, clock, **options)


@pytest.fixture
def hub(tmp_path: Path, slack: FakeSlack, clock: FixedClock) -> Iterator[HttpBot]:
    """The real server with GITHUB_WEBHOOK_SECRET set (the `bot` fixture has none), over HTTP;
    the scenario tier's own is in tests/scenario/test_github_webhook.py."""
    with running_bot(tmp_path, slack, clock, github_webhook_secret=GITHUB_SECRET) as started:
        yield started
