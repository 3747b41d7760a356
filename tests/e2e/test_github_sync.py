"""A GitHub webhook over HTTP to the real server, which then syncs the commits it did not
have (the rest of the sync, in process: tests/scenario/test_github_sync.py)."""

from __future__ import annotations

import json
from pathlib import Path

from bot.app.serve import Server
from bot.core.clock import FixedClock
from bot.deps import Deps
from bot.sources.github.webhook import signature
from tests.conftest import make_config
from tests.fakes.fake_github import TOKEN, FakeGitHub
from tests.fakes.fake_slack import FakeSlack
from tests.scenario.test_github_sync import NOW, PAYLOADS, H, lead_time


def test_webhook_deploy_of_an_unknown_sha_fetches_its_commits(tmp_path: Path) -> None:
    """A deployment_status whose sha no push brought: the server asks the compare API for
    the commits since the previous deploy, after answering GitHub."""
    payload = json.loads((PAYLOADS / "deployment_status" / "payload.json").read_text())
    fake = FakeGitHub(
        repo=payload["repository"]["full_name"],
        default_branch=payload["repository"]["default_branch"],
    ).start()
    slack = FakeSlack().start()
    secret = "webhook-secret"
    config = make_config(
        tmp_path / "s.db",
        slack,
        github_webhook_secret=secret,
        github_token=TOKEN,
        github_api_url=fake.url,
    )
    server = Server(config, FixedClock(NOW), "127.0.0.1", 0)
    server.serve_in_thread()
    try:
        p1 = fake.commit("p1", "2026-11-20T08:00:00Z")
        f1 = fake.commit("f1", "2026-11-20T09:00:00Z")
        f2 = fake.commit("f2", "2026-11-20T10:00:00Z")

        def deliver(number: int, sha: str, at: str) -> None:
            body = json.loads(json.dumps(payload))
            body["deployment"].update(id=400 + number, sha=sha)
            body["deployment_status"].update(id=500 + number, created_at=at)
            data = json.dumps(body).encode()
            import urllib.request

            request = urllib.request.Request(
                f"http://127.0.0.1:{server.port}/github/webhook",
                data=data,
                method="POST",
                headers={
                    "Content-Type": "application/json",
                    "X-GitHub-Event": "deployment_status",
                    "X-GitHub-Delivery": f"delivery-{number}",
                    "X-Hub-Signature-256": signature(secret, data),
                },
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.status == 200
            assert server.wait_idle()

        deliver(1, p1, "2026-11-20T08:30:00Z")  # the first deploy: only its own commit
        deliver(2, f2, "2026-11-20T12:00:00Z")

        assert [r.path.split("/", 4)[-1] for r in fake.requests] == [
            f"commits/{p1}",
            f"compare/{p1}...{f2}",
        ]
        store = server.store
        changes = store.query(
            "SELECT c.sha, d.source_key FROM changes c JOIN deploys d "
            "ON d.id = c.deploy_id ORDER BY c.id"
        )
        assert [tuple(r) for r in changes] == [
            (p1, "deployment:401"),
            (f1, "deployment:402"),
            (f2, "deployment:402"),
        ]
        deps = Deps(config=config, store=store, clock=FixedClock(NOW))
        # Lead times 30m, 3h, 2h: the median is 2h.
        assert lead_time(deps, "2026-11-20", "2026-11-20")["median_seconds"] == 2 * H
    finally:
        server.stop()
        slack.stop()
        fake.stop()
