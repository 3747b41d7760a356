"""Pulse survey results: the pure aggregation with hand-computed figures, and /pulse results
and the weekly summary's lines through the real app, answers given by signed DM clicks."""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

from bot.config import Config
from bot.core.clock import FixedClock
from bot.pulse import dm as pulse_dm
from bot.pulse.results import aggregate, compare, may_show, summary_lines, threshold
from bot.summary import build as summary
from storage import pulse_answers
from storage.pulse_answers import Answer, RoundRow
from tests.conftest import NOW, Bot
from tests.fakes.fake_slack import FakeSlack
from tests.scenario.conftest import running_bot
from tests.scenario.test_pulse_answers import CHANNEL, click, close, open_round, rate, tick, updates

CLOSED = RoundRow(1, "2026-11-20T13:00:00Z", "2026-11-26T13:00:00Z", "2026-11-26T13:00:00Z")
OPEN = RoundRow(2, "2026-11-20T13:00:00Z", "2026-11-26T13:00:00Z", None)


def people(n: int, prefix: str = "U0P") -> tuple[str, ...]:
    return tuple(f"{prefix}{i:05d}" for i in range(n))


def shown(reply_json: dict[str, Any]) -> str:
    return "\n".join(b["text"]["text"] for b in reply_json["blocks"] if b["type"] == "section")


def results(bot: Bot, text: str = "results") -> str:
    reply = bot.command("/pulse", text)
    assert reply.status == 200
    assert reply.json["response_type"] == "ephemeral"
    return shown(reply.json)


# ---- pure aggregation ----------------------------------------------------------------------


def test_aggregate_counts_respondents_ease_and_sink_shares() -> None:
    answers = [
        Answer(5, ("ci",), "a"),
        Answer(4, ("ci", "meetings"), None),
        Answer(4, (), None),
        Answer(2, ("flaky_tests",), "b"),
        Answer(None, ("ci",), None),
        Answer(None, (), "only a comment"),  # not a respondent, but its comment counts
    ]
    result = aggregate(CLOSED, answers, random.Random(1))
    assert result.respondents == 5
    assert result.ease_counts == (0, 1, 0, 2, 1)
    assert result.rated == 4
    assert result.ease_mean == 3.75  # (5 + 4 + 4 + 2) / 4
    assert result.sink_counts["ci"] == 3
    assert result.share("ci") == 0.6  # 3 of 5 respondents
    assert result.share("meetings") == 0.2
    assert result.share("flaky_tests") == 0.2
    assert result.share("other") == 0.0
    assert sorted(result.comments) == ["a", "b", "only a comment"]


def test_aggregate_of_nobody() -> None:
    result = aggregate(CLOSED, [], random.Random(1))
    assert result.respondents == 0
    assert result.ease_mean is None
    assert result.share("ci") == 0.0


def test_compare_names_the_ease_change_and_sinks_that_moved_ten_points() -> None:
    before = aggregate(
        CLOSED,
        [Answer(3, ("meetings", "ci"), None), Answer(3, ("meetings",), None)]
        + [Answer(3, (), None)] * 2
        + [Answer(3, ("code_review",), None)] * 6,
        random.Random(1),
    )
    # before: 10 respondents, mean 3, ci 10%, meetings 20%, code review 60%
    after = aggregate(
        CLOSED,
        [Answer(4, ("ci",), None)] * 5
        + [Answer(2, ("flaky_tests", "code_review"), None)]
        + [Answer(4, ("code_review",), None)] * 4,
        random.Random(1),
    )
    # after: 10 respondents, mean (4*9 + 2) / 10 = 3.8, ci 50%, flaky 10%, code review 50%
    change = compare(after, before)
    assert change.ease == (3.0, 3.8)
    assert change.rising == [("ci", 0.1, 0.5), ("flaky_tests", 0.0, 0.1)]
    assert change.falling == [("meetings", 0.2, 0.0), ("code_review", 0.6, 0.5)]


def test_the_threshold_never_goes_below_three() -> None:
    assert threshold(Config(pulse_min_respondents=2)) == 3
    assert threshold(Config(pulse_min_respondents=5)) == 5


def test_only_closed_rounds_with_enough_respondents_may_be_shown() -> None:
    five = [Answer(3, (), None)] * 5
    assert may_show(aggregate(CLOSED, five, random.Random(1)), 5)
    assert not may_show(aggregate(CLOSED, five[:4], random.Random(1)), 5)
    assert not may_show(aggregate(OPEN, five * 2, random.Random(1)), 5)


# ---- through the app -----------------------------------------------------------------------


def test_results_stay_hidden_below_the_threshold_and_show_above_it(bot: Bot) -> None:
    who = people(6)
    round_id = open_round(bot, who)
    for n, person in enumerate(who[:4]):
        rate(bot, person, round_id, [5, 4, 4, 2][n])
    updates(bot, 4)
    assert "Open until 2026-11-30 13:00 CET: 4 answers so far; needs 1 more answer" in results(bot)
    tick(bot, who[4], round_id, ["ci", "meetings"])
    click(bot, who[5], round_id, pulse_dm.SKIP_ACTION)  # a skip is not an answer
    updates(bot, 6)
    text = results(bot)
    assert "5 answers so far, enough to show. Results appear when it closes" in text
    assert "Ease of shipping" not in text
    close(bot, round_id)
    text = results(bot)
    assert "Closed 2026-11-24 13:00 CET · 5 respondents" in text
    assert "*Ease of shipping*: 3.8 of 5 on average (4 rated it)" in text  # 15 / 4 = 3.75
    # Bars scale to the most chosen score.
    assert "`5 · very easy` ██████ 1" in text
    assert "`            4` ████████████ 2" in text
    assert "`1 · very hard`  0" in text
    assert "• waiting on CI: 20% (1)\n• meetings: 20% (1)" in text
    assert "Comments" not in text


def test_a_closed_round_below_the_threshold_says_so(bot: Bot) -> None:
    who = people(4)
    round_id = open_round(bot, who)
    for person in who:
        rate(bot, person, round_id, 3)
    updates(bot, 4)
    view_comment(bot, who[0], round_id, "a secret nobody may read")
    close(bot, round_id)
    text = results(bot)
    assert (
        "Closed 2026-11-24 13:00 CET with 4 answers: fewer than 5, so its results stay hidden"
        in text
    )
    assert "secret" not in text
    assert "Ease of shipping" not in text


def view_comment(bot: Bot, user: str, round_id: int, comment: str) -> None:
    with bot.server.store.write() as db:
        pulse_answers.record_comment(db, round_id, user, comment, NOW)


def test_the_threshold_setting_is_honoured_but_never_below_three(
    tmp_path: Path, slack: FakeSlack, clock: FixedClock
) -> None:
    with running_bot(tmp_path, slack, clock, pulse_min_respondents=2) as bot:
        who = people(3)
        first = open_round(bot, who)
        for person in who[:2]:
            rate(bot, person, first, 4)
        updates(bot, 2)
        assert "needs 1 more answer" in results(bot)
        rate(bot, who[2], first, 4)
        updates(bot, 3)
        close(bot, first)
        assert "Closed 2026-11-24 13:00 CET · 3 respondents" in results(bot)


def test_comments_are_shown_escaped_and_not_in_the_order_given(bot: Bot) -> None:
    who = people(30)
    round_id = open_round(bot, who)
    given = [f"comment number {n}" for n in range(30)]
    with bot.server.store.write() as db:
        for person, comment in zip(who, given, strict=True):
            pulse_answers.record_ease(db, round_id, person, 3, NOW)
            pulse_answers.record_comment(db, round_id, person, comment, NOW)
        pulse_answers.record_comment(db, round_id, who[0], "<!channel> see <@U0BOSS01>\nok", NOW)
    close(bot, round_id)
    text = results(bot, "results 1")
    assert "*Comments* (30, in random order)" in text
    assert "> &lt;!channel&gt; see &lt;@U0BOSS01&gt;\n> ok" in text
    order = [line[2:] for line in text.split("\n") if line.startswith("> comment number")]
    assert sorted(order) == sorted(given[1:])
    stored = [a["comment"] for a in bot.rows("pulse_answers") if a["comment"] in given]
    # Neither the order they were written in nor the order of the (shuffled) rows.
    assert order != given[1:]
    assert order != stored


def test_results_show_the_latest_round_next_to_the_previous_one(bot: Bot) -> None:
    first_people, second_people = people(5, "U0A"), people(5, "U0B")
    first = open_round(bot, first_people)
    for n, person in enumerate(first_people):
        rate(bot, person, first, 3)
        if n < 3:
            tick(bot, person, first, ["meetings"])
    updates(bot, 8)
    close(bot, first)
    bot.clock.advance(days=7)
    second = open_round(bot, second_people)
    for n, person in enumerate(second_people):
        rate(bot, person, second, 4)
        if n < 2:
            tick(bot, person, second, ["ci"])
    updates(bot, 15)
    bot.clock.advance(days=1)
    close(bot, second)
    text = results(bot)
    assert "*Since the previous round shown* (sent 2026-11-24 13:00 CET)" in text
    assert "Ease of shipping: 4.0 of 5 (+1.0 from 3.0)" in text
    assert "Rising: waiting on CI 0% → 40%" in text
    assert "Falling: meetings 60% → 0%" in text
    lines = summary_lines(bot.server.deps, CHANNEL)
    assert lines == [
        "Latest round closed 2026-12-02 13:00 CET, 5 respondents.",
        "Ease of shipping: 4.0 of 5 (+1.0 since the previous round)",
        "Most time lost to: waiting on CI 40%",
        "Rising: waiting on CI 0% → 40%",
        "Falling: meetings 60% → 0%",
    ]
    assert summary_lines(bot.server.deps, None) == lines
    assert summary_lines(bot.server.deps, "C0OTHER1") == []


def test_summary_lines_are_empty_until_a_round_may_be_shown(bot: Bot) -> None:
    assert summary_lines(bot.server.deps, None) == []
    who = people(5)
    round_id = open_round(bot, who)
    for person in who:
        rate(bot, person, round_id, 2)
    updates(bot, 5)
    assert summary_lines(bot.server.deps, CHANNEL) == []  # still open
    view_comment(bot, who[0], round_id, "slow")
    close(bot, round_id)
    assert summary_lines(bot.server.deps, CHANNEL) == [
        "Latest round closed 2026-11-24 13:00 CET, 5 respondents.",
        "Ease of shipping: 2.0 of 5",
        "1 comment: `/pulse results` in the survey's channel shows them.",
    ]


def test_the_weekly_summary_of_the_survey_channel_shows_the_latest_round(bot: Bot) -> None:
    who = people(5)
    round_id = open_round(bot, who)
    for person, score in zip(who, (1, 2, 3, 4, 5), strict=True):
        rate(bot, person, round_id, score)
    updates(bot, 5)
    close(bot, round_id)
    expected = [
        "Latest round closed 2026-11-24 13:00 CET, 5 respondents.",
        "Ease of shipping: 3.0 of 5",
    ]
    here = summary.build(bot.server.deps, 2026, 47, channel=CHANNEL)
    assert here.pulse == expected
    _, blocks = summary.slack_message(here)
    sections = [b.to_dict()["text"]["text"] for b in blocks if b.type == "section"]
    assert "\n".join(["*Pulse survey*", *expected]) in sections
    assert "Ease of shipping: 3.0 of 5" in summary.terminal_text(here)
    # Another channel's summary does not show this channel's survey.
    assert summary.build(bot.server.deps, 2026, 47, channel="C0OTHER1").pulse == []


def test_no_rounds_yet(bot: Bot) -> None:
    text = results(bot)
    assert text.startswith("There are no pulse survey rounds here yet.")


def test_results_reply_stays_within_one_slack_message(bot: Bot) -> None:
    who = people(160)
    round_id = open_round(bot, who)
    with bot.server.store.write() as db:
        for person in who:
            pulse_answers.record_ease(db, round_id, person, 3, NOW)
            pulse_answers.record_comment(db, round_id, person, "x" * 1000, NOW)
    close(bot, round_id)
    reply = bot.command("/pulse", "results")
    blocks = reply.json["blocks"]
    assert len(blocks) == 50
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section")
    assert blocks[-1]["text"]["text"].startswith("… and more than one Slack message can hold.")


def test_a_comment_that_escapes_past_a_sections_limit_is_split_whole(bot: Bot) -> None:
    """980 `&` escape to 4,900 characters: more than one section holds, so the reply splits
    it between sections, never inside an `&amp;`, and loses none of it."""
    who = people(5)
    round_id = open_round(bot, who)
    with bot.server.store.write() as db:
        for person in who:
            pulse_answers.record_ease(db, round_id, person, 3, NOW)
        pulse_answers.record_comment(db, round_id, who[0], "&" * 980 + "\nsecond line", NOW)
    close(bot, round_id)
    reply = bot.command("/pulse", "results")
    assert reply.status == 200
    assert reply.json["response_type"] == "ephemeral"
    assert "went wrong" not in reply.text
    sections = [b["text"]["text"] for b in reply.json["blocks"] if b["type"] == "section"]
    assert all(len(text) <= 3000 for text in sections)
    for text in sections:
        assert re.search(r"&(?!amp;|lt;|gt;)", text) is None, text[-20:]
    every = "\n".join(sections)
    assert every.count("&amp;") == 980
    assert "> second line" in every
    # The comment's second part is still a quote, so it reads as the same comment.
    assert sum(text.startswith("> &amp;") or "\n> &amp;" in text for text in sections) == 2
