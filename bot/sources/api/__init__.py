"""The HTTP API (SPEC.md "HTTP API"): any pipeline records deploys and incidents, and reads
the report, with a bearer token. routes.py is the WSGI app, payloads.py maps JSON to
bot.recording, text.py holds its words."""
