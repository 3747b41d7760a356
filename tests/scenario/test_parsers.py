"""Random command text through the app: an answer or a refusal, never a crash, and a
refusal stores nothing (the parsers themselves: tests/unit/test_parsers.py)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.app import text as messages
from bot.core.errors import UsageError
from commands import deploy, incident
from tests.conftest import Bot
from tests.unit.test_parsers import MOMENT, TEXTS, Parser


def _counts(db_path: Path) -> tuple[int, int]:
    conn = sqlite3.connect(db_path)
    try:
        deploys = conn.execute("SELECT count(*) FROM deploys").fetchone()[0]
        incidents = conn.execute("SELECT count(*) FROM incidents").fetchone()[0]
        return deploys, incidents
    finally:
        conn.close()


def _expects_refusal(parse: Parser, text: str, tz: str) -> bool:
    """Whether the parser itself refuses the text (then the reply must be a warning)."""
    try:
        parse(text, tz, MOMENT)
    except UsageError:
        return True
    except Exception:
        return False  # a parser crash; the property tests above report it
    return False


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,  # the same texts on every run; the 600-example tests explore more
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(command=st.sampled_from(["/deploy", "/incident"]), text=TEXTS)
@example(command="/deploy", text="list ²")
@example(command="/deploy", text="--hotfix")
@example(command="/deploy", text="api sha=zzz")
@example(command="/incident", text="open api Checkout down sev=9")
@example(command="/deploy", text="api --rollback=999")
@example(command="/incident", text="resolve 999")
def test_server_answers_random_text_and_a_refusal_stores_nothing(
    bot: Bot, command: str, text: str
) -> None:
    if not text.strip():
        return  # an empty command opens a modal; covered by the command tests
    parse = deploy.parse if command == "/deploy" else incident.parse
    before = _counts(bot.db_path)
    reply = bot.command(command, text)
    assert reply.status == 200, (text, reply)
    assert messages.INTERNAL_ERROR not in reply.body, f"{command} {text!r} crashed the listener"
    if _expects_refusal(parse, text, bot.server.deps.tz):
        assert reply.text.startswith(":warning:"), (text, reply.body)
    if reply.text.startswith(":warning:"):
        assert _counts(bot.db_path) == before, f"{command} {text!r} was refused but stored"
