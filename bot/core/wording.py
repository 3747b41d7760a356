"""The few phrases several features share: plurals, percentages, the weekday names, the
dates a window may name, text made safe for mrkdwn, and the answers to malformed requests.
Each feature's own words live beside it (its text.py, or a command's words section)."""

from __future__ import annotations

from bot.core.windows import FIRST_DAY, LAST_DAY

# ---- counts and shares ----------------------------------------------------------------------


def plural(n: int, singular: str, many: str | None = None) -> str:
    """ "1 deployment", "2 deployments"; `many` where adding an s is wrong."""
    return f"{n} {singular if n == 1 else many or singular + 's'}"


def percent(rate: float) -> str:
    return f"{rate * 100:.1f}%"


def percentage_points(points: float) -> str:
    return f"{points:.1f} pts"


# ---- days and windows -----------------------------------------------------------------------

# The one weekday table: the three-letter names CronTrigger takes (bot.scheduling), in ISO
# order (Monday is weekday 0), and how replies name them.
WEEKDAYS = {
    "mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday",
    "fri": "Friday", "sat": "Saturday", "sun": "Sunday",
}  # fmt: skip
WINDOW_DATES = f"{FIRST_DAY} to {LAST_DAY}"


# ---- user text in Slack ---------------------------------------------------------------------


def mrkdwn(text: str) -> str:
    """Text a person or GitHub wrote, made safe to put in mrkdwn (a section, a context, a
    message's `text`). Slack reads `<...>` as mentions and links (`<!channel>`,
    `<@U...>`, `<http://evil|Click>`) and `&` as the start of an entity; escaped as Slack's
    "Escaping text" says, they show exactly as written. Only for Slack: the CLI prints the
    real text, and plain_text objects (headers, buttons, modal fields) are never escaped.
    Apply it once, to the raw value: escaping twice would show `&amp;lt;`."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def linkable(url: str | None) -> bool:
    """Whether an address from another tool's payload is one clean http(s) URL that Slack
    can show as a link: no spaces, and none of `<`, `>`, `|` that would end or relabel it."""
    return (
        url is not None
        and url.startswith(("https://", "http://"))
        and len(url) <= 1000
        and not any(c in url for c in "<>|")
        and not any(c.isspace() for c in url)
    )


def link(url: str | None, label: str) -> str:
    """`label` (mrkdwn we wrote) as a link to `url` when it is linkable, else `label` alone."""
    return f"<{mrkdwn(url)}|{label}>" if url is not None and linkable(url) else label


def env_name(env: str) -> str:
    """An environment as replies show it: quoted when it has spaces, as it is typed."""
    return f'"{env}"' if any(c.isspace() for c in env) else env


# ---- malformed requests (answered 400: Slack and GitHub show the reason) --------------------


def json_too_deep(where: str, limit: int) -> str:
    return (
        f"{where} is JSON nested more than {limit} levels deep; Slack and GitHub never send that."
    )


def not_json_object(where: str, sender: str) -> str:
    return f"{where} is not a JSON object, as a {sender} is."
