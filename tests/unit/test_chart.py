"""The summary's trend chart (bot/summary/chart.py): a bar per week, the failure rate's
line with a gap for a week without deployments, written as a PNG."""

from __future__ import annotations

import io

import pytest

from bot.summary.chart import trend_figure, trend_png
from tests.e2e.test_report_cli import PNG_SIGNATURE

WEEKS = [f"2026-W{n}" for n in range(36, 48)]


COUNTS = [11, 10, 11, 11, 15, 18, 16, 17, 12, 0, 24, 18]


RATES: list[float | None] = [0.0, 0.1, 0.0, 0.0, 0.0, 1 / 6, 0.0625, 0.18, 0.0, None, 0.125, 0.05]


def test_trend_png_writes_a_png() -> None:
    buffer = io.BytesIO()
    trend_png(WEEKS, COUNTS, RATES, buffer)
    assert buffer.getvalue().startswith(PNG_SIGNATURE)
    assert len(buffer.getvalue()) > 10_000


def test_trend_figure_has_a_bar_per_week_and_a_gap_for_no_deployments() -> None:
    figure = trend_figure(WEEKS, COUNTS, RATES)
    bars_axes, line_axes = figure.axes
    heights = [patch.get_height() for patch in bars_axes.patches]
    assert heights == COUNTS
    (line,) = line_axes.get_lines()
    y = list(line.get_ydata())
    assert y[1] == pytest.approx(10.0)
    assert y[9] != y[9]  # NaN: a week without deployments has no rate, not 0%
    assert [t.get_text() for t in bars_axes.get_xticklabels()] == WEEKS


def test_trend_figure_refuses_uneven_series() -> None:
    with pytest.raises(ValueError, match="same length"):
        trend_figure(WEEKS, COUNTS[:-1], RATES)
