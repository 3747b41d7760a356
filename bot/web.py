"""The WSGI application: Slack events, GitHub webhooks, health, and 404 for the rest."""

from __future__ import annotations

import contextvars
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot import messages
from bot.replies import ephemeral

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


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
    ) -> None:
        self.slack = slack  # None in Socket Mode: Slack reaches us over the socket instead
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
            try:
                # In a context of its own: the write limit Bolt sets for this request must
                # not outlive it in this worker thread (bot/slack_app.answer_in_time).
                return contextvars.copy_context().run(self.slack, environ, start_response)
            except Exception:
                # Never a 500 to Slack: a slash command shows the apology to the person.
                log.exception("Slack request failed")
                return _respond(start_response, "200 OK", ephemeral(messages.INTERNAL_ERROR))
        return _respond(start_response, "404 Not Found", {"error": "not found"})
