"""Recording incidents: once per source key, linked to the deploy that caused it, resolved,
reopened and relinked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlite_utils

from bot.core.errors import Conflict, NotFound, Reason
from storage import deploys, incidents
from storage.records import Deploy, Incident

AUTO = "auto"  # no cause given: link the latest production deploy before the start
Cause = int | None | str  # a deploy id, None for `deploy=none`, or AUTO


@dataclass(frozen=True, slots=True)
class IncidentFacts:
    """What a source says about one incident; times are UTC text."""

    service: str
    title: str
    severity: int | None
    started_at: str
    cause: Cause = AUTO
    resolved_at: str | None = None  # an imported history may say it is over
    url: str | None = None  # its page in the tool it came from


@dataclass(frozen=True, slots=True)
class Opened:
    incident: Incident
    deploy: Deploy | None  # the deploy it is linked to
    created: bool  # False: seen before, nothing changed


def open_incident(
    db: sqlite_utils.Database,
    facts: IncidentFacts,
    source: str,
    source_key: str,
    production: Sequence[str],
    now: str,
    channel_id: str | None = None,
) -> Opened:
    """Store an incident once per source key, linked to its cause. Seen before: the stored
    one, unchanged. Raises NotFound or Conflict (field "deploy") for a wrong cause."""
    existing = incidents.find_by_source(db, source, source_key)
    if existing is not None:
        cause = deploys.get(db, existing.deploy_id) if existing.deploy_id else None
        return Opened(existing, cause, created=False)
    deploy, kind = _cause(db, facts, production)
    incident = incidents.insert(
        db,
        {
            "service": facts.service,
            "title": facts.title,
            "severity": facts.severity,
            "started_at": facts.started_at,
            "resolved_at": facts.resolved_at,
            "url": facts.url,
            "deploy_id": deploy.id if deploy else None,
            "cause": kind,
            "source": source,
            "source_key": source_key,
            "channel_id": channel_id,
            "created_at": now,
        },
    )
    return Opened(incident, deploy, created=True)


@dataclass(frozen=True, slots=True)
class IncidentChanges:
    """What a later report under the same source key says; None (AUTO for the cause)
    leaves a field as it was."""

    service: str | None = None
    title: str | None = None
    severity: int | None = None
    started_at: str | None = None
    resolved_at: str | None = None
    cause: Cause = AUTO


def update(db: sqlite_utils.Database, incident_id: int, changes: IncidentChanges) -> Opened:
    """Apply a later report to an incident: a new cause relinks it, a resolved_at resolves
    it (a different one moves the recovery). Raises NotFound, or Conflict when the cause is
    wrong or the incident would end before it started (field "at")."""
    incident = existing(db, incident_id)
    started_at = changes.started_at or incident.started_at
    resolved_at = changes.resolved_at or incident.resolved_at
    if resolved_at is not None and resolved_at < started_at:
        raise Conflict(Reason.RESOLVED_BEFORE_START, incident, field="at")
    if changes.cause != AUTO:
        deploy_id = changes.cause if isinstance(changes.cause, int) else None
        if deploy_id != incident.deploy_id:
            incident = link(db, incident.id, deploy_id)
    incidents.describe(
        db,
        incident.id,
        changes.service or incident.service,
        changes.title or incident.title,
        changes.severity if changes.severity is not None else incident.severity,
        started_at,
    )
    if resolved_at is not None and resolved_at != incident.resolved_at:
        incidents.resolve(db, incident.id, resolved_at)
    incident = existing(db, incident.id)
    deploy = deploys.get(db, incident.deploy_id) if incident.deploy_id else None
    return Opened(incident, deploy, created=False)


def _cause(
    db: sqlite_utils.Database, facts: IncidentFacts, production: Sequence[str]
) -> tuple[Deploy | None, str]:
    """The deploy an incident is linked to and its cause column: AUTO takes the latest
    successful production deploy of the service that finished at or before the start
    ('unknown' when there is none)."""
    if facts.cause == AUTO:
        deploy = deploys.latest_success(db, facts.service, production, facts.started_at)
        return deploy, "deploy" if deploy else "unknown"
    if facts.cause is None:
        return None, "none"
    assert isinstance(facts.cause, int)
    return caused_by(db, facts.cause), "deploy"


def caused_by(db: sqlite_utils.Database, deploy_id: int) -> Deploy:
    """A deploy named as a cause: it must exist and have reached production."""
    deploy = deploys.get(db, deploy_id)
    if deploy is None:
        raise NotFound("deploy", deploy_id, field="deploy")
    if deploy.status != "success":
        raise Conflict(Reason.FAILED_ATTEMPT, deploy, field="deploy")
    return deploy


def existing(db: sqlite_utils.Database, incident_id: int) -> Incident:
    incident = incidents.get(db, incident_id)
    if incident is None:
        raise NotFound("incident", incident_id)
    return incident


def resolve(db: sqlite_utils.Database, incident_id: int, at: str) -> Incident:
    """Resolve an open incident at `at`. Raises NotFound, or Conflict when it was resolved
    already or `at` is before it started."""
    incident = existing(db, incident_id)
    if incident.resolved_at is not None:
        raise Conflict(Reason.ALREADY_RESOLVED, incident)
    if at < incident.started_at:
        raise Conflict(Reason.RESOLVED_BEFORE_START, incident, field="at")
    incidents.resolve(db, incident.id, at)
    return existing(db, incident.id)


def closed(db: sqlite_utils.Database, incident: Incident, at: str) -> bool:
    """Another system closed it (a GitHub issue): resolved then, or at its start if its
    clock says earlier. False when it was resolved already."""
    if incident.resolved_at is not None:
        return False
    incidents.resolve(db, incident.id, max(at, incident.started_at))
    return True


def reopen(db: sqlite_utils.Database, incident: Incident) -> bool:
    """Open a resolved incident again; False when it was open."""
    if incident.resolved_at is None:
        return False
    incidents.reopen(db, incident.id)
    return True


def link(db: sqlite_utils.Database, incident_id: int, deploy_id: int | None) -> Incident:
    """Link an incident to the deploy that caused it, or to none (`deploy=none`). Raises
    NotFound or Conflict."""
    incident = existing(db, incident_id)
    if deploy_id is None:
        incidents.link(db, incident.id, None, "none")
    else:
        incidents.link(db, incident.id, caused_by(db, deploy_id).id, "deploy")
    return existing(db, incident.id)


def shown_in(db: sqlite_utils.Database, incident_id: int, channel_id: str, message_ts: str) -> None:
    """Where an incident's card was posted, so later changes update that message."""
    incidents.remember_message(db, incident_id, channel_id, message_ts)


def channel_privacy(db: sqlite_utils.Database, incident_id: int, private: bool | None) -> None:
    """Whether the channel it was opened in is private (None: not known), which decides
    where its title may be shown."""
    incidents.remember_privacy(db, incident_id, private)


def imported(
    db: sqlite_utils.Database,
    facts: IncidentFacts,
    source_key: str,
    created_at: str,
    production: Sequence[str],
) -> Incident:
    """An incident from another system's history, which says what caused it (a deploy id
    or None) and when it ended: stored once per source key, its cause checked."""
    return open_incident(db, facts, "import", source_key, production, created_at).incident


def find(db: sqlite_utils.Database, source: str, source_key: str) -> Incident | None:
    """The incident a source already reported under this key, if any."""
    return incidents.find_by_source(db, source, source_key)
