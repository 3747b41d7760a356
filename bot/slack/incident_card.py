"""An incident's message in its channel: posted on open, updated on every change to it."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlite_utils
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
)

from bot.core.moments import duration, from_utc_text, show
from bot.core.wording import mrkdwn
from bot.slack import text as slack_text
from bot.slack.blocks import mrkdwn_text, section
from storage import deploys, incidents
from storage.records import Deploy, Incident

log = logging.getLogger(__name__)

LINK_ACTION = "incident_change_link"


@dataclass(frozen=True)
class Linked:
    """An incident with the deploy it is linked to."""

    incident: Incident
    deploy: Deploy | None
    created: bool = True


def load(db: sqlite_utils.Database, incident_id: int) -> Linked | None:
    incident = incidents.get(db, incident_id)
    if incident is None:
        return None
    deploy = deploys.get(db, incident.deploy_id) if incident.deploy_id else None
    return Linked(incident, deploy)


def shown_title(incident: Incident, channel_id: str | None) -> str:
    """The title as mrkdwn for a message in `channel_id` (None: no channel, like App Home).
    An incident opened in a private channel keeps its title to that channel; elsewhere it
    is "Incident #N (private channel)", still listed and counted."""
    if incidents.opened_in_private(incident) and incident.channel_id != channel_id:
        return slack_text.private_incident(incident.id)
    return mrkdwn(incident.title)


def channel_is_private(client: WebClient, channel_id: str) -> bool | None:
    """conversations.info's answer; None when Slack gave none (an error, a channel the
    bot may not read): the caller treats that as private. Called after the command's ack,
    so a slow answer costs nobody Slack's 3 seconds."""
    try:
        channel = client.conversations_info(channel=channel_id).get("channel") or {}
    except (SlackApiError, OSError) as error:
        log.info("conversations.info for %s failed (%s): privacy not known", channel_id, error)
        return None
    if "is_private" not in channel:
        return None
    return bool(channel["is_private"] or channel.get("is_im") or channel.get("is_mpim"))


def link_text(linked: Linked, tz: str) -> str:
    incident, deploy = linked.incident, linked.deploy
    if deploy is not None:
        what = mrkdwn(slack_text.describe_deploy(deploy))
        return slack_text.caused_by(deploy.id, what, show(deploy.deployed_at, tz))
    if incident.cause == "none":
        return slack_text.NO_DEPLOY_CAUSED
    return slack_text.not_linked(mrkdwn(incident.service), show(incident.started_at, tz))


def card(linked: Linked, tz: str) -> tuple[str, list[Block]]:
    """The incident's message in the channel, posted on open and updated on every change."""
    incident = linked.incident
    service, title = mrkdwn(incident.service), mrkdwn(incident.title)
    if incident.resolved_at:
        took = from_utc_text(incident.resolved_at) - from_utc_text(incident.started_at)
        text = slack_text.incident_resolved_title(
            incident.id, service, title, duration(took.in_seconds())
        )
    else:
        text = slack_text.incident_opened(incident.id, service, title, incident.severity)
    times = [slack_text.started_at(show(incident.started_at, tz))]
    if incident.resolved_at:
        times.append(slack_text.resolved_at(show(incident.resolved_at, tz)))
    blocks: list[Block] = [
        section(text),
        section(link_text(linked, tz)),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text=slack_text.CHANGE_LINK,
                    action_id=LINK_ACTION,
                    value=str(incident.id),
                )
            ]
        ),
        ContextBlock(elements=[mrkdwn_text(" · ".join(times))]),
    ]
    origin = slack_text.incident_origin(incident.source, incident.url, incident.source_key)
    if origin is not None:
        blocks.append(ContextBlock(elements=[mrkdwn_text(origin)]))
    return text, blocks


def update_card(client: WebClient, linked: Linked, tz: str) -> None:
    """Keep the channel's message true after a resolve or a new link (best effort)."""
    incident = linked.incident
    if not (incident.channel_id and incident.message_ts):
        return
    text, blocks = card(linked, tz)
    try:
        client.chat_update(
            channel=incident.channel_id, ts=incident.message_ts, text=text, blocks=blocks
        )
    except SlackApiError as error:
        log.warning(
            "could not update incident #%s message: %s", incident.id, error.response.get("error")
        )


def refresh(client: WebClient, db: sqlite_utils.Database, incident_ids: list[int], tz: str) -> None:
    """Update the messages of incidents whose link changed elsewhere (a deploy undone)."""
    for incident_id in incident_ids:
        linked = load(db, incident_id)
        if linked is not None:
            update_card(client, linked, tz)
