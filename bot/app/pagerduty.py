"""PagerDuty incidents in Slack: the incident card, with where it came from, posted in the
channel its PagerDuty service is mapped to and kept up to date as PagerDuty resolves and
reopens it. Here, not in bot/sources/pagerduty, because a source never talks to Slack."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block, ContextBlock

from bot.deps import Deps
from bot.recording import incidents as recording
from bot.slack import incident_card
from bot.slack.blocks import mrkdwn_text
from bot.sources.pagerduty import text as pd_text
from bot.sources.pagerduty.events import Outcome
from storage.db import Busy

log = logging.getLogger(__name__)


def card(linked: incident_card.Linked, tz: str) -> tuple[str, list[Block]]:
    """The incident card with a last line saying it came from PagerDuty, linked."""
    text, blocks = incident_card.card(linked, tz)
    origin = pd_text.from_pagerduty(linked.incident.url, linked.incident.source_key)
    return text, [*blocks, ContextBlock(elements=[mrkdwn_text(origin)])]


def announce(deps: Deps, client: WebClient, outcome: Outcome) -> None:
    """After a delivery was answered: a new incident's card is posted in its service's
    channel (none mapped: posted nowhere); a known one's card, if it has one, is updated."""
    if outcome.incident_id is None:
        return
    linked = incident_card.load(deps.store.db, outcome.incident_id)
    if linked is None:
        return
    incident, channel = linked.incident, outcome.channel_id
    text, blocks = card(linked, deps.tz)
    try:
        if incident.channel_id and incident.message_ts:
            client.chat_update(
                channel=incident.channel_id, ts=incident.message_ts, text=text, blocks=blocks
            )
            return
        if not (outcome.created and channel):
            return
        ts = str(client.chat_postMessage(channel=channel, text=text, blocks=blocks)["ts"])
    except SlackApiError as error:
        log.warning(
            "incident #%s: Slack refused its card (%s)", incident.id, error.response.get("error")
        )
        return
    try:
        with deps.store.write() as db:
            recording.shown_in(db, incident.id, channel, ts)
    except Busy:
        log.warning("incident #%s: the database is busy, its message %s will not be updated",
                    incident.id, ts)  # fmt: skip
