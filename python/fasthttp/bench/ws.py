"""WebSocket benchmark: ``python -m fasthttp.bench.ws``.

Echo round trips against a local ``websockets`` server, side by side in one run, for
fasthttp (asyncio), the ``websockets`` client and aiohttp:

- ``echo``: 64-byte text messages, N concurrent sockets (default 64), each sending the
  next message when the echo of the last came back; round trips per second.
- ``bulk``: 1 MiB binary messages on one socket, echoed; MB/s of payload received.

The server (websockets on uvloop when installed, compression off, no size limit, no
keepalive) runs in its own process pinned to CPU 0, each client run in a fresh process
pinned to the last CPU (``--no-pin``: no pinning). Every client has compression off
(permessage-deflate would measure zlib). Rounds are interleaved and medians shown. Next to
the rates the table shows the client's own CPU time per round trip (user + system of its
process): on a 2-CPU machine the Python server may limit the rate of the fastest client,
and the CPU column tells the clients' costs apart regardless (its share of a core is in
the server CPU column).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import socket
import statistics
import subprocess
import sys
import time
from typing import Any

CLIENTS = ("fasthttp", "websockets", "aiohttp")
ECHO_SIZE = 64
BULK_SIZE = 1 << 20


# ---- the server -----------------------------------------------------------------------


def serve(port: int) -> None:
    from websockets.asyncio.server import serve as ws_serve

    async def echo(ws: Any) -> None:
        try:
            async for msg in ws:
                await ws.send(msg)
        except Exception:  # a client going away mid-message
            pass

    async def main() -> None:
        async with ws_serve(echo, "127.0.0.1", port, compression=None, max_size=None,
                            ping_interval=None, max_queue=None):
            print("ready", flush=True)
            await asyncio.Future()

    try:
        import uvloop

        uvloop.run(main())
    except ImportError:
        asyncio.run(main())


# ---- the clients (one per worker process) ------------------------------------------------


async def _fasthttp(url: str, size: int, text: bool) -> Any:
    from fasthttp import WebSocket

    ws = await WebSocket.connect(url, extensions=[])
    msg: Any = "x" * size if text else os.urandom(size)
    send = ws.send_text if text else ws.send_bytes

    async def trip() -> int:
        await send(msg)
        return len(await ws.recv())

    return ws, trip, ws.close


async def _websockets(url: str, size: int, text: bool) -> Any:
    from websockets.asyncio.client import connect

    ws = await connect(url, compression=None, max_size=None, ping_interval=None,
                       max_queue=None)
    msg: Any = "x" * size if text else os.urandom(size)

    async def trip() -> int:
        await ws.send(msg)
        return len(await ws.recv())

    return ws, trip, ws.close


async def _aiohttp(url: str, size: int, text: bool, session: Any) -> Any:
    ws = await session.ws_connect(url, max_msg_size=0, compress=0, autoping=True)
    msg: Any = "x" * size if text else os.urandom(size)

    async def trip() -> int:
        if text:
            await ws.send_str(msg)
        else:
            await ws.send_bytes(msg)
        m = await ws.receive()
        return len(m.data)

    return ws, trip, ws.close


async def run_worker(client: str, url: str, scenario: str, conc: int,
                     duration: float) -> dict[str, Any]:
    size, text = (ECHO_SIZE, True) if scenario == "echo" else (BULK_SIZE, False)
    session = None
    if client == "aiohttp":
        import aiohttp

        session = aiohttp.ClientSession()
    makers = {"fasthttp": _fasthttp, "websockets": _websockets}
    conns = []
    for _ in range(conc):
        if client == "aiohttp":
            conns.append(await _aiohttp(url, size, text, session))
        else:
            conns.append(await makers[client](url, size, text))
    for _, trip, _ in conns:  # warm-up
        await trip()
    counts = [0] * conc
    nbytes = [0] * conc
    stop = False

    async def loop(i: int, trip: Any) -> None:
        while not stop:
            nbytes[i] += await trip()
            counts[i] += 1

    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    tasks = [asyncio.ensure_future(loop(i, c[1])) for i, c in enumerate(conns)]
    await asyncio.sleep(duration)
    stop = True
    await asyncio.gather(*tasks)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    for _, _, close in conns:
        await close()
    if session is not None:
        await session.close()
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    trips = sum(counts)
    return {"trips": trips, "bytes": sum(nbytes), "wall": wall, "cpu": cpu}


def worker_main(args: argparse.Namespace) -> int:
    loop_factory = asyncio.new_event_loop
    if args.loop == "uvloop":
        import uvloop

        loop_factory = uvloop.new_event_loop
    loop = loop_factory()
    try:
        res = loop.run_until_complete(
            run_worker(args.worker, args.url, args.scenario, args.concurrency, args.duration))
    finally:
        loop.close()
    print(json.dumps(res), flush=True)
    return 0


# ---- the harness ------------------------------------------------------------------------


def _cpu_ticks(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pin(cpu: int | None) -> Any:
    if cpu is None:
        return None
    return lambda: os.sched_setaffinity(0, {cpu})


def _version(mod: str) -> str:
    try:
        from importlib.metadata import version

        return version(mod)
    except Exception:
        return "not installed"


def harness(args: argparse.Namespace) -> int:
    ncpu = os.cpu_count() or 1
    pin = not args.no_pin and ncpu > 1
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    server = subprocess.Popen([sys.executable, "-m", "fasthttp.bench.ws", "--serve", str(port)],
                              stdout=subprocess.PIPE, text=True,
                              preexec_fn=_pin(0) if pin else None)
    assert server.stdout is not None
    server.stdout.readline()
    url = f"ws://127.0.0.1:{port}/"
    clients = [c for c in args.clients.split(",") if c]
    scenarios = [("echo", args.concurrency), ("bulk", 1)]
    results: dict[str, dict[str, list[dict[str, Any]]]] = {
        sc: {c: [] for c in clients} for sc, _ in scenarios}
    t_start = time.monotonic()
    try:
        for _ in range(args.rounds):
            for sc, conc in scenarios:
                for c in clients:
                    cpu0 = _cpu_ticks(server.pid)
                    out = subprocess.run(
                        [sys.executable, "-m", "fasthttp.bench.ws", "--worker", c, "--url", url,
                         "--scenario", sc, "--concurrency", str(conc), "--duration",
                         str(args.duration), "--loop", args.loop],
                        capture_output=True, text=True, timeout=args.duration * 4 + 60,
                        preexec_fn=_pin(ncpu - 1) if pin else None, check=False)
                    srv = _cpu_ticks(server.pid) - cpu0
                    if out.returncode != 0:
                        print(f"{c} {sc}: failed\n{out.stderr[-2000:]}", file=sys.stderr)
                        continue
                    r = json.loads(out.stdout.strip().splitlines()[-1])
                    r["server_cpu"] = srv / r["wall"]
                    results[sc][c].append(r)
    finally:
        server.terminate()
        server.wait(10)
    print(report(results, args, clients, time.monotonic() - t_start))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


def _med(rs: list[dict[str, Any]], key: Any) -> float:
    return statistics.median(key(r) for r in rs) if rs else 0.0


def report(results: dict[str, Any], args: argparse.Namespace, clients: list[str],
           took: float) -> str:
    lines = [
        f"Server: websockets {_version('websockets')} echo on "
        f"{'uvloop' if _version('uvloop') != 'not installed' else 'asyncio'}, compression off"
        f"{', pinned to CPU 0, clients to the last CPU' if not args.no_pin else ''}.",
        f"Clients on {args.loop}: fasthttp {_version('pyfasthttp')}, websockets "
        f"{_version('websockets')}, aiohttp {_version('aiohttp')}; compression off; "
        f"{args.duration:g} s per run, {args.rounds} interleaved rounds, medians.",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}.",
        "",
    ]
    heads = {
        "echo": f"#### Echo, {ECHO_SIZE} B text messages, {args.concurrency} concurrent sockets",
        "bulk": "#### Bulk, 1 MiB binary messages, one socket",
    }
    for sc in ("echo", "bulk"):
        base = results[sc].get("websockets") or []
        base_rate = _med(base, lambda r: r["trips"] / r["wall"])
        base_cpu = _med(base, lambda r: r["cpu"] / max(r["trips"], 1))
        lines += [heads[sc], ""]
        unit = "round trips/s" if sc == "echo" else "MB/s"
        lines.append(f"| Client | {unit} | vs websockets | client CPU per round trip (µs) | "
                     "CPU vs websockets | server CPU |")
        lines.append("|---|---:|---:|---:|---:|---:|")
        for c in clients:
            rs = results[sc][c]
            if not rs:
                lines.append(f"| {c} | failed | | | | |")
                continue
            rate = _med(rs, lambda r: r["trips"] / r["wall"])
            mbs = _med(rs, lambda r: r["bytes"] / r["wall"] / 1e6)
            cpu = _med(rs, lambda r: r["cpu"] / max(r["trips"], 1))
            srv = _med(rs, lambda r: r["server_cpu"])
            shown = f"{rate:,.0f}" if sc == "echo" else f"{mbs:,.1f}"
            lines.append(
                f"| {c} | {shown} | {rate / base_rate if base_rate else 0:.2f}x | "
                f"{cpu * 1e6:,.1f} | {base_cpu / cpu if cpu else 0:.2f}x less | {srv:.0%} |")
        lines.append("")
    lines.append(f"Total time {took:.0f} s.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m fasthttp.bench.ws",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("--clients", default=",".join(CLIENTS))
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--duration", type=float, default=5.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    ap.add_argument("--no-pin", action="store_true")
    ap.add_argument("--json")
    ap.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--worker", choices=CLIENTS, help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    ap.add_argument("--scenario", choices=["echo", "bulk"], help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.serve:
        serve(args.serve)
        return 0
    if args.worker:
        return worker_main(args)
    return harness(args)


if __name__ == "__main__":
    raise SystemExit(main())
