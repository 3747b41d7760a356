"""A weekly time (a day name, HH:MM and a time zone), as weekly summaries and pulse
surveys keep it: its cron trigger, and its runs around a moment. Pure, so replies and
start-up catch-ups agree with the scheduler."""

from __future__ import annotations

from typing import Protocol

import pendulum
from apscheduler.triggers.cron import CronTrigger


class Weekly(Protocol):
    @property
    def day(self) -> str: ...  # mon..sun

    @property
    def time(self) -> str: ...  # HH:MM, 24-hour, in `timezone`

    @property
    def timezone(self) -> str: ...


DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # ISO order: Monday is weekday 0


def trigger(sub: Weekly) -> CronTrigger:
    """Day names, never numbers: APScheduler counts weekdays from Monday = 0 and crontab
    from Sunday = 0, and a number would silently mean the wrong day to one of them."""
    hour, minute = sub.time.split(":")
    return CronTrigger(
        day_of_week=sub.day, hour=int(hour), minute=int(minute), timezone=sub.timezone
    )


def next_run(sub: Weekly, now: pendulum.DateTime) -> pendulum.DateTime:
    """The first run at or after `now`, as the scheduler computes it."""
    found = trigger(sub).get_next_fire_time(None, now)
    assert found is not None  # a weekly cron trigger without an end always has a next time
    return pendulum.instance(found).in_timezone(sub.timezone)


def this_weeks_run(sub: Weekly, now: pendulum.DateTime) -> pendulum.DateTime:
    """The run in the ISO week (in the subscription's time zone) that contains `now`,
    before or after it."""
    local = now.in_timezone(sub.timezone)
    day = local.date().subtract(days=local.weekday()).add(days=DAYS.index(sub.day))
    hour, minute = sub.time.split(":")
    return pendulum.datetime(day.year, day.month, day.day, int(hour), int(minute),
                             tz=sub.timezone)  # fmt: skip
