"""A repository's history through the GitHub REST API (PyGithub), as plain listings
(bot/sources/github/listing.py): the path a sync takes where GraphQL is unavailable.

Pages of 100, newest first. Each deployment's latest status is one request of its own
(GitHub lists a deployment's statuses newest first: the first is the latest), which is why
GraphQL, which reads it with the page, is preferred (bot/sources/github/graphql.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from github import GithubException, UnknownObjectException
from github.Deployment import Deployment as GithubDeployment
from github.Repository import Repository

from bot.sources.github import listing
from bot.sources.github.listing import instant


def _latest(deployment: GithubDeployment) -> listing.Status | None:
    try:
        status = next(iter(deployment.get_statuses()), None)
    except UnknownObjectException:
        return None  # deleted since it was listed
    if status is None:
        return None
    return listing.Status(
        id=status.id,
        state=status.state,
        at=instant(status.created_at),
        environment=status.environment,
        url=listing.first_url(status.target_url, status.log_url, status.environment_url),
    )


def deployments(repository: Repository) -> Iterator[listing.Deployment]:
    for deployment in repository.get_deployments():
        yield listing.Deployment(
            id=deployment.id,
            created=instant(deployment.created_at),
            environment=deployment.environment,
            sha=deployment.sha,
            ref=deployment.ref,
            latest=lambda deployment=deployment: _latest(deployment),  # type: ignore[misc]
        )


def merged_pulls(repository: Repository) -> Iterator[listing.Pull]:
    """Closed pull requests, most recently updated first (the unmerged ones included:
    REST cannot ask for merged ones only)."""
    for pull in repository.get_pulls(state="closed", sort="updated", direction="desc"):
        yield listing.Pull(
            number=pull.number,
            updated=instant(pull.updated_at),
            merged=instant(pull.merged_at) if pull.merged_at is not None else None,
            merge_sha=pull.merge_commit_sha,
        )


def commits(repository: Repository, branch: str, since: datetime) -> Iterator[listing.Commit]:
    """The branch's commits committed since `since`, newest first."""
    try:
        for commit in repository.get_commits(sha=branch, since=since):
            authored = commit.commit.author.date
            yield listing.Commit(commit.sha, instant(authored) if authored is not None else None)
    except GithubException as error:
        if error.status != 409:  # 409: the repository is empty, no commits at all
            raise


def commit(repository: Repository, sha: str) -> listing.Commit:
    found = repository.get_commit(sha).commit.author.date
    return listing.Commit(sha, instant(found) if found is not None else None)
