"""/dora: the five DORA metrics for a service or all of them, against the previous window."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pendulum
from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot import messages
from bot.deps import Deps
from bot.metric_rows import Row, rows
from bot.metrics import SOURCE
from bot.replies import ephemeral, post_in_channel, usage
from bot.report import build as build_report
from bot.times import show
from bot.windows import MAX_DAYS, BadWindow, Window, between
from bot.windows import parse as parse_window
from commands import fields
from commands.args import FieldError, UsageError, clean, tokenize

KEYS = frozenset({"env", "from", "to"})
# Keys that would narrow the numbers to one person (SPEC.md principle 1): refused, not unknown.
PERSON_KEYS = frozenset({"by", "user", "author", "person", "engineer"})
ALL = "all"
SHARE = "share"
DEFAULT_WINDOW = "30d"
LATER = frozenset({"subscribe", "unsubscribe", "subscriptions"})
# A Slack mention (escaped "<@U123|alice>", or "@alice" as typed, since the manifest does
# not escape), or a person key, anywhere in the text.
_PERSON = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>|(?:^|\s)@\w")
_PERSON_KEY = re.compile(r"(?:^|\s)\"?(" + "|".join(sorted(PERSON_KEYS)) + r")=", re.IGNORECASE)
# Words that are meant as a window, even when misspelt, so that "30days" is reported as a
# window problem rather than taken for a service name.
_WINDOW_WORD = re.compile(r"^\d+\s*[a-z]*$", re.IGNORECASE)
_PERIOD_WORDS = frozenset(
    {"this", "last", "next", "week", "month", "quarter", "year", "today", "yesterday"}
)


@dataclass(frozen=True)
class Query:
    service: str | None  # None: all services
    environment: str | None  # None: the production environments
    window: Window
    share: bool


class Help:
    pass


class Later:
    """subscribe / unsubscribe / subscriptions: the weekly summary is a later version."""


@dataclass(frozen=True)
class NamesAPerson:
    reason: str


Request = Query | Help | Later | NamesAPerson


# ---- parse -------------------------------------------------------------------------------


def parse(text: str, tz: str, now: pendulum.DateTime) -> Request:
    """Raises UsageError with the problem and a correct example."""
    cleaned = clean(text)
    # Checked before anything else, so that a request about a person is never half-read.
    if key := _PERSON_KEY.search(cleaned):
        return NamesAPerson(messages.dora_not_a_person_key(key.group(1).lower()))
    if _PERSON.search(cleaned):
        return NamesAPerson(messages.DORA_NO_INDIVIDUALS)
    words = cleaned.split()
    head = words[0].lower() if words else ""
    if head == "help":
        return Help()
    if head in LATER:
        return Later()
    args = tokenize(text, keys=KEYS, flags=frozenset(), example=messages.DORA_EXAMPLE)
    rest = [w for w in args.words if w.lower() != SHARE]
    if len(args.words) - len(rest) > 1:
        raise UsageError(messages.repeated_key(SHARE), messages.DORA_EXAMPLE)
    service_words, window_words = _split_words(rest)
    if len(service_words) > 1:
        raise UsageError(
            messages.unexpected_words(service_words[1:], messages.DORA_GRAMMAR),
            messages.DORA_EXAMPLE,
        )
    service = None
    if service_words and service_words[0].lower() != ALL:
        service = _checked(fields.service, service_words[0])
    env = _checked(fields.environment, args.options["env"]) if "env" in args.options else None
    window = _window(window_words, args.options, tz, now)
    return Query(service, env, window, share=len(rest) < len(args.words))


def _split_words(words: list[str]) -> tuple[list[str], list[str]]:
    """The service (words that are not a window) and the window's words, in order."""
    service: list[str] = []
    window: list[str] = []
    for word in words:
        if _WINDOW_WORD.match(word) or word.lower() in _PERIOD_WORDS:
            window.append(word)
        else:
            service.append(word)
    return service, window


def _checked(check: Callable[[str], str], value: str) -> str:
    try:
        return check(value)
    except FieldError as error:
        raise UsageError(error.problem, messages.DORA_EXAMPLE) from None


def _window(words: list[str], options: dict[str, str], tz: str, now: pendulum.DateTime) -> Window:
    start, end = options.get("from"), options.get("to")
    if start is None and end is None:
        text = " ".join(words) or DEFAULT_WINDOW
        try:
            return parse_window(text, now, tz)
        except BadWindow as error:
            problem = messages.dora_bad_window(text, str(error), MAX_DAYS)
            raise UsageError(problem, messages.DORA_WINDOW_EXAMPLE) from None
    if start is None or end is None:
        raise UsageError(messages.DORA_RANGE_NEEDS_BOTH, messages.DORA_RANGE_EXAMPLE)
    if words:
        raise UsageError(messages.DORA_WINDOW_AND_RANGE, messages.DORA_RANGE_EXAMPLE)
    try:
        return between(start, end, now, tz)
    except BadWindow as error:
        problem = messages.dora_bad_range(start, end, str(error), tz)
        raise UsageError(problem, messages.DORA_RANGE_EXAMPLE) from None


# ---- act ---------------------------------------------------------------------------------


def report(deps: Deps, query: Query) -> dict[str, Any]:
    environments = (
        (query.environment,) if query.environment else deps.config.production_environments
    )
    return build_report(
        deps.store.db,
        query.window,
        environments=environments,
        environment=query.environment,
        service=query.service,
        tz=deps.tz,
    )


# ---- reply -------------------------------------------------------------------------------


def _text(row: Row) -> str:
    """A row as mrkdwn: the headline, then the change and what it counted."""
    details = " · ".join(d for d in (row.change, *row.counted[:1]) if d)
    lines = [messages.dora_metric(row.name, row.value, row.band), details, *row.counted[1:]]
    return "\n".join(line for line in lines if line)


def card(data: dict[str, Any], tz: str, shared_by: str | None = None) -> tuple[str, list[Block]]:
    """The /dora reply (also the App Home's metrics): a plain-text fallback and its blocks."""
    window, previous = data["window"], data["previous"]["window"]
    title = messages.report_title(data["service"], data["environment"])
    when = messages.report_window(
        show(window["from"], tz), show(window["to"], tz), show(previous["from"], tz)
    )
    sections = [_text(row) for row in rows(data)]
    notes = [messages.bands_source(SOURCE)]
    if shared_by:
        notes.append(messages.shared_by(shared_by))
    blocks: list[Block] = [
        HeaderBlock(text=title),
        ContextBlock(elements=[MarkdownTextObject(text=when)]),
        *(SectionBlock(text=MarkdownTextObject(text=s)) for s in sections),
        ContextBlock(elements=[MarkdownTextObject(text=" · ".join(notes))]),
    ]
    return "\n".join([title, when, *sections, *notes]), blocks


# ---- wiring ------------------------------------------------------------------------------


def register(app: App, deps: Deps) -> None:
    @app.command("/dora")
    def on_command(ack: Ack, command: dict[str, Any], client: WebClient, respond: Respond) -> None:
        try:
            request = parse(command.get("text", ""), deps.tz, deps.clock.now())
        except UsageError as error:
            ack(**usage(error))
            return
        if isinstance(request, Help):
            ack(**ephemeral(messages.dora_help(SOURCE)))
        elif isinstance(request, Later):
            ack(**ephemeral(messages.DORA_SUBSCRIBE_NOT_YET))
        elif isinstance(request, NamesAPerson):
            ack(**ephemeral(request.reason))
        elif request.share:
            # Computed before the ack so that a failure reaches the person as an apology.
            text, blocks = card(report(deps, request), deps.tz, command["user_id"])
            ack()
            post_in_channel(client, command["channel_id"], text, blocks, respond)
        else:
            text, blocks = card(report(deps, request), deps.tz)
            ack(**ephemeral(text, blocks))
