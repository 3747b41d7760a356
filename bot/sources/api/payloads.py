"""The HTTP API's JSON, checked field by field and recorded through bot.recording.

`deploy_call` and `incident_call` read a body before any write, so a malformed one stores
nothing; `record_deploy` and `record_incident` run inside the request's write transaction.
Every refusal is a Refused naming the dotted field path (`commits[1].authored_at`)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import pendulum
import sqlite_utils

from bot.core.errors import DomainError
from bot.core.moments import EARLIEST, FUTURE_SLACK_SECONDS, utc_text
from bot.core.text import (
    LINE_BREAKS,
    MAX_ENV,
    MAX_TITLE,
    MAX_URL,
    MAX_VERSION,
    UNPRINTABLE,
    is_service,
    is_sha,
    is_version,
    one_line,
    url_problem,
)
from bot.recording import changes, deploys, incidents
from bot.recording.deploys import DeployFacts, Recorded, Rollback, Source
from bot.recording.incidents import AUTO, Cause, IncidentChanges, IncidentFacts, Opened
from bot.sources.api import text
from bot.sources.fields import BadPayload, Fields
from storage import deploys as stored_deploys
from storage.records import Incident
from storage.shipping import Commit

SOURCE = "api"
T = TypeVar("T")

MAX_KEY = 200
DEFAULT_SEVERITY = 3
DEPLOY_FIELDS = frozenset(
    {"service", "environment", "version", "status", "deployed_at", "sha", "repo", "url"}
    | {"hotfix", "rollback_of", "commits", "key"}
)
INCIDENT_FIELDS = frozenset(
    ("service", "title", "severity", "started_at", "resolved_at", "deploy_id", "cause", "key")
)
# Which request field each domain refusal of bot.recording concerns.
DOMAIN_FIELDS = {"rollback": "rollback_of", "deploy": "deploy_id", "at": "resolved_at"}

EXPECT_SERVICE = 'a service name: letters, digits, ".", "_", "/" or "-", up to 80, e.g. "checkout"'
EXPECT_TIME = 'an ISO-8601 time with an offset, not in the future, e.g. "2026-11-20T14:05:00Z"'
EXPECT_SHA = 'a commit sha of 7 to 40 hex digits, e.g. "4f2a9c1"'
EXPECT_ENV = f'an environment name, 1 to {MAX_ENV} characters, e.g. "production"'
EXPECT_VERSION = f'a version without spaces, up to {MAX_VERSION} characters, e.g. "v1.2.3"'
EXPECT_URL = (
    f'one http(s) URL without spaces, up to {MAX_URL} characters, e.g. "https://ci.example.com/r/1"'
)
EXPECT_KEY = f'your own id for it, 1 to {MAX_KEY} characters, e.g. "ci-run-4711"'


class Refused(Exception):
    """A request the API refuses: `field` names what was wrong, `message` what to send."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _refuse(f: Fields, key: str, expected: str) -> Refused:
    path = f"{f.where}.{key}" if f.where else key
    return Refused(path, text.bad_field(path, text.found_value(f.get(key)), expected))


def _read(f: Fields, key: str, read: Callable[[str], T]) -> T:
    """Fields' typed reader, its BadPayload said in the API's words."""
    try:
        return read(key)
    except BadPayload as error:
        raise _refuse(f, key, error.expected) from None


def _string(f: Fields, key: str, expected: str, limit: int) -> str | None:
    """Printable text of 1 to `limit` characters, or None when absent."""
    if f.get(key) is None:
        return None
    value = f.get(key)
    if not isinstance(value, str) or not value or len(value) > limit or UNPRINTABLE.search(value):
        raise _refuse(f, key, expected)
    return value


def _required(value: T | None, f: Fields, key: str, expected: str) -> T:
    if value is None:
        raise _refuse(f, key, expected)
    return value


def _time(f: Fields, key: str, now: pendulum.DateTime) -> str | None:
    if f.get(key) is None:
        return None
    try:
        at = f.time(key)
    except (BadPayload, OverflowError):  # OverflowError: year 1 or 9999 moved to UTC
        raise _refuse(f, key, EXPECT_TIME) from None
    if not utc_text(EARLIEST) <= at <= utc_text(now.add(seconds=FUTURE_SLACK_SECONDS)):
        raise _refuse(f, key, EXPECT_TIME)
    return at


def _sha(f: Fields, key: str) -> str | None:
    sha = _string(f, key, EXPECT_SHA, 40)
    if sha is not None and not is_sha(sha):
        raise _refuse(f, key, EXPECT_SHA)
    return sha.lower() if sha else None


def _url(f: Fields, key: str) -> str | None:
    url = _string(f, key, EXPECT_URL, MAX_URL)
    if url is not None and url_problem(url) is not None:
        raise _refuse(f, key, EXPECT_URL)
    return url


def _unknown(f: Fields, known: frozenset[str], example: str) -> None:
    for key in f.data:
        if key not in known:
            raise Refused(key, text.unknown_field(key, example))


def _key(f: Fields) -> str | None:
    return _string(f, "key", EXPECT_KEY, MAX_KEY)


# ---- deploys -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeployCall:
    facts: DeployFacts
    key: str | None
    rollback: int | None
    rollback_key: str | None  # {"key": ...}: an earlier API deploy, found in the transaction
    commits: Sequence[Commit]


def deploy_call(data: dict[str, Any], now: pendulum.DateTime) -> DeployCall:
    f = Fields(data)
    _unknown(f, DEPLOY_FIELDS, ", ".join(sorted(DEPLOY_FIELDS)))
    service = _required(_string(f, "service", EXPECT_SERVICE, 80), f, "service", EXPECT_SERVICE)
    if not is_service(service):
        raise _refuse(f, "service", EXPECT_SERVICE)
    environment = (_string(f, "environment", EXPECT_ENV, MAX_ENV) or "production").strip()
    if not environment:
        raise _refuse(f, "environment", EXPECT_ENV)
    version = _string(f, "version", EXPECT_VERSION, MAX_VERSION)
    if version is not None and not is_version(version):
        raise _refuse(f, "version", EXPECT_VERSION)
    status = "success" if f.get("status") is None else f.get("status")
    if status not in ("success", "failed"):
        raise _refuse(f, "status", '"success" or "failed"')
    repo = None if f.get("repo") is None else _read(f, "repo", f.repo)
    sha = _sha(f, "sha")
    commits = [] if f.get("commits") is None else _commits(f, now)
    if commits and (repo is None or sha is None):
        raise Refused("commits", text.needs_repo("commits"))
    rollback, rollback_key = _rollback(f)
    facts = DeployFacts(
        service=service,
        environment=environment.lower(),
        version=version,
        sha=sha,
        repo=repo,
        status=status,
        deployed_at=_time(f, "deployed_at", now) or utc_text(now),
        url=_url(f, "url"),
        is_hotfix=f.get("hotfix") is not None and _read(f, "hotfix", f.flag),
    )
    return DeployCall(facts, _key(f), rollback, rollback_key, commits)


def _commits(f: Fields, now: pendulum.DateTime) -> list[Commit]:
    return [
        Commit(
            sha=_required(_sha(c, "sha"), c, "sha", EXPECT_SHA),
            authored_at=_required(_time(c, "authored_at", now), c, "authored_at", EXPECT_TIME),
        )
        for c in _read(f, "commits", f.objects)
    ]


def _rollback(f: Fields) -> tuple[int | None, str | None]:
    expected = 'a deploy id, e.g. 42, or {"key": "ci-run-4710"} naming an earlier API deploy'
    value = f.get("rollback_of")
    if value is None:
        return None, None
    if isinstance(value, dict):
        inner = Fields(value, "rollback_of")
        _unknown(inner, frozenset({"key"}), '{"key": "ci-run-4710"}')
        return None, _required(_string(inner, "key", EXPECT_KEY, MAX_KEY), inner, "key", EXPECT_KEY)
    number = _read(f, "rollback_of", f.number)
    if number < 1:
        raise _refuse(f, "rollback_of", expected)
    return number, None


def record_deploy(
    db: sqlite_utils.Database, call: DeployCall, production: Sequence[str], now: str
) -> Recorded:
    rollback: Rollback = call.rollback
    if call.rollback_key is not None:
        target = stored_deploys.find_by_source(db, SOURCE, call.rollback_key)
        if target is None:
            raise Refused("rollback_of.key", text.unknown_key(call.rollback_key))
        rollback = target.id
    source = Source(SOURCE, call.key or f"generated:{uuid.uuid4().hex}")
    try:
        recorded = deploys.record_latest(db, call.facts, source, production, now, rollback)
    except DomainError as error:
        raise domain_refused(error) from None
    if call.commits and changes.ships(recorded.deploy, production):
        changes.shipped_by(db, recorded.deploy, call.commits, production, SOURCE, now)
    return recorded


def domain_refused(error: DomainError) -> Refused:
    field = DOMAIN_FIELDS.get(error.field or "", error.field or "")
    return Refused(field, text.domain_refusal(error))


# ---- incidents -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IncidentCall:
    facts: IncidentFacts
    key: str | None
    given: frozenset[str]  # the fields the call sent: an update by key changes only those


def incident_call(data: dict[str, Any], now: pendulum.DateTime) -> IncidentCall:
    f = Fields(data)
    _unknown(f, INCIDENT_FIELDS, ", ".join(sorted(INCIDENT_FIELDS)))
    service = _required(_string(f, "service", EXPECT_SERVICE, 80), f, "service", EXPECT_SERVICE)
    if not is_service(service):
        raise _refuse(f, "service", EXPECT_SERVICE)
    title_expected = f'a title, 1 to {MAX_TITLE} characters, e.g. "Checkout returns 500s"'
    raw_title = f.get("title")
    # Tabs and line breaks are how pasted text arrives: spaces, as /incident takes them.
    title = one_line(raw_title) if isinstance(raw_title, str) else ""
    if not title or len(title) > MAX_TITLE or UNPRINTABLE.search(LINE_BREAKS.sub(" ", raw_title)):
        raise _refuse(f, "title", title_expected)
    severity = DEFAULT_SEVERITY
    if f.get("severity") is not None:
        severity = _read(f, "severity", f.number)
        if not 1 <= severity <= 4:
            raise _refuse(f, "severity", "a severity from 1 (worst) to 4, e.g. 2")
    # Without started_at, a new incident starts now and a known one keeps its start: the
    # order of the two is checked where the record is known (record_incident).
    started_at = _time(f, "started_at", now) or utc_text(now)
    resolved_at = _time(f, "resolved_at", now)
    cause: Cause = AUTO
    if f.get("deploy_id") is not None:
        cause = _read(f, "deploy_id", f.number)
        if f.get("cause") is not None:
            raise Refused("cause", text.CAUSE_AND_DEPLOY)
    elif f.get("cause") is not None:
        if f.get("cause") != "none":
            raise _refuse(f, "cause", '"none" (no change caused it), or a deploy_id instead')
        cause = None
    facts = IncidentFacts(service, title, severity, started_at, cause, resolved_at)
    given = frozenset(key for key, value in data.items() if value is not None)
    return IncidentCall(facts, _key(f), given)


def record_incident(
    db: sqlite_utils.Database, call: IncidentCall, production: Sequence[str], now: str
) -> Opened:
    try:
        before = incidents.find(db, SOURCE, call.key) if call.key else None
        if before is None:
            _resolved_after(call.facts.resolved_at, call.facts.started_at)
            key = call.key or f"generated:{uuid.uuid4().hex}"
            return incidents.open_incident(db, call.facts, SOURCE, key, production, now)
        return _update(db, before, call)
    except DomainError as error:
        raise domain_refused(error) from None


def _resolved_after(resolved_at: str | None, started_at: str) -> None:
    if resolved_at is not None and resolved_at < started_at:
        raise Refused("resolved_at", text.resolved_before_start(resolved_at, started_at))


def _update(db: sqlite_utils.Database, before: Incident, call: IncidentCall) -> Opened:
    """A later call with the same key changes what it sends; what it leaves out stays."""
    facts, given = call.facts, call.given
    started_at = facts.started_at if "started_at" in given else before.started_at
    _resolved_after(facts.resolved_at or before.resolved_at, started_at)
    changes = IncidentChanges(
        service=facts.service,
        title=facts.title,
        severity=facts.severity if "severity" in given else None,
        started_at=started_at,
        resolved_at=facts.resolved_at,
        cause=facts.cause if given & {"deploy_id", "cause"} else AUTO,
    )
    return incidents.update(db, before.id, changes)
