"""`/api/*`: the HTTP API's WSGI app (SPEC.md "HTTP API").

Every request is checked in this order, and nothing is stored when one check refuses: the
API is on (SHIPSHAPE_API_TOKENS set, else 503), the bearer token is one of those tokens
(compared in constant time, else 401), the body is at most MAX_BODY_BYTES (413, judged by
Content-Length before reading), the JSON is what the route takes (400 naming the field).
A write is one transaction under the store's write deadline, as the GitHub webhook's."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from bot.core.moments import utc_text
from bot.core.text import UNPRINTABLE, is_service
from bot.core.windows import BadWindow, chosen
from bot.deps import Deps
from bot.metrics.report import build as build_report
from bot.sources.api import payloads
from bot.sources.api import text as api_text
from bot.sources.api.payloads import Refused
from bot.sources.http import BadJson, StartResponse, json_object, respond
from bot.teams import rules as teams
from bot.teams import text as team_text
from storage import export
from storage.db import Busy

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1_048_576  # 1 MiB, SPEC.md
WRITE_SECONDS = 5.0  # as the GitHub webhook: a CI step waits seconds, not minutes
RETRY_AFTER_SECONDS = 60
BEARER = "bearer "
REPORT_PARAMETERS = ("service", "team", "window", "from", "to", "env")


def token_matches(tokens: Iterable[str], header: str) -> bool:
    """`Authorization: Bearer TOKEN` names one of `tokens`. Every token is compared, in
    constant time and as bytes (compare_digest refuses non-ASCII str; WSGI hands headers
    over as latin-1), so the time taken says nothing about which one nearly matched."""
    if header[: len(BEARER)].lower() != BEARER:
        return False
    given = header[len(BEARER) :].strip().encode("latin-1")
    found = False
    for token in tokens:
        found |= hmac.compare_digest(token.encode(), given)
    return found


def _length(environ: dict[str, Any]) -> int | None:
    """The body's declared length; None when it is not a number."""
    text = environ.get("CONTENT_LENGTH") or "0"
    return int(text) if text.isascii() and text.isdigit() else None


def _window_field(reason: str, end: str | None) -> str:
    """The query parameter a BadWindow reason concerns."""
    if reason in ("window_and_range", "unreadable", "days_out_of_range"):
        return "window"
    if reason == "end_before_start" or (reason == "range_missing" and end is None):
        return "to"
    return "from"


class Api:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
        tokens = self.deps.config.api_tokens
        if not tokens:
            return respond(start_response, "503 Service Unavailable", {"error": api_text.NO_TOKENS})
        if not token_matches(tokens, environ.get("HTTP_AUTHORIZATION", "")):
            log.warning("api %s %s: refused, bad or missing bearer token", method, path)
            return respond(start_response, "401 Unauthorized", {"error": api_text.BAD_TOKEN})
        routes: dict[str, tuple[str, Callable[..., list[bytes]]]] = {
            "/api/deploys": ("POST", self._deploys),
            "/api/incidents": ("POST", self._incidents),
            "/api/report": ("GET", self._report),
        }
        if path not in routes:
            return respond(start_response, "404 Not Found", {"error": api_text.NOT_FOUND})
        allowed, handler = routes[path]
        if method != allowed:
            return respond(
                start_response,
                "405 Method Not Allowed",
                {"error": api_text.method_not_allowed(allowed)},
                [("Allow", allowed)],
            )
        try:
            return handler(environ, start_response)
        except Refused as refused:
            log.warning("api %s %s: refused, %s", method, path, refused)
            return respond(
                start_response,
                "400 Bad Request",
                {"error": refused.message, "field": refused.field},
            )

    def _body(self, environ: dict[str, Any]) -> dict[str, Any] | None:
        """The JSON object sent; None when the body is over the limit (a 413). Never reads
        more than the limit, whatever the client declared."""
        length = _length(environ)
        if length is None:
            raise Refused("body", api_text.NOT_JSON)
        if length > MAX_BODY_BYTES:
            return None
        body = environ["wsgi.input"].read(length) if length else b""
        try:
            return json_object(body, "The body", api_text.SENDER)
        except BadJson as error:
            raise Refused("body", f"{error} {api_text.NOT_JSON}") from None

    def _too_large(self, start_response: StartResponse) -> list[bytes]:
        return respond(
            start_response,
            "413 Content Too Large",
            {"error": api_text.too_large(MAX_BODY_BYTES)},
        )

    def _write(
        self,
        start_response: StartResponse,
        record: Callable[..., Any],
        answer: Callable[[Any], tuple[int, str, dict[str, Any]]],
    ) -> list[bytes]:
        """Record in one transaction under the write deadline; answer 201 or 200."""
        now = utc_text(self.deps.clock.now())
        production = self.deps.config.production_environments
        try:
            with self.deps.store.write(wait=WRITE_SECONDS) as db:
                result = record(db, production, now)
                record_id, table, shown = answer(result)
                row = export.row(db, table, record_id)
        except Busy:
            log.warning("api: the database is busy, nothing stored")
            return respond(
                start_response,
                "503 Service Unavailable",
                {"error": api_text.BUSY},
                [("Retry-After", str(RETRY_AFTER_SECONDS))],
            )
        except Refused:
            raise
        except Exception:
            log.exception("api: recording failed, nothing stored")
            return respond(start_response, "500 Internal Server Error", {"error": api_text.FAILED})
        status = "201 Created" if result.created else "200 OK"
        return respond(
            start_response,
            status,
            {"id": record_id, "created": result.created, shown: row},
        )

    def _deploys(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        data = self._body(environ)
        if data is None:
            return self._too_large(start_response)
        call = payloads.deploy_call(data, self.deps.clock.now())
        return self._write(
            start_response,
            lambda db, production, now: payloads.record_deploy(db, call, production, now),
            lambda recorded: (recorded.deploy.id, "deploys", "deploy"),
        )

    def _incidents(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        data = self._body(environ)
        if data is None:
            return self._too_large(start_response)
        call = payloads.incident_call(data, self.deps.clock.now())
        return self._write(
            start_response,
            lambda db, production, now: payloads.record_incident(db, call, production, now),
            lambda opened: (opened.incident.id, "incidents", "incident"),
        )

    def _report(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        """`shipshape report --json` for the same service or team, window and environment."""
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        for name, values in query.items():
            if name not in REPORT_PARAMETERS:
                raise Refused(name, api_text.unknown_parameter(name, REPORT_PARAMETERS))
            if len(values) > 1:
                raise Refused(name, api_text.repeated_parameter(name))
        given = {name: values[0] for name, values in query.items()}
        service = given.get("service")
        if service in (None, "", "all"):
            service = None
        elif not is_service(service):
            found = repr(service)
            raise Refused("service", api_text.bad_field("service", found, payloads.EXPECT_SERVICE))
        team = given.get("team")
        if team is not None:
            if service is not None:
                raise Refused("team", api_text.SERVICE_AND_TEAM)
            if not is_service(team):
                found = repr(team)
                raise Refused("team", api_text.bad_field("team", found, api_text.EXPECT_TEAM))
        env = given.get("env")
        if env is not None:
            env = env.strip().lower()
            if not env or len(env) > payloads.MAX_ENV or UNPRINTABLE.search(env):
                found = repr(given["env"])
                raise Refused("env", api_text.bad_field("env", found, payloads.EXPECT_ENV))
        config = self.deps.config
        start, end, window = given.get("from"), given.get("to"), given.get("window")
        try:
            found = chosen(window, start, end, self.deps.clock.now(), config.timezone)
        except BadWindow as error:
            field = _window_field(str(error), end)
            shown = window if field == "window" else f"from={start} to={end}"
            raise Refused(field, api_text.bad_window(str(error), shown or "")) from None
        db = self.deps.store.db
        try:
            chosen_team = teams.find(db, team) if team is not None else None
        except teams.UnknownTeam as error:
            raise Refused("team", team_text.unknown_team(error.name, error.known)) from None
        result = build_report(
            db,
            found,
            environments=(env,) if env else config.production_environments,
            environment=env,
            service=service,
            tz=config.timezone,
            team=chosen_team,
        )
        return respond(start_response, "200 OK", result.to_json())
