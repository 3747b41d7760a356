"""What GitHub tells us, recorded: deploys, changes and incidents (SPEC.md "GitHub").

The webhook (bot/sources/github/webhook.py) and the API sync (bot/sources/github/sync.py)
both turn what they receive into the plain records below and call these functions inside
one write transaction, so a delivery and a sync of the same facts store the same rows once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlite_utils

from bot.core.text import scrubbed
from storage import deploys, github, incidents, shipping
from storage.records import Deploy
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


def _upsert_deploy(
    db: sqlite_utils.Database,
    key: str,
    values: dict[str, object],
    production: Sequence[str],
    now: str,
) -> tuple[Deploy, bool]:
    """Insert or update the deploy with this source key and relink its changes; returns it
    and whether its sha was unknown (so nothing could be shipped)."""
    before = deploys.find_by_source(db, "github", key)
    if before is None:
        deploy = deploys.insert(
            db, {**values, "source": "github", "source_key": key, "created_at": now}
        )
    else:
        assignments = ", ".join(f"{column} = ?" for column in values)
        db.conn.execute(
            f"UPDATE deploys SET {assignments} WHERE id = ?", (*values.values(), before.id)
        )
        deploy = deploys.get(db, before.id)  # type: ignore[assignment]
        assert deploy is not None
        if shipping.ships(before, production):
            shipping.unship(db, before, production)
    shipped = shipping.ship(db, deploy, production)
    return deploy, shipped is None


def deployment_status(
    db: sqlite_utils.Database,
    status: DeploymentStatus,
    production: Sequence[str],
    now: str,
) -> Outcome:
    result = FINISHED_STATES.get(status.state)
    if result is None:
        return Outcome(f"deployment {status.deployment_id}: state {status.state} ignored")
    applied = github.applied_status(db, status.deployment_id)
    if applied is not None and (applied.status_at, applied.status_id) >= (
        status.at,
        status.status_id,
    ):
        return Outcome(f"deployment {status.deployment_id}: an older status, ignored")
    settings = github.settings(db, status.repo)
    deploy, unknown_sha = _upsert_deploy(
        db,
        f"deployment:{status.deployment_id}",
        {
            "service": settings.service_for(),
            "environment": status.environment.lower(),
            "version": status.version,
            "sha": status.sha.lower(),
            "repo": status.repo,
            "status": result,
            "deployed_at": status.at,
            "url": status.url,
        },
        production,
        now,
    )
    github.apply_status(
        db,
        github.AppliedStatus(
            status.deployment_id, status.repo, deploy.id, status.status_id, status.at
        ),
    )
    return Outcome(
        f"deploy #{deploy.id}: {status.state}",
        needs_commits=deploy.id if unknown_sha and shipping.ships(deploy, production) else None,
    )


def run_deploy(
    db: sqlite_utils.Database, run: RunDeploy, production: Sequence[str], now: str
) -> Outcome:
    settings = github.settings(db, run.repo)
    deploy, unknown_sha = _upsert_deploy(
        db,
        run.key,
        {
            "service": settings.service_for(),
            "environment": production[0],
            "version": run.version,
            "sha": run.sha.lower() if run.sha else None,
            "repo": run.repo,
            "status": run.status,
            "deployed_at": run.at,
            "url": run.url,
        },
        production,
        now,
    )
    return Outcome(
        f"deploy #{deploy.id}: {run.key} {run.status}",
        needs_commits=deploy.id if unknown_sha and shipping.ships(deploy, production) else None,
    )


def push(
    db: sqlite_utils.Database,
    repo: str,
    commits: Sequence[Commit],
    production: Sequence[str],
    now: str,
) -> Outcome:
    new = shipping.record_commits(db, repo, commits, production, source="github", created_at=now)
    return Outcome(f"{new} new of {len(commits)} commits")


def merged_pull(
    db: sqlite_utils.Database, repo: str, number: int, merge_sha: str, merged_at: str
) -> Outcome:
    shipping.record_merge(db, repo, number, merge_sha.lower(), merged_at)
    return Outcome(f"pull request #{number} merged")


def issue(
    db: sqlite_utils.Database, event: IssueEvent, production: Sequence[str], now: str
) -> Outcome:
    """Issues with the repository's incident label are incidents: opened (or labeled) opens
    one that started when the issue was created; closed resolves it; reopened reopens it."""
    settings = github.settings(db, event.repo)
    key = f"issue:{event.issue_id}"
    existing = incidents.find_by_source(db, "github", key)
    if settings.label not in event.labels:
        return Outcome(f"issue without the label {settings.label!r} ignored")
    if existing is None:
        if event.action not in ("opened", "labeled", "reopened", "closed", "edited"):
            return Outcome(f"issue {event.action} ignored")
        service = settings.service_for()
        cause = deploys.latest_success(db, service, production, event.created_at)
        existing = incidents.insert(
            db,
            {
                "service": service,
                "title": " ".join(scrubbed(event.title).split())[:MAX_TITLE] or key,
                "started_at": event.created_at,
                "deploy_id": cause.id if cause else None,
                "cause": "deploy" if cause else "unknown",
                "source": "github",
                "source_key": key,
                "created_at": now,
            },
        )
    if event.closed_at is not None and existing.resolved_at is None:
        incidents.resolve(db, existing.id, max(event.closed_at, existing.started_at))
        return Outcome(f"incident #{existing.id} resolved")
    if event.action == "reopened" and existing.resolved_at is not None:
        incidents.reopen(db, existing.id)
        return Outcome(f"incident #{existing.id} reopened")
    return Outcome(f"incident #{existing.id} recorded")
