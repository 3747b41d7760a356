"""The weekly summary of one ISO week (SPEC.md "Weekly summary"): what it says, as Slack
blocks, as terminal text and as a chart.

`build` gathers plain data; the renderers only format it. Posting, scheduling and the
exactly-once claim live elsewhere and use this interface. Weeks are ISO weeks in the team
time zone, so a week with a daylight-saving change is still one week.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import pendulum
from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    HeaderBlock,
)

from bot.core.moments import show, utc_text
from bot.core.weeks import iso_week, week_label, weeks_ending
from bot.core.wording import mrkdwn, percent
from bot.deps import Deps
from bot.metrics import stability
from bot.metrics.report import Report, scope_services
from bot.metrics.report import build as build_report
from bot.metrics.stability import Check, Outcome, ServiceRise, Thresholds
from bot.metrics.terminal import render
from bot.pulse import results as pulse_results
from bot.slack.blocks import mrkdwn_text, section
from bot.slack.incident_card import shown_title
from bot.slack.metric_card import card
from bot.slack.replies import text_blocks
from bot.summary import text as summary_text
from bot.summary.chart import Trend, trend_png, weekly_trend
from bot.teams import rules as teams
from storage import summaries
from storage.records import Incident
from storage.subscriptions import Subscription
from storage.teams import Team

INCIDENTS_SHOWN = 10
FIRST_YEAR, LAST_YEAR = 2000, 9998  # as far back as times go (bot.core.moments.EARLIEST)
_WEEK = re.compile(r"^(\d{4})-[Ww](\d{2})$")
# Outcomes worth reading before the numbers; the others go after them.
_AT_THE_TOP = frozenset({Outcome.FLAG, Outcome.GOOD_NEWS, Outcome.FAILURES_RISING})
_EMOJI = {
    Outcome.FLAG: ":warning: ",
    Outcome.GOOD_NEWS: ":rocket: ",
    Outcome.FAILURES_RISING: ":small_red_triangle: ",
}


class BadWeek(ValueError):
    """A week that could not be read or used; str(error) says why, for the user."""


def weeks_in(year: int) -> int:
    """52 or 53: 28 December is always in the last ISO week of its year."""
    return pendulum.date(year, 12, 28).isocalendar()[1]


def parse_week(text: str) -> tuple[int, int]:
    """ "2026-W47" -> (2026, 47)."""
    value = text.strip()
    match = _WEEK.match(value)
    if not match:
        raise BadWeek(summary_text.summary_bad_week(text))
    year, week = int(match.group(1)), int(match.group(2))
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise BadWeek(summary_text.summary_week_years(text, FIRST_YEAR, LAST_YEAR))
    if not 1 <= week <= weeks_in(year):
        raise BadWeek(summary_text.summary_no_such_week(text, year, weeks_in(year)))
    return year, week


def last_complete_week(now: pendulum.DateTime, tz: str) -> tuple[int, int]:
    """The ISO week before the one `now` is in, in the team time zone."""
    today = now.in_timezone(tz).date()
    year, week, _ = today.subtract(days=today.weekday() + 7).isocalendar()
    return year, week


def complete_week(text: str | None, now: pendulum.DateTime, tz: str) -> tuple[int, int]:
    """The week a person asked for (default: the last complete one); a week that has not
    ended yet is refused, since its summary would be a partial one."""
    last = last_complete_week(now, tz)
    if text is None:
        return last
    year, week = parse_week(text)
    if (year, week) > last:
        raise BadWeek(summary_text.summary_week_not_over(week_label(year, week), week_label(*last)))
    return year, week


@dataclass(frozen=True)
class Summary:
    year: int
    week: int
    service: str | None  # None: all services
    channel: str | None  # the channel it is for, if any
    tz: str
    metrics: Report  # the week, and the week before as its previous window
    trend: Trend  # the 12 weeks ending with this one
    check: Check
    open_incidents: list[Incident]  # the first INCIDENTS_SHOWN unresolved now
    open_total: int
    pulse: list[str] = field(default_factory=list)  # mrkdwn lines; empty: no section
    team: Team | None = None  # a team's summary: everything over its services

    @property
    def title(self) -> str:
        return summary_text.summary_title(self.label, self.service, self.team)

    @property
    def label(self) -> str:
        return week_label(self.year, self.week)


def build(
    deps: Deps,
    year: int,
    week: int,
    service: str | None = None,
    channel: str | None = None,
    team: Team | None = None,
) -> Summary:
    """The summary of ISO week `year`-W`week`; `service`, or `team`'s services counted as
    one, narrows everything in it."""
    db, tz = deps.store.db, deps.tz
    services = scope_services(service, team)
    environments = deps.config.production_environments
    window = iso_week(year, week, tz)
    before = pendulum.Date.fromisocalendar(year, week, 1).subtract(weeks=1).isocalendar()
    metrics = build_report(
        db,
        window,
        environments=environments,
        environment=None,
        service=service,
        tz=tz,
        previous=iso_week(before[0], before[1], tz),
        team=team,
    )
    # The chart's 12 weeks are the check's 12: baseline first, then the recent 4.
    trend = weekly_trend(db, year, week, tz, environments, services, count=stability.WEEKS)
    split = stability.BASELINE_WEEKS
    check = stability.check(
        sum(trend.deployments[split:]),
        sum(trend.deployments[:split]),
        sum(trend.failed[split:]),
        sum(trend.failed[:split]),
        Thresholds.of(deps.config),
    )
    # Where to look is among several services: all of them, or a team's.
    if check.failure_rising and service is None:
        check = replace(check, services=_where_to_look(deps, year, week, services))
    shown, total = summaries.open_incidents(db, services, INCIDENTS_SHOWN)
    pulse = pulse_results.summary_lines(deps, channel)
    return Summary(
        year, week, service, channel, tz, metrics, trend, check, shown, total, pulse, team
    )


def for_channel(
    deps: Deps, year: int, week: int, channel: str | None, sub: Subscription | None
) -> Summary:
    """The summary `channel` is subscribed to: its service's or its team's; a subscription
    that names neither follows the channel's `/dora scope`, as a plain `/dora` there does
    (everyone's without one). Raises bot.teams.rules.UnknownTeam when its team is gone."""
    service, team_name = (sub.service, sub.team) if sub else (None, None)
    if sub and not (service or team_name) and channel is not None:
        scope = teams.channel_scope(deps.store.db, channel)
        service = scope.name if scope.kind == "service" else None
        team_name = scope.name if scope.kind == "team" else None
    team = teams.find(deps.store.db, team_name) if team_name else None
    return build(deps, year, week, service, channel, team)


def _where_to_look(
    deps: Deps, year: int, week: int, services: tuple[str, ...] | None
) -> tuple[ServiceRise, ...]:
    """The services (of `services`, when given) whose failure rate rose most: read only
    when the rate rose at all."""
    weeks = weeks_ending(year, week, stability.WEEKS)
    first, middle = weeks[0], weeks[stability.BASELINE_WEEKS]
    rows = summaries.failures_by_service(
        deps.store.db,
        utc_text(iso_week(*first, deps.tz).start),
        utc_text(iso_week(*middle, deps.tz).start),
        utc_text(iso_week(year, week, deps.tz).end),
        deps.config.production_environments,
        services,
    )
    return stability.where_to_look(
        ServiceRise(name, f_r, k_r, f_b, k_b) for name, k_b, f_b, k_r, f_r in rows
    )


# ---- the words -----------------------------------------------------------------------------


def _rate(rate: float | None) -> str:
    return percent(rate) if rate is not None else "-"


def _failures(check: Check) -> str | None:
    if check.failure_p is None:
        return None
    return summary_text.check_failures(
        check.failure_rising,
        _rate(check.baseline_rate),
        _rate(check.recent_rate),
        check.baseline_failed,
        check.baseline_deployments,
        check.recent_failed,
        check.recent_deployments,
        check.failure_p,
    )


def _look_first(check: Check, name: Callable[[str], str]) -> str:
    if not check.services:
        return ""
    named = [
        (name(s.service), _rate(s.baseline_rate), _rate(s.recent_rate)) for s in check.services
    ]
    return " " + summary_text.check_look_first(named)


def check_text(check: Check, name: Callable[[str], str] = str) -> tuple[str, str]:
    """The check as a headline and a sentence with its figures and p-values; `name` writes
    a service's name (wording.mrkdwn for Slack)."""
    before, now = check.baseline_per_week, check.recent_per_week
    k_r, k_b = check.recent_deployments, check.baseline_deployments
    failures = _failures(check)
    if check.outcome is Outcome.THIN_DATA:
        headline = (
            summary_text.CHECK_BOTH_THIN_HEADLINE
            if check.frequency_rising and check.failure_rising
            else summary_text.CHECK_THIN_HEADLINE
        )
        shortfalls = [
            summary_text.check_shortfall(s.failed, s.need, s.have) for s in check.shortfalls
        ]
        return headline, summary_text.check_thin(shortfalls)
    if check.outcome is Outcome.NO_CHANGE:
        body = summary_text.check_no_change(before, now, k_r, k_b, check.frequency_p, failures)
        return summary_text.CHECK_NO_CHANGE_HEADLINE, body
    if check.outcome is Outcome.FAILURES_RISING:
        assert failures is not None
        body = summary_text.check_failures_rising(failures, before, now, k_r, k_b)
        return summary_text.CHECK_FAILURES_HEADLINE, body + _look_first(check, name)
    assert check.frequency_p is not None
    deploys = summary_text.check_deploys_rose(before, now, k_r, k_b, check.frequency_p)
    if check.outcome is Outcome.GOOD_NEWS:
        body = summary_text.check_good_news(deploys, failures or summary_text.CHECK_NO_BASELINE)
        return summary_text.CHECK_GOOD_NEWS_HEADLINE, body
    assert failures is not None
    flag = summary_text.check_flag(deploys, failures)
    return summary_text.CHECK_FLAG_HEADLINE, flag + _look_first(check, name)


def _incident_lines(summary: Summary, slack: bool) -> list[str]:
    """For Slack (`slack`), mrkdwn that shows a private channel's titles only in that
    channel; for the terminal (operators), the real text."""
    if not summary.open_incidents:
        return [summary_text.SUMMARY_NO_INCIDENTS]
    lines = [
        summary_text.summary_incident(
            i.id,
            mrkdwn(i.service) if slack else i.service,
            shown_title(i, summary.channel) if slack else i.title,
            i.severity,
            show(i.started_at, summary.tz),
        )
        for i in summary.open_incidents
    ]
    if summary.open_total > len(summary.open_incidents):
        lines.append(
            summary_text.summary_more_incidents(summary.open_total - len(summary.open_incidents))
        )
    return lines


def _span(summary: Summary) -> str:
    window = summary.metrics.window
    return summary_text.summary_week_span(
        show(window.start, summary.tz), show(window.end, summary.tz)
    )


# ---- Slack ---------------------------------------------------------------------------------


def slack_message(summary: Summary) -> tuple[str, list[Block]]:
    """A plain-text fallback (what notifications show) and the Block Kit message. The chart
    is not in it: the poster uploads chart_png beside it."""
    title = summary.title
    headline, body = check_text(summary.check, mrkdwn)
    check = f"{_EMOJI.get(summary.check.outcome, '')}*{headline}* {body}"
    # The /dora card without its own title and window line: the summary's say the same.
    _, (_, _, *metric_blocks) = card(summary.metrics, summary.tz)
    incidents = "\n".join([f"*{summary_text.SUMMARY_INCIDENTS}*", *_incident_lines(summary, True)])
    on_top = summary.check.outcome in _AT_THE_TOP
    blocks: list[Block] = [HeaderBlock(text=title)]
    if on_top:
        blocks.append(section(check))
    blocks += [
        ContextBlock(elements=[mrkdwn_text(_span(summary))]),
        *metric_blocks,
        *text_blocks(incidents),
    ]
    if summary.pulse:
        blocks += text_blocks("\n".join([f"*{summary_text.SUMMARY_PULSE}*", *summary.pulse]))
    if not on_top:
        blocks.append(section(check))
    chart = summary_text.summary_chart(summary.trend.weeks[0], summary.trend.weeks[-1])
    blocks.append(ContextBlock(elements=[mrkdwn_text(chart)]))
    # The header is plain_text, the fallback (what notifications show) mrkdwn.
    return f"{mrkdwn(title)}\n{headline} {body}", blocks


# ---- terminal and chart --------------------------------------------------------------------


def _titled(heading: str, lines: list[str]) -> str:
    return "\n".join([summary_text.summary_heading(heading), *lines])


def terminal_text(summary: Summary) -> str:
    """What `shipshape summary` prints: the same content, plain text."""
    trend = summary.trend
    headline, body = check_text(summary.check)
    counts = zip(trend.weeks, trend.deployments, trend.failure_rates, strict=True)
    trend_lines = [summary_text.demo_trend_line(w, n, _rate(rate)) for w, n, rate in counts]
    title = summary.title
    sections = [
        _titled(title, [_span(summary)]),
        _titled(summary_text.SUMMARY_CHECK, [f"{headline} {body}"]),
        render(summary.metrics, summary.tz),
        "\n".join(
            [summary_text.summary_trend_heading(trend.weeks[0], trend.weeks[-1]), *trend_lines]
        ),
        _titled(summary_text.SUMMARY_INCIDENTS, _incident_lines(summary, False)),
    ]
    if summary.pulse:
        sections.append(_titled(summary_text.SUMMARY_PULSE, summary.pulse))
    return "\n\n".join(sections)


def chart_png(summary: Summary) -> bytes:
    """The 12-week trend chart as PNG bytes."""
    buffer = io.BytesIO()
    trend = summary.trend
    trend_png(trend.weeks, trend.deployments, trend.failure_rates, buffer)
    return buffer.getvalue()
