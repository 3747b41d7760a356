"""Property tests: whatever people type, the parsers answer with a request or a usage error.

SPEC.md Principle 4: bad input gets a clear private reply that names what was wrong, and
nothing partial is stored. The parsers must never fail any other way (and through the
running server a refused command must leave the database as it was:
tests/scenario/test_parsers.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pendulum
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.core.errors import UsageError
from commands import deploy, dora, incident
from tests.conftest import NOW

Parser = Callable[[str, str, pendulum.DateTime], Any]
ZONES = st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"])
MOMENT = pendulum.parse(NOW)
assert isinstance(MOMENT, pendulum.DateTime)

WORDS = [
    "help", "list", "undo", "open", "resolve", "link", "all", "open", "none", "api",
    "checkout-web", "web/app", "v1.2.3", "1", "42", "#42", "0", "50", "51", "999999999999999",
    "-1", "²", "٣", "１２", "Ⅻ", "incident", "deploy", "Checkout down", "x" * 90,
]  # fmt: skip
KEYS = [
    "env", "sha", "repo", "at", "status", "url", "sev", "deploy", "rollback", "hotfix",
    "from", "to", "Env", "AT", "nope", "title",
]  # fmt: skip
VALUES = [
    "", "production", "prod", "staging", "PROD", "a1b2c3d", "a1b2c3d4" * 5, "a1b2c3d4" * 6,
    "zzz", "acme/api", "acme", "/", "success", "failed", "SUCCESS", "1", "2", "4", "5", "9", "0",
    "none", "#3", "3", "now", "15m", "ago", "15m ago", "2h ago", "3 days ago", "yesterday 14:00",
    "today 09:30", "09:30", "25:00", "2026-11-20T14:05Z", "2026-11-20 14:05", "2026-02-30",
    "1999-12-31", "2030-01-01", "https://ci.example.com/run/1", "<https://x.example|run>",
    "<https://x.example>", "ftp://x", "http://", "ünïcødé", "🚀", "a b", "x" * 600,
]  # fmt: skip
FLAGS = [
    "--hotfix", "--rollback", "--rollback=3", "--rollback=previous", "--rollback=x",
    "--hotfix=yes", "--nope", "--", "--HOTFIX", "-h", "--rollback=",
]  # fmt: skip
SPICE = [
    '"', "'", "“", "”", "‘", "’", "\\", "&amp;", "&lt;", "&gt;", "&#0;", "&#x110000;", "<", ">",
    "<@U0ALICE1>", "<#C0CHAN01|deploys>", "\u00a0", "\t", "\n", "\u200b", "\x00", "=", "==",
    "ß", "İ", "ǅ", "ﬁ", "😀", "\u202e", "\ufeff",
]  # fmt: skip


def _quoted(value: str, quote: str) -> str:
    return f"{quote}{value}{quote}"


option = st.builds(
    lambda k, v, q: f"{k}={_quoted(v, q) if q else v}",
    st.sampled_from(KEYS),
    st.sampled_from(VALUES) | st.text(max_size=20),
    st.sampled_from(["", '"', "'", "“"]),
)
token = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(FLAGS),
    st.sampled_from(SPICE),
    option,
    st.sampled_from(VALUES).map(lambda v: _quoted(v, '"')),
    st.text(min_size=1, max_size=12),
)
separator = st.sampled_from([" ", " ", " ", "  ", "\t", "\n", "", "\u00a0"])


@st.composite
def command_text(draw: st.DrawFn) -> str:
    """Mostly command-shaped text (known words, keys, flags, quotes) with random debris."""
    tokens = draw(st.lists(token, max_size=10))
    text = ""
    for piece in tokens:
        text += draw(separator) + piece
    return text


TEXTS = command_text() | st.text(max_size=80) | st.text(max_size=2100, alphabet="ab =\"'")

DEPLOY_REQUESTS = (
    deploy.NewDeploy,
    deploy.ListDeploys,
    deploy.UndoDeploy,
    deploy.Help,
    deploy.OpenModal,
)
INCIDENT_REQUESTS = (
    incident.OpenIncident,
    incident.ResolveIncident,
    incident.LinkIncident,
    incident.ListIncidents,
    incident.Help,
    incident.OpenModal,
)


def _answer(parse: Parser, text: str, tz: str, kinds: tuple[type, ...]) -> None:
    try:
        request = parse(text, tz, MOMENT)
    except UsageError as error:
        assert isinstance(error.problem, str)
        assert error.problem.strip(), f"empty problem for {text!r}"
        return
    assert isinstance(request, kinds), f"{text!r} gave {request!r}"


@settings(max_examples=600, deadline=None, derandomize=True)
@given(TEXTS, ZONES)
@example("list ²", "UTC")  # a superscript digit passes str.isdigit() but not int()
@example("list api ²", "UTC")
@example("list 5", "UTC")
@example("undo ²", "UTC")
@example("api at=" + "9" * 8, "UTC")
@example('api "unclosed', "UTC")
@example("api at=15m ago", "Europe/Berlin")
@example("a" * 2001, "UTC")
@example("api &lt;script&gt;", "UTC")
@example("api --rollback=", "UTC")
@example("--hotfix", "UTC")  # options and flags but no service
@example("env=staging at=now", "UTC")
def test_deploy_parse_answers_or_refuses(text: str, tz: str) -> None:
    _answer(deploy.parse, text, tz, DEPLOY_REQUESTS)


@settings(max_examples=600, deadline=None, derandomize=True)
@given(TEXTS, ZONES)
@example("list ²", "UTC")
@example("open api Checkout down sev=9", "UTC")
@example("open api Checkout down at=" + "9" * 8, "UTC")
@example("resolve ² at=now", "UTC")
@example("link 1 deploy=none deploy=2", "UTC")
@example("open api " + "t" * 2001, "UTC")
@example("open", "UTC")
def test_incident_parse_answers_or_refuses(text: str, tz: str) -> None:
    _answer(incident.parse, text, tz, INCIDENT_REQUESTS)


# ---- through the running server --------------------------------------------------------


# ---- issue 11: any date, any environment, any control character ---------------------------

DORA_REQUESTS = (
    dora.Query,
    dora.Help,
    dora.Subscribe,
    dora.Unsubscribe,
    dora.Subscriptions,
    dora.NamesAPerson,
    dora.SetTeam,
    dora.RemoveTeam,
    dora.ListTeams,
    dora.SetScope,
    dora.ShowScope,
)
ANY_DAY = st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat)
ANY_TIME = st.builds(
    lambda day, clock: day + clock,
    ANY_DAY,
    st.sampled_from(["T00:00+14:00", "T23:59-12:00", "T12:00Z", " 09:30"]),
)
UNPRINTABLE = st.sampled_from(
    ["\x00", "\x1b", "\x7f", "\x85", "\u202a", "\u202e", "\u2066", "\u2069"]
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(ANY_DAY | ANY_TIME, ANY_DAY | ANY_TIME, ZONES)
@example("0001-01-01", "9999-12-31", "UTC")
@example("0001-01-01T00:00+14:00", "2026-01-01", "UTC")
@example("0001-01-01", "2026-01-01", "Asia/Kolkata")
@example("2026-01-01", "9999-12-31T23:59-12:00", "America/New_York")
def test_dora_range_of_any_dates_answers_or_refuses(start: str, end: str, tz: str) -> None:
    _answer(dora.parse, f'from="{start}" to="{end}"', tz, DORA_REQUESTS)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(ANY_DAY | ANY_TIME, ZONES, st.sampled_from(["/deploy", "/incident"]))
@example("0001-01-01", "Asia/Kolkata", "/deploy")
@example("0001-01-01T00:00+14:00", "UTC", "/incident")
@example("9999-12-31T23:59-12:00", "UTC", "/deploy")
def test_at_of_any_date_answers_or_refuses(at: str, tz: str, command: str) -> None:
    if command == "/deploy":
        _answer(deploy.parse, f'api v1 at="{at}"', tz, DEPLOY_REQUESTS)
    else:
        _answer(incident.parse, f'open api Checkout down at="{at}"', tz, INCIDENT_REQUESTS)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    st.sampled_from(
        ["api {}", "api v1 env={}", "api v1 sha={}", "api v1 repo={}", "api v1 url={}"]
    ),
    st.text(max_size=8),
    UNPRINTABLE,
    st.text(max_size=8),
)
def test_a_control_or_bidi_character_in_any_deploy_field_is_refused(
    form: str, before: str, char: str, after: str
) -> None:
    """Refused, naming the character rather than echoing it; or, at either end of a value,
    stripped with the spaces around it (NEL is white space to Python)."""
    value = (before + char + after).replace('"', "")
    try:
        request = deploy.parse(form.format(f'"{value}"'), "UTC", MOMENT)
    except UsageError as error:
        assert char not in error.problem or error.problem.startswith("I did not expect")
        return
    assert char not in repr(request), f"{form.format(value)!r} was accepted"


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text(min_size=1, max_size=300))
def test_any_environment_name_is_taken_or_refused_by_name(env: str) -> None:
    try:
        request = deploy.parse(f'api v1 env="{env.replace(chr(34), "")}"', "UTC", MOMENT)
    except UsageError as error:
        assert error.problem.strip()
        return
    assert isinstance(request, deploy.NewDeploy)
    assert request.environment == request.environment.strip().lower()
    assert 0 < len(request.environment) <= 255
