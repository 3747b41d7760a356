"""GitHub's words: the answers to webhook deliveries, and `shipshape github sync|repo|repos`
with the schedule's log lines."""

from __future__ import annotations

from bot.core.wording import plural

# ---- GitHub webhook -------------------------------------------------------------------------
# Bodies of POST /github/webhook answers: GitHub shows them under the webhook's
# Settings > Webhooks > Recent Deliveries, where the person setting it up reads them.
GITHUB_WEBHOOK_BUSY = (
    "The database is busy right now, so nothing of this delivery was stored; redeliver it "
    "from GitHub in a minute."
)
GITHUB_WEBHOOK_NO_SECRET = (
    "GITHUB_WEBHOOK_SECRET is not set, so GitHub deliveries cannot be verified and none are "
    "accepted. Choose a long random secret, enter it as the Secret in the repository's or "
    "organisation's Settings > Webhooks > your webhook, set GITHUB_WEBHOOK_SECRET to the same "
    "value, and restart `shipshape serve`."
)
GITHUB_WEBHOOK_POST_ONLY = "POST only: GitHub sends webhook deliveries as POST requests."
GITHUB_WEBHOOK_BAD_SIGNATURE = (
    "X-Hub-Signature-256 is missing or does not match this body. Check that the webhook's "
    "Secret in GitHub is the same as GITHUB_WEBHOOK_SECRET."
)
GITHUB_WEBHOOK_PONG = "pong: the webhook reaches Shipshape and its signature checks out."
GITHUB_WEBHOOK_NO_PAYLOAD_FIELD = (
    "A form-encoded delivery needs a payload field. Set the webhook's Content type to "
    "application/json, or send the JSON in a field named payload."
)
GITHUB_WEBHOOK_FAILED = (
    "The delivery could not be stored and nothing of it was kept; "
    "redeliver it from GitHub once the problem in Shipshape's log is fixed."
)


def github_webhook_missing_header(name: str) -> str:
    return f"The {name} header is missing; GitHub sends it with every webhook delivery."


def github_webhook_bad_field(path: str, expected: str) -> str:
    return f"The payload has no usable {path} (expected {expected}), so nothing was stored."


def github_webhook_ignored(what: str) -> str:
    return f"{what}: not something Shipshape records, ignored."


# ---- GitHub sync and settings ---------------------------------------------------------------
# `shipshape github sync|repo|repos` in the terminal, and the schedule's log lines.
GITHUB_TOKEN_PAGE = "https://github.com/settings/personal-access-tokens"
GITHUB_NOT_CONFIGURED = (
    "GITHUB_TOKEN is not set, and neither are the GitHub App settings, so Shipshape makes no "
    f"GitHub API calls. Create a fine-grained token at {GITHUB_TOKEN_PAGE} with read access "
    "to the repository's Contents, Deployments, Metadata and Pull requests, and set "
    "GITHUB_TOKEN to it (or set GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY and "
    "GITHUB_APP_INSTALLATION_ID)."
)
GITHUB_REPO_EXAMPLE = "shipshape github repo acme/api service=api-gateway sync=on"
GITHUB_SYNC_PHASES = {
    "deployments": "Deployments   ",
    "pulls": "Pull requests ",
    "commits": "Commits       ",
    "linking": "Deploy commits",  # of deploys outside the default branch, by comparison
}
GITHUB_NO_REPOS = f"No repositories configured yet. Add one with:\n  {GITHUB_REPO_EXAMPLE}"
GITHUB_SYNC_INTERRUPTED = (
    "Stopped. What was read so far is stored; run the same command again to go on."
)


def github_bad_repo(value: str) -> str:
    return (
        f"{value!r} is not a GitHub repository. Write it as OWNER/NAME, "
        "like: shipshape github sync acme/api"
    )


def github_bad_since(value: str, tz: str) -> str:
    return (
        f"I can't read --since {value} as a date. Use a day like --since 2026-09-01 "
        f"(midnight in {tz}), a time like --since 2026-09-01T09:00Z, or --since '30d ago'; "
        "not in the future."
    )


def github_bad_credentials(api_url: str) -> str:
    return (
        f"{api_url} refused the credentials (401 Bad credentials). Check that GITHUB_TOKEN is "
        f"a current token (create one at {GITHUB_TOKEN_PAGE}), or that the GitHub App "
        "settings belong to an installed app."
    )


def github_repo_not_found(repo: str, api_url: str) -> str:
    return (
        f"{repo} was not found at {api_url} (404). Check the spelling (OWNER/NAME), and that "
        "the token or GitHub App may read this repository: a private repository it cannot "
        "see is reported as not found."
    )


def github_refused(repo: str, status: int, detail: str) -> str:
    return (
        f"GitHub answered {status} while reading {repo}: {detail[:200]}. Check the token's "
        "permissions (read access to Contents, Deployments, Metadata and Pull requests)."
    )


def github_unreachable(api_url: str, error: str) -> str:
    return (
        f"Cannot reach the GitHub API at {api_url} ({error[:200]}). Check the network, and "
        "GITHUB_API_URL for GitHub Enterprise Server (like https://github.example.com/api/v3)."
    )


def github_rate_limited(repo: str, reset_at: str | None) -> str:
    """`reset_at` as the team reads it (bot.core.moments.show)."""
    when = f"resets at {reset_at}" if reset_at else "resets within the hour"
    return (
        f"GitHub's API rate limit is used up while syncing {repo}; it {when}. Everything read "
        "so far is stored: run the sync again after that and it continues where it stopped."
    )


def github_sync_summary(
    repo: str,
    deployments: int,
    statuses: int,
    pulls: int,
    commits: int,
    rest: int,
    graphql: int,
    points: int,
    remaining: int | None,
) -> str:
    return (
        f"{repo}: {deployments} deployments, {statuses} statuses read, {pulls} merged pull "
        f"requests, {commits} new commits; {github_sync_budget(rest, graphql, points, remaining)}."
    )


def github_sync_budget(rest: int, graphql: int, points: int, remaining: int | None) -> str:
    """The API budget a sync used: calls of each kind, and GraphQL's rate-limit points."""
    left = f", {remaining} left" if remaining is not None else ""
    return (
        f"{plural(rest + graphql, 'API call')} ({rest} REST, {graphql} GraphQL), "
        f"{plural(points, 'GraphQL point')}{left}"
    )


def github_dry_run(
    repo: str,
    since: str,
    deployments: int,
    pulls: int,
    commits: int,
    graphql_calls: int,
    rest_calls: int,
) -> str:
    """`since` as the team reads it (bot.core.moments.show)."""
    return (
        f"A first import of {repo} from {since} reads about {deployments:,} deployments, "
        f"{pulls:,} merged pull requests and {commits:,} commits: about {graphql_calls:,} API "
        f"calls through GraphQL (REST alone would take about {rest_calls:,}), plus one REST "
        "call for the commit of the deployment just before the range, if there is one, and "
        "one per deploy of a commit outside the default branch. Nothing was stored."
    )


def github_dry_run_needs_graphql(api_url: str, answer: str) -> str:
    return (
        f"GraphQL is not available at {api_url} ({answer[:200]}), so a sync reads the REST "
        "API: one call per deployment besides its pages of 100, which cannot be counted "
        "without making them. Run the sync without --dry-run."
    )


def github_sync_range(repo: str, since: str) -> str:
    return f"Syncing {repo} from {since}."


def github_settings_lines(
    repo: str,
    service: str,
    service_is_default: bool,
    label: str,
    label_is_default: bool,
    deploy_on: str,
    sync: bool,
    synced_at: str | None,
) -> str:
    """`synced_at` as the team reads it (bot.core.moments.show)."""
    counted = {
        "deployments": "deployments (deployment_status events and the sync)",
        "release": "releases published",
    }.get(deploy_on, f"runs of the workflow {deploy_on.removeprefix('workflow:')!r}")
    return "\n".join(
        [
            repo,
            f"  service         {service}"
            + (" (the repository's name)" if service_is_default else ""),
            f"  incident-label  {label}" + (" (the default)" if label_is_default else ""),
            f"  deploy-on       {deploy_on}: {counted} count as deploys",
            f"  sync            {'on' if sync else 'off'}"
            + (" (on the schedule of shipshape serve)" if sync else ""),
            f"  synced up to    {synced_at or 'never synced'}",
        ]
    )


def github_repo_bad_setting(problem: str) -> str:
    return f"{problem} For example: {GITHUB_REPO_EXAMPLE}"


def github_repo_unknown_key(word: str) -> str:
    return github_repo_bad_setting(
        f"{word!r} is not a setting. Settings are service=NAME, incident-label=LABEL, "
        "deploy-on=deployments|release|workflow:NAME and sync=on|off."
    )


def github_repo_bad_label(value: str, limit: int) -> str:
    return github_repo_bad_setting(
        f"incident-label={value!r} must be a GitHub label name of 1 to {limit} characters."
    )


def github_repo_bad_deploy_on(value: str) -> str:
    return github_repo_bad_setting(
        f"deploy-on={value!r} is not one of deployments, release or workflow:NAME (NAME is "
        "the workflow's name as GitHub shows it, like workflow:Deploy)."
    )


def github_repo_bad_sync(value: str) -> str:
    return github_repo_bad_setting(f"sync={value!r} must be on or off.")
