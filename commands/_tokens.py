"""Tokenising slash-command text: words, `key=value` options and `--flags`.

Shared by every command so that quoting, escaping and errors behave the same everywhere.
"""

from __future__ import annotations

import html
import re
import shlex
from dataclasses import dataclass, field

from bot import messages
from bot.core.errors import UsageError

MAX_TEXT = 2000
# Keys whose values people type with a space ("yesterday 14:00", "15m ago") and forget to quote.
TIME_KEYS = frozenset({"at", "from", "to"})
_TIME_TAIL = re.compile(r"^(\d{1,2}:\d{2}(:\d{2})?|ago)$", re.IGNORECASE)
_OPTION = re.compile(r"^([A-Za-z][A-Za-z_-]*)=(.*)$", re.DOTALL)
_FLAG = re.compile(r"^--([A-Za-z][A-Za-z-]*)(?:=(.*))?$", re.DOTALL)
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "\u00a0": " "})


@dataclass
class Args:
    words: list[str] = field(default_factory=list)
    options: dict[str, str] = field(default_factory=dict)
    flags: dict[str, str | None] = field(default_factory=dict)


def clean(text: str) -> str:
    """Undo Slack's escaping of &, < and >, and the smart quotes of macOS and phones."""
    return html.unescape(text or "").translate(_QUOTES).strip()


def _split(text: str) -> list[str]:
    """Words, with double quotes grouping. Apostrophes stay literal ("Users can't log in")
    and so do backslashes (paths and regexes in titles)."""
    lexer = shlex.shlex(text, posix=True)
    lexer.whitespace_split = True
    lexer.quotes = '"'
    lexer.escape = ""
    lexer.commenters = ""
    return list(lexer)


def tokenize(text: str, *, keys: frozenset[str], flags: frozenset[str], example: str) -> Args:
    if len(text) > MAX_TEXT:
        raise UsageError(messages.text_too_long(len(text), MAX_TEXT), example)
    try:
        tokens = _split(clean(text))
    except ValueError:
        raise UsageError(messages.UNCLOSED_QUOTE, example) from None
    args = Args()
    i = 0
    while i < len(tokens):
        token = tokens[i]
        i += 1
        if flag := _FLAG.match(token):
            name = flag.group(1).lower()
            if name not in flags:
                raise UsageError(messages.unknown_flag(token, sorted(flags)), example)
            if name in args.flags:
                raise UsageError(messages.repeated_key(f"--{name}"), example)
            args.flags[name] = flag.group(2)
        elif option := _OPTION.match(token):
            key, value = option.group(1).lower(), option.group(2)
            if key not in keys:
                raise UsageError(messages.unknown_key(key, sorted(keys)), example)
            if key in args.options:
                raise UsageError(messages.repeated_key(f"{key}="), example)
            while key in TIME_KEYS and i < len(tokens) and _TIME_TAIL.match(tokens[i]):
                value = f"{value} {tokens[i]}"
                i += 1
            if not value.strip():
                raise UsageError(messages.empty_value(key), example)
            args.options[key] = value.strip()
        else:
            args.words.append(token)
    return args
