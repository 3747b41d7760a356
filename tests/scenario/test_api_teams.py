"""`GET /api/report?team=NAME` through the real app in process: the same JSON as
`shipshape report --team NAME --json`, and a 400 naming `team` for a team that is not
there. The clock is fixed at 2026-11-24T12:00:00Z (30d: [10-25T12:00Z, 11-24T12:00Z)).

Deploys through the API: checkout 11-10 and 11-20, api 11-18, web 11-19 (in no team),
checkout 11-03 to staging. payments = {api, checkout, ledger}: 3 deployments on 3 days,
3 / 30 x 7 = 0.7 a week."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bot.app.cli import main
from bot.core.clock import FixedClock
from tests.conftest import Bot, Reply
from tests.fakes.fake_slack import FakeSlack
from tests.scenario.conftest import running_bot

TOKEN = "tok-ci-1"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ENV = {"SHIPSHAPE_TIMEZONE": "Europe/Berlin", "SHIPSHAPE_NOW": "2026-11-24T12:00:00Z"}


def cli(bot: Bot, *args: str) -> Any:
    result = CliRunner().invoke(main, list(args), env={"SHIPSHAPE_DB": str(bot.db_path), **ENV})
    assert result.exit_code == 0, result.output
    return result


def deploy(bot: Bot, service: str, at: str, **fields: Any) -> None:
    body = json.dumps({"service": service, "deployed_at": at, **fields})
    assert bot.post("/api/deploys", body, AUTH, "application/json").status == 201


@pytest.fixture
def api(tmp_path: Path, slack: FakeSlack, clock: FixedClock) -> Iterator[Bot]:
    with running_bot(tmp_path, slack, clock, api_tokens=(TOKEN,)) as started:
        deploy(started, "checkout", "2026-11-10T10:00:00Z")
        deploy(started, "checkout", "2026-11-20T10:00:00Z")
        deploy(started, "api", "2026-11-18T10:00:00Z")
        deploy(started, "web", "2026-11-19T10:00:00Z")
        deploy(started, "checkout", "2026-11-03T10:00:00Z", environment="staging")
        cli(started, "team", "set", "payments", "checkout", "api", "ledger")
        cli(started, "team", "set", "platform", "web")
        yield started


def report(bot: Bot, query: str) -> Reply:
    return bot.get("/api/report?" + query, AUTH)


def test_a_team_report_is_the_clis(api: Bot) -> None:
    reply = report(api, "team=payments")
    assert reply.status == 200, reply.body
    data = reply.json
    assert (data["service"], data["team"], data["services"]) == (
        None,
        "payments",
        ["api", "checkout", "ledger"],
    )
    assert data["previous"]["team"] == "payments"
    assert data["deployment_frequency"] == {
        "count": 3,
        "per_week": pytest.approx(0.7),
        "deploy_days": 3,
        "band": "medium",
    }
    assert data == json.loads(cli(api, "report", "--team", "payments", "--json").output)


def test_a_team_report_takes_the_other_parameters(api: Bot) -> None:
    for query, args in [
        ("team=payments&window=7d", ["--window", "7d"]),
        ("team=payments&from=2026-11-01&to=2026-11-30&env=staging",
         ["--from", "2026-11-01", "--to", "2026-11-30", "--env", "staging"]),
    ]:  # fmt: skip
        reply = report(api, query)
        assert reply.status == 200, reply.body
        cli_json = cli(api, "report", "--team", "payments", *args, "--json").output
        assert reply.json == json.loads(cli_json)
    staging = report(api, "team=payments&env=staging").json
    assert staging["deployment_frequency"]["count"] == 1


def test_an_unknown_team_is_400_naming_it_and_the_known_teams(api: Bot) -> None:
    before = api.rows("deploys")
    reply = report(api, "team=payment")
    assert reply.status == 400
    assert reply.json == {
        "error": "There is no team payment. Teams: payments, platform.",
        "field": "team",
    }
    assert api.rows("deploys") == before


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ("team=payments&service=api", "Give service or team, not both"),
        ("team=a%20b", "team is 'a b'; send a team name"),
        ("team=", "team is ''; send a team name"),
        ("team=payments&team=platform", "team is given more than once"),
    ],
)
def test_a_bad_team_query_is_400_naming_team(api: Bot, query: str, said: str) -> None:
    reply = report(api, query)
    assert reply.status == 400, reply.body
    assert reply.json["field"] == "team"
    assert said in reply.json["error"]
