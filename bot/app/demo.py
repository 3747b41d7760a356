"""`shipshape demo`: a separate database with 12 weeks of made-up but realistic delivery
history and one closed pulse survey round, its /dora reports and weekly summary in the
terminal, and the trend chart as a PNG.

The history tells one story the weekly summary is built to catch: the payments team moved
to continuous deployment four weeks before "now" and its failures rose with its pace, so
the last complete week's speed-versus-stability check raises its flag, for payments and
for the organisation. Everything is deterministic (a fixed seed per service and a fixed
"now"), so two runs print the same report and tests can rely on it. The demo database is
never the user's SHIPSHAPE_DB: it lives in its own folder and is recreated on each run.
"""

from __future__ import annotations

import math
import random
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pendulum

from bot.app import text as app_text
from bot.config import Config
from bot.core.clock import FixedClock
from bot.core.moments import show, utc_text
from bot.core.weeks import iso_week
from bot.core.windows import parse
from bot.deps import Deps
from bot.metrics.report import build
from bot.metrics.stability import RECENT_WEEKS
from bot.metrics.terminal import render
from bot.pulse import rounds
from bot.recording import changes, deploys, incidents
from bot.recording.deploys import DeployFacts, Source
from bot.recording.incidents import IncidentFacts
from bot.summary import build as summary
from bot.teams import rules as teams
from bot.teams import text as team_text
from storage import pulse
from storage import pulse_answers as answers
from storage.db import Store
from storage.pulse import Survey

# Noon UTC on a Monday is a Monday in every time zone (UTC-12 to UTC+14), so the last
# complete week is 2026-W47 whatever SHIPSHAPE_TIMEZONE says.
NOW = pendulum.datetime(2026, 11, 23, 12, 0, tz="UTC")
SEED = 20261123
WEEKS = 12
DB_NAME = "demo.db"
CHART_NAME = "trend.png"
# Written into the SQLite header so a rerun deletes only a database the demo made.
APPLICATION_ID = 0x53485044  # "SHPD"
ENVIRONMENTS = ("production",)
SERVICE_SHOWN = "payments"  # the service whose speed outran its stability
# Teams do not map one-to-one to services: payments' team owns api too, and the two teams
# share search (a service may be in several teams, and counts in each).
TEAMS = (
    ("commerce", ("api", "payments", "search")),
    ("discovery", ("mobile-backend", "search", "web")),
)
TEAM_SHOWN = "commerce"
MINUTE, HOUR, DAY = 60, 3_600, 86_400
# The pulse survey of a made-up #dev channel: the demo never talks to Slack, so its round
# is opened, answered and closed by the same code as the bot's, minus the DMs.
PULSE_CHANNEL = "C0DEMODEV"
PULSE_ADMIN = "U0DEMO000"
PULSE_INVITED = 12
# (ease 1-5, time sinks, comment) per respondent; None: this person skipped the round.
# Three of the twelve never answered.
PULSE_ANSWERS: tuple[tuple[int, tuple[str, ...], str] | None, ...] = (
    (2, ("incidents", "deploy_process"), "Payments paged us three nights in a row."),
    (3, ("code_review", "flaky_tests"), ""),
    (2, ("incidents", "flaky_tests"), ""),
    (4, ("ci",), ""),
    None,
    (3, ("incidents", "code_review"), "Reviews wait while half the team is firefighting."),
    (4, ("meetings",), ""),
    (2, ("incidents", "environments"), ""),
    (5, (), "Shipping small changes feels quick now."),
)


class DemoError(Exception):
    """The demo cannot be written; the message says why and what to do."""


@dataclass(frozen=True)
class Shift:
    """How a service delivers from `weeks` weeks before "now" on: the demo's story of a team
    that sped up and broke more, for the weekly summary's speed-versus-stability flag."""

    weeks: int
    deploy_chance: float
    failure_rate: float


@dataclass(frozen=True)
class Profile:
    """How one made-up service delivers."""

    name: str
    deploy_chance: float  # per working day, for a first deploy; a second at half of it
    failure_rate: float  # share of deployments that fail in production
    lead_median: float  # seconds from commit to production
    commits: tuple[int, int]  # per deployment
    recovery_median: float  # seconds an incident of this service lasts
    unrelated_incidents: int  # incidents no deploy caused (cause 'none')
    shift: Shift | None = None


PROFILES = (
    Profile("api", 0.92, 0.04, 5 * HOUR, (1, 4), 40 * MINUTE, 2),
    Profile("web", 0.65, 0.08, 20 * HOUR, (1, 5), 2 * HOUR, 1),
    # Continuous deployment for the last RECENT_WEEKS weeks: deploys every working day,
    # each failing with a chance of a third (the summary's check compares exactly those
    # weeks with the 8 before).
    Profile("payments", 0.5, 0.04, 3 * DAY, (2, 8), 5 * HOUR, 2, Shift(RECENT_WEEKS, 1.0, 0.33)),
    Profile("search", 0.38, 0.10, 36 * HOUR, (1, 4), 3 * HOUR, 1),
    Profile("mobile-backend", 0.14, 0.15, 8 * DAY, (3, 10), 30 * HOUR, 1),
)
INCIDENT_TITLES = (
    "Elevated 5xx on checkout",
    "Latency p99 above 2s",
    "Login fails for some users",
    "Search results empty",
    "Push notifications delayed",
    "Payment webhooks failing",
    "Memory leak after release",
    "Database connection pool exhausted",
)
UNRELATED_TITLES = (
    "Cloud provider network degradation",
    "Certificate expired on CDN",
    "Third-party API outage",
)


@dataclass
class Plan:
    """Rows to insert; deploys refer to each other and are referred to by plan index."""

    deploys: list[dict[str, Any]] = field(default_factory=list)
    incidents: list[dict[str, Any]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)


class _Service:
    """Generates one service's history in time order."""

    def __init__(self, profile: Profile, rng: random.Random, plan: Plan) -> None:
        self.p, self.rng, self.plan = profile, rng, plan
        self.minor, self.patch, self.pr = 1, 0, 100
        self.version = "v2.0.0"
        self.last_shipped = NOW.subtract(weeks=WEEKS + 1)

    def _sha(self) -> str:
        return f"{self.rng.getrandbits(160):040x}"

    def _lognormal(self, median: float, spread: float = 0.8) -> float:
        return median * math.exp(self.rng.gauss(0, spread))

    def _deploy(self, at: pendulum.DateTime, **values: Any) -> int:
        row = {
            "service": self.p.name,
            "environment": "production",
            "version": self.version,
            "sha": None,
            "repo": f"acme/{self.p.name}",
            "status": "success",
            "deployed_at": at,
            "is_hotfix": 0,
            "rollback_of": None,
            **values,
        }
        self.plan.deploys.append(row)
        return len(self.plan.deploys) - 1

    def _commits(self, deploy: int, at: pendulum.DateTime, count: int, median: float) -> None:
        """Commits authored between the previous release and `at`, lead times around
        `median`, shipped by plan deploy `deploy`."""
        earliest = self.last_shipped
        shas = []
        for _ in range(count):
            lead = min(self._lognormal(median), (at - earliest).total_seconds())
            authored = at.subtract(seconds=int(max(lead, 5 * MINUTE)))
            self.pr += 1
            merged = authored.add(seconds=int((at - authored).total_seconds() * 0.6))
            sha = self._sha()
            shas.append(sha)
            self.plan.changes.append(
                {
                    "repo": f"acme/{self.p.name}",
                    "sha": sha,
                    "authored_at": authored,
                    "pr_number": self.pr,
                    "merged_at": merged,
                    "deploy": deploy,
                }
            )
        self.plan.deploys[deploy]["sha"] = shas[-1]
        self.last_shipped = at

    def _incident(self, start: pendulum.DateTime, deploy: int | None) -> pendulum.DateTime:
        seconds = min(max(self._lognormal(self.p.recovery_median, 1.0), 4 * MINUTE), 5 * DAY)
        resolved = start.add(seconds=int(seconds))
        titles = INCIDENT_TITLES if deploy is not None else UNRELATED_TITLES
        self.plan.incidents.append(
            {
                "service": self.p.name,
                "title": self.rng.choice(titles),
                "severity": self.rng.choice((1, 2, 2, 3, 3, 3)),
                "started_at": start,
                # Still open if it would end after "now": the demo has open incidents too.
                "resolved_at": resolved if resolved <= NOW else None,
                "deploy": deploy,
            }
        )
        return resolved

    def _release(self, at: pendulum.DateTime, failure_chance: float) -> None:
        rng = self.rng
        if rng.random() < 0.06:  # a failed attempt first, retried a little later
            self._deploy(at.subtract(minutes=rng.randint(15, 45)), status="failed")
        if rng.random() < 0.7:  # most releases pass through staging first
            self._deploy(at.subtract(minutes=rng.randint(40, 180)), environment="staging")
        self.minor, self.patch = self.minor + 1, 0
        previous_version, self.version = self.version, f"v2.{self.minor}.0"
        release = self._deploy(at)
        count = rng.randint(*self.p.commits)
        self._commits(release, at, count, self.p.lead_median)
        if rng.random() >= failure_chance:
            return
        kind = rng.choice(("incident", "incident", "rollback", "both"))
        if kind in ("rollback", "both"):
            back = at.add(minutes=rng.randint(10, 90))
            if back <= NOW:
                self.version = previous_version
                self._deploy(back, rollback_of=release)
        if kind in ("incident", "both"):
            start = at.add(minutes=rng.randint(5, 240))
            if start > NOW:
                return
            resolved = self._incident(start, release)
            fix_at = start.add(minutes=rng.randint(30, 180))
            if kind == "incident" and rng.random() < 0.6 and fix_at <= min(resolved, NOW):
                self.patch += 1
                self.version = f"v2.{self.minor}.{self.patch}"
                hotfix = self._deploy(fix_at, is_hotfix=1)
                self._commits(hotfix, fix_at, 1, 40 * MINUTE)

    def _chances(self, date: pendulum.DateTime, progress: float) -> tuple[float, float]:
        """The chances of a deploy on a working day and of its failing in production."""
        shift = self.p.shift
        # NOW is a Monday, so whole weeks back from its midnight start ISO weeks.
        if shift is not None and date >= NOW.start_of("day").subtract(weeks=shift.weeks):
            return shift.deploy_chance, shift.failure_rate
        # Teams speed up a bit over the weeks, and failures creep up with it.
        ramp = progress - 0.5
        return self.p.deploy_chance * (1 + 0.4 * ramp), self.p.failure_rate * (1 + 0.6 * ramp)

    def history(self, start: pendulum.DateTime) -> None:
        rng = self.rng
        for day in range(WEEKS * 7):
            date = start.add(days=day)
            if date.weekday() >= 5:  # nobody ships at the weekend here
                continue
            chance, failure = self._chances(date, day / (WEEKS * 7))
            times = []
            if rng.random() < chance:
                times.append(rng.randint(8 * 60, 12 * 60))
                if rng.random() < chance / 2:
                    times.append(rng.randint(13 * 60, 17 * 60))
            for minutes in times:
                at = date.add(minutes=minutes)
                if at < NOW:
                    self._release(at, failure)
        for _ in range(self.p.unrelated_incidents):
            self._incident(start.add(seconds=rng.randint(0, WEEKS * 7 * DAY - DAY)), None)


def plan(seed: int = SEED) -> Plan:
    """The demo's rows, generated from `seed` (the same seed gives the same rows)."""
    result = Plan()
    start = NOW.start_of("day").subtract(weeks=WEEKS)
    for profile in PROFILES:
        # One generator per service, so reshaping one service's story leaves the others'.
        rng = random.Random(f"{seed}:{profile.name}")
        _Service(profile, rng, result).history(start)
    return result


def _fill(store: Store, rows: Plan) -> None:
    """Record the plan in time order (ids grow with time, as in real use), in one
    transaction, through the same write path as the bot (bot.recording), as an import
    that says which deploy shipped each change and caused each incident."""
    order = sorted(range(len(rows.deploys)), key=lambda i: rows.deploys[i]["deployed_at"])
    ids: dict[int, int] = {}
    with store.write() as db:
        for n, index in enumerate(order, 1):
            row = rows.deploys[index]
            at = utc_text(row["deployed_at"])
            target = row["rollback_of"]
            facts = DeployFacts(
                service=row["service"],
                environment=row["environment"],
                version=row["version"],
                sha=row["sha"],
                repo=row["repo"],
                status=row["status"],
                deployed_at=at,
                url=None,
                is_hotfix=bool(row["is_hotfix"]),
            )
            source = Source("import", f"demo:deploy:{n}", created_at=at)
            rollback = ids[target] if target is not None else None
            ids[index] = deploys.record(db, facts, source, ENVIRONMENTS, at, rollback).deploy.id
        for n, change in enumerate(rows.changes, 1):
            merged = utc_text(change["merged_at"])
            changes.imported(
                db,
                changes.ImportedChange(
                    repo=change["repo"],
                    sha=change["sha"],
                    authored_at=utc_text(change["authored_at"]),
                    pr_number=change["pr_number"],
                    merged_at=merged,
                    deploy_id=ids[change["deploy"]],
                    source_key=f"demo:change:{n}",
                    created_at=merged,
                ),
            )
        by_start = sorted(rows.incidents, key=lambda i: i["started_at"])
        for n, incident in enumerate(by_start, 1):
            cause = incident["deploy"]
            started = utc_text(incident["started_at"])
            resolved = incident["resolved_at"]
            facts = IncidentFacts(
                service=incident["service"],
                title=incident["title"],
                severity=incident["severity"],
                started_at=started,
                cause=ids[cause] if cause is not None else None,
                resolved_at=utc_text(resolved) if resolved else None,
            )
            incidents.imported(db, facts, f"demo:incident:{n}", started, ENVIRONMENTS)
        db.conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")


def _pulse_round(store: Store, config: Config) -> None:
    """One survey round, opened, answered and closed by the bot's own code (bot.pulse.rounds,
    and the answer writes behind the DM's buttons), from the Friday before the summarised
    week to its Thursday. Only the DMs are left out: each person's invite is claimed as
    send_round claims it before a DM. The survey is stopped afterwards, so a bot started on
    the demo database asks nobody."""
    tz = config.timezone
    week = iso_week(*summary.last_complete_week(NOW, tz), tz)
    opened = week.start.in_timezone(tz).subtract(days=3).at(14)
    clock = FixedClock(opened)
    deps = Deps(config=config, store=store, clock=clock)
    wanted = Survey(0, PULSE_CHANNEL, "channel", PULSE_CHANNEL, "biweekly", "fri", "14:00", tz)
    with store.write() as db:
        survey = pulse.start_survey(db, wanted, PULSE_ADMIN, utc_text(opened))
    round_id, _ = rounds.open_new(deps, survey.id)
    people = [f"U0DEMO{n:03d}" for n in range(1, PULSE_INVITED + 1)]
    with store.write() as db:
        for person in people:
            pulse.claim_invite(db, round_id, person)
    for person, answer in zip(people, PULSE_ANSWERS, strict=False):
        clock.advance(hours=7)
        now = utc_text(clock.now())
        with store.write() as db:
            if answer is None:
                answers.skip(db, round_id, person, now)
                continue
            ease, sinks, comment = answer
            answers.record_ease(db, round_id, person, ease, now)
            answers.record_sinks(db, round_id, person, sinks, now)
            if comment:
                answers.record_comment(db, round_id, person, comment, now)
    clock.set(opened.add(days=rounds.ROUND_DAYS))
    rounds.close_due(deps)
    rounds.stop(deps, survey)


def _is_demo_database(path: Path) -> bool:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        finally:
            conn.close()
    except sqlite3.Error:
        return False


def create(directory: Path, config: Config) -> Path:
    """A fresh demo database in `directory`; an existing one is replaced only if the demo
    made it. `config` gives the team time zone (the survey's) and the thresholds."""
    path = directory / DB_NAME
    if path.exists() and not _is_demo_database(path):
        raise DemoError(app_text.demo_not_ours(str(path)))
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            stale.unlink(missing_ok=True)
        store = Store(path)
        try:
            store.migrate()
            _fill(store, plan())
            _pulse_round(store, config)
            for name, services in TEAMS:
                teams.set_team(store, name, services, NOW)
        finally:
            store.close()
    except (OSError, sqlite3.Error) as error:
        raise DemoError(app_text.demo_cannot_write(str(directory), str(error))) from error
    return path


def run(directory: Path, tz: str) -> Iterator[str]:
    """Build the demo and yield what to print, section by section."""
    path = (directory / DB_NAME).resolve()
    config = Config(db_path=str(path), timezone=tz, production_environments=ENVIRONMENTS)
    create(directory, config)
    chart = path.parent / CHART_NAME
    services = [p.name for p in PROFILES]
    yield app_text.demo_intro(services, len(TEAMS), WEEKS, show(NOW, tz))
    store = Store(path)
    try:
        window = parse("30d", NOW, tz)
        shown = teams.find(store.db, TEAM_SHOWN)
        for service, team, command in (
            (None, None, "/dora all 30d"),
            (SERVICE_SHOWN, None, f"/dora {SERVICE_SHOWN} 30d"),
            (None, shown, f"/dora team={TEAM_SHOWN} 30d"),
        ):
            report = build(
                store.db,
                window,
                environments=ENVIRONMENTS,
                environment=None,
                service=service,
                team=team,
                tz=tz,
            )
            yield app_text.demo_heading(command) + "\n" + render(report, tz)
        listed = [team_text.team_line(t.name, t.services) for t in teams.every(store.db)]
        yield app_text.demo_heading("/dora teams") + "\n" + "\n".join(listed)
        deps = Deps(config=config, store=store, clock=FixedClock(NOW))
        week = summary.last_complete_week(NOW, tz)
        weekly = summary.build(deps, *week)
        # What a channel subscribed with service=payments reads first that week.
        own = summary.build(deps, *week, service=SERVICE_SHOWN)
    finally:
        store.close()
    yield summary.terminal_text(weekly)
    yield app_text.demo_service_check(SERVICE_SHOWN, *summary.check_text(own.check))
    try:
        chart.write_bytes(summary.chart_png(weekly))
    except OSError as error:
        raise DemoError(app_text.demo_cannot_write(str(directory), str(error))) from error
    yield app_text.demo_files(str(path), str(chart))
    yield app_text.DEMO_NEXT_STEPS
