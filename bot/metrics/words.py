"""A metrics report as rows of words: what each metric is, its band, its change from the
previous window and what it counted. /dora's card and the terminal table both render
these rows, so Slack and `shipshape report` always say the same thing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot import messages
from bot.core.moments import duration
from bot.metrics.definitions import (
    ChangeFailureRate,
    LeadTime,
    RecoveryTime,
    ReworkRate,
    TimeToRestore,
)
from bot.metrics.report import Report, WindowReport


def percent(rate: float) -> str:
    return f"{rate * 100:.1f}%"


Rate = ChangeFailureRate | ReworkRate
Durations = LeadTime | RecoveryTime | TimeToRestore


@dataclass(frozen=True)
class Row:
    """One metric as the card shows it."""

    name: str
    value: str
    band: str | None
    change: str = ""
    counted: tuple[str, ...] = ()


def _change(now: float, before: float | None, shown: Callable[[float], str]) -> str:
    """A count's or a duration's move from the previous window, as a percentage of it."""
    if before is None:
        return messages.DORA_CHANGE_NEW
    if now == before:
        return messages.change_none(shown(before))
    if before == 0:
        return messages.DORA_CHANGE_NEW  # a percentage of nothing means nothing
    relative = abs(now - before) / before
    amount = "<1%" if relative < 0.01 else f"{relative * 100:.0f}%"
    return messages.change_up_down(now > before, amount, shown(before))


def _rate_change(now: float, before: Rate | None) -> str:
    """A rate's move in percentage points: a relative change of a percentage misleads
    (10% to 15% is "+5 pts", not "+50%"), and 0% before is a fact, not nothing."""
    if before is None:
        return messages.DORA_CHANGE_NEW
    points = round((now - before.rate) * 100, 1)
    if points == 0:
        return messages.change_none(percent(before.rate))
    return messages.change_up_down(
        points > 0, messages.percentage_points(abs(points)), percent(before.rate)
    )


def _durations(metric: Durations) -> str:
    return messages.median_p90(duration(metric.median_seconds), duration(metric.p90_seconds))


def _median(metric: Durations | None) -> float | None:
    return metric.median_seconds if metric else None


def rows(report: Report) -> list[Row]:
    """A report's metrics in the order of `report --json`: the five DORA metrics, then time
    to restore over every incident, beside recovery time."""
    data, before = report.current, report.previous
    frequency = data.deployment_frequency
    deployments = frequency.count
    counted = [messages.frequency_counted(deployments, frequency.deploy_days)]
    if data.failed_attempts:
        counted.append(messages.failed_attempts(data.failed_attempts))
    first = Row(
        messages.METRIC_FREQUENCY,
        messages.frequency_value(deployments, frequency.per_week),
        frequency.band,
        _change(deployments, before.deployment_frequency.count, lambda n: f"{n:.0f}"),
        tuple(counted),
    )
    if deployments:
        per_deployment = [
            _lead_time(data, before, deployments),
            _failure_rate(data, before),
            _recovery(data, before),
            _rework(data, before),
        ]
    else:
        # Nothing to compute from, but recovery may still count incidents of earlier deploys.
        nothing = (messages.METRIC_LEAD_TIME, messages.METRIC_FAILURE_RATE)
        per_deployment = [
            *(Row(name, messages.NO_DEPLOYMENTS, None) for name in nothing),
            _recovery(data, before),
            Row(messages.METRIC_REWORK, messages.NO_DEPLOYMENTS, None),
        ]
    return [first, *per_deployment, _restore(data, before)]


def _rework(data: WindowReport, before: WindowReport) -> Row:
    rework = data.rework_rate
    assert rework is not None  # only called when the window has deployments
    return Row(
        messages.METRIC_REWORK,
        percent(rework.rate),
        None,  # DORA publishes no benchmark for rework rate
        _rate_change(rework.rate, before.rework_rate),
        (messages.rework_counted(rework.rework, rework.deployments),),
    )


def _lead_time(data: WindowReport, before: WindowReport, deployments: int) -> Row:
    lead = data.lead_time
    if lead is None:
        known = messages.lead_counted(0, deployments, 0)
        return Row(messages.METRIC_LEAD_TIME, messages.NO_CHANGES_KNOWN, None, "", (known,))
    known = messages.lead_counted(lead.deployments_with_changes, deployments, lead.changes)
    change = _change(lead.median_seconds, _median(before.lead_time), duration)
    return Row(messages.METRIC_LEAD_TIME, _durations(lead), lead.band, change, (known,))


def _failure_rate(data: WindowReport, before: WindowReport) -> Row:
    failure = data.change_failure_rate
    assert failure is not None  # only called when the window has deployments
    return Row(
        messages.METRIC_FAILURE_RATE,
        percent(failure.rate),
        failure.band,
        _rate_change(failure.rate, before.change_failure_rate),
        (messages.failure_counted(failure.failed, failure.deployments),),
    )


def _recovery(data: WindowReport, before: WindowReport) -> Row:
    recovery = data.recovery_time
    if recovery is None:
        # Recovery also counts incidents of earlier deployments, so an empty result means
        # "no deployments" only when the window had none.
        deployments = data.deployment_frequency.count
        value = messages.NO_RECOVERIES if deployments else messages.NO_DEPLOYMENTS
        return Row(messages.METRIC_RECOVERY, value, None)
    change = _change(recovery.median_seconds, _median(before.recovery_time), duration)
    counted = (messages.recovery_counted(recovery.incidents),)
    return Row(messages.METRIC_RECOVERY, _durations(recovery), recovery.band, change, counted)


def _restore(data: WindowReport, before: WindowReport) -> Row:
    """Time to restore over every incident, shown beside recovery time (SPEC.md)."""
    restore = data.time_to_restore
    if restore is None:
        return Row(messages.METRIC_RESTORE, messages.NO_RESTORES, None)
    change = _change(restore.median_seconds, _median(before.time_to_restore), duration)
    counted = (messages.restore_counted(restore.incidents),)
    return Row(messages.METRIC_RESTORE, _durations(restore), None, change, counted)
