"""Who may change settings: SHIPSHAPE_ADMINS, or a Slack workspace admin or owner."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import Config

log = logging.getLogger(__name__)


def is_admin(user_id: str, config: Config, client: WebClient) -> bool:
    if user_id in config.admins:
        return True
    try:
        user = client.users_info(user=user_id)["user"]
    except SlackApiError as error:
        # Fail closed: without an answer from Slack nobody gains rights.
        log.warning("users.info for %s failed: %s", user_id, error.response.get("error"))
        return False
    return bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))
