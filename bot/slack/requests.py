"""The checks on what claims to come from Slack: a body Bolt can read, and an envelope of the
shape Slack sends, over HTTP and Socket Mode alike."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from bot.core import wording
from bot.slack import text as slack_text
from bot.sources.http import BadJson, json_object

SLACK_SENDER = "Slack request"
# What Slack sends with every slash command, and what our listeners read from it.
COMMAND_FIELDS = ("command", "user_id", "channel_id", "team_id", "trigger_id")


def slack_problem(body: bytes, content_type: str) -> str | None:
    """Why a signed body cannot be a Slack request, or None. Read the way Bolt reads it
    (JSON, else a form with a JSON `payload`, else a slash command), so what passes here
    never makes Bolt raise before our listeners see it."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return slack_text.SLACK_BODY_NOT_UTF8
    try:
        if content_type == "application/json" or text.startswith("{"):
            json_object(text, "The body", SLACK_SENDER)
            return None
        fields = dict(parse_qsl(text, keep_blank_values=True))
        if "payload" in fields:
            payload = json_object(fields["payload"], "The payload", SLACK_SENDER)
            return envelope_problem("interactive", payload)
    except BadJson as error:
        return str(error)
    return envelope_problem("slash_commands", fields)


def envelope_problem(kind: str, payload: Any) -> str | None:
    """Why a payload of this Socket Mode envelope type (the same kinds arrive over HTTP)
    cannot be what Slack sends, or None."""
    if not isinstance(payload, dict):
        return wording.not_json_object("The payload", SLACK_SENDER)
    if kind == "slash_commands":
        missing = [name for name in COMMAND_FIELDS if not payload.get(name)]
        return slack_text.slack_command_missing(missing) if missing else None
    if kind == "interactive" and not isinstance(payload.get("type"), str):
        return slack_text.SLACK_PAYLOAD_NO_TYPE
    return None
