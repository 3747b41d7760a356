"""`POST /pagerduty/webhook` fuzzed: any signed JSON, of any shape and types, is answered
with a 4xx or a 202 and stores nothing; never a 5xx. The webhook is the real WSGI handler
on one SQLite file, called as the server calls it."""

from __future__ import annotations

import copy
import io
import json
import sqlite3
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.config import Config
from bot.core.clock import FixedClock
from bot.deps import Deps
from bot.sources.pagerduty.webhook import PagerDutyWebhook, signature
from storage.db import Store

SECRET = "fuzz-secret"
PAYLOADS = Path(__file__).parent.parent / "fakes" / "pagerduty_payloads"
TRIGGERED = json.loads((PAYLOADS / "zulip_triggered_v3.json").read_text())
# Every field the webhook reads, where a wrong shape or type must be a 400.
READ = [
    ("event",),
    ("event", "id"),
    ("event", "event_type"),
    ("event", "occurred_at"),
    ("event", "data"),
    ("event", "data", "id"),
    ("event", "data", "title"),
    ("event", "data", "created_at"),
    ("event", "data", "html_url"),
    ("event", "data", "priority"),
    ("event", "data", "urgency"),
    ("event", "data", "service"),
    ("event", "data", "service", "id"),
    ("event", "data", "service", "summary"),
]

_text = st.text(alphabet=st.sampled_from('[]{}"\\:,.ab é-P1'), max_size=8)
# Times with offsets, out to the ends of the calendar (year 1 at +01:00 is before UTC's).
_offsets = st.timedeltas(min_value=timedelta(hours=-23), max_value=timedelta(hours=23))
_times = st.datetimes(timezones=st.builds(timezone, _offsets)).map(datetime.isoformat)
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _text | _times,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def webhook(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PagerDutyWebhook, Path]]:
    db_path = tmp_path_factory.mktemp("fuzz") / "shipshape.db"
    store = Store(str(db_path))
    store.migrate()
    config = Config(db_path=str(db_path), pagerduty_webhook_secret=SECRET)
    deps = Deps(config=config, store=store, clock=FixedClock("2026-11-24T12:00:00Z"))
    with ThreadPoolExecutor(1) as executor:
        yield PagerDutyWebhook(deps, executor), db_path
    store.close()


def call(hook: PagerDutyWebhook, body: bytes) -> tuple[int, dict[str, Any]]:
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/pagerduty/webhook",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_X_PAGERDUTY_SIGNATURE": signature(SECRET, body),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
    }
    status: list[str] = []
    answer = b"".join(hook(environ, lambda line, headers, exc=None: status.append(line)))
    return int(status[0].split()[0]), json.loads(answer)


def stored(db_path: Path) -> tuple[int, int]:
    conn = sqlite3.connect(db_path)
    try:
        return (
            conn.execute("SELECT count(*) FROM incidents").fetchone()[0],
            conn.execute("SELECT count(*) FROM source_deliveries").fetchone()[0],
        )
    finally:
        conn.close()


def _put(payload: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(payload)
    where: Any = changed
    for key in path[:-1]:
        where = where[key]
    where[path[-1]] = value
    return changed


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(_json)
def test_any_json_is_a_4xx_or_a_202_and_stores_nothing(
    webhook: tuple[PagerDutyWebhook, Path], value: Any
) -> None:
    hook, db_path = webhook
    before = stored(db_path)
    status, answer = call(hook, json.dumps(value).encode())
    assert status == 202 or 400 <= status < 500, answer
    assert stored(db_path) == before


@FUZZ
@given(st.sampled_from(["incident.triggered", "incident.resolved", "incident.reopened"]), _json)
def test_an_incident_event_of_any_shape_is_a_4xx_or_a_202_and_stores_nothing(
    webhook: tuple[PagerDutyWebhook, Path], event_type: str, data: Any
) -> None:
    hook, db_path = webhook
    before = stored(db_path)
    body = {"event": {"id": "01FUZZ", "event_type": event_type, "occurred_at": data, "data": data}}
    status, answer = call(hook, json.dumps(body).encode())
    assert status == 202 or 400 <= status < 500, answer
    assert stored(db_path) == before


@FUZZ
@given(st.sampled_from(READ), _json)
def test_a_real_event_with_any_field_changed_never_fails_and_refuses_whole(
    webhook: tuple[PagerDutyWebhook, Path], path: tuple[str, ...], value: Any
) -> None:
    hook, db_path = webhook
    before = stored(db_path)
    # A fresh event id each time, so that no example is a redelivery of a stored one.
    fresh = _put(TRIGGERED, ("event", "id"), f"01FUZZ{before[1]}")
    payload = _put(fresh, path, value)
    status, answer = call(hook, json.dumps(payload).encode())
    assert status in (200, 202) or 400 <= status < 500, answer
    if status == 400:
        assert answer["field"].startswith("event"), answer
    if status != 200:
        assert stored(db_path) == before
