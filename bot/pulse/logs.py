"""Pulse survey traffic kept out of the logs, at every level.

slack_sdk writes each Web API request and response at DEBUG (a DM's blocks with the
person's answers, conversations.open's DM channel for a user), and Socket Mode writes each
incoming envelope (who clicked what). Anonymity is the survey's promise, so no log line may
tie an answer to a person, whatever SHIPSHAPE_LOG_LEVEL says.
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient

# The logger of every Web API client that carries survey traffic. slack_sdk checks the
# client logger's own level (not the effective one) before it writes a request or response,
# so a level of its own above DEBUG keeps them out whatever the root level is; its INFO
# (a retry, naming only the method) and errors still reach the log.
_PRIVATE = logging.getLogger("shipshape.survey_slack_api")
_PRIVATE.setLevel(logging.INFO)

# Every survey element's action id, block id and modal callback id starts with this, so it
# is in every envelope and payload about the survey (bot/pulse/dm.py).
SURVEY_MARK = "pulse_"


def private(client: WebClient) -> WebClient:
    """`client`, for survey traffic: the same token, API and retries, not logged."""
    return WebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        ssl=client.ssl,
        proxy=client.proxy,
        headers=dict(client.headers),
        logger=_PRIVATE,
        retry_handlers=client.retry_handlers,
    )


class SurveyTraffic(logging.Filter):
    """Drops the DEBUG records of a Slack library that carry a survey payload: Bolt's
    Socket Mode client logs each envelope it receives and each ack it sends."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG or SURVEY_MARK not in record.getMessage()
