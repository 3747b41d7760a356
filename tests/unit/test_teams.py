"""Teams over a real SQLite file: the rules of bot/teams/rules.py, and reports over a team's
services worked out by hand (through Slack: tests/scenario/test_teams.py; the CLI:
tests/e2e/test_team_cli.py; the HTTP API: tests/scenario/test_api_teams.py).

The window is `from=2026-11-01 to=2026-11-30` in UTC, [2026-11-01T00:00Z, 2026-12-01T00:00Z),
30 days; the previous window is [2026-10-02T00:00Z, 2026-11-01T00:00Z).

Teams: payments = {api, checkout, ledger}; platform = {api, web}. api is in both.

  deploys (service env status at; notes)
  A1 api       prod        success 11-03 10:00  change lead 3600; incident I1
  A2 api       production  success 11-05 10:00  --hotfix; change lead 7200; incident I2 (web's)
  C1 checkout  production  success 11-10 08:00  change lead 86400; rolled back by C2
  C2 checkout  production  success 11-12 09:00  rollback_of C1
  C3 checkout  production  failed  11-13 09:00  a failed attempt
  L1 ledger    staging     success 11-14 10:00  not production: in no metric
  W1 web       production  success 11-15 10:00  incident I3
  S1 search    production  success 11-16 10:00  in no team; incident I4
  P1 api       production  success 10-20 10:00  previous window; change lead 600
  P2 ledger    production  success 10-21 10:00  previous window

  incidents (service, cause, started -> resolved, seconds)
  I1 api      A1    11-03 11:00 -> 13:00  7200
  I2 web      A2    11-05 12:00 -> 12:40  2400   a web incident caused by api's deploy
  I3 web      W1    11-15 11:00 -> 11:30  1800
  I4 search   S1    11-16 11:00 -> 12:00  3600
  I5 ledger   none  11-20 09:00 -> 10:00  3600
  I6 web      none  11-21 09:00 -> 09:20  1200

payments, this window: deployments A1 A2 C1 C2 = 4 on 4 days, 4/30 x 7 = 0.9333 a week,
4/30 = 0.133 a day (medium: under 1/7, at least 1/30). Lead times 3600, 7200, 86400: median
7200, p90 (7200 x 2 + 86400 x 8) / 10 = 70560, elite. Failed: A1 (I1), A2 (I2), C1 (rolled
back) = 3 of 4, low. Recovery: I1 7200, I2 2400 (linked to A2, a payments deploy, whatever
the incident's own service): median 4800, p90 (2400 + 7200 x 9) / 10 = 6720, high. Rework
A2 (hotfix), C2 (rollback) = 2 of 4. Time to restore over payments' own incidents I1 7200,
I5 3600: median 5400, p90 (3600 + 7200 x 9) / 10 = 6840. Failed attempts: C3.
Previous: P1 and P2, 2 deployments on 2 days, P1's change 600.

platform, this window: A1 A2 W1 = 3 deployments (api counts in payments too); failed A1 A2
W1 = 3; time to restore over api's and web's incidents I1 7200, I2 2400, I3 1800, I6 1200.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pendulum
import pytest

from bot.core.errors import Conflict, Invalid, Reason
from bot.core.windows import Window, between
from bot.metrics import report
from bot.metrics.stability import Outcome
from bot.summary import build as summary
from bot.teams import rules as teams
from bot.teams.rules import Scope, UnknownTeam
from storage import subscriptions
from storage import teams as team_store
from storage.db import Store
from storage.subscriptions import Subscription
from storage.teams import Team
from tests.fakes.records import change, deploy, incident
from tests.unit.test_summary import local, make_deps
from tests.unit.test_summary import write_history as write_summary_history

NOW = pendulum.datetime(2026, 12, 5, 12, 0, 0)
PRODUCTION = ("production", "prod")
PAYMENTS = ("api", "checkout", "ledger")
PLATFORM = ("api", "web")


def november() -> Window:
    return between("2026-11-01", "2026-11-30", NOW, "UTC")


def write_history(store: Store, name: dict[str, str] | None = None) -> None:
    """The history above; `name` renames services, to merge several into one by hand."""

    def s(service: str) -> str:
        return (name or {}).get(service, service)

    with store.write() as db:
        a1 = deploy(db, "2026-11-03T10:00:00Z", service=s("api"), environment="prod")
        change(db, a1, "2026-11-03T09:00:00Z")
        a2 = deploy(db, "2026-11-05T10:00:00Z", service=s("api"), hotfix=True)
        change(db, a2, "2026-11-05T08:00:00Z")
        c1 = deploy(db, "2026-11-10T08:00:00Z", service=s("checkout"))
        change(db, c1, "2026-11-09T08:00:00Z")
        deploy(db, "2026-11-12T09:00:00Z", service=s("checkout"), rollback_of=c1)
        deploy(db, "2026-11-13T09:00:00Z", service=s("checkout"), status="failed")
        deploy(db, "2026-11-14T10:00:00Z", service=s("ledger"), environment="staging")
        w1 = deploy(db, "2026-11-15T10:00:00Z", service=s("web"))
        s1 = deploy(db, "2026-11-16T10:00:00Z", service=s("search"))
        p1 = deploy(db, "2026-10-20T10:00:00Z", service=s("api"))
        change(db, p1, "2026-10-20T09:50:00Z")
        deploy(db, "2026-10-21T10:00:00Z", service=s("ledger"))
        incident(db, s("api"), "2026-11-03T11:00:00Z", "2026-11-03T13:00:00Z", deploy_id=a1)
        incident(db, s("web"), "2026-11-05T12:00:00Z", "2026-11-05T12:40:00Z", deploy_id=a2)
        incident(db, s("web"), "2026-11-15T11:00:00Z", "2026-11-15T11:30:00Z", deploy_id=w1)
        incident(db, s("search"), "2026-11-16T11:00:00Z", "2026-11-16T12:00:00Z", deploy_id=s1)
        incident(db, s("ledger"), "2026-11-20T09:00:00Z", "2026-11-20T10:00:00Z", cause="none")
        incident(db, s("web"), "2026-11-21T09:00:00Z", "2026-11-21T09:20:00Z", cause="none")


def open_store(path: Path) -> Store:
    store = Store(path)
    store.migrate()
    return store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    made = open_store(tmp_path / "teams.db")
    write_history(made)
    teams.set_team(made, "payments", PAYMENTS, NOW)
    teams.set_team(made, "platform", PLATFORM, NOW)
    yield made
    made.close()


def team_report(store: Store, name: str, window: Window | None = None) -> dict[str, Any]:
    return report.build(
        store.db,
        window or november(),
        environments=PRODUCTION,
        environment=None,
        service=None,
        tz="UTC",
        team=teams.find(store.db, name),
    ).to_json()


def metrics_only(found: dict[str, Any]) -> dict[str, Any]:
    """A report's JSON without what names its scope, both windows."""
    scope = {"service", "team", "services"}
    kept = {k: v for k, v in found.items() if k not in scope}
    kept["previous"] = {k: v for k, v in found["previous"].items() if k not in scope}
    return kept


# ---- reports over a team ---------------------------------------------------------------------


def test_a_team_report_by_hand(store: Store) -> None:
    assert team_report(store, "payments") == {
        "window": {"from": "2026-11-01T00:00:00Z", "to": "2026-12-01T00:00:00Z"},
        "service": None,
        "team": "payments",
        "services": ["api", "checkout", "ledger"],
        "environment": None,
        "deployment_frequency": {
            "count": 4,
            "per_week": pytest.approx(4 / 30 * 7),
            "deploy_days": 4,
            "band": "medium",
        },
        "lead_time": {
            "median_seconds": 7200.0,
            "p90_seconds": 70560.0,
            "changes": 3,
            "deployments_with_changes": 3,
            "band": "elite",
        },
        "change_failure_rate": {"failed": 3, "deployments": 4, "rate": 0.75, "band": "low"},
        "recovery_time": {
            "median_seconds": 4800.0,
            "p90_seconds": 6720.0,
            "incidents": 2,
            "band": "high",
        },
        "rework_rate": {"rework": 2, "deployments": 4, "rate": 0.5},
        "time_to_restore": {"median_seconds": 5400.0, "p90_seconds": 6840.0, "incidents": 2},
        "failed_attempts": 1,
        "previous": {
            "window": {"from": "2026-10-02T00:00:00Z", "to": "2026-11-01T00:00:00Z"},
            "service": None,
            "team": "payments",
            "services": ["api", "checkout", "ledger"],
            "environment": None,
            "deployment_frequency": {
                "count": 2,
                "per_week": pytest.approx(2 / 30 * 7),
                "deploy_days": 2,
                "band": "medium",
            },
            "lead_time": {
                "median_seconds": 600.0,
                "p90_seconds": 600.0,
                "changes": 1,
                "deployments_with_changes": 1,
                "band": "elite",
            },
            "change_failure_rate": {"failed": 0, "deployments": 2, "rate": 0.0, "band": "elite"},
            "recovery_time": None,
            "rework_rate": {"rework": 0, "deployments": 2, "rate": 0.0},
            "time_to_restore": None,
            "failed_attempts": 0,
        },
    }


def test_a_service_in_two_teams_counts_in_both(store: Store) -> None:
    payments, platform = team_report(store, "payments"), team_report(store, "platform")
    assert platform["services"] == ["api", "web"]
    # A1 and A2 are api's: in payments' 4 deployments and in platform's 3.
    assert payments["deployment_frequency"]["count"] == 4
    assert platform["deployment_frequency"]["count"] == 3
    assert platform["change_failure_rate"] == {
        "failed": 3,
        "deployments": 3,
        "rate": 1.0,
        "band": "low",
    }
    assert platform["time_to_restore"] == {
        "median_seconds": 2100.0,  # (2400 + 1800) / 2 of 1200, 1800, 2400, 7200
        "p90_seconds": 5760.0,  # m = 3: j = 2, delta = 7: (2400 x 3 + 7200 x 7) / 10
        "incidents": 4,
    }
    assert platform["previous"]["deployment_frequency"]["count"] == 1  # P1


def test_a_team_report_equals_its_services_merged_by_hand(store: Store, tmp_path: Path) -> None:
    merged = open_store(tmp_path / "merged.db")
    try:
        write_history(merged, {s: "payments-all" for s in PAYMENTS})
        by_hand = report.build(
            merged.db,
            november(),
            environments=PRODUCTION,
            environment=None,
            service="payments-all",
            tz="UTC",
        ).to_json()
    finally:
        merged.close()
    team = team_report(store, "payments")
    assert metrics_only(team) == metrics_only(by_hand)
    assert by_hand["deployment_frequency"]["count"] == 4  # a comparison of something


def test_a_team_whose_services_never_deployed_reports_zero_and_nulls(store: Store) -> None:
    set_up = teams.set_team(store, "future", ("billing", "invoices"), NOW)
    assert set_up.unrecorded == ("billing", "invoices")
    found = team_report(store, "future")
    for window in (found, found["previous"]):
        assert window["deployment_frequency"] == {
            "count": 0,
            "per_week": 0.0,
            "deploy_days": 0,
            "band": "low",
        }
        for metric in ("lead_time", "change_failure_rate", "recovery_time", "rework_rate"):
            assert window[metric] is None
        assert window["time_to_restore"] is None
        assert window["failed_attempts"] == 0


def test_a_report_without_a_team_keeps_its_keys(store: Store) -> None:
    plain = report.build(
        store.db, november(), environments=PRODUCTION, environment=None, service="api", tz="UTC"
    ).to_json()
    assert "team" not in plain and "services" not in plain
    assert "team" not in plain["previous"]


def test_the_title_names_the_team_and_its_services(store: Store) -> None:
    from bot.metrics.words import report_title

    title = report_title(None, None, teams.find(store.db, "payments"))
    assert title == "Delivery health of the payments team: api, checkout, ledger; production"
    many = Team("big", tuple(f"service-number-{n:02d}" for n in range(40)))
    long_title = report_title(None, "staging", many)
    assert len(long_title) <= 150  # a Slack header's limit
    assert "service-number-00" in long_title and "more" in long_title


# ---- the rules -------------------------------------------------------------------------------


def test_set_replaces_the_services_and_keeps_them_sorted_once(store: Store) -> None:
    later = NOW.add(hours=1)
    done = teams.set_team(store, "payments", ["ledger", "api", "ledger"], later)
    assert done.before == Team("payments", PAYMENTS)
    assert done.team == Team("payments", ("api", "ledger"))
    assert done.unrecorded == ()
    assert teams.find(store.db, "payments") == Team("payments", ("api", "ledger"))
    row = store.db.conn.execute("SELECT * FROM teams WHERE name = 'payments'").fetchone()
    assert (row["created_at"], row["updated_at"]) == (
        "2026-12-05T12:00:00Z",
        "2026-12-05T13:00:00Z",
    )
    assert [t.name for t in teams.every(store.db)] == ["payments", "platform"]


def test_an_unrecorded_service_is_kept_and_named(store: Store) -> None:
    done = teams.set_team(store, "payments", ["api", "ledgr"], NOW)
    assert done.team.services == ("api", "ledgr")
    assert done.unrecorded == ("ledgr",)


@pytest.mark.parametrize(
    ("name", "services", "field", "reason"),
    [
        ("pay ments", ["api"], "team", Reason.BAD_NAME),
        ("-payments", ["api"], "team", Reason.BAD_NAME),
        ("payments", ["api", "bad service"], "service", Reason.BAD_NAME),
        ("payments", [], "services", Reason.NO_SERVICES),
    ],
)
def test_bad_names_store_nothing(
    store: Store, name: str, services: list[str], field: str, reason: Reason
) -> None:
    before = teams.every(store.db)
    with pytest.raises(Invalid) as error:
        teams.set_team(store, name, services, NOW)
    assert (error.value.field, error.value.reason) == (field, reason)
    assert teams.every(store.db) == before


def test_an_unknown_team_names_the_known_ones(store: Store) -> None:
    with pytest.raises(UnknownTeam) as error:
        teams.find(store.db, "payment")
    assert (error.value.name, error.value.known) == ("payment", ("payments", "platform"))
    with pytest.raises(UnknownTeam):
        teams.remove_team(store, "payment")


def test_remove_takes_the_services_with_it(store: Store) -> None:
    assert teams.remove_team(store, "platform") == Team("platform", PLATFORM)
    assert [t.name for t in teams.every(store.db)] == ["payments"]
    rows = store.db.conn.execute("SELECT team FROM team_services WHERE team = 'platform'")
    assert rows.fetchall() == []


def test_a_team_in_use_is_not_removed(store: Store) -> None:
    teams.set_scope(store, "C0PAY001", Scope("team", "payments"), "U0ADMIN1", NOW)
    with store.write() as db:
        subscriptions.save(
            db,
            Subscription("C0SUM001", "mon", "09:00", "UTC", None, 1, None, "U0ADMIN1",
                         "2026-12-01T00:00:00Z", "2026-12-01T00:00:00Z", team="payments"),
        )  # fmt: skip
    with pytest.raises(Conflict) as error:
        teams.remove_team(store, "payments")
    assert error.value.reason == Reason.TEAM_IN_USE
    assert error.value.record == teams.InUse("payments", ("C0PAY001",), ("C0SUM001",))
    assert teams.find(store.db, "payments").services == PAYMENTS


def test_scopes_are_per_channel(store: Store) -> None:
    assert teams.channel_scope(store.db, "C0PAY001") == teams.ALL
    before = teams.set_scope(store, "C0PAY001", Scope("team", "payments"), "U0ADMIN1", NOW)
    assert before == teams.ALL
    teams.set_scope(store, "C0API001", Scope("service", "api"), "U0ADMIN1", NOW)
    assert teams.channel_scope(store.db, "C0PAY001") == Scope("team", "payments")
    assert teams.channel_scope(store.db, "C0API001") == Scope("service", "api")
    assert teams.channel_scope(store.db, "C0OTHER1") == teams.ALL
    again = teams.set_scope(store, "C0PAY001", teams.ALL, "U0ADMIN1", NOW)
    assert again == Scope("team", "payments")
    assert team_store.scope(store.db, "C0PAY001") is None
    assert teams.channel_scope(store.db, "C0API001") == Scope("service", "api")


def test_a_scope_for_an_unknown_team_stores_nothing(store: Store) -> None:
    with pytest.raises(UnknownTeam):
        teams.set_scope(store, "C0PAY001", Scope("team", "nope"), "U0ADMIN1", NOW)
    assert team_store.scope(store.db, "C0PAY001") is None


# ---- a team's weekly summary -----------------------------------------------------------------


def test_a_teams_summary_looks_only_at_its_services(tmp_path: Path) -> None:
    """tests/unit/test_summary.py's history (api and payments, both failing more in the
    recent 4 weeks; 12 open incidents, payments' and web's in turn) plus search, whose
    failure rate rises most: 2 deployments a week in W36..W43, none failed, then 3 a week
    in W44..W47, 2 of them failed."""
    deps = make_deps(tmp_path / "summary.db")
    try:
        write_summary_history(deps.store)
        with deps.store.write() as db:
            for week in range(36, 48):
                for n in range(2 if week < 44 else 3):
                    at = local(2026, week, 3, 8 + n)
                    shipped = deploy(db, at, service="search")
                    if week >= 44 and n < 2:
                        incident(db, "search", local(2026, week, 3, 12 + n), None,
                                 deploy_id=shipped)  # fmt: skip
        everyone = summary.build(deps, 2026, 47)
        assert [s.service for s in everyone.check.services] == ["search", "payments", "api"]
        team = Team("money", ("api", "payments"))
        built = summary.build(deps, 2026, 47, team=team)
        assert built.title == "Weekly summary 2026-W47: money team: api, payments"
        # api 20 + payments 18 recent deployments, 2 + 6 failed: the team's check alone.
        assert (built.check.recent_deployments, built.check.recent_failed) == (38, 8)
        assert built.check.outcome is Outcome.FLAG
        assert [s.service for s in built.check.services] == ["payments", "api"]
        assert built.trend.deployments[-4:] == [9, 10, 9, 10]  # api 5 + payments 4, 5, 4, 5
        # Open incidents: payments' 6 of the 12 (web's are not the team's), none of search's.
        assert built.open_total == 6
        assert {i.service for i in built.open_incidents} == {"payments"}
        assert built.metrics.team == team
    finally:
        deps.store.close()
