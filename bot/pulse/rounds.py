"""Pulse rounds: who is asked, opening a round, sending its DMs at Slack's pace, the one
reminder, and closing.

Everything that posts runs on the scheduler's single pulse thread (bot/pulse/schedule.py),
so pausing after each message paces the whole process, and a shutdown of the scheduler
stops a long send between two messages.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Sequence

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.moments import utc_text
from bot.deps import Deps
from bot.pulse import dm as pulse_dm
from bot.pulse.logs import private
from storage import pulse
from storage.pulse import Survey
from storage.pulse_answers import has_responded

log = logging.getLogger(__name__)
ROUND_DAYS = 6
REMIND_AFTER_HOURS = 24
MEMBERS_PAGE = 200
# Slackbot is a user with is_bot false; it cannot answer a survey.
SLACKBOT = "USLACKBOT"
KEY_BYTES = 32

Message = tuple[str, str]  # (DM channel, ts)


# ---- the audience --------------------------------------------------------------------------


def members(client: WebClient, survey: Survey) -> list[str]:
    """Everyone in the channel or user group, as Slack lists them. Raises SlackApiError
    when Slack will not say (a private channel the bot is not in, a deleted group)."""
    if survey.audience_kind == "usergroup":
        return list(client.usergroups_users_list(usergroup=survey.audience_id)["users"])
    found: list[str] = []
    cursor = ""
    while True:
        page = client.conversations_members(
            channel=survey.audience_id, limit=MEMBERS_PAGE, cursor=cursor or None
        )
        found.extend(page["members"])
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or ""
        if not cursor:
            return found


def audience(deps: Deps, client: WebClient, survey: Survey) -> list[str]:
    """The people a round asks: members minus bots, deactivated accounts and those who
    chose "Stop asking me". Raises SlackApiError like members()."""
    # Pages can overlap when people join while they are read: ask each person once.
    people = dict.fromkeys(members(client, survey))
    skip = pulse.opted_out(deps.store.db) | {SLACKBOT, str(client.auth_test()["user_id"])}
    eligible: list[str] = []
    for user_id in people:
        if user_id in skip:
            continue
        try:
            user = client.users_info(user=user_id)["user"]
        except SlackApiError as error:
            log.warning("users.info for %s failed (%s); not asking them", user_id,
                        error.response.get("error"))  # fmt: skip
            continue
        if not (user.get("is_bot") or user.get("deleted") or user.get("is_app_user")):
            eligible.append(user_id)
    return eligible


def find_usergroup(client: WebClient, handle: str) -> str | None:
    """The id of the user group with this @handle (Slack sends "@devs" as typed)."""
    groups = client.usergroups_list()["usergroups"]
    return next((g["id"] for g in groups if g.get("handle", "").lower() == handle.lower()), None)


# ---- opening and closing -------------------------------------------------------------------


def _close(deps: Deps, round_id: int, at: str) -> list[Message]:
    """Inside a write transaction: the round's DMs, then the close that forgets them."""
    messages = pulse.sent_messages(deps.store.db, round_id)
    pulse.close_round(deps.store.db, round_id, at)
    return messages


def open_new(
    deps: Deps, survey_id: int, source_key: str | None = None
) -> tuple[int, list[Message]]:
    """Open a round of the survey, closing its open one in the same transaction (a round
    closes at the next round). Returns the new round and the closed round's DMs. A
    `source_key` that already opened a round (a replayed `/pulse now`) opens nothing and
    returns that round, with no DMs to close."""
    now = deps.clock.now()
    with deps.store.write() as db:
        opened = pulse.round_opened_by(db, source_key) if source_key else None
        if opened is not None:
            return opened[0], []
        current = pulse.open_round_of(db, survey_id)
        closed = _close(deps, current.id, utc_text(now)) if current else []
        round_id = pulse.open_round(
            db,
            survey_id,
            utc_text(now),
            utc_text(now.add(days=ROUND_DAYS)),
            secrets.token_bytes(KEY_BYTES),
            source_key,
        )
    if current is not None:
        deps.store.truncate_wal()
    return round_id, closed


def stop(deps: Deps, survey: Survey) -> tuple[bool, list[Message]]:
    """End the survey and close its open round, in one transaction: whether there was an
    open round, and its DMs."""
    now = utc_text(deps.clock.now())
    with deps.store.write() as db:
        pulse.stop_survey(db, survey.id, now)
        current = pulse.open_round_of(db, survey.id)
        closed = _close(deps, current.id, now) if current else []
    if current is not None:
        deps.store.truncate_wal()
    return current is not None, closed


def close_due(deps: Deps) -> list[Message]:
    """Close every round past its closing time; the DMs of the closed rounds."""
    now = utc_text(deps.clock.now())
    closed: list[Message] = []
    due = pulse.rounds_to_close(deps.store.db, now)
    for round_id in due:
        with deps.store.write() as db:
            if pulse.open_round_for(db, round_id) is not None:
                closed.extend(_close(deps, round_id, now))
    if due:
        deps.store.truncate_wal()
    return closed


def mark_closed(deps: Deps, client: WebClient, messages: Sequence[Message]) -> None:
    """Turn a closed round's DMs into "this round has closed", all alike, so their buttons
    stop inviting answers; one that cannot be updated any more is left as it is."""
    text, blocks = pulse_dm.closed_message()
    client = private(client)
    for channel, ts in messages:
        if _stopping(deps):
            return
        try:
            client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
        except SlackApiError as error:
            log.info("could not mark a pulse DM closed: %s", error.response.get("error"))
        _pause(deps)


# ---- sending -------------------------------------------------------------------------------


def send_round(deps: Deps, client: WebClient, round_id: int) -> int:
    """DM the round's survey to each person of the audience who has not had it; the
    number sent now. Safe to run again (after a restart, or twice at once): each DM is
    claimed first. Raises SlackApiError when the audience cannot be read."""
    found = pulse.open_round_for(deps.store.db, round_id)
    survey = found and pulse.get_survey(deps.store.db, found.survey_id)
    if found is None or survey is None:
        return 0
    client = private(client)  # each person's DM channel, and who was asked
    people = audience(deps, client, survey)
    done = pulse.invited_users(deps.store.db, round_id)
    text, blocks = pulse_dm.question_message(round_id, found.closes_at, deps.tz)
    sent = 0
    for user_id in people:
        if _stopping(deps):
            break
        if user_id in done:
            continue
        # At most once, across restarts and processes: the claim is committed before the
        # DM goes out. A crash between the two leaves this person un-asked this round
        # rather than asked twice.
        with deps.store.write() as db:
            if not pulse.claim_invite(db, round_id, user_id):
                continue
        try:
            channel = _dm_channel(deps, client, user_id)
            ts = str(client.chat_postMessage(channel=channel, text=text, blocks=blocks)["ts"])
        except SlackApiError as error:
            log.warning("could not DM round %s's survey to %s (%s); going on", round_id,
                        user_id, error.response.get("error"))  # fmt: skip
            continue
        finally:
            _pause(deps)
        with deps.store.write() as db:
            pulse.mark_sent(db, round_id, user_id, channel, ts, utc_text(deps.clock.now()))
        sent += 1
    return sent


def remind(deps: Deps, client: WebClient) -> int:
    """The one reminder, a day after each person's DM, to those who have neither answered
    nor skipped; the number sent. Claimed before sending, like the DM itself."""
    now = deps.clock.now()
    sent_before = utc_text(now.subtract(hours=REMIND_AFTER_HOURS))
    reminded = 0
    client = private(client)  # a reminder goes to those who have not answered
    for found in pulse.open_rounds(deps.store.db):
        if found.closes_at <= utc_text(now):
            continue
        text, blocks = pulse_dm.reminder_message(found.id, found.closes_at, deps.tz)
        # Someone who chose "Stop asking me" after this round's DM is not asked again.
        stopped = pulse.opted_out(deps.store.db)
        for invite in pulse.unreminded(deps.store.db, found.id, sent_before):
            if _stopping(deps):
                return reminded
            with deps.store.write() as db:
                done = invite.user_id in stopped or has_responded(
                    db, found.id, found.hash_key, invite.user_id
                )
                if done or not pulse.claim_reminder(db, found.id, invite.user_id, utc_text(now)):
                    continue
            try:
                posted = client.chat_postMessage(
                    channel=invite.dm_channel, text=text, blocks=blocks
                )
                with deps.store.write() as db:
                    pulse.mark_reminded(db, found.id, invite.user_id, str(posted["ts"]))
                reminded += 1
            except SlackApiError as error:
                # Not who: being reminded says that person has not answered.
                log.warning("could not send a reminder of round %s (%s)", found.id,
                            error.response.get("error"))  # fmt: skip
            _pause(deps)
    return reminded


def _dm_channel(deps: Deps, client: WebClient, user_id: str) -> str:
    cached = pulse.dm_channel(deps.store.db, user_id)
    if cached is not None:
        return cached
    channel = str(client.conversations_open(users=user_id)["channel"]["id"])
    with deps.store.write() as db:
        pulse.remember_dm_channel(db, user_id, channel)
    return channel


def _stopping(deps: Deps) -> bool:
    return deps.scheduler is not None and not deps.scheduler.running


def _pause(deps: Deps) -> None:
    if deps.config.pulse_send_interval > 0:
        time.sleep(deps.config.pulse_send_interval)
