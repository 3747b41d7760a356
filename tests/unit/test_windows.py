"""bot.core.windows: the `[from, to)` windows people ask for, in the team time zone.

Every expected instant was worked out by hand from the zone's offset on that day:
Berlin is UTC+1 (CET) in winter and UTC+2 (CEST) from 2026-03-29 02:00 local until
2026-10-25 03:00 local; New York is UTC-5 (EST) in winter and UTC-4 (EDT) from 2026-03-08
02:00 local until 2026-11-01 02:00 local. Weeks start on Monday; 2026-03-23, 2026-10-19 and
2026-11-23 are Mondays. `now` is always an instant given here, never the wall clock.
"""

from __future__ import annotations

from datetime import date

import pendulum
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.core.weeks import iso_week
from bot.core.windows import BadWindow, Window, between, last_days, parse, period

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"
HOUR = 3_600
DAY = 86_400
NOW = pendulum.datetime(2026, 11, 24, 12, 0, 0)  # Tuesday; 13:00 CET, 07:00 EST


def utc(text: str) -> pendulum.DateTime:
    parsed = pendulum.parse(text)
    assert isinstance(parsed, pendulum.DateTime)
    return parsed.in_timezone("UTC")


def check(window: Window, start: str, end: str, days: float, seconds: float) -> None:
    assert window.start == utc(start), f"start {window.start} != {start}"
    assert window.end == utc(end), f"end {window.end} != {end}"
    assert window.start.utcoffset() == pendulum.duration(0), "windows are UTC instants"
    assert window.end.utcoffset() == pendulum.duration(0)
    assert window.seconds == seconds
    assert window.days == pytest.approx(days)


# ---- Nd ----------------------------------------------------------------------------------


def test_7d_is_seven_times_24_hours_up_to_now() -> None:
    window = parse("7d", NOW, BERLIN)
    check(window, "2026-11-17T12:00:00Z", "2026-11-24T12:00:00Z", 7.0, 7 * 24 * HOUR)


def test_7d_across_the_spring_dst_change_is_still_168_hours() -> None:
    # 2026-03-31T12:00Z minus 7 x 24 h; the Berlin clock change on 29 March does not matter.
    now = pendulum.datetime(2026, 3, 31, 12, 0, 0)
    check(parse("7d", now, BERLIN), "2026-03-24T12:00:00Z", "2026-03-31T12:00:00Z", 7.0, 168 * HOUR)


def test_30d_and_90d() -> None:
    check(parse("30d", NOW, BERLIN), "2026-10-25T12:00:00Z", NOW.isoformat(), 30.0, 30 * DAY)
    check(parse("90d", NOW, NEW_YORK), "2026-08-26T12:00:00Z", NOW.isoformat(), 90.0, 90 * DAY)
    assert last_days(30, NOW) == parse("30d", NOW, BERLIN)


@pytest.mark.parametrize(("text", "days"), [("1d", 1), ("3650d", 3650), ("30D", 30), (" 14d ", 14)])
def test_nd_within_limits(text: str, days: int) -> None:
    window = parse(text, NOW, "UTC")
    assert window.days == float(days)
    assert window.seconds == days * DAY
    assert window.end == NOW


@pytest.mark.parametrize("text", ["0d", "3651d", "9999d", "12345d", "-7d", "1.5d"])
def test_nd_outside_limits_is_refused(text: str) -> None:
    with pytest.raises(BadWindow):
        parse(text, NOW, "UTC")


@pytest.mark.parametrize("text", ["", "fortnight", "next week", "this year", "week", "7 days ago"])
def test_unreadable_window_is_refused(text: str) -> None:
    with pytest.raises(BadWindow):
        parse(text, NOW, BERLIN)


# ---- this week / last week ---------------------------------------------------------------


def test_this_week_starts_monday_midnight_in_berlin() -> None:
    # Monday 23 Nov 00:00 CET = 22 Nov 23:00Z; to now (24 Nov 12:00Z) is 37 h.
    window = parse("this week", NOW, BERLIN)
    check(window, "2026-11-22T23:00:00Z", "2026-11-24T12:00:00Z", 37 / 24, 37 * HOUR)


def test_this_week_is_case_and_space_insensitive() -> None:
    assert parse("  This   WEEK ", NOW, BERLIN) == parse("this week", NOW, BERLIN)


def test_this_week_on_a_monday() -> None:
    # Monday 23 Nov 09:00 CET = 08:00Z: 9 hours since Monday 00:00 CET.
    now = utc("2026-11-23T08:00:00Z")
    check(
        parse("this week", now, BERLIN),
        "2026-11-22T23:00:00Z",
        "2026-11-23T08:00:00Z",
        9 / 24,
        9 * HOUR,
    )


def test_this_week_on_a_berlin_monday_that_is_sunday_in_utc() -> None:
    # 22 Nov 23:30Z is Sunday in UTC but Monday 00:30 CET in Berlin: the week is 30 minutes old.
    now = utc("2026-11-22T23:30:00Z")
    check(
        parse("this week", now, BERLIN),
        "2026-11-22T23:00:00Z",
        "2026-11-22T23:30:00Z",
        1 / 48,
        1_800,
    )


def test_this_week_on_a_sunday() -> None:
    # Sunday 29 Nov 23:30 CET = 22:30Z: 7 days less 30 minutes since Monday 23 Nov 00:00 CET.
    now = utc("2026-11-29T22:30:00Z")
    check(
        parse("this week", now, BERLIN),
        "2026-11-22T23:00:00Z",
        "2026-11-29T22:30:00Z",
        (7 * 24 - 0.5) / 24,
        7 * DAY - 1_800,
    )


def test_this_week_in_new_york_when_utc_is_already_tuesday() -> None:
    # 24 Nov 03:00Z is Monday 23 Nov 22:00 EST; the week began Monday 00:00 EST = 05:00Z.
    now = utc("2026-11-24T03:00:00Z")
    check(
        parse("this week", now, NEW_YORK),
        "2026-11-23T05:00:00Z",
        "2026-11-24T03:00:00Z",
        22 / 24,
        22 * HOUR,
    )


def test_this_week_in_new_york_on_a_sunday_night() -> None:
    # 30 Nov 04:00Z is Sunday 29 Nov 23:00 EST: still the week of Monday 23 Nov.
    now = utc("2026-11-30T04:00:00Z")
    check(
        parse("this week", now, NEW_YORK),
        "2026-11-23T05:00:00Z",
        "2026-11-30T04:00:00Z",
        (7 * 24 - 1) / 24,
        7 * DAY - HOUR,
    )


def test_this_week_across_the_spring_dst_change() -> None:
    # Sunday 29 Mar 14:00 CEST = 12:00Z; the week began Monday 23 Mar 00:00 CET = 22 Mar 23:00Z.
    # 6 days 13 hours of wall time, 6 days 13 h of exact seconds too (23:00Z to 12:00Z + 6 d).
    now = utc("2026-03-29T12:00:00Z")
    check(
        parse("this week", now, BERLIN),
        "2026-03-22T23:00:00Z",
        "2026-03-29T12:00:00Z",
        (6 * 24 + 13) / 24,
        6 * DAY + 13 * HOUR,
    )


def test_last_week_is_the_whole_previous_iso_week() -> None:
    # Monday 16 Nov 00:00 CET to Monday 23 Nov 00:00 CET.
    check(
        parse("last week", NOW, BERLIN),
        "2026-11-15T23:00:00Z",
        "2026-11-22T23:00:00Z",
        7.0,
        7 * DAY,
    )


def test_last_week_on_a_monday_and_on_a_sunday() -> None:
    monday = utc("2026-11-23T08:00:00Z")
    sunday = utc("2026-11-29T22:30:00Z")
    check(
        parse("last week", monday, BERLIN),
        "2026-11-15T23:00:00Z",
        "2026-11-22T23:00:00Z",
        7.0,
        7 * DAY,
    )
    check(
        parse("last week", sunday, BERLIN),
        "2026-11-15T23:00:00Z",
        "2026-11-22T23:00:00Z",
        7.0,
        7 * DAY,
    )


def test_last_week_with_the_spring_dst_change_is_167_hours_and_7_days() -> None:
    # Week 13: Monday 23 Mar 00:00 CET (22 Mar 23:00Z) to Monday 30 Mar 00:00 CEST (29 Mar 22:00Z).
    now = utc("2026-03-31T10:00:00Z")
    check(
        parse("last week", now, BERLIN),
        "2026-03-22T23:00:00Z",
        "2026-03-29T22:00:00Z",
        7.0,
        167 * HOUR,
    )


def test_last_week_asked_early_on_monday_when_utc_is_still_sunday() -> None:
    # 29 Mar 22:30Z is Monday 30 Mar 00:30 CEST: last week is week 13.
    now = utc("2026-03-29T22:30:00Z")
    check(
        parse("last week", now, BERLIN),
        "2026-03-22T23:00:00Z",
        "2026-03-29T22:00:00Z",
        7.0,
        167 * HOUR,
    )


def test_last_week_with_the_autumn_dst_change_is_169_hours_and_7_days() -> None:
    # Week 43: Monday 19 Oct 00:00 CEST (18 Oct 22:00Z) to Monday 26 Oct 00:00 CET (25 Oct 23:00Z).
    now = utc("2026-10-27T10:00:00Z")
    check(
        parse("last week", now, BERLIN),
        "2026-10-18T22:00:00Z",
        "2026-10-25T23:00:00Z",
        7.0,
        169 * HOUR,
    )


def test_last_week_with_the_new_york_spring_change() -> None:
    # Monday 2 Mar 00:00 EST (05:00Z) to Monday 9 Mar 00:00 EDT (04:00Z): 167 hours.
    now = utc("2026-03-10T15:00:00Z")
    check(
        parse("last week", now, NEW_YORK),
        "2026-03-02T05:00:00Z",
        "2026-03-09T04:00:00Z",
        7.0,
        167 * HOUR,
    )


# ---- iso_week ----------------------------------------------------------------------------


def test_iso_week_13_of_2026_in_berlin() -> None:
    check(
        iso_week(2026, 13, BERLIN), "2026-03-22T23:00:00Z", "2026-03-29T22:00:00Z", 7.0, 167 * HOUR
    )
    assert iso_week(2026, 13, BERLIN) == parse("last week", utc("2026-04-01T10:00:00Z"), BERLIN)


def test_iso_week_at_the_year_boundaries() -> None:
    # 1 Jan 2026 is a Thursday, so week 1 starts Monday 29 Dec 2025 and 2026 has 53 weeks.
    check(iso_week(2026, 1, BERLIN), "2025-12-28T23:00:00Z", "2026-01-04T23:00:00Z", 7.0, 7 * DAY)
    check(iso_week(2026, 53, BERLIN), "2026-12-27T23:00:00Z", "2027-01-03T23:00:00Z", 7.0, 7 * DAY)
    check(iso_week(2026, 43, "UTC"), "2026-10-19T00:00:00Z", "2026-10-26T00:00:00Z", 7.0, 7 * DAY)


# ---- this month / last month -------------------------------------------------------------


def test_last_month_on_the_31st_is_february() -> None:
    # now 31 Mar 12:00 CEST; February 2026: 1 Feb 00:00 CET to 1 Mar 00:00 CET, 28 days.
    now = utc("2026-03-31T10:00:00Z")
    check(
        parse("last month", now, BERLIN),
        "2026-01-31T23:00:00Z",
        "2026-02-28T23:00:00Z",
        28.0,
        28 * DAY,
    )


def test_this_month_on_the_31st() -> None:
    # 1 Mar 00:00 CET = 28 Feb 23:00Z to 31 Mar 10:00Z: 30 days 11 hours of exact seconds.
    now = utc("2026-03-31T10:00:00Z")
    check(
        parse("this month", now, BERLIN),
        "2026-02-28T23:00:00Z",
        "2026-03-31T10:00:00Z",
        30 + 11 / 24,
        30 * DAY + 11 * HOUR,
    )


def test_this_month_half_an_hour_into_the_1st() -> None:
    # now 1 Mar 00:30 CET = 28 Feb 23:30Z: this month is 30 minutes long, last month February.
    now = utc("2026-02-28T23:30:00Z")
    check(
        parse("this month", now, BERLIN),
        "2026-02-28T23:00:00Z",
        "2026-02-28T23:30:00Z",
        1 / 48,
        1_800,
    )
    check(
        parse("last month", now, BERLIN),
        "2026-01-31T23:00:00Z",
        "2026-02-28T23:00:00Z",
        28.0,
        28 * DAY,
    )


def test_last_month_on_the_1st_of_april_spans_the_dst_change() -> None:
    # now 1 Apr 00:30 CEST = 31 Mar 22:30Z. March: 1 Mar 00:00 CET (28 Feb 23:00Z) to
    # 1 Apr 00:00 CEST (31 Mar 22:00Z): 31 calendar days, one hour short of 31 x 24 h.
    now = utc("2026-03-31T22:30:00Z")
    check(
        parse("this month", now, BERLIN),
        "2026-03-31T22:00:00Z",
        "2026-03-31T22:30:00Z",
        1 / 48,
        1_800,
    )
    check(
        parse("last month", now, BERLIN),
        "2026-02-28T23:00:00Z",
        "2026-03-31T22:00:00Z",
        31.0,
        31 * DAY - HOUR,
    )


def test_last_month_on_the_1st_of_november() -> None:
    # now 1 Nov 13:00 CET. October: 1 Oct 00:00 CEST (30 Sep 22:00Z) to 1 Nov 00:00 CET
    # (31 Oct 23:00Z): 31 days and the extra hour of 25 October.
    now = utc("2026-11-01T12:00:00Z")
    check(
        parse("this month", now, BERLIN),
        "2026-10-31T23:00:00Z",
        "2026-11-01T12:00:00Z",
        13 / 24,
        13 * HOUR,
    )
    check(
        parse("last month", now, BERLIN),
        "2026-09-30T22:00:00Z",
        "2026-10-31T23:00:00Z",
        31.0,
        31 * DAY + HOUR,
    )


def test_last_month_in_january_is_december_of_the_year_before() -> None:
    now = utc("2026-01-31T12:00:00Z")
    check(
        parse("last month", now, BERLIN),
        "2025-11-30T23:00:00Z",
        "2025-12-31T23:00:00Z",
        31.0,
        31 * DAY,
    )


def test_last_month_on_the_31st_of_december() -> None:
    now = utc("2026-12-31T12:00:00Z")
    check(
        parse("last month", now, BERLIN),
        "2026-10-31T23:00:00Z",
        "2026-11-30T23:00:00Z",
        30.0,
        30 * DAY,
    )


# ---- quarters ----------------------------------------------------------------------------


def test_this_and_last_quarter() -> None:
    # Q4 began 1 Oct 00:00 CEST = 30 Sep 22:00Z. Q3: 1 Jul 00:00 CEST to 1 Oct 00:00 CEST,
    # 31 + 31 + 30 = 92 days, all in summer time.
    this = parse("this quarter", NOW, BERLIN)
    assert this.start == utc("2026-09-30T22:00:00Z")
    assert this.end == NOW
    check(
        parse("last quarter", NOW, BERLIN),
        "2026-06-30T22:00:00Z",
        "2026-09-30T22:00:00Z",
        92.0,
        92 * DAY,
    )


def test_this_quarter_on_the_31st_of_may() -> None:
    # Q2 began 1 Apr 00:00 CEST = 31 Mar 22:00Z (April has no 31st: the start is the 1st).
    now = utc("2026-05-31T10:00:00Z")
    this = parse("this quarter", now, BERLIN)
    assert this.start == utc("2026-03-31T22:00:00Z")
    assert this.end == now
    # Q1: 1 Jan 00:00 CET to 1 Apr 00:00 CEST: 31 + 28 + 31 = 90 days, less the lost hour.
    check(
        parse("last quarter", now, BERLIN),
        "2025-12-31T23:00:00Z",
        "2026-03-31T22:00:00Z",
        90.0,
        90 * DAY - HOUR,
    )


def test_last_quarter_in_january_is_q4_of_the_year_before() -> None:
    # 1 Oct 2025 00:00 CEST = 30 Sep 22:00Z to 1 Jan 2026 00:00 CET = 31 Dec 23:00Z:
    # 92 days plus the hour of 26 Oct 2025.
    now = utc("2026-01-10T10:00:00Z")
    check(
        parse("last quarter", now, BERLIN),
        "2025-09-30T22:00:00Z",
        "2025-12-31T23:00:00Z",
        92.0,
        92 * DAY + HOUR,
    )


def test_period_function_matches_parse() -> None:
    assert period("last", "month", NOW, BERLIN) == parse("last month", NOW, BERLIN)
    assert period("this", "quarter", NOW, NEW_YORK) == parse("this quarter", NOW, NEW_YORK)


# ---- from= to= ---------------------------------------------------------------------------


def test_between_whole_days_in_berlin() -> None:
    # 1 Nov 00:00 CET = 31 Oct 23:00Z to the end of 30 Nov = 1 Dec 00:00 CET = 30 Nov 23:00Z.
    window = between("2026-11-01", "2026-11-30", NOW, BERLIN)
    check(window, "2026-10-31T23:00:00Z", "2026-11-30T23:00:00Z", 30.0, 30 * DAY)


def test_between_one_day() -> None:
    check(
        between("2026-11-20", "2026-11-20", NOW, BERLIN),
        "2026-11-19T23:00:00Z",
        "2026-11-20T23:00:00Z",
        1.0,
        DAY,
    )


def test_between_on_the_autumn_dst_day_is_one_day_of_25_hours() -> None:
    # 25 Oct 00:00 CEST = 24 Oct 22:00Z to 26 Oct 00:00 CET = 25 Oct 23:00Z.
    window = between("2026-10-25", "2026-10-25", NOW, BERLIN)
    check(window, "2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z", 1.0, 25 * HOUR)


def test_between_whole_days_in_new_york_across_its_dst_change() -> None:
    # 1 Nov 00:00 EDT = 04:00Z to 8 Nov 00:00 EST = 05:00Z: 7 days of 169 hours.
    window = between("2026-11-01", "2026-11-07", NOW, NEW_YORK)
    check(window, "2026-11-01T04:00:00Z", "2026-11-08T05:00:00Z", 7.0, 169 * HOUR)


def test_between_full_timestamps_are_taken_as_given() -> None:
    # 14:05Z to 09:30Z next day: 19 h 25 m = 69900 s.
    window = between("2026-11-20T14:05Z", "2026-11-21T09:30Z", NOW, BERLIN)
    check(window, "2026-11-20T14:05:00Z", "2026-11-21T09:30:00Z", 69_900 / DAY, 69_900)


def test_between_timestamps_without_offset_are_in_the_team_zone() -> None:
    # 20 Nov 14:05 CET = 13:05Z; 21 Nov 09:30 CET = 08:30Z.
    window = between("2026-11-20 14:05", "2026-11-21T09:30", NOW, BERLIN)
    check(window, "2026-11-20T13:05:00Z", "2026-11-21T08:30:00Z", 69_900 / DAY, 69_900)


def test_between_a_date_and_a_timestamp() -> None:
    # from the start of 20 Nov in Berlin (19 Nov 23:00Z) to 21 Nov 12:00Z as given.
    window = between("2026-11-20", "2026-11-21T12:00Z", NOW, BERLIN)
    check(window, "2026-11-19T23:00:00Z", "2026-11-21T12:00:00Z", 37 / 24, 37 * HOUR)


def test_between_a_full_timestamp_after_now_is_taken_as_given() -> None:
    # SPEC: "a full timestamp is taken as given" (a date after today is accepted too).
    window = between("2026-11-01T00:00Z", "2026-11-30T12:00Z", NOW, BERLIN)
    check(window, "2026-11-01T00:00:00Z", "2026-11-30T12:00:00Z", 29.5, 29 * DAY + 12 * HOUR)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2026-11-30", "2026-11-01"),
        ("2026-11-20T14:00Z", "2026-11-20T13:00Z"),
        ("2026-11-20T14:00Z", "2026-11-20T14:00Z"),  # empty
        ("2026-11-21", "2026-11-20T12:00Z"),
    ],
)
def test_between_to_before_from_is_refused(start: str, end: str) -> None:
    with pytest.raises(BadWindow):
        between(start, end, NOW, BERLIN)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2026-13-01", "2026-11-30"),
        ("2026-11-01", "2026-11-31"),
        ("last tuesday", "2026-11-30"),
        ("2026-11-01", "soon"),
        ("", "2026-11-30"),
    ],
)
def test_between_unreadable_is_refused(start: str, end: str) -> None:
    with pytest.raises(BadWindow):
        between(start, end, NOW, BERLIN)


# ---- previous ----------------------------------------------------------------------------


def test_previous_of_7d_is_the_7_days_before() -> None:
    previous = parse("7d", NOW, BERLIN).previous()
    check(previous, "2026-11-10T12:00:00Z", "2026-11-17T12:00:00Z", 7.0, 7 * DAY)


def test_previous_of_whole_days_has_the_same_length_and_ends_at_the_start() -> None:
    window = between("2026-11-01", "2026-11-30", NOW, BERLIN)
    # 30 x 24 h before 31 Oct 23:00Z.
    check(window.previous(), "2026-10-01T23:00:00Z", "2026-10-31T23:00:00Z", 30.0, 30 * DAY)


def test_previous_of_a_167_hour_week_is_167_hours_just_before() -> None:
    week = iso_week(2026, 13, BERLIN)
    previous = week.previous()
    # 22 Mar 23:00Z minus 167 h = 16 Mar 00:00Z.
    check(previous, "2026-03-16T00:00:00Z", "2026-03-22T23:00:00Z", 7.0, 167 * HOUR)
    assert previous.end == week.start


def test_previous_of_a_fractional_window() -> None:
    window = parse("this week", NOW, BERLIN)  # 37 h
    check(window.previous(), "2026-11-21T10:00:00Z", "2026-11-22T23:00:00Z", 37 / 24, 37 * HOUR)


# ---- issue 11: dates at the ends of the calendar -----------------------------------------


ZONES = st.sampled_from(["UTC", BERLIN, NEW_YORK, "Pacific/Kiritimati", "Pacific/Pago_Pago"])
OFFSETS = st.sampled_from(["", "Z", "+14:00", "-12:00", "+01:00", "-05:00"])


@st.composite
def bound(draw: st.DrawFn) -> str:
    """A from/to value anywhere in datetime's range: a day, or a full time with an offset."""
    day = draw(st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)))
    if draw(st.booleans()):
        return day.isoformat()
    return f"{day.isoformat()}T{draw(st.integers(0, 23)):02d}:{draw(st.integers(0, 59)):02d}" + (
        draw(OFFSETS)
    )


@settings(max_examples=400, deadline=None, derandomize=True)
@given(bound(), bound(), ZONES)
@example("0001-01-01", "9999-12-31", "UTC")
@example("0001-01-01", "9999-12-31", "Pacific/Kiritimati")
@example("0001-01-01T00:00+14:00", "9999-12-31T23:59-12:00", "UTC")
@example("2000-01-01", "2099-12-31", "Pacific/Pago_Pago")
@example("2000-01-01", "2099-12-31", "Pacific/Kiritimati")
def test_between_any_dates_gives_a_window_and_its_previous_or_refuses(
    start: str, end: str, tz: str
) -> None:
    try:
        window = between(start, end, NOW, tz)
    except BadWindow as error:
        assert str(error) in ("out_of_range", "end_before_start", "unreadable_date")
        return
    previous = window.previous()
    assert previous.end == window.start
    assert previous.seconds == window.seconds
    assert window.start >= utc("1999-12-31T00:00:00Z")
    assert window.end <= utc("2100-01-02T00:00:00Z")


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("0001-01-01", "9999-12-31"),
        ("1999-12-31", "2026-11-01"),
        ("2026-11-01", "2100-01-01"),
        ("0001-01-01T00:00+01:00", "2026-11-01"),
        ("2026-11-01", "9999-12-31T23:00-05:00"),
        ("1999-12-31T23:00Z", "2026-11-01"),
    ],
)
def test_between_outside_the_calendar_range_names_it(start: str, end: str) -> None:
    with pytest.raises(BadWindow, match="out_of_range"):
        between(start, end, NOW, BERLIN)


def test_the_widest_window_and_its_previous() -> None:
    window = between("2000-01-01", "2099-12-31", NOW, "UTC")
    days = (date(2100, 1, 1) - date(2000, 1, 1)).days
    check(window, "2000-01-01T00:00:00Z", "2100-01-01T00:00:00Z", days, days * DAY)
    assert window.previous().start == utc("1899-12-31T00:00:00Z")  # 1900 was no leap year
