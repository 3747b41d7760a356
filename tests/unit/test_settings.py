"""bot.config's settings table: the variables `serve` alone reads (PORT, SHIPSHAPE_LOG_LEVEL),
SHIPSHAPE_NOW, and the order problems are listed in."""

from __future__ import annotations

import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.config import SETTINGS, Config, ConfigError, load

HTTP = {"SLACK_BOT_TOKEN": "xoxb-1-abc", "SLACK_SIGNING_SECRET": "s3cret"}


def problems(env: dict[str, str], *, for_slack: bool = True) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(env, for_slack=for_slack)
    return caught.value.problems


def test_config_defaults_are_the_table_defaults() -> None:
    assert load({}, for_slack=False) == Config()
    assert (Config().port, Config().log_level, Config().now) == (3000, "INFO", None)


@given(st.integers(min_value=1, max_value=65535))
def test_any_port_number_is_read(port: int) -> None:
    assert load({**HTTP, "PORT": str(port)}, for_slack=True).port == port


@given(st.text(max_size=8))
def test_anything_else_in_port_is_one_problem_naming_it(text: str) -> None:
    stripped = text.strip()
    if stripped.isascii() and stripped.isdigit() and 1 <= int(stripped) <= 65535:
        return
    if not stripped:
        assert load({**HTTP, "PORT": stripped}, for_slack=True).port == 3000
        return
    assert problems({**HTTP, "PORT": stripped}) == [
        f"PORT is {stripped!r}, which is not a port number. Use 1 to 65535, or pass --port."
    ]


@pytest.mark.parametrize("level", ["debug", "INFO", "Warning", "ERROR"])
def test_log_level_is_read_in_any_case(level: str) -> None:
    assert load({**HTTP, "SHIPSHAPE_LOG_LEVEL": level}, for_slack=True).log_level == level.upper()


def test_a_bad_log_level_is_one_problem_naming_it() -> None:
    (problem,) = problems({**HTTP, "SHIPSHAPE_LOG_LEVEL": "loud"})
    assert problem.startswith("SHIPSHAPE_LOG_LEVEL is 'loud', which is not a log level.")
    assert "INFO" in problem


def test_only_serve_reads_its_own_settings() -> None:
    config = load({"PORT": "http", "SHIPSHAPE_LOG_LEVEL": "loud"}, for_slack=False)
    assert (config.port, config.log_level) == (3000, "INFO")


def test_shipshape_now_pins_the_time_for_every_command() -> None:
    config = load({"SHIPSHAPE_NOW": "2026-11-23T09:00Z"}, for_slack=False)
    assert config.now == pendulum.datetime(2026, 11, 23, 9)
    (problem,) = problems({"SHIPSHAPE_NOW": "tomorrowish"}, for_slack=False)
    assert problem == (
        "SHIPSHAPE_NOW is 'tomorrowish', which is not an ISO-8601 time such as "
        "2026-11-23T09:00Z. Unset it to use the current time."
    )


def test_problems_come_in_the_order_they_always_did() -> None:
    found = problems(
        {
            "GITHUB_APP_ID": "1",
            "SHIPSHAPE_PULSE_MIN_RESPONDENTS": "2",
            "SHIPSHAPE_GITHUB_SYNC_MINUTES": "0",
            "SHIPSHAPE_ADMINS": "bob",
            "SHIPSHAPE_TIMEZONE": "Nowhere",
            "GITHUB_API_URL": "nope",
            "SLACK_API_URL": "nope",
            "PORT": "0",
        }
    )
    named = [problem.split()[0] for problem in found]
    assert named == [
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_API_URL",
        "GITHUB_API_URL",
        "SHIPSHAPE_TIMEZONE",
        "SHIPSHAPE_ADMINS",
        "SHIPSHAPE_GITHUB_SYNC_MINUTES",
        "SHIPSHAPE_PULSE_MIN_RESPONDENTS",
        "PORT",
        "GitHub",  # the App's three settings, checked together
    ]


def test_every_setting_fills_a_config_field() -> None:
    fields = set(Config.__dataclass_fields__)
    assert {s.attribute for s in SETTINGS} == fields - {"pulse_send_interval"}
