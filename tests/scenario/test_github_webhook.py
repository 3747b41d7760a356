"""`POST /github/webhook` through the real server: signed deliveries built from GitHub's own
payload examples (only ids, shas, times, environment, state, labels and the repository name
changed), checked by what a person sees: the HTTP answer, the rows in the SQLite file, and
the report's numbers."""

from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.core.clock import FixedClock
from bot.core.windows import between
from bot.metrics import report
from bot.sources.github.webhook import signature
from storage import github
from tests.conftest import Bot, Reply
from tests.fakes.fake_github import FakeGitHub
from tests.fakes.fake_slack import FakeSlack
from tests.scenario.conftest import running_bot

# Copies of octokit/webhooks' examples (MIT), unchanged; see github_payloads/README.md.
PAYLOADS = Path(__file__).parent.parent / "fakes" / "github_payloads"
# GitHub's documented test vector for X-Hub-Signature-256 ("Validating webhook deliveries").
GITHUB_SECRET = "It's a Secret to Everybody"
GITHUB_VECTOR = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
REPO = "acme/api"  # service "api"
BERLIN = "Europe/Berlin"
_deliveries = itertools.count(1)


def sha(n: int) -> str:
    """A distinct full sha per number, so tests read as "commit 3"."""
    return hashlib.sha1(str(n).encode()).hexdigest()


@cache
def _example(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / name).read_text())


def example(name: str, repo: str = REPO) -> dict[str, Any]:
    payload = copy.deepcopy(_example(name))
    payload["repository"]["full_name"] = repo
    payload["repository"]["name"] = repo.split("/", 1)[1]
    return payload


def deployment_status(
    deployment_id: int,
    status_id: int,
    state: str,
    at: str,
    commit: str,
    *,
    environment: str = "production",
    repo: str = REPO,
) -> dict[str, Any]:
    payload = example("deployment_status/payload.json", repo)
    payload["deployment"].update(id=deployment_id, sha=commit, environment=environment)
    payload["deployment_status"].update(
        id=status_id, state=state, created_at=at, updated_at=at, environment=environment
    )
    return payload


def push(commits: list[tuple[str, str]], repo: str = REPO) -> dict[str, Any]:
    """A push to the default branch of (sha, author timestamp) commits, oldest first."""
    payload = example("push/with-new-branch.payload.json", repo)
    template = payload["commits"][0]
    payload["commits"] = [{**template, "id": s, "timestamp": t} for s, t in commits]
    payload["head_commit"] = payload["commits"][-1]
    payload["after"] = commits[-1][0]
    return payload


def merged_pull(number: int, merge_sha: str, merged_at: str) -> dict[str, Any]:
    payload = example("pull_request/closed.payload.json")
    payload["number"] = number
    payload["pull_request"].update(
        number=number, merged=True, merged_at=merged_at, merge_commit_sha=merge_sha
    )
    return payload


def issue(
    action: str,
    labels: list[str],
    created_at: str,
    *,
    closed_at: str | None = None,
    issue_id: int = 7001,
) -> dict[str, Any]:
    payload = example("issues/opened.payload.json")
    template = payload["issue"]["labels"][0]
    payload["action"] = action
    payload["issue"].update(
        id=issue_id,
        labels=[{**template, "name": name} for name in labels],
        created_at=created_at,
        closed_at=closed_at,
        state="closed" if closed_at else "open",
    )
    return payload


def deliver(
    bot: Bot,
    event: str,
    payload: dict[str, Any] | str,
    *,
    delivery: str | None = None,
    secret: str = GITHUB_SECRET,
) -> Reply:
    body = payload if isinstance(payload, str) else json.dumps(payload)
    headers = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or f"delivery-{next(_deliveries)}",
        "X-Hub-Signature-256": signature(secret, body.encode()),
    }
    return bot.post("/github/webhook", body, headers, JSON)


def ok(reply: Reply) -> str:
    assert reply.status == 200, reply.body
    assert reply.json["ok"] is True
    result: str = reply.json["result"]
    return result


def assert_nothing_stored(bot: Bot) -> None:
    for table in ("deploys", "changes", "incidents"):
        assert bot.rows(table) == []
    assert stored(bot, "SELECT * FROM github_deliveries") == []


def stored(bot: Bot, sql: str) -> list[tuple[Any, ...]]:
    # Through the server's own Store: tables without an id column, read as rows.
    return [tuple(row) for row in bot.server.store.query(sql)]


def changes(bot: Bot) -> list[tuple[str, str | None, int | None]]:
    return [(c["sha"], c["authored_at"], c["deploy_id"]) for c in bot.rows("changes")]


def save_settings(bot: Bot, settings: github.RepoSettings) -> None:
    with bot.server.store.write() as db:
        github.save_settings(db, settings, "2026-11-01T00:00:00Z")


@pytest.fixture
def hub(tmp_path: Path, slack: FakeSlack, clock: FixedClock) -> Iterator[Bot]:
    """The real server with GITHUB_WEBHOOK_SECRET set (the `bot` fixture has none)."""
    with running_bot(tmp_path, slack, clock, github_webhook_secret=GITHUB_SECRET) as started:
        yield started


# ---- verification and refusals -------------------------------------------------------------


def test_signature_follows_githubs_documented_vector(hub: Bot) -> None:
    assert signature(GITHUB_SECRET, b"Hello, World!") == GITHUB_VECTOR
    # The route accepts that signature: the body is then refused for not being JSON (400),
    # not for its signature (401).
    headers = {
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": "vector",
        "X-Hub-Signature-256": GITHUB_VECTOR,
    }
    reply = hub.post("/github/webhook", "Hello, World!", headers, JSON)
    assert reply.status == 400
    assert "not a JSON object" in reply.json["error"]


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha256=" + "0" * 64,
        signature("someone else's secret", b"{}"),
        "sha1=" + hmac.new(GITHUB_SECRET.encode(), b"x", hashlib.sha1).hexdigest(),
        "sha256=é",
    ],
    ids=["missing", "empty", "zeros", "other-secret", "sha1", "non-ascii"],
)
def test_bad_or_missing_signature_is_refused_and_nothing_stored(
    hub: Bot, header: str | None
) -> None:
    body = json.dumps(deployment_status(1, 1, "success", "2026-11-20T10:00:00Z", sha(1)))
    headers = {"X-GitHub-Event": "deployment_status", "X-GitHub-Delivery": "forged"}
    if header is not None:
        headers["X-Hub-Signature-256"] = header
    reply = hub.post("/github/webhook", body, headers, JSON)
    assert reply.status == 401
    assert "GITHUB_WEBHOOK_SECRET" in reply.json["error"]
    assert_nothing_stored(hub)


def test_signature_of_another_body_is_refused(hub: Bot) -> None:
    body = json.dumps(deployment_status(1, 1, "success", "2026-11-20T10:00:00Z", sha(1)))
    forged = body.replace('"success"', '"failure"')
    headers = {
        "X-GitHub-Event": "deployment_status",
        "X-GitHub-Delivery": "tampered",
        "X-Hub-Signature-256": signature(GITHUB_SECRET, body.encode()),
    }
    assert hub.post("/github/webhook", forged, headers, JSON).status == 401
    assert_nothing_stored(hub)


def test_without_a_secret_the_route_says_how_to_set_it(bot: Bot) -> None:
    reply = deliver(bot, "ping", example("ping/payload.json"))
    assert reply.status == 503
    assert "GITHUB_WEBHOOK_SECRET is not set" in reply.json["error"]
    assert "Settings > Webhooks" in reply.json["error"]
    assert_nothing_stored(bot)


def test_only_post_is_allowed(hub: Bot) -> None:
    reply = hub.get("/github/webhook")
    assert reply.status == 405
    assert "POST" in reply.json["error"]


@pytest.mark.parametrize("body", ["{not json", "[1, 2]", '"text"', ""])
def test_a_body_that_is_not_a_json_object_is_refused(hub: Bot, body: str) -> None:
    reply = deliver(hub, "push", body)
    assert reply.status == 400
    assert reply.json["error"] == "The body is not a JSON object, as a GitHub webhook payload is."
    assert_nothing_stored(hub)


@pytest.mark.parametrize("missing", ["X-GitHub-Event", "X-GitHub-Delivery"])
def test_missing_github_headers_are_refused(hub: Bot, missing: str) -> None:
    body = json.dumps(push([(sha(1), "2026-11-20T10:00:00Z")]))
    headers = {
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": "no-header",
        "X-Hub-Signature-256": signature(GITHUB_SECRET, body.encode()),
    }
    del headers[missing]
    reply = hub.post("/github/webhook", body, headers, JSON)
    assert reply.status == 400
    assert f"The {missing} header is missing" in reply.json["error"]
    assert_nothing_stored(hub)


def test_a_missing_field_is_named_and_the_fixed_redelivery_is_recorded(hub: Bot) -> None:
    payload = deployment_status(1, 1, "success", "2026-11-20T10:00:00Z", sha(1))
    del payload["deployment"]["sha"]
    reply = deliver(hub, "deployment_status", payload, delivery="d-broken")
    assert reply.status == 400
    assert "deployment.sha" in reply.json["error"]
    assert_nothing_stored(hub)
    # Nothing was claimed either: the same delivery, fixed, is recorded.
    fixed = deployment_status(1, 1, "success", "2026-11-20T10:00:00Z", sha(1))
    ok(deliver(hub, "deployment_status", fixed, delivery="d-broken"))
    assert len(hub.rows("deploys")) == 1


@pytest.mark.parametrize(
    ("event", "payload", "field"),
    [
        (
            "push",
            push([(sha(1), "2026-11-20T10:00:00Z"), (sha(2), "yesterday")]),
            "commits[1].timestamp",
        ),
        ("deployment_status", {"deployment": {}, "repository": {}}, "deployment.sha"),
        (
            "issues",
            {**issue("opened", ["incident"], "2026-11-20T10:00:00Z"), "issue": 7},
            "issue.id",
        ),
        (
            "pull_request",
            {**merged_pull(5, sha(1), "2026-11-20T10:00:00Z"), "number": "5"},
            "number",
        ),
    ],
    ids=["bad-commit-time", "no-deployment-sha", "issue-not-object", "number-as-text"],
)
def test_payloads_without_a_usable_field_store_nothing(
    hub: Bot, event: str, payload: dict[str, Any], field: str
) -> None:
    reply = deliver(hub, event, payload)
    assert reply.status == 400
    assert f"no usable {field} " in reply.json["error"]
    assert_nothing_stored(hub)


# ---- ping, unknown events, form bodies, redeliveries ---------------------------------------


def test_ping_is_answered(hub: Bot) -> None:
    reply = deliver(hub, "ping", example("ping/payload.json"))
    assert reply.status == 200
    assert reply.json["ok"] is True
    assert "pong" in reply.json["result"]


def test_an_event_we_do_not_use_is_accepted_and_ignored(hub: Bot) -> None:
    reply = deliver(hub, "deployment", example("deployment/payload.json"))
    assert (reply.status, reply.json) == (202, {"ignored": "deployment"})
    assert_nothing_stored(hub)


def test_a_form_encoded_delivery_is_read_from_its_payload_field(hub: Bot) -> None:
    body = urlencode({"payload": json.dumps(push([(sha(1), "2026-11-20T10:00:00Z")]))})
    headers = {
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": "form-1",
        "X-Hub-Signature-256": signature(GITHUB_SECRET, body.encode()),
    }
    ok(hub.post("/github/webhook", body, headers, FORM))
    assert changes(hub) == [(sha(1), "2026-11-20T10:00:00Z", None)]

    body = urlencode({"other": "{}"})
    headers["X-Hub-Signature-256"] = signature(GITHUB_SECRET, body.encode())
    headers["X-GitHub-Delivery"] = "form-2"
    reply = hub.post("/github/webhook", body, headers, FORM)
    assert reply.status == 400
    assert "payload field" in reply.json["error"]


def test_a_redelivered_delivery_changes_nothing(hub: Bot) -> None:
    first = deployment_status(1, 1, "success", "2026-11-20T10:00:00Z", sha(1))
    ok(deliver(hub, "deployment_status", first, delivery="same-id"))
    before = hub.rows("deploys")
    again = deliver(hub, "deployment_status", first, delivery="same-id")
    assert (again.status, again.json) == (200, {"duplicate": True})
    # Even a different body under the same delivery id is the same delivery.
    later = deployment_status(1, 2, "failure", "2026-11-20T11:00:00Z", sha(1))
    assert deliver(hub, "deployment_status", later, delivery="same-id").json == {"duplicate": True}
    assert hub.rows("deploys") == before
    assert stored(hub, "SELECT delivery_id, event FROM github_deliveries") == [
        ("same-id", "deployment_status")
    ]


# ---- deployments and lead time -------------------------------------------------------------


def test_deployment_status_records_a_deploy_from_github(hub: Bot) -> None:
    payload = deployment_status(42, 1, "success", "2026-11-20T10:00:00Z", sha(1).upper())
    payload["deployment_status"]["target_url"] = "https://ci.example/run/1"
    assert ok(deliver(hub, "deployment_status", payload)) == "deploy #1: success"
    [deploy] = hub.rows("deploys")
    assert {k: deploy[k] for k in ("service", "environment", "version", "sha", "repo")} == {
        "service": "api",
        "environment": "production",
        "version": sha(1)[:7].upper(),  # the default branch was deployed: its short sha
        "sha": sha(1),
        "repo": REPO,
    }
    assert deploy["status"] == "success"
    assert deploy["deployed_at"] == "2026-11-20T10:00:00Z"
    assert deploy["url"] == "https://ci.example/run/1"
    assert (deploy["source"], deploy["source_key"]) == ("github", "deployment:42")
    assert deploy["created_at"] == "2026-11-24T12:00:00Z"  # the server's clock, not GitHub's


def test_a_pending_status_records_nothing_yet(hub: Bot) -> None:
    payload = deployment_status(42, 1, "in_progress", "2026-11-20T10:00:00Z", sha(1))
    assert "ignored" in ok(deliver(hub, "deployment_status", payload))
    assert hub.rows("deploys") == []


def test_statuses_out_of_order_the_latest_wins(hub: Bot) -> None:
    ok(
        deliver(
            hub, "push", push([(sha(1), "2026-11-20T09:00:00Z"), (sha(2), "2026-11-20T09:30:00Z")])
        )
    )
    ok(deliver(hub, "push", push([(sha(3), "2026-11-20T10:30:00Z")])))

    # GitHub sends the success at 10:10 first; the failure at 10:05 arrives late.
    ok(
        deliver(
            hub,
            "deployment_status",
            deployment_status(1, 12, "success", "2026-11-20T10:10:00Z", sha(2)),
        )
    )
    late = deliver(
        hub,
        "deployment_status",
        deployment_status(1, 11, "failure", "2026-11-20T10:05:00Z", sha(2)),
    )
    assert "older status, ignored" in ok(late)
    [first] = hub.rows("deploys")
    assert (first["status"], first["deployed_at"]) == ("success", "2026-11-20T10:10:00Z")
    assert [c[2] for c in changes(hub)] == [first["id"], first["id"], None]

    ok(
        deliver(
            hub,
            "deployment_status",
            deployment_status(2, 21, "success", "2026-11-20T11:00:00Z", sha(3)),
        )
    )
    second = hub.rows("deploys")[1]
    assert [c[2] for c in changes(hub)] == [first["id"], first["id"], second["id"]]

    # A later failure of deployment 1: it never reached users after all, so what it shipped
    # goes to the next deploy that carries it.
    ok(
        deliver(
            hub,
            "deployment_status",
            deployment_status(1, 13, "error", "2026-11-20T10:20:00Z", sha(2)),
        )
    )
    first = hub.rows("deploys")[0]
    assert (first["status"], first["deployed_at"]) == ("failed", "2026-11-20T10:20:00Z")
    assert [c[2] for c in changes(hub)] == [second["id"]] * 3
    assert len(hub.rows("deploys")) == 2


def test_pushes_and_deployments_give_exact_lead_times(hub: Bot) -> None:
    # Commit timestamps carry the author's offset; stored and measured in UTC.
    ok(
        deliver(
            hub,
            "push",
            push(
                [
                    (sha(1), "2026-11-20T09:00:00-05:00"),  # 14:00Z, shipped 16:00: 2 h
                    (sha(2), "2026-11-20T15:30:00+01:00"),  # 14:30Z: 1 h 30 m
                    (sha(3), "2026-11-20T15:00:00Z"),  # 1 h
                ]
            ),
        )
    )
    ok(
        deliver(
            hub,
            "deployment_status",
            deployment_status(1, 1, "success", "2026-11-20T16:00:00Z", sha(3)),
        )
    )
    ok(
        deliver(
            hub,
            "push",
            push(
                [
                    (sha(4), "2026-11-21T08:00:00Z"),  # shipped 12:00: 4 h
                    (sha(5), "2026-11-21T10:00:00+02:00"),  # 08:00Z: 4 h
                ]
            ),
        )
    )
    ok(
        deliver(
            hub,
            "deployment_status",
            deployment_status(2, 2, "success", "2026-11-21T12:00:00Z", sha(5)),
        )
    )
    # A staging deploy of a later commit ships nothing: only production counts.
    ok(deliver(hub, "push", push([(sha(6), "2026-11-21T13:00:00Z")])))
    staging = deployment_status(
        3, 3, "success", "2026-11-21T14:00:00Z", sha(6), environment="staging"
    )
    ok(deliver(hub, "deployment_status", staging))

    assert changes(hub) == [
        (sha(1), "2026-11-20T14:00:00Z", 1),
        (sha(2), "2026-11-20T14:30:00Z", 1),
        (sha(3), "2026-11-20T15:00:00Z", 1),
        (sha(4), "2026-11-21T08:00:00Z", 2),
        (sha(5), "2026-11-21T08:00:00Z", 2),
        (sha(6), "2026-11-21T13:00:00Z", None),
    ]
    assert {c["source"] for c in hub.rows("changes")} == {"github"}
    result = report.build(
        hub.server.store.db,
        between("2026-11-01", "2026-11-30", hub.clock.now(), BERLIN),
        environments=("production", "prod"),
        environment=None,
        service="api",
        tz=BERLIN,
    ).to_json()
    # Leads 3600, 5400, 7200, 14400, 14400: the median is the middle one, 2 h; p90 falls
    # between the 4th and 5th values (inclusive method), both 4 h.
    assert result["lead_time"] == {
        "median_seconds": 7200,
        "p90_seconds": 14400,
        "changes": 5,
        "deployments_with_changes": 2,
        "band": "elite",  # under a day
    }
    assert result["deployment_frequency"]["count"] == 2


def test_a_deployment_before_its_push_ships_the_commits_when_they_arrive(hub: Bot) -> None:
    ok(
        deliver(
            hub,
            "deployment_status",
            deployment_status(1, 1, "success", "2026-11-20T16:00:00Z", sha(2)),
        )
    )
    assert hub.rows("changes") == []
    ok(
        deliver(
            hub, "push", push([(sha(1), "2026-11-20T12:00:00Z"), (sha(2), "2026-11-20T14:00:00Z")])
        )
    )
    [deploy] = hub.rows("deploys")
    assert changes(hub) == [
        (sha(1), "2026-11-20T12:00:00Z", deploy["id"]),
        (sha(2), "2026-11-20T14:00:00Z", deploy["id"]),
    ]
    assert [c["lead_seconds"] for c in hub.rows("changes")] == [14400, 7200]


def test_push_ignores_deletions_tags_and_other_branches(hub: Bot) -> None:
    # Upstream's push/payload.json: a deleted ref, no head commit, no commits.
    deletion = example("push/with-new-branch.payload.json")
    deletion.update(deleted=True, created=False, head_commit=None, commits=[], after="0" * 40)
    assert "ignored" in ok(deliver(hub, "push", deletion, delivery="deletion"))

    tag = push([(sha(1), "2026-11-20T10:00:00Z")])
    tag["ref"] = "refs/tags/v1.0.0"
    assert "ignored" in ok(deliver(hub, "push", tag))
    branch = push([(sha(2), "2026-11-20T10:00:00Z")])
    branch["ref"] = "refs/heads/feature"
    assert "ignored" in ok(deliver(hub, "push", branch))

    assert hub.rows("changes") == []
    # Acknowledged: GitHub will not retry it, and a redelivery is a duplicate.
    assert deliver(hub, "push", deletion, delivery="deletion").json == {"duplicate": True}


def test_a_merged_pull_request_fills_merged_at_before_or_after_its_push(hub: Bot) -> None:
    ok(deliver(hub, "pull_request", merged_pull(5, sha(1), "2026-11-20T09:55:00Z")))
    ok(
        deliver(
            hub, "push", push([(sha(1), "2026-11-20T09:00:00Z"), (sha(2), "2026-11-20T09:30:00Z")])
        )
    )
    ok(deliver(hub, "pull_request", merged_pull(6, sha(2), "2026-11-20T10:05:00Z")))
    closed = example("pull_request/closed.payload.json")  # closed without merging
    assert "ignored" in ok(deliver(hub, "pull_request", closed))
    assert [(c["sha"], c["pr_number"], c["merged_at"]) for c in hub.rows("changes")] == [
        (sha(1), 5, "2026-11-20T09:55:00Z"),
        (sha(2), 6, "2026-11-20T10:05:00Z"),
    ]


# ---- incidents -----------------------------------------------------------------------------


def test_issues_with_the_incident_label_open_and_resolve_incidents(hub: Bot) -> None:
    ok(
        deliver(
            hub,
            "deployment_status",
            deployment_status(1, 1, "success", "2026-11-20T10:00:00Z", sha(1)),
        )
    )
    ok(
        deliver(
            hub,
            "deployment_status",
            deployment_status(2, 2, "success", "2026-11-20T12:00:00Z", sha(2)),
        )
    )
    [first, _] = hub.rows("deploys")

    # Without the label: not an incident.
    assert "ignored" in ok(
        deliver(hub, "issues", issue("opened", ["bug"], "2026-11-20T11:00:00Z", issue_id=1))
    )
    assert hub.rows("incidents") == []
    # Labeled later: an incident that started when the issue was created, caused by the
    # latest production deploy at or before then.
    ok(
        deliver(
            hub, "issues", issue("labeled", ["bug", "incident"], "2026-11-20T11:00:00Z", issue_id=1)
        )
    )
    [incident] = hub.rows("incidents")
    assert (incident["service"], incident["started_at"], incident["deploy_id"]) == (
        "api",
        "2026-11-20T11:00:00Z",
        first["id"],
    )
    assert (incident["source"], incident["source_key"]) == ("github", "issue:1")
    assert incident["resolved_at"] is None

    closed = issue(
        "closed", ["incident"], "2026-11-20T11:00:00Z", closed_at="2026-11-20T11:45:00Z", issue_id=1
    )
    ok(deliver(hub, "issues", closed))
    assert hub.rows("incidents")[0]["resolved_at"] == "2026-11-20T11:45:00Z"

    # Opened with the label straight away.
    ok(deliver(hub, "issues", issue("opened", ["incident"], "2026-11-20T13:00:00Z", issue_id=2)))
    second = hub.rows("incidents")[1]
    assert (second["started_at"], second["deploy_id"]) == ("2026-11-20T13:00:00Z", 2)


# ---- releases and workflow runs, where the repository says so ------------------------------


def release(release_id: int, commitish: str, at: str) -> dict[str, Any]:
    payload = example("release/published.payload.json")
    payload["release"].update(id=release_id, target_commitish=commitish, published_at=at)
    return payload


def workflow_run(run_id: int, conclusion: str, at: str, commit: str) -> dict[str, Any]:
    payload = example("workflow_run/completed.payload.json")
    payload["workflow_run"].update(id=run_id, conclusion=conclusion, updated_at=at, head_sha=commit)
    return payload


def test_a_release_counts_as_a_deploy_only_where_the_repository_says_so(hub: Bot) -> None:
    assert "ignored" in ok(deliver(hub, "release", release(1, "master", "2026-11-20T10:00:00Z")))
    assert hub.rows("deploys") == []

    save_settings(hub, github.RepoSettings(repo=REPO, deploy_on="release"))
    ok(deliver(hub, "release", release(2, "master", "2026-11-20T11:00:00Z")))
    ok(deliver(hub, "release", release(3, sha(7), "2026-11-20T12:00:00Z")))
    rows = [
        (
            d["service"],
            d["environment"],
            d["version"],
            d["sha"],
            d["status"],
            d["deployed_at"],
            d["source"],
            d["source_key"],
        )
        for d in hub.rows("deploys")
    ]
    assert rows == [
        # A branch name says nothing about which commit was released: no sha.
        (
            "api",
            "production",
            "0.0.1",
            None,
            "success",
            "2026-11-20T11:00:00Z",
            "github",
            "release:2",
        ),
        (
            "api",
            "production",
            "0.0.1",
            sha(7),
            "success",
            "2026-11-20T12:00:00Z",
            "github",
            "release:3",
        ),
    ]


def test_a_workflow_run_counts_only_for_the_named_workflow(hub: Bot) -> None:
    # The example's workflow is named "test".
    ok(deliver(hub, "workflow_run", workflow_run(1, "success", "2026-11-20T10:00:00Z", sha(1))))
    save_settings(hub, github.RepoSettings(repo=REPO, deploy_on="workflow", workflow="deploy"))
    ok(deliver(hub, "workflow_run", workflow_run(2, "success", "2026-11-20T10:00:00Z", sha(1))))
    assert hub.rows("deploys") == []

    save_settings(hub, github.RepoSettings(repo=REPO, deploy_on="workflow", workflow="test"))
    ok(deliver(hub, "workflow_run", workflow_run(3, "success", "2026-11-20T11:00:00Z", sha(1))))
    ok(deliver(hub, "workflow_run", workflow_run(4, "timed_out", "2026-11-20T12:00:00Z", sha(2))))
    assert "ignored" in ok(
        deliver(hub, "workflow_run", workflow_run(5, "cancelled", "2026-11-20T13:00:00Z", sha(3)))
    )
    rows = [
        (d["version"], d["sha"], d["status"], d["deployed_at"], d["source"], d["source_key"])
        for d in hub.rows("deploys")
    ]
    assert rows == [
        (sha(1)[:7], sha(1), "success", "2026-11-20T11:00:00Z", "github", "workflow_run:3"),
        (sha(2)[:7], sha(2), "failed", "2026-11-20T12:00:00Z", "github", "workflow_run:4"),
    ]


# ---- commits fetched from the API after the answer -----------------------------------------


@pytest.fixture
def api() -> Iterator[FakeGitHub]:
    fake = FakeGitHub(REPO).start()
    yield fake
    fake.stop()


@pytest.fixture
def hub_with_api(
    tmp_path: Path, slack: FakeSlack, clock: FixedClock, api: FakeGitHub
) -> Iterator[Bot]:
    """The real server with a GitHub token, and the GitHub API it calls on loopback."""
    with running_bot(
        tmp_path,
        slack,
        clock,
        github_webhook_secret=GITHUB_SECRET,
        github_token="ghp_test",
        github_api_url=api.url,
    ) as started:
        yield started


def test_the_commit_of_an_unknown_sha_is_fetched_after_the_answer(
    hub_with_api: Bot, api: FakeGitHub
) -> None:
    commit = api.commit("first", "2026-11-20T09:00:00Z")
    status = deployment_status(1, 1, "success", "2026-11-20T10:00:00Z", commit)
    ok(deliver(hub_with_api, "deployment_status", status))
    assert hub_with_api.server.wait_idle()
    assert [r.path for r in api.requested()] == [f"/repos/{REPO}/commits/{commit}"]
    assert changes(hub_with_api) == [(commit, "2026-11-20T09:00:00Z", 1)]


def test_a_failed_fetch_is_logged_and_the_deploy_stays(
    hub_with_api: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    # The fake knows no commit, so it answers 404.
    status = deployment_status(1, 1, "success", "2026-11-20T10:00:00Z", sha(1))
    ok(deliver(hub_with_api, "deployment_status", status))
    assert hub_with_api.server.wait_idle()
    assert len(hub_with_api.rows("deploys")) == 1
    assert hub_with_api.rows("changes") == []
    assert "fetching its commits from GitHub failed" in caplog.text


def test_an_issue_title_keeps_no_control_or_bidi_characters(hub: Bot) -> None:
    # A webhook must be stored, so GitHub's text is cleaned at the edge instead of refused.
    payload = issue("opened", ["incident"], "2026-11-20T11:00:00Z")
    payload["issue"]["title"] = "Checkout \u202edown\x00 for <!channel>\u2066 users\u2069"
    ok(deliver(hub, "issues", payload))
    [incident] = hub.rows("incidents")
    assert incident["title"] == "Checkout down for <!channel> users"
