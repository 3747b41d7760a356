"""bot.core.moments: reading the times people type, and showing times and durations.

Every expected instant below was worked out by hand from the zone's offset on that day:
Berlin is UTC+1 (CET) in winter and UTC+2 (CEST) from 2026-03-29 02:00 local; New York is
UTC-4 (EDT) until 2026-11-01 02:00 local and UTC-5 (EST) after.
"""

from __future__ import annotations

from datetime import date

import pendulum
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.core import moments
from bot.core.moments import BadTime, duration, parse_moment, show
from storage import metrics as read_model

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"
NOW = pendulum.datetime(2026, 11, 24, 12, 0, 0)  # 13:00 CET in Berlin, 07:00 EST in New York


def utc(text: str) -> pendulum.DateTime:
    parsed = pendulum.parse(text)
    assert isinstance(parsed, pendulum.DateTime)
    return parsed.in_timezone("UTC")


def check(text: str, tz: str, expected: str, now: pendulum.DateTime = NOW) -> None:
    got = parse_moment(text, tz, now)
    assert got == utc(expected), f"{text!r} in {tz} at {now}: got {got}, expected {expected}"
    assert got.utcoffset() == pendulum.duration(0), "parse_moment returns UTC instants"
    assert got.microsecond == 0


# ---- ISO-8601 --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-20T14:05Z", "2026-11-20T14:05:00Z"),
        ("2026-11-20T14:05:00Z", "2026-11-20T14:05:00Z"),
        ("2026-11-20T14:05:30Z", "2026-11-20T14:05:30Z"),
        ("2026-11-20T14:05+02:00", "2026-11-20T12:05:00Z"),
        ("2026-11-20T14:05:00-05:00", "2026-11-20T19:05:00Z"),
        ("2026-11-20T00:30+01:00", "2026-11-19T23:30:00Z"),
    ],
)
@pytest.mark.parametrize("tz", ["UTC", BERLIN, NEW_YORK])
def test_iso_with_an_offset_ignores_the_team_zone(text: str, expected: str, tz: str) -> None:
    check(text, tz, expected)


def test_fractions_of_a_second_are_dropped() -> None:
    check("2026-11-20T14:05:00.987Z", "UTC", "2026-11-20T14:05:00Z")


@pytest.mark.parametrize(
    ("text", "tz", "expected"),
    [
        ("2026-11-20 14:05", "UTC", "2026-11-20T14:05:00Z"),
        ("2026-11-20 14:05", BERLIN, "2026-11-20T13:05:00Z"),  # CET, +1
        ("2026-11-20T14:05", BERLIN, "2026-11-20T13:05:00Z"),
        ("2026-07-01 14:05", BERLIN, "2026-07-01T12:05:00Z"),  # CEST, +2
        ("2026-11-20 14:05", NEW_YORK, "2026-11-20T19:05:00Z"),  # EST, -5
        ("2026-07-01 14:05", NEW_YORK, "2026-07-01T18:05:00Z"),  # EDT, -4
    ],
)
def test_local_time_without_offset_is_taken_in_the_team_zone(
    text: str, tz: str, expected: str
) -> None:
    check(text, tz, expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-28 12:00", "2026-03-28T11:00:00Z"),  # the day before: CET
        ("2026-03-29 01:30", "2026-03-29T00:30:00Z"),  # still CET, half an hour before
        ("2026-03-29 03:30", "2026-03-29T01:30:00Z"),  # already CEST
        ("2026-03-29 12:00", "2026-03-29T10:00:00Z"),
        ("2026-03-30 12:00", "2026-03-30T10:00:00Z"),
    ],
)
def test_berlin_around_the_spring_change(text: str, expected: str) -> None:
    check(text, BERLIN, expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-10-31 12:00", "2026-10-31T16:00:00Z"),  # EDT
        ("2026-11-01 00:30", "2026-11-01T04:30:00Z"),  # EDT, before the change
        ("2026-11-01 03:00", "2026-11-01T08:00:00Z"),  # EST, after it
        ("2026-11-01 12:00", "2026-11-01T17:00:00Z"),
        ("2026-11-02 12:00", "2026-11-02T17:00:00Z"),
    ],
)
def test_new_york_around_the_autumn_change(text: str, expected: str) -> None:
    check(text, NEW_YORK, expected)


@pytest.mark.parametrize(
    ("text", "tz", "expected"),
    [
        ("2026-11-20", "UTC", "2026-11-20T00:00:00Z"),
        ("2026-11-20", BERLIN, "2026-11-19T23:00:00Z"),
        ("2026-07-01", BERLIN, "2026-06-30T22:00:00Z"),
        ("2026-11-20", NEW_YORK, "2026-11-20T05:00:00Z"),
        ("2026-11-01", NEW_YORK, "2026-11-01T04:00:00Z"),  # midnight is still EDT
        ("2026-03-29", BERLIN, "2026-03-28T23:00:00Z"),  # midnight is still CET
    ],
)
def test_a_date_alone_is_the_start_of_that_day_in_the_team_zone(
    text: str, tz: str, expected: str
) -> None:
    check(text, tz, expected)


# ---- relative forms --------------------------------------------------------------------


@pytest.mark.parametrize("tz", ["UTC", BERLIN, NEW_YORK])
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now", "2026-11-24T12:00:00Z"),
        ("NOW", "2026-11-24T12:00:00Z"),
        ("  now ", "2026-11-24T12:00:00Z"),
        ("15m ago", "2026-11-24T11:45:00Z"),
        ("15 min ago", "2026-11-24T11:45:00Z"),
        ("15 minutes ago", "2026-11-24T11:45:00Z"),
        ("2h ago", "2026-11-24T10:00:00Z"),
        ("2 hours ago", "2026-11-24T10:00:00Z"),
        ("90s ago", "2026-11-24T11:58:30Z"),
        ("3 days ago", "2026-11-21T12:00:00Z"),
        ("3d ago", "2026-11-21T12:00:00Z"),
        ("1 week ago", "2026-11-17T12:00:00Z"),
        ("2h  AGO", "2026-11-24T10:00:00Z"),
    ],
)
def test_now_and_ago_count_back_from_now(text: str, expected: str, tz: str) -> None:
    check(text, tz, expected)


@pytest.mark.parametrize(
    ("text", "tz", "expected"),
    [
        # NOW is 13:00 in Berlin, 07:00 in New York, both on 2026-11-24.
        ("yesterday 14:00", "UTC", "2026-11-23T14:00:00Z"),
        ("yesterday 14:00", BERLIN, "2026-11-23T13:00:00Z"),
        ("yesterday 14:00", NEW_YORK, "2026-11-23T19:00:00Z"),
        ("Yesterday 9:05", BERLIN, "2026-11-23T08:05:00Z"),
        ("today 09:30", "UTC", "2026-11-24T09:30:00Z"),
        ("today 09:30", BERLIN, "2026-11-24T08:30:00Z"),
        ("today 06:30", NEW_YORK, "2026-11-24T11:30:00Z"),
        ("09:30", "UTC", "2026-11-24T09:30:00Z"),
        ("09:30", BERLIN, "2026-11-24T08:30:00Z"),
        ("9:30", BERLIN, "2026-11-24T08:30:00Z"),
        ("06:30", NEW_YORK, "2026-11-24T11:30:00Z"),
    ],
)
def test_today_yesterday_and_a_bare_clock_are_in_the_team_zone(
    text: str, tz: str, expected: str
) -> None:
    check(text, tz, expected)


def test_today_is_the_team_zones_date_not_utcs() -> None:
    # 03:00 UTC on the 24th is 22:00 on the 23rd in New York: "today" is the 23rd there.
    now = pendulum.datetime(2026, 11, 24, 3, 0)
    check("today 09:30", NEW_YORK, "2026-11-23T14:30:00Z", now)
    check("09:30", NEW_YORK, "2026-11-23T14:30:00Z", now)
    check("yesterday 09:30", NEW_YORK, "2026-11-22T14:30:00Z", now)
    # 23:30 UTC on the 23rd is 00:30 on the 24th in Berlin.
    now = pendulum.datetime(2026, 11, 23, 23, 30)
    check("yesterday 14:00", BERLIN, "2026-11-23T13:00:00Z", now)


@pytest.mark.parametrize(
    ("now", "text", "expected"),
    [
        # Berlin, 2026-03-30 12:00 CEST: yesterday was the day of the change, 14:00 is CEST.
        ("2026-03-30T10:00:00Z", "yesterday 14:00", "2026-03-29T12:00:00Z"),
        # Berlin, 2026-03-29 12:00 CEST: yesterday 14:00 was still CET.
        ("2026-03-29T10:00:00Z", "yesterday 14:00", "2026-03-28T13:00:00Z"),
        # On the day of the change, 01:30 is before it (CET) and 09:30 after it (CEST).
        ("2026-03-29T10:00:00Z", "today 01:30", "2026-03-29T00:30:00Z"),
        ("2026-03-29T10:00:00Z", "01:30", "2026-03-29T00:30:00Z"),
        ("2026-03-29T10:00:00Z", "today 09:30", "2026-03-29T07:30:00Z"),
        ("2026-03-29T10:00:00Z", "09:30", "2026-03-29T07:30:00Z"),
    ],
)
def test_relative_days_across_the_berlin_change(now: str, text: str, expected: str) -> None:
    check(text, BERLIN, expected, utc(now))


@pytest.mark.parametrize(
    ("now", "text", "expected"),
    [
        # New York, 2026-11-02 12:00 EST: yesterday (the day of the change) 14:00 is EST.
        ("2026-11-02T17:00:00Z", "yesterday 14:00", "2026-11-01T19:00:00Z"),
        # New York, 2026-11-01 12:00 EST: yesterday 14:00 was still EDT.
        ("2026-11-01T17:00:00Z", "yesterday 14:00", "2026-10-31T18:00:00Z"),
        ("2026-11-01T17:00:00Z", "today 00:30", "2026-11-01T04:30:00Z"),
        ("2026-11-01T17:00:00Z", "00:30", "2026-11-01T04:30:00Z"),
        ("2026-11-01T17:00:00Z", "today 09:30", "2026-11-01T14:30:00Z"),
        ("2026-11-01T17:00:00Z", "09:30", "2026-11-01T14:30:00Z"),
    ],
)
def test_relative_days_across_the_new_york_change(now: str, text: str, expected: str) -> None:
    check(text, NEW_YORK, expected, utc(now))


# ---- refusals --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "soon",
        "banana",
        "last tuesday",
        "in 10 minutes",
        "15 parsecs ago",
        "ago",
        "-2h ago",
        "2026-02-30",
        "2026-02-30 10:00",
        "2026-13-01",
        "2026-11-31",
        "2026-11-20T25:00Z",
        "2026-11-20 14:61",
        "25:00",
        "24:00",
        "09:60",
        "today 25:00",
        "yesterday 14:60",
        "tomorrow 09:00",
        "2026-11-20 garbage",
        "9999999999999999999999",
    ],
)
@pytest.mark.parametrize("tz", ["UTC", BERLIN])
def test_unreadable_text_is_refused(text: str, tz: str) -> None:
    with pytest.raises(BadTime):
        parse_moment(text, tz, NOW)


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-24T12:05:01Z",
        "2026-11-24T12:06Z",
        "2026-11-25",
        "2027-01-01T00:00Z",
        "2026-11-24 13:06",  # Berlin local = 12:06 UTC
        "14:00",  # later today in Berlin
        "today 23:00",
    ],
)
def test_more_than_five_minutes_ahead_is_refused_as_future(text: str) -> None:
    with pytest.raises(BadTime) as caught:
        parse_moment(text, BERLIN, NOW)
    assert str(caught.value) == "future"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-24T12:00:01Z", "2026-11-24T12:00:01Z"),
        ("2026-11-24T12:04Z", "2026-11-24T12:04:00Z"),
        ("2026-11-24T12:05Z", "2026-11-24T12:05:00Z"),
        ("2026-11-24 13:03", "2026-11-24T12:03:00Z"),
        ("13:05", "2026-11-24T12:05:00Z"),
        ("today 13:02", "2026-11-24T12:02:00Z"),
    ],
)
def test_up_to_five_minutes_ahead_is_accepted(text: str, expected: str) -> None:
    check(text, BERLIN, expected)


@pytest.mark.parametrize(
    "text", ["1999-12-31T23:59:59Z", "1999-12-31", "1970-01-01T00:00Z", "1000-01-01"]
)
def test_before_2000_is_refused(text: str) -> None:
    with pytest.raises(BadTime) as caught:
        parse_moment(text, "UTC", NOW)
    assert str(caught.value) == "too_old"


def test_2000_itself_is_accepted() -> None:
    check("2000-01-01T00:00:00Z", "UTC", "2000-01-01T00:00:00Z")
    check("2000-01-01T01:00:00+01:00", BERLIN, "2000-01-01T00:00:00Z")


def test_a_local_time_that_falls_before_2000_in_utc_is_refused() -> None:
    # Midnight on 2000-01-01 in Berlin is 23:00 on 1999-12-31 in UTC.
    with pytest.raises(BadTime):
        parse_moment("2000-01-01", BERLIN, NOW)


def test_huge_relative_amounts_are_refused_not_crashing() -> None:
    for text in ("9999 weeks ago", "9999 days ago"):
        with pytest.raises(BadTime):
            parse_moment(text, "UTC", NOW)


# ---- duration ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "0s"),
        (1, "1s"),
        (45, "45s"),
        (59.4, "59s"),
        (59.6, "1m"),
        (60, "1m"),
        (61, "1m 1s"),
        (80 * 60, "1h 20m"),
        (3600, "1h"),
        (3661, "1h 1m"),
        (2 * 3600 + 5, "2h"),
        (86_400, "1d"),
        (3 * 86_400 + 4 * 3600, "3d 4h"),
        (3 * 86_400 + 4 * 3600 + 59 * 60 + 59, "3d 4h"),
        (86_400 + 30, "1d"),
        (400 * 86_400, "400d"),
    ],
)
def test_duration_shows_the_two_largest_units(seconds: float, expected: str) -> None:
    assert duration(seconds) == expected


# ---- show --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "tz", "expected"),
    [
        ("2026-11-20T14:05:00Z", "UTC", "2026-11-20 14:05 UTC"),
        ("2026-11-20T14:05:00Z", BERLIN, "2026-11-20 15:05 CET"),
        ("2026-07-01T12:00:00Z", BERLIN, "2026-07-01 14:00 CEST"),
        ("2026-11-20T14:05:00Z", NEW_YORK, "2026-11-20 09:05 EST"),
        ("2026-07-01T12:00:00Z", NEW_YORK, "2026-07-01 08:00 EDT"),
        ("2026-11-20T23:30:00Z", BERLIN, "2026-11-21 00:30 CET"),  # the local date
        ("2026-03-29T00:30:00Z", BERLIN, "2026-03-29 01:30 CET"),
        ("2026-03-29T01:30:00Z", BERLIN, "2026-03-29 03:30 CEST"),
    ],
)
def test_show_gives_local_date_clock_and_zone(moment: str, tz: str, expected: str) -> None:
    assert show(moment, tz) == expected
    assert show(utc(moment), tz) == expected


def test_show_accepts_aware_times_in_any_zone() -> None:
    moment = pendulum.datetime(2026, 11, 20, 15, 5, tz=BERLIN)
    assert show(moment, NEW_YORK) == "2026-11-20 09:05 EST"


# ---- issue 11: extreme dates never overflow -----------------------------------------------


@pytest.mark.parametrize(
    ("text", "tz", "reason"),
    [
        ("0001-01-01", "Asia/Kolkata", "too_old"),
        ("0001-01-01T00:00+01:00", "UTC", "too_old"),
        ("9999-12-31T23:00-05:00", "UTC", "future"),
        ("9999-12-31", "Pacific/Pago_Pago", "future"),
    ],
)
def test_extreme_dates_are_bad_times_not_overflows(text: str, tz: str, reason: str) -> None:
    with pytest.raises(BadTime, match=reason):
        parse_moment(text, tz, NOW)


def test_a_window_end_far_ahead_is_too_late() -> None:
    with pytest.raises(BadTime, match="too_late"):
        parse_moment("9999-12-31T23:00-05:00", "UTC", NOW, allow_future=True)
    assert parse_moment("2099-12-31T23:00Z", "UTC", NOW, allow_future=True) == utc(
        "2099-12-31T23:00:00Z"
    )


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)),
    st.sampled_from(["", "T00:00", "T23:59Z", "T00:00+14:00", "T23:59-12:00"]),
    st.sampled_from(["UTC", BERLIN, NEW_YORK, "Pacific/Kiritimati", "Pacific/Pago_Pago"]),
    st.booleans(),
)
@example(date(1, 1, 1), "", "Pacific/Kiritimati", False)
@example(date(9999, 12, 31), "T23:59-12:00", "UTC", True)
def test_any_date_is_read_or_refused(day: date, clock: str, tz: str, allow_future: bool) -> None:
    try:
        moment = parse_moment(day.isoformat() + clock, tz, NOW, allow_future=allow_future)
    except BadTime:
        return
    assert utc("2000-01-01T00:00:00Z") <= moment <= utc("2100-01-01T00:00:00Z")


def test_storage_reads_times_as_they_are_written():
    """storage may import nothing of ours, so it keeps its own copy of the UTC format."""
    assert read_model.UTC_FORMAT == moments.UTC_FORMAT
