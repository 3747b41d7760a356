"""A repository's history through GitHub's GraphQL API, as plain listings
(bot/sources/github/listing.py), in a few dozen requests where REST needs one per deployment.

One query reads the next page of 100 of each of three lists together: deployments with
their latest status, merged pull requests, and the default branch's commits since the
range's start. A list whose end is reached is left out of the next query (`@include`), so
the first import of 1,000 deployments with 3,000 commits takes 30 requests, as many as its
longest list has pages. Pages of the lists read later (pull requests, commits) wait in
memory until the sync comes to them, so records are written in the same order as through
REST and the two paths store identical rows.

Queries go through PyGithub's requester: the same credentials (token or GitHub App), the
same base URL (GitHub Enterprise Server answers GraphQL at /api/graphql when REST is at
/api/v3) and the same retry policy as REST (bot/sources/github/api.py).

Errors, in GraphQL's own shapes:
- rate limits: a 200 whose error has type RATE_LIMITED (GitHub has also sent RATE_LIMIT)
  is waited out when it resets within MAX_RATE_LIMIT_WAIT, else raised as
  RateLimitExceededException like REST's; a 403 or 429 (the secondary limits) goes
  through the retry policy as REST's do;
- Unavailable, after which the sync reads REST instead: the endpoint is missing (404, 405,
  410 or 501 to POST /graphql: a server or proxy without GraphQL), or the schema lacks
  what the query asks (an older GitHub Enterprise Server: GraphQL's validation errors);
- anything else is a GithubException as REST would raise: NOT_FOUND is
  UnknownObjectException (the repository is not there), the rest a refusal.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
import time
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from github import GithubException, RateLimitExceededException, UnknownObjectException
from github.Requester import Requester

from bot.core.moments import utc_text
from bot.sources.github import listing
from bot.sources.github.api import MAX_RATE_LIMIT_WAIT, PER_PAGE, Calls, Stopped
from bot.sources.github.listing import parsed

LISTS = ("deployments", "pulls", "commits")  # in the order a sync walks them

QUERY = """
query Sync($owner: String!, $name: String!, $since: GitTimestamp!, $first: Int!,
           $withDeployments: Boolean!, $deploymentsAfter: String,
           $withPulls: Boolean!, $pullsAfter: String,
           $withCommits: Boolean!, $commitsAfter: String) {
  rateLimit { cost remaining resetAt }
  repository(owner: $owner, name: $name) {
    nameWithOwner
    deployments(first: $first, after: $deploymentsAfter,
                orderBy: {field: CREATED_AT, direction: DESC}) @include(if: $withDeployments) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes {
        databaseId createdAt environment commitOid
        ref { name }
        latestStatus { id state createdAt environment logUrl environmentUrl }
      }
    }
    pullRequests(first: $first, after: $pullsAfter, states: MERGED,
                 orderBy: {field: UPDATED_AT, direction: DESC}) @include(if: $withPulls) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes { number updatedAt mergedAt mergeCommit { oid } }
    }
    defaultBranchRef {
      name
      target {
        ... on Commit {
          history(first: $first, after: $commitsAfter, since: $since) @include(if: $withCommits) {
            totalCount
            pageInfo { hasNextPage endCursor }
            nodes { oid authoredDate }
          }
        }
      }
    }
  }
}
"""

# HTTP answers to POST /graphql that mean there is no GraphQL API here at all.
UNAVAILABLE_STATUSES = frozenset({404, 405, 410, 501})
# GraphQL's validation error codes for a query the server's schema cannot run: a field,
# type or argument it does not have (GitHub Enterprise Server releases lag github.com's).
UNAVAILABLE_CODES = frozenset(
    {"undefinedField", "undefinedType", "argumentNotAccepted", "argumentLiteralsIncompatible"}
)
RATE_LIMITED_TYPES = frozenset({"RATE_LIMITED", "RATE_LIMIT"})
ATTEMPTS = 3  # a query whose rate limit resets within the minute is sent again, this often


class Unavailable(Exception):
    """GraphQL cannot answer here; the message says what it answered. The sync reads REST."""


def _header(headers: Mapping[str, Any], name: str) -> str | None:
    return next((str(v) for k, v in headers.items() if str(k).lower() == name), None)


def _reset_wait(headers: Mapping[str, Any]) -> float | None:
    """Seconds until a rate limit resets, from Retry-After or X-RateLimit-Reset. The reset
    is an epoch second of GitHub's clock, compared with this machine's as PyGithub's own
    retry policy does: it is about real waiting, not about the records' times."""
    after = _header(headers, "retry-after")
    if after is not None and after.isdigit():
        return float(after)
    reset = _header(headers, "x-ratelimit-reset")
    if reset is not None and reset.isdigit():
        return max(int(reset) - time.time(), 0.0) + 1  # within that second, somewhen
    return None


def _unavailable_error(error: Mapping[str, Any]) -> bool:
    extensions = error.get("extensions")
    return isinstance(extensions, Mapping) and extensions.get("code") in UNAVAILABLE_CODES


def send(
    requester: Requester, calls: Calls, query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    """POST one query and return its `data`; see the module's docstring for the errors."""
    for _ in range(ATTEMPTS):
        before = calls.made
        try:
            headers, body = requester.requestJsonAndCheck(
                "POST", requester.graphql_url, input={"query": query, "variables": variables}
            )
        except GithubException as error:
            if error.status in UNAVAILABLE_STATUSES:
                raise Unavailable(f"{error.status} at {requester.graphql_url}") from None
            raise
        finally:
            # Every answer received meanwhile, the retry policy's retries included.
            calls.graphql += calls.made - before
        body = body if isinstance(body, dict) else {}
        errors = [e for e in body.get("errors") or () if isinstance(e, Mapping)]
        if any(e.get("type") in RATE_LIMITED_TYPES for e in errors):
            wait = _reset_wait(headers)
            if wait is None or wait > MAX_RATE_LIMIT_WAIT:
                raise RateLimitExceededException(403, body, headers, errors[0].get("message"))
            if calls.stop.wait(wait):
                raise Stopped
            continue
        if any(_unavailable_error(e) for e in errors):
            raise Unavailable("; ".join(str(e.get("message")) for e in errors))
        if errors:
            message = str(errors[0].get("message"))
            if errors[0].get("type") == "NOT_FOUND":
                raise UnknownObjectException(404, body, headers, message)
            raise GithubException(400, body, headers, message)
        data: dict[str, Any] = body.get("data") or {}
        limit = data.get("rateLimit") or {}
        calls.points += int(limit.get("cost") or 0)
        if limit.get("remaining") is not None:
            calls.remaining = int(limit["remaining"])
        return data
    raise RateLimitExceededException(403, {}, {}, "rate limit still exceeded after waiting")


# ---- from GraphQL's nodes to plain listings ------------------------------------------------


def _varint_list(raw: bytes) -> list[int]:
    """The unsigned integers of a MessagePack array (all a node id holds)."""
    if not raw or not 0x90 <= raw[0] <= 0x9F:
        raise ValueError("not a MessagePack array")
    values, i = [], 1
    while i < len(raw):
        tag = raw[i]
        if tag <= 0x7F:  # a positive fixint
            values.append(tag)
            i += 1
        elif 0xCC <= tag <= 0xCF:  # uint8, uint16, uint32, uint64
            size = 1 << (tag - 0xCC)
            values.append(int.from_bytes(raw[i + 1 : i + 1 + size], "big"))
            i += 1 + size
        else:
            raise ValueError("not an unsigned integer")
    if len(values) != raw[0] & 0x0F:
        raise ValueError("a short MessagePack array")
    return values


_LEGACY_ID = re.compile(r"\d+:[A-Za-z]+(\d+)")


def database_id(node_id: str) -> int:
    """The database id inside a GitHub node id, which GraphQL gives deployment statuses
    instead of REST's `id`. Two forms: "DES_" and base64url of a MessagePack array ending
    in the id (since 2021), or base64 of "016:DeploymentStatus123" (before). 0 when it is
    neither: the status then ranks below the same status delivered by the webhook, which
    applies its identical facts once more (bot.recording.deploys.record_github_status)."""
    _, _, packed = node_id.partition("_")
    try:
        if packed:
            raw = base64.urlsafe_b64decode(packed + "=" * (-len(packed) % 4))
            return _varint_list(raw)[-1]
        legacy = base64.b64decode(node_id + "=" * (-len(node_id) % 4)).decode()
    except (ValueError, IndexError, binascii.Error):
        return 0
    match = _LEGACY_ID.fullmatch(legacy)
    return int(match.group(1)) if match else 0


def _status(node: Mapping[str, Any] | None) -> listing.Status | None:
    if not node:
        return None
    return listing.Status(
        id=database_id(str(node["id"])),
        # DeploymentStatusState is REST's state upper-cased (SUCCESS, FAILURE, ERROR,
        # IN_PROGRESS, ...): lower-cased, the two paths map states by one table.
        state=str(node["state"]).lower(),
        at=parsed(node["createdAt"]),
        environment=node.get("environment"),
        url=listing.first_url(node.get("logUrl"), node.get("environmentUrl")),
    )


def deployment(node: Mapping[str, Any]) -> listing.Deployment:
    status = _status(node.get("latestStatus"))
    ref = node.get("ref")
    return listing.Deployment(
        id=int(node["databaseId"]),
        created=parsed(node["createdAt"]),
        environment=node.get("environment") or "",
        sha=str(node["commitOid"]),
        # GraphQL names a ref that still exists; a deployment of a bare sha has none.
        ref=ref["name"] if ref else None,
        latest=lambda: status,
    )


def pull(node: Mapping[str, Any]) -> listing.Pull:
    merge = node.get("mergeCommit")
    return listing.Pull(
        number=int(node["number"]),
        updated=parsed(node["updatedAt"]),
        merged=parsed(node["mergedAt"]) if node.get("mergedAt") else None,
        merge_sha=merge["oid"] if merge else None,
    )


def commit(node: Mapping[str, Any]) -> listing.Commit:
    authored = node.get("authoredDate")
    return listing.Commit(str(node["oid"]), parsed(authored) if authored else None)


# ---- paging the three lists together -------------------------------------------------------


def _connection(repository: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    if name == "deployments":
        return repository.get("deployments")
    if name == "pulls":
        return repository.get("pullRequests")
    branch = repository.get("defaultBranchRef") or {}
    return (branch.get("target") or {}).get("history")


@dataclass
class Repository:
    full_name: str  # GitHub's spelling of OWNER/NAME
    default_branch: str | None  # None: an empty repository


class Pages:
    """A repository's three lists, read a page of each per query.

    The deployments are read only as the sync asks for them (where they stop depends on
    what it finds); merged pull requests and commits ride along with every query until
    their end: the pull requests' is the first one updated before `since` (they come most
    recently updated first), the commits' is the last page (GitHub filters by `since`)."""

    def __init__(
        self, requester: Requester, calls: Calls, repo: str, since: datetime, per_page: int
    ) -> None:
        self.requester = requester
        self.calls = calls
        self.owner, self.name = repo.split("/", 1)
        self.since = since
        self.per_page = per_page
        self.cursors: dict[str, str | None] = dict.fromkeys(LISTS)
        self.open = dict.fromkeys(LISTS, True)
        self.pages: dict[str, deque[list[Mapping[str, Any]]]] = {n: deque() for n in LISTS}
        self.total: dict[str, int] = {}
        self.first_page: dict[str, list[Mapping[str, Any]]] = {}

    def fetch(self, wanted: str | None = None) -> Repository:
        """One query: the next page of `wanted` (all three on the first), and of each list
        that rides along."""
        first = not self.total
        include = {n: self.open[n] and (first or n == wanted or n != "deployments") for n in LISTS}
        data = send(
            self.requester,
            self.calls,
            QUERY,
            {
                "owner": self.owner,
                "name": self.name,
                "since": utc_text(self.since),
                "first": self.per_page,
                **{f"with{n.title()}": include[n] for n in LISTS},
                **{f"{n}After": self.cursors[n] for n in LISTS},
            },
        )
        repository = data.get("repository")
        if not repository:
            raise UnknownObjectException(404, data, {}, "repository not found")
        for name in LISTS:
            if not include[name]:
                continue
            connection = _connection(repository, name)
            if connection is None:  # an empty repository has no default branch to read
                self.open[name] = False
                self.total.setdefault(name, 0)
                continue
            nodes = [n for n in connection.get("nodes") or () if n]
            self.total.setdefault(name, int(connection.get("totalCount") or 0))
            self.first_page.setdefault(name, nodes)
            self.pages[name].append(nodes)
            info = connection.get("pageInfo") or {}
            self.cursors[name] = info.get("endCursor")
            self.open[name] = bool(info.get("hasNextPage")) and not (
                name == "pulls" and nodes and parsed(nodes[-1]["updatedAt"]) < self.since
            )
        branch = repository.get("defaultBranchRef")
        return Repository(str(repository["nameWithOwner"]), branch["name"] if branch else None)

    def nodes(self, name: str) -> Iterator[Mapping[str, Any]]:
        """The list's nodes in GitHub's order, each page read when it is needed."""
        while True:
            while self.pages[name]:
                yield from self.pages[name].popleft()
            if not self.open[name]:
                return
            self.fetch(name)

    def close(self, name: str) -> None:
        """The sync needs no more of this list: later queries leave it out."""
        self.open[name] = False
        self.pages[name].clear()


# ---- what a first import would cost --------------------------------------------------------


@dataclass(frozen=True)
class Estimate:
    repo: str
    deployments: int
    pulls: int
    commits: int

    def _pages(self) -> list[int]:
        return [math.ceil(n / PER_PAGE) for n in (self.deployments, self.pulls, self.commits)]

    @property
    def graphql_calls(self) -> int:
        """A query per page of the longest list (the lists are read together)."""
        return max(
            1, *(math.ceil(n / PER_PAGE) for n in (self.deployments, self.pulls, self.commits))
        )

    @property
    def rest_calls(self) -> int:
        """The repository, the pages of each list, and a request per deployment."""
        pages = sum(
            max(1, math.ceil(n / PER_PAGE)) for n in (self.deployments, self.pulls, self.commits)
        )
        return 1 + pages + self.deployments


def _in_range(nodes: list[Mapping[str, Any]], total: int, field: str, since: datetime) -> int:
    """How many of a newest-first list fall on or after `since`: counted on the first page
    when the range ends within it, else extrapolated from the time that page covers."""
    inside = sum(1 for n in nodes if parsed(n[field]) >= since)
    if inside < len(nodes) or len(nodes) >= total:
        return inside
    # The page's items are spread over `covered`; at that pace the range holds this many.
    covered = (parsed(nodes[0][field]) - parsed(nodes[-1][field])).total_seconds()
    span = (parsed(nodes[0][field]) - since).total_seconds()
    if covered <= 0:
        return total
    return min(total, 1 + round((len(nodes) - 1) * span / covered))


def estimate(requester: Requester, calls: Calls, repo: str, since: datetime) -> Estimate:
    """What a first import from `since` would read, from the first page of each list."""
    pages = Pages(requester, calls, repo, since, PER_PAGE)
    found = pages.fetch()
    return Estimate(
        repo=found.full_name,
        deployments=_in_range(
            pages.first_page.get("deployments", []),
            pages.total.get("deployments", 0),
            "createdAt",
            since,
        ),
        pulls=_in_range(
            pages.first_page.get("pulls", []), pages.total.get("pulls", 0), "updatedAt", since
        ),
        commits=pages.total.get("commits", 0),
    )
