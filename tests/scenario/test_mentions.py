"""User and GitHub text is text: whatever a title, a version, an environment, a url= or a
comment holds, Slack shows it as written and never as a mention or a link. Through the
real app and the fake Slack: what each message would show, and what the CLI prints.

Slack sends `<`, `>` and `&` typed in a slash command as `&lt;`, `&gt;` and `&amp;`; the
bot stores the real text and must escape it again wherever it writes mrkdwn.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bot.core.wording import mrkdwn
from bot.slack.replies import SECTION_LIMIT, text_blocks
from bot.summary import build as summary
from storage import deploys, pulse_answers
from tests.conftest import NOW, Bot
from tests.scenario.test_dora import home_opened
from tests.scenario.test_incident import open_incident
from tests.scenario.test_pulse_answers import close, open_round
from tests.scenario.test_summary_delivery import run_job, started, subscribe, summaries

CHANNEL = "C0CHAN01"
# Each would ping, or dress a link up, if it reached mrkdwn as written.
HOSTILE = (
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@U0BOSS01>",
    "<!subteam^S0TEAM01>",
    "<http://evil.example|Click to resolve>",
)
EVIL = " ".join(HOSTILE) + " & co"
SHOWN = mrkdwn(EVIL)  # how Slack must receive it: shown exactly as typed
FORBIDDEN = ("<!channel", "<!here", "<!everyone", "<@U0BOSS01", "<!subteam", "<http")


def typed(text: str) -> str:
    """A slash command's text as Slack sends what a person typed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mrkdwn_texts(message: Any) -> Iterator[str]:
    """Every text Slack reads as mrkdwn in a message, view or reply: its `text` fallback
    (notifications render it) and every mrkdwn text object in its blocks."""
    if isinstance(message, dict):
        if message.get("type") == "mrkdwn" or (
            isinstance(message.get("text"), str) and message.get("type") is None
        ):
            yield message["text"]
        for value in message.values():
            yield from mrkdwn_texts(value)
    elif isinstance(message, list):
        for item in message:
            yield from mrkdwn_texts(item)


def mrkdwn_objects(message: Any) -> Iterator[dict[str, Any]]:
    if isinstance(message, dict):
        if message.get("type") == "mrkdwn":
            yield message
        for value in message.values():
            yield from mrkdwn_objects(value)
    elif isinstance(message, list):
        for item in message:
            yield from mrkdwn_objects(item)


def assert_shown_as_text(message: Any, shown: str = SHOWN) -> None:
    """No mention or link the user typed, in any mrkdwn; the escaped form, once. Every
    mrkdwn object is verbatim: otherwise Slack's automatic parsing could still turn a typed
    "@here", "#general" or bare address into a mention or a link."""
    for found in mrkdwn_objects(message):
        assert found.get("verbatim") is True, found
    texts = list(mrkdwn_texts(message))
    assert texts, message
    for text in texts:
        for needle in FORBIDDEN:
            assert needle not in text, (needle, text)
        assert "&amp;lt;" not in text and "&amp;amp;" not in text, text  # never twice
    assert any(shown in text for text in texts), texts


def insert_deploy(bot: Bot, **values: Any) -> int:
    with bot.server.store.write() as db:
        return deploys.insert(
            db,
            {
                "service": "api",
                "environment": "production",
                "version": None,
                "sha": None,
                "repo": None,
                "status": "success",
                "deployed_at": "2026-11-24T10:00:00Z",
                "is_hotfix": 0,
                "rollback_of": None,
                "url": None,
                "source": "github",
                "source_key": f"deploy-{values.get('version')}",
                "created_at": NOW,
                **values,
            },
        ).id


# ---- the escape --------------------------------------------------------------------------


def test_mrkdwn_escapes_what_slack_reads_as_markup() -> None:
    assert mrkdwn("<!channel> & <@U1>") == "&lt;!channel&gt; &amp; &lt;@U1&gt;"
    assert mrkdwn("&lt;") == "&amp;lt;"  # the text "&lt;" as typed, not a "<"
    assert mrkdwn("plain *bold* :tada:") == "plain *bold* :tada:"


@given(st.text())
def test_mrkdwn_leaves_no_markup_and_reads_back(text: str) -> None:
    escaped = mrkdwn(text)
    assert "<" not in escaped and ">" not in escaped
    assert re.search(r"&(?!amp;|lt;|gt;)", escaped) is None  # every & starts an entity
    assert html.unescape(escaped) == text


# ---- the channel post and card -------------------------------------------------------------


def test_the_incident_post_and_card_show_the_title_as_typed(bot: Bot) -> None:
    post = open_incident(bot, typed(f"open api {EVIL}"))
    assert_shown_as_text(post)
    assert post["text"] == f"Incident #1 opened on api: {SHOWN}"
    (row,) = bot.rows("incidents")
    assert row["title"] == EVIL  # stored as typed
    assert bot.command("/incident", "resolve 1").status == 200
    (update,) = bot.slack.wait_for("chat.update")
    assert_shown_as_text(update)


def test_the_deploy_post_shows_the_version_as_typed(bot: Bot) -> None:
    reply = bot.command("/deploy", typed("api <!channel>&<@U0BOSS01>"))
    assert reply.status == 200 and reply.body == "", reply.body
    (post,) = bot.slack.wait_for("chat.postMessage")
    assert_shown_as_text(post, "api &lt;!channel&gt;&amp;&lt;@U0BOSS01&gt; to production")


def test_a_deploys_url_is_shown_as_itself_never_under_a_label(bot: Bot) -> None:
    url = "https://ci.example.com/run?id=7&x=1"
    reply = bot.command("/deploy", typed(f"api v1 url={url}"))
    assert reply.status == 200 and reply.body == "", reply.body
    (post,) = bot.slack.wait_for("chat.postMessage")
    (context,) = [b for b in post["blocks"] if b["type"] == "context"]
    details = context["elements"][0]["text"]
    assert "details: <https://ci.example.com/run?id=7&amp;x=1>" in details
    # The one link is the address itself (the url= check refused <, > and |): no label.
    assert "|" not in details and details.count("<http") == 1


def test_the_incident_card_shows_its_deploys_version_as_typed(bot: Bot) -> None:
    insert_deploy(bot, version="<!here>")
    post = open_incident(bot, "open api Checkout errors")
    assert_shown_as_text(post, "(api &lt;!here&gt; to production, finished")


# ---- lists, App Home and the weekly summary ------------------------------------------------


def test_deploy_list_shows_versions_and_environments_as_typed(bot: Bot) -> None:
    insert_deploy(bot, version="<!channel>", environment="<!subteam^S0TEAM01>&")
    reply = bot.command("/deploy", "list")
    assert reply.status == 200
    assert_shown_as_text(reply.json, "api &lt;!channel&gt; to &lt;!subteam^S0TEAM01&gt;&amp;")


def test_incident_list_shows_titles_as_typed(bot: Bot) -> None:
    open_incident(bot, typed(f"open api {EVIL}"))
    reply = bot.command("/incident", "list")
    assert reply.status == 200
    assert_shown_as_text(reply.json)


def test_app_home_shows_titles_as_typed(bot: Bot) -> None:
    open_incident(bot, typed(f"open api {EVIL}"))
    assert home_opened(bot).status == 200
    (call,) = bot.slack.wait_for("views.publish")
    assert_shown_as_text(call["view"])


def test_the_weekly_summary_shows_open_incident_titles_as_typed(bot: Bot) -> None:
    started(bot)
    open_incident(bot, typed(f"open api {EVIL}"))
    subscribe(bot)
    bot.clock.set("2026-11-30T08:00:00Z")
    run_job(bot)
    (post,) = summaries(bot.slack)
    assert_shown_as_text(post)
    # The terminal prints the real text: only Slack reads mrkdwn.
    printed = summary.terminal_text(summary.build(bot.server.deps, 2026, 48, channel=CHANNEL))
    assert f"#1 api: {EVIL}, open since" in printed


def test_pulse_comments_are_text_in_results_and_only_counted_in_the_summary(bot: Bot) -> None:
    who = tuple(f"U0P{n:05d}" for n in range(5))
    round_id = open_round(bot, who)
    with bot.server.store.write() as db:
        for person in who:
            pulse_answers.record_ease(db, round_id, person, 3, NOW)
        pulse_answers.record_comment(db, round_id, who[0], EVIL, NOW)
    close(bot, round_id)
    reply = bot.command("/pulse", "results")
    assert reply.status == 200
    assert_shown_as_text(reply.json["blocks"], f"> {SHOWN}")
    built = summary.build(bot.server.deps, 2026, 47, channel=CHANNEL)
    _, blocks = summary.slack_message(built)
    every = [block.to_dict() for block in blocks]
    assert "1 comment: `/pulse results`" in str(every)
    for text in mrkdwn_texts(every):
        assert "evil" not in text and "channel>" not in text


# ---- splitting escaped text into sections ------------------------------------------------


_runs = st.lists(st.tuples(st.sampled_from("&<> a\n"), st.integers(1, 1500)), max_size=12)


@given(_runs.map(lambda runs: "".join(c * n for c, n in runs)))
def test_sections_stay_within_slack_limits_and_keep_every_character(raw: str) -> None:
    escaped = mrkdwn(raw)
    sections = [block.to_dict()["text"]["text"] for block in text_blocks(escaped)]
    assert all(len(text) <= SECTION_LIMIT for text in sections)
    for text in sections:  # no entity cut in two
        assert re.search(r"&(?!amp;|lt;|gt;)", text) is None, text
    assert "".join(sections).replace("\n", "") == escaped.replace("\n", "")


def test_a_long_line_is_split_at_a_space_and_a_quote_stays_quoted() -> None:
    words = "> " + " ".join(["word"] * 1000)  # 4,999 characters
    sections = [block.to_dict()["text"]["text"] for block in text_blocks(words)]
    assert len(sections) == 2
    assert all(s.startswith("> word") and len(s) <= SECTION_LIMIT for s in sections)
    assert sections[0].endswith("word ")
    assert sum(s.count("word") for s in sections) == 1000


def test_more_sections_than_a_message_holds_say_how_many_lines_are_left_out() -> None:
    lines = [f"line {n} " + "x" * 2990 for n in range(60)]
    blocks = [block.to_dict()["text"]["text"] for block in text_blocks("\n".join(lines))]
    assert len(blocks) == 50
    assert blocks[48].startswith("line 48 ")
    assert blocks[49] == "… and 11 more lines: more than one Slack message can hold."
