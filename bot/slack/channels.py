"""Finding a channel's id by its #name, for the command line's `channel=#name`: Slack's
API takes ids, people know names."""

from __future__ import annotations

import re

from slack_sdk import WebClient

# Slack's rule for a channel name: lower case letters, digits, "-" and "_", up to 80.
NAME = re.compile(r"^#([a-z0-9_-]{1,80})$")
PAGE = 1000  # conversations.list's largest page
MAX_PAGES = 50  # 50,000 channels: a bound, so a looping cursor cannot run for ever


def find_channel(client: WebClient, name: str) -> str | None:
    """The id of the channel called `name` (without its #) that the bot can see: public
    ones, and private ones it is a member of. None when there is none. Raises
    slack_sdk.errors.SlackApiError when Slack refuses (a bad token, a missing scope)."""
    cursor = ""
    for _ in range(MAX_PAGES):
        page = client.conversations_list(
            types="public_channel,private_channel",
            exclude_archived=True,
            limit=PAGE,
            cursor=cursor or None,
        )
        for channel in page.get("channels") or []:
            if channel.get("name") == name:
                return str(channel["id"])
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or ""
        if not cursor:
            return None
    return None
