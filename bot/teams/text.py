"""The words of teams and channel scopes, for every edge. Names come in through `code`, which
writes a name as the edge shows one (`api` in Slack, api in a terminal); each edge adds
its own example of a correct command."""

from __future__ import annotations

from collections.abc import Callable, Sequence

Code = Callable[[str], str]
# Slack's header blocks hold 150 characters; a team's label leaves room for the rest.
LABEL_LIMIT = 100
NO_TEAMS = "No teams yet."
BAD_NAME = (
    "Use letters, digits, `.`, `_`, `-` or `/`, starting with a letter or digit (at most 80 "
    "characters), like `payments`."
)


def _names(names: Sequence[str], code: Code) -> str:
    return ", ".join(code(n) for n in names)


def team_label(name: str, services: Sequence[str]) -> str:
    """ "payments team: api, checkout, ledger", shortened to LABEL_LIMIT characters with
    "and N more": a report's title names what it counted."""
    label = f"{name} team: "
    for shown in range(len(services), 0, -1):
        listed = ", ".join(services[:shown])
        more = len(services) - shown
        full = f"{label}{listed}" + (f" and {more} more" if more else "")
        if len(full) <= LABEL_LIMIT or shown == 1:
            return full
    return f"{name} team: no services"


def team_line(name: str, services: Sequence[str], code: Code = str) -> str:
    return f"{code(name)}: {_names(services, code)}"


def unknown_team(name: str, known: Sequence[str], code: Code = str) -> str:
    if not known:
        return f"There is no team {code(name)}: no teams are set up yet."
    return f"There is no team {code(name)}. Teams: {_names(known, code)}."


def bad_team_name(value: str, code: Code = str) -> str:
    return f"{code(value)} is not a team name. {BAD_NAME}"


def team_saved(
    name: str, services: Sequence[str], before: Sequence[str] | None, code: Code = str
) -> str:
    now = _names(services, code)
    if before is None:
        return f"Team {code(name)} set up: {now}."
    if tuple(before) == tuple(services):
        return f"Team {code(name)} already has these services: {now}. Nothing changed."
    return f"Team {code(name)} is now {now} (was {_names(before, code)})."


def unrecorded(services: Sequence[str], code: Code = str) -> str:
    """The warning for services named in a team with nothing recorded yet."""
    shown = [code(s) for s in services]
    which = shown[-1] if len(shown) == 1 else f"{', '.join(shown[:-1])} or {shown[-1]}"
    it = "it counts" if len(services) == 1 else "they count"
    return (
        f"Warning: no deploy or incident has been recorded for {which} yet. Kept in the "
        f"team anyway: {it} once recorded. Check the spelling if that is a surprise."
    )


def team_removed(name: str, services: Sequence[str], code: Code = str) -> str:
    return f"Team {code(name)} removed (it was {_names(services, code)})."


def team_in_use(
    name: str, scoped: Sequence[str], subscribed: Sequence[str], channel: Code = str
) -> str:
    uses = []
    if scoped:
        uses.append(f"`/dora` in {_names(scoped, channel)} answers for it")
    if subscribed:
        uses.append(f"the weekly summary in {_names(subscribed, channel)} is for it")
    return (
        f"Team {name} is still in use, so nothing was removed: {' and '.join(uses)}. "
        "First run `/dora scope all` or `/dora subscribe` without `team=` in "
        f"{'that channel' if len({*scoped, *subscribed}) == 1 else 'those channels'}."
    )
