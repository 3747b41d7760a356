"""Configuration from the environment and a `.env` file in the working directory."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import pendulum
from dotenv import dotenv_values

from bot import messages

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_GITHUB_API_URL = "https://api.github.com"
_SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


class ConfigError(Exception):
    """Start-up cannot go on; each problem names the variable and how to fix it."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Config:
    slack_bot_token: str | None = None
    slack_app_token: str | None = None
    slack_signing_secret: str | None = None
    slack_api_url: str = DEFAULT_SLACK_API_URL
    github_webhook_secret: str | None = None
    github_token: str | None = None
    github_api_url: str = DEFAULT_GITHUB_API_URL
    github_app_id: str | None = None
    github_app_private_key: str | None = None
    github_app_installation_id: str | None = None
    db_path: str = "./shipshape.db"
    timezone: str = "UTC"
    production_environments: tuple[str, ...] = ("production", "prod")
    admins: frozenset[str] = field(default_factory=frozenset)
    github_sync_minutes: int = 15
    # The speed-versus-stability check (SPEC.md "Weekly summary"): a rise counts when
    # its one-sided test gives p below check_p_value; the flag needs enough data.
    check_rate_ratio: float = 1.2
    check_p_value: float = 0.05
    check_min_deployments: int = 10
    check_min_failed: int = 3
    # Fewer respondents than this and a pulse round's results stay hidden (never below 3).
    pulse_min_respondents: int = 5
    # Seconds between two pulse DMs: Slack allows about one message a second per channel
    # and app. Not read from the environment; tests set it to 0.
    pulse_send_interval: float = 1.0

    @property
    def socket_mode(self) -> bool:
        return bool(self.slack_app_token)


def read_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The process environment over `.env` (a variable set in the shell wins)."""
    values: dict[str, str] = {}
    env_file = Path(".env")
    if env_file.is_file():
        try:
            found = dotenv_values(env_file, encoding="utf-8")
        except (UnicodeDecodeError, OSError) as error:
            reason = "it is not UTF-8 text" if isinstance(error, UnicodeDecodeError) else str(error)
            raise ConfigError(
                [messages.config_bad_dotenv(str(env_file.resolve()), reason)]
            ) from None
        values.update({k: v for k, v in found.items() if v is not None})
    values.update(os.environ if environ is None else environ)
    return {k: v.strip() for k, v in values.items()}


def _csv(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _is_url(value: str) -> bool:
    parsed = urlparse(value)
    return parsed.scheme in ("http", "https") and bool(parsed.netloc)


# Numeric settings: (int or float, lowest, highest, default). The pulse threshold never
# goes below 3, so no setting can make a round's answers small enough to point at a person.
_NUMBERS: dict[str, tuple[type, float, float, float]] = {
    "SHIPSHAPE_CHECK_RATE_RATIO": (float, 1.0, 10.0, 1.2),
    "SHIPSHAPE_CHECK_P_VALUE": (float, 0.0001, 0.5, 0.05),
    "SHIPSHAPE_CHECK_MIN_DEPLOYS": (int, 1, 100_000, 10),
    "SHIPSHAPE_CHECK_MIN_FAILED": (int, 1, 100_000, 3),
    "SHIPSHAPE_PULSE_MIN_RESPONDENTS": (int, 3, 1000, 5),
}


def _number(
    value: str | None,
    name: str,
    kind: type,
    low: float,
    high: float,
    default: float,
    problems: list[str],
) -> float:
    if value is None:
        return default
    try:
        number = kind(value)
    except ValueError:
        number = None
    if number is None or not low <= number <= high:
        problems.append(messages.config_bad_number(name, value, kind is int, low, high, default))
        return default
    return float(number)


def load(env: Mapping[str, str], *, for_slack: bool) -> Config:
    """Read and check every variable; `for_slack` also requires the Slack credentials that
    `serve` needs. Raises ConfigError listing every problem at once."""
    problems: list[str] = []

    def get(name: str) -> str | None:
        return env.get(name) or None

    bot_token, app_token, signing_secret = (
        get("SLACK_BOT_TOKEN"),
        get("SLACK_APP_TOKEN"),
        get("SLACK_SIGNING_SECRET"),
    )
    if for_slack:
        if bot_token is None:
            problems.append(messages.CONFIG_MISSING_BOT_TOKEN)
        elif not bot_token.startswith("xoxb-"):
            problems.append(messages.CONFIG_BAD_BOT_TOKEN)
        if app_token is not None and not app_token.startswith("xapp-"):
            problems.append(messages.CONFIG_BAD_APP_TOKEN)
        if app_token is None and signing_secret is None:
            problems.append(messages.CONFIG_MISSING_SIGNING_SECRET)

    slack_api_url = get("SLACK_API_URL") or DEFAULT_SLACK_API_URL
    if not _is_url(slack_api_url):
        problems.append(messages.config_bad_url("SLACK_API_URL", slack_api_url))
    elif not slack_api_url.endswith("/"):
        slack_api_url += "/"  # WebClient joins method names onto it
    github_api_url = get("GITHUB_API_URL") or DEFAULT_GITHUB_API_URL
    if not _is_url(github_api_url):
        problems.append(messages.config_bad_url("GITHUB_API_URL", github_api_url))

    timezone = get("SHIPSHAPE_TIMEZONE") or "UTC"
    try:
        pendulum.timezone(timezone)
    except Exception:
        problems.append(messages.config_bad_timezone(timezone))

    production = tuple(e.lower() for e in _csv(get("SHIPSHAPE_PRODUCTION_ENVIRONMENTS") or ""))
    if not production:
        production = ("production", "prod")

    admins = _csv(get("SHIPSHAPE_ADMINS") or "")
    bad_admins = [a for a in admins if not _SLACK_USER_ID.match(a)]
    if bad_admins:
        problems.append(messages.config_bad_admins(bad_admins))

    sync_minutes = get("SHIPSHAPE_GITHUB_SYNC_MINUTES") or "15"
    is_number = sync_minutes.isascii() and sync_minutes.isdigit()
    if not is_number or not 1 <= int(sync_minutes) <= 1440:
        problems.append(messages.config_bad_sync_minutes(sync_minutes))

    numbers = {name: _number(get(name), name, kind, low, high, default, problems)
               for name, (kind, low, high, default) in _NUMBERS.items()}  # fmt: skip

    app_parts = {
        "GITHUB_APP_ID": get("GITHUB_APP_ID"),
        "GITHUB_APP_PRIVATE_KEY": get("GITHUB_APP_PRIVATE_KEY"),
        "GITHUB_APP_INSTALLATION_ID": get("GITHUB_APP_INSTALLATION_ID"),
    }
    if any(app_parts.values()) and not all(app_parts.values()):
        missing = [name for name, value in app_parts.items() if not value]
        problems.append(messages.config_partial_github_app(missing))

    if problems:
        raise ConfigError(problems)
    return Config(
        slack_bot_token=bot_token,
        slack_app_token=app_token,
        slack_signing_secret=signing_secret,
        slack_api_url=slack_api_url,
        github_webhook_secret=get("GITHUB_WEBHOOK_SECRET"),
        github_token=get("GITHUB_TOKEN"),
        github_api_url=github_api_url.rstrip("/"),
        github_app_id=app_parts["GITHUB_APP_ID"],
        github_app_private_key=app_parts["GITHUB_APP_PRIVATE_KEY"],
        github_app_installation_id=app_parts["GITHUB_APP_INSTALLATION_ID"],
        db_path=get("SHIPSHAPE_DB") or "./shipshape.db",
        timezone=timezone,
        production_environments=production,
        admins=frozenset(admins),
        github_sync_minutes=int(sync_minutes),
        check_rate_ratio=float(numbers["SHIPSHAPE_CHECK_RATE_RATIO"]),
        check_p_value=float(numbers["SHIPSHAPE_CHECK_P_VALUE"]),
        check_min_deployments=int(numbers["SHIPSHAPE_CHECK_MIN_DEPLOYS"]),
        check_min_failed=int(numbers["SHIPSHAPE_CHECK_MIN_FAILED"]),
        pulse_min_respondents=int(numbers["SHIPSHAPE_PULSE_MIN_RESPONDENTS"]),
    )
