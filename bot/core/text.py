"""Character rules for text from people and other systems, whoever checks it: the
characters never meant to be written, the shape of a GitHub repository's OWNER/NAME and
of a service name."""

from __future__ import annotations

import re

# Characters that are never part of what people mean to write: C0 and C1 controls (NUL,
# escape sequences) and the bidirectional embeddings, overrides and isolates that make text
# read differently from what it is ("Trojan Source"). The marks U+200E and U+200F stay
# allowed: right-to-left writers use them, and they cannot reorder a run of text.
UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
REPO = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
# A service name, whoever names it (a slash command, the HTTP API): short, no spaces.
SERVICE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,79}$")


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
