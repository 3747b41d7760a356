"""`shipshape report` and `shipshape demo` through the real console script (the chart:
tests/unit/test_chart.py).

The report runs at a fixed time (SHIPSHAPE_NOW) on a small database filled through the
storage functions, so every number below is worked out by hand.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from storage import changes, deploys, incidents
from storage.db import Store
from tests.e2e.test_cli import assert_no_traceback, run

NOW = "2026-11-24T12:00:00Z"  # 7d: [2026-11-17T12:00Z, 2026-11-24T12:00Z)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
METRIC_NAMES = (
    "Deployment frequency",
    "Change lead time",
    "Change failure rate",
    "Failed deployment recovery time",
    "Deployment rework rate",
)
_keys = iter(range(1, 10_000))


def _deploy(db: Any, service: str, at: str, **values: Any) -> int:
    row = {
        "service": service,
        "environment": "production",
        "status": "success",
        "deployed_at": at,
        "source": "import",
        "source_key": f"test:{next(_keys)}",
        "created_at": at,
        **values,
    }
    return deploys.insert(db, row).id


def _change(db: Any, deploy_id: int, authored_at: str) -> None:
    n = next(_keys)
    changes.insert(
        db,
        {
            "repo": "acme/app",
            "sha": f"{n:040x}",
            "authored_at": authored_at,
            "deploy_id": deploy_id,
            "source": "import",
            "source_key": f"test:{n}",
            "created_at": authored_at,
        },
    )


def _incident(db: Any, service: str, start: str, end: str, deploy_id: int | None) -> None:
    incidents.insert(
        db,
        {
            "service": service,
            "title": "Errors",
            "started_at": start,
            "resolved_at": end,
            "deploy_id": deploy_id,
            "cause": "deploy" if deploy_id else "none",
            "source": "import",
            "source_key": f"test:{next(_keys)}",
            "created_at": start,
        },
    )


@pytest.fixture
def small_db(tmp_path: Path) -> Path:
    """Two services, one week, every kind of record; the expected numbers are in the tests."""
    path = tmp_path / "ship.db"
    store = Store(path)
    store.migrate()
    with store.write() as db:
        # Previous window [11-10T12:00, 11-17T12:00): one clean deployment, lead 1 day.
        p1 = _deploy(db, "api", "2026-11-12T10:00:00Z")
        _change(db, p1, "2026-11-11T10:00:00Z")
        # Current window.
        d1 = _deploy(db, "api", "2026-11-18T10:00:00Z")
        _change(db, d1, "2026-11-18T08:00:00Z")  # 2h
        _change(db, d1, "2026-11-17T10:00:00Z")  # 1d
        _incident(db, "api", "2026-11-18T11:00:00Z", "2026-11-18T12:30:00Z", d1)  # 1h30m
        d2 = _deploy(db, "api", "2026-11-19T10:00:00Z", is_hotfix=1)
        _change(db, d2, "2026-11-19T09:30:00Z")  # 30m
        d3 = _deploy(db, "web", "2026-11-20T15:00:00Z")
        _change(db, d3, "2026-11-20T16:00:00Z")  # negative: dropped
        _deploy(db, "web", "2026-11-21T09:00:00Z", rollback_of=d3)  # d3 failed; rework
        _deploy(db, "api", "2026-11-22T09:00:00Z", status="failed")  # a failed attempt
        _deploy(db, "api", "2026-11-22T10:00:00Z", environment="staging")
        _incident(db, "web", "2026-11-23T08:00:00Z", "2026-11-23T10:00:00Z", None)  # 2h
    store.close()
    return path


def report(db: Path, cwd: Path, *args: str, **env: str) -> Any:
    return run(["report", *args], cwd, **{"SHIPSHAPE_DB": str(db), "SHIPSHAPE_NOW": NOW, **env})


# ---- report --json -------------------------------------------------------------------------


def test_report_json_has_the_shape_and_hand_computed_values(small_db: Path, tmp_path: Path) -> None:
    result = report(small_db, tmp_path, "--window", "7d", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)  # exactly one JSON object
    assert data == {
        "window": {"from": "2026-11-17T12:00:00Z", "to": "2026-11-24T12:00:00Z"},
        "service": None,
        "environment": None,
        "deployment_frequency": {"count": 4, "per_week": 4.0, "deploy_days": 4, "band": "high"},
        "lead_time": {
            "median_seconds": 7200.0,
            "p90_seconds": 70560.0,  # 7200 + 0.8 x (86400 - 7200)
            "changes": 3,
            "deployments_with_changes": 2,
            "band": "elite",
        },
        "change_failure_rate": {"failed": 2, "deployments": 4, "rate": 0.5, "band": "low"},
        "recovery_time": {
            "median_seconds": 5400.0,
            "p90_seconds": 5400.0,
            "incidents": 1,
            "band": "high",
        },
        "rework_rate": {"rework": 2, "deployments": 4, "rate": 0.5},
        "time_to_restore": {"median_seconds": 6300.0, "p90_seconds": 7020.0, "incidents": 2},
        "failed_attempts": 1,
        "previous": {
            "window": {"from": "2026-11-10T12:00:00Z", "to": "2026-11-17T12:00:00Z"},
            "service": None,
            "environment": None,
            "deployment_frequency": {
                "count": 1,
                "per_week": 1.0,
                "deploy_days": 1,
                "band": "high",
            },
            "lead_time": {
                "median_seconds": 86400.0,
                "p90_seconds": 86400.0,
                "changes": 1,
                "deployments_with_changes": 1,
                "band": "high",  # exactly one day is not under a day
            },
            "change_failure_rate": {"failed": 0, "deployments": 1, "rate": 0.0, "band": "elite"},
            "recovery_time": None,
            "rework_rate": {"rework": 0, "deployments": 1, "rate": 0.0},
            "time_to_restore": None,
            "failed_attempts": 0,
        },
    }


def test_report_json_for_one_service_has_null_lead_time(small_db: Path, tmp_path: Path) -> None:
    result = report(small_db, tmp_path, "web", "--window", "7d", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["service"] == "web"
    assert data["deployment_frequency"]["count"] == 2
    assert data["lead_time"] is None  # its only change has a negative lead time
    assert data["change_failure_rate"]["rate"] == 0.5
    assert data["recovery_time"] is None
    assert data["time_to_restore"]["incidents"] == 1  # the 'none' incident of web
    assert data["previous"]["change_failure_rate"] is None  # no deployments: null, not 0


def test_report_json_for_another_environment(small_db: Path, tmp_path: Path) -> None:
    data = json.loads(report(small_db, tmp_path, "--env", "staging", "--json").stdout)
    assert data["environment"] == "staging"
    assert data["deployment_frequency"]["count"] == 1
    assert data["window"] == {"from": "2026-10-25T12:00:00Z", "to": NOW}  # default 30d


def test_report_json_from_to_whole_days(small_db: Path, tmp_path: Path) -> None:
    args = ("--from", "2026-11-18", "--to", "2026-11-20", "--json")
    data = json.loads(report(small_db, tmp_path, *args).stdout)
    assert data["window"] == {"from": "2026-11-18T00:00:00Z", "to": "2026-11-21T00:00:00Z"}
    assert data["deployment_frequency"]["count"] == 3
    assert data["previous"]["window"]["from"] == "2026-11-15T00:00:00Z"


def test_report_json_in_a_team_time_zone(small_db: Path, tmp_path: Path) -> None:
    args = ("--from", "2026-11-18", "--to", "2026-11-18", "--json")
    data = json.loads(report(small_db, tmp_path, *args, SHIPSHAPE_TIMEZONE="Europe/Berlin").stdout)
    assert data["window"] == {"from": "2026-11-17T23:00:00Z", "to": "2026-11-18T23:00:00Z"}


# ---- report as a table -------------------------------------------------------------------------


def test_report_table_says_what_it_counted(small_db: Path, tmp_path: Path) -> None:
    result = report(small_db, tmp_path, "--window", "7d")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for name in METRIC_NAMES:
        assert name in out
    assert "4 deployments on 4 deploy days" in out
    assert "lead time known for 2 of 4 deployments (3 changes)" in out
    assert "50.0%" in out
    assert "2 of 4 deployments failed in production" in out
    assert "↑ 50.0 pts (was 0.0%)" in out
    assert "↑ 300% (was 1)" in out
    assert "median 1h 30m, p90 1h 30m" in out
    assert "1 failed deploy attempt" in out
    assert "DORA 2023" in out
    assert_no_traceback(result.stdout, result.stderr)


def test_report_table_with_no_deployments(small_db: Path, tmp_path: Path) -> None:
    result = report(small_db, tmp_path, "nothing-here", "--window", "7d")
    assert result.returncode == 0, result.stderr
    assert "no deployments in this window" in result.stdout
    assert "NaN" not in result.stdout
    assert "0.0%" not in result.stdout


# ---- report errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--window", "fortnight"], "'fortnight'"),
        (["--window", "0d"], "1d to 3650d"),
        (["--from", "2026-11-20", "--to", "2026-11-01"], "not after"),
        (["--from", "someday", "--to", "2026-11-01"], "whole days in UTC"),
        (["--from", "2026-11-01"], "--from and --to go together"),
        (["--window", "7d", "--from", "2026-11-01", "--to", "2026-11-02"], "not both"),
        (["bad service!"], "not a service name"),
    ],
)
def test_report_bad_input_is_one_message(
    small_db: Path, tmp_path: Path, args: list[str], named: str
) -> None:
    result = report(small_db, tmp_path, *args)
    assert result.returncode == 2
    assert named in result.stderr
    assert result.stdout == ""
    assert_no_traceback(result.stdout, result.stderr)


def test_report_on_a_missing_database(tmp_path: Path) -> None:
    result = run(["report"], tmp_path)
    assert result.returncode == 1
    assert "There is no database at SHIPSHAPE_DB=./shipshape.db" in result.stderr
    assert_no_traceback(result.stdout, result.stderr)
    assert not (tmp_path / "shipshape.db").exists()


def test_report_with_a_bad_pinned_time(small_db: Path, tmp_path: Path) -> None:
    result = report(small_db, tmp_path, SHIPSHAPE_NOW="tomorrowish")
    assert result.returncode == 1
    assert "SHIPSHAPE_NOW" in result.stderr
    assert_no_traceback(result.stdout, result.stderr)


@pytest.mark.parametrize("command", ["report", "demo"])
def test_help_pages(tmp_path: Path, command: str) -> None:
    result = run([command, "--help"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout
    assert "Example" in result.stdout
    assert not list(tmp_path.iterdir()), "--help must create nothing"
    assert command in run(["--help"], tmp_path).stdout


# ---- demo ----------------------------------------------------------------------------------
# The speed-versus-stability check as the summary words it (bot/summary/text.py), with the
# counts it was computed from; p-values as shown ("p = 0.0013", or "p < 0.001").
P = r"p (?:= (?P<{0}>[0-9.e-]+)|< 0\.001)"
FLAG = re.compile(
    r"Speed is outrunning stability\. Deploys per week rose from [0-9.]+ to [0-9.]+ "
    r"\((?P<k_r>\d+) in the last 4 weeks against (?P<k_b>\d+) in the 8 before, "
    + P.format("p_deploys")
    + r"\) while the change failure rate rose from [0-9.]+% to [0-9.]+% "
    r"\((?P<f_b>\d+)/(?P=k_b) → (?P<f_r>\d+)/(?P=k_r), " + P.format("p_failures") + r"\)\."
)
TREND_LINE = re.compile(r"^\d{4}-W\d{2} +(\d+) deployments +([0-9.]+)% failed$", re.MULTILINE)


def section(out: str, heading: str) -> str:
    """What the demo printed under `== heading ==`, up to the next heading."""
    _, found, after = out.partition(f"== {heading} ==\n")
    assert found, f"no section {heading!r} in:\n{out}"
    return after.split("\n== ", 1)[0].strip()


def assert_flag_is_earned(text: str) -> re.Match[str]:
    """The flag's sentence, with figures that meet SPEC.md's rule: k_r >= 10, f_r >= 3, a
    weekly rate at least 1.2 times the baseline's, and both one-sided tests below 0.05,
    their p-values being the ones the printed counts give."""
    from scipy.stats import binomtest, fisher_exact

    found = FLAG.search(text)
    assert found, text
    k_r, k_b, f_r, f_b = (int(found[key]) for key in ("k_r", "k_b", "f_r", "f_b"))
    assert k_r >= 10 and f_r >= 3
    assert k_r / 4 >= 1.2 * k_b / 8
    assert f_r / k_r > f_b / k_b
    p_deploys = binomtest(k_r, k_r + k_b, p=4 / 12, alternative="greater").pvalue
    table = [[f_r, k_r - f_r], [f_b, k_b - f_b]]
    p_failures = fisher_exact(table, alternative="greater").pvalue
    for shown, p in ((found["p_deploys"], p_deploys), (found["p_failures"], p_failures)):
        assert p < 0.05
        assert (p < 0.001) if shown is None else f"{p:.2g}" == shown, (shown, p)
    return found


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One run of `shipshape demo --dir OUT`, with SHIPSHAPE_DB naming the user's own
    database, for the tests that read what it printed and wrote: its folder and output."""
    cwd = tmp_path_factory.mktemp("demo")
    user_db = cwd / "mine.db"
    user_db.write_bytes(b"the user's own data")
    started = time.monotonic()
    result = run(["demo", "--dir", str(cwd / "out")], cwd, SHIPSHAPE_DB=str(user_db))
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 60
    assert_no_traceback(result.stdout, result.stderr)
    assert user_db.read_bytes() == b"the user's own data"
    assert not (cwd / "shipshape.db").exists()
    return cwd / "out", result.stdout


def test_the_demo_team_report_counts_its_services_as_one(demo: tuple[Path, str]) -> None:
    folder, out = demo
    team = out.split("== /dora team=commerce 30d ==\n", 1)[1].split("\n\n== ", 1)[0]
    assert team.startswith("Delivery health of the commerce team: api, payments, search;")
    shown = re.search(r"(\d+) deployments on (\d+) deploy days", team)
    assert shown is not None
    conn = sqlite3.connect(folder / "demo.db")
    try:
        # The demo's 30 days end at its "now", 2026-11-23 12:00 UTC.
        counted = conn.execute(
            """SELECT count(*), count(DISTINCT substr(deployed_at, 1, 10)) FROM deploys
               WHERE service IN ('api', 'payments', 'search') AND status = 'success'
                 AND environment = 'production'
                 AND deployed_at >= '2026-10-24T12:00:00Z'
                 AND deployed_at < '2026-11-23T12:00:00Z'"""
        ).fetchone()
    finally:
        conn.close()
    assert (int(shown[1]), int(shown[2])) == counted


def test_demo_shows_the_product_without_slack(demo: tuple[Path, str]) -> None:
    folder, out = demo
    for name in METRIC_NAMES:
        assert out.count(name) >= 2, name  # the organisation and one service
    assert "/dora all 30d" in out and "/dora payments 30d" in out
    assert "commerce: api, payments, search\ndiscovery: mobile-backend, search, web" in out
    assert "manifest.yml" in out and "uv run shipshape serve" in out
    assert str(folder / "demo.db") in out
    png = (folder / "trend.png").read_bytes()
    assert png.startswith(PNG_SIGNATURE)
    assert len(png) > 10_000  # a drawn chart, not an empty image

    again = run(["demo", "--dir", str(folder)], folder.parent)
    assert again.returncode == 0, again.stderr
    assert again.stdout == out  # recreated, deterministically, survey round included


def test_demo_summary_raises_the_speed_versus_stability_flag(demo: tuple[Path, str]) -> None:
    _, out = demo
    assert "== Weekly summary 2026-W47: all services ==" in out
    check = section(out, "Speed versus stability")
    found = assert_flag_is_earned(check)
    # Where to look: payments, whose failure rate rose most (0 of its earlier deployments
    # failed, a quarter of its recent ones did).
    assert re.search(r"\. Look first at: payments \(0\.0% → 2\d\.\d%\), ", check), check
    # The chart's weeks are the check's: 8 baseline weeks, then the recent 4.
    trend = section(
        out, "Deployments and change failure rate per week, 2026-W36 to 2026-W47 (the chart)"
    )
    weeks = [(int(n), round(int(n) * float(rate) / 100)) for n, rate in TREND_LINE.findall(trend)]
    assert len(weeks) == 12
    assert sum(n for n, _ in weeks[8:]) == int(found["k_r"])
    assert sum(n for n, _ in weeks[:8]) == int(found["k_b"])
    assert sum(f for _, f in weeks[8:]) == int(found["f_r"])
    assert sum(f for _, f in weeks[:8]) == int(found["f_b"])


def test_demo_shows_the_flag_of_the_service_alone(demo: tuple[Path, str]) -> None:
    _, out = demo
    own = section(out, "Speed versus stability for payments alone")
    assert own.startswith("A channel subscribed with `/dora subscribe service=payments` reads")
    found = assert_flag_is_earned(own)
    assert found["f_b"] == "0"  # payments failed nothing before it sped up


def test_demo_summary_shows_the_closed_pulse_round(demo: tuple[Path, str]) -> None:
    """Twelve invited (bot/app/demo.py PULSE_ANSWERS): eight answered, one skipped, three
    never did. Ease 2, 3, 2, 4, 3, 4, 2, 5: 25 / 8 = 3.125. Incidents named by 4 of 8 (50%),
    flaky tests and code review by 2 each (25%; in the survey's order on a tie), CI, the
    deploy process, meetings and environments by 1. Three wrote a comment."""
    _, out = demo
    assert section(out, "Pulse survey").split("\n") == [
        "Latest round closed 2026-11-19 14:00 UTC, 8 respondents.",
        "Ease of shipping: 3.1 of 5",
        "Most time lost to: incidents or on-call interruptions 50%, flaky tests 25%, "
        "waiting for code review 25%",
        "3 comments: `/pulse results` in the survey's channel shows them.",
    ]


def test_demo_round_is_closed_like_any_other(demo: tuple[Path, str]) -> None:
    """The demo's round went through bot.pulse.rounds, so closing it left what closing any
    round leaves (storage/pulse_answers.py): answers with nothing that names a person, and
    no key, invite or responder hash; the survey is stopped, so a bot started on the demo
    database asks nobody."""
    folder, _ = demo
    conn = sqlite3.connect(f"file:{folder / 'demo.db'}?mode=ro", uri=True)
    try:
        assert conn.execute(
            "SELECT opened_at, closed_at, hash_key FROM pulse_rounds"
        ).fetchall() == [("2026-11-13T14:00:00Z", "2026-11-19T14:00:00Z", None)]
        for table in ("pulse_invites", "pulse_responders"):
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table
        columns = [row[1] for row in conn.execute("PRAGMA table_info(pulse_answers)")]
        assert columns == ["id", "round_id", "ease", "sinks", "comment"]
        eases = sorted(row[0] for row in conn.execute("SELECT ease FROM pulse_answers"))
        assert eases == [2, 2, 2, 3, 3, 4, 4, 5]
        assert conn.execute("SELECT active FROM pulse_surveys").fetchall() == [(0,)]
    finally:
        conn.close()


def test_demo_default_folder_and_its_report(tmp_path: Path) -> None:
    result = run(["demo"], tmp_path)
    assert result.returncode == 0, result.stderr
    db = tmp_path / "shipshape-demo" / "demo.db"
    assert db.is_file()
    data = json.loads(
        run(
            ["report", "--json"],
            tmp_path,
            SHIPSHAPE_DB=str(db),
            SHIPSHAPE_NOW="2026-11-23T12:00:00Z",
            SHIPSHAPE_PRODUCTION_ENVIRONMENTS="production",
        ).stdout
    )
    assert data["deployment_frequency"]["count"] > 20
    for key in ("lead_time", "change_failure_rate", "recovery_time", "rework_rate"):
        assert data[key] is not None, key
    assert data["failed_attempts"] > 0


def test_demo_leaves_a_database_it_did_not_make(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "demo.db").write_bytes(b"not ours")
    result = run(["demo", "--dir", str(out)], tmp_path)
    assert result.returncode == 1
    assert "was not made by `shipshape demo`" in result.stderr
    assert (out / "demo.db").read_bytes() == b"not ours"
    assert_no_traceback(result.stdout, result.stderr)


# ---- issue 11: extreme dates, a .env that is not UTF-8, environments with spaces ------------


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("0001-01-01", "9999-12-31"),
        ("0001-01-01", "2026-11-01"),
        ("2026-11-01", "9999-12-31"),
        ("0001-01-01T00:00+01:00", "2026-11-01"),
    ],
)
def test_report_dates_outside_the_range_are_one_usage_message(
    small_db: Path, tmp_path: Path, start: str, end: str
) -> None:
    result = report(small_db, tmp_path, "--from", start, "--to", end)
    assert result.returncode == 2, result.stderr
    assert "goes outside the dates I can report on" in result.stderr
    assert "from 2000-01-01 to 2099-12-31" in result.stderr
    assert "--from 2026-11-01 --to 2026-11-30" in result.stderr
    assert result.stdout == ""
    assert_no_traceback(result.stdout, result.stderr)


def test_report_over_the_widest_range(small_db: Path, tmp_path: Path) -> None:
    args = ("--from", "2000-01-01", "--to", "2099-12-31", "--json")
    result = report(small_db, tmp_path, *args)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["window"] == {"from": "2000-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z"}
    assert data["previous"]["window"]["from"] == "1899-12-31T00:00:00Z"  # 1900: no leap year


def test_a_dotenv_that_is_not_utf8_is_a_configuration_error(small_db: Path, tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"SHIPSHAPE_TIMEZONE=Europe/Z\xfcrich\n")
    result = report(small_db, tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "Shipshape cannot go on:",
        f"  {tmp_path / '.env'} cannot be read: it is not UTF-8 text. Save it as UTF-8 text"
        " (one NAME=value a line), or remove it and set the variables in the environment.",
    ]
    assert_no_traceback(result.stdout, result.stderr)


def test_report_for_an_environment_with_spaces(small_db: Path, tmp_path: Path) -> None:
    store = Store(small_db)
    with store.write() as db:
        _deploy(db, "api", "2026-11-20T10:00:00Z", environment="eu west")
    store.close()
    data = json.loads(report(small_db, tmp_path, "--env", "EU West", "--json").stdout)
    assert data["environment"] == "eu west"
    assert data["deployment_frequency"]["count"] == 1
    table = report(small_db, tmp_path, "--env", "eu west", "--window", "7d").stdout
    assert 'all services, "eu west"' in table
