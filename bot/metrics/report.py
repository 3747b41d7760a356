"""One metrics report: a window and the one before it, in the shape of `report --json`."""

from __future__ import annotations

from typing import Any

import sqlite_utils

from bot.core.moments import utc_text
from bot.core.windows import Window
from bot.metrics.definitions import metrics
from storage.metrics import facts


def _window_report(
    db: sqlite_utils.Database,
    window: Window,
    environments: tuple[str, ...],
    service: str | None,
    tz: str,
) -> dict[str, Any]:
    start, end = utc_text(window.start), utc_text(window.end)
    found = facts(db, start, end, window.days, environments, service)
    return {"window": {"from": start, "to": end}, **metrics(found, tz)}


def build(
    db: sqlite_utils.Database,
    window: Window,
    *,
    environments: tuple[str, ...],
    environment: str | None,
    service: str | None,
    tz: str,
    previous: Window | None = None,
) -> dict[str, Any]:
    """`environment` is the name asked for (None: the production environments);
    `environments` the names that count. `previous` defaults to the window of the same
    length just before; an ISO week gives the week before, which across a daylight-saving
    change is an hour longer or shorter."""
    current = _window_report(db, window, environments, service, tz)
    before = window.previous() if previous is None else previous
    previous_report = _window_report(db, before, environments, service, tz)
    scope = {"service": service, "environment": environment}
    return {
        "window": current.pop("window"),
        **scope,
        **current,
        "previous": {"window": previous_report.pop("window"), **scope, **previous_report},
    }
