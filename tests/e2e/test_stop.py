"""Stopping never hangs: SIGTERM or Ctrl-C ends `shipshape serve` with status 0 within 10 s,
whatever it is doing (SPEC), and Server.stop() returns within its deadline.

The stress tests start the real console script 30 times against a loopback Slack and send
SIGTERM at seeded random moments: during start-up, during the start-up jobs (a summary
catch-up and a pulse round resumed at Slack's pace of a DM a second), during a `/pulse now`
send, and during a summary catch-up.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pendulum
import pytest

from bot.app.serve import Server
from bot.core.clock import FixedClock
from bot.core.weeks import DAYS
from tests.conftest import HttpBot as Bot
from tests.conftest import Reply, make_config, sign
from tests.e2e.conftest import running_bot
from tests.e2e.test_cli import STOPPED, Served, assert_no_traceback, http_env
from tests.fakes.fake_slack import FakeSlack, slash_form
from tests.scenario.test_pulse_command import ADMIN, CHANNEL, settle, start
from tests.scenario.test_summary_delivery import subscribe

PEOPLE = [f"U{n:07d}" for n in range(40)]
EXIT_SECONDS = 10  # SPEC: what a supervisor waits after SIGTERM
PROC = Path("/proc/self/status")


def dms(slack: FakeSlack) -> int:
    return sum(c["channel"].startswith("D") for c in slack.calls_to("chat.postMessage"))


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Bounded polling for something another process or thread makes true."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        time.sleep(0.005)


def within(seconds: float, call: Callable[[], Any]) -> Any:
    """`call()`'s result; fails (leaving it running in a daemon thread) if it takes longer."""
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(call()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s"
    return result[0]


@pytest.fixture
def crowd(slack: FakeSlack) -> FakeSlack:
    slack.channel_members[CHANNEL] = [ADMIN, *PEOPLE]
    return slack


# ---- in-process: Server.stop() -------------------------------------------------------------


def test_stop_returns_while_a_pulse_send_ends_by_dropping_its_retry_job(
    tmp_path: Path, crowd: FakeSlack, clock: FixedClock
) -> None:
    # The send sees the scheduler stopped, ends after its current DM and, on its way out,
    # removes its retry job: that removal takes the scheduler's job-store lock, which a
    # stop waiting for running jobs must not be holding.
    db_path = tmp_path / "shipshape.db"
    config = make_config(db_path, crowd, pulse_send_interval=0.02)
    server = Server(config, clock, "127.0.0.1", 0)
    server.serve_in_thread()
    bot = Bot(server, crowd, clock, db_path)
    start(bot)
    assert bot.command("/pulse", "now", user=ADMIN).text.startswith("Round ")
    wait_until(lambda: dms(crowd) >= 3, 10, "the round's first DMs")

    began = time.monotonic()
    assert within(EXIT_SECONDS, server.stop) is True  # True: every job ended, database closed
    assert time.monotonic() - began < EXIT_SECONDS
    assert 3 <= dms(crowd) < len(PEOPLE) + 1  # the send ended at the stop, not at its end


def test_stop_twice_is_harmless(tmp_path: Path, crowd: FakeSlack, clock: FixedClock) -> None:
    with running_bot(tmp_path, crowd, clock) as bot:
        assert bot.server.stop() is True
        assert bot.server.stop() is True  # and once more as the fixture leaves


def test_a_request_in_flight_when_the_stop_begins_is_answered(
    tmp_path: Path, crowd: FakeSlack, clock: FixedClock
) -> None:
    with running_bot(tmp_path, crowd, clock) as bot:
        replies: list[Reply] = []
        tasks = bot.server.http.task_dispatcher  # waitress's request threads
        wait_until(lambda: tasks.active_count == 0, 10, "the request threads all idle")
        with bot.server.store.write():  # the /deploy below waits for the database
            asking = threading.Thread(
                target=lambda: replies.append(bot.command("/deploy", "api v1")), daemon=True
            )
            asking.start()
            wait_until(lambda: tasks.active_count > 0, 10, "the request being served")
            stopping = threading.Thread(target=bot.server.stop, daemon=True)
            stopping.start()
            wait_until(lambda: not bot.server.scheduler.running, 10, "the stop beginning")
        asking.join(EXIT_SECONDS)
        stopping.join(EXIT_SECONDS)
        assert not stopping.is_alive()
        assert replies and replies[0].status == 200, replies
        assert [d["service"] for d in bot.rows("deploys")] == ["api"]


# ---- the console script, stopped at random moments -----------------------------------------


class Serving(Served):
    """`shipshape serve --port 0` in a subprocess, signalled before or after it is running."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        super().__init__(cwd, env, wait=False)

    def wait_handling_sigterm(self, timeout: float = 30) -> None:
        """Until the process catches SIGTERM (Linux lists caught signals in SigCgt); before
        that, the interpreter itself is still starting and SIGTERM kills it outright."""
        status = Path(f"/proc/{self.process.pid}/status")
        bit = 1 << (signal.SIGTERM - 1)

        def caught() -> bool:
            assert self.process.poll() is None, f"serve exited early:\n{self.stderr}"
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines())
            return bool(int(fields["SigCgt"], 16) & bit)

        wait_until(caught, timeout, "serve catching SIGTERM")

    def sigterm(self) -> tuple[int | None, float]:
        """Send SIGTERM; the exit status (None if still running after EXIT_SECONDS, then
        killed) and how long the exit took."""
        began = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            code: int | None = self.process.wait(timeout=EXIT_SECONDS)
        except subprocess.TimeoutExpired:
            code = None
            self.process.kill()
            self.process.wait(timeout=10)
        took = time.monotonic() - began
        self._reader.join(timeout=5)
        return code, took


def stopped_in_time(served: Serving) -> None:
    code, took = served.sigterm()
    assert code == 0, f"exit {code} after {took:.1f} s:\n{served.stderr}"
    assert took < EXIT_SECONDS
    assert STOPPED in served.stderr
    assert_no_traceback(served.stderr)


def test_sigterm_while_slack_does_not_answer_auth_test(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never answers
        env = {
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": "secret",
            "SLACK_API_URL": f"http://127.0.0.1:{silent.getsockname()[1]}/api/",
            "SHIPSHAPE_DB": str(tmp_path / "shipshape.db"),
        }
        served = Serving(tmp_path, env)
        silent.settimeout(30)
        connection, _ = silent.accept()  # start-up is waiting for auth.test now
        with connection:
            stopped_in_time(served)


@pytest.mark.skipif(not PROC.exists(), reason="reads open files from /proc")
def test_sigterm_while_another_process_holds_the_database(tmp_path: Path, slack: FakeSlack) -> None:
    db = tmp_path / "shipshape.db"
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("PRAGMA journal_mode = WAL")
    holder.execute("BEGIN IMMEDIATE")  # as a backup or a sqlite3 shell can
    try:
        served = Serving(tmp_path, http_env(slack, db))
        fds = Path(f"/proc/{served.process.pid}/fd")

        def opened() -> bool:
            assert served.process.poll() is None, served.stderr
            try:
                return any(os.path.realpath(fd) == str(db) for fd in fds.iterdir())
            except FileNotFoundError:  # a descriptor closed while we listed them: look again
                return False

        wait_until(opened, 30, "serve opening the database")  # its migrations wait now
        stopped_in_time(served)
    finally:
        holder.close()


def copy_database(template: Path, to: Path) -> Path:
    for suffix in ("", "-wal"):
        if Path(f"{template}{suffix}").exists():
            shutil.copy(f"{template}{suffix}", f"{to}{suffix}")
    return to


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two databases made through the real app an hour before today 00:00 UTC: "quiet"
    has a weekly summary due today at 00:00 UTC (so each start catches it up: a summary
    and its chart) and a pulse survey; "busy" has, as well, a pulse round opened then
    whose DMs never went out (Slack could not list the channel), so each start resumes
    it, a DM a second to 41 people."""
    now = pendulum.now("UTC")
    before = now.start_of("day").subtract(hours=1)
    slack = FakeSlack().start()
    slack.channel_members[CHANNEL] = [ADMIN, *PEOPLE]
    try:
        clock = FixedClock(before.subtract(hours=1))
        quiet = tmp_path_factory.mktemp("quiet")
        with running_bot(quiet, slack, clock, pulse_send_interval=0) as bot:
            subscribe(bot, f"{DAYS[now.weekday()]} 00:00 UTC")
            start(bot)
        busy = tmp_path_factory.mktemp("busy")
        copy_database(quiet / "shipshape.db", busy / "shipshape.db")
        clock.set(before)
        with running_bot(busy, slack, clock, pulse_send_interval=0) as bot:
            slack.fail_next("conversations.members", "internal_error")
            assert bot.command("/pulse", "now", user=ADMIN).text.startswith("Round ")
            settle(bot)
    finally:
        slack.stop()
    return {"quiet": quiet / "shipshape.db", "busy": busy / "shipshape.db"}


def pulse_now(port: int, slack: FakeSlack) -> None:
    form = slash_form(
        "/pulse", "now", response_url=slack.response_url(), trigger_id="t.1", user=ADMIN,
        channel=CHANNEL,
    )  # fmt: skip
    body = urlencode(form)
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/slack/events",
        data=body.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", **sign(body)},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert b"Round " in response.read()


def summary_claimed(db: Path) -> bool:
    conn = sqlite3.connect(db)
    try:
        return bool(conn.execute("SELECT count(*) FROM summary_claims").fetchone()[0])
    except sqlite3.OperationalError:  # migrations still running, or the file held busy
        return False
    finally:
        conn.close()


def one_stop(template: Path, folder: Path, scenario: str, delay: float) -> str | None:
    """Start serve on a copy of `template`, bring it to the scenario's moment, wait
    `delay`, SIGTERM it: None if it exited 0 within EXIT_SECONDS, else what went wrong."""
    folder.mkdir()
    db = copy_database(template, folder / "shipshape.db")
    slack = FakeSlack().start()
    slack.channel_members[CHANNEL] = [ADMIN, *PEOPLE]
    env = {**http_env(slack, db), "SHIPSHAPE_ADMINS": ADMIN, "SHIPSHAPE_TIMEZONE": "Europe/Berlin"}
    served = Serving(folder, env)
    try:
        if scenario == "start-up":
            served.wait_handling_sigterm()
        else:
            port = served.wait_running()
            if scenario == "pulse send":
                pulse_now(port, slack)
                wait_until(lambda: dms(slack) >= 1, 10, "the first DM of /pulse now")
            elif scenario == "summary catch-up":
                wait_until(lambda: summary_claimed(db), 10, "the catch-up's claim")
        time.sleep(delay)  # the random moment itself, not a synchronisation
        code, took = served.sigterm()
    finally:
        if served.process.poll() is None:
            served.process.kill()
            served.process.wait(timeout=10)
        slack.stop()
    moment = f"{scenario}, SIGTERM {delay:.3f} s in"
    if code != 0:
        return f"{moment}: exit {code} after {took:.1f} s\n{served.stderr}"
    problems = [p for p in ("Traceback", 'File "') if p in served.stderr]
    if problems or STOPPED not in served.stderr:
        return f"{moment}: exit 0 but stderr says:\n{served.stderr}"
    return None


# Runs and the range of the random delay (seconds after the scenario's moment), 30 runs in
# all; two at a time, each against its own loopback Slack and database copy.
SCENARIOS = {
    "start-up": ("busy", 9, 0.6),  # after SIGTERM is caught: imports, migrations, auth.test
    "start-up jobs": ("busy", 7, 0.8),  # after "running": catch-up, resumed round, tick
    "pulse send": ("quiet", 7, 2.0),  # after /pulse now's first DM: a DM a second
    "summary catch-up": ("quiet", 7, 0.8),  # after its claim: build, post, chart, upload
}


@pytest.mark.skipif(not PROC.exists(), reason="reads caught signals from /proc")
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_sigterm_at_random_moments_exits_0_within_10_s(
    scenario: str, templates: dict[str, Path], tmp_path: Path
) -> None:
    template, runs, spread = SCENARIOS[scenario]
    moments = random.Random(f"shipshape stop {scenario}")  # seeded: the same moments each time
    delays = [moments.uniform(0, spread) for _ in range(runs)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        failures = pool.map(
            lambda n: one_stop(templates[template], tmp_path / f"run{n}", scenario, delays[n]),
            range(runs),
        )
        found = [f for f in failures if f is not None]
    assert not found, "\n\n".join(found)
