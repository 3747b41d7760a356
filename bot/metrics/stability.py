"""The speed-versus-stability check of the weekly summary (SPEC.md "Weekly summary").

Pure functions over counts: the summary counts deployments and failed deployments per ISO
week (exactly as the metrics count them) and hands the totals here. Recent = the last 4
complete weeks, baseline = the 8 before. Deploy frequency is rising when the recent weekly
rate is at least `rate_ratio` times the baseline rate and a one-sided binomial test says the
recent share of all deployments is above 4/12; the change failure rate is rising when the
recent rate is higher and a one-sided Fisher exact test agrees. The flag needs both rises
and enough failed deployments; every verdict needs enough recent deployments. SciPy is
imported only when a test is run: it is slow to import and most commands never need it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from bot.config import Config

RECENT_WEEKS = 4
BASELINE_WEEKS = 8
WEEKS = RECENT_WEEKS + BASELINE_WEEKS
SERVICES_NAMED = 3


class Outcome(StrEnum):
    FLAG = "flag"  # deploys and failures both rising: speed outrunning stability
    GOOD_NEWS = "good_news"  # deploys rising, failure rate not
    FAILURES_RISING = "failures_rising"  # failure rate rising, deploys not
    NO_CHANGE = "no_change"
    THIN_DATA = "thin_data"  # too few deployments or failures to say


@dataclass(frozen=True)
class Thresholds:
    rate_ratio: float = 1.2
    p_value: float = 0.05
    min_deployments: int = 10
    min_failed: int = 3

    @classmethod
    def of(cls, config: Config) -> Thresholds:
        return cls(
            config.check_rate_ratio,
            config.check_p_value,
            config.check_min_deployments,
            config.check_min_failed,
        )


@dataclass(frozen=True)
class Shortfall:
    """What the flag lacked: at least `need` recent deployments (or failed ones), had `have`."""

    failed: bool  # False: deployments; True: failed deployments
    need: int
    have: int


class _Rates:
    """Change failure rates of the recent and the baseline weeks; None without deployments."""

    recent_failed: int
    recent_deployments: int
    baseline_failed: int
    baseline_deployments: int

    @property
    def recent_rate(self) -> float | None:
        return _share(self.recent_failed, self.recent_deployments)

    @property
    def baseline_rate(self) -> float | None:
        return _share(self.baseline_failed, self.baseline_deployments)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class ServiceRise(_Rates):
    """One service's change failure rate, baseline against recent."""

    service: str
    recent_failed: int
    recent_deployments: int
    baseline_failed: int
    baseline_deployments: int

    @property
    def rise(self) -> float:
        # A service new in the recent weeks is measured against a rate of 0: all it
        # failed is new.
        return (self.recent_rate or 0.0) - (self.baseline_rate or 0.0)


@dataclass(frozen=True)
class Check(_Rates):
    outcome: Outcome
    recent_deployments: int  # k_r
    baseline_deployments: int  # k_b
    recent_failed: int  # f_r
    baseline_failed: int  # f_b
    frequency_rising: bool
    failure_rising: bool
    frequency_p: float | None  # None: no deployments at all, nothing to test
    failure_p: float | None  # None: no deployments in one of the two periods
    shortfalls: tuple[Shortfall, ...] = ()
    services: tuple[ServiceRise, ...] = ()  # where to look first; only with the flag

    @property
    def recent_per_week(self) -> float:
        return self.recent_deployments / RECENT_WEEKS

    @property
    def baseline_per_week(self) -> float:
        return self.baseline_deployments / BASELINE_WEEKS


def _frequency_p(k_r: int, k_b: int) -> float | None:
    if k_r + k_b == 0:
        return None
    from scipy.stats import binomtest

    share = RECENT_WEEKS / WEEKS
    return float(binomtest(k_r, k_r + k_b, p=share, alternative="greater").pvalue)


def _failure_p(k_r: int, k_b: int, f_r: int, f_b: int) -> float | None:
    if k_r == 0 or k_b == 0:
        return None  # no rate to compare with
    from scipy.stats import fisher_exact

    table = [[f_r, k_r - f_r], [f_b, k_b - f_b]]
    return float(fisher_exact(table, alternative="greater").pvalue)


def check(
    recent_deployments: int,
    baseline_deployments: int,
    recent_failed: int,
    baseline_failed: int,
    thresholds: Thresholds,
) -> Check:
    """The check over the 4 recent and 8 baseline weeks' counts."""
    k_r, k_b, f_r, f_b = recent_deployments, baseline_deployments, recent_failed, baseline_failed
    if min(k_r, k_b, f_r, f_b) < 0 or f_r > k_r or f_b > k_b:
        raise ValueError("counts must be non-negative with failed <= deployments")
    frequency_p = _frequency_p(k_r, k_b)
    # Exact arithmetic: the ratio setting is typed as a decimal (1.2), and a rate exactly
    # 1.2 times the baseline must count as "at least", whatever binary floats would say.
    ratio = Fraction(repr(thresholds.rate_ratio))
    faster = Fraction(k_r, RECENT_WEEKS) >= ratio * Fraction(k_b, BASELINE_WEEKS)
    frequency_rising = (
        k_r > 0 and faster and frequency_p is not None and frequency_p < thresholds.p_value
    )
    failure_p = _failure_p(k_r, k_b, f_r, f_b)
    # f_r / k_r > f_b / k_b without dividing (both are known to be positive here).
    failure_rising = (
        failure_p is not None and f_r * k_b > f_b * k_r and failure_p < thresholds.p_value
    )
    shortfalls = []
    if k_r < thresholds.min_deployments:
        shortfalls.append(Shortfall(False, thresholds.min_deployments, k_r))
    if f_r < thresholds.min_failed:
        shortfalls.append(Shortfall(True, thresholds.min_failed, f_r))

    both = frequency_rising and failure_rising
    if not both:
        # Too few failures hold back only the flag; too few deployments, every verdict.
        shortfalls = [s for s in shortfalls if not s.failed]
    if shortfalls:
        outcome = Outcome.THIN_DATA
    elif both:
        outcome = Outcome.FLAG
    elif frequency_rising:
        outcome = Outcome.GOOD_NEWS
    elif failure_rising:
        outcome = Outcome.FAILURES_RISING
    else:
        outcome = Outcome.NO_CHANGE
    return Check(
        outcome,
        k_r,
        k_b,
        f_r,
        f_b,
        frequency_rising,
        failure_rising,
        frequency_p,
        failure_p,
        tuple(shortfalls),
    )


def where_to_look(
    services: Iterable[ServiceRise], limit: int = SERVICES_NAMED
) -> tuple[ServiceRise, ...]:
    """The services whose change failure rate rose most, among those with recent
    deployments; a tie goes to the one with more recent failures, then by name."""
    rising = [s for s in services if s.recent_deployments and s.rise > 0]
    rising.sort(key=lambda s: (-s.rise, -s.recent_failed, s.service))
    return tuple(rising[:limit])
