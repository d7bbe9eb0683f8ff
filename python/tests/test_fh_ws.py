"""`fh ws` (tools/fh_ws.c), the command-line WebSocket client, against the websockets
server and the scripted one: lines out, messages in, headers and subprotocols, binary as
hex, and the exit status from the close code. Needs build/release/fh (scripts/test.sh
builds it first; FH_BIN points elsewhere); a missing binary fails."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from ws_servers import ScriptedWs, frame

def run(fh: str, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([fh, "ws", *args], input=stdin, capture_output=True, timeout=30)


def test_lines_out_messages_in(fh: str, ws_server: str) -> None:
    p = subprocess.Popen([fh, "ws", f"{ws_server}/echo"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.stdin and p.stdout
    for line in (b"hello", b"w\xc3\xb6rld"):
        p.stdin.write(line + b"\n")
        p.stdin.flush()
        assert p.stdout.readline() == line + b"\n"
    p.stdin.close()  # end of input: close with 1000
    assert p.wait(10) == 0


def test_headers_and_subprotocol(fh: str, ws_server: str) -> None:
    r = run(fh, "--no-input", "-H", "X-Token: abc", "--subprotocol", "chat",
            f"{ws_server}/headers")
    h = {k.lower(): v for k, v in json.loads(r.stdout).items()}
    assert h["x-token"] == "abc" and h["sec-websocket-protocol"] == "chat"
    assert "sec-websocket-extensions" not in h  # only with --compressed
    r = run(fh, "--no-input", "--compressed", f"{ws_server}/headers")
    assert "permessage-deflate" in json.loads(r.stdout)["Sec-WebSocket-Extensions"]


def test_binary_as_hex_or_to_a_file(fh: str, ws_server: str, tmp_path: Path) -> None:
    r = run(fh, "--no-input", f"{ws_server}/binary")
    assert r.stdout == b"00ff\n" and r.returncode == 0
    out = tmp_path / "b.bin"
    r = run(fh, "--no-input", "-o", str(out), f"{ws_server}/binary")
    assert out.read_bytes() == b"\x00\xff" and r.returncode == 0


@pytest.mark.parametrize("code,status", [(1000, 0), (1001, 11), (1011, 21), (4001, 9)])
def test_exit_status_from_the_close_code(fh: str, ws_server: str, code: int,
                                         status: int) -> None:
    assert run(fh, "--no-input", f"{ws_server}/close/{code}").returncode == status


def test_refused_handshake_and_usage(fh: str, ws_server: str) -> None:
    r = run(fh, "--no-input", f"{ws_server}/forbidden")
    assert r.returncode == 1 and b"403" in r.stderr
    assert run(fh, "http-not-a-url").returncode == 2
    assert run(fh, "--no-input", "ftp://127.0.0.1/").returncode == 2


def test_violation_exit_status(fh: str) -> None:
    srv = ScriptedWs(frame(1, b"\xff"))  # invalid UTF-8: we close with 1007, echoed
    try:
        r = run(fh, "--no-input", srv.url)
    finally:
        srv.close()
    assert srv.got.close_code == 1007
    assert r.returncode == 17 and b"UTF-8" in r.stderr
