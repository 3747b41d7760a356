"""One metrics report: a window and the one before it, typed; `to_json()` is the shape of
`report --json` (SPEC.md "CLI for people and scripts"), which /dora's card, the terminal
table and the weekly summary read by attribute."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import sqlite_utils

from bot.core.moments import utc_text
from bot.core.windows import Window
from bot.metrics.definitions import (
    ChangeFailureRate,
    DeploymentFrequency,
    LeadTime,
    RecoveryTime,
    ReworkRate,
    TimeToRestore,
    change_failure_rate,
    deployment_frequency,
    lead_time,
    recovery_time,
    rework_rate,
    time_to_restore,
)
from storage.facts import Facts
from storage.metrics import facts
from storage.teams import Team


@dataclass(frozen=True)
class WindowReport:
    """Every metric of one window. None is a metric with no data (JSON null); deployment
    frequency always has a value, since a count of 0 is a fact."""

    deployment_frequency: DeploymentFrequency
    lead_time: LeadTime | None
    change_failure_rate: ChangeFailureRate | None
    recovery_time: RecoveryTime | None
    rework_rate: ReworkRate | None
    time_to_restore: TimeToRestore | None
    failed_attempts: int

    @classmethod
    def of(cls, found: Facts, tz: str) -> WindowReport:
        return cls(
            deployment_frequency=deployment_frequency(found, tz),
            lead_time=lead_time(found),
            change_failure_rate=change_failure_rate(found),
            recovery_time=recovery_time(found),
            rework_rate=rework_rate(found),
            time_to_restore=time_to_restore(found),
            failed_attempts=found.failed_attempts,
        )

    def to_json(self) -> dict[str, Any]:
        """The metrics' keys of `report --json`: the fields are declared in SPEC's order."""
        return asdict(self)


@dataclass(frozen=True)
class Report:
    """The metrics of `window` and of `previous_window` (the one compared with), for one
    `service` or one `team`'s services (both None: all) in one `environment` (None: the
    production environments)."""

    window: Window
    service: str | None
    environment: str | None
    current: WindowReport
    previous_window: Window
    previous: WindowReport
    team: Team | None = None

    def to_json(self) -> dict[str, Any]:
        """SPEC's `report --json` object; the previous window has the same keys."""
        return {
            **self._scoped(self.window, self.current),
            "previous": self._scoped(self.previous_window, self.previous),
        }

    def _scoped(self, window: Window, metrics: WindowReport) -> dict[str, Any]:
        # A team's report names the team and its services (SPEC.md "Teams"); every other
        # report keeps exactly the keys SPEC's "CLI for people and scripts" lists.
        team = {"team": self.team.name, "services": sorted(self.team.services)} if self.team else {}
        return {
            "window": {"from": utc_text(window.start), "to": utc_text(window.end)},
            "service": self.service,
            **team,
            "environment": self.environment,
            **metrics.to_json(),
        }


def window_report(
    db: sqlite_utils.Database,
    window: Window,
    environments: tuple[str, ...],
    services: tuple[str, ...] | None,
    tz: str,
) -> WindowReport:
    """The metrics of one window over `services` (None: every service), counted as one."""
    start, end = utc_text(window.start), utc_text(window.end)
    return WindowReport.of(facts(db, start, end, window.days, environments, services), tz)


def build(
    db: sqlite_utils.Database,
    window: Window,
    *,
    environments: tuple[str, ...],
    environment: str | None,
    service: str | None,
    tz: str,
    previous: Window | None = None,
    team: Team | None = None,
) -> Report:
    """`environment` is the name asked for (None: the production environments);
    `environments` the names that count. `team` (with `service` None) counts the team's
    services exactly as if they were one. `previous` defaults to the window of the same
    length just before; an ISO week gives the week before, which across a daylight-saving
    change is an hour longer or shorter."""
    assert service is None or team is None, "a report is for a service or a team, not both"
    services = scope_services(service, team)
    before = window.previous() if previous is None else previous
    return Report(
        window=window,
        service=service,
        environment=environment,
        current=window_report(db, window, environments, services, tz),
        previous_window=before,
        previous=window_report(db, before, environments, services, tz),
        team=team,
    )


def scope_services(service: str | None, team: Team | None) -> tuple[str, ...] | None:
    """The services a report over `service` or `team` reads; None: every service."""
    if team is not None:
        return team.services
    return None if service is None else (service,)
