"""Operator words: what `shipshape serve` prints while it starts, runs and stops."""

from __future__ import annotations

from bot.config import SLACK_APPS


def slack_rejected_token(error: str) -> str:
    return (
        f"Slack rejected SLACK_BOT_TOKEN ({error}). Copy the Bot User OAuth Token again from "
        f"{SLACK_APPS} > your app > OAuth & Permissions, and check the app is installed."
    )


def slack_unreachable(url: str, error: str) -> str:
    return f"Could not reach the Slack API at {url} ({error}). Check the network or SLACK_API_URL."


def port_in_use(host: str, port: int, error: str) -> str:
    return f"Cannot listen on {host}:{port} ({error}). Pick another with --port or PORT."


def serving(mode: str, host: str, port: int) -> str:
    slack = (
        "Slack: Socket Mode (no public URL needed)"
        if mode == "socket"
        else f"Slack: HTTP mode, requests at http://{host}:{port}/slack/events"
    )
    return (
        f"Shipshape is running on http://{host}:{port} (health: /healthz). {slack}. Ctrl-C stops."
    )


STOPPED = "Shipshape stopped."
