"""Which deploy shipped which change (SPEC.md "Change lead time"), on a real SQLite file.

One repository, acme/api, commits c1..c6 pushed in that order (c1 authored first). The
expected owner of every change is worked out by hand from the rule: a change belongs to the
first successful production deploy of its repository, by deployed_at, whose sha is at or
after it in push order.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage import deploys, shipping
from storage.db import Store
from storage.records import Deploy
from storage.shipping import Commit

PRODUCTION = ("production", "prod")
REPO = "acme/api"
SHAS = {n: f"{n:x}" * 40 for n in range(1, 7)}  # c1 = "111...1", c2 = "222...2", ...


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(tmp_path / "shipping.db")
    store.migrate()
    yield store
    store.close()


def push(store: Store, *numbers: int, repo: str = REPO) -> int:
    commits = [Commit(SHAS[n], f"2026-11-0{n}T09:00:00Z") for n in numbers]
    with store.write() as db:
        return shipping.record_commits(
            db, repo, commits, PRODUCTION, source="github", created_at="2026-11-24T12:00:00Z"
        )


def deploy(
    store: Store,
    sha_of: int,
    at: str,
    *,
    status: str = "success",
    env: str = "production",
    repo: str = REPO,
    short: bool = False,
    key: str = "",
) -> Deploy:
    sha = SHAS[sha_of][:7] if short else SHAS[sha_of]
    values: dict[str, Any] = {
        "service": "api",
        "environment": env,
        "sha": sha,
        "repo": repo,
        "status": status,
        "deployed_at": at,
        "source": "slack",
        "source_key": f"{sha_of}-{at}-{env}-{status}{key}",
        "created_at": at,
    }
    with store.write() as db:
        made = deploys.insert(db, values)
        shipping.ship(db, made, PRODUCTION)
    return made


def owners(store: Store, repo: str = REPO) -> dict[int, int | None]:
    """Commit number -> id of the deploy that shipped it."""
    by_sha = {sha: n for n, sha in SHAS.items()}
    rows = store.db.conn.execute(
        "SELECT sha, deploy_id FROM changes WHERE repo = ? ORDER BY id", (repo,)
    )
    return {by_sha[sha]: deploy_id for sha, deploy_id in rows}


def test_a_deploy_ships_what_no_earlier_deploy_shipped_up_to_its_sha(store: Store) -> None:
    push(store, 1, 2, 3, 4, 5)
    first = deploy(store, 2, "2026-11-10T10:00:00Z")
    second = deploy(store, 4, "2026-11-11T10:00:00Z")
    assert owners(store) == {1: first.id, 2: first.id, 3: second.id, 4: second.id, 5: None}


def test_a_deploy_that_arrives_late_takes_back_its_changes(store: Store) -> None:
    push(store, 1, 2, 3, 4)
    later = deploy(store, 4, "2026-11-11T10:00:00Z")
    assert set(owners(store).values()) == {later.id}
    earlier = deploy(store, 2, "2026-11-10T10:00:00Z")
    assert owners(store) == {1: earlier.id, 2: earlier.id, 3: later.id, 4: later.id}


def test_a_push_after_its_deploys_links_them_in_the_order_they_shipped(store: Store) -> None:
    first = deploy(store, 2, "2026-11-10T10:00:00Z")
    second = deploy(store, 3, "2026-11-11T10:00:00Z")
    assert push(store, 1, 2, 3, 4) == 4
    assert owners(store) == {1: first.id, 2: first.id, 3: second.id, 4: None}


def test_a_short_sha_finds_its_commit(store: Store) -> None:
    push(store, 1, 2, 3)
    made = deploy(store, 2, "2026-11-10T10:00:00Z", short=True)
    assert owners(store) == {1: made.id, 2: made.id, 3: None}


def test_a_short_sha_deploy_is_found_by_a_later_push(store: Store) -> None:
    made = deploy(store, 2, "2026-11-10T10:00:00Z", short=True)
    push(store, 1, 2, 3)
    assert owners(store) == {1: made.id, 2: made.id, 3: None}


@pytest.mark.parametrize(
    ("status", "env"), [("failed", "production"), ("success", "staging")], ids=["failed", "staging"]
)
def test_only_successful_production_deploys_ship(store: Store, status: str, env: str) -> None:
    push(store, 1, 2)
    deploy(store, 2, "2026-11-10T10:00:00Z", status=status, env=env)
    assert owners(store) == {1: None, 2: None}


def test_a_rollback_to_an_older_sha_ships_nothing(store: Store) -> None:
    push(store, 1, 2, 3)
    first = deploy(store, 3, "2026-11-10T10:00:00Z")
    deploy(store, 1, "2026-11-10T11:00:00Z")  # back to c1: everything is shipped already
    assert owners(store) == {1: first.id, 2: first.id, 3: first.id}


def test_another_repository_is_untouched(store: Store) -> None:
    push(store, 1, 2)
    push(store, 1, 2, repo="acme/web")
    made = deploy(store, 2, "2026-11-10T10:00:00Z")
    assert owners(store) == {1: made.id, 2: made.id}
    assert owners(store, "acme/web") == {1: None, 2: None}


def test_unship_hands_the_changes_to_the_next_deploy(store: Store) -> None:
    push(store, 1, 2, 3, 4)
    first = deploy(store, 2, "2026-11-10T10:00:00Z")
    second = deploy(store, 3, "2026-11-11T10:00:00Z")
    third = deploy(store, 4, "2026-11-12T10:00:00Z")
    with store.write() as db:
        shipping.unship(db, first, PRODUCTION)
        deploys.delete(db, first.id)
    assert owners(store) == {1: second.id, 2: second.id, 3: second.id, 4: third.id}


def test_a_commit_pushed_twice_keeps_its_place_and_fills_a_missing_time(store: Store) -> None:
    with store.write() as db:
        shipping.record_commits(
            db, REPO, [Commit(SHAS[1], None)], PRODUCTION, source="github", created_at="x"
        )
    assert push(store, 1, 2) == 1
    rows = store.db.conn.execute("SELECT sha, authored_at FROM changes ORDER BY id").fetchall()
    assert [tuple(r) for r in rows] == [
        (SHAS[1], "2026-11-01T09:00:00Z"),
        (SHAS[2], "2026-11-02T09:00:00Z"),
    ]


@pytest.mark.parametrize("merge_first", [True, False], ids=["merge-first", "push-first"])
def test_merged_at_is_filled_whichever_arrives_first(store: Store, merge_first: bool) -> None:
    def merge() -> None:
        with store.write() as db:
            shipping.record_merge(db, REPO, 7, SHAS[2], "2026-11-02T10:00:00Z")

    if merge_first:
        merge()
    push(store, 1, 2)
    if not merge_first:
        merge()
    rows = store.db.conn.execute("SELECT sha, pr_number, merged_at FROM changes ORDER BY id")
    assert [tuple(r) for r in rows] == [
        (SHAS[1], None, None),
        (SHAS[2], 7, "2026-11-02T10:00:00Z"),
    ]


def test_previous_shipped_sha_is_the_last_stored_one_before(store: Store) -> None:
    push(store, 1, 2)
    deploy(store, 2, "2026-11-10T10:00:00Z")
    deploy(store, 1, "2026-11-10T09:00:00Z", env="staging")
    latest = deploy(store, 5, "2026-11-12T10:00:00Z")  # c5 is not stored yet
    db: sqlite_utils.Database = store.db
    assert shipping.previous_shipped_sha(db, latest, PRODUCTION) == SHAS[2]


def test_compare_results_link_exactly_the_commits_of_their_deploy(store: Store) -> None:
    # A deploy of another branch (c5, fetched with the compare API) must not take the
    # default branch's undeployed commits c2 and c3 with it.
    push(store, 1, 2, 3)
    first = deploy(store, 1, "2026-11-10T10:00:00Z")
    branch = deploy(store, 5, "2026-11-11T10:00:00Z")
    assert owners(store) == {1: first.id, 2: None, 3: None}
    with store.write() as db:
        new = shipping.record_shipped(
            db, branch, [Commit(SHAS[4], None), Commit(SHAS[5], None)], PRODUCTION,
            source="github", created_at="2026-11-24T12:00:00Z",
        )  # fmt: skip
    assert new == 2
    assert owners(store) == {1: first.id, 2: None, 3: None, 4: branch.id, 5: branch.id}


# ---- every arrival order against the rule itself ---------------------------------------------

DEPLOYS = st.lists(
    st.tuples(
        st.integers(1, 6),  # the commit deployed
        st.integers(10, 14),  # the day: ties happen, and are broken by id
        st.sampled_from(["success", "success", "failed"]),
        st.sampled_from(["production", "production", "staging"]),
        st.booleans(),  # a short sha
    ),
    max_size=6,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    deploys=DEPLOYS,
    cuts=st.sets(st.integers(2, 6)),
    slots=st.lists(st.integers(0, 6), min_size=6, max_size=6),
)
def test_every_arrival_order_gives_each_change_to_the_first_deploy_at_or_after_it(
    tmp_path_factory: pytest.TempPathFactory,
    deploys: list[tuple[int, int, str, str, bool]],
    cuts: set[int],
    slots: list[int],
) -> None:
    # c1..c6 pushed in batches, in history order, each batch arriving before the deploy at
    # its slot (or after all of them); deploys arrive in the order drawn.
    bounds = [1, *sorted(cuts), 7]
    batches = [tuple(range(a, b)) for a, b in pairwise(bounds)]
    arrivals: list[tuple[str, Any]] = [("deploy", d) for d in deploys]
    for offset, (slot, batch) in enumerate(zip(sorted(slots), batches, strict=False)):
        arrivals.insert(min(slot, len(deploys)) + offset, ("push", batch))
    store = Store(tmp_path_factory.mktemp("ship") / "shipping.db")
    store.migrate()
    try:
        made: list[tuple[Deploy, int]] = []
        for n, (kind, what) in enumerate(arrivals):
            if kind == "push":
                push(store, *what)
                continue
            sha_of, day, status, env, short = what
            at = f"2026-11-{day}T10:00:00Z"
            made.append(
                (deploy(store, sha_of, at, status=status, env=env, short=short, key=f"#{n}"),
                 sha_of)
            )  # fmt: skip
        shipping_ones = sorted(
            ((d.deployed_at, d.id, n) for d, n in made
             if d.status == "success" and d.environment in PRODUCTION),
        )  # fmt: skip
        expected = {
            n: next((i for _, i, at in shipping_ones if at >= n), None) for n in range(1, 7)
        }
        assert owners(store) == expected
    finally:
        store.close()
