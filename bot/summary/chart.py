"""The 12-week trend: deployments per week as bars, change failure rate as a line.

The chart takes plain weekly numbers, so the demo and the weekly summary draw the same
picture from whatever they computed. Matplotlib is imported only when a chart is drawn:
it is slow to import and most commands never need it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

import sqlite_utils

from bot.core.moments import utc_text
from bot.core.weeks import iso_week, week_label, weeks_ending
from bot.summary import text as summary_text
from storage.metrics import deployments as weekly_deployments

if TYPE_CHECKING:
    from os import PathLike

    from matplotlib.figure import Figure

BAR_COLOUR = "#4C78A8"
LINE_COLOUR = "#E45756"


@dataclass(frozen=True)
class Trend:
    weeks: list[str]  # "2026-W47"
    deployments: list[int]
    failed: list[int]  # deployments that failed in production

    @property
    def failure_rates(self) -> list[float | None]:
        """None for a week without deployments: it has no failure rate, not a rate of 0."""
        return [f / d if d else None for d, f in zip(self.deployments, self.failed, strict=True)]


def weekly_trend(
    db: sqlite_utils.Database,
    year: int,
    week: int,
    tz: str,
    environments: tuple[str, ...],
    services: tuple[str, ...] | None = None,
    count: int = 12,
) -> Trend:
    """Deployments and failed deployments of `services` (None: every service) in each of
    the `count` ISO weeks in the team time zone that end with `year`-W`week`, counted
    exactly as the metrics count them."""
    labels, deployments, failed = [], [], []
    for found_year, found_week in weeks_ending(year, week, count):
        window = iso_week(found_year, found_week, tz)
        counted = weekly_deployments(
            db, utc_text(window.start), utc_text(window.end), environments, services
        )
        labels.append(week_label(found_year, found_week))
        deployments.append(counted.count)
        failed.append(counted.failed)
    return Trend(labels, deployments, failed)


def trend_figure(
    weeks: Sequence[str], deployments: Sequence[int], failure_rates: Sequence[float | None]
) -> Figure:
    """The chart as a matplotlib Figure (not yet written anywhere), for trend_png and tests."""
    if not len(weeks) == len(deployments) == len(failure_rates):
        raise ValueError("weeks, deployments and failure_rates must have the same length")
    # Figure with an explicit Agg canvas rather than pyplot: no global state, no GUI
    # backend chosen from the environment, and safe from a server's worker threads.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    figure = Figure(figsize=(9, 4.5), dpi=100)
    FigureCanvasAgg(figure)
    bars = figure.add_subplot()
    x = list(range(len(weeks)))
    bars.bar(x, deployments, color=BAR_COLOUR, label=summary_text.CHART_DEPLOYMENTS)
    bars.set_ylabel(summary_text.CHART_DEPLOYMENTS, color=BAR_COLOUR)
    bars.yaxis.set_major_locator(MaxNLocator(integer=True))
    bars.set_xticks(x, list(weeks), rotation=45, ha="right", fontsize=8)
    bars.set_title(summary_text.CHART_TITLE)

    line = bars.twinx()
    # NaN leaves a gap: a week without deployments has no failure rate, not a rate of 0.
    percents = [math.nan if r is None else r * 100 for r in failure_rates]
    line.plot(x, percents, color=LINE_COLOUR, marker="o", label=summary_text.CHART_FAILURE_RATE)
    known = [p for p in percents if not math.isnan(p)]
    line.set_ylim(0, max([20.0, *known]) * 1.15)
    line.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    line.set_ylabel(summary_text.CHART_FAILURE_RATE, color=LINE_COLOUR)

    handles = bars.get_legend_handles_labels()[0] + line.get_legend_handles_labels()[0]
    bars.legend(handles=handles, loc="upper left", fontsize=8)
    # Fixed margins rather than tight_layout(), which draws the figure once more to measure
    # it: a third of the time of a summary. They leave room for 6-digit counts.
    figure.subplots_adjust(left=0.1, right=0.9, top=0.91, bottom=0.2)
    return figure


def trend_png(
    weeks: list[str],
    deployments: list[int],
    failure_rates: list[float | None],
    path_or_buffer: str | PathLike[str] | IO[bytes],
) -> None:
    """Write the trend chart as a PNG to a file path or a binary buffer."""
    trend_figure(weeks, deployments, failure_rates).savefig(path_or_buffer, format="png")
