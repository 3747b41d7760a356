"""/pulse: start, send, stop and read anonymous pulse surveys."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.errors import FieldError, UsageError
from bot.core.moments import show, utc_text
from bot.core.wording import WEEKDAYS, plural
from bot.deps import Deps
from bot.pulse import rounds as pulse_rounds
from bot.pulse import schedule as pulse_schedule
from bot.pulse.results import results_reply
from bot.slack import modals
from bot.slack.admins import is_admin
from bot.slack.replies import ephemeral, usage
from commands import _fields as fields
from commands._tokens import tokenize, unexpected_words
from storage import pulse
from storage.pulse import Survey

# ==== words: what this command says (ARCHITECTURE.md, "Words") ===============================

# ---- grammar, help, refusals and replies ----------------------------------------------------
# /pulse start|now|stop|help, the audience, sending, reminders and closing.
PULSE_GRAMMAR = "/pulse start [#CHANNEL|@USERGROUP] [weekly|biweekly] [DAY] [HH:MM]"
PULSE_START_EXAMPLE = "/pulse start biweekly friday 14:00"
PULSE_RESULTS_EXAMPLE = "/pulse results 3 rounds"
PULSE_CADENCES = {"weekly": "every week", "biweekly": "every other week"}
PULSE_ADMINS_ONLY = (
    "Only Shipshape admins can start, send or stop pulse surveys: the people listed in "
    "SHIPSHAPE_ADMINS, and workspace admins and owners. Anyone can see the results with "
    "`/pulse results`."
)
PULSE_NO_SURVEY = (
    "There is no pulse survey in this channel. An admin can start one here with "
    f"`{PULSE_START_EXAMPLE}`."
)
PULSE_NOBODY_TO_ASK = (
    "Nobody there could be asked: every member is a bot, deactivated, or chose "
    '"Stop asking me". Nothing was started. Pick a channel or group with people in it.'
)


def pulse_help(min_respondents: int) -> str:
    return f"""*Pulse surveys: a short anonymous survey by DM about getting changes to production*
`{PULSE_GRAMMAR}` (admins)
• `/pulse start`: ask the members of this channel every other week, Friday 14:00
• `/pulse start @platform-team weekly monday 10:00`: ask a user group every week
• `/pulse start <#C0123ABCD> biweekly thursday 15:30`: ask another channel's members (give its id if Slack sends only its name); results stay in the channel you started it from
• `/pulse now` (admins): send a round now (the open round closes first)
• `/pulse results [N rounds]`: the latest rounds (2 by default) and the change from the one before
• `/pulse stop` (admins): stop the survey and close its open round
Each round DMs three questions (how easy it was to get a change into production, where time was lost, an optional comment), with "Skip this round" and "Stop asking me". One reminder after a day; a round closes after 6 days or at the next round.
*Anonymous by construction*: answers are stored with no name, no user id and no time. While a round is open only a keyed fingerprint lets a person change their answer; its key is deleted when the round closes, so afterwards nothing links an answer to anyone. Results show only for rounds with at least {min_respondents} respondents."""


def pulse_unknown_subcommand(word: str) -> str:
    return (
        f"`{word}` is not something /pulse does. Use `start`, `now`, `results`, `stop` or `help`."
    )


def pulse_bad_start_word(word: str) -> str:
    return (
        f"I can't read `{word}` in `/pulse start`. Give a #channel or @group, `weekly` or "
        "`biweekly`, a day like `friday` and a time like `14:00`, in any order."
    )


def pulse_given_twice(what: str, first: str, second: str) -> str:
    return f"Give one {what}, not both `{first}` and `{second}`."


def pulse_channel_by_name(name: str) -> str:
    return (
        f"Slack sent `#{name}` as plain text, so I can't tell which channel it is. Run "
        "`/pulse start` in that channel itself, or give its id (open the channel's details: "
        "the id, like C0123ABCD, is at the bottom of the About tab)."
    )


def pulse_unknown_usergroup(handle: str) -> str:
    return (
        f"There is no user group `@{handle}` in this workspace. Check the handle in "
        "People > User groups, and type it as `@handle`."
    )


def pulse_audience_unreadable(audience: str, error: str) -> str:
    if error in ("channel_not_found", "not_in_channel"):
        return (
            f"I can't see who is in {audience} ({error}). For a private channel, invite me "
            "first with `/invite @shipshape`; nothing was started."
        )
    return f"Slack would not list the members of {audience} ({error}); nothing was started."


def pulse_bad_rounds(value: str, maximum: int) -> str:
    return f"`{value}` is not a number of rounds I can show. Use a number from 1 to {maximum}."


def pulse_started(
    audience: str,
    people: int,
    cadence: str,
    day: str,
    time: str,
    tz: str,
    first: str,
    min_respondents: int,
    replaced: bool,
) -> str:
    what = "Pulse survey settings replaced" if replaced else "Pulse survey started"
    someone = plural(people, "person", "people")
    return (
        f"{what}: {someone} in {audience} will be asked {PULSE_CADENCES[cadence]} on "
        f"{WEEKDAYS[day]} at {time} ({tz}). The first round goes out {first}"
        " (or now with `/pulse now`).\n"
        "Answers are anonymous: they are stored with no name or user id, and results are "
        f"shown only for rounds with at least {min_respondents} respondents (`/pulse results`)."
    )


def pulse_round_opened(round_id: int, audience: str, closes: str) -> str:
    return (
        f"Round {round_id} is open: the survey is going out by DM to {audience}, about one "
        f"person a second. It closes {closes}; see `/pulse results` once people have answered."
    )


def pulse_stopped(audience: str, closed_round: bool) -> str:
    also = " Its open round is closed." if closed_round else ""
    return (
        f"The pulse survey of {audience} is stopped: no more rounds.{also} Past results stay "
        f"available with `/pulse results`; `{PULSE_START_EXAMPLE}` starts it again."
    )


DEFAULT_CADENCE = "biweekly"
DEFAULT_DAY = "fri"
DEFAULT_TIME = "14:00"
DEFAULT_RESULTS = 2  # the latest round next to the previous one
MAX_RESULTS = 12
CADENCES = frozenset({"weekly", "biweekly"})
ROUNDS_WORDS = frozenset({"round", "rounds"})
# Slack's escaped mentions, "<#C123|name>" and "<!subteam^S123|@name>", and bare ids.
_CHANNEL = re.compile(r"^<#([CG][A-Z0-9]+)(?:\|[^>]*)?>$")
_USERGROUP = re.compile(r"^<!subteam\^(S[A-Z0-9]+)(?:\|[^>]*)?>$")
_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{8,}$")
_USERGROUP_ID = re.compile(r"^S[A-Z0-9]{8,}$")
# As typed, which is how Slack sends them with should_escape false (manifest.yml).
_CHANNEL_NAME = re.compile(r"^#([\w.-]+)$")
_HANDLE = re.compile(r"^@([\w.-]+)$")


@dataclass(frozen=True)
class Audience:
    kind: str  # "channel" or "usergroup"
    id: str  # "" while a user group is known only by its handle
    handle: str = ""

    @property
    def mention(self) -> str:
        return f"<#{self.id}>" if self.kind == "channel" else f"<!subteam^{self.id}>"


@dataclass(frozen=True)
class Start:
    audience: Audience | None  # None: the channel the command was typed in
    cadence: str = DEFAULT_CADENCE
    day: str = DEFAULT_DAY
    time: str = DEFAULT_TIME


@dataclass(frozen=True)
class Results:
    rounds: int = DEFAULT_RESULTS


class Now:
    pass


class Stop:
    pass


class Help:
    pass


Request = Start | Results | Now | Stop | Help


# ---- parse ---------------------------------------------------------------------------------


def parse(text: str) -> Request:
    """Raises UsageError with the problem and a correct example."""
    args = tokenize(text, keys=frozenset(), flags=frozenset(), example=PULSE_START_EXAMPLE)
    words = args.words
    head = words[0].lower() if words else "help"
    rest = words[1:]
    if head == "help":
        return Help()
    if head == "start":
        return _start(rest)
    if head == "results":
        return _results(rest)
    if head in ("now", "stop"):
        if rest:
            raise UsageError(unexpected_words(rest, f"/pulse {head}"), f"/pulse {head}")
        return Now() if head == "now" else Stop()
    raise UsageError(pulse_unknown_subcommand(words[0]), PULSE_START_EXAMPLE)


def _start(words: list[str]) -> Start:
    found: dict[str, tuple[str, Any]] = {}  # what -> (the word, its value)
    for word in words:
        what, value = _start_word(word)
        if what in found:
            problem = pulse_given_twice(what, found[what][0], word)
            raise UsageError(problem, PULSE_START_EXAMPLE)
        found[what] = (word, value)
    values = {what: value for what, (_, value) in found.items()}
    return Start(
        audience=values.get("channel or group"),
        cadence=values.get("cadence", DEFAULT_CADENCE),
        day=values.get("day", DEFAULT_DAY),
        time=values.get("time", DEFAULT_TIME),
    )


def _start_word(word: str) -> tuple[str, Any]:
    """What one word of `/pulse start` gives, and its value."""
    lower = word.lower()
    if lower in CADENCES:
        return "cadence", lower
    try:
        if found := fields.weekly_time(word):
            return found
    except FieldError as error:
        raise UsageError(error.problem, PULSE_START_EXAMPLE) from None
    if match := _CHANNEL.match(word) or _CHANNEL_ID.match(word):
        return "channel or group", Audience("channel", match.group(1 if match.groups() else 0))
    if match := _USERGROUP.match(word) or _USERGROUP_ID.match(word):
        return "channel or group", Audience("usergroup", match.group(1 if match.groups() else 0))
    if match := _HANDLE.match(word):
        return "channel or group", Audience("usergroup", "", handle=match.group(1))
    if match := _CHANNEL_NAME.match(word):
        raise UsageError(pulse_channel_by_name(match.group(1)), "/pulse start")
    if re.match(r"^\d{1,2}[:.h]\d*$", word):
        raise UsageError(fields.bad_clock_time(word), PULSE_START_EXAMPLE)
    raise UsageError(pulse_bad_start_word(word), PULSE_START_EXAMPLE)


def _results(words: list[str]) -> Results:
    if not words:
        return Results()
    count, *tail = words
    if tail and (len(tail) > 1 or tail[0].lower() not in ROUNDS_WORDS):
        raise UsageError(
            unexpected_words(tail, "/pulse results [N rounds]"),
            PULSE_RESULTS_EXAMPLE,
        )
    if not (count.isascii() and count.isdigit()) or not 1 <= int(count) <= MAX_RESULTS:
        raise UsageError(pulse_bad_rounds(count, MAX_RESULTS), PULSE_RESULTS_EXAMPLE)
    return Results(int(count))


# ---- act -----------------------------------------------------------------------------------


def start(deps: Deps, client: WebClient, request: Start, channel_id: str, user_id: str) -> str:
    """Check the audience with Slack, then store the survey and schedule it; the reply."""
    audience = request.audience or Audience("channel", channel_id)
    try:
        if audience.handle:
            found = pulse_rounds.find_usergroup(client, audience.handle)
            if found is None:
                raise UsageError(pulse_unknown_usergroup(audience.handle), "/pulse start")
            audience = Audience("usergroup", found)
        wanted = Survey(
            id=0,
            channel_id=channel_id,
            audience_kind=audience.kind,
            audience_id=audience.id,
            cadence=request.cadence,
            day=request.day,
            time=request.time,
            timezone=deps.tz,
        )
        people = len(pulse_rounds.audience(deps, client, wanted))
    except SlackApiError as error:
        code = str(error.response.get("error", ""))
        raise UsageError(pulse_audience_unreadable(audience.mention, code)) from None
    if people == 0:
        raise UsageError(PULSE_NOBODY_TO_ASK, PULSE_START_EXAMPLE)
    now = deps.clock.now()
    with deps.store.write() as db:
        replaced = pulse.active_survey(db, channel_id) is not None
        survey = pulse.start_survey(db, wanted, user_id, utc_text(now))
        last = pulse.last_opened_at(db, survey.id)
    pulse_schedule.sync(deps, client)
    first = pulse_schedule.next_round_at(survey, last, now)
    return pulse_started(
        audience.mention,
        people,
        survey.cadence,
        survey.day,
        survey.time,
        survey.timezone,
        show(first, survey.timezone),
        deps.config.pulse_min_respondents,
        replaced,
    )


def send_now(deps: Deps, client: WebClient, survey: Survey, source_key: str) -> str:
    """Open a round and send it, once per `source_key`: Slack retries a command with the
    same trigger_id, and a retry gets the first answer without a second round. (A retry
    racing the first past this check is stopped in open_new's transaction; its send then
    finds every DM claimed.)"""
    opened = pulse.round_opened_by(deps.store.db, source_key)
    if opened is None:
        round_id, closed = pulse_rounds.open_new(deps, survey.id, source_key)
        pulse_schedule.send_soon(deps, client, round_id, closed)
        opened = pulse.round_opened_by(deps.store.db, source_key)
        assert opened is not None  # committed by open_new
    round_id, closes_at = opened
    return pulse_round_opened(round_id, _mention(survey), show(closes_at, deps.tz))


def stop(deps: Deps, client: WebClient, survey: Survey) -> str:
    had_round, closed = pulse_rounds.stop(deps, survey)
    pulse_schedule.sync(deps, client)
    pulse_schedule.mark_closed_soon(deps, client, closed)
    return pulse_stopped(_mention(survey), had_round)


def _mention(survey: Survey) -> str:
    return Audience(survey.audience_kind, survey.audience_id).mention


# ---- wiring --------------------------------------------------------------------------------


def register(app: App, deps: Deps) -> None:
    @app.command("/pulse")
    def on_command(ack: Ack, command: dict[str, Any], client: WebClient, respond: Respond) -> None:
        channel_id, user_id = command["channel_id"], command["user_id"]
        try:
            request = parse(command.get("text", ""))
        except UsageError as error:
            ack(**usage(error))
            return
        if isinstance(request, Help):
            ack(**ephemeral(pulse_help(deps.config.pulse_min_respondents)))
            return
        if isinstance(request, Results):
            ack(**ephemeral(*results_reply(deps, channel_id, request.rounds)))
            return
        if not is_admin(user_id, deps.config, client):
            ack(**ephemeral(PULSE_ADMINS_ONLY))
            return
        if isinstance(request, Start):
            # Slack lists the audience one person at a time, which can outlast the 3
            # seconds an ack has: the reply comes through response_url.
            ack()
            try:
                respond(**ephemeral(start(deps, client, request, channel_id, user_id)))
            except UsageError as error:
                respond(**usage(error))
            return
        survey = pulse.active_survey(deps.store.db, channel_id)
        if survey is None:
            ack(**ephemeral(PULSE_NO_SURVEY))
        elif isinstance(request, Now):
            key = modals.command_key(command)
            ack(**ephemeral(send_now(deps, client, survey, key)))
        else:
            ack(**ephemeral(stop(deps, client, survey)))
