"""README.md "Connect your pipeline": the snippets work as written. Each JSON body they send
(the shell here-documents and Argo CD's webhook template) is taken from README, its
placeholders filled as the CI system would, and sent to the HTTP API, which must accept it;
the one commit-list command they share runs on a real git history."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.core.clock import FixedClock
from tests.conftest import Bot
from tests.fakes.fake_slack import FakeSlack
from tests.scenario.conftest import running_bot

README = Path(__file__).parents[2] / "README.md"
TOKEN = "tok-pipeline"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SHA = "4f2a9c1e8d7b6a5f4e3d2c1b0a9f8e7d6c5b4a39"
SHELL = {
    "GITHUB_SHA": SHA, "VERSION": SHA[:7], "GITHUB_REPOSITORY": "acme/checkout",
    "STATUS": "success", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_RUN_ID": "4711",
    "CI_COMMIT_SHORT_SHA": SHA[:8], "CI_COMMIT_SHA": SHA, "CI_PROJECT_PATH": "acme/checkout",
    "CI_JOB_URL": "https://gitlab.com/acme/checkout/-/jobs/99", "CI_PIPELINE_ID": "88",
    "GIT_COMMIT": SHA, "BUILD_URL": "https://jenkins.example.com/job/checkout/12/",
    "JOB_NAME": "checkout", "BUILD_NUMBER": "12",
}  # fmt: skip
ARGO = {
    ".app.metadata.name": "checkout", ".app.status.sync.revision": SHA,
    ".app.status.operationState.finishedAt": "2026-11-24T11:00:00Z",
    ".context.argocdUrl": "https://argocd.example.com",
}  # fmt: skip
COMMITS = [{"sha": SHA, "authored_at": "2026-11-24T10:00:00+01:00"}]
_HEREDOC = re.compile(r"<<EOF\n(.*?)\n\s*EOF\n", re.S)
_ARGO_BODY = re.compile(r"body: \|\n(.*?)\n  trigger\.", re.S)
_SHELL_VAR = re.compile(r"\$\{COMMITS:-\[\]\}|\$\{?([A-Z_]+)\}?")
_ARGO_VAR = re.compile(r"\{\{(.*?)\}\}")
_JQ = re.compile(r"jq -R -s -c '([^']*)'")


def section() -> str:
    text = README.read_text()
    start = text.index("## Connect your pipeline")
    return text[start : text.index("\n## ", start + 1)]


def _shell_value(match: re.Match[str]) -> str:
    if match.group(1) is None:
        return json.dumps(COMMITS)
    return SHELL[match.group(1)]  # a KeyError names a placeholder this test does not know


def bodies() -> list[tuple[str, dict[str, Any]]]:
    """(route, body) for every JSON body in the section, placeholders filled."""
    text = section()
    found = []
    for heredoc in _HEREDOC.findall(text):
        body = json.loads(_SHELL_VAR.sub(_shell_value, heredoc))
        found.append(("/api/incidents" if "title" in body else "/api/deploys", body))
    for template in _ARGO_BODY.findall(text):
        filled = _ARGO_VAR.sub(lambda m: ARGO[m.group(1).strip()], template)
        found.append(("/api/deploys", json.loads(filled)))
    return found


@pytest.fixture
def api(tmp_path: Path, slack: FakeSlack, clock: FixedClock) -> Iterator[Bot]:
    with running_bot(tmp_path, slack, clock, api_tokens=(TOKEN,)) as started:
        yield started


def test_every_snippet_sends_a_body_the_api_accepts(api: Bot) -> None:
    found = bodies()
    # GitHub Actions, GitLab CI, Jenkins, Argo CD, and the incident call.
    assert len(found) == 5, found
    for route, body in found:
        reply = api.post(route, json.dumps(body), AUTH, "application/json")
        assert reply.status == 201, (body, reply.body)
        again = api.post(route, json.dumps(body), AUTH, "application/json")
        assert (again.status, again.json["id"]) == (200, reply.json["id"]), body
    shipped = {row["deploy_id"] for row in api.rows("changes")}
    assert len(api.rows("changes")) == 1 and shipped, api.rows("changes")


def test_the_snippets_share_one_commit_list_command() -> None:
    # Jenkins writes it inside a Groovy ''' string, where \\n is \n.
    filters = {f.replace("\\\\", "\\") for f in _JQ.findall(section())}
    assert len(filters) == 1, filters


@pytest.mark.skipif(not (shutil.which("git") and shutil.which("jq")), reason="needs git, jq")
def test_the_commit_list_command_gives_commits_the_api_takes(tmp_path: Path, api: Bot) -> None:
    [jq_filter] = {f.replace("\\\\", "\\") for f in _JQ.findall(section())}
    repo = tmp_path / "repo"
    repo.mkdir()

    def git(*args: str, at: str = "2026-11-24T09:00:00+01:00") -> str:
        env = {"GIT_AUTHOR_DATE": at, "GIT_COMMITTER_DATE": at, "HOME": str(tmp_path),
               "GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@example.com",
               "GIT_COMMITTER_NAME": "a", "GIT_COMMITTER_EMAIL": "a@example.com"}  # fmt: skip
        done = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True,
                              check=True, timeout=20)  # fmt: skip
        return done.stdout.strip()

    git("init", "-q")
    git("commit", "-q", "--allow-empty", "-m", "previous deploy")
    previous = git("rev-parse", "HEAD")
    git("commit", "-q", "--allow-empty", "-m", "one", at="2026-11-24T08:00:00+01:00")
    git("commit", "-q", "--allow-empty", "-m", "two", at="2026-11-24T10:30:00+01:00")
    head = git("rev-parse", "HEAD")
    log = git("log", "--reverse", "--format=%H %aI", f"{previous}..{head}")
    done = subprocess.run(["jq", "-R", "-s", "-c", jq_filter], input=log + "\n",
                          capture_output=True, text=True, check=True, timeout=20)  # fmt: skip
    commits = json.loads(done.stdout)
    assert [c["authored_at"] for c in commits] == [
        "2026-11-24T08:00:00+01:00", "2026-11-24T10:30:00+01:00",
    ]  # fmt: skip
    body = {"service": "checkout", "repo": "acme/checkout", "sha": head, "key": "run-1",
            "deployed_at": "2026-11-24T11:00:00Z", "commits": commits}  # fmt: skip
    reply = api.post("/api/deploys", json.dumps(body), AUTH, "application/json")
    assert reply.status == 201, reply.body
    report = api.get("/api/report?service=checkout", AUTH).json
    # Deployed 11:00Z; authored 07:00Z and 09:30Z: 4 h and 1.5 h, median 2.75 h.
    assert report["lead_time"]["median_seconds"] == 2.75 * 3600
