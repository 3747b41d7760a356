"""/dora help through the real app: one ephemeral message within Slack's limits that says how
each metric is counted, groups the five metrics as DORA has since its 2024 report
(throughput: change lead time, deployment frequency, failed deployment recovery time;
instability: change failure rate, deployment rework rate), names the bands as DORA's 2023
per-metric benchmarks, and says that Shipshape never ranks teams against each other."""

from __future__ import annotations

from bot.metrics.definitions import SOURCE
from tests.conftest import Bot
from tests.scenario.test_dora import assert_nothing_posted, dora

SECTION_LIMIT = 3000  # Slack's limit on a section block's text
GROUPS = {
    "Throughput": ["Change lead time", "Deployment frequency", "Failed deployment recovery time"],
    "Instability": ["Change failure rate", "Deployment rework rate"],
}
# DORA's 2023 per-metric benchmarks, as SPEC.md "Metric definitions" bands them.
BANDS = {
    "Change lead time": "Elite under a day, high under a week, medium under 30 days.",
    "Deployment frequency": "Elite daily or more, high weekly, medium monthly.",
    "Failed deployment recovery time": (
        "Elite under an hour, high under a day, medium under a week."
    ),
    "Change failure rate": "Elite 5% or less, high 10%, medium 15%.",
    "Deployment rework rate": "DORA gives it no band.",
}


def groups(text: str) -> dict[str, list[str]]:
    """Each group heading (`*Throughput*, ...`) with the metrics listed right under it."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.split("\n"):
        name = line.split("*")[1] if line.startswith("*") else None
        if name in GROUPS:
            current = found.setdefault(name, [])
        elif current is not None and line.startswith("• *"):
            current.append(line.split("*")[1])
        else:
            current = None
    return found


def test_help_groups_the_five_metrics_as_dora_does(bot: Bot) -> None:
    text = dora(bot, "help").text
    assert "DORA groups its five metrics in two:" in text
    assert groups(text) == GROUPS
    for name, band in BANDS.items():
        (line,) = [line for line in text.split("\n") if line.startswith(f"• *{name}*: ")]
        assert line.endswith(band), line
        assert len(line) < 300
    assert "`/dora [SERVICE|all] [WINDOW] [env=ENV] [share]`" in text
    assert_nothing_posted(bot)


def test_help_names_the_band_source_and_never_ranks_teams(bot: Bot) -> None:
    lines = dora(bot, "help").text.split("\n")
    (bands,) = [line for line in lines if SOURCE in line]
    assert bands.endswith(f"Bands: {SOURCE} (the last DORA published per metric).")
    assert "2023" in SOURCE and "per-metric benchmarks" in SOURCE
    assert (
        "DORA measures one application or service against itself over time and advises "
        "against comparing teams by these numbers, so Shipshape never ranks teams against "
        "each other."
    ) in lines
    assert "Shipshape reports teams, services and environments, never individuals." in lines


def test_help_is_one_section_of_one_message(bot: Bot) -> None:
    reply = dora(bot, "help")
    (block,) = reply.json["blocks"]
    assert block["type"] == "section"
    assert block["text"]["type"] == "mrkdwn"
    assert block["text"]["text"] == reply.text
    assert len(reply.text) <= SECTION_LIMIT
