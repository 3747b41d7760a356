"""The database held by another program (a backup, a BI tool, a `sqlite3` shell in a write
transaction): every answer still comes in time and tells the truth, recorded or not; and the
database files are private to their owner."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

from bot.core.clock import FixedClock
from bot.sources.github.webhook import signature
from tests.conftest import Bot, Reply
from tests.e2e.conftest import running_bot
from tests.e2e.test_cli import assert_no_traceback, run
from tests.e2e.test_http import request
from tests.fakes.fake_slack import FakeSlack
from tests.scenario.test_deploy import open_modal, submission
from tests.scenario.test_github_webhook import GITHUB_SECRET, deployment_status, sha

SLACK_SECONDS = 3  # Slack shows "failed" for a command not answered within this
GITHUB_SECONDS = 10  # GitHub marks a delivery failed after this
HELD_SECONDS = 3.5  # longer than Slack waits
BUSY = "The database is busy"


@contextmanager
def held(db_path: Path) -> Iterator[None]:
    """Another program's write transaction, as `sqlite3 shipshape.db` with BEGIN EXCLUSIVE
    would hold it: for at least HELD_SECONDS, and until the block ends."""
    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    until = time.monotonic() + HELD_SECONDS
    try:
        yield
    finally:
        time.sleep(max(0.0, until - time.monotonic()))  # holding it that long is the scenario
        other.execute("ROLLBACK")
        other.close()


def timed(send: object) -> tuple[Reply, float]:
    started = time.monotonic()
    reply = send()  # type: ignore[operator]
    return reply, time.monotonic() - started


# ---- slash commands ------------------------------------------------------------------------


def test_deploys_while_another_program_holds_the_database_are_answered_in_time(
    bot: Bot,
) -> None:
    versions = [f"v{n}" for n in range(20)]
    with held(bot.db_path), ThreadPoolExecutor(len(versions)) as pool:
        answers = list(
            pool.map(lambda v: timed(lambda: bot.command("/deploy", f"api {v}")), versions)
        )
    assert bot.server.wait_idle(10)
    stored = {d["version"] for d in bot.rows("deploys")}
    for version, (reply, seconds) in zip(versions, answers, strict=True):
        assert reply.status == 200 and seconds < SLACK_SECONDS, (version, seconds, reply)
        if reply.body == "":  # a bare ack: recorded, and posted in the channel
            assert version in stored
        else:
            assert reply.json["response_type"] == "ephemeral"
            assert reply.text.startswith(BUSY), reply.text
            assert "`/deploy`" in reply.text and "nothing was stored" in reply.text.lower()
            assert version not in stored
    # Once the other program lets go, commands are recorded again.
    reply, seconds = timed(lambda: bot.command("/deploy", "api v99"))
    assert reply.status == 200 and reply.body == "" and seconds < SLACK_SECONDS
    bot.slack.wait_for("chat.postMessage", len(stored) + 1)
    assert "v99" in {d["version"] for d in bot.rows("deploys")}


def test_a_deploy_modal_while_the_database_is_held_stays_open_and_says_so(bot: Bot) -> None:
    payload = submission(open_modal(bot), {"service": "api", "version": "v1"})
    with held(bot.db_path):
        reply, seconds = timed(lambda: bot.interact(payload))
    assert reply.status == 200 and seconds < SLACK_SECONDS, (seconds, reply)
    assert reply.json["response_action"] == "errors"
    assert reply.json["errors"]["service"].startswith(BUSY)
    assert bot.rows("deploys") == []


# ---- GitHub webhook ------------------------------------------------------------------------


def post_json(url: str, body: str, headers: dict[str, str]) -> tuple[int, dict[str, str], str]:
    """A JSON POST over real HTTP: its status, response headers and body, errors included."""
    req = urllib.request.Request(
        url,
        data=body.encode(),
        headers={"Content-Type": "application/json", **headers},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=15) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def deliver_with_headers(bot: Bot, delivery: str) -> tuple[int, dict[str, str], str]:
    body = json.dumps(deployment_status(42, 1, "success", "2026-11-20T10:00:00Z", sha(1)))
    return post_json(
        bot.url + "/github/webhook",
        body,
        {
            "X-GitHub-Event": "deployment_status",
            "X-GitHub-Delivery": delivery,
            "X-Hub-Signature-256": signature(GITHUB_SECRET, body.encode()),
        },
    )


def test_a_webhook_while_the_database_is_held_is_refused_for_redelivery(hub: Bot) -> None:
    with held(hub.db_path):
        started = time.monotonic()
        status, headers, body = deliver_with_headers(hub, "delivery-busy")
        seconds = time.monotonic() - started
    assert status == 503 and seconds < GITHUB_SECONDS, (status, seconds, body)
    assert int(headers["Retry-After"]) > 0
    assert "busy" in json.loads(body)["error"]
    assert hub.rows("deploys") == []
    assert hub.server.store.query("SELECT * FROM github_deliveries") == []
    # GitHub's "Redeliver" of the same delivery is then recorded.
    status, _, body = deliver_with_headers(hub, "delivery-busy")
    assert status == 200, body
    assert [d["source_key"] for d in hub.rows("deploys")] == ["deployment:42"]


# ---- /healthz ------------------------------------------------------------------------------


def test_healthz_says_the_database_is_not_writable_while_it_is_held(bot: Bot) -> None:
    with held(bot.db_path):
        reply, seconds = timed(lambda: request(bot, "GET", "/healthz"))
        assert reply.status == 503 and seconds < SLACK_SECONDS, (seconds, reply)
        assert reply.json["database"] == "busy"
        assert reply.json["database_writable"] is False
        assert reply.json["slack"]["connected"] is True
    reply = request(bot, "GET", "/healthz")
    assert reply.status == 200
    assert reply.json["database"] == "ok" and reply.json["database_writable"] is True


# ---- file modes ----------------------------------------------------------------------------


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    before = os.umask(0o022)  # the usual default, which leaves files readable by all
    yield
    os.umask(before)


@pytest.mark.usefixtures("open_umask")
def test_a_new_database_and_its_wal_and_shm_are_readable_by_their_owner_only(
    tmp_path: Path, slack: FakeSlack, clock: FixedClock
) -> None:
    with running_bot(tmp_path, slack, clock) as bot:
        assert mode(bot.db_path) == 0o600
        reply = bot.command("/deploy", "api v1")
        assert reply.status == 200 and reply.body == ""
        bot.slack.wait_for("chat.postMessage")
        files = [bot.db_path.with_name(bot.db_path.name + s) for s in ("", "-wal", "-shm")]
        assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}


@pytest.mark.usefixtures("open_umask")
def test_an_existing_database_keeps_the_mode_its_operator_gave_it(
    tmp_path: Path, slack: FakeSlack, clock: FixedClock
) -> None:
    path = tmp_path / "shipshape.db"
    sqlite3.connect(path).close()
    path.chmod(0o640)  # shared with a reporting group on purpose
    with running_bot(tmp_path, slack, clock) as bot:
        assert mode(bot.db_path) == 0o640


# ---- the command line ----------------------------------------------------------------------


def test_a_cli_command_while_the_database_is_held_says_so_in_one_line(
    tmp_path: Path, slack: FakeSlack, clock: FixedClock
) -> None:
    with running_bot(tmp_path, slack, clock) as bot:
        db_path = bot.db_path  # created and migrated, as `serve` leaves it
    with held(db_path):
        done = run(
            ["github", "repo", "acme/api", "service=api"], tmp_path, SHIPSHAPE_DB=str(db_path)
        )
    assert done.returncode == 1
    assert_no_traceback(done.stdout, done.stderr)
    assert done.stderr.startswith("The database is busy"), done.stderr
    assert "nothing was stored" in done.stderr
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT count(*) FROM github_repos").fetchone() == (0,)
