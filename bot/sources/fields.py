"""Reading a source's JSON payload by dotted path, for every source that arrives over HTTP
(GitHub now; the HTTP API, GitLab and PagerDuty beside it). A missing or mistyped field
raises BadPayload with its full path (e.g. `commits[2].timestamp`), so the 400 names exactly
what was wrong."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.core.moments import utc_text
from bot.core.text import is_repo

# Ids and numbers are stored as SQLite INTEGERs, which end here.
MAX_NUMBER = 2**63 - 1


class BadPayload(Exception):
    """A field the mapping needs is missing or of the wrong type; `path` names it."""

    def __init__(self, path: str, expected: str) -> None:
        super().__init__(f"{path}: expected {expected}")
        self.path = path
        self.expected = expected


class Fields:
    """A JSON object read by dotted path."""

    def __init__(self, data: dict[str, Any], where: str = "") -> None:
        self.data = data
        self.where = where

    def _path(self, path: str) -> str:
        return f"{self.where}.{path}" if self.where else path

    def get(self, path: str) -> Any:
        """The value at `path`, or None when it or an object on the way is absent."""
        value: Any = self.data
        for key in path.split("."):
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        return value

    def _typed(self, path: str, kind: type | tuple[type, ...], expected: str) -> Any:
        value = self.get(path)
        # bool is an int in Python, never an id or a number.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise BadPayload(self._path(path), expected)
        return value

    def text(self, path: str) -> str:
        value: str = self._typed(path, str, "a string")
        return value

    def optional_text(self, path: str) -> str | None:
        return None if self.get(path) is None else self.text(path)

    def number(self, path: str) -> int:
        expected = f"a whole number from 0 to {MAX_NUMBER}"
        value: int = self._typed(path, int, expected)
        if not 0 <= value <= MAX_NUMBER:
            raise BadPayload(self._path(path), expected)
        return value

    def repo(self, path: str) -> str:
        """A repository's OWNER/NAME: the service is the part after the slash."""
        value = self.text(path)
        if not is_repo(value):
            raise BadPayload(self._path(path), "OWNER/NAME, e.g. acme/api")
        return value

    def flag(self, path: str) -> bool:
        value: bool = self._typed(path, bool, "true or false")
        return value

    def time(self, path: str) -> str:
        """An ISO-8601 time with an offset (GitHub writes `Z` or e.g. `-05:00` for commit
        timestamps), as UTC storage text."""
        text = self.text(path)
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            raise BadPayload(self._path(path), "an ISO-8601 time with an offset")
        try:
            return utc_text(moment)
        except OverflowError:  # in UTC it falls outside years 1 to 9999 (0001-01-01T00:00+01:00)
            raise BadPayload(self._path(path), "an ISO-8601 time with an offset") from None

    def optional_time(self, path: str) -> str | None:
        return None if self.get(path) is None else self.time(path)

    def objects(self, path: str) -> list[Fields]:
        values = self._typed(path, list, "a list")
        found = []
        for n, value in enumerate(values):
            where = f"{self._path(path)}[{n}]"
            if not isinstance(value, dict):
                raise BadPayload(where, "an object")
            found.append(Fields(value, where))
        return found
