"""A weekly time (a day name, HH:MM and a time zone), as weekly summaries and pulse
surveys keep it: its cron trigger, its runs around a moment (pure, so replies and
start-up catch-ups agree with the scheduler), and the scheduler's jobs kept in step."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, Protocol

import pendulum
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.base import BaseScheduler
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


@dataclass(frozen=True)
class WeeklyJob:
    when: Weekly
    args: tuple[Any, ...]
    name: str  # what the scheduler's log lines call it


def sync_jobs(
    scheduler: BaseScheduler,
    prefix: str,
    wanted: Mapping[str, WeeklyJob],
    run: Callable[..., object],
    **options: Any,
) -> list[str]:
    """Make the jobs whose ids start with `prefix` match `wanted` (by job id): add, replace,
    remove. Returns the ids removed. One run at a time, a late run once."""
    gone = [j.id for j in scheduler.get_jobs() if j.id.startswith(prefix) and j.id not in wanted]
    for job_id in gone:
        drop(scheduler, job_id)
    for job_id, job in wanted.items():
        scheduler.add_job(
            run,
            trigger(job.when),
            args=job.args,
            id=job_id,
            name=job.name,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            **options,
        )
    return gone


def drop(scheduler: BaseScheduler, job_id: str) -> None:
    with suppress(JobLookupError):  # gone already: it ran out, or a concurrent sync took it
        scheduler.remove_job(job_id)
