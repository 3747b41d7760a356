"""Getting replies to people: ephemeral answers, usage errors, and posts in a channel."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block, ContextBlock

from bot.core.errors import UsageError
from bot.slack import text as slack_text
from bot.slack.blocks import mrkdwn_text, section

log = logging.getLogger(__name__)
# Errors that mean "the bot cannot post here", not "Slack is broken".
CANNOT_POST = frozenset({"not_in_channel", "channel_not_found", "is_archived", "restricted_action"})
SECTION_LIMIT = 3000  # Slack's limit on a section's text
MAX_BLOCKS = 50  # Slack's limit on a message's blocks
# What must not be split between sections: an escaped character, and a mention or link.
_UNCUTTABLE = re.compile(r"&(?:amp|lt|gt);|<[^<>\n]*>")


def text_blocks(text: str, max_blocks: int = MAX_BLOCKS) -> list[Block]:
    """mrkdwn text, already escaped, as sections within Slack's limits: at most
    SECTION_LIMIT characters each, split at line ends, a longer line at a space or else
    anywhere outside an entity (`&amp;`) or a `<...>` link, and nothing lost. Beyond
    `max_blocks` the last section says how many lines were left out."""
    chunks: list[tuple[str, int]] = []  # a section's text, and how many lines start in it
    for line in text.split("\n"):
        for n, piece in enumerate(_pieces(line, SECTION_LIMIT)):
            starts = int(n == 0)
            if chunks and len(chunks[-1][0]) + 1 + len(piece) <= SECTION_LIMIT:
                chunk, started = chunks[-1]
                chunks[-1] = (f"{chunk}\n{piece}", started + starts)
            elif chunks or piece:
                chunks.append((piece, starts))
    if len(chunks) > max_blocks:
        kept = chunks[: max_blocks - 1]
        left = sum(started for _, started in chunks) - sum(started for _, started in kept)
        chunks = [*kept, (slack_text.more_lines(left), 0)]
    return [section(chunk) for chunk, _ in chunks]


def _pieces(line: str, limit: int) -> list[str]:
    """A line in pieces of at most `limit` characters; a quoted line (`> `) stays quoted."""
    quote = "> " if line.startswith("> ") else ""
    pieces = []
    while len(line) > limit:
        cut = _cut(line, limit)
        pieces.append(line[:cut])
        line = quote + line[cut:]
    return [*pieces, line]


def _cut(line: str, limit: int) -> int:
    """Where a piece of `line` ends: after the last space in the second half of `limit`,
    else at `limit`, moved back to the start of an entity or link it would cut in two."""
    spans = []
    for found in _UNCUTTABLE.finditer(line):
        if found.start() >= limit:
            break
        spans.append(found.span())

    def inside(at: int) -> int | None:
        return next((start for start, end in spans if start < at < end), None)

    space = line.rfind(" ", limit // 2, limit)
    while space != -1 and inside(space + 1) is not None:
        space = line.rfind(" ", limit // 2, space)
    if space != -1:
        return space + 1
    start = inside(limit)
    # A link of over half a section is cut anyway: moving back to it would gain nothing.
    return start if start is not None and start > limit // 2 else limit


def ephemeral(text: str, blocks: Sequence[Block] | None = None) -> dict[str, Any]:
    """Keyword arguments for ack() or respond() that show `text` to the caller only."""
    return {
        "response_type": "ephemeral",
        "text": text,
        "blocks": list(blocks) if blocks is not None else text_blocks(text),
    }


def usage(error: UsageError) -> dict[str, Any]:
    return ephemeral(slack_text.usage_reply(error.problem, error.example))


def post_in_channel(
    client: WebClient,
    channel_id: str,
    text: str,
    blocks: Sequence[Block],
    respond: Callable[..., Any] | None = None,
) -> str | None:
    """Post where the command was typed; returns the message ts when Slack gives one, None
    when answered through response_url instead, and "" when the post failed and the person
    was told so.

    chat.postMessage reaches public channels without joining (chat:write.public). Private
    channels and DMs the bot is not in can still be answered through the command's
    response_url, which has no ts to update later. When the post fails otherwise (rate
    limited beyond the client's retries, Slack's own errors), what is stored stays stored:
    the person is told so through response_url. Nothing is raised then: a listener that
    raises just after its ack can lose that ack in Bolt, and Slack would show a failure."""
    try:
        result = client.chat_postMessage(channel=channel_id, text=text, blocks=list(blocks))
        return str(result["ts"])
    except SlackApiError as error:
        code = error.response.get("error", "")
        if respond is None:
            raise
        if code not in CANNOT_POST:
            log.warning("chat.postMessage to %s failed (%s); telling the person", channel_id, code)
            _tell_post_failed(respond, channel_id, text, blocks, code)
            return ""
        log.info(
            "chat.postMessage to %s failed (%s); answering through response_url", channel_id, code
        )
    respond(response_type="in_channel", text=text, blocks=list(blocks))
    return None


def _tell_post_failed(
    respond: Callable[..., Any], channel_id: str, text: str, blocks: Sequence[Block], code: str
) -> None:
    note = slack_text.post_failed(channel_id, code)
    try:
        respond(
            **ephemeral(
                f"{text}\n{note}",
                [*blocks, ContextBlock(elements=[mrkdwn_text(note)])],
            )
        )
    except Exception:
        log.exception("could not tell the person that posting in %s failed", channel_id)


def post_or_tell(
    client: WebClient, channel_id: str, user_id: str, text: str, blocks: Sequence[Block]
) -> str | None:
    """Post a modal's result in its channel; when the bot cannot post there (a private
    channel it is not in), or the post fails otherwise, tell the person by DM instead of
    failing silently (a modal has no response_url)."""
    try:
        return post_in_channel(client, channel_id, text, blocks)
    except SlackApiError as error:
        code = error.response.get("error", "")
        if code in CANNOT_POST:
            told = slack_text.could_not_post(channel_id, text)
        else:
            log.warning("chat.postMessage to %s failed (%s); telling %s by DM", channel_id,
                        code, user_id)  # fmt: skip
            told = f"{text}\n{slack_text.post_failed(channel_id, code)}"
    client.chat_postMessage(channel=user_id, text=told, blocks=list(blocks))
    return None
