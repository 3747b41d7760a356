"""The `shipshape` command line. Errors are one plain message and a non-zero exit, never a
traceback; `--help` needs no configuration."""

from __future__ import annotations

import csv
import json
import logging
import os
import sys
from pathlib import Path

import click

from bot import messages
from bot.clock import SystemClock
from bot.config import Config, ConfigError, load, read_environment
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
    if not Path(config.db_path).is_file():
        _fail([messages.no_database(config.db_path)])
    store = Store(config.db_path)
    store.migrate()
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
        store.close()
