"""`POST /gitlab/webhook` through the real server: deliveries built from real GitLab payloads
(tests/fakes/gitlab_payloads; only ids, shas, times, statuses, labels and the project path
changed), checked by what a person sees: the HTTP answer, the rows stored, the report's
numbers and the incident card in Slack."""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from bot.core.clock import FixedClock
from bot.core.windows import between
from bot.metrics import report
from storage import sources
from tests.conftest import Bot, Reply
from tests.fakes.fake_slack import FakeSlack
from tests.scenario.conftest import running_bot

PAYLOADS = Path(__file__).parent.parent / "fakes" / "gitlab_payloads"
SECRET = "gitlab-secret-token"
PROJECT = "acme/api"  # service "api"
BERLIN = "Europe/Berlin"
_ids = itertools.count(1)


def sha(n: int) -> str:
    return hashlib.sha1(str(n).encode()).hexdigest()


@cache
def _example(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / f"{name}.json").read_text())


def example(name: str, project: str | None = PROJECT) -> dict[str, Any]:
    payload = copy.deepcopy(_example(name))
    if project is not None:
        payload["project"]["path_with_namespace"] = project
    return payload


def deployment(
    deployment_id: int, status: str, at: str, commit: str, *, environment: str = "production"
) -> dict[str, Any]:
    payload = example("zulip_deployment_hook__succeeded")
    base = payload["commit_url"].rsplit("/", 1)[0]
    payload.update(
        deployment_id=deployment_id,
        status=status,
        status_changed_at=at,
        environment=environment,
        commit_url=f"{base}/{commit}",
        short_sha=commit[:8],
    )
    return payload


def push(commits: list[tuple[str, str]], ref: str = "refs/heads/master") -> dict[str, Any]:
    payload = example("go-gitlab_testdata_push")
    template = payload["commits"][0]
    payload["commits"] = [{**template, "id": s, "timestamp": t} for s, t in commits]
    payload["ref"] = ref
    return payload


def merge(iid: int, merge_sha: str, at: str) -> dict[str, Any]:
    payload = example("zulip_merge_request_merged")
    payload["object_attributes"].update(iid=iid, merge_commit_sha=merge_sha, updated_at=at)
    return payload


def issue(name: str, **attributes: Any) -> dict[str, Any]:
    payload = example(name)
    payload["object_attributes"].update(attributes)
    return payload


EVENTS = {
    "deployment": "Deployment Hook",
    "push": "Push Hook",
    "merge": "Merge Request Hook",
    "issue": "Issue Hook",
}


def deliver(
    bot: Bot,
    event: str,
    payload: dict[str, Any] | str,
    *,
    key: str | None = None,
    uuid: str | None = None,
    token: str | None = SECRET,
) -> Reply:
    body = payload if isinstance(payload, str) else json.dumps(payload)
    headers = {"X-Gitlab-Event": event, "X-Gitlab-Event-UUID": uuid or f"uuid-{next(_ids)}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    if token is not None:
        headers["X-Gitlab-Token"] = token
    return bot.post("/gitlab/webhook", body, headers, "application/json")


def ok(reply: Reply) -> str:
    assert reply.status == 200, reply.body
    result: str = reply.json["result"]
    return result


def deliveries(bot: Bot) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in bot.server.store.query("SELECT * FROM source_deliveries")]


def assert_nothing_stored(bot: Bot) -> None:
    for table in ("deploys", "changes", "incidents"):
        assert bot.rows(table) == []
    assert deliveries(bot) == []


def build_report(bot: Bot, service: str = "api") -> dict[str, Any]:
    """What `shipshape report --json` prints for November."""
    return report.build(
        bot.server.store.db,
        between("2026-11-01", "2026-11-30", bot.clock.now(), BERLIN),
        environments=("production", "prod"),
        environment=None,
        service=service,
        tz=BERLIN,
    ).to_json()


def save_project(bot: Bot, project: str, **settings: str | None) -> None:
    values: dict[str, Any] = {"service": None, "incident_label": None, "channel_id": None}
    values.update(settings)
    with bot.server.store.write() as db:
        sources.save_settings(
            db,
            sources.SourceSettings("gitlab", project, updated_at="2026-11-01T00:00:00Z", **values),
        )


@pytest.fixture
def lab(tmp_path: Path, slack: FakeSlack, clock: FixedClock) -> Iterator[Bot]:
    """The real server with GITLAB_WEBHOOK_SECRET set (the `bot` fixture has none)."""
    with running_bot(tmp_path, slack, clock, gitlab_webhook_secret=SECRET) as started:
        yield started


# ---- refusals: nothing stored ----------------------------------------------------------------


def test_without_a_secret_the_route_names_the_variable(bot: Bot) -> None:
    reply = deliver(bot, "Deployment Hook", example("zulip_deployment_hook__succeeded"))
    assert reply.status == 503
    assert "GITLAB_WEBHOOK_SECRET is not set" in reply.json["error"]
    assert_nothing_stored(bot)


@pytest.mark.parametrize("token", [None, "", "wrong", SECRET + "x", "é" + SECRET])
def test_a_bad_or_missing_token_is_refused(lab: Bot, token: str | None) -> None:
    reply = deliver(
        lab, "Deployment Hook", example("zulip_deployment_hook__succeeded"), token=token
    )
    assert reply.status == 401
    assert "GITLAB_WEBHOOK_SECRET" in reply.json["error"]
    assert_nothing_stored(lab)


def test_a_body_over_one_mib_is_refused_unread(lab: Bot) -> None:
    payload = example("zulip_deployment_hook__succeeded")
    payload["padding"] = "x" * 1_048_576
    reply = deliver(lab, "Deployment Hook", payload)
    assert reply.status == 413
    assert "1,048,576 bytes" in reply.json["error"]
    assert_nothing_stored(lab)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda p: p.pop("deployment_id"), "deployment_id"),
        (lambda p: p.update(status_changed_at="yesterday"), "status_changed_at"),
        (lambda p: p.update(commit_url="https://gitlab.com/x/-/commit/nope"), "commit_url"),
        (lambda p: p["project"].pop("path_with_namespace"), "project.path_with_namespace"),
    ],
    ids=["no-id", "bad-time", "bad-commit-url", "no-project"],
)
def test_a_bad_field_is_named_and_nothing_stored(
    lab: Bot, change: Callable[[dict[str, Any]], Any], field: str
) -> None:
    payload = example("zulip_deployment_hook__succeeded")
    change(payload)
    reply = deliver(lab, "Deployment Hook", payload)
    assert reply.status == 400
    assert reply.json["field"] == field
    assert field in reply.json["error"]
    assert_nothing_stored(lab)


def test_a_bad_commit_timestamp_names_its_index(lab: Bot) -> None:
    payload = push([(sha(1), "2026-11-20T10:00:00Z"), (sha(2), "soon")])
    reply = deliver(lab, "Push Hook", payload)
    assert reply.status == 400
    assert reply.json["field"] == "commits[1].timestamp"
    assert_nothing_stored(lab)


@pytest.mark.parametrize("body", ["{not json", "[1]", '"x"', ""])
def test_a_body_that_is_not_a_json_object_is_refused(lab: Bot, body: str) -> None:
    reply = deliver(lab, "Push Hook", body)
    assert reply.status == 400
    assert "not a JSON object" in reply.json["error"]
    assert_nothing_stored(lab)


def test_unknown_events_are_accepted_and_ignored(lab: Bot) -> None:
    reply = deliver(lab, "Pipeline Hook", {"object_kind": "pipeline"})
    assert reply.status == 202
    assert_nothing_stored(lab)


# ---- deployments ---------------------------------------------------------------------------


def test_a_real_successful_deployment_is_a_deploy(lab: Bot) -> None:
    payload = example("zulip_deployment_hook__succeeded", project=None)
    assert ok(deliver(lab, "Deployment Hook", payload)) == "deploy #1: success"
    [deploy] = lab.rows("deploys")
    assert deploy["service"] == "test"  # vedant8600317/test
    assert deploy["environment"] == "production"
    assert deploy["deployed_at"] == "2025-05-02T11:55:16Z"
    assert deploy["sha"] == "58793660b22d6ceacbdc23b28a0562bca339702c"
    assert deploy["repo"] == "vedant8600317/test"
    assert (deploy["status"], deploy["source"]) == ("success", "gitlab")
    assert deploy["source_key"] == "deployment:988572802"


def test_the_iso_time_format_and_the_offset_format_both_read(lab: Bot) -> None:
    newer = example("zulip_deployment_hook__blocked")  # status_changed_at is ISO-8601
    newer["status"] = "success"
    ok(deliver(lab, "Deployment Hook", newer))
    older = example("go-gitlab_testdata_deployment")  # 2021-04-28 21:50:00 +0200
    ok(deliver(lab, "Deployment Hook", older))
    times = {d["environment"]: d["deployed_at"] for d in lab.rows("deploys")}
    assert times == {"production": "2026-08-02T07:59:54Z", "staging": "2021-04-28T19:50:00Z"}
    # A tag deployed is its own version; the default branch is named by its short sha.
    versions = {d["environment"]: d["version"] for d in lab.rows("deploys")}
    assert versions == {"production": "2166d75e", "staging": "1.0.0"}


def test_a_deployment_without_commit_url_takes_short_sha(lab: Bot) -> None:
    payload = example("zulip_deployment_hook__succeeded")
    del payload["commit_url"]
    ok(deliver(lab, "Deployment Hook", payload))
    assert lab.rows("deploys")[0]["sha"] == "58793660"


@pytest.mark.parametrize("name", ["running", "canceled", "blocked"])
def test_unfinished_deployments_record_nothing(lab: Bot, name: str) -> None:
    result = ok(deliver(lab, "Deployment Hook", example(f"zulip_deployment_hook__{name}")))
    assert "ignored" in result
    assert lab.rows("deploys") == []


def test_running_then_success_of_one_deployment_is_one_deploy(lab: Bot) -> None:
    ok(deliver(lab, "Deployment Hook", example("zulip_deployment_hook__running")))
    ok(deliver(lab, "Deployment Hook", example("zulip_deployment_hook__succeeded")))
    assert [(d["status"], d["deployed_at"]) for d in lab.rows("deploys")] == [
        ("success", "2025-05-02T11:55:16Z")
    ]


@pytest.mark.parametrize("order", ["in-order", "reversed"])
def test_the_latest_status_wins_whatever_order(lab: Bot, order: str) -> None:
    failed = deployment(7, "failed", "2026-11-20 10:00:00 +0000", sha(1))
    success = deployment(7, "success", "2026-11-20T10:20:00.000+00:00", sha(1))
    for payload in [failed, success] if order == "in-order" else [success, failed]:
        ok(deliver(lab, "Deployment Hook", payload))
    [deploy] = lab.rows("deploys")
    assert (deploy["status"], deploy["deployed_at"]) == ("success", "2026-11-20T10:20:00Z")


# ---- redeliveries --------------------------------------------------------------------------


def test_a_redelivery_by_idempotency_key_changes_nothing(lab: Bot) -> None:
    payload = deployment(1, "success", "2026-11-20 10:00:00 +0000", sha(1))
    ok(deliver(lab, "Deployment Hook", payload, key="key-1", uuid="uuid-a"))
    # A retry: the same Idempotency-Key, a new event UUID, and (to show it is not looked at)
    # another status.
    payload["status"] = "failed"
    reply = deliver(lab, "Deployment Hook", payload, key="key-1", uuid="uuid-b")
    assert (reply.status, reply.json) == (200, {"duplicate": True})
    assert [d["status"] for d in lab.rows("deploys")] == ["success"]
    assert deliveries(lab) == [("gitlab", "key-1", "2026-11-24T12:00:00Z")]


def test_a_redelivery_by_event_uuid_changes_nothing(lab: Bot) -> None:
    commits = push([(sha(1), "2026-11-20T10:00:00Z")])
    ok(deliver(lab, "Push Hook", commits, uuid="same"))
    reply = deliver(lab, "Push Hook", push([(sha(2), "2026-11-20T11:00:00Z")]), uuid="same")
    assert (reply.status, reply.json) == (200, {"duplicate": True})
    assert [c["sha"] for c in lab.rows("changes")] == [sha(1)]


# ---- pushes, merges and lead time ----------------------------------------------------------


def test_a_real_push_to_the_default_branch_records_its_commits(lab: Bot) -> None:
    assert ok(deliver(lab, "Push Hook", example("go-gitlab_testdata_push"))) == "2 new of 2 commits"
    assert [(c["sha"], c["authored_at"], c["source"]) for c in lab.rows("changes")] == [
        ("b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327", "2011-12-12T12:27:31Z", "gitlab"),
        ("da1560886d4f094c3e6c9ef40349f7d38b5d27d7", "2012-01-03T21:36:29Z", "gitlab"),
    ]


def test_a_push_to_another_branch_records_nothing(lab: Bot) -> None:
    result = ok(deliver(lab, "Push Hook", push([(sha(1), "2026-11-20T10:00:00Z")], "refs/heads/x")))
    assert "ignored" in result
    assert lab.rows("changes") == []


def test_a_real_merged_merge_request_records_merged_at(lab: Bot) -> None:
    payload = example("zulip_merge_request_merged")
    merge_sha = payload["object_attributes"]["merge_commit_sha"]
    ok(deliver(lab, "Merge Request Hook", payload))
    ok(deliver(lab, "Push Hook", push([(merge_sha, "2016-08-22T20:00:00Z")])))
    [change] = lab.rows("changes")
    assert (change["pr_number"], change["merged_at"]) == (3, "2016-08-22T20:41:06Z")


def test_an_opened_merge_request_records_nothing(lab: Bot) -> None:
    assert "ignored" in ok(deliver(lab, "Merge Request Hook", example("go-gitlab_testdata_issue")))


ARRIVALS = {
    "push": (
        "Push Hook",
        push([(sha(1), "2026-11-20T10:00:00Z"), (sha(2), "2026-11-20T11:00:00Z")]),
    ),
    "merge": ("Merge Request Hook", merge(5, sha(2), "2026-11-20 11:30:00 UTC")),
    "deploy": ("Deployment Hook", deployment(9, "success", "2026-11-20 14:00:00 +0000", sha(2))),
}


@pytest.mark.parametrize("order", list(itertools.permutations(ARRIVALS)), ids="-".join)
def test_every_arrival_order_gives_the_same_lead_time(lab: Bot, order: tuple[str, ...]) -> None:
    for name in order:
        ok(deliver(lab, *ARRIVALS[name]))
    assert [(c["sha"], c["deploy_id"], c["merged_at"]) for c in lab.rows("changes")] == [
        (sha(1), 1, None),
        (sha(2), 1, "2026-11-20T11:30:00Z"),
    ]
    # Leads 4 h and 3 h: the median 3.5 h; p90 (inclusive) 3 h + 0.9 h = 14040 s.
    assert build_report(lab)["lead_time"] == {
        "median_seconds": 12600,
        "p90_seconds": 14040,
        "changes": 2,
        "deployments_with_changes": 1,
        "band": "elite",
    }


# ---- incidents -----------------------------------------------------------------------------


def test_incident_open_close_reopen_close_gives_the_recovery_time(lab: Bot) -> None:
    ok(
        deliver(
            lab, "Deployment Hook", deployment(1, "success", "2026-11-20 14:00:00 +0000", sha(1))
        )
    )
    created = "2026-11-20T15:00:00.000Z"
    opened = issue("zulip_issue_hook__incident_created", id=44, created_at=created)
    assert ok(deliver(lab, "Issue Hook", opened)) == "incident #1 opened"
    closed = issue(
        "zulip_issue_hook__incident_closed", id=44, created_at=created,
        closed_at="2026-11-20T15:45:00.000Z",
    )  # fmt: skip
    assert ok(deliver(lab, "Issue Hook", closed)) == "incident #1 resolved"
    reopened = issue("zulip_issue_hook__incident_reopen", id=44, created_at=created)
    assert ok(deliver(lab, "Issue Hook", reopened)) == "incident #1 reopened"
    assert lab.rows("incidents")[0]["resolved_at"] is None
    closed["object_attributes"]["closed_at"] = "2026-11-20T16:30:00.000Z"
    assert ok(deliver(lab, "Issue Hook", closed)) == "incident #1 resolved"
    [incident] = lab.rows("incidents")
    assert incident["service"] == "api"
    assert incident["title"] == "Testing"
    assert (incident["deploy_id"], incident["source"]) == (1, "gitlab")
    # The link of the delivery that opened it.
    assert incident["url"] == "https://gitlab.com/sathwikshetty33-group/mVc/-/issues/2"
    assert (incident["started_at"], incident["resolved_at"]) == (
        "2026-11-20T15:00:00Z",
        "2026-11-20T16:30:00Z",
    )
    result = build_report(lab)
    assert result["recovery_time"]["median_seconds"] == 5400  # 15:00 to 16:30
    assert result["change_failure_rate"]["failed"] == 1


def test_a_real_work_item_incident_opens_an_incident(lab: Bot) -> None:
    payload = example("zulip_issue_hook__incident_created", project=None)
    assert payload["object_kind"] == "work_item"
    ok(deliver(lab, "Issue Hook", payload))
    [incident] = lab.rows("incidents")
    assert (incident["service"], incident["started_at"]) == ("mVc", "2026-05-28T05:04:31Z")
    assert incident["url"] == "https://gitlab.com/sathwikshetty33-group/mVc/-/issues/2"


def test_an_issue_with_the_incident_label_is_an_incident(lab: Bot) -> None:
    payload = example("go-gitlab_testdata_issue")  # no type: a plain issue labelled API
    assert "ignored" in ok(deliver(lab, "Issue Hook", payload))
    assert lab.rows("incidents") == []
    payload["labels"][0]["title"] = "incident"
    ok(deliver(lab, "Issue Hook", payload))
    [incident] = lab.rows("incidents")
    assert incident["title"] == "New API: create/update/delete file"
    assert incident["started_at"] == "2013-12-03T17:15:43Z"


def test_a_project_mapping_sets_service_and_label(lab: Bot) -> None:
    save_project(lab, PROJECT, service="checkout", incident_label="API")
    ok(
        deliver(
            lab, "Deployment Hook", deployment(1, "success", "2026-11-20 10:00:00 +0000", sha(1))
        )
    )
    ok(deliver(lab, "Issue Hook", example("go-gitlab_testdata_issue")))  # labelled API
    assert [d["service"] for d in lab.rows("deploys")] == ["checkout"]
    assert [i["service"] for i in lab.rows("incidents")] == ["checkout"]


def test_an_incident_is_posted_to_the_projects_channel(lab: Bot, slack: FakeSlack) -> None:
    save_project(lab, PROJECT, channel_id="C0INCIDENT")
    created = "2026-11-20T15:00:00.000Z"
    ok(deliver(lab, "Issue Hook", issue("zulip_issue_hook__incident_created", created_at=created)))
    [post] = slack.wait_for("chat.postMessage")
    assert post["channel"] == "C0INCIDENT"
    assert "Testing" in post["text"]
    shown = json.dumps(post["blocks"])
    assert "from GitLab: <https://gitlab.com/sathwikshetty33-group/mVc/-/issues/2|" in shown
    closed = issue(
        "zulip_issue_hook__incident_closed", id=191200846, created_at=created,
        closed_at="2026-11-20T15:30:00.000Z",
    )  # fmt: skip
    ok(deliver(lab, "Issue Hook", closed))
    [update] = slack.wait_for("chat.update")
    assert update["channel"] == "C0INCIDENT"
    assert "resolved after 30m" in update["text"]
    assert "from GitLab" in json.dumps(update["blocks"])
    assert len(slack.calls_to("chat.postMessage")) == 1  # one card, kept true


def test_a_posted_card_is_kept_true_after_the_channel_is_unmapped(
    lab: Bot, slack: FakeSlack
) -> None:
    save_project(lab, PROJECT, channel_id="C0INCIDENT")
    created = "2026-11-20T15:00:00.000Z"
    ok(deliver(lab, "Issue Hook", issue("zulip_issue_hook__incident_created", created_at=created)))
    slack.wait_for("chat.postMessage")
    assert lab.server.wait_idle()
    (row,) = lab.rows("incidents")
    save_project(lab, PROJECT, channel_id=None)  # no new cards; the one posted stays true
    closed = issue(
        "zulip_issue_hook__incident_closed", id=191200846, created_at=created,
        closed_at="2026-11-20T15:30:00.000Z",
    )  # fmt: skip
    ok(deliver(lab, "Issue Hook", closed))
    [update] = slack.wait_for("chat.update")
    assert (update["channel"], update["ts"]) == ("C0INCIDENT", row["message_ts"])
    assert "resolved after 30m" in update["text"]


def test_an_incident_of_an_unmapped_project_posts_nothing(lab: Bot, slack: FakeSlack) -> None:
    ok(deliver(lab, "Issue Hook", example("zulip_issue_hook__incident_created")))
    assert lab.server.wait_idle()
    assert slack.calls_to("chat.postMessage") == []
