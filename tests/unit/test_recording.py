"""bot.recording, the one write path, on one SQLite file with a FixedClock and no Slack:
idempotency by source key, rollback checks, incident auto-link, resolve and link, undo,
shipping, and the same facts giving the same rows whichever source tells them (the GitHub
webhook, the GitHub sync, the /deploy command). Also: no SQL outside storage/."""

from __future__ import annotations

import copy
import io
import json
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pendulum
import pytest

from bot.config import Config
from bot.core.clock import FixedClock
from bot.core.errors import Conflict, Invalid, NotAllowed, NotFound, Reason
from bot.core.moments import utc_text
from bot.deps import Deps
from bot.recording import changes, deploys, incidents
from bot.recording.deploys import PREVIOUS, DeployFacts, Source
from bot.recording.incidents import AUTO, IncidentFacts
from bot.sources.github import sync as github_sync
from bot.sources.github.webhook import GitHubWebhook, signature
from commands import deploy as deploy_command
from storage.db import Store
from storage.shipping import Commit
from tests.fakes.fake_github import TOKEN, FakeGitHub, sha_of

NOW = "2026-11-24T12:00:00Z"
PRODUCTION = ("production", "prod")
ROOT = Path(__file__).resolve().parents[2]
PAYLOADS = Path(__file__).parents[1] / "fakes" / "github_payloads"
SECRET = "recording-secret"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(tmp_path / "recording.db")
    store.migrate()
    yield store
    store.close()


def facts(at: str, **values: Any) -> DeployFacts:
    return DeployFacts(
        **{
            "service": "api",
            "environment": "production",
            "version": None,
            "sha": None,
            "repo": None,
            "status": "success",
            "deployed_at": at,
            "url": None,
            **values,
        }
    )


def count(store: Store, table: str) -> int:
    return store.db.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def record(
    store: Store, at: str, key: str, rollback: deploys.Rollback = None, **values: Any
) -> deploys.Recorded:
    with store.write() as db:
        return deploys.record(
            db, facts(at, **values), Source("slack", key, "C1"), PRODUCTION, NOW, rollback
        )


# ---- idempotency ----------------------------------------------------------------------------


def test_a_request_seen_before_changes_nothing(store: Store) -> None:
    first = record(store, "2026-11-24T10:00:00Z", "T1:C1:trigger")
    again = record(store, "2026-11-24T11:00:00Z", "T1:C1:trigger", version="v9")
    assert first.created and not again.created
    assert again.deploy == first.deploy
    assert count(store, "deploys") == 1


def test_the_same_key_from_another_source_is_another_deploy(store: Store) -> None:
    record(store, "2026-11-24T10:00:00Z", "k")
    with store.write() as db:
        other = deploys.record(
            db, facts("2026-11-24T10:00:00Z"), Source("import", "k"), PRODUCTION, NOW
        )
    assert other.created
    assert count(store, "deploys") == 2


def test_a_later_report_of_the_same_key_replaces_its_facts(store: Store) -> None:
    source = Source("github", "release:1")
    with store.write() as db:
        first = deploys.record_latest(
            db, facts("2026-11-24T10:00:00Z", status="failed"), source, PRODUCTION, NOW
        )
        later = deploys.record_latest(db, facts("2026-11-24T10:05:00Z"), source, PRODUCTION, NOW)
    assert first.created and not later.created
    assert later.deploy.id == first.deploy.id
    assert (later.deploy.status, later.deploy.deployed_at) == ("success", "2026-11-24T10:05:00Z")
    assert count(store, "deploys") == 1


def test_a_github_deployment_keeps_its_latest_status_whatever_the_order(store: Store) -> None:
    github = {"repo": "acme/api", "sha": "a" * 40}
    with store.write() as db:
        newer = deploys.record_github_status(
            db, 5, 20, facts("2026-11-24T10:10:00Z", **github), PRODUCTION, NOW
        )
        older = deploys.record_github_status(
            db, 5, 10, facts("2026-11-24T10:00:00Z", status="failed", **github), PRODUCTION, NOW
        )
        redelivered = deploys.record_github_status(
            db, 5, 20, facts("2026-11-24T10:10:00Z", **github), PRODUCTION, NOW
        )
    assert newer is not None and newer.created
    assert older is None and redelivered is None
    row = store.db.conn.execute("SELECT status, source_key FROM deploys").fetchall()
    assert [tuple(r) for r in row] == [("success", "deployment:5")]


# ---- rollbacks --------------------------------------------------------------------------------


def test_a_bare_rollback_undoes_the_previous_success_counting_every_production_name(
    store: Store,
) -> None:
    target = record(store, "2026-11-24T09:00:00Z", "a", environment="prod").deploy
    record(store, "2026-11-24T09:30:00Z", "b", status="failed")
    record(store, "2026-11-24T09:40:00Z", "c", environment="staging")
    record(store, "2026-11-24T09:50:00Z", "d", service="web")
    back = record(store, "2026-11-24T10:00:00Z", "e", PREVIOUS)
    assert back.rolled_back == target
    assert back.deploy.rollback_of == target.id


@pytest.mark.parametrize(
    ("target_values", "reason"),
    [
        ({"service": "web"}, Reason.OTHER_SERVICE),
        ({"environment": "staging"}, Reason.OTHER_ENVIRONMENT),
        ({"status": "failed"}, Reason.FAILED_ATTEMPT),
        ({"at": "2026-11-24T11:00:00Z"}, Reason.FINISHED_LATER),
    ],
)
def test_a_rollback_of_the_wrong_deploy_is_refused_and_stores_nothing(
    store: Store, target_values: dict[str, str], reason: Reason
) -> None:
    at = target_values.pop("at", "2026-11-24T09:00:00Z")
    target = record(store, at, "target", **target_values).deploy
    with pytest.raises(Conflict) as refused:
        record(store, "2026-11-24T10:00:00Z", "rollback", target.id)
    assert (refused.value.reason, refused.value.field, refused.value.record) == (
        reason,
        "rollback",
        target,
    )
    assert count(store, "deploys") == 1


def test_a_rollback_of_a_deploy_of_prod_is_one_of_production(store: Store) -> None:
    target = record(store, "2026-11-24T09:00:00Z", "a", environment="prod").deploy
    assert record(store, "2026-11-24T10:00:00Z", "b", target.id).rolled_back == target


def test_a_rollback_with_nothing_to_undo_names_what_is_missing(store: Store) -> None:
    with pytest.raises(NotFound) as missing:
        record(store, "2026-11-24T10:00:00Z", "a", 41)
    assert (missing.value.kind, missing.value.id, missing.value.field) == ("deploy", 41, "rollback")
    with pytest.raises(Invalid) as nothing:
        record(store, "2026-11-24T10:00:00Z", "b", PREVIOUS)
    assert (nothing.value.field, nothing.value.reason) == ("rollback", Reason.NO_PREVIOUS_DEPLOY)
    assert count(store, "deploys") == 0


# ---- incidents ----------------------------------------------------------------------------------


def open_incident(
    store: Store, started: str, key: str = "i1", cause: incidents.Cause = AUTO
) -> incidents.Opened:
    with store.write() as db:
        return incidents.open_incident(
            db, IncidentFacts("api", "Errors", 2, started, cause), "slack", key, PRODUCTION, NOW
        )


def test_an_incident_links_the_latest_production_success_finished_by_its_start(
    store: Store,
) -> None:
    record(store, "2026-11-24T08:00:00Z", "old")
    cause = record(store, "2026-11-24T09:00:00Z", "cause", environment="prod").deploy
    record(store, "2026-11-24T09:30:00Z", "failed", status="failed")
    record(store, "2026-11-24T09:40:00Z", "staging", environment="staging")
    record(store, "2026-11-24T09:45:00Z", "web", service="web")
    record(store, "2026-11-24T10:00:01Z", "later")
    opened = open_incident(store, "2026-11-24T10:00:00Z")
    assert opened.deploy == cause
    assert (opened.incident.deploy_id, opened.incident.cause) == (cause.id, "deploy")
    again = open_incident(store, "2026-11-24T11:00:00Z")
    assert not again.created and again.incident == opened.incident


def test_an_incident_without_a_deploy_before_it_has_an_unknown_cause(store: Store) -> None:
    record(store, "2026-11-24T10:00:01Z", "later")
    opened = open_incident(store, "2026-11-24T10:00:00Z")
    assert (opened.incident.deploy_id, opened.incident.cause) == (None, "unknown")


def test_deploy_none_and_deploy_id_are_taken_as_said_and_checked(store: Store) -> None:
    named = record(store, "2026-11-24T08:00:00Z", "named").deploy
    failed = record(store, "2026-11-24T09:00:00Z", "failed", status="failed").deploy
    assert open_incident(store, "2026-11-24T10:00:00Z", "none", None).incident.cause == "none"
    linked = open_incident(store, "2026-11-24T10:00:00Z", "named", named.id).incident
    assert (linked.deploy_id, linked.cause) == (named.id, "deploy")
    with pytest.raises(Conflict) as refused:
        open_incident(store, "2026-11-24T10:00:00Z", "failed", failed.id)
    assert (refused.value.reason, refused.value.field) == (Reason.FAILED_ATTEMPT, "deploy")
    with pytest.raises(NotFound):
        open_incident(store, "2026-11-24T10:00:00Z", "missing", 99)
    assert count(store, "incidents") == 2


def test_resolve_reopen_and_link(store: Store) -> None:
    cause = record(store, "2026-11-24T08:00:00Z", "cause").deploy
    incident = open_incident(store, "2026-11-24T10:00:00Z", cause=None).incident
    with store.write() as db:
        with pytest.raises(Conflict) as early:
            incidents.resolve(db, incident.id, "2026-11-24T09:00:00Z")
        assert (early.value.reason, early.value.field) == (Reason.RESOLVED_BEFORE_START, "at")
        resolved = incidents.resolve(db, incident.id, "2026-11-24T11:00:00Z")
        assert resolved.resolved_at == "2026-11-24T11:00:00Z"
        with pytest.raises(Conflict) as twice:
            incidents.resolve(db, incident.id, "2026-11-24T12:00:00Z")
        assert twice.value.reason == Reason.ALREADY_RESOLVED
        assert incidents.reopen(db, resolved) and not incidents.reopen(
            db, incidents.existing(db, 1)
        )
        # Closed elsewhere with a clock behind ours: resolved at its start, never before.
        assert incidents.closed(db, incidents.existing(db, 1), "2026-11-24T09:00:00Z")
        assert incidents.existing(db, 1).resolved_at == "2026-11-24T10:00:00Z"
        linked = incidents.link(db, incident.id, cause.id)
        assert (linked.deploy_id, linked.cause) == (cause.id, "deploy")
        unlinked = incidents.link(db, incident.id, None)
        assert (unlinked.deploy_id, unlinked.cause) == (None, "none")
        with pytest.raises(NotFound) as missing:
            incidents.link(db, 77, None)
        assert (missing.value.kind, missing.value.id) == ("incident", 77)


# ---- undo -----------------------------------------------------------------------------------


def undo(store: Store, clock: FixedClock, deploy_id: int, channel: str, admin: bool) -> Any:
    asked: list[bool] = []

    def is_admin() -> bool:
        asked.append(True)
        return admin

    done = deploys.undo(store, deploy_id, channel, PRODUCTION, utc_text(clock.now()), is_admin)
    return done, bool(asked)


def test_undo_within_a_day_in_its_channel_unlinks_what_it_caused(
    store: Store, clock: FixedClock
) -> None:
    target = record(store, "2026-11-24T09:00:00Z", "target").deploy
    deploy = record(store, "2026-11-24T10:00:00Z", "d", target.id).deploy
    back = record(store, "2026-11-24T10:30:00Z", "back", deploy.id).deploy
    first = open_incident(store, "2026-11-24T10:10:00Z", "first").incident
    second = open_incident(store, "2026-11-24T10:20:00Z", "second").incident
    assert first.deploy_id == second.deploy_id == deploy.id
    clock.advance(hours=23)
    done, asked_admin = undo(store, clock, deploy.id, "C1", admin=False)
    assert not asked_admin
    assert (done.deploy, done.unlinked, done.rollbacks) == (
        deploy,
        [first.id, second.id],
        [back.id],
    )
    rows = store.db.conn.execute("SELECT deploy_id, cause FROM incidents ORDER BY id").fetchall()
    assert [tuple(r) for r in rows] == [(None, "unknown"), (None, "unknown")]
    assert (
        store.db.conn.execute(
            "SELECT rollback_of FROM deploys WHERE id = ?", (back.id,)
        ).fetchone()[0]
        is None
    )
    assert count(store, "deploys") == 2


def test_undo_later_or_elsewhere_is_for_admins_only(store: Store, clock: FixedClock) -> None:
    deploy = record(store, "2026-11-24T10:00:00Z", "d").deploy
    with pytest.raises(NotAllowed) as other_channel:
        undo(store, clock, deploy.id, "C2", admin=False)
    assert (other_channel.value.reason, other_channel.value.record) == (
        Reason.UNDO_NOT_ALLOWED,
        deploy,
    )
    clock.advance(hours=24, seconds=1)
    with pytest.raises(NotAllowed):
        undo(store, clock, deploy.id, "C1", admin=False)
    assert count(store, "deploys") == 1
    done, asked_admin = undo(store, clock, deploy.id, "C1", admin=True)
    assert asked_admin and done.deploy == deploy
    with pytest.raises(NotFound):
        undo(store, clock, deploy.id, "C1", admin=True)


# ---- shipping -------------------------------------------------------------------------------


def commits(*names: str) -> list[Commit]:
    return [Commit(sha_of(n), f"2026-11-24T0{i}:00:00Z") for i, n in enumerate(names)]


def shipped_by(store: Store) -> list[tuple[str, int | None]]:
    rows = store.db.conn.execute("SELECT sha, deploy_id FROM changes ORDER BY id").fetchall()
    return [(r[0], r[1]) for r in rows]


def test_a_production_success_ships_the_commits_up_to_its_sha(store: Store) -> None:
    with store.write() as db:
        assert (
            changes.pushed(db, "acme/api", commits("a", "b", "c"), PRODUCTION, "github", NOW) == 3
        )
    first = record(store, "2026-11-24T09:00:00Z", "1", repo="acme/api", sha=sha_of("b"))
    record(
        store, "2026-11-24T09:10:00Z", "s", repo="acme/api", sha=sha_of("c"), environment="staging"
    )
    assert not first.needs_commits
    assert shipped_by(store) == [(sha_of("a"), 1), (sha_of("b"), 1), (sha_of("c"), None)]
    unknown = record(store, "2026-11-24T10:00:00Z", "2", repo="acme/api", sha=sha_of("d"))
    assert unknown.needs_commits
    with store.write() as db:
        changes.pushed(db, "acme/api", commits("d"), PRODUCTION, "github", NOW)
    assert shipped_by(store)[2:] == [(sha_of("c"), 3), (sha_of("d"), 3)]


def test_undo_hands_its_changes_to_the_next_deploy_that_shipped_them(
    store: Store, clock: FixedClock
) -> None:
    with store.write() as db:
        changes.pushed(db, "acme/api", commits("a", "b"), PRODUCTION, "github", NOW)
    first = record(store, "2026-11-24T09:00:00Z", "1", repo="acme/api", sha=sha_of("a")).deploy
    second = record(store, "2026-11-24T10:00:00Z", "2", repo="acme/api", sha=sha_of("b")).deploy
    assert shipped_by(store) == [(sha_of("a"), first.id), (sha_of("b"), second.id)]
    undo(store, clock, first.id, "C1", admin=False)
    assert shipped_by(store) == [(sha_of("a"), second.id), (sha_of("b"), second.id)]


def test_a_failed_report_replaced_by_a_success_ships_and_back(store: Store) -> None:
    with store.write() as db:
        changes.pushed(db, "acme/api", commits("a"), PRODUCTION, "github", NOW)
    source = Source("github", "workflow_run:1")
    shipped = facts("2026-11-24T09:00:00Z", repo="acme/api", sha=sha_of("a"))
    with store.write() as db:
        deploys.record_latest(db, shipped, source, PRODUCTION, NOW)
    assert shipped_by(store) == [(sha_of("a"), 1)]
    with store.write() as db:
        failed = facts("2026-11-24T09:00:00Z", repo="acme/api", sha=sha_of("a"), status="failed")
        deploys.record_latest(db, failed, source, PRODUCTION, NOW)
    assert shipped_by(store) == [(sha_of("a"), None)]


# ---- one fact, three sources ------------------------------------------------------------------

FACT_COLUMNS = ("service", "environment", "version", "sha", "repo", "status", "deployed_at", "url")


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    server = FakeGitHub(repo="acme/app").start()
    yield server
    server.stop()


def make_deps(path: Path, fake: FakeGitHub, clock: FixedClock) -> Deps:
    config = Config(
        github_token=TOKEN,
        github_api_url=fake.url,
        github_webhook_secret=SECRET,
        db_path=str(path),
        production_environments=PRODUCTION,
    )
    store = Store(config.db_path)
    store.migrate()
    return Deps(config=config, store=store, clock=clock)


def deliver(deps: Deps, event: str, payload: dict[str, Any]) -> int:
    """A signed delivery straight into the webhook's WSGI app; returns the HTTP status."""
    body = json.dumps(payload).encode()
    environ = {
        "REQUEST_METHOD": "POST",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "HTTP_X_GITHUB_EVENT": event,
        "HTTP_X_GITHUB_DELIVERY": f"delivery-{event}-{len(body)}",
        "HTTP_X_HUB_SIGNATURE_256": signature(SECRET, body),
    }
    statuses: list[str] = []
    with ThreadPoolExecutor(max_workers=1) as executor:
        GitHubWebhook(deps, executor)(environ, lambda status, headers: statuses.append(status))
    return int(statuses[0].split()[0])


def rows(deps: Deps, table: str) -> list[dict[str, Any]]:
    return [dict(r) for r in deps.store.db.conn.execute(f"SELECT * FROM {table} ORDER BY id")]


def test_the_webhook_the_sync_and_the_command_record_the_same_rows(
    tmp_path: Path, fake: FakeGitHub, clock: FixedClock
) -> None:
    sha = fake.commit("a1", "2026-11-20T08:00:00Z")
    at = "2026-11-20T10:00:00Z"
    deployment = fake.deployment(
        301, sha, "2026-11-20T09:50:00Z", ("success", at), environment="production"
    )
    status = deployment.statuses[0]

    synced = make_deps(tmp_path / "sync.db", fake, clock)
    github_sync.sync(synced, "acme/app", since=pendulum.parse("2026-11-19T00:00:00Z"))

    hooked = make_deps(tmp_path / "hook.db", fake, clock)
    push = copy.deepcopy(json.loads((PAYLOADS / "push/with-new-branch.payload.json").read_text()))
    push["repository"].update(full_name="acme/app", name="app")
    commit = {**push["commits"][0], "id": sha, "timestamp": "2026-11-20T08:00:00Z"}
    push.update(commits=[commit], head_commit=commit, after=sha)
    assert deliver(hooked, "push", push) == 200
    hook = json.loads((PAYLOADS / "deployment_status/payload.json").read_text())
    hook["repository"].update(full_name="acme/app", name="app", default_branch="main")
    hook["deployment"].update(id=301, sha=sha, ref="main", environment="production")
    hook["deployment_status"].update(
        id=status.id,
        state="success",
        created_at=at,
        environment="production",
        target_url=f"https://ci.example.com/deploy/{deployment.id}",
    )
    assert deliver(hooked, "deployment_status", hook) == 200

    typed = make_deps(tmp_path / "slack.db", fake, clock)
    with typed.store.write() as db:
        changes.pushed(
            db, "acme/app", [Commit(sha, "2026-11-20T08:00:00Z")], PRODUCTION, "github", NOW
        )
    new = deploy_command.parse(
        f"app {sha[:7]} sha={sha} repo=acme/app at=2026-11-20T10:00:00Z "
        f"url=https://ci.example.com/deploy/{deployment.id}",
        "UTC",
        clock.now(),
    )
    assert isinstance(new, deploy_command.NewDeploy)
    deploy_command.record(typed, new, "T1:C1:trigger", "C1")

    try:
        from_sync, from_hook, from_slack = (rows(d, "deploys") for d in (synced, hooked, typed))
        assert from_sync == from_hook  # the same source key, the same row
        assert len(from_slack) == 1
        assert {c: from_slack[0][c] for c in FACT_COLUMNS} == {
            c: from_sync[0][c] for c in FACT_COLUMNS
        }
        for d in (synced, hooked, typed):
            assert [(c["sha"], c["deploy_id"]) for c in rows(d, "changes")] == [(sha, 1)]
    finally:
        for d in (synced, hooked, typed):
            d.store.close()


# ---- the rule that keeps it so --------------------------------------------------------------

# SQL is written in capitals here; prose ("insert or update") is not.
SQL = re.compile(r"\bINSERT INTO\b|\bUPDATE \w+ SET\b|\bDELETE FROM\b|\bSELECT\b.*\bFROM\b")


def test_no_module_outside_storage_holds_sql() -> None:
    """Every write goes through storage/ (its SQL) and bot.recording (its rules), and
    every read through storage/ too."""
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for folder in ("bot", "commands")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if SQL.search(line)
    ]
    assert offenders == []
