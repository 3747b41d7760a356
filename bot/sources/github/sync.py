"""`shipshape github sync`: a repository's deployments, merged pull requests and commits,
imported through GitHub's GraphQL API, or its REST API where GraphQL is unavailable
(SPEC.md "GitHub"; bot/sources/github/graphql.py and rest.py).

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
from datetime import datetime
from itertools import chain
from typing import TypeVar

import pendulum
import requests
from github import (
    BadCredentialsException,
    Github,
    GithubException,
    RateLimitExceededException,
    UnknownObjectException,
)

from bot.config import Config
from bot.core.clock import Clock
from bot.core.moments import from_utc_text, show, utc_text
from bot.deps import Deps
from bot.recording import changes
from bot.sources.github import api as github_api
from bot.sources.github import events as github_events
from bot.sources.github import graphql, listing, rest
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
    graphql_calls: int = 0  # of api_calls, those that answered a GraphQL query
    points: int = 0  # GraphQL rate-limit points spent
    remaining: int | None = None  # GraphQL points left, as GitHub last said
    api: str = "graphql"  # or "rest", where GraphQL was unavailable
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


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


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
    """One sync of one repository over [start, now): through GraphQL where it can, else
    through REST; both list the same facts (bot/sources/github/listing.py), recorded here."""

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
        self.found = False  # the repository answered
        self.default_branch = ""
        self.pending: list[datetime] = []  # created_at of unfinished deployments
        self.boundary: listing.Deployment | None = None

    def _now(self) -> str:
        return utc_text(self.deps.clock.now())

    def _check_stop(self) -> None:
        if self.calls.stop.is_set():
            raise Stopped

    def _covered(self, phase: str, moment: datetime) -> None:
        """Progress of a listing that walks back in time from now to the range's start.
        In plain seconds: pendulum's subtraction cost more than recording, per commit."""
        started = self.started.timestamp()
        span = started - self.start.timestamp()
        done = started - moment.timestamp()
        self.progress(phase, min(max(done / span, 0.0), 1.0) if span > 0 else 1.0)

    def run(self) -> None:
        """Deployments, then pull requests, then commits, then deploys off the default
        branch: the same order of writes on either path, so the same rows and ids."""
        client = github_api.client(self.deps.config, self.calls)
        try:
            self._graphql(client)
            return
        except graphql.Unavailable as error:
            # Said by the first query, before anything was written (and what a later one
            # wrote, REST would record the same way once more: nothing twice).
            log.info("github sync of %s: GraphQL unavailable (%s), using REST", self.repo, error)
            self.result.api = "rest"
        repository = client.get_repo(self.repo)
        self._found(repository.full_name, repository.default_branch)
        self._deployments(rest.deployments(repository))
        self._pulls(rest.merged_pulls(repository))
        self._commits(
            rest.commits(repository, self.default_branch, self.start),
            lambda sha: rest.commit(repository, sha),
        )
        self._link()

    def _graphql(self, client: Github) -> None:
        """The three lists a page of each per query (graphql.Pages); raises Unavailable."""
        pages = graphql.Pages(client.requester, self.calls, self.repo, self.start, BATCH)
        found = pages.fetch()
        self._found(found.full_name, found.default_branch or "")
        self._deployments(graphql.deployment(n) for n in pages.nodes("deployments"))
        pages.close("deployments")
        self._pulls(graphql.pull(n) for n in pages.nodes("pulls"))
        commits = (graphql.commit(n) for n in pages.nodes("commits"))  # none when empty
        # The boundary's commit, before the range, is one REST request (as the compare API
        # for deploys outside the default branch is, _link).
        lazy = github_api.client(self.deps.config, self.calls, lazy=True)
        self._commits(commits, lambda sha: rest.commit(lazy.get_repo(self.repo), sha))
        self._link()

    def _found(self, full_name: str, default_branch: str) -> None:
        # GitHub's spelling, as webhooks carry it: records of one repository stay together
        # even when the command was typed in another case.
        self.repo = self.result.repo = full_name
        self.default_branch = default_branch
        self.found = True

    # ---- deployments -----------------------------------------------------------------------

    def _latest_status(self, deployment: listing.Deployment) -> listing.Status | None:
        self.result.statuses += 1
        return deployment.latest()

    def _record(self, deployment: listing.Deployment, status: listing.Status) -> DeploymentStatus:
        sha = deployment.sha
        # As the webhook does: a deployment of the default branch (or of a bare sha) has no
        # name of its own, so the short sha is its version; a tag or release branch is one.
        plain = deployment.ref is None or deployment.ref in (self.default_branch, sha)
        return DeploymentStatus(
            repo=self.repo,
            deployment_id=deployment.id,
            status_id=status.id,
            state=status.state,
            at=utc_text(status.at),
            environment=status.environment or deployment.environment,
            sha=sha,
            version=sha[:7] if plain else deployment.ref,
            url=status.url,
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

    def _deployments(self, listed: Iterator[listing.Deployment]) -> None:
        """Newest first, until the range's start; then the boundary before it."""
        listed = iter(listed)
        older: listing.Deployment | None = None
        records: list[DeploymentStatus] = []
        try:
            for deployment in listed:
                self._check_stop()
                if deployment.created < self.start:
                    older = deployment
                    break
                self._covered("deployments", deployment.created)
                # A final status already recorded (by the webhook or an earlier run) needs
                # no request; an unfinished one is asked about again on every run.
                if github.applied_status(self.deps.store.db, deployment.id) is not None:
                    continue
                status = self._latest_status(deployment)
                if status is None or status.state not in FINISHED_STATES:
                    self.pending.append(deployment.created)
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
            self._find_boundary(chain([older], listed))

    def _has_boundary(self) -> bool:
        """Whether a successful production deploy of this repository before the range is
        stored with its commit: then the range's first deployment ships only what came
        after it."""
        return deploys.shipped_with_commit_before(
            self.deps.store.db, self.repo, self.production, utc_text(self.start)
        )

    def _find_boundary(self, older: Iterator[listing.Deployment]) -> None:
        """The last successful production deployment before the range, recorded with its
        commit (read in the commits phase), so the first deployment in range does not
        claim the whole history before it."""
        checked = 0
        for deployment in older:
            self._check_stop()
            if deployment.environment.lower() not in self.production:
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

    def _pulls(self, listed: Iterator[listing.Pull]) -> None:
        """Most recently updated first, until the range's start."""

        def recent() -> Iterator[tuple[int, str, str]]:
            for pull in listed:
                self._check_stop()
                if pull.updated < self.start:
                    return
                self._covered("pulls", pull.updated)
                if pull.merged is not None and pull.merge_sha:
                    yield pull.number, pull.merge_sha, utc_text(pull.merged)

        for chunk in _chunks(recent(), BATCH):
            with self.deps.store.write() as db:
                for number, sha, merged_at in chunk:
                    github_events.merged_pull(db, self.repo, number, sha, merged_at)
            self.result.pull_requests += len(chunk)
        self.progress("pulls", 1.0)

    # ---- commits ---------------------------------------------------------------------------

    def _commits(
        self, listed: Iterator[listing.Commit], commit: Callable[[str], listing.Commit]
    ) -> None:
        """The default branch's commits in the range (newest first), stored oldest first:
        their order in the changes table is history order, which says what each deployment
        shipped. `commit` reads one commit: the boundary's, when it is before the range."""
        found: list[Commit] = []
        for listed_commit in listed:
            self._check_stop()
            if listed_commit.authored is not None:
                self._covered("commits", listed_commit.authored)
            found.append(Commit(listed_commit.sha.lower(), commit_time(listed_commit.authored)))
        found.reverse()
        if self.boundary is not None:
            sha = self.boundary.sha.lower()
            if all(c.sha != sha for c in found):
                # Before the range, so before everything in it.
                found.insert(0, Commit(sha, commit_time(commit(sha).authored)))
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

    def cursor(self) -> datetime:
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

    def hold() -> None:
        # Stopped early: the next run starts where this one began. Not for a repository
        # that was never found, which must not appear among the configured ones.
        if run.found:
            _save_cursor(deps, run.repo, result.since, advance=False)

    try:
        try:
            run.run()
        finally:
            _count(result, calls)
    except (Stopped, KeyboardInterrupt):
        hold()
        raise
    except (GithubException, requests.RequestException) as error:
        hold()
        raise _sync_error(
            deps.config, deps.clock.now(), repo, error, result, found=run.found
        ) from None
    cursor = utc_text(run.cursor())
    _save_cursor(deps, run.repo, cursor, advance=True)
    result.cursor = cursor
    return result


def _count(result: SyncResult, calls: Calls) -> None:
    result.api_calls = calls.made
    result.graphql_calls = calls.graphql
    result.points = calls.points
    result.remaining = calls.remaining


def _sync_error(
    config: Config,
    now: pendulum.DateTime,
    repo: str,
    error: GithubException | requests.RequestException,
    result: SyncResult,
    *,
    found: bool,
) -> SyncError:
    """What GitHub answered, in words for people (the same for REST and GraphQL)."""
    api_url = config.github_api_url
    if isinstance(error, requests.RequestException):
        return SyncError(github_text.github_unreachable(api_url, str(error)), result)
    if _is_rate_limit(error):
        reset_at = _rate_limit_reset(error, now)
        return RateLimited(
            github_text.github_rate_limited(repo, reset_at and show(reset_at, config.timezone)),
            result,
            reset_at,
        )
    if isinstance(error, BadCredentialsException):
        message = github_text.github_bad_credentials(api_url)
    elif isinstance(error, UnknownObjectException) and not found:
        message = github_text.github_repo_not_found(repo, api_url)
    else:
        message = github_text.github_refused(repo, error.status, error.message or str(error.data))
    return SyncError(message, result)


def dry_run(
    config: Config,
    clock: Clock,
    repo: str,
    since: pendulum.DateTime | None,
    calls: Calls | None = None,
) -> graphql.Estimate:
    """What a first import of REPO from `since` (default DEFAULT_DAYS ago) would read and
    cost, from one GraphQL query; nothing is stored. Raises SyncError as sync() does, and
    when GraphQL is unavailable (a first import then costs REST's one call per deployment,
    which cannot be counted without making them)."""
    calls = calls or Calls()
    now = clock.now()
    start = since or now.subtract(days=DEFAULT_DAYS)
    result = SyncResult(repo=repo, since=utc_text(start))
    try:
        return graphql.estimate(github_api.client(config, calls).requester, calls, repo, start)
    except graphql.Unavailable as error:
        message = github_text.github_dry_run_needs_graphql(config.github_api_url, str(error))
        raise SyncError(message, result) from None
    except (GithubException, requests.RequestException) as error:
        raise _sync_error(config, now, repo, error, result, found=False) from None


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
        result.api_calls - result.graphql_calls,
        result.graphql_calls,
        result.points,
        result.remaining,
    )
