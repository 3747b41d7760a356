"""The pulse survey DM: three questions as buttons and checkboxes, updated in place as the
person answers so it always shows what is saved for them."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ConfirmObject,
    ContextBlock,
    InputBlock,
    Option,
    PlainTextInputElement,
)
from slack_sdk.models.views import View

from bot.core.moments import show
from bot.pulse import text as pulse_text
from bot.slack import modals
from bot.slack.blocks import mrkdwn_text, section
from storage.pulse_answers import EASE_SCORES, MAX_COMMENT, SINKS, Choices

# Slack wants action ids unique within a block, so each score button has its own id
# (pulse_ease_1 .. pulse_ease_5); the value carries "<round_id>:<score>".
EASE_ACTION = "pulse_ease"
SINKS_ACTION = "pulse_sinks"
COMMENT_ACTION = "pulse_comment"
COMMENT_MODAL = "pulse_comment"
COMMENT_BLOCK = "comment"
SKIP_ACTION = "pulse_skip"
STOP_ACTION = "pulse_stop_asking"
START_ACTION = "pulse_start_asking"


def ease_action(score: int) -> str:
    return f"{EASE_ACTION}_{score}"


def _sink_option(key: str) -> Option:
    return Option(value=key, label=pulse_text.PULSE_SINK_LABELS[key])


def _survey(
    round_id: int, closes_at: str, tz: str, choices: Choices, intro: str, status: str | None
) -> list[Block]:
    ease_buttons = [
        ButtonElement(
            text=pulse_text.pulse_ease_button(score),
            action_id=ease_action(score),
            value=f"{round_id}:{score}",
            style="primary" if choices.ease == score else None,
        )
        for score in EASE_SCORES
    ]
    # Slack refuses an empty initial_options list, so "nothing ticked" is None.
    ticked = [_sink_option(key) for key in choices.sinks] or None
    comment = pulse_text.PULSE_EDIT_COMMENT if choices.comment else pulse_text.PULSE_ADD_COMMENT
    blocks: list[Block] = [
        section(intro),
        section(pulse_text.PULSE_Q_EASE),
        ActionsBlock(block_id=f"{EASE_ACTION}:{round_id}", elements=ease_buttons),
        section(pulse_text.PULSE_Q_SINKS),
        ActionsBlock(
            block_id=f"{SINKS_ACTION}:{round_id}",
            elements=[
                CheckboxesElement(
                    action_id=SINKS_ACTION,
                    options=[_sink_option(key) for key in SINKS],
                    initial_options=ticked,
                )
            ],
        ),
        section(pulse_text.PULSE_Q_COMMENT),
        ActionsBlock(
            block_id=f"pulse_more:{round_id}",
            elements=[
                ButtonElement(text=comment, action_id=COMMENT_ACTION, value=str(round_id)),
                ButtonElement(
                    text=pulse_text.PULSE_SKIP, action_id=SKIP_ACTION, value=str(round_id)
                ),
                ButtonElement(
                    text=pulse_text.PULSE_STOP_ASKING,
                    action_id=STOP_ACTION,
                    value=str(round_id),
                    style="danger",
                    confirm=ConfirmObject(
                        title=pulse_text.PULSE_STOP_CONFIRM_TITLE,
                        text=pulse_text.PULSE_STOP_CONFIRM_TEXT,
                        confirm=pulse_text.PULSE_STOP_ASKING,
                        deny=pulse_text.PULSE_STOP_CONFIRM_NO,
                        style="danger",
                    ),
                ),
            ],
        ),
        ContextBlock(
            elements=[
                mrkdwn_text(pulse_text.PULSE_ANONYMOUS),
                mrkdwn_text(pulse_text.pulse_closes(show(closes_at, tz))),
            ]
        ),
    ]
    if status:
        blocks.append(section(status))
    return blocks


def question_message(round_id: int, closes_at: str, tz: str) -> tuple[str, list[Block]]:
    """The first DM of a round; `closes_at` is UTC text."""
    blocks = _survey(round_id, closes_at, tz, Choices(), pulse_text.PULSE_DM_INTRO, None)
    return pulse_text.PULSE_DM_TEXT, blocks


def reminder_message(round_id: int, closes_at: str, tz: str) -> tuple[str, list[Block]]:
    """The one reminder: a new DM with the questions again."""
    blocks = _survey(round_id, closes_at, tz, Choices(), pulse_text.PULSE_DM_REMINDER, None)
    return pulse_text.PULSE_REMINDER_TEXT, blocks


def answered_message(
    round_id: int, closes_at: str, tz: str, choices: Choices, note: str | None = None
) -> tuple[str, list[Block]]:
    """The DM after a choice: the questions with the person's current answers marked, and
    what is saved (or that they skipped)."""
    if choices.skipped:
        status = pulse_text.PULSE_SKIPPED
    elif choices.answered:
        labels = [pulse_text.PULSE_SINK_LABELS[key] for key in choices.sinks]
        status = pulse_text.pulse_saved(choices.ease, labels, bool(choices.comment))
    else:
        status = None
    if note:
        status = f"{status}\n{note}" if status else note
    blocks = _survey(round_id, closes_at, tz, choices, pulse_text.PULSE_DM_INTRO, status)
    return pulse_text.PULSE_DM_TEXT, blocks


def closed_message() -> tuple[str, list[Block]]:
    """What a DM becomes once its round has closed: no buttons, no choices left in it."""
    return pulse_text.PULSE_CLOSED, [section(pulse_text.PULSE_CLOSED)]


def round_closed_message(
    closed_on: str, next_on: str | None, newer_open: bool
) -> tuple[str, list[Block]]:
    """A click on a round that has closed: when it closed, and where to answer now."""
    text = pulse_text.pulse_round_closed(closed_on, next_on, newer_open)
    return text, [section(text)]


def stopped_message(round_id: int) -> tuple[str, list[Block]]:
    return pulse_text.PULSE_STOPPED_TEXT, [
        section(pulse_text.PULSE_STOPPED),
        ActionsBlock(
            block_id=f"pulse_stopped:{round_id}",
            elements=[
                ButtonElement(
                    text=pulse_text.PULSE_START_ASKING, action_id=START_ACTION, value=str(round_id)
                )
            ],
        ),
    ]


def restarted_message() -> tuple[str, list[Block]]:
    return pulse_text.PULSE_RESTARTED, [section(pulse_text.PULSE_RESTARTED)]


def comment_modal(round_id: int, channel_id: str, message_ts: str, comment: str | None) -> View:
    """The comment form. Its metadata names the round and the DM to update, never the person
    (Slack tells us who submits it)."""
    return modals.form(
        COMMENT_MODAL,
        pulse_text.PULSE_MODAL_TITLE,
        {"round_id": round_id, "channel_id": channel_id, "message_ts": message_ts},
        [
            section(pulse_text.PULSE_COMMENT_NOTE),
            InputBlock(
                block_id=COMMENT_BLOCK,
                label=pulse_text.PULSE_COMMENT_LABEL,
                optional=True,
                element=PlainTextInputElement(
                    action_id="value",
                    multiline=True,
                    max_length=MAX_COMMENT,
                    initial_value=comment,
                ),
            ),
        ],
    )
