"""Scale benchmark: the weekly summary on 1,000,000 deploys and 5,000,000 changes.

Run:  uv run python benchmarks/summary_scale.py [--db PATH] [--runs N] [--budget SECONDS]

Uses the database of benchmarks/metrics_scale.py (built there on first use; opening it here
applies any newer migrations). It times `bot.summary.build` (the week's metrics and the week
before, the 12-week trend, the speed-versus-stability check and the open incidents) for the
busiest service and for all services, for the last complete ISO week before the data ends,
in a team zone with daylight saving. Beside each, in the same run and on the same
connection, it times a bare SQLite count of the successful production deploys of the 13
weeks the summary covers, so the numbers read as "N times the cost of merely counting the
rows". It also times the chart (`bot.summary.chart_png`) and, for all services, the
per-service failure counts that are read only when the change failure rate rose
(`storage.summaries.failures_by_service`). Targets (issue 5): a summary < 100 ms without
the chart, < 500 ms with it. Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import pendulum

# Running this file puts benchmarks/ (not the project root) on sys.path.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from metrics_scale import (  # noqa: E402
    DEFAULT_DB,
    END,
    ENVIRONMENTS,
    TZ,
    Timing,
    bare_aggregate,
    build_database,
    busiest_service,
    is_built,
    time_cases,
)

from bot.config import Config  # noqa: E402
from bot.core.clock import FixedClock  # noqa: E402
from bot.core.moments import utc_text  # noqa: E402
from bot.core.weeks import iso_week, weeks_ending  # noqa: E402
from bot.deps import Deps  # noqa: E402
from bot.metrics import stability  # noqa: E402
from bot.summary import build as summary  # noqa: E402
from storage import summaries  # noqa: E402
from storage.db import Store  # noqa: E402

TARGET_MS = 100.0
TARGET_WITH_CHART_MS = 500.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=DEFAULT_DB, help=f"default {DEFAULT_DB}")
    parser.add_argument("--runs", type=int, default=30, help="timed runs per case (max)")
    parser.add_argument("--budget", type=float, default=60.0, help="seconds per case (max)")
    args = parser.parse_args(argv)
    if not 1 <= args.runs <= 10_000 or not 1 <= args.budget <= 3_600:
        parser.error("--runs must be 1..10000 and --budget 1..3600")

    path: Path = args.db
    if not is_built(path):
        print(f"building {path} ...", flush=True)
        print(f"build time          {build_database(path):8.1f} s")
    store = Store(path)
    store.migrate()
    now = pendulum.instance(END)
    config = Config(db_path=str(path), timezone=TZ, production_environments=ENVIRONMENTS)
    deps = Deps(config=config, store=store, clock=FixedClock(now))
    year, week = summary.last_complete_week(now, TZ)
    # The 12 weeks of the trend and the check, and the week before the first of them.
    weeks = weeks_ending(year, week, stability.WEEKS + 1)
    start, end = utc_text(iso_week(*weeks[0], TZ).start), utc_text(iso_week(year, week, TZ).end)
    middle = utc_text(iso_week(*weeks[1 + stability.BASELINE_WEEKS], TZ).start)
    db = store.db
    service = busiest_service(db.conn, start, end)
    label = summary.week_label(year, week)
    print(f"summary of          {label} ({TZ}); rows read {start} .. {end}")

    failed = False
    for scope in (service, None):
        label = f"one service ({scope})" if scope is not None else "all services"

        def build(scope: str | None = scope) -> summary.Summary:
            return summary.build(deps, year, week, scope)

        def bare(scope: str | None = scope) -> list[tuple[int, int]]:
            return bare_aggregate(db.conn, [(start, end)], scope)

        built = build()
        samples = time_cases({"report": build, "bare": bare}, args.runs, args.budget)
        timed, counted = Timing("build", samples["report"]), Timing("bare", samples["bare"])
        chart = Timing("chart", time_cases(
            {"report": lambda built=built: summary.chart_png(built), "bare": bare},
            args.runs, args.budget,
        )["report"])  # fmt: skip
        ratio = timed.median / counted.median if counted.median > 0 else math.inf
        check = built.check
        print()
        print(f"{label}: {len(timed.samples_ms)} runs")
        print(
            f"  check               {check.outcome.value}: {check.recent_deployments} + "
            f"{check.baseline_deployments} deployments, {check.recent_failed} + "
            f"{check.baseline_failed} failed (recent + baseline); "
            f"{built.open_total} open incidents"
        )
        print(f"  summary.build       median {timed.median:9.2f} ms   p90 {timed.p90:9.2f} ms")
        print(
            f"  bare deploy count   median {counted.median:9.2f} ms   p90 {counted.p90:9.2f} ms"
            f"   ratio {ratio:7.2f}"
        )
        print(f"  chart_png           median {chart.median:9.2f} ms   p90 {chart.p90:9.2f} ms")
        with_chart = timed.median + chart.median
        met = timed.median < TARGET_MS
        met_chart = with_chart < TARGET_WITH_CHART_MS
        print(
            f"  target < {TARGET_MS:.0f} ms: {'met' if met else 'MISSED'}; with the chart "
            f"{with_chart:.1f} ms < {TARGET_WITH_CHART_MS:.0f} ms: "
            f"{'met' if met_chart else 'MISSED'}"
        )
        failed = failed or not (met and met_chart)
        if scope is None:
            look = Timing("where", time_cases(
                {"report": lambda: summaries.failures_by_service(
                    db, utc_text(iso_week(*weeks[1], TZ).start), middle, end, ENVIRONMENTS),
                 "bare": bare},
                args.runs, args.budget,
            )["report"])  # fmt: skip
            print(
                f"  where to look       median {look.median:9.2f} ms   p90 {look.p90:9.2f} ms"
                "   (read only when the failure rate rose)"
            )
    store.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
