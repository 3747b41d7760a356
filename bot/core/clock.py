"""The one place that reads the wall clock; everything else is handed a Clock."""

from __future__ import annotations

from typing import Protocol

import pendulum


class Clock(Protocol):
    def now(self) -> pendulum.DateTime:
        """The current instant, in UTC."""
        ...


class SystemClock:
    def now(self) -> pendulum.DateTime:
        return pendulum.now("UTC")


class FixedClock:
    """A clock for tests and the demo: it moves only when told to."""

    def __init__(self, at: pendulum.DateTime | str) -> None:
        self._at = pendulum.parse(at) if isinstance(at, str) else at
        self._at = self._at.in_timezone("UTC")

    def now(self) -> pendulum.DateTime:
        return self._at

    def set(self, at: pendulum.DateTime | str) -> None:
        self._at = (pendulum.parse(at) if isinstance(at, str) else at).in_timezone("UTC")

    def advance(self, **kwargs: float) -> None:
        self._at = self._at.add(**kwargs)
