"""Report.to_json() against SPEC.md, "CLI for people and scripts": `report --json` is for
scripts, so its keys are a contract; these tests spell them as SPEC does, not as the code
does, so a renamed or reordered field fails here before it breaks someone's script."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pendulum
import pytest

from bot.core.windows import Window, between
from bot.metrics.report import Report, build
from storage.db import Store
from tests.fakes.records import change, deploy, incident

NOW = pendulum.datetime(2026, 12, 5, 12, 0, 0)
# Keys as nested lists, in SPEC's order: (key, its keys) for an object, key alone otherwise.
Keys = list[Any]

# SPEC.md: "`--json` prints one object with keys `window` (`from`, `to`), `service`,
# `environment`, `deployment_frequency` (`count`, `per_week`, `deploy_days`, `band`),
# `lead_time` (`median_seconds`, `p90_seconds`, `changes`, `deployments_with_changes`,
# `band`), `change_failure_rate` (`failed`, `deployments`, `rate`, `band`), `recovery_time`
# (`median_seconds`, `p90_seconds`, `incidents`, `band`), `rework_rate` (`rework`,
# `deployments`, `rate`), `time_to_restore` (`median_seconds`, `p90_seconds`, `incidents`:
# every incident resolved in the window, linked or not), `failed_attempts`, and `previous`
# (the same keys for the previous window)."
WINDOW_KEYS: Keys = [
    ("window", ["from", "to"]),
    "service",
    "environment",
    ("deployment_frequency", ["count", "per_week", "deploy_days", "band"]),
    (
        "lead_time",
        ["median_seconds", "p90_seconds", "changes", "deployments_with_changes", "band"],
    ),
    ("change_failure_rate", ["failed", "deployments", "rate", "band"]),
    ("recovery_time", ["median_seconds", "p90_seconds", "incidents", "band"]),
    ("rework_rate", ["rework", "deployments", "rate"]),
    ("time_to_restore", ["median_seconds", "p90_seconds", "incidents"]),
    "failed_attempts",
]
SPEC_KEYS: Keys = [*WINDOW_KEYS, ("previous", WINDOW_KEYS)]
# SPEC.md: "A metric with no data is `null`".
METRICS = [
    "lead_time",
    "change_failure_rate",
    "recovery_time",
    "rework_rate",
    "time_to_restore",
]


def keys(value: dict[str, Any]) -> Keys:
    return [(k, keys(v)) if isinstance(v, dict) else k for k, v in value.items()]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store(tmp_path / "contract.db")
    store.migrate()
    return store


def november() -> Window:
    return between("2026-11-01", "2026-11-30", NOW, "UTC")


def report(store: Store, window: Window) -> Report:
    return build(
        store.db,
        window,
        environments=("production",),
        environment=None,
        service=None,
        tz="UTC",
    )


def test_every_key_spec_lists_in_its_order_with_the_previous_window(store: Store) -> None:
    # Every metric has data in both windows: a null one would show no keys of its own.
    with store.write() as db:
        for day in ("2026-10-10", "2026-11-10"):  # previous window, then this one
            shipped = deploy(db, f"{day}T10:00:00Z")
            change(db, shipped, f"{day}T08:00:00Z")
            incident(db, "api", f"{day}T12:00:00Z", f"{day}T13:00:00Z", deploy_id=shipped)
    assert keys(report(store, november()).to_json()) == SPEC_KEYS


def test_an_empty_window_has_null_metrics_and_a_count_of_zero(store: Store) -> None:
    got = report(store, november()).to_json()
    for window in (got, got["previous"]):
        assert [window[m] for m in METRICS] == [None] * len(METRICS)
        assert window["deployment_frequency"] == {
            "count": 0,
            "per_week": 0.0,
            "deploy_days": 0,
            "band": "low",
        }
        assert window["failed_attempts"] == 0
    # SPEC.md: "`to` exclusive (a whole-day window ending on the 30th has `to` at midnight
    # starting the 31st)", here the 1st of December.
    assert got["window"] == {"from": "2026-11-01T00:00:00Z", "to": "2026-12-01T00:00:00Z"}
    assert got["previous"]["window"] == {
        "from": "2026-10-02T00:00:00Z",
        "to": "2026-11-01T00:00:00Z",
    }
