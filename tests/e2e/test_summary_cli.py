"""`shipshape summary`, the console script: the summary of a week printed, and posted once
with --post against the fake Slack (moved from tests/unit/test_summary.py and
tests/scenario/test_summary_delivery.py, whose helpers they use)."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.db import Store
from tests.conftest import NOW
from tests.e2e.test_cli import assert_no_traceback, run
from tests.fakes.fake_slack import FakeSlack
from tests.scenario.test_summary_delivery import CHANNEL, summaries, table
from tests.unit.test_summary import TZ, make_deps, write_history

# ---- shipshape summary ---------------------------------------------------------------------


@pytest.fixture
def history_db(tmp_path: Path) -> Path:
    made = make_deps(tmp_path / "cli.db")
    write_history(made.store)
    with made.store.write() as db:
        db.conn.execute(
            """INSERT INTO subscriptions (channel_id, day, time, timezone, service, created_by,
                   created_at, updated_at)
               VALUES ('C0PAYMENTS', 'mon', '09:00', ?, 'payments', 'U1', ?, ?)""",
            (TZ, NOW, NOW),
        )
    made.store.close()
    return tmp_path / "cli.db"


def summarise(db: Path, cwd: Path, *args: str) -> tuple[int, str, str]:
    result = run(
        ["summary", *args], cwd, SHIPSHAPE_DB=str(db), SHIPSHAPE_TIMEZONE=TZ, SHIPSHAPE_NOW=NOW
    )
    assert_no_traceback(result.stdout, result.stderr)
    return result.returncode, result.stdout, result.stderr


def test_cli_prints_the_summary_of_a_week(history_db: Path, tmp_path: Path) -> None:
    code, out, err = summarise(history_db, tmp_path, "--week", "2026-W47")
    assert code == 0, err
    assert out.startswith("== Weekly summary 2026-W47: all services ==")
    assert "Speed is outrunning stability." in out
    assert "Look first at: payments (6.2% → 33.3%)" in out
    assert "10 deployments on 1 deploy day" in out
    assert "2026-W36    5 deployments    0.0% failed" in out
    assert "2026-W38    5 deployments   20.0% failed" in out
    assert "and 2 more" in out
    code, default_out, _ = summarise(history_db, tmp_path)
    assert code == 0
    assert default_out == out  # the last complete week is the default


def test_cli_summary_of_a_subscribed_channel_covers_its_service(
    history_db: Path, tmp_path: Path
) -> None:
    code, out, err = summarise(history_db, tmp_path, "--channel", "C0PAYMENTS")
    assert code == 0, err
    assert out.startswith("== Weekly summary 2026-W47: payments ==")
    code, out, _ = summarise(history_db, tmp_path, "--channel", "C0NOTSUBSCRIBED")
    assert code == 0
    assert out.startswith("== Weekly summary 2026-W47: all services ==")


@pytest.mark.parametrize(
    ("week", "said"),
    [
        ("2026-W60", "'2026-W60' does not exist: 2026 has ISO weeks 1 to 53"),
        ("47", "'47' is not a week: write an ISO week as YYYY-Www, like 2026-W47"),
        ("2026-W48", "2026-W48 is not over yet"),
    ],
)
def test_cli_bad_week_is_one_line(history_db: Path, tmp_path: Path, week: str, said: str) -> None:
    code, out, err = summarise(history_db, tmp_path, "--week", week)
    assert code == 1
    assert out == ""
    assert said in err
    assert len(err.strip().splitlines()) == 1


def test_cli_summary_without_a_database(tmp_path: Path) -> None:
    code, _, err = summarise(tmp_path / "none.db", tmp_path)
    assert code == 1
    assert "There is no database at SHIPSHAPE_DB=" in err
    assert not (tmp_path / "none.db").exists()


def test_cli_summary_help(tmp_path: Path) -> None:
    result = run(["summary", "--help"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "--week" in result.stdout and "Example" in result.stdout


# ---- shipshape summary --post ------------------------------------------------------------


def post_env(slack: FakeSlack, db: Path, **extra: str) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_API_URL": slack.url,
        "SHIPSHAPE_DB": str(db),
        "SHIPSHAPE_TIMEZONE": "Europe/Berlin",
        "SHIPSHAPE_NOW": NOW,
        **extra,
    }


@pytest.fixture
def database(tmp_path: Path) -> Path:
    db = tmp_path / "shipshape.db"
    store = Store(db)
    store.migrate()
    store.close()
    return db


def test_summary_post_posts_once_then_says_already_posted(
    tmp_path: Path, slack: FakeSlack, database: Path
) -> None:
    env = post_env(slack, database)
    first = run(["summary", "--channel", CHANNEL, "--post"], tmp_path, **env)
    assert first.returncode == 0, first.stderr
    (post,) = summaries(slack)
    ts = "1700000000.000001"
    assert first.stdout == f"posted: the summary of 2026-W47 in {CHANNEL} ({ts}).\n"
    assert post["text"].startswith("Weekly summary 2026-W47")
    assert slack.calls_to("upload")[0]["bytes"].startswith(b"\x89PNG")
    second = run(["summary", "--channel", CHANNEL, "--post"], tmp_path, **env)
    assert second.returncode == 0, second.stderr
    assert second.stdout == (
        f"already posted for 2026-W47 in {CHANNEL} at 2026-11-24 13:00 CET ({ts}); "
        "nothing was posted.\n"
    )
    assert len(summaries(slack)) == 1


def test_summary_post_reports_what_slack_refused(
    tmp_path: Path, slack: FakeSlack, database: Path
) -> None:
    slack.fail_next("chat.postMessage", "ratelimited_forever")
    env = post_env(slack, database)
    failed = run(["summary", "--channel", CHANNEL, "--week", "2026-W40", "--post"], tmp_path, **env)
    assert failed.returncode == 1
    assert_no_traceback(failed.stdout, failed.stderr)
    assert "not posted: Slack answered ratelimited_forever for the summary of 2026-W40" in (
        failed.stderr
    )
    assert table(database, "summary_claims") == []
    again = run(["summary", "--channel", CHANNEL, "--week", "2026-W40", "--post"], tmp_path, **env)
    assert again.returncode == 0 and again.stdout.startswith("posted: the summary of 2026-W40")


def test_summary_post_needs_a_channel_and_a_token(
    tmp_path: Path, slack: FakeSlack, database: Path
) -> None:
    no_channel = run(["summary", "--post"], tmp_path, **post_env(slack, database))
    assert no_channel.returncode == 2
    assert "--post needs --channel" in no_channel.stderr
    env = post_env(slack, database)
    del env["SLACK_BOT_TOKEN"]
    no_token = run(["summary", "--channel", CHANNEL, "--post"], tmp_path, **env)
    assert no_token.returncode == 1
    assert "SLACK_BOT_TOKEN is not set" in no_token.stderr
    assert_no_traceback(no_channel.stderr, no_token.stderr)
    assert summaries(slack) == []
