"""The five DORA metrics, as pure functions over plain records (SPEC.md "Metric definitions").

Every input is already filtered to one window, one set of environments and optionally one
service, and already counted (storage/metrics.py does that, partly from rollup tables);
nothing here reads the database or the clock. Times are epoch seconds. Medians and p90s
need only a few order statistics, so the inputs carry just those (`Ordered`; the input
types are the read model's, in storage/facts.py). A metric with nothing to compute is None,
never 0 or NaN, except deployment frequency, whose count of 0 is a fact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from storage.facts import Deployments, Facts, Ordered

DAY = 86_400.0
HOUR = 3_600.0
WEEK = 7 * DAY
SOURCE = "DORA 2023 Accelerate State of DevOps Report, per-metric benchmarks"


# What each definition gives, one window's worth; the fields are in the order and under the
# names of SPEC.md's `report --json` (bot.metrics.report writes them out as they are).


@dataclass(frozen=True)
class DeploymentFrequency:
    count: int
    per_week: float
    deploy_days: int
    band: str


@dataclass(frozen=True)
class LeadTime:
    median_seconds: float
    p90_seconds: float
    changes: int
    deployments_with_changes: int
    band: str


@dataclass(frozen=True)
class ChangeFailureRate:
    failed: int
    deployments: int
    rate: float
    band: str


@dataclass(frozen=True)
class RecoveryTime:
    median_seconds: float
    p90_seconds: float
    incidents: int
    band: str


@dataclass(frozen=True)
class ReworkRate:
    rework: int
    deployments: int
    rate: float


@dataclass(frozen=True)
class TimeToRestore:
    median_seconds: float
    p90_seconds: float
    incidents: int


def median(values: Ordered) -> float:
    # statistics.median's own arithmetic, so results are identical to the last bit.
    n, x = values.count, values.at
    if n % 2:
        return float(x[n // 2])
    return (x[n // 2 - 1] + x[n // 2]) / 2


def percentile_90(values: Ordered) -> float:
    # statistics.quantiles(values, n=10, method="inclusive")[8], with its own arithmetic;
    # a single value is its own p90.
    n, x = values.count, values.at
    if n == 1:
        return float(x[0])
    j, delta = divmod(9 * (n - 1), 10)
    return (x[j] * (10 - delta) + x[j + 1] * delta) / 10


def frequency_band(count: int, days: float) -> str:
    per_day = count / days if days > 0 else 0.0
    if per_day >= 1:
        return "elite"
    if per_day >= 1 / 7:
        return "high"
    if per_day >= 1 / 30:
        return "medium"
    return "low"


def _duration_band(seconds: float, elite: float, high: float, medium: float) -> str:
    """Shorter is better: under each limit, that band."""
    for limit, band in ((elite, "elite"), (high, "high"), (medium, "medium")):
        if seconds < limit:
            return band
    return "low"


def lead_time_band(median_seconds: float) -> str:
    return _duration_band(median_seconds, DAY, WEEK, 30 * DAY)


def failure_rate_band(failed: int, deployments: int) -> str:
    # In whole numbers, so that 1 of 20 is exactly 5% (elite) whatever floats would say.
    if failed * 100 <= 5 * deployments:
        return "elite"
    if failed * 100 <= 10 * deployments:
        return "high"
    if failed * 100 <= 15 * deployments:
        return "medium"
    return "low"


def recovery_band(median_seconds: float) -> str:
    return _duration_band(median_seconds, HOUR, DAY, WEEK)


def deploy_days(deployments: Deployments, tz: str) -> int:
    """Distinct local dates of the deployments. Only the first instant seen on each date is
    converted: every later one before the next local midnight has the same date (local
    dates only move forward; a zone whose clocks fell back across midnight, as
    America/St_Johns did at 00:01 until 2011, would count those repeated minutes to the
    later date)."""
    zone = ZoneInfo(tz)
    dates: set[date] = set()
    next_midnight = None
    for at in sorted(at for span in deployments.spans for at in span):
        if next_midnight is not None and at < next_midnight:
            continue
        day = datetime.fromtimestamp(at, zone).date()
        dates.add(day)
        # fold=0: a midnight skipped by a clock change maps to the instant of the change,
        # which is where the new date starts.
        next_midnight = datetime.combine(day + timedelta(days=1), time(), zone).timestamp()
    return len(dates)


def deployment_frequency(facts: Facts, tz: str) -> DeploymentFrequency:
    count = facts.deployments.count
    days = facts.window_days
    return DeploymentFrequency(
        count=count,
        per_week=count / days * 7 if days > 0 else 0.0,
        deploy_days=deploy_days(facts.deployments, tz),
        band=frequency_band(count, days),
    )


def lead_time(facts: Facts) -> LeadTime | None:
    leads = facts.leads
    if not leads.count:
        return None
    middle = median(leads)
    return LeadTime(
        median_seconds=middle,
        p90_seconds=percentile_90(leads),
        changes=leads.count,
        deployments_with_changes=facts.deployments.with_changes,
        band=lead_time_band(middle),
    )


def change_failure_rate(facts: Facts) -> ChangeFailureRate | None:
    deployments = facts.deployments.count
    if not deployments:
        return None
    failed = facts.deployments.failed
    return ChangeFailureRate(
        failed=failed,
        deployments=deployments,
        rate=failed / deployments,
        band=failure_rate_band(failed, deployments),
    )


def _durations(values: Sequence[int]) -> TimeToRestore | None:
    if not values:
        return None
    ordered = Ordered.of(values)
    return TimeToRestore(
        median_seconds=median(ordered),
        p90_seconds=percentile_90(ordered),
        incidents=ordered.count,
    )


def recovery_time(facts: Facts) -> RecoveryTime | None:
    summary = _durations(facts.recoveries)
    if summary is None:
        return None
    return RecoveryTime(
        median_seconds=summary.median_seconds,
        p90_seconds=summary.p90_seconds,
        incidents=summary.incidents,
        band=recovery_band(summary.median_seconds),
    )


def rework_rate(facts: Facts) -> ReworkRate | None:
    deployments = facts.deployments.count
    if not deployments:
        return None
    rework = facts.deployments.rework
    return ReworkRate(rework=rework, deployments=deployments, rate=rework / deployments)


def time_to_restore(facts: Facts) -> TimeToRestore | None:
    return _durations(facts.restores)
