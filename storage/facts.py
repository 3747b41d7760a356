"""What the metrics read model hands to the metric definitions (bot.metrics.definitions):
one window's deployments counted, and the few order statistics of its lead times."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Deployments:
    """Successful deploys to counted environments in the window, counted."""

    count: int = 0
    failed: int = 0  # linked to an incident, or rolled back by a later successful deploy
    rework: int = 0  # hotfixes and rollbacks
    with_changes: int = 0  # with at least one change of non-negative lead time
    # (earliest, latest) epoch seconds of the deployments of each UTC hour (several rows
    # may share an hour): an hour holds at most one local midnight, so the local dates of
    # these two are the dates of all its deployments.
    spans: Sequence[tuple[int, int]] = ()


@dataclass(frozen=True)
class Ordered:
    """`count` values, of which only those the median and p90 need are given: `at` maps a
    position in ascending order (0-based) to its value, for every position of
    `order_positions(count)`; a sorted list of all the values will do."""

    count: int
    at: Mapping[int, int] | Sequence[int]

    @classmethod
    def of(cls, values: Iterable[int]) -> Ordered:
        ordered = sorted(values)
        return cls(len(ordered), ordered)


@dataclass(frozen=True)
class Facts:
    window_days: float
    deployments: Deployments
    leads: Ordered  # seconds, changes of non-negative lead shipped by those deployments
    recoveries: Sequence[int]  # seconds, incidents linked to a counted deploy, resolved in window
    restores: Sequence[int]  # seconds, every incident resolved in the window
    failed_attempts: int


def order_positions(count: int) -> set[int]:
    """The positions (ascending, 0-based) whose values `median` and `percentile_90` read."""
    if count == 0:
        return set()
    if count == 1:
        return {0}
    j = 9 * (count - 1) // 10
    return {(count - 1) // 2, count // 2, j, j + 1}
