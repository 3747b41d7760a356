"""Which deploy shipped which change, through /deploy and its undo (SPEC.md "Change lead
time"); the rule itself is tested on a real SQLite file in tests/unit/test_shipping.py."""

from __future__ import annotations

from tests.conftest import Bot
from tests.unit.test_shipping import REPO, SHAS, owners, push


def test_slash_deploys_ship_and_undo_hands_over(bot: Bot) -> None:
    store = bot.server.store
    push(store, 1, 2, 3)
    assert bot.command("/deploy", f"api 1.0 sha={SHAS[1][:7]} repo={REPO} at=2026-11-20T10:00Z")
    assert bot.command("/deploy", f"api 1.1 sha={SHAS[3]} repo={REPO} at=2026-11-21T10:00Z")
    bot.server.wait_idle()
    assert owners(store) == {1: 1, 2: 2, 3: 2}
    bot.command("/deploy", "undo 1", user="U0ADMIN1")
    bot.server.wait_idle()
    assert owners(store) == {1: 2, 2: 2, 3: 2}
    assert [r["id"] for r in bot.rows("deploys")] == [2]
