"""The HTTP API's parsers under random JSON: any shape or type of any field is a 4xx that
stores nothing, never a 5xx. Requests go straight into the API's WSGI app on one SQLite
file."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.config import Config
from bot.core.clock import FixedClock
from bot.deps import Deps
from bot.sources.api.payloads import DEPLOY_FIELDS, INCIDENT_FIELDS
from bot.sources.api.routes import Api
from storage.db import Store
from tests.conftest import NOW

TOKEN = "tok-fuzz"
TABLES = ("deploys", "incidents", "changes")

scalars = (
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False) | st.text(max_size=30)
    | st.sampled_from(["checkout", "2026-11-20T10:00:00Z", "0001-01-01T00:00:00+05:00",
                       "9999-12-31T23:59:59-05:00", "a" * 40, "acme/checkout", "none",
                       "https://x.example", "http://[::1", "http://x:99999", "success", "failed",
                       "7d", ""])
)  # fmt: skip
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
# Objects with the routes' own field names, so the checks behind the first field are reached.
field_names = st.sampled_from(sorted(DEPLOY_FIELDS | INCIDENT_FIELDS | {"sha", "authored_at"}))
objects = st.dictionaries(field_names | st.text(max_size=8), values, max_size=8)
commits = st.lists(st.dictionaries(st.sampled_from(["sha", "authored_at"]), values), max_size=3)


@pytest.fixture(scope="module")
def deps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deps]:
    path: Path = tmp_path_factory.mktemp("fuzz") / "shipshape.db"
    store = Store(str(path))
    store.migrate()
    yield Deps(Config(db_path=str(path), api_tokens=(TOKEN,)), store, FixedClock(NOW))
    store.close()


def call(deps: Deps, method: str, path: str, body: bytes, query: str = "") -> int:
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "HTTP_AUTHORIZATION": f"Bearer {TOKEN}",
    }
    statuses: list[str] = []
    answer = b"".join(Api(deps)(environ, lambda status, headers: statuses.append(status)))
    status = int(statuses[0].split()[0])
    assert status < 500, answer
    if status == 400:
        assert set(json.loads(answer)) == {"error", "field"}, answer
    return status


def counts(deps: Deps) -> list[int]:
    return [deps.store.db[table].count for table in TABLES]


def assert_refused_or_recorded(deps: Deps, path: str, payload: Any) -> None:
    before = counts(deps)
    status = call(deps, "POST", path, json.dumps(payload).encode())
    if status >= 400:
        assert counts(deps) == before, payload
    else:
        assert status in (200, 201)


FUZZ = settings(max_examples=300, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip


@FUZZ
@given(payload=values | objects)
@example(payload={"service": "checkout", "deployed_at": "0001-01-01T00:00:00+05:00"})
@example(payload={"service": "checkout", "rollback_of": 2**63})
@example(payload={"service": "checkout", "url": "http://[::1"})
def test_random_deploys_are_refused_or_recorded(deps: Deps, payload: Any) -> None:
    assert_refused_or_recorded(deps, "/api/deploys", payload)


@FUZZ
@given(payload=objects, commit_list=commits)
def test_random_commits_are_refused_or_recorded(
    deps: Deps, payload: dict[str, Any], commit_list: list[Any]
) -> None:
    body = {"service": "checkout", "repo": "acme/checkout", "sha": "a" * 40, **payload,
            "commits": commit_list}  # fmt: skip
    assert_refused_or_recorded(deps, "/api/deploys", body)


@FUZZ
@given(payload=values | objects)
@example(payload={"service": "checkout", "title": "x", "severity": 2**64})
def test_random_incidents_are_refused_or_recorded(deps: Deps, payload: Any) -> None:
    assert_refused_or_recorded(deps, "/api/incidents", payload)


WRONG_TYPES = {
    "service": 1, "environment": 1, "version": 1, "status": 1, "deployed_at": 1, "sha": 1,
    "repo": 1, "url": 1, "hotfix": "yes", "rollback_of": "1", "commits": {}, "key": 1,
}  # fmt: skip


@pytest.mark.parametrize("field", sorted(DEPLOY_FIELDS))
def test_a_wrong_type_in_a_valid_deploy_is_a_400(deps: Deps, field: str) -> None:
    """Each field refuses a JSON type it does not take, and stores nothing."""
    before = counts(deps)
    body = {"service": "checkout", field: WRONG_TYPES[field]}
    assert call(deps, "POST", "/api/deploys", json.dumps(body).encode()) == 400
    assert counts(deps) == before


@FUZZ
@given(query=st.text(max_size=60))
def test_random_report_queries_are_answered_or_refused(deps: Deps, query: str) -> None:
    assert call(deps, "GET", "/api/report", b"", query) in (200, 400)


@FUZZ
@given(body=st.binary(max_size=200))
def test_random_bytes_are_a_400(deps: Deps, body: bytes) -> None:
    before = counts(deps)
    status = call(deps, "POST", "/api/incidents", body)
    assert status in (200, 201, 400)
    if status == 400:
        assert counts(deps) == before
