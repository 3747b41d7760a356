"""Recording changes (commits) and which deploy shipped them (SPEC.md "Change lead time").

storage/shipping.py keeps the links true in SQL; this module decides when a deploy ships
(a success to production with a repository and a sha) and records what each source says
about commits: a push, a merged pull request, the compare API's commits of one deploy, an
import that names its deploy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlite_utils

from storage import changes, shipping
from storage.records import Change, Deploy
from storage.shipping import Commit


def ships(deploy: Deploy, production: Sequence[str]) -> bool:
    """Whether a deploy ships changes: only what reached production counts."""
    return shipping.ships(deploy, production)


def ship(db: sqlite_utils.Database, deploy: Deploy, production: Sequence[str]) -> bool:
    """Link the changes a deploy shipped; True when it ships but its sha is not among the
    stored changes yet (its commits must be fetched: `shipped_by`)."""
    return ships(deploy, production) and shipping.ship(db, deploy, production) is None


def unship(db: sqlite_utils.Database, deploy: Deploy, production: Sequence[str]) -> None:
    """Hand what a deploy shipped to the next deploys that ship it (it is being deleted, or
    no longer succeeded)."""
    shipping.unship(db, deploy, production)


def pushed(
    db: sqlite_utils.Database,
    repo: str,
    commits: Sequence[Commit],
    production: Sequence[str],
    source: str,
    now: str,
) -> int:
    """Commits in history order (a push, a page of the default branch); deploys of them
    that arrived first ship them. Returns how many were new."""
    return shipping.record_commits(db, repo, commits, production, source=source, created_at=now)


def merged(
    db: sqlite_utils.Database, repo: str, number: int, merge_sha: str, merged_at: str
) -> None:
    """A merged pull request: its merge commit's merged_at, now or when it is pushed."""
    shipping.record_merge(db, repo, number, merge_sha.lower(), merged_at)


def shipped_by(
    db: sqlite_utils.Database,
    deploy: Deploy,
    commits: Sequence[Commit],
    production: Sequence[str],
    source: str,
    now: str,
) -> int:
    """Exactly the commits a deploy shipped (GitHub's compare API); returns how many were new."""
    return shipping.record_shipped(db, deploy, commits, production, source=source, created_at=now)


@dataclass(frozen=True, slots=True)
class ImportedChange:
    """A change from another system's history, which says which deploy shipped it."""

    repo: str
    sha: str
    authored_at: str | None
    pr_number: int | None
    merged_at: str | None
    deploy_id: int | None
    source_key: str
    created_at: str


def imported(db: sqlite_utils.Database, change: ImportedChange) -> Change:
    """Store an imported change once per commit, linked as its history says."""
    existing = changes.find(db, change.repo, change.sha)
    if existing is not None:
        return existing
    return changes.insert(
        db,
        {
            "repo": change.repo,
            "sha": change.sha,
            "authored_at": change.authored_at,
            "pr_number": change.pr_number,
            "merged_at": change.merged_at,
            "deploy_id": change.deploy_id,
            "source": "import",
            "source_key": change.source_key,
            "created_at": change.created_at,
        },
    )
