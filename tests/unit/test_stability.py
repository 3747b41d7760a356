"""The speed-versus-stability check (bot/metrics/stability.py), a pure function over counts.

Expected p-values are computed here from their definitions with exact fractions and
math.comb, independently of SciPy: the one-sided binomial test is P(X >= k_r) for
X ~ Binomial(k_r + k_b, 1/3), and the one-sided Fisher exact test is P(X >= f_r) for the
hypergeometric count of failures among the recent deployments, all margins fixed.
"""

from __future__ import annotations

from fractions import Fraction
from math import comb

import pytest

from bot.config import load
from bot.metrics.stability import Outcome, ServiceRise, Shortfall, Thresholds, check, where_to_look
from bot.summary import build as summary

DEFAULTS = Thresholds()


def binomial_p(k_r: int, k_b: int) -> float:
    n = k_r + k_b
    # P(X = i) = C(n, i) (1/3)^i (2/3)^(n - i) = C(n, i) 2^(n - i) / 3^n
    return float(sum(Fraction(comb(n, i) * 2 ** (n - i), 3**n) for i in range(k_r, n + 1)))


def fisher_p(f_r: int, k_r: int, f_b: int, k_b: int) -> float:
    total, failed = k_r + k_b, f_r + f_b
    return float(
        sum(
            Fraction(comb(failed, x) * comb(total - failed, k_r - x), comb(total, k_r))
            for x in range(f_r, min(failed, k_r) + 1)
        )
    )


def test_the_reference_p_values_match_hand_arithmetic() -> None:
    # Small enough to add up on paper: n = 3, k_r = 3: (1/3)^3 = 1/27.
    assert binomial_p(3, 0) == pytest.approx(1 / 27)
    # [[2, 0], [0, 8]]: both failures among the 2 recent deployments: 1 / C(10, 2) = 1/45.
    assert fisher_p(2, 2, 0, 8) == pytest.approx(1 / 45)


def test_a_clear_rise_in_both_raises_the_flag() -> None:
    # 5.0 -> 9.5 deploys a week; failure rate 2/40 = 5% -> 8/38 = 21%.
    result = check(38, 40, 8, 2, DEFAULTS)
    assert result.outcome is Outcome.FLAG
    assert result.frequency_rising and result.failure_rising
    assert result.frequency_p == pytest.approx(binomial_p(38, 40), rel=1e-9)
    assert result.frequency_p == pytest.approx(0.00349, abs=1e-5)
    assert result.failure_p == pytest.approx(fisher_p(8, 38, 2, 40), rel=1e-9)
    assert result.failure_p == pytest.approx(0.0359, abs=1e-4)
    assert (result.recent_per_week, result.baseline_per_week) == (9.5, 5.0)
    assert result.recent_rate == pytest.approx(8 / 38)
    assert result.baseline_rate == pytest.approx(0.05)
    assert result.shortfalls == ()


def test_more_deploys_at_a_flat_failure_rate_is_good_news() -> None:
    # 5 -> 10 deploys a week, 10% failing before and after.
    result = check(40, 40, 4, 4, DEFAULTS)
    assert result.outcome is Outcome.GOOD_NEWS
    assert result.frequency_rising and not result.failure_rising
    assert result.frequency_p == pytest.approx(binomial_p(40, 40), rel=1e-9)
    assert result.failure_p == pytest.approx(fisher_p(4, 40, 4, 40), rel=1e-9)
    headline, body = summary.check_text(result)
    assert headline.startswith("Good news")
    assert "Deploys per week rose from 5.0 to 10.0" in body
    assert "did not rise significantly (10.0% to 10.0%" in body


def test_a_failure_rate_rise_fisher_does_not_support_is_no_flag() -> None:
    # 4/40 -> 9/40: a higher rate, but Fisher's p is about 0.11.
    result = check(40, 40, 9, 4, DEFAULTS)
    expected = fisher_p(9, 40, 4, 40)
    assert expected == pytest.approx(0.1123, abs=1e-4)
    assert result.failure_p == pytest.approx(expected, rel=1e-9)
    assert not result.failure_rising
    assert result.outcome is not Outcome.FLAG
    # Deploys a week doubled (40 in 4 weeks against 40 in 8), so that part is good news.
    assert result.outcome is Outcome.GOOD_NEWS


def test_a_failure_rate_rise_alone_is_said_plainly() -> None:
    # Same deploys a week (40 in 4, 80 in 8); failures 2/80 -> 10/40.
    result = check(40, 80, 10, 2, DEFAULTS)
    assert result.outcome is Outcome.FAILURES_RISING
    assert not result.frequency_rising
    assert result.failure_p == pytest.approx(fisher_p(10, 40, 2, 80), rel=1e-9)
    headline, body = summary.check_text(result)
    assert headline == "The change failure rate is rising."
    assert "rose from 2.5% to 25.0% (2/80 → 10/40" in body


def test_too_few_recent_deployments_says_what_is_missing() -> None:
    # 2 a week before, 1.5 a week now: nothing rose, and 6 deployments tell little.
    result = check(6, 16, 1, 1, DEFAULTS)
    assert result.outcome is Outcome.THIN_DATA
    assert result.shortfalls == (Shortfall(False, 10, 6),)
    _, body = summary.check_text(result)
    assert body == "Need at least 10 deployments in the last 4 weeks, have 6."


def test_too_few_failures_to_flag_says_so() -> None:
    # The clear rise, but with a setting that wants 10 failed deployments: it has 8.
    result = check(38, 40, 8, 2, Thresholds(min_failed=10))
    assert result.outcome is Outcome.THIN_DATA
    assert result.frequency_rising and result.failure_rising
    assert result.shortfalls == (Shortfall(True, 10, 8),)
    headline, body = summary.check_text(result)
    assert "too little data" in headline
    assert body == "Need at least 10 failed deployments in the last 4 weeks, have 8."


def test_both_shortfalls_are_named() -> None:
    result = check(38, 40, 8, 2, Thresholds(min_deployments=50, min_failed=9))
    assert result.outcome is Outcome.THIN_DATA
    _, body = summary.check_text(result)
    assert body == (
        "Need at least 50 deployments in the last 4 weeks, have 38; "
        "need at least 9 failed deployments in the last 4 weeks, have 8."
    )


def test_no_deployments_at_all() -> None:
    result = check(0, 0, 0, 0, DEFAULTS)
    assert result.outcome is Outcome.THIN_DATA
    assert result.frequency_p is None and result.failure_p is None
    assert result.recent_rate is None and result.baseline_rate is None
    assert result.shortfalls == (Shortfall(False, 10, 0),)


def test_no_baseline_deployments() -> None:
    # Everything is new: the frequency rose, but there is no failure rate to compare with.
    result = check(12, 0, 3, 0, DEFAULTS)
    assert result.frequency_p == pytest.approx(binomial_p(12, 0), rel=1e-9)
    assert result.frequency_p == pytest.approx(3.0**-12)
    assert result.failure_p is None and not result.failure_rising
    assert result.outcome is Outcome.GOOD_NEWS
    _, body = summary.check_text(result)
    assert "no deployments in the 8 weeks before" in body


def test_no_recent_deployments() -> None:
    result = check(0, 20, 0, 2, DEFAULTS)
    assert not result.frequency_rising and result.failure_p is None
    assert result.outcome is Outcome.THIN_DATA
    assert result.recent_rate is None


def test_a_steady_team_is_no_change() -> None:
    result = check(20, 40, 2, 4, DEFAULTS)
    assert result.outcome is Outcome.NO_CHANGE
    headline, body = summary.check_text(result)
    assert headline == "Speed versus stability: no significant change."
    assert "Deploys per week went from 5.0 to 5.0" in body


def test_the_p_value_setting_changes_the_verdict() -> None:
    # Fisher's p is 0.036: a rise at 0.05, not at 0.01.
    assert check(38, 40, 8, 2, DEFAULTS).outcome is Outcome.FLAG
    strict = Thresholds.of(load({"SHIPSHAPE_CHECK_P_VALUE": "0.01"}, for_slack=False))
    assert strict.p_value == 0.01
    result = check(38, 40, 8, 2, strict)
    assert not result.failure_rising
    assert result.outcome is Outcome.GOOD_NEWS


def test_the_other_settings_come_from_the_environment() -> None:
    config = load(
        {
            "SHIPSHAPE_CHECK_RATE_RATIO": "2.5",
            "SHIPSHAPE_CHECK_MIN_DEPLOYS": "50",
            "SHIPSHAPE_CHECK_MIN_FAILED": "4",
        },
        for_slack=False,
    )
    assert Thresholds.of(config) == Thresholds(2.5, 0.05, 50, 4)
    # 5 -> 9.5 a week is 1.9 times: not the 2.5 times asked for.
    assert not check(38, 40, 8, 2, Thresholds.of(config)).frequency_rising


def test_exactly_the_ratio_counts_as_rising() -> None:
    # 24 in 4 weeks is 6 a week, exactly 1.2 x 5; binomial p = 0.28, under a loose 0.5.
    loose = Thresholds(p_value=0.5)
    at_ratio = check(24, 40, 0, 0, loose)
    assert at_ratio.frequency_p == pytest.approx(binomial_p(24, 40), rel=1e-9)
    assert at_ratio.frequency_rising
    # 23 is 5.75 a week, below 6, even though p = 0.34 < 0.5.
    assert not check(23, 40, 0, 0, loose).frequency_rising


def test_counts_that_cannot_be_are_refused() -> None:
    with pytest.raises(ValueError):
        check(5, 5, 6, 0, DEFAULTS)
    with pytest.raises(ValueError):
        check(-1, 5, 0, 0, DEFAULTS)


def test_where_to_look_names_the_biggest_rises() -> None:
    services = [
        ServiceRise("api", 1, 20, 1, 40),  # 2.5% -> 5%: +2.5 pts
        ServiceRise("payments", 3, 12, 1, 25),  # 4% -> 25%: +21 pts
        ServiceRise("search", 2, 10, 0, 0),  # new: 0 -> 20%
        ServiceRise("web", 0, 15, 3, 30),  # 10% -> 0%: fell
        ServiceRise("old", 0, 0, 5, 10),  # no recent deployments
        ServiceRise("mobile", 1, 10, 0, 10),  # 0% -> 10%
    ]
    found = where_to_look(services)
    assert [s.service for s in found] == ["payments", "search", "mobile"]
    assert found[1].baseline_rate is None
    assert found[0].rise == pytest.approx(0.25 - 0.04)
