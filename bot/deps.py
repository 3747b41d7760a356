"""What every handler needs, built once at start-up and handed down (never global)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.clock import Clock
from bot.config import Config
from storage.db import Store


@dataclass(frozen=True)
class Deps:
    config: Config
    store: Store
    clock: Clock

    @property
    def tz(self) -> str:
        return self.config.timezone
