"""The team and scope grammar of /dora (commands/dora.py): what people type parses to the
request it says, any text either parses or is refused with a problem and a /dora example,
and a refusal names what was wrong."""

from __future__ import annotations

import pendulum
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.core.errors import UsageError
from bot.core.text import is_service
from bot.core.windows import parse as parse_window
from bot.teams.rules import Scope
from commands import dora

TZ = "Europe/Berlin"
NOW = pendulum.datetime(2026, 11, 24, 12, 0, 0)
# bot.core.text.SERVICE: the names a team and its services may have.
NAMES = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9._/-]{0,79}\Z")
SCOPES = st.one_of(
    st.just(Scope("all")),
    st.builds(Scope, st.just("service"), NAMES),
    st.builds(Scope, st.just("team"), NAMES),
)
WINDOWS = st.sampled_from(["", "7d", "30d", "last week", "this quarter", "90d"])


def parse(text: str) -> dora.Request:
    return dora.parse(text, TZ, NOW)


def render_scope(request: dora.SetScope) -> str:
    scope = request.scope
    return "scope all" if scope.kind == "all" else f'scope {scope.kind}="{scope.name}"'


def render_team(request: dora.SetTeam | dora.RemoveTeam) -> str:
    if isinstance(request, dora.RemoveTeam):
        return f"team remove {request.name}"
    return " ".join(["team", "set", request.name, *request.services])


# ---- round trips ---------------------------------------------------------------------------


@settings(max_examples=300, deadline=None, derandomize=True)
@given(SCOPES)
@example(Scope("team", "all"))
@example(Scope("service", "user"))
def test_scope_round_trips(scope: Scope) -> None:
    request = dora.SetScope(scope)
    assert parse(render_scope(request)) == request


@settings(max_examples=300, deadline=None, derandomize=True)
@given(NAMES, st.lists(NAMES, min_size=1, max_size=8))
@example("payments", ["api", "checkout", "ledger"])
@example("teams", ["help", "all", "7d"])  # words that mean something elsewhere are names here
def test_team_set_round_trips(name: str, services: list[str]) -> None:
    request = dora.SetTeam(name, tuple(services))
    assert parse(render_team(request)) == request


@settings(max_examples=100, deadline=None, derandomize=True)
@given(NAMES)
def test_team_remove_round_trips(name: str) -> None:
    request = dora.RemoveTeam(name)
    assert parse(render_team(request)) == request


@settings(max_examples=200, deadline=None, derandomize=True)
@given(NAMES, WINDOWS, st.booleans(), st.none() | st.sampled_from(["staging", "eu west"]))
def test_a_team_query_round_trips(name: str, window: str, share: bool, env: str | None) -> None:
    words = [f'team="{name}"', window, *(["share"] if share else [])]
    if env:
        words.append(f'env="{env}"')
    assert parse(" ".join(w for w in words if w)) == dora.Query(
        service=None,
        environment=env,
        window=parse_window(window or "30d", NOW, TZ),
        share=share,
        team=name,
        scoped=False,
    )


def test_only_a_plain_dora_takes_the_channels_scope() -> None:
    plain = parse("7d")
    assert isinstance(plain, dora.Query) and plain.scoped
    for text in ("all 7d", "api 7d", "team=payments 7d"):
        query = parse(text)
        assert isinstance(query, dora.Query) and not query.scoped, text


def test_subscribe_for_a_team() -> None:
    assert parse("subscribe friday 16:00 team=payments") == dora.Subscribe(
        "fri", "16:00", TZ, None, "payments"
    )


def test_simple_requests() -> None:
    assert isinstance(parse("teams"), dora.ListTeams)
    assert isinstance(parse("scope"), dora.ShowScope)
    assert parse("scope ALL") == dora.SetScope(Scope("all"))


# ---- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "problem", "example"),
    [
        ("team", "I can't read `team`", "/dora team set payments api checkout ledger"),
        ("team add payments api", "I can't read `team add`", "/dora team set"),
        ("team set payments", "Give the team's name and its services", "/dora team set"),
        ("team set pay%ments api", "`pay%ments` is not a team name", "/dora team set"),
        ("team set payments api bad%name", "`bad%name` is not a service name", "/dora team set"),
        ("team remove", "Give one team's name", "/dora team remove payments"),
        ("team remove a b", "Give one team's name", "/dora team remove payments"),
        ("teams payments", "I did not expect `payments`", "/dora teams"),
        ("scope payments", "I did not expect `payments`", "/dora scope team=payments"),
        ("scope team=a service=b", "I did not expect", "/dora scope team=payments"),
        ("scope all team=a", "I did not expect", "/dora scope team=payments"),
        ("scope env=x", "`env=` is not an option here", "/dora scope team=payments"),
        ("scope team=", "`team=` has no value", "/dora scope team=payments"),
        ("api team=payments", "Give a service or `team=`, not both", "/dora team=payments 30d"),
        ("all team=payments", "Give a service or `team=`, not both", "/dora team=payments 30d"),
        ('team="a b"', "`a b` is not a team name", "/dora team=payments 30d"),
        ("team=a\u202eb", "invisible character", "/dora team=payments 30d"),
        ("subscribe service=api team=payments", "not both", "/dora subscribe"),
    ],
)
def test_refusals_name_the_problem_and_show_an_example(
    text: str, problem: str, example: str
) -> None:
    with pytest.raises(UsageError) as error:
        parse(text)
    assert problem in error.value.problem
    assert error.value.example.startswith(example)


PIECES = [
    "team", "teams", "scope", "set", "remove", "all", "team=", "team=payments", "service=api",
    "service=", "payments", "api", "7d", "share", "env=x", '"', "a b", "\x00", "@bob",
    "user=U1", "<@U0BOB0001>", "--x", "subscribe", "x" * 90, "ü", "pay/ments",
]  # fmt: skip


@settings(max_examples=600, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from(PIECES) | st.text(max_size=12), max_size=7))
@example(["team", "set", "a", "b" * 81])
@example(["scope", "team=payments", "share"])
def test_any_text_parses_or_is_refused_with_an_example(words: list[str]) -> None:
    try:
        request = parse(" ".join(words))
    except UsageError as error:
        assert error.problem.strip()
        assert error.example.startswith("/dora")
        return
    if isinstance(request, dora.SetTeam):
        assert request.services and all(is_service(s) for s in request.services)
    if isinstance(request, dora.SetScope) and request.scope.kind != "all":
        assert is_service(request.scope.name or "")
