"""Answering a pulse survey through the real app: signed block_actions and view_submission
payloads as Slack sends them from the DM, a fake Slack, and the real SQLite file."""

from __future__ import annotations

import itertools
import json
import sqlite3
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bot.core.moments import utc_text
from bot.pulse import dm as pulse_dm
from bot.pulse import text as messages
from bot.pulse.listeners import round_of
from storage import pulse, pulse_answers
from storage.pulse import Survey
from storage.pulse_answers import SINKS, has_responded, responder_hash
from tests.conftest import NOW, Bot, Reply
from tests.fakes.fake_slack import block_actions, view_submission

CHANNEL = "C0CHAN01"
ALICE, BOB, CAROL, MALLORY = "U0ALICE1", "U0BOB001", "U0CAROL1", "U0MALLRY"
KEY = bytes(range(32))
_ids = itertools.count(1)


# ---- a round, as storage/pulse.py sets one up ----------------------------------------------


def open_round(bot: Bot, invited: tuple[str, ...] = (ALICE, BOB), *, channel: str = CHANNEL) -> int:
    """A survey of `channel` with an open round (closing in 6 days) DMed to `invited`."""
    now = bot.clock.now()
    with bot.server.store.write() as db:
        survey = pulse.active_survey(db, channel) or pulse.start_survey(
            db,
            Survey(0, channel, "channel", channel, "biweekly", "fri", "14:00", "Europe/Berlin"),
            "U0ADMIN1",
            NOW,
        )
        round_id = pulse.open_round(
            db, survey.id, utc_text(now), utc_text(now.add(days=6)), bytes([next(_ids)]) * 32
        )
        for user in invited:
            assert pulse.claim_invite(db, round_id, user)
    return round_id


def close(bot: Bot, round_id: int) -> None:
    with bot.server.store.write() as db:
        pulse.close_round(db, round_id, utc_text(bot.clock.now()))


def dm(user: str) -> str:
    return "D" + user[1:]


def ts_of(user: str) -> str:
    """The ts of the person's survey DM (made up, like Slack's, with no trace of the user)."""
    return f"1700000000.{sum(user.encode()):06d}"


def survey_dm(round_id: int) -> dict[str, Any]:
    """The DM as Slack shows it: the blocks the round sends."""
    text, blocks = pulse_dm.question_message(round_id, "2026-11-30T12:00:00Z", "Europe/Berlin")
    return {"text": text, "blocks": [b.to_dict() for b in blocks]}


def element(message: dict[str, Any], action_id: str) -> tuple[str, dict[str, Any]]:
    """(block_id, element) of the DM's element with this action id."""
    for block in message["blocks"]:
        for found in block.get("elements", []):
            if found.get("action_id") == action_id:
                return block["block_id"], found
    raise AssertionError(f"no {action_id} in the DM")


def dm_click(
    bot: Bot, user: str, message: dict[str, Any], action: dict[str, Any], ts: str
) -> dict[str, Any]:
    """The payload Slack sends when someone uses an element of the survey DM."""
    return block_actions(
        user=user,
        channel=dm(user),
        message=message,
        ts=ts,
        action=action,
        trigger_id=f"trigger.pulse.{next(_ids)}",
        response_url=bot.slack.response_url("pulse"),
    )


def click(bot: Bot, user: str, round_id: int, action_id: str, *, ts: str = "") -> Reply:
    """Press a button of the round's DM (its own value, as Slack sends it back)."""
    message = survey_dm(round_id)
    block_id, button = element(message, action_id)
    action = {
        "type": "button",
        "action_id": action_id,
        "block_id": block_id,
        "text": button["text"],
        "value": button["value"],
    }
    return bot.interact(dm_click(bot, user, message, action, ts or ts_of(user)))


def tick(bot: Bot, user: str, round_id: int, sinks: list[str]) -> Reply:
    """Tick the checkboxes so that exactly `sinks` are selected."""
    message = survey_dm(round_id)
    block_id, boxes = element(message, pulse_dm.SINKS_ACTION)
    options = {o["value"]: o for o in boxes["options"]}
    action = {
        "type": "checkboxes",
        "action_id": pulse_dm.SINKS_ACTION,
        "block_id": block_id,
        "selected_options": [options[s] for s in sinks],
    }
    return bot.interact(dm_click(bot, user, message, action, ts_of(user)))


def rate(bot: Bot, user: str, round_id: int, score: int) -> Reply:
    return click(bot, user, round_id, pulse_dm.ease_action(score))


def updates(bot: Bot, count: int) -> list[dict[str, Any]]:
    return bot.slack.wait_for("chat.update", count)


def settle(bot: Bot) -> None:
    assert bot.server.wait_idle()


def answers(bot: Bot) -> list[dict[str, Any]]:
    return bot.rows("pulse_answers")


def responders(bot: Bot) -> list[dict[str, Any]]:
    conn = sqlite3.connect(bot.db_path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM pulse_responders")]
    finally:
        conn.close()


def dm_text(update: dict[str, Any]) -> str:
    return json.dumps(update["blocks"], ensure_ascii=False)


def open_comment(bot: Bot, user: str, round_id: int) -> dict[str, Any]:
    before = len(bot.slack.calls_to("views.open"))
    assert click(bot, user, round_id, pulse_dm.COMMENT_ACTION).status == 200
    call = bot.slack.wait_for("views.open", before + 1)[-1]
    assert call["trigger_id"].startswith("trigger.pulse.")
    return call["view"]


def submit_comment(bot: Bot, user: str, view: dict[str, Any], comment: str | None) -> Reply:
    """The payload Slack sends when someone presses Save on the comment form."""
    return bot.interact(
        view_submission(
            user=user,
            callback_id=view["callback_id"],
            private_metadata=view["private_metadata"],
            values={
                pulse_dm.COMMENT_BLOCK: {"value": {"type": "plain_text_input", "value": comment}}
            },
            view_id=f"V0PULSE{next(_ids):02d}",
            trigger_id=f"trigger.submit.{next(_ids)}",
            blocks=view["blocks"],
        )
    )


# ---- answering -----------------------------------------------------------------------------


def test_a_rating_is_stored_without_the_person_and_the_dm_shows_it(bot: Bot) -> None:
    round_id = open_round(bot)
    reply = rate(bot, ALICE, round_id, 4)
    assert reply.status == 200
    update = updates(bot, 1)[0]
    assert update["channel"] == dm(ALICE)
    assert update["ts"] == ts_of(ALICE)
    _, chosen = element(update, pulse_dm.ease_action(4))
    assert chosen.get("style") == "primary"
    assert "style" not in element(update, pulse_dm.ease_action(3))[1]
    assert "*Saved.* Ease: 4 of 5 · Time lost: none ticked · Comment: none" in dm_text(update)
    rows = answers(bot)
    assert rows == [{"id": 1, "round_id": round_id, "ease": 4, "sinks": "[]", "comment": None}]
    (responder,) = responders(bot)
    assert responder["answer_id"] == 1
    assert responder["skipped"] == 0
    assert len(responder["responder"]) == 32
    assert ALICE.encode() not in responder["responder"]


def test_changing_a_rating_changes_the_one_answer(bot: Bot) -> None:
    round_id = open_round(bot)
    rate(bot, ALICE, round_id, 4)
    updates(bot, 1)
    rate(bot, ALICE, round_id, 2)
    update = updates(bot, 2)[-1]
    assert element(update, pulse_dm.ease_action(2))[1].get("style") == "primary"
    assert [(a["ease"], a["sinks"]) for a in answers(bot)] == [(2, "[]")]
    assert len(responders(bot)) == 1


def test_a_double_click_stores_one_answer(bot: Bot) -> None:
    round_id = open_round(bot)
    rate(bot, ALICE, round_id, 5)
    rate(bot, ALICE, round_id, 5)
    updates(bot, 2)
    assert [a["ease"] for a in answers(bot)] == [5]
    assert len(responders(bot)) == 1


def test_each_invited_person_has_their_own_answer(bot: Bot) -> None:
    round_id = open_round(bot, (ALICE, BOB, CAROL))
    rate(bot, ALICE, round_id, 5)
    rate(bot, BOB, round_id, 1)
    tick(bot, CAROL, round_id, ["meetings"])
    updates(bot, 3)
    assert sorted((a["ease"] or 0, a["sinks"]) for a in answers(bot)) == [
        (0, '["meetings"]'),
        (1, "[]"),
        (5, "[]"),
    ]
    assert len({r["responder"] for r in responders(bot)}) == 3


def test_time_sinks_are_ticked_changed_and_cleared(bot: Bot) -> None:
    round_id = open_round(bot)
    tick(bot, ALICE, round_id, ["meetings", "ci"])
    update = updates(bot, 1)[0]
    _, boxes = element(update, pulse_dm.SINKS_ACTION)
    # The survey's order, whatever order they were ticked in.
    assert [o["value"] for o in boxes["initial_options"]] == ["ci", "meetings"]
    assert "Time lost: waiting on CI, meetings" in dm_text(update)
    assert answers(bot)[0]["sinks"] == '["ci", "meetings"]'
    rate(bot, ALICE, round_id, 3)
    tick(bot, ALICE, round_id, [])
    update = updates(bot, 3)[-1]
    assert "initial_options" not in element(update, pulse_dm.SINKS_ACTION)[1]
    assert [(a["ease"], a["sinks"]) for a in answers(bot)] == [(3, "[]")]


def test_an_unknown_time_sink_in_a_forged_payload_is_dropped(bot: Bot) -> None:
    round_id = open_round(bot)
    message = survey_dm(round_id)
    action = {
        "type": "checkboxes",
        "action_id": pulse_dm.SINKS_ACTION,
        "block_id": f"pulse_sinks:{round_id}",
        "selected_options": [{"value": "ci"}, {"value": "U0ALICE1"}, {"value": "x" * 5000}],
    }
    bot.interact(dm_click(bot, ALICE, message, action, "1700000000.1"))
    updates(bot, 1)
    assert answers(bot)[0]["sinks"] == '["ci"]'


def test_a_comment_is_written_in_a_modal_and_can_be_edited(bot: Bot) -> None:
    round_id = open_round(bot)
    view = open_comment(bot, ALICE, round_id)
    assert view["callback_id"] == pulse_dm.COMMENT_MODAL
    meta = json.loads(view["private_metadata"])
    assert meta == {
        "round_id": round_id,
        "channel_id": dm(ALICE),
        "message_ts": ts_of(ALICE),
    }
    assert ALICE not in view["private_metadata"]
    assert messages.PULSE_COMMENT_NOTE in json.dumps(view)
    field = view["blocks"][-1]["element"]
    assert field["multiline"] is True
    assert field["max_length"] == 1000
    reply = submit_comment(bot, ALICE, view, "CI queue is slow on Mondays")
    assert reply.status == 200
    assert reply.body == ""
    update = updates(bot, 1)[0]
    assert (update["channel"], update["ts"]) == (dm(ALICE), ts_of(ALICE))
    assert "Comment: added" in dm_text(update)
    assert element(update, pulse_dm.COMMENT_ACTION)[1]["text"]["text"] == "Edit your comment"
    assert [a["comment"] for a in answers(bot)] == ["CI queue is slow on Mondays"]
    again = open_comment(bot, ALICE, round_id)
    assert again["blocks"][-1]["element"]["initial_value"] == "CI queue is slow on Mondays"
    submit_comment(bot, ALICE, again, None)
    updates(bot, 2)
    assert [a["comment"] for a in answers(bot)] == [None]
    assert len(answers(bot)) == 1


def test_a_comment_too_long_is_refused_in_the_form(bot: Bot) -> None:
    round_id = open_round(bot)
    view = open_comment(bot, ALICE, round_id)
    reply = submit_comment(bot, ALICE, view, "x" * 1001)
    assert reply.json == {
        "response_action": "errors",
        "errors": {
            "comment": "Your comment is 1001 characters long; keep it to 1000. Nothing was saved."
        },
    }
    settle(bot)
    assert answers(bot) == []
    assert bot.slack.calls_to("chat.update") == []


# ---- refusals ------------------------------------------------------------------------------


def test_an_answer_after_the_round_closed_is_refused_and_the_dm_says_when(bot: Bot) -> None:
    round_id = open_round(bot)
    rate(bot, ALICE, round_id, 4)
    updates(bot, 1)
    close(bot, round_id)
    before = answers(bot)
    rate(bot, ALICE, round_id, 1)
    update = updates(bot, 2)[-1]
    text = update["text"]
    assert text == (
        "This round closed on 2026-11-24 13:00 CET, so it takes no more answers; the next one "
        "comes on 2026-12-11 14:00 CET."
    )
    assert "actions" not in [b["type"] for b in update["blocks"]]
    tick(bot, BOB, round_id, ["ci"])
    updates(bot, 3)
    assert answers(bot) == before
    assert responders(bot) == []


def test_a_closed_round_points_to_the_newer_round_or_says_the_survey_stopped(bot: Bot) -> None:
    first = open_round(bot)
    close(bot, first)
    second = open_round(bot)
    rate(bot, ALICE, first, 2)
    assert updates(bot, 1)[0]["text"].endswith(
        "so it takes no more answers; a newer round is open: answer it in its own message."
    )
    with bot.server.store.write() as db:
        survey = pulse.active_survey(db, CHANNEL)
        assert survey is not None
        pulse.stop_survey(db, survey.id, NOW)
        pulse.close_round(db, second, NOW)
    rate(bot, ALICE, second, 2)
    assert updates(bot, 2)[-1]["text"].endswith(
        "its survey has been stopped, so no other round is planned."
    )
    assert answers(bot) == []


def test_an_answer_past_closing_time_is_refused_before_the_close_runs(bot: Bot) -> None:
    round_id = open_round(bot)
    bot.clock.advance(days=6)
    rate(bot, ALICE, round_id, 4)
    update = updates(bot, 1)[0]
    assert update["text"].startswith("This round closed on 2026-11-30 13:00 CET")
    assert answers(bot) == []


def test_a_comment_for_a_closed_round_is_refused_in_the_form(bot: Bot) -> None:
    round_id = open_round(bot)
    view = open_comment(bot, ALICE, round_id)
    close(bot, round_id)
    reply = submit_comment(bot, ALICE, view, "late")
    assert reply.json["response_action"] == "errors"
    assert reply.json["errors"]["comment"].startswith("This round closed on")
    assert answers(bot) == []


def test_someone_not_invited_is_refused_privately(bot: Bot) -> None:
    round_id = open_round(bot)
    rate(bot, MALLORY, round_id, 1)
    (said,) = bot.slack.wait_for("response_url")
    assert said["response_type"] == "ephemeral"
    assert said["text"] == messages.PULSE_NOT_INVITED
    click(bot, MALLORY, round_id, pulse_dm.SKIP_ACTION)
    bot.slack.wait_for("response_url", 2)
    settle(bot)
    assert answers(bot) == []
    assert responders(bot) == []
    assert bot.slack.calls_to("chat.update") == []


def test_a_forged_round_id_is_refused(bot: Bot) -> None:
    open_round(bot)
    message = survey_dm(999)
    action = {"type": "button", "action_id": "pulse_ease_3", "block_id": "x", "value": "999:3"}
    bot.interact(dm_click(bot, ALICE, message, action, "1700000000.1"))
    assert bot.slack.wait_for("response_url")[0]["text"] == messages.PULSE_NOT_INVITED
    for value in ("abc:3", "1:9", ""):
        action = {"type": "button", "action_id": "pulse_ease_3", "block_id": "x", "value": value}
        assert bot.interact(dm_click(bot, ALICE, message, action, "1.1")).status == 200
    settle(bot)
    assert answers(bot) == []


# ---- skip, stop, start again ---------------------------------------------------------------


def test_skip_counts_as_responded_without_an_answer_and_a_later_answer_unskips(bot: Bot) -> None:
    round_id = open_round(bot)
    click(bot, ALICE, round_id, pulse_dm.SKIP_ACTION)
    update = updates(bot, 1)[0]
    assert messages.PULSE_SKIPPED in dm_text(update)
    assert answers(bot) == []
    assert [(r["answer_id"], r["skipped"]) for r in responders(bot)] == [(None, 1)]
    key = bot.server.store.query_one("SELECT hash_key FROM pulse_rounds WHERE id = ?", (round_id,))
    assert has_responded(bot.server.store.db, round_id, key[0], ALICE)
    assert not has_responded(bot.server.store.db, round_id, key[0], BOB)
    rate(bot, ALICE, round_id, 3)
    updates(bot, 2)
    assert [a["ease"] for a in answers(bot)] == [3]
    assert [r["skipped"] for r in responders(bot)] == [0]


def test_skip_after_answering_withdraws_the_answer(bot: Bot) -> None:
    round_id = open_round(bot)
    rate(bot, ALICE, round_id, 3)
    updates(bot, 1)
    click(bot, ALICE, round_id, pulse_dm.SKIP_ACTION)
    updates(bot, 2)
    assert answers(bot) == []
    assert [(r["answer_id"], r["skipped"]) for r in responders(bot)] == [(None, 1)]


def test_stop_asking_me_and_start_again(bot: Bot) -> None:
    round_id = open_round(bot)
    _, stop = element(survey_dm(round_id), pulse_dm.STOP_ACTION)
    assert stop["confirm"]["title"]["text"] == messages.PULSE_STOP_CONFIRM_TITLE
    click(bot, ALICE, round_id, pulse_dm.STOP_ACTION)
    update = updates(bot, 1)[0]
    assert update["text"] == messages.PULSE_STOPPED_TEXT
    assert messages.PULSE_STOPPED in dm_text(update)
    rows = bot.server.store.query("SELECT user_id, opted_out_at FROM pulse_opt_outs")
    assert [tuple(r) for r in rows] == [(ALICE, "2026-11-24T12:00:00Z")]
    _, start = element(update, pulse_dm.START_ACTION)
    message = {"text": update["text"], "blocks": update["blocks"]}
    action = {"type": "button", "action_id": start["action_id"], "block_id": "pulse_stopped",
              "text": start["text"], "value": start["value"]}  # fmt: skip
    bot.interact(dm_click(bot, ALICE, message, action, ts_of(ALICE)))
    update = updates(bot, 2)[-1]
    assert bot.server.store.query("SELECT * FROM pulse_opt_outs") == []
    # The round is still open, so the questions come back with the note.
    assert messages.PULSE_RESTARTED in dm_text(update)
    element(update, pulse_dm.ease_action(1))


def test_start_again_after_the_round_closed_just_confirms(bot: Bot) -> None:
    round_id = open_round(bot)
    click(bot, ALICE, round_id, pulse_dm.STOP_ACTION)
    update = updates(bot, 1)[0]
    close(bot, round_id)
    _, start = element(update, pulse_dm.START_ACTION)
    message = {"text": update["text"], "blocks": update["blocks"]}
    action = {"type": "button", "action_id": start["action_id"], "block_id": "b",
              "text": start["text"], "value": start["value"]}  # fmt: skip
    bot.interact(dm_click(bot, ALICE, message, action, "1700000000.1"))
    assert updates(bot, 2)[-1]["text"] == messages.PULSE_RESTARTED
    assert bot.server.store.query("SELECT * FROM pulse_opt_outs") == []


# ---- anonymity -----------------------------------------------------------------------------


def test_after_close_no_row_ties_an_answer_to_a_person(bot: Bot, tmp_path: Path) -> None:
    people = (ALICE, BOB, CAROL)
    round_id = open_round(bot, people)
    rate(bot, ALICE, round_id, 4)
    tick(bot, BOB, round_id, ["ci", "flaky_tests"])
    view = open_comment(bot, CAROL, round_id)
    submit_comment(bot, CAROL, view, "fine")
    click(bot, CAROL, round_id, pulse_dm.STOP_ACTION)
    updates(bot, 4)
    with bot.server.store.write() as db:
        pulse.remember_dm_channel(db, ALICE, dm(ALICE))
    close(bot, round_id)

    conn = sqlite3.connect(bot.db_path)
    try:
        columns = [r[1] for r in conn.execute("PRAGMA table_info(pulse_answers)")]
        assert columns == ["id", "round_id", "ease", "sinks", "comment"]
        assert conn.execute("SELECT closed_at, hash_key FROM pulse_rounds").fetchall() == [
            (NOW, None)
        ]
        for table in ("pulse_responders", "pulse_invites"):
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,)
        # Every row of every table, as a dump shows them: user ids and DM channels appear only
        # in the opt-out and DM channel lists, which hold no answer.
        for line in conn.iterdump():
            if line.startswith(('INSERT INTO "pulse_opt_outs"', 'INSERT INTO "slack_dm_channels"')):
                continue
            for person in people:
                assert person not in line, line
                assert dm(person) not in line, line
                assert ts_of(person) not in line, line
    finally:
        conn.close()


def test_closing_reinserts_the_answers_in_a_random_order(bot: Bot) -> None:
    people = tuple(f"U0P{n:05d}" for n in range(30))
    round_id = open_round(bot, people)
    with bot.server.store.write() as db:
        for n, person in enumerate(people):
            pulse_answers.record_comment(db, round_id, person, f"comment {n}", NOW)
    ids_before = [a["id"] for a in answers(bot)]
    close(bot, round_id)
    after = answers(bot)
    assert len(after) == 30
    assert {a["comment"] for a in after} == {f"comment {n}" for n in range(30)}
    assert [a["id"] for a in after] != ids_before
    assert [a["comment"] for a in after] != [f"comment {n}" for n in range(30)]


# ---- pure parts ----------------------------------------------------------------------------


def test_responder_hashes_differ_by_round_person_and_key() -> None:
    first = responder_hash(KEY, 1, ALICE)
    assert len(first) == 32
    assert first == responder_hash(KEY, 1, ALICE)
    assert first != responder_hash(KEY, 2, ALICE)
    assert first != responder_hash(KEY, 1, BOB)
    assert first != responder_hash(bytes(32), 1, ALICE)
    # "1" + "2:U" must not collide with "12" + ":U": the round is delimited.
    assert responder_hash(KEY, 12, "U1") != responder_hash(KEY, 1, "2:U1")


def test_the_survey_offers_specs_nine_time_sinks_in_order() -> None:
    _, boxes = element(survey_dm(1), pulse_dm.SINKS_ACTION)
    assert [o["text"]["text"] for o in boxes["options"]] == [
        "waiting on CI",
        "flaky tests",
        "waiting for code review",
        "the deploy process or approvals",
        "environments or setup",
        "unclear requirements",
        "incidents or on-call interruptions",
        "meetings",
        "other",
    ]
    assert [o["value"] for o in boxes["options"]] == list(SINKS)


def test_the_survey_dm_asks_the_three_questions() -> None:
    message = survey_dm(7)
    shown = json.dumps(message["blocks"], ensure_ascii=False)
    assert "How easy was it to get a change into production this week?" in shown
    assert "Where did you lose time you wish you hadn't?" in shown
    scores = [element(message, pulse_dm.ease_action(s))[1] for s in range(1, 6)]
    assert [b["text"]["text"] for b in scores] == ["1 · very hard", "2", "3", "4", "5 · very easy"]
    assert [b["value"] for b in scores] == [f"7:{s}" for s in range(1, 6)]
    assert element(message, pulse_dm.SINKS_ACTION)[0] == "pulse_sinks:7"
    assert element(message, pulse_dm.SKIP_ACTION)[1]["value"] == "7"
    assert "This round closes 2026-11-30 13:00 CET" in shown
    assert messages.PULSE_ANONYMOUS in shown
    reminder = pulse_dm.reminder_message(7, "2026-11-30T12:00:00Z", "Europe/Berlin")
    assert reminder[0] == messages.PULSE_REMINDER_TEXT


@given(st.text(max_size=40))
def test_round_of_reads_only_a_round_number_at_the_head(value: str) -> None:
    found = round_of(value)
    head = value.split(":", 1)[0]
    if found is None:
        assert not (head.isascii() and head.isdigit()) or len(head) > 18
    else:
        assert str(found) == head.lstrip("0") or (found == 0 and set(head) == {"0"})


def test_round_of_examples() -> None:
    assert round_of("12") == 12
    assert round_of("12:4") == 12
    assert round_of("") is None
    assert round_of("٣:1") is None  # an Arabic-Indic digit is a digit, but not a round id
    assert round_of("9" * 19) is None
