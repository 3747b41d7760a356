"""The operator's words: what `shipshape serve`, the CLI, `shipshape demo` and `export`
print in a terminal."""

from __future__ import annotations

from collections.abc import Sequence

from bot.config import SLACK_APPS
from bot.core.windows import MAX_DAYS
from bot.core.wording import WINDOW_DATES

# ---- when something failed ------------------------------------------------------------------
INTERNAL_ERROR = (
    "Something went wrong on Shipshape's side and nothing was stored. "
    "Please try again; if it keeps happening, ask whoever runs Shipshape to check its log."
)


def database_busy_cli(waited: float) -> str:
    return (
        "The database is busy: another program (the bot, a backup, a sqlite3 shell) kept it "
        f"for the {waited:.0f} seconds I waited, so nothing was stored. Try again in a moment."
    )


# ---- channel=#name in the source mapping commands --------------------------------------------
CHANNEL_BY_ID = (
    "or give its id (in Slack: the channel's name > About, at the bottom, like C0123ABCD)"
)


def channel_needs_token(value: str) -> str:
    return (
        f"channel={value} is a name: looking it up needs Slack, so set SLACK_BOT_TOKEN (the "
        f"bot's token, as `shipshape serve` uses it) {CHANNEL_BY_ID}. Nothing was stored."
    )


def channel_not_found(value: str) -> str:
    return (
        f"No channel called {value} that Shipshape can see: check the name, invite the bot to "
        f"a private channel with `/invite @shipshape`, {CHANNEL_BY_ID}. Nothing was stored."
    )


def channel_lookup_failed(value: str, code: str) -> str:
    return (
        f"Slack refused to list channels to find {value} ({code}): check SLACK_BOT_TOKEN and "
        f"that the app has the channels:read and groups:read scopes, {CHANNEL_BY_ID}. "
        "Nothing was stored."
    )


# ---- shipshape serve and its database -------------------------------------------------------


def cannot_open_database(path: str, error: str) -> str:
    return (
        f"Cannot open the database SHIPSHAPE_DB={path} ({error}). "
        "Point SHIPSHAPE_DB at a writable file path."
    )


def no_database(path: str) -> str:
    return (
        f"There is no database at SHIPSHAPE_DB={path}. Run this in the folder where "
        "`shipshape serve` runs, or set SHIPSHAPE_DB to its database file."
    )


# ---- shipshape report and demo --------------------------------------------------------------
REPORT_SERVICE_OR_TEAM = "Give SERVICE or --team, not both: shipshape report --team payments."
REPORT_WINDOWS = (
    "--window 7d, 30d (the default), 90d or any Nd, 'this week', 'last week', 'this month', "
    "'last month', 'this quarter', 'last quarter'; or --from DATE --to DATE"
)


def report_window_refusal(
    reason: str, text: str, start: str | None, end: str | None, tz: str
) -> str:
    """Why `shipshape report` cannot report the window asked for, by BadWindow's reason
    code; /dora renders the same codes for its words (commands.dora.window_refusal)."""
    if reason == "window_and_range":
        return "Give either --window or --from and --to, not both."
    if reason == "range_missing":
        return "--from and --to go together: give both, like --from 2026-11-01 --to 2026-11-30."
    if reason == "days_out_of_range":
        return f"{text!r} is not a window I can report: use 1d to {MAX_DAYS}d."
    if reason == "unreadable":
        return f"I can't read {text!r} as a window. Use {REPORT_WINDOWS}."
    if reason == "end_before_start":
        return f"--to {end} is not after --from {start}: the window must end after it starts."
    if reason == "out_of_range":
        return (
            f"--from {start} --to {end} goes outside the dates I can report on: give dates "
            f"from {WINDOW_DATES}, like --from 2026-11-01 --to 2026-11-30."
        )
    return (
        f"I can't read --from {start} --to {end} as a window. Use dates like --from 2026-11-01 "
        f"--to 2026-11-30 (whole days in {tz}, both included), or full times like "
        "2026-11-01T09:00Z, not in the future."
    )


def bad_now(value: str) -> str:
    return (
        f"SHIPSHAPE_NOW is {value!r}, which is not an ISO-8601 time such as "
        "2026-11-23T09:00Z. Unset it to use the current time."
    )


def demo_intro(services: Sequence[str], teams: int, weeks: int, as_of: str) -> str:
    names = ", ".join(services[:-1]) + f" and {services[-1]}"
    return (
        f"Shipshape demo: {weeks} weeks of made-up delivery history for {names} in {teams} "
        f"teams, and one closed pulse survey round, as of {as_of}. Below is what /dora answers "
        "in Slack, then the weekly summary a subscribed channel gets."
    )


def demo_heading(command: str) -> str:
    return f"== {command} =="


def demo_service_check(service: str, headline: str, body: str) -> str:
    """The speed-versus-stability check of one service's summary, under the organisation's."""
    return (
        f"== Speed versus stability for {service} alone ==\n"
        f"A channel subscribed with `/dora subscribe service={service}` reads this week: "
        f"{headline} {body}"
    )


def demo_files(database: str, chart: str) -> str:
    return f"Demo database: {database}\nChart:         {chart}"


DEMO_NEXT_STEPS = """Next steps:
  1. Create the Slack app from manifest.yml: https://api.slack.com/apps > Create New App > From an app manifest (README.md, "Create the Slack app").
  2. uv run shipshape serve"""


def demo_not_ours(path: str) -> str:
    return (
        f"{path} exists and was not made by `shipshape demo`, so it is left alone. "
        "Choose another folder with --dir."
    )


def demo_cannot_write(directory: str, error: str) -> str:
    return f"Cannot write the demo into {directory} ({error}). Choose a writable folder with --dir."


# ---- shipshape export: where the output goes ------------------------------------------------


def export_over_database(output: str, database: str) -> str:
    return (
        f"-o {output} is the database ({database}); writing there would erase it. "
        "Choose another file, e.g. -o deploys.csv."
    )


def export_no_folder(folder: str) -> str:
    return f"The folder {folder} does not exist; create it first, or choose e.g. -o deploys.csv."


def export_cannot_write(output: str, reason: str | None) -> str:
    return (
        f"Cannot write {output} ({reason or 'refused'}); choose another file, e.g. -o deploys.csv."
    )


# ---- shipshape serve: starting, running, stopping ----------------------------------------


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
