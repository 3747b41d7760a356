"""The configuration words, printed by the CLI one line per problem."""

# moving to bot/config.py in the settings-table change

from __future__ import annotations

from collections.abc import Sequence

# ---- configuration (printed by the CLI, one line per problem) -----------------------------
SLACK_APPS = "https://api.slack.com/apps"
CONFIG_MISSING_BOT_TOKEN = (
    "SLACK_BOT_TOKEN is not set. Copy the Bot User OAuth Token (xoxb-...) from "
    f"{SLACK_APPS} > your app > OAuth & Permissions, after installing the app."
)
CONFIG_BAD_BOT_TOKEN = (
    "SLACK_BOT_TOKEN does not start with xoxb-. Use the Bot User OAuth Token from "
    f"{SLACK_APPS} > your app > OAuth & Permissions (not the user or app-level token)."
)
CONFIG_BAD_APP_TOKEN = (
    "SLACK_APP_TOKEN does not start with xapp-. Generate an app-level token with the "
    f"connections:write scope at {SLACK_APPS} > your app > Basic Information > App-Level Tokens."
)
CONFIG_MISSING_SIGNING_SECRET = (
    "SLACK_SIGNING_SECRET is not set, and without SLACK_APP_TOKEN Shipshape runs in HTTP mode, "
    "which needs it. Copy the Signing Secret from "
    f"{SLACK_APPS} > your app > Basic Information > App Credentials, or set SLACK_APP_TOKEN "
    "(xapp-..., scope connections:write) to use Socket Mode instead."
)
CONFIG_HEADER = "Shipshape cannot go on:"


def config_bad_url(name: str, value: str) -> str:
    return f"{name} is {value!r}, which is not an http(s) URL. Set it to a full URL or unset it."


def config_bad_timezone(value: str) -> str:
    return (
        f"SHIPSHAPE_TIMEZONE is {value!r}, which is not a time zone name. "
        "Use an IANA name such as Europe/Berlin or America/New_York."
    )


def config_bad_admins(values: Sequence[str]) -> str:
    return (
        f"SHIPSHAPE_ADMINS has {', '.join(repr(v) for v in values)}, which are not Slack user "
        "ids. Use ids like U012AB3CD (a person's profile > ... > Copy member ID), comma-separated."
    )


def config_bad_dotenv(path: str, reason: str) -> str:
    return (
        f"{path} cannot be read: {reason}. Save it as UTF-8 text (one NAME=value a line), "
        "or remove it and set the variables in the environment."
    )


def config_partial_github_app(missing: Sequence[str]) -> str:
    return (
        f"GitHub App authentication needs {', '.join(missing)} too. Set all three of "
        "GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY and GITHUB_APP_INSTALLATION_ID, or none."
    )


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


# ---- GitHub sync and settings --------------------------------------------------------------
# `shipshape github sync|repo|repos` in the terminal, and the schedule's log lines.


def config_bad_sync_minutes(value: str) -> str:
    return (
        f"SHIPSHAPE_GITHUB_SYNC_MINUTES is {value!r}; it must be a whole number of minutes "
        "from 1 to 1440 (a day), like 15. Unset it for every 15 minutes."
    )


def config_bad_number(
    name: str, value: str, whole: bool, low: float, high: float, default: float
) -> str:
    kind = "a whole number" if whole else "a number"
    shown = [f"{n:g}" for n in (low, high, default)]
    return (
        f"{name} is {value!r}; it must be {kind} from {shown[0]} to {shown[1]}. "
        f"Unset it for the default, {shown[2]}."
    )
