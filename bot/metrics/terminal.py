"""A metrics report (bot.metrics.report.Report) as plain terminal text.

Shared by `shipshape report` and `shipshape demo`. Plain text rather than a rich table so
the output reads the same in a pipe, a log, or a CI job as it does in a terminal.
"""

from __future__ import annotations

from bot.core.moments import show
from bot.metrics import words as metric_words
from bot.metrics.definitions import SOURCE
from bot.metrics.report import Report
from bot.metrics.words import Row, rows


def _cells(row: Row) -> tuple[str, str, str, str]:
    # A metric with nothing to show has neither band nor change: its sentence spans columns.
    measured = row.band is not None or bool(row.change)
    band = row.band or (metric_words.NO_BAND if measured else "")
    return (row.name, row.value, band, row.change)


def _table(header: tuple[str, ...], metric_rows: list[Row]) -> list[str]:
    """Aligned columns, each metric followed by indented lines of what it counted. A
    metric with nothing to show spans the columns, so its sentence does not widen them."""
    cells = [_cells(row) for row in metric_rows]
    measured = [header, *(c for c in cells if c[2] or c[3])]
    widths = [max(len(c[i]) for c in measured) for i in range(len(header))]
    widths[0] = max(widths[0], *(len(c[0]) for c in cells))

    def line(cells: tuple[str, ...]) -> str:
        padded = (cell.ljust(width) for cell, width in zip(cells, widths, strict=True))
        return "  ".join(padded).rstrip()

    lines = [line(header), "  ".join("-" * w for w in widths)]
    for row, c in zip(metric_rows, cells, strict=True):
        lines.append(line(c) if c[2] or c[3] else line((c[0], "", "", "")) + "  " + c[1])
        lines.extend("  " + counted for counted in row.counted)
    return lines


def render(report: Report, tz: str) -> str:
    """The report as /dora says it, as a table for a terminal."""
    window, previous = report.window, report.previous_window
    header = (metric_words.REPORT_METRIC, metric_words.REPORT_VALUE, metric_words.REPORT_BAND,
              metric_words.REPORT_CHANGE)  # fmt: skip
    lines = [
        metric_words.report_title(report.service, report.environment, report.team),
        metric_words.report_window(
            show(window.start, tz), show(window.end, tz), show(previous.start, tz)
        ),
        "",
        *_table(header, rows(report)),
        "",
        metric_words.bands_source(SOURCE),
    ]
    return "\n".join(lines)
