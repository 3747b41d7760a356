"""Checks for the values people give in commands and modals; each failure is a FieldError
naming the option, so slash commands and modals report the same problem the same way."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pendulum

from bot import messages
from bot.times import BadTime, parse_moment
from commands.args import FieldError

_SERVICE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,79}$")
_ENV = re.compile(r"^[a-z0-9][a-z0-9._-]{0,39}$")
_SHA = re.compile(r"^[0-9a-f]{7,40}$")
_REPO = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
_ID = re.compile(r"^#?(\d{1,12})$")
# Slack turns a URL into "<https://x|label>" or "<https://x>" in command text.
_SLACK_LINK = re.compile(r"^<([^|>]+)(?:\|[^>]*)?>$")
# Day names as people type them, to the three-letter names CronTrigger takes (bot.weekly).
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
MAX_VERSION = 100
MAX_TITLE = 200
MAX_URL = 500
NONE = "none"


def service(value: str) -> str:
    if not _SERVICE.match(value):
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
    env = value.lower()
    if not _ENV.match(env):
        raise FieldError("env", messages.bad_env(value))
    return env


def version(value: str) -> str:
    if len(value) > MAX_VERSION or any(c.isspace() for c in value):
        raise FieldError("version", messages.bad_version(value, MAX_VERSION))
    return value


def sha(value: str) -> str:
    lowered = value.lower()
    if not _SHA.match(lowered):
        raise FieldError("sha", messages.bad_sha(value))
    return lowered


def repo(value: str) -> str:
    if not _REPO.match(value):
        raise FieldError("repo", messages.bad_repo(value))
    return value


def url(value: str) -> str:
    if match := _SLACK_LINK.match(value):
        value = match.group(1)
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or len(value) > MAX_URL:
        raise FieldError("url", messages.bad_url(value))
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
    value = " ".join(value.split())
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
