"""What GitHub tells us, recorded: deploys, changes and incidents (SPEC.md "GitHub").

The webhook (bot/sources/github/webhook.py) and the API sync (bot/sources/github/sync.py)
both turn what they receive into the plain records below and call these functions inside
one write transaction, so a delivery and a sync of the same facts store the same rows once.
These map GitHub's words to bot.recording, which holds every rule; nothing here writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlite_utils

from bot.core.text import scrubbed
from bot.recording import changes, deploys, incidents
from bot.recording.deploys import DeployFacts, Recorded, Source
from bot.recording.incidents import IncidentFacts
from storage import github
from storage.shipping import Commit

# GitHub deployment states that mean the deployment finished; the rest (pending, queued,
# in_progress, inactive) say nothing about whether a change reached users.
FINISHED_STATES = {"success": "success", "failure": "failed", "error": "failed"}
MAX_TITLE = 200


@dataclass(frozen=True, slots=True)
class DeploymentStatus:
    repo: str  # OWNER/NAME
    deployment_id: int
    status_id: int
    state: str  # GitHub's: success, failure, error, pending, in_progress, ...
    at: str  # the status's created_at, UTC text: when the deployment finished
    environment: str
    sha: str
    version: str | None
    url: str | None


@dataclass(frozen=True, slots=True)
class RunDeploy:
    """A release published or a workflow run completed, where the repository counts it."""

    repo: str
    key: str  # "release:ID" or "workflow_run:ID"
    status: str  # success or failed
    at: str
    sha: str | None
    version: str | None
    url: str | None


@dataclass(frozen=True, slots=True)
class IssueEvent:
    repo: str
    issue_id: int
    action: str  # opened, labeled, closed, reopened, ...
    title: str
    labels: Sequence[str]
    created_at: str
    closed_at: str | None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a fact changed, for the HTTP reply and the logs. `needs_commits` is a deploy
    whose sha is not among the stored changes yet: its commits must be fetched."""

    summary: str
    needs_commits: int | None = None


def deployment_status(
    db: sqlite_utils.Database,
    status: DeploymentStatus,
    production: Sequence[str],
    now: str,
) -> Outcome:
    result = FINISHED_STATES.get(status.state)
    if result is None:
        return Outcome(f"deployment {status.deployment_id}: state {status.state} ignored")
    settings = github.settings(db, status.repo)
    recorded = deploys.record_github_status(
        db,
        status.deployment_id,
        status.status_id,
        DeployFacts(
            service=settings.service_for(),
            environment=status.environment.lower(),
            version=status.version,
            sha=status.sha.lower(),
            repo=status.repo,
            status=result,
            deployed_at=status.at,
            url=status.url,
        ),
        production,
        now,
    )
    if recorded is None:
        return Outcome(f"deployment {status.deployment_id}: an older status, ignored")
    return _outcome(f"deploy #{recorded.deploy.id}: {status.state}", recorded)


def _outcome(summary: str, recorded: Recorded) -> Outcome:
    return Outcome(summary, needs_commits=recorded.deploy.id if recorded.needs_commits else None)


def run_deploy(
    db: sqlite_utils.Database, run: RunDeploy, production: Sequence[str], now: str
) -> Outcome:
    settings = github.settings(db, run.repo)
    recorded = deploys.record_latest(
        db,
        DeployFacts(
            service=settings.service_for(),
            environment=production[0],
            version=run.version,
            sha=run.sha.lower() if run.sha else None,
            repo=run.repo,
            status=run.status,
            deployed_at=run.at,
            url=run.url,
        ),
        Source("github", run.key),
        production,
        now,
    )
    return _outcome(f"deploy #{recorded.deploy.id}: {run.key} {run.status}", recorded)


def push(
    db: sqlite_utils.Database,
    repo: str,
    commits: Sequence[Commit],
    production: Sequence[str],
    now: str,
) -> Outcome:
    new = changes.pushed(db, repo, commits, production, "github", now)
    return Outcome(f"{new} new of {len(commits)} commits")


def merged_pull(
    db: sqlite_utils.Database, repo: str, number: int, merge_sha: str, merged_at: str
) -> Outcome:
    changes.merged(db, repo, number, merge_sha, merged_at)
    return Outcome(f"pull request #{number} merged")


def issue(
    db: sqlite_utils.Database, event: IssueEvent, production: Sequence[str], now: str
) -> Outcome:
    """Issues with the repository's incident label are incidents: opened (or labeled) opens
    one that started when the issue was created; closed resolves it; reopened reopens it."""
    settings = github.settings(db, event.repo)
    key = f"issue:{event.issue_id}"
    if settings.label not in event.labels:
        return Outcome(f"issue without the label {settings.label!r} ignored")
    found = incidents.find(db, "github", key)
    if found is None:
        if event.action not in ("opened", "labeled", "reopened", "closed", "edited"):
            return Outcome(f"issue {event.action} ignored")
        facts = IncidentFacts(
            service=settings.service_for(),
            title=" ".join(scrubbed(event.title).split())[:MAX_TITLE] or key,
            severity=None,
            started_at=event.created_at,
        )
        found = incidents.open_incident(db, facts, "github", key, production, now).incident
    if event.closed_at is not None and incidents.closed(db, found, event.closed_at):
        return Outcome(f"incident #{found.id} resolved")
    if event.action == "reopened" and incidents.reopen(db, found):
        return Outcome(f"incident #{found.id} reopened")
    return Outcome(f"incident #{found.id} recorded")
