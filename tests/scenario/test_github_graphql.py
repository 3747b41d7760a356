"""`github sync` through GitHub's GraphQL API, the default path: against the loopback fake of
GitHub (tests/fakes/fake_github.py), whose POST /graphql answers from the same fixture data
as its REST routes, through PyGithub's requester, on a real SQLite file.

The history is tests/scenario/test_github_sync.py's basic_history (lead times 2h, 3h, 4h,
30h; median 3.5h), so both paths are held to the same hand-computed numbers; and the REST
import of the same fake repository is the reference the GraphQL import must equal, record
for record, byte for byte in `shipshape export` and `report --json`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.app.cli import main
from bot.config import Config
from bot.core.clock import FixedClock
from bot.core.windows import between
from bot.deps import Deps
from bot.sources.github import sync as github_sync
from storage import github
from storage.db import Store
from tests.fakes.fake_github import TOKEN, FakeGitHub, sha_of
from tests.fakes.fake_slack import FakeSlack
from tests.scenario.conftest import running_bot
from tests.scenario.test_github_sync import (
    NOW,
    TZ,
    H,
    assert_a_stop_ends_the_wait,
    basic_history,
    deploy_of,
    lead_time,
    rows,
    shipped,
)
from tests.scenario.test_github_webhook import GITHUB_SECRET, deliver, deployment_status, ok


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    server = FakeGitHub().start()
    yield server
    server.stop()


def make_deps(path: Path, api_url: str) -> Deps:
    config = Config(github_token=TOKEN, github_api_url=api_url, db_path=str(path), timezone=TZ)
    store = Store(config.db_path)
    store.migrate()
    return Deps(config=config, store=store, clock=FixedClock(NOW))


@pytest.fixture
def deps(tmp_path: Path, fake: FakeGitHub) -> Iterator[Deps]:
    made = make_deps(tmp_path / "s.db", fake.url)
    yield made
    made.store.close()


def paged_history(fake: FakeGitHub) -> list[str]:
    """250 commits, 230 deployments (each of its own commit) and 120 merged pull requests:
    three pages, three pages and two pages of 100."""
    shas = [fake.commit(f"c{n}", f"2026-11-01T{n // 60:02d}:{n % 60:02d}:00Z") for n in range(250)]
    for n in range(230):
        at = f"2026-11-02T{n // 60:02d}:{n % 60:02d}:00Z"
        fake.deployment(1000 + n, shas[n], at, ("success", at.replace(":00Z", ":30Z")))
    for n in range(120):
        fake.pull(
            n + 1, f"2026-11-01T{n // 60:02d}:{n % 60:02d}:30Z", "2026-11-01T00:00:00Z", shas[n]
        )
    return shas


def test_one_query_reads_the_whole_basic_history(deps: Deps, fake: FakeGitHub) -> None:
    shas = basic_history(fake)

    result = github_sync.sync(deps, "acme/app")

    assert (result.deployments, result.statuses, result.pull_requests, result.commits) == (
        4,
        4,
        2,
        4,
    )
    [query] = fake.requests
    assert (query.method, query.path, query.status) == ("POST", "/graphql", 200)
    assert query.query["first"] == 100 and query.query["since"] == "2026-08-26T12:00:00Z"
    assert (result.api, result.api_calls, result.graphql_calls) == ("graphql", 1, 1)
    assert (result.points, result.remaining) == (1, 4999)
    d101, d102 = deploy_of(deps, 101), deploy_of(deps, 102)
    assert (d101["status"], d101["version"], d101["sha"]) == ("success", shas["a2"][:7], shas["a2"])
    assert (d101["deployed_at"], d101["url"]) == (
        "2026-11-10T12:00:00Z",
        "https://ci.example.com/deploy/101",
    )
    # FAILURE is REST's "failure", a failed deploy; the tag is its version.
    assert (d102["status"], d102["version"]) == ("failed", "v1.2.0")
    assert deploy_of(deps, 104)["environment"] == "staging"
    assert shipped(deps, 101) == [shas["a1"], shas["a2"]]
    assert shipped(deps, 103) == [shas["a3"], shas["a4"]]
    merged = rows(deps, "SELECT sha, pr_number, merged_at FROM changes WHERE merged_at IS NOT NULL")
    assert merged == [
        {"sha": shas["a2"], "pr_number": 7, "merged_at": "2026-11-10T09:50:00Z"},
        {"sha": shas["a4"], "pr_number": 9, "merged_at": "2026-11-12T12:00:30Z"},
    ]
    assert lead_time(deps)["median_seconds"] == 3.5 * H
    # The status ids REST would have given, read from GraphQL's node ids: a webhook
    # delivery of the same status is then recognised as the one applied.
    applied = rows(deps, "SELECT deployment_id, status_id FROM github_deployments ORDER BY 1")
    latest = {d.id: d.statuses[-1].id for d in fake.deployments}
    assert {r["deployment_id"]: r["status_id"] for r in applied} == latest
    assert result.cursor == "2026-11-24T11:55:00Z"
    assert github_sync.summary(result) == (
        "acme/app: 4 deployments, 4 statuses read, 2 merged pull requests, 4 new commits; "
        "1 API call (0 REST, 1 GraphQL), 1 GraphQL point, 4999 left."
    )


def test_pages_of_the_three_lists_are_read_together(deps: Deps, fake: FakeGitHub) -> None:
    shas = paged_history(fake)
    progress: list[tuple[str, float]] = []

    result = github_sync.sync(deps, "acme/app", progress=lambda p, f: progress.append((p, f)))

    assert (result.deployments, result.pull_requests, result.commits) == (230, 120, 250)
    asked = [r.query for r in fake.requests]
    # Three queries: the longest lists (deployments, commits) have three pages of 100; the
    # pull requests' two ride along with the first two, then are left out.
    assert [(q["withDeployments"], q["withPulls"], q["withCommits"]) for q in asked] == [
        (True, True, True),
        (True, True, True),
        (True, False, True),
    ]
    cursors = [(q["deploymentsAfter"], q["pullsAfter"], q["commitsAfter"]) for q in asked]
    assert cursors[0] == (None, None, None)
    assert cursors[1][0] is not None and len(set(cursors[1])) == 1  # each at item 100
    assert cursors[2][0] not in cursors[1] and cursors[2][2] == cursors[2][0]  # item 200
    assert result.api_calls == result.graphql_calls == 3
    assert fake.rest_requests() == []
    first = deploy_of(deps, 1000)
    assert len(rows(deps, "SELECT 1 FROM changes WHERE deploy_id = ?", first["id"])) == 1
    assert shipped(deps, 1229) == [shas[229]]
    assert rows(deps, "SELECT count(*) AS n FROM changes WHERE deploy_id IS NULL") == [{"n": 20}]
    # Progress goes through the phases in order, each to the end.
    phases = [p for p, _ in progress]
    assert sorted(set(phases), key=phases.index) == ["deployments", "pulls", "commits"]
    assert all(dict(progress[i : i + 1])[p] <= 1.0 for i, p in enumerate(phases))
    assert [f for p, f in progress if f == 1.0 and p == "commits"]


def test_a_second_run_with_nothing_new_is_one_query(deps: Deps, fake: FakeGitHub) -> None:
    paged_history(fake)
    github_sync.sync(deps, "acme/app")
    fake.clear()

    again = github_sync.sync(deps, "acme/app")

    assert again.api_calls == 1 and len(fake.requests) == 1
    assert (again.deployments, again.statuses, again.pull_requests, again.commits) == (0, 0, 0, 0)
    assert fake.requests[0].query["since"] == "2026-11-24T11:55:00Z"


def test_since_finds_the_boundary_deployment_on_later_pages(deps: Deps, fake: FakeGitHub) -> None:
    fake.commit("old", "2026-10-20T09:00:00Z")
    b0 = fake.commit("b0", "2026-11-01T10:00:00Z")
    c1 = fake.commit("c1", "2026-11-06T10:00:00Z")
    c2 = fake.commit("c2", "2026-11-07T10:00:00Z")
    fake.deployment(201, b0, "2026-11-01T10:30:00Z", ("success", "2026-11-01T11:00:00Z"))
    # 150 staging deployments between the boundary and the range: never the boundary, and
    # they push it to the second page.
    for n in range(150):
        at = f"2026-11-02T{n // 60:02d}:{n % 60:02d}:00Z"
        fake.deployment(500 + n, b0, at, ("success", at), environment="staging")
    fake.deployment(203, c2, "2026-11-07T11:00:00Z", ("success", "2026-11-07T12:00:00Z"))

    since = between("2026-11-05", "2026-11-05", deps.clock.now(), TZ).start
    result = github_sync.sync(deps, "acme/app", since)

    assert shipped(deps, 201) == [b0]  # the boundary, with its own commit only
    assert shipped(deps, 203) == [c1, c2]
    assert sha_of("old") not in {r["sha"] for r in rows(deps, "SELECT sha FROM changes")}
    assert [r.query["withDeployments"] for r in fake.graphql_requests()] == [True, True]
    # The boundary's commit, before the range, is the one REST request.
    assert [r.path for r in fake.rest_requests()] == [f"/repos/acme/app/commits/{b0}"]
    assert (result.api_calls, result.graphql_calls) == (3, 2)
    assert lead_time(deps, "2026-11-05", "2026-11-10")["median_seconds"] == 14 * H


# ---- the same records as REST ---------------------------------------------------------------


def rich_history(fake: FakeGitHub) -> None:
    """Everything both paths must agree on: pages of 100, a boundary before --since, a
    pending and an in-progress deployment, failures and errors, staging, a hotfix branch,
    a tag, a bare sha, unmerged pull requests, commits authored long before committed."""
    basic_history(fake)
    base = fake.commit("base", "2026-10-30T09:00:00Z")
    fake.deployment(90, base, "2026-10-30T10:00:00Z", ("success", "2026-10-30T10:30:00Z"))
    shas = [
        fake.commit(
            f"r{n}", f"2026-11-1{n % 10}T0{n % 9}:00:00Z", f"2026-11-13T{n % 24:02d}:00:00Z"
        )
        for n in range(140)
    ]
    hot = fake.commit("hot", "2026-11-14T08:00:00Z", on_default_branch=False)
    for n, sha in enumerate(shas[:120]):
        at = f"2026-11-14T{n // 60:02d}:{n % 60:02d}:00Z"
        state = ("success", "failure", "error", "success", "pending")[n % 5]
        environment = "staging" if n % 7 == 0 else "production"
        ref = ("main", "v2.0.0", sha)[n % 3]
        fake.deployment(
            600 + n, sha, at, ("queued", at), (state, at), ref=ref, environment=environment
        )
        fake.pull(40 + n, at, at if n % 4 else None, sha if n % 4 else None)
    fake.deployment(
        800, hot, "2026-11-15T09:00:00Z", ("success", "2026-11-15T09:05:00Z"), ref="hotfix/pay"
    )
    fake.deployment(801, shas[130], "2026-11-15T10:00:00Z", ("in_progress", "2026-11-15T10:01:00Z"))


def cli(tmp_path: Path, name: str, fake: FakeGitHub, *args: str) -> str:
    env = {
        "SHIPSHAPE_DB": str(tmp_path / f"{name}.db"),
        "SHIPSHAPE_NOW": NOW,
        "SHIPSHAPE_TIMEZONE": TZ,
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_API_URL": fake.url,
    }
    result = CliRunner().invoke(main, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_graphql_and_rest_imports_are_byte_identical(tmp_path: Path) -> None:
    outputs: dict[str, dict[str, str]] = {}
    calls: dict[str, tuple[int, int]] = {}
    for api in ("graphql", "rest"):
        fake = FakeGitHub(graphql=api == "graphql").start()
        try:
            rich_history(fake)
            summary = cli(
                tmp_path, api, fake, "github", "sync", "acme/app", "--since", "2026-11-01"
            )
            calls[api] = (len(fake.graphql_requests()), len(fake.rest_requests()))
            outputs[api] = {
                "summary": summary.split(";")[0],
                **{
                    f"{kind} {fmt}": cli(tmp_path, api, fake, "export", kind, "--format", fmt)
                    for kind in ("deploys", "changes", "incidents")
                    for fmt in ("csv", "json")
                },
                "report": cli(
                    tmp_path,
                    api,
                    fake,
                    "report",
                    "--from",
                    "2026-11-01",
                    "--to",
                    "2026-11-20",
                    "--json",
                ),
            }
        finally:
            fake.stop()
        store = Store(str(tmp_path / f"{api}.db"))
        outputs[api]["applied"] = json.dumps(
            [tuple(r) for r in store.query("SELECT * FROM github_deployments ORDER BY 1")]
        )
        store.close()

    assert outputs["graphql"] == outputs["rest"]
    deploys = json.loads(outputs["graphql"]["deploys json"])
    assert len(deploys) == 4 + 1 + 96 + 1  # basic, boundary, 120 less 24 pending, hotfix
    assert {d["version"] for d in deploys} >= {"v2.0.0", "hotfix/pay", sha_of("r2")[:7]}
    assert json.loads(outputs["graphql"]["report"])["lead_time"]["changes"] > 50
    # GraphQL: two pages of deployments with the lists beside them, and two REST requests
    # (the boundary's commit, the hotfix's comparison); REST: one per deployment besides.
    assert calls["graphql"] == (2, 2)
    assert calls["rest"][0] == 1 and calls["rest"][1] > 120


# ---- webhook and sync: one deploy per deployment -------------------------------------------


@pytest.mark.parametrize("webhook_first", [True, False])
def test_webhook_and_sync_store_one_deploy_per_deployment(
    tmp_path: Path, fake: FakeGitHub, webhook_first: bool
) -> None:
    shas = basic_history(fake)
    d103 = next(d for d in fake.deployments if d.id == 103)
    final = d103.statuses[-1]
    payload = deployment_status(
        103, final.id, "success", final.created_at, shas["a4"], repo=fake.repo
    )
    slack = FakeSlack().start()
    clock = FixedClock(NOW)
    options = {"github_webhook_secret": GITHUB_SECRET, "timezone": TZ}
    try:
        with running_bot(tmp_path, slack, clock, **options) as hub:
            config = Config(github_token=TOKEN, github_api_url=fake.url, timezone=TZ)
            deps = Deps(config=config, store=hub.server.store, clock=clock)
            if webhook_first:
                assert ok(deliver(hub, "deployment_status", payload)).endswith(": success")
                before = hub.rows("deploys")
                github_sync.sync(deps, "acme/app")
                assert [d for d in hub.rows("deploys") if d["source_key"] == "deployment:103"] == [
                    d for d in before if d["source_key"] == "deployment:103"
                ]
            else:
                github_sync.sync(deps, "acme/app")
                before = hub.rows("deploys")
                # The same status again: the one applied, so nothing changes.
                assert "an older status, ignored" in ok(deliver(hub, "deployment_status", payload))
                assert hub.rows("deploys") == before
            keys = [d["source_key"] for d in hub.rows("deploys")]
            assert sorted(keys) == [f"deployment:{n}" for n in (101, 102, 103, 104)]
    finally:
        slack.stop()


# ---- rate limits, in GraphQL's shapes -------------------------------------------------------


def test_rate_limited_stops_clearly_and_the_next_run_continues(
    deps: Deps, fake: FakeGitHub
) -> None:
    paged_history(fake)
    # The second query finds the budget spent (type RATE_LIMITED in a 200), resetting in
    # an hour: far beyond the minute a sync may wait.
    fake.graphql_error("rate_limited", after=1)

    with pytest.raises(github_sync.RateLimited) as raised:
        github_sync.sync(deps, "acme/app")

    error = raised.value
    assert "rate limit is used up while syncing acme/app; it resets at" in error.message
    assert error.reset_at is not None and error.reset_at > "2026-11-24"
    assert error.result.deployments == 100  # the first page, read before the stop, is kept
    assert [r.status for r in fake.requests] == [200, 200]
    assert github.settings(deps.store.db, "acme/app").synced_at == "2026-08-26T12:00:00Z"

    fake.clear()
    result = github_sync.sync(deps, "acme/app")

    assert (result.deployments, result.statuses) == (130, 130)  # only those not stored yet
    assert result.graphql_calls == 3
    assert rows(deps, "SELECT count(*) AS n FROM deploys") == [{"n": 230}]
    assert rows(deps, "SELECT count(*) AS n FROM changes") == [{"n": 250}]


def test_rate_limited_that_resets_soon_is_waited_out(deps: Deps, fake: FakeGitHub) -> None:
    basic_history(fake)
    fake.graphql_error("rate_limited", reset_in=0)

    result = github_sync.sync(deps, "acme/app")

    assert [r.status for r in fake.requests] == [200, 200]  # the error, then the answer
    assert (result.deployments, result.graphql_calls, result.points) == (4, 2, 1)
    assert lead_time(deps)["median_seconds"] == 3.5 * H


@pytest.mark.parametrize("secondary", [True, False])
def test_403_rate_limits_go_through_the_retry_policy(
    deps: Deps, fake: FakeGitHub, secondary: bool
) -> None:
    basic_history(fake)
    fake.limit("/graphql$", retry_after=0, secondary=secondary)

    result = github_sync.sync(deps, "acme/app")

    assert [r.status for r in fake.requests] == [403, 200]
    assert (result.deployments, result.api_calls, result.graphql_calls) == (4, 2, 2)


def test_a_spent_budget_in_a_403_stops_clearly(deps: Deps, fake: FakeGitHub) -> None:
    basic_history(fake)
    fake.limit("/graphql$")  # the primary limit, resetting in an hour

    with pytest.raises(github_sync.RateLimited) as raised:
        github_sync.sync(deps, "acme/app")

    assert "rate limit is used up while syncing acme/app" in raised.value.message
    assert raised.value.result.graphql_calls == 1
    assert rows(deps, "SELECT * FROM deploys") == []


def test_a_rate_limit_wait_ends_when_the_server_stops(deps: Deps, fake: FakeGitHub) -> None:
    paged_history(fake)
    fake.graphql_error("rate_limited", reset_in=30, after=1)  # within the minute it waits
    assert_a_stop_ends_the_wait(deps)


# ---- GraphQL unavailable: REST --------------------------------------------------------------


def test_a_schema_without_the_fields_falls_back_to_rest(deps: Deps, fake: FakeGitHub) -> None:
    shas = basic_history(fake)
    fake.graphql_error("schema")  # an older GitHub Enterprise Server

    result = github_sync.sync(deps, "acme/app")

    assert result.api == "rest"
    assert [(r.method, r.path) for r in fake.requests[:2]] == [
        ("POST", "/graphql"),
        ("GET", "/repos/acme/app"),
    ]
    assert (result.api_calls, result.graphql_calls) == (9, 1)  # as REST: 8, and the query
    assert shipped(deps, 101) == [shas["a1"], shas["a2"]]
    assert shipped(deps, 103) == [shas["a3"], shas["a4"]]
    assert lead_time(deps)["median_seconds"] == 3.5 * H


def test_enterprise_server_answers_graphql_beside_its_rest_api(tmp_path: Path) -> None:
    fake = FakeGitHub(prefix="/api/v3").start()
    try:
        basic_history(fake)
        deps = make_deps(tmp_path / "s.db", fake.url)
        result = github_sync.sync(deps, "acme/app")
        deps.store.close()
    finally:
        fake.stop()
    assert [r.path for r in fake.requests] == ["/api/graphql"]
    assert (result.api, result.deployments, result.commits) == ("graphql", 4, 4)


# ---- --dry-run --------------------------------------------------------------------------------


def test_dry_run_says_what_a_first_import_costs_from_one_query(
    tmp_path: Path, fake: FakeGitHub
) -> None:
    paged_history(fake)

    out = cli(tmp_path, "dry", fake, "github", "sync", "acme/app", "--dry-run")

    assert out == (
        "A first import of acme/app from 2026-08-26 14:00 CEST reads about 230 deployments, "
        "120 merged pull requests and 250 commits: about 3 API calls through GraphQL (REST "
        "alone would take about 239), plus one REST call for the commit of the deployment "
        "just before the range, if there is one, and one per deploy of a commit outside the "
        "default branch. Nothing was stored.\n"
    )
    assert len(fake.requests) == 1
    assert not (tmp_path / "dry.db").exists()
    # What the import then takes: the estimate was exact.
    out = cli(tmp_path, "dry", fake, "github", "sync", "acme/app")
    assert "230 deployments" in out and "3 API calls (0 REST, 3 GraphQL)" in out


def test_dry_run_extrapolates_a_range_beyond_the_first_page(
    tmp_path: Path, fake: FakeGitHub
) -> None:
    # A deployment every 6 hours for 60 days: 240, of which 161 in the 40 days up to now
    # (one now, and four a day); the first page of 100 covers 24.75 days of them.
    a = fake.commit("a", "2026-09-01T00:00:00Z")
    for n in range(240):
        at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(1795521600 - n * 6 * 3600))
        fake.deployment(n + 1, a, at, ("success", at))

    out = cli(
        tmp_path, "dry", fake, "github", "sync", "acme/app", "--since", "40d ago", "--dry-run"
    )

    assert "reads about 161 deployments, 0 merged pull requests and 0 commits" in out
    assert "about 2 API calls through GraphQL (REST alone would take about 166)" in out
