"""Who may change settings: SHIPSHAPE_ADMINS, or a Slack workspace admin or owner."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import Config

log = logging.getLogger(__name__)
# The check runs before the ack, inside Slack's 3 seconds: one try, never a wait for a 429.
CHECK_SECONDS = 1.5
# Slack's answers that mean "ask again later", not "this person is no admin".
TRY_AGAIN = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable",
                       "request_timeout"})  # fmt: skip


class AdminUnconfirmed(Exception):
    """Slack did not say in time whether this person is an admin: nothing is done, and the
    person is asked to try again (bot/app/slack_app.py answers it)."""


def is_admin(user_id: str, config: Config, client: WebClient) -> bool:
    """Raises AdminUnconfirmed when Slack does not answer in time."""
    if user_id in config.admins:
        return True
    # The app's client waits out rate limits (Retry-After) and retries; this one does not.
    quick = WebClient(
        token=client.token, base_url=client.base_url, timeout=CHECK_SECONDS, retry_handlers=[]
    )
    try:
        user = quick.users_info(user=user_id)["user"]
    except SlackApiError as error:
        code = error.response.get("error")
        log.warning("users.info for %s failed: %s", user_id, code)
        if code in TRY_AGAIN or error.response.status_code >= 500:
            raise AdminUnconfirmed(user_id) from None
        # Fail closed: without an answer from Slack nobody gains rights.
        return False
    except OSError as error:  # a timeout or a dropped connection
        log.warning("users.info for %s did not answer: %s", user_id, error)
        raise AdminUnconfirmed(user_id) from None
    return bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))
