"""Incidents that arrived from another tool (GitLab, PagerDuty) in Slack: the incident card
(whose last line says where it came from) posted in the channel its project or service is
mapped to and kept up to date as later deliveries resolve or reopen it. Here, in the
composition root, because a source never talks to Slack."""

from __future__ import annotations

import logging
import threading

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.deps import Deps
from bot.recording import incidents as recording
from bot.slack import incident_card
from storage.db import Busy

log = logging.getLogger(__name__)
# Two quick deliveries of one incident (opened, then closed at once) must post one card, not
# two: the second waits until the first has stored where its card is.
_POSTING = threading.Lock()


def announce(deps: Deps, client: WebClient, incident_id: int, channel_id: str | None) -> None:
    """After a delivery was answered: an incident that has a card gets it updated; one that
    has none gets it posted in `channel_id` (no channel mapped: posted nowhere)."""
    with _POSTING:
        linked = incident_card.load(deps.store.db, incident_id)
        if linked is None:  # undone meanwhile
            return
        incident = linked.incident
        text, blocks = incident_card.card(linked, deps.tz)
        try:
            if incident.channel_id and incident.message_ts:
                client.chat_update(
                    channel=incident.channel_id, ts=incident.message_ts, text=text, blocks=blocks
                )
                return
            if not channel_id:
                return
            ts = str(client.chat_postMessage(channel=channel_id, text=text, blocks=blocks)["ts"])
        except SlackApiError as error:
            log.warning(
                "incident #%s: Slack refused its card (%s)",
                incident.id,
                error.response.get("error"),
            )
            return
        try:
            with deps.store.write() as db:
                recording.shown_in(db, incident.id, channel_id, ts)
        except Busy:
            log.warning("incident #%s: the database is busy, its message %s will not be updated",
                        incident.id, ts)  # fmt: skip
