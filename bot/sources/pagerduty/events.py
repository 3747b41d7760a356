"""What PagerDuty tells us, recorded: incidents triggered, resolved and reopened
(SPEC.md "PagerDuty").

The webhook reads a V3 event into an IncidentEvent before anything is written, then calls
record() inside the delivery's write transaction. These map PagerDuty's words to
bot.recording, which holds every rule; nothing here writes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import sqlite_utils

from bot.core.text import scrubbed
from bot.recording import incidents
from bot.recording.incidents import IncidentFacts
from bot.sources.fields import BadPayload, Fields
from storage import sources

SOURCE = "pagerduty"
EVENT_TYPES = ("incident.triggered", "incident.resolved", "incident.reopened")
MAX_TITLE = 200
MAX_SERVICE = 80
# PagerDuty's default priorities; an account's own names (e.g. "SEV-1") fall back to urgency.
PRIORITIES = {"P1": 1, "P2": 2, "P3": 3, "P4": 4, "P5": 4}
URGENCIES = {"high": 2, "low": 3}
_NOT_IN_NAME = re.compile(r"[^a-z0-9._-]+")
# A page link shown in Slack's <url|text> markup, which these characters would break.
_LINK = re.compile(r"^https?://[^\s<>|]{1,500}$")


@dataclass(frozen=True, slots=True)
class IncidentEvent:
    """One V3 incident event, read and checked; times are UTC text."""

    event_id: str
    event_type: str  # one of EVENT_TYPES
    occurred_at: str
    incident: str  # data.id, the incident's key
    title: str
    created_at: str | None  # absent from older payloads
    severity: int | None
    service_id: str
    service_name: str
    url: str | None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an event changed, for the HTTP reply, the logs and the channel: `incident_id` is
    the incident whose card to post (`posted` False) or update, in `channel_id`; None when
    it has no card and no channel to post one in, so nothing runs after the answer."""

    summary: str
    incident_id: int | None = None
    created: bool = False
    channel_id: str | None = None


class NothingToStore(Exception):
    """The event cannot be recorded truthfully: the delivery stores nothing (202)."""


def service_name(name: str) -> str:
    """The PagerDuty service's name as a Shipshape service: lower case, each run of other
    characters than letters, digits, `.`, `_` and `-` one `-` ("Checkout API" is
    checkout-api)."""
    return _NOT_IN_NAME.sub("-", name.lower())


def severity(priority: str | None, urgency: str | None) -> int | None:
    if priority in PRIORITIES:
        return PRIORITIES[priority]
    return URGENCIES.get(urgency or "")


def read(p: Fields, event_type: str) -> IncidentEvent:
    """The event in a V3 payload whose event_type is one of EVENT_TYPES; raises BadPayload
    naming the first field that is missing or of the wrong type."""
    priority = p.get("event.data.priority")
    if priority is not None and not isinstance(priority, dict):
        raise BadPayload("event.data.priority", "an object or null")
    name = p.text("event.data.service.summary")
    service = service_name(name)
    if not service.strip("-") or len(service) > MAX_SERVICE:
        raise BadPayload(
            "event.data.service.summary", f"a service name of 1 to {MAX_SERVICE} characters"
        )
    url = p.optional_text("event.data.html_url")
    return IncidentEvent(
        event_id=_id(p, "event.id"),
        event_type=event_type,
        occurred_at=p.time("event.occurred_at"),
        incident=_id(p, "event.data.id"),
        title=" ".join(scrubbed(p.text("event.data.title")).split())[:MAX_TITLE],
        created_at=p.optional_time("event.data.created_at"),
        severity=severity(
            p.optional_text("event.data.priority.summary"),
            p.optional_text("event.data.urgency"),
        ),
        service_id=_id(p, "event.data.service.id"),
        service_name=name,
        url=url if url and _LINK.match(url) else None,
    )


def _id(p: Fields, path: str) -> str:
    value = p.text(path).strip()
    if not value or len(value) > 100 or not value.isprintable():
        raise BadPayload(path, "an id of 1 to 100 printable characters")
    return value


def mapping(db: sqlite_utils.Database, service_id: str, name: str) -> sources.SourceSettings | None:
    """The settings `shipshape pagerduty service` stored for this service: by id first,
    then by name."""
    return sources.settings(db, SOURCE, service_id) or sources.settings(db, SOURCE, name)


def record(
    db: sqlite_utils.Database, event: IncidentEvent, production: Sequence[str], now: str
) -> Outcome:
    """triggered opens the incident keyed by PagerDuty's incident id, linked like `/incident
    open`; resolved resolves it at the event's time; reopened reopens it. A resolve or
    reopen for an incident never triggered here opens it first when the payload says when
    it started, and raises NothingToStore when it does not."""
    settings = mapping(db, event.service_id, event.service_name)
    channel = settings.channel_id if settings else None
    found = incidents.find(db, SOURCE, event.incident)
    created = found is None
    if found is None:
        started = event.created_at
        if started is None and event.event_type == "incident.triggered":
            started = event.occurred_at
        if started is None:
            raise NothingToStore(event.incident)
        facts = IncidentFacts(
            service=(settings.service if settings else None) or service_name(event.service_name),
            title=event.title or event.incident,
            severity=event.severity,
            started_at=started,
            url=event.url,
        )
        found = incidents.open_incident(db, facts, SOURCE, event.incident, production, now).incident
    summary = f"incident #{found.id} recorded"
    if event.event_type == "incident.resolved" and incidents.closed(db, found, event.occurred_at):
        summary = f"incident #{found.id} resolved"
    elif event.event_type == "incident.reopened" and incidents.reopen(db, found):
        summary = f"incident #{found.id} reopened"
    elif created:
        summary = f"incident #{found.id} opened"
    shown = found.id if channel or found.message_ts else None
    return Outcome(summary, shown, created, channel)
