"""Where records show which source they came from: /healthz names every source and whether
this server takes records from it (a route whose secret is unset answers 503)."""

from __future__ import annotations

from pathlib import Path

from bot.core.clock import FixedClock
from tests.conftest import Bot
from tests.fakes.fake_slack import FakeSlack
from tests.scenario.conftest import running_bot


def test_healthz_names_every_source_and_whether_it_is_on(bot: Bot) -> None:
    reply = bot.get("/healthz")
    assert reply.status == 200
    assert reply.json["sources"] == {
        "slack": "on", "github": "off", "gitlab": "off", "pagerduty": "off", "api": "off",
    }  # fmt: skip


def test_a_source_with_its_secret_set_is_on(
    tmp_path: Path, slack: FakeSlack, clock: FixedClock
) -> None:
    secrets = {
        "github_webhook_secret": "s1",
        "gitlab_webhook_secret": "s2",
        "pagerduty_webhook_secret": "s3",
        "api_tokens": ("t1", "t2"),
    }
    with running_bot(tmp_path, slack, clock, **secrets) as bot:
        sources = bot.get("/healthz").json["sources"]
    assert set(sources.values()) == {"on"} and len(sources) == 5
