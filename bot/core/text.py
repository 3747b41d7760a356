"""Character rules for text from people and other systems, whoever checks it: the
characters never meant to be written, the shape of a GitHub repository's OWNER/NAME, of a
service name, a version, a sha, a title and a link. Slash commands (commands/_fields.py)
and the HTTP API (bot.sources.api) check with these and say the refusal in their own words."""

from __future__ import annotations

import re
from urllib.parse import urlparse

# Characters that are never part of what people mean to write: C0 and C1 controls (NUL,
# escape sequences) and the bidirectional embeddings, overrides and isolates that make text
# read differently from what it is ("Trojan Source"). The marks U+200E and U+200F stay
# allowed: right-to-left writers use them, and they cannot reorder a run of text.
UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
REPO = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
# A service name, whoever names it (a slash command, the HTTP API): short, no spaces.
SERVICE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,79}$")
SHA = re.compile(r"^[0-9a-fA-F]{7,40}$")
# Tabs and line breaks are how pasted text arrives: a title takes them as spaces.
LINE_BREAKS = re.compile(r"[\t\r\n]")
# A link is one URL: no spaces, and none of the characters of Slack's <url|label> syntax.
_NOT_IN_URL = re.compile(r"[\s<>|]")
MAX_VERSION = 100
MAX_TITLE = 200
MAX_URL = 500
# GitHub's limit on an environment name: any name it gives fits.
MAX_ENV = 255

# Why a link is refused (url_problem), for each edge to say in its own words.
URL_TOO_LONG = "too_long"
URL_CHARACTER = "character"
URL_UNREADABLE = "unreadable"
URL_NOT_HTTP = "not_http"
URL_NO_HOST = "no_host"


def scrubbed(text: str) -> str:
    """Text that must be stored whatever it holds (a GitHub issue title): each control or
    bidirectional-override character becomes a space."""
    return UNPRINTABLE.sub(" ", text)


def is_repo(text: str) -> bool:
    """`text` is an OWNER/NAME as GitHub gives it: the shape, and no character above."""
    return UNPRINTABLE.search(text) is None and REPO.match(text) is not None


def is_service(text: str) -> bool:
    """`text` is a service name as /deploy and the HTTP API take it."""
    return SERVICE.match(text) is not None


def is_sha(text: str) -> bool:
    """A commit sha as people and pipelines write it: 7 to 40 hex digits, either case."""
    return SHA.match(text) is not None


def is_version(text: str) -> bool:
    """A version as /deploy and the API take it: no spaces, at most MAX_VERSION characters."""
    return len(text) <= MAX_VERSION and not any(c.isspace() for c in text)


def one_line(text: str) -> str:
    """A title as it is kept: tabs, line breaks and runs of spaces become one space, the
    ends trimmed. Check UNPRINTABLE on `LINE_BREAKS.sub(" ", text)` first: split() would
    quietly turn other control characters into spaces too."""
    return " ".join(LINE_BREAKS.sub(" ", text).split())


def url_problem(url: str) -> tuple[str, str] | None:
    """Why `url` is not one clean http(s) link (a URL_* reason and the character concerned,
    or ""), or None when it is."""
    if len(url) > MAX_URL:
        return URL_TOO_LONG, ""
    if found := _NOT_IN_URL.search(url):
        return URL_CHARACTER, found.group()
    try:
        parsed = urlparse(url)
        host, _ = parsed.hostname, parsed.port  # .port raises on a port that is none
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return URL_UNREADABLE, ""
    if parsed.scheme.lower() not in ("http", "https"):
        return URL_NOT_HTTP, ""
    if not host:
        return URL_NO_HOST, ""
    return None
