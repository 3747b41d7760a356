"""`shipshape team set|remove`, `shipshape teams` and `shipshape report --team` through the
real console script, on tests/e2e/test_report_cli.py's small database (NOW 2026-11-24T12:00Z,
7d = [11-17T12:00Z, 11-24T12:00Z)):

  api  11-18 10:00 (changes 2h and 1d; incident 1h30m), 11-19 10:00 (--hotfix, change 30m),
       11-22 09:00 failed attempt, 11-22 10:00 staging; previous window 11-12 10:00
  web  11-20 15:00 (its one change has a negative lead), 11-21 09:00 (rolls 11-20 back)
  an incident of web, no cause, 11-23 08:00 to 10:00

A team of both services is the whole report; `web` alone as a team is `report web`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from storage import subscriptions
from storage.db import Store
from storage.subscriptions import Subscription
from tests.e2e import test_report_cli
from tests.e2e.test_cli import assert_no_traceback, run
from tests.e2e.test_report_cli import NOW

# The same fixture: the small database described above.
history = test_report_cli.small_db


def shipshape(db: Path, cwd: Path, *args: str) -> Any:
    result = run(list(args), cwd, SHIPSHAPE_DB=str(db), SHIPSHAPE_NOW=NOW)
    assert_no_traceback(result.stdout, result.stderr)
    return result


def without_scope(report: dict[str, Any]) -> dict[str, Any]:
    scope = {"service", "team", "services"}
    kept = {k: v for k, v in report.items() if k not in scope}
    kept["previous"] = {k: v for k, v in report["previous"].items() if k not in scope}
    return kept


def test_teams_set_listed_reported_and_removed(history: Path, tmp_path: Path) -> None:
    made = shipshape(history, tmp_path, "team", "set", "everything", "web", "api", "ledger")
    assert made.returncode == 0, made.stderr
    assert made.stdout == "Team everything set up: api, ledger, web.\n"
    assert made.stderr == (
        "Warning: no deploy or incident has been recorded for ledger yet. Kept in the team "
        "anyway: it counts once recorded. Check the spelling if that is a surprise.\n"
    )
    changed = shipshape(history, tmp_path, "team", "set", "everything", "api", "web")
    assert changed.stdout == "Team everything is now api, web (was api, ledger, web).\n"
    assert changed.stderr == ""
    shipshape(history, tmp_path, "team", "set", "front", "web")
    assert shipshape(history, tmp_path, "teams").stdout == "everything: api, web\nfront: web\n"

    # Both services as one team: the organisation's numbers, with the team named.
    team = json.loads(
        shipshape(
            history, tmp_path, "report", "--team", "everything", "--window", "7d", "--json"
        ).stdout
    )
    whole = json.loads(shipshape(history, tmp_path, "report", "--window", "7d", "--json").stdout)
    assert (team["team"], team["services"], team["service"]) == ("everything", ["api", "web"], None)
    assert without_scope(team) == without_scope(whole)
    assert team["deployment_frequency"]["count"] == 4
    front = json.loads(
        shipshape(history, tmp_path, "report", "--team", "front", "--window", "7d", "--json").stdout
    )
    web = json.loads(
        shipshape(history, tmp_path, "report", "web", "--window", "7d", "--json").stdout
    )
    assert without_scope(front) == without_scope(web)
    assert front["change_failure_rate"]["rate"] == 0.5

    table = shipshape(history, tmp_path, "report", "--team", "front", "--window", "7d").stdout
    assert table.splitlines()[0] == "Delivery health of the front team: web; production"

    removed = shipshape(history, tmp_path, "team", "remove", "front")
    assert removed.stdout == "Team front removed (it was web).\n"


def test_an_unknown_team_is_one_line_and_a_failure(history: Path, tmp_path: Path) -> None:
    shipshape(history, tmp_path, "team", "set", "payments", "api")
    for args in (("report", "--team", "payment"), ("team", "remove", "payment")):
        result = shipshape(history, tmp_path, *args)
        assert result.returncode == 1, args
        assert result.stdout == ""
        assert result.stderr == "Error: There is no team payment. Teams: payments.\n"


def test_bad_team_input_is_refused_and_stores_nothing(history: Path, tmp_path: Path) -> None:
    for args, said in [
        (("team", "set", "pay ments", "api"), "is not a team name"),
        (("team", "set", "payments", "a b"), "is not a service name"),
        (("team", "set", "payments"), "Missing argument 'SERVICE...'"),
        (("report", "api", "--team", "payments"), "Give SERVICE or --team, not both"),
    ]:
        result = shipshape(history, tmp_path, *args)
        assert result.returncode == 2, (args, result.stderr)
        assert said in result.stderr, (args, result.stderr)
    assert shipshape(history, tmp_path, "teams").stdout == "No teams yet.\n"


def test_summary_for_a_channel_subscribed_to_a_team(history: Path, tmp_path: Path) -> None:
    shipshape(history, tmp_path, "team", "set", "front", "web")
    store = Store(history)
    with store.write() as db:
        subscriptions.save(
            db,
            Subscription("C0WEB0001", "mon", "09:00", "UTC", None, 1, None, "U0ADMIN1",
                         NOW, NOW, team="front"),
        )  # fmt: skip
    store.close()
    printed = shipshape(
        history, tmp_path, "summary", "--channel", "C0WEB0001", "--week", "2026-W47"
    )
    assert printed.returncode == 0, printed.stderr
    assert "Weekly summary 2026-W47: front team: web" in printed.stdout
    # web's 2 deployments of the week (11-20 and 11-21), not api's.
    assert "Deployment frequency             2 (2.0 a week)" in printed.stdout
