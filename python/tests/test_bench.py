"""The benchmark harness (fasthttp.bench): a short smoke run of every client
against the embedded nginx, and its parts. No speed is asserted: only that the
table and the JSON have their structure and that every requested client was
measured or explicitly skipped with a reason."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from fasthttp.bench import (
    cells,
    clients,
    matrix_report,
    measure,
    report,
    sink,
    stream,
    target,
    targets,
    wrkref,
)
from fasthttp.bench.config import RunResult, RunSpec, Skip

SEED_COLUMNS = ("| Library | Requests | Success | Req/s | Avg Lat (ms) | P95 Lat (ms) | "
                "P99 Lat (ms) | Mbps |")
MEDIAN_KEYS = {"requests", "success", "rps", "avg_ms", "p50_ms", "p95_ms", "p99_ms", "mbps",
               "target_cpu_pct"}


def bench(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fasthttp.bench", *args], capture_output=True,
                          text=True, timeout=timeout)


# The single-comparison CLI on the clients its targets name; every client is run by
# the matrix smoke below.
SMOKE_CLIENTS = ("fasthttp", "aiohttp", "requests", "pycurl", "maxhttp")


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any], Path]:
    d = tmp_path_factory.mktemp("bench")
    out = bench("--duration", "0.5", "--rounds", "1", "--concurrency", "1,2", "--warmup", "2",
                "--max-other", "0", "--clients", ",".join(SMOKE_CLIENTS),
                "--json", str(d / "r.json"), "--plot", str(d / "r.png"))
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout, json.loads((d / "r.json").read_text()), d / "r.png"


def test_smoke_table(smoke: tuple[str, dict[str, Any], Path]) -> None:
    text, _, _ = smoke
    assert text.count(SEED_COLUMNS) == 2  # one table per concurrency
    assert "vs fasthttp" in text and "Errors" in text and "nginx CPU" in text
    assert "Server saw" not in text  # the protocol log is for --http2 runs
    for c in clients.select(list(SMOKE_CLIENTS), "both"):
        assert text.count(f"| {c.label} |") == 2, c.label
    assert "HTTP/1.1) |" not in text  # the reference rows are for --http2 runs
    assert "Where fasthttp stands against DESIGN.md's Python targets" in text
    assert "Versions: python" in text and "Machine:" in text and "Target: embedded nginx/" in text


def test_smoke_every_client_measured_or_skipped(smoke: tuple[str, dict[str, Any], Path]) -> None:
    _, doc, _ = smoke
    assert [s["concurrency"] for s in doc["scenarios"]] == [1, 2]
    for sc in doc["scenarios"]:
        assert set(sc["clients"]) == {c.id for c in clients.select(list(SMOKE_CLIENTS), "both")}
        for cid, r in sc["clients"].items():
            assert r["status"] in ("ok", "skipped"), f"{cid}: {r['status']}: {r['reason']}"
            if r["status"] == "skipped":
                assert r["reason"], cid
                if cid == "fasthttp-async":
                    assert r["reason"].startswith("fasthttp asyncio not available in this build")
                continue
            assert MEDIAN_KEYS <= set(r["median"]), cid
            assert r["median"]["success"] > 0 and r["median"]["rps"] > 0, cid
            assert r["errors_total"] == 0, (cid, r["error_example"])
            assert r["protocol"] == "HTTP/1.1", cid
            assert len(r["rounds"]) == 1
            assert r["median"]["target_cpu_pct"] >= 0  # the embedded target's CPU is known
    assert doc["scenarios"][0]["clients"]["fasthttp"]["relative_to_fasthttp"] == 1.0


def test_smoke_json_and_plot(smoke: tuple[str, dict[str, Any], Path]) -> None:
    _, doc, png = smoke
    cfg = doc["config"]
    assert cfg["embedded_target"] and cfg["nginx"].startswith("nginx/")
    assert cfg["duration_s"] == 0.5 and cfg["rounds"] == 1 and cfg["concurrency"] == [1, 2]
    assert {"python", "nginx", "fasthttp"} <= set(doc["versions"])
    assert doc["machine"]["cpu_model"] and doc["machine"]["cpus"] >= 1
    goals = [t["goal"] for t in doc["targets"]]
    assert len(goals) == 4 and any("aiohttp" in g for g in goals)
    for t in doc["targets"]:
        assert t["verdict"] in ("met", "NOT met") or t["verdict"].startswith("not measured")
    # sequential targets are measurable in this run (concurrency 1 was run)
    seq = [t for t in doc["targets"] if t["peer"] in ("pycurl", "requests")]
    assert all(t["ratio"] is not None for t in seq)
    seed = next(t for t in doc["targets"] if t["peer"] == "maxhttp-async")
    assert seed["verdict"].startswith("not measured: run with --concurrency 64")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_unknown_client_is_a_usage_error() -> None:
    out = bench("--clients", "nosuchclient")
    assert out.returncode == 2 and "unknown client" in out.stderr


def test_launcher_help() -> None:
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, str(root / "benchmark.py"), "--help"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    for flag in ("--url", "--method", "--duration", "--concurrency", "--timeout", "--body-size",
                 "--warmup", "--insecure", "--header", "--payload", "--latency-samples",
                 "--clients", "--mode", "--http2", "--json", "--plot", "--rounds", "--tls"):
        assert flag in out.stdout, flag


def test_select() -> None:
    ids = [c.id for c in clients.select(["fasthttp", "httpx-async"], "both")]
    assert ids == ["fasthttp", "fasthttp-async", "httpx-async"]
    ids = [c.id for c in clients.select(["fasthttp", "httpx-async"], "both", http2=True)]
    assert ids == ["fasthttp", "fasthttp-async", "fasthttp-h1", "fasthttp-async-h1",
                   "httpx-async"]
    assert [c.id for c in clients.select(["fasthttp"], "async", http2=True)] == [
        "fasthttp-async", "fasthttp-async-h1"]
    assert [c.id for c in clients.select(["httpx"], "sync")] == ["httpx"]
    with pytest.raises(ValueError):
        clients.select(["curl"], "both")


def test_missing_library_is_a_skip() -> None:
    with pytest.raises(Skip, match="not installed"):
        clients.need("no_such_module_fh_bench")


def test_sizes_and_document() -> None:
    assert target.parse_size("1k") == 1024 and target.parse_size("1m") == 1 << 20
    assert target.parse_size("512") == 512 and target.size_label(65536) == "64k"
    with pytest.raises(ValueError):
        target.parse_size("lots")
    doc = target.json_document()
    assert len(doc) == 1024 and json.loads(doc)["name"] == "fasthttp"


def test_recorder_reservoir_and_percentiles() -> None:
    rec = measure.Recorder(cap=100, expect=10)
    for i in range(1000):
        rec.add(i / 1000, 200, 10)
    rec.add(0.5, 503, 0)
    rec.add(0.5, 200, 9)  # a short body is an error, not a request done
    rec.exception(TimeoutError("slow"))
    assert rec.success == 1000 and rec.bytes_in == 10000 and len(rec.samples) == 100
    assert rec.kinds == {"HTTP 503": 1, "TimeoutError": 1, "wrong body length": 1}
    assert rec.errors == 3
    spec = RunSpec(client="x", url="http://127.0.0.1/")
    w = measure.Window(spec)
    w.t0, w.t1 = 0.0, 2.0
    r = measure.result(spec, w, [rec])
    assert r.requests == 1003 and r.rps == 501.5 and r.success == 1000
    ordered = [float(i) for i in range(1, 101)]
    assert measure._pct(50, ordered) == 50_000 and measure._pct(99, ordered) == 99_000


def test_target_serves_json_payloads_and_uploads() -> None:
    with target.NginxTarget([64 * 1024]) as t:
        with urllib.request.urlopen(t.url("/json")) as r:
            assert len(r.read()) == 1024 and r.headers["Content-Type"] == "application/json"
        with urllib.request.urlopen(t.url("/payload/64k")) as r:
            assert len(r.read()) == 65536
        req = urllib.request.Request(t.url("/upload"), data=b"x" * 3_000_000, method="POST")
        with urllib.request.urlopen(req) as r:
            assert r.read() == b"ok\n"
        pid = t.pid
        assert pid > 0
    assert not os.path.exists(f"/proc/{pid}")  # stopped and reaped


def test_http_version_spellings() -> None:
    for v, want in (("HTTP/2.0", "HTTP/2"), ("HTTP/2", "HTTP/2"), (20, "HTTP/2"),
                    ((2, 0), "HTTP/2"), ("HTTP/1.1", "HTTP/1.1"), (11, "HTTP/1.1"),
                    ("1.1", "HTTP/1.1"), ((1, 0), "HTTP/1.0")):
        assert clients.http_version(v) == want, v


def test_protocol_log_parse() -> None:
    log = target.ProtocolLog.parse("HTTP/2.0 7\nHTTP/2.0 7\nHTTP/2.0 9\nHTTP/1.1 12\n\n")
    assert log.requests == {"HTTP/2.0": 3, "HTTP/1.1": 1} and log.connections == 3


def test_target_logs_the_protocol_of_each_request() -> None:
    """With log_protocol, take_log() returns what came since its last call."""
    with target.NginxTarget([], tls=True, log_protocol=True) as t:
        import ssl

        ctx = ssl.create_default_context(cafile=t.ca_file)
        assert t.take_log().requests == {}
        for _ in range(3):
            with urllib.request.urlopen(t.url("/json"), context=ctx) as r:
                assert len(r.read()) == 1024
        log = t.take_log()
        assert log.requests == {"HTTP/1.1": 3} and log.connections == 3  # urllib: no reuse
        assert t.take_log().requests == {}


def _row(cid: str, rps: float, expected: str, seen: dict[str, int]) -> report.Summary:
    info = clients.BY_ID[cid]
    run = RunResult(client=cid, rps=rps, protocol=expected, server_protocols=seen,
                    server_connections=1)
    return report.summarize(info, [run], expected)


def test_http2_targets_count_only_rows_the_server_saw_over_http2() -> None:
    from fasthttp.bench.runner import Scenario

    sc = Scenario("json-c256", "t", "json", "https://x/json", "GET", 0, 256)
    rows = [
        _row("fasthttp-async", 30000, "HTTP/2", {"HTTP/2.0": 100}),
        _row("fasthttp-async-h1", 10000, "HTTP/1.1", {"HTTP/1.1": 100}),
        # the fastest "peer" fell back to HTTP/1.1 for some requests: it does not count
        _row("pycurl", 40000, "HTTP/2", {"HTTP/2.0": 90, "HTTP/1.1": 10}),
        _row("httpx-async", 15000, "HTTP/2", {"HTTP/2.0": 100}),
    ]
    assert rows[2].protocol_verified is False and rows[2].label == "pycurl (sync) (NOT HTTP/2)"
    table = report.table(sc, rows)
    assert "| HTTP/2 (1 conn) |" in table and "HTTP/2 90.0%, HTTP/1.1 10.0% (1 conn)" in table
    assert "does not count for the targets" in table
    ts = targets.targets([sc], {sc.key: rows}, "asyncio", http2=True)
    peer = next(t for t in ts if "fastest Python peer" in t.goal)
    assert peer.den == "httpx-async" and peer.ratio == 2.0 and peer.verdict == "met"
    own = next(t for t in ts if "own HTTP/1.1" in t.goal)
    assert own.ratio == 3.0 and own.verdict == "met"
    assert "Where fasthttp stands against the HTTP/2 targets" in targets.targets_text(ts, True)


@pytest.fixture(scope="module")
def smoke_h2(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any]]:
    d = tmp_path_factory.mktemp("bench-h2")
    out = bench("--http2", "--duration", "0.5", "--rounds", "1", "--concurrency", "4",
                "--warmup", "2", "--max-other", "0", "--clients", "fasthttp,httpx-async",
                "--json", str(d / "r.json"))
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout, json.loads((d / "r.json").read_text())


def test_smoke_http2(smoke_h2: tuple[str, dict[str, Any]]) -> None:
    """--http2: TLS target, fasthttp over HTTP/2 and its HTTP/1.1 reference rows,
    every row checked against what the server logged."""
    text, doc = smoke_h2
    assert doc["config"]["http2"] and doc["config"]["tls"]
    assert "| Server saw |" in text and "HTTP/2 requested" in text
    sc = doc["scenarios"][0]
    assert set(sc["clients"]) == {"fasthttp", "fasthttp-async", "fasthttp-h1",
                                  "fasthttp-async-h1", "httpx-async"}
    for cid, r in sc["clients"].items():
        if cid == "httpx-async" and r["status"] == "skipped":  # h2 not installed
            assert "h2" in r["reason"]
            continue
        assert r["status"] == "ok", (cid, r["reason"])
        assert r["errors_total"] == 0, (cid, r["error_example"])
        want = "HTTP/1.1" if cid.endswith("-h1") else "HTTP/2"
        assert r["expected_protocol"] == want and r["protocol"] == want, cid
        assert r["protocol_verified"] is True, (cid, r["server_protocols"])
        assert set(r["server_protocols"]) == {want} and r["server_connections"] >= 1
    h1 = sc["clients"]["fasthttp-async-h1"]
    assert h1["server_connections"] >= 2  # HTTP/1.1: a connection per request in flight
    goals = [t["goal"] for t in doc["targets"]]
    assert any("fastest Python peer over HTTP/2" in g for g in goals)
    assert any("own HTTP/1.1 figure" in g for g in goals)


def test_websocket_bench_smoke(tmp_path: Path) -> None:
    """python -m fasthttp.bench.ws: both tables, every client measured, the JSON."""
    out = tmp_path / "ws.json"
    r = subprocess.run([sys.executable, "-m", "fasthttp.bench.ws", "--duration", "0.3",
                        "--rounds", "1", "--concurrency", "4", "--json", str(out)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "#### Echo, 64 B text messages, 4 concurrent sockets" in r.stdout
    assert "#### Bulk, 1 MiB binary messages, one socket" in r.stdout
    data = json.loads(out.read_text())
    for scenario in ("echo", "bulk"):
        for client in ("fasthttp", "websockets", "aiohttp"):
            runs = data[scenario][client]
            assert runs and runs[0]["trips"] > 0, (scenario, client, r.stderr)


@pytest.fixture(scope="module")
def matrix_smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any], Path]:
    """python -m fasthttp.bench.matrix --quick: every client on every kind of cell."""
    d = tmp_path_factory.mktemp("matrix")
    out = subprocess.run([sys.executable, "-m", "fasthttp.bench.matrix", "--quick",
                          "--max-other", "0", "--json", str(d / "m.json"),
                          "--plot", str(d / "m.png")],
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout, json.loads((d / "m.json").read_text()), d / "m.png"


def test_matrix_smoke_every_client_correct(matrix_smoke: tuple[str, dict[str, Any], Path]) -> None:
    """Each client ran each cell and every response it counted was right (status and
    body length; uploads whole), or the client is unable and says so."""
    _, doc, _ = matrix_smoke
    keys = [c.key for c in cells.quick()]
    assert [c["key"] for c in doc["cells"]] == keys
    for cell in doc["cells"]:
        assert set(cell["clients"]) == {c.id for c in clients.CLIENTS if not c.http1_reference}
        for cid, r in cell["clients"].items():
            where = (cell["key"], cid)
            if r["status"] == "skipped":  # the peers are installed: only inability skips
                assert r["reason"].startswith("unsupported:"), (where, r["reason"])
                assert cell["stream"] and not cid.startswith("fasthttp"), where
                continue
            assert r["status"] == "ok", (where, r["reason"])
            assert r["errors_total"] == 0, (where, r["error_example"])
            assert r["median"]["success"] >= 1, where
            for run in r["rounds"]:
                if cell["stream"]:
                    moved = run["bytes_in"] if cell["stream"] == "down" else run["bytes_out"]
                    assert moved == 8 << 20 and run["rss_peak_kib"] > 0, where
                else:
                    assert run["bytes_in"] == run["success"] * cells.quick()[
                        keys.index(cell["key"])].expect_bytes, where


def test_matrix_smoke_table_and_plot(matrix_smoke: tuple[str, dict[str, Any], Path]) -> None:
    text, doc, png = matrix_smoke
    table = text[text.index("### The matrix"):]
    for c in cells.quick():
        assert f"| {c.title} | fasthttp (" in table, c.title
    assert "### Streamed transfers: throughput and extra peak RSS" in text
    assert "fasthttp's best face >= 1.2x the best peer" in text
    assert "fasthttp async >= 1.5x aiohttp" in text and "extra RSS < 32 MiB" in text
    assert all(row["face"].startswith("fasthttp") for row in doc["matrix"])
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_matrix_counts_only_correct_responses() -> None:
    """A peer's errors never make it the best peer: its figure is successful requests/s."""
    from fasthttp.bench.runner import Scenario

    sc = Scenario("k", "t", "json", "http://x/json", "GET", 0, 64, expect_bytes=1024)

    def row(cid: str, success: int, errors: int) -> report.Summary:
        run = RunResult(client=cid, requests=success + errors, success=success, errors=errors,
                        seconds=1.0, rps=float(success + errors))
        return report.summarize(clients.BY_ID[cid], [run])

    rows = [row("fasthttp", 1000, 0), row("fasthttp-async", 1200, 0), row("aiohttp", 600, 0),
            row("pycurl", 100, 5000)]  # fast at failing
    m = matrix_report.matrix([sc], {"k": rows}, {})[0]
    assert m.face == "fasthttp (async)" and m.peer == "aiohttp (async)"
    assert m.ratio == 2.0 and m.async_ratio == 2.0
    assert any("pycurl" in n for n in m.notes)


def test_cells() -> None:
    full = cells.full()
    assert len({c.key for c in full}) == len(full)  # keys are unique
    assert {c.concurrency for c in full} == {1, 64} and any(c.tls for c in full)
    big = [c for c in full if c.stream]
    assert {c.stream for c in big} == {"down", "up"} and all(c.stream_size == 1 << 30
                                                             for c in big)
    assert cells.Cell("/payload/64k", 1).expect_bytes == 65536
    assert cells.Cell("/upload", 64, body_size=1024).expect_bytes == 3
    assert cells.payload_sizes(full) == [64 << 10, 1 << 20, 1 << 30]


def test_upload_body_and_wrk_parse() -> None:
    up = stream.Upload(stream.CHUNK * 2 + 5)
    assert sum(len(c) for c in up) == up.size == up.sent
    pull = stream.Upload(10)
    assert pull.read(4) == b"xxxx" and pull.read() == b"x" * 6 and pull.read() == b""
    assert wrkref.parse("Requests/sec:   1234.50\n") == (1234.5, "")
    assert wrkref.parse("Non-2xx or 3xx responses: 7\nRequests/sec: 9\n")[1] == (
        "7 non-2xx responses")


def test_wrk_reference_runs_each_cell_as_its_clients_do() -> None:
    """wrk runs on every cell but the streamed ones, with the cell's connection
    handling and its request body: nginx's log shows one connection for keep-alive and
    one per request for Connection: close, and the body sink answers 200 (which wrk
    counts) only to a POST of exactly the cell's body size."""
    import dataclasses
    import io
    import shutil

    from fasthttp.bench.matrix import scenario

    assert shutil.which("wrk"), "scripts/test.sh installs wrk"
    with target.NginxTarget([1 << 20], log_protocol=True) as t, sink.BodySink() as s:
        def run(cell: cells.Cell, url: str = "") -> tuple[wrkref.WrkRef | None, target.ProtocolLog]:
            sc = scenario(cell, t)
            if url:
                sc = dataclasses.replace(sc, url=url)
            t.take_log()
            refs = wrkref.run_all([cell], [sc], 1, 1.0, io.StringIO())
            return refs.get(sc.key), t.take_log()

        keep, log = run(cells.Cell("/json", 1))
        assert keep and keep.rps and not keep.note and not keep.goal
        assert log.connections == 1 and sum(log.requests.values()) > 100
        close, log = run(cells.Cell("/json", 1, close=True))
        assert close and close.rps and not close.note
        assert log.connections == sum(log.requests.values()) > 100
        post, _ = run(cells.Cell("/upload", 1, body_size=1024), s.url("/upload?expect=1024"))
        assert post and post.rps and not post.note
        short, _ = run(cells.Cell("/upload", 1, body_size=1000), s.url("/upload?expect=1024"))
        assert short and not short.rps and "non-2xx" in short.note
        big, _ = run(cells.Cell("/payload/1m", 64))
        assert big and big.rps and big.goal
        streamed, _ = run(cells.Cell("/payload/1m", 1, stream="down", stream_size=1 << 20))
        assert streamed is None


def test_matrix_reports_where_wrk_stays_below_the_target() -> None:
    """A cell below 1.2x the best peer (1.5x aiohttp) is called capped only where wrk,
    measured on it, is below 1.2x the best peer (1.5x aiohttp) too; the 0.8x-of-wrk
    verdict is given on goal cells alone."""
    from fasthttp.bench.runner import Scenario

    def row(cid: str, rps: int) -> report.Summary:
        run = RunResult(client=cid, requests=rps, success=rps, seconds=1.0, rps=float(rps))
        return report.summarize(clients.BY_ID[cid], [run])

    scs = [Scenario(k, k, "json", "http://x/json", "GET", 0, 1, expect_bytes=1024)
           for k in ("capped", "open", "goal")]
    rows = {k: [row("fasthttp", 1100), row("fasthttp-async", 1100), row("pycurl", 1000),
                row("aiohttp", 900)] for k in ("capped", "open", "goal")}
    refs = {"capped": wrkref.WrkRef([1100.0]), "open": wrkref.WrkRef([1500.0]),
            "goal": wrkref.WrkRef([1000.0], goal=True)}
    m = matrix_report.matrix(scs, rows, refs)
    assert [r.wrk_peer_ratio for r in m] == [1.1, 1.5, 1.0]
    text = matrix_report.targets_text(m)
    assert "of the 3 cells below 1.2x the best peer, wrk ran on 3; in 2 of them wrk" in text
    assert "capped (wrk 1.10x); goal (wrk 1.00x)" in text and "open (wrk" not in text
    assert "of the 3 cells below 1.5x aiohttp, wrk ran on 3; in 2 of them wrk" in text
    assert "capped (wrk 1.22x); goal (wrk 1.11x)" in text
    assert "goal: fasthttp >= 0.8x wrk: **1.10x" in text and "capped: fasthttp >=" not in text
    assert "| 1,100 req/s | 1.10x |" in matrix_report.matrix_table(m)


def _answered_after_the_whole_body(port: int) -> None:
    """Half of a 16 MiB body gets no reply; the whole body gets 200 and ok."""
    import socket
    import time

    size = 16 << 20
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % size)
        s.sendall(b"x" * (size // 2))
        time.sleep(0.2)
        s.setblocking(False)
        with pytest.raises(BlockingIOError):  # no reply to half a body
            s.recv(100)
        s.setblocking(True)
        s.sendall(b"x" * (size - size // 2))
        reply = s.recv(1000)
    assert reply.startswith(b"HTTP/1.1 200") and reply.endswith(b"\r\n\r\nok\n")


def test_upload_is_answered_after_the_whole_body() -> None:
    """/upload replies once nginx has read every byte: a client cannot stop early."""
    with target.NginxTarget([]) as t:
        _answered_after_the_whole_body(int(t.base.rsplit(":", 1)[1]))


def _sink_exchange(port: int, request: bytes, body_parts: list[bytes]) -> bytes:
    """Sends a request head and body pieces over one connection; the whole reply."""
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(request)
        for part in body_parts:
            s.sendall(part)
        s.shutdown(socket.SHUT_WR)
        out = b""
        while chunk := s.recv(65536):
            out += chunk
    return out


def test_upload_sink_checks_framing_and_length() -> None:
    """The streamed-upload cell's sink (sink.py) answers 200 only after a whole body
    of the announced length, chunked or not; a short, long or misframed body is a 400."""
    with sink.BodySink() as k:
        port = int(k.base.rsplit(":", 1)[1])
        head = b"POST /upload?expect=%d HTTP/1.1\r\nHost: x\r\n"
        chunked = [b"5\r\nhello\r\n", b"6;ext=1\r\n world\r\n", b"0\r\nX-T: 1\r\n\r\n"]
        ok = _sink_exchange(port, head % 11 + b"Transfer-Encoding: chunked\r\n\r\n", chunked)
        assert ok.startswith(b"HTTP/1.1 200 OK") and ok.endswith(b"\r\n\r\nok\n"), ok
        short = _sink_exchange(port, head % 12 + b"Transfer-Encoding: chunked\r\n\r\n", chunked)
        assert short.startswith(b"HTTP/1.1 400") and b"got 11 bytes, expected 12" in short
        # Two requests on one connection, Content-Length framed, with 100-continue.
        two = _sink_exchange(port, head % 3 + b"Expect: 100-continue\r\nContent-Length: 3\r\n\r\n"
                             b"abc" + head % 4 + b"Content-Length: 4\r\n\r\n", [b"defg"])
        assert two.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK")
        assert two.count(b"200 OK") == 2
        # A body framed twice (what a client that chunks a chunked body sends).
        bad = _sink_exchange(port, head % 5 + b"Transfer-Encoding: chunked\r\n\r\n",
                             [b"8\r\n5\r\nhello\r\n", b"0\r\n\r\n"])
        assert bad.startswith(b"HTTP/1.1 400"), bad
        bad_cl = _sink_exchange(port, head % 1 + b"Content-Length: x\r\n\r\n", [])
        assert bad_cl.startswith(b"HTTP/1.1 400") and b"Content-Length" in bad_cl


def test_upload_sink_answers_after_the_whole_body() -> None:
    """As nginx's /upload: no reply to half a body, so a client cannot stop early."""
    with sink.BodySink() as k:
        _answered_after_the_whole_body(int(k.base.rsplit(":", 1)[1]))


def test_matrix_report_from_json(matrix_smoke: tuple[str, dict[str, Any], Path]) -> None:
    """--report prints a saved run again, the same matrix and CPU table."""
    text, _, png = matrix_smoke
    out = subprocess.run([sys.executable, "-m", "fasthttp.bench.matrix", "--report",
                          str(png.with_name("m.json"))], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]

    def part(t: str) -> str:
        return t[t.index("### The matrix"):t.index("### Where fasthttp stands")]

    assert part(out.stdout) == part(text)
    assert "### Client CPU per request" in out.stdout
