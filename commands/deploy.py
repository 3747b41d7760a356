"""/deploy: record a deploy, list the latest, undo a mistake; an empty command opens a modal."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Literal

import pendulum
from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
)
from slack_sdk.models.views import View

from bot import messages
from bot.core.errors import FieldError, UsageError
from bot.core.moments import from_utc_text, show, utc_text
from bot.deps import Deps
from bot.messages import mrkdwn
from bot.slack import incident_card, modals
from bot.slack.admins import is_admin
from bot.slack.blocks import mrkdwn_text, section
from bot.slack.replies import ephemeral, post_in_channel, post_or_tell, usage
from commands import _fields as fields
from commands._tokens import clean, tokenize
from storage import deploys, shipping
from storage.records import Deploy

log = logging.getLogger(__name__)

KEYS = frozenset({"env", "sha", "repo", "at", "status", "url"})
FLAGS = frozenset({"hotfix", "rollback"})
MODAL = "deploy_modal"
# The modal's blocks, by the option names FieldError reports (so errors land on the field).
MODAL_FIELDS = (
    "service",
    "version",
    "env",
    "at",
    "status",
    "sha",
    "repo",
    "url",
    "hotfix",
    "rollback",
)
PREVIOUS = "previous"
UNDO_HOURS = 24
LIST_DEFAULT = 10
LIST_MAX = 50


@dataclass(frozen=True)
class NewDeploy:
    service: str
    version: str | None
    environment: str
    sha: str | None
    repo: str | None
    deployed_at: pendulum.DateTime
    status: str
    url: str | None
    is_hotfix: bool
    rollback: int | Literal["previous"] | None


@dataclass(frozen=True)
class ListDeploys:
    service: str | None
    limit: int


@dataclass(frozen=True)
class UndoDeploy:
    deploy_id: int


class Help:
    pass


class OpenModal:
    pass


Request = NewDeploy | ListDeploys | UndoDeploy | Help | OpenModal


# ---- parse -------------------------------------------------------------------------------


def parse(text: str, tz: str, now: pendulum.DateTime) -> Request:
    """Raises UsageError with the problem and a correct example."""
    words = clean(text).split()
    if not words:
        return OpenModal()
    head = words[0].lower()
    if head == "help":
        return Help()
    if head == "list":
        return _parse_list(text)
    if head == "undo":
        return _parse_undo(text)
    args = tokenize(text, keys=KEYS, flags=FLAGS, example=messages.DEPLOY_EXAMPLE)
    if len(args.words) > 2:
        raise UsageError(
            messages.unexpected_words(args.words[2:], messages.DEPLOY_GRAMMAR),
            messages.DEPLOY_EXAMPLE,
        )
    for flag in ("hotfix",):
        if args.flags.get(flag) is not None:
            raise UsageError(messages.flag_takes_no_value(flag), messages.DEPLOY_EXAMPLE)
    if not args.words:
        raise UsageError(messages.MISSING_SERVICE, messages.DEPLOY_EXAMPLE)
    values = dict(args.options)
    values["service"] = args.words[0]
    if len(args.words) > 1:
        values["version"] = args.words[1]
    if "hotfix" in args.flags:
        values["hotfix"] = "yes"
    if "rollback" in args.flags:
        values["rollback"] = args.flags["rollback"] or PREVIOUS
    try:
        return build(values, tz, now)
    except FieldError as error:
        raise UsageError(error.problem, messages.DEPLOY_EXAMPLE) from None


def build(values: dict[str, str], tz: str, now: pendulum.DateTime) -> NewDeploy:
    """A deploy from named values (the command's options or the modal's fields)."""
    if not values.get("service"):
        raise FieldError("service", messages.MISSING_SERVICE)
    rollback: int | Literal["previous"] | None = None
    if raw := values.get("rollback"):
        rollback = (
            PREVIOUS if raw.lower() == PREVIOUS else fields.record_id("rollback", raw, "deploy")
        )
    return NewDeploy(
        service=fields.service(values["service"]),
        version=fields.version(values["version"]) if values.get("version") else None,
        environment=fields.environment(values.get("env") or "production"),
        sha=fields.sha(values["sha"]) if values.get("sha") else None,
        repo=fields.repo(values["repo"]) if values.get("repo") else None,
        deployed_at=fields.moment("at", values["at"], tz, now) if values.get("at") else now,
        status=fields.status(values.get("status") or "success"),
        url=fields.url(values["url"]) if values.get("url") else None,
        is_hotfix=bool(values.get("hotfix")),
        rollback=rollback,
    )


def _parse_list(text: str) -> ListDeploys:
    args = tokenize(text, keys=frozenset(), flags=frozenset(), example=messages.DEPLOY_LIST_EXAMPLE)
    rest = args.words[1:]
    limit = LIST_DEFAULT
    if rest and rest[-1].isascii() and rest[-1].isdigit():
        limit = int(rest.pop())
        if not 1 <= limit <= LIST_MAX:
            raise UsageError(messages.bad_limit(limit, LIST_MAX), messages.DEPLOY_LIST_EXAMPLE)
    if len(rest) > 1:
        raise UsageError(
            messages.unexpected_words(rest[1:], messages.DEPLOY_LIST_GRAMMAR),
            messages.DEPLOY_LIST_EXAMPLE,
        )
    try:
        service = fields.service(rest[0]) if rest else None
    except FieldError as error:
        raise UsageError(error.problem, messages.DEPLOY_LIST_EXAMPLE) from None
    return ListDeploys(service=service, limit=limit)


def _parse_undo(text: str) -> UndoDeploy:
    args = tokenize(text, keys=frozenset(), flags=frozenset(), example=messages.DEPLOY_UNDO_EXAMPLE)
    if len(args.words) < 2:
        raise UsageError(messages.UNDO_MISSING_ID, messages.DEPLOY_UNDO_EXAMPLE)
    if len(args.words) > 2:
        raise UsageError(messages.UNDO_NEEDS_ONE_ID, messages.DEPLOY_UNDO_EXAMPLE)
    try:
        return UndoDeploy(fields.record_id("id", args.words[1], "deploy"))
    except FieldError as error:
        raise UsageError(error.problem, messages.DEPLOY_UNDO_EXAMPLE) from None


# ---- act ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recorded:
    deploy: Deploy
    created: bool
    rolled_back: Deploy | None


def record(deps: Deps, new: NewDeploy, source_key: str, channel_id: str | None) -> Recorded:
    """Store a deploy once per source key, with its rollback target checked in the same
    transaction. Raises FieldError when the rollback target is wrong (nothing stored)."""
    with deps.store.write() as db:
        existing = deploys.find_by_source(db, "slack", source_key)
        if existing is not None:
            target = deploys.get(db, existing.rollback_of) if existing.rollback_of else None
            return Recorded(existing, created=False, rolled_back=target)
        at = utc_text(new.deployed_at)
        target = None
        same = deploys.same_environments(new.environment, deps.config.production_environments)
        if new.rollback == PREVIOUS:
            target = deploys.latest_success(db, new.service, same, at)
            if target is None:
                raise FieldError(
                    "rollback", messages.no_previous_deploy(new.service, new.environment)
                )
        elif new.rollback is not None:
            target = deploys.get(db, new.rollback)
            problem = _rollback_problem(target, new, new.rollback, at, same)
            if problem:
                raise FieldError("rollback", problem)
        deploy = deploys.insert(
            db,
            {
                "service": new.service,
                "environment": new.environment,
                "version": new.version,
                "sha": new.sha,
                "repo": new.repo,
                "status": new.status,
                "deployed_at": at,
                "is_hotfix": int(new.is_hotfix),
                "rollback_of": target.id if target else None,
                "url": new.url,
                "source": "slack",
                "source_key": source_key,
                "channel_id": channel_id,
                "created_at": utc_text(deps.clock.now()),
            },
        )
        shipping.ship(db, deploy, deps.config.production_environments)
    return Recorded(deploy, created=True, rolled_back=target)


def _rollback_problem(
    target: Deploy | None, new: NewDeploy, wanted: int, at: str, environments: tuple[str, ...]
) -> str | None:
    if target is None:
        return messages.deploy_not_found(wanted)
    if target.service != new.service:
        return messages.rollback_other_service(target.id, target.service, new.service)
    if target.environment not in environments:
        return messages.rollback_other_environment(target.id, target.environment, new.environment)
    if target.status != "success":
        return messages.rollback_of_failed(target.id)
    if target.deployed_at > at:
        return messages.rollback_before_target(target.id)
    return None


def undo(
    deps: Deps, client: WebClient, request: UndoDeploy, user_id: str, channel_id: str
) -> tuple[str, list[int]]:
    """Delete a deploy; returns the reply and the incidents it unlinked. Raises UsageError
    when not found or not allowed."""
    deploy = deploys.get(deps.store.db, request.deploy_id)
    if deploy is None:
        raise UsageError(messages.deploy_not_found(request.deploy_id), messages.DEPLOY_LIST_EXAMPLE)
    age = deps.clock.now() - from_utc_text(deploy.created_at)
    recent_here = (
        deploy.source == "slack"
        and deploy.channel_id == channel_id
        and age.in_seconds() <= UNDO_HOURS * 3600
    )
    if not recent_here and not is_admin(user_id, deps.config, client):
        raise UsageError(messages.undo_not_allowed(deploy.id, deploy.source, UNDO_HOURS))
    with deps.store.write() as db:
        if deploys.get(db, deploy.id) is None:
            raise UsageError(messages.deploy_not_found(deploy.id))
        rollbacks = [d.id for d in deploys.rolled_back_by(db, deploy.id)]
        # Its changes go to the next deploy that shipped them, as if this one never was.
        shipping.unship(db, deploy, deps.config.production_environments)
        unlinked = deploys.delete(db, deploy.id)
    what = mrkdwn(messages.describe_deploy(deploy))
    return messages.deploy_deleted(deploy.id, what, unlinked, rollbacks), unlinked


# ---- reply -------------------------------------------------------------------------------


def confirmation(result: Recorded, user_id: str, tz: str) -> tuple[str, list[Block]]:
    deploy = result.deploy
    text = messages.deploy_recorded(
        deploy.id, mrkdwn(messages.describe_deploy(deploy)), deploy.status == "failed"
    )
    details = [messages.recorded_by(user_id), messages.finished_at(show(deploy.deployed_at, tz))]
    if deploy.sha:
        repo = mrkdwn(deploy.repo) if deploy.repo else None
        details.append(messages.at_sha(mrkdwn(deploy.sha[:7]), repo))
    if deploy.is_hotfix:
        details.append(messages.HOTFIX)
    if result.rolled_back:
        what = mrkdwn(messages.describe_deploy(result.rolled_back))
        details.append(messages.rolls_back(result.rolled_back.id, what))
    if deploy.url:
        details.append(messages.link(mrkdwn(deploy.url)))
    blocks: list[Block] = [
        section(text),
        ContextBlock(elements=[mrkdwn_text(" · ".join(details))]),
    ]
    return text, blocks


def listing(deps: Deps, request: ListDeploys) -> str:
    rows = deploys.latest(deps.store.db, request.service, request.limit)
    service = mrkdwn(request.service) if request.service else None
    if not rows:
        return messages.no_deploys(service)
    lines = [messages.deploy_list_header(len(rows), service, deps.tz)]
    for d in rows:
        marks = [d.status]
        if d.is_hotfix:
            marks.append(messages.HOTFIX)
        if d.rollback_of:
            marks.append(messages.rollback_of(d.rollback_of))
        marks.append(d.source)
        lines.append(
            messages.deploy_list_line(
                d.id, show(d.deployed_at, deps.tz), mrkdwn(messages.describe_deploy(d)), marks
            )
        )
    return "\n".join(lines)


def modal(channel_id: str) -> View:
    return View(
        type="modal",
        callback_id=MODAL,
        title=messages.DEPLOY_MODAL_TITLE,
        submit=messages.MODAL_SUBMIT,
        close=messages.MODAL_CANCEL,
        private_metadata=json.dumps({"channel_id": channel_id}),
        blocks=[
            modals.text_input("service", messages.FIELD_SERVICE, optional=False, placeholder="api"),
            modals.text_input("version", messages.FIELD_VERSION, placeholder="v1.2.3"),
            modals.text_input("env", messages.FIELD_ENV, initial="production"),
            modals.text_input(
                "at", messages.FIELD_AT, hint=messages.AT_HINT, placeholder="15m ago"
            ),
            modals.select_input(
                "status",
                messages.FIELD_STATUS,
                [("success", messages.STATUS_SUCCESS), ("failed", messages.STATUS_FAILED)],
                initial="success",
            ),
            modals.text_input("sha", messages.FIELD_SHA, placeholder="a1b2c3d"),
            modals.text_input("repo", messages.FIELD_REPO, placeholder="acme/api"),
            modals.text_input("url", messages.FIELD_URL, placeholder="https://"),
            modals.checkbox_input("hotfix", messages.FIELD_KIND, [("yes", messages.HOTFIX_OPTION)]),
            modals.text_input("rollback", messages.FIELD_ROLLBACK, hint=messages.ROLLBACK_HINT),
        ],
    )


# ---- wiring ------------------------------------------------------------------------------


def register(app: App, deps: Deps) -> None:
    @app.command("/deploy")
    def on_command(ack: Ack, command: dict[str, Any], client: WebClient, respond: Respond) -> None:
        channel_id, user_id = command["channel_id"], command["user_id"]
        try:
            request = parse(command.get("text", ""), deps.tz, deps.clock.now())
            if isinstance(request, Help):
                ack(**ephemeral(messages.DEPLOY_HELP))
            elif isinstance(request, OpenModal):
                ack()
                client.views_open(trigger_id=command["trigger_id"], view=modal(channel_id))
            elif isinstance(request, ListDeploys):
                ack(**ephemeral(listing(deps, request)))
            elif isinstance(request, UndoDeploy):
                reply, unlinked = undo(deps, client, request, user_id, channel_id)
                ack(**ephemeral(reply))
                incident_card.refresh(client, deps.store.db, unlinked, deps.tz)
            else:
                key = f"{command['team_id']}:{channel_id}:{command['trigger_id']}"
                try:
                    result = record(deps, request, key, channel_id)
                except FieldError as error:
                    raise UsageError(error.problem, messages.DEPLOY_EXAMPLE) from None
                if not result.created:
                    ack(**ephemeral(messages.already_recorded("Deploy", result.deploy.id)))
                    return
                ack()
                text, blocks = confirmation(result, user_id, deps.tz)
                post_in_channel(client, channel_id, text, blocks, respond)
        except UsageError as error:
            ack(**usage(error))

    @app.view(MODAL)
    def on_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        channel_id = modals.metadata(view).get("channel_id", "")
        user_id = body["user"]["id"]
        try:
            new = build(modals.values(view), deps.tz, deps.clock.now())
            key = f"{body['team']['id']}:{channel_id}:{view['id']}"
            result = record(deps, new, key, channel_id)
        except FieldError as error:
            block = error.key if error.key in MODAL_FIELDS else "service"
            ack(response_action="errors", errors={block: error.problem})
            return
        ack()
        if result.created:
            text, blocks = confirmation(result, user_id, deps.tz)
            post_or_tell(client, channel_id, user_id, text, blocks)
