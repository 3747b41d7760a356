"""`shipshape gitlab project|projects` through the real console script, in a subprocess with
a clean environment."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from storage.db import Store
from tests.e2e.test_cli import assert_no_traceback, run

NOW = "2026-11-24T12:00:00Z"


def shipshape(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    env = {"SHIPSHAPE_DB": str(tmp_path / "ship.db"), "SHIPSHAPE_NOW": NOW}
    result = run(["gitlab", *args], tmp_path, **env)
    assert_no_traceback(result.stdout, result.stderr)
    return result.returncode, result.stdout, result.stderr


def test_project_settings_are_shown_changed_and_listed(tmp_path: Path) -> None:
    code, out, err = shipshape(
        tmp_path,
        "project",
        "acme/platform/api",
        "service=api-gateway",
        "incident-label=outage",
        "channel=#C0INCIDENT",
    )
    assert code == 0, err
    assert out.splitlines() == [
        "acme/platform/api",
        "  service         api-gateway",
        "  incident-label  outage",
        "  channel         C0INCIDENT: incidents from GitLab are posted there",
    ]
    conn = sqlite3.connect(tmp_path / "ship.db")
    assert conn.execute(
        "SELECT source, key, service, incident_label, channel_id FROM source_settings"
    ).fetchall() == [("gitlab", "acme/platform/api", "api-gateway", "outage", "C0INCIDENT")]
    conn.close()

    code, out, _ = shipshape(tmp_path, "project", "acme/platform/api", "channel=none")
    assert code == 0
    assert "  channel         none" in out
    assert "  service         api-gateway" in out  # what was not named stays

    code, out, _ = shipshape(tmp_path, "project", "acme/web")
    assert code == 0
    assert "  service         web (the project's name)" in out
    assert "  incident-label  incident (the default)" in out

    code, out, _ = shipshape(tmp_path, "projects")
    assert code == 0 and out.startswith("acme/platform/api\n") and "acme/web" not in out


def test_no_projects_says_how_to_add_one(tmp_path: Path) -> None:
    store = Store(tmp_path / "ship.db")
    store.migrate()
    store.close()
    code, out, _ = shipshape(tmp_path, "projects")
    assert code == 0
    assert out.startswith("No GitLab projects configured yet. Add one with:")
    assert "shipshape gitlab project acme/api" in out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["acme", "service=ok"], "'acme' is not a GitLab project"),
        (["acme/api", "colour=blue"], "'colour=blue' is not a setting"),
        (["acme/api", "service=-api"], "is not a service name"),
        (["acme/api", "incident-label="], "incident-label='' must be"),
        (["acme/api", "channel=incidents"], "channel='incidents' is not a Slack channel"),
    ],
)
def test_bad_settings_name_the_problem_and_store_nothing(
    tmp_path: Path, args: list[str], expected: str
) -> None:
    code, _, err = shipshape(tmp_path, "project", *args)
    assert code == 1
    assert expected in err
    assert "For example: shipshape gitlab project acme/api" in err
    assert not (tmp_path / "ship.db").exists()
