"""The composition root: CLI, server, routes, Slack app and demo; nothing imports it."""
