"""Migration m003's rollups: the report read through them equals a plain recomputation.

The property test builds random small histories in a real SQLite file (several services,
production under both names and staging, failed deploys, rollbacks named by later and by
earlier deploys, hotfixes, linked and unlinked incidents, changes of unknown, negative and
positive lead time), edits them the ways the bot and the GitHub importer do, and compares
`report.build` for windows with edges off the hour against a reference computed here from
the raw rows with statistics.median and statistics.quantiles. The trigger tests check that
each kind of edit leaves the rollups equal to a from-scratch rebuild.
"""

from __future__ import annotations

import json
import statistics
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pendulum
import pytest
import sqlite_utils
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.moments import utc_text
from bot.core.windows import Window
from bot.metrics import report
from bot.metrics.definitions import failure_rate_band, frequency_band, lead_time_band, recovery_band
from storage import deploys, incidents, schema
from storage.db import Store
from tests.fakes import records

PRODUCTION = ("production", "prod")
ZONES = ("Europe/Berlin", "Asia/Kolkata", "Asia/Kathmandu", "America/St_Johns", "UTC")
# Days around clock changes: Berlin springs forward on 2026-03-29 and falls back on
# 2026-10-25; St. John's on 2026-03-08 and 2026-11-01.
BASES = ("2026-03-27T00:00:00Z", "2026-10-23T00:00:00Z", "2026-03-06T00:00:00Z")
SPREAD = 6 * 86_400  # every instant falls within this many seconds after the base


def epoch(text: str) -> int:
    return int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp())


def text(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---- writing records, as the bot and the importer do ------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store(tmp_path / "rollups.db")
    store.migrate()
    return store


# ---- the reference: SPEC.md "Metric definitions" over the raw rows, in plain Python -----


def p90(values: Sequence[int]) -> float:
    if len(values) == 1:
        return float(values[0])
    return float(statistics.quantiles(values, n=10, method="inclusive")[8])


def durations(values: list[int]) -> dict[str, Any] | None:
    if not values:
        return None
    return {
        "median_seconds": float(statistics.median(values)),
        "p90_seconds": p90(values),
        "incidents": len(values),
    }


def reference(
    db: sqlite_utils.Database,
    start: str,
    end: str,
    days: float,
    service: str | None,
    tz: str,
) -> dict[str, Any]:
    all_deploys = [dict(r) for r in db.conn.execute("SELECT * FROM deploys")]
    by_id = {d["id"]: d for d in all_deploys}
    linked = {r[0] for r in db.conn.execute("SELECT deploy_id FROM incidents")}

    def counted(d: dict[str, Any]) -> bool:
        return d["environment"] in PRODUCTION and service in (None, d["service"])

    def in_window(at: str) -> bool:
        return start <= at < end

    shipped = [
        d
        for d in all_deploys
        if d["status"] == "success" and counted(d) and in_window(d["deployed_at"])
    ]
    failed = [
        d
        for d in shipped
        if d["id"] in linked
        or any(
            r["rollback_of"] == d["id"]
            and r["status"] == "success"
            and r["deployed_at"] >= d["deployed_at"]
            for r in all_deploys
        )
    ]
    rework = [d for d in shipped if d["is_hotfix"] or d["rollback_of"] is not None]
    ids = {d["id"] for d in shipped}
    kept = [
        (deploy_id, epoch(by_id[deploy_id]["deployed_at"]) - epoch(authored))
        for deploy_id, authored in db.conn.execute("SELECT deploy_id, authored_at FROM changes")
        if deploy_id in ids and authored is not None
    ]
    kept = [(deploy_id, lead) for deploy_id, lead in kept if lead >= 0]
    leads = [lead for _, lead in kept]
    zone = ZoneInfo(tz)
    count = len(shipped)
    resolved = [
        dict(r)
        for r in db.conn.execute("SELECT * FROM incidents WHERE resolved_at IS NOT NULL")
        if in_window(r["resolved_at"])
    ]

    def seconds(incident: dict[str, Any]) -> int:
        return epoch(incident["resolved_at"]) - epoch(incident["started_at"])

    recoveries = [
        seconds(i)
        for i in resolved
        if i["deploy_id"] is not None
        and by_id[i["deploy_id"]]["status"] == "success"
        and counted(by_id[i["deploy_id"]])
    ]
    restores = [seconds(i) for i in resolved if service in (None, i["service"])]
    lead_time = None
    if leads:
        middle = float(statistics.median(leads))
        lead_time = {
            "median_seconds": middle,
            "p90_seconds": p90(leads),
            "changes": len(leads),
            "deployments_with_changes": len({deploy_id for deploy_id, _ in kept}),
            "band": lead_time_band(middle),
        }
    recovery = durations(recoveries)
    if recovery is not None:
        recovery["band"] = recovery_band(recovery["median_seconds"])
    return {
        "window": {"from": start, "to": end},
        "deployment_frequency": {
            "count": count,
            "per_week": count / days * 7 if days > 0 else 0.0,
            "deploy_days": len(
                {datetime.fromtimestamp(epoch(d["deployed_at"]), zone).date() for d in shipped}
            ),
            "band": frequency_band(count, days),
        },
        "lead_time": lead_time,
        "change_failure_rate": None
        if not count
        else {
            "failed": len(failed),
            "deployments": count,
            "rate": len(failed) / count,
            "band": failure_rate_band(len(failed), count),
        },
        "recovery_time": recovery,
        "rework_rate": None
        if not count
        else {"rework": len(rework), "deployments": count, "rate": len(rework) / count},
        "time_to_restore": durations(restores),
        "failed_attempts": sum(
            d["status"] == "failed" and counted(d) and in_window(d["deployed_at"])
            for d in all_deploys
        ),
    }


# ---- the rollups rebuilt from scratch ---------------------------------------------------


def assert_rollups_rebuilt(db: sqlite_utils.Database) -> None:
    """Trigger-maintained state equals a from-scratch computation over the raw rows."""
    by_id = {r["id"]: r for r in db.conn.execute("SELECT * FROM deploys")}
    for change in db.conn.execute("SELECT * FROM changes"):
        deploy = by_id.get(change["deploy_id"])
        expected: tuple[Any, ...] = (None,) * 5
        if deploy is not None and deploy["status"] == "success":
            authored = change["authored_at"]
            lead = None if authored is None else epoch(deploy["deployed_at"]) - epoch(authored)
            bucket = db.conn.execute(
                f"SELECT {schema.lead_bucket(':lead')}", {"lead": lead}
            ).fetchone()[0]
            expected = (deploy["deployed_at"], deploy["environment"], deploy["service"], lead)
            expected += (bucket,)
        columns = ("shipped_at", "environment", "service", "lead_seconds", "lead_bucket")
        assert tuple(change[c] for c in columns) == expected, dict(change)
    lead_days = db.conn.execute(
        "SELECT environment, day, bucket, changes FROM lead_days ORDER BY 1, 2, 3"
    ).fetchall()
    expected_days = db.conn.execute(
        """SELECT environment, substr(shipped_at, 1, 10) AS day, lead_bucket, count(*)
           FROM changes WHERE lead_bucket IS NOT NULL GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"""
    ).fetchall()
    assert [tuple(r) for r in lead_days] == [tuple(r) for r in expected_days]
    hours = db.conn.execute("SELECT * FROM deploy_hours ORDER BY 1, 2").fetchall()
    expected_hours = db.conn.execute(f"{schema.hour_rows('1')} ORDER BY 1, 2").fetchall()
    assert [tuple(r) for r in hours] == [tuple(r) for r in expected_hours]


# ---- the property ------------------------------------------------------------------------

INDEX = st.integers(0, 40)  # picks a live record by position, modulo how many there are
LEADS = st.one_of(
    st.none(),
    st.integers(-7_200, 7_200),
    st.integers(0, 3 * 86_400),
    st.integers(0, 90 * 86_400),
    st.sampled_from([0, 300, 3_600, 86_400, 604_800]),
)
DEPLOYS = st.lists(
    st.tuples(
        st.sampled_from(["api", "web", "db"]),
        st.sampled_from(["production", "prod", "staging"]),
        st.sampled_from(["success", "success", "success", "failed"]),
        st.integers(0, SPREAD),
        st.booleans(),
        st.one_of(st.none(), INDEX),  # rolls back an earlier-recorded deploy
    ),
    max_size=25,
)
CHANGES = st.lists(st.tuples(st.one_of(st.none(), INDEX), LEADS), max_size=40)
INCIDENTS = st.lists(
    st.tuples(
        st.one_of(st.none(), INDEX),
        st.integers(0, SPREAD),
        st.one_of(st.none(), st.integers(0, 2 * 86_400)),
        st.sampled_from(["api", "web"]),
    ),
    max_size=12,
)
EDITS = st.lists(
    st.one_of(
        st.tuples(st.just("delete deploy"), INDEX),
        st.tuples(st.just("flip status"), INDEX),
        st.tuples(st.just("move deploy"), INDEX, st.integers(0, SPREAD)),
        st.tuples(st.just("rename environment"), INDEX, st.sampled_from(PRODUCTION)),
        st.tuples(st.just("link incident"), INDEX, st.one_of(st.none(), INDEX)),
        st.tuples(st.just("link change"), INDEX, st.one_of(st.none(), INDEX)),
        st.tuples(st.just("author change"), INDEX, LEADS),
    ),
    max_size=8,
)


def pick(ids: list[int], index: int | None) -> int | None:
    return None if index is None or not ids else ids[index % len(ids)]


@dataclass
class History:
    base: int
    deploys: list[int]
    changes: list[int]
    incidents: list[int]


def record(
    db: sqlite_utils.Database,
    base: int,
    deploy_rows: list[tuple[Any, ...]],
    change_rows: list[tuple[Any, ...]],
    incident_rows: list[tuple[Any, ...]],
) -> History:
    history = History(base, [], [], [])
    for service, environment, status, offset, hotfix, rollback in deploy_rows:
        history.deploys.append(
            records.deploy(
                db,
                text(base + offset),
                service=service,
                environment=environment,
                status=status,
                hotfix=hotfix,
                rollback_of=pick(history.deploys, rollback),
            )
        )
    for index, lead in change_rows:
        deploy_id = pick(history.deploys, index)
        history.changes.append(records.change(db, deploy_id, authored(db, base, deploy_id, lead)))
    for index, started, duration, service in incident_rows:
        resolved = None if duration is None else text(base + started + duration)
        deploy_id = pick(history.deploys, index)
        history.incidents.append(
            records.incident(db, service, text(base + started), resolved, deploy_id=deploy_id)
        )
    return history


def authored(
    db: sqlite_utils.Database, base: int, deploy_id: int | None, lead: int | None
) -> str | None:
    """An authored_at `lead` seconds before the deploy (or before the base, unlinked)."""
    if lead is None:
        return None
    row = db.conn.execute("SELECT deployed_at FROM deploys WHERE id = ?", (deploy_id,)).fetchone()
    return text((epoch(row[0]) if row else base) - lead)


def edit(db: sqlite_utils.Database, history: History, step: tuple[Any, ...]) -> None:
    kind, index, *rest = step
    deploy_id = pick(history.deploys, index)
    if kind == "delete deploy" and deploy_id is not None:
        deploys.delete(db, deploy_id)
        history.deploys.remove(deploy_id)
    elif kind == "flip status":
        db.conn.execute(
            """UPDATE deploys SET status = CASE status WHEN 'success' THEN 'failed'
               ELSE 'success' END WHERE id = ?""",
            (deploy_id,),
        )
    elif kind == "move deploy":
        db.conn.execute(
            "UPDATE deploys SET deployed_at = ? WHERE id = ?",
            (text(history.base + rest[0]), deploy_id),
        )
    elif kind == "rename environment":
        db.conn.execute("UPDATE deploys SET environment = ? WHERE id = ?", (rest[0], deploy_id))
    elif kind == "link incident" and history.incidents:
        target = pick(history.deploys, rest[0])
        incident_id = history.incidents[index % len(history.incidents)]
        incidents.link(db, incident_id, target, "deploy" if target is not None else "unknown")
    elif kind == "link change" and history.changes:
        change_id = history.changes[index % len(history.changes)]
        target = pick(history.deploys, rest[0])
        db.conn.execute("UPDATE changes SET deploy_id = ? WHERE id = ?", (target, change_id))
    elif kind == "author change" and history.changes:
        change_id = history.changes[index % len(history.changes)]
        row = db.conn.execute("SELECT deploy_id FROM changes WHERE id = ?", (change_id,))
        at = authored(db, history.base, row.fetchone()[0], rest[0])
        db.conn.execute("UPDATE changes SET authored_at = ? WHERE id = ?", (at, change_id))


def expected_report(
    db: sqlite_utils.Database, window: Window, service: str | None, tz: str
) -> dict[str, Any]:
    previous = window.previous()
    current = reference(db, utc_text(window.start), utc_text(window.end), window.days, service, tz)
    before = reference(
        db, utc_text(previous.start), utc_text(previous.end), previous.days, service, tz
    )
    scope = {"service": service, "environment": None}
    return {
        "window": current.pop("window"),
        **scope,
        **current,
        "previous": {"window": before.pop("window"), **scope, **before},
    }


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    base=st.sampled_from(BASES),
    deploy_rows=DEPLOYS,
    change_rows=CHANGES,
    incident_rows=INCIDENTS,
    edits=EDITS,
    window_start=st.integers(0, SPREAD),
    window_seconds=st.integers(1_800, 4 * 86_400),
    tz=st.sampled_from(ZONES),
    service=st.sampled_from([None, None, "api", "web"]),
)
def test_report_equals_a_plain_recomputation(
    base: str,
    deploy_rows: list[tuple[Any, ...]],
    change_rows: list[tuple[Any, ...]],
    incident_rows: list[tuple[Any, ...]],
    edits: list[tuple[Any, ...]],
    window_start: int,
    window_seconds: int,
    tz: str,
    service: str | None,
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "rollups.db")
        store.migrate()
        with store.write() as db:
            history = record(db, epoch(base), deploy_rows, change_rows, incident_rows)
            for step in edits:
                edit(db, history, step)
        db = store.db
        assert_rollups_rebuilt(db)
        start = epoch(base) + window_start
        window = Window(
            pendulum.from_timestamp(start),
            pendulum.from_timestamp(start + window_seconds),
            window_seconds / 86_400,
        )
        got = report.build(
            db, window, environments=PRODUCTION, environment=None, service=service, tz=tz
        )
        expected = expected_report(db, window, service, tz)
        assert json.dumps(got.to_json(), sort_keys=True) == json.dumps(expected, sort_keys=True)
        store.close()


# ---- each kind of edit, one at a time ----------------------------------------------------


@pytest.fixture
def linked(store: Store) -> dict[str, int]:
    """Two production deploys in one hour, the second rolling back the first, with changes
    and an incident; a third deploy the next day."""
    with store.write() as db:
        first = records.deploy(db, "2026-11-03T10:05:00Z")
        second = records.deploy(db, "2026-11-03T10:50:00Z", hotfix=True, rollback_of=first)
        third = records.deploy(db, "2026-11-04T09:00:00Z", environment="prod")
        change = records.change(db, first, "2026-11-02T10:05:00Z")
        records.change(db, second, "2026-11-03T10:55:00Z")  # negative lead: not counted
        records.change(db, third, None)  # unknown lead
        incident = records.incident(
            db, "api", "2026-11-03T11:00:00Z", "2026-11-03T12:00:00Z", deploy_id=third
        )
    assert_rollups_rebuilt(store.db)
    return {
        "first": first,
        "second": second,
        "third": third,
        "change": change,
        "incident": incident,
    }


def hour(store: Store, at: str) -> tuple[Any, ...] | None:
    row = store.query_one(
        "SELECT deployments, failed, rework, with_changes FROM deploy_hours WHERE hour = ?",
        (at,),
    )
    return tuple(row) if row else None


def test_backfilled_rollups_match_the_rows(linked: dict[str, int], store: Store) -> None:
    # 10:05 is rolled back by the later 10:50 (failed) and has a 1-day lead; 10:50 is a
    # hotfix rollback (rework) whose only change has a negative lead.
    assert hour(store, "2026-11-03T10") == (2, 1, 1, 1)
    assert hour(store, "2026-11-04T09") == (1, 1, 0, 0)  # the incident fails it


def test_deleting_a_deploy(linked: dict[str, int], store: Store) -> None:
    with store.write() as db:
        deploys.delete(db, linked["second"])
    assert_rollups_rebuilt(store.db)
    assert hour(store, "2026-11-03T10") == (1, 0, 0, 1)  # no longer rolled back
    with store.write() as db:
        deploys.delete(db, linked["first"])
    assert_rollups_rebuilt(store.db)
    assert hour(store, "2026-11-03T10") is None
    assert store.query("SELECT * FROM lead_days") == []


def test_relinking_an_incident(linked: dict[str, int], store: Store) -> None:
    with store.write() as db:
        incidents.link(db, linked["incident"], None, "unknown")
    assert_rollups_rebuilt(store.db)
    assert hour(store, "2026-11-04T09") == (1, 0, 0, 0)
    with store.write() as db:
        incidents.link(db, linked["incident"], linked["second"], "deploy")
    assert_rollups_rebuilt(store.db)
    assert hour(store, "2026-11-03T10") == (2, 2, 1, 1)


def test_changing_a_deploys_status(linked: dict[str, int], store: Store) -> None:
    with store.write() as db:
        db.conn.execute("UPDATE deploys SET status = 'failed' WHERE id = ?", (linked["second"],))
    assert_rollups_rebuilt(store.db)
    # A failed rollback attempt fails nothing; the failed deploy itself is not counted.
    assert hour(store, "2026-11-03T10") == (1, 0, 0, 1)
    with store.write() as db:
        db.conn.execute("UPDATE deploys SET status = 'failed' WHERE id = ?", (linked["first"],))
    assert_rollups_rebuilt(store.db)
    assert hour(store, "2026-11-03T10") is None
    assert store.query("SELECT * FROM lead_days") == []


def test_relinking_a_change(linked: dict[str, int], store: Store) -> None:
    with store.write() as db:
        db.conn.execute(
            "UPDATE changes SET deploy_id = ? WHERE id = ?", (linked["third"], linked["change"])
        )
    assert_rollups_rebuilt(store.db)
    assert hour(store, "2026-11-03T10") == (2, 1, 1, 0)
    assert hour(store, "2026-11-04T09") == (1, 1, 0, 1)
    day = store.query_one("SELECT environment, day, changes FROM lead_days")
    assert tuple(day) == ("prod", "2026-11-04", 1)


def test_lead_buckets_rise_with_the_lead(store: Store) -> None:
    # Order statistics are found by bucket, so a longer lead never has a lower bucket.
    leads = sorted(
        {0, 1, 299, 300, 3_599, 3_600, 86_399, 86_400, 604_799, 604_800}
        | {2_591_999, 2_592_000, 10**7, 10**9}
        | set(range(0, 4 * 86_400, 997))
    )
    buckets = [
        store.query_one(f"SELECT {schema.lead_bucket(':lead')}", {"lead": lead})[0]
        for lead in leads
    ]
    assert buckets == sorted(buckets)
    assert store.query_one(f"SELECT {schema.lead_bucket(':lead')}", {"lead": -1})[0] is None
