"""GitHub bookkeeping: deliveries handled, repository settings, deployment statuses applied."""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from storage.records import Record

DEFAULT_INCIDENT_LABEL = "incident"


def claim_delivery(db: sqlite_utils.Database, delivery_id: str, event: str, at: str) -> bool:
    """Record a delivery id; False when it was handled before (a redelivery). Inside the
    transaction that does the delivery's work, so a failed delivery can be redelivered."""
    cursor = db.conn.execute(
        """INSERT INTO github_deliveries (delivery_id, event, received_at) VALUES (?, ?, ?)
           ON CONFLICT (delivery_id) DO NOTHING""",
        (delivery_id, event, at),
    )
    return cursor.rowcount == 1


@dataclass(frozen=True, slots=True)
class RepoSettings(Record):
    repo: str
    service: str | None = None
    incident_label: str | None = None
    deploy_on: str = "deployments"  # or "release", or "workflow" (with `workflow`)
    workflow: str | None = None
    sync: int = 0
    synced_at: str | None = None

    @property
    def label(self) -> str:
        return self.incident_label or DEFAULT_INCIDENT_LABEL

    def service_for(self) -> str:
        """The service a repository's records belong to: its mapping, or the repository's
        own name (the part after the slash)."""
        return self.service or self.repo.split("/", 1)[1]


def settings(db: sqlite_utils.Database, repo: str) -> RepoSettings:
    row = db.conn.execute("SELECT * FROM github_repos WHERE repo = ?", (repo,)).fetchone()
    return RepoSettings.from_row(row) if row else RepoSettings(repo=repo)


def all_settings(db: sqlite_utils.Database) -> list[RepoSettings]:
    rows = db.conn.execute("SELECT * FROM github_repos ORDER BY repo").fetchall()
    return [RepoSettings.from_row(r) for r in rows]


def save_settings(db: sqlite_utils.Database, repo: RepoSettings, updated_at: str) -> None:
    db.conn.execute(
        """INSERT INTO github_repos (repo, service, incident_label, deploy_on, workflow, sync,
               synced_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (repo) DO UPDATE SET service = excluded.service,
               incident_label = excluded.incident_label, deploy_on = excluded.deploy_on,
               workflow = excluded.workflow, sync = excluded.sync,
               synced_at = excluded.synced_at, updated_at = excluded.updated_at""",
        (
            repo.repo,
            repo.service,
            repo.incident_label,
            repo.deploy_on,
            repo.workflow,
            repo.sync,
            repo.synced_at,
            updated_at,
        ),
    )


@dataclass(frozen=True, slots=True)
class AppliedStatus(Record):
    deployment_id: int
    repo: str
    deploy_id: int | None
    status_id: int
    status_at: str


def applied_status(db: sqlite_utils.Database, deployment_id: int) -> AppliedStatus | None:
    row = db.conn.execute(
        "SELECT * FROM github_deployments WHERE deployment_id = ?", (deployment_id,)
    ).fetchone()
    return AppliedStatus.from_row(row) if row else None


def apply_status(db: sqlite_utils.Database, status: AppliedStatus) -> None:
    db.conn.execute(
        """INSERT INTO github_deployments (deployment_id, repo, deploy_id, status_id, status_at)
           VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (deployment_id) DO UPDATE SET deploy_id = excluded.deploy_id,
               status_id = excluded.status_id, status_at = excluded.status_at""",
        (status.deployment_id, status.repo, status.deploy_id, status.status_id, status.status_at),
    )
