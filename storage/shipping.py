"""Which deployment shipped which change (SPEC.md "Change lead time").

History is taken as linear: a repository's changes are numbered in the order they arrived
(push order, or compare order for commits fetched for one deployment), so "the changes up
to a sha" are the rows of that repository with an id no greater than that sha's row. A
change belongs to the first successful production deploy of its repository, by
`deployed_at` then id, whose sha is at or after it. Every function here keeps that true
incrementally, whatever order deploys and pushes arrive in, and runs inside the caller's
write transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlite_utils

from storage.records import Deploy


@dataclass(frozen=True, slots=True)
class Commit:
    sha: str  # full, lower case
    authored_at: str | None  # UTC text; None when unknown


def _marks(values: Sequence[str]) -> str:
    return ", ".join("?" for _ in values)


def ships(deploy: Deploy, production: Sequence[str]) -> bool:
    return (
        deploy.status == "success"
        and deploy.environment in production
        and deploy.repo is not None
        and deploy.sha is not None
    )


def _later_shipping(deploy: Deploy, production: Sequence[str]) -> tuple[str, tuple]:
    """SQL for the successful production deploys of the same repository after this one
    (by deployed_at, then id), and its parameters."""
    sql = f"""SELECT id FROM deploys
        WHERE repo = ? AND status = 'success' AND environment IN ({_marks(production)})
          AND (deployed_at > ? OR (deployed_at = ? AND id > ?))"""
    return sql, (deploy.repo, *production, deploy.deployed_at, deploy.deployed_at, deploy.id)


def position(db: sqlite_utils.Database, repo: str, sha: str) -> int | None:
    """The row id of a commit, by full or abbreviated sha (the earliest on a clash)."""
    row = db.conn.execute(
        """SELECT min(id) FROM changes
           WHERE repo = ? AND sha >= ? AND sha <= ? || 'g' AND substr(sha, 1, ?) = ?""",
        (repo, sha, sha, len(sha), sha),
    ).fetchone()
    return row[0] if row and row[0] is not None else None


def ship(db: sqlite_utils.Database, deploy: Deploy, production: Sequence[str]) -> int | None:
    """Link the changes this deploy shipped; returns how many, or None when its sha is not
    among the stored changes yet (the caller may fetch the commits and call again)."""
    if not ships(deploy, production):
        return 0
    assert deploy.repo is not None and deploy.sha is not None
    upto = position(db, deploy.repo, deploy.sha)
    if upto is None:
        return None
    shipped = db.conn.execute(
        "UPDATE changes SET deploy_id = ? WHERE repo = ? AND deploy_id IS NULL AND id <= ?",
        (deploy.id, deploy.repo, upto),
    ).rowcount
    # A deploy that arrives late (an older GitHub status, a back-dated /deploy) takes its
    # changes back from the later deploys that claimed them meanwhile. Those changes lie
    # above the position of any earlier deploy (each change up to it belongs to that deploy
    # or one before), so only rows from there up to `upto` are read, each checking its own
    # deploy by primary key. Listing every later deploy instead cost a sync of N deploys,
    # whose commits arrive after its deploys, N^2/2 index probes: 10,000 took a minute.
    # `+repo` keeps SQLite on the id range: by the (repo, sha) index it read the whole
    # repository's changes instead.
    floor = _floor(db, deploy, production)
    shipped += db.conn.execute(
        f"""UPDATE changes SET deploy_id = ?
            WHERE id > ? AND id <= ? AND +repo = ? AND deploy_id IS NOT NULL
              AND EXISTS (SELECT 1 FROM deploys d
                          WHERE d.id = changes.deploy_id AND d.repo = ? AND d.status = 'success'
                            AND d.environment IN ({_marks(production)})
                            AND (d.deployed_at > ? OR (d.deployed_at = ? AND d.id > ?)))""",
        (deploy.id, floor, upto, deploy.repo, deploy.repo, *production,
         deploy.deployed_at, deploy.deployed_at, deploy.id),
    ).rowcount  # fmt: skip
    return shipped


def _floor(db: sqlite_utils.Database, deploy: Deploy, production: Sequence[str]) -> int:
    """The position of an earlier deploy of the repository (0 when none is known): no
    change at or below it belongs to a deploy later than `deploy`."""
    sha = previous_shipped_sha(db, deploy, production)
    found = position(db, deploy.repo, sha) if deploy.repo and sha else None
    return found or 0


def unship(db: sqlite_utils.Database, deploy: Deploy, production: Sequence[str]) -> None:
    """Release what a deploy shipped (it is being deleted, or no longer succeeded) and
    hand it to the next deploys of its repository that ship it."""
    db.conn.execute("UPDATE changes SET deploy_id = NULL WHERE deploy_id = ?", (deploy.id,))
    if deploy.repo is None:
        return
    later, params = _later_shipping(deploy, production)
    rows = db.conn.execute(
        f"""SELECT * FROM deploys WHERE id IN ({later}) AND sha IS NOT NULL
            ORDER BY deployed_at, id""",
        params,
    )
    for row in rows:
        if not _unshipped(db, deploy.repo):
            break
        ship(db, Deploy.from_row(row), production)


def _unshipped(db: sqlite_utils.Database, repo: str) -> bool:
    return (
        db.conn.execute(
            "SELECT 1 FROM changes WHERE repo = ? AND deploy_id IS NULL LIMIT 1", (repo,)
        ).fetchone()
        is not None
    )


def _insert_commits(
    db: sqlite_utils.Database,
    repo: str,
    commits: Sequence[Commit],
    *,
    source: str,
    created_at: str,
) -> list[str]:
    """Store commits in history order, each once; merged pull requests already seen fill in
    merged_at. Returns the shas that were new."""
    new: list[str] = []
    for commit in commits:
        existing = db.conn.execute(
            "SELECT id FROM changes WHERE repo = ? AND sha = ?", (repo, commit.sha)
        ).fetchone()
        if existing is not None:
            # Seen before (an earlier push, a compare): its place in history stays.
            db.conn.execute(
                "UPDATE changes SET authored_at = coalesce(authored_at, ?) WHERE id = ?",
                (commit.authored_at, existing[0]),
            )
            continue
        merge = db.conn.execute(
            "SELECT number, merged_at FROM github_pulls WHERE repo = ? AND merge_sha = ?",
            (repo, commit.sha),
        ).fetchone()
        db.conn.execute(
            """INSERT INTO changes (repo, sha, authored_at, pr_number, merged_at, source,
                   source_key, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                repo,
                commit.sha,
                commit.authored_at,
                merge[0] if merge else None,
                merge[1] if merge else None,
                source,
                f"{repo}@{commit.sha}",
                created_at,
            ),
        )
        new.append(commit.sha)
    return new


def record_commits(
    db: sqlite_utils.Database,
    repo: str,
    commits: Sequence[Commit],
    production: Sequence[str],
    *,
    source: str,
    created_at: str,
) -> int:
    """Store pushed commits in push order; deploys of these commits that arrived first then
    ship them. Returns how many commits were new."""
    new = _insert_commits(db, repo, commits, source=source, created_at=created_at)
    for deploy in _deploys_of(db, repo, new, production):
        ship(db, deploy, production)
    return len(new)


def record_shipped(
    db: sqlite_utils.Database,
    deploy: Deploy,
    commits: Sequence[Commit],
    production: Sequence[str],
    *,
    source: str,
    created_at: str,
) -> int:
    """Store the commits GitHub's compare API says a deploy shipped and link exactly those to
    it. Not by position: they are stored after everything already known, and a deploy of
    another branch must not take the default branch's undeployed commits with it."""
    assert deploy.repo is not None
    new = _insert_commits(db, deploy.repo, commits, source=source, created_at=created_at)
    later, params = _later_shipping(deploy, production)
    for commit in commits:
        db.conn.execute(
            f"""UPDATE changes SET deploy_id = ?
                WHERE repo = ? AND sha = ? AND (deploy_id IS NULL OR deploy_id IN ({later}))""",
            (deploy.id, deploy.repo, commit.sha, *params),
        )
    return len(new)


def _deploys_of(
    db: sqlite_utils.Database, repo: str, shas: Sequence[str], production: Sequence[str]
) -> list[Deploy]:
    """Successful production deploys of any of these commits (by full or short sha), in the
    order they shipped."""
    found: dict[int, Deploy] = {}
    for sha in shas:
        for row in db.conn.execute(
            f"""SELECT * FROM deploys
                WHERE repo = ? AND sha >= ? AND sha <= ? AND substr(?, 1, length(sha)) = sha
                  AND status = 'success' AND environment IN ({_marks(production)})""",
            (repo, sha[:7], sha, sha, *production),
        ):
            deploy = Deploy.from_row(row)
            found[deploy.id] = deploy
    return sorted(found.values(), key=lambda d: (d.deployed_at, d.id))


def record_merge(
    db: sqlite_utils.Database, repo: str, number: int, merge_sha: str, merged_at: str
) -> None:
    """A merged pull request: merged_at for its merge commit, now or when its push arrives."""
    db.conn.execute(
        """INSERT INTO github_pulls (repo, number, merge_sha, merged_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (repo, number) DO UPDATE
               SET merge_sha = excluded.merge_sha, merged_at = excluded.merged_at""",
        (repo, number, merge_sha, merged_at),
    )
    db.conn.execute(
        "UPDATE changes SET pr_number = ?, merged_at = ? WHERE repo = ? AND sha = ?",
        (number, merged_at, repo, merge_sha),
    )


def previous_shipped_sha(
    db: sqlite_utils.Database, deploy: Deploy, production: Sequence[str]
) -> str | None:
    """The sha of the repository's latest successful production deploy before this one
    whose commit is stored: where the commits this deploy shipped begin."""
    row = db.conn.execute(
        f"""SELECT d.sha FROM deploys d
            WHERE d.repo = ? AND d.status = 'success' AND d.environment IN ({_marks(production)})
              AND d.sha IS NOT NULL AND d.id != ?
              AND (d.deployed_at < ? OR (d.deployed_at = ? AND d.id < ?))
              AND EXISTS (SELECT 1 FROM changes c WHERE c.repo = d.repo AND c.sha = d.sha)
            ORDER BY d.deployed_at DESC, d.id DESC LIMIT 1""",
        (deploy.repo, *production, deploy.id, deploy.deployed_at, deploy.deployed_at, deploy.id),
    ).fetchone()
    return row[0] if row else None
