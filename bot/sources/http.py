"""WSGI and JSON helpers shared by the HTTP routes and the sources that arrive over HTTP:
reading a body, reading a JSON object from it with its depth checked, answering in JSON."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlite_utils

from bot.core import wording
from bot.sources.fields import BadPayload
from storage.db import Busy, Store

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
T = TypeVar("T")
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


# Slack payloads nest about a dozen levels (rich text in blocks), GitHub's fewer. Checked
# before parsing: Python's parser would raise RecursionError near 1,000 levels, and a body
# that deep makes every later walk over it a risk.
MAX_JSON_DEPTH = 100
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_JSON_BRACKET = re.compile(r"[\[\]{}]")


class BadJson(ValueError):
    """A body or field that is not the JSON object expected; the message says why."""


def _depth(text: str) -> int:
    deepest = depth = 0
    for bracket in _JSON_BRACKET.findall(_JSON_STRING.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def json_object(text: str | bytes, where: str, sender: str) -> dict[str, Any]:
    """The JSON object in `text`; raises BadJson naming `where` and what `sender` sends
    when it is not one."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise BadJson(wording.not_json_object(where, sender)) from None
    if _depth(text) > MAX_JSON_DEPTH:
        raise BadJson(wording.json_too_deep(where, MAX_JSON_DEPTH))
    try:
        found = json.loads(text)
    except ValueError:
        raise BadJson(wording.not_json_object(where, sender)) from None
    if not isinstance(found, dict):
        raise BadJson(wording.not_json_object(where, sender))
    return found


def content_length(environ: dict[str, Any]) -> int:
    """The body's declared length (0 when absent or not a number)."""
    try:
        return max(int(environ.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


def read_body(environ: dict[str, Any]) -> bytes:
    length = content_length(environ)
    return environ["wsgi.input"].read(length) if length > 0 else b""


def respond(
    start_response: StartResponse,
    status: str,
    payload: dict[str, Any],
    headers: list[tuple[str, str]] | None = None,
) -> list[bytes]:
    body = json.dumps(payload, default=lambda b: b.to_dict()).encode()
    start_response(
        status,
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            *(headers or []),
        ],
    )
    return [body]


def after_answer(executor: Executor, work: Callable[[], None], what: str) -> None:
    """Run `work` (posting or updating a card in Slack) on the server's executor once the
    delivery has been answered: a source's sender never waits on Slack."""

    def run() -> None:
        try:
            work()
        except Exception:
            log.exception("%s failed", what)

    try:
        executor.submit(run)
    except RuntimeError:  # the executor is shutting down with the server
        log.warning("%s: shutting down, not done", what)


# A sender waits seconds, not minutes (GitHub gives up after 10 s, PagerDuty after 5 s): a
# delivery that cannot be stored in this time is refused, nothing stored, to be sent again.
WRITE_SECONDS = 5.0
RETRY_AFTER_SECONDS = 60


class Answer(Exception):
    """A delivery answered without recording it: the status and JSON body to send."""

    def __init__(
        self, status: str, payload: dict[str, Any], headers: list[tuple[str, str]] | None = None
    ) -> None:
        super().__init__(status)
        self.status = status
        self.payload = payload
        self.headers = headers

    def respond(self, start_response: StartResponse) -> list[bytes]:
        return respond(start_response, self.status, self.payload, self.headers)


@dataclass(frozen=True)
class Words:
    """A source's words for the answers any delivery can get."""

    busy: str  # the database was held by another program: send it again in a minute
    failed: str  # an error of ours: nothing kept, send it again once it is fixed
    bad_field: Callable[[str, str], str]  # (path, what was expected) -> the 400's text
    post_only: str  # a request that is not a POST
    no_secret: str  # the source's secret is unset: which variable to set


def opening(environ: dict[str, Any], secret: str | None, words: Words) -> Answer | None:
    """What every source answers before looking at a delivery: 405 to anything but a POST,
    503 naming the variable while the source's secret is unset."""
    if environ.get("REQUEST_METHOD") != "POST":
        return Answer("405 Method Not Allowed", {"error": words.post_only})
    if not secret:
        return Answer("503 Service Unavailable", {"error": words.no_secret})
    return None


def write_once(
    store: Store,
    name: str,
    claim: Callable[[sqlite_utils.Database], bool],
    work: Callable[[sqlite_utils.Database], T],
    words: Words,
    *,
    wait: float = WRITE_SECONDS,
    keep: tuple[type[Exception], ...] = (),
) -> T:
    """A delivery's `claim` of its id and its `work` in one write transaction, or an Answer
    with nothing stored: 200 `{"duplicate": true}` when the id was claimed before (a
    redelivery changes nothing), 400 naming the field a mapping could not read, 503 with
    Retry-After when the database stays busy past `wait`, 500 for an error of ours. `keep`:
    exceptions the caller answers itself (also with nothing stored). `name` is for the log."""
    try:
        with store.write(wait=wait) as db:
            if claim(db):
                return work(db)
    except keep:
        raise
    except BadPayload as error:
        text = words.bad_field(error.path, error.expected)
        log.warning("%s: refused, %s", name, text)
        raise Answer("400 Bad Request", {"error": text, "field": error.path}) from None
    except Busy:
        log.warning("%s: the database is busy, nothing stored", name)
        raise Answer(
            "503 Service Unavailable",
            {"error": words.busy},
            [("Retry-After", str(RETRY_AFTER_SECONDS))],
        ) from None
    except Exception:
        # Rolled back with its claim: sending it again once the cause is fixed records it.
        log.exception("%s: failed, nothing stored", name)
        raise Answer("500 Internal Server Error", {"error": words.failed}) from None
    log.info("%s: redelivery, nothing changed", name)
    raise Answer("200 OK", {"duplicate": True})
