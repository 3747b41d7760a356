"""`POST /gitlab/webhook`: check a GitLab delivery's token, map its payload, record it once.

Each delivery is one write transaction: its id (Idempotency-Key, or X-Gitlab-Event-UUID
before GitLab 17.4) is claimed first, so a redelivery changes nothing, then the payload is
mapped to the plain records of bot/sources/gitlab/events.py and recorded. A payload that
cannot be mapped rolls the claim back too, so resending it once fixed records it. An
incident's card is posted (by the callback bot/app hands in) after the answer.
"""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from datetime import datetime
from typing import Any

import sqlite_utils

from bot.core.moments import utc_text
from bot.deps import Deps
from bot.sources.fields import BadPayload, Fields
from bot.sources.gitlab import events
from bot.sources.gitlab import text as gitlab_text
from bot.sources.gitlab.events import Deployment, IssueEvent, Outcome
from bot.sources.http import (
    Answer,
    BadJson,
    StartResponse,
    Words,
    after_answer,
    content_length,
    json_object,
    opening,
    read_body,
    respond,
    write_once,
)
from storage import sources
from storage.shipping import Commit

log = logging.getLogger(__name__)

MAX_BODY = 1_048_576  # SPEC: every source refuses a body over 1 MiB
WORDS = Words(
    gitlab_text.GITLAB_WEBHOOK_BUSY,
    gitlab_text.GITLAB_WEBHOOK_FAILED,
    gitlab_text.gitlab_webhook_bad_field,
    gitlab_text.GITLAB_WEBHOOK_POST_ONLY,
    gitlab_text.GITLAB_WEBHOOK_NO_SECRET,
)
ISSUE_KINDS = ("issue", "work_item")  # the same incidents arrive as either
_SHA = re.compile(r"^[0-9a-fA-F]{7,40}$")
# GitLab's older time format: `2025-05-02 11:55:16 +0000` or `2016-08-22 20:41:06 UTC`.
_SPACED_TIME = re.compile(r"^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?) ?(UTC|[+-]\d\d:?\d\d)$")
TIME_EXPECTED = "an ISO-8601 time with an offset, or GitLab's 2025-05-02 11:55:16 +0000"

# Posts an incident's card to a channel after the answer: (incident id, channel id).
IncidentPoster = Callable[[int, str], None]


class Payload(Fields):
    """A GitLab payload: Fields that also read GitLab's older time format."""

    def time(self, path: str) -> str:
        text = self.text(path)
        if match := _SPACED_TIME.match(text):
            day, clock, zone = match.groups()
            text = f"{day}T{clock}{'+00:00' if zone == 'UTC' else zone}"
        try:
            moment = datetime.fromisoformat(text)
            if moment.tzinfo is None:
                raise ValueError(text)
            return utc_text(moment)
        except (ValueError, OverflowError):
            raise BadPayload(self._path(path), TIME_EXPECTED) from None

    def objects(self, path: str) -> list[Fields]:
        return [Payload(found.data, found.where) for found in super().objects(path)]


def token_matches(secret: str, header: str) -> bool:
    # As bytes: compare_digest refuses non-ASCII str, and WSGI headers are latin-1 text.
    return hmac.compare_digest(secret.encode(), header.encode("latin-1"))


def _project(p: Fields) -> str:
    path = p.text("project.path_with_namespace")
    if "/" not in path.strip("/") or not path.isprintable():
        raise BadPayload("project.path_with_namespace", "GROUP/PROJECT, e.g. acme/api")
    return path


# ---- mapping: one function per event, run inside the delivery's transaction ---------------

Handler = Callable[[sqlite_utils.Database, Fields, Deps, str], Outcome]


def _deployment(db: sqlite_utils.Database, p: Fields, deps: Deps, now: str) -> Outcome:
    # The full sha ends commit_url; older or trimmed payloads have only short_sha.
    commit_url = p.optional_text("commit_url")
    sha = commit_url.rstrip("/").rsplit("/", 1)[-1] if commit_url else p.text("short_sha")
    if not _SHA.match(sha):
        raise BadPayload("commit_url" if commit_url else "short_sha", "a URL ending in a sha")
    ref = p.optional_text("ref")
    # A deployment of the default branch has no name of its own: the short sha says which
    # version it was. A tag or another branch is the version.
    plain = ref is None or ref == p.optional_text("project.default_branch")
    event = Deployment(
        project=_project(p),
        deployment_id=p.number("deployment_id"),
        status=p.text("status"),
        at=p.time("status_changed_at"),
        environment=p.text("environment"),
        sha=sha,
        version=sha[:8] if plain else ref or sha[:8],
        url=p.optional_text("deployable_url") or p.optional_text("environment_external_url"),
    )
    return events.deployment(db, event, deps.config.production_environments, now)


def _push(db: sqlite_utils.Database, p: Fields, deps: Deps, now: str) -> Outcome:
    ref = p.text("ref")
    if ref != "refs/heads/" + p.text("project.default_branch"):
        # Tags and other branches: only the default branch is history that ships.
        return Outcome(gitlab_text.gitlab_webhook_ignored(f"push to {ref}"))
    commits = [
        Commit(sha=c.text("id").lower(), authored_at=c.time("timestamp"))
        for c in p.objects("commits")
    ]
    if not commits:  # a branch deleted, or a push of nothing new
        return Outcome(gitlab_text.gitlab_webhook_ignored(f"push of no commits to {ref}"))
    return events.push(db, _project(p), commits, deps.config.production_environments, now)


def _merge_request(db: sqlite_utils.Database, p: Fields, deps: Deps, now: str) -> Outcome:
    action = p.optional_text("object_attributes.action")
    if action != "merge":
        return Outcome(gitlab_text.gitlab_webhook_ignored(f"merge request {action}"))
    # A merged merge request has no merged_at: the event's updated_at is when it merged.
    return events.merged(
        db,
        _project(p),
        p.number("object_attributes.iid"),
        p.text("object_attributes.merge_commit_sha"),
        p.time("object_attributes.updated_at"),
    )


def _issue(db: sqlite_utils.Database, p: Fields, deps: Deps, now: str) -> Outcome:
    kind = p.text("object_kind")
    if kind not in ISSUE_KINDS:
        return Outcome(gitlab_text.gitlab_webhook_ignored(f"{kind} event"))
    labels = [label.text("title") for label in p.objects("labels")] if p.get("labels") else []
    action = p.optional_text("object_attributes.action")
    event = IssueEvent(
        project=_project(p),
        issue_id=p.number("object_attributes.id"),
        action=action,
        title=p.text("object_attributes.title"),
        is_incident=p.optional_text("object_attributes.type") == "Incident",
        labels=labels,
        created_at=p.time("object_attributes.created_at"),
        # A close without closed_at (older GitLab) closed when it was last updated.
        closed_at=(
            p.optional_time("object_attributes.closed_at") or p.time("object_attributes.updated_at")
            if action == "close"
            else None
        ),
        url=p.optional_text("object_attributes.url"),
    )
    return events.issue(db, event, deps.config.production_environments, now)


HANDLERS: dict[str, Handler] = {
    "Deployment Hook": _deployment,
    "Push Hook": _push,
    "Merge Request Hook": _merge_request,
    "Issue Hook": _issue,
}


# ---- the WSGI handler ----------------------------------------------------------------------


class GitLabWebhook:
    def __init__(
        self, deps: Deps, executor: Executor, post_incident: IncidentPoster | None = None
    ) -> None:
        self.deps = deps
        self.executor = executor  # where the incident card is posted, off the request path
        self.post_incident = post_incident

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        secret = self.deps.config.gitlab_webhook_secret
        if refused := opening(environ, secret, WORDS):
            return refused.respond(start_response)
        event = environ.get("HTTP_X_GITLAB_EVENT", "")
        delivery = environ.get("HTTP_IDEMPOTENCY_KEY") or environ.get(
            "HTTP_X_GITLAB_EVENT_UUID", ""
        )
        if not token_matches(secret, environ.get("HTTP_X_GITLAB_TOKEN", "")):
            log.warning("gitlab %s %s: refused, bad or missing token", event, delivery)
            return respond(
                start_response, "401 Unauthorized", {"error": gitlab_text.GITLAB_WEBHOOK_BAD_TOKEN}
            )
        if content_length(environ) > MAX_BODY:  # refused before a byte of it is read
            return respond(
                start_response,
                "413 Content Too Large",
                {"error": gitlab_text.gitlab_webhook_too_large(MAX_BODY)},
            )
        body = read_body(environ)
        if not delivery:
            return self._refuse(
                start_response, event, delivery, gitlab_text.GITLAB_WEBHOOK_NO_ID, None
            )
        try:
            payload = json_object(body, "The body", gitlab_text.SENDER)
        except BadJson as error:
            return self._refuse(start_response, event, delivery, str(error), None)
        handler = HANDLERS.get(event)
        if handler is None:
            log.info("gitlab %s %s: event not used, ignored", event, delivery)
            return respond(start_response, "202 Accepted", {"ignored": event})
        return self._record(start_response, event, delivery, handler, Payload(payload))

    def _refuse(
        self,
        start_response: StartResponse,
        event: str,
        delivery: str,
        error: str,
        field: str | None,
    ) -> list[bytes]:
        log.warning("gitlab %s %s: refused, %s", event, delivery, error)
        return respond(start_response, "400 Bad Request", {"error": error, "field": field})

    def _record(
        self,
        start_response: StartResponse,
        event: str,
        delivery: str,
        handler: Handler,
        payload: Fields,
    ) -> list[bytes]:
        now = utc_text(self.deps.clock.now())

        try:
            outcome = write_once(
                self.deps.store,
                f"gitlab {event} {delivery}",
                lambda db: sources.claim_delivery(db, events.SOURCE, delivery, now),
                lambda db: handler(db, payload, self.deps, now),
                WORDS,
            )
        except Answer as answer:
            return answer.respond(start_response)
        log.info("gitlab %s %s: %s", event, delivery, outcome.summary)
        if outcome.incident is not None and self.post_incident:
            post, incident, channel = self.post_incident, outcome.incident, outcome.channel_id
            after_answer(
                self.executor, lambda: post(incident, channel), f"incident #{incident}'s card"
            )
        return respond(start_response, "200 OK", {"ok": True, "result": outcome.summary})
