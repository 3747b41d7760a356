"""The `shipshape` command line. Errors are one plain message and a non-zero exit, never a
traceback; `--help` needs no configuration."""

from __future__ import annotations

import csv
import json
import logging
import re
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, TextIO

import click
import pendulum
import sqlite_utils

from bot.app import text as app_text
from bot.config import (
    CONFIG_HEADER,
    CONFIG_MISSING_BOT_TOKEN,
    Config,
    ConfigError,
    load,
    read_environment,
)
from bot.core.clock import Clock, FixedClock, SystemClock
from bot.core.errors import Conflict, FieldError
from bot.core.moments import BadTime, parse_moment, show, utc_text
from bot.core.text import is_service
from bot.core.windows import BadWindow, Window, chosen
from bot.deps import Deps
from bot.metrics import terminal
from bot.metrics.report import build as build_report
from bot.sources.github import text as github_text
from bot.sources.gitlab import events as gitlab_events
from bot.sources.gitlab import text as gitlab_text
from bot.sources.pagerduty import text as pd_text
from bot.summary import text as summary_text
from bot.teams import rules as teams
from bot.teams import text as team_text
from commands import _fields as fields
from storage import export as export_rows
from storage import github as github_store
from storage import sources, subscriptions
from storage.db import Busy, Store
from storage.teams import Team

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar

    from bot.sources.github.api import Calls


def _config(*, for_slack: bool) -> Config:
    try:
        return load(read_environment(), for_slack=for_slack)
    except ConfigError as error:
        _fail(error.problems)


def _fail(problems: list[str]) -> None:
    click.echo(CONFIG_HEADER, err=True)
    for problem in problems:
        click.echo(f"  {problem}", err=True)
    raise SystemExit(1)


class _Main(click.Group):
    """Every command: a database another program has held for the whole wait is one plain
    message (nothing was stored), like any other error here."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except Busy as error:
            click.echo(app_text.database_busy_cli(error.waited), err=True)
            raise SystemExit(1) from None


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Shipshape: delivery health for Slack. DORA metrics from deploys and incidents,
    weekly summaries, and anonymous pulse surveys.

    \b
    Example:
      shipshape serve --port 3000
    """


class _Stopped(SystemExit):
    """SIGTERM or Ctrl-C, raised in the main thread wherever it is: exit status 0."""


def _stop_serving(signum: int, frame: FrameType | None) -> None:
    # Once: a second signal must not break into the stop the first one began.
    for each in (signal.SIGTERM, signal.SIGINT):
        signal.signal(each, signal.SIG_IGN)
    raise _Stopped(0)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option(
    "--port", type=int, default=None, help="Port to listen on (default: PORT, else 3000)."
)
def serve(host: str, port: int | None) -> None:
    """Run the Slack app, the HTTP server (/slack/events, the GitHub, GitLab and PagerDuty
    webhooks, /api/*, /healthz) and the scheduler in one process.

    Socket Mode when SLACK_APP_TOKEN is set, otherwise HTTP mode with
    SLACK_SIGNING_SECRET. Stop with Ctrl-C or SIGTERM.

    \b
    Example:
      SLACK_BOT_TOKEN=xoxb-... SLACK_APP_TOKEN=xapp-... shipshape serve
    """
    # First of all, before the slow imports: from here on a supervisor's SIGTERM or a
    # Ctrl-C stops serve cleanly with status 0, whatever start-up is doing.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _stop_serving)
    try:
        _serve(host, port)
    except _Stopped:  # before bot.app.serve took over the stop
        click.echo(app_text.STOPPED, err=True)


def _serve(host: str, port: int | None) -> None:
    from bot.app.serve import serve as run

    config = _config(for_slack=True)
    logging.basicConfig(
        level=config.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        run(config, SystemClock(), host, config.port if port is None else port)
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

    Times are UTC ISO-8601. Reads SHIPSHAPE_DB (default ./shipshape.db). In CSV, text
    a spreadsheet would run as a formula (starting with = + - or @) gets a leading ';
    JSON keeps every value exact.

    \b
    Examples:
      shipshape export deploys > deploys.csv
      shipshape export incidents --format json
    """
    config = _config(for_slack=False)
    if output:
        _check_output(output, Path(config.db_path))
    with _existing_store(config) as store:
        out = _open_output(output) if output else sys.stdout
        try:
            if fmt == "json":
                out.write("[")
                for i, row in enumerate(export_rows.rows(store.db, kind)):
                    out.write(("," if i else "") + "\n  " + json.dumps(row, ensure_ascii=False))
                out.write("\n]\n")
            else:
                # Text quoted (numbers not): a cell holding the other delimiter, as in
                # "a;=1+2", stays one cell in a spreadsheet that splits on semicolons.
                writer = csv.DictWriter(
                    out,
                    fieldnames=export_rows.columns(store.db, kind),
                    quoting=csv.QUOTE_NONNUMERIC,
                )
                writer.writeheader()
                writer.writerows(export_rows.csv_rows(store.db, kind))
        finally:
            if output:
                out.close()


# SQLite's own files beside the database: writing over any of them loses data.
_DATABASE_FILES = ("", "-wal", "-shm", "-journal")


def _check_output(output: Path, db: Path) -> None:
    """Refuse an output that is the database or one of its files, however it is named
    (relative, through a symlink, a hard link), before anything is opened: opening it for
    writing would truncate it."""
    target = output.resolve()
    for suffix in _DATABASE_FILES:
        own = Path(str(db.resolve()) + suffix)
        if target == own or (target.exists() and own.exists() and target.samefile(own)):
            raise click.ClickException(app_text.export_over_database(str(output), str(own)))


def _open_output(output: Path) -> TextIO:
    folder = output.parent
    if not folder.is_dir():
        raise click.ClickException(app_text.export_no_folder(str(folder)))
    try:
        return output.open("w", newline="", encoding="utf-8")
    except OSError as error:
        problem = app_text.export_cannot_write(str(output), error.strerror)
        raise click.ClickException(problem) from None


@contextmanager
def _existing_store(config: Config) -> Iterator[Store]:
    """The database `serve` writes; these commands never create one where none is."""
    if not Path(config.db_path).is_file():
        _fail([app_text.no_database(config.db_path)])
    store = Store(config.db_path)
    try:
        store.migrate()
        yield store
    finally:
        store.close()


def _clock(config: Config) -> Clock:
    """The wall clock, unless SHIPSHAPE_NOW pins "now" (see bot.config)."""
    return SystemClock() if config.now is None else FixedClock(config.now)


def _report_window(
    window: str | None, start: str | None, end: str | None, now: pendulum.DateTime, tz: str
) -> Window:
    """The window asked for; a bad one is a usage error (exit 2) naming the option."""
    text = window or "30d"
    try:
        return chosen(window, start, end, now, tz)
    except BadWindow as error:
        reason = str(error)
        problem = app_text.report_window_refusal(reason, text, start, end, tz)
        if reason in ("window_and_range", "range_missing"):
            raise click.UsageError(problem) from None
        option = "'--window'" if start is None else "'--from/--to'"
        raise click.BadParameter(problem, param_hint=option) from None


@main.command()
@click.argument("service", required=False)
@click.option("--team", "team", metavar="NAME",
              help="A team's services, counted as one (see shipshape teams).")  # fmt: skip
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
    team: str | None,
    window: str | None,
    start: str | None,
    end: str | None,
    env: str | None,
    as_json: bool,
) -> None:
    """Print the /dora numbers for all services, one SERVICE or a team's services: the five
    DORA metrics for a window, with the change from the window of the same length before
    it.

    Reads SHIPSHAPE_DB and SHIPSHAPE_TIMEZONE; needs no Slack configuration.

    \b
    Examples:
      shipshape report
      shipshape report api --window "last month"
      shipshape report --team payments --json
      shipshape report --from 2026-11-01 --to 2026-11-30 --env staging --json
    """
    config = _config(for_slack=False)
    if team is not None and service is not None:
        raise click.UsageError(app_text.REPORT_SERVICE_OR_TEAM)
    try:
        service = None if service in (None, "all") else fields.service(service)
        env = fields.environment(env) if env is not None else None
    except FieldError as error:
        raise click.BadParameter(error.problem, param_hint=error.key) from None
    found = _report_window(window, start, end, _clock(config).now(), config.timezone)
    with _existing_store(config) as store:
        result = build_report(
            store.db,
            found,
            environments=(env,) if env else config.production_environments,
            environment=env,
            service=service,
            tz=config.timezone,
            team=_team(store.db, team) if team is not None else None,
        )
    click.echo(
        json.dumps(result.to_json(), indent=2)
        if as_json
        else terminal.render(result, config.timezone)
    )


def _no_such_team(error: teams.UnknownTeam) -> click.ClickException:
    """An unknown team: one line naming the known ones, and exit status 1."""
    return click.ClickException(team_text.unknown_team(error.name, error.known))


def _team(db: sqlite_utils.Database, name: str) -> Team:
    try:
        return teams.find(db, name)
    except teams.UnknownTeam as error:
        raise _no_such_team(error) from None


@main.group()
def team() -> None:
    """Set up teams: named sets of services that reports count as one.

    \b
    Examples:
      shipshape team set payments api checkout ledger
      shipshape team remove payments
      shipshape teams
    """


@team.command("set")
@click.argument("name")
@click.argument("services", nargs=-1, required=True, metavar="SERVICE...")
def team_set(name: str, services: tuple[str, ...]) -> None:
    """Make team NAME exactly these services (created when new, replaced otherwise). A
    service may be in several teams; one with nothing recorded yet is kept, with a warning.

    \b
    Example:
      shipshape team set payments api checkout ledger
    """
    config = _config(for_slack=False)
    if not is_service(name):
        raise click.BadParameter(team_text.bad_team_name(name), param_hint="'NAME'")
    for value in services:
        try:
            fields.service(value)
        except FieldError as error:
            raise click.BadParameter(error.problem, param_hint="'SERVICE...'") from None
    with _store(config) as store:
        done = teams.set_team(store, name, services, _clock(config).now())
    before = done.before.services if done.before else None
    click.echo(team_text.team_saved(done.team.name, done.team.services, before))
    if done.unrecorded:
        click.echo(team_text.unrecorded(done.unrecorded), err=True)


@team.command("remove")
@click.argument("name")
def team_remove(name: str) -> None:
    """Remove team NAME. Refused while a channel's /dora scope or weekly summary is for it.

    \b
    Example:
      shipshape team remove payments
    """
    config = _config(for_slack=False)
    with _existing_store(config) as store:
        try:
            removed = teams.remove_team(store, name)
        except teams.UnknownTeam as error:
            raise _no_such_team(error) from None
        except Conflict as error:
            assert isinstance(error.record, teams.InUse)
            used = error.record
            problem = team_text.team_in_use(used.name, used.scoped, used.subscribed)
            raise click.ClickException(problem) from None
    click.echo(team_text.team_removed(removed.name, removed.services))


@main.command("teams")
def teams_command() -> None:
    """List the teams with their services, by name.

    \b
    Example:
      shipshape teams
    """
    config = _config(for_slack=False)
    with _existing_store(config) as store:
        found = teams.every(store.db)
    lines = [team_text.team_line(t.name, t.services) for t in found]
    click.echo("\n".join(lines) if lines else team_text.NO_TEAMS)


@main.command()
@click.option(
    "--channel",
    metavar="CHANNEL",
    help="A channel id (C0123ABCD): summarise the service it is subscribed to.",
)
@click.option(
    "--week",
    metavar="YYYY-Www",
    help="The ISO week to summarise, like 2026-W47. [default: the last complete week]",
)
@click.option("--post", is_flag=True,
              help="Post it in --channel instead (needs SLACK_BOT_TOKEN), at most once per "
                   "channel and week, like the schedule.")  # fmt: skip
def summary(channel: str | None, week: str | None, post: bool) -> None:
    """Print the weekly summary of an ISO week (team time zone): the five metrics with
    the change from the week before, the speed-versus-stability check, the 12-week trend
    and the open incidents.

    Reads SHIPSHAPE_DB and SHIPSHAPE_TIMEZONE; only --post needs SLACK_BOT_TOKEN (and
    reads SLACK_API_URL).

    \b
    Examples:
      shipshape summary
      shipshape summary --week 2026-W47 --channel C0123ABCD
      SLACK_BOT_TOKEN=xoxb-... shipshape summary --channel C0123ABCD --post
    """
    from bot.summary import build as weekly  # the check's SciPy loads only when needed

    config = _config(for_slack=False)
    if post and not channel:
        raise click.UsageError(summary_text.SUMMARY_POST_NEEDS_CHANNEL)
    if post and not config.slack_bot_token:
        _fail([CONFIG_MISSING_BOT_TOKEN])
    clock = _clock(config)
    try:
        year, number = weekly.complete_week(week, clock.now(), config.timezone)
    except weekly.BadWeek as error:
        raise click.ClickException(str(error)) from None
    with _existing_store(config) as store:
        deps = Deps(config=config, store=store, clock=clock)
        if post and channel:
            _post_summary(deps, channel, (year, number))
            return
        subscribed = subscriptions.get(store.db, channel) if channel else None
        try:
            built = weekly.for_channel(deps, year, number, channel, subscribed)
        except teams.UnknownTeam as error:
            raise _no_such_team(error) from None
        click.echo(weekly.terminal_text(built))


def _post_summary(deps: Deps, channel: str, week: tuple[int, int]) -> None:
    """Post through the schedule's exactly-once claim; what Slack refused is one line and
    exit status 1."""
    from bot.app.slack_app import web_client
    from bot.summary.post import AlreadyPosted, Disabled, Failed, Posted, post_week

    client = web_client(deps.config.slack_bot_token or "", deps.config.slack_api_url)
    result = post_week(deps, client, channel, week)
    if isinstance(result, Posted):
        click.echo(summary_text.summary_posted(result.week, channel, result.ts, result.chart))
    elif isinstance(result, AlreadyPosted):
        posted_at = show(result.posted_at, deps.tz)
        click.echo(summary_text.summary_already_posted(result.week, channel, posted_at, result.ts))
    elif isinstance(result, Failed):
        raise click.ClickException(
            summary_text.summary_post_failed(result.week, channel, result.error)
        )
    elif isinstance(result, Disabled):
        raise click.ClickException(
            summary_text.summary_post_disabled(result.week, channel, result.reason)
        )
    else:
        claimed_at = show(result.claimed_at, deps.tz)
        raise click.ClickException(
            summary_text.summary_being_posted(result.week, channel, claimed_at)
        )


@main.command()
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
              default=Path("shipshape-demo"), show_default=True,
              help="Folder for demo.db and trend.png (recreated on each run).")  # fmt: skip
def demo(directory: Path) -> None:
    """Show Shipshape without Slack: fill a separate demo database with 12 weeks of made-up
    history for five services, print the /dora reports for the organisation and for one
    service and the weekly summary of the last complete week, and draw its trend chart as
    a PNG.

    Never touches SHIPSHAPE_DB. Uses SHIPSHAPE_TIMEZONE for weeks and display.

    \b
    Example:
      shipshape demo --dir /tmp/shipshape-demo
    """
    from bot.app import demo as demo_run  # matplotlib and the generator load only when needed

    config = _config(for_slack=False)
    try:
        for section in demo_run.run(directory, config.timezone):
            click.echo(section + "\n")
    except demo_run.DemoError as error:
        raise click.ClickException(str(error)) from None


# ---- shipshape github ------------------------------------------------------------------------


@contextmanager
def _store(config: Config) -> Iterator[Store]:
    """The database for commands that record something: created when there is none yet,
    as `serve` would, so history can be imported before the bot first runs."""
    store = Store(config.db_path)
    try:
        store.migrate()
    except Busy:
        store.close()
        raise
    except Exception as error:
        store.close()
        _fail([app_text.cannot_open_database(config.db_path, str(error))])
    try:
        yield store
    finally:
        store.close()


def _repo(value: str) -> str:
    try:
        return fields.repo(value)
    except FieldError:
        raise click.ClickException(github_text.github_bad_repo(value)) from None


@main.group()
def github() -> None:
    """Import history from GitHub and set how each repository is counted.

    \b
    Examples:
      shipshape github sync acme/api --since 2026-09-01
      shipshape github repo acme/api service=api sync=on
      shipshape github repos
    """


SYNC_STEPS = 1000  # a progress bar's resolution


class _SyncProgress:
    """A progress bar per sync phase on standard error, with the API budget used so far
    beside it; nothing when that is no terminal (a cron job's log gets the summary line)."""

    def __init__(self, calls: Calls) -> None:
        self.calls = calls
        self.shown = sys.stderr.isatty()
        self.phase: str | None = None
        self.bar: ProgressBar[int] | None = None

    def _budget(self, _: object) -> str:
        calls = self.calls
        return github_text.github_sync_budget(
            calls.rest, calls.graphql, calls.points, calls.remaining
        )

    def __call__(self, phase: str, fraction: float) -> None:
        if not self.shown:
            return
        if phase != self.phase or self.bar is None:
            self.close()
            self.phase = phase
            self.bar = click.progressbar(
                length=SYNC_STEPS,
                label=github_text.GITHUB_SYNC_PHASES[phase],
                file=sys.stderr,
                item_show_func=self._budget,
            )
            self.bar.render_progress()
        steps = int(fraction * SYNC_STEPS) - self.bar.pos
        if steps > 0:
            self.bar.update(steps, current_item=phase)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.render_finish()
            self.bar = None


@github.command("sync")
@click.argument("repo", metavar="OWNER/REPO")
@click.option(
    "--since",
    metavar="DATE",
    help="Start here: a day (YYYY-MM-DD, team time zone), an ISO-8601 time or "
    "'30d ago'. [default: where the last sync ended, else 90 days ago]",
)
@click.option("--dry-run", is_flag=True,
              help="Say how many API calls a first import from --since (default 90 days ago) "
                   "would take, from one GraphQL call; store nothing.")  # fmt: skip
def github_sync(repo: str, since: str | None, dry_run: bool) -> None:
    """Import a repository's deployments with their statuses, merged pull requests and
    default-branch commits through the GitHub API, so lead times and deploys are known
    without webhooks or before they were set up.

    Through GraphQL, 100 deployments with their statuses, pull requests and commits per
    call (REST where GraphQL is unavailable: a call per deployment). Incremental: a
    second run reads only what is new. The last production deployment before the range
    is read too, so the first deployment in it ships only its own changes. Rate limits
    are waited out a minute at a time; when the hourly budget is spent it stops, and
    running it again continues where it stopped.

    Needs GITHUB_TOKEN (or the GitHub App settings); reads GITHUB_API_URL and SHIPSHAPE_DB.

    \b
    Examples:
      GITHUB_TOKEN=github_pat_... shipshape github sync acme/api --since 2026-09-01
      shipshape github sync acme/api
      shipshape github sync acme/api --since 2025-12-01 --dry-run
    """
    from bot.sources.github import api as github_api
    from bot.sources.github import sync as sync_module  # PyGithub loads only when syncing

    config = _config(for_slack=False)
    repo = _repo(repo)
    if not github_api.configured(config):
        _fail([github_text.GITHUB_NOT_CONFIGURED])
    clock = _clock(config)
    start = None
    if since is not None:
        try:
            start = parse_moment(since, config.timezone, clock.now())
        except BadTime:
            raise click.BadParameter(
                github_text.github_bad_since(since, config.timezone), param_hint="'--since'"
            ) from None
    if dry_run:
        _github_dry_run(config, clock, repo, start)
        return
    with _store(config) as store:
        deps = Deps(config=config, store=store, clock=clock)
        begin = sync_module.start_of_range(deps, repo, start)
        click.echo(github_text.github_sync_range(repo, show(begin, config.timezone)), err=True)
        calls = github_api.Calls()
        progress = _SyncProgress(calls)
        try:
            result = sync_module.sync(deps, repo, start, progress, calls)
        except sync_module.SyncError as error:
            progress.close()
            if isinstance(error, sync_module.RateLimited):
                click.echo(sync_module.summary(error.result))  # what this run stored
            _fail([error.message])
        except KeyboardInterrupt:
            progress.close()
            click.echo(github_text.GITHUB_SYNC_INTERRUPTED, err=True)
            raise SystemExit(130) from None
        progress.close()
    click.echo(sync_module.summary(result))


def _github_dry_run(
    config: Config, clock: Clock, repo: str, start: pendulum.DateTime | None
) -> None:
    """`github sync --dry-run`: the estimate needs no database."""
    from bot.sources.github import sync as sync_module

    try:
        found = sync_module.dry_run(config, clock, repo, start)
    except sync_module.SyncError as error:
        _fail([error.message])
    begin = start or clock.now().subtract(days=sync_module.DEFAULT_DAYS)
    click.echo(
        github_text.github_dry_run(
            found.repo,
            show(begin, config.timezone),
            found.deployments,
            found.pulls,
            found.commits,
            found.graphql_calls,
            found.rest_calls,
        )
    )


LABEL_LIMIT = 50  # GitHub's own limit for a label name
_SETTING_KEYS = ("service", "incident-label", "deploy-on", "sync")


def _setting_changes(words: tuple[str, ...]) -> dict[str, object]:
    """`key=value` words as RepoSettings fields, every one checked before anything is
    stored; a wrong one is a ClickException naming it with a correct example."""
    changes: dict[str, object] = {}
    for word in words:
        key, has_value, value = word.partition("=")
        key = key.strip().lower()
        if not has_value or key not in _SETTING_KEYS:
            raise click.ClickException(github_text.github_repo_unknown_key(word))
        value = value.strip()
        if key == "service":
            try:
                changes["service"] = fields.service(value)
            except FieldError as error:
                raise click.ClickException(
                    github_text.github_repo_bad_setting(error.problem)
                ) from None
        elif key == "incident-label":
            if not value or len(value) > LABEL_LIMIT or not value.isprintable():
                raise click.ClickException(github_text.github_repo_bad_label(value, LABEL_LIMIT))
            changes["incident_label"] = value
        elif key == "deploy-on":
            kind, _, workflow = value.partition(":")
            kind, workflow = kind.lower(), workflow.strip()
            if kind in ("deployments", "release") and not workflow and ":" not in value:
                changes.update(deploy_on=kind, workflow=None)
            elif kind == "workflow" and workflow and len(workflow) <= 200:
                changes.update(deploy_on="workflow", workflow=workflow)
            else:
                raise click.ClickException(github_text.github_repo_bad_deploy_on(value))
        elif value.lower() in ("on", "off"):
            changes["sync"] = int(value.lower() == "on")
        else:
            raise click.ClickException(github_text.github_repo_bad_sync(value))
    return changes


def _show_settings(settings: github_store.RepoSettings, tz: str) -> str:
    deploy_on = settings.deploy_on
    if deploy_on == "workflow":
        deploy_on = f"workflow:{settings.workflow}"
    return github_text.github_settings_lines(
        settings.repo,
        settings.service_for(),
        settings.service is None,
        settings.label,
        settings.incident_label is None,
        deploy_on,
        bool(settings.sync),
        show(settings.synced_at, tz) if settings.synced_at else None,
    )


@github.command("repo")
@click.argument("repo", metavar="OWNER/REPO")
@click.argument("settings", nargs=-1, metavar="[KEY=VALUE]...")
def github_repo(repo: str, settings: tuple[str, ...]) -> None:
    """Show a repository's settings, or change them and show the result.

    \b
    service=NAME        the service its deploys and incidents count for
                        (default: the repository's name)
    incident-label=L    issues with this label are incidents (default: incident)
    deploy-on=WHAT      what counts as a deploy: deployments (GitHub deployment
                        statuses, the default), release (releases published) or
                        workflow:NAME (runs of the workflow NAME that completed)
    sync=on|off         sync it on the schedule of `shipshape serve`
                        (every SHIPSHAPE_GITHUB_SYNC_MINUTES minutes)

    Write OWNER/REPO as GitHub shows it.

    \b
    Examples:
      shipshape github repo acme/api
      shipshape github repo acme/api service=api-gateway incident-label=outage
      shipshape github repo acme/web deploy-on=workflow:Deploy sync=on
    """
    config = _config(for_slack=False)
    repo = _repo(repo)
    changes = _setting_changes(settings)
    if not changes:
        with _existing_store(config) as store:
            click.echo(_show_settings(github_store.settings(store.db, repo), config.timezone))
        return
    with _store(config) as store:
        with store.write() as db:
            updated = replace(github_store.settings(db, repo), **changes)  # type: ignore[arg-type]
            github_store.save_settings(db, updated, utc_text(_clock(config).now()))
        click.echo(_show_settings(updated, config.timezone))


@github.command("repos")
def github_repos() -> None:
    """List the repositories with settings of their own or a sync cursor.

    \b
    Example:
      shipshape github repos
    """
    config = _config(for_slack=False)
    with _existing_store(config) as store:
        found = github_store.all_settings(store.db)
    if not found:
        click.echo(github_text.GITHUB_NO_REPOS)
        return
    click.echo("\n\n".join(_show_settings(s, config.timezone) for s in found))


# ---- the sources' mapping commands: a channel to post incident cards in -----------------------

_CHANNEL_ID = re.compile(r"^#?([CG][A-Z0-9]{6,20})$")


def _channel(config: Config, value: str, bad: Callable[[str], str]) -> str | None:
    """A mapping's `channel=`: an id as it is, `none` for no channel, or a #name looked up in
    Slack with SLACK_BOT_TOKEN (the bot posts by id). `bad` words any other value."""
    if value.lower() == "none":
        return None
    if match := _CHANNEL_ID.match(value):
        return match.group(1)
    from bot.slack.channels import NAME

    name = NAME.match(value)
    if name is None:
        raise click.ClickException(bad(value))
    if not config.slack_bot_token:
        raise click.ClickException(app_text.channel_needs_token(value))
    from slack_sdk.errors import SlackApiError

    from bot.app.slack_app import web_client
    from bot.slack.channels import find_channel

    try:
        found = find_channel(web_client(config.slack_bot_token, config.slack_api_url), name[1])
    except SlackApiError as error:
        code = str(error.response.get("error") or error)
        raise click.ClickException(app_text.channel_lookup_failed(value, code)) from None
    if found is None:
        raise click.ClickException(app_text.channel_not_found(value))
    return found


# ---- shipshape gitlab ------------------------------------------------------------------------

_GITLAB_KEYS = ("service", "incident-label", "channel")


@main.group()
def gitlab() -> None:
    """Set how each GitLab project's webhook deliveries are counted.

    \b
    Examples:
      shipshape gitlab project acme/api service=api-gateway channel=C0123ABCD
      shipshape gitlab projects
    """


def _gitlab_project(value: str) -> str:
    path = value.strip().strip("/")
    if "/" not in path or not path.isprintable() or " " in path or len(path) > 255:
        raise click.ClickException(gitlab_text.gitlab_bad_project(value))
    return path


def _gitlab_changes(config: Config, words: tuple[str, ...]) -> dict[str, str | None]:
    """`key=value` words as SourceSettings fields, every one checked before anything is
    stored; a wrong one is a ClickException naming it with a correct example."""
    found: dict[str, str | None] = {}
    for word in words:
        key, has_value, value = word.partition("=")
        key, value = key.strip().lower(), value.strip()
        if not has_value or key not in _GITLAB_KEYS:
            raise click.ClickException(gitlab_text.gitlab_unknown_key(word))
        if key == "service":
            try:
                found["service"] = fields.service(value)
            except FieldError as error:
                raise click.ClickException(gitlab_text.gitlab_bad_setting(error.problem)) from None
        elif key == "incident-label":
            if not value or len(value) > LABEL_LIMIT or not value.isprintable():
                raise click.ClickException(gitlab_text.gitlab_bad_label(value, LABEL_LIMIT))
            found["incident_label"] = value
        else:
            found["channel_id"] = _channel(config, value, gitlab_text.gitlab_bad_channel)
    return found


def _gitlab_lines(db: sqlite_utils.Database, path: str) -> str:
    project = gitlab_events.project(db, path)
    return gitlab_text.gitlab_project_lines(
        path,
        project.service,
        project.service_is_default,
        project.label,
        project.label == gitlab_events.DEFAULT_INCIDENT_LABEL,
        project.channel_id,
    )


@gitlab.command("project")
@click.argument("project", metavar="GROUP/PROJECT")
@click.argument("settings", nargs=-1, metavar="[KEY=VALUE]...")
def gitlab_project(project: str, settings: tuple[str, ...]) -> None:
    """Show a GitLab project's settings, or change them and show the result.

    \b
    service=NAME        the service its deploys and incidents count for
                        (default: the last part of the project's path)
    incident-label=L    issues with this label are incidents, as are issues of
                        type Incident (default: incident)
    channel=CHANNEL     post its incidents' cards to this Slack channel: its id
                        (C0123ABCD), its #name (looked up in Slack: needs
                        SLACK_BOT_TOKEN), or channel=none

    Write GROUP/PROJECT as GitLab's path_with_namespace (subgroups too).

    \b
    Examples:
      shipshape gitlab project acme/api
      shipshape gitlab project acme/api service=api-gateway incident-label=outage
      shipshape gitlab project acme/platform/web channel=C0123ABCD
    """
    config = _config(for_slack=False)
    path = _gitlab_project(project)
    changes = _gitlab_changes(config, settings)
    if not changes:
        with _existing_store(config) as store:
            click.echo(_gitlab_lines(store.db, path))
        return
    with _store(config) as store:
        with store.write() as db:
            now = utc_text(_clock(config).now())
            before = sources.settings(db, gitlab_events.SOURCE, path)
            sources.save_settings(
                db,
                replace(
                    before
                    or sources.SourceSettings(gitlab_events.SOURCE, path, None, None, None, now),
                    updated_at=now,
                    **changes,  # type: ignore[arg-type]
                ),
            )
        click.echo(_gitlab_lines(store.db, path))


@gitlab.command("projects")
def gitlab_projects() -> None:
    """List the GitLab projects with settings of their own.

    \b
    Example:
      shipshape gitlab projects
    """
    config = _config(for_slack=False)
    with _existing_store(config) as store:
        found = sources.all_settings(store.db, gitlab_events.SOURCE)
        lines = [_gitlab_lines(store.db, s.key) for s in found]
    click.echo("\n\n".join(lines) if lines else gitlab_text.GITLAB_NO_PROJECTS)


# ---- shipshape pagerduty ---------------------------------------------------------------------

PAGERDUTY = "pagerduty"


@main.group()
def pagerduty() -> None:
    """Set which Shipshape service and Slack channel each PagerDuty service's incidents
    belong to.

    \b
    Examples:
      shipshape pagerduty service PF9KMXH service=checkout channel=C0123456789
      shipshape pagerduty service "Checkout API" channel=none
      shipshape pagerduty services
    """


def _pagerduty_changes(config: Config, words: tuple[str, ...]) -> dict[str, str | None]:
    """`service=NAME`, `channel=C...|#name|none`, every one checked before anything is
    stored."""
    changes: dict[str, str | None] = {}
    for word in words:
        key, has_value, value = word.partition("=")
        key, value = key.strip().lower(), value.strip()
        if not has_value or key not in ("service", "channel"):
            raise click.ClickException(pd_text.pagerduty_unknown_key(word))
        if key == "service":
            try:
                changes["service"] = fields.service(value)
            except FieldError as error:
                raise click.ClickException(pd_text.pagerduty_bad_service(error.problem)) from None
        else:
            changes["channel_id"] = _channel(config, value, pd_text.pagerduty_bad_channel)
    return changes


def _show_pagerduty(found: sources.SourceSettings) -> str:
    return pd_text.pagerduty_settings_line(found.key, found.service, found.channel_id)


@pagerduty.command("service")
@click.argument("name_or_id", metavar="NAME_OR_ID")
@click.argument("settings", nargs=-1, metavar="[KEY=VALUE]...")
def pagerduty_service(name_or_id: str, settings: tuple[str, ...]) -> None:
    """Show a PagerDuty service's mapping, or change it and show the result.

    \b
    service=NAME     the Shipshape service its incidents count for (default: the
                     PagerDuty name in lower case, "Checkout API" is checkout-api)
    channel=CHANNEL  the Slack channel where its incidents' cards are posted: its
                     id (C0123ABCD) or its #name (looked up in Slack: needs
                     SLACK_BOT_TOKEN); channel=none: posted nowhere, the default

    NAME_OR_ID is the service's name as PagerDuty shows it, or its id (the P... in
    the service's URL); an id wins over a name when both are mapped.

    \b
    Examples:
      shipshape pagerduty service PF9KMXH service=checkout channel=C0123456789
      shipshape pagerduty service "Checkout API" service=checkout
    """
    config = _config(for_slack=False)
    key = name_or_id.strip()
    if not key or len(key) > 100 or not key.isprintable():
        raise click.ClickException(pd_text.pagerduty_bad_key(name_or_id))
    changes = _pagerduty_changes(config, settings)
    now = utc_text(_clock(config).now())
    empty = sources.SourceSettings(PAGERDUTY, key, None, None, None, now)
    if not changes:
        with _existing_store(config) as store:
            found = sources.settings(store.db, PAGERDUTY, key) or empty
        click.echo(_show_pagerduty(found))
        return
    with _store(config) as store, store.write() as db:
        found = sources.settings(db, PAGERDUTY, key) or empty
        updated = replace(found, updated_at=now, **changes)  # type: ignore[arg-type]
        sources.save_settings(db, updated)
    click.echo(_show_pagerduty(updated))


@pagerduty.command("services")
def pagerduty_services() -> None:
    """List the mapped PagerDuty services.

    \b
    Example:
      shipshape pagerduty services
    """
    config = _config(for_slack=False)
    with _existing_store(config) as store:
        found = sources.all_settings(store.db, PAGERDUTY)
    if not found:
        click.echo(pd_text.PAGERDUTY_NO_SERVICES)
        return
    click.echo("\n\n".join(_show_pagerduty(s) for s in found))
