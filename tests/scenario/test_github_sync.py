"""`github sync` through the REST API: against a loopback fake of GitHub without GraphQL
(tests/fakes/fake_github.py, where POST /graphql answers 404, as on a server without it), so
every run asks GraphQL once and then reads REST, through the real PyGithub client, on a real
SQLite file. The GraphQL path, the default: tests/scenario/test_github_graphql.py.

The basic history, acme/app with default branch main (authored = committed unless noted):
  a1 11-10 08:00, a2 11-10 10:00, a3 11-11 09:00, a4 11-12 12:00
  deployment 101: a2 to production, pending then success at 11-10 12:00
  deployment 102: a4 (ref v1.2.0) to production, failure at 11-12 13:30
  deployment 103: a4 to production, success at 11-12 15:00
  deployment 104: a4 to staging, success at 11-12 13:20
  pull requests: #7 merged as a2 at 11-10 09:50, #8 closed unmerged, #9 merged as a4
So 101 ships a1 (4h) and a2 (2h); 103 ships a3 (30h) and a4 (3h); lead times sorted are
2h, 3h, 4h, 30h, median 3.5h = 12,600 s.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.app.serve import Server
from bot.config import Config
from bot.core.clock import FixedClock
from bot.core.windows import between
from bot.deps import Deps
from bot.metrics.report import build as build_report
from bot.sources.github import api as github_api
from bot.sources.github import sync as github_sync
from storage import github
from storage.db import Store
from tests.conftest import make_config
from tests.fakes.fake_github import TOKEN, FakeGitHub, sha_of
from tests.fakes.fake_slack import FakeSlack

NOW = "2026-11-24T12:00:00Z"
TZ = "Europe/Berlin"
PAYLOADS = Path(__file__).parent.parent / "fakes" / "github_payloads"
H = 3600


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    server = FakeGitHub(graphql=False).start()
    yield server
    server.stop()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def deps(tmp_path: Path, fake: FakeGitHub, clock: FixedClock) -> Iterator[Deps]:
    config = Config(
        github_token=TOKEN, github_api_url=fake.url, db_path=str(tmp_path / "s.db"), timezone=TZ
    )
    store = Store(config.db_path)
    store.migrate()
    yield Deps(config=config, store=store, clock=clock)
    store.close()


def basic_history(fake: FakeGitHub) -> dict[str, str]:
    shas = {
        "a1": fake.commit("a1", "2026-11-10T08:00:00Z"),
        "a2": fake.commit("a2", "2026-11-10T10:00:00Z"),
        "a3": fake.commit("a3", "2026-11-11T09:00:00Z"),
        "a4": fake.commit("a4", "2026-11-12T12:00:00Z"),
    }
    fake.deployment(
        101,
        shas["a2"],
        "2026-11-10T11:00:00Z",
        ("pending", "2026-11-10T11:00:10Z"),
        ("success", "2026-11-10T12:00:00Z"),
    )
    fake.deployment(
        102, shas["a4"], "2026-11-12T13:00:00Z", ("failure", "2026-11-12T13:30:00Z"), ref="v1.2.0"
    )
    fake.deployment(
        103,
        shas["a4"],
        "2026-11-12T14:00:00Z",
        ("in_progress", "2026-11-12T14:01:00Z"),
        ("success", "2026-11-12T15:00:00Z"),
    )
    fake.deployment(
        104,
        shas["a4"],
        "2026-11-12T13:10:00Z",
        ("success", "2026-11-12T13:20:00Z"),
        environment="staging",
    )
    fake.pull(7, "2026-11-10T09:51:00Z", "2026-11-10T09:50:00Z", shas["a2"])
    fake.pull(8, "2026-11-11T09:00:00Z", None, None)
    fake.pull(9, "2026-11-12T12:01:00Z", "2026-11-12T12:00:30Z", shas["a4"])
    return shas


def rows(deps: Deps, sql: str, *params: Any) -> list[dict[str, Any]]:
    return [dict(r) for r in deps.store.query(sql, params)]


def deploy_of(deps: Deps, deployment_id: int) -> dict[str, Any]:
    found = rows(deps, "SELECT * FROM deploys WHERE source_key = ?", f"deployment:{deployment_id}")
    assert len(found) == 1, found
    return found[0]


def shipped(deps: Deps, deployment_id: int) -> list[str]:
    deploy = deploy_of(deps, deployment_id)
    return [
        r["sha"]
        for r in rows(deps, "SELECT sha FROM changes WHERE deploy_id = ? ORDER BY id", deploy["id"])
    ]


def lead_time(deps: Deps, start: str = "2026-11-01", end: str = "2026-11-20") -> dict[str, Any]:
    window = between(start, end, deps.clock.now(), TZ)
    report = build_report(
        deps.store.db,
        window,
        environments=("production", "prod"),
        environment=None,
        service=None,
        tz=TZ,
    )
    return report.to_json()["lead_time"]


def test_sync_records_deploys_changes_and_exact_lead_times(deps: Deps, fake: FakeGitHub) -> None:
    shas = basic_history(fake)
    result = github_sync.sync(deps, "acme/app")

    assert (result.deployments, result.statuses, result.pull_requests, result.commits) == (
        4,
        4,
        2,
        4,
    )
    # GraphQL's 404, the repository, 3 lists, 4 status lists
    assert result.api_calls == len(fake.requests) == 9
    assert (result.api, result.graphql_calls, result.points) == ("rest", 1, 0)
    assert result.since == "2026-08-26T12:00:00Z"  # 90 days before now
    d101, d102 = deploy_of(deps, 101), deploy_of(deps, 102)
    assert (d101["source"], d101["status"], d101["environment"], d101["service"]) == (
        "github",
        "success",
        "production",
        "app",
    )
    assert (d101["deployed_at"], d101["version"], d101["sha"]) == (
        "2026-11-10T12:00:00Z",
        shas["a2"][:7],
        shas["a2"],
    )
    assert d101["url"] == "https://ci.example.com/deploy/101"
    assert (d102["status"], d102["version"]) == ("failed", "v1.2.0")
    assert deploy_of(deps, 104)["environment"] == "staging"
    assert shipped(deps, 101) == [shas["a1"], shas["a2"]]
    assert shipped(deps, 103) == [shas["a3"], shas["a4"]]
    assert shipped(deps, 102) == shipped(deps, 104) == []
    merged = rows(deps, "SELECT sha, pr_number, merged_at FROM changes WHERE merged_at IS NOT NULL")
    assert merged == [
        {"sha": shas["a2"], "pr_number": 7, "merged_at": "2026-11-10T09:50:00Z"},
        {"sha": shas["a4"], "pr_number": 9, "merged_at": "2026-11-12T12:00:30Z"},
    ]
    assert lead_time(deps) == {
        "median_seconds": 3.5 * H,
        "p90_seconds": pytest.approx(30 * H - 0.3 * 26 * H),  # inclusive: 4h + 0.7 x 26h
        "changes": 4,
        "deployments_with_changes": 2,
        "band": "elite",  # a median under a day
    }
    assert github.settings(deps.store.db, "acme/app").synced_at == "2026-11-24T11:55:00Z"
    assert result.cursor == "2026-11-24T11:55:00Z"  # now, less the five-minute overlap


def test_pages_through_long_lists_a_hundred_at_a_time(deps: Deps, fake: FakeGitHub) -> None:
    shas = [fake.commit(f"c{n}", f"2026-11-01T{n // 60:02d}:{n % 60:02d}:00Z") for n in range(250)]
    for n in range(230):
        at = f"2026-11-02T{n // 60:02d}:{n % 60:02d}:00Z"
        fake.deployment(1000 + n, shas[n], at, ("success", at.replace(":00Z", ":30Z")))
    for n in range(120):
        fake.pull(
            n + 1, f"2026-11-01T{n // 60:02d}:{n % 60:02d}:30Z", "2026-11-01T00:00:00Z", shas[n]
        )

    result = github_sync.sync(deps, "acme/app")

    assert (result.deployments, result.pull_requests, result.commits) == (230, 120, 250)
    lists = {"deployments": 3, "pulls": 2, "commits": 3}
    for name, pages in lists.items():
        asked = fake.requested(f"/repos/acme/app/{name}$")
        assert [r.query.get("page", "1") for r in asked] == [str(p) for p in range(1, pages + 1)]
        assert {r.query["per_page"] for r in asked} == {"100"}
    assert all(r.query["per_page"] == "100" for r in fake.requested("/statuses$"))
    assert result.api_calls == len(fake.requests) == 1 + 1 + 3 + 230 + 2 + 3
    # Stored oldest first, so each deployment shipped exactly its own commit (c0 is the
    # oldest), and the 20 commits after the last deployed one wait for the next deploy.
    first = deploy_of(deps, 1000)
    assert len(rows(deps, "SELECT 1 FROM changes WHERE deploy_id = ?", first["id"])) == 1
    assert shipped(deps, 1229) == [shas[229]]
    assert rows(deps, "SELECT count(*) AS n FROM changes WHERE deploy_id IS NULL") == [{"n": 20}]


def test_a_rate_limited_request_is_retried(deps: Deps, fake: FakeGitHub) -> None:
    basic_history(fake)
    fake.limit("/deployments/103/statuses", retry_after=1)  # GithubRetry waits it out

    result = github_sync.sync(deps, "acme/app")

    statuses = fake.requested("/deployments/103/statuses")
    assert [r.status for r in statuses] == [403, 200]
    assert result.deployments == 4
    assert result.api_calls == len(fake.requests) == 10  # the 403 counts too
    assert lead_time(deps)["median_seconds"] == 3.5 * H


def test_a_spent_budget_stops_clearly_and_the_next_run_continues(
    deps: Deps, fake: FakeGitHub
) -> None:
    shas = basic_history(fake)
    # Newest first: 103, 104, 102, 101. The third status list finds the budget spent, with
    # its reset an hour away: far beyond the minute a sync may wait.
    fake.limit("/deployments/102/statuses")

    with pytest.raises(github_sync.RateLimited) as raised:
        github_sync.sync(deps, "acme/app")

    error = raised.value
    assert "rate limit" in error.message and "resets at" in error.message
    assert "continues where it stopped" in error.message
    assert error.reset_at is not None
    assert error.result.deployments == 2  # 103 and 104, read before the stop, are kept
    assert {d["source_key"] for d in rows(deps, "SELECT source_key FROM deploys")} == {
        "deployment:103",
        "deployment:104",
    }
    # The cursor stays where this run began, so nothing after it is skipped.
    assert github.settings(deps.store.db, "acme/app").synced_at == "2026-08-26T12:00:00Z"

    fake.clear()
    result = github_sync.sync(deps, "acme/app")

    # Only the deployments not stored yet have their statuses read again.
    assert [r.path.split("/")[-2] for r in fake.requested("/statuses$")] == ["102", "101"]
    assert result.deployments == 2
    assert shipped(deps, 101) == [shas["a1"], shas["a2"]]
    assert shipped(deps, 103) == [shas["a3"], shas["a4"]]
    assert lead_time(deps)["median_seconds"] == 3.5 * H


def test_a_second_run_fetches_only_what_is_new(
    deps: Deps, fake: FakeGitHub, clock: FixedClock
) -> None:
    shas = basic_history(fake)
    # Started a moment ago and still running: the cursor waits for it.
    waiting = fake.deployment(
        105, shas["a4"], "2026-11-24T11:00:00Z", ("in_progress", "2026-11-24T11:01:00Z")
    )
    first = github_sync.sync(deps, "acme/app")
    assert first.cursor == "2026-11-24T11:00:00Z"

    clock.set("2026-11-25T12:00:00Z")
    a5 = fake.commit("a5", "2026-11-25T09:00:00Z")
    fake.add_status(waiting, "success", "2026-11-24T11:30:00Z")
    fake.deployment(106, a5, "2026-11-25T10:00:00Z", ("success", "2026-11-25T10:30:00Z"))
    fake.pull(10, "2026-11-25T09:01:00Z", "2026-11-25T09:00:30Z", a5)
    fake.clear()

    second = github_sync.sync(deps, "acme/app")

    assert [(r.path, r.query.get("page")) for r in fake.requests] == [
        ("/graphql", None),
        ("/repos/acme/app", None),
        ("/repos/acme/app/deployments", None),
        ("/repos/acme/app/deployments/106/statuses", None),
        ("/repos/acme/app/deployments/105/statuses", None),  # re-checked: now finished
        ("/repos/acme/app/pulls", None),
        ("/repos/acme/app/commits", None),
    ]
    assert fake.requested("/commits$")[0].query["since"] == "2026-11-24T11:00:00Z"
    assert (second.deployments, second.pull_requests, second.commits) == (2, 1, 1)
    assert second.api_calls == 7
    assert shipped(deps, 105) == []  # a4 was shipped by 103 already
    assert shipped(deps, 106) == [a5]  # 1h30m
    assert second.cursor == "2026-11-25T11:55:00Z"

    fake.clear()
    third = github_sync.sync(deps, "acme/app")
    assert len(fake.requests) == third.api_calls == 5  # GraphQL, the repository, 3 lists
    assert (third.deployments, third.statuses, third.commits) == (0, 0, 0)


def test_since_reads_the_deployment_before_the_range(deps: Deps, fake: FakeGitHub) -> None:
    fake.commit("old", "2026-10-20T09:00:00Z")
    b0 = fake.commit("b0", "2026-11-01T10:00:00Z")
    c1 = fake.commit("c1", "2026-11-06T10:00:00Z")
    c2 = fake.commit("c2", "2026-11-07T10:00:00Z")
    fake.deployment(201, b0, "2026-11-01T10:30:00Z", ("success", "2026-11-01T11:00:00Z"))
    fake.deployment(
        202, b0, "2026-11-02T10:30:00Z", ("success", "2026-11-02T11:00:00Z"), environment="staging"
    )  # not production: never the boundary
    fake.deployment(203, c2, "2026-11-07T11:00:00Z", ("success", "2026-11-07T12:00:00Z"))

    since = between("2026-11-05", "2026-11-05", deps.clock.now(), TZ).start
    result = github_sync.sync(deps, "acme/app", since)

    assert result.since == "2026-11-04T23:00:00Z"  # midnight in Berlin
    assert shipped(deps, 201) == [b0]  # the boundary, with its own commit only
    assert shipped(deps, 203) == [c1, c2]
    assert sha_of("old") not in {r["sha"] for r in rows(deps, "SELECT sha FROM changes")}
    assert [r.path.split("/")[-1] for r in fake.requested("/commits/")] == [b0]
    # 203 is the only deployment in the range; its changes took 26h and 2h.
    assert lead_time(deps, "2026-11-05", "2026-11-10")["median_seconds"] == 14 * H

    # Once the boundary is stored, a later --since does not look for it again.
    fake.clear()
    github_sync.sync(deps, "acme/app", since)
    assert fake.requested("/statuses$") == [] and fake.requested("/commits/") == []


@pytest.mark.parametrize("graphql", [True, False])
def test_a_deploy_outside_the_default_branch_fetches_its_commits(
    deps: Deps, fake: FakeGitHub, graphql: bool
) -> None:
    fake.graphql = graphql  # either way, the compare API (REST) finds its commits
    m1 = fake.commit("m1", "2026-11-10T08:00:00Z")
    h1 = fake.commit("h1", "2026-11-10T09:00:00Z", on_default_branch=False)
    h2 = fake.commit("h2", "2026-11-10T10:00:00Z", on_default_branch=False)
    fake.deployment(301, m1, "2026-11-10T08:30:00Z", ("success", "2026-11-10T08:40:00Z"))
    fake.deployment(
        302, h2, "2026-11-10T10:30:00Z", ("success", "2026-11-10T11:00:00Z"), ref="hotfix/login"
    )
    fake.deployment(303, m1, "2026-11-10T11:30:00Z", ("error", "2026-11-10T11:40:00Z"), ref=m1)

    result = github_sync.sync(deps, "acme/app")

    assert [r.path for r in fake.requested("/compare/")] == [f"/repos/acme/app/compare/{m1}...{h2}"]
    assert shipped(deps, 302) == [h1, h2]  # 2h and 1h
    assert deploy_of(deps, 302)["version"] == "hotfix/login"
    # A deployment of a bare sha (GraphQL gives it no ref; REST's ref is the sha) has the
    # short sha as its version; an error is a failed deploy.
    assert (deploy_of(deps, 303)["version"], deploy_of(deps, 303)["status"]) == (m1[:7], "failed")
    assert result.commits == 3
    assert result.api_calls == len(fake.requests)
    if graphql:  # one query, and the comparison
        assert [r.method for r in fake.requests] == ["POST", "GET"]


@pytest.mark.parametrize(
    ("repo", "token", "expected"),
    [
        ("acme/nothing", TOKEN, "acme/nothing was not found"),
        ("acme/app", "ghp_wrong", "refused the credentials (401 Bad credentials)"),
    ],
)
@pytest.mark.parametrize("graphql", [True, False])
def test_errors_say_what_to_fix(
    deps: Deps, fake: FakeGitHub, repo: str, token: str, expected: str, graphql: bool
) -> None:
    fake.graphql = graphql  # the same words whichever API answered
    deps = Deps(
        config=Config(github_token=token, github_api_url=fake.url, db_path=deps.config.db_path),
        store=deps.store,
        clock=deps.clock,
    )
    with pytest.raises(github_sync.SyncError) as raised:
        github_sync.sync(deps, repo)
    assert expected in raised.value.message
    assert github.all_settings(deps.store.db) == []  # nothing configured by a failed sync
    if graphql:  # a refusal is no sign of GraphQL missing: REST is not asked
        assert [r.method for r in fake.requests] == ["POST"]


def test_scheduled_sync_runs_configured_repositories_and_logs_errors(
    deps: Deps, fake: FakeGitHub, caplog: pytest.LogCaptureFixture
) -> None:
    basic_history(fake)
    with deps.store.write() as db:
        for repo, sync in (("acme/app", 1), ("acme/gone", 1), ("acme/quiet", 0)):
            github.save_settings(db, github.RepoSettings(repo=repo, sync=sync), NOW)

    with caplog.at_level(logging.INFO, logger="bot.sources.github.sync"):
        github_sync.sync_scheduled(deps, threading.Event())

    assert "acme/gone was not found" in caplog.text
    assert "acme/app: 4 deployments" in caplog.text
    assert fake.requested("/repos/acme/quiet") == []
    assert lead_time(deps)["median_seconds"] == 3.5 * H

    stop = threading.Event()
    stop.set()  # shutting down: no request at all
    fake.clear()
    github_sync.sync_scheduled(deps, stop)
    assert fake.requests == []


def test_serve_schedules_the_sync_only_with_github_credentials(tmp_path: Path) -> None:
    slack = FakeSlack().start()
    try:
        for token, expected in ((None, None), (TOKEN, 7 * 60)):
            config = make_config(
                tmp_path / "s.db", slack, github_token=token, github_sync_minutes=7
            )
            server = Server(config, FixedClock(NOW), "127.0.0.1", 0)
            try:
                job = server.scheduler.get_job("github-sync")
                if expected is None:
                    assert job is None
                else:
                    assert job.trigger.interval.total_seconds() == expected
                    assert (job.coalesce, job.max_instances) == (True, 1)
                    assert job.misfire_grace_time == expected
            finally:
                server.stop()
    finally:
        slack.stop()


def test_calls_count_every_answered_request(fake: FakeGitHub) -> None:
    calls = github_api.Calls()
    config = Config(github_token=TOKEN, github_api_url=fake.url)
    client = github_api.client(config, calls)
    client.get_repo("acme/app")
    fake.limit("/repos/acme/app$", retry_after=0)
    client.get_repo("acme/app")
    assert calls.made == len(fake.requests) == 3


def assert_a_stop_ends_the_wait(deps: Deps) -> None:
    """A sync waiting out a rate limit returns within moments of the server's stop, and
    stores nothing past its cursor: the next run starts where this one began."""
    calls = github_api.Calls()
    timer = threading.Timer(0.2, calls.stop.set)  # as Server.stop() does
    timer.start()
    began = time.monotonic()
    with pytest.raises(github_api.Stopped):
        github_sync.sync(deps, "acme/app", calls=calls)
    assert time.monotonic() - began < 5
    assert github.settings(deps.store.db, "acme/app").synced_at == "2026-08-26T12:00:00Z"


def test_a_rate_limit_wait_ends_when_the_server_stops(deps: Deps, fake: FakeGitHub) -> None:
    basic_history(fake)
    fake.limit("/deployments$", retry_after=30)  # within the minute a sync waits
    assert_a_stop_ends_the_wait(deps)
