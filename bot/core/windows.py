"""Time windows for metrics: `[start, end)` instants, read from what people type.

Calendar windows (weeks, months, quarters, whole days) are taken in the team time zone.
Weeks start on Monday, computed here rather than with pendulum.week_starts_at, which is
process-wide.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pendulum

from bot.core.moments import EARLIEST, LATEST, BadTime, parse_moment

MAX_DAYS = 3650
# The calendar days a from/to window may name (wording.WINDOW_DATES says them to people).
FIRST_DAY = EARLIEST.date()
LAST_DAY = LATEST.date().subtract(days=1)
_DAYS = re.compile(r"^(\d{1,4})d$")
_PERIOD = re.compile(r"^(this|last)\s+(week|month|quarter)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class BadWindow(ValueError):
    """A window that could not be read; the message is its reason code, which each edge
    renders (/dora in commands.dora, `shipshape report` in bot.app.text): "unreadable" and
    "days_out_of_range" for a window, "unreadable_date", "out_of_range" and
    "end_before_start" for from/to, and, from `chosen`, "range_missing" (one of from/to)
    and "window_and_range" (both kinds given)."""


@dataclass(frozen=True)
class Window:
    start: pendulum.DateTime  # UTC, included
    end: pendulum.DateTime  # UTC, excluded
    days: float  # calendar days for whole-day windows, else exact seconds / 86400

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    def previous(self) -> Window:
        """The window of the same length just before this one."""
        return Window(self.start.subtract(seconds=self.seconds), self.start, self.days)


def _local_midnight(day: pendulum.Date, tz: str) -> pendulum.DateTime:
    return pendulum.datetime(day.year, day.month, day.day, tz=tz)


def _make(start: pendulum.DateTime, end: pendulum.DateTime, tz: str) -> Window:
    local_start, local_end = start.in_timezone(tz), end.in_timezone(tz)
    whole_days = local_start == local_start.start_of("day") and local_end == local_end.start_of(
        "day"
    )
    if whole_days:
        days = float((local_end.date() - local_start.date()).days)
    else:
        days = (end - start).total_seconds() / 86_400
    return Window(start.in_timezone("UTC"), end.in_timezone("UTC"), days)


def last_days(n: int, now: pendulum.DateTime) -> Window:
    """The n days up to now."""
    end = now.in_timezone("UTC")  # in UTC every day is 24 hours, so N days are N x 24 h
    return Window(end.subtract(days=n), end, float(n))


def _period_start(moment: pendulum.DateTime, unit: str) -> pendulum.DateTime:
    day = moment.start_of("day")
    if unit == "week":
        return day.subtract(days=day.weekday())  # weekday(): Monday is 0
    if unit == "month":
        return day.start_of("month")
    first_month = 3 * ((day.month - 1) // 3) + 1
    # Month first: 31 May with its month set to April would be a day that does not exist.
    return day.start_of("month").set(month=first_month)


def period(which: str, unit: str, now: pendulum.DateTime, tz: str) -> Window:
    """`this week` runs from the start of the period to now; `last week` is all of the one
    before."""
    start = _period_start(now.in_timezone(tz), unit)
    if which == "this":
        return _make(start, now, tz)
    previous_start = _period_start(start.subtract(days=1), unit)
    return _make(previous_start, start, tz)


def between(start_text: str, end_text: str, now: pendulum.DateTime, tz: str) -> Window:
    """`from=DATE to=DATE`: whole calendar days in the team time zone, both included; a
    full timestamp is taken as given."""
    start = _bound(start_text, now, tz, end=False)
    end = _bound(end_text, now, tz, end=True)
    if end <= start:
        raise BadWindow("end_before_start")
    return _make(start, end, tz)


def _bound(text: str, now: pendulum.DateTime, tz: str, *, end: bool) -> pendulum.DateTime:
    """One end of a from/to window: a day's midnight (the next day's for the end, which is
    excluded) or a full time. Raises BadWindow: "out_of_range" outside FIRST_DAY..LAST_DAY,
    where the window or the one before it could overflow datetime; else "unreadable_date"."""
    try:
        if not _DATE.match(text):
            return parse_moment(text, tz, now, allow_future=True)
        day = pendulum.Date.fromisoformat(text)
    except BadTime as error:
        reason = "out_of_range" if str(error) in ("too_old", "too_late") else "unreadable_date"
        raise BadWindow(reason) from error
    except ValueError as error:
        raise BadWindow("unreadable_date") from error
    if not FIRST_DAY <= day <= LAST_DAY:
        raise BadWindow("out_of_range")
    return _local_midnight(day.add(days=1) if end else day, tz)


def chosen(
    window: str | None, start: str | None, end: str | None, now: pendulum.DateTime, tz: str
) -> Window:
    """The window a report asks for: `window` (default 30d) or `start` and `end` together,
    never both. Raises BadWindow, "window_and_range" and "range_missing" included."""
    if window is not None and (start is not None or end is not None):
        raise BadWindow("window_and_range")
    if (start is None) != (end is None):
        raise BadWindow("range_missing")
    if start is not None and end is not None:
        return between(start, end, now, tz)
    return parse(window or "30d", now, tz)


def parse(text: str, now: pendulum.DateTime, tz: str) -> Window:
    """`7d`, `Nd`, `this week`, `last month`, `this quarter`, ... (not from=/to=)."""
    value = " ".join(text.lower().split())
    if match := _DAYS.match(value):
        n = int(match.group(1))
        if not 1 <= n <= MAX_DAYS:
            raise BadWindow("days_out_of_range")
        return last_days(n, now)
    if match := _PERIOD.match(value):
        return period(match.group(1), match.group(2), now, tz)
    raise BadWindow("unreadable")
