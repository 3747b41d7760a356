"""`POST /pagerduty/webhook`: verify a PagerDuty Webhooks V3 delivery, map its incident
event, record it once by `event.id`.

The body is read only when it is at most 1 MiB; its signature is checked before it is
parsed; the event is read and checked before the write, which claims the event id and
records the incident in one transaction (a failure rolls the claim back too, so PagerDuty's
retry records it). Posting the incident's card in Slack is the caller's `announce`, run on
the executor after the answer: PagerDuty waits 5 seconds, Slack may take longer.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from typing import Any

from bot.core.moments import utc_text
from bot.deps import Deps
from bot.sources.fields import BadPayload, Fields
from bot.sources.http import (
    Answer,
    BadJson,
    StartResponse,
    Words,
    after_answer,
    content_length,
    json_object,
    opening,
    respond,
    write_once,
)
from bot.sources.pagerduty import events
from bot.sources.pagerduty import text as pd_text
from bot.sources.pagerduty.events import EVENT_TYPES, SOURCE, IncidentEvent, NothingToStore, Outcome
from storage import sources

log = logging.getLogger(__name__)

SIGNATURE_PREFIX = "v1="
MAX_BODY = 1_048_576  # SPEC: a body over 1 MiB is a 413, and is never read
# PagerDuty gives up on a delivery after 5 seconds and retries it: the write waits at most
# this for the database, and a delivery that cannot be stored in time is refused for retry.
WRITE_SECONDS = 3.0
WORDS = Words(
    pd_text.PAGERDUTY_WEBHOOK_BUSY,
    pd_text.PAGERDUTY_WEBHOOK_FAILED,
    pd_text.pagerduty_webhook_bad_field,
    pd_text.PAGERDUTY_WEBHOOK_POST_ONLY,
    pd_text.PAGERDUTY_WEBHOOK_NO_SECRET,
)

Announce = Callable[[int, str | None], None]  # incident id, its mapped channel


def signature(secret: str, body: bytes) -> str:
    """One `v1=` signature as PagerDuty sends it: the secret is the key as plain text."""
    return SIGNATURE_PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_matches(secret: str, body: bytes, header: str) -> bool:
    """Whether any of the header's comma-separated signatures is this body's: during a
    secret rotation PagerDuty signs with the old and the new secret. Compared as bytes in
    constant time (WSGI hands headers over as latin-1 text, which may hold anything)."""
    expected = signature(secret, body).encode()
    found = [s.strip().encode("latin-1") for s in header.split(",")]
    # Every entry compared, so the time taken says nothing about which one matched.
    return sum(hmac.compare_digest(expected, s) for s in found) > 0


class PagerDutyWebhook:
    def __init__(self, deps: Deps, executor: Executor, announce: Announce | None = None) -> None:
        self.deps = deps
        self.executor = executor  # where `announce` runs, after the answer
        self.announce = announce

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        secret = self.deps.config.pagerduty_webhook_secret
        if refused := opening(environ, secret, WORDS):
            return refused.respond(start_response)
        length = content_length(environ)
        if length > MAX_BODY:
            log.warning("pagerduty: refused, a body of %s bytes", length)
            return respond(
                start_response,
                "413 Content Too Large",
                {"error": pd_text.pagerduty_webhook_too_large(MAX_BODY)},
            )
        body = environ["wsgi.input"].read(length) if length else b""
        if not signature_matches(secret, body, environ.get("HTTP_X_PAGERDUTY_SIGNATURE", "")):
            log.warning("pagerduty: refused, bad or missing signature")
            return respond(
                start_response,
                "401 Unauthorized",
                {"error": pd_text.PAGERDUTY_WEBHOOK_BAD_SIGNATURE},
            )
        try:
            payload = Fields(json_object(body, "The body", pd_text.SENDER))
            event_type = payload.text("event.event_type")
            if event_type not in EVENT_TYPES:
                log.info("pagerduty %s: event not used, ignored", event_type)
                return respond(start_response, "202 Accepted", {"ignored": event_type})
            event = events.read(payload, event_type)
        except BadJson as error:
            return self._refuse(start_response, {"error": str(error)})
        except BadPayload as error:
            return self._refuse(
                start_response,
                {
                    "error": pd_text.pagerduty_webhook_bad_field(error.path, error.expected),
                    "field": error.path,
                },
            )
        return self._record(start_response, event)

    def _refuse(self, start_response: StartResponse, answer: dict[str, str]) -> list[bytes]:
        log.warning("pagerduty: refused, %s", answer["error"])
        return respond(start_response, "400 Bad Request", answer)

    def _record(self, start_response: StartResponse, event: IncidentEvent) -> list[bytes]:
        name = f"pagerduty {event.event_type} {event.event_id}"
        now = utc_text(self.deps.clock.now())

        try:
            outcome = write_once(
                self.deps.store,
                name,
                lambda db: sources.claim_delivery(db, SOURCE, event.event_id, now),
                lambda db: events.record(db, event, self.deps.config.production_environments, now),
                WORDS,
                wait=WRITE_SECONDS,
                keep=(NothingToStore,),
            )
        except NothingToStore:
            # Rolled back with its claim: nothing of it is kept.
            why = pd_text.pagerduty_webhook_not_opened(event.incident, event.event_type)
            log.info("%s: %s", name, why)
            return respond(
                start_response, "202 Accepted", {"ignored": event.event_type, "reason": why}
            )
        except Answer as answer:
            return answer.respond(start_response)
        log.info("%s: %s", name, outcome.summary)
        self._announce_later(outcome)
        return respond(start_response, "200 OK", {"ok": True, "result": outcome.summary})

    def _announce_later(self, outcome: Outcome) -> None:
        announce, incident = self.announce, outcome.incident_id
        if announce is None or incident is None:
            return
        channel = outcome.channel_id
        after_answer(
            self.executor, lambda: announce(incident, channel), f"incident #{incident}'s card"
        )
