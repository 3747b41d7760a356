"""Tokenising slash-command text: words, `key=value` options and `--flags`.

Shared by every command so that quoting, escaping and errors behave the same everywhere.
"""

from __future__ import annotations

import html
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.core.errors import UsageError

# ---- words: the tokeniser's refusals, the same in every command -----------------------------
UNCLOSED_QUOTE = 'A double quote is not closed. Put values with spaces in matching double quotes: at="2026-11-20 14:05".'


def text_too_long(length: int, limit: int) -> str:
    return f"That command is {length} characters long; the limit is {limit}. Shorten it."


def unknown_key(key: str, known: Sequence[str]) -> str:
    options = ", ".join(f"`{k}=`" for k in known) or "none"
    return f"`{key}=` is not an option here. Options: {options}."


def unknown_flag(flag: str, known: Sequence[str]) -> str:
    flags = ", ".join(f"`--{f}`" for f in known) or "none"
    return f"`{flag}` is not a flag here. Flags: {flags}."


def repeated_key(key: str) -> str:
    return f"`{key}` is given twice. Give each option once."


def empty_value(key: str) -> str:
    return f"`{key}=` has no value. Write it as `{key}=VALUE`, quoting values with spaces."


def unexpected_words(words: Sequence[str], grammar: str) -> str:
    shown = " ".join(words)
    return f"I did not expect `{shown}` there. The form is `{grammar}`; quote values with spaces."


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
        raise UsageError(text_too_long(len(text), MAX_TEXT), example)
    try:
        tokens = _split(clean(text))
    except ValueError:
        raise UsageError(UNCLOSED_QUOTE, example) from None
    args = Args()
    i = 0
    while i < len(tokens):
        token = tokens[i]
        i += 1
        if flag := _FLAG.match(token):
            name = flag.group(1).lower()
            if name not in flags:
                raise UsageError(unknown_flag(token, sorted(flags)), example)
            if name in args.flags:
                raise UsageError(repeated_key(f"--{name}"), example)
            args.flags[name] = flag.group(2)
        elif option := _OPTION.match(token):
            key, value = option.group(1).lower(), option.group(2)
            if key not in keys:
                raise UsageError(unknown_key(key, sorted(keys)), example)
            if key in args.options:
                raise UsageError(repeated_key(f"{key}="), example)
            while key in TIME_KEYS and i < len(tokens) and _TIME_TAIL.match(tokens[i]):
                value = f"{value} {tokens[i]}"
                i += 1
            if not value.strip():
                raise UsageError(empty_value(key), example)
            args.options[key] = value.strip()
        else:
            args.words.append(token)
    return args
