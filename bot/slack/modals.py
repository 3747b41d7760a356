"""Reading and building modal fields, shared by the commands that open modals."""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.core.errors import FieldError
from bot.slack import text as slack_text


def form(callback_id: str, title: str, metadata: dict[str, Any], blocks: list[Block]) -> View:
    """A modal with Save and Cancel; `metadata` comes back with its submission."""
    return View(
        type="modal",
        callback_id=callback_id,
        title=title,
        submit=slack_text.MODAL_SUBMIT,
        close=slack_text.MODAL_CANCEL,
        private_metadata=json.dumps(metadata),
        blocks=blocks,
    )


def field_errors(error: FieldError, fields: Collection[str], fallback: str) -> dict[str, Any]:
    """ack() arguments that show a refusal under the field it is about (or `fallback` when
    the form has no such field), keeping the form open with what was typed."""
    block = error.key if error.key in fields else fallback
    return {"response_action": "errors", "errors": {block: error.problem}}


def command_key(command: dict[str, Any]) -> str:
    """A slash command's source key: Slack's retry of the same command carries the same."""
    return f"{command['team_id']}:{command['channel_id']}:{command['trigger_id']}"


def submission_key(body: dict[str, Any], channel_id: str, view: dict[str, Any]) -> str:
    """A modal submission's source key: a double-clicked Save submits the same view."""
    return f"{body['team']['id']}:{channel_id}:{view['id']}"


def text_input(
    block_id: str, label: str, *, hint: str | None = None, placeholder: str | None = None,
    optional: bool = True, initial: str | None = None, multiline: bool = False,
) -> InputBlock:  # fmt: skip
    return InputBlock(
        block_id=block_id,
        label=label,
        hint=hint,
        optional=optional,
        element=PlainTextInputElement(
            action_id="value",
            placeholder=placeholder,
            initial_value=initial,
            multiline=multiline,
        ),
    )


def select_input(
    block_id: str, label: str, options: list[tuple[str, str]], initial: str | None = None
) -> InputBlock:
    choices = [Option(value=value, label=text) for value, text in options]
    chosen = next((o for o in choices if o.value == initial), None)
    return InputBlock(
        block_id=block_id,
        label=label,
        optional=True,
        element=StaticSelectElement(action_id="value", options=choices, initial_option=chosen),
    )


def checkbox_input(block_id: str, label: str, options: list[tuple[str, str]]) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=label,
        optional=True,
        element=CheckboxesElement(
            action_id="value", options=[Option(value=v, label=t) for v, t in options]
        ),
    )


def values(view: dict[str, Any]) -> dict[str, str]:
    """The submitted values by block id; empty fields are left out, checkboxes become
    their selected values joined by commas."""
    found: dict[str, str] = {}
    for block_id, actions in view.get("state", {}).get("values", {}).items():
        state = actions.get("value", {})
        kind = state.get("type")
        if kind == "plain_text_input":
            value = (state.get("value") or "").strip()
        elif kind == "static_select":
            value = (state.get("selected_option") or {}).get("value", "")
        elif kind == "checkboxes":
            value = ",".join(o["value"] for o in state.get("selected_options") or [])
        else:
            value = ""
        if value:
            found[block_id] = value
    return found


def metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        loaded = json.loads(view.get("private_metadata") or "{}")
    except json.JSONDecodeError:
        return {}
    return loaded if isinstance(loaded, dict) else {}
