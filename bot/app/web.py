"""The WSGI application: Slack events, the GitHub, GitLab and PagerDuty webhooks, the HTTP
API, health, and 404 for the rest."""

from __future__ import annotations

import contextvars
import io
import logging
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk.signature import SignatureVerifier

from bot.app import text as app_text
from bot.slack.replies import ephemeral
from bot.slack.requests import slack_problem
from bot.sources.http import StartResponse, WsgiApp, read_body, respond

log = logging.getLogger(__name__)


class Web:
    def __init__(
        self,
        slack: SlackRequestHandler | None,
        health: Callable[[], tuple[bool, dict[str, Any]]],
        github: WsgiApp,
        signing_secret: str = "",
        api: WsgiApp | None = None,
        gitlab: WsgiApp | None = None,
        pagerduty: WsgiApp | None = None,
    ) -> None:
        self.slack = slack  # None in Socket Mode: Slack reaches us over the socket instead
        # HTTP mode only, where the secret is required; Socket Mode has none.
        self.verifier = SignatureVerifier(signing_secret) if signing_secret else None
        self.health = health
        self.github = github  # served in both modes: GitHub always reaches us over HTTP
        self.api = api  # the HTTP API (bot/sources/api), served in both modes
        self.gitlab = gitlab  # likewise GitLab
        self.pagerduty = pagerduty

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
        if path == "/healthz" and method in ("GET", "HEAD"):
            ok, state = self.health()
            return respond(start_response, "200 OK" if ok else "503 Service Unavailable", state)
        if path == "/github/webhook":
            return self.github(environ, start_response)
        if path.startswith("/api/") and self.api is not None:
            return self.api(environ, start_response)
        if path == "/gitlab/webhook" and self.gitlab is not None:
            return self.gitlab(environ, start_response)
        if path == "/pagerduty/webhook" and self.pagerduty is not None:
            return self.pagerduty(environ, start_response)
        if path == "/slack/events" and self.slack is not None:
            if method != "POST":
                return respond(start_response, "405 Method Not Allowed", {"error": "POST only"})
            if not environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "").isdecimal():
                # Bolt's verifier would raise on a non-numeric timestamp; it is simply unsigned.
                return respond(start_response, "401 Unauthorized", {"error": "invalid request"})
            if refusal := self._malformed(environ):
                status, reason = refusal
                log.warning("Slack request refused: %s", reason)
                return respond(start_response, status, {"error": reason})
            try:
                # In a context of its own: the write limit Bolt sets for this request must
                # not outlive it in this worker thread (bot/app/slack_app.answer_in_time).
                return contextvars.copy_context().run(self.slack, environ, start_response)
            except Exception:
                # Never a 500 to Slack: a slash command shows the apology to the person.
                log.exception("Slack request failed")
                return respond(start_response, "200 OK", ephemeral(app_text.INTERNAL_ERROR))
        return respond(start_response, "404 Not Found", {"error": "not found"})

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
