"""`shipshape export` of an incident recorded from a private channel keeps its title (the
private-channel tests: tests/scenario/test_incident.py)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Bot
from tests.e2e.test_cli import run
from tests.scenario.test_incident import _private_incident


def test_the_export_keeps_a_private_channels_title(bot: Bot, tmp_path: Path) -> None:
    _private_incident(bot)
    result = run(
        ["export", "incidents", "--format", "json"], tmp_path, SHIPSHAPE_DB=str(bot.db_path)
    )
    assert result.returncode == 0, result.stderr
    (row,) = json.loads(result.stdout)
    assert (row["title"], row["channel_private"]) == ("Acquisition of Initech leaked", 1)
