"""Posting a channel's weekly summary exactly once: claim, post, then keep or release.

The claim row (storage/subscriptions.py) is taken in one write transaction before anything
reaches Slack, so the schedule, the start-up catch-up, `shipshape summary --post` and a
second process on the same database never post one week twice. A failed post releases it so
the week can be tried again. The one gap left is a process killed between Slack accepting
the message and the claim recording its ts: after the lease another process posts again.
That needs a crash inside one round trip, and the alternative (never retrying a claim
whose holder vanished) would lose the week instead.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.moments import utc_text
from bot.deps import Deps
from bot.summary import build as summary
from bot.summary import text as summary_text
from storage import subscriptions

log = logging.getLogger(__name__)
LEASE_MINUTES = 10  # far longer than one post and upload, retries of 429s included
# Slack's answers that mean the channel will never take a post until someone acts.
DISABLING = frozenset({"channel_not_found", "not_in_channel", "is_archived"})


@dataclass(frozen=True)
class Posted:
    week: str
    ts: str
    chart: bool  # False when the chart upload failed after the message went out


@dataclass(frozen=True)
class AlreadyPosted:
    week: str
    ts: str
    posted_at: str


@dataclass(frozen=True)
class InProgress:
    """Another process or attempt holds the claim and its lease is still running."""

    week: str
    claimed_at: str


@dataclass(frozen=True)
class Failed:
    week: str
    error: str


@dataclass(frozen=True)
class Disabled:
    week: str
    reason: str  # Slack's error code


PostResult = Posted | AlreadyPosted | InProgress | Failed | Disabled


def post_week(
    deps: Deps, client: WebClient, channel: str, week: tuple[int, int] | None = None
) -> PostResult:
    """Post `channel`'s summary of ISO week `week` (by default the last complete week in
    the team time zone, whose weeks the metrics count), once. The channel's subscription,
    if it has one, says which service or team."""
    now = deps.clock.now()
    year, number = week or summary.last_complete_week(now, deps.tz)
    label = summary.week_label(year, number)
    holder = secrets.token_hex(8)  # this attempt's, so a release never drops another's claim
    with deps.store.write() as db:
        standing = subscriptions.claim(
            db,
            channel,
            label,
            holder,
            utc_text(now),
            utc_text(now.add(minutes=LEASE_MINUTES)),
        )
        sub = subscriptions.get(db, channel)
    if standing is not None:
        if standing.message_ts is not None:
            return AlreadyPosted(label, standing.message_ts, standing.posted_at or "")
        return InProgress(label, standing.claimed_at)
    try:
        built = summary.for_channel(deps, year, number, channel, sub)
        text, blocks = summary.slack_message(built)
        ts = str(client.chat_postMessage(channel=channel, text=text, blocks=blocks)["ts"])
    except SlackApiError as error:
        code = str(error.response.get("error", "")) or str(error)
        if code in DISABLING and sub is not None:
            log.warning("summary for %s of %s: Slack said %s; subscription disabled",
                        channel, label, code)  # fmt: skip
            with deps.store.write() as db:
                subscriptions.disable(db, channel, code, utc_text(deps.clock.now()))
                subscriptions.release(db, channel, label, holder)
            return Disabled(label, code)
        log.warning("summary for %s of %s not posted (%s); claim released", channel, label, code)
        _release(deps, channel, label, holder)
        return Failed(label, code)
    except Exception as error:  # a network error, or building the summary failed
        log.exception("summary for %s of %s not posted; claim released", channel, label)
        _release(deps, channel, label, holder)
        return Failed(label, f"{type(error).__name__}: {error}")
    with deps.store.write() as db:
        kept = subscriptions.mark_posted(db, channel, label, holder, ts, utc_text(deps.clock.now()))
    if not kept:
        log.error("summary for %s of %s posted (ts %s) after its claim was taken over",
                  channel, label, ts)  # fmt: skip
    return Posted(label, ts, _upload_chart(client, channel, built, label))


def _release(deps: Deps, channel: str, label: str, holder: str) -> None:
    with deps.store.write() as db:
        subscriptions.release(db, channel, label, holder)


def _upload_chart(client: WebClient, channel: str, built: summary.Summary, label: str) -> bool:
    """The trend chart, right after the summary in the channel rather than in its thread:
    the chart is what people look at first, and a thread would hide it behind "1 reply".
    The summary is out by now, so a failure here is logged and the claim stays: a second
    summary for want of a picture would be worse than a summary without one.

    files_upload_v2's two API calls (files.getUploadURLExternal, files.completeUploadExternal)
    go through the client's retry handlers, 429s included; the upload of the bytes in
    between is a plain POST that slack_sdk does not retry, so its failure lands here."""
    try:
        client.files_upload_v2(
            channel=channel,
            file=summary.chart_png(built),
            filename=f"shipshape-{label}.png",
            title=summary_text.summary_chart_title(label),
        )
    except Exception:
        log.exception("summary for %s of %s posted, but its chart was not uploaded",
                      channel, label)  # fmt: skip
        return False
    return True
