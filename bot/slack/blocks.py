"""Block Kit text as Shipshape sends it: mrkdwn that Slack shows as written."""

from __future__ import annotations

from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock


def mrkdwn_text(text: str) -> MarkdownTextObject:
    """Verbatim, so Slack's automatic parsing turns nothing a person typed into a link or a
    mention ("@here", a bare URL, "#general"); our own markup (*bold*, `<#C...>`, `<url>`)
    still renders. Every mrkdwn object goes through here, so none is ever left parsing."""
    return MarkdownTextObject(text=text, verbatim=True)


def section(text: str) -> SectionBlock:
    return SectionBlock(text=mrkdwn_text(text))
