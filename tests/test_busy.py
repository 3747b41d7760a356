"""The database held by another program (a backup, a BI tool, a `sqlite3` shell in a write
transaction): every answer still comes in time and tells the truth, recorded or not; and the
database files are private to their owner."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.clock import FixedClock
from tests.conftest import running_bot
from tests.fake_slack import FakeSlack

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
