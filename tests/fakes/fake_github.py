"""A loopback fake of the GitHub REST and GraphQL APIs for one repository, recording every
request.

The real PyGithub client talks to it through GITHUB_API_URL, so what the tests assert is
what GitHub would have been asked: paths, `per_page` and `page`, GraphQL variables, and how
many requests. REST pages like GitHub (`page`/`per_page`, default 30, at most 100, and a
Link header with rel="next" and rel="last"), lists newest first, filters commits by
committer date with `since`, and can answer chosen requests with a 403 rate-limit response.

POST /graphql (/api/graphql beside /api/v3 with prefix="/api/v3", as GitHub Enterprise
Server) answers the query bot/sources/github/graphql.py sends from the same data: the
repository's deployments with their latest status, merged pull requests and default-branch
history, each with `first`/`after` cursors, `pageInfo { hasNextPage endCursor }` and
`totalCount`, lists left out by `@include(if: false)`, and `rateLimit`. It can answer with
GraphQL's own errors (type RATE_LIMITED in a 200, a schema without a field) or, built with
graphql=False, 404 as a server without GraphQL does.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlparse

from tests.fakes.loopback import LoopbackServer

T = TypeVar("T")
TOKEN = "ghp_test"
RATE_LIMIT_MESSAGE = "API rate limit exceeded for user ID 1."
SECONDARY_LIMIT_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
)
GRAPHQL_POINTS = 5000  # an hour's GraphQL rate-limit points
REPOSITORY_ID = 1


def node_id(kind: str, database_id: int) -> str:
    """A node id in GitHub's current form: the type's prefix and base64url of a MessagePack
    array [0, repository id, database id] (unsigned 32-bit integers)."""
    packed = bytes([0x93, 0x00, 0xCE]) + REPOSITORY_ID.to_bytes(4, "big")
    packed += bytes([0xCE]) + database_id.to_bytes(4, "big")
    return f"{kind}_" + base64.urlsafe_b64encode(packed).decode().rstrip("=")


def _cursor(offset: int) -> str:
    return base64.b64encode(f"cursor:{offset}".encode()).decode()


def _offset(cursor: str | None) -> int:
    return int(base64.b64decode(cursor).decode().split(":")[1]) if cursor else 0


def sha_of(name: str) -> str:
    """A full 40-character sha for a commit the test names."""
    return hashlib.sha1(name.encode()).hexdigest()


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]  # REST's query string; GraphQL's variables
    status: int = 200


@dataclass
class FakeCommit:
    sha: str
    authored_at: str
    committed_at: str
    on_default_branch: bool = True


@dataclass
class FakeStatus:
    id: int
    state: str
    created_at: str
    environment: str


@dataclass
class FakeDeployment:
    id: int
    sha: str
    ref: str
    environment: str
    created_at: str
    statuses: list[FakeStatus] = field(default_factory=list)  # oldest first


@dataclass
class FakePull:
    number: int
    updated_at: str
    merged_at: str | None
    merge_sha: str | None


@dataclass
class Limit:
    """Answer the next request whose path matches with a 403 rate-limit response."""

    pattern: str  # a regular expression searched in the path
    retry_after: int | None = None  # seconds; otherwise X-RateLimit-Reset in an hour
    secondary: bool = False  # GitHub's secondary limit (too many requests at once)


@dataclass
class GraphQLError:
    """Answer the next GraphQL query with an error in GraphQL's own shape (HTTP 200)."""

    kind: str  # "rate_limited" or "schema" (the server's schema lacks a field)
    reset_in: int = 3600  # seconds until a rate limit resets
    after: int = 0  # queries answered normally before this one


class FakeGitHub:
    def __init__(
        self,
        repo: str = "acme/app",
        default_branch: str = "main",
        *,
        graphql: bool = True,
        prefix: str = "",
    ) -> None:
        self.repo = repo
        self.default_branch = default_branch
        self.graphql = graphql  # False: POST /graphql answers 404, as without GraphQL
        self.prefix = prefix  # "/api/v3": GitHub Enterprise Server's paths
        self.graphql_errors: list[GraphQLError] = []
        self.points = GRAPHQL_POINTS
        self.history: list[FakeCommit] = []  # oldest first, every branch in one line
        self.deployments: list[FakeDeployment] = []
        self._by_id: dict[int, FakeDeployment] = {}
        self.pulls: list[FakePull] = []
        self.requests: list[Request] = []
        self.limits: list[Limit] = []
        self._ids = iter(range(9000, 10**9))
        self._lock = threading.Lock()
        self._server = LoopbackServer(self._handler())

    @property
    def url(self) -> str:
        """GITHUB_API_URL for this fake."""
        return f"http://127.0.0.1:{self._server.server_port}{self.prefix}"

    @property
    def graphql_path(self) -> str:
        return self.prefix.removesuffix("/v3") + "/graphql"

    def start(self) -> FakeGitHub:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    # ---- building the repository's history ------------------------------------------------

    def commit(
        self,
        name: str,
        authored_at: str,
        committed_at: str | None = None,
        *,
        on_default_branch: bool = True,
    ) -> str:
        sha = sha_of(name)
        self.history.append(
            FakeCommit(sha, authored_at, committed_at or authored_at, on_default_branch)
        )
        return sha

    def deployment(
        self,
        deployment_id: int,
        sha: str,
        created_at: str,
        *statuses: tuple[str, str],
        ref: str | None = None,
        environment: str = "production",
    ) -> FakeDeployment:
        """A deployment with its statuses as (state, created_at), oldest first."""
        found = FakeDeployment(
            deployment_id, sha, ref or self.default_branch, environment, created_at
        )
        for state, at in statuses:
            found.statuses.append(FakeStatus(next(self._ids), state, at, environment))
        self.deployments.append(found)
        self._by_id[deployment_id] = found
        return found

    def add_status(self, deployment: FakeDeployment, state: str, at: str) -> None:
        deployment.statuses.append(FakeStatus(next(self._ids), state, at, deployment.environment))

    def pull(
        self, number: int, updated_at: str, merged_at: str | None, merge_sha: str | None
    ) -> None:
        self.pulls.append(FakePull(number, updated_at, merged_at, merge_sha))

    def limit(
        self, pattern: str, retry_after: int | None = None, *, secondary: bool = False
    ) -> None:
        self.limits.append(Limit(pattern, retry_after, secondary))

    def graphql_error(self, kind: str, reset_in: int = 3600, *, after: int = 0) -> None:
        self.graphql_errors.append(GraphQLError(kind, reset_in, after))

    def requested(self, pattern: str = "") -> list[Request]:
        with self._lock:
            return [r for r in self.requests if re.search(pattern, r.path)]

    def rest_requests(self) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.method == "GET"]

    def graphql_requests(self) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.method == "POST"]

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()

    # ---- JSON as GitHub writes it ---------------------------------------------------------

    def _repo_url(self) -> str:
        return f"{self.url}/repos/{self.repo}"

    def _commit_json(self, commit: FakeCommit) -> dict[str, Any]:
        return {
            "sha": commit.sha,
            "node_id": "C_" + commit.sha[:8],
            "url": f"{self._repo_url()}/commits/{commit.sha}",
            "html_url": f"https://github.com/{self.repo}/commit/{commit.sha}",
            "commit": {
                "author": {"name": "A", "email": "a@example.com", "date": commit.authored_at},
                "committer": {"name": "C", "email": "c@example.com", "date": commit.committed_at},
                "message": "change",
                "url": f"{self._repo_url()}/git/commits/{commit.sha}",
                "tree": {"sha": commit.sha, "url": f"{self._repo_url()}/git/trees/{commit.sha}"},
            },
            "author": None,
            "committer": None,
            "parents": [],
        }

    def _deployment_json(self, d: FakeDeployment) -> dict[str, Any]:
        url = f"{self._repo_url()}/deployments/{d.id}"
        return {
            "url": url,
            "id": d.id,
            "node_id": f"DE_{d.id}",
            "sha": d.sha,
            "ref": d.ref,
            "task": "deploy",
            "payload": {},
            "original_environment": d.environment,
            "environment": d.environment,
            "description": None,
            "creator": None,
            "created_at": d.created_at,
            "updated_at": d.statuses[-1].created_at if d.statuses else d.created_at,
            "statuses_url": f"{url}/statuses",
            "repository_url": self._repo_url(),
            "transient_environment": False,
            "production_environment": d.environment == "production",
        }

    def _status_json(self, d: FakeDeployment, s: FakeStatus) -> dict[str, Any]:
        url = f"{self._repo_url()}/deployments/{d.id}"
        return {
            "url": f"{url}/statuses/{s.id}",
            "id": s.id,
            "node_id": node_id("DES", s.id),
            "state": s.state,
            "creator": None,
            "description": "",
            "environment": s.environment,
            "target_url": f"https://ci.example.com/deploy/{d.id}",
            "log_url": f"https://ci.example.com/deploy/{d.id}",
            "environment_url": "",
            "created_at": s.created_at,
            "updated_at": s.created_at,
            "deployment_url": url,
            "repository_url": self._repo_url(),
        }

    def _pull_json(self, p: FakePull) -> dict[str, Any]:
        return {
            "url": f"{self._repo_url()}/pulls/{p.number}",
            "id": 500_000 + p.number,
            "number": p.number,
            "state": "closed",
            "title": f"Pull request {p.number}",
            "created_at": p.updated_at,
            "updated_at": p.updated_at,
            "closed_at": p.updated_at,
            "merged_at": p.merged_at,
            "merge_commit_sha": p.merge_sha,
        }

    # ---- answers --------------------------------------------------------------------------

    def _page(
        self, path: str, query: dict[str, str], items: list[T], shown: Callable[[T], Any]
    ) -> tuple[list[dict[str, Any]], dict[str, str]]:
        """The page asked for, each item `shown` as JSON (only the page's: a benchmark's
        fixture holds tens of thousands)."""
        per_page = min(int(query.get("per_page", 30)), 100)
        page = int(query.get("page", 1))
        last = max(1, -(-len(items) // per_page))
        headers = {}
        if page < last:

            def link(n: int) -> str:
                return f"{self.url}{path}?{urlencode({**query, 'page': n})}"

            headers["Link"] = f'<{link(page + 1)}>; rel="next", <{link(last)}>; rel="last"'
        return [shown(i) for i in items[(page - 1) * per_page : page * per_page]], headers

    def _commit_index(self, sha: str) -> int | None:
        return next((i for i, c in enumerate(self.history) if c.sha.startswith(sha)), None)

    def answer(self, path: str, query: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        base = f"/repos/{self.repo}"
        if path == base:
            return (
                200,
                {
                    "id": 1,
                    "node_id": "R_1",
                    "name": self.repo.split("/")[1],
                    "full_name": self.repo,
                    "owner": {"login": self.repo.split("/")[0], "id": 2, "type": "Organization"},
                    "private": True,
                    "default_branch": self.default_branch,
                    "url": self._repo_url(),
                },
                {},
            )
        if not path.startswith(base + "/"):
            return 404, {"message": "Not Found"}, {}
        rest = path.removeprefix(base)
        if rest == "/deployments":
            listed = sorted(self.deployments, key=lambda d: (d.created_at, d.id), reverse=True)
            page, headers = self._page(path, query, listed, self._deployment_json)
            return 200, page, headers
        if match := re.fullmatch(r"/deployments/(\d+)/statuses", rest):
            found = self._by_id.get(int(match.group(1)))
            if found is None:
                return 404, {"message": "Not Found"}, {}
            statuses = list(reversed(found.statuses))
            page, headers = self._page(path, query, statuses, lambda s: self._status_json(found, s))
            return 200, page, headers
        if rest == "/pulls":
            listed = sorted(self.pulls, key=lambda p: (p.updated_at, p.number), reverse=True)
            page, headers = self._page(path, query, listed, self._pull_json)
            return 200, page, headers
        if rest == "/commits":
            since = query.get("since", "")
            listed = [
                c for c in reversed(self.history) if c.on_default_branch and c.committed_at >= since
            ]
            page, headers = self._page(path, query, listed, self._commit_json)
            return 200, page, headers
        if match := re.fullmatch(r"/commits/([0-9a-f]+)", rest):
            index = self._commit_index(match.group(1))
            if index is None:
                return 422, {"message": "No commit found for SHA"}, {}
            return 200, self._commit_json(self.history[index]), {}
        if match := re.fullmatch(r"/compare/([0-9a-f]+)\.\.\.([0-9a-f]+)", rest):
            start, end = self._commit_index(match.group(1)), self._commit_index(match.group(2))
            if start is None or end is None:
                return 404, {"message": "Not Found"}, {}
            commits = [self._commit_json(c) for c in self.history[start + 1 : end + 1]]
            return (
                200,
                {
                    "url": f"{self._repo_url()}/compare/{match.group(1)}...{match.group(2)}",
                    "status": "ahead",
                    "ahead_by": len(commits),
                    "behind_by": 0,
                    "total_commits": len(commits),
                    "commits": commits,
                    "files": [],
                },
                {},
            )
        return 404, {"message": "Not Found"}, {}

    # ---- GraphQL ---------------------------------------------------------------------------

    def _connection(
        self, items: list[T], shown: Callable[[T], Any], first: int, after: str | None
    ) -> dict[str, Any]:
        start = _offset(after)
        nodes = [shown(i) for i in items[start : start + first]]
        end = start + len(nodes)
        return {
            "totalCount": len(items),
            "pageInfo": {
                "hasNextPage": end < len(items),
                "endCursor": _cursor(end) if nodes else None,
            },
            "nodes": nodes,
        }

    def _deployment_node(self, d: FakeDeployment) -> dict[str, Any]:
        latest = d.statuses[-1] if d.statuses else None
        return {
            "databaseId": d.id,
            "createdAt": d.created_at,
            "environment": d.environment,
            "commitOid": d.sha,
            # GraphQL names a ref that exists; a deployment of a bare sha has none.
            "ref": None if d.ref == d.sha else {"name": d.ref},
            "latestStatus": latest
            and {
                "id": node_id("DES", latest.id),
                "state": latest.state.upper(),
                "createdAt": latest.created_at,
                "environment": latest.environment,
                "logUrl": f"https://ci.example.com/deploy/{d.id}",
                "environmentUrl": None,
            },
        }

    @staticmethod
    def _pull_node(p: FakePull) -> dict[str, Any]:
        return {
            "number": p.number,
            "updatedAt": p.updated_at,
            "mergedAt": p.merged_at,
            "mergeCommit": {"oid": p.merge_sha} if p.merge_sha else None,
        }

    def _graphql_answer(self, variables: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        headers = {
            "X-RateLimit-Limit": str(GRAPHQL_POINTS),
            "X-RateLimit-Resource": "graphql",
            "X-RateLimit-Reset": str(int(time.time()) + 3600),
        }
        with self._lock:
            error = self.graphql_errors[0] if self.graphql_errors else None
            if error is not None and error.after > 0:
                error.after -= 1
                error = None
            elif error is not None:
                self.graphql_errors.pop(0)
        if error is not None and error.kind == "rate_limited":
            headers["X-RateLimit-Remaining"] = "0"
            headers["X-RateLimit-Reset"] = str(int(time.time()) + error.reset_in)
            if error.reset_in < 60:  # soon: GitHub says when to come back
                headers["Retry-After"] = str(error.reset_in)
            message = "API rate limit already exceeded for user ID 1."
            body = {
                "errors": [
                    {"type": "RATE_LIMITED", "code": "graphql_rate_limit", "message": message}
                ]
            }
            return 200, body, headers
        if error is not None:
            message = "Field 'latestStatus' doesn't exist on type 'Deployment'"
            extensions = {
                "code": "undefinedField",
                "typeName": "Deployment",
                "fieldName": "latestStatus",
            }
            where = ["query Sync", "repository", "deployments", "nodes", "latestStatus"]
            body = {"errors": [{"message": message, "locations": [{"line": 12, "column": 9}],
                                "path": where, "extensions": extensions}]}  # fmt: skip
            return 200, body, headers
        first = int(variables["first"])
        if first > 100:
            message = (
                f"Requesting {first} records on the connection exceeds the `first` limit "
                "of 100 records."
            )
            return 200, {"errors": [{"type": "EXCESSIVE_PAGE_SIZE", "message": message}]}, headers
        self.points -= 1
        headers["X-RateLimit-Remaining"] = str(self.points)
        reset_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
        data: dict[str, Any] = {
            "rateLimit": {"cost": 1, "remaining": self.points, "resetAt": reset_at}
        }
        asked = f"{variables['owner']}/{variables['name']}"
        if asked != self.repo:
            data["repository"] = None
            message = f"Could not resolve to a Repository with the name '{asked}'."
            error_body = {"type": "NOT_FOUND", "path": ["repository"], "message": message}
            return 200, {"data": data, "errors": [error_body]}, headers
        repository: dict[str, Any] = {"nameWithOwner": self.repo}
        if variables["withDeployments"]:
            listed = sorted(self.deployments, key=lambda d: (d.created_at, d.id), reverse=True)
            repository["deployments"] = self._connection(
                listed, self._deployment_node, first, variables["deploymentsAfter"]
            )
        if variables["withPulls"]:
            merged = [p for p in self.pulls if p.merged_at is not None]
            listed_pulls = sorted(merged, key=lambda p: (p.updated_at, p.number), reverse=True)
            repository["pullRequests"] = self._connection(
                listed_pulls, self._pull_node, first, variables["pullsAfter"]
            )
        if not self.history:
            repository["defaultBranchRef"] = None  # an empty repository
        else:
            target: dict[str, Any] = {}
            if variables["withCommits"]:
                since = variables["since"]
                listed_commits = [
                    c
                    for c in reversed(self.history)
                    if c.on_default_branch and c.committed_at >= since
                ]
                target["history"] = self._connection(
                    listed_commits,
                    lambda c: {"oid": c.sha, "authoredDate": c.authored_at},
                    first,
                    variables["commitsAfter"],
                )
            repository["defaultBranchRef"] = {"name": self.default_branch, "target": target}
        data["repository"] = repository
        return 200, {"data": data}, headers

    def _limited(self, path: str) -> tuple[int, Any, dict[str, str]] | None:
        with self._lock:
            limit = next((x for x in self.limits if re.search(x.pattern, path)), None)
            if limit is None:
                return None
            self.limits.remove(limit)
        headers = {
            "X-RateLimit-Limit": "5000",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Used": "5000",
            "X-RateLimit-Resource": "core",
        }
        if limit.retry_after is not None:
            headers["Retry-After"] = str(limit.retry_after)
            headers["X-RateLimit-Reset"] = str(int(time.time()) + limit.retry_after)
        else:
            headers["X-RateLimit-Reset"] = str(int(time.time()) + 3600)
        if limit.secondary:
            del headers["X-RateLimit-Remaining"]  # a secondary limit leaves the budget alone
        body = {
            "message": SECONDARY_LIMIT_MESSAGE if limit.secondary else RATE_LIMIT_MESSAGE,
            "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
        }
        return 403, body, headers

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as requests expects of GitHub
            # Headers and body go out in two writes; without this, Nagle's algorithm and
            # delayed ACKs hold each keep-alive answer back for 40 ms.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                parsed = urlparse(self.path)
                query = dict(parse_qsl(parsed.query))
                path = parsed.path.removeprefix(fake.prefix)

                def answer() -> tuple[int, Any, dict[str, str]]:
                    if not parsed.path.startswith(fake.prefix):
                        return 404, {"message": "Not Found"}, {}
                    return fake.answer(path, query)

                self._respond("GET", path, query, answer)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = json.loads(self.rfile.read(length) or b"{}")
                variables = request.get("variables") or {}
                path = urlparse(self.path).path

                def answer() -> tuple[int, Any, dict[str, str]]:
                    if path != fake.graphql_path or not fake.graphql:
                        return 404, {"message": "Not Found"}, {}
                    return fake._graphql_answer(variables)

                self._respond("POST", path, variables, answer)

            def _respond(
                self,
                method: str,
                path: str,
                query: dict[str, Any],
                answer: Callable[[], tuple[int, Any, dict[str, str]]],
            ) -> None:
                token = (self.headers.get("Authorization") or "").split(" ")[-1]
                if token != TOKEN:
                    status, body, headers = 401, {"message": "Bad credentials"}, {}
                else:
                    limited = fake._limited(path)
                    status, body, headers = limited or answer()
                with fake._lock:
                    fake.requests.append(Request(method, path, query, status))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        return Handler
