"""A loopback fake of the Slack Web API (and of response_url), recording every call.

Modelled on bolt-python's tests/mock_web_api_server: a real HTTP server the real WebClient
talks to through SLACK_API_URL, so what we assert is what Slack would have received.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlparse

from tests.fakes.loopback import LoopbackServer

BOT_USER = "UBOT0001"
TEAM = "T0TEAM01"


def slash_form(
    command: str,
    text: str,
    *,
    response_url: str,
    trigger_id: str,
    user: str = "U0ALICE1",
    channel: str = "C0CHAN01",
) -> dict[str, str]:
    """The form fields Slack posts for a slash command."""
    return {
        "token": "legacy",
        "team_id": TEAM,
        "team_domain": "acme",
        "channel_id": channel,
        "channel_name": "deploys",
        "user_id": user,
        "user_name": "alice",
        "command": command,
        "text": text,
        "api_app_id": "A0APP001",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }


def block_actions(
    *,
    user: str,
    channel: str,
    message: dict[str, Any],
    ts: str,
    action: dict[str, Any],
    trigger_id: str,
    response_url: str,
) -> dict[str, Any]:
    """The payload Slack sends when someone uses an element of a message in `channel`:
    `message` as Slack shows it (text, blocks), `action` the element's part of it."""
    return {
        "type": "block_actions",
        "token": "legacy",
        "api_app_id": "A0APP001",
        "user": {"id": user, "username": user.lower(), "team_id": TEAM},
        "team": {"id": TEAM, "domain": "acme"},
        "enterprise": None,
        "is_enterprise_install": False,
        "trigger_id": trigger_id,
        "container": {
            "type": "message",
            "message_ts": ts,
            "channel_id": channel,
            "is_ephemeral": False,
        },
        "channel": {"id": channel, "name": "directmessage" if channel[0] == "D" else "deploys"},
        "message": {
            "type": "message",
            "user": BOT_USER,
            "ts": ts,
            "text": message["text"],
            "blocks": message["blocks"],
        },
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [{**action, "action_ts": "1700000100.000001"}],
    }


def view_submission(
    *,
    user: str,
    callback_id: str,
    private_metadata: str,
    values: dict[str, dict[str, Any]],
    view_id: str,
    trigger_id: str,
    blocks: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The payload Slack sends when someone presses Save on a modal; `values` is the
    view's state: {block_id: {action_id: element state}}."""
    return {
        "type": "view_submission",
        "token": "legacy",
        "api_app_id": "A0APP001",
        "team": {"id": TEAM, "domain": "acme"},
        "user": {"id": user, "username": user.lower(), "team_id": TEAM},
        "is_enterprise_install": False,
        "trigger_id": trigger_id,
        "view": {
            "id": view_id,
            "team_id": TEAM,
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": private_metadata,
            "blocks": blocks or [],
            "state": {"values": values},
            "hash": "1700000200.abcdef",
            "title": {"type": "plain_text", "text": "Shipshape"},
            "app_id": "A0APP001",
            "bot_id": "B0BOT001",
        },
        "response_urls": [],
    }


@dataclass
class Call:
    method: str
    args: dict[str, Any]


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.errors: dict[str, list[str]] = {}  # method -> error codes to answer, in turn
        self.limits: dict[str, list[int]] = {}  # method -> HTTP 429s to answer (Retry-After)
        self.on_call: dict[str, Callable[[], None]] = {}  # method -> run before answering it
        self.users: dict[str, dict[str, Any]] = {}
        self.channel_members: dict[str, list[str]] = {}  # conversations.members, paginated
        self.usergroups: dict[str, dict[str, Any]] = {}  # id -> {"handle": ..., "users": [...]}
        self.private_channels: set[str] = set()  # conversations.info: the rest are public
        self.channel_names: dict[str, str] = {}  # conversations.list: id -> name, paginated
        self.socket_mode_url = ""  # what apps.connections.open hands out
        self._ts = itertools.count(1)
        self._changed = threading.Condition()
        self._server = LoopbackServer(self._handler())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/api/"

    def response_url(self, name: str = "cmd") -> str:
        return f"http://127.0.0.1:{self._server.server_port}/respond/{name}"

    def start(self) -> FakeSlack:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def fail_next(self, method: str, error: str) -> None:
        self.errors.setdefault(method, []).append(error)

    def limit_next(self, method: str, retry_after: int) -> None:
        """Answer the next call to `method` as Slack's rate limiter does: HTTP 429 with a
        Retry-After header, which slack_sdk's retry handler waits out."""
        self.limits.setdefault(method, []).append(retry_after)

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        with self._changed:
            return [c.args for c in self.calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 10) -> list[dict[str, Any]]:
        """Block until `method` has been called `count` times (listeners post after ack)."""
        with self._changed:
            ok = self._changed.wait_for(
                lambda: sum(c.method == method for c in self.calls) >= count, timeout
            )
        calls = self.calls_to(method)
        assert ok, f"expected {count} call(s) to {method}, got {len(calls)}: {self.calls}"
        return calls

    def _record(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if hook := self.on_call.get(method):
            hook()
        with self._changed:
            self.calls.append(Call(method, args))
            self._changed.notify_all()
            queued = self.errors.get(method)
            if queued:
                return {"ok": False, "error": queued.pop(0)}
            n = next(self._ts)
        ts = f"1700000000.{n:06d}"
        if method == "auth.test":
            return {
                "ok": True,
                "user_id": BOT_USER,
                "team_id": TEAM,
                "bot_id": "B0BOT001",
                "user": "shipshape",
                "team": "Acme",
                "url": "https://acme.slack.com/",
            }
        if method in ("chat.postMessage", "chat.update"):
            message = {"text": args.get("text"), "blocks": args.get("blocks")}
            return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts") or ts,
                    "message": message}  # fmt: skip
        if method in ("views.open", "views.publish", "views.update"):
            return {"ok": True, "view": {"id": f"V{n:08d}", **(args.get("view") or {})}}
        if method == "apps.connections.open":
            return {"ok": True, "url": self.socket_mode_url}
        if method == "users.info":
            user = self.users.get(args.get("user", ""), {"id": args.get("user")})
            return {"ok": True, "user": user}
        if method == "conversations.members":
            members = self.channel_members.get(args.get("channel", ""))
            if members is None:
                return {"ok": False, "error": "channel_not_found"}
            return self._page("members", members, args)
        if method == "conversations.list":
            named = [{"id": i, "name": name} for i, name in self.channel_names.items()]
            return self._page("channels", named, args)
        if method == "usergroups.users.list":
            group = self.usergroups.get(args.get("usergroup", ""))
            if group is None:
                return {"ok": False, "error": "no_such_subteam"}
            return {"ok": True, "users": group["users"]}
        if method == "usergroups.list":
            groups = [{"id": i, "handle": g["handle"]} for i, g in self.usergroups.items()]
            return {"ok": True, "usergroups": groups}
        if method == "conversations.info":
            channel = args.get("channel", "")
            private = channel in self.private_channels
            return {"ok": True, "channel": {"id": channel, "is_private": private}}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(args.get("users"))}}
        if method == "files.getUploadURLExternal":  # files_upload_v2, step 1 of 3
            upload = f"http://127.0.0.1:{self._server.server_port}/upload/F{n:08d}"
            return {"ok": True, "upload_url": upload, "file_id": f"F{n:08d}"}
        if method == "files.completeUploadExternal":
            return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")}
                                          for f in args.get("files") or []]}  # fmt: skip
        return {"ok": True}

    @staticmethod
    def _page(key: str, items: list[Any], args: dict[str, Any]) -> dict[str, Any]:
        """One page of a paginated list; the cursor is the offset of the next page."""
        start, limit = int(args.get("cursor") or 0), int(args.get("limit") or 100)
        after = str(start + limit) if start + limit < len(items) else ""
        return {
            "ok": True,
            key: items[start : start + limit],
            "response_metadata": {"next_cursor": after},
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _args(self) -> dict[str, Any]:
                parsed = urlparse(self.path)
                args: dict[str, Any] = dict(parse_qsl(parsed.query))
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                if raw and "json" in (self.headers.get("Content-Type") or ""):
                    args.update(json.loads(raw))
                elif raw:
                    args.update(dict(parse_qsl(raw)))
                for key in ("blocks", "view", "files"):
                    if isinstance(args.get(key), str):
                        args[key] = json.loads(args[key])
                return args

            def _upload(self, path: str) -> None:
                """files_upload_v2, step 2: the file's raw bytes, POSTed to upload_url."""
                data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with fake._changed:
                    fake.calls.append(Call("upload", {"file_id": path.split("/")[-1],
                                                      "bytes": data}))  # fmt: skip
                    fake._changed.notify_all()
                answer = f"OK - {len(data)}".encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def _answer(self) -> None:
                path = urlparse(self.path).path
                if path.startswith("/upload/"):
                    self._upload(path)
                    return
                args = self._args()
                method = path.removeprefix("/api/")
                limited = fake.limits.get(method)
                retry_after = limited.pop(0) if limited else None
                if path.startswith("/respond/"):
                    body = fake._record("response_url", {"path": path, **args})
                elif retry_after is not None:
                    body = {"ok": False, "error": "ratelimited"}
                    fake._record(method, args)
                else:
                    body = fake._record(method, args)
                data = json.dumps(body).encode()
                self.send_response(200 if retry_after is None else 429)
                if retry_after is not None:
                    self.send_header("Retry-After", str(retry_after))
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = _answer
            do_POST = _answer

        return Handler
