"""Load test: the HTTP API, GitLab and PagerDuty deliveries against the real `shipshape
serve`, beside GitHub's webhook measured the same way in the same run.

Run:  uv run python benchmarks/api_load.py [--seconds 20] [--clients 16] [--json]

It runs `shipshape serve` as benchmarks/webhook_load.py does (a subprocess in HTTP mode on a
free loopback port, a fresh SQLite file, the loopback fake of Slack) with every source's
secret set, then two workloads of S seconds each, N client threads over keep-alive
connections:
  1. GitHub: webhook_load's own mix of signed push and deployment_status deliveries;
  2. the new sources, in turn per request:
     - POST /api/deploys with a bearer token, a fresh `key` (a CI run id) and 1-3 commits;
     - GitLab Push Hook to the default branch, then a Deployment Hook of its last commit;
     - PagerDuty incident.triggered, signed, with a fresh event id;
     plus ~5% redeliveries of an acknowledged GitLab or PagerDuty delivery (same id).
The two take turns in R rounds of S/R seconds each (GitHub first in odd rounds, second in
even ones): run one after the other, whichever ran second met a bigger database and any
load the machine picked up, which moved the ratio by 8% with nothing else changed.
It reports deliveries per second and p50/p99 for each phase, the ratio, and checks the
database after a clean SIGTERM: every acknowledged delivery is stored exactly once (one API
deploy per key, one source_deliveries row per GitLab or PagerDuty delivery id, one GitLab
deploy per deployment id, one PagerDuty incident per incident id), and every redelivery
changed nothing. Exit status 1 when a delivery failed, a count does not match, or the new
sources' rate is below GitHub's.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import itertools
import json
import random
import sqlite3
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import webhook_load  # noqa: E402
from benchmarks.slash_load import (  # noqa: E402
    HOST,
    MAX_CLIENTS,
    MAX_SECONDS,
    Budget,
    ServerProcess,
    bounded,
    percentile,
    run_clients,
    server_environment,
    wait_healthy,
)
from tests.fakes.fake_slack import FakeSlack  # noqa: E402

API_TOKEN = "bench-api-token"
GITLAB_SECRET = "bench-gitlab-token"
PAGERDUTY_SECRET = "bench-pagerduty-secret"
# Not webhook_load's repositories: one history per repository, as in any real setup.
PROJECTS = ("bench-gitlab/api", "bench-gitlab/web", "bench-gitlab/worker")
REDELIVERY_SHARE = 0.05
REQUEST_TIMEOUT_S = 10.0
START_EPOCH = 1_790_000_000
STEP_SECONDS = 300


@dataclass
class Request:
    kind: str  # api, gitlab, pagerduty
    path: str
    headers: dict[str, str]
    body: bytes
    delivery: str  # the key, delivery id or event id that makes it once


@dataclass
class Result:
    latencies_ms: list[float] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    redeliveries: int = 0


class Mix:
    """The new sources' requests, built on demand; remembers what was acknowledged so a
    redelivery repeats a delivery the server took, and what the database must hold."""

    def __init__(self, run_id: str, seed: int) -> None:
        self.run_id = run_id
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.counter = itertools.count(1)
        self.kinds = itertools.cycle(("api", "gitlab", "pagerduty"))
        self.pushed: dict[str, str] = {}  # project -> its last pushed sha
        self.acknowledged: list[Request] = []
        self.expected: dict[str, set[str]] = {
            "api": set(), "gitlab": set(), "pagerduty": set(),
            "gitlab_deployments": set(), "pagerduty_incidents": set(),
        }  # fmt: skip

    def _time(self, n: int) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(START_EPOCH + n * STEP_SECONDS))

    def _sha(self, n: int) -> str:
        return hashlib.sha1(f"{self.run_id}:{n}".encode()).hexdigest()

    def next(self) -> tuple[Request, bool]:
        with self.lock:
            if self.acknowledged and self.random.random() < REDELIVERY_SHARE:
                return self.random.choice(self.acknowledged), True
            n = next(self.counter)
            kind = next(self.kinds)
            if kind == "api":
                return self._api(n), False
            if kind == "gitlab":
                return self._gitlab(n), False
            return self._pagerduty(n), False

    def _api(self, n: int) -> Request:
        commits = [
            {"sha": self._sha(n * 10 + k), "authored_at": self._time(n - 5 + k)}
            for k in range(self.random.randint(1, 3))
        ]
        key = f"{self.run_id}-run-{n}"
        body = {
            "service": self.random.choice(("api", "web", "worker")),
            "version": f"v{n}",
            "deployed_at": self._time(n),
            "sha": commits[-1]["sha"],
            "repo": "bench/api-service",
            "key": key,
            "commits": commits,
        }
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {API_TOKEN}"}
        return Request("api", "/api/deploys", headers, json.dumps(body).encode(), key)

    def _gitlab(self, n: int) -> Request:
        project = self.random.choice(PROJECTS)
        delivery = f"{self.run_id}-gl-{n}"
        if project not in self.pushed or self.random.random() < 0.5:
            sha = self._sha(n)
            self.pushed[project] = sha
            body: dict[str, Any] = {
                "object_kind": "push",
                "ref": "refs/heads/main",
                "after": sha,
                "project": {"path_with_namespace": project, "default_branch": "main"},
                "commits": [{"id": sha, "timestamp": self._time(n - 3)}],
            }
            event = "Push Hook"
        else:
            sha = self.pushed[project]
            self.expected["gitlab_deployments"].add(str(n))
            body = {
                "object_kind": "deployment",
                "status": "success",
                "status_changed_at": self._time(n),
                "deployment_id": n,
                "environment": "production",
                "short_sha": sha[:8],
                "commit_url": f"https://gitlab.example.com/{project}/-/commit/{sha}",
                "project": {"path_with_namespace": project, "default_branch": "main"},
            }
            event = "Deployment Hook"
        headers = {
            "Content-Type": "application/json",
            "X-Gitlab-Event": event,
            "X-Gitlab-Token": GITLAB_SECRET,
            "X-Gitlab-Event-UUID": delivery,
        }
        return Request("gitlab", "/gitlab/webhook", headers, json.dumps(body).encode(), delivery)

    def _pagerduty(self, n: int) -> Request:
        event_id = f"{self.run_id}-pd-{n}"
        incident = f"P{self.run_id}{n}"
        self.expected["pagerduty_incidents"].add(incident)
        body = json.dumps({
            "event": {
                "id": event_id,
                "event_type": "incident.triggered",
                "resource_type": "incident",
                "occurred_at": self._time(n),
                "data": {
                    "id": incident,
                    "type": "incident",
                    "title": f"Errors on checkout {n}",
                    "created_at": self._time(n),
                    "html_url": f"https://bench.pagerduty.com/incidents/{incident}",
                    "urgency": "high",
                    "priority": None,
                    "service": {"id": "PBENCH1", "summary": "Checkout API"},
                },
            }
        }).encode()  # fmt: skip
        digest = hmac.new(PAGERDUTY_SECRET.encode(), body, hashlib.sha256).hexdigest()
        headers = {"Content-Type": "application/json", "X-PagerDuty-Signature": f"v1={digest}"}
        return Request("pagerduty", "/pagerduty/webhook", headers, body, event_id)

    def acknowledged_once(self, request: Request) -> None:
        with self.lock:
            self.acknowledged.append(request)
            self.expected[request.kind].add(request.delivery)


def client(port: int, mix: Mix, deadline: float, budget: Budget, stop: threading.Event,
           result: Result) -> None:  # fmt: skip
    conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT_S)
    try:
        while not stop.is_set() and time.monotonic() < deadline and budget.take():
            request, redelivery = mix.next()
            started = time.perf_counter()
            try:
                conn.request("POST", request.path, body=request.body, headers=request.headers)
                response = conn.getresponse()
                answer = response.read()
            except (OSError, http.client.HTTPException) as error:
                result.errors.append(f"{type(error).__name__}: {error}")
                conn.close()
                continue
            result.latencies_ms.append((time.perf_counter() - started) * 1000)
            if not 200 <= response.status < 300:
                result.unexpected.append(f"{request.kind} {response.status} {answer[:200]!r}")
            elif redelivery:
                result.redeliveries += 1
            else:
                mix.acknowledged_once(request)
    finally:
        conn.close()


def run_phase(port: int, server: ServerProcess, clients: int, seconds: float,
              work: Callable[[float, Budget, threading.Event, int], None],
              max_requests: int) -> float:  # fmt: skip
    stop = threading.Event()
    budget = Budget(max_requests)
    started = time.monotonic()
    deadline = started + seconds
    run_clients([lambda n=n: work(deadline, budget, stop, n) for n in range(clients)], server, stop)
    return time.monotonic() - started


def count_rows(db_path: Path) -> dict[str, int]:
    conn = sqlite3.connect(db_path)
    try:

        def one(sql: str, *params: Any) -> int:
            return int(conn.execute(sql, params).fetchone()[0])

        return {
            "api": one("SELECT count(*) FROM deploys WHERE source = 'api'"),
            "api_distinct": one(
                "SELECT count(DISTINCT source_key) FROM deploys WHERE source = 'api'"
            ),
            "gitlab": one("SELECT count(*) FROM source_deliveries WHERE source = 'gitlab'"),
            "pagerduty": one("SELECT count(*) FROM source_deliveries WHERE source = 'pagerduty'"),
            "gitlab_deployments": one("SELECT count(*) FROM deploys WHERE source = 'gitlab'"),
            "pagerduty_incidents": one("SELECT count(*) FROM incidents WHERE source = 'pagerduty'"),
        }  # fmt: skip
    finally:
        conn.close()


def stats(latencies: list[float], elapsed: float) -> dict[str, Any]:
    ordered = sorted(latencies)
    return {
        "sent": len(ordered),
        "per_second": round(len(ordered) / elapsed, 1) if elapsed else 0.0,
        "p50_ms": None if not ordered else round(percentile(ordered, 50) or 0, 2),
        "p99_ms": None if not ordered else round(percentile(ordered, 99) or 0, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=bounded(float, 1, MAX_SECONDS), default=20.0)
    parser.add_argument("--clients", type=bounded(int, 1, MAX_CLIENTS), default=16)
    parser.add_argument("--max-requests", type=bounded(int, 1, 2_000_000), default=500_000)
    parser.add_argument(
        "--rounds", type=bounded(int, 1, 100), default=10, help="turns each workload takes"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)

    run_id = uuid.uuid4().hex[:8]
    slack = FakeSlack().start()
    github = webhook_load.Workload(run_id, args.seed)
    mix = Mix(run_id, args.seed)
    github_results = [webhook_load.ClientResult() for _ in range(args.clients)]
    results = [Result() for _ in range(args.clients)]
    with tempfile.TemporaryDirectory(prefix="shipshape-bench-") as tmp:
        workdir = Path(tmp)
        db_path = workdir / "shipshape.db"
        env = server_environment(slack, db_path)
        env.update(
            GITHUB_WEBHOOK_SECRET=webhook_load.SECRET,
            SHIPSHAPE_API_TOKENS=f"old-token,{API_TOKEN}",
            GITLAB_WEBHOOK_SECRET=GITLAB_SECRET,
            PAGERDUTY_WEBHOOK_SECRET=PAGERDUTY_SECRET,
        )
        server = ServerProcess(env, workdir)
        try:
            port = server.wait_for_port()
            wait_healthy(port)
            slice_seconds = args.seconds / args.rounds
            slice_requests = max(1, args.max_requests // args.rounds)
            phases: dict[str, Callable[[float, Budget, threading.Event, int], None]] = {
                "github": lambda deadline, budget, stop, n: webhook_load.client(
                    port, github, deadline, budget, stop, github_results[n]),
                "new_sources": lambda deadline, budget, stop, n: client(
                    port, mix, deadline, budget, stop, results[n]),
            }  # fmt: skip
            elapsed = dict.fromkeys(phases, 0.0)
            for round_number in range(args.rounds):
                order = list(phases) if round_number % 2 == 0 else list(reversed(phases))
                for name in order:
                    elapsed[name] += run_phase(
                        port, server, args.clients, slice_seconds, phases[name], slice_requests
                    )
            github_elapsed, new_elapsed = elapsed["github"], elapsed["new_sources"]
        except BaseException:
            server.stop()
            slack.stop()
            print(server.log(), file=sys.stderr)
            raise
        stop_code, _ = server.stop()
        slack.stop()
        rows = count_rows(db_path)
    github_stats = stats([x for r in github_results for x in r.latencies_ms], github_elapsed)
    new_stats = stats([x for r in results for x in r.latencies_ms], new_elapsed)
    expected = {k: len(v) for k, v in mix.expected.items()}
    report = {
        "seconds": args.seconds,
        "rounds": args.rounds,
        "clients": args.clients,
        "github": github_stats,
        "new_sources": new_stats,
        "ratio_new_to_github": round(new_stats["per_second"] / github_stats["per_second"], 2)
        if github_stats["per_second"]
        else None,
        "expected": expected,
        "rows": rows,
        "doubled_api": rows["api"] - rows["api_distinct"],
        "unexpected": sum(len(r.unexpected) for r in results),
        "unexpected_samples": [x for r in results for x in r.unexpected][:5],
        "transport_errors": sum(len(r.errors) for r in results)
        + sum(len(r.errors) for r in github_results),
        "redeliveries": sum(r.redeliveries for r in results),
        "server_exit_code": stop_code,
    }
    ok = (
        report["unexpected"] == 0
        and report["transport_errors"] == 0
        and report["doubled_api"] == 0
        and all(rows[k] == v for k, v in expected.items())
        and (report["ratio_new_to_github"] or 0) >= 1.0
        and stop_code == 0
    )
    report["passed"] = ok
    if args.json:
        print(json.dumps(report))
    else:
        for name, value in report.items():
            print(f"{name:<22} {value}")
        print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
