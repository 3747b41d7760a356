"""No log level ties a pulse answer to a person: the real server at DEBUG (Bolt's and
slack_sdk's request logging included) through a survey sent, answered and commented on."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app.serve import Server
from bot.core.clock import FixedClock
from bot.pulse import dm as pulse_dm
from bot.pulse.logs import SURVEY_MARK
from storage import pulse
from tests.conftest import NOW, Bot, make_config
from tests.e2e.conftest import running_bot
from tests.fakes.fake_slack import FakeSlack, block_actions
from tests.fakes.fake_socket_mode import FakeSocketMode
from tests.scenario.test_pulse_answers import (
    click,
    dm,
    element,
    open_comment,
    rate,
    submit_comment,
    survey_dm,
    tick,
)
from tests.scenario.test_pulse_command import settle

ADMIN = "U0ADMIN1"
CHANNEL = "C0CHAN01"
PEOPLE = ["U0ANNA01", "U0BEN001", "U0CARA01"]
COMMENT = "the release train leaves without QA"


@pytest.fixture
def slack(slack: FakeSlack) -> FakeSlack:
    slack.channel_members[CHANNEL] = [ADMIN, *PEOPLE]
    return slack


@pytest.fixture
def bot(
    tmp_path: Path, slack: FakeSlack, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> Iterator[Bot]:
    # Before the app is built: Bolt copies the root level to its loggers then, as at a
    # start with SHIPSHAPE_LOG_LEVEL=DEBUG.
    caplog.set_level(logging.DEBUG)
    with running_bot(tmp_path, slack, clock, pulse_send_interval=0) as started:
        yield started


def test_debug_logs_never_tie_an_answer_to_a_person(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    before = len(bot.slack.calls_to("response_url"))
    assert bot.command("/pulse", "start", user=ADMIN).status == 200
    bot.slack.wait_for("response_url", before + 1)
    assert bot.command("/pulse", "now", user=ADMIN).text.startswith("Round 1 is open")
    settle(bot)
    assert len(bot.slack.calls_to("chat.postMessage")) == 4

    anna, ben, cara = PEOPLE
    rate(bot, anna, 1, 4)
    tick(bot, anna, 1, ["ci", "meetings"])
    submit_comment(bot, anna, open_comment(bot, anna, 1), COMMENT)
    rate(bot, ben, 1, 2)
    click(bot, cara, 1, pulse_dm.SKIP_ACTION)
    click(bot, cara, 1, pulse_dm.STOP_ACTION)
    settle(bot)
    assert len(bot.slack.calls_to("chat.update")) >= 6

    lines = [r.getMessage() for r in caplog.records]
    assert any("conversations.members" in line for line in lines), "slack_sdk logs at DEBUG"
    ids = [*PEOPLE, *(dm(p) for p in PEOPLE), *("D" + p for p in PEOPLE)]
    person = re.compile("|".join(map(re.escape, ids)))
    # What a person chose: the saved status, the chosen button, the ticked boxes, the
    # comment, the skip and the stop, as they appear in the DM updates and click payloads.
    answer = re.compile(
        r"Saved|primary|waiting on CI|selected_options|skipped|stopped|pulse_|" + re.escape(COMMENT)
    )
    # The answers themselves appear nowhere, with or without a person: the comment, the
    # saved status, and the chosen buttons' values ("<round>:<score>").
    nowhere = [COMMENT, "Saved.", '"1:4"', "'1:4'", '"1:2"', "'1:2'"]
    for line in lines:
        assert not [value for value in nowhere if value in line], line
        assert not (person.search(line) and answer.search(line)), line
        mapped = [p for p in PEOPLE if p in line and ("D" + p in line or dm(p) in line)]
        assert not mapped, line


def test_socket_mode_envelopes_of_the_survey_are_not_logged(
    tmp_path: Path, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    """Over Socket Mode, Bolt's client logs every envelope it receives at DEBUG."""
    socket_mode = FakeSocketMode()
    slack.socket_mode_url = socket_mode.url
    config = make_config(
        tmp_path / "s.db", slack, slack_app_token="xapp-test", slack_signing_secret=None
    )
    caplog.set_level(logging.DEBUG)  # before the app is built, as in the bot fixture
    server = Server(config, FixedClock(NOW), "127.0.0.1", 0)
    try:
        server.serve_in_thread()
        socket_mode.wait_connected()
        anna = PEOPLE[0]
        with server.store.write() as db:
            survey = pulse.start_survey(
                db,
                pulse.Survey(0, CHANNEL, "channel", CHANNEL, "weekly", "fri", "14:00", "UTC"),
                ADMIN,
                NOW,
            )
            round_id = pulse.open_round(db, survey.id, NOW, "2026-11-30T12:00:00Z", b"k" * 32)
            assert pulse.claim_invite(db, round_id, anna)
        message = survey_dm(round_id)
        block_id, button = element(message, pulse_dm.ease_action(4))
        payload = block_actions(
            user=anna,
            channel=dm(anna),
            message=message,
            ts="1700000000.000100",
            action={**button, "type": "button", "block_id": block_id},
            trigger_id="trigger.socket.1",
            response_url="http://127.0.0.1:9/unused",
        )
        envelope = {"envelope_id": "env-pulse-1", "type": "interactive", "payload": payload}
        socket_mode.send(envelope)
        assert server.wait_idle()
        slack.wait_for("chat.update")
        assert len(bot_rows(server)) == 1  # the answer was saved
        for record in caplog.records:
            line = record.getMessage()
            assert not (anna in line or dm(anna) in line) or SURVEY_MARK not in line, line
            assert f"'{round_id}:4'" not in line and f'"{round_id}:4"' not in line, line
        assert any("Checking listener" in r.getMessage() for r in caplog.records), "Bolt logs"
    finally:
        server.stop()
        socket_mode.stop()


def bot_rows(server: Server) -> list[tuple[int, ...]]:
    return [tuple(r) for r in server.store.query("SELECT ease FROM pulse_answers")]


def test_every_survey_element_carries_the_mark_the_log_filter_looks_for() -> None:
    ids = [
        pulse_dm.EASE_ACTION,
        pulse_dm.SINKS_ACTION,
        pulse_dm.COMMENT_ACTION,
        pulse_dm.COMMENT_MODAL,
        pulse_dm.SKIP_ACTION,
        pulse_dm.STOP_ACTION,
        pulse_dm.START_ACTION,
    ]
    assert all(i.startswith(SURVEY_MARK) for i in ids)
