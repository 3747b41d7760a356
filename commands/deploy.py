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
from bot.core.errors import (
    Conflict,
    DomainError,
    FieldError,
    Invalid,
    NotAllowed,
    NotFound,
    Reason,
    UsageError,
)
from bot.core.moments import show, utc_text
from bot.deps import Deps
from bot.messages import mrkdwn
from bot.recording import deploys as recording
from bot.recording.deploys import PREVIOUS, UNDO_HOURS, DeployFacts, Recorded, Source
from bot.slack import incident_card, modals
from bot.slack.admins import is_admin
from bot.slack.blocks import mrkdwn_text, section
from bot.slack.replies import ephemeral, post_in_channel, post_or_tell, usage
from commands import _fields as fields
from commands._tokens import clean, tokenize
from storage import deploys
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


def record(deps: Deps, new: NewDeploy, source_key: str, channel_id: str | None) -> Recorded:
    """Store a deploy once per source key (bot.recording checks its rollback target in the
    same transaction). Raises FieldError when the rollback target is wrong (nothing stored)."""
    facts = DeployFacts(
        service=new.service,
        environment=new.environment,
        version=new.version,
        sha=new.sha,
        repo=new.repo,
        status=new.status,
        deployed_at=utc_text(new.deployed_at),
        url=new.url,
        is_hotfix=new.is_hotfix,
    )
    now = utc_text(deps.clock.now())
    try:
        with deps.store.write() as db:
            return recording.record(
                db,
                facts,
                Source("slack", source_key, channel_id),
                deps.config.production_environments,
                now,
                new.rollback,
            )
    except DomainError as error:
        raise FieldError("rollback", rollback_problem(error, new)) from None


def rollback_problem(error: DomainError, new: NewDeploy) -> str:
    """The words for a rollback target bot.recording refused."""
    if isinstance(error, NotFound):
        return messages.deploy_not_found(error.id)
    if isinstance(error, Invalid):  # no previous deploy
        return messages.no_previous_deploy(new.service, new.environment)
    assert isinstance(error, Conflict)
    target = error.record
    assert isinstance(target, Deploy)
    if error.reason == Reason.OTHER_SERVICE:
        return messages.rollback_other_service(target.id, target.service, new.service)
    if error.reason == Reason.OTHER_ENVIRONMENT:
        return messages.rollback_other_environment(target.id, target.environment, new.environment)
    if error.reason == Reason.FAILED_ATTEMPT:
        return messages.rollback_of_failed(target.id)
    return messages.rollback_before_target(target.id)


def undo(
    deps: Deps, client: WebClient, request: UndoDeploy, user_id: str, channel_id: str
) -> tuple[str, list[int]]:
    """Delete a deploy; returns the reply and the incidents it unlinked. Raises UsageError
    when not found or not allowed."""
    try:
        undone = recording.undo(
            deps.store,
            request.deploy_id,
            channel_id,
            deps.config.production_environments,
            utc_text(deps.clock.now()),
            lambda: is_admin(user_id, deps.config, client),
        )
    except NotFound as error:
        raise UsageError(
            messages.deploy_not_found(error.id), messages.DEPLOY_LIST_EXAMPLE
        ) from None
    except NotAllowed as error:
        deploy = error.record
        assert isinstance(deploy, Deploy)
        raise UsageError(messages.undo_not_allowed(deploy.id, deploy.source, UNDO_HOURS)) from None
    what = mrkdwn(messages.describe_deploy(undone.deploy))
    reply = messages.deploy_deleted(undone.deploy.id, what, undone.unlinked, undone.rollbacks)
    return reply, undone.unlinked


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
