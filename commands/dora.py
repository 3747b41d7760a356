"""/dora: the five DORA metrics for a service or all of them, against the previous window."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

import pendulum
from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot import messages
from bot.core.errors import FieldError, UsageError
from bot.core.moments import utc_text
from bot.core.windows import MAX_DAYS, BadWindow, Window, between
from bot.core.windows import parse as parse_window
from bot.deps import Deps
from bot.metrics.definitions import SOURCE
from bot.metrics.report import Report
from bot.metrics.report import build as build_report
from bot.scheduling import next_run
from bot.slack.admins import is_admin
from bot.slack.metric_card import card
from bot.slack.replies import ephemeral, post_in_channel, text_blocks, usage
from bot.summary import schedule as summary_schedule
from commands import _fields as fields
from commands._tokens import clean, tokenize
from storage import subscriptions
from storage.subscriptions import Subscription

KEYS = frozenset({"env", "from", "to"})
# Keys that would narrow the numbers to one person (SPEC.md principle 1): refused, not unknown.
PERSON_KEYS = frozenset({"by", "user", "author", "person", "engineer"})
ALL = "all"
SHARE = "share"
DEFAULT_WINDOW = "30d"
SUBSCRIBE, UNSUBSCRIBE, SUBSCRIPTIONS = "subscribe", "unsubscribe", "subscriptions"
SUBSCRIBE_KEYS = frozenset({"service"})
DEFAULT_DAY, DEFAULT_TIME = "mon", "09:00"
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


@dataclass(frozen=True)
class Subscribe:
    day: str  # mon..sun
    time: str  # HH:MM
    timezone: str
    service: str | None


class Unsubscribe:
    pass


class Subscriptions:
    pass


@dataclass(frozen=True)
class NamesAPerson:
    reason: str


Request = Query | Help | Subscribe | Unsubscribe | Subscriptions | NamesAPerson


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
    if head == SUBSCRIBE:
        return parse_subscribe(text, tz)
    if head in (UNSUBSCRIBE, SUBSCRIPTIONS):
        if len(words) > 1:
            grammar = f"/dora {head}"
            raise UsageError(messages.unexpected_words(words[1:], grammar), grammar)
        return Unsubscribe() if head == UNSUBSCRIBE else Subscriptions()
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


def parse_subscribe(text: str, tz: str) -> Subscribe:
    """`subscribe [DAY] [HH:MM] [TZ] [service=SERVICE]`, the words in any order; what is
    left out is Monday, 09:00, the team time zone `tz`, all services."""
    example = messages.DORA_SUBSCRIBE_EXAMPLE
    args = tokenize(text, keys=SUBSCRIBE_KEYS, flags=frozenset(), example=example)
    found: dict[str, tuple[str, str]] = {}  # kind -> (the word as given, its value)
    for word in args.words[1:]:
        kind, value = _subscribe_word(word)
        if kind in found:
            raise UsageError(messages.subscribe_twice(kind, found[kind][0], word), example)
        found[kind] = (word, value)
    service = None
    if "service" in args.options:
        try:
            service = fields.service(args.options["service"])
        except FieldError as error:
            raise UsageError(error.problem, example) from None
    return Subscribe(
        day=found.get("day", ("", DEFAULT_DAY))[1],
        time=found.get("time", ("", DEFAULT_TIME))[1],
        timezone=found.get("time zone", ("", tz))[1],
        service=service,
    )


def _subscribe_word(word: str) -> tuple[str, str]:
    """What a word of `subscribe` is: ("day", "mon"), ("time", "09:00") or ("time zone",
    its IANA name). Raises UsageError."""
    try:
        if found := fields.weekly_time(word):
            return found
    except FieldError as error:
        raise UsageError(error.problem, messages.DORA_SUBSCRIBE_EXAMPLE) from None
    if zone := _time_zones().get(word.lower()):
        return "time zone", zone
    raise UsageError(messages.subscribe_bad_word(word), messages.DORA_SUBSCRIBE_EXAMPLE)


@cache
def _time_zones() -> dict[str, str]:
    """IANA names by their lower case, so "europe/berlin" is understood too. Only names in
    the zone database: pendulum.timezone() would also read "localtime" or a relative path."""
    return {name.lower(): name for name in pendulum.timezones()}


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
        missing = "to" if end is None else "from"
        raise UsageError(messages.dora_range_missing(missing), messages.DORA_RANGE_EXAMPLE)
    if words:
        raise UsageError(messages.DORA_WINDOW_AND_RANGE, messages.DORA_RANGE_EXAMPLE)
    try:
        return between(start, end, now, tz)
    except BadWindow as error:
        problem = messages.dora_bad_range(start, end, str(error), tz)
        raise UsageError(problem, messages.DORA_RANGE_EXAMPLE) from None


# ---- act ---------------------------------------------------------------------------------


def report(deps: Deps, query: Query) -> Report:
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


def subscribe(
    deps: Deps, request: Subscribe, channel_id: str, user_id: str
) -> tuple[Subscription, Subscription | None]:
    """Store the channel's subscription, replacing any; returns it and the one before (the
    same one when nothing changed)."""
    now = utc_text(deps.clock.now())
    with deps.store.write() as db:
        before = subscriptions.get(db, channel_id)
        sub = Subscription(
            channel_id=channel_id,
            day=request.day,
            time=request.time,
            timezone=request.timezone,
            service=request.service,
            enabled=1,
            disabled_reason=None,
            created_by=user_id,
            created_at=before.created_at if before else now,
            updated_at=now,
        )
        if before is not None and sub == replace(before, created_by=user_id, updated_at=now):
            # Left as it was: updated_at tells the start-up catch-up whether this week's
            # run was missed or came before the subscription.
            return before, before
        subscriptions.save(db, sub)
    return sub, before


def unsubscribe(deps: Deps, channel_id: str) -> Subscription | None:
    """Delete the channel's subscription; returns it, or None when there was none. Its
    claims stay: subscribing again the same week does not post that week a second time."""
    with deps.store.write() as db:
        before = subscriptions.get(db, channel_id)
        subscriptions.delete(db, channel_id)
    return before


def change_subscription(
    deps: Deps, client: WebClient, request: Subscribe | Unsubscribe, channel_id: str, user_id: str
) -> str | None:
    """Store the change and rebuild the jobs; returns the confirmation, or None when there
    was no subscription to stop."""
    if isinstance(request, Unsubscribe):
        before = unsubscribe(deps, channel_id)
        if before is None:
            return None
        text = messages.unsubscribed(_schedule(before), user_id)
    else:
        sub, before = subscribe(deps, request, channel_id, user_id)
        text = subscribed_text(sub, before, user_id, deps.clock.now())
    summary_schedule.sync(deps, client)
    return text


# ---- reply -------------------------------------------------------------------------------


def _schedule(sub: Subscription) -> str:
    return messages.subscription_schedule(sub.day, sub.time, sub.timezone, sub.service)


def subscribed_text(
    sub: Subscription, before: Subscription | None, user_id: str, now: pendulum.DateTime
) -> str:
    upcoming = messages.subscription_next(next_run(sub, now).format(messages.NEXT_RUN_FORMAT))
    if before is None or not before.enabled:
        return messages.subscribed(_schedule(sub), upcoming, user_id)
    if before is sub:
        return messages.subscription_unchanged(_schedule(sub), upcoming)
    return messages.subscription_changed(_schedule(sub), _schedule(before), upcoming, user_id)


def listing(deps: Deps) -> str:
    found = subscriptions.every(deps.store.db)
    if not found:
        return messages.NO_SUBSCRIPTIONS
    lines = [
        messages.subscription_line(
            sub.channel_id,
            _schedule(sub),
            None if sub.enabled else messages.disabled_reason(sub.disabled_reason or ""),
        )
        for sub in found
    ]
    return "\n".join([messages.SUBSCRIPTIONS_HEADER, *lines])


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
        elif isinstance(request, Subscriptions):
            ack(**ephemeral(listing(deps)))
        elif isinstance(request, Subscribe | Unsubscribe):
            if not is_admin(command["user_id"], deps.config, client):
                ack(**ephemeral(messages.SUBSCRIBE_ADMINS_ONLY))
                return
            user_id, channel_id = command["user_id"], command["channel_id"]
            text = change_subscription(deps, client, request, channel_id, user_id)
            if text is None:
                ack(**ephemeral(messages.NOT_SUBSCRIBED))
                return
            ack()
            # In the channel, not to the admin alone: everyone there gets the summaries.
            if post_in_channel(client, channel_id, text, text_blocks(text), respond) is None:
                # Answered through response_url: a private channel without me, where the
                # summaries could not be posted either.
                respond(**ephemeral(messages.SUBSCRIBE_INVITE_ME))
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
