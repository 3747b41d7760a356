"""Reading a request body: any JSON object reads as itself, anything else and nesting past
the limit are refused with a reason, never an exception (the server's answers to malformed
requests: tests/e2e/test_malformed.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.slack.requests import slack_problem
from bot.sources.http import MAX_JSON_DEPTH, BadJson, json_object

FORM = "application/x-www-form-urlencoded"


_text = st.text(alphabet=st.sampled_from('[]{}"\\:,ab é'), max_size=8)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | _text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=12,
)


@given(_json)
def test_any_json_object_reads_as_itself_and_anything_else_is_refused(value: Any) -> None:
    text = json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        assert json_object(text, "The body", "Slack request") == value
    else:
        with pytest.raises(BadJson, match="is not a JSON object"):
            json_object(text, "The body", "Slack request")


@given(st.integers(min_value=1, max_value=3 * MAX_JSON_DEPTH), _text)
def test_nesting_is_refused_past_the_limit_whatever_the_strings_hold(depth: int, text: str) -> None:
    value: Any = text
    for _ in range(depth - 1):
        value = [value, text]
    body = json.dumps({"a": value})
    if depth <= MAX_JSON_DEPTH:
        assert json_object(body, "The body", "Slack request") == {"a": value}
    else:
        with pytest.raises(BadJson, match=f"more than {MAX_JSON_DEPTH} levels"):
            json_object(body, "The body", "Slack request")


@given(st.binary(max_size=200), st.sampled_from(["application/json", FORM, ""]))
def test_any_body_gets_a_reason_or_passes_never_an_exception(body: bytes, kind: str) -> None:
    problem = slack_problem(body, kind)
    assert problem is None or problem.endswith((".", "..."))
