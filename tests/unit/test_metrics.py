"""bot.metrics.definitions: the five DORA metrics as pure functions over plain records.

The engine takes deployments already counted and lead times as order statistics
(storage/metrics.py counts in SQL); the helper `facts` below counts per-deployment records
the way storage does (negative lead times dropped, deployments with a kept one counted),
so each case still reads as records.

Every expected value is a literal worked out by hand from SPEC.md "Metric definitions";
the arithmetic is in the comment next to it. p90 follows
`statistics.quantiles(values, n=10, method="inclusive")[8]`, which for sorted values x[0..n-1]
is: m = n - 1, (j, delta) = divmod(9 * m, 10), p90 = (x[j] * (10 - delta) + x[j+1] * delta) / 10.

Berlin is UTC+1 (CET) in winter and UTC+2 (CEST) from 2026-03-29 02:00 local; New York is
UTC-5 (EST) after 2026-11-01.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import pendulum
import pytest

from bot.metrics.report import WindowReport
from storage.facts import Deployments, Facts, Ordered

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"
HOUR = 3_600
DAY = 86_400
WEEK = 7 * DAY

_ids = itertools.count(1)


@dataclass(frozen=True)
class Deployment:
    id: int
    service: str
    deployed_at: int
    is_hotfix: bool
    is_rollback: bool
    failed: bool


class ChangeLead(NamedTuple):
    deploy_id: int
    seconds: int


def at(text: str) -> int:
    """Epoch seconds of a UTC ISO-8601 instant."""
    parsed = pendulum.parse(text)
    assert isinstance(parsed, pendulum.DateTime)
    return parsed.int_timestamp


def deployment(
    when: str = "2026-11-20T10:00:00Z",
    *,
    deploy_id: int | None = None,
    hotfix: bool = False,
    rollback: bool = False,
    failed: bool = False,
) -> Deployment:
    return Deployment(
        id=next(_ids) if deploy_id is None else deploy_id,
        service="api",
        deployed_at=at(when),
        is_hotfix=hotfix,
        is_rollback=rollback,
        failed=failed,
    )


def facts(
    *,
    days: float = 30.0,
    deployments: Sequence[Deployment] = (),
    leads: Sequence[ChangeLead] = (),
    recoveries: Sequence[int] = (),
    restores: Sequence[int] = (),
    failed_attempts: int = 0,
) -> Facts:
    kept = [c for c in leads if c.seconds >= 0]
    with_changes = {c.deploy_id for c in kept}
    counted = Deployments(
        count=len(deployments),
        failed=sum(d.failed for d in deployments),
        rework=sum(d.is_hotfix or d.is_rollback for d in deployments),
        with_changes=sum(d.id in with_changes for d in deployments),
        spans=[(d.deployed_at, d.deployed_at) for d in deployments],
    )
    return Facts(
        window_days=days,
        deployments=counted,
        leads=Ordered.of(c.seconds for c in kept),
        recoveries=list(recoveries),
        restores=list(restores),
        failed_attempts=failed_attempts,
    )


def many(count: int, failed: int = 0) -> list[Deployment]:
    """`count` deployments on distinct days, the first `failed` of them failed."""
    start = pendulum.datetime(2026, 11, 1, 10)
    return [
        Deployment(
            id=next(_ids),
            service="api",
            deployed_at=start.add(hours=i).int_timestamp,
            is_hotfix=False,
            is_rollback=False,
            failed=i < failed,
        )
        for i in range(count)
    ]


def leads_of(*seconds: int, deploy_id: int = 1) -> list[ChangeLead]:
    return [ChangeLead(deploy_id, s) for s in seconds]


def report(f: Facts, tz: str = "UTC") -> dict[str, Any]:
    return WindowReport.of(f, tz).to_json()


# ---- empty window ------------------------------------------------------------------------


def test_empty_window_reports_a_zero_count_and_null_elsewhere() -> None:
    assert report(facts(days=30.0)) == {
        "deployment_frequency": {"count": 0, "per_week": 0.0, "deploy_days": 0, "band": "low"},
        "lead_time": None,
        "change_failure_rate": None,
        "recovery_time": None,
        "rework_rate": None,
        "time_to_restore": None,
        "failed_attempts": 0,
    }


def test_incidents_without_deployments_still_report_restore_and_recovery() -> None:
    # An incident before any deploy: no deployment to compute a rate on, but a restore time.
    got = report(facts(days=7.0, recoveries=[], restores=[1_800], failed_attempts=1))
    assert got["deployment_frequency"] == {
        "count": 0,
        "per_week": 0.0,
        "deploy_days": 0,
        "band": "low",
    }
    assert got["change_failure_rate"] is None
    assert got["rework_rate"] is None
    assert got["lead_time"] is None
    assert got["recovery_time"] is None
    # one value: median = p90 = the value
    assert got["time_to_restore"] == {
        "median_seconds": 1_800.0,
        "p90_seconds": 1_800.0,
        "incidents": 1,
    }
    assert got["failed_attempts"] == 1


# ---- deployment frequency ----------------------------------------------------------------


def test_frequency_count_per_week_and_days() -> None:
    deployments = [
        deployment("2026-11-02T10:00:00Z"),
        deployment("2026-11-02T15:00:00Z"),
        deployment("2026-11-09T10:00:00Z"),
    ]
    got = report(facts(days=30.0, deployments=deployments))["deployment_frequency"]
    assert got["count"] == 3
    # per_week = 3 / 30 * 7 = 0.7
    assert got["per_week"] == pytest.approx(0.7)
    # 2 November (twice) and 9 November
    assert got["deploy_days"] == 2
    # d = 3 / 30 = 0.1: below 1/7 = 0.142..., at least 1/30 = 0.033...
    assert got["band"] == "medium"


def test_frequency_per_week_on_a_window_of_fractional_days() -> None:
    # `this week` on a Wednesday at noon: 2.5 days. 5 deployments: 5 / 2.5 * 7 = 14 per week;
    # d = 5 / 2.5 = 2 a day: elite.
    deployments = [deployment(f"2026-11-2{3 + i // 2}T0{i}:00:00Z") for i in range(5)]
    got = report(facts(days=2.5, deployments=deployments))["deployment_frequency"]
    assert got["count"] == 5
    assert got["per_week"] == pytest.approx(14.0)
    assert got["band"] == "elite"


def test_deploy_days_two_utc_days_one_berlin_day() -> None:
    # 2026-11-20T23:30Z is 21 Nov 00:30 CET; 2026-11-21T10:00Z is 21 Nov 11:00 CET: one day
    # in Berlin, two in UTC.
    deployments = [deployment("2026-11-20T23:30:00Z"), deployment("2026-11-21T10:00:00Z")]
    assert (
        report(facts(deployments=deployments), BERLIN)["deployment_frequency"]["deploy_days"] == 1
    )
    assert report(facts(deployments=deployments), "UTC")["deployment_frequency"]["deploy_days"] == 2


def test_deploy_days_one_utc_day_two_berlin_days() -> None:
    # 2026-11-20T22:30Z is 20 Nov 23:30 CET; 2026-11-20T23:30Z is 21 Nov 00:30 CET.
    deployments = [deployment("2026-11-20T22:30:00Z"), deployment("2026-11-20T23:30:00Z")]
    assert (
        report(facts(deployments=deployments), BERLIN)["deployment_frequency"]["deploy_days"] == 2
    )
    assert report(facts(deployments=deployments), "UTC")["deployment_frequency"]["deploy_days"] == 1


def test_deploy_days_in_new_york() -> None:
    # 2026-11-21T03:00Z is 20 Nov 22:00 EST, the same local day as 2026-11-20T15:00Z (10:00 EST);
    # 2026-11-21T05:00Z is 21 Nov 00:00 EST, the next day.
    deployments = [
        deployment("2026-11-20T15:00:00Z"),
        deployment("2026-11-21T03:00:00Z"),
        deployment("2026-11-21T05:00:00Z"),
    ]
    assert (
        report(facts(deployments=deployments), NEW_YORK)["deployment_frequency"]["deploy_days"] == 2
    )


def test_deploy_days_across_the_spring_dst_change_in_berlin() -> None:
    # 2026-03-28T23:30Z = 29 Mar 00:30 CET; 2026-03-29T21:30Z = 29 Mar 23:30 CEST: one day.
    # 2026-03-29T22:30Z = 30 Mar 00:30 CEST: the next day.
    deployments = [
        deployment("2026-03-28T23:30:00Z"),
        deployment("2026-03-29T21:30:00Z"),
        deployment("2026-03-29T22:30:00Z"),
    ]
    assert (
        report(facts(days=7.0, deployments=deployments), BERLIN)["deployment_frequency"][
            "deploy_days"
        ]
        == 2
    )


@pytest.mark.parametrize(
    ("count", "days", "band"),
    [
        (7, 7.0, "elite"),  # d = 7/7 = 1: exactly daily is elite
        (30, 30.0, "elite"),  # d = 30/30 = 1
        (6, 7.0, "high"),  # d = 6/7 = 0.857 just under 1
        (29, 30.0, "high"),  # d = 29/30 = 0.967 just under 1
        (1, 7.0, "high"),  # d = 1/7 exactly
        (4, 28.0, "high"),  # d = 4/28 = 1/7 exactly
        (1, 8.0, "medium"),  # d = 1/8 = 0.125 just under 1/7 = 0.1429
        (12, 90.0, "medium"),  # d = 12/90 = 0.1333 under 1/7
        (1, 30.0, "medium"),  # d = 1/30 exactly
        (3, 90.0, "medium"),  # d = 3/90 = 1/30 exactly
        (1, 31.0, "low"),  # d = 1/31 = 0.0323 just under 1/30 = 0.0333
        (2, 61.0, "low"),  # d = 2/61 = 0.0328 under 1/30
        (0, 30.0, "low"),  # nothing deployed
    ],
)
def test_frequency_band_boundaries(count: int, days: float, band: str) -> None:
    got = report(facts(days=days, deployments=many(count)))["deployment_frequency"]
    assert got["count"] == count
    assert got["band"] == band


# ---- change lead time --------------------------------------------------------------------


def test_lead_time_odd_count() -> None:
    # sorted [600, 1800, 3600, 7200, 36000]: median = 3600 (the middle one).
    # p90: m = 4, divmod(36, 10) = (3, 6): (7200 * 4 + 36000 * 6) / 10 = (28800 + 216000) / 10
    #      = 24480
    leads = leads_of(7_200, 600, 36_000, 3_600, 1_800)  # given unsorted
    got = report(facts(deployments=[deployment(deploy_id=1)], leads=leads))["lead_time"]
    assert got == {
        "median_seconds": 3_600.0,
        "p90_seconds": 24_480.0,
        "changes": 5,
        "deployments_with_changes": 1,
        "band": "elite",
    }


def test_lead_time_even_count() -> None:
    # sorted [3600, 7200, 10800, 90000]: median = (7200 + 10800) / 2 = 9000.
    # p90: m = 3, divmod(27, 10) = (2, 7): (10800 * 3 + 90000 * 7) / 10 = (32400 + 630000) / 10
    #      = 66240
    leads = [
        ChangeLead(1, 90_000),
        ChangeLead(2, 3_600),
        ChangeLead(2, 10_800),
        ChangeLead(1, 7_200),
    ]
    got = report(
        facts(deployments=[deployment(deploy_id=1), deployment(deploy_id=2)], leads=leads)
    )["lead_time"]
    assert got == {
        "median_seconds": 9_000.0,
        "p90_seconds": 66_240.0,
        "changes": 4,
        "deployments_with_changes": 2,
        "band": "elite",
    }


def test_lead_time_single_value_is_its_own_p90() -> None:
    got = report(facts(deployments=[deployment(deploy_id=1)], leads=leads_of(5_000)))["lead_time"]
    assert got == {
        "median_seconds": 5_000.0,
        "p90_seconds": 5_000.0,
        "changes": 1,
        "deployments_with_changes": 1,
        "band": "elite",
    }


def test_negative_lead_times_are_dropped_with_their_deployment_coverage() -> None:
    # deploy 1: [-300, 1200] keeps 1200; deploy 2: [-60] keeps nothing; deploy 3: [0, 2400]
    # keeps both (0 is not negative). Kept sorted [0, 1200, 2400]: median 1200.
    # p90: m = 2, divmod(18, 10) = (1, 8): (1200 * 2 + 2400 * 8) / 10 = (2400 + 19200) / 10 = 2160
    leads = [
        ChangeLead(1, -300),
        ChangeLead(1, 1_200),
        ChangeLead(2, -60),
        ChangeLead(3, 0),
        ChangeLead(3, 2_400),
    ]
    deployments = [deployment(deploy_id=i) for i in (1, 2, 3)]
    got = report(facts(deployments=deployments, leads=leads))["lead_time"]
    assert got == {
        "median_seconds": 1_200.0,
        "p90_seconds": 2_160.0,
        "changes": 3,
        "deployments_with_changes": 2,  # deploys 1 and 3; deploy 2 only had a negative one
        "band": "elite",
    }


def test_lead_time_all_negative_is_null() -> None:
    leads = [ChangeLead(1, -1), ChangeLead(2, -86_400)]
    deployments = [deployment(deploy_id=1), deployment(deploy_id=2)]
    assert report(facts(deployments=deployments, leads=leads))["lead_time"] is None


def test_lead_time_without_changes_is_null() -> None:
    assert report(facts(deployments=[deployment()]))["lead_time"] is None


@pytest.mark.parametrize(
    ("seconds", "band"),
    [
        (DAY - 1, "elite"),  # < 1 day
        (DAY, "high"),  # exactly 1 day is not < 1 day
        (WEEK - 1, "high"),
        (WEEK, "medium"),  # exactly 1 week
        (30 * DAY - 1, "medium"),
        (30 * DAY, "low"),  # exactly 30 days
        (365 * DAY, "low"),
    ],
)
def test_lead_time_band_boundaries(seconds: int, band: str) -> None:
    got = report(facts(deployments=[deployment(deploy_id=1)], leads=leads_of(seconds)))
    assert got["lead_time"]["median_seconds"] == float(seconds)
    assert got["lead_time"]["band"] == band


def test_lead_time_band_uses_the_median_not_the_p90() -> None:
    # [3600, 3600, 30 days]: median 3600 (elite), though p90 is far above 30 days' worth.
    # p90: m = 2, divmod(18, 10) = (1, 8): (3600 * 2 + 2592000 * 8) / 10 = 2074320
    got = report(
        facts(deployments=[deployment(deploy_id=1)], leads=leads_of(3_600, 3_600, 30 * DAY))
    )
    assert got["lead_time"]["p90_seconds"] == 2_074_320.0
    assert got["lead_time"]["band"] == "elite"


# ---- change failure rate -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("failed", "total", "rate", "band"),
    [
        (0, 20, 0.0, "elite"),
        (1, 20, 0.05, "elite"),  # 1/20 = 5% exactly: elite is <= 5%
        (2, 20, 0.1, "high"),  # 2/20 = 10% exactly: high is <= 10%
        (3, 20, 0.15, "medium"),  # 3/20 = 15% exactly: medium is <= 15%
        (4, 20, 0.2, "low"),  # 4/20 = 20%
        (1, 10, 0.1, "high"),  # 1/10 = 10%
        (1, 19, 1 / 19, "high"),  # 5.26%: just over 5%
        (3, 7, 3 / 7, "low"),  # 42.9%
        (1, 1, 1.0, "low"),
    ],
)
def test_change_failure_rate(failed: int, total: int, rate: float, band: str) -> None:
    got = report(facts(deployments=many(total, failed=failed)))["change_failure_rate"]
    assert got == {"failed": failed, "deployments": total, "rate": rate, "band": band}


def test_change_failure_rate_without_deployments_is_null() -> None:
    assert report(facts(restores=[600]))["change_failure_rate"] is None


# ---- failed deployment recovery time and time to restore ---------------------------------


def test_recovery_time_median_p90_and_band() -> None:
    # sorted [1800, 5400, 9000]: median 5400 (1.5 h: high).
    # p90: m = 2, divmod(18, 10) = (1, 8): (5400 * 2 + 9000 * 8) / 10 = (10800 + 72000) / 10
    #      = 8280
    got = report(facts(recoveries=[9_000, 1_800, 5_400]))["recovery_time"]
    assert got == {
        "median_seconds": 5_400.0,
        "p90_seconds": 8_280.0,
        "incidents": 3,
        "band": "high",
    }


@pytest.mark.parametrize(
    ("seconds", "band"),
    [
        (HOUR - 1, "elite"),  # < 1 hour
        (HOUR, "high"),  # exactly 1 hour
        (DAY - 1, "high"),
        (DAY, "medium"),  # exactly 1 day
        (WEEK - 1, "medium"),
        (WEEK, "low"),  # exactly 1 week
    ],
)
def test_recovery_band_boundaries(seconds: int, band: str) -> None:
    got = report(facts(recoveries=[seconds]))["recovery_time"]
    assert got == {
        "median_seconds": float(seconds),
        "p90_seconds": float(seconds),
        "incidents": 1,
        "band": band,
    }


def test_recovery_band_on_an_even_median() -> None:
    # [1800, 5400]: median (1800 + 5400) / 2 = 3600: exactly an hour, so high, not elite.
    # p90: m = 1, divmod(9, 10) = (0, 9): (1800 * 1 + 5400 * 9) / 10 = (1800 + 48600) / 10 = 5040
    got = report(facts(recoveries=[1_800, 5_400]))["recovery_time"]
    assert got == {
        "median_seconds": 3_600.0,
        "p90_seconds": 5_040.0,
        "incidents": 2,
        "band": "high",
    }


def test_no_recoveries_is_null() -> None:
    assert report(facts(deployments=[deployment()], restores=[60]))["recovery_time"] is None


def test_time_to_restore_has_no_band() -> None:
    # sorted [600, 3000, 7200, 14400]: median (3000 + 7200) / 2 = 5100.
    # p90: m = 3, divmod(27, 10) = (2, 7): (7200 * 3 + 14400 * 7) / 10 = (21600 + 100800) / 10
    #      = 12240
    got = report(facts(restores=[14_400, 600, 7_200, 3_000]))["time_to_restore"]
    assert got == {"median_seconds": 5_100.0, "p90_seconds": 12_240.0, "incidents": 4}


# ---- rework rate and failed attempts -----------------------------------------------------


def test_rework_counts_a_hotfix_rollback_once() -> None:
    deployments = [
        deployment(hotfix=True),
        deployment(rollback=True),
        deployment(hotfix=True, rollback=True),  # one rework, not two
        deployment(),
        deployment(failed=True),  # failed but neither hotfix nor rollback: not rework
    ]
    # rework = 3 of 5 = 0.6
    assert report(facts(deployments=deployments))["rework_rate"] == {
        "rework": 3,
        "deployments": 5,
        "rate": 0.6,
    }


def test_rework_with_none_is_zero_not_null() -> None:
    assert report(facts(deployments=[deployment(), deployment()]))["rework_rate"] == {
        "rework": 0,
        "deployments": 2,
        "rate": 0.0,
    }


def test_failed_attempts_are_reported_as_given() -> None:
    got = report(facts(deployments=[deployment()], failed_attempts=2))
    assert got["failed_attempts"] == 2
    # and they are in no other metric
    assert got["deployment_frequency"]["count"] == 1
    assert got["change_failure_rate"] == {
        "failed": 0,
        "deployments": 1,
        "rate": 0.0,
        "band": "elite",
    }


# ---- everything at once ------------------------------------------------------------------


def test_full_report_of_one_week_in_berlin() -> None:
    deployments = [
        deployment("2026-11-23T09:00:00Z", deploy_id=101),  # Mon 10:00 CET
        deployment("2026-11-23T22:59:59Z", deploy_id=102, failed=True),  # Mon 23:59:59 CET
        deployment("2026-11-23T23:00:00Z", deploy_id=103, hotfix=True),  # Tue 00:00 CET
        deployment("2026-11-27T12:00:00Z", deploy_id=104, rollback=True),  # Fri
    ]
    leads = [
        ChangeLead(101, 1_000),
        ChangeLead(101, 3_000),
        ChangeLead(103, -5),
        ChangeLead(104, 2_000),
    ]
    got = report(
        facts(
            days=7.0,
            deployments=deployments,
            leads=leads,
            recoveries=[4_000],
            restores=[4_000, 1_000],
            failed_attempts=1,
        ),
        BERLIN,
    )
    assert got == {
        # 4 deployments in 7 days: per_week = 4 / 7 * 7 = 4; d = 4/7 >= 1/7: high.
        # Days in Berlin: Mon 23, Tue 24, Fri 27 = 3.
        "deployment_frequency": {
            "count": 4,
            "per_week": pytest.approx(4.0),
            "deploy_days": 3,
            "band": "high",
        },
        # kept sorted [1000, 2000, 3000]: median 2000;
        # p90 m = 2, (1, 8): (2000 * 2 + 3000 * 8) / 10 = 2800
        "lead_time": {
            "median_seconds": 2_000.0,
            "p90_seconds": 2_800.0,
            "changes": 3,
            "deployments_with_changes": 2,
            "band": "elite",
        },
        # 1 of 4 = 25%: low
        "change_failure_rate": {"failed": 1, "deployments": 4, "rate": 0.25, "band": "low"},
        # 4000 s = 1 h 6 m 40 s: high
        "recovery_time": {
            "median_seconds": 4_000.0,
            "p90_seconds": 4_000.0,
            "incidents": 1,
            "band": "high",
        },
        # hotfix 103 and rollback 104: 2 of 4
        "rework_rate": {"rework": 2, "deployments": 4, "rate": 0.5},
        # [1000, 4000]: median 2500; p90 m = 1, (0, 9): (1000 + 4000 * 9) / 10 = 3700
        "time_to_restore": {"median_seconds": 2_500.0, "p90_seconds": 3_700.0, "incidents": 2},
        "failed_attempts": 1,
    }
