"""Reading and building modal fields, shared by the commands that open modals."""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import (
    CheckboxesElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
)


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
