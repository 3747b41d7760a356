"""Getting replies to people: ephemeral answers, usage errors, and posts in a channel."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block, MarkdownTextObject, SectionBlock

from bot import messages
from commands.args import UsageError

log = logging.getLogger(__name__)
# Errors that mean "the bot cannot post here", not "Slack is broken".
CANNOT_POST = frozenset({"not_in_channel", "channel_not_found", "is_archived", "restricted_action"})
SECTION_LIMIT = 3000  # Slack's limit on a section's text


def text_blocks(text: str) -> list[Block]:
    """Plain mrkdwn text as sections, split on lines to stay under Slack's per-block limit."""
    blocks: list[Block] = []
    chunk = ""
    for line in text.split("\n"):
        if chunk and len(chunk) + len(line) + 1 > SECTION_LIMIT:
            blocks.append(SectionBlock(text=MarkdownTextObject(text=chunk)))
            chunk = ""
        chunk = f"{chunk}\n{line}" if chunk else line
    if chunk:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=chunk[:SECTION_LIMIT])))
    return blocks


def ephemeral(text: str, blocks: Sequence[Block] | None = None) -> dict[str, Any]:
    """Keyword arguments for ack() or respond() that show `text` to the caller only."""
    return {
        "response_type": "ephemeral",
        "text": text,
        "blocks": list(blocks) if blocks is not None else text_blocks(text),
    }


def usage(error: UsageError) -> dict[str, Any]:
    return ephemeral(messages.usage_reply(error.problem, error.example))


def post_in_channel(
    client: WebClient,
    channel_id: str,
    text: str,
    blocks: Sequence[Block],
    respond: Callable[..., Any] | None = None,
) -> str | None:
    """Post where the command was typed; returns the message ts when Slack gives one.

    chat.postMessage reaches public channels without joining (chat:write.public). Private
    channels and DMs the bot is not in can still be answered through the command's
    response_url, which has no ts to update later."""
    try:
        result = client.chat_postMessage(channel=channel_id, text=text, blocks=list(blocks))
        return str(result["ts"])
    except SlackApiError as error:
        code = error.response.get("error", "")
        if code not in CANNOT_POST or respond is None:
            raise
        log.info(
            "chat.postMessage to %s failed (%s); answering through response_url", channel_id, code
        )
    respond(response_type="in_channel", text=text, blocks=list(blocks))
    return None


def post_or_tell(
    client: WebClient, channel_id: str, user_id: str, text: str, blocks: Sequence[Block]
) -> str | None:
    """Post a modal's result in its channel; when the bot cannot post there (a private
    channel it is not in), tell the person by DM instead of failing silently."""
    try:
        return post_in_channel(client, channel_id, text, blocks)
    except SlackApiError as error:
        if error.response.get("error", "") not in CANNOT_POST:
            raise
    client.chat_postMessage(
        channel=user_id, text=messages.could_not_post(channel_id, text), blocks=list(blocks)
    )
    return None
