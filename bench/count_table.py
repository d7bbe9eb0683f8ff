#!/usr/bin/env python3
"""The C side's table: instructions per request (callgrind) and client CPU per
request (getrusage, fh-bench) of fasthttp, libcurl and wrk on the same
workloads — JSON over keep-alive, the same over TLS, 1 MiB bodies, a new
connection per request — against one embedded nginx (the Python benchmark's
target, python/fasthttp/bench/target.py, pinned to the first CPU).

    python3 bench/count_table.py BUILD_DIR [--quick] [--parts fh,curl,wrk,cpu] [--json FILE]

(scripts/bench-count.sh --table builds the programs and runs this.)

Instructions per request: each program runs N1 and then N2 requests under
``valgrind --tool=callgrind`` and (I(N2) - I(N1)) / (N2 - N1) leaves set-up
out: fh-count (the engine on its epoll loop) and curl-count (a multi handle on
epoll; bodies dropped by its write callback, while fasthttp buffers them),
each with 64 in flight on 64 connections. wrk has no request count, so it runs
for two durations and the difference of instructions is divided by the
difference of the requests it reports. callgrind counts user-space
instructions only: system calls, which a new connection has many of, are left
out for all three alike; the CPU column has them.

Client CPU per request: fh-bench --url (fh-async, curl-multi, wrk; 64
connections; medians of interleaved rounds), the client's user + system time
from getrusage / wait4. It moves with the machine's load; instructions do not.
Only standard library here: runs with the system python3.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _load_target():  # type: ignore[no-untyped-def]
    """target.py by path: the package around it needs the built extension."""
    path = ROOT / "python" / "fasthttp" / "bench" / "target.py"
    spec = importlib.util.spec_from_file_location("fh_bench_target", path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


@dataclass
class Workload:
    key: str
    title: str
    path: str
    tls: bool
    fresh: bool  # Connection: close, a new connection per request
    n1: int  # requests of the shorter callgrind run (N2 = 3 * N1)
    wrk_s: tuple[int, int] = (2, 6)  # wrk's two durations under callgrind


WORKLOADS = (
    Workload("json", "GET 1 KiB JSON, keep-alive", "/json", False, False, 20000),
    # wrk's TLS handshakes alone take seconds under callgrind: longer runs
    Workload("json-tls", "GET 1 KiB JSON, keep-alive, TLS", "/json", True, False, 10000,
             (6, 18)),
    Workload("1m", "GET 1 MiB, keep-alive", "/payload/1m", False, False, 400),
    Workload("fresh", "GET 1 KiB JSON, new connection per request", "/json", False, True,
             2000),
)
IN_FLIGHT = 64


def callgrind(argv: list[str], env: dict[str, str]) -> tuple[int, str]:
    """(instructions, the program's output) of one run under callgrind."""
    p = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                        *argv], capture_output=True, text=True, env=env, timeout=3600)
    m = re.search(r"Collected : ([\d,]+)", p.stderr)
    if not m:
        raise RuntimeError(f"{argv[0]}: no count from callgrind: {p.stderr[-500:]}")
    if p.returncode != 0 and "wrk" not in argv[0]:
        raise RuntimeError(f"{' '.join(argv)} failed: {p.stdout[-300:]} {p.stderr[-300:]}")
    return int(m.group(1).replace(",", "")), p.stdout


def per_request_count(prog: str, url: str, w: Workload, scale: float,
                      env: dict[str, str]) -> float:
    n1 = max(IN_FLIGHT, int(w.n1 * scale))
    n2 = 3 * n1
    extra = ["--fresh"] if w.fresh else []
    a, _ = callgrind([prog, url, str(n1), str(IN_FLIGHT), str(IN_FLIGHT), *extra], env)
    b, _ = callgrind([prog, url, str(n2), str(IN_FLIGHT), str(IN_FLIGHT), *extra], env)
    return (b - a) / (n2 - n1)


def wrk_requests(out: str) -> int:
    m = re.search(r"(\d+) requests in", out)
    bad = re.search(r"(Non-2xx.*|Socket errors.*)", out)
    if not m or bad:
        raise RuntimeError("wrk: " + (bad.group(1) if bad else out.strip()[-300:]))
    return int(m.group(1))


def per_request_wrk(url: str, w: Workload, scale: float, env: dict[str, str]) -> float:
    runs = []
    for secs in ((w.wrk_s[0] // 2, w.wrk_s[1] // 2) if scale < 1 else w.wrk_s):
        hdr = ["-H", "Connection: close"] if w.fresh else []
        # callgrind slows wrk 50-fold: its 2 s default timeout would count slow
        # responses as socket errors
        instr, out = callgrind(["wrk", "-t1", f"-c{IN_FLIGHT}", f"-d{secs}s", "--timeout",
                                "120s", *hdr, url], env)
        runs.append((instr, wrk_requests(out)))
    (a, ra), (b, rb) = runs
    if rb <= ra:
        raise RuntimeError("wrk: the longer run did not make more requests")
    return (b - a) / (rb - ra)


def cpu_per_request(fh_bench: str, url: str, w: Workload, rounds: int,
                    env: dict[str, str]) -> dict[str, float]:
    """fh-bench's client CPU per request (µs) for fh-async, curl-multi and wrk."""
    with tempfile.NamedTemporaryFile(suffix=".json") as f:
        argv = [fh_bench, "--url", url, "--modes", "fh-async,curl-multi,wrk", "--connections",
                str(IN_FLIGHT), "--duration", "2", "--warmup", "0.5", "--rounds", str(rounds),
                "--pin", "--json", f.name] + (["--insecure"] if w.tls else [])
        if w.fresh:
            argv += ["--fresh"]
        subprocess.run(argv, capture_output=True, text=True, env=env, timeout=600, check=True)
        doc = json.load(open(f.name))
    out = {}
    for mode, m in doc["modes"].items():
        r = m["median"]
        if r.get("ok") and not r.get("errors"):
            out[mode] = float(r["client_cpu_us_per_req"])
            out[mode + " req/s"] = float(r["rps"])
    return out


def table(rows: list[dict[str, object]], cpu: bool) -> str:
    head = ("| workload | fasthttp instr/req | libcurl instr/req | fasthttp / libcurl | "
            "wrk instr/req |")
    align = "|---|---:|---:|---:|---:|"
    if cpu:
        head += (" fasthttp CPU µs/req | libcurl CPU µs/req | wrk CPU µs/req | "
                 "fasthttp req/s | libcurl req/s | wrk req/s |")
        align += "---:|---:|---:|---:|---:|---:|"
    lines = [head, align]

    def n(x: object, fmt: str = "{:,.0f}") -> str:
        return fmt.format(x) if isinstance(x, (int, float)) else str(x or "-")

    for r in rows:
        fh, cu = r.get("fh"), r.get("curl")
        ratio = (f"{fh / cu:.2f}x" if isinstance(fh, float) and isinstance(cu, float) and cu
                 else "-")
        line = f"| {r['title']} | {n(fh)} | {n(cu)} | {ratio} | {n(r.get('wrk'))} |"
        if cpu:
            c = r.get("cpu") or {}
            assert isinstance(c, dict)
            modes = ("fh-async", "curl-multi", "wrk")
            line += " " + " | ".join([n(c.get(m), "{:.2f}") for m in modes]
                                     + [n(c.get(m + " req/s")) for m in modes]) + " |"
        lines.append(line)
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(prog="bench/count_table.py")
    ap.add_argument("build", help="build directory with bench/fh-count, curl-count, fh-bench")
    ap.add_argument("--quick", action="store_true", help="a tenth of the requests")
    ap.add_argument("--parts", default="fh,curl,wrk,cpu",
                    help="what to measure: fh, curl, wrk (instructions under callgrind), cpu "
                         "(fh-bench); default all")
    ap.add_argument("--rounds", type=int, default=3, help="fh-bench rounds (default 3)")
    ap.add_argument("--only", default="", help="workload keys, comma separated")
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args()
    bench = Path(args.build) / "bench"
    scale = 0.1 if args.quick else 1.0
    parts = set(args.parts.split(","))
    target = _load_target()
    cpus = sorted(os.sched_getaffinity(0))
    nginx_cpu = cpus[0] if len(cpus) > 1 else None
    plain = target.NginxTarget([1 << 20], cpu=nginx_cpu).start()
    tls = target.NginxTarget([1 << 20], tls=True, cpu=nginx_cpu).start()
    env = dict(os.environ, SSL_CERT_FILE=tls.ca_file)
    rows: list[dict[str, object]] = []
    try:
        for w in WORKLOADS:
            if args.only and w.key not in args.only.split(","):
                continue
            url = (tls if w.tls else plain).url(w.path)
            row: dict[str, object] = {"key": w.key, "title": w.title, "url": url}
            print(f"count_table: {w.title} ...", file=sys.stderr, flush=True)
            for name, prog in (("fh", "fh-count"), ("curl", "curl-count")):
                if name not in parts:
                    continue
                try:
                    row[name] = per_request_count(str(bench / prog), url, w, scale, env)
                except (RuntimeError, subprocess.SubprocessError) as e:
                    row[name] = f"failed: {e}"[:200]
            if "wrk" in parts:
                try:
                    row["wrk"] = per_request_wrk(url, w, scale, env)
                except (RuntimeError, subprocess.SubprocessError, OSError) as e:
                    row["wrk"] = f"failed: {e}"[:200]
            if "cpu" in parts:
                try:
                    row["cpu"] = cpu_per_request(str(bench / "fh-bench"), url, w, args.rounds,
                                                 env)
                except (subprocess.SubprocessError, OSError, ValueError) as e:
                    row["cpu"] = {}
                    row["cpu_error"] = str(e)[:200]
            print(f"count_table: {row}", file=sys.stderr, flush=True)
            rows.append(row)
    finally:
        plain.stop()
        tls.stop()
    print(table(rows, "cpu" in parts))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
