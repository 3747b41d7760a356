"""A loopback fake of Slack's Socket Mode WebSocket endpoint.

slack_sdk's built-in client asks `apps.connections.open` (the fake Web API) for a URL,
opens a WebSocket there and waits for `hello`; Slack then sends envelopes, and the app
acknowledges each by its envelope_id. Just enough RFC 6455 for that: the handshake, text,
ping/pong and close frames.
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import struct
import threading
from typing import Any

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA


class FakeSocketMode:
    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._conns: list[socket.socket] = []
        self._acks: dict[str, dict[str, Any]] = {}
        self._changed = threading.Condition()
        self._send_lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self._listener.getsockname()[1]}/link/?ticket=fake"

    def stop(self) -> None:
        self._listener.close()
        for conn in list(self._conns):
            conn.close()

    def wait_connected(self, timeout: float = 10) -> None:
        with self._changed:
            assert self._changed.wait_for(lambda: self._conns, timeout), "no Socket Mode client"

    def send(self, envelope: dict[str, Any], timeout: float = 10) -> dict[str, Any]:
        """Deliver an envelope to the app and return its acknowledgement."""
        data = json.dumps(envelope).encode()
        with self._send_lock:
            _write_frame(self._conns[-1], TEXT, data)
        envelope_id = envelope["envelope_id"]
        with self._changed:
            ok = self._changed.wait_for(lambda: envelope_id in self._acks, timeout)
            assert ok, f"no ack for envelope {envelope_id}"
            return self._acks[envelope_id]

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        reader = conn.makefile("rb")
        headers: dict[str, str] = {}
        while (line := reader.readline().decode().strip()) != "":
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        accept = base64.b64encode(
            hashlib.sha1((headers["sec-websocket-key"] + _GUID).encode()).digest()
        ).decode()
        conn.sendall(
            (
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
            ).encode()
        )
        hello = {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0APP001"}}
        with self._send_lock:
            _write_frame(conn, TEXT, json.dumps(hello).encode())
        with self._changed:
            self._conns.append(conn)
            self._changed.notify_all()
        try:
            while True:
                opcode, payload = _read_frame(reader)
                if opcode == PING:
                    with self._send_lock:
                        _write_frame(conn, PONG, payload)
                elif opcode == TEXT:
                    message = json.loads(payload)
                    with self._changed:
                        self._acks[message.get("envelope_id", "")] = message
                        self._changed.notify_all()
                elif opcode == CLOSE:
                    return
        except (OSError, ValueError, struct.error):
            return
        finally:
            conn.close()


def _read_exact(reader: Any, n: int) -> bytes:
    data = reader.read(n)
    if len(data) != n:
        raise ValueError("connection closed")
    return bytes(data)


def _read_frame(reader: Any) -> tuple[int, bytes]:
    first, second = _read_exact(reader, 2)
    length = second & 0x7F
    if length == 126:
        length = struct.unpack("!H", _read_exact(reader, 2))[0]
    elif length == 127:
        length = struct.unpack("!Q", _read_exact(reader, 8))[0]
    mask = _read_exact(reader, 4) if second & 0x80 else b"\0\0\0\0"
    payload = _read_exact(reader, length)
    return first & 0x0F, bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def _write_frame(conn: socket.socket, opcode: int, payload: bytes) -> None:
    header = bytes([0x80 | opcode])
    if len(payload) < 126:
        header += bytes([len(payload)])
    elif len(payload) < 65536:
        header += bytes([126]) + struct.pack("!H", len(payload))
    else:
        header += bytes([127]) + struct.pack("!Q", len(payload))
    conn.sendall(header + payload)
