"""The five DORA metrics, as pure functions over plain records (SPEC.md "Metric definitions").

Every input is already filtered to one window, one set of environments and optionally one
service (storage/metrics.py does that); nothing here reads the database or the clock.
Times are epoch seconds. A metric with nothing to compute is None, never 0 or NaN, except
deployment frequency, whose count of 0 is a fact.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

DAY = 86_400.0
HOUR = 3_600.0
WEEK = 7 * DAY
SOURCE = "DORA 2023 Accelerate State of DevOps Report, per-metric benchmarks"


@dataclass(frozen=True, slots=True)
class Deployment:
    """A successful deploy to a counted environment, finished in the window."""

    id: int
    service: str
    deployed_at: int
    is_hotfix: bool
    is_rollback: bool
    failed: bool  # linked to an incident, or rolled back by a later successful deploy


@dataclass(frozen=True, slots=True)
class ChangeLead:
    """One change shipped by a deployment in the window."""

    deploy_id: int
    seconds: int  # deployed_at - authored_at; may be negative (clock skew, rebases)


@dataclass(frozen=True)
class Facts:
    window_days: float
    deployments: Sequence[Deployment]
    leads: Sequence[ChangeLead]
    recoveries: Sequence[int]  # seconds, incidents linked to a counted deploy, resolved in window
    restores: Sequence[int]  # seconds, every incident resolved in the window
    failed_attempts: int


def percentile_90(values: Sequence[float]) -> float:
    if len(values) == 1:
        return float(values[0])
    return float(statistics.quantiles(values, n=10, method="inclusive")[8])


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


def deploy_days(deployments: Sequence[Deployment], tz: str) -> int:
    zone = ZoneInfo(tz)
    return len({datetime.fromtimestamp(d.deployed_at, zone).date() for d in deployments})


def deployment_frequency(facts: Facts, tz: str) -> dict[str, Any]:
    count = len(facts.deployments)
    days = facts.window_days
    return {
        "count": count,
        "per_week": count / days * 7 if days > 0 else 0.0,
        "deploy_days": deploy_days(facts.deployments, tz),
        "band": frequency_band(count, days),
    }


def lead_time(facts: Facts) -> dict[str, Any] | None:
    kept = [c for c in facts.leads if c.seconds >= 0]
    if not kept:
        return None
    values = [c.seconds for c in kept]
    median = float(statistics.median(values))
    return {
        "median_seconds": median,
        "p90_seconds": percentile_90(values),
        "changes": len(values),
        "deployments_with_changes": len({c.deploy_id for c in kept}),
        "band": lead_time_band(median),
    }


def change_failure_rate(facts: Facts) -> dict[str, Any] | None:
    deployments = len(facts.deployments)
    if not deployments:
        return None
    failed = sum(d.failed for d in facts.deployments)
    return {
        "failed": failed,
        "deployments": deployments,
        "rate": failed / deployments,
        "band": failure_rate_band(failed, deployments),
    }


def _durations(values: Sequence[int]) -> dict[str, Any] | None:
    if not values:
        return None
    return {
        "median_seconds": float(statistics.median(values)),
        "p90_seconds": percentile_90(values),
        "incidents": len(values),
    }


def recovery_time(facts: Facts) -> dict[str, Any] | None:
    summary = _durations(facts.recoveries)
    if summary is not None:
        summary["band"] = recovery_band(summary["median_seconds"])
    return summary


def rework_rate(facts: Facts) -> dict[str, Any] | None:
    deployments = len(facts.deployments)
    if not deployments:
        return None
    rework = sum(d.is_hotfix or d.is_rollback for d in facts.deployments)
    return {"rework": rework, "deployments": deployments, "rate": rework / deployments}


def metrics(facts: Facts, tz: str) -> dict[str, Any]:
    """Every metric of one window, in the shape `shipshape report --json` prints."""
    return {
        "deployment_frequency": deployment_frequency(facts, tz),
        "lead_time": lead_time(facts),
        "change_failure_rate": change_failure_rate(facts),
        "recovery_time": recovery_time(facts),
        "rework_rate": rework_rate(facts),
        "time_to_restore": _durations(facts.restores),
        "failed_attempts": facts.failed_attempts,
    }
