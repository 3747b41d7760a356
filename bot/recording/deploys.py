"""Recording deploys: once per source key, rollbacks checked, changes shipped, undo."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Literal

import sqlite_utils

from bot.core.errors import Conflict, Invalid, NotAllowed, NotFound, Reason
from bot.core.moments import from_utc_text
from bot.recording import changes
from storage import deploys, github
from storage.db import Store
from storage.records import Deploy

PREVIOUS = "previous"  # a bare --rollback: the previous successful deploy
Rollback = int | Literal["previous"] | None
UNDO_HOURS = 24  # anyone may undo a deploy recorded in Slack this recently, in its channel


@dataclass(frozen=True, slots=True)
class DeployFacts:
    """What a source says about one deploy; times are UTC text."""

    service: str
    environment: str
    version: str | None
    sha: str | None
    repo: str | None
    status: str  # success or failed
    deployed_at: str
    url: str | None
    is_hotfix: bool = False


@dataclass(frozen=True, slots=True)
class Source:
    """Where a record came from: the source and its key make it unique (a redelivery, a
    retried request, a resubmitted modal are the same key)."""

    name: str  # slack, github, import
    key: str
    channel_id: str | None = None
    created_at: str | None = None  # when the source recorded it, if not now (imports)


@dataclass(frozen=True, slots=True)
class Recorded:
    deploy: Deploy
    created: bool  # False: seen before, nothing changed
    rolled_back: Deploy | None = None
    needs_commits: bool = False  # it ships, but its sha is not among the stored changes


@dataclass(frozen=True, slots=True)
class Undone:
    deploy: Deploy  # as it was
    unlinked: list[int]  # incidents it caused, now unlinked
    rollbacks: list[int]  # deploys that rolled it back, now rolling back nothing


def _values(facts: DeployFacts) -> dict[str, object]:
    values = asdict(facts)
    values["is_hotfix"] = int(facts.is_hotfix)
    return values


def record(
    db: sqlite_utils.Database,
    facts: DeployFacts,
    source: Source,
    production: Sequence[str],
    now: str,
    rollback: Rollback = None,
) -> Recorded:
    """Store a deploy once per source key, its rollback target checked, and ship its
    changes. Seen before: the stored one, unchanged. Raises Invalid, NotFound or Conflict
    (field "rollback") when the rollback target is wrong, and nothing is stored."""
    existing = deploys.find_by_source(db, source.name, source.key)
    if existing is not None:
        target = deploys.get(db, existing.rollback_of) if existing.rollback_of else None
        return Recorded(existing, created=False, rolled_back=target)
    target = rollback_target(db, facts, rollback, production)
    deploy = deploys.insert(
        db,
        {
            **_values(facts),
            "rollback_of": target.id if target else None,
            "source": source.name,
            "source_key": source.key,
            "channel_id": source.channel_id,
            "created_at": source.created_at or now,
        },
    )
    unknown = changes.ship(db, deploy, production)
    return Recorded(deploy, created=True, rolled_back=target, needs_commits=unknown)


def same_environments(environment: str, production: Sequence[str]) -> tuple[str, ...]:
    """The environments that count as `environment` when a rollback looks for what it
    undoes: every production name (SHIPSHAPE_PRODUCTION_ENVIRONMENTS) is one production,
    since people and pipelines write `prod` and `production` for the same place; any other
    environment is only itself."""
    names = tuple(production)
    return names if environment in names else (environment,)


def rollback_target(
    db: sqlite_utils.Database, facts: DeployFacts, rollback: Rollback, production: Sequence[str]
) -> Deploy | None:
    """The deploy a rollback undoes, checked: of the same service, to the same environment
    (same_environments), a success, finished at or before the rollback."""
    if rollback is None:
        return None
    same = same_environments(facts.environment, production)
    if rollback == PREVIOUS:
        target = deploys.latest_success(db, facts.service, same, facts.deployed_at)
        if target is None:
            raise Invalid("rollback", Reason.NO_PREVIOUS_DEPLOY, PREVIOUS)
        return target
    target = deploys.get(db, rollback)
    if target is None:
        raise NotFound("deploy", rollback, field="rollback")
    if target.service != facts.service:
        raise Conflict(Reason.OTHER_SERVICE, target, field="rollback")
    if target.environment not in same:
        raise Conflict(Reason.OTHER_ENVIRONMENT, target, field="rollback")
    if target.status != "success":
        raise Conflict(Reason.FAILED_ATTEMPT, target, field="rollback")
    if target.deployed_at > facts.deployed_at:
        raise Conflict(Reason.FINISHED_LATER, target, field="rollback")
    return target


def record_latest(
    db: sqlite_utils.Database,
    facts: DeployFacts,
    source: Source,
    production: Sequence[str],
    now: str,
    rollback: Rollback = None,
) -> Recorded:
    """Store a deploy, or replace the facts of the one with this source key: a later report
    of the same deploy (a new status) wins, its rollback target included (checked as by
    `record`). Its changes are shipped again by the new facts."""
    before = deploys.find_by_source(db, source.name, source.key)
    if before is None:
        return record(db, facts, source, production, now, rollback)
    target = rollback_target(db, facts, rollback, production)
    if target is not None and target.id == before.id:
        raise Conflict(Reason.FINISHED_LATER, target, field="rollback")
    values = {**_values(facts), "rollback_of": target.id if target else None}
    deploy = deploys.update(db, before.id, values)
    if changes.ships(before, production):
        changes.unship(db, before, production)
    unknown = changes.ship(db, deploy, production)
    return Recorded(deploy, created=False, rolled_back=target, needs_commits=unknown)


def record_latest_status(
    db: sqlite_utils.Database,
    facts: DeployFacts,
    source: Source,
    production: Sequence[str],
    now: str,
    rank: tuple[str, int] | None = None,
    applied: tuple[str, int] | None = None,
) -> Recorded | None:
    """A deploy's final status from a source that reports several per deploy (GitHub's
    deployment statuses, GitLab's deployment events): the source key names the deploy, and
    the latest status wins whatever order they arrive in. `rank` orders the statuses (its
    time, then the source's status id; default the time alone); `applied` is the rank of the
    status applied before, by default that of the stored deploy. None: an older (or the
    same) status than the one applied, ignored."""
    rank = rank or (facts.deployed_at, 0)
    if applied is None:
        stored = deploys.find_by_source(db, source.name, source.key)
        applied = (stored.deployed_at, 0) if stored else None
    if applied is not None and applied >= rank:
        return None
    return record_latest(db, facts, source, production, now)


def record_github_status(
    db: sqlite_utils.Database,
    deployment_id: int,
    status_id: int,
    facts: DeployFacts,
    production: Sequence[str],
    now: str,
) -> Recorded | None:
    """A GitHub deployment's final status (record_latest_status), ranked by its time then
    its id; which status was applied is kept apart from the deploy (storage/github.py)."""
    applied = github.applied_status(db, deployment_id)
    assert facts.repo is not None
    result = record_latest_status(
        db,
        facts,
        Source("github", f"deployment:{deployment_id}"),
        production,
        now,
        rank=(facts.deployed_at, status_id),
        applied=(applied.status_at, applied.status_id) if applied else None,
    )
    if result is None:
        return None
    github.apply_status(
        db,
        github.AppliedStatus(
            deployment_id, facts.repo, result.deploy.id, status_id, facts.deployed_at
        ),
    )
    return result


def undo(
    store: Store,
    deploy_id: int,
    channel_id: str,
    production: Sequence[str],
    now: str,
    is_admin: Callable[[], bool],
) -> Undone:
    """Delete a deploy as if it never was: its changes go to the next deploy that shipped
    them, the incidents it caused are unlinked, the rollbacks of it roll back nothing.
    Anyone may, within UNDO_HOURS of recording it in Slack and from that channel; anyone
    else only if `is_admin()` (asked outside the transaction: it may call Slack). Raises
    NotFound or NotAllowed."""
    deploy = deploys.get(store.db, deploy_id)
    if deploy is None:
        raise NotFound("deploy", deploy_id)
    age = from_utc_text(now) - from_utc_text(deploy.created_at)
    recent_here = (
        deploy.source == "slack"
        and deploy.channel_id == channel_id
        and age.in_seconds() <= UNDO_HOURS * 3600
    )
    if not recent_here and not is_admin():
        raise NotAllowed(Reason.UNDO_NOT_ALLOWED, deploy)
    with store.write() as db:
        if deploys.get(db, deploy.id) is None:  # deleted meanwhile
            raise NotFound("deploy", deploy.id)
        rollbacks = [d.id for d in deploys.rolled_back_by(db, deploy.id)]
        changes.unship(db, deploy, production)
        unlinked = deploys.delete(db, deploy.id)
    return Undone(deploy, unlinked, rollbacks)
