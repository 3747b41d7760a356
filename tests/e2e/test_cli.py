"""The real `shipshape` console script in a subprocess, with a clean environment.

What a person or a supervisor sees: help without configuration, one readable message for
bad configuration (never a traceback), a server that answers on the port it prints, and a
clean stop on SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.conftest import SECRET, sign
from tests.fakes.fake_slack import FakeSlack, slash_form

SHIPSHAPE = Path(sys.executable).parent / "shipshape"
RUNNING = re.compile(r"Shipshape is running on http://127\.0\.0\.1:(\d+)")
STOPPED = "Shipshape stopped."


def clean_env(**extra: str) -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/")}
    env.update(extra)
    return env


def run(
    args: list[str], cwd: Path, timeout: float = 60, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SHIPSHAPE), *args],
        cwd=cwd,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_no_traceback(*outputs: str) -> None:
    for output in outputs:
        assert "Traceback" not in output, output
        assert 'File "' not in output, output


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


def http_env(slack: FakeSlack, db: Path) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.url,
        "SHIPSHAPE_DB": str(db),
    }


class Served:
    """`shipshape serve --port 0` running in a subprocess; stderr is read as it comes."""

    def __init__(self, cwd: Path, env: dict[str, str], *, wait: bool = True) -> None:
        self.process = subprocess.Popen(
            [str(SHIPSHAPE), "serve", "--port", "0"],
            cwd=cwd,
            env=clean_env(**env),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if wait:
            self.wait_running()

    def wait_running(self, timeout: float = 60) -> int:
        """The port, once serve says it is running."""
        self.port = self._wait_for_port(timeout)
        self.url = f"http://127.0.0.1:{self.port}"
        return self.port

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self.lines.append("")  # EOF marker so waiters wake up
            self._changed.notify_all()

    @property
    def stderr(self) -> str:
        with self._changed:
            return "\n".join(self.lines)

    def _wait_for_port(self, timeout: float) -> int:
        def found() -> re.Match[str] | None:
            return next((m for line in self.lines if (m := RUNNING.search(line))), None)

        with self._changed:
            self._changed.wait_for(
                lambda: found() is not None or self.process.poll() is not None, timeout
            )
            match = found()
        assert match, f"no 'running' line; exit {self.process.poll()}, stderr:\n{self.stderr}"
        return int(match.group(1))

    def wait_healthy(self, timeout: float = 30) -> dict:
        """Poll /healthz until it answers 200 (a readiness wait with a deadline)."""
        deadline = time.monotonic() + timeout
        last: object = None
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"serve exited early:\n{self.stderr}"
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=5) as response:
                    if response.status == 200:
                        return json.loads(response.read())
                    last = response.status
            except (urllib.error.URLError, ConnectionError) as error:
                last = error
            time.sleep(0.05)
        raise AssertionError(f"/healthz never answered 200 (last: {last})\n{self.stderr}")

    def stop(self, signum: int, timeout: float = 10) -> int:
        self.process.send_signal(signum)
        code = self.process.wait(timeout=timeout)
        self._reader.join(timeout=5)
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self._reader.join(timeout=5)


@pytest.fixture
def served(tmp_path: Path, slack: FakeSlack) -> Iterator[Served]:
    server = Served(tmp_path, http_env(slack, tmp_path / "shipshape.db"))
    yield server
    server.kill()


# ---- help without configuration ----------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [["--help"], ["-h"], ["serve", "--help"], ["export", "--help"]],
    ids=lambda a: " ".join(a),
)
def test_help_needs_no_configuration(tmp_path: Path, args: list[str]) -> None:
    result = run(args, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout
    assert "Example" in result.stdout
    assert_no_traceback(result.stdout, result.stderr)
    assert not (tmp_path / "shipshape.db").exists(), "--help must not create a database"


def test_top_level_help_lists_the_commands(tmp_path: Path) -> None:
    result = run(["--help"], tmp_path)
    assert "serve" in result.stdout
    assert "export" in result.stdout


# ---- serve: configuration errors -----------------------------------------------------------


def test_serve_with_nothing_set_says_what_to_set(tmp_path: Path) -> None:
    result = run(["serve"], tmp_path)
    assert result.returncode == 1
    assert_no_traceback(result.stdout, result.stderr)
    out = result.stderr
    assert "SLACK_BOT_TOKEN" in out
    assert "SLACK_SIGNING_SECRET" in out
    assert "https://api.slack.com/apps" in out  # how to get them
    assert "OAuth & Permissions" in out
    assert "Signing Secret" in out
    assert not (tmp_path / "shipshape.db").exists()


def test_serve_reads_dotenv_from_the_working_directory(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("SLACK_BOT_TOKEN=xoxp-wrong\n", encoding="utf-8")
    result = run(["serve"], tmp_path, SLACK_SIGNING_SECRET="s")
    assert result.returncode == 1
    assert "xoxb-" in result.stderr
    assert "SLACK_SIGNING_SECRET is not set" not in result.stderr
    assert_no_traceback(result.stderr)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SHIPSHAPE_TIMEZONE": "Nowhere/Land"}, "SHIPSHAPE_TIMEZONE"),
        ({"SLACK_API_URL": "not a url"}, "SLACK_API_URL"),
        ({"PORT": "eighty"}, "PORT"),
    ],
)
def test_serve_with_a_bad_value_names_it(tmp_path: Path, env: dict[str, str], named: str) -> None:
    result = run(["serve"], tmp_path, SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET="s", **env)
    assert result.returncode == 1
    assert named in result.stderr
    assert_no_traceback(result.stdout, result.stderr)


def test_serve_with_a_token_slack_rejects(tmp_path: Path, slack: FakeSlack) -> None:
    slack.fail_next("auth.test", "invalid_auth")
    result = run(["serve", "--port", "0"], tmp_path, **http_env(slack, tmp_path / "s.db"))
    assert result.returncode == 1
    assert_no_traceback(result.stdout, result.stderr)
    assert "SLACK_BOT_TOKEN" in result.stderr
    assert "invalid_auth" in result.stderr
    assert "Shipshape is running" not in result.stderr
    assert slack.calls_to("auth.test"), "the token is checked with auth.test"


def test_serve_when_slack_cannot_be_reached(tmp_path: Path) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead_port = closed.getsockname()[1]
    result = run(
        ["serve", "--port", "0"],
        tmp_path,
        SLACK_BOT_TOKEN="xoxb-1",
        SLACK_SIGNING_SECRET="s",
        SLACK_API_URL=f"http://127.0.0.1:{dead_port}/api/",
        SHIPSHAPE_DB=str(tmp_path / "s.db"),
    )
    assert result.returncode == 1
    assert_no_traceback(result.stdout, result.stderr)
    assert "SLACK_API_URL" in result.stderr


def test_serve_on_a_port_in_use(tmp_path: Path, slack: FakeSlack) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run(["serve", "--port", str(port)], tmp_path, **http_env(slack, tmp_path / "s.db"))
    assert result.returncode == 1
    assert_no_traceback(result.stdout, result.stderr)
    assert str(port) in result.stderr
    assert "--port" in result.stderr


# ---- serve: running and stopping -------------------------------------------------------------


def test_serve_answers_health_in_http_mode(served: Served) -> None:
    health = served.wait_healthy()
    assert health["database"] == "ok"
    assert health["slack"]["mode"] == "http"
    running = next(line for line in served.lines if RUNNING.search(line))
    assert f"http://127.0.0.1:{served.port}/slack/events" in running


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serve_stops_cleanly(served: Served, signum: int) -> None:
    served.wait_healthy()
    started = time.monotonic()
    code = served.stop(signum, timeout=10)
    assert time.monotonic() - started < 10
    assert code == 0, served.stderr
    assert STOPPED in served.stderr
    assert_no_traceback(served.stderr)


def _command(served: Served, slack: FakeSlack, command: str, text: str, trigger: str) -> None:
    body = urlencode(
        slash_form(command, text, response_url=slack.response_url(), trigger_id=trigger)
    )
    request = urllib.request.Request(
        served.url + "/slack/events",
        data=body.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", **sign(body)},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=15) as response:
        assert response.status == 200


def test_a_deploy_recorded_by_serve_is_exported(
    tmp_path: Path, slack: FakeSlack, served: Served
) -> None:
    served.wait_healthy()
    _command(served, slack, "/deploy", "api v1.2.3 env=staging sha=a1b2c3d", "trigger.cli.1")
    posted = slack.wait_for("chat.postMessage")
    assert "api v1.2.3 to staging" in posted[0]["text"]

    db = str(tmp_path / "shipshape.db")
    # While serve still runs on the same database.
    as_json = run(["export", "deploys", "--format", "json"], tmp_path, SHIPSHAPE_DB=db)
    assert as_json.returncode == 0, as_json.stderr
    rows = json.loads(as_json.stdout)
    assert len(rows) == 1
    assert rows[0]["service"] == "api"
    assert rows[0]["version"] == "v1.2.3"
    assert rows[0]["environment"] == "staging"
    assert rows[0]["sha"] == "a1b2c3d"
    assert rows[0]["status"] == "success"
    assert rows[0]["source"] == "slack"
    assert rows[0]["deployed_at"].endswith("Z")

    as_csv = run(["export", "deploys", "--format", "csv"], tmp_path, SHIPSHAPE_DB=db)
    assert as_csv.returncode == 0, as_csv.stderr
    records = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert len(records) == 1
    assert records[0]["service"] == "api"
    assert records[0]["version"] == "v1.2.3"
    assert records[0]["id"] == str(rows[0]["id"])

    default = run(["export", "deploys"], tmp_path, SHIPSHAPE_DB=db)
    assert default.stdout == as_csv.stdout  # csv is the default

    incidents = run(["export", "incidents", "--format", "json"], tmp_path, SHIPSHAPE_DB=db)
    assert incidents.returncode == 0
    assert json.loads(incidents.stdout) == []

    assert served.stop(signal.SIGTERM) == 0


def test_export_reads_shipshape_db_from_dotenv(tmp_path: Path, served: Served) -> None:
    served.wait_healthy()
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / ".env").write_text(f"SHIPSHAPE_DB={tmp_path / 'shipshape.db'}\n", encoding="utf-8")
    result = run(["export", "deploys", "--format", "json"], other)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


# ---- export errors -------------------------------------------------------------------------


def test_export_on_a_missing_database(tmp_path: Path) -> None:
    result = run(["export", "deploys"], tmp_path)
    assert result.returncode == 1
    assert_no_traceback(result.stdout, result.stderr)
    assert "SHIPSHAPE_DB" in result.stderr
    assert "shipshape.db" in result.stderr
    assert not (tmp_path / "shipshape.db").exists(), "export must not create a database"


def test_export_on_a_missing_database_named_in_env(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "ship.db"
    result = run(["export", "incidents", "--format", "json"], tmp_path, SHIPSHAPE_DB=str(missing))
    assert result.returncode == 1
    assert str(missing) in result.stderr
    assert_no_traceback(result.stdout, result.stderr)


def test_export_of_an_unknown_kind(tmp_path: Path) -> None:
    result = run(["export", "people"], tmp_path)
    assert result.returncode == 2
    assert "deploys" in result.stderr
    assert_no_traceback(result.stdout, result.stderr)


# ---- export: formulas and the database itself ----------------------------------------------

FORMULAS = ["=1+2", "+1+2", "-1+2", "@SUM(A1:A2)", '=HYPERLINK("http://evil.example","x")']
# As stored: the command parser reads double quotes as quoting.
STORED = [f.replace('"', "") for f in FORMULAS]


@pytest.fixture
def recorded(tmp_path: Path, slack: FakeSlack, served: Served) -> Path:
    """A database written by `shipshape serve`: a deploy whose version is each formula and
    one plain negative number, and an incident whose title is each formula."""
    served.wait_healthy()
    for n, formula in enumerate([*FORMULAS, "-1.5"]):
        _command(served, slack, "/deploy", f"api {formula}", f"trigger.formula.{n}")
    for n, formula in enumerate(FORMULAS):
        _command(served, slack, "/incident", f"open api {formula}", f"trigger.title.{n}")
    slack.wait_for("chat.postMessage", 2 * len(FORMULAS) + 1)
    assert served.stop(signal.SIGTERM) == 0
    return tmp_path / "shipshape.db"


def test_csv_export_neutralises_formulas_and_json_stays_exact(
    tmp_path: Path, recorded: Path
) -> None:
    db = str(recorded)
    deploys = run(["export", "deploys", "--format", "csv"], tmp_path, SHIPSHAPE_DB=db)
    incidents = run(["export", "incidents"], tmp_path, SHIPSHAPE_DB=db)
    assert deploys.returncode == 0 and incidents.returncode == 0, deploys.stderr
    versions = [r["version"] for r in csv.DictReader(io.StringIO(deploys.stdout))]
    titles = [r["title"] for r in csv.DictReader(io.StringIO(incidents.stdout))]
    # A leading ' makes a spreadsheet show the text instead of evaluating it.
    assert versions == ["'" + f for f in STORED] + ["-1.5"]
    assert titles == ["'" + f for f in STORED]
    assert '"\'=1+2"' in incidents.stdout  # text is quoted, whatever the delimiter
    for line in (deploys.stdout + incidents.stdout).splitlines()[1:]:
        for cell in next(csv.reader([line])):
            assert not cell.startswith(("=", "+", "@", "\t", "\r")), line
            assert not cell.startswith("-") or cell == "-1.5", line

    as_json = run(["export", "incidents", "--format", "json"], tmp_path, SHIPSHAPE_DB=db)
    assert [r["title"] for r in json.loads(as_json.stdout)] == STORED


def _unharmed(db: Path, size: int) -> None:
    assert db.stat().st_size == size
    check = run(["export", "deploys", "--format", "json"], db.parent, SHIPSHAPE_DB=str(db))
    assert check.returncode == 0, check.stderr
    assert len(json.loads(check.stdout)) == len(FORMULAS) + 1


@pytest.mark.parametrize(
    "target",
    ["shipshape.db", "./sub/../shipshape.db", "shipshape.db-wal", "shipshape.db-shm", "link",
     "hardlink"],
)  # fmt: skip
def test_export_refuses_to_write_over_the_database(
    tmp_path: Path, recorded: Path, target: str
) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "link").symlink_to(recorded)
    os.link(recorded, tmp_path / "hardlink")
    size = recorded.stat().st_size
    db = str(recorded)
    result = run(["export", "deploys", "-o", target], tmp_path, SHIPSHAPE_DB=db)
    assert result.returncode == 1
    assert_no_traceback(result.stdout, result.stderr)
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "database" in result.stderr
    assert target.removeprefix("./") in result.stderr
    _unharmed(recorded, size)


def test_export_into_a_missing_folder_names_it(tmp_path: Path, recorded: Path) -> None:
    size = recorded.stat().st_size
    target = tmp_path / "nowhere" / "deploys.csv"
    result = run(["export", "deploys", "-o", str(target)], tmp_path, SHIPSHAPE_DB=str(recorded))
    assert result.returncode == 1
    assert_no_traceback(result.stdout, result.stderr)
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert str(tmp_path / "nowhere") in result.stderr
    assert not target.parent.exists()
    _unharmed(recorded, size)


def test_export_to_a_file_writes_it(tmp_path: Path, recorded: Path) -> None:
    target = tmp_path / "out" / "deploys.csv"
    target.parent.mkdir()
    result = run(["export", "deploys", "-o", str(target)], tmp_path, SHIPSHAPE_DB=str(recorded))
    assert result.returncode == 0, result.stderr
    assert len(list(csv.DictReader(io.StringIO(target.read_text())))) == len(FORMULAS) + 1
