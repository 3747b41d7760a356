"""A metrics report as rows of words: what each metric is, its band, its change from the
previous window and what it counted. /dora's card and the terminal table both render
these rows, so Slack and `shipshape report` always say the same thing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.core.moments import duration
from bot.core.wording import env_name, percent, percentage_points, plural
from bot.metrics.definitions import (
    ChangeFailureRate,
    LeadTime,
    RecoveryTime,
    ReworkRate,
    TimeToRestore,
)
from bot.metrics.report import Report, WindowReport
from bot.teams.text import team_label
from storage.teams import Team

# ---- words: the metrics report's, in /dora's card and `shipshape report` alike --------------

DORA_CHANGE_NEW = "new (none in the window before)"
REPORT_METRIC = "metric"
REPORT_VALUE = "value"
REPORT_BAND = "band"
REPORT_CHANGE = "vs previous window"
METRIC_FREQUENCY = "Deployment frequency"
METRIC_LEAD_TIME = "Change lead time"
METRIC_FAILURE_RATE = "Change failure rate"
METRIC_RECOVERY = "Failed deployment recovery time"
METRIC_REWORK = "Deployment rework rate"
METRIC_RESTORE = "Time to restore, all incidents"
NO_BAND = "-"
NO_DEPLOYMENTS = "no deployments in this window"
NO_CHANGES_KNOWN = "no changes known for these deployments"
NO_RECOVERIES = "no incident caused by a deployment was resolved in this window"
NO_RESTORES = "no incident was resolved in this window"
NO_CHANGE = "no change"


def report_title(service: str | None, environment: str | None, team: Team | None = None) -> str:
    where = env_name(environment) if environment else "production"
    if team is not None:
        return f"Delivery health of the {team_label(team.name, team.services)}; {where}"
    return f"Delivery health: {service or 'all services'}, {where}"


def report_window(start: str, end: str, previous_start: str) -> str:
    return f"{start} up to {end}; compared with {previous_start} up to {start}"


def frequency_value(count: int, per_week: float) -> str:
    return f"{count} ({per_week:.1f} a week)"


def frequency_counted(count: int, deploy_days: int) -> str:
    return f"{plural(count, 'deployment')} on {plural(deploy_days, 'deploy day')}"


def median_p90(median: str, p90: str) -> str:
    return f"median {median}, p90 {p90}"


def lead_counted(with_changes: int, deployments: int, changes: int) -> str:
    return (
        f"lead time known for {with_changes} of {plural(deployments, 'deployment')} "
        f"({plural(changes, 'change')})"
    )


def failure_counted(failed: int, deployments: int) -> str:
    return (
        f"{failed} of {plural(deployments, 'deployment')} failed in production "
        "(an incident or a rollback)"
    )


def recovery_counted(incidents: int) -> str:
    return f"{plural(incidents, 'incident')} caused by a deployment, resolved in this window"


def rework_counted(rework: int, deployments: int) -> str:
    return f"{rework} of {plural(deployments, 'deployment')} were hotfixes or rollbacks"


def restore_counted(incidents: int) -> str:
    return f"{plural(incidents, 'incident')} resolved in this window, caused by a deploy or not"


def failed_attempts(count: int) -> str:
    return f"{plural(count, 'failed deploy attempt')} (never reached production; in no metric)"


def change_up_down(up: bool, amount: str, was: str) -> str:
    return f"{'↑' if up else '↓'} {amount} (was {was})"


def change_none(was: str) -> str:
    return f"{NO_CHANGE} (was {was})"


def bands_source(source: str) -> str:
    return f"Bands: {source}. Rates and durations are explained by `/dora help`."


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
        return DORA_CHANGE_NEW
    if now == before:
        return change_none(shown(before))
    if before == 0:
        return DORA_CHANGE_NEW  # a percentage of nothing means nothing
    relative = abs(now - before) / before
    amount = "<1%" if relative < 0.01 else f"{relative * 100:.0f}%"
    return change_up_down(now > before, amount, shown(before))


def _rate_change(now: float, before: Rate | None) -> str:
    """A rate's move in percentage points: a relative change of a percentage misleads
    (10% to 15% is "+5 pts", not "+50%"), and 0% before is a fact, not nothing."""
    if before is None:
        return DORA_CHANGE_NEW
    points = round((now - before.rate) * 100, 1)
    if points == 0:
        return change_none(percent(before.rate))
    return change_up_down(points > 0, percentage_points(abs(points)), percent(before.rate))


def _durations(metric: Durations) -> str:
    return median_p90(duration(metric.median_seconds), duration(metric.p90_seconds))


def _median(metric: Durations | None) -> float | None:
    return metric.median_seconds if metric else None


def rows(report: Report) -> list[Row]:
    """A report's metrics in the order of `report --json`: the five DORA metrics, then time
    to restore over every incident, beside recovery time."""
    data, before = report.current, report.previous
    frequency = data.deployment_frequency
    deployments = frequency.count
    counted = [frequency_counted(deployments, frequency.deploy_days)]
    if data.failed_attempts:
        counted.append(failed_attempts(data.failed_attempts))
    first = Row(
        METRIC_FREQUENCY,
        frequency_value(deployments, frequency.per_week),
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
        nothing = (METRIC_LEAD_TIME, METRIC_FAILURE_RATE)
        per_deployment = [
            *(Row(name, NO_DEPLOYMENTS, None) for name in nothing),
            _recovery(data, before),
            Row(METRIC_REWORK, NO_DEPLOYMENTS, None),
        ]
    return [first, *per_deployment, _restore(data, before)]


def _rework(data: WindowReport, before: WindowReport) -> Row:
    rework = data.rework_rate
    assert rework is not None  # only called when the window has deployments
    return Row(
        METRIC_REWORK,
        percent(rework.rate),
        None,  # DORA publishes no benchmark for rework rate
        _rate_change(rework.rate, before.rework_rate),
        (rework_counted(rework.rework, rework.deployments),),
    )


def _lead_time(data: WindowReport, before: WindowReport, deployments: int) -> Row:
    lead = data.lead_time
    if lead is None:
        known = lead_counted(0, deployments, 0)
        return Row(METRIC_LEAD_TIME, NO_CHANGES_KNOWN, None, "", (known,))
    known = lead_counted(lead.deployments_with_changes, deployments, lead.changes)
    change = _change(lead.median_seconds, _median(before.lead_time), duration)
    return Row(METRIC_LEAD_TIME, _durations(lead), lead.band, change, (known,))


def _failure_rate(data: WindowReport, before: WindowReport) -> Row:
    failure = data.change_failure_rate
    assert failure is not None  # only called when the window has deployments
    return Row(
        METRIC_FAILURE_RATE,
        percent(failure.rate),
        failure.band,
        _rate_change(failure.rate, before.change_failure_rate),
        (failure_counted(failure.failed, failure.deployments),),
    )


def _recovery(data: WindowReport, before: WindowReport) -> Row:
    recovery = data.recovery_time
    if recovery is None:
        # Recovery also counts incidents of earlier deployments, so an empty result means
        # "no deployments" only when the window had none.
        deployments = data.deployment_frequency.count
        value = NO_RECOVERIES if deployments else NO_DEPLOYMENTS
        return Row(METRIC_RECOVERY, value, None)
    change = _change(recovery.median_seconds, _median(before.recovery_time), duration)
    counted = (recovery_counted(recovery.incidents),)
    return Row(METRIC_RECOVERY, _durations(recovery), recovery.band, change, counted)


def _restore(data: WindowReport, before: WindowReport) -> Row:
    """Time to restore over every incident, shown beside recovery time (SPEC.md)."""
    restore = data.time_to_restore
    if restore is None:
        return Row(METRIC_RESTORE, NO_RESTORES, None)
    change = _change(restore.median_seconds, _median(before.time_to_restore), duration)
    counted = (restore_counted(restore.incidents),)
    return Row(METRIC_RESTORE, _durations(restore), None, change, counted)
