"""/deploy: record a deploy, list the latest, undo a mistake; an empty command opens a modal."""

from __future__ import annotations

import logging
from collections.abc import Sequence
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
from bot.core.wording import env_name, mrkdwn
from bot.deps import Deps
from bot.recording import deploys as recording
from bot.recording.deploys import PREVIOUS, UNDO_HOURS, DeployFacts, Recorded, Source
from bot.slack import incident_card, modals
from bot.slack import text as slack_text
from bot.slack.admins import is_admin
from bot.slack.blocks import mrkdwn_text, section
from bot.slack.replies import ephemeral, post_in_channel, post_or_tell, usage
from commands import _fields as fields
from commands._tokens import clean, tokenize, unexpected_words
from storage import deploys
from storage.records import Deploy

# ==== words: what this command says (ARCHITECTURE.md, "Words") ===============================

# ---- refusals -------------------------------------------------------------------------------


def flag_takes_no_value(flag: str) -> str:
    return f"`--{flag}` takes no value. Write it alone: `--{flag}`."


def bad_limit(value: int, maximum: int) -> str:
    return f"{value} is not a number of rows I can show. Use a number from 1 to {maximum}."


# ---- grammar, help and replies --------------------------------------------------------------
DEPLOY_GRAMMAR = (
    "/deploy SERVICE [VERSION] [env=ENV] [sha=SHA] [repo=OWNER/NAME] [at=TIME] "
    "[status=success|failed] [url=URL] [--hotfix] [--rollback[=DEPLOY_ID]]"
)
DEPLOY_EXAMPLE = "/deploy api v1.2.3 env=production sha=a1b2c3d"
DEPLOY_LIST_GRAMMAR = "/deploy list [SERVICE] [N]"
DEPLOY_LIST_EXAMPLE = "/deploy list api 10"
DEPLOY_UNDO_EXAMPLE = "/deploy undo 42"
MISSING_SERVICE = "The service is missing. Name the service that was deployed."
UNDO_NEEDS_ONE_ID = "Name one deploy to undo by its id."
UNDO_MISSING_ID = "The deploy id is missing. Name the deploy to undo by its id."
HOTFIX = "hotfix"
DEPLOY_HELP = f"""*Record a deploy*
`{DEPLOY_GRAMMAR}`
• `/deploy api v1.2.3`: api v1.2.3 reached production just now
• `/deploy web env=staging at="15m ago"`: a staging deploy 15 minutes ago
• `/deploy api v1.2.4 --hotfix`: an unplanned fix (counts toward rework rate)
• `/deploy api v1.2.2 --rollback`: rolls back the previous successful api deploy, which then counts as a failed change (`--rollback=42` names it)
• `/deploy api status=failed`: an attempt that never reached production (counted apart, in no metric)
Times: ISO-8601 (`at=2026-11-20T14:05Z`, `at="2026-11-20 14:05"` in the team time zone) or `at="15m ago"`, `at="yesterday 14:00"`.
*Other forms*
• `{DEPLOY_LIST_GRAMMAR}`: the latest deploys (10 by default)
• `/deploy undo ID`: delete a deploy recorded by mistake (within 24 hours from the channel it was recorded in; later, admins only)
• `/deploy` alone opens a form."""


def deploy_recorded(deploy_id: int, what: str, failed: bool) -> str:
    sentence = f"Deploy #{deploy_id} recorded: {what}"
    if failed:
        sentence += " (failed attempt: it never reached users, so it counts in no metric)"
    return sentence


def recorded_by(user_id: str) -> str:
    return f"Recorded by <@{user_id}>"


def finished_at(when: str) -> str:
    return f"finished {when}"


def at_sha(short_sha: str, repo: str | None) -> str:
    return f"`{short_sha}` in {repo}" if repo else f"`{short_sha}`"


def rolls_back(deploy_id: int, what: str) -> str:
    return f"rolls back #{deploy_id} ({what}), which now counts as a failed change"


def rollback_of(deploy_id: int) -> str:
    return f"rollback of #{deploy_id}"


def link(url: str) -> str:
    """The deploy's `url=` as its own text, never under a label of ours: a label would let
    whoever recorded it dress any address up as "details" (`url` comes escaped, and was
    checked to be one clean http(s) URL with no `<`, `>` or `|`)."""
    return f"details: <{url}>"


def no_previous_deploy(service: str, env: str) -> str:
    return (
        f"There is no earlier successful deploy of {service} to {env_name(env)} to roll back. "
        "Name the deploy with `--rollback=ID` (see `/deploy list`)."
    )


def rollback_other_service(deploy_id: int, its_service: str, service: str) -> str:
    return (
        f"Deploy #{deploy_id} is of {its_service}, not {service}. A rollback undoes a deploy "
        f"of the same service: check the id with `/deploy list {service}`."
    )


def rollback_other_environment(deploy_id: int, its_env: str, env: str) -> str:
    return (
        f"Deploy #{deploy_id} went to {env_name(its_env)}, not {env_name(env)}. A rollback "
        f"undoes a deploy to the same environment: add `env={env_name(its_env)}` or check the "
        "id with `/deploy list`."
    )


def rollback_of_failed(deploy_id: int) -> str:
    return (
        f"Deploy #{deploy_id} was a failed attempt that never reached production, so there is "
        "nothing to roll back. Name the successful deploy you rolled back."
    )


def rollback_before_target(deploy_id: int) -> str:
    return (
        f"Deploy #{deploy_id} finished after this one, so this cannot roll it back. "
        "Check `at=` or the id."
    )


def no_deploys(service: str | None) -> str:
    return f"No deploys of {service} recorded yet." if service else "No deploys recorded yet."


def deploy_list_header(count: int, service: str | None, tz: str) -> str:
    what = f" of {service}" if service else ""
    return f"*Latest {count} deploys{what}* (times in {tz})"


def deploy_list_line(deploy_id: int, when: str, what: str, marks: Sequence[str]) -> str:
    return f"`#{deploy_id}` {when} · {what} · {', '.join(marks)}"


def undo_not_allowed(deploy_id: int, source: str, hours: int) -> str:
    if source != "slack":
        return f"Deploy #{deploy_id} came from {source}; only a Shipshape admin can delete it."
    return (
        f"Deploy #{deploy_id} can be undone by anyone only within {hours} hours of recording it "
        "and from the channel it was recorded in. Ask a Shipshape admin (SHIPSHAPE_ADMINS or a "
        "workspace admin) to delete it."
    )


def deploy_deleted(
    deploy_id: int, what: str, unlinked: Sequence[int], rollbacks: Sequence[int]
) -> str:
    lines = [f"Deploy #{deploy_id} ({what}) deleted."]
    for incident_id in unlinked:
        lines.append(f"Incident #{incident_id} was linked to it and is now unlinked.")
    for other in rollbacks:
        lines.append(f"Deploy #{other} rolled it back and no longer counts as a rollback.")
    return "\n".join(lines)


# ---- the form -------------------------------------------------------------------------------
DEPLOY_MODAL_TITLE = "Record a deploy"
FIELD_VERSION = "Version"
FIELD_ENV = "Environment"
FIELD_AT = "Finished at"
FIELD_STATUS = "Status"
FIELD_SHA = "Commit sha"
FIELD_REPO = "Repository (OWNER/NAME)"
FIELD_URL = "Link"
FIELD_KIND = "Kind"
FIELD_ROLLBACK = "Rolls back deploy"
STATUS_SUCCESS = "success: it reached production"
STATUS_FAILED = "failed: it never reached production"
HOTFIX_OPTION = "Hotfix (an unplanned fix)"
ROLLBACK_HINT = 'A deploy id, or "previous" for the last successful one of this service.'


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
    args = tokenize(text, keys=KEYS, flags=FLAGS, example=DEPLOY_EXAMPLE)
    if len(args.words) > 2:
        raise UsageError(
            unexpected_words(args.words[2:], DEPLOY_GRAMMAR),
            DEPLOY_EXAMPLE,
        )
    for flag in ("hotfix",):
        if args.flags.get(flag) is not None:
            raise UsageError(flag_takes_no_value(flag), DEPLOY_EXAMPLE)
    if not args.words:
        raise UsageError(MISSING_SERVICE, DEPLOY_EXAMPLE)
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
        raise UsageError(error.problem, DEPLOY_EXAMPLE) from None


def build(values: dict[str, str], tz: str, now: pendulum.DateTime) -> NewDeploy:
    """A deploy from named values (the command's options or the modal's fields)."""
    if not values.get("service"):
        raise FieldError("service", MISSING_SERVICE)
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
    args = tokenize(text, keys=frozenset(), flags=frozenset(), example=DEPLOY_LIST_EXAMPLE)
    rest = args.words[1:]
    limit = LIST_DEFAULT
    if rest and rest[-1].isascii() and rest[-1].isdigit():
        limit = int(rest.pop())
        if not 1 <= limit <= LIST_MAX:
            raise UsageError(bad_limit(limit, LIST_MAX), DEPLOY_LIST_EXAMPLE)
    if len(rest) > 1:
        raise UsageError(
            unexpected_words(rest[1:], DEPLOY_LIST_GRAMMAR),
            DEPLOY_LIST_EXAMPLE,
        )
    try:
        service = fields.service(rest[0]) if rest else None
    except FieldError as error:
        raise UsageError(error.problem, DEPLOY_LIST_EXAMPLE) from None
    return ListDeploys(service=service, limit=limit)


def _parse_undo(text: str) -> UndoDeploy:
    args = tokenize(text, keys=frozenset(), flags=frozenset(), example=DEPLOY_UNDO_EXAMPLE)
    if len(args.words) < 2:
        raise UsageError(UNDO_MISSING_ID, DEPLOY_UNDO_EXAMPLE)
    if len(args.words) > 2:
        raise UsageError(UNDO_NEEDS_ONE_ID, DEPLOY_UNDO_EXAMPLE)
    try:
        return UndoDeploy(fields.record_id("id", args.words[1], "deploy"))
    except FieldError as error:
        raise UsageError(error.problem, DEPLOY_UNDO_EXAMPLE) from None


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
        return fields.deploy_not_found(error.id)
    if isinstance(error, Invalid):  # no previous deploy
        return no_previous_deploy(new.service, new.environment)
    assert isinstance(error, Conflict)
    target = error.record
    assert isinstance(target, Deploy)
    if error.reason == Reason.OTHER_SERVICE:
        return rollback_other_service(target.id, target.service, new.service)
    if error.reason == Reason.OTHER_ENVIRONMENT:
        return rollback_other_environment(target.id, target.environment, new.environment)
    if error.reason == Reason.FAILED_ATTEMPT:
        return rollback_of_failed(target.id)
    return rollback_before_target(target.id)


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
        raise UsageError(fields.deploy_not_found(error.id), DEPLOY_LIST_EXAMPLE) from None
    except NotAllowed as error:
        deploy = error.record
        assert isinstance(deploy, Deploy)
        raise UsageError(undo_not_allowed(deploy.id, deploy.source, UNDO_HOURS)) from None
    what = mrkdwn(slack_text.describe_deploy(undone.deploy))
    reply = deploy_deleted(undone.deploy.id, what, undone.unlinked, undone.rollbacks)
    return reply, undone.unlinked


# ---- reply -------------------------------------------------------------------------------


def confirmation(result: Recorded, user_id: str, tz: str) -> tuple[str, list[Block]]:
    deploy = result.deploy
    text = deploy_recorded(
        deploy.id, mrkdwn(slack_text.describe_deploy(deploy)), deploy.status == "failed"
    )
    details = [recorded_by(user_id), finished_at(show(deploy.deployed_at, tz))]
    if deploy.sha:
        repo = mrkdwn(deploy.repo) if deploy.repo else None
        details.append(at_sha(mrkdwn(deploy.sha[:7]), repo))
    if deploy.is_hotfix:
        details.append(HOTFIX)
    if result.rolled_back:
        what = mrkdwn(slack_text.describe_deploy(result.rolled_back))
        details.append(rolls_back(result.rolled_back.id, what))
    if deploy.url:
        details.append(link(mrkdwn(deploy.url)))
    blocks: list[Block] = [
        section(text),
        ContextBlock(elements=[mrkdwn_text(" · ".join(details))]),
    ]
    return text, blocks


def listing(deps: Deps, request: ListDeploys) -> str:
    rows = deploys.latest(deps.store.db, request.service, request.limit)
    service = mrkdwn(request.service) if request.service else None
    if not rows:
        return no_deploys(service)
    lines = [deploy_list_header(len(rows), service, deps.tz)]
    for d in rows:
        marks = [d.status]
        if d.is_hotfix:
            marks.append(HOTFIX)
        if d.rollback_of:
            marks.append(rollback_of(d.rollback_of))
        marks.append(d.source)
        lines.append(
            deploy_list_line(
                d.id, show(d.deployed_at, deps.tz), mrkdwn(slack_text.describe_deploy(d)), marks
            )
        )
    return "\n".join(lines)


def modal(channel_id: str) -> View:
    return modals.form(
        MODAL,
        DEPLOY_MODAL_TITLE,
        {"channel_id": channel_id},
        [
            modals.text_input("service", fields.FIELD_SERVICE, optional=False, placeholder="api"),
            modals.text_input("version", FIELD_VERSION, placeholder="v1.2.3"),
            modals.text_input("env", FIELD_ENV, initial="production"),
            modals.text_input("at", FIELD_AT, hint=fields.AT_HINT, placeholder="15m ago"),
            modals.select_input(
                "status",
                FIELD_STATUS,
                [("success", STATUS_SUCCESS), ("failed", STATUS_FAILED)],
                initial="success",
            ),
            modals.text_input("sha", FIELD_SHA, placeholder="a1b2c3d"),
            modals.text_input("repo", FIELD_REPO, placeholder="acme/api"),
            modals.text_input("url", FIELD_URL, placeholder="https://"),
            modals.checkbox_input("hotfix", FIELD_KIND, [("yes", HOTFIX_OPTION)]),
            modals.text_input("rollback", FIELD_ROLLBACK, hint=ROLLBACK_HINT),
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
                ack(**ephemeral(DEPLOY_HELP))
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
                key = modals.command_key(command)
                try:
                    result = record(deps, request, key, channel_id)
                except FieldError as error:
                    raise UsageError(error.problem, DEPLOY_EXAMPLE) from None
                if not result.created:
                    ack(**ephemeral(fields.already_recorded("Deploy", result.deploy.id)))
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
            key = modals.submission_key(body, channel_id, view)
            result = record(deps, new, key, channel_id)
        except FieldError as error:
            ack(**modals.field_errors(error, MODAL_FIELDS, "service"))
            return
        ack()
        if result.created:
            text, blocks = confirmation(result, user_id, deps.tz)
            post_or_tell(client, channel_id, user_id, text, blocks)
