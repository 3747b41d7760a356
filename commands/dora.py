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

from bot.core.errors import Conflict, FieldError, Invalid, UsageError
from bot.core.moments import utc_text
from bot.core.windows import MAX_DAYS, BadWindow, Window, between
from bot.core.windows import parse as parse_window
from bot.core.wording import WEEKDAYS, WINDOW_DATES, mrkdwn
from bot.deps import Deps
from bot.metrics.definitions import SOURCE
from bot.metrics.report import Report
from bot.metrics.report import build as build_report
from bot.metrics.words import (
    METRIC_FAILURE_RATE,
    METRIC_FREQUENCY,
    METRIC_LEAD_TIME,
    METRIC_RECOVERY,
    METRIC_REWORK,
)
from bot.scheduling import next_run
from bot.slack.admins import is_admin
from bot.slack.metric_card import card
from bot.slack.replies import ephemeral, post_in_channel, text_blocks, usage
from bot.summary import schedule as summary_schedule
from bot.summary import text as summary_text
from bot.teams import rules as teams
from bot.teams import text as team_text
from bot.teams.rules import Scope, UnknownTeam
from commands import _fields as fields
from commands._tokens import clean, repeated_key, tokenize, unexpected_words
from storage import subscriptions
from storage.subscriptions import Subscription

# ==== words: what this command says (ARCHITECTURE.md, "Words") ===============================

# ---- grammar, help and refusals -------------------------------------------------------------
DORA_GRAMMAR = "/dora [SERVICE|all] [WINDOW] [env=ENV] [share]"
DORA_EXAMPLE = "/dora api 30d"
DORA_WINDOW_EXAMPLE = "/dora api last month"
DORA_RANGE_EXAMPLE = "/dora api from=2026-11-01 to=2026-11-30"
DORA_WINDOWS = (
    "`7d`, `30d` (the default), `90d`, any `Nd`, `this week`, `last week`, `this month`, "
    "`last month`, `this quarter`, `last quarter`, or `from=DATE to=DATE`"
)
DORA_NO_INDIVIDUALS = (
    "Shipshape reports teams, services and environments, never individuals: how fast and how "
    "safely changes reach users is a property of the delivery system, and numbers per person "
    "invite gaming and blame rather than better delivery. Nothing was looked up or stored. "
    "Ask about a service or the whole organisation instead, like `/dora api 30d` or `/dora all`."
)


# DORA's grouping since its 2024 report (dora.dev, "DORA's software delivery performance
# metrics"), and its advice that the metrics describe one application or service.
DORA_THROUGHPUT = "*Throughput*, how many changes reach production and how quickly:"
DORA_INSTABILITY = "*Instability*, how often deployments go wrong:"
DORA_NOT_A_RANKING = (
    "DORA measures one application or service against itself over time and advises against "
    "comparing teams by these numbers, so Shipshape never ranks teams against each other."
)


def dora_help(source: str) -> str:
    return f"""*DORA metrics for a service or the whole organisation*
`{DORA_GRAMMAR}`
• `/dora`: all services, the last 30 days, against the 30 days before
• `/dora api 7d`: one service, the last 7 days
• `/dora all last month env=staging`: staging instead of the production environments
• `{DORA_RANGE_EXAMPLE} share`: whole days in the team time zone, both included, posted in the channel
Windows: {DORA_WINDOWS}.
*How each metric is counted.* A deployment is a successful deploy to production; a failed attempt never reached users and is counted apart, in no metric. DORA groups its five metrics in two:
{DORA_THROUGHPUT}
• *{METRIC_LEAD_TIME}*: from a change's commit to the deployment that shipped it, median and p90, over the deployments whose changes are known (from GitHub, GitLab or the API). Elite under a day, high under a week, medium under 30 days.
• *{METRIC_FREQUENCY}*: deployments finished in the window, per week, and on how many days. Elite daily or more, high weekly, medium monthly.
• *{METRIC_RECOVERY}*: start to resolution of incidents caused by a deployment and resolved in the window, median and p90; beside it, time to restore over every incident. Elite under an hour, high under a day, medium under a week.
{DORA_INSTABILITY}
• *{METRIC_FAILURE_RATE}*: the share of deployments that caused an incident or were rolled back. Elite 5% or less, high 10%, medium 15%.
• *{METRIC_REWORK}*: the share of deployments that were hotfixes (`--hotfix`) or rollbacks. DORA gives it no band.
Each metric shows its change against the previous window of the same length (rates in percentage points). Bands: {source} (the last DORA published per metric).
{DORA_NOT_A_RANKING}
{DORA_SUBSCRIBE_HELP}
{DORA_TEAMS_HELP}
Shipshape reports teams, services and environments, never individuals."""


def dora_not_a_person_key(key: str) -> str:
    return f"`{key}=` asks for one person's numbers. {DORA_NO_INDIVIDUALS}"


def window_refusal(reason: str, text: str, start: str | None, end: str | None, tz: str) -> str:
    """Why /dora cannot show the window asked for, by BadWindow's reason code; `shipshape
    report` renders the same codes for its options (bot.app.text.report_window_refusal)."""
    if reason == "range_missing":
        key = "to" if end is None else "from"
        return f"`{key}=` is missing: `from=` and `to=` go together, give both dates."
    if reason == "window_and_range":
        return "Give either a window like `7d` or `from=` and `to=`, not both."
    if reason == "days_out_of_range":
        return f"`{text}` is not a window I can show: use 1d to {MAX_DAYS}d."
    if reason == "unreadable":
        return f"I can't read `{text}` as a window. Use {DORA_WINDOWS}."
    if reason == "end_before_start":
        return f"`to={end}` is not after `from={start}`: the window must end after it starts."
    if reason == "out_of_range":
        return (
            f"`from={start} to={end}` goes outside the dates I can report on: "
            f"give dates from {WINDOW_DATES}."
        )
    return (
        f"I can't read `from={start} to={end}` as a window. Use dates like "
        f"`from=2026-11-01 to=2026-11-30` (whole days in {tz}, both included), or full times "
        "like `from=2026-11-01T09:00Z`, not in the future."
    )


# ---- weekly summary subscriptions -----------------------------------------------------------
# /dora subscribe|unsubscribe|subscriptions, the schedule, and `shipshape summary --post`.
DORA_SUBSCRIBE_GRAMMAR = "/dora subscribe [DAY] [HH:MM] [TZ] [service=SERVICE|team=TEAM]"
DORA_SUBSCRIBE_EXAMPLE = "/dora subscribe monday 09:00 Europe/Berlin service=api"
DORA_SUBSCRIBE_HELP = f"""*Weekly summary in this channel* (subscribing and unsubscribing: admins only)
• `{DORA_SUBSCRIBE_GRAMMAR}`: every week at this day and time (default Monday 09:00 in the team time zone), for all services, one, or a team's
• `/dora unsubscribe`: stop it · `/dora subscriptions`: every subscribed channel"""
SUBSCRIBE_ADMINS_ONLY = (
    "Only Shipshape admins can subscribe a channel to the weekly summary or stop it: the "
    "people listed in SHIPSHAPE_ADMINS, and workspace admins and owners. Ask one of them; "
    "`/dora subscriptions` shows what is set up."
)
NOT_SUBSCRIBED = (
    "This channel has no weekly summary, so there is nothing to stop. "
    "`/dora subscriptions` lists the channels that have one."
)
NO_SUBSCRIPTIONS = (
    f"No channel gets the weekly summary yet. An admin can start one in a channel with "
    f"`{DORA_SUBSCRIBE_EXAMPLE}`."
)
SUBSCRIPTIONS_HEADER = "*Weekly summaries in this workspace*"
SUBSCRIBE_INVITE_ME = (
    "I am not a member of this channel, so the weekly summary cannot be posted here yet: "
    "invite me with `/invite @shipshape`."
)


def subscribe_bad_word(word: str) -> str:
    return (
        f"I can't read `{word}` as a day (monday to sunday), a time (HH:MM, 24-hour) or a "
        "time zone (an IANA name like Europe/Berlin)."
    )


def subscribe_twice(what: str, first: str, second: str) -> str:
    return f"Two {what}s, `{first}` and `{second}`: give one."


def subscription_schedule(
    day: str,
    time: str,
    tz: str,
    service: str | None,
    team: str | None = None,
    scope: Scope | None = None,
) -> str:
    """`scope`: the channel's, which a subscription naming no service or team follows."""
    which = f"{service} only" if service else "all services"
    if team:
        which = f"the {team} team's services"
    elif not service and scope is not None and scope.kind != "all":
        which = f"{scope_words(scope)}, as this channel's `/dora scope` says"
    return f"every {WEEKDAYS[day]} at {time} ({tz}), {which}"


NEXT_RUN_FORMAT = "ddd D MMM HH:mm"  # pendulum's tokens: "Mon 30 Nov 09:00"


def subscription_next(when: str) -> str:
    """`when` in the subscription's time zone, formatted with NEXT_RUN_FORMAT."""
    return f"next on {when}"


def subscribed(schedule: str, upcoming: str, user_id: str) -> str:
    return (
        f"Weekly summary {schedule}, in this channel; {upcoming}. "
        f"Set up by <@{user_id}>; `/dora unsubscribe` stops it."
    )


def subscription_changed(schedule: str, was: str, upcoming: str, user_id: str) -> str:
    return (
        f"Weekly summary in this channel changed to {schedule} (was {was}); {upcoming}. "
        f"Changed by <@{user_id}>."
    )


def subscription_unchanged(schedule: str, upcoming: str) -> str:
    return f"This channel already gets the weekly summary {schedule}; {upcoming}. Nothing changed."


def unsubscribed(was: str, user_id: str) -> str:
    return f"Weekly summary stopped in this channel (it was {was}). Stopped by <@{user_id}>."


def subscription_line(channel_id: str, schedule: str, disabled: str | None) -> str:
    line = f"• <#{channel_id}>: {schedule}"
    if disabled is None:
        return line
    return f"{line}. *Stopped*: {disabled}. An admin's `/dora subscribe` there starts it again."


# ---- teams and channel scope ---------------------------------------------------------------
DORA_TEAM_EXAMPLE = "/dora team=payments 30d"
TEAM_SET_GRAMMAR = "/dora team set NAME SERVICE..."
TEAM_SET_EXAMPLE = "/dora team set payments api checkout ledger"
TEAM_REMOVE_GRAMMAR = "/dora team remove NAME"
TEAM_REMOVE_EXAMPLE = "/dora team remove payments"
SCOPE_GRAMMAR = "/dora scope team=NAME | service=NAME | all"
SCOPE_EXAMPLE = "/dora scope team=payments"
DORA_TEAMS_HELP = f"""*Teams and this channel's scope* (changing them: admins only)
• `/dora team=NAME [WINDOW] [env=ENV] [share]`: a team's services counted as one · `/dora teams`: every team
• `{TEAM_SET_GRAMMAR}`: set a team's services (replaces them) · `{TEAM_REMOVE_GRAMMAR}`
• `{SCOPE_GRAMMAR}`: what a plain `/dora` answers for in this channel"""
TEAMS_ADMINS_ONLY = (
    "Only Shipshape admins can change teams or what `/dora` answers for in a channel: the "
    "people listed in SHIPSHAPE_ADMINS, and workspace admins and owners. Nothing was changed. "
    "Ask one of them; `/dora teams` shows the teams."
)
TEAMS_HEADER = "*Teams* (each reported as if its services were one; listed by name, never ranked)"
NO_TEAMS = f"{team_text.NO_TEAMS} An admin can set one up with `{TEAM_SET_EXAMPLE}`."
SERVICE_OR_TEAM = "Give a service or `team=`, not both, like `/dora api` or `/dora team=payments`."
SUBSCRIBE_SERVICE_OR_TEAM = "Give `service=` or `team=`, not both: a summary is for one of them."


def code(name: str) -> str:
    return f"`{mrkdwn(name)}`"


def scope_words(scope: Scope) -> str:
    if scope.kind == "team":
        return f"the {code(scope.name or '')} team"
    if scope.kind == "service":
        return code(scope.name or "")
    return "all services"


def scope_shown(scope: Scope) -> str:
    return (
        f"A plain `/dora` in this channel answers for {scope_words(scope)}. "
        f"Admins change it with `{SCOPE_GRAMMAR}`."
    )


def scope_changed(scope: Scope, before: Scope, user_id: str) -> str:
    if scope == before:
        return f"A plain `/dora` in this channel already answers for {scope_words(scope)}."
    return (
        f"A plain `/dora` in this channel now answers for {scope_words(scope)} (was "
        f"{scope_words(before)}). Changed by <@{user_id}>."
    )


def team_in_use(error: teams.InUse) -> str:
    return team_text.team_in_use(code(error.name), error.scoped, error.subscribed, _channel)


def _channel(channel_id: str) -> str:
    return f"<#{channel_id}>"


KEYS = frozenset({"env", "from", "to", "team"})
# Keys that would narrow the numbers to one person (SPEC.md principle 1): refused, not unknown.
PERSON_KEYS = frozenset({"by", "user", "author", "person", "engineer"})
ALL = "all"
SHARE = "share"
DEFAULT_WINDOW = "30d"
SUBSCRIBE, UNSUBSCRIBE, SUBSCRIPTIONS = "subscribe", "unsubscribe", "subscriptions"
SUBSCRIBE_KEYS = frozenset({"service", "team"})
TEAM, TEAMS, SCOPE = "team", "teams", "scope"
SET, REMOVE = "set", "remove"
SCOPE_KEYS = frozenset({"team", "service"})
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
    service: str | None  # None: all services (or the channel's scope, when `scoped`)
    environment: str | None  # None: the production environments
    window: Window
    share: bool
    team: str | None = None
    scoped: bool = False  # no SERVICE, `all` or team= given: the channel's scope decides


class Help:
    pass


@dataclass(frozen=True)
class Subscribe:
    day: str  # mon..sun
    time: str  # HH:MM
    timezone: str
    service: str | None
    team: str | None = None


class Unsubscribe:
    pass


class Subscriptions:
    pass


@dataclass(frozen=True)
class NamesAPerson:
    reason: str


@dataclass(frozen=True)
class SetTeam:
    name: str
    services: tuple[str, ...]  # as given, in order


@dataclass(frozen=True)
class RemoveTeam:
    name: str


class ListTeams:
    pass


@dataclass(frozen=True)
class SetScope:
    scope: Scope


class ShowScope:
    pass


Request = (
    Query
    | Help
    | Subscribe
    | Unsubscribe
    | Subscriptions
    | NamesAPerson
    | SetTeam
    | RemoveTeam
    | ListTeams
    | SetScope
    | ShowScope
)
TeamChange = SetTeam | RemoveTeam | SetScope


# ---- parse -------------------------------------------------------------------------------


def parse(text: str, tz: str, now: pendulum.DateTime) -> Request:
    """Raises UsageError with the problem and a correct example."""
    cleaned = clean(text)
    # Checked before anything else, so that a request about a person is never half-read.
    if key := _PERSON_KEY.search(cleaned):
        return NamesAPerson(dora_not_a_person_key(key.group(1).lower()))
    if _PERSON.search(cleaned):
        return NamesAPerson(DORA_NO_INDIVIDUALS)
    words = cleaned.split()
    head = words[0].lower() if words else ""
    if head == "help":
        return Help()
    if head == SUBSCRIBE:
        return parse_subscribe(text, tz)
    if head in (UNSUBSCRIBE, SUBSCRIPTIONS, TEAMS):
        if len(words) > 1:
            grammar = f"/dora {head}"
            raise UsageError(unexpected_words(words[1:], grammar), grammar)
        return {UNSUBSCRIBE: Unsubscribe, SUBSCRIPTIONS: Subscriptions, TEAMS: ListTeams}[head]()
    if head == TEAM:
        return parse_team(text)
    if head == SCOPE:
        return parse_scope(text)
    args = tokenize(text, keys=KEYS, flags=frozenset(), example=DORA_EXAMPLE)
    rest = [w for w in args.words if w.lower() != SHARE]
    if len(args.words) - len(rest) > 1:
        raise UsageError(repeated_key(SHARE), DORA_EXAMPLE)
    service_words, window_words = _split_words(rest)
    if len(service_words) > 1:
        raise UsageError(
            unexpected_words(service_words[1:], DORA_GRAMMAR),
            DORA_EXAMPLE,
        )
    team = args.options.get("team")
    if team is not None:
        if service_words:
            raise UsageError(SERVICE_OR_TEAM, DORA_TEAM_EXAMPLE)
        team = _team_name(team, DORA_TEAM_EXAMPLE)
    service = None
    if service_words and service_words[0].lower() != ALL:
        service = _checked(fields.service, service_words[0])
    env = _checked(fields.environment, args.options["env"]) if "env" in args.options else None
    window = _window(window_words, args.options, tz, now)
    share = len(rest) < len(args.words)
    scoped = not service_words and team is None
    return Query(service, env, window, share, team, scoped)


def parse_team(text: str) -> SetTeam | RemoveTeam:
    """`team set NAME SERVICE...` or `team remove NAME`."""
    words = tokenize(text, keys=frozenset(), flags=frozenset(), example=TEAM_SET_EXAMPLE).words
    action = words[1].lower() if len(words) > 1 else ""
    if action == SET:
        if len(words) < 4:
            raise UsageError(f"Give the team's name and its services: `{TEAM_SET_GRAMMAR}`.",
                             TEAM_SET_EXAMPLE)  # fmt: skip
        name = _team_name(words[2], TEAM_SET_EXAMPLE)
        services = tuple(_service_name(w, TEAM_SET_EXAMPLE) for w in words[3:])
        return SetTeam(name, services)
    if action == REMOVE:
        if len(words) != 3:
            raise UsageError(f"Give one team's name: `{TEAM_REMOVE_GRAMMAR}`.", TEAM_REMOVE_EXAMPLE)
        return RemoveTeam(_team_name(words[2], TEAM_REMOVE_EXAMPLE))
    shown = f"`{' '.join(words[:2])}`"
    raise UsageError(
        f"I can't read {shown}: use `{TEAM_SET_GRAMMAR}`, `{TEAM_REMOVE_GRAMMAR}`, "
        "or `/dora teams` to list them.",
        TEAM_SET_EXAMPLE,
    )


def parse_scope(text: str) -> SetScope | ShowScope:
    """`scope team=NAME`, `scope service=NAME` or `scope all`; `scope` alone shows it."""
    args = tokenize(text, keys=SCOPE_KEYS, flags=frozenset(), example=SCOPE_EXAMPLE)
    rest = args.words[1:]
    given = len(rest) + len(args.options)
    if given == 0:
        return ShowScope()
    if given > 1 or (rest and rest[0].lower() != ALL):
        shown = " ".join([*rest, *(f"{k}={v}" for k, v in args.options.items())])
        raise UsageError(unexpected_words([shown], SCOPE_GRAMMAR), SCOPE_EXAMPLE)
    if rest:
        return SetScope(teams.ALL)
    if "team" in args.options:
        return SetScope(Scope("team", _team_name(args.options["team"], SCOPE_EXAMPLE)))
    return SetScope(Scope("service", _service_name(args.options["service"], SCOPE_EXAMPLE)))


def _team_name(value: str, example: str) -> str:
    try:
        return teams.checked_name("team", fields.printable("team", value))
    except FieldError as error:
        raise UsageError(error.problem, example) from None
    except Invalid:
        raise UsageError(team_text.bad_team_name(value, code), example) from None


def _service_name(value: str, example: str) -> str:
    try:
        return fields.service(value)
    except FieldError as error:
        raise UsageError(error.problem, example) from None


def parse_subscribe(text: str, tz: str) -> Subscribe:
    """`subscribe [DAY] [HH:MM] [TZ] [service=SERVICE|team=TEAM]`, the words in any order;
    what is left out is Monday, 09:00, the team time zone `tz`, all services."""
    example = DORA_SUBSCRIBE_EXAMPLE
    args = tokenize(text, keys=SUBSCRIBE_KEYS, flags=frozenset(), example=example)
    found: dict[str, tuple[str, str]] = {}  # kind -> (the word as given, its value)
    for word in args.words[1:]:
        kind, value = _subscribe_word(word)
        if kind in found:
            raise UsageError(subscribe_twice(kind, found[kind][0], word), example)
        found[kind] = (word, value)
    if "service" in args.options and "team" in args.options:
        raise UsageError(SUBSCRIBE_SERVICE_OR_TEAM, example)
    service = team = None
    if "service" in args.options:
        service = _service_name(args.options["service"], example)
    if "team" in args.options:
        team = _team_name(args.options["team"], example)
    return Subscribe(
        day=found.get("day", ("", DEFAULT_DAY))[1],
        time=found.get("time", ("", DEFAULT_TIME))[1],
        timezone=found.get("time zone", ("", tz))[1],
        service=service,
        team=team,
    )


def _subscribe_word(word: str) -> tuple[str, str]:
    """What a word of `subscribe` is: ("day", "mon"), ("time", "09:00") or ("time zone",
    its IANA name). Raises UsageError."""
    try:
        if found := fields.weekly_time(word):
            return found
    except FieldError as error:
        raise UsageError(error.problem, DORA_SUBSCRIBE_EXAMPLE) from None
    if zone := _time_zones().get(word.lower()):
        return "time zone", zone
    raise UsageError(subscribe_bad_word(word), DORA_SUBSCRIBE_EXAMPLE)


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
        raise UsageError(error.problem, DORA_EXAMPLE) from None


def _window(words: list[str], options: dict[str, str], tz: str, now: pendulum.DateTime) -> Window:
    start, end = options.get("from"), options.get("to")
    text = " ".join(words) or DEFAULT_WINDOW
    try:
        if start is None and end is None:
            return parse_window(text, now, tz)
        if start is None or end is None:
            raise BadWindow("range_missing")
        if words:
            raise BadWindow("window_and_range")
        return between(start, end, now, tz)
    except BadWindow as error:
        problem = window_refusal(str(error), text, start, end, tz)
        example = DORA_WINDOW_EXAMPLE if start is None and end is None else DORA_RANGE_EXAMPLE
        raise UsageError(problem, example) from None


# ---- act ---------------------------------------------------------------------------------


def report(deps: Deps, query: Query, channel_id: str | None = None) -> Report:
    """The numbers asked for; a plain `/dora` answers for `channel_id`'s scope. Raises
    UnknownTeam."""
    db = deps.store.db
    service, team = query.service, query.team
    if query.scoped and channel_id is not None:
        scope = teams.channel_scope(db, channel_id)
        service = scope.name if scope.kind == "service" else None
        team = scope.name if scope.kind == "team" else None
    environments = (
        (query.environment,) if query.environment else deps.config.production_environments
    )
    return build_report(
        db,
        query.window,
        environments=environments,
        environment=query.environment,
        service=service,
        tz=deps.tz,
        team=teams.find(db, team) if team is not None else None,
    )


def unknown_team(error: UnknownTeam) -> UsageError:
    example = f"/dora team={error.known[0]}" if error.known else TEAM_SET_EXAMPLE
    return UsageError(team_text.unknown_team(error.name, error.known, code), example)


def change_teams(deps: Deps, request: TeamChange, channel_id: str, user_id: str) -> str:
    """Store an admin's change to the teams or the channel's scope; returns the reply.
    Raises UnknownTeam or Conflict."""
    now = deps.clock.now()
    if isinstance(request, SetTeam):
        done = teams.set_team(deps.store, request.name, request.services, now)
        before = done.before.services if done.before else None
        text = team_text.team_saved(done.team.name, done.team.services, before, code)
        if done.unrecorded:
            text += "\n" + team_text.unrecorded(done.unrecorded, code)
        return text
    if isinstance(request, RemoveTeam):
        removed = teams.remove_team(deps.store, request.name)
        return team_text.team_removed(removed.name, removed.services, code)
    before_scope = teams.set_scope(deps.store, channel_id, request.scope, user_id, now)
    return scope_changed(request.scope, before_scope, user_id)


def teams_listing(deps: Deps) -> str:
    found = teams.every(deps.store.db)
    if not found:
        return NO_TEAMS
    lines = [f"• {team_text.team_line(t.name, t.services, code)}" for t in found]
    return "\n".join([TEAMS_HEADER, *lines])


def subscribe(
    deps: Deps, request: Subscribe, channel_id: str, user_id: str
) -> tuple[Subscription, Subscription | None]:
    """Store the channel's subscription, replacing any; returns it and the one before (the
    same one when nothing changed). Raises UnknownTeam."""
    now = utc_text(deps.clock.now())
    with deps.store.write() as db:
        if request.team is not None:
            teams.find(db, request.team)  # raises UnknownTeam: nothing stored
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
            team=request.team,
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
        text = unsubscribed(_schedule(deps, before), user_id)
    else:
        sub, before = subscribe(deps, request, channel_id, user_id)
        text = subscribed_text(deps, sub, before, user_id)
    summary_schedule.sync(deps, client)
    return text


# ---- reply -------------------------------------------------------------------------------


def _schedule(deps: Deps, sub: Subscription) -> str:
    scope = teams.channel_scope(deps.store.db, sub.channel_id)
    return subscription_schedule(sub.day, sub.time, sub.timezone, sub.service, sub.team, scope)


def subscribed_text(
    deps: Deps, sub: Subscription, before: Subscription | None, user_id: str
) -> str:
    upcoming = subscription_next(next_run(sub, deps.clock.now()).format(NEXT_RUN_FORMAT))
    if before is None or not before.enabled:
        return subscribed(_schedule(deps, sub), upcoming, user_id)
    if before is sub:
        return subscription_unchanged(_schedule(deps, sub), upcoming)
    return subscription_changed(_schedule(deps, sub), _schedule(deps, before), upcoming, user_id)


def listing(deps: Deps) -> str:
    found = subscriptions.every(deps.store.db)
    if not found:
        return NO_SUBSCRIPTIONS
    lines = [
        subscription_line(
            sub.channel_id,
            _schedule(deps, sub),
            None if sub.enabled else summary_text.disabled_reason(sub.disabled_reason or ""),
        )
        for sub in found
    ]
    return "\n".join([SUBSCRIPTIONS_HEADER, *lines])


# ---- wiring ------------------------------------------------------------------------------


def register(app: App, deps: Deps) -> None:
    @app.command("/dora")
    def on_command(ack: Ack, command: dict[str, Any], client: WebClient, respond: Respond) -> None:
        try:
            request = parse(command.get("text", ""), deps.tz, deps.clock.now())
            answer(ack, command, client, respond, request)
        except UsageError as error:
            ack(**usage(error))
        except UnknownTeam as error:
            ack(**usage(unknown_team(error)))

    def answer(
        ack: Ack, command: dict[str, Any], client: WebClient, respond: Respond, request: Request
    ) -> None:
        user_id, channel_id = command["user_id"], command["channel_id"]
        if isinstance(request, Help):
            ack(**ephemeral(dora_help(SOURCE)))
        elif isinstance(request, Subscriptions):
            ack(**ephemeral(listing(deps)))
        elif isinstance(request, ListTeams):
            ack(**ephemeral(teams_listing(deps)))
        elif isinstance(request, ShowScope):
            ack(**ephemeral(scope_shown(teams.channel_scope(deps.store.db, channel_id))))
        elif isinstance(request, SetTeam | RemoveTeam | SetScope):
            if not is_admin(user_id, deps.config, client):
                ack(**ephemeral(TEAMS_ADMINS_ONLY))
                return
            try:
                ack(**ephemeral(change_teams(deps, request, channel_id, user_id)))
            except Conflict as error:
                assert isinstance(error.record, teams.InUse)
                ack(**ephemeral(team_in_use(error.record)))
        elif isinstance(request, Subscribe | Unsubscribe):
            if not is_admin(user_id, deps.config, client):
                ack(**ephemeral(SUBSCRIBE_ADMINS_ONLY))
                return
            text = change_subscription(deps, client, request, channel_id, user_id)
            if text is None:
                ack(**ephemeral(NOT_SUBSCRIBED))
                return
            ack()
            # In the channel, not to the admin alone: everyone there gets the summaries.
            if post_in_channel(client, channel_id, text, text_blocks(text), respond) is None:
                # Answered through response_url: a private channel without me, where the
                # summaries could not be posted either.
                respond(**ephemeral(SUBSCRIBE_INVITE_ME))
        elif isinstance(request, NamesAPerson):
            ack(**ephemeral(request.reason))
        elif request.share:
            # Computed before the ack so that a failure reaches the person as an apology.
            text, blocks = card(report(deps, request, channel_id), deps.tz, user_id)
            ack()
            post_in_channel(client, channel_id, text, blocks, respond)
        else:
            text, blocks = card(report(deps, request, channel_id), deps.tz)
            ack(**ephemeral(text, blocks))
