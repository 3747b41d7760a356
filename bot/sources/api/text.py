"""What the HTTP API says: every refusal names what was wrong and how to fix it."""

from __future__ import annotations

from bot.core.errors import Conflict, DomainError, Invalid, NotFound, Reason

SENDER = "HTTP API request"
EXAMPLE_DEPLOY = '{"service": "checkout", "version": "v1.2.3", "key": "ci-run-4711"}'

NO_TOKENS = (
    "The HTTP API is off: SHIPSHAPE_API_TOKENS is not set. Set it to one or more long random "
    "tokens, comma-separated, and send one as `Authorization: Bearer TOKEN`."
)
BAD_TOKEN = (
    "Missing or unknown bearer token. Send `Authorization: Bearer TOKEN` with one of the "
    "tokens in SHIPSHAPE_API_TOKENS."
)
BUSY = "The database is busy; nothing was stored. Send the same request again in a minute."
FAILED = "Recording failed; nothing was stored. Send the same request again once it is fixed."
NOT_FOUND = "No such API route. Use POST /api/deploys, POST /api/incidents or GET /api/report."
NOT_JSON = "Send a JSON object with `Content-Type: application/json`, e.g. " + EXAMPLE_DEPLOY


def method_not_allowed(allowed: str) -> str:
    return f"This route answers {allowed} only."


def too_large(limit: int) -> str:
    return f"The body is over {limit:,} bytes, the most this API reads; send less in one call."


def bad_field(path: str, found: str, expected: str) -> str:
    return f"{path} is {found}; send {expected}."


def found_value(value: object) -> str:
    """How a refused value is named: missing, or its JSON type and a short form of it."""
    if value is None:
        return "missing"
    kind = {bool: "a boolean", int: "a number", float: "a number", str: "the text"}.get(type(value))
    if kind is None:
        return "a list" if isinstance(value, list) else "an object"
    shown = repr(value) if isinstance(value, str) else str(value).lower()
    return f"{kind} {shown[:60]}{'...' if len(shown) > 60 else ''}"


ROLLBACK_REASONS = {
    Reason.OTHER_SERVICE: "is a deploy of another service; a rollback undoes its own service",
    Reason.OTHER_ENVIRONMENT: "went to another environment; roll back a deploy of this one",
    Reason.FAILED_ATTEMPT: "failed and never reached production; name a successful deploy",
    Reason.FINISHED_LATER: "finished after this deploy; a rollback undoes an earlier one",
    Reason.NO_PREVIOUS_DEPLOY: "has no earlier successful deploy to roll back",
    Reason.RESOLVED_BEFORE_START: "is before the incident started; send a later time",
    Reason.ALREADY_RESOLVED: "is resolved already",
}


def domain_refusal(error: DomainError) -> str:
    """The words for a refusal of bot.recording."""
    if isinstance(error, NotFound):
        return f"There is no {error.kind} #{error.id}; send the id of a recorded {error.kind}."
    reason = error.reason if isinstance(error, Invalid | Conflict) else None
    because = ROLLBACK_REASONS.get(reason) if reason else None
    return f"That {because or 'is refused'}." if because else f"Refused: {error}."


def unknown_key(key: str) -> str:
    return (
        f"No deploy was sent to this API with key {key!r}; send the key of an earlier "
        'deploy, e.g. {"key": "ci-run-4710"}, or its id.'
    )


def resolved_before_start(resolved: str, started: str) -> str:
    return f"resolved_at {resolved} is before started_at {started}; send a time after the start."


def needs_repo(field: str) -> str:
    return f'{field} needs "repo" and "sha" (the commits of which repository, up to which sha).'


WINDOW_REASONS = {
    "window_and_range": "Give either window or from and to, not both.",
    "range_missing": "from and to go together: give both, like from=2026-11-01&to=2026-11-30.",
    "days_out_of_range": "Use a window from 1d to 3650d.",
    "unreadable": "Use 7d, 30d, 90d, any Nd, 'this week', 'last month', 'this quarter', ...",
    "end_before_start": "to must be after from: the window must end after it starts.",
    "out_of_range": "Give dates from 2000-01-01 to 2099-12-31, like from=2026-11-01.",
}


def bad_window(reason: str, found: str) -> str:
    fix = WINDOW_REASONS.get(
        reason, "Use dates like from=2026-11-01&to=2026-11-30 or times like 2026-11-01T09:00Z."
    )
    return f"I can't report the window {found!r}. {fix}"


def unknown_parameter(name: str, known: tuple[str, ...]) -> str:
    return f"{name} is not a parameter of the report; use {', '.join(known)}."


def repeated_parameter(name: str) -> str:
    return f"{name} is given more than once; give it once."


SERVICE_AND_TEAM = "Give service or team, not both: /api/report?team=payments."
EXPECT_TEAM = 'a team name: letters, digits, ".", "_", "/" or "-", up to 80, e.g. "payments"'


CAUSE_AND_DEPLOY = 'Send deploy_id or "cause": "none", not both.'


def unknown_field(key: str, known: str) -> str:
    return f"{key} is not a field of this call; send only {known}."
