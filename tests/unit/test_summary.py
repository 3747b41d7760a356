"""The weekly summary's content (bot/summary/build.py): weeks, build() on histories written into a
real temp database, the Slack blocks and the chart (`shipshape summary` through the real
console script: tests/e2e/test_summary_cli.py).

The team is in Europe/Berlin and "now" is Tuesday 2026-11-24 12:00 UTC, so the last
complete week is 2026-W47 (16 to 23 November) and the check's 12 weeks are W36 to W47.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st
from slack_sdk.models.blocks import HeaderBlock, SectionBlock

from bot.config import Config
from bot.core.clock import FixedClock
from bot.core.moments import utc_text
from bot.core.weeks import iso_week
from bot.deps import Deps
from bot.metrics.report import build as build_report
from bot.metrics.stability import Outcome
from bot.summary import build as summary
from bot.summary.chart import trend_figure
from storage.db import Store
from tests.fakes import records

TZ = "Europe/Berlin"
NOW = "2026-11-24T12:00:00Z"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
BASELINE = range(36, 44)  # 2026-W36 .. W43
RECENT = range(44, 48)  # 2026-W44 .. W47
# Deployments a week per service, and which of them fail (linked to an incident).
PLAN = {
    "api": ({w: 3 for w in BASELINE} | {w: 5 for w in RECENT}, {40: 1, 45: 1, 47: 1}),
    "payments": (
        {w: 2 for w in BASELINE} | {44: 4, 45: 5, 46: 4, 47: 5},
        {38: 1, 44: 1, 45: 2, 46: 1, 47: 2},
    ),
}
# By hand: baseline api 24 + payments 16 = 40, failed 1 + 1 = 2 (5%); recent api 20 +
# payments 18 = 38, failed 2 + 6 = 8 (21%); payments 1/16 = 6.25% -> 6/18 = 33.3%,
# api 1/24 = 4.2% -> 2/20 = 10%.
OPEN_INCIDENTS = 12


def local(year: int, week: int, day: int, hour: int, minute: int = 0) -> str:
    """UTC text of a local time in Berlin on ISO `day` (1 = Monday) of a week."""
    date = pendulum.Date.fromisocalendar(year, week, day)
    return utc_text(pendulum.datetime(date.year, date.month, date.day, hour, minute, tz=TZ))


def make_deps(path: Path, **config: object) -> Deps:
    store = Store(path)
    store.migrate()
    values: dict[str, object] = {"db_path": str(path), "timezone": TZ, **config}
    return Deps(config=Config(**values), store=store, clock=FixedClock(NOW))  # type: ignore[arg-type]


def write_history(store: Store) -> None:
    with store.write() as db:
        for service, (weekly, failing) in PLAN.items():
            for week, count in weekly.items():
                for n in range(count):
                    at = local(2026, week, 2, 8 + 2 * n, 30 if service == "payments" else 0)
                    deploy_id = records.deploy(db, at, service=service)
                    if n < failing.get(week, 0):
                        records.incident(
                            db, service, local(2026, week, 2, 9 + 2 * n), local(2026, week, 3, 9),
                            deploy_id=deploy_id,
                        )  # fmt: skip
        for n in range(OPEN_INCIDENTS):
            service = "payments" if n % 2 else "web"
            records.incident(db, service, local(2026, 47, 4, 8 + n), None, cause="none")
        # A staging deploy and a failed attempt count in no metric, so in no check.
        records.deploy(db, local(2026, 46, 3, 9), environment="staging")
        records.deploy(db, local(2026, 46, 3, 10), status="failed")


@pytest.fixture
def deps(tmp_path: Path) -> Iterator[Deps]:
    made = make_deps(tmp_path / "history.db")
    write_history(made.store)
    yield made
    made.store.close()


# ---- weeks ---------------------------------------------------------------------------------


def test_parse_week() -> None:
    assert summary.parse_week("2026-W47") == (2026, 47)
    assert summary.parse_week(" 2026-w03 ") == (2026, 3)
    assert summary.parse_week("2026-W53") == (2026, 53)  # 2026 has 53 ISO weeks


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("47", "'47' is not a week: write an ISO week as YYYY-Www, like 2026-W47"),
        ("2026-47", "is not a week"),
        ("2026W47", "is not a week"),
        ("2026-W7", "is not a week"),
        ("", "is not a week"),
        ("2026-W60", "'2026-W60' does not exist: 2026 has ISO weeks 1 to 53"),
        ("2027-W53", "2027 has ISO weeks 1 to 52"),
        ("2026-W00", "does not exist"),
        ("1999-W10", "out of range"),
    ],
)
def test_parse_week_refuses_with_a_reason(text: str, said: str) -> None:
    with pytest.raises(summary.BadWeek) as error:
        summary.parse_week(text)
    assert said in str(error.value)
    assert "2026-W47" in str(error.value) or "-W5" in str(error.value)


@given(st.dates(min_value=pendulum.date(2000, 1, 3), max_value=pendulum.date(9998, 12, 31)))
def test_week_labels_read_back(day: pendulum.Date) -> None:
    year, week, _ = day.isocalendar()
    assert summary.parse_week(summary.week_label(year, week)) == (year, week)


@given(st.text(max_size=12))
def test_parse_week_reads_or_refuses_anything(text: str) -> None:
    try:
        year, week = summary.parse_week(text)
    except summary.BadWeek as error:
        assert str(error)
    else:
        assert pendulum.Date.fromisocalendar(year, week, 1).isocalendar()[:2] == (year, week)


def test_last_complete_week_is_the_one_before_now_in_the_team_zone() -> None:
    # Monday 23 Nov 00:30 in Berlin is still Sunday 22 Nov in UTC.
    now = pendulum.datetime(2026, 11, 22, 23, 30, tz="UTC")
    assert summary.last_complete_week(now, TZ) == (2026, 47)
    assert summary.last_complete_week(now, "UTC") == (2026, 46)
    # Across a year end: Monday 4 January 2027 is in 2027-W01; 2026-W53 is before it.
    assert summary.last_complete_week(pendulum.datetime(2027, 1, 4, 12), TZ) == (2026, 53)


def test_a_week_not_over_is_refused() -> None:
    now = pendulum.parse(NOW)
    assert summary.complete_week(None, now, TZ) == (2026, 47)
    assert summary.complete_week("2026-W12", now, TZ) == (2026, 12)
    with pytest.raises(summary.BadWeek, match=r"2026-W48 is not over yet.*--week 2026-W47"):
        summary.complete_week("2026-W48", now, TZ)


# ---- build ---------------------------------------------------------------------------------


def test_build_counts_the_check_as_the_metrics_count(deps: Deps) -> None:
    built = summary.build(deps, 2026, 47)
    check = built.check
    assert (check.baseline_deployments, check.baseline_failed) == (40, 2)
    assert (check.recent_deployments, check.recent_failed) == (38, 8)
    assert check.outcome is Outcome.FLAG
    # Where to look: payments rose most, then api; web deployed nothing.
    assert [s.service for s in check.services] == ["payments", "api"]
    assert (check.services[0].recent_failed, check.services[0].recent_deployments) == (6, 18)
    assert built.trend.weeks == [f"2026-W{w}" for w in range(36, 48)]
    # Each week of the trend is what /dora reports for that week.
    for label, count, failed in zip(
        built.trend.weeks, built.trend.deployments, built.trend.failed, strict=True
    ):
        year, week = summary.parse_week(label)
        report = build_report(
            deps.store.db,
            iso_week(year, week, TZ),
            environments=deps.config.production_environments,
            environment=None,
            service=None,
            tz=TZ,
        ).to_json()
        assert report["deployment_frequency"]["count"] == count
        assert (report["change_failure_rate"] or {"failed": 0})["failed"] == failed


def test_build_reports_the_week_and_the_week_before(deps: Deps) -> None:
    metrics = summary.build(deps, 2026, 47).metrics.to_json()
    assert metrics["window"] == {"from": "2026-11-15T23:00:00Z", "to": "2026-11-22T23:00:00Z"}
    assert metrics["previous"]["window"] == {
        "from": "2026-11-08T23:00:00Z",
        "to": "2026-11-15T23:00:00Z",
    }
    assert metrics["deployment_frequency"]["count"] == 10
    assert metrics["previous"]["deployment_frequency"]["count"] == 9
    assert metrics["change_failure_rate"]["failed"] == 3
    assert metrics["failed_attempts"] == 0
    assert metrics["previous"]["failed_attempts"] == 1


def test_open_incidents_are_capped(deps: Deps) -> None:
    built = summary.build(deps, 2026, 47)
    assert built.open_total == OPEN_INCIDENTS
    assert len(built.open_incidents) == summary.INCIDENTS_SHOWN
    lines = summary.terminal_text(built)
    assert "and 2 more" in lines
    assert "open since 2026-11-19 08:00 CET" in lines


def test_a_service_scopes_everything(deps: Deps) -> None:
    built = summary.build(deps, 2026, 47, service="api")
    assert built.service == "api"
    check = built.check
    assert (check.baseline_deployments, check.baseline_failed) == (24, 1)
    assert (check.recent_deployments, check.recent_failed) == (20, 2)
    # 3 -> 5 a week, but binomial p = 0.063: not a significant rise.
    assert check.frequency_p == pytest.approx(0.0634, abs=1e-4)
    assert check.outcome is Outcome.NO_CHANGE
    assert check.services == ()
    assert built.metrics.to_json()["deployment_frequency"]["count"] == 5
    assert built.open_total == 0 and built.open_incidents == []
    web = summary.build(deps, 2026, 47, service="web")
    assert web.open_total == OPEN_INCIDENTS // 2
    assert web.check.outcome is Outcome.THIN_DATA


def test_weeks_follow_the_team_zone_across_the_end_of_summer_time(tmp_path: Path) -> None:
    # Berlin leaves summer time on Sunday 25 October 2026, the last day of 2026-W43, which
    # is 169 hours long. Both deploys are on 25 October in UTC, in different weeks locally.
    deps = make_deps(tmp_path / "dst.db")
    sunday_late = local(2026, 43, 7, 23, 30)
    monday_early = local(2026, 44, 1, 0, 30)
    assert (sunday_late, monday_early) == ("2026-10-25T22:30:00Z", "2026-10-25T23:30:00Z")
    with deps.store.write() as db:
        records.deploy(db, sunday_late)
        records.deploy(db, monday_early)
        records.deploy(db, local(2026, 43, 1, 0, 0))  # the first minute of W43, in CEST
    try:
        built = summary.build(deps, 2026, 44)
        metrics = built.metrics.to_json()
        assert metrics["window"] == {"from": "2026-10-25T23:00:00Z", "to": "2026-11-01T23:00:00Z"}
        # The week before is the whole of W43, an hour longer, not 168 hours back.
        assert metrics["previous"]["window"] == {
            "from": "2026-10-18T22:00:00Z",
            "to": "2026-10-25T23:00:00Z",
        }
        assert metrics["deployment_frequency"]["count"] == 1
        assert metrics["previous"]["deployment_frequency"]["count"] == 2
        assert built.trend.weeks[-2:] == ["2026-W43", "2026-W44"]
        assert built.trend.deployments[-2:] == [2, 1]
        assert sum(built.trend.deployments) == 3
    finally:
        deps.store.close()


# ---- Slack ---------------------------------------------------------------------------------


def _texts(blocks: list) -> str:
    return "\n".join(str(block.to_dict()) for block in blocks)


def test_slack_message_puts_the_flag_first(deps: Deps) -> None:
    built = summary.build(deps, 2026, 47)
    text, blocks = summary.slack_message(built)
    for block in blocks:
        block.validate_json()
    assert len(blocks) <= 50
    assert isinstance(blocks[0], HeaderBlock)
    assert blocks[0].text.text == "Weekly summary 2026-W47: all services"
    flag = blocks[1]
    assert isinstance(flag, SectionBlock)
    said = flag.text.text
    assert said.startswith(":warning: *Speed is outrunning stability.*")
    assert "Deploys per week rose from 5.0 to 9.5" in said
    assert "38 in the last 4 weeks against 40 in the 8 before, p = 0.0035" in said
    assert "the change failure rate rose from 5.0% to 21.1% (2/40 → 8/38, p = 0.036)" in said
    assert "Look first at: payments (6.2% → 33.3%), api (4.2% → 10.0%)." in said
    assert "Speed is outrunning stability." in text
    every = _texts(blocks)
    for name in ("Deployment frequency", "Change lead time", "Change failure rate"):
        assert name in every
    assert "Open incidents" in every and "and 2 more" in every
    assert "2026-W36 to 2026-W47" in every
    for block in blocks:
        if isinstance(block, SectionBlock) and block.text is not None:
            assert len(block.text.text) <= 3000


def test_slack_message_shows_pulse_lines_only_when_there_are_some(deps: Deps) -> None:
    built = summary.build(deps, 2026, 47)
    _, without = summary.slack_message(built)
    assert "Pulse survey" not in _texts(without)
    _, with_pulse = summary.slack_message(replace(built, pulse=["*Ease:* 3.8 of 5 (12 answers)"]))
    assert "Pulse survey" in _texts(with_pulse)
    assert "3.8 of 5" in _texts(with_pulse)
    assert len(with_pulse) == len(without) + 1


def test_thin_data_goes_below_the_numbers(tmp_path: Path) -> None:
    deps = make_deps(tmp_path / "thin.db")
    with deps.store.write() as db:
        for week in range(44, 48):
            records.deploy(db, local(2026, week, 2, 10))
    try:
        built = summary.build(deps, 2026, 47)
        _, blocks = summary.slack_message(built)
        for block in blocks:
            block.validate_json()
        assert built.check.outcome is Outcome.THIN_DATA
        last_section = [b for b in blocks if isinstance(b, SectionBlock)][-1]
        assert "need at least 10 deployments in the last 4 weeks, have 4" in (
            last_section.text.text.lower()
        )
        assert "No open incidents." in _texts(blocks)
    finally:
        deps.store.close()


# ---- chart ---------------------------------------------------------------------------------


def test_chart_png_has_twelve_weekly_bars(deps: Deps) -> None:
    built = summary.build(deps, 2026, 47)
    png = summary.chart_png(built)
    assert png.startswith(PNG_SIGNATURE)
    assert len(png) > 10_000
    trend = built.trend
    figure = trend_figure(trend.weeks, trend.deployments, trend.failure_rates)
    bars = figure.axes[0].patches
    assert len(bars) == 12
    assert [round(bar.get_height()) for bar in bars] == trend.deployments
    assert trend.deployments == [5] * 8 + [9, 10, 9, 10]


def test_open_incidents_whose_titles_escape_long_stay_whole_within_slack_limits(
    tmp_path: Path,
) -> None:
    """Ten open incidents titled with 200 `&` each: 1,000 characters apiece once escaped,
    so the section splits between them, never inside an `&amp;`, and every one is shown."""
    deps = make_deps(tmp_path / "ampersands.db")
    with deps.store.write() as db:
        for n in range(summary.INCIDENTS_SHOWN):
            incident_id = records.incident(db, "api", local(2026, 47, 2, 8 + n), None)
            db.conn.execute("UPDATE incidents SET title = ? WHERE id = ?", ("&" * 200, incident_id))
    try:
        _, blocks = summary.slack_message(summary.build(deps, 2026, 47))
        for block in blocks:
            block.validate_json()
        sections = [b.text.text for b in blocks if isinstance(b, SectionBlock) and b.text]
        assert all(len(text) <= 3000 for text in sections)
        for text in sections:
            assert re.search(r"&(?!amp;|lt;|gt;)", text) is None
        incidents = [text for text in sections if "api: &amp;" in text]
        assert len(incidents) > 1  # more than one section holds
        assert "\n".join(incidents).count("&amp;") == 200 * summary.INCIDENTS_SHOWN
    finally:
        deps.store.close()
