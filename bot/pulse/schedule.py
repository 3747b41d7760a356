"""When pulse rounds happen: a cron job per active survey, a tick that closes rounds and
sends reminders, and the jobs that send a round's DMs.

All of them run on one scheduler thread of their own (EXECUTOR), so at most one pulse
message is in flight in the process and pausing between messages keeps to Slack's pace.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

import pendulum
from apscheduler.executors.base import BaseExecutor
from apscheduler.schedulers.base import BaseScheduler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.moments import from_utc_text, utc_text
from bot.core.weeks import this_weeks_run
from bot.deps import Deps
from bot.pulse import rounds as pulse_rounds
from bot.pulse.rounds import Message
from bot.scheduling import WeeklyJob, drop, sync_jobs, trigger
from storage import pulse
from storage.pulse import Survey

log = logging.getLogger(__name__)
EXECUTOR = "pulse"
JOB_PREFIX = "pulse:"
SEND_PREFIX = "pulse-send:"
TICK_JOB = "pulse-tick"
RESUME_JOB = "pulse-resume"
TICK_MINUTES = 10
# A round whose audience Slack would not list (an outage) is tried again every 10 minutes
# for an hour; after that the next start-up sends it.
RETRY_MINUTES = 10
MAX_RETRIES = 6
# Biweekly surveys run their cron job every week and open a round only when the last one
# is old enough, so the fortnight is counted from the rounds stored in the database and
# survives restarts (an IntervalTrigger would restart its count at each start). A day's
# margin under the cadence: a round opened a little late last time still counts.
MIN_GAP_DAYS = {"weekly": 6, "biweekly": 13}
MISFIRE_GRACE_SECONDS = 3600
# A round whose time came while no process was up is sent at the next start within a day;
# later than that, people would get it on the wrong day, so the next one waits its turn.
CATCH_UP_HOURS = 24


def _scheduler(deps: Deps) -> BaseScheduler:
    assert deps.scheduler is not None, "pulse jobs need the serve process's scheduler"
    return deps.scheduler


def is_due(survey: Survey, last_opened: str | None, now: pendulum.DateTime) -> bool:
    if last_opened is None:
        return True
    return now - from_utc_text(last_opened) >= timedelta(days=MIN_GAP_DAYS[survey.cadence])


def next_round_at(
    survey: Survey, last_opened: str | None, now: pendulum.DateTime
) -> pendulum.DateTime:
    """When the schedule next opens a round, in the survey's time zone."""
    cron = trigger(survey)
    at = cron.get_next_fire_time(None, now)
    while at is not None and not is_due(survey, last_opened, pendulum.instance(at)):
        at = cron.get_next_fire_time(at, at + timedelta(seconds=1))
    assert at is not None  # a weekly cron trigger without an end always has a next time
    return pendulum.instance(at).in_timezone(survey.timezone)


def install(deps: Deps, client: WebClient, thread: BaseExecutor) -> None:
    """The pulse thread (`thread`, an executor of one thread that the serve process can
    wait for when it stops), the tick and a job per active survey, on the serve scheduler."""
    scheduler = _scheduler(deps)
    scheduler.add_executor(thread, EXECUTOR)
    scheduler.add_job(
        tick,
        "interval",
        minutes=TICK_MINUTES,
        args=(deps, client),
        id=TICK_JOB,
        executor=EXECUTOR,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
    )
    sync(deps, client)


def sync(deps: Deps, client: WebClient) -> None:
    """Make the cron jobs match the active surveys: add, replace, remove."""
    wanted = {
        f"{JOB_PREFIX}{s.id}": WeeklyJob(
            s, (deps, client, s.id), f"pulse round of survey {s.id} in {s.channel_id}"
        )
        for s in pulse.active_surveys(deps.store.db)
    }
    sync_jobs(
        _scheduler(deps),
        JOB_PREFIX,
        wanted,
        scheduled_round,
        executor=EXECUTOR,
        misfire_grace_time=MISFIRE_GRACE_SECONDS,
    )


def resume(deps: Deps, client: WebClient) -> None:
    """At start: close what is overdue, and finish sending every open round (a restart
    during sending: those already claimed are not DMed again)."""
    _scheduler(deps).add_job(
        _resume,
        args=(deps, client),
        id=RESUME_JOB,
        executor=EXECUTOR,
        replace_existing=True,
        misfire_grace_time=None,
    )


def send_soon(deps: Deps, client: WebClient, round_id: int, closed: Sequence[Message] = ()) -> None:
    """Mark the previous round's DMs closed, then send this round's, on the pulse thread."""
    _scheduler(deps).add_job(
        _mark_and_send,
        args=(deps, client, round_id, list(closed)),
        id=f"{SEND_PREFIX}{round_id}",
        executor=EXECUTOR,
        replace_existing=True,
        misfire_grace_time=None,
    )


def mark_closed_soon(deps: Deps, client: WebClient, closed: Sequence[Message]) -> None:
    if closed:
        _scheduler(deps).add_job(
            pulse_rounds.mark_closed,
            args=(deps, client, list(closed)),
            executor=EXECUTOR,
            misfire_grace_time=None,
        )


# ---- the jobs ------------------------------------------------------------------------------


def scheduled_round(deps: Deps, client: WebClient, survey_id: int) -> int | None:
    """A survey's cron job: open a round if the cadence says so, and send it."""
    survey = pulse.get_survey(deps.store.db, survey_id)
    if survey is None:  # stopped by another process since this job was added
        sync(deps, client)
        return None
    if not is_due(survey, pulse.last_opened_at(deps.store.db, survey_id), deps.clock.now()):
        return None
    round_id, closed = pulse_rounds.open_new(deps, survey_id)
    _mark_and_send(deps, client, round_id, closed)
    return round_id


def tick(deps: Deps, client: WebClient) -> None:
    pulse_rounds.mark_closed(deps, client, pulse_rounds.close_due(deps))
    pulse_rounds.remind(deps, client)


def missed(survey: Survey, last_opened: str | None, now: pendulum.DateTime) -> bool:
    """Whether the survey's latest scheduled round fell while no process was up: its time
    passed less than CATCH_UP_HOURS ago, after the survey began, with no round since."""
    run = this_weeks_run(survey, now)
    if run > now:
        run = run.subtract(weeks=1)
    if now - run > timedelta(hours=CATCH_UP_HOURS) or utc_text(run) < survey.created_at:
        return False
    return (last_opened is None or from_utc_text(last_opened) < run) and is_due(
        survey, last_opened, run
    )


def _resume(deps: Deps, client: WebClient) -> None:
    tick(deps, client)
    now = deps.clock.now()
    for survey in pulse.active_surveys(deps.store.db):
        if missed(survey, pulse.last_opened_at(deps.store.db, survey.id), now):
            log.info("pulse survey %s: sending the round missed while down", survey.id)
            pulse_rounds.mark_closed(deps, client, pulse_rounds.open_new(deps, survey.id)[1])
    for found in pulse.open_rounds(deps.store.db):
        _send(deps, client, found.id, attempt=0)


def _mark_and_send(deps: Deps, client: WebClient, round_id: int, closed: Sequence[Message]) -> None:
    pulse_rounds.mark_closed(deps, client, closed)
    _send(deps, client, round_id, attempt=0)


def _send(deps: Deps, client: WebClient, round_id: int, attempt: int) -> None:
    retry = f"{SEND_PREFIX}{round_id}:retry"
    try:
        sent = pulse_rounds.send_round(deps, client, round_id)
        log.info("pulse round %s: %s DMs sent", round_id, sent)
    except SlackApiError as error:
        log.warning("pulse round %s: Slack would not list its audience (%s)", round_id,
                    error.response.get("error"))  # fmt: skip
        if attempt < MAX_RETRIES:
            # An interval job that each run replaces (one more attempt) or removes: the
            # scheduler keeps the real time, not us.
            _scheduler(deps).add_job(
                _send,
                "interval",
                minutes=RETRY_MINUTES,
                args=(deps, client, round_id, attempt + 1),
                id=retry,
                executor=EXECUTOR,
                replace_existing=True,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=None,
            )
            return
    drop(_scheduler(deps), retry)
