"""bot.config: every variable of SPEC.md "Configuration", its checks and its defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import (
    DEFAULT_GITHUB_API_URL,
    DEFAULT_SLACK_API_URL,
    ConfigError,
    load,
    read_environment,
)

HTTP = {"SLACK_BOT_TOKEN": "xoxb-1-abc", "SLACK_SIGNING_SECRET": "s3cret"}
SOCKET = {"SLACK_BOT_TOKEN": "xoxb-1-abc", "SLACK_APP_TOKEN": "xapp-1-abc"}


def problems(env: dict[str, str], *, for_slack: bool = True) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(env, for_slack=for_slack)
    assert caught.value.problems, "a ConfigError always names at least one problem"
    assert str(caught.value) == "\n".join(caught.value.problems)
    return caught.value.problems


def only_problem(env: dict[str, str], *, for_slack: bool = True) -> str:
    found = problems(env, for_slack=for_slack)
    assert len(found) == 1, found
    return found[0]


# ---- Slack credentials ---------------------------------------------------------------------


def test_missing_bot_token_is_named_with_where_to_get_it() -> None:
    problem = only_problem({"SLACK_SIGNING_SECRET": "s3cret"})
    assert "SLACK_BOT_TOKEN" in problem
    assert "xoxb-" in problem
    assert "api.slack.com/apps" in problem


def test_empty_bot_token_counts_as_missing() -> None:
    problem = only_problem({**HTTP, "SLACK_BOT_TOKEN": ""})
    assert "SLACK_BOT_TOKEN" in problem


def test_nothing_set_names_both_variables_at_once() -> None:
    found = problems({})
    text = "\n".join(found)
    assert len(found) == 2
    assert "SLACK_BOT_TOKEN" in text
    assert "SLACK_SIGNING_SECRET" in text
    assert "SLACK_APP_TOKEN" in text  # the Socket Mode alternative is offered


@pytest.mark.parametrize("token", ["xoxp-user-token", "xapp-1-abc", "abc", "XOXB-1"])
def test_bot_token_with_wrong_prefix(token: str) -> None:
    problem = only_problem({**HTTP, "SLACK_BOT_TOKEN": token})
    assert "SLACK_BOT_TOKEN" in problem
    assert "xoxb-" in problem


@pytest.mark.parametrize("token", ["xoxb-1-abc", "xoxe-1", "app-token"])
def test_app_token_with_wrong_prefix(token: str) -> None:
    problem = only_problem({**SOCKET, "SLACK_APP_TOKEN": token})
    assert "SLACK_APP_TOKEN" in problem
    assert "xapp-" in problem
    assert "connections:write" in problem


def test_http_mode_needs_the_signing_secret() -> None:
    problem = only_problem({"SLACK_BOT_TOKEN": "xoxb-1-abc"})
    assert "SLACK_SIGNING_SECRET" in problem
    assert "api.slack.com/apps" in problem


def test_socket_mode_without_signing_secret_is_fine() -> None:
    config = load(SOCKET, for_slack=True)
    assert config.socket_mode
    assert config.slack_app_token == "xapp-1-abc"
    assert config.slack_signing_secret is None


def test_http_mode_is_selected_without_app_token() -> None:
    config = load(HTTP, for_slack=True)
    assert not config.socket_mode
    assert config.slack_bot_token == "xoxb-1-abc"
    assert config.slack_signing_secret == "s3cret"


def test_commands_other_than_serve_need_no_slack_credentials() -> None:
    config = load({}, for_slack=False)
    assert config.slack_bot_token is None
    # Even a malformed token does not stop them.
    load({"SLACK_BOT_TOKEN": "nope"}, for_slack=False)


# ---- other variables ---------------------------------------------------------------------


@pytest.mark.parametrize("tz", ["Mars/Olympus", "CEST+2", "berlin", "Europe/Berlinn"])
def test_bad_timezone(tz: str) -> None:
    problem = only_problem({**HTTP, "SHIPSHAPE_TIMEZONE": tz})
    assert "SHIPSHAPE_TIMEZONE" in problem
    assert tz in problem


@pytest.mark.parametrize("tz", ["Europe/Berlin", "America/New_York", "UTC", "Asia/Kolkata"])
def test_good_timezone(tz: str) -> None:
    assert load({**HTTP, "SHIPSHAPE_TIMEZONE": tz}, for_slack=True).timezone == tz


@pytest.mark.parametrize(
    ("value", "bad"),
    [
        ("alice", "alice"),
        ("U012AB3CD,@bob", "@bob"),
        ("u012ab3cd", "u012ab3cd"),
        ("<@U012AB3CD>", "<@U012AB3CD>"),
    ],
)
def test_bad_admins(value: str, bad: str) -> None:
    problem = only_problem({**HTTP, "SHIPSHAPE_ADMINS": value})
    assert "SHIPSHAPE_ADMINS" in problem
    assert bad in problem


def test_admins_are_comma_separated_ids() -> None:
    config = load({**HTTP, "SHIPSHAPE_ADMINS": " U012AB3CD, W0ABCDEF ,,"}, for_slack=True)
    assert config.admins == frozenset({"U012AB3CD", "W0ABCDEF"})


@pytest.mark.parametrize(
    ("given", "missing"),
    [
        ({"GITHUB_APP_ID": "123"}, ["GITHUB_APP_PRIVATE_KEY", "GITHUB_APP_INSTALLATION_ID"]),
        ({"GITHUB_APP_PRIVATE_KEY": "key.pem"}, ["GITHUB_APP_ID", "GITHUB_APP_INSTALLATION_ID"]),
        ({"GITHUB_APP_ID": "123", "GITHUB_APP_INSTALLATION_ID": "9"}, ["GITHUB_APP_PRIVATE_KEY"]),
    ],
)
def test_partial_github_app_settings(given: dict[str, str], missing: list[str]) -> None:
    problem = only_problem({**HTTP, **given})
    for name in missing:
        assert name in problem


def test_complete_github_app_settings() -> None:
    config = load(
        {
            **HTTP,
            "GITHUB_APP_ID": "123",
            "GITHUB_APP_PRIVATE_KEY": "/keys/app.pem",
            "GITHUB_APP_INSTALLATION_ID": "456",
        },
        for_slack=True,
    )
    assert (config.github_app_id, config.github_app_private_key) == ("123", "/keys/app.pem")
    assert config.github_app_installation_id == "456"


@pytest.mark.parametrize("name", ["SLACK_API_URL", "GITHUB_API_URL"])
@pytest.mark.parametrize(
    "url", ["slack.com/api", "ftp://example.com/", "not a url", "http://", "localhost:3000"]
)
def test_bad_urls(name: str, url: str) -> None:
    problem = only_problem({**HTTP, name: url})
    assert name in problem
    assert url in problem


# ---- numeric settings: the speed-versus-stability check and the pulse threshold -------------


def test_numeric_settings_default_to_spec_md() -> None:
    config = load(HTTP, for_slack=True)
    assert config.check_rate_ratio == 1.2
    assert config.check_p_value == 0.05
    assert (config.check_min_deployments, config.check_min_failed) == (10, 3)
    assert config.pulse_min_respondents == 5


def test_numeric_settings_are_read() -> None:
    config = load(
        {
            **HTTP,
            "SHIPSHAPE_CHECK_RATE_RATIO": "1.5",
            "SHIPSHAPE_CHECK_P_VALUE": "0.01",
            "SHIPSHAPE_CHECK_MIN_DEPLOYS": "20",
            "SHIPSHAPE_CHECK_MIN_FAILED": "4",
            "SHIPSHAPE_PULSE_MIN_RESPONDENTS": "3",
        },
        for_slack=True,
    )
    assert (config.check_rate_ratio, config.check_p_value) == (1.5, 0.01)
    assert (config.check_min_deployments, config.check_min_failed) == (20, 4)
    assert config.pulse_min_respondents == 3


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("SHIPSHAPE_PULSE_MIN_RESPONDENTS", "2", "a whole number from 3 to 1000"),
        ("SHIPSHAPE_PULSE_MIN_RESPONDENTS", "4.5", "a whole number from 3 to 1000"),
        ("SHIPSHAPE_CHECK_MIN_DEPLOYS", "0", "a whole number from 1 to 100000"),
        ("SHIPSHAPE_CHECK_RATE_RATIO", "0.9", "a number from 1 to 10"),
        ("SHIPSHAPE_CHECK_RATE_RATIO", "nan", "a number from 1 to 10"),
        ("SHIPSHAPE_CHECK_P_VALUE", "5%", "a number from 0.0001 to 0.5"),
    ],
)
def test_bad_numeric_settings(name: str, value: str, expected: str) -> None:
    problem = only_problem({**HTTP, name: value})
    assert problem.startswith(f"{name} is {value!r}; it must be {expected}.")
    assert "Unset it for the default" in problem


def test_every_problem_is_reported_at_once() -> None:
    found = problems(
        {
            "SLACK_BOT_TOKEN": "xoxp-1",
            "SHIPSHAPE_TIMEZONE": "Nowhere/Land",
            "SHIPSHAPE_ADMINS": "bob",
            "SLACK_API_URL": "nope",
            "GITHUB_APP_ID": "1",
        }
    )
    text = "\n".join(found)
    for name in (
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SHIPSHAPE_TIMEZONE",
        "SHIPSHAPE_ADMINS",
        "SLACK_API_URL",
        "GITHUB_APP_PRIVATE_KEY",
    ):
        assert name in text
    assert len(found) == 6


# ---- defaults ----------------------------------------------------------------------------


def test_defaults() -> None:
    config = load(HTTP, for_slack=True)
    assert config.db_path == "./shipshape.db"
    assert config.timezone == "UTC"
    assert config.production_environments == ("production", "prod")
    assert config.admins == frozenset()
    assert config.slack_api_url == DEFAULT_SLACK_API_URL == "https://slack.com/api/"
    assert config.github_api_url == DEFAULT_GITHUB_API_URL == "https://api.github.com"
    assert config.github_webhook_secret is None
    assert config.github_token is None
    assert config.github_app_id is None


def test_empty_values_fall_back_to_defaults() -> None:
    config = load(
        {
            **HTTP,
            "SHIPSHAPE_DB": "",
            "SHIPSHAPE_TIMEZONE": "",
            "SHIPSHAPE_PRODUCTION_ENVIRONMENTS": " , ",
            "SLACK_API_URL": "",
        },
        for_slack=True,
    )
    assert config.db_path == "./shipshape.db"
    assert config.timezone == "UTC"
    assert config.production_environments == ("production", "prod")
    assert config.slack_api_url == "https://slack.com/api/"


def test_slack_api_url_gets_a_trailing_slash() -> None:
    config = load({**HTTP, "SLACK_API_URL": "http://127.0.0.1:9000/api"}, for_slack=True)
    assert config.slack_api_url == "http://127.0.0.1:9000/api/"
    config = load({**HTTP, "SLACK_API_URL": "https://slack-gov.com/api/"}, for_slack=True)
    assert config.slack_api_url == "https://slack-gov.com/api/"


def test_github_api_url_for_enterprise_server() -> None:
    config = load({**HTTP, "GITHUB_API_URL": "https://ghe.example.com/api/v3/"}, for_slack=True)
    assert config.github_api_url == "https://ghe.example.com/api/v3"


def test_values_are_read() -> None:
    config = load(
        {
            **HTTP,
            "SHIPSHAPE_DB": "/data/ship.db",
            "SHIPSHAPE_TIMEZONE": "Europe/Berlin",
            "SHIPSHAPE_PRODUCTION_ENVIRONMENTS": "Live, prod-eu ,",
            "GITHUB_WEBHOOK_SECRET": "whsec",
            "GITHUB_TOKEN": "ghp_x",
        },
        for_slack=True,
    )
    assert config.db_path == "/data/ship.db"
    assert config.timezone == "Europe/Berlin"
    assert config.production_environments == ("live", "prod-eu")
    assert config.github_webhook_secret == "whsec"
    assert config.github_token == "ghp_x"


# ---- the environment and .env --------------------------------------------------------------


def test_dotenv_in_the_working_directory_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text(
        "# Shipshape settings\n"
        "SLACK_BOT_TOKEN=xoxb-from-file\n"
        'SLACK_SIGNING_SECRET="from file"\n'
        "SHIPSHAPE_TIMEZONE=Europe/Berlin\n"
        "SHIPSHAPE_DB=./file.db\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    env = read_environment({"SHIPSHAPE_DB": "/from/env.db", "OTHER": " padded "})
    assert env["SLACK_BOT_TOKEN"] == "xoxb-from-file"
    assert env["SLACK_SIGNING_SECRET"] == "from file"
    assert env["SHIPSHAPE_DB"] == "/from/env.db"  # the environment wins
    assert env["OTHER"] == "padded"
    config = load(env, for_slack=True)
    assert config.slack_bot_token == "xoxb-from-file"
    assert config.timezone == "Europe/Berlin"
    assert config.db_path == "/from/env.db"


def test_no_dotenv_means_only_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert read_environment({"A": "1"}) == {"A": "1"}
    assert read_environment({}) == {}


def test_dotenv_in_another_directory_is_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("SLACK_BOT_TOKEN=xoxb-elsewhere\n", encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert "SLACK_BOT_TOKEN" not in read_environment({})


def test_a_bad_value_in_dotenv_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text(
        "SLACK_BOT_TOKEN=xoxb-1\nSLACK_SIGNING_SECRET=s\nSHIPSHAPE_TIMEZONE=Nowhere\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    problem = only_problem(read_environment({}))
    assert "SHIPSHAPE_TIMEZONE" in problem


# ---- issue 11: a .env that is not UTF-8 ----------------------------------------------------


def test_a_dotenv_that_is_not_utf8_is_one_problem_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_bytes(
        b"SLACK_BOT_TOKEN=xoxb-1\nSHIPSHAPE_TIMEZONE=Europe/Z\xfcrich\n"
    )
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as raised:
        read_environment({})
    (problem,) = raised.value.problems
    assert str(tmp_path / ".env") in problem
    assert "not UTF-8 text" in problem
