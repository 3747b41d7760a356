"""A GitLab delivery while another program holds the database: refused in time with
Retry-After, nothing stored, and the same delivery resent later is recorded."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.core.clock import FixedClock
from tests.conftest import HttpBot
from tests.e2e.conftest import running_bot
from tests.e2e.test_busy import GITHUB_SECONDS, held, post_json
from tests.fakes.fake_slack import FakeSlack
from tests.scenario.test_gitlab_webhook import SECRET, deployment, sha


@pytest.fixture
def lab(tmp_path: Path, slack: FakeSlack, clock: FixedClock) -> Iterator[HttpBot]:
    with running_bot(tmp_path, slack, clock, gitlab_webhook_secret=SECRET) as started:
        yield started


def deliver(bot: HttpBot, key: str) -> tuple[int, dict[str, str], str]:
    body = json.dumps(deployment(42, "success", "2026-11-20 10:00:00 +0000", sha(1)))
    return post_json(
        bot.url + "/gitlab/webhook",
        body,
        {"X-Gitlab-Event": "Deployment Hook", "X-Gitlab-Token": SECRET, "Idempotency-Key": key},
    )


def test_a_delivery_while_the_database_is_held_is_refused_for_a_resend(lab: HttpBot) -> None:
    with held(lab.db_path):
        started = time.monotonic()
        status, headers, body = deliver(lab, "busy-1")
        seconds = time.monotonic() - started
    assert status == 503 and seconds < GITHUB_SECONDS, (status, seconds, body)  # GitLab: 10 s too
    assert int(headers["Retry-After"]) > 0
    assert "busy" in json.loads(body)["error"]
    assert lab.rows("deploys") == []
    assert lab.server.store.query("SELECT * FROM source_deliveries") == []
    status, _, body = deliver(lab, "busy-1")
    assert status == 200, body
    assert [d["source_key"] for d in lab.rows("deploys")] == ["deployment:42"]
