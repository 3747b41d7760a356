"""GraphQL's answers read as REST's: node ids to the database ids REST gives (the webhook
ranks statuses by them), and GraphQL's upper-case states to REST's spelling."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.sources.github import graphql
from bot.sources.github.events import FINISHED_STATES
from tests.fakes.fake_github import node_id

FUZZ = settings(max_examples=100, deadline=None, derandomize=True)


def packed(*values: int) -> str:
    """A current-form node id around a MessagePack array of the smallest encodings."""
    raw = bytearray([0x90 | len(values)])
    for value in values:
        if value <= 0x7F:
            raw.append(value)
        else:
            size = next(s for s in (1, 2, 4, 8) if value < 1 << (8 * s))
            raw.append({1: 0xCC, 2: 0xCD, 4: 0xCE, 8: 0xCF}[size])
            raw += value.to_bytes(size, "big")
    return "DES_" + base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")


def test_githubs_documented_legacy_node_id() -> None:
    # REST's example deployment status: "id": 1, "node_id": "MDE2OkRlcGxveW1lbnRTdGF0dXMx".
    assert graphql.database_id("MDE2OkRlcGxveW1lbnRTdGF0dXMx") == 1


@FUZZ
@given(status_id=st.integers(min_value=0, max_value=2**32 - 1))
def test_current_node_ids_give_the_database_id(status_id: int) -> None:
    assert graphql.database_id(node_id("DES", status_id)) == status_id


@FUZZ
@given(
    repository=st.integers(min_value=0, max_value=2**64 - 1),
    status_id=st.integers(min_value=0, max_value=2**64 - 1),
)
def test_every_integer_width_is_read(repository: int, status_id: int) -> None:
    assert graphql.database_id(packed(0, repository, status_id)) == status_id


@FUZZ
@given(status_id=st.integers(min_value=0, max_value=10**12))
def test_legacy_node_ids_give_the_database_id(status_id: int) -> None:
    legacy = base64.b64encode(f"016:DeploymentStatus{status_id}".encode()).decode()
    assert graphql.database_id(legacy) == status_id


@FUZZ
@given(text=st.text(max_size=60) | st.binary(max_size=40).map(lambda b: "DES_" + b.hex()))
def test_anything_else_is_zero_never_an_error(text: str) -> None:
    found = graphql.database_id(text)
    assert isinstance(found, int) and found >= 0


@pytest.mark.parametrize("text", ["", "DES_", "DES_kw", "bm90IGFuIGlk", "DES_!!!!", "X_kwDOAA"])
def test_malformed_ids_are_zero(text: str) -> None:
    assert graphql.database_id(text) == 0


@pytest.mark.parametrize(
    ("state", "recorded"),
    [
        ("SUCCESS", "success"),
        ("FAILURE", "failed"),
        ("ERROR", "failed"),
        ("PENDING", None),
        ("QUEUED", None),
        ("IN_PROGRESS", None),
        ("INACTIVE", None),
        ("WAITING", None),
    ],
)
def test_graphql_states_map_as_rests(state: str, recorded: str | None) -> None:
    node = {
        "databaseId": 7,
        "createdAt": "2026-11-10T11:00:00Z",
        "environment": "production",
        "commitOid": "a" * 40,
        "ref": None,
        "latestStatus": {
            "id": node_id("DES", 99),
            "state": state,
            "createdAt": "2026-11-10T12:00:00+01:00",
            "environment": "production",
            "logUrl": "https://ci.example.com/1",
            "environmentUrl": None,
        },
    }
    status = graphql.deployment(node).latest()
    assert status is not None
    assert FINISHED_STATES.get(status.state) == recorded
    assert (status.id, status.at.isoformat()) == (99, "2026-11-10T11:00:00+00:00")
