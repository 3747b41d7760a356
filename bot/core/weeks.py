"""ISO weeks and weekly times, pure: the window of an ISO week, the weeks ending with one and
their labels, and a weekly time (a day name, HH:MM and a time zone, as weekly summaries and
pulse surveys keep it) with its run in a given week. The scheduler's side is bot.scheduling."""

from __future__ import annotations

from typing import Protocol

import pendulum

from bot.core.windows import Window, _local_midnight, _make
from bot.core.wording import WEEKDAYS


class Weekly(Protocol):
    @property
    def day(self) -> str: ...  # mon..sun

    @property
    def time(self) -> str: ...  # HH:MM, 24-hour, in `timezone`

    @property
    def timezone(self) -> str: ...


DAYS = tuple(WEEKDAYS)  # ISO order: Monday is weekday 0


def this_weeks_run(sub: Weekly, now: pendulum.DateTime) -> pendulum.DateTime:
    """The run in the ISO week (in the subscription's time zone) that contains `now`,
    before or after it."""
    local = now.in_timezone(sub.timezone)
    day = local.date().subtract(days=local.weekday()).add(days=DAYS.index(sub.day))
    hour, minute = sub.time.split(":")
    return pendulum.datetime(day.year, day.month, day.day, int(hour), int(minute),
                             tz=sub.timezone)  # fmt: skip


def iso_week(year: int, week: int, tz: str) -> Window:
    """ISO week `year`-W`week` in the team time zone."""
    monday = pendulum.Date.fromisocalendar(year, week, 1)
    start = _local_midnight(monday, tz)
    return _make(start, _local_midnight(monday.add(days=7), tz), tz)


def weeks_ending(year: int, week: int, count: int = 12) -> list[tuple[int, int]]:
    """The `count` ISO weeks that end with `year`-W`week`, oldest first."""
    monday = pendulum.Date.fromisocalendar(year, week, 1)
    weeks = []
    for back in range(count - 1, -1, -1):
        found_year, found_week, _ = monday.subtract(weeks=back).isocalendar()
        weeks.append((found_year, found_week))
    return weeks


def week_label(year: int, week: int) -> str:
    return f"{year}-W{week:02d}"
