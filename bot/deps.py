"""What every handler needs, built once at start-up and handed down (never global)."""

from __future__ import annotations

from dataclasses import dataclass

from apscheduler.schedulers.base import BaseScheduler

from bot.config import Config
from bot.core.clock import Clock
from storage.db import Store


@dataclass(frozen=True)
class Deps:
    config: Config
    store: Store
    clock: Clock
    # The serve process's scheduler, so commands can add and remove their jobs (and jobs
    # can tell a shutdown); None in the CLI, which runs no jobs.
    scheduler: BaseScheduler | None = None

    @property
    def tz(self) -> str:
        return self.config.timezone
