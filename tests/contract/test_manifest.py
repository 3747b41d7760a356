"""manifest.yml against the code: the slash commands Slack is told about are the ones the
Bolt app registers, and the bot scopes cover every Web API method the code calls."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from slack_sdk import WebClient

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = (ROOT / "manifest.yml").read_text(encoding="utf-8")
SOURCES = ("bot", "commands")

# The scope each Web API method the code calls needs (Slack's method reference); None for
# the methods that need none. A new call fails test_every_method_called_is_mapped until
# it is added here, and its scope to manifest.yml.
SCOPE = {
    "auth_test": None,
    "chat_postMessage": "chat:write",
    "chat_update": "chat:write",
    "conversations_info": "channels:read",  # groups:read for private channels
    "conversations_members": "channels:read",  # groups:read for private channels
    "conversations_list": "channels:read",  # groups:read for private channels
    "conversations_open": "im:write",
    "files_upload_v2": "files:write",
    "usergroups_list": "usergroups:read",
    "usergroups_users_list": "usergroups:read",
    "users_info": "users:read",
    "views_open": None,
    "views_publish": None,
}
# Scopes that no method call shows: slash commands themselves, posting in a public channel
# without joining it (README "Create the Slack app"), and the private-channel twin of
# channels:read that conversations.info, .members and .list need there.
WITHOUT_A_CALL = {"commands", "chat:write.public", "groups:read"}


def _trees() -> Iterator[ast.AST]:
    for package in SOURCES:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield ast.parse(path.read_text(encoding="utf-8"), str(path))


def registered_commands() -> set[str]:
    """Every `app.command("/x")` in the code: how slash commands reach Bolt."""
    found = set()
    for tree in _trees():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "command"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "app"
            ):
                (name,) = node.args
                assert isinstance(name, ast.Constant), ast.unparse(node)
                found.add(name.value)
    return found


def methods_called() -> set[str]:
    """Every WebClient method the code names, like `client.chat_postMessage`."""
    methods = {name for name in dir(WebClient) if "_" in name and not name.startswith("_")}
    return {
        node.attr
        for tree in _trees()
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr in methods
    }


def manifest_commands() -> set[str]:
    return set(re.findall(r"^\s*- command: (/\S+)", MANIFEST, re.MULTILINE))


def manifest_bot_scopes() -> set[str]:
    block = re.search(r"^    bot:\n((?:      - .*\n)+)", MANIFEST, re.MULTILINE)
    assert block, "manifest.yml has no oauth_config.scopes.bot list"
    return set(re.findall(r"^      - ([\w:.]+)", block.group(1), re.MULTILINE))


def test_manifest_slash_commands_are_the_registered_ones() -> None:
    assert (
        manifest_commands()
        == registered_commands()
        == {
            "/deploy",
            "/incident",
            "/dora",
            "/pulse",
        }
    )


def test_every_method_called_is_mapped() -> None:
    called = methods_called()
    assert called, "no Web API call found: the scan is broken"
    assert called <= SCOPE.keys(), f"map these to their scope: {sorted(called - SCOPE.keys())}"


def test_bot_scopes_cover_what_the_app_calls_and_no_more() -> None:
    needed = {SCOPE[method] for method in methods_called()} - {None}
    assert manifest_bot_scopes() == needed | WITHOUT_A_CALL
