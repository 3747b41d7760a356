"""The HTTP API (`/api/*`) through the real app in process: bearer tokens in, HTTP answers,
SQLite rows and `report --json` numbers out. The clock is fixed at 2026-11-24T12:00:00Z."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bot.app.cli import main
from bot.core.clock import FixedClock
from bot.sources.api.routes import MAX_BODY_BYTES
from tests.conftest import Bot, Reply
from tests.fakes.fake_slack import FakeSlack
from tests.scenario.conftest import running_bot

TOKEN = "tok-ci-1"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
JSON = "application/json"
SHA_A = "a" * 40
SHA_B = "b" * 40


@pytest.fixture
def api(tmp_path: Path, slack: FakeSlack, clock: FixedClock) -> Iterator[Bot]:
    with running_bot(tmp_path, slack, clock, api_tokens=(TOKEN,)) as started:
        yield started


def post(bot: Bot, path: str, payload: Any, headers: dict[str, str] | None = None) -> Reply:
    body = payload if isinstance(payload, str) else json.dumps(payload)
    return bot.post(path, body, AUTH if headers is None else headers, JSON)


def deploy(bot: Bot, **fields: Any) -> Reply:
    return post(bot, "/api/deploys", {"service": "checkout", **fields})


def counts(bot: Bot) -> tuple[int, int, int]:
    return tuple(len(bot.rows(t)) for t in ("deploys", "incidents", "changes"))  # type: ignore[return-value]


def cli_report(bot: Bot, *args: str) -> dict[str, Any]:
    """`shipshape report --json` on the same database, at the same fixed time."""
    env = {"SHIPSHAPE_DB": str(bot.db_path), "SHIPSHAPE_TIMEZONE": "Europe/Berlin",
           "SHIPSHAPE_NOW": "2026-11-24T12:00:00Z"}  # fmt: skip
    result = CliRunner().invoke(main, ["report", *args, "--json"], env=env)
    assert result.exit_code == 0, result.output
    found: dict[str, Any] = json.loads(result.output)
    return found


# ---- status codes --------------------------------------------------------------------------


def test_off_without_tokens_answers_503_naming_the_variable(bot: Bot) -> None:
    for path in ("/api/deploys", "/api/incidents"):
        reply = post(bot, path, {"service": "checkout", "title": "x"})
        assert reply.status == 503
        assert "SHIPSHAPE_API_TOKENS" in reply.json["error"]
    assert bot.get("/api/report", AUTH).status == 503
    assert counts(bot) == (0, 0, 0)


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN},
     {"Authorization": f"Basic {TOKEN}"}, {"Authorization": "Bearer tök"}],
)  # fmt: skip
def test_a_bad_or_missing_token_is_401_and_stores_nothing(
    api: Bot, headers: dict[str, str]
) -> None:
    reply = post(api, "/api/deploys", {"service": "checkout"}, headers)
    assert reply.status == 401
    assert "Authorization: Bearer" in reply.json["error"]
    assert api.get("/api/report", headers).status == 401
    assert counts(api) == (0, 0, 0)


def test_a_body_over_one_mib_is_413_and_stores_nothing(api: Bot) -> None:
    padding = "x" * MAX_BODY_BYTES
    reply = post(api, "/api/deploys", json.dumps({"service": "checkout", "version": padding}))
    assert reply.status == 413
    assert "1,048,576 bytes" in reply.json["error"]
    assert counts(api) == (0, 0, 0)


@pytest.mark.parametrize(
    ("payload", "field", "needle"),
    [
        ({}, "service", "service is missing"),
        ({"service": "check out"}, "service", "the text 'check out'"),
        ({"service": "checkout", "status": "broken"}, "status", '"success" or "failed"'),
        ({"service": "checkout", "deployed_at": "2026-11-20 14:05"}, "deployed_at", "offset"),
        ({"service": "checkout", "deployed_at": "2027-01-01T00:00Z"}, "deployed_at", "future"),
        ({"service": "checkout", "hotfix": "yes"}, "hotfix", "true or false"),
        ({"service": "checkout", "repo": "acme"}, "repo", "OWNER/NAME"),
        ({"service": "checkout", "url": "ftp://x"}, "url", "http(s) URL"),
        ({"service": "checkout", "url": "http://[::1"}, "url", "http(s) URL"),
        ({"service": "checkout", "rollback_of": "7"}, "rollback_of", "whole number"),
        ({"service": "checkout", "rollback_of": {"key": "nope"}}, "rollback_of.key", "nope"),
        ({"service": "checkout", "rollback_of": 99}, "rollback_of", "no deploy #99"),
        ({"service": "checkout", "hotifx": True}, "hotifx", "not a field"),
        (
            {"service": "checkout", "repo": "acme/checkout", "sha": SHA_B,
             "commits": [{"sha": SHA_A, "authored_at": "2026-11-20T10:00Z"},
                         {"sha": SHA_B, "authored_at": "tuesday"}]},
            "commits[1].authored_at",
            "ISO-8601",
        ),
        ({"service": "checkout", "commits": [{"sha": SHA_A, "authored_at": "2026-11-20T10:00Z"}]},
         "commits", "repo"),
    ],
)  # fmt: skip
def test_a_bad_deploy_is_400_naming_the_field(
    api: Bot, payload: dict[str, Any], field: str, needle: str
) -> None:
    reply = post(api, "/api/deploys", payload)
    assert reply.status == 400, reply.body
    assert reply.json["field"] == field
    assert needle.lower() in reply.json["error"].lower(), reply.json
    assert counts(api) == (0, 0, 0)


@pytest.mark.parametrize("body", ["", "not json", "[1, 2]", '"checkout"', "{" * 200])
def test_a_body_that_is_no_json_object_is_400(api: Bot, body: str) -> None:
    reply = post(api, "/api/deploys", body)
    assert reply.status == 400
    assert reply.json["field"] == "body"
    assert "JSON object" in reply.json["error"]
    assert counts(api) == (0, 0, 0)


def test_unknown_routes_and_methods(api: Bot) -> None:
    assert post(api, "/api/nothing", {}).status == 404
    assert api.get("/api/deploys", AUTH).status == 405
    assert post(api, "/api/report", {}).status == 405


# ---- deploys -------------------------------------------------------------------------------


def test_a_new_deploy_is_201_with_the_row_as_export_shows_it(api: Bot) -> None:
    reply = deploy(api, version="v1.2.3", environment="Staging", sha="ABCDEF1",
                   deployed_at="2026-11-24T10:00:00+01:00", repo="acme/checkout",
                   url="https://ci.example.com/r/1", hotfix=True, key="run-1")  # fmt: skip
    assert reply.status == 201, reply.body
    assert reply.json["created"] is True
    exported = CliRunner().invoke(
        main, ["export", "deploys", "--format", "json"], env={"SHIPSHAPE_DB": str(api.db_path)}
    )
    assert exported.exit_code == 0, exported.output
    [row] = json.loads(exported.output)
    assert reply.json["deploy"] == row
    assert reply.json["id"] == row["id"]
    assert row["environment"] == "staging"
    assert row["deployed_at"] == "2026-11-24T09:00:00Z"
    assert row["sha"] == "abcdef1"
    assert (row["source"], row["source_key"], row["is_hotfix"]) == ("api", "run-1", 1)


def test_defaults_and_no_key_records_a_new_deploy_each_time(api: Bot) -> None:
    first, second = deploy(api), deploy(api)
    assert (first.status, second.status) == (201, 201)
    assert first.json["id"] != second.json["id"]
    row = first.json["deploy"]
    assert (row["environment"], row["status"], row["deployed_at"]) == (
        "production", "success", "2026-11-24T12:00:00Z",
    )  # fmt: skip
    keys = {r["source_key"] for r in api.rows("deploys")}
    assert len(keys) == 2


def test_the_same_key_updates_the_deploy_failed_then_success(api: Bot) -> None:
    failed = deploy(api, status="failed", key="run-7", deployed_at="2026-11-24T10:00Z")
    assert failed.status == 201
    success = deploy(api, key="run-7", deployed_at="2026-11-24T10:30Z", version="v2")
    assert success.status == 200, success.body
    assert success.json["created"] is False
    assert success.json["id"] == failed.json["id"]
    [row] = api.rows("deploys")
    assert (row["status"], row["deployed_at"], row["version"]) == (
        "success", "2026-11-24T10:30:00Z", "v2",
    )  # fmt: skip
    report = cli_report(api, "checkout")
    assert report["deployment_frequency"]["count"] == 1
    assert report["failed_attempts"] == 0


def test_a_redelivery_changes_nothing(api: Bot) -> None:
    payload = {"service": "checkout", "key": "run-9", "deployed_at": "2026-11-24T10:00Z",
               "repo": "acme/checkout", "sha": SHA_B,
               "commits": [{"sha": SHA_A, "authored_at": "2026-11-24T08:00Z"},
                           {"sha": SHA_B, "authored_at": "2026-11-24T09:00Z"}]}  # fmt: skip
    assert post(api, "/api/deploys", payload).status == 201
    before = [api.rows(t) for t in ("deploys", "incidents", "changes")]
    again = post(api, "/api/deploys", payload)
    assert again.status == 200
    assert again.json["created"] is False
    assert [api.rows(t) for t in ("deploys", "incidents", "changes")] == before


def test_rollback_by_key_and_by_id(api: Bot) -> None:
    first = deploy(api, key="run-1", deployed_at="2026-11-24T09:00Z")
    back = deploy(api, key="run-2", deployed_at="2026-11-24T10:00Z", rollback_of={"key": "run-1"})
    assert back.status == 201, back.body
    assert back.json["deploy"]["rollback_of"] == first.json["id"]
    by_id = deploy(api, deployed_at="2026-11-24T11:00Z", rollback_of=back.json["id"])
    assert by_id.json["deploy"]["rollback_of"] == back.json["id"]
    report = cli_report(api, "checkout")
    assert report["change_failure_rate"]["failed"] == 2
    assert report["rework_rate"]["rework"] == 2


def test_a_rollback_of_another_service_is_refused(api: Bot) -> None:
    other = post(api, "/api/deploys", {"service": "search", "deployed_at": "2026-11-24T09:00Z"})
    reply = deploy(api, rollback_of=other.json["id"])
    assert reply.status == 400
    assert reply.json["field"] == "rollback_of"
    assert "another service" in reply.json["error"]
    assert counts(api) == (1, 0, 0)


def test_commits_give_hand_computed_lead_times(api: Bot) -> None:
    # Deployed 10:00; commits authored 2 h and 5 h before: median 3.5 h, p90 by
    # quantiles(inclusive) 2 + 0.9 x 3 = 4.7 h.
    commits = [
        {"sha": SHA_A, "authored_at": "2026-11-24T05:00:00Z"},
        {"sha": SHA_B, "authored_at": "2026-11-24T09:00:00+01:00"},
    ]
    reply = deploy(api, key="run-1", deployed_at="2026-11-24T10:00:00Z", repo="acme/checkout",
                   sha=SHA_B, commits=commits)  # fmt: skip
    assert reply.status == 201, reply.body
    assert {(c["sha"], c["deploy_id"]) for c in api.rows("changes")} == {
        (SHA_A, reply.json["id"]), (SHA_B, reply.json["id"]),
    }  # fmt: skip
    report = cli_report(api, "checkout")
    lead = report["lead_time"]
    assert lead["median_seconds"] == 3.5 * 3600
    assert lead["p90_seconds"] == pytest.approx(4.7 * 3600)
    assert lead["changes"] == 2
    over_http = api.get("/api/report?service=checkout", AUTH)
    assert over_http.status == 200
    assert over_http.json == report


def test_report_takes_the_cli_parameters(api: Bot) -> None:
    deploy(api, deployed_at="2026-11-03T10:00Z", environment="staging")
    deploy(api, deployed_at="2026-11-20T10:00Z")
    for query, args in [
        ("", []),
        ("?window=7d", ["--window", "7d"]),
        ("?window=last%20month&service=checkout", ["checkout", "--window", "last month"]),
        ("?from=2026-11-01&to=2026-11-30&env=staging",
         ["--from", "2026-11-01", "--to", "2026-11-30", "--env", "staging"]),
    ]:  # fmt: skip
        reply = api.get("/api/report" + query, AUTH)
        assert reply.status == 200, reply.body
        assert reply.json == cli_report(api, *args)


@pytest.mark.parametrize(
    ("query", "field"),
    [("window=fortnight", "window"), ("window=0d", "window"), ("from=2026-11-01", "to"),
     ("to=2026-11-01", "from"), ("from=2026-11-30&to=2026-11-01", "to"),
     ("window=7d&from=2026-11-01&to=2026-11-02", "window"), ("team=core", "team"),
     ("service=a%20b", "service"), ("from=someday&to=2026-11-02", "from")],
)  # fmt: skip
def test_a_bad_report_query_is_400_naming_the_parameter(api: Bot, query: str, field: str) -> None:
    reply = api.get("/api/report?" + query, AUTH)
    assert reply.status == 400, reply.body
    assert reply.json["field"] == field
    assert reply.json["error"]


# ---- incidents -----------------------------------------------------------------------------


def incident(bot: Bot, **fields: Any) -> Reply:
    return post(bot, "/api/incidents", {"service": "checkout", "title": "500s on pay", **fields})


def test_an_incident_is_linked_like_incident_open_and_resolved_later_by_key(api: Bot) -> None:
    cause = deploy(api, deployed_at="2026-11-24T09:00Z")
    opened = incident(api, key="pd-1", started_at="2026-11-24T09:30Z", severity=2)
    assert opened.status == 201, opened.body
    row = opened.json["incident"]
    assert (row["deploy_id"], row["cause"], row["severity"]) == (cause.json["id"], "deploy", 2)
    assert row["resolved_at"] is None
    resolved = incident(api, key="pd-1", resolved_at="2026-11-24T10:15Z")
    assert resolved.status == 200, resolved.body
    assert resolved.json["created"] is False
    assert resolved.json["incident"]["resolved_at"] == "2026-11-24T10:15:00Z"
    again = incident(api, key="pd-1", resolved_at="2026-11-24T10:15Z")
    assert again.status == 200
    assert api.rows("incidents") == [
        {**api.rows("incidents")[0], "resolved_at": "2026-11-24T10:15:00Z"}
    ]
    report = cli_report(api, "checkout")
    assert report["recovery_time"]["median_seconds"] == 45 * 60
    assert report["change_failure_rate"]["failed"] == 1


def test_a_later_call_by_key_changes_what_it_sends_and_keeps_the_rest(api: Bot) -> None:
    cause = deploy(api, deployed_at="2026-11-24T09:00Z")
    incident(api, key="inc-7", started_at="2026-11-24T09:40Z", severity=3)
    # The tool learned more: a better title, a worse severity, an earlier start.
    later = incident(
        api, key="inc-7", title="Checkout down for EU", severity=1, started_at="2026-11-24T09:20Z"
    )
    assert later.status == 200, later.body
    row = later.json["incident"]
    assert (row["title"], row["severity"], row["started_at"]) == (
        "Checkout down for EU", 1, "2026-11-24T09:20:00Z",
    )  # fmt: skip
    assert (row["deploy_id"], row["cause"]) == (cause.json["id"], "deploy")
    # Resolving sends no severity or start: both stay as the last call left them.
    resolved = incident(
        api, key="inc-7", title="Checkout down for EU", resolved_at="2026-11-24T10:20Z"
    )
    row = resolved.json["incident"]
    assert (row["severity"], row["started_at"], row["resolved_at"]) == (
        1, "2026-11-24T09:20:00Z", "2026-11-24T10:20:00Z",
    )  # fmt: skip
    assert len(api.rows("incidents")) == 1
    # 09:20 to 10:20: the moved start moved the recovery time with it.
    assert cli_report(api, "checkout")["recovery_time"]["median_seconds"] == 60 * 60


def test_a_later_start_after_the_stored_resolution_is_400_and_changes_nothing(api: Bot) -> None:
    incident(api, key="inc-8", started_at="2026-11-24T09:00Z", resolved_at="2026-11-24T09:30Z")
    before = api.rows("incidents")
    reply = incident(api, key="inc-8", started_at="2026-11-24T10:00Z", title="Renamed")
    assert reply.status == 400, reply.body
    assert reply.json["field"] == "resolved_at"
    assert "2026-11-24T09:30:00Z" in reply.json["error"]
    assert api.rows("incidents") == before


def test_incident_defaults_and_cause_none(api: Bot) -> None:
    deploy(api, deployed_at="2026-11-24T09:00Z")
    reply = incident(api, cause="none")
    row = reply.json["incident"]
    assert (row["severity"], row["started_at"], row["cause"], row["deploy_id"]) == (
        3, "2026-11-24T12:00:00Z", "none", None,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"title": ""}, "title"), ({"severity": 5}, "severity"), ({"severity": True}, "severity"),
     ({"started_at": "2026-11-24T10:00Z", "resolved_at": "2026-11-24T09:00Z"}, "resolved_at"),
     ({"deploy_id": 404}, "deploy_id"), ({"cause": "maybe"}, "cause"),
     ({"deploy_id": 1, "cause": "none"}, "cause")],
)  # fmt: skip
def test_a_bad_incident_is_400_naming_the_field(
    api: Bot, fields: dict[str, Any], field: str
) -> None:
    reply = incident(api, **fields)
    assert reply.status == 400, reply.body
    assert reply.json["field"] == field
    assert counts(api) == (0, 0, 0)


def test_resolving_by_key_before_the_start_is_400(api: Bot) -> None:
    incident(api, key="pd-2", started_at="2026-11-24T10:00Z")
    reply = incident(api, key="pd-2", resolved_at="2026-11-24T09:00Z")
    assert reply.status == 400
    assert reply.json["field"] == "resolved_at"
    assert api.rows("incidents")[0]["resolved_at"] is None


# ---- the same history by /deploy and /incident ---------------------------------------------

SAME = ("service", "environment", "version", "sha", "repo", "status", "deployed_at",
        "is_hotfix", "url")  # fmt: skip
SAME_INCIDENT = ("service", "title", "severity", "started_at", "resolved_at", "cause")


def test_records_equal_the_same_history_entered_in_slack(
    tmp_path: Path, slack: FakeSlack, clock: FixedClock
) -> None:
    (tmp_path / "api").mkdir()
    (tmp_path / "slack").mkdir()
    with running_bot(tmp_path / "api", slack, clock, api_tokens=(TOKEN,)) as api:
        one = deploy(api, version="v1", deployed_at="2026-11-24T08:00Z", sha="abc1234",
                     repo="acme/checkout")  # fmt: skip
        deploy(api, version="v2", deployed_at="2026-11-24T09:00Z", hotfix=True)
        deploy(api, version="v3", deployed_at="2026-11-24T10:00Z", rollback_of=one.json["id"])
        incident(api, severity=2, started_at="2026-11-24T09:30Z")
        incident(api, key="i2", started_at="2026-11-24T10:30Z")
        incident(api, key="i2", resolved_at="2026-11-24T11:00Z")
        by_api = api.rows("deploys"), api.rows("incidents"), cli_report(api)
    with running_bot(tmp_path / "slack", slack, clock) as bot:
        for text in ("checkout v1 at=2026-11-24T08:00Z sha=abc1234 repo=acme/checkout",
                     "checkout v2 at=2026-11-24T09:00Z --hotfix",
                     "checkout v3 at=2026-11-24T10:00Z --rollback=1"):  # fmt: skip
            assert bot.command("/deploy", text).status == 200
        for text in ('checkout "500s on pay" sev=2 at=2026-11-24T09:30Z',
                     'checkout "500s on pay" sev=3 at=2026-11-24T10:30Z'):  # fmt: skip
            assert bot.command("/incident", f"open {text}").status == 200
        assert bot.command("/incident", "resolve 2 at=2026-11-24T11:00Z").status == 200
        assert bot.server.wait_idle(10)
        by_slack = bot.rows("deploys"), bot.rows("incidents"), cli_report(bot)
    deploys, incidents, report = by_api
    assert [{k: d[k] for k in (*SAME, "id", "rollback_of")} for d in deploys] == [
        {k: d[k] for k in (*SAME, "id", "rollback_of")} for d in by_slack[0]
    ]
    assert [{k: i[k] for k in (*SAME_INCIDENT, "deploy_id")} for i in incidents] == [
        {k: i[k] for k in (*SAME_INCIDENT, "deploy_id")} for i in by_slack[1]
    ]
    assert report == by_slack[2]
    assert {d["source"] for d in deploys} == {"api"}


def test_deploy_list_and_export_show_the_api_source(api: Bot) -> None:
    deploy(api, version="v9", key="run-1")
    shown = api.command("/deploy", "list")
    assert shown.status == 200
    assert "checkout v9" in shown.text and "success, api" in shown.text, shown.text
    exported = CliRunner().invoke(
        main, ["export", "deploys"], env={"SHIPSHAPE_DB": str(api.db_path)}
    )
    assert '"api","run-1"' in exported.output, exported.output


def test_a_pasted_title_keeps_its_words_on_one_line(api: Bot) -> None:
    reply = incident(api, title="Checkout\treturns\r\n500s ")
    assert reply.json["incident"]["title"] == "Checkout returns 500s"
