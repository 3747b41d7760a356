"""README.md's explanation of the metrics against `/dora help`: the same five metrics in
DORA's two groups, the same bands, named as DORA's 2023 per-metric benchmarks, and the same
note that Shipshape never ranks teams against each other."""

from __future__ import annotations

import re

from bot.metrics.definitions import SOURCE
from commands.dora import DORA_NOT_A_RANKING, dora_help
from tests.contract.test_readme import README, table_rows
from tests.scenario.test_dora_help import GROUPS, groups

# What a band says, whatever the sentence around it: its limits, in order.
LIMITS = re.compile(r"\d+%|\b(?:an hour|a day|a week|30 days|daily|weekly|monthly)\b")
HELP = dora_help(SOURCE)


def metrics_table() -> list[list[str]]:
    """The rows of the first table under README's `/dora` heading."""
    return table_rows(README.split("\n### `/dora`\n", 1)[1])


def test_readme_groups_the_metrics_as_dora_help_does() -> None:
    readme: dict[str, list[str]] = {}
    for group, metric, *_ in metrics_table():
        readme.setdefault(group, []).append(metric)
    assert readme == {
        group.lower(): [metric.lower() for metric in metrics] for group, metrics in GROUPS.items()
    }
    assert groups(HELP) == GROUPS


def test_readme_bands_are_the_help_bands() -> None:
    for _, metric, _, bands in metrics_table():
        (line,) = [line for line in HELP.split("\n") if line.lower().startswith(f"• *{metric}*")]
        assert LIMITS.findall(bands) == LIMITS.findall(line.split(": ", 1)[1]), metric


def test_readme_names_the_band_source_and_never_ranks_teams() -> None:
    words = " ".join(README.split())
    assert (
        "The bands follow DORA's 2023 per-metric benchmarks, the last DORA published per metric"
    ) in words
    assert DORA_NOT_A_RANKING.rstrip(".") in words
