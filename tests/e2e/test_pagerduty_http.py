"""`POST /pagerduty/webhook` over real HTTP: answered within PagerDuty's 5 seconds while
another program holds the database (503 with Retry-After, nothing stored, PagerDuty's
retry then recorded), and a body over 1 MiB refused before it is read."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.core.clock import FixedClock
from bot.sources.pagerduty.webhook import signature
from tests.conftest import HttpBot
from tests.e2e.conftest import running_bot
from tests.e2e.test_busy import held
from tests.fakes.fake_slack import FakeSlack
from tests.scenario.test_pagerduty_webhook import SECRET, event

PAGERDUTY_SECONDS = 5  # PagerDuty counts a delivery not answered by then as failed


@pytest.fixture
def pd(tmp_path: Path, slack: FakeSlack, clock: FixedClock) -> Iterator[HttpBot]:
    with running_bot(tmp_path, slack, clock, pagerduty_webhook_secret=SECRET) as started:
        yield started


def deliver(bot: HttpBot, body: bytes) -> tuple[int, dict[str, str], dict[str, Any]]:
    req = urllib.request.Request(
        bot.url + "/pagerduty/webhook",
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-PagerDuty-Signature": signature(SECRET, body),
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=15) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def test_a_delivery_while_the_database_is_held_is_refused_for_a_retry(pd: HttpBot) -> None:
    body = json.dumps(event("triggered")).encode()
    with held(pd.db_path):
        started = time.monotonic()
        status, headers, answer = deliver(pd, body)
        seconds = time.monotonic() - started
    assert status == 503 and seconds < PAGERDUTY_SECONDS, (status, seconds, answer)
    assert int(headers["Retry-After"]) > 0 and "busy" in answer["error"]
    assert pd.rows("incidents") == []
    assert pd.server.store.query("SELECT * FROM source_deliveries") == []
    # PagerDuty's retry, same event id, is then recorded.
    status, _, answer = deliver(pd, body)
    assert status == 200, answer
    assert [i["source_key"] for i in pd.rows("incidents")] == ["PGR0VU2"]


def test_a_body_over_1_mib_is_refused_over_http(pd: HttpBot) -> None:
    body = json.dumps(event("triggered", title="x" * 1_048_576)).encode()
    status, _, answer = deliver(pd, body)
    assert status == 413 and "1,048,576" in answer["error"]
    assert pd.rows("incidents") == []
