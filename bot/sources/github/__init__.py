"""GitHub as a source: webhook, payloads, API calls and sync."""
