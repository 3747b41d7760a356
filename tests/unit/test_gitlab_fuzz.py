"""The GitLab webhook against random payloads: real GitLab bodies with any field replaced by
any JSON value or removed, and JSON of any shape. Every answer is a 400 naming a field, a
202, or a 200 for a delivery that is valid; never a 5xx; and a refused delivery stores
nothing."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.config import Config
from bot.core.clock import FixedClock
from bot.deps import Deps
from bot.sources.gitlab.webhook import HANDLERS, GitLabWebhook
from storage.db import Store

PAYLOADS = Path(__file__).parent.parent / "fakes" / "gitlab_payloads"
SECRET = "fuzz-secret"
REAL = {
    "Deployment Hook": ["zulip_deployment_hook__succeeded", "go-gitlab_testdata_deployment"],
    "Push Hook": ["go-gitlab_testdata_push"],
    "Merge Request Hook": ["zulip_merge_request_merged"],
    "Issue Hook": ["zulip_issue_hook__incident_created", "zulip_issue_hook__incident_closed"],
}
# One database for every example: each checks what its own delivery changed.
SHARED_DATABASE = [HealthCheck.function_scoped_fixture]
TABLES = ("deploys", "changes", "incidents", "source_deliveries")

_text = st.text(max_size=12)
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=10,
)
_times = st.sampled_from(
    ["2025-05-02 11:55:16 +0000", "0001-01-01T00:00:00+01:00", "9999-12-31 23:59:59 -2359",
     "2026-13-01T00:00:00Z", "2016-08-22 20:41:06 UTC", "2026-11-20T10:00:00"]
)  # fmt: skip


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield (*prefix, key)
            yield from _paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for n, inner in enumerate(value):
            yield (*prefix, n)
            yield from _paths(inner, (*prefix, n))


def _load(name: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads((PAYLOADS / f"{name}.json").read_text())
    return found


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    event = draw(st.sampled_from(sorted(REAL)))
    payload = _load(draw(st.sampled_from(REAL[event])))
    paths = sorted(_paths(payload), key=repr)
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(paths))
        parent: Any = payload
        try:
            for step in path[:-1]:
                parent = parent[step]
            if draw(st.booleans()) and isinstance(parent, dict):
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = draw(_json | _times)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed or replaced the way there
    return event, payload


@pytest.fixture(scope="module")
def hook(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[GitLabWebhook, Store]]:
    store = Store(str(tmp_path_factory.mktemp("fuzz") / "shipshape.db"))
    store.migrate()
    config = Config(gitlab_webhook_secret=SECRET, db_path=store.path)
    deps = Deps(config=config, store=store, clock=FixedClock("2026-11-24T12:00:00Z"))
    with ThreadPoolExecutor(1) as executor:
        yield GitLabWebhook(deps, executor), store
    store.close()


def _counts(store: Store) -> dict[str, int]:
    return {t: store.query(f"SELECT count(*) FROM {t}")[0][0] for t in TABLES}


def _call(webhook: GitLabWebhook, event: str, body: bytes, delivery: str) -> tuple[int, Any]:
    environ = {
        "REQUEST_METHOD": "POST",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "HTTP_X_GITLAB_EVENT": event,
        "HTTP_X_GITLAB_TOKEN": SECRET,
        "HTTP_X_GITLAB_EVENT_UUID": delivery,
    }
    status: list[str] = []
    answer = b"".join(webhook(environ, lambda line, headers: status.append(line)))
    return int(status[0].split()[0]), json.loads(answer)


_seen = iter(range(10**9))


def _check(hook: tuple[GitLabWebhook, Store], event: str, payload: Any) -> None:
    webhook, store = hook
    before = _counts(store)
    code, answer = _call(webhook, event, json.dumps(payload).encode(), f"d-{next(_seen)}")
    assert code in (200, 202, 400), answer
    if code == 400:
        assert answer["error"]
    if code != 200:
        assert _counts(store) == before


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(mutated())
def test_real_payloads_with_random_fields_never_fail(
    hook: tuple[GitLabWebhook, Store], delivery: tuple[str, dict[str, Any]]
) -> None:
    _check(hook, *delivery)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.sampled_from([*HANDLERS, "Pipeline Hook", ""]), _json)
def test_json_of_any_shape_never_fails(
    hook: tuple[GitLabWebhook, Store], event: str, payload: Any
) -> None:
    _check(hook, event, payload)
