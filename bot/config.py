"""Configuration from the environment and a `.env` file in the working directory.

SETTINGS is the one list of what Shipshape reads: each variable with its parser, its value
when unset (written once, as the text a person would set) and what it means. `Config` takes
its defaults from it, `load` reads it, and README.md's configuration table is checked
against it (tests/contract)."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pendulum
from dotenv import dotenv_values

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_GITHUB_API_URL = "https://api.github.com"
_SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")

# ---- configuration words (printed by the CLI, one line per problem) ------------------------

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


def config_bad_sync_minutes(value: str, default: str) -> str:
    return (
        f"SHIPSHAPE_GITHUB_SYNC_MINUTES is {value!r}; it must be a whole number of minutes "
        f"from 1 to 1440 (a day), like 15. Unset it for every {default} minutes."
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


def bad_port(value: str) -> str:
    return f"PORT is {value!r}, which is not a port number. Use 1 to 65535, or pass --port."


def bad_log_level(value: str, default: str) -> str:
    return (
        f"SHIPSHAPE_LOG_LEVEL is {value!r}, which is not a log level. Use DEBUG, INFO, "
        f"WARNING or ERROR, or unset it for {default}."
    )


def bad_now(value: str) -> str:
    return (
        f"SHIPSHAPE_NOW is {value!r}, which is not an ISO-8601 time such as "
        "2026-11-23T09:00Z. Unset it to use the current time."
    )


# ---- the settings table --------------------------------------------------------------------


class ConfigError(Exception):
    """Start-up cannot go on; each problem names the variable and how to fix it."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class _Invalid(ValueError):
    """A value a parser refuses; `problem` is the line printed for it."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


@dataclass(frozen=True)
class Setting:
    variable: str
    attribute: str  # the Config field it fills
    # Text -> value, raising _Invalid; a None result means "nothing given": the default.
    parse: Callable[[str, Setting], Any]
    default: str | None  # the text used when unset; None leaves the value unset (None)
    # README.md's "meaning" column; None keeps a variable out of the documented table.
    meaning: str | None
    shown: str | None = None  # README's "default" column when it is not `default` itself
    serve_only: bool = False  # read only by `serve`, so the other commands never check it

    @property
    def documented_default(self) -> str:
        return self.shown or f"`{self.default}`"

    def value(self, text: str | None) -> Any:
        """What `text` (None when unset) means; raises _Invalid."""
        found = None if text is None else self.parse(text, self)
        if found is None and self.default is not None:
            return self.parse(self.default, self)
        return found


def _text(text: str, setting: Setting) -> str:
    return text


def _csv(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _url(text: str, setting: Setting) -> str:
    parsed = urlparse(text)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise _Invalid(config_bad_url(setting.variable, text))
    return text


def _slack_url(text: str, setting: Setting) -> str:
    url = _url(text, setting)
    return url if url.endswith("/") else url + "/"  # WebClient joins method names onto it


def _github_url(text: str, setting: Setting) -> str:
    return _url(text, setting).rstrip("/")


def _timezone(text: str, setting: Setting) -> str:
    try:
        pendulum.timezone(text)
    except Exception:
        raise _Invalid(config_bad_timezone(text)) from None
    return text


def _environments(text: str, setting: Setting) -> tuple[str, ...] | None:
    return tuple(e.lower() for e in _csv(text)) or None


def _tokens(text: str, setting: Setting) -> tuple[str, ...] | None:
    return tuple(_csv(text)) or None


def _admins(text: str, setting: Setting) -> frozenset[str]:
    admins = _csv(text)
    bad = [a for a in admins if not _SLACK_USER_ID.match(a)]
    if bad:
        raise _Invalid(config_bad_admins(bad))
    return frozenset(admins)


def _whole(text: str, low: int, high: int) -> int | None:
    """`text` as a whole number from low to high, digits only, or None."""
    if text.isascii() and text.isdigit() and low <= int(text) <= high:
        return int(text)
    return None


def _sync_minutes(text: str, setting: Setting) -> int:
    minutes = _whole(text, 1, 1440)
    if minutes is None:
        raise _Invalid(config_bad_sync_minutes(text, str(setting.default)))
    return minutes


def _number(
    kind: type[int] | type[float], low: float, high: float
) -> Callable[[str, Setting], Any]:
    """A parser for numbers of `kind` from low to high. The pulse threshold's low of 3 means
    no setting can make a round's answers few enough to point at a person."""

    def parse(text: str, setting: Setting) -> int | float:
        try:
            number = kind(text)
        except ValueError:
            number = None
        if number is None or not low <= number <= high:
            default = float(str(setting.default))
            raise _Invalid(
                config_bad_number(setting.variable, text, kind is int, low, high, default)
            )
        return number

    return parse


def _port(text: str, setting: Setting) -> int:
    port = _whole(text, 1, 65535)
    if port is None:
        raise _Invalid(bad_port(text))
    return port


def _log_level(text: str, setting: Setting) -> str:
    level = text.upper()
    if level not in logging.getLevelNamesMapping():
        raise _Invalid(bad_log_level(text, str(setting.default)))
    return level


def _now(text: str, setting: Setting) -> pendulum.DateTime:
    try:
        moment = pendulum.parse(text, tz="UTC")
    except (ValueError, OverflowError):
        moment = None
    if not isinstance(moment, pendulum.DateTime):
        raise _Invalid(bad_now(text))
    return moment


_CHECK = "weekly summary check: "
# In the order problems are listed. README.md's configuration table shows the documented
# ones in this order, with these words (tests/contract/test_settings.py keeps them equal).
SETTINGS: tuple[Setting, ...] = (
    Setting("SLACK_BOT_TOKEN", "slack_bot_token", _text, None,
            "bot token, `xoxb-...`", "required for serve"),
    Setting("SLACK_APP_TOKEN", "slack_app_token", _text, None,
            "app-level token `xapp-...` with `connections:write`: selects Socket Mode",
            "unset = HTTP mode"),
    Setting("SLACK_SIGNING_SECRET", "slack_signing_secret", _text, None,
            "verifies HTTP-mode requests", "required in HTTP mode"),
    Setting("SLACK_API_URL", "slack_api_url", _slack_url, DEFAULT_SLACK_API_URL,
            "Slack Web API base URL (GovSlack, proxies, tests)"),
    Setting("GITHUB_WEBHOOK_SECRET", "github_webhook_secret", _text, None,
            "verifies `X-Hub-Signature-256` on `POST /github/webhook`",
            "unset = the webhook route answers 503 and says why"),
    Setting("GITHUB_TOKEN", "github_token", _text, None,
            "token for `github sync` and for fetching the commits of a deploy",
            "unset = no API calls"),
    Setting("GITHUB_API_URL", "github_api_url", _github_url, DEFAULT_GITHUB_API_URL,
            "GitHub API base URL (GitHub Enterprise Server, tests)"),
    Setting("GITHUB_APP_ID", "github_app_id", _text, None,
            "authenticate as a GitHub App instead of a token: the app's id; all three "
            "`GITHUB_APP_*` or none", "unset"),
    Setting("GITHUB_APP_PRIVATE_KEY", "github_app_private_key", _text, None,
            "the GitHub App's private key (PEM text or a file path)", "unset"),
    Setting("GITHUB_APP_INSTALLATION_ID", "github_app_installation_id", _text, None,
            "the GitHub App's installation id", "unset"),
    Setting("SHIPSHAPE_API_TOKENS", "api_tokens", _tokens, None,
            "comma-separated bearer tokens for `/api/*` (two at once rotate one without "
            "downtime)", "unset = `/api/*` answers 503 and says why"),
    Setting("GITLAB_WEBHOOK_SECRET", "gitlab_webhook_secret", _text, None,
            "the Secret token checked against `X-Gitlab-Token` on `POST /gitlab/webhook`",
            "unset = the webhook route answers 503 and says why"),
    Setting("PAGERDUTY_WEBHOOK_SECRET", "pagerduty_webhook_secret", _text, None,
            "verifies `X-PagerDuty-Signature` on `POST /pagerduty/webhook`",
            "unset = the PagerDuty route answers 503 and says why"),
    Setting("SHIPSHAPE_DB", "db_path", _text, "./shipshape.db", "SQLite file"),
    Setting("SHIPSHAPE_TIMEZONE", "timezone", _timezone, "UTC",
            "team time zone (IANA name) for weeks, days and display"),
    Setting("SHIPSHAPE_PRODUCTION_ENVIRONMENTS", "production_environments", _environments,
            "production,prod",
            "comma-separated environment names that count as production"),
    Setting("SHIPSHAPE_ADMINS", "admins", _admins, "",
            "comma-separated Slack user ids allowed to change settings and undo old deploys; "
            "workspace admins are always allowed", "empty"),
    Setting("SHIPSHAPE_GITHUB_SYNC_MINUTES", "github_sync_minutes", _sync_minutes, "15",
            "how often `serve` syncs repositories set to `sync=on` (1 to 1440; only with "
            "`GITHUB_TOKEN` or the GitHub App settings)"),
    # The speed-versus-stability check (SPEC.md "Weekly summary"): a rise counts when its
    # one-sided test gives p below the p-value; the flag needs enough data.
    Setting("SHIPSHAPE_CHECK_RATE_RATIO", "check_rate_ratio", _number(float, 1.0, 10.0), "1.2",
            _CHECK + "how many times the baseline's weekly deploy rate the recent one must be "
            "to count as rising (1 to 10)"),
    Setting("SHIPSHAPE_CHECK_P_VALUE", "check_p_value", _number(float, 0.0001, 0.5), "0.05",
            _CHECK + "a rise counts when its one-sided test gives p below this (0.0001 to 0.5)"),
    Setting("SHIPSHAPE_CHECK_MIN_DEPLOYS", "check_min_deployments", _number(int, 1, 100_000),
            "10", _CHECK + "recent (last 4 weeks) deployments needed for any verdict"),
    Setting("SHIPSHAPE_CHECK_MIN_FAILED", "check_min_failed", _number(int, 1, 100_000), "3",
            _CHECK + "recent failed deployments needed to raise the flag"),
    Setting("SHIPSHAPE_PULSE_MIN_RESPONDENTS", "pulse_min_respondents", _number(int, 3, 1000),
            "5", "pulse results are shown only for rounds with at least this many respondents "
            "(3 to 1000: never fewer than 3)"),
    Setting("PORT", "port", _port, "3000", "port for `serve` when `--port` is not given",
            serve_only=True),
    Setting("SHIPSHAPE_LOG_LEVEL", "log_level", _log_level, "INFO",
            "log level for `serve`; no level, `DEBUG` included, logs a survey answer or who "
            "gave it", serve_only=True),
    # Pins "now" for tests and reproducible reports (the same command prints the same
    # numbers tomorrow). Left out of the documented table: nobody running the bot should
    # set it.
    Setting("SHIPSHAPE_NOW", "now", _now, None, None),
)  # fmt: skip

_DEFAULTS = {setting.attribute: setting.value(None) for setting in SETTINGS}


@dataclass(frozen=True)
class Config:
    """The settings, read and checked; each default comes from SETTINGS."""

    slack_bot_token: str | None = _DEFAULTS["slack_bot_token"]
    slack_app_token: str | None = _DEFAULTS["slack_app_token"]
    slack_signing_secret: str | None = _DEFAULTS["slack_signing_secret"]
    slack_api_url: str = _DEFAULTS["slack_api_url"]
    github_webhook_secret: str | None = _DEFAULTS["github_webhook_secret"]
    github_token: str | None = _DEFAULTS["github_token"]
    github_api_url: str = _DEFAULTS["github_api_url"]
    github_app_id: str | None = _DEFAULTS["github_app_id"]
    github_app_private_key: str | None = _DEFAULTS["github_app_private_key"]
    github_app_installation_id: str | None = _DEFAULTS["github_app_installation_id"]
    api_tokens: tuple[str, ...] | None = _DEFAULTS["api_tokens"]
    gitlab_webhook_secret: str | None = _DEFAULTS["gitlab_webhook_secret"]
    pagerduty_webhook_secret: str | None = _DEFAULTS["pagerduty_webhook_secret"]
    db_path: str = _DEFAULTS["db_path"]
    timezone: str = _DEFAULTS["timezone"]
    production_environments: tuple[str, ...] = _DEFAULTS["production_environments"]
    admins: frozenset[str] = _DEFAULTS["admins"]
    github_sync_minutes: int = _DEFAULTS["github_sync_minutes"]
    check_rate_ratio: float = _DEFAULTS["check_rate_ratio"]
    check_p_value: float = _DEFAULTS["check_p_value"]
    check_min_deployments: int = _DEFAULTS["check_min_deployments"]
    check_min_failed: int = _DEFAULTS["check_min_failed"]
    pulse_min_respondents: int = _DEFAULTS["pulse_min_respondents"]
    port: int = _DEFAULTS["port"]
    log_level: str = _DEFAULTS["log_level"]
    now: pendulum.DateTime | None = _DEFAULTS["now"]
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
            raise ConfigError([config_bad_dotenv(str(env_file.resolve()), reason)]) from None
        values.update({k: v for k, v in found.items() if v is not None})
    values.update(os.environ if environ is None else environ)
    return {k: v.strip() for k, v in values.items()}


def _slack_problems(values: Mapping[str, Any]) -> list[str]:
    """What `serve` needs to reach Slack: a bot token, and an app token (Socket Mode) or
    the signing secret (HTTP mode)."""
    bot_token, app_token = values["slack_bot_token"], values["slack_app_token"]
    problems = []
    if bot_token is None:
        problems.append(CONFIG_MISSING_BOT_TOKEN)
    elif not bot_token.startswith("xoxb-"):
        problems.append(CONFIG_BAD_BOT_TOKEN)
    if app_token is not None and not app_token.startswith("xapp-"):
        problems.append(CONFIG_BAD_APP_TOKEN)
    if app_token is None and values["slack_signing_secret"] is None:
        problems.append(CONFIG_MISSING_SIGNING_SECRET)
    return problems


def _github_app_problems(env: Mapping[str, str]) -> list[str]:
    """The GitHub App needs all three of its settings, or none."""
    names = ("GITHUB_APP_ID", "GITHUB_APP_PRIVATE_KEY", "GITHUB_APP_INSTALLATION_ID")
    missing = [name for name in names if not env.get(name)]
    return [config_partial_github_app(missing)] if 0 < len(missing) < len(names) else []


def _read(env: Mapping[str, str], settings: Sequence[Setting]) -> tuple[dict[str, Any], list[str]]:
    """Each setting's value by Config field, and the problems found on the way."""
    values: dict[str, Any] = {}
    problems: list[str] = []
    for setting in settings:
        try:
            values[setting.attribute] = setting.value(env.get(setting.variable) or None)
        except _Invalid as error:
            problems.append(error.problem)
    return values, problems


# Outside `serve` its own settings are not read, so a bad PORT never stops an export.
_OUTSIDE_SERVE = tuple(setting for setting in SETTINGS if not setting.serve_only)


def load(env: Mapping[str, str], *, for_slack: bool) -> Config:
    """Read and check every variable; `for_slack` (serve) also requires the Slack credentials
    and reads serve's own settings. Raises ConfigError listing every problem at once."""
    values, problems = _read(env, SETTINGS if for_slack else _OUTSIDE_SERVE)
    if for_slack:
        problems[:0] = _slack_problems(values)
    problems += _github_app_problems(env)
    if problems:
        raise ConfigError(problems)
    return Config(**values)  # what was not read keeps its default
