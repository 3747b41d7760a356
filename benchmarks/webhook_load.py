"""Load test: concurrent signed GitHub deliveries against the real `shipshape serve`.

Run:  uv run python benchmarks/webhook_load.py [--seconds 30] [--clients 16] [--json]

It runs `shipshape serve` as benchmarks/slash_load.py does (a subprocess in HTTP mode on a
free loopback port, a fresh SQLite file, the loopback fake of Slack), with
GITHUB_WEBHOOK_SECRET set, and has N client threads post signed deliveries to
/github/webhook over keep-alive connections for S seconds. The mix is built from GitHub's
own payload examples (tests/fakes/github_payloads), changing only ids, shas, times, state
and the repository name:
  - ~40% push to the default branch of one of a few repositories, with 1-5 new commits;
  - ~60% deployment_status, success or failure, mostly of a new deployment of the latest
    pushed commit, sometimes a later status of a recent deployment;
  - ~5% deliberate redeliveries of an earlier delivery (same id, same body).
It reports deliveries per second and the time to the HTTP response (GitHub gives up after
10 seconds), then checks the database after a clean SIGTERM: one github_deliveries row per
distinct delivery id, one deploy per distinct deployment id, one change per distinct sha,
and a duplicate answer for every redelivery: nothing lost, nothing doubled.

Everything stays on 127.0.0.1, the run is bounded in time and in request count, and the
server is stopped with SIGTERM at the end. Exit status 1 when any delivery failed, a row
count does not match, or the target was missed.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import itertools
import json
import os
import random
import resource
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# benchmarks/ is not a package and tests/ is not installed; running this file puts
# benchmarks/ (not the project root) on sys.path, so add the root explicitly.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

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

PAYLOADS = Path(__file__).resolve().parent.parent / "tests" / "fakes" / "github_payloads"
SECRET = "bench-webhook-secret"
REPOS = ("bench/api", "bench/web", "bench/worker", "bench/billing")
PUSH_SHARE = 0.40
REDELIVERY_SHARE = 0.05
LATER_STATUS_SHARE = 0.25  # of deployment statuses: a new status of a recent deployment
FAILURE_SHARE = 0.15  # of deployment statuses
TARGET_PER_SECOND = 1000.0
REQUEST_TIMEOUT_S = 10.0  # GitHub's own delivery timeout
START_EPOCH = 1_790_000_000  # 2026-09-21: the history's first payload time
# Payload times advance this much per delivery, so a 30 s run at the target rate writes
# about three months of history: a busy organisation, with a few deploys an hour. (The
# storage layer refreshes a per-hour rollup on every write; packing thousands of deploys
# into one hour would measure a history no team has.)
STEP_SECONDS = 300


@dataclass
class Sent:
    """One delivery as sent, kept so it can be redelivered byte for byte."""

    event: str
    delivery: str
    body: bytes


@dataclass
class ClientResult:
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    refusals: list[str] = field(default_factory=list)  # unexpected answers
    errors: list[str] = field(default_factory=list)  # timeouts, resets
    redeliveries: int = 0
    duplicates: int = 0  # redeliveries answered {"duplicate": true}


class Workload:
    """The deliveries, built on demand from GitHub's examples. Shared by the clients: it
    remembers what was pushed and deployed so deployments name real commits, and what was
    answered so a redelivery repeats a delivery the server already took."""

    def __init__(self, run_id: str, seed: int) -> None:
        self.run_id = run_id
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.push_template = self._load("push/with-new-branch.payload.json")
        self.status_template = self._load("deployment_status/payload.json")
        self.counter = itertools.count(1)
        self.pushed: dict[str, list[str]] = {repo: [] for repo in REPOS}
        self.deployments: dict[str, list[int]] = {repo: [] for repo in REPOS}
        self.status_sha: dict[int, str] = {}  # deployment id -> the sha it deploys
        self.answered: list[Sent] = []
        # What the database must hold at the end, by construction.
        self.delivery_ids: set[str] = set()
        self.deployment_ids: set[int] = set()
        self.shas: set[str] = set()

    @staticmethod
    def _load(name: str) -> dict[str, Any]:
        return json.loads((PAYLOADS / name).read_text())

    def _time(self, n: int) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(START_EPOCH + n * STEP_SECONDS))

    def _sha(self, n: int) -> str:
        return hashlib.sha1(f"{self.run_id}:{n}".encode()).hexdigest()

    def next(self) -> tuple[Sent, bool]:
        """The next delivery and whether it is a redelivery."""
        with self.lock:
            if self.answered and self.random.random() < REDELIVERY_SHARE:
                return self.random.choice(self.answered), True
            n = next(self.counter)
            repo = self.random.choice(REPOS)
            if self.random.random() < PUSH_SHARE or not self.pushed[repo]:
                event, payload = "push", self._push(n, repo)
            else:
                event, payload = "deployment_status", self._status(n, repo)
            delivery = f"{self.run_id}-{n}"
            self.delivery_ids.add(delivery)
        return Sent(event, delivery, json.dumps(payload).encode()), False

    def _repository(self, payload: dict[str, Any], repo: str) -> dict[str, Any]:
        # A shallow copy per level changed: the template is shared and never modified.
        return {**payload["repository"], "full_name": repo, "name": repo.split("/")[1]}

    def _push(self, n: int, repo: str) -> dict[str, Any]:
        template = self.push_template["commits"][0]
        commits = []
        for k in range(self.random.randint(1, 5)):
            sha = self._sha(n * 10 + k)
            commits.append({**template, "id": sha, "timestamp": self._time(n - 10 + k)})
            self.shas.add(sha)
            self.pushed[repo].append(sha)
        return {
            **self.push_template,
            "repository": self._repository(self.push_template, repo),
            "commits": commits,
            "head_commit": commits[-1],
            "after": commits[-1]["id"],
        }

    def _status(self, n: int, repo: str) -> dict[str, Any]:
        recent = self.deployments[repo][-5:]
        if recent and self.random.random() < LATER_STATUS_SHARE:
            deployment_id = self.random.choice(recent)
            sha = self.status_sha[deployment_id]
        else:
            deployment_id = n
            sha = self.pushed[repo][-1]
            self.deployments[repo].append(deployment_id)
            self.status_sha[deployment_id] = sha
            self.deployment_ids.add(deployment_id)
        state = "failure" if self.random.random() < FAILURE_SHARE else "success"
        at = self._time(n)
        template = self.status_template
        return {
            **template,
            "repository": self._repository(template, repo),
            "deployment": {**template["deployment"], "id": deployment_id, "sha": sha},
            "deployment_status": {
                **template["deployment_status"],
                "id": n,
                "state": state,
                "created_at": at,
                "updated_at": at,
            },
        }

    def remember(self, sent: Sent) -> None:
        with self.lock:
            self.answered.append(sent)


def client(
    port: int,
    workload: Workload,
    deadline: float,
    budget: Budget,
    stop: threading.Event,
    result: ClientResult,
) -> None:
    conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT_S)
    secret = SECRET.encode()
    try:
        while not stop.is_set() and time.monotonic() < deadline and budget.take():
            sent, redelivery = workload.next()
            headers = {
                "Content-Type": "application/json",
                "X-GitHub-Event": sent.event,
                "X-GitHub-Delivery": sent.delivery,
                "X-Hub-Signature-256": "sha256="
                + hmac.new(secret, sent.body, hashlib.sha256).hexdigest(),
            }
            started = time.perf_counter()
            try:
                conn.request("POST", "/github/webhook", body=sent.body, headers=headers)
                response = conn.getresponse()
                answer = response.read()
            except (OSError, http.client.HTTPException) as error:
                result.errors.append(f"{type(error).__name__}: {error}")
                conn.close()
                continue
            result.latencies_ms.append((time.perf_counter() - started) * 1000)
            result.statuses[response.status] = result.statuses.get(response.status, 0) + 1
            body = json.loads(answer) if response.status == 200 else None
            if redelivery:
                result.redeliveries += 1
                result.duplicates += body == {"duplicate": True}
            elif body is not None and body.get("ok") is True:
                workload.remember(sent)
            else:
                result.refusals.append(f"{response.status} {answer[:200].decode(errors='replace')}")
    finally:
        conn.close()


def run_load(
    port: int, workload: Workload, seconds: float, clients: int, max_requests: int,
    server: ServerProcess,
) -> tuple[list[ClientResult], float]:  # fmt: skip
    results = [ClientResult() for _ in range(clients)]
    stop = threading.Event()
    budget = Budget(max_requests)
    started = time.monotonic()
    deadline = started + seconds
    run_clients(
        [
            lambda n=n: client(port, workload, deadline, budget, stop, results[n])
            for n in range(clients)
        ],
        server,
        stop,
    )
    return results, time.monotonic() - started


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) a live process has used so far, from /proc; None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    """CPU time of this process and its finished children (the client processes)."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def count_rows(db_path: Path) -> dict[str, int]:
    conn = sqlite3.connect(db_path)
    try:
        return {
            "deliveries": conn.execute("SELECT count(*) FROM github_deliveries").fetchone()[0],
            "distinct_deliveries": conn.execute(
                "SELECT count(DISTINCT delivery_id) FROM github_deliveries"
            ).fetchone()[0],
            "deploys": conn.execute("SELECT count(*) FROM deploys").fetchone()[0],
            "distinct_deploys": conn.execute(
                "SELECT count(DISTINCT source_key) FROM deploys WHERE source = 'github'"
            ).fetchone()[0],
            "changes": conn.execute("SELECT count(*) FROM changes").fetchone()[0],
            "distinct_changes": conn.execute(
                "SELECT count(DISTINCT repo || sha) FROM changes"
            ).fetchone()[0],
            "shipped_changes": conn.execute(
                "SELECT count(*) FROM changes WHERE deploy_id IS NOT NULL"
            ).fetchone()[0],
        }
    finally:
        conn.close()


def summarise(
    results: list[ClientResult],
    elapsed: float,
    workload: Workload,
    rows: dict[str, int],
    stop_code: int | None,
    args: argparse.Namespace,
    cpu: dict[str, float | None],
) -> dict[str, Any]:
    latencies = sorted(x for r in results for x in r.latencies_ms)
    statuses: dict[int, int] = {}
    for r in results:
        for status, n in r.statuses.items():
            statuses[status] = statuses.get(status, 0) + n
    redeliveries = sum(r.redeliveries for r in results)
    per_second = len(latencies) / elapsed if elapsed else 0.0
    expected = {
        "deliveries": len(workload.delivery_ids),
        "deploys": len(workload.deployment_ids),
        "changes": len(workload.shas),
    }
    return {
        "seconds": args.seconds,
        "clients": args.clients,
        "elapsed_seconds": round(elapsed, 3),
        "deliveries_sent": len(latencies),
        "deliveries_per_second": round(per_second, 1),
        "target_per_second": TARGET_PER_SECOND,
        "target_met": per_second >= TARGET_PER_SECOND,
        "latency_ms": {
            name: None if value is None else round(value, 2)
            for name, value in (
                ("p50", percentile(latencies, 50)),
                ("p90", percentile(latencies, 90)),
                ("p99", percentile(latencies, 99)),
                ("max", latencies[-1] if latencies else None),
                ("mean", statistics.fmean(latencies) if latencies else None),
            )
        },
        # CPU seconds per wall second during the load (1.0 = one core busy); this machine's
        # cores are shared by the server and the clients.
        "cpu_cores_busy": {
            name: None if used is None or not elapsed else round(used / elapsed, 2)
            for name, used in cpu.items()
        },
        "status_counts": {str(k): v for k, v in sorted(statuses.items())},
        "unexpected_answers": sum(len(r.refusals) for r in results),
        "unexpected_samples": [x for r in results for x in r.refusals][:5],
        "transport_errors": sum(len(r.errors) for r in results),
        "transport_error_samples": [x for r in results for x in r.errors][:5],
        "redeliveries": redeliveries,
        "redeliveries_answered_duplicate": sum(r.duplicates for r in results),
        "expected": expected,
        "rows": rows,
        "lost": {k: max(0, expected[k] - rows[k]) for k in expected},
        "doubled": {
            "deliveries": rows["deliveries"] - rows["distinct_deliveries"],
            "deploys": rows["deploys"] - rows["distinct_deploys"],
            "changes": rows["changes"] - rows["distinct_changes"],
        },
        "server_exit_code": stop_code,
    }


def passed(report: dict[str, Any]) -> bool:
    return (
        report["deliveries_sent"] > 0
        and report["unexpected_answers"] == 0
        and report["transport_errors"] == 0
        and report["redeliveries"] == report["redeliveries_answered_duplicate"]
        and all(report["rows"][k] == v for k, v in report["expected"].items())
        and not any(report["doubled"].values())
        and report["target_met"]
        and report["server_exit_code"] == 0
    )


def print_table(report: dict[str, Any]) -> None:
    lat, rows, expected = report["latency_ms"], report["rows"], report["expected"]

    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f} ms"

    def stored(name: str) -> str:
        match = "equal" if rows[name] == expected[name] else "DIFFERENT"
        return f"{rows[name]} / {expected[name]}  ({match}, doubled {report['doubled'][name]})"

    lines = [
        ("clients x seconds", f"{report['clients']} x {report['seconds']:g} s"),
        ("deliveries sent", str(report["deliveries_sent"])),
        ("deliveries/s", f"{report['deliveries_per_second']}  (target >= "
         f"{report['target_per_second']:g}: " + ("met" if report["target_met"] else "NOT met")
         + ")"),
        ("latency p50", ms(lat["p50"])),
        ("latency p90", ms(lat["p90"])),
        ("latency p99", ms(lat["p99"])),
        ("latency max", ms(lat["max"])),
        ("CPU cores busy", f"server {report['cpu_cores_busy']['server']}, "
         f"clients {report['cpu_cores_busy']['client']}  (of {os.cpu_count()})"),
        ("HTTP statuses", str(report["status_counts"])),
        ("unexpected answers", str(report["unexpected_answers"])),
        ("transport errors", str(report["transport_errors"])),
        ("redeliveries / duplicate", f"{report['redeliveries']} / "
         f"{report['redeliveries_answered_duplicate']}"),
        ("delivery rows / distinct ids", stored("deliveries")),
        ("deploy rows / deployment ids", stored("deploys")),
        ("change rows / distinct shas", stored("changes")),
        ("changes shipped", str(rows["shipped_changes"])),
        ("server stop (SIGTERM)", f"exit {report['server_exit_code']}"),
    ]  # fmt: skip
    width = max(len(name) for name, _ in lines)
    for name, value in lines:
        print(f"{name:<{width}}  {value}")
    for sample in report["unexpected_samples"] + report["transport_error_samples"]:
        print(f"  {sample}")
    print("PASS" if passed(report) else "FAIL")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=bounded(float, 1, MAX_SECONDS), default=30.0)
    parser.add_argument("--clients", type=bounded(int, 1, MAX_CLIENTS), default=16)
    parser.add_argument(
        "--max-requests",
        type=bounded(int, 1, 2_000_000),
        default=500_000,
        help="stop after this many deliveries even before --seconds is up",
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the delivery mix")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)

    slack = FakeSlack().start()  # serve checks its bot token at start-up; no posts follow
    workload = Workload(uuid.uuid4().hex[:8], args.seed)
    with tempfile.TemporaryDirectory(prefix="shipshape-bench-") as tmp:
        workdir = Path(tmp)
        db_path = workdir / "shipshape.db"
        env = server_environment(slack, db_path)
        env["GITHUB_WEBHOOK_SECRET"] = SECRET
        server = ServerProcess(env, workdir)
        try:
            port = server.wait_for_port()
            wait_healthy(port)
            server_cpu, client_cpu = cpu_seconds(server.proc.pid), own_cpu_seconds()
            results, elapsed = run_load(
                port, workload, args.seconds, args.clients, args.max_requests, server
            )
            server_after = cpu_seconds(server.proc.pid)
            cpu = {
                "server": None
                if server_cpu is None or server_after is None
                else server_after - server_cpu,
                "client": own_cpu_seconds() - client_cpu,
            }
        except BaseException:
            server.stop()
            slack.stop()
            print(server.log(), file=sys.stderr)
            raise
        # Stop first, so the rows counted below are final.
        stop_code, _ = server.stop()
        slack.stop()
        rows = count_rows(db_path)
        report = summarise(results, elapsed, workload, rows, stop_code, args, cpu)
    if args.json:
        print(json.dumps(report))
    else:
        print_table(report)
    return 0 if passed(report) else 1


if __name__ == "__main__":
    sys.exit(main())
