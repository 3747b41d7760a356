"""The Bolt app: listeners for every command, event and action, and the error policy."""

from __future__ import annotations

import json
import logging
from concurrent.futures import Executor
from typing import Any

from slack_bolt import App, BoltResponse
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient
from slack_sdk.http_retry import default_retry_handlers
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.socket_mode import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from bot import home, messages, pulse_answers
from bot.deps import Deps
from bot.replies import ephemeral
from bot.survey_logs import SurveyTraffic
from bot.web import envelope_problem
from commands import deploy, dora, incident, pulse

log = logging.getLogger(__name__)


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


def build_app(deps: Deps, client: WebClient, executor: Executor) -> App:
    """Raises BoltError when Slack rejects the token (checked with auth.test)."""
    config = deps.config
    app = App(
        client=client,  # carries the bot token; App checks it with auth.test here
        signing_secret=config.slack_signing_secret or "",
        # Socket Mode messages are authenticated by the connection, not by a signature.
        request_verification_enabled=not config.socket_mode,
        listener_executor=executor,
        raise_error_for_unhandled_request=False,
    )
    deploy.register(app, deps)
    incident.register(app, deps)
    dora.register(app, deps)
    home.register(app, deps)
    pulse.register(app, deps)
    pulse_answers.register(app, deps)

    @app.error
    def on_error(
        error: Exception, body: dict[str, Any], response: BoltResponse | None
    ) -> BoltResponse | None:
        # Never a 500 to Slack: the person sees a plain apology, and the log has the rest.
        log.error("listener failed for %s", body.get("type") or body.get("command"), exc_info=error)
        if response is None:
            return None
        if body.get("type") == "view_submission":
            return BoltResponse(status=200, body="")
        return BoltResponse(status=200, body=_json(ephemeral(messages.INTERNAL_ERROR)))

    return app


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
