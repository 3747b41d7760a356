"""A metrics report (bot.metrics.report.Report) as a Slack card: /dora's reply, the App Home's
metrics and the weekly summary's metrics all render it here, so they always agree."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    HeaderBlock,
)

from bot.core.moments import show
from bot.core.wording import mrkdwn
from bot.metrics import words as metric_words
from bot.metrics.definitions import SOURCE
from bot.metrics.report import Report
from bot.metrics.words import Row, rows
from bot.slack import text as slack_text
from bot.slack.blocks import mrkdwn_text, section


def _text(row: Row) -> str:
    """A row as mrkdwn: the headline, then the change and what it counted."""
    details = " · ".join(d for d in (row.change, *row.counted[:1]) if d)
    lines = [slack_text.dora_metric(row.name, row.value, row.band), details, *row.counted[1:]]
    return "\n".join(line for line in lines if line)


def card(data: Report, tz: str, shared_by: str | None = None) -> tuple[str, list[Block]]:
    """The /dora reply (also the App Home's metrics): a plain-text fallback and its blocks."""
    window, previous = data.window, data.previous_window
    title = metric_words.report_title(data.service, data.environment, data.team)
    when = metric_words.report_window(
        show(window.start, tz), show(window.end, tz), show(previous.start, tz)
    )
    sections = [_text(row) for row in rows(data)]
    notes = [metric_words.bands_source(SOURCE)]
    if shared_by:
        notes.append(slack_text.shared_by(shared_by))
    blocks: list[Block] = [
        HeaderBlock(text=title),
        ContextBlock(elements=[mrkdwn_text(when)]),
        *(section(s) for s in sections),
        ContextBlock(elements=[mrkdwn_text(" · ".join(notes))]),
    ]
    # The header is plain_text and shows the title as it is; the fallback is mrkdwn.
    return "\n".join([mrkdwn(title), when, *sections, *notes]), blocks
