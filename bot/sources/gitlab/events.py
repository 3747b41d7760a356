"""What GitLab tells us, recorded: deploys, changes and incidents (SPEC.md "GitLab").

The webhook (bot/sources/gitlab/webhook.py) reads a payload into the plain records below
and calls these functions inside the delivery's write transaction. They map GitLab's words
to bot.recording, which holds every rule; nothing here writes by itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlite_utils

from bot.core.text import scrubbed
from bot.recording import changes, deploys, incidents
from bot.recording.deploys import DeployFacts, Source
from bot.recording.incidents import IncidentFacts
from storage import sources
from storage.shipping import Commit

SOURCE = "gitlab"
DEFAULT_INCIDENT_LABEL = "incident"
# GitLab deployment statuses that say whether the deploy reached users; running, canceled
# and blocked say nothing about production.
FINISHED = ("success", "failed")
MAX_TITLE = 200


@dataclass(frozen=True, slots=True)
class Project:
    """A GitLab project's settings: `shipshape gitlab project`, else the defaults."""

    path: str  # path_with_namespace: GROUP/PROJECT or GROUP/SUBGROUP/PROJECT
    service: str
    label: str
    channel_id: str | None

    @property
    def service_is_default(self) -> bool:
        return self.service == default_service(self.path)


def default_service(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def project(db: sqlite_utils.Database, path: str) -> Project:
    found = sources.settings(db, SOURCE, path)
    return Project(
        path=path,
        service=(found and found.service) or default_service(path),
        label=(found and found.incident_label) or DEFAULT_INCIDENT_LABEL,
        channel_id=found.channel_id if found else None,
    )


@dataclass(frozen=True, slots=True)
class Deployment:
    project: str
    deployment_id: int
    status: str  # GitLab's: success, failed, running, canceled, blocked
    at: str  # status_changed_at, UTC text
    environment: str
    sha: str
    version: str
    url: str | None


@dataclass(frozen=True, slots=True)
class IssueEvent:
    project: str
    issue_id: int
    action: str | None  # open, close, reopen, update
    title: str
    is_incident: bool  # type Incident; the project's label is checked here
    labels: Sequence[str]
    created_at: str
    closed_at: str | None
    url: str | None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a delivery changed, for the HTTP reply and the logs. `incident` is an incident
    it opened or changed whose card to post or update (None when it has no card and no
    channel to post one in), and `channel_id` where the project's incidents are posted."""

    summary: str
    incident: int | None = None
    channel_id: str | None = None


def deployment(
    db: sqlite_utils.Database, event: Deployment, production: Sequence[str], now: str
) -> Outcome:
    if event.status not in FINISHED:
        return Outcome(f"deployment {event.deployment_id}: status {event.status} ignored")
    recorded = deploys.record_latest_status(
        db,
        DeployFacts(
            service=project(db, event.project).service,
            environment=event.environment.lower(),
            version=event.version,
            sha=event.sha.lower(),
            repo=event.project,
            status=event.status,
            deployed_at=event.at,
            url=event.url,
        ),
        Source(SOURCE, f"deployment:{event.deployment_id}"),
        production,
        now,
    )
    if recorded is None:
        return Outcome(f"deployment {event.deployment_id}: an older status, ignored")
    return Outcome(f"deploy #{recorded.deploy.id}: {event.status}")


def push(
    db: sqlite_utils.Database,
    path: str,
    commits: Sequence[Commit],
    production: Sequence[str],
    now: str,
) -> Outcome:
    new = changes.pushed(db, path, commits, production, SOURCE, now)
    return Outcome(f"{new} new of {len(commits)} commits")


def merged(
    db: sqlite_utils.Database, path: str, iid: int, merge_sha: str, merged_at: str
) -> Outcome:
    changes.merged(db, path, iid, merge_sha, merged_at)
    return Outcome(f"merge request !{iid} merged")


def issue(
    db: sqlite_utils.Database, event: IssueEvent, production: Sequence[str], now: str
) -> Outcome:
    """An incident (type Incident, or the project's incident label) opens one that started
    when it was created; close resolves it at closed_at; reopen reopens it."""
    settings = project(db, event.project)
    key = f"issue:{event.issue_id}"
    found = incidents.find(db, SOURCE, key)
    if found is None:
        if not (event.is_incident or settings.label in event.labels):
            return Outcome(f"issue without type Incident or the label {settings.label!r} ignored")
        facts = IncidentFacts(
            service=settings.service,
            title=" ".join(scrubbed(event.title).split())[:MAX_TITLE] or key,
            severity=None,
            started_at=event.created_at,
            url=event.url,
        )
        found = incidents.open_incident(db, facts, SOURCE, key, production, now).incident
        summary: str | None = f"incident #{found.id} opened"
    else:
        summary = None
    if event.action == "close" and event.closed_at is not None:
        if incidents.closed(db, found, event.closed_at):
            summary = f"incident #{found.id} resolved"
    elif event.action == "reopen" and incidents.reopen(db, found):
        summary = f"incident #{found.id} reopened"
    if summary is None:
        return Outcome(f"incident #{found.id} unchanged")
    shown = found.id if settings.channel_id or found.message_ts else None
    return Outcome(summary, incident=shown, channel_id=settings.channel_id)
