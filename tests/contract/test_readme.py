"""README.md against the code: its configuration table is bot.config's SETTINGS, and every
command and option of the `shipshape` command line is documented in it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click

from bot.app.cli import main
from bot.config import SETTINGS

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    """The text of README's `## title` section."""
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else len(README)]


def table_rows(text: str) -> list[list[str]]:
    """The cells of each row of the first table in `text`, header and rule left out."""
    rows = []
    for line in text.splitlines():
        if line.startswith("|"):
            # A `\|` inside a cell is text, not a column break.
            cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
            rows.append([cell.strip() for cell in cells])
        elif rows:
            break
    return rows[2:]


def test_configuration_table_is_the_settings_table() -> None:
    documented = [s for s in SETTINGS if s.meaning is not None]
    expected = [[f"`{s.variable}`", s.meaning, s.documented_default] for s in documented]
    assert table_rows(section("Configuration")) == expected


def commands(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, click.Command]]:
    """Every command `--help` lists, by its full name (`github sync`), groups walked into."""
    context = click.Context(group)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        assert command is not None and not command.hidden
        if isinstance(command, click.Group):
            yield from commands(command, (*path, name))
        else:
            yield " ".join((*path, name)), command


def row_for(name: str) -> str:
    """The row of README's "Command line" table that documents `shipshape NAME`."""
    pattern = re.compile(rf"^\| `shipshape {re.escape(name)}(?:[ `]).*$", re.MULTILINE)
    found = pattern.findall(section("Command line"))
    assert len(found) == 1, f"README.md's command table has no one row for shipshape {name}"
    return found[0]


def test_every_command_and_option_is_in_the_readme() -> None:
    walked = dict(commands(main))
    assert {"serve", "export", "report", "summary", "demo", "github sync"} <= walked.keys()
    for name, command in walked.items():
        row = row_for(name)
        for param in command.params:
            if isinstance(param, click.Option) and not param.hidden:
                names = [*param.opts, *param.secondary_opts]
                assert any(re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", row) for n in names), (
                    f"README.md does not show {'/'.join(names)} of shipshape {name}"
                )
