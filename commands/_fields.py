"""Checks for the values people give in commands and modals; each failure is a FieldError
naming the option, so slash commands and modals report the same problem the same way."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlparse

import pendulum

from bot import messages
from bot.core.errors import FieldError
from bot.core.moments import BadTime, parse_moment
from bot.core.text import REPO, UNPRINTABLE

_SERVICE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,79}$")
_SHA = re.compile(r"^[0-9a-f]{7,40}$")
_ID = re.compile(r"^#?(\d{1,12})$")
# Slack turns a URL into "<https://x|label>" or "<https://x>" in command text.
_SLACK_LINK = re.compile(r"^<([^|>]+)(?:\|[^>]*)?>$")
# Day names as people type them, to the three-letter names CronTrigger takes (bot.scheduling).
_DAYS = {
    "mon": "mon", "monday": "mon",
    "tue": "tue", "tues": "tue", "tuesday": "tue",
    "wed": "wed", "weds": "wed", "wednesday": "wed",
    "thu": "thu", "thur": "thu", "thurs": "thu", "thursday": "thu",
    "fri": "fri", "friday": "fri",
    "sat": "sat", "saturday": "sat",
    "sun": "sun", "sunday": "sun",
}  # fmt: skip
DAY_WORDS = frozenset(_DAYS)
_CLOCK_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_LINE_BREAKS = re.compile(r"[\t\r\n]")
# A link is one URL: no spaces, and none of the characters of Slack's <url|label> syntax.
_NOT_IN_URL = re.compile(r"[\s<>|]")
MAX_VERSION = 100
MAX_TITLE = 200
MAX_URL = 500
# GitHub's limit on an environment name: any name it gives fits.
MAX_ENV = 255
NONE = "none"


def printable(key: str, value: str) -> str:
    """`value` unless it holds a control or bidirectional-override character; every free-text
    field is checked with this, so a refusal names the character the same way everywhere."""
    if found := UNPRINTABLE.search(value):
        char = found.group()
        name = unicodedata.name(char, "a control character")
        raise FieldError(key, messages.unprintable(key, f"U+{ord(char):04X} ({name})"))
    return value


def service(value: str) -> str:
    if not _SERVICE.match(printable("service", value)):
        raise FieldError("service", messages.bad_service(value))
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
        raise FieldError("time", messages.bad_clock_time(word))
    return "time", f"{hour:02d}:{minute:02d}"


def environment(value: str) -> str:
    """Any name a person or GitHub gives, spaces included ("eu west"), in lower case as the
    GitHub events store it."""
    env = printable("env", value).strip().lower()
    if not env or len(env) > MAX_ENV:
        raise FieldError("env", messages.bad_env(value, MAX_ENV))
    return env


def version(value: str) -> str:
    printable("version", value)
    if len(value) > MAX_VERSION or any(c.isspace() for c in value):
        raise FieldError("version", messages.bad_version(value, MAX_VERSION))
    return value


def sha(value: str) -> str:
    lowered = printable("sha", value).lower()
    if not _SHA.match(lowered):
        raise FieldError("sha", messages.bad_sha(value))
    return lowered


def repo(value: str) -> str:
    if not REPO.match(printable("repo", value)):
        raise FieldError("repo", messages.bad_repo(value))
    return value


def url(value: str) -> str:
    """One clean http(s) link: Slack's `<url|label>` is unwrapped (the label is not kept)."""
    if match := _SLACK_LINK.match(printable("url", value)):
        value = match.group(1)
    if len(value) > MAX_URL:
        raise FieldError("url", messages.url_too_long(len(value), MAX_URL))
    if found := _NOT_IN_URL.search(value):
        raise FieldError("url", messages.bad_url(value, messages.url_has(found.group())))
    try:
        parsed = urlparse(value)
        host, _ = parsed.hostname, parsed.port  # .port raises on a port that is none
    except ValueError:
        raise FieldError("url", messages.bad_url(value, messages.URL_UNREADABLE)) from None
    if parsed.scheme.lower() not in ("http", "https"):
        raise FieldError("url", messages.bad_url(value, messages.URL_NOT_HTTP))
    if not host:
        raise FieldError("url", messages.bad_url(value, messages.URL_NO_HOST))
    return value


def status(value: str) -> str:
    lowered = value.lower()
    if lowered not in ("success", "failed"):
        raise FieldError("status", messages.bad_status(value))
    return lowered


def severity(value: str) -> int:
    if value not in ("1", "2", "3", "4"):
        raise FieldError("sev", messages.bad_severity(value))
    return int(value)


def title(value: str) -> str:
    # Tabs and line breaks are how pasted text arrives: they become spaces, like runs of them.
    value = " ".join(printable("title", _LINE_BREAKS.sub(" ", value)).split())
    if not value:
        raise FieldError("title", messages.MISSING_TITLE)
    if len(value) > MAX_TITLE:
        raise FieldError("title", messages.title_too_long(len(value), MAX_TITLE))
    return value


def record_id(key: str, value: str, kind: str) -> int:
    """A deploy or incident id as people write it: `42` or `#42`."""
    match = _ID.match(value.strip())
    if not match:
        raise FieldError(key, messages.bad_id(kind, value))
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
        raise FieldError(key, messages.bad_time(key, value, str(error), tz)) from None
