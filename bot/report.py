"""One metrics report: a window and the one before it, in the shape of `report --json`."""

from __future__ import annotations

from typing import Any

import sqlite_utils

from bot.metrics import metrics
from bot.times import utc_text
from bot.windows import Window
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
) -> dict[str, Any]:
    """`environment` is the name asked for (None: the production environments);
    `environments` the names that count."""
    current = _window_report(db, window, environments, service, tz)
    previous = _window_report(db, window.previous(), environments, service, tz)
    scope = {"service": service, "environment": environment}
    return {
        "window": current.pop("window"),
        **scope,
        **current,
        "previous": {"window": previous.pop("window"), **scope, **previous},
    }
