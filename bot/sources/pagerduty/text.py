"""PagerDuty's words: the answers to webhook deliveries, and `shipshape pagerduty service|services`."""

from __future__ import annotations

# ---- PagerDuty webhook ----------------------------------------------------------------------
# Bodies of POST /pagerduty/webhook answers: PagerDuty keeps them with the subscription's
# delivery attempts, where the person setting it up reads them.
PAGERDUTY_WEBHOOK_NO_SECRET = (
    "PAGERDUTY_WEBHOOK_SECRET is not set, so PagerDuty deliveries cannot be verified and none "
    "are accepted. In PagerDuty, Integrations > Generic Webhooks (v3) > New Webhook shows the "
    "subscription's signing secret once, when it is created: set PAGERDUTY_WEBHOOK_SECRET to "
    "it and restart `shipshape serve`."
)
PAGERDUTY_WEBHOOK_POST_ONLY = "POST only: PagerDuty sends webhook deliveries as POST requests."
PAGERDUTY_WEBHOOK_BAD_SIGNATURE = (
    "X-PagerDuty-Signature is missing or none of its v1= signatures matches this body. Check "
    "that PAGERDUTY_WEBHOOK_SECRET is the signing secret PagerDuty showed when the webhook "
    "subscription was created."
)
PAGERDUTY_WEBHOOK_BUSY = (
    "The database is busy right now, so nothing of this delivery was stored; PagerDuty retries it."
)
PAGERDUTY_WEBHOOK_FAILED = (
    "The delivery could not be stored and nothing of it was kept; PagerDuty retries it, and "
    "it is recorded once the problem in Shipshape's log is fixed."
)
SENDER = "PagerDuty webhook (v3) payload"


def pagerduty_webhook_too_large(limit: int) -> str:
    return (
        f"The body is over {limit:,} bytes, more than any PagerDuty incident event, so it was "
        "not read and nothing was stored."
    )


def pagerduty_webhook_bad_field(path: str, expected: str) -> str:
    return (
        f"The payload has no usable {path} (expected {expected}), so nothing was stored. "
        'A PagerDuty V3 event looks like {"event": {"id": "01BZ...", "event_type": '
        '"incident.triggered", "occurred_at": "2026-11-20T10:00:00Z", "data": {"id": '
        '"PGR0VU2", "title": "...", "service": {"id": "PF9KMXH", "summary": "Checkout API"}}}}.'
    )


def pagerduty_webhook_ignored(what: str) -> str:
    return f"{what}: not something Shipshape records, ignored."


def pagerduty_webhook_not_opened(incident: str, event_type: str) -> str:
    return (
        f"{event_type} for PagerDuty incident {incident}, which was never triggered here and "
        "carries no data.created_at: without its start its recovery time is unknown, so "
        "nothing was stored."
    )


# ---- shipshape pagerduty service|services ---------------------------------------------------
PAGERDUTY_SERVICE_EXAMPLE = (
    "shipshape pagerduty service PF9KMXH service=checkout channel=C0123456789"
)
PAGERDUTY_NO_SERVICES = (
    "No PagerDuty services are mapped: each incident counts for its PagerDuty service's name "
    f"(Checkout API is checkout-api) and is posted nowhere. Map one: {PAGERDUTY_SERVICE_EXAMPLE}"
)


def pagerduty_unknown_key(word: str) -> str:
    return (
        f"{word!r} is not a setting: use service=NAME, channel=C… (a channel id) or "
        f"channel=none, e.g. {PAGERDUTY_SERVICE_EXAMPLE}"
    )


def pagerduty_bad_service(problem: str) -> str:
    return f"{problem} e.g. {PAGERDUTY_SERVICE_EXAMPLE}"


def pagerduty_bad_channel(value: str) -> str:
    return (
        f"{value!r} is not a Slack channel. Give its id (in Slack, the channel's name > About, "
        "at the bottom: C followed by letters and digits), its #name (looked up with "
        f"SLACK_BOT_TOKEN), or channel=none; e.g. {PAGERDUTY_SERVICE_EXAMPLE}"
    )


def pagerduty_bad_key(value: str) -> str:
    return (
        f"{value!r} is not a PagerDuty service name or id: give the name as PagerDuty shows "
        f"it, or its id (the P... in the service's URL), e.g. {PAGERDUTY_SERVICE_EXAMPLE}"
    )


def pagerduty_settings_line(key: str, service: str | None, channel: str | None) -> str:
    counted = service or "the PagerDuty service's name in lower case (default)"
    where = channel or "none: its incidents are not posted (default)"
    return f"{key}\n  service:  {counted}\n  channel:  {where}"
