"""The WSGI application: Slack events, GitHub webhooks, health, and 404 for the rest."""

from __future__ import annotations

import contextvars
import io
import json
import logging
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk.signature import SignatureVerifier

from bot import messages
from bot.replies import ephemeral

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

# Slack payloads nest about a dozen levels (rich text in blocks), GitHub's fewer. Checked
# before parsing: Python's parser would raise RecursionError near 1,000 levels, and a body
# that deep makes every later walk over it a risk.
MAX_JSON_DEPTH = 100
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_JSON_BRACKET = re.compile(r"[\[\]{}]")
SLACK_SENDER = "Slack request"
# What Slack sends with every slash command, and what our listeners read from it.
COMMAND_FIELDS = ("command", "user_id", "channel_id", "team_id", "trigger_id")


class BadJson(ValueError):
    """A body or field that is not the JSON object expected; the message says why."""


def _depth(text: str) -> int:
    deepest = depth = 0
    for bracket in _JSON_BRACKET.findall(_JSON_STRING.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def json_object(text: str | bytes, where: str, sender: str) -> dict[str, Any]:
    """The JSON object in `text`; raises BadJson naming `where` and what `sender` sends
    when it is not one."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise BadJson(messages.not_json_object(where, sender)) from None
    if _depth(text) > MAX_JSON_DEPTH:
        raise BadJson(messages.json_too_deep(where, MAX_JSON_DEPTH))
    try:
        found = json.loads(text)
    except ValueError:
        raise BadJson(messages.not_json_object(where, sender)) from None
    if not isinstance(found, dict):
        raise BadJson(messages.not_json_object(where, sender))
    return found


def slack_problem(body: bytes, content_type: str) -> str | None:
    """Why a signed body cannot be a Slack request, or None. Read the way Bolt reads it
    (JSON, else a form with a JSON `payload`, else a slash command), so what passes here
    never makes Bolt raise before our listeners see it."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return messages.SLACK_BODY_NOT_UTF8
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
        return messages.not_json_object("The payload", SLACK_SENDER)
    if kind == "slash_commands":
        missing = [name for name in COMMAND_FIELDS if not payload.get(name)]
        return messages.slack_command_missing(missing) if missing else None
    if kind == "interactive" and not isinstance(payload.get("type"), str):
        return messages.SLACK_PAYLOAD_NO_TYPE
    return None


def read_body(environ: dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return environ["wsgi.input"].read(length) if length > 0 else b""


def _respond(start_response: StartResponse, status: str, payload: dict[str, Any]) -> list[bytes]:
    body = json.dumps(payload, default=lambda b: b.to_dict()).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]


class Web:
    def __init__(
        self,
        slack: SlackRequestHandler | None,
        health: Callable[[], tuple[bool, dict[str, Any]]],
        github: WsgiApp,
        signing_secret: str = "",
    ) -> None:
        self.slack = slack  # None in Socket Mode: Slack reaches us over the socket instead
        # HTTP mode only, where the secret is required; Socket Mode has none.
        self.verifier = SignatureVerifier(signing_secret) if signing_secret else None
        self.health = health
        self.github = github  # served in both modes: GitHub always reaches us over HTTP

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
        if path == "/healthz" and method in ("GET", "HEAD"):
            ok, state = self.health()
            return _respond(start_response, "200 OK" if ok else "503 Service Unavailable", state)
        if path == "/github/webhook":
            return self.github(environ, start_response)
        if path == "/slack/events" and self.slack is not None:
            if method != "POST":
                return _respond(start_response, "405 Method Not Allowed", {"error": "POST only"})
            if not environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "").isdecimal():
                # Bolt's verifier would raise on a non-numeric timestamp; it is simply unsigned.
                return _respond(start_response, "401 Unauthorized", {"error": "invalid request"})
            if refusal := self._malformed(environ):
                status, reason = refusal
                log.warning("Slack request refused: %s", reason)
                return _respond(start_response, status, {"error": reason})
            try:
                # In a context of its own: the write limit Bolt sets for this request must
                # not outlive it in this worker thread (bot/slack_app.answer_in_time).
                return contextvars.copy_context().run(self.slack, environ, start_response)
            except Exception:
                # Never a 500 to Slack: a slash command shows the apology to the person.
                log.exception("Slack request failed")
                return _respond(start_response, "200 OK", ephemeral(messages.INTERNAL_ERROR))
        return _respond(start_response, "404 Not Found", {"error": "not found"})

    def _malformed(self, environ: dict[str, Any]) -> tuple[str, str] | None:
        """A 400 and its reason for a signed body Bolt could not read (it would raise, and
        Slack would see a failure), or a 401 when such a body is not signed either. The body
        is put back for Bolt, which verifies the signature again."""
        body = read_body(environ)
        environ["wsgi.input"] = io.BytesIO(body)
        content_type = environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
        problem = slack_problem(body, content_type)
        if problem is None:
            return None
        signed = self.verifier is not None and self.verifier.is_valid(
            body=body,
            timestamp=environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", ""),
            signature=environ.get("HTTP_X_SLACK_SIGNATURE", ""),
        )
        return ("400 Bad Request", problem) if signed else ("401 Unauthorized", "invalid request")
