"""The GitHub REST API through PyGithub: the client, and the commits a deploy shipped.

Only used where GITHUB_TOKEN or the GitHub App settings are given; without them Shipshape
makes no API calls at all.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from github import Auth, Github, GithubRetry, RateLimitExceededExceedsMaxWait
from urllib3.response import BaseHTTPResponse

from bot.config import Config
from bot.core.moments import utc_text
from bot.deps import Deps
from bot.recording import changes
from storage import deploys, shipping
from storage.shipping import Commit

log = logging.getLogger(__name__)

PER_PAGE = 100
# A rate limit is waited out for at most this long at a time, so a sync never blocks the
# bot's other work (the scheduler's thread, a webhook's follow-up) for more than a minute.
MAX_RATE_LIMIT_WAIT = 60
TIMEOUT_SECONDS = 30


def configured(config: Config) -> bool:
    return bool(config.github_token or config.github_app_id)


def _private_key(value: str) -> str:
    # GITHUB_APP_PRIVATE_KEY is the PEM text itself or the path of a .pem file.
    if "BEGIN" in value:
        return value.replace("\\n", "\n")
    return Path(value).expanduser().read_text()


class Stopped(Exception):
    """The process is shutting down: a sync gives up between two requests, or in the
    middle of a rate-limit wait."""


@dataclass
class Calls:
    """The requests GitHub answered for one piece of work (a sync, a fetch), counted where
    every response passes (the retry policy), so retries and rate-limit answers count too;
    and the signal that ends that work early when the process stops."""

    made: int = 0
    stop: threading.Event = field(default_factory=threading.Event)
    graphql: int = 0  # of `made`, those that answered a GraphQL query
    points: int = 0  # GraphQL rate-limit points spent, as GitHub reports each query's cost
    remaining: int | None = None  # GraphQL points left, as the latest answer said

    @property
    def rest(self) -> int:
        return self.made - self.graphql


class _Retry(GithubRetry):
    """GithubRetry that counts responses, never waits longer than MAX_RATE_LIMIT_WAIT for a
    Retry-After either (GithubRetry caps only the X-RateLimit-Reset wait; urllib3 would
    sleep up to six hours), and wakes up when the work is stopped."""

    def __init__(self, calls: Calls, **kwargs: Any) -> None:
        self.calls = calls
        super().__init__(**kwargs)

    def new(self, **kw: Any) -> _Retry:
        # urllib3 makes a new policy object for every retry; they all share one counter.
        kw["calls"] = self.calls
        return super().new(**kw)

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        # urllib3 asks this once about every response it receives.
        self.calls.made += 1
        return super().is_retry(method, status_code, has_retry_after)

    def increment(  # type: ignore[override]
        self,
        method: str | None = None,
        url: str | None = None,
        response: BaseHTTPResponse | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> GithubRetry:
        after = response.headers.get("Retry-After") if response is not None else None
        if response is not None and after is not None and self.max_rate_limit_wait is not None:
            wait = self.parse_retry_after(after)
            if wait > self.max_rate_limit_wait:
                raise RateLimitExceededExceedsMaxWait(
                    response.status, None, dict(response.headers), wait=wait
                )
        return super().increment(method, url, response, *args, **kwargs)  # type: ignore[arg-type]

    def sleep(self, response: BaseHTTPResponse | None = None) -> None:
        wait = (self.get_retry_after(response) if response is not None else None) or (
            self.get_backoff_time()
        )
        if self.calls.stop.wait(wait):
            raise Stopped


def client(config: Config, calls: Calls | None = None, *, lazy: bool = False) -> Github:
    """A client for GITHUB_API_URL with 100 items per page and bounded rate-limit waits;
    `calls` counts its requests. A lazy client makes no request until data is read."""
    auth: Auth.Auth
    if config.github_app_id:
        assert config.github_app_private_key and config.github_app_installation_id
        app = Auth.AppAuth(int(config.github_app_id), _private_key(config.github_app_private_key))
        auth = app.get_installation_auth(int(config.github_app_installation_id))
    else:
        assert config.github_token
        auth = Auth.Token(config.github_token)
    return Github(
        auth=auth,
        base_url=config.github_api_url,
        per_page=PER_PAGE,
        timeout=TIMEOUT_SECONDS,
        retry=_Retry(calls or Calls(), max_rate_limit_wait=MAX_RATE_LIMIT_WAIT),
        seconds_between_requests=None,
        # PyGithub spaces POSTs a second apart, as GitHub asks of writes; a GraphQL query
        # is a POST that writes nothing, and a sync sends nothing else.
        seconds_between_writes=None,
        lazy=lazy,
    )


def commit_time(moment: datetime | None) -> str | None:
    return None if moment is None else utc_text(moment)


def fetch_shipped_commits(deps: Deps, deploy_id: int, calls: Calls | None = None) -> int:
    """Fetch the commits between the previous deployed sha of the deploy's repository and
    its own (GitHub's compare API), store them and link them to it. Returns how many were new.
    Run off the request path: it makes network calls."""
    db = deps.store.db
    deploy = deploys.get(db, deploy_id)
    production = deps.config.production_environments
    if deploy is None or not changes.ships(deploy, production):
        return 0
    assert deploy.repo is not None and deploy.sha is not None
    previous = shipping.previous_shipped_sha(db, deploy, production)
    repository = client(deps.config, calls, lazy=True).get_repo(deploy.repo)
    if previous is None:
        # The first deploy of a repository has no earlier sha to compare with: it ships its
        # own commit only, rather than the whole history before it.
        found = [repository.get_commit(deploy.sha)]
    else:
        found = list(repository.compare(previous, deploy.sha).commits)
    commits = [Commit(c.sha.lower(), commit_time(c.commit.author.date)) for c in found]
    with deps.store.write() as db:
        new = changes.shipped_by(
            db, deploy, commits, production, "github", utc_text(deps.clock.now())
        )
    log.info("deploy #%s: %s new commits fetched from %s", deploy_id, new, deploy.repo)
    return new
