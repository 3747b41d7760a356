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
    `service` (None: all) in one `environment` (None: the production environments)."""

    window: Window
    service: str | None
    environment: str | None
    current: WindowReport
    previous_window: Window
    previous: WindowReport

    def to_json(self) -> dict[str, Any]:
        """SPEC's `report --json` object; the previous window has the same keys."""
        return {
            **self._scoped(self.window, self.current),
            "previous": self._scoped(self.previous_window, self.previous),
        }

    def _scoped(self, window: Window, metrics: WindowReport) -> dict[str, Any]:
        return {
            "window": {"from": utc_text(window.start), "to": utc_text(window.end)},
            "service": self.service,
            "environment": self.environment,
            **metrics.to_json(),
        }


def _window_report(
    db: sqlite_utils.Database,
    window: Window,
    environments: tuple[str, ...],
    service: str | None,
    tz: str,
) -> WindowReport:
    start, end = utc_text(window.start), utc_text(window.end)
    return WindowReport.of(facts(db, start, end, window.days, environments, service), tz)


def build(
    db: sqlite_utils.Database,
    window: Window,
    *,
    environments: tuple[str, ...],
    environment: str | None,
    service: str | None,
    tz: str,
    previous: Window | None = None,
) -> Report:
    """`environment` is the name asked for (None: the production environments);
    `environments` the names that count. `previous` defaults to the window of the same
    length just before; an ISO week gives the week before, which across a daylight-saving
    change is an hour longer or shorter."""
    before = window.previous() if previous is None else previous
    return Report(
        window=window,
        service=service,
        environment=environment,
        current=_window_report(db, window, environments, service, tz),
        previous_window=before,
        previous=_window_report(db, before, environments, service, tz),
    )
