"""The scenario tier: the real Server's app dispatched in process, bolt-python's pattern.

Each request goes through the same WSGI application the HTTP server runs (bot/app/web.py:
signature checks, Bolt, the GitHub webhook), called directly with the environ the server
would build, so no socket lies between the test and the app. Slack's Web API is still the
loopback fake, as the listeners' posts after an ack need one."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from bot.core.clock import FixedClock
from tests.conftest import Bot, Reply, running
from tests.fakes.fake_slack import FakeSlack

# Headers a WSGI server hands over without the HTTP_ prefix (PEP 3333).
_UNPREFIXED = {"CONTENT_TYPE", "CONTENT_LENGTH"}


class InProcessBot(Bot):
    def start(self) -> None:
        # Scheduler, summary catch-up, pulse rounds: all but the HTTP loop.
        self.server.start_background()

    def post(self, path: str, body: str, headers: dict[str, str], content_type: str) -> Reply:
        return self._call("POST", path, body.encode(), {"Content-Type": content_type, **headers})

    def get(self, path: str, headers: dict[str, str] | None = None) -> Reply:
        return self._call("GET", path, b"", headers or {})

    def _call(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> Reply:
        path, _, query = path.partition("?")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "REMOTE_PORT": "50000",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for name, value in headers.items():
            key = name.upper().replace("-", "_")
            environ[key if key in _UNPREFIXED else f"HTTP_{key}"] = value
        status: list[str] = []

        def start_response(line: str, _headers: list[tuple[str, str]], _exc: Any = None) -> Any:
            status.append(line)
            return lambda _data: None

        chunks: Iterable[bytes] = self.server.http.application(environ, start_response)
        try:
            answer = b"".join(chunks)
        finally:
            if close := getattr(chunks, "close", None):
                close()
        return Reply(int(status[-1].split()[0]), answer.decode())


def running_bot(
    tmp_path: Path, slack: FakeSlack, clock: FixedClock, **options: Any
) -> AbstractContextManager[InProcessBot]:
    """The real Server dispatched in process (tests.conftest.running's options)."""
    return running(InProcessBot, tmp_path, slack, clock, **options)


@pytest.fixture
def bot(tmp_path: Path, slack: FakeSlack, clock: FixedClock) -> Iterator[InProcessBot]:
    with running_bot(tmp_path, slack, clock) as started:
        yield started
