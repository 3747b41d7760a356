"""WSGI and JSON helpers shared by the HTTP routes and the sources that arrive over HTTP:
reading a body, reading a JSON object from it with its depth checked, answering in JSON."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from typing import Any

from bot.core import wording

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
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


def read_body(environ: dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
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
