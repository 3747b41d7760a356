"""App Home: what Shipshape is and how to use it, published when someone opens the tab."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import HeaderBlock
from slack_sdk.models.views import View

from bot import messages
from bot.deps import Deps
from bot.replies import text_blocks

log = logging.getLogger(__name__)


def view() -> View:
    return View(
        type="home",
        blocks=[HeaderBlock(text=messages.HOME_TITLE), *text_blocks(messages.HOME_INTRO)],
    )


def register(app: App, deps: Deps) -> None:
    @app.event("app_home_opened")
    def on_home_opened(event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab") not in (None, "home"):
            return
        try:
            client.views_publish(user_id=event["user"], view=view())
        except SlackApiError as error:
            log.warning("views.publish failed: %s", error.response.get("error"))
