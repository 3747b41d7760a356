"""Reading times people type, and writing times for storage and display.

Storage is UTC ISO-8601 text with second precision ("2026-11-20T14:05:00Z"): it sorts as
text, so SQL range queries on it are correct.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pendulum

EARLIEST = pendulum.datetime(2000, 1, 1)
# No report window reaches further ahead: far enough for any plan, and far from the year
# 9999 where a window's end or the window before it would overflow datetime.
LATEST = pendulum.datetime(2100, 1, 1)
# Clocks drift and people round: a time this far ahead of ours is still taken as "now-ish".
FUTURE_SLACK_SECONDS = 300

_UNITS = {
    "s": "seconds", "sec": "seconds", "secs": "seconds", "second": "seconds",
    "seconds": "seconds",
    "m": "minutes", "min": "minutes", "mins": "minutes", "minute": "minutes",
    "minutes": "minutes",
    "h": "hours", "hr": "hours", "hrs": "hours", "hour": "hours", "hours": "hours",
    "d": "days", "day": "days", "days": "days",
    "w": "weeks", "week": "weeks", "weeks": "weeks",
}  # fmt: skip
_AGO = re.compile(r"^(\d{1,4})\s*([a-z]+)\s+ago$")
_DAY_AND_TIME = re.compile(r"^(today|yesterday)\s+(\d{1,2}):(\d{2})$")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")
_ISO_START = re.compile(r"^\d{4}-?\d{2}-?\d{2}")


class BadTime(ValueError):
    """A time that could not be read; the message says why in words for the user."""


UTC_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def utc_text(moment: datetime) -> str:
    """Storage text for an instant. A naive datetime is taken as UTC, as PyGithub gives
    GitHub's "Z" times. strftime, not pendulum's format(): a push carries one time per
    commit, and format() cost more than the rest of a webhook delivery's mapping."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime(UTC_FORMAT)


def from_utc_text(text: str) -> pendulum.DateTime:
    parsed = pendulum.parse(text)
    assert isinstance(parsed, pendulum.DateTime)
    return parsed.in_timezone("UTC")


def show(moment: pendulum.DateTime | str, tz: str) -> str:
    """A time as the team reads it: local date and clock with the zone's abbreviation."""
    if isinstance(moment, str):
        moment = from_utc_text(moment)
    return moment.in_timezone(tz).format("YYYY-MM-DD HH:mm zz")


def duration(seconds: float) -> str:
    """A duration in the two largest units people use: "3d 4h", "1h 20m", "45s"."""
    seconds = round(seconds)
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "m"), (secs, "s")]
    while len(parts) > 1 and parts[0][0] == 0:
        parts.pop(0)
    return " ".join(f"{n}{unit}" for n, unit in parts[:2] if n or unit == parts[0][1])


def parse_moment(
    text: str, tz: str, now: pendulum.DateTime, *, allow_future: bool = False
) -> pendulum.DateTime:
    """An instant from ISO-8601 or a simple relative form, taken in the team time zone when
    it has no offset. Refuses times before 2000, and in the future unless allowed (a report
    window may end ahead; a deploy cannot have happened yet)."""
    value = " ".join(text.strip().lower().split())
    local_now = now.in_timezone(tz)
    moment: pendulum.DateTime | None = None
    if value == "now":
        moment = now
    elif match := _AGO.match(value):
        amount, unit = int(match.group(1)), _UNITS.get(match.group(2))
        if unit is not None:
            moment = now.subtract(**{unit: amount})
    elif match := _DAY_AND_TIME.match(value):
        day = local_now if match.group(1) == "today" else local_now.subtract(days=1)
        hour, minute = int(match.group(2)), int(match.group(3))
        if hour < 24 and minute < 60:
            moment = pendulum.datetime(day.year, day.month, day.day, hour, minute, tz=tz)
    elif match := _CLOCK.match(value):
        hour, minute = int(match.group(1)), int(match.group(2))
        if hour < 24 and minute < 60:
            moment = local_now.set(hour=hour, minute=minute, second=0, microsecond=0)
    elif _ISO_START.match(value):
        # Only strings that start with a date reach pendulum: given a bare clock time it
        # would read today's date from the wall clock.
        try:
            parsed = pendulum.parse(text.strip(), tz=tz)
        except (ValueError, OverflowError):
            parsed = None
        if isinstance(parsed, pendulum.DateTime):
            moment = parsed
        elif isinstance(parsed, pendulum.Date):
            moment = pendulum.datetime(parsed.year, parsed.month, parsed.day, tz=tz)
    if moment is None:
        raise BadTime("unreadable")
    # Extreme years are judged before converting: 0001-01-01 in UTC+1 (or 9999-12-31 in
    # UTC-5) is outside datetime's range in UTC, and the conversion raises OverflowError.
    if moment.year < EARLIEST.year - 1:
        raise BadTime("too_old")
    if moment.year > LATEST.year + 1:
        raise BadTime("future" if not allow_future else "too_late")
    moment = moment.in_timezone("UTC").replace(microsecond=0)
    if not allow_future and moment > now.add(seconds=FUTURE_SLACK_SECONDS):
        raise BadTime("future")
    if moment < EARLIEST:
        raise BadTime("too_old")
    if moment > LATEST:
        raise BadTime("too_late")
    return moment
