"""/incident: open, resolve, link to the deploy that caused it, list; empty opens a modal."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import pendulum
from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.models.views import View

from bot.core import wording
from bot.core.errors import Conflict, DomainError, FieldError, NotFound, Reason, UsageError
from bot.core.moments import duration, from_utc_text, show, utc_text
from bot.core.wording import mrkdwn
from bot.deps import Deps
from bot.recording import incidents as recording
from bot.recording.incidents import AUTO, Cause, IncidentFacts
from bot.slack import modals
from bot.slack.blocks import section
from bot.slack.incident_card import (
    LINK_ACTION,
    Linked,
    card,
    channel_is_private,
    link_text,
    load,
    shown_title,
    update_card,
)
from bot.slack.replies import ephemeral, post_in_channel, post_or_tell, usage
from commands import _fields as fields
from commands._tokens import clean, tokenize
from storage import incidents
from storage.db import Busy
from storage.records import Deploy, Incident

# ==== words: what this command says (ARCHITECTURE.md, "Words") ===============================

# ---- refusals -------------------------------------------------------------------------------


def incident_not_found(incident_id: int) -> str:
    return (
        f"There is no incident #{incident_id}. `/incident list all` shows incidents and their ids."
    )


# ---- grammar, help and replies --------------------------------------------------------------
INCIDENT_OPEN_EXAMPLE = '/incident open api Checkout errors sev=2 at="15m ago"'
INCIDENT_RESOLVE_EXAMPLE = "/incident resolve 7"
INCIDENT_LINK_EXAMPLE = "/incident link 7 deploy=42"
INCIDENT_LIST_EXAMPLE = "/incident list all"
MISSING_SERVICE_AND_TITLE = (
    "The service and the title are missing. Name the affected service and describe the incident."
)
MISSING_INCIDENT_SERVICE = "The service is missing. Name the affected service."
RESOLVE_NEEDS_ONE_ID = "Name one incident to resolve by its id."
RESOLVE_MISSING_ID = "The incident id is missing. Name the incident to resolve by its id."
LINK_NEEDS_ID_AND_DEPLOY = (
    "Name the incident and its cause: an incident id and `deploy=ID` or `deploy=none`."
)
LINK_MISSING_ID = "The incident id is missing. Name the incident, then its cause."
LINK_MISSING_DEPLOY = (
    "The cause is missing. After the incident id give `deploy=ID`, or `deploy=none` when no "
    "deploy caused it."
)
STILL_OPEN = "open"
INCIDENT_HELP = f"""*Record incidents*
• `/incident open SERVICE TITLE... [sev=1|2|3|4] [deploy=ID|none] [at=TIME]`: an incident that started at `at` (default now). It is linked to the latest successful production deploy of SERVICE at or before its start, unless `deploy=ID` names the cause or `deploy=none` says no change caused it.
  e.g. `{INCIDENT_OPEN_EXAMPLE}`
• `/incident resolve ID [at=TIME]`: it recovered (default now)
• `/incident link ID deploy=ID|none`: change what caused it
• `/incident list [open|all]`: open incidents (or all)
• `/incident` alone opens a form.
A linked incident makes its deploy a failed change; its recovery time counts as failed deployment recovery time."""


def unknown_incident_subcommand(word: str) -> str:
    return f"`{word}` is not something /incident does. Use `open`, `resolve`, `link`, `list` or `help`."


def bad_incident_list(value: str) -> str:
    return f"`/incident list {value}` is not a listing I know. Use `/incident list` or `/incident list all`."


def link_to_failed_attempt(deploy_id: int) -> str:
    return (
        f"Deploy #{deploy_id} was a failed attempt that never reached production, so it cannot "
        "have caused an incident. Link the deploy that did reach production, or `deploy=none`."
    )


def already_resolved(incident_id: int, when: str) -> str:
    return f"Incident #{incident_id} was already resolved at {when}; nothing changed."


def resolve_before_start(incident_id: int, started: str) -> str:
    return (
        f"Incident #{incident_id} started at {started}; it cannot be resolved before that. "
        "Check `at=`."
    )


def incident_resolved(incident_id: int) -> str:
    return f"Incident #{incident_id} resolved."


def incident_relinked(incident_id: int, link_text: str) -> str:
    return f"Incident #{incident_id} updated. {link_text}"


def resolved_after(took: str) -> str:
    return f"resolved after {took}"


def cause_short(cause: str, deploy_id: int | None) -> str:
    if deploy_id:
        return f"deploy #{deploy_id}"
    return "no deploy" if cause == "none" else "not linked"


def no_incidents(only_open: bool) -> str:
    return "No open incidents." if only_open else "No incidents recorded yet."


def incident_list_header(count: int, only_open: bool, tz: str) -> str:
    what = "open incidents" if only_open else "latest incidents"
    return f"*{count} {what}* (times in {tz})"


def incident_list_line(
    incident_id: int, when: str, service: str, title: str, severity: int | None,
    state: str, cause: str, source: str,
) -> str:  # fmt: skip
    sev = f" sev {severity} ·" if severity else ""
    return f"`#{incident_id}` {when} · {service}: {title} ·{sev} {state} · {cause} · {source}"


def link_modal_intro(incident_id: int, title: str) -> str:
    return f"What caused incident #{incident_id} ({title})?"


def severity_option(level: str) -> str:
    return {"1": "1: critical", "2": "2: major", "3": "3: minor", "4": "4: low"}[level]


# ---- the forms ------------------------------------------------------------------------------
INCIDENT_MODAL_TITLE = "Record an incident"
LINK_MODAL_TITLE = "Incident cause"
FIELD_STARTED = "Started at"
FIELD_TITLE = "What is wrong"
FIELD_SEVERITY = "Severity"
FIELD_CAUSE = "Caused by deploy"
LINK_HINT = 'A deploy id, or "none" if no change caused it.'
CAUSE_HINT = (
    'A deploy id, or "none" if no change caused it. Empty links the latest production deploy.'
)


log = logging.getLogger(__name__)

OPEN_KEYS = frozenset({"sev", "deploy", "at"})
MODAL = "incident_modal"
LINK_MODAL = "incident_link_modal"
LIST_LIMIT = 20
# The incident's own fields, in the order the modal shows them (errors name these blocks).
MODAL_FIELDS = ("service", "title", "sev", "deploy", "at")
NOT_GIVEN = object()


@dataclass(frozen=True)
class OpenIncident:
    service: str
    title: str
    severity: int | None
    started_at: pendulum.DateTime
    # An id, None for "no deploy caused this", or NOT_GIVEN to link automatically.
    deploy: object


@dataclass(frozen=True)
class ResolveIncident:
    incident_id: int
    resolved_at: pendulum.DateTime


@dataclass(frozen=True)
class LinkIncident:
    incident_id: int
    deploy_id: int | None


@dataclass(frozen=True)
class ListIncidents:
    only_open: bool


class Help:
    pass


class OpenModal:
    pass


Request = OpenIncident | ResolveIncident | LinkIncident | ListIncidents | Help | OpenModal


# ---- parse -------------------------------------------------------------------------------


def parse(text: str, tz: str, now: pendulum.DateTime) -> Request:
    """Raises UsageError with the problem and a correct example."""
    words = clean(text).split()
    if not words:
        return OpenModal()
    head = words[0].lower()
    if head == "help":
        return Help()
    try:
        if head == "open":
            return _parse_open(text, tz, now)
        if head == "resolve":
            return _parse_resolve(text, tz, now)
        if head == "link":
            return _parse_link(text)
        if head == "list":
            return _parse_list(text)
    except FieldError as error:
        raise UsageError(error.problem, _EXAMPLES[head]) from None
    raise UsageError(unknown_incident_subcommand(words[0]), INCIDENT_OPEN_EXAMPLE)


def _parse_open(text: str, tz: str, now: pendulum.DateTime) -> OpenIncident:
    args = tokenize(text, keys=OPEN_KEYS, flags=frozenset(), example=INCIDENT_OPEN_EXAMPLE)
    values = dict(args.options)
    if len(args.words) > 1:
        values["service"] = args.words[1]
    if len(args.words) > 2:
        values["title"] = " ".join(args.words[2:])
    return build(values, tz, now)


def build(values: dict[str, str], tz: str, now: pendulum.DateTime) -> OpenIncident:
    """An incident from named values (the command's words and options, or the modal)."""
    if not values.get("service"):
        missing = MISSING_INCIDENT_SERVICE
        if not values.get("title", "").strip():
            missing = MISSING_SERVICE_AND_TITLE
        raise FieldError("service", missing)
    service = fields.service(values["service"])
    return OpenIncident(
        service=service,
        title=fields.title(values.get("title", "")),
        severity=fields.severity(values["sev"]) if values.get("sev") else None,
        started_at=fields.moment("at", values["at"], tz, now) if values.get("at") else now,
        deploy=fields.deploy_ref("deploy", values["deploy"]) if values.get("deploy") else NOT_GIVEN,
    )


def _parse_resolve(text: str, tz: str, now: pendulum.DateTime) -> ResolveIncident:
    example = INCIDENT_RESOLVE_EXAMPLE
    args = tokenize(text, keys=frozenset({"at"}), flags=frozenset(), example=example)
    if len(args.words) < 2:
        raise UsageError(RESOLVE_MISSING_ID, example)
    if len(args.words) > 2:
        raise UsageError(RESOLVE_NEEDS_ONE_ID, example)
    at = args.options.get("at")
    return ResolveIncident(
        incident_id=fields.record_id("id", args.words[1], "incident"),
        resolved_at=fields.moment("at", at, tz, now) if at else now,
    )


def _parse_link(text: str) -> LinkIncident:
    example = INCIDENT_LINK_EXAMPLE
    args = tokenize(text, keys=frozenset({"deploy"}), flags=frozenset(), example=example)
    if len(args.words) < 2:
        raise UsageError(LINK_MISSING_ID, example)
    if len(args.words) > 2:
        raise UsageError(LINK_NEEDS_ID_AND_DEPLOY, example)
    if "deploy" not in args.options:
        raise UsageError(LINK_MISSING_DEPLOY, example)
    return LinkIncident(
        incident_id=fields.record_id("id", args.words[1], "incident"),
        deploy_id=fields.deploy_ref("deploy", args.options["deploy"]),
    )


def _parse_list(text: str) -> ListIncidents:
    example = INCIDENT_LIST_EXAMPLE
    args = tokenize(text, keys=frozenset(), flags=frozenset(), example=example)
    rest = [w.lower() for w in args.words[1:]]
    if rest not in ([], ["open"], ["all"]):
        raise UsageError(bad_incident_list(" ".join(args.words[1:])), example)
    return ListIncidents(only_open=rest != ["all"])


_EXAMPLES = {
    "open": INCIDENT_OPEN_EXAMPLE,
    "resolve": INCIDENT_RESOLVE_EXAMPLE,
    "link": INCIDENT_LINK_EXAMPLE,
    "list": INCIDENT_LIST_EXAMPLE,
}


# ---- act ---------------------------------------------------------------------------------


def refusal(error: DomainError, tz: str) -> UsageError | FieldError:
    """The words for what bot.recording refused: a FieldError for the cause (the modal shows
    it on the deploy field), a UsageError with its example otherwise."""
    if isinstance(error, NotFound) and error.kind == "incident":
        return UsageError(incident_not_found(error.id), INCIDENT_LIST_EXAMPLE)
    if isinstance(error, NotFound):
        return FieldError("deploy", fields.deploy_not_found(error.id))
    assert isinstance(error, Conflict)
    record = error.record
    if error.reason == Reason.FAILED_ATTEMPT:
        assert isinstance(record, Deploy)
        return FieldError("deploy", link_to_failed_attempt(record.id))
    assert isinstance(record, Incident)
    if error.reason == Reason.ALREADY_RESOLVED:
        assert record.resolved_at is not None
        return UsageError(
            already_resolved(record.id, show(record.resolved_at, tz)),
            INCIDENT_LIST_EXAMPLE,
        )
    return UsageError(
        resolve_before_start(record.id, show(record.started_at, tz)),
        INCIDENT_RESOLVE_EXAMPLE,
    )


def open_incident(deps: Deps, new: OpenIncident, source_key: str, channel_id: str) -> Linked:
    """Store the incident once per source key, linked to its cause, in one transaction."""
    cause: Cause = AUTO
    if new.deploy is not NOT_GIVEN:
        assert new.deploy is None or isinstance(new.deploy, int)
        cause = new.deploy
    facts = IncidentFacts(
        service=new.service,
        title=new.title,
        severity=new.severity,
        started_at=utc_text(new.started_at),
        cause=cause,
    )
    try:
        with deps.store.write() as db:
            opened = recording.open_incident(
                db,
                facts,
                "slack",
                source_key,
                deps.config.production_environments,
                utc_text(deps.clock.now()),
                channel_id,
            )
    except DomainError as error:
        raise refusal(error, deps.tz) from None
    return Linked(opened.incident, opened.deploy, opened.created)


def resolve(deps: Deps, request: ResolveIncident) -> Linked:
    try:
        with deps.store.write() as db:
            incident = recording.resolve(db, request.incident_id, utc_text(request.resolved_at))
            return _reload(db, incident.id)
    except DomainError as error:
        raise refusal(error, deps.tz) from None


def link(deps: Deps, request: LinkIncident) -> Linked:
    try:
        with deps.store.write() as db:
            incident = recording.link(db, request.incident_id, request.deploy_id)
            return _reload(db, incident.id)
    except DomainError as error:
        raise refusal(error, deps.tz) from None


def _reload(db: Any, incident_id: int) -> Linked:
    linked = load(db, incident_id)
    assert linked is not None
    return linked


# ---- reply -------------------------------------------------------------------------------


def listing(deps: Deps, request: ListIncidents, channel_id: str | None) -> str:
    """The list as mrkdwn for `channel_id` (None: no channel, like App Home), which decides
    whose titles it may show (incident_card.shown_title)."""
    rows = incidents.listing(deps.store.db, request.only_open, LIST_LIMIT)
    if not rows:
        return no_incidents(request.only_open)
    lines = [incident_list_header(len(rows), request.only_open, deps.tz)]
    for i in rows:
        if i.resolved_at:
            took = from_utc_text(i.resolved_at) - from_utc_text(i.started_at)
            state = resolved_after(duration(took.in_seconds()))
        else:
            state = STILL_OPEN
        cause = cause_short(i.cause, i.deploy_id)
        lines.append(
            incident_list_line(
                i.id,
                show(i.started_at, deps.tz),
                mrkdwn(i.service),
                shown_title(i, channel_id),
                i.severity,
                state,
                cause,
                wording.link(i.url, i.source),
            )
        )
    return "\n".join(lines)


def modal(channel_id: str) -> View:
    return modals.form(
        MODAL,
        INCIDENT_MODAL_TITLE,
        {"channel_id": channel_id},
        [
            modals.text_input("service", fields.FIELD_SERVICE, optional=False, placeholder="api"),
            modals.text_input("title", FIELD_TITLE, optional=False),
            modals.select_input("sev", FIELD_SEVERITY, [(s, severity_option(s)) for s in "1234"]),
            modals.text_input("deploy", FIELD_CAUSE, hint=CAUSE_HINT),
            modals.text_input("at", FIELD_STARTED, hint=fields.AT_HINT, placeholder="15m ago"),
        ],
    )


def link_modal(linked: Linked, channel_id: str | None, message_ts: str | None) -> View:
    incident = linked.incident
    current = (
        str(incident.deploy_id)
        if incident.deploy_id
        else ("none" if incident.cause == "none" else None)
    )
    return modals.form(
        LINK_MODAL,
        LINK_MODAL_TITLE,
        {"incident_id": incident.id, "channel_id": channel_id, "message_ts": message_ts},
        [
            section(link_modal_intro(incident.id, mrkdwn(incident.title))),
            modals.text_input(
                "deploy",
                FIELD_CAUSE,
                optional=False,
                hint=LINK_HINT,
                initial=current,
            ),
        ],
    )


# ---- wiring ------------------------------------------------------------------------------


def register(app: App, deps: Deps) -> None:
    @app.command("/incident")
    def on_command(ack: Ack, command: dict[str, Any], client: WebClient, respond: Respond) -> None:
        channel_id = command["channel_id"]
        try:
            request = parse(command.get("text", ""), deps.tz, deps.clock.now())
            if isinstance(request, Help):
                ack(**ephemeral(INCIDENT_HELP))
            elif isinstance(request, OpenModal):
                ack()
                client.views_open(trigger_id=command["trigger_id"], view=modal(channel_id))
            elif isinstance(request, ListIncidents):
                ack(**ephemeral(listing(deps, request, channel_id)))
            elif isinstance(request, ResolveIncident):
                linked = resolve(deps, request)
                ack(**ephemeral(incident_resolved(linked.incident.id)))
                update_card(client, linked, deps.tz)
            elif isinstance(request, LinkIncident):
                try:
                    linked = link(deps, request)
                except FieldError as error:
                    raise UsageError(error.problem, INCIDENT_LINK_EXAMPLE) from None
                ack(**ephemeral(incident_relinked(linked.incident.id, link_text(linked, deps.tz))))
                update_card(client, linked, deps.tz)
            else:
                key = modals.command_key(command)
                try:
                    linked = open_incident(deps, request, key, channel_id)
                except FieldError as error:
                    raise UsageError(error.problem, INCIDENT_OPEN_EXAMPLE) from None
                if not linked.created:
                    ack(**ephemeral(fields.already_recorded("Incident", linked.incident.id)))
                    return
                ack()
                _announce(deps, client, linked, channel_id, respond)
        except UsageError as error:
            ack(**usage(error))

    @app.view(MODAL)
    def on_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        channel_id = modals.metadata(view).get("channel_id", "")
        try:
            new = build(modals.values(view), deps.tz, deps.clock.now())
            key = modals.submission_key(body, channel_id, view)
            linked = open_incident(deps, new, key, channel_id)
        except FieldError as error:
            ack(**modals.field_errors(error, MODAL_FIELDS, "service"))
            return
        ack()
        if linked.created:
            _announce(deps, client, linked, channel_id, None, body["user"]["id"])

    @app.action(LINK_ACTION)
    def on_change_link(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        try:
            incident_id = int(action.get("value", ""))
        except ValueError:
            return
        linked = load(deps.store.db, incident_id)
        if linked is None:
            return
        message = body.get("container", {})
        client.views_open(
            trigger_id=body["trigger_id"],
            view=link_modal(linked, message.get("channel_id"), message.get("message_ts")),
        )

    @app.view(LINK_MODAL)
    def on_link_submit(ack: Ack, view: dict[str, Any], client: WebClient) -> None:
        meta = modals.metadata(view)
        try:
            deploy_id = fields.deploy_ref("deploy", modals.values(view).get("deploy", ""))
            linked = link(deps, LinkIncident(int(meta.get("incident_id", 0)), deploy_id))
        except FieldError as error:
            ack(response_action="errors", errors={"deploy": error.problem})
            return
        except UsageError as error:
            ack(response_action="errors", errors={"deploy": error.problem})
            return
        ack()
        update_card(client, linked, deps.tz)


def _announce(
    deps: Deps,
    client: WebClient,
    linked: Linked,
    channel_id: str,
    respond: Respond | None,
    user_id: str | None = None,
) -> None:
    # Privacy first, so that whatever happens to the post the incident's title is shown
    # elsewhere only once Slack has said its channel is public.
    private = channel_is_private(client, channel_id)
    with deps.store.write() as db:
        recording.channel_privacy(db, linked.incident.id, private)
    text, blocks = card(linked, deps.tz)
    if respond is None and user_id is not None:
        ts = post_or_tell(client, channel_id, user_id, text, blocks)
    else:
        ts = post_in_channel(client, channel_id, text, blocks, respond)
    if ts:
        try:
            with deps.store.write() as db:
                recording.shown_in(db, linked.incident.id, channel_id, ts)
        except Busy:
            # The incident is recorded and posted: only later updates of its message are lost,
            # which is no reason to tell the person it was not recorded.
            log.warning("incident #%s: the database is busy, its message %s in %s will not "
                        "be updated", linked.incident.id, ts, channel_id)  # fmt: skip
