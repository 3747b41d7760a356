"""Scheduler mechanics shared by features: a weekly time's cron trigger and next run, the
scheduler's jobs kept in step, and the scheduler and thread pools `serve` runs them on.
The pure week arithmetic (runs around a moment, so replies and start-up catch-ups agree with
the scheduler) is in bot.core.weeks."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

import pendulum
from apscheduler.executors.pool import BasePoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED, BaseScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.core.weeks import Weekly


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


class TrackingExecutor(ThreadPoolExecutor):
    """A thread pool that remembers its unfinished work, so a stop can wait for it with a
    deadline."""

    def __init__(self, max_workers: int, name: str) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix=name)
        self._pending: set[Future[Any]] = set()
        self._pending_lock = threading.Lock()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future = super().submit(fn, *args, **kwargs)
        with self._pending_lock:
            self._pending.add(future)
        future.add_done_callback(self._done)
        return future

    def _done(self, future: Future[Any]) -> None:
        with self._pending_lock:
            self._pending.discard(future)

    def wait_idle(self, timeout: float) -> bool:
        """Wait for the work submitted so far; True when all of it finished in time."""
        with self._pending_lock:
            pending = list(self._pending)
        return not wait(pending, timeout=max(timeout, 0)).not_done


class JobThreads(TrackingExecutor):
    """The threads of a scheduler executor. Once shut down, a job still queued is skipped
    rather than run: it would only find the scheduler stopped."""

    def __init__(self, max_workers: int, name: str) -> None:
        super().__init__(max_workers, name)
        self._closed = threading.Event()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        if self._closed.is_set():
            # A job handed over just as the scheduler stopped: done, with no events to
            # report (APScheduler's run_job returns the events it dispatches).
            skipped: Future[Any] = Future()
            skipped.set_result([])
            return skipped
        return super().submit(self._unless_closed, fn, *args, **kwargs)

    def _unless_closed(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        return [] if self._closed.is_set() else fn(*args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        # The scheduler calls this holding its job-store lock, which a running job takes
        # when it adds or removes a job on its way out (a pulse send dropping its retry):
        # waiting here deadlocked. Never wait; Server.stop() waits, outside that lock.
        self._closed.set()
        super().shutdown(wait=False)


class JobPool(BasePoolExecutor):  # type: ignore[misc]
    """An APScheduler executor whose shutdown never waits, and whose running jobs a stop
    can wait for with a deadline (`threads.wait_idle`)."""

    def __init__(self, max_workers: int, name: str) -> None:
        self.threads = JobThreads(max_workers, name)
        super().__init__(self.threads)


class Scheduler(BackgroundScheduler):
    """APScheduler 3 removes a one-off job after handing it to an executor; when shutdown()
    has just marked the scheduler stopped, that removal looks among the not-yet-started
    jobs only, misses it, and the scheduler thread dies with a traceback on the way out.
    At shutdown the job is being dropped anyway, so that lookup error is not news."""

    def _process_jobs(self) -> float | None:
        try:
            return super()._process_jobs()  # type: ignore[no-any-return]
        except JobLookupError:
            if self.state == STATE_STOPPED:
                return None
            raise
