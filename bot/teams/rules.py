"""The rules for teams and channel scopes, once for every edge (the CLI, Slack, the HTTP
API, the demo): names follow the service-name rules, `set` replaces a team's services, a
service not recorded yet is accepted (the edge warns), an unknown team is an error that
carries the known ones, and a team that a channel still uses is not removed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import pendulum
import sqlite_utils

from bot.core.errors import Conflict, DomainError, Invalid, Reason
from bot.core.moments import utc_text
from bot.core.text import is_service
from storage import teams as team_store
from storage.db import Store
from storage.teams import ChannelScope, Team

ScopeKind = Literal["all", "service", "team"]


@dataclass(frozen=True)
class Scope:
    """What a report covers: every service (`all`), one service, or one team's services."""

    kind: ScopeKind
    name: str | None = None  # the service's or the team's; None for all


ALL = Scope("all")


class UnknownTeam(DomainError):
    """No team by this name; `known` lists the teams there are, by name."""

    field = "team"

    def __init__(self, name: str, known: Iterable[str]) -> None:
        super().__init__(f"no team {name!r}")
        self.name = name
        self.known = tuple(known)


@dataclass(frozen=True)
class TeamSet:
    team: Team
    before: Team | None  # None: a new team
    unrecorded: tuple[str, ...]  # its services with no deploy or incident yet, sorted


@dataclass(frozen=True)
class InUse:
    """Where a team is still used, for Conflict(Reason.TEAM_IN_USE, ...)."""

    name: str
    scoped: tuple[str, ...]  # channel ids whose `/dora` answers for it
    subscribed: tuple[str, ...]  # channel ids whose weekly summary is for it


def checked_name(field: str, value: str) -> str:
    """A team or service name as bot.core.text.SERVICE has it; raises Invalid."""
    if not is_service(value):
        raise Invalid(field, Reason.BAD_NAME, value)
    return value


def find(db: sqlite_utils.Database, name: str) -> Team:
    """The team called `name`; raises UnknownTeam."""
    team = team_store.get(db, name)
    if team is None:
        raise UnknownTeam(name, team_store.names(db))
    return team


def every(db: sqlite_utils.Database) -> list[Team]:
    """Every team with its services, by name: never ranked."""
    return team_store.every(db)


def set_team(store: Store, name: str, services: Iterable[str], now: pendulum.DateTime) -> TeamSet:
    """Make team `name` exactly `services` (created when new); raises Invalid for a bad
    name or no services. A service nothing has been recorded for yet is kept, and named in
    the result: it may simply not have deployed yet."""
    team = Team(
        checked_name("team", name),
        tuple(sorted({checked_name("service", s) for s in services})),
    )
    if not team.services:
        raise Invalid("services", Reason.NO_SERVICES, name)
    with store.write() as db:
        before = team_store.get(db, name)
        team_store.save(db, team, utc_text(now))
        recorded = team_store.recorded(db, team.services)
    unrecorded = tuple(s for s in team.services if s not in recorded)
    return TeamSet(team, before, unrecorded)


def remove_team(store: Store, name: str) -> Team:
    """Remove team `name`; raises UnknownTeam, or Conflict(TEAM_IN_USE, InUse) while a
    channel's scope or weekly summary is for it (the channel would silently answer for
    something else)."""
    with store.write() as db:
        team = find(db, name)
        scoped, subscribed = team_store.users(db, name)
        if scoped or subscribed:
            raise Conflict(
                Reason.TEAM_IN_USE, InUse(name, tuple(scoped), tuple(subscribed)), "team"
            )
        team_store.delete(db, name)
    return team


# ---- channel scopes ------------------------------------------------------------------------


def channel_scope(db: sqlite_utils.Database, channel_id: str) -> Scope:
    """What a plain `/dora` answers for in the channel: ALL unless an admin set a scope."""
    found = team_store.scope(db, channel_id)
    return Scope(found.kind, found.name) if found else ALL  # type: ignore[arg-type]


def set_scope(
    store: Store, channel_id: str, scope: Scope, user_id: str, now: pendulum.DateTime
) -> Scope:
    """Set the channel's scope (ALL removes it); returns the one before. A team must exist
    (raises UnknownTeam); a service, like in `/dora SERVICE`, need not have data yet."""
    with store.write() as db:
        before = channel_scope(db, channel_id)
        if scope.kind == "team":
            find(db, scope.name or "")
        if scope.kind == "all":
            team_store.delete_scope(db, channel_id)
        else:
            name = checked_name(scope.kind, scope.name or "")
            team_store.save_scope(
                db, ChannelScope(channel_id, scope.kind, name, user_id, utc_text(now))
            )
    return before
