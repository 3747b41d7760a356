"""Checks for the values people give in commands and modals; each failure is a FieldError
naming the option, so slash commands and modals report the same problem the same way."""

from __future__ import annotations

import re
import unicodedata

import pendulum

from bot.core.errors import FieldError
from bot.core.moments import BadTime, parse_moment
from bot.core.text import (
    LINE_BREAKS,
    MAX_ENV,
    MAX_TITLE,
    MAX_URL,
    MAX_VERSION,
    REPO,
    UNPRINTABLE,
    URL_CHARACTER,
    URL_NO_HOST,
    URL_NOT_HTTP,
    URL_TOO_LONG,
    URL_UNREADABLE,
    is_service,
    is_sha,
    is_version,
    one_line,
    url_problem,
)
from bot.core.wording import WEEKDAYS

# ---- words: refusals of field values, and the words several commands share ------------------


def bad_id(kind: str, value: str) -> str:
    return f"`{value}` is not a {kind} id. Ids are numbers, like `42` or `#42`."


def bad_service(value: str) -> str:
    return (
        f"`{value}` is not a service name. Use letters, digits, `.`, `_`, `-` or `/`, "
        "starting with a letter or digit (at most 80 characters), like `api` or `checkout-web`."
    )


def bad_env(value: str, limit: int) -> str:
    return (
        f"`{value[:40]}` is not an environment name: give one of 1 to {limit} characters, "
        'like `env=staging` or, with spaces, `env="eu west"`.'
    )


# What a good value of each free-text field looks like, for refusals that name a field.
_FIELD_EXAMPLES = {
    "service": ("service name", "api"),
    "version": ("version", "v1.2.3"),
    "env": ("environment", "env=staging"),
    "sha": ("commit sha", "sha=a1b2c3d"),
    "repo": ("repository", "repo=acme/api"),
    "url": ("link", "url=https://ci.example.com/run/7"),
    "title": ("title", "Checkout errors"),
}


def unprintable(key: str, found: str) -> str:
    what, example = _FIELD_EXAMPLES.get(key, (key, ""))
    like = f", like `{example}`" if example else ""
    return (
        f"The {what} contains {found}, an invisible character that can hide or reorder what "
        f"people read. Type it again without it{like}."
    )


def bad_version(value: str, limit: int) -> str:
    return f"`{value[:40]}` is not a version: use one word of at most {limit} characters, like `v1.2.3`."


def bad_sha(value: str) -> str:
    return f"`{value}` is not a commit sha. Give 7 to 40 hex characters, like `sha=a1b2c3d`."


def bad_repo(value: str) -> str:
    return f"`{value}` is not a GitHub repository. Write it as OWNER/NAME, like `repo=acme/api`."


URL_EXAMPLE = "url=https://ci.example.com/run/7"
# What is wrong with a link, by bot.core.text's reason (a character has its own words).
URL_PROBLEMS = {
    URL_UNREADABLE: "it has a host or port that cannot be read",
    URL_NOT_HTTP: "it does not start with http:// or https://",
    URL_NO_HOST: "it names no host",
}


def url_has(char: str) -> str:
    return "it has a space in it" if char.isspace() else f"it has `{char}` in it"


def bad_url(value: str, problem: str) -> str:
    return (
        f"`{value[:80]}` is not a link: {problem}. Give one full http(s) URL, like `{URL_EXAMPLE}`."
    )


def url_too_long(length: int, limit: int) -> str:
    return f"The link is {length} characters long; the limit is {limit}. Give a shorter one, like `{URL_EXAMPLE}`."


def bad_status(value: str) -> str:
    return f"`status={value}` is not a deploy status. Use `status=success` or `status=failed`."


def bad_severity(value: str) -> str:
    return f"`sev={value}` is not a severity. Use 1 (most severe) to 4, like `sev=2`."


def bad_time(key: str, value: str, reason: str, tz: str) -> str:
    if reason == "future":
        return f"`{key}={value}` is in the future. Record things once they have happened."
    if reason == "too_old":
        return f"`{key}={value}` is before the year 2000. Check the date."
    return (
        f"I can't read `{key}={value}` as a time. Use ISO-8601 like `{key}=2026-11-20T14:05Z`, "
        f'or `{key}="2026-11-20 14:05"` (taken in {tz}), or `{key}="15m ago"`, `{key}="2h ago"`, '
        f'`{key}="yesterday 14:00"`.'
    )


def deploy_not_found(deploy_id: int) -> str:
    return (
        f"There is no deploy #{deploy_id}. `/deploy list` shows the latest deploys and their ids."
    )


def already_recorded(kind: str, record_id: int) -> str:
    return f"{kind} #{record_id} was already recorded from this request; nothing was added."


MISSING_TITLE = "The title is missing. Describe the incident in a few words after the service name."


def title_too_long(length: int, limit: int) -> str:
    return f"The title is {length} characters long; keep it to {limit}."


FIELD_SERVICE = "Service"
AT_HINT = 'Leave empty for now, or "15m ago", "yesterday 14:00", "2026-11-20 14:05".'


def bad_clock_time(word: str) -> str:
    return f"`{word}` is not a time of day: use 24-hour HH:MM from 00:00 to 23:59, like `09:00`."


_ID = re.compile(r"^#?(\d{1,12})$")
# Slack turns a URL into "<https://x|label>" or "<https://x>" in command text.
_SLACK_LINK = re.compile(r"^<([^|>]+)(?:\|[^>]*)?>$")
# Day names as people type them, to the three-letter names CronTrigger takes (bot.scheduling):
# those names, the full names of the one weekday table, and the usual short forms.
_DAYS = {
    **{day: day for day in WEEKDAYS},
    **{name.lower(): day for day, name in WEEKDAYS.items()},
    "tues": "tue", "weds": "wed", "thur": "thu", "thurs": "thu",
}  # fmt: skip
DAY_WORDS = frozenset(_DAYS)
_CLOCK_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
NONE = "none"


def printable(key: str, value: str) -> str:
    """`value` unless it holds a control or bidirectional-override character; every free-text
    field is checked with this, so a refusal names the character the same way everywhere."""
    if found := UNPRINTABLE.search(value):
        char = found.group()
        name = unicodedata.name(char, "a control character")
        raise FieldError(key, unprintable(key, f"U+{ord(char):04X} ({name})"))
    return value


def service(value: str) -> str:
    if not is_service(printable("service", value)):
        raise FieldError("service", bad_service(value))
    return value


def weekly_time(word: str) -> tuple[str, str] | None:
    """A word of a weekly schedule: ("day", "fri") for "Friday", ("time", "09:30") for
    "9:30"; None for any other word. A word shaped like a time that is none ("25:00")
    raises FieldError."""
    if day := _DAYS.get(word.lower()):
        return "day", day
    match = _CLOCK_TIME.match(word)
    if match is None:
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        raise FieldError("time", bad_clock_time(word))
    return "time", f"{hour:02d}:{minute:02d}"


def environment(value: str) -> str:
    """Any name a person or GitHub gives, spaces included ("eu west"), in lower case as the
    GitHub events store it."""
    env = printable("env", value).strip().lower()
    if not env or len(env) > MAX_ENV:
        raise FieldError("env", bad_env(value, MAX_ENV))
    return env


def version(value: str) -> str:
    printable("version", value)
    if not is_version(value):
        raise FieldError("version", bad_version(value, MAX_VERSION))
    return value


def sha(value: str) -> str:
    lowered = printable("sha", value).lower()
    if not is_sha(lowered):
        raise FieldError("sha", bad_sha(value))
    return lowered


def repo(value: str) -> str:
    if not REPO.match(printable("repo", value)):
        raise FieldError("repo", bad_repo(value))
    return value


def url(value: str) -> str:
    """One clean http(s) link: Slack's `<url|label>` is unwrapped (the label is not kept)."""
    if match := _SLACK_LINK.match(printable("url", value)):
        value = match.group(1)
    problem = url_problem(value)
    if problem is None:
        return value
    reason, char = problem
    if reason == URL_TOO_LONG:
        raise FieldError("url", url_too_long(len(value), MAX_URL))
    words = url_has(char) if reason == URL_CHARACTER else URL_PROBLEMS[reason]
    raise FieldError("url", bad_url(value, words))


def status(value: str) -> str:
    lowered = value.lower()
    if lowered not in ("success", "failed"):
        raise FieldError("status", bad_status(value))
    return lowered


def severity(value: str) -> int:
    if value not in ("1", "2", "3", "4"):
        raise FieldError("sev", bad_severity(value))
    return int(value)


def title(value: str) -> str:
    # Tabs and line breaks are how pasted text arrives: they become spaces, like runs of them.
    printable("title", LINE_BREAKS.sub(" ", value))
    value = one_line(value)
    if not value:
        raise FieldError("title", MISSING_TITLE)
    if len(value) > MAX_TITLE:
        raise FieldError("title", title_too_long(len(value), MAX_TITLE))
    return value


def record_id(key: str, value: str, kind: str) -> int:
    """A deploy or incident id as people write it: `42` or `#42`."""
    match = _ID.match(value.strip())
    if not match:
        raise FieldError(key, bad_id(kind, value))
    return int(match.group(1))


def deploy_ref(key: str, value: str) -> int | None:
    """`deploy=ID` or `deploy=none`; None means "no deploy caused this"."""
    if value.strip().lower() == NONE:
        return None
    return record_id(key, value, "deploy")


def moment(key: str, value: str, tz: str, now: pendulum.DateTime) -> pendulum.DateTime:
    try:
        return parse_moment(value, tz, now)
    except BadTime as error:
        raise FieldError(key, bad_time(key, value, str(error), tz)) from None
