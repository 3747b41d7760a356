"""`shipshape github sync`: a repository's deployments, merged pull requests and commits,
imported through the GitHub REST API (SPEC.md "GitHub").

Everything fetched is mapped to the same plain records the webhook builds and recorded by
bot/sources/github/events.py, so a sync and a webhook delivery of the same facts store one row.
Requests are never made inside a write transaction: a page (about 100 records) is fetched,
then written in one short transaction, so the bot keeps answering while a sync runs, and a
rate-limit wait (at most a minute at a time, bot/sources/github/api.py) holds no lock.

The cursor (github_repos.synced_at) is where the next run starts. It advances only when a
run finishes; a run stopped by the rate limit leaves it where the run began, and the next
run skips the deployments already recorded, so it continues where this one stopped.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from itertools import chain
from typing import TypeVar

import pendulum
import requests
from github import (
    BadCredentialsException,
    GithubException,
    RateLimitExceededException,
    UnknownObjectException,
)
from github.Deployment import Deployment
from github.DeploymentStatus import DeploymentStatus as GithubStatus
from github.Repository import Repository

from bot.core.moments import from_utc_text, show, utc_text
from bot.deps import Deps
from bot.recording import changes
from bot.sources.github import api as github_api
from bot.sources.github import events as github_events
from bot.sources.github import text as github_text
from bot.sources.github.api import Calls, Stopped, commit_time
from bot.sources.github.events import FINISHED_STATES, DeploymentStatus
from storage import deploys, github, shipping
from storage.shipping import Commit

log = logging.getLogger(__name__)

DEFAULT_DAYS = 90  # how far back a repository's first sync reaches without --since
# The next run starts a little before this one did: GitHub can list an object a moment
# after its timestamp. Whatever is read twice is recorded once.
OVERLAP = pendulum.duration(minutes=5)
# A deployment without a final status yet holds the cursor back so the next run checks it
# again; one still unfinished after a day was abandoned and holds nothing back.
PENDING_GRACE = pendulum.duration(days=1)
# Production deployments before the range looked at to find the last successful one.
BOUNDARY_CANDIDATES = 20
BATCH = github_api.PER_PAGE  # records per write transaction: one page

PHASES = ("deployments", "pulls", "commits", "linking")
Progress = Callable[[str, float], None]  # phase (one of PHASES), fraction done 0..1
T = TypeVar("T")


@dataclass
class SyncResult:
    repo: str
    since: str  # where the range began, UTC text
    deployments: int = 0  # deployments with a final status, recorded
    statuses: int = 0  # deployments whose statuses were read
    pull_requests: int = 0  # merged pull requests recorded
    commits: int = 0  # commits new to the database
    api_calls: int = 0  # requests GitHub answered
    cursor: str | None = None  # where the next run starts, once this one finished


class SyncError(Exception):
    """The sync cannot go on; the message says why in words for people."""

    def __init__(self, message: str, result: SyncResult) -> None:
        super().__init__(message)
        self.message = message
        self.result = result  # what was stored before it stopped


class RateLimited(SyncError):
    """GitHub's request budget is spent; it resets at `reset_at` (UTC text, when known)."""

    def __init__(self, message: str, result: SyncResult, reset_at: str | None) -> None:
        super().__init__(message, result)
        self.reset_at = reset_at


def _quiet(phase: str, fraction: float) -> None:
    """Progress nobody watches (the schedule)."""


def _utc(moment: datetime) -> pendulum.DateTime:
    if moment.tzinfo is None:  # older PyGithub releases parse GitHub's "Z" as naive UTC
        moment = moment.replace(tzinfo=UTC)
    return pendulum.instance(moment).in_timezone("UTC")


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _first_url(*candidates: str | None) -> str | None:
    # As the webhook does: the first real link among target_url, log_url, environment_url.
    return next((c for c in candidates if c and c.startswith(("http://", "https://"))), None)


def _header(headers: object, name: str) -> str | None:
    """A response header from a GithubException, whatever mapping type it came in."""
    if not hasattr(headers, "items"):
        return None
    for key, value in headers.items():
        if str(key).lower() == name:
            return str(value)
    return None


def _rate_limit_reset(error: GithubException, now: pendulum.DateTime) -> str | None:
    reset = _header(error.headers, "x-ratelimit-reset")
    if reset and reset.isdigit():
        return utc_text(pendulum.from_timestamp(int(reset), tz="UTC"))
    wait = getattr(error, "wait", None)
    after = _header(error.headers, "retry-after")
    if wait is None and after and after.isdigit():
        wait = int(after)
    return utc_text(now.add(seconds=int(wait))) if wait is not None else None


def _is_rate_limit(error: GithubException) -> bool:
    if isinstance(error, RateLimitExceededException):
        return True
    return error.status in (403, 429) and (
        _header(error.headers, "x-ratelimit-remaining") == "0"
        or _header(error.headers, "retry-after") is not None
    )


class _Run:
    """One sync of one repository over [start, now)."""

    def __init__(
        self,
        deps: Deps,
        repo: str,
        start: pendulum.DateTime,
        progress: Progress,
        calls: Calls,
        result: SyncResult,
    ) -> None:
        self.deps = deps
        self.repo = repo
        self.start = start
        self.started = deps.clock.now()
        self.progress = progress
        self.calls = calls
        self.result = result
        self.production = deps.config.production_environments
        self.default_branch = ""
        self.pending: list[pendulum.DateTime] = []  # created_at of unfinished deployments
        self.boundary: Deployment | None = None

    def _now(self) -> str:
        return utc_text(self.deps.clock.now())

    def _check_stop(self) -> None:
        if self.calls.stop.is_set():
            raise Stopped

    def _covered(self, phase: str, moment: datetime) -> None:
        """Progress of a listing that walks back in time from now to the range's start."""
        span = (self.started - self.start).total_seconds()
        done = (self.started - _utc(moment)).total_seconds()
        self.progress(phase, min(max(done / span, 0.0), 1.0) if span > 0 else 1.0)

    def run(self) -> None:
        repository = github_api.client(self.deps.config, self.calls).get_repo(self.repo)
        # GitHub's spelling, as webhooks carry it: records of one repository stay together
        # even when the command was typed in another case.
        self.repo = self.result.repo = repository.full_name
        self.default_branch = repository.default_branch
        self._deployments(repository)
        self._pulls(repository)
        self._commits(repository)
        self._link()

    # ---- deployments -----------------------------------------------------------------------

    def _latest_status(self, deployment: Deployment) -> GithubStatus | None:
        # GitHub lists a deployment's statuses newest first: the first is the latest.
        self.result.statuses += 1
        try:
            return next(iter(deployment.get_statuses()), None)
        except UnknownObjectException:
            return None  # deleted since it was listed

    def _record(self, deployment: Deployment, status: GithubStatus) -> DeploymentStatus:
        sha = deployment.sha
        # As the webhook does: a deployment of the default branch (or of a bare sha) has no
        # name of its own, so the short sha is its version; a tag or release branch is one.
        plain = deployment.ref in (self.default_branch, sha)
        return DeploymentStatus(
            repo=self.repo,
            deployment_id=deployment.id,
            status_id=status.id,
            state=status.state,
            at=utc_text(_utc(status.created_at)),
            environment=status.environment or deployment.environment,
            sha=sha,
            version=sha[:7] if plain else deployment.ref,
            url=_first_url(status.target_url, status.log_url, status.environment_url),
        )

    def _store_deployments(self, records: list[DeploymentStatus]) -> None:
        if not records:
            return
        now = self._now()
        with self.deps.store.write() as db:
            for record in records:
                # A deploy whose commit is not stored yet gets it from the commits read
                # next, or from the compare API (_link).
                github_events.deployment_status(db, record, self.production, now)
        self.result.deployments += len(records)

    def _deployments(self, repository: Repository) -> None:
        listing = iter(repository.get_deployments())  # newest first
        older: Deployment | None = None
        records: list[DeploymentStatus] = []
        try:
            for deployment in listing:
                self._check_stop()
                created = _utc(deployment.created_at)
                if created < self.start:
                    older = deployment
                    break
                self._covered("deployments", created)
                # A final status already recorded (by the webhook or an earlier run) needs
                # no request; an unfinished one is asked about again on every run.
                if github.applied_status(self.deps.store.db, deployment.id) is not None:
                    continue
                status = self._latest_status(deployment)
                if status is None or status.state not in FINISHED_STATES:
                    self.pending.append(created)
                    continue
                records.append(self._record(deployment, status))
                if len(records) >= BATCH:
                    self._store_deployments(records)
                    records = []
        finally:
            # Stopped by the rate limit or a shutdown: what was read is still kept.
            self._store_deployments(records)
        self.progress("deployments", 1.0)
        if older is not None and not self._has_boundary():
            self._find_boundary(chain([older], listing))

    def _has_boundary(self) -> bool:
        """Whether a successful production deploy of this repository before the range is
        stored with its commit: then the range's first deployment ships only what came
        after it."""
        return deploys.shipped_with_commit_before(
            self.deps.store.db, self.repo, self.production, utc_text(self.start)
        )

    def _find_boundary(self, older: Iterator[Deployment]) -> None:
        """The last successful production deployment before the range, recorded with its
        commit (read in the commits phase), so the first deployment in range does not
        claim the whole history before it."""
        checked = 0
        for deployment in older:
            self._check_stop()
            environment = deployment.environment.lower()
            if environment not in self.production:
                continue
            checked += 1
            if checked > BOUNDARY_CANDIDATES:
                return
            applied = github.applied_status(self.deps.store.db, deployment.id)
            if applied is not None:
                deploy = deploys.get(self.deps.store.db, applied.deploy_id or 0)
                if deploy is not None and deploy.status == "success":
                    self.boundary = deployment
                    return
                continue
            status = self._latest_status(deployment)
            if status is not None and status.state == "success":
                self._store_deployments([self._record(deployment, status)])
                self.boundary = deployment
                return

    # ---- pull requests ---------------------------------------------------------------------

    def _pulls(self, repository: Repository) -> None:
        listing = repository.get_pulls(state="closed", sort="updated", direction="desc")

        def recent() -> Iterator[tuple[int, str, str]]:
            for pull in listing:
                self._check_stop()
                if _utc(pull.updated_at) < self.start:
                    return
                self._covered("pulls", pull.updated_at)
                if pull.merged_at is not None and pull.merge_commit_sha:
                    yield pull.number, pull.merge_commit_sha, utc_text(_utc(pull.merged_at))

        for chunk in _chunks(recent(), BATCH):
            with self.deps.store.write() as db:
                for number, sha, merged_at in chunk:
                    github_events.merged_pull(db, self.repo, number, sha, merged_at)
            self.result.pull_requests += len(chunk)
        self.progress("pulls", 1.0)

    # ---- commits ---------------------------------------------------------------------------

    def _commits(self, repository: Repository) -> None:
        """The default branch's commits in the range, stored oldest first: their order in
        the changes table is history order, which says what each deployment shipped."""
        found: list[Commit] = []
        try:
            for commit in repository.get_commits(sha=self.default_branch, since=self.start):
                self._check_stop()
                authored = commit.commit.author.date
                if authored is not None:
                    self._covered("commits", authored)
                found.append(Commit(commit.sha.lower(), commit_time(authored)))
        except GithubException as error:
            if error.status != 409:  # 409: the repository is empty, no commits at all
                raise
        found.reverse()
        if self.boundary is not None:
            sha = self.boundary.sha.lower()
            if all(c.sha != sha for c in found):
                # Before the range, so before everything in it.
                head = repository.get_commit(sha)
                found.insert(0, Commit(sha, commit_time(head.commit.author.date)))
        for chunk in _chunks(found, BATCH):
            with self.deps.store.write() as db:
                # What a push does (github_events.push), counting the new commits.
                self.result.commits += changes.pushed(
                    db, self.repo, chunk, self.production, "github", self._now()
                )
        self.progress("commits", 1.0)

    # ---- deploys of commits outside the default branch -------------------------------------

    def _link(self) -> None:
        """Deploys in the range whose commit is still unknown after the default branch's
        (a hotfix branch, a tag): their commits come from the compare API. Read from the
        database, not from this run, so a deploy stored by a run that stopped is included."""
        db = self.deps.store.db
        candidates = deploys.shipping_since(db, self.repo, self.production, utc_text(self.start))
        # Oldest first, so each comparison starts at the deploy before, already complete.
        waiting = [d for d in candidates if shipping.position(db, self.repo, d.sha or "") is None]
        for n, deploy in enumerate(waiting):
            self._check_stop()
            try:
                self.result.commits += github_api.fetch_shipped_commits(
                    self.deps, deploy.id, self.calls
                )
            except GithubException as error:
                if error.status not in (404, 422):
                    raise
                # The commit is gone (a force-push, a deleted branch): the deploy stays
                # without lead times rather than failing the whole sync.
                log.warning(
                    "deploy #%s: commit %s not found in %s", deploy.id, deploy.sha, self.repo
                )
            self.progress("linking", (n + 1) / len(waiting))

    def cursor(self) -> pendulum.DateTime:
        young = [c for c in self.pending if c >= self.started - PENDING_GRACE]
        return min([self.started - OVERLAP, *young])


def _save_cursor(deps: Deps, repo: str, cursor: str, *, advance: bool) -> None:
    """Store where the next run starts; unless `advance`, never later than it was."""
    with deps.store.write() as db:
        # Read inside the transaction: settings changed meanwhile (`github repo`) are kept.
        settings = github.settings(db, repo)
        if not advance and settings.synced_at is not None and settings.synced_at <= cursor:
            return
        github.save_settings(db, replace(settings, synced_at=cursor), utc_text(deps.clock.now()))


def start_of_range(deps: Deps, repo: str, since: pendulum.DateTime | None) -> pendulum.DateTime:
    """--since, else the cursor, else DEFAULT_DAYS ago."""
    if since is not None:
        return since
    synced_at = github.settings(deps.store.db, repo).synced_at
    if synced_at is not None:
        return from_utc_text(synced_at)
    return deps.clock.now().subtract(days=DEFAULT_DAYS)


def sync(
    deps: Deps,
    repo: str,
    since: pendulum.DateTime | None = None,
    progress: Progress = _quiet,
    calls: Calls | None = None,
) -> SyncResult:
    """Import REPO (OWNER/NAME) from `since` (default: where the last run ended). Raises
    SyncError (RateLimited when the request budget is spent) with what was stored, and
    github_api.Stopped when `calls.stop` is set."""
    calls = calls or Calls()
    start = start_of_range(deps, repo, since)
    result = SyncResult(repo=repo, since=utc_text(start))
    run = _Run(deps, repo, start, progress, calls, result)
    config = deps.config

    def hold() -> None:
        # Stopped early: the next run starts where this one began. Not for a repository
        # that was never found, which must not appear among the configured ones.
        if run.default_branch:
            _save_cursor(deps, run.repo, result.since, advance=False)

    try:
        try:
            run.run()
        finally:
            result.api_calls = calls.made
    except (Stopped, KeyboardInterrupt):
        hold()
        raise
    except GithubException as error:
        hold()
        if _is_rate_limit(error):
            reset_at = _rate_limit_reset(error, deps.clock.now())
            raise RateLimited(
                github_text.github_rate_limited(repo, reset_at and show(reset_at, deps.tz)),
                result,
                reset_at,
            ) from None
        if isinstance(error, BadCredentialsException):
            message = github_text.github_bad_credentials(config.github_api_url)
        elif isinstance(error, UnknownObjectException) and not run.default_branch:
            message = github_text.github_repo_not_found(repo, config.github_api_url)
        else:
            message = github_text.github_refused(
                repo, error.status, error.message or str(error.data)
            )
        raise SyncError(message, result) from None
    except requests.RequestException as error:
        hold()
        raise SyncError(
            github_text.github_unreachable(config.github_api_url, str(error)), result
        ) from None
    cursor = utc_text(run.cursor())
    _save_cursor(deps, run.repo, cursor, advance=True)
    result.cursor = cursor
    return result


def sync_scheduled(deps: Deps, stop: threading.Event) -> None:
    """The schedule's job: sync every repository with sync=on, one after another. Errors
    are logged, never raised, so the scheduler keeps its next run."""
    for settings in github.all_settings(deps.store.db):
        if not settings.sync:
            continue
        if stop.is_set():
            return
        try:
            result = sync(deps, settings.repo, calls=Calls(stop=stop))
        except RateLimited as error:
            # The budget is the token's, shared by every repository: the next run goes on.
            log.warning("github sync: %s", error.message)
            return
        except SyncError as error:
            log.warning("github sync of %s: %s", settings.repo, error.message)
            continue
        except Stopped:
            log.info("github sync of %s: stopped at shutdown", settings.repo)
            return
        except Exception:
            log.exception("github sync of %s failed", settings.repo)
            continue
        log.info("github sync: %s", summary(result))


def summary(result: SyncResult) -> str:
    return github_text.github_sync_summary(
        result.repo,
        result.deployments,
        result.statuses,
        result.pull_requests,
        result.commits,
        result.api_calls,
    )
