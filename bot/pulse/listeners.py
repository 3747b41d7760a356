"""The pulse survey DM's buttons and comment form: each choice is saved in one transaction
and the DM is updated in place to show what is saved. Who clicked is used only to find the
person's invite and responder hash; it is never stored beside the answer."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import sqlite_utils
from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block

from bot.core.moments import show, utc_text
from bot.deps import Deps
from bot.pulse import dm as pulse_dm
from bot.pulse import schedule as pulse_schedule
from bot.pulse import text as pulse_text
from bot.pulse.logs import private
from bot.slack import modals
from bot.slack.replies import ephemeral
from storage import pulse
from storage import pulse_answers as store
from storage.pulse_answers import Choices, Refused, RoundState

log = logging.getLogger(__name__)

Save = Callable[[sqlite_utils.Database, str], Choices]


def round_of(value: str) -> int | None:
    """The round id at the head of an action value ("12" or "12:4"); None when forged."""
    head = value.split(":", 1)[0]
    return int(head) if head.isascii() and head.isdigit() and len(head) <= 18 else None


def _refusal(deps: Deps, error: Refused) -> tuple[str, list[Block]]:
    state = error.round
    if error.reason != "closed" or state is None:
        return pulse_text.PULSE_NOT_INVITED, []
    db = deps.store.db
    survey = pulse.get_survey(db, state.survey_id) if state.survey_active else None
    current = pulse.open_round_of(db, state.survey_id)
    next_on = None
    if survey is not None:
        last = pulse.last_opened_at(db, survey.id)
        next_on = show(pulse_schedule.next_round_at(survey, last, deps.clock.now()), deps.tz)
    return pulse_dm.round_closed_message(
        show(state.closed_at or state.closes_at, deps.tz),
        next_on,
        current is not None and current.id != state.id,
    )


def _update(client: WebClient, channel: str, ts: str, message: tuple[str, list[Block]]) -> None:
    text, blocks = message
    try:
        # Not logged: the update shows the person's answers in their DM.
        private(client).chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
    except SlackApiError as error:
        # The answer is saved either way; only the confirmation is missing.
        log.warning("could not update a pulse DM: %s", error.response.get("error"))


def _save(
    deps: Deps, body: dict[str, Any], client: WebClient, respond: Respond, round_id: int, save: Save
) -> None:
    """Run one save for the person who clicked, then show the result in the DM they clicked
    in: their current choices, or why the answer was refused."""
    channel, ts = _dm(body)
    try:
        with deps.store.write() as db:
            choices = save(db, body["user"]["id"])
            state = store.round_state(db, round_id)
    except Refused as error:
        _refused(deps, client, respond, channel, ts, error)
        return
    assert state is not None
    _update(
        client, channel, ts, pulse_dm.answered_message(round_id, state.closes_at, deps.tz, choices)
    )


def _dm(body: dict[str, Any]) -> tuple[str, str]:
    """The DM channel and message ts that were clicked in (used for the update, never stored)."""
    container = body.get("container", {})
    return container.get("channel_id", ""), container.get("message_ts", "")


def _refused(
    deps: Deps, client: WebClient, respond: Respond, channel: str, ts: str, error: Refused
) -> None:
    """A closed round's DM loses its buttons and says when the next comes; a stranger's
    click is answered privately and leaves the DM alone."""
    message = _refusal(deps, error)
    if error.reason == "closed":
        _update(client, channel, ts, message)
    else:
        respond(**ephemeral(message[0]))


# Each reads one click: the round and the save it asks for, or None for a forged value.
Click = Callable[[dict[str, Any], str], tuple[int, Save] | None]


def _ease(action: dict[str, Any], at: str) -> tuple[int, Save] | None:
    round_id = round_of(action.get("value", ""))
    score = action.get("value", "").rpartition(":")[2]
    if round_id is None or score not in {"1", "2", "3", "4", "5"}:
        return None
    return round_id, lambda db, user: store.record_ease(db, round_id, user, int(score), at)


def _sinks(action: dict[str, Any], at: str) -> tuple[int, Save] | None:
    round_id = round_of(action.get("block_id", "").partition(":")[2])
    if round_id is None:
        return None
    chosen = [o.get("value", "") for o in action.get("selected_options") or []]
    return round_id, lambda db, user: store.record_sinks(db, round_id, user, chosen, at)


def _skip(action: dict[str, Any], at: str) -> tuple[int, Save] | None:
    round_id = round_of(action.get("value", ""))
    if round_id is None:
        return None
    return round_id, lambda db, user: store.skip(db, round_id, user, at)


def register(app: App, deps: Deps) -> None:
    def now() -> str:
        return utc_text(deps.clock.now())

    def on_click(read: Click) -> Callable[..., None]:
        def listener(
            ack: Ack,
            body: dict[str, Any],
            action: dict[str, Any],
            client: WebClient,
            respond: Respond,
        ) -> None:
            ack()
            if found := read(action, now()):
                _save(deps, body, client, respond, *found)

        return listener

    app.action(re.compile(rf"^{pulse_dm.EASE_ACTION}_[1-5]$"))(on_click(_ease))
    app.action(pulse_dm.SINKS_ACTION)(on_click(_sinks))
    app.action(pulse_dm.SKIP_ACTION)(on_click(_skip))

    @app.action(pulse_dm.COMMENT_ACTION)
    def on_comment(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond
    ) -> None:
        ack()
        round_id = round_of(action.get("value", ""))
        if round_id is None:
            return
        channel, ts = _dm(body)
        try:
            choices = store.current(deps.store.db, round_id, body["user"]["id"], now())
        except Refused as error:
            _refused(deps, client, respond, channel, ts, error)
            return
        view = pulse_dm.comment_modal(round_id, channel, ts, choices.comment)
        private(client).views_open(trigger_id=body["trigger_id"], view=view)  # their comment

    @app.view(pulse_dm.COMMENT_MODAL)
    def on_comment_submit(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
    ) -> None:
        meta = modals.metadata(view)
        round_id = meta.get("round_id")
        if not isinstance(round_id, int):
            ack()
            return
        comment = modals.values(view).get(pulse_dm.COMMENT_BLOCK, "")
        if len(comment) > store.MAX_COMMENT:
            problem = pulse_text.pulse_comment_too_long(len(comment), store.MAX_COMMENT)
            ack(response_action="errors", errors={pulse_dm.COMMENT_BLOCK: problem})
            return
        try:
            with deps.store.write() as db:
                choices = store.record_comment(db, round_id, body["user"]["id"], comment, now())
                state = store.round_state(db, round_id)
        except Refused as error:
            problem, _ = _refusal(deps, error)
            ack(response_action="errors", errors={pulse_dm.COMMENT_BLOCK: problem})
            return
        ack()
        channel, ts = str(meta.get("channel_id") or ""), str(meta.get("message_ts") or "")
        if state is not None and channel and ts:
            message = pulse_dm.answered_message(round_id, state.closes_at, deps.tz, choices)
            _update(client, channel, ts, message)

    @app.action(pulse_dm.STOP_ACTION)
    def on_stop(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        round_id = round_of(action.get("value", "")) or 0
        with deps.store.write() as db:
            store.stop_asking(db, body["user"]["id"], now())
        channel, ts = _dm(body)
        _update(client, channel, ts, pulse_dm.stopped_message(round_id))

    @app.action(pulse_dm.START_ACTION)
    def on_start(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        user_id = body["user"]["id"]
        round_id = round_of(action.get("value", ""))
        with deps.store.write() as db:
            store.start_asking(db, user_id)
            state = store.round_state(db, round_id) if round_id is not None else None
        channel, ts = _dm(body)
        message = _still_open(deps, state, user_id) or pulse_dm.restarted_message()
        _update(client, channel, ts, message)


def _still_open(
    deps: Deps, state: RoundState | None, user_id: str
) -> tuple[str, list[Block]] | None:
    """Someone who comes back while their round is open gets its questions again."""
    if state is None:
        return None
    try:
        choices = store.current(deps.store.db, state.id, user_id, utc_text(deps.clock.now()))
    except Refused:
        return None
    note = pulse_text.PULSE_RESTARTED
    return pulse_dm.answered_message(state.id, state.closes_at, deps.tz, choices, note)
