"""GitLab's words: the answers to webhook deliveries (GitLab shows them under the project's
Settings > Webhooks > Edit > Recent events), `shipshape gitlab project|projects`, and the
line an incident card gets when GitLab reported it."""

from __future__ import annotations

# ---- GitLab webhook -------------------------------------------------------------------------
GITLAB_WEBHOOK_NO_SECRET = (
    "GITLAB_WEBHOOK_SECRET is not set, so GitLab deliveries cannot be verified and none are "
    "accepted. Choose a long random secret, enter it as the Secret token in the project's "
    "Settings > Webhooks, set GITLAB_WEBHOOK_SECRET to the same value, and restart "
    "`shipshape serve`."
)
GITLAB_WEBHOOK_POST_ONLY = "POST only: GitLab sends webhook deliveries as POST requests."
GITLAB_WEBHOOK_BAD_TOKEN = (
    "X-Gitlab-Token is missing or wrong. Check that the webhook's Secret token in GitLab is "
    "the same as GITLAB_WEBHOOK_SECRET."
)
GITLAB_WEBHOOK_NO_ID = (
    "Neither an Idempotency-Key nor an X-Gitlab-Event-UUID header came with this delivery; "
    "GitLab sends X-Gitlab-Event-UUID with every one, so it is not from GitLab."
)
GITLAB_WEBHOOK_BUSY = (
    "The database is busy right now, so nothing of this delivery was stored; resend it "
    "from GitLab in a minute."
)
GITLAB_WEBHOOK_FAILED = (
    "The delivery could not be stored and nothing of it was kept; "
    "resend it from GitLab once the problem in Shipshape's log is fixed."
)
SENDER = "GitLab webhook payload"


def gitlab_webhook_too_large(limit: int) -> str:
    return (
        f"The body is over {limit:,} bytes, more than any GitLab event Shipshape reads; "
        "nothing was stored."
    )


def gitlab_webhook_bad_field(path: str, expected: str) -> str:
    return (
        f"The payload has no usable {path} (expected {expected}), so nothing was stored. "
        'For example: {"object_kind": "deployment", "status": "success", '
        '"status_changed_at": "2025-05-02 11:55:16 +0000", ...}'
    )


def gitlab_webhook_ignored(what: str) -> str:
    return f"{what}: not something Shipshape records, ignored."


# ---- shipshape gitlab project|projects ------------------------------------------------------
GITLAB_PROJECT_EXAMPLE = (
    "shipshape gitlab project acme/api service=api-gateway incident-label=outage channel=C0123ABCD"
)
GITLAB_NO_PROJECTS = f"No GitLab projects configured yet. Add one with:\n  {GITLAB_PROJECT_EXAMPLE}"


def gitlab_bad_setting(problem: str) -> str:
    return f"{problem} For example: {GITLAB_PROJECT_EXAMPLE}"


def gitlab_bad_project(value: str) -> str:
    return gitlab_bad_setting(
        f"{value!r} is not a GitLab project. Write it as GitLab's path, GROUP/PROJECT "
        "(subgroups too: GROUP/SUBGROUP/PROJECT)."
    )


def gitlab_unknown_key(word: str) -> str:
    return gitlab_bad_setting(
        f"{word!r} is not a setting. Settings are service=NAME, incident-label=LABEL and "
        "channel=CHANNEL_ID."
    )


def gitlab_bad_label(value: str, limit: int) -> str:
    return gitlab_bad_setting(
        f"incident-label={value!r} must be a GitLab label name of 1 to {limit} characters."
    )


def gitlab_bad_channel(value: str) -> str:
    return gitlab_bad_setting(
        f"channel={value!r} is not a Slack channel. Give its id (like C0123ABCD: in Slack, "
        "the channel's name > About, at the bottom), its #name (looked up with "
        "SLACK_BOT_TOKEN), or channel=none."
    )


def gitlab_project_lines(
    project: str,
    service: str,
    service_is_default: bool,
    label: str,
    label_is_default: bool,
    channel: str | None,
) -> str:
    return "\n".join(
        [
            project,
            f"  service         {service}"
            + (" (the project's name)" if service_is_default else ""),
            f"  incident-label  {label}" + (" (the default)" if label_is_default else ""),
            "  channel         "
            + (f"{channel}: incidents from GitLab are posted there" if channel else "none"),
        ]
    )
