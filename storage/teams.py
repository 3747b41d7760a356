"""Teams (named sets of services) and channel scopes (what a plain `/dora` answers in a
channel): migration m011's tables. The rules live in bot/teams; this is their SQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlite_utils

from storage.records import Record


@dataclass(frozen=True, slots=True)
class Team:
    name: str
    services: tuple[str, ...]  # sorted, each once


@dataclass(frozen=True, slots=True)
class ChannelScope(Record):
    channel_id: str
    kind: str  # "team" or "service"
    name: str
    set_by: str
    set_at: str


def get(db: sqlite_utils.Database, name: str) -> Team | None:
    found = db.conn.execute("SELECT 1 FROM teams WHERE name = ?", (name,)).fetchone()
    if found is None:
        return None
    rows = db.conn.execute(
        "SELECT service FROM team_services WHERE team = ? ORDER BY service", (name,)
    ).fetchall()
    return Team(name, tuple(row[0] for row in rows))


def every(db: sqlite_utils.Database) -> list[Team]:
    """Every team by name, each with its services."""
    services: dict[str, list[str]] = {
        row[0]: [] for row in db.conn.execute("SELECT name FROM teams ORDER BY name")
    }
    for team, service in db.conn.execute(
        "SELECT team, service FROM team_services ORDER BY team, service"
    ):
        services[team].append(service)
    return [Team(name, tuple(found)) for name, found in services.items()]


def names(db: sqlite_utils.Database) -> list[str]:
    return [row[0] for row in db.conn.execute("SELECT name FROM teams ORDER BY name")]


def save(db: sqlite_utils.Database, team: Team, now: str) -> None:
    """Insert the team or replace its services; a replaced team keeps its created_at."""
    db.conn.execute(
        """INSERT INTO teams (name, created_at, updated_at) VALUES (?, ?, ?)
           ON CONFLICT (name) DO UPDATE SET updated_at = excluded.updated_at""",
        (team.name, now, now),
    )
    db.conn.execute("DELETE FROM team_services WHERE team = ?", (team.name,))
    db.conn.executemany(
        "INSERT INTO team_services (team, service) VALUES (?, ?)",
        [(team.name, service) for service in team.services],
    )


def delete(db: sqlite_utils.Database, name: str) -> bool:
    """Delete the team and its services (ON DELETE CASCADE)."""
    return db.conn.execute("DELETE FROM teams WHERE name = ?", (name,)).rowcount == 1


def recorded(db: sqlite_utils.Database, services: Sequence[str]) -> set[str]:
    """Those of `services` with at least one deploy or incident, of any environment."""
    marks = ", ".join("?" for _ in services)
    rows = db.conn.execute(
        f"""SELECT DISTINCT service FROM deploys WHERE service IN ({marks})
            UNION SELECT DISTINCT service FROM incidents WHERE service IN ({marks})""",
        (*services, *services),
    )
    return {row[0] for row in rows}


def users(db: sqlite_utils.Database, name: str) -> tuple[list[str], list[str]]:
    """The channels whose scope is team `name`, and those whose weekly summary is for it."""
    scoped = db.conn.execute(
        "SELECT channel_id FROM channel_scopes WHERE kind = 'team' AND name = ? ORDER BY 1",
        (name,),
    ).fetchall()
    subscribed = db.conn.execute(
        "SELECT channel_id FROM subscriptions WHERE team = ? ORDER BY 1", (name,)
    ).fetchall()
    return [row[0] for row in scoped], [row[0] for row in subscribed]


# ---- channel scopes ------------------------------------------------------------------------


def scope(db: sqlite_utils.Database, channel_id: str) -> ChannelScope | None:
    row = db.conn.execute(
        "SELECT * FROM channel_scopes WHERE channel_id = ?", (channel_id,)
    ).fetchone()
    return ChannelScope.from_row(row) if row else None


def save_scope(db: sqlite_utils.Database, found: ChannelScope) -> None:
    db.conn.execute(
        """INSERT INTO channel_scopes (channel_id, kind, name, set_by, set_at)
           VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (channel_id) DO UPDATE SET kind = excluded.kind, name = excluded.name,
               set_by = excluded.set_by, set_at = excluded.set_at""",
        (found.channel_id, found.kind, found.name, found.set_by, found.set_at),
    )


def delete_scope(db: sqlite_utils.Database, channel_id: str) -> bool:
    cursor = db.conn.execute("DELETE FROM channel_scopes WHERE channel_id = ?", (channel_id,))
    return cursor.rowcount == 1
