"""`shipshape github sync|repo|repos` through the real console script, in a subprocess
with a clean environment, against the loopback fake of the GitHub API."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_cli import assert_no_traceback, run
from tests.fakes.fake_github import TOKEN, FakeGitHub

NOW = "2026-11-24T12:00:00Z"


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    server = FakeGitHub().start()
    yield server
    server.stop()


def shipshape(tmp_path: Path, *args: str, **env: str) -> tuple[int, str, str]:
    values = {"SHIPSHAPE_DB": str(tmp_path / "ship.db"), "SHIPSHAPE_NOW": NOW, **env}
    result = run(["github", *args], tmp_path, **values)
    assert_no_traceback(result.stdout, result.stderr)
    return result.returncode, result.stdout, result.stderr


def test_help_has_examples_and_needs_no_configuration(tmp_path: Path) -> None:
    for command in ([], ["sync"], ["repo"], ["repos"]):
        code, out, _ = shipshape(tmp_path, *command, "--help", SHIPSHAPE_DB="")
        assert code == 0 and "Example" in out
        assert "shipshape github" in out


def test_repo_settings_are_shown_changed_and_listed(tmp_path: Path) -> None:
    code, out, err = shipshape(tmp_path, "repos")
    assert code == 1 and "ship.db" in err  # no database yet: nothing to list

    code, out, err = shipshape(
        tmp_path,
        "repo",
        "acme/api",
        "service=api-gateway",
        "incident-label=outage",
        "deploy-on=workflow:Deploy to prod",
        "sync=on",
    )
    assert code == 0, err
    assert out.splitlines() == [
        "acme/api",
        "  service         api-gateway",
        "  incident-label  outage",
        "  deploy-on       workflow:Deploy to prod: runs of the workflow 'Deploy to prod' "
        "count as deploys",
        "  sync            on (on the schedule of shipshape serve)",
        "  synced up to    never synced",
    ]
    conn = sqlite3.connect(tmp_path / "ship.db")
    assert conn.execute(
        "SELECT service, incident_label, deploy_on, workflow, sync FROM github_repos"
    ).fetchall() == [("api-gateway", "outage", "workflow", "Deploy to prod", 1)]
    conn.close()

    code, out, _ = shipshape(tmp_path, "repo", "acme/api", "deploy-on=deployments", "sync=off")
    assert code == 0
    assert "  deploy-on       deployments: deployments" in out
    assert "  service         api-gateway" in out  # what was not named stays

    code, out, _ = shipshape(tmp_path, "repo", "acme/web")
    assert code == 0
    assert "  service         web (the repository's name)" in out
    assert "  incident-label  incident (the default)" in out

    code, out, _ = shipshape(tmp_path, "repos")
    assert code == 0 and out.startswith("acme/api\n") and "acme/web" not in out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["acme", "sync=on"], "'acme' is not a GitHub repository"),
        (["acme/api", "colour=blue"], "'colour=blue' is not a setting"),
        (["acme/api", "sync"], "'sync' is not a setting"),
        (["acme/api", "service=-api"], "is not a service name"),
        (["acme/api", "incident-label="], "incident-label='' must be"),
        (["acme/api", "incident-label=" + "x" * 51], "1 to 50 characters"),
        (["acme/api", "deploy-on=nightly"], "deploy-on='nightly' is not one of"),
        (["acme/api", "deploy-on=workflow:"], "deploy-on='workflow:' is not one of"),
        (["acme/api", "sync=maybe"], "sync='maybe' must be on or off"),
    ],
)
def test_bad_settings_name_the_problem_and_store_nothing(
    tmp_path: Path, args: list[str], expected: str
) -> None:
    code, _, err = shipshape(tmp_path, "repo", *args, "service=ok")
    assert code == 1
    assert expected in err
    if "is not a GitHub repository" not in expected:
        assert "For example: shipshape github repo acme/api" in err
    assert not (tmp_path / "ship.db").exists()


def test_sync_without_credentials_says_where_to_get_a_token(tmp_path: Path) -> None:
    code, _, err = shipshape(tmp_path, "sync", "acme/app")
    assert code == 1
    assert err.startswith("Shipshape cannot go on:")
    assert "GITHUB_TOKEN is not set" in err
    assert "https://github.com/settings/personal-access-tokens" in err


def test_bad_sync_interval_stops_with_a_clear_message(tmp_path: Path) -> None:
    code, _, err = shipshape(tmp_path, "repos", SHIPSHAPE_GITHUB_SYNC_MINUTES="0")
    assert code == 1
    assert "SHIPSHAPE_GITHUB_SYNC_MINUTES is '0'" in err and "1 to 1440" in err


def test_sync_imports_and_a_second_run_reads_only_what_is_new(
    tmp_path: Path, fake: FakeGitHub
) -> None:
    a1 = fake.commit("a1", "2026-11-10T08:00:00Z")
    a2 = fake.commit("a2", "2026-11-10T10:00:00Z")
    fake.deployment(101, a1, "2026-11-10T08:30:00Z", ("success", "2026-11-10T09:00:00Z"))
    fake.deployment(102, a2, "2026-11-10T11:00:00Z", ("success", "2026-11-10T12:00:00Z"))
    fake.pull(7, "2026-11-10T10:01:00Z", "2026-11-10T10:00:30Z", a2)
    env = {"GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": fake.url}

    code, out, err = shipshape(tmp_path, "sync", "acme/app", "--since", "2026-11-01", **env)
    assert code == 0, err
    assert out == (
        "acme/app: 2 deployments, 2 statuses read, 1 merged pull requests, 2 new commits; "
        "1 API call (0 REST, 1 GraphQL), 1 GraphQL point, 4999 left.\n"
    )
    assert "Syncing acme/app from 2026-11-01 00:00 UTC." in err
    assert [r.path for r in fake.requests] == ["/graphql"]

    code, out, _ = shipshape(tmp_path, "sync", "acme/app", **env)
    assert code == 0
    assert out.startswith(
        "acme/app: 0 deployments, 0 statuses read, 0 merged pull requests, "
        "0 new commits; 1 API call (0 REST, 1 GraphQL)"
    )

    code, out, _ = shipshape(tmp_path, "repos")
    assert "synced up to    2026-11-24 11:55 UTC" in out

    report = run(
        ["report", "--from", "2026-11-10", "--to", "2026-11-10", "--json"],
        tmp_path,
        SHIPSHAPE_DB=str(tmp_path / "ship.db"),
        SHIPSHAPE_NOW=NOW,
    )
    # a1 shipped by 101 after 1h, a2 by 102 after 2h: the median is 1.5h.
    assert json.loads(report.stdout)["lead_time"]["median_seconds"] == 5400


@pytest.mark.parametrize(
    ("repo", "token", "expected"),
    [
        ("acme/missing", TOKEN, "acme/missing was not found at http://127.0.0.1:"),
        ("acme/app", "ghp_wrong", "refused the credentials (401 Bad credentials)"),
    ],
)
def test_sync_errors_are_one_clear_message(
    tmp_path: Path, fake: FakeGitHub, repo: str, token: str, expected: str
) -> None:
    code, _, err = shipshape(tmp_path, "sync", repo, GITHUB_TOKEN=token, GITHUB_API_URL=fake.url)
    assert code == 1
    assert "Shipshape cannot go on:" in err and expected in err


def test_sync_stops_clearly_when_the_rate_limit_is_spent(tmp_path: Path, fake: FakeGitHub) -> None:
    a1 = fake.commit("a1", "2026-11-10T08:00:00Z")
    fake.deployment(101, a1, "2026-11-10T08:30:00Z", ("success", "2026-11-10T09:00:00Z"))
    fake.graphql_error("rate_limited")  # in GraphQL's shape: a 200 with type RATE_LIMITED
    env = {"GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": fake.url}

    code, out, err = shipshape(tmp_path, "sync", "acme/app", **env)
    assert code == 1
    assert out.startswith("acme/app: 0 deployments, 0 statuses read")  # what was stored
    assert "rate limit is used up while syncing acme/app; it resets at" in err
    assert "continues where it stopped" in err

    code, out, _ = shipshape(tmp_path, "sync", "acme/app", **env)
    assert code == 0
    assert out.startswith(
        "acme/app: 1 deployments, 1 statuses read, 0 merged pull requests, 1 new commits"
    )


def test_sync_refuses_a_bad_since(tmp_path: Path, fake: FakeGitHub) -> None:
    code, _, err = shipshape(
        tmp_path,
        "sync",
        "acme/app",
        "--since",
        "last tuesday",
        GITHUB_TOKEN=TOKEN,
        GITHUB_API_URL=fake.url,
    )
    assert code == 2
    assert "I can't read --since last tuesday as a date" in err
    assert fake.requests == []
