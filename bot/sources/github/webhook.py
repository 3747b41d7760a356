"""`POST /github/webhook`: verify a GitHub delivery, map its payload, record it once.

Each delivery is one write transaction: its id is claimed first (a redelivery changes
nothing), then the payload is mapped to the plain records of bot/sources/github/events.py and
recorded. A payload that cannot be mapped, or a failure while recording, rolls the claim
back too, so GitHub's "Redeliver" can try again once the cause is fixed. Fetching the
commits of a deploy from the GitHub API happens after the answer, on the server's executor.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from typing import Any
from urllib.parse import parse_qs

import sqlite_utils

from bot.core.moments import utc_text
from bot.deps import Deps
from bot.sources.fields import Fields
from bot.sources.github import api as github_api
from bot.sources.github import events as github_events
from bot.sources.github import text as github_text
from bot.sources.github.events import DeploymentStatus, IssueEvent, Outcome, RunDeploy
from bot.sources.http import (
    Answer,
    BadJson,
    StartResponse,
    Words,
    json_object,
    opening,
    read_body,
    respond,
    write_once,
)
from storage import github
from storage.shipping import Commit

log = logging.getLogger(__name__)

SIGNATURE_PREFIX = "sha256="
FORM = "application/x-www-form-urlencoded"
_FULL_SHA = re.compile(r"^[0-9a-fA-F]{40}$")
ISSUE_ACTIONS = ("opened", "labeled", "closed", "reopened")
# workflow_run conclusions that say whether the deploy reached users; the rest (cancelled,
# skipped, neutral, action_required, stale) say nothing about production.
RUN_CONCLUSIONS = {"success": "success", "failure": "failed", "timed_out": "failed"}
SENDER = "GitHub webhook payload"
WORDS = Words(
    github_text.GITHUB_WEBHOOK_BUSY,
    github_text.GITHUB_WEBHOOK_FAILED,
    github_text.github_webhook_bad_field,
    github_text.GITHUB_WEBHOOK_POST_ONLY,
    github_text.GITHUB_WEBHOOK_NO_SECRET,
)


def signature(secret: str, body: bytes) -> str:
    """The X-Hub-Signature-256 value GitHub sends for this body."""
    return SIGNATURE_PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_matches(secret: str, body: bytes, header: str) -> bool:
    # Compared as bytes: compare_digest refuses non-ASCII str, and a forged header may hold
    # anything (WSGI hands headers over as latin-1 text).
    return hmac.compare_digest(signature(secret, body).encode(), header.encode("latin-1"))


# ---- mapping: one function per event, run inside the delivery's transaction ---------------

Handler = Callable[[sqlite_utils.Database, Fields, Deps, str], Outcome]


def _first_url(*candidates: str | None) -> str | None:
    return next((c for c in candidates if c and c.startswith(("http://", "https://"))), None)


def _deployment_status(db: sqlite_utils.Database, p: Fields, deps: Deps, now: str) -> Outcome:
    sha = p.text("deployment.sha")
    ref = p.text("deployment.ref")
    # A deployment of the default branch (or of a bare sha) has no name of its own: the
    # short sha says which version it was. A tag or release branch is the version.
    plain = ref in (p.text("repository.default_branch"), sha)
    status = DeploymentStatus(
        repo=p.repo("repository.full_name"),
        deployment_id=p.number("deployment.id"),
        status_id=p.number("deployment_status.id"),
        state=p.text("deployment_status.state"),
        at=p.time("deployment_status.created_at"),
        environment=p.optional_text("deployment_status.environment")
        or p.text("deployment.environment"),
        sha=sha,
        version=sha[:7] if plain else ref,
        url=_first_url(
            p.optional_text("deployment_status.target_url"),
            p.optional_text("deployment_status.log_url"),
            p.optional_text("deployment_status.environment_url"),
        ),
    )
    return github_events.deployment_status(db, status, deps.config.production_environments, now)


def _push(db: sqlite_utils.Database, p: Fields, deps: Deps, now: str) -> Outcome:
    ref = p.text("ref")
    if ref != "refs/heads/" + p.text("repository.default_branch"):
        # Tags and other branches: only the default branch is history that ships.
        return Outcome(github_text.github_webhook_ignored(f"push to {ref}"))
    if p.get("deleted") is True or p.get("head_commit") is None:
        return Outcome(github_text.github_webhook_ignored(f"deletion of {ref}"))
    commits = [
        Commit(sha=c.text("id").lower(), authored_at=c.time("timestamp"))
        for c in p.objects("commits")
    ]
    return github_events.push(
        db, p.repo("repository.full_name"), commits, deps.config.production_environments, now
    )


def _pull_request(db: sqlite_utils.Database, p: Fields, deps: Deps, now: str) -> Outcome:
    action = p.text("action")
    if action != "closed" or not p.flag("pull_request.merged"):
        return Outcome(github_text.github_webhook_ignored(f"pull request {action}, not merged"))
    return github_events.merged_pull(
        db,
        p.repo("repository.full_name"),
        p.number("number"),
        p.text("pull_request.merge_commit_sha"),
        p.time("pull_request.merged_at"),
    )


def _issues(db: sqlite_utils.Database, p: Fields, deps: Deps, now: str) -> Outcome:
    action = p.text("action")
    if action not in ISSUE_ACTIONS:
        return Outcome(github_text.github_webhook_ignored(f"issue {action}"))
    event = IssueEvent(
        repo=p.repo("repository.full_name"),
        issue_id=p.number("issue.id"),
        action=action,
        title=p.text("issue.title"),
        labels=[label.text("name") for label in p.objects("issue.labels")],
        created_at=p.time("issue.created_at"),
        closed_at=p.optional_time("issue.closed_at"),
    )
    return github_events.issue(db, event, deps.config.production_environments, now)


def _release(db: sqlite_utils.Database, p: Fields, deps: Deps, now: str) -> Outcome:
    action = p.text("action")
    repo = p.repo("repository.full_name")
    if action != "published" or github.settings(db, repo).deploy_on != "release":
        return Outcome(github_text.github_webhook_ignored(f"release {action} in {repo}"))
    commitish = p.text("release.target_commitish")
    run = RunDeploy(
        repo=repo,
        key=f"release:{p.number('release.id')}",
        status="success",
        at=p.time("release.published_at"),
        # target_commitish is usually a branch name, which says nothing about the commit.
        sha=commitish if _FULL_SHA.match(commitish) else None,
        version=p.text("release.tag_name"),
        url=p.optional_text("release.html_url"),
    )
    return github_events.run_deploy(db, run, deps.config.production_environments, now)


def _workflow_run(db: sqlite_utils.Database, p: Fields, deps: Deps, now: str) -> Outcome:
    action = p.text("action")
    repo = p.repo("repository.full_name")
    settings = github.settings(db, repo)
    # The workflow's own name; older payloads carry it only on the run.
    name = p.optional_text("workflow.name") or p.optional_text("workflow_run.name")
    status = RUN_CONCLUSIONS.get(p.optional_text("workflow_run.conclusion") or "")
    if (
        action != "completed"
        or settings.deploy_on != "workflow"
        or name != settings.workflow
        or status is None
    ):
        return Outcome(github_text.github_webhook_ignored(f"workflow run {name!r} {action}"))
    sha = p.text("workflow_run.head_sha")
    run = RunDeploy(
        repo=repo,
        key=f"workflow_run:{p.number('workflow_run.id')}",
        status=status,
        at=p.time("workflow_run.updated_at"),
        sha=sha,
        version=sha[:7],
        url=p.optional_text("workflow_run.html_url"),
    )
    return github_events.run_deploy(db, run, deps.config.production_environments, now)


HANDLERS: dict[str, Handler] = {
    "deployment_status": _deployment_status,
    "push": _push,
    "pull_request": _pull_request,
    "issues": _issues,
    "release": _release,
    "workflow_run": _workflow_run,
}


# ---- the WSGI handler ----------------------------------------------------------------------


def _parse(body: bytes, is_form: bool) -> dict[str, Any]:
    """The payload object, from JSON or from the `payload` field of a form (GitHub's two
    content types). Raises BadJson with the reason when there is none."""
    if not is_form:
        return json_object(body, "The body", SENDER)
    try:
        form = parse_qs(body.decode("utf-8"))
    except UnicodeDecodeError:
        form = {}
    if "payload" not in form:
        raise BadJson(github_text.GITHUB_WEBHOOK_NO_PAYLOAD_FIELD)
    return json_object(form["payload"][0], "The payload field", SENDER)


class GitHubWebhook:
    def __init__(self, deps: Deps, executor: Executor) -> None:
        self.deps = deps
        self.executor = executor  # where follow-up API calls run, off the request path

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        secret = self.deps.config.github_webhook_secret
        if refused := opening(environ, secret, WORDS):
            return refused.respond(start_response)
        body = read_body(environ)
        event = environ.get("HTTP_X_GITHUB_EVENT", "")
        delivery = environ.get("HTTP_X_GITHUB_DELIVERY", "")
        if not signature_matches(secret, body, environ.get("HTTP_X_HUB_SIGNATURE_256", "")):
            log.warning("github %s %s: refused, bad or missing signature", event, delivery)
            return respond(
                start_response,
                "401 Unauthorized",
                {"error": github_text.GITHUB_WEBHOOK_BAD_SIGNATURE},
            )
        for name, value in (("X-GitHub-Event", event), ("X-GitHub-Delivery", delivery)):
            if not value:
                return self._refuse(
                    start_response, event, delivery, github_text.github_webhook_missing_header(name)
                )
        is_form = environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower() == FORM
        try:
            payload = _parse(body, is_form)
        except BadJson as error:
            return self._refuse(start_response, event, delivery, str(error))
        if event == "ping":
            log.info("github ping %s: pong", delivery)
            return respond(
                start_response, "200 OK", {"ok": True, "result": github_text.GITHUB_WEBHOOK_PONG}
            )
        handler = HANDLERS.get(event)
        if handler is None:
            log.info("github %s %s: event not used, ignored", event, delivery)
            return respond(start_response, "202 Accepted", {"ignored": event})
        return self._record(start_response, event, delivery, handler, Fields(payload))

    def _refuse(
        self, start_response: StartResponse, event: str, delivery: str, error: str
    ) -> list[bytes]:
        log.warning("github %s %s: refused, %s", event, delivery, error)
        return respond(start_response, "400 Bad Request", {"error": error})

    def _record(
        self,
        start_response: StartResponse,
        event: str,
        delivery: str,
        handler: Handler,
        payload: Fields,
    ) -> list[bytes]:
        now = utc_text(self.deps.clock.now())

        try:
            outcome = write_once(
                self.deps.store,
                f"github {event} {delivery}",
                lambda db: github.claim_delivery(db, delivery, event, now),
                lambda db: handler(db, payload, self.deps, now),
                WORDS,
            )
        except Answer as answer:
            return answer.respond(start_response)
        log.info("github %s %s: %s", event, delivery, outcome.summary)
        if outcome.needs_commits is not None and github_api.configured(self.deps.config):
            self._fetch_commits_later(outcome.needs_commits)
        return respond(start_response, "200 OK", {"ok": True, "result": outcome.summary})

    def _fetch_commits_later(self, deploy_id: int) -> None:
        """The deploy's sha is not among the pushed commits: ask the API for them after the
        answer, so GitHub's 10-second delivery timeout never waits on another request."""

        def fetch() -> None:
            try:
                github_api.fetch_shipped_commits(self.deps, deploy_id)
            except Exception:
                log.exception("deploy #%s: fetching its commits from GitHub failed", deploy_id)

        try:
            self.executor.submit(fetch)
        except RuntimeError:
            # The executor is shutting down with the server: the deploy stays recorded,
            # without lead times until its commits are pushed or synced.
            log.warning("deploy #%s: shutting down, its commits were not fetched", deploy_id)
