"""App Home: what Shipshape is and how to use it, and the organisation's last 30 days,
published when someone opens the tab."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block, DividerBlock, HeaderBlock
from slack_sdk.models.views import View

from bot.core.moments import duration, utc_text
from bot.core.windows import Window, last_days
from bot.core.wording import mrkdwn, percent
from bot.deps import Deps
from bot.metrics.report import window_report
from bot.slack import text as slack_text
from bot.slack.replies import text_blocks
from bot.teams import rules as teams
from bot.teams.text import team_label
from commands import dora, incident
from storage.services import top_services

log = logging.getLogger(__name__)
HOME_DAYS = 30
TOP_SERVICES = 5
# Slack's App Home holds 100 blocks: the teams' rows get at most this many sections (about
# 30 teams fit in one), and the sections' cut says how many rows were left out.
TEAM_BLOCKS = 5


def _teams(deps: Deps, window: Window) -> list[Block]:
    """One row per team, alphabetical (never ranked by score): deployments, median lead
    time and change failure rate over its services, counted as one."""
    rows = []
    for team in teams.every(deps.store.db):
        metrics = window_report(
            deps.store.db, window, deps.config.production_environments, team.services, deps.tz
        )
        lead, failure = metrics.lead_time, metrics.change_failure_rate
        rows.append(
            slack_text.home_team(
                mrkdwn(team_label(team.name, team.services)),
                metrics.deployment_frequency.count,
                duration(lead.median_seconds) if lead else None,
                percent(failure.rate) if failure else None,
            )
        )
    if not rows:
        return []
    return text_blocks("\n".join([slack_text.HOME_TEAMS, *rows]), max_blocks=TEAM_BLOCKS)


def _metrics(deps: Deps) -> list[Block]:
    """The organisation's last 30 days: the /dora card for all services in production."""
    window = last_days(HOME_DAYS, deps.clock.now())
    query = dora.Query(service=None, environment=None, window=window, share=False)
    _, blocks = dora.card(dora.report(deps, query), deps.tz)
    top = top_services(
        deps.store.db,
        utc_text(window.start),
        utc_text(window.end),
        deps.config.production_environments,
        TOP_SERVICES,
    )
    lines = [slack_text.home_top_service(mrkdwn(s), n) for s, n in top]
    lines = lines or [slack_text.HOME_NO_DEPLOYMENTS]
    top_blocks = text_blocks("\n".join([slack_text.HOME_TOP_SERVICES, *lines]))
    return [*blocks, *_teams(deps, window), *top_blocks]


def view(deps: Deps) -> View:
    # Everyone's App Home: no channel, so no private channel's titles.
    open_incidents = incident.listing(deps, incident.ListIncidents(only_open=True), None)
    return View(
        type="home",
        blocks=[
            HeaderBlock(text=slack_text.HOME_TITLE),
            *text_blocks(slack_text.HOME_INTRO),
            DividerBlock(),
            *_metrics(deps),
            DividerBlock(),
            *text_blocks(open_incidents),
        ],
    )


def register(app: App, deps: Deps) -> None:
    @app.event("app_home_opened")
    def on_home_opened(event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab") not in (None, "home"):
            return
        try:
            client.views_publish(user_id=event["user"], view=view(deps))
        except SlackApiError as error:
            log.warning("views.publish failed: %s", error.response.get("error"))
