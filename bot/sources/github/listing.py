"""What a sync reads from GitHub, the same whichever API it came through.

bot/sources/github/rest.py and bot/sources/github/graphql.py turn GitHub's answers into
these plain records; bot/sources/github/sync.py walks them and records them, so the REST
path and the GraphQL path store exactly the same rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime


def instant(moment: datetime) -> datetime:
    """An aware UTC instant: older PyGithub releases parse GitHub's "Z" as naive UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parsed(text: str) -> datetime:
    """GitHub's ISO-8601 text ("2026-11-10T08:00:00Z", or with an offset) as a UTC instant.
    datetime.fromisoformat, not pendulum: a first import parses tens of thousands."""
    return instant(datetime.fromisoformat(text))


def first_url(*candidates: str | None) -> str | None:
    """As the webhook does: the first real link among a status's URLs."""
    return next((c for c in candidates if c and c.startswith(("http://", "https://"))), None)


@dataclass(frozen=True, slots=True)
class Status:
    """A deployment's latest status."""

    id: int  # GitHub's database id of the status
    state: str  # REST's spelling: success, failure, error, pending, in_progress, ...
    at: datetime  # when it was created: when the deployment finished, for a final one
    environment: str | None
    url: str | None  # its first real link (first_url)


@dataclass(frozen=True, slots=True)
class Deployment:
    id: int  # GitHub's database id: the webhook's deployment.id
    created: datetime
    environment: str
    sha: str
    ref: str | None  # the branch or tag deployed; None for a bare sha
    # The latest status: a request of its own through REST, read with the page in GraphQL.
    latest: Callable[[], Status | None]


@dataclass(frozen=True, slots=True)
class Pull:
    number: int
    updated: datetime
    merged: datetime | None
    merge_sha: str | None


@dataclass(frozen=True, slots=True)
class Commit:
    sha: str
    authored: datetime | None
