"""The Bolt app: listeners for every command, event and action, and the error policy."""

from __future__ import annotations

import contextvars
import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse, Respond
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient
from slack_sdk.http_retry import default_retry_handlers
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.socket_mode import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from bot.app import home
from bot.app import text as app_text
from bot.deps import Deps
from bot.pulse import listeners as pulse_answers
from bot.pulse.logs import SurveyTraffic
from bot.slack import text as slack_text
from bot.slack.admins import AdminUnconfirmed
from bot.slack.replies import ephemeral
from bot.slack.requests import envelope_problem
from commands import deploy, dora, incident, pulse
from storage import db

log = logging.getLogger(__name__)
# Of Slack's 3 seconds for an answer, what a write before the ack may wait for the database;
# the rest carries the "busy" answer back in time.
ACK_WRITE_SECONDS = 1.5


class _TokenNotice(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment even when handed a client built
    from that very token, and then warns at every start that the token is unused."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


logging.getLogger("slack_bolt.App").addFilter(_TokenNotice())
# The App's logger is also its Socket Mode client's, which logs every envelope at DEBUG.
logging.getLogger("slack_bolt.App").addFilter(SurveyTraffic())


def web_client(token: str, base_url: str) -> WebClient:
    """A Web API client that waits out 429s (Retry-After) and retries dropped connections."""
    handlers: list[RetryHandler] = [
        *default_retry_handlers(),
        RateLimitErrorRetryHandler(max_retry_count=3),
    ]
    return WebClient(token=token, base_url=base_url, retry_handlers=handlers, timeout=10)


class _RequestContext(Executor):
    """Runs each listener in a copy of the context of the request that started it, so the
    write limit set for that request (in `answer_in_time`) reaches the listener's thread."""

    def __init__(self, executor: Executor) -> None:
        self.executor = executor

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        return self.executor.submit(contextvars.copy_context().run, fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.executor.shutdown(wait, cancel_futures=cancel_futures)


def build_app(deps: Deps, client: WebClient, executor: Executor) -> App:
    """Raises BoltError when Slack rejects the token (checked with auth.test)."""
    config = deps.config
    app = App(
        client=client,  # carries the bot token; App checks it with auth.test here
        signing_secret=config.slack_signing_secret or "",
        # Socket Mode messages are authenticated by the connection, not by a signature.
        request_verification_enabled=not config.socket_mode,
        listener_executor=_RequestContext(executor),
        raise_error_for_unhandled_request=False,
    )

    @app.middleware
    def answer_in_time(context: BoltContext, next: Callable[[], None]) -> None:
        # Until its ack, a listener's writes wait at most what leaves time to answer; after
        # it the person has their answer (or gets it through response_url) and they may wait.
        acked = context.ack
        until = time.monotonic() + ACK_WRITE_SECONDS

        def left() -> float | None:
            return None if acked.response is not None else until - time.monotonic()

        db.limit_writes(left)
        next()

    deploy.register(app, deps)
    incident.register(app, deps)
    dora.register(app, deps)
    home.register(app, deps)
    pulse.register(app, deps)
    pulse_answers.register(app, deps)

    @app.error
    def on_error(
        error: Exception,
        body: dict[str, Any],
        response: BoltResponse | None,
        respond: Respond | None,
    ) -> BoltResponse | None:
        # Never a 500 to Slack: the person is told the truth when it is known (the database
        # was busy, Slack would not say who is an admin: nothing was done), else a plain
        # apology, and the log has the rest.
        what = body.get("type") or body.get("command")
        refusal = _refusal(error, body)
        if refusal is None:
            log.error("listener failed for %s", what, exc_info=error)
        else:
            log.warning("listener for %s refused: %s", what, error)
        if response is None:  # answered already: what is left to say goes to response_url
            if refusal is not None and respond is not None and body.get("response_url"):
                respond(**ephemeral(refusal))
            return None
        if body.get("type") == "view_submission":
            block = _first_input(body)
            if refusal is None or block is None:
                return BoltResponse(status=200, body="")
            errors = {"response_action": "errors", "errors": {block: refusal}}
            return BoltResponse(status=200, body=json.dumps(errors))
        return BoltResponse(status=200, body=_json(ephemeral(refusal or app_text.INTERNAL_ERROR)))

    return app


def _refusal(error: Exception, body: dict[str, Any]) -> str | None:
    """What to tell the person when `error` means "nothing was done, try again"."""
    command = body.get("command")
    if isinstance(error, db.Busy):
        return slack_text.database_busy(command)
    if isinstance(error, AdminUnconfirmed):
        return slack_text.admin_unconfirmed(command)
    return None


def _first_input(body: dict[str, Any]) -> str | None:
    """The first input block of a submitted modal, where an error keeps the modal open."""
    blocks = (body.get("view") or {}).get("blocks") or []
    return next((str(b["block_id"]) for b in blocks if b.get("type") == "input"), None)


def _json(payload: dict[str, Any]) -> str:
    payload["blocks"] = [b.to_dict() if hasattr(b, "to_dict") else b for b in payload["blocks"]]
    return json.dumps(payload)


class CheckedSocketModeHandler(SocketModeHandler):
    """Bolt raises on an envelope whose payload is not what Slack sends, which leaves it
    unacknowledged (Slack delivers it again) and a traceback in the log. Such an envelope is
    acknowledged with its reason logged, as HTTP answers it 400; the connection goes on."""

    def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:
        problem = envelope_problem(req.type, req.payload)
        if problem is None:
            super().handle(client, req)
            return
        log.warning("Socket Mode envelope %s refused: %s", req.envelope_id, problem)
        client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
