"""The `shipshape` command line. Errors are one plain message and a non-zero exit, never a
traceback; `--help` needs no configuration."""

from __future__ import annotations

import csv
import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
import pendulum

from bot import messages, terminal
from bot.clock import Clock, FixedClock, SystemClock
from bot.config import Config, ConfigError, load, read_environment
from bot.report import build as build_report
from bot.windows import MAX_DAYS, BadWindow, Window, between
from bot.windows import parse as parse_window
from commands import fields
from commands.args import FieldError
from storage import export as export_rows
from storage.db import Store


def _config(*, for_slack: bool) -> Config:
    try:
        return load(read_environment(), for_slack=for_slack)
    except ConfigError as error:
        _fail(error.problems)


def _fail(problems: list[str]) -> None:
    click.echo(messages.CONFIG_HEADER, err=True)
    for problem in problems:
        click.echo(f"  {problem}", err=True)
    raise SystemExit(1)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Shipshape: delivery health for Slack. DORA metrics from deploys and incidents,
    weekly summaries, and anonymous pulse surveys.

    \b
    Example:
      shipshape serve --port 3000
    """


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option(
    "--port", type=int, default=None, help="Port to listen on (default: PORT, else 3000)."
)
def serve(host: str, port: int | None) -> None:
    """Run the Slack app, the HTTP server (/slack/events, /github/webhook, /healthz) and
    the scheduler in one process.

    Socket Mode when SLACK_APP_TOKEN is set, otherwise HTTP mode with
    SLACK_SIGNING_SECRET. Stop with Ctrl-C or SIGTERM.

    \b
    Example:
      SLACK_BOT_TOKEN=xoxb-... SLACK_APP_TOKEN=xapp-... shipshape serve
    """
    from bot.serve import serve as run

    config = _config(for_slack=True)
    if port is None:
        env_port = read_environment().get("PORT") or "3000"
        if not (env_port.isascii() and env_port.isdigit()) or not 0 < int(env_port) < 65536:
            _fail([messages.bad_port(env_port)])
        port = int(env_port)
    logging.basicConfig(
        level=os.environ.get("SHIPSHAPE_LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        run(config, SystemClock(), host, port)
    except ConfigError as error:
        _fail(error.problems)


@main.command()
@click.argument("kind", type=click.Choice(export_rows.TABLES))
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True
)
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write to this file instead of standard output.",
)  # fmt: skip
def export(kind: str, fmt: str, output: Path | None) -> None:
    """Print every deploy, incident or change, for spreadsheets and BI tools.

    Times are UTC ISO-8601. Reads SHIPSHAPE_DB (default ./shipshape.db).

    \b
    Examples:
      shipshape export deploys > deploys.csv
      shipshape export incidents --format json
    """
    config = _config(for_slack=False)
    with _existing_store(config) as store:
        out = output.open("w", newline="", encoding="utf-8") if output else sys.stdout
        try:
            rows = export_rows.rows(store.db, kind)
            if fmt == "json":
                out.write("[")
                for i, row in enumerate(rows):
                    out.write(("," if i else "") + "\n  " + json.dumps(row, ensure_ascii=False))
                out.write("\n]\n")
            else:
                writer = csv.DictWriter(out, fieldnames=export_rows.columns(store.db, kind))
                writer.writeheader()
                writer.writerows(rows)
        finally:
            if output:
                out.close()


@contextmanager
def _existing_store(config: Config) -> Iterator[Store]:
    """The database `serve` writes; these commands never create one where none is."""
    if not Path(config.db_path).is_file():
        _fail([messages.no_database(config.db_path)])
    store = Store(config.db_path)
    try:
        store.migrate()
        yield store
    finally:
        store.close()


def _clock() -> Clock:
    """The wall clock, unless SHIPSHAPE_NOW (ISO-8601) pins "now": for tests, and for
    reproducible reports (the same command prints the same numbers tomorrow). Deliberately
    left out of the documented configuration: nobody running the bot should set it."""
    pinned = read_environment().get("SHIPSHAPE_NOW")
    if not pinned:
        return SystemClock()
    try:
        moment = pendulum.parse(pinned, tz="UTC")
    except (ValueError, OverflowError):
        moment = None
    if not isinstance(moment, pendulum.DateTime):
        _fail([messages.bad_now(pinned)])
    return FixedClock(moment)


def _report_window(
    window: str | None, start: str | None, end: str | None, now: pendulum.DateTime, tz: str
) -> Window:
    """The window asked for; a bad one is a usage error (exit 2) naming the option."""
    if window is not None and (start is not None or end is not None):
        raise click.UsageError(messages.REPORT_WINDOW_OR_DATES)
    if (start is None) != (end is None):
        raise click.UsageError(messages.REPORT_FROM_TO_TOGETHER)
    if start is not None and end is not None:
        try:
            return between(start, end, now, tz)
        except BadWindow as error:
            reason = str(error)
            raise click.BadParameter(
                messages.report_bad_dates(start, end, reason, tz), param_hint="'--from/--to'"
            ) from None
    text = window or "30d"
    try:
        return parse_window(text, now, tz)
    except BadWindow as error:
        reason = str(error)
        raise click.BadParameter(
            messages.report_bad_window(text, reason, MAX_DAYS), param_hint="'--window'"
        ) from None


@main.command()
@click.argument("service", required=False)
@click.option(
    "--window",
    "window",
    metavar="WINDOW",
    help="7d, 30d, 90d, any Nd, 'this week', 'last month', 'this quarter', ... [default: 30d]",
)
@click.option(
    "--from",
    "start",
    metavar="DATE",
    help="First day (YYYY-MM-DD, team time zone) or an ISO-8601 time; with --to.",
)
@click.option(
    "--to",
    "end",
    metavar="DATE",
    help="Last day, included (YYYY-MM-DD), or an ISO-8601 time (excluded); with --from.",
)
@click.option(
    "--env",
    "env",
    metavar="ENV",
    help="Count this environment instead of SHIPSHAPE_PRODUCTION_ENVIRONMENTS.",
)
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object (the shape in SPEC.md) for scripts.")  # fmt: skip
def report(
    service: str | None,
    window: str | None,
    start: str | None,
    end: str | None,
    env: str | None,
    as_json: bool,
) -> None:
    """Print the /dora numbers for all services or one SERVICE: the five DORA metrics for a
    window, with the change from the window of the same length before it.

    Reads SHIPSHAPE_DB and SHIPSHAPE_TIMEZONE; needs no Slack configuration.

    \b
    Examples:
      shipshape report
      shipshape report api --window "last month"
      shipshape report --from 2026-11-01 --to 2026-11-30 --env staging --json
    """
    config = _config(for_slack=False)
    try:
        service = None if service in (None, "all") else fields.service(service)
        env = fields.environment(env) if env is not None else None
    except FieldError as error:
        raise click.BadParameter(error.problem, param_hint=error.key) from None
    found = _report_window(window, start, end, _clock().now(), config.timezone)
    with _existing_store(config) as store:
        result = build_report(
            store.db,
            found,
            environments=(env,) if env else config.production_environments,
            environment=env,
            service=service,
            tz=config.timezone,
        )
    click.echo(
        json.dumps(result, indent=2) if as_json else terminal.render(result, config.timezone)
    )


@main.command()
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
              default=Path("shipshape-demo"), show_default=True,
              help="Folder for demo.db and trend.png (recreated on each run).")  # fmt: skip
def demo(directory: Path) -> None:
    """Show Shipshape without Slack: fill a separate demo database with 12 weeks of made-up
    history for five services, print the /dora reports for the organisation and for one
    service, and draw the weekly trend chart as a PNG.

    Never touches SHIPSHAPE_DB. Uses SHIPSHAPE_TIMEZONE for weeks and display.

    \b
    Example:
      shipshape demo --dir /tmp/shipshape-demo
    """
    from bot import demo as demo_run  # matplotlib and the generator load only when needed

    config = _config(for_slack=False)
    try:
        for section in demo_run.run(directory, config.timezone):
            click.echo(section + "\n")
    except demo_run.DemoError as error:
        raise click.ClickException(str(error)) from None
