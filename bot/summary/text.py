"""The weekly summary's words: its text, blocks and terminal form, the speed-versus-stability
check, the chart, and what posting it answers."""

from __future__ import annotations

from collections.abc import Sequence

from bot.teams.text import team_label
from storage.teams import Team

# ---- the chart and the demo's trend ---------------------------------------------------------
CHART_TITLE = "Deployments and change failure rate per week"
CHART_DEPLOYMENTS = "deployments"
CHART_FAILURE_RATE = "change failure rate"


def demo_trend_line(week: str, deployments: int, rate: str) -> str:
    return f"{week}  {deployments:>3} deployments  {rate:>6} failed"


# ---- Weekly summary content -----------------------------------------------------------------
# The summary's text, blocks and terminal form, and the speed-versus-stability check.


def summary_bad_week(text: str) -> str:
    return (
        f"{text!r} is not a week: write an ISO week as YYYY-Www, like 2026-W47 "
        "(the week of Monday 16 November 2026)."
    )


def summary_no_such_week(text: str, year: int, weeks: int) -> str:
    return f"{text!r} does not exist: {year} has ISO weeks 1 to {weeks}, like {year}-W{weeks:02d}."


def summary_week_years(text: str, first: int, last: int) -> str:
    return f"{text!r} is out of range: give a week from {first} to {last}, like 2026-W47."


def summary_week_not_over(week: str, last_complete: str) -> str:
    return (
        f"{week} is not over yet, and a summary covers a whole week. The last complete week "
        f"is {last_complete}: --week {last_complete}."
    )


def summary_title(week: str, service: str | None, team: Team | None = None) -> str:
    if team is not None:
        return f"Weekly summary {week}: {team_label(team.name, team.services)}"
    return f"Weekly summary {week}: {service or 'all services'}"


def summary_week_span(start: str, end: str) -> str:
    return f"Monday {start} up to Monday {end}, compared with the week before"


def p_value(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.2g}"


def _per_week(per_week: float) -> str:
    return f"{per_week:.1f}"


def _recent_baseline(k_r: int, k_b: int) -> str:
    return f"{k_r} in the last 4 weeks against {k_b} in the 8 before"


def check_deploys_rose(before: float, now: float, k_r: int, k_b: int, p: float) -> str:
    return (
        f"Deploys per week rose from {_per_week(before)} to {_per_week(now)} "
        f"({_recent_baseline(k_r, k_b)}, {p_value(p)})"
    )


def check_failures(
    rose: bool, before: str, now: str, f_b: int, k_b: int, f_r: int, k_r: int, p: float
) -> str:
    counts = f"{f_b}/{k_b} → {f_r}/{k_r}, {p_value(p)}"
    if rose:
        return f"the change failure rate rose from {before} to {now} ({counts})"
    return f"the change failure rate did not rise significantly ({before} to {now}, {counts})"


CHECK_NO_BASELINE = (
    "there were no deployments in the 8 weeks before to compare the failure rate with"
)
CHECK_FLAG_HEADLINE = "Speed is outrunning stability."
CHECK_GOOD_NEWS_HEADLINE = (
    "Good news: you deploy more often, and the change failure rate has not risen with it."
)
CHECK_FAILURES_HEADLINE = "The change failure rate is rising."
CHECK_NO_CHANGE_HEADLINE = "Speed versus stability: no significant change."
CHECK_THIN_HEADLINE = "Speed versus stability: too little data to tell."
CHECK_BOTH_THIN_HEADLINE = (
    "Deploys and the change failure rate both look higher, but there is too little data to be sure."
)


def check_flag(deploys: str, failures: str) -> str:
    return f"{deploys} while {failures}."


def check_good_news(deploys: str, failures: str) -> str:
    return f"{deploys}, and {failures}."


def check_failures_rising(failures: str, before: float, now: float, k_r: int, k_b: int) -> str:
    return (
        f"{failures[0].upper()}{failures[1:]}, while deploys per week did not rise significantly "
        f"({_per_week(before)} to {_per_week(now)}; {_recent_baseline(k_r, k_b)})."
    )


def check_no_change(
    before: float, now: float, k_r: int, k_b: int, p: float | None, failures: str | None
) -> str:
    tested = f", {p_value(p)}" if p is not None else ""
    return (
        f"Deploys per week went from {_per_week(before)} to {_per_week(now)} "
        f"({_recent_baseline(k_r, k_b)}{tested}); {failures or CHECK_NO_BASELINE}."
    )


def check_shortfall(failed: bool, need: int, have: int) -> str:
    what = "failed deployments" if failed else "deployments"
    return f"need at least {need} {what} in the last 4 weeks, have {have}"


def check_thin(shortfalls: Sequence[str]) -> str:
    return "; ".join(shortfalls).capitalize() + "."


def check_look_first(services: Sequence[tuple[str, str, str]]) -> str:
    named = ", ".join(f"{name} ({before} → {now})" for name, before, now in services)
    return f"Look first at: {named}."


SUMMARY_INCIDENTS = "Open incidents"
SUMMARY_NO_INCIDENTS = "No open incidents."


def summary_incident(
    incident_id: int, service: str, title: str, severity: int | None, since: str
) -> str:
    sev = f" (sev {severity})" if severity is not None else ""
    return f"#{incident_id} {service}: {title}{sev}, open since {since}"


def summary_more_incidents(more: int) -> str:
    return f"and {more} more (`/incident list open`)"


SUMMARY_PULSE = "Pulse survey"
SUMMARY_CHECK = "Speed versus stability"


def summary_chart(first: str, last: str) -> str:
    return (
        f"The chart shows deployments per week (bars) and the change failure rate (line), "
        f"{first} to {last}."
    )


def summary_trend_heading(first: str, last: str) -> str:
    return f"== Deployments and change failure rate per week, {first} to {last} (the chart) =="


def summary_heading(title: str) -> str:
    return f"== {title} =="


# ---- posting, and why Slack refused it ------------------------------------------------------
# /dora subscribe|unsubscribe|subscriptions, the schedule, and `shipshape summary --post`.
SUMMARY_POST_NEEDS_CHANNEL = (
    "--post needs --channel: the channel id to post in, like --channel C012AB3CD "
    "(the channel's details > About > Channel ID)."
)


def disabled_reason(code: str) -> str:
    """Why Slack refused a summary, from its error code."""
    why = {
        "channel_not_found": "Slack could not find the channel (deleted, or private without me)",
        "not_in_channel": "I am not a member of the channel; invite me with `/invite @shipshape`",
        "is_archived": "the channel is archived",
    }.get(code, "Slack refused the post")
    return f"{why} ({code})"


def summary_chart_title(week: str) -> str:
    return f"Deployments and change failure rate per week, 12 weeks up to {week}"


def summary_posted(week: str, channel_id: str, ts: str, chart: bool) -> str:
    told = "" if chart else " The chart could not be uploaded; the log says why."
    return f"posted: the summary of {week} in {channel_id} ({ts}).{told}"


def summary_already_posted(week: str, channel_id: str, posted_at: str, ts: str) -> str:
    return f"already posted for {week} in {channel_id} at {posted_at} ({ts}); nothing was posted."


def summary_being_posted(week: str, channel_id: str, claimed_at: str) -> str:
    return (
        f"the summary of {week} in {channel_id} is being posted by another process since "
        f"{claimed_at}; nothing was posted. If that process died, run this again in 10 minutes."
    )


def summary_post_failed(week: str, channel_id: str, error: str) -> str:
    return (
        f"not posted: Slack answered {error} for the summary of {week} in {channel_id}. "
        "Nothing is kept, so running this again tries again."
    )


def summary_post_disabled(week: str, channel_id: str, code: str) -> str:
    return (
        f"not posted: {disabled_reason(code)}. The summary of {week} in {channel_id} was not "
        "posted, and the channel's subscription is stopped until an admin subscribes again."
    )
