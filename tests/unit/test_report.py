"""bot.metrics.report.build over a real SQLite file: the `report --json` dict, numbers worked
out by hand.

The team zone is Europe/Berlin: UTC+2 (CEST) until 2026-10-25 03:00 local, UTC+1 (CET) after;
UTC+1 before 2026-03-29 02:00 local, UTC+2 after. p90 is
`statistics.quantiles(values, n=10, method="inclusive")[8]`: for sorted x[0..n-1], m = n - 1,
(j, delta) = divmod(9 * m, 10), p90 = (x[j] * (10 - delta) + x[j+1] * delta) / 10.

The main scenario: the window is `from=2026-11-01 to=2026-11-30` in Berlin,
[2026-10-31T23:00Z, 2026-11-30T23:00Z), 30 days; the previous window is the 30 x 24 h before,
[2026-10-01T23:00Z, 2026-10-31T23:00Z).

  deploys (id: service env status at; notes)
  D1  api production success 2026-10-31T23:00:00Z  exactly `from` (counted) and exactly the
      previous window's `to` (not counted there); changes: lead 7200, lead -1800 (dropped)
  D2  api prod       success 2026-11-03T10:00Z  `prod` counts; incidents I1, I9; changes:
      lead 86400, authored_at NULL (ignored)
  D3  api production failed  2026-11-04T09:00Z  a failed attempt
  D4  api production success 2026-11-05T12:00Z  --hotfix
  D5  web production success 2026-11-10T08:00Z  change lead 3600; a failed rollback names it
  D6  web production success 2026-11-12T08:00Z  rolled back by D7; change lead -600 (dropped)
  D7  web production success 2026-11-12T09:00Z  rollback_of D6
  D8  web production failed  2026-11-13T09:00Z  rollback_of D5, a failed attempt
  D9  api staging    success 2026-11-14T10:00Z  incident I2; change lead 600
  D10 api production success 2026-11-20T10:00Z  incident I3, which starts after the window
  D11 api production success 2026-11-30T23:00:00Z  exactly `to`: not counted; change lead 60
  D12 api production success 2026-10-20T10:00Z  previous window; incident I6; change lead 86400
  D13 api production failed  2026-10-21T10:00Z  previous window, a failed attempt
  a change of acme/api with no deploy (not shipped): ignored

  incidents (service, cause, started -> resolved, seconds)
  I0  api unknown       2026-10-05T08:00Z -> 08:45Z  2700   before any deploy; previous window
  I1  api deploy D2     2026-11-03T11:00Z -> 13:00Z  7200
  I2  api deploy D9     2026-11-14T11:00Z -> 11:30Z  1800   linked to a staging deploy
  I3  api deploy D10    2026-12-02T10:00Z -> 12:00Z  7200   resolved after the window
  I4  api unknown       2026-11-06T09:00Z -> 10:00Z  3600
  I5  web none          2026-11-15T09:00Z -> 09:20Z  1200   deploy=none
  I6  api deploy D12    2026-10-30T10:00Z -> 14:00Z  14400  resolved in the previous window
  I9  web deploy D2     2026-11-03T12:00Z -> 12:40Z  2400   a web incident caused by api's D2
  I10 api unknown       2026-11-28T09:00Z -> open           never resolved
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pendulum
import pytest

from bot.core.weeks import iso_week
from bot.core.windows import Window, between
from bot.metrics import report
from storage.db import Store
from tests.fakes.records import change, deploy, incident

BERLIN = "Europe/Berlin"
PRODUCTION = ("production", "prod")
NOW = pendulum.datetime(2026, 12, 5, 12, 0, 0)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store(tmp_path / "report.db")
    store.migrate()
    return store


def build(
    store: Store,
    window: Window,
    *,
    service: str | None = None,
    environment: str | None = None,
) -> dict[str, Any]:
    environments = (environment,) if environment else PRODUCTION
    result = report.build(
        store.db,
        window,
        environments=environments,
        environment=environment,
        service=service,
        tz=BERLIN,
    ).to_json()
    # What `report --json` prints must survive JSON unchanged.
    assert json.loads(json.dumps(result)) == result
    return result


def november() -> Window:
    return between("2026-11-01", "2026-11-30", NOW, BERLIN)


@dataclass(frozen=True)
class Ids:
    d2: int
    d5: int
    d6: int


@pytest.fixture
def scenario(store: Store) -> Ids:
    with store.write() as db:
        d12 = deploy(db, "2026-10-20T10:00:00Z")
        change(db, d12, "2026-10-19T10:00:00Z")  # 86400
        deploy(db, "2026-10-21T10:00:00Z", status="failed")  # D13
        incident(db, "api", "2026-10-05T08:00:00Z", "2026-10-05T08:45:00Z")  # I0: 2700
        incident(db, "api", "2026-10-30T10:00:00Z", "2026-10-30T14:00:00Z", deploy_id=d12)  # I6

        d1 = deploy(db, "2026-10-31T23:00:00Z")
        change(db, d1, "2026-10-31T21:00:00Z")  # 7200
        change(db, d1, "2026-10-31T23:30:00Z")  # -1800: dropped
        d2 = deploy(db, "2026-11-03T10:00:00Z", environment="prod")
        change(db, d2, "2026-11-02T10:00:00Z")  # 86400
        change(db, d2, None)  # authored_at unknown: ignored
        deploy(db, "2026-11-04T09:00:00Z", status="failed")  # D3
        deploy(db, "2026-11-05T12:00:00Z", hotfix=True)  # D4
        d5 = deploy(db, "2026-11-10T08:00:00Z", service="web")
        change(db, d5, "2026-11-10T07:00:00Z", repo="acme/web")  # 3600
        d6 = deploy(db, "2026-11-12T08:00:00Z", service="web")
        change(db, d6, "2026-11-12T08:10:00Z", repo="acme/web")  # -600: dropped
        deploy(db, "2026-11-12T09:00:00Z", service="web", rollback_of=d6)  # D7
        deploy(db, "2026-11-13T09:00:00Z", service="web", status="failed", rollback_of=d5)  # D8
        d9 = deploy(db, "2026-11-14T10:00:00Z", environment="staging")
        change(db, d9, "2026-11-14T09:50:00Z")  # 600, staging only
        d10 = deploy(db, "2026-11-20T10:00:00Z")
        d11 = deploy(db, "2026-11-30T23:00:00Z")
        change(db, d11, "2026-11-30T22:59:00Z")  # 60, but D11 is outside the window
        change(db, None, "2026-11-01T10:00:00Z")  # not shipped

        incident(db, "api", "2026-11-03T11:00:00Z", "2026-11-03T13:00:00Z", deploy_id=d2)  # I1
        incident(db, "api", "2026-11-14T11:00:00Z", "2026-11-14T11:30:00Z", deploy_id=d9)  # I2
        incident(db, "api", "2026-12-02T10:00:00Z", "2026-12-02T12:00:00Z", deploy_id=d10)  # I3
        incident(db, "api", "2026-11-06T09:00:00Z", "2026-11-06T10:00:00Z")  # I4
        incident(db, "web", "2026-11-15T09:00:00Z", "2026-11-15T09:20:00Z", cause="none")  # I5
        incident(db, "web", "2026-11-03T12:00:00Z", "2026-11-03T12:40:00Z", deploy_id=d2)  # I9
        incident(db, "api", "2026-11-28T09:00:00Z", None)  # I10, open
    return Ids(d2=d2, d5=d5, d6=d6)


NOVEMBER = {"from": "2026-10-31T23:00:00Z", "to": "2026-11-30T23:00:00Z"}
OCTOBER = {"from": "2026-10-01T23:00:00Z", "to": "2026-10-31T23:00:00Z"}

# The previous window of the main scenario, all services, production:
# deployments: D12 only (D1 is exactly at its `to`); D13 a failed attempt.
PREVIOUS_ALL: dict[str, Any] = {
    # 1 in 30 days: per_week = 1 / 30 * 7 = 0.2333; d = 1/30 exactly: medium.
    "deployment_frequency": {
        "count": 1,
        "per_week": pytest.approx(7 / 30),
        "deploy_days": 1,
        "band": "medium",
    },
    # D12: 86400 s = exactly 1 day: high.
    "lead_time": {
        "median_seconds": 86_400.0,
        "p90_seconds": 86_400.0,
        "changes": 1,
        "deployments_with_changes": 1,
        "band": "high",
    },
    # D12 linked to I6: 1 of 1.
    "change_failure_rate": {"failed": 1, "deployments": 1, "rate": 1.0, "band": "low"},
    # I6: 14400 s = 4 h: high.
    "recovery_time": {
        "median_seconds": 14_400.0,
        "p90_seconds": 14_400.0,
        "incidents": 1,
        "band": "high",
    },
    "rework_rate": {"rework": 0, "deployments": 1, "rate": 0.0},
    # I0 (before any deploy, unlinked) 2700 and I6 14400: median (2700 + 14400) / 2 = 8550;
    # p90: m = 1, (0, 9): (2700 + 14400 * 9) / 10 = (2700 + 129600) / 10 = 13230.
    "time_to_restore": {"median_seconds": 8_550.0, "p90_seconds": 13_230.0, "incidents": 2},
    "failed_attempts": 1,
}

EMPTY: dict[str, Any] = {
    "deployment_frequency": {"count": 0, "per_week": 0.0, "deploy_days": 0, "band": "low"},
    "lead_time": None,
    "change_failure_rate": None,
    "recovery_time": None,
    "rework_rate": None,
    "time_to_restore": None,
    "failed_attempts": 0,
}


def test_all_services_in_production(store: Store, scenario: Ids) -> None:
    assert build(store, november()) == {
        "window": NOVEMBER,
        "service": None,
        "environment": None,
        # D1, D2 (prod), D4, D5, D6, D7, D10 = 7. Not: D3, D8 (failed), D9 (staging),
        # D11 (at `to`). per_week = 7 / 30 * 7 = 49/30 = 1.633; d = 7/30 = 0.233 >= 1/7: high.
        # Berlin days: 1 Nov (D1 is 00:00 CET), 3, 5, 10, 12 (D6 and D7), 20 = 6.
        "deployment_frequency": {
            "count": 7,
            "per_week": pytest.approx(49 / 30),
            "deploy_days": 6,
            "band": "high",
        },
        # kept: D1 7200, D2 86400, D5 3600 (D1's -1800 and D6's -600 dropped, D2's NULL
        # ignored, D9 staging, D11 outside). Sorted [3600, 7200, 86400]: median 7200;
        # p90: m = 2, (1, 8): (7200 * 2 + 86400 * 8) / 10 = (14400 + 691200) / 10 = 70560.
        # D6 had only a negative lead: 3 deployments with changes, not 4.
        "lead_time": {
            "median_seconds": 7_200.0,
            "p90_seconds": 70_560.0,
            "changes": 3,
            "deployments_with_changes": 3,
            "band": "elite",
        },
        # failed: D2 (I1, I9), D6 (rolled back by D7), D10 (I3, though it starts after the
        # window). D5 is not: D8 rolled it back but failed. 3 of 7 = 42.9%: low.
        "change_failure_rate": {"failed": 3, "deployments": 7, "rate": 3 / 7, "band": "low"},
        # linked to a production deploy and resolved in the window: I1 7200, I9 2400.
        # Not I2 (staging deploy), I3 (resolved in December), I6 (in October), I10 (open).
        # median (2400 + 7200) / 2 = 4800: high; p90: m = 1, (0, 9):
        # (2400 + 7200 * 9) / 10 = (2400 + 64800) / 10 = 6720.
        "recovery_time": {
            "median_seconds": 4_800.0,
            "p90_seconds": 6_720.0,
            "incidents": 2,
            "band": "high",
        },
        # D4 hotfix, D7 rollback: 2 of 7. D8 is a rollback but a failed attempt.
        "rework_rate": {"rework": 2, "deployments": 7, "rate": 2 / 7},
        # every incident resolved in the window: I1 7200, I2 1800, I4 3600, I5 1200, I9 2400.
        # sorted [1200, 1800, 2400, 3600, 7200]: median 2400; p90: m = 4, (3, 6):
        # (3600 * 4 + 7200 * 6) / 10 = (14400 + 43200) / 10 = 5760.
        "time_to_restore": {"median_seconds": 2_400.0, "p90_seconds": 5_760.0, "incidents": 5},
        # D3 and D8
        "failed_attempts": 2,
        "previous": {"window": OCTOBER, "service": None, "environment": None, **PREVIOUS_ALL},
    }


def test_service_api(store: Store, scenario: Ids) -> None:
    assert build(store, november(), service="api") == {
        "window": NOVEMBER,
        "service": "api",
        "environment": None,
        # D1, D2, D4, D10 = 4; per_week = 4 / 30 * 7 = 28/30 = 0.933; d = 4/30 = 0.133 < 1/7:
        # medium. Days: 1, 3, 5, 20 Nov.
        "deployment_frequency": {
            "count": 4,
            "per_week": pytest.approx(28 / 30),
            "deploy_days": 4,
            "band": "medium",
        },
        # [7200, 86400]: median 46800; p90: m = 1, (0, 9): (7200 + 86400 * 9) / 10 = 78480.
        "lead_time": {
            "median_seconds": 46_800.0,
            "p90_seconds": 78_480.0,
            "changes": 2,
            "deployments_with_changes": 2,
            "band": "elite",
        },
        # D2 and D10 of 4.
        "change_failure_rate": {"failed": 2, "deployments": 4, "rate": 0.5, "band": "low"},
        # by the linked deploy's service: I1 and I9 (a web incident, caused by api's D2).
        "recovery_time": {
            "median_seconds": 4_800.0,
            "p90_seconds": 6_720.0,
            "incidents": 2,
            "band": "high",
        },
        # D4: 1 of 4.
        "rework_rate": {"rework": 1, "deployments": 4, "rate": 0.25},
        # by the incident's service: I1 7200, I2 1800, I4 3600 (not I5, I9: web).
        # sorted [1800, 3600, 7200]: median 3600; p90: m = 2, (1, 8):
        # (3600 * 2 + 7200 * 8) / 10 = (7200 + 57600) / 10 = 6480.
        "time_to_restore": {"median_seconds": 3_600.0, "p90_seconds": 6_480.0, "incidents": 3},
        "failed_attempts": 1,  # D3
        # all of the previous window is api
        "previous": {"window": OCTOBER, "service": "api", "environment": None, **PREVIOUS_ALL},
    }


def test_service_web(store: Store, scenario: Ids) -> None:
    assert build(store, november(), service="web") == {
        "window": NOVEMBER,
        "service": "web",
        "environment": None,
        # D5, D6, D7 = 3; per_week = 3 / 30 * 7 = 0.7; d = 0.1: medium. Days: 10, 12 Nov.
        "deployment_frequency": {
            "count": 3,
            "per_week": pytest.approx(0.7),
            "deploy_days": 2,
            "band": "medium",
        },
        # D5 3600; D6 -600 dropped.
        "lead_time": {
            "median_seconds": 3_600.0,
            "p90_seconds": 3_600.0,
            "changes": 1,
            "deployments_with_changes": 1,
            "band": "elite",
        },
        # D6 (rolled back by D7); D5 named only by the failed attempt D8: 1 of 3.
        "change_failure_rate": {"failed": 1, "deployments": 3, "rate": 1 / 3, "band": "low"},
        # no incident linked to a web deploy (I9 is web's, but caused by api's D2)
        "recovery_time": None,
        "rework_rate": {"rework": 1, "deployments": 3, "rate": 1 / 3},
        # I5 1200 (deploy=none) and I9 2400: median 1800; p90: m = 1, (0, 9):
        # (1200 + 2400 * 9) / 10 = (1200 + 21600) / 10 = 2280.
        "time_to_restore": {"median_seconds": 1_800.0, "p90_seconds": 2_280.0, "incidents": 2},
        "failed_attempts": 1,  # D8
        "previous": {"window": OCTOBER, "service": "web", "environment": None, **EMPTY},
    }


def test_environment_override_counts_that_environment_only(store: Store, scenario: Ids) -> None:
    assert build(store, november(), environment="staging") == {
        "window": NOVEMBER,
        "service": None,
        "environment": "staging",
        # D9 only: per_week = 1 / 30 * 7; d = 1/30: medium.
        "deployment_frequency": {
            "count": 1,
            "per_week": pytest.approx(7 / 30),
            "deploy_days": 1,
            "band": "medium",
        },
        "lead_time": {
            "median_seconds": 600.0,
            "p90_seconds": 600.0,
            "changes": 1,
            "deployments_with_changes": 1,
            "band": "elite",
        },
        # D9 linked to I2
        "change_failure_rate": {"failed": 1, "deployments": 1, "rate": 1.0, "band": "low"},
        # I2: 1800 s < 1 h: elite
        "recovery_time": {
            "median_seconds": 1_800.0,
            "p90_seconds": 1_800.0,
            "incidents": 1,
            "band": "elite",
        },
        "rework_rate": {"rework": 0, "deployments": 1, "rate": 0.0},
        # every incident resolved in the window, as for production
        "time_to_restore": {"median_seconds": 2_400.0, "p90_seconds": 5_760.0, "incidents": 5},
        "failed_attempts": 0,
        "previous": {
            "window": OCTOBER,
            "service": None,
            "environment": "staging",
            **EMPTY,
            "time_to_restore": {
                "median_seconds": 8_550.0,
                "p90_seconds": 13_230.0,
                "incidents": 2,
            },
        },
    }


def test_environment_prod_alone(store: Store, scenario: Ids) -> None:
    got = build(store, november(), environment="prod")
    # D2 only
    assert got["deployment_frequency"]["count"] == 1
    assert got["change_failure_rate"] == {
        "failed": 1,
        "deployments": 1,
        "rate": 1.0,
        "band": "low",
    }
    assert got["failed_attempts"] == 0
    assert got["recovery_time"]["incidents"] == 2  # I1, I9


def test_empty_database(store: Store) -> None:
    assert build(store, november()) == {
        "window": NOVEMBER,
        "service": None,
        "environment": None,
        **EMPTY,
        "previous": {"window": OCTOBER, "service": None, "environment": None, **EMPTY},
    }


def test_report_has_the_spec_keys(store: Store, scenario: Ids) -> None:
    got = build(store, november())
    metric_keys = [
        "deployment_frequency",
        "lead_time",
        "change_failure_rate",
        "recovery_time",
        "rework_rate",
        "time_to_restore",
        "failed_attempts",
    ]
    assert set(got) == {"window", "service", "environment", "previous", *metric_keys}
    assert set(got["previous"]) == {"window", "service", "environment", *metric_keys}
    assert set(got["deployment_frequency"]) == {"count", "per_week", "deploy_days", "band"}
    assert set(got["lead_time"]) == {
        "median_seconds",
        "p90_seconds",
        "changes",
        "deployments_with_changes",
        "band",
    }
    assert set(got["change_failure_rate"]) == {"failed", "deployments", "rate", "band"}
    assert set(got["recovery_time"]) == {"median_seconds", "p90_seconds", "incidents", "band"}
    assert set(got["rework_rate"]) == {"rework", "deployments", "rate"}
    assert set(got["time_to_restore"]) == {"median_seconds", "p90_seconds", "incidents"}


# ---- focused cases -----------------------------------------------------------------------


def test_rollback_after_the_window_still_fails_the_deployment(store: Store) -> None:
    with store.write() as db:
        d = deploy(db, "2026-11-29T10:00:00Z")
        deploy(db, "2026-12-01T10:00:00Z", rollback_of=d)  # next window
    got = build(store, november())
    assert got["change_failure_rate"] == {
        "failed": 1,
        "deployments": 1,
        "rate": 1.0,
        "band": "low",
    }
    assert got["rework_rate"] == {"rework": 0, "deployments": 1, "rate": 0.0}


def test_failed_rollback_attempt_does_not_fail_the_deployment(store: Store) -> None:
    with store.write() as db:
        d = deploy(db, "2026-11-10T10:00:00Z")
        deploy(db, "2026-11-10T11:00:00Z", status="failed", rollback_of=d)
    got = build(store, november())
    assert got["change_failure_rate"] == {
        "failed": 0,
        "deployments": 1,
        "rate": 0.0,
        "band": "elite",
    }
    assert got["rework_rate"] == {"rework": 0, "deployments": 1, "rate": 0.0}
    assert got["failed_attempts"] == 1


def test_hotfix_rollback_counted_once_as_rework(store: Store) -> None:
    with store.write() as db:
        d = deploy(db, "2026-11-10T10:00:00Z")
        deploy(db, "2026-11-10T11:00:00Z", hotfix=True, rollback_of=d)
        deploy(db, "2026-11-11T11:00:00Z", hotfix=True)
        deploy(db, "2026-11-12T11:00:00Z")
    got = build(store, november())
    # rework: the hotfix rollback (once) and the hotfix: 2 of 4.
    assert got["rework_rate"] == {"rework": 2, "deployments": 4, "rate": 0.5}
    # the first deploy was rolled back: 1 of 4 = 25%.
    assert got["change_failure_rate"] == {
        "failed": 1,
        "deployments": 4,
        "rate": 0.25,
        "band": "low",
    }


def test_incident_before_any_deploy_counts_only_in_time_to_restore(store: Store) -> None:
    with store.write() as db:
        incident(db, "api", "2026-11-02T08:00:00Z", "2026-11-02T08:30:00Z")  # cause unknown
        incident(db, "api", "2026-11-03T08:00:00Z", "2026-11-03T09:30:00Z", cause="none")
        deploy(db, "2026-11-05T10:00:00Z")
    got = build(store, november())
    assert got["change_failure_rate"] == {
        "failed": 0,
        "deployments": 1,
        "rate": 0.0,
        "band": "elite",
    }
    assert got["recovery_time"] is None
    # [1800, 5400]: median 3600; p90: m = 1, (0, 9): (1800 + 5400 * 9) / 10 = 5040.
    assert got["time_to_restore"] == {
        "median_seconds": 3_600.0,
        "p90_seconds": 5_040.0,
        "incidents": 2,
    }


def test_incidents_resolved_outside_the_window_are_not_counted(store: Store) -> None:
    with store.write() as db:
        d = deploy(db, "2026-11-05T10:00:00Z")
        incident(db, "api", "2026-10-30T10:00:00Z", "2026-10-31T22:59:59Z", deploy_id=d)
        incident(db, "api", "2026-11-30T22:00:00Z", "2026-11-30T23:00:00Z", deploy_id=d)  # at to
        incident(db, "api", "2026-10-31T22:00:00Z", "2026-10-31T23:00:00Z")  # at from: counted
    got = build(store, november())
    assert got["recovery_time"] is None
    assert got["time_to_restore"] == {
        "median_seconds": 3_600.0,
        "p90_seconds": 3_600.0,
        "incidents": 1,
    }
    assert got["change_failure_rate"]["failed"] == 1


def test_recovery_counts_an_incident_of_an_earlier_deploy_resolved_in_the_window(
    store: Store,
) -> None:
    with store.write() as db:
        d = deploy(db, "2026-10-28T10:00:00Z")  # previous window
        incident(db, "api", "2026-10-31T20:00:00Z", "2026-11-01T20:00:00Z", deploy_id=d)
    got = build(store, november())
    assert got["deployment_frequency"]["count"] == 0
    assert got["change_failure_rate"] is None
    assert got["recovery_time"] == {
        "median_seconds": 86_400.0,
        "p90_seconds": 86_400.0,
        "incidents": 1,
        "band": "medium",  # exactly 1 day
    }
    assert got["previous"]["change_failure_rate"] == {
        "failed": 1,
        "deployments": 1,
        "rate": 1.0,
        "band": "low",
    }
    assert got["previous"]["recovery_time"] is None


def test_negative_lead_time_only_deployment_gives_null_lead_time(store: Store) -> None:
    with store.write() as db:
        d = deploy(db, "2026-11-05T10:00:00Z")
        change(db, d, "2026-11-05T10:00:01Z")  # -1
        change(db, d, None)
    got = build(store, november())
    assert got["lead_time"] is None
    assert got["deployment_frequency"]["count"] == 1


def test_window_to_is_exclusive_and_from_inclusive(store: Store) -> None:
    window = between("2026-10-01", "2026-10-30", NOW, BERLIN)
    with store.write() as db:
        deploy(db, "2026-09-30T21:59:59Z")  # 30 Sep 23:59:59 CEST: before
        deploy(db, "2026-09-30T22:00:00Z")  # 1 Oct 00:00 CEST = from: counted
        deploy(db, "2026-10-30T22:59:59Z")  # 30 Oct 23:59:59 CET: counted
        deploy(db, "2026-10-30T23:00:00Z")  # 31 Oct 00:00 CET = to: not counted
    got = build(store, window)
    # a whole-day window ending on the 30th ends at midnight starting the 31st (CET)
    assert got["window"] == {"from": "2026-09-30T22:00:00Z", "to": "2026-10-30T23:00:00Z"}
    # 1 Oct to 30 Oct: 30 days, 30 x 24 h + 1 h (25 Oct). Previous: the same length before.
    assert got["previous"]["window"] == {
        "from": "2026-08-31T21:00:00Z",
        "to": "2026-09-30T22:00:00Z",
    }
    # 2 in 30 days: per_week = 2 / 30 * 7 = 0.4667; d = 1/15 >= 1/30: medium
    assert got["deployment_frequency"] == {
        "count": 2,
        "per_week": pytest.approx(14 / 30),
        "deploy_days": 2,
        "band": "medium",
    }
    assert got["previous"]["deployment_frequency"]["count"] == 1


def test_deploy_days_across_the_spring_dst_change(store: Store) -> None:
    week = iso_week(2026, 13, BERLIN)  # [22 Mar 23:00Z, 29 Mar 22:00Z): 167 h, 7 days
    with store.write() as db:
        deploy(db, "2026-03-22T23:00:00Z")  # Mon 23 Mar 00:00 CET
        deploy(db, "2026-03-23T22:30:00Z")  # Mon 23 Mar 23:30 CET
        deploy(db, "2026-03-23T23:30:00Z")  # Tue 24 Mar 00:30 CET
        deploy(db, "2026-03-28T23:30:00Z")  # Sun 29 Mar 00:30 CET
        deploy(db, "2026-03-29T21:59:59Z")  # Sun 29 Mar 23:59:59 CEST
        deploy(db, "2026-03-29T22:00:00Z")  # Mon 30 Mar 00:00 CEST: next week
    got = build(store, week)
    assert got["window"] == {"from": "2026-03-22T23:00:00Z", "to": "2026-03-29T22:00:00Z"}
    # 5 deployments on 23, 24 and 29 March; per_week = 5 / 7 * 7 = 5; d = 5/7: high
    assert got["deployment_frequency"] == {
        "count": 5,
        "per_week": pytest.approx(5.0),
        "deploy_days": 3,
        "band": "high",
    }
    # the previous window: 167 h before, [16 Mar 00:00Z, 22 Mar 23:00Z)
    assert got["previous"]["window"] == {
        "from": "2026-03-16T00:00:00Z",
        "to": "2026-03-22T23:00:00Z",
    }
    assert got["previous"]["deployment_frequency"]["count"] == 0


def test_deploy_days_across_the_autumn_dst_change(store: Store) -> None:
    week = iso_week(2026, 43, BERLIN)  # [18 Oct 22:00Z, 25 Oct 23:00Z): 169 h
    with store.write() as db:
        deploy(db, "2026-10-24T22:30:00Z")  # Sun 25 Oct 00:30 CEST
        deploy(db, "2026-10-25T22:30:00Z")  # Sun 25 Oct 23:30 CET: the same day
        deploy(db, "2026-10-18T22:00:00Z")  # Mon 19 Oct 00:00 CEST
        deploy(db, "2026-10-18T21:59:59Z")  # Sun 18 Oct: the week before
    got = build(store, week)
    assert got["deployment_frequency"] == {
        "count": 3,
        "per_week": pytest.approx(3.0),  # 3 / 7 * 7
        "deploy_days": 2,
        "band": "high",  # 3/7 >= 1/7
    }
    assert got["previous"]["deployment_frequency"]["count"] == 1
