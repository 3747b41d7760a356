"""Words live beside the code that renders them (ARCHITECTURE.md, "Words"): no module reads
the old bot/messages.py, every refusal of a command shows a correct example, and the weekday
names are written down once."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pendulum
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.core.errors import UsageError
from bot.core.wording import WEEKDAYS
from bot.slack.replies import usage
from commands import deploy, dora, incident, pulse
from tests.conftest import NOW, Bot

ROOT = Path(__file__).resolve().parents[2]
MOMENT = pendulum.parse(NOW)
assert isinstance(MOMENT, pendulum.DateTime)


def _product_modules() -> Iterator[tuple[str, ast.Module]]:
    for folder in ("bot", "commands", "storage"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            yield name, ast.parse(path.read_text(encoding="utf-8"), name)


def _imports_old_words(tree: ast.Module) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name == "bot.messages" for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and (
            node.module == "bot.messages"
            or (node.module == "bot" and any(a.name == "messages" for a in node.names))
        ):
            return True
    return False


def test_no_module_takes_its_words_from_bot_messages() -> None:
    """The one module of words for every audience is gone; words live beside their code."""
    assert not (ROOT / "bot" / "messages.py").exists()
    for name, tree in _product_modules():
        assert not _imports_old_words(tree), name


# ---- every refusal of a command shows a correct example ---------------------------------

PARSERS: dict[str, Callable[[str, str], Any]] = {
    "/deploy": lambda text, tz: deploy.parse(text, tz, MOMENT),
    "/incident": lambda text, tz: incident.parse(text, tz, MOMENT),
    "/dora": lambda text, tz: dora.parse(text, tz, MOMENT),
    "/pulse": lambda text, tz: pulse.parse(text),
}
HEADS = [
    "", "list ", "undo ", "help ", "open ", "resolve ", "link ", "subscribe ", "unsubscribe ",
    "subscriptions ", "start ", "now ", "stop ", "results ", "api ", "all ",
]  # fmt: skip
PIECES = [
    "api", "v1.2.3", "42", "#42", "x", "env=", "env=staging", "sha=zzz", "repo=acme", "at=soon",
    "status=maybe", "url=ftp://x", "sev=9", "deploy=x", "deploy=none", "from=2026-11-01",
    "to=2026-10-01", "from=x", "user=U1", "author=bob", "--hotfix", "--hotfix=yes", "--nope",
    "--rollback=x", '"unclosed', "7d", "9999d", "last", "month", "monday", "tuesday", "25:00",
    "09:00", "Mars/Olympus", "weekly", "fortnightly", "#general", "<#C0123ABCD>", "@team",
    "3", "rounds", "0", "1000", "share", "share", "nope=1",
]  # fmt: skip
COMMAND_TEXT = st.builds(
    lambda head, pieces: head + " ".join(pieces),
    st.sampled_from(HEADS),
    st.lists(st.sampled_from(PIECES) | st.text(max_size=8), max_size=6),
)


def _refusal(command: str, text: str) -> UsageError | None:
    try:
        PARSERS[command](text, "Europe/Berlin")
    except UsageError as error:
        return error
    return None


@settings(max_examples=400, deadline=None, derandomize=True)
@given(st.sampled_from(sorted(PARSERS)), COMMAND_TEXT)
@example("/deploy", "api sha=zzz")
@example("/deploy", "list api 500")
@example("/deploy", "undo")
@example("/incident", "open api")
@example("/incident", "link 7")
@example("/dora", "api 9999d")
@example("/dora", "api from=2026-11-01")
@example("/dora", "subscribe someday")
@example("/pulse", "start fortnightly")
@example("/pulse", "results 0 rounds")
def test_every_refusal_of_a_command_shows_an_example_of_it(command: str, text: str) -> None:
    error = _refusal(command, text)
    if error is None:
        return
    assert error.example.startswith(command), (command, text, error.problem, error.example)
    shown = usage(error)["text"]
    assert shown.startswith(f":warning: {error.problem}")
    assert f"For example: `{error.example}`" in shown


def test_a_refused_command_shows_its_example_in_slack(bot: Bot) -> None:
    reply = bot.command("/deploy", "api sha=zzz")
    assert reply.text == (
        ":warning: `zzz` is not a commit sha. Give 7 to 40 hex characters, like `sha=a1b2c3d`."
        f"\nFor example: `{deploy.DEPLOY_EXAMPLE}`"
    )


# ---- one weekday table -------------------------------------------------------------------


def _weekday_tables(tree: ast.Module) -> Iterator[int]:
    """Lines of the collections that spell out all seven days (short or full names)."""
    short = set(WEEKDAYS)
    full = {name.lower() for name in WEEKDAYS.values()}
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            items = [*node.keys, *node.values]
        elif isinstance(node, ast.Tuple | ast.List | ast.Set):
            items = list(node.elts)
        else:
            continue
        words = {
            item.value.lower()
            for item in items
            if isinstance(item, ast.Constant) and isinstance(item.value, str)
        }
        if short <= words or full <= words:
            yield node.lineno


def test_the_weekday_names_are_written_down_once() -> None:
    tables = [
        f"{name}:{line}" for name, tree in _product_modules() for line in _weekday_tables(tree)
    ]
    assert len(tables) == 1, tables
    assert tables[0].startswith("bot/core/wording.py:")
    full_names = [
        name
        for name, tree in _product_modules()
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value.lower() in {day.lower() for day in WEEKDAYS.values()}
    ]
    assert full_names == ["bot/core/wording.py"] * 7, full_names
