"""When weekly summaries go out: one APScheduler job per enabled subscription, a bounded
retry after a failed post, and a start-up catch-up for a run missed while the bot was down.

Which week a run summarises is always the last complete ISO week in the team time zone
(the metrics' weeks), whatever the subscription's own time zone says about when it runs.
"""

from __future__ import annotations

import logging
import threading

from slack_sdk import WebClient

from bot.core.moments import utc_text
from bot.core.weeks import this_weeks_run
from bot.deps import Deps
from bot.scheduling import WeeklyJob, drop, sync_jobs
from bot.summary import build as summary
from bot.summary.post import Disabled, Failed, PostResult, post_week
from storage import subscriptions

log = logging.getLogger(__name__)
JOB_PREFIX = "summary:"
RETRY_PREFIX = "summary-retry:"
CATCH_UP_JOB = "summary-catch-up"
# A weekly post a few hours late (a machine asleep, a busy process) beats a skipped week.
MISFIRE_GRACE_SECONDS = 24 * 3600
# A failed post (Slack down, a network error) is tried again every 15 minutes, 4 times, so
# an hour's outage costs no week; after that the next start-up catch-up or a manual
# `shipshape summary --post` posts it. Permanent refusals disable instead (summary_post).
RETRY_MINUTES = 15
MAX_RETRIES = 4


def job_id(channel: str) -> str:
    return JOB_PREFIX + channel


def sync(deps: Deps, client: WebClient) -> None:
    """Make the jobs match the subscriptions table: add, replace, remove. A scheduler that
    is not running yet keeps them pending; the CLI has none, and runs no jobs."""
    scheduler = deps.scheduler
    if scheduler is None:
        return
    wanted = {
        job_id(s.channel_id): WeeklyJob(
            s, (deps, client, s.channel_id), f"weekly summary in {s.channel_id}"
        )
        for s in subscriptions.every(deps.store.db)
        if s.enabled
    }
    gone = sync_jobs(scheduler, JOB_PREFIX, wanted, fire, misfire_grace_time=MISFIRE_GRACE_SECONDS)
    for name in gone:
        drop(scheduler, RETRY_PREFIX + name.removeprefix(JOB_PREFIX))


def fire(deps: Deps, client: WebClient, channel: str) -> PostResult | None:
    """The scheduled run: the last complete week, if the channel still wants it (another
    process may have unsubscribed or disabled it since this job was added)."""
    sub = subscriptions.get(deps.store.db, channel)
    if sub is None or not sub.enabled:
        sync(deps, client)
        return None
    result = post_week(deps, client, channel)
    _follow_up(deps, client, channel, result, attempt=0)
    return result


def retry(
    deps: Deps, client: WebClient, channel: str, attempt: int, year: int, week: int
) -> PostResult | None:
    """Another go at a week whose post failed."""
    sub = subscriptions.get(deps.store.db, channel)
    if sub is None or not sub.enabled:
        if deps.scheduler is not None:
            drop(deps.scheduler, RETRY_PREFIX + channel)
        return None
    result = post_week(deps, client, channel, (year, week))
    _follow_up(deps, client, channel, result, attempt)
    return result


def catch_up(deps: Deps, client: WebClient) -> list[PostResult]:
    """Post each run that was due earlier this week (in the subscription's time zone)
    while no process was up to do it. The claim decides: a week already posted, or being
    posted by another process, is left alone."""
    now = deps.clock.now()
    results = []
    for sub in subscriptions.every(deps.store.db):
        run = this_weeks_run(sub, now)
        # A subscription made or changed after this week's run did not miss it.
        if not sub.enabled or run > now or sub.updated_at > utc_text(run):
            continue
        result = post_week(deps, client, sub.channel_id, summary.last_complete_week(run, deps.tz))
        log.info("start-up catch-up for %s: %s", sub.channel_id, result)
        _follow_up(deps, client, sub.channel_id, result, attempt=0)
        results.append(result)
    return results


def start_catch_up(deps: Deps, client: WebClient, done: threading.Event) -> None:
    """Run catch_up once on the scheduler's threads, off the start-up path; `done` is set
    when it has finished, whatever happened."""
    assert deps.scheduler is not None

    def run() -> None:
        try:
            catch_up(deps, client)
        except Exception:
            log.exception("the start-up catch-up of weekly summaries failed")
        finally:
            done.set()

    deps.scheduler.add_job(run, id=CATCH_UP_JOB, replace_existing=True)


def _follow_up(
    deps: Deps, client: WebClient, channel: str, result: PostResult, attempt: int
) -> None:
    scheduler = deps.scheduler
    if scheduler is None:  # the CLI: the person who ran it sees the result
        return
    if isinstance(result, Disabled):
        sync(deps, client)
    if isinstance(result, Failed) and attempt < MAX_RETRIES:
        year, week = summary.parse_week(result.week)
        # An interval job whose every run either replaces it (one more attempt, 15 minutes
        # on) or removes it: the scheduler keeps the real time, not us.
        scheduler.add_job(
            retry,
            "interval",
            minutes=RETRY_MINUTES,
            args=(deps, client, channel, attempt + 1, year, week),
            id=RETRY_PREFIX + channel,
            name=f"weekly summary in {channel}, attempt {attempt + 2}",
            replace_existing=True,
            coalesce=True,
            max_instances=1,
        )
    else:
        drop(scheduler, RETRY_PREFIX + channel)
