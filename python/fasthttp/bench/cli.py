"""The command line: python -m fasthttp.bench (or python benchmark.py)."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from typing import Any

from . import report, targets
from .clients import CLIENTS, select
from .config import RunSpec
from .runner import Results, Runner, Scenario
from .sysinfo import machine, versions
from .target import JSON_SIZE, UPLOAD_REPLY, NginxTarget, parse_size, size_label

EPILOG = """\
Without --url the benchmark starts its own nginx on a free loopback port (pinned to
one CPU, the clients to another) serving /json (1 KiB of JSON), /payload/<size> for
each --payload size, and /upload, which reads and discards a request body.
Every run of a client is a process of its own; rounds are interleaved and the
tables show medians. Clients: """ + ", ".join(c.id for c in CLIENTS) + """;
--clients also takes a library name for all its faces (fasthttp = fasthttp,fasthttp-async).
"""


def _list(text: str) -> list[str]:
    return [p.strip() for p in text.split(",") if p.strip()]


def _positive_ints(text: str) -> list[int]:
    try:
        values = [int(p) for p in _list(text)]
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"not a list of numbers: {text!r}") from e
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"need numbers >= 1: {text!r}")
    return list(dict.fromkeys(values))


def _payloads(text: str) -> list[str]:
    out = []
    for p in _list(text):
        if p.lower() == "json":
            out.append("json")
        else:
            try:
                out.append(size_label(parse_size(p)))
            except ValueError as e:
                raise argparse.ArgumentTypeError(str(e)) from e
    if not out:
        raise argparse.ArgumentTypeError("no payload given")
    return list(dict.fromkeys(out))


def _size(text: str) -> int:
    if text.strip() == "0":
        return 0
    try:
        return parse_size(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from e


def _header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"a header is 'Name: value', not {text!r}")
    return name.strip(), value.strip()


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m fasthttp.bench",
        description="fasthttp against other Python HTTP clients, same settings, "
                    "on an embedded nginx (or --url).",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    a = ap.add_argument
    a("--url", help="benchmark this URL instead of the embedded nginx")
    a("--method", help="HTTP method (default GET; POST with --body-size)")
    a("--duration", type=float, default=5.0, help="measured seconds per client per round "
      "(default 5)")
    a("--concurrency", type=_positive_ints, default=[1, 64], metavar="N[,N...]",
      help="requests in flight (threads, tasks or curl handles; also the pool size); a list "
           "gives a table per value (default 1,64: sequential and 64 concurrent)")
    a("--timeout", type=float, default=30.0, help="per-request timeout, seconds (default 30)")
    a("--body-size", type=_size, default=0, metavar="SIZE",
      help="request body of SIZE bytes (e.g. 1k, 1m), sent to the target's /upload")
    a("--warmup", type=int, default=10, metavar="N",
      help="unmeasured requests per concurrent worker before the clock starts, so every "
           "connection is open and warm (default 10)")
    a("--insecure", action="store_true", help="do not verify TLS certificates")
    a("--header", action="append", type=_header, default=[], metavar="'Name: value'",
      help="add a request header (repeatable)")
    a("--payload", type=_payloads, default=["json"], metavar="SIZE[,SIZE...]",
      help="response bodies from the embedded target: json (1 KiB JSON) and/or sizes such "
           "as 1k,64k,1m; a table per payload (default json)")
    a("--latency-samples", type=int, default=200_000, metavar="N",
      help="latencies kept per run; beyond N a uniform random sample of N (default 200000)")
    a("--clients", type=_list, default=[c.id for c in CLIENTS], metavar="A,B,...",
      help="clients to run (default: all)")
    a("--mode", choices=("sync", "async", "both"), default="both",
      help="sync clients, async clients, or both (default)")
    a("--http2", action="store_true", help="ask for HTTP/2 (the embedded target then uses "
      "TLS and logs the protocol of every request, so each row shows what the server saw); "
      "clients without HTTP/2 are reported as unsupported, and fasthttp also runs over "
      "HTTP/1.1 as a reference row")
    a("--tls", action="store_true", help="embedded target over HTTPS (throw-away CA)")
    a("--rounds", type=int, default=3, help="interleaved rounds; tables show medians "
      "(default 3)")
    a("--json", metavar="FILE", help="also write everything as JSON")
    a("--plot", metavar="FILE.png", help="also draw req/s and latency percentiles")
    a("--loop", choices=("asyncio", "uvloop"), default="asyncio",
      help="event loop of the async clients (default: stock asyncio)")
    a("--no-pin", action="store_true",
      help="do not pin nginx and the clients to different CPUs")
    a("--max-other", type=float, default=25.0, metavar="PCT",
      help="before each run wait (10 s at most) until other processes take less than PCT%% "
           "of a core; repeat a run (twice at most, keep the quietest) when they took more "
           "during it (default 25; 0: neither)")
    return ap


def _cpus(no_pin: bool) -> tuple[int | None, int | None]:
    """(nginx's CPU, the clients' CPU), or (None, None) when not pinning."""
    if no_pin or not hasattr(os, "sched_getaffinity"):
        return None, None
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None, None
    return cpus[0], cpus[-1]


def scenarios(args: argparse.Namespace, target: NginxTarget | None) -> list[Scenario]:
    out = []
    method = (args.method or ("POST" if args.body_size else "GET")).upper()
    if args.url:
        items = [("url", args.url)]
    elif args.body_size or method in ("POST", "PUT", "PATCH"):
        assert target is not None
        items = [(f"upload {size_label(args.body_size)}" if args.body_size else "upload",
                  target.url("/upload"))]
    else:
        assert target is not None
        items = [(p, target.url("/json" if p == "json" else f"/payload/{p}"))
                 for p in args.payload]
    for payload, url in items:
        for c in args.concurrency:
            what = {"json": f"{JSON_SIZE} B JSON", "url": url}.get(payload, payload)
            if payload.startswith("upload"):
                what = (f"{size_label(args.body_size)} request body to /upload"
                        if args.body_size else "/upload")
            elif payload not in ("json", "url"):
                what = f"{payload} payload"
            key = f"{payload.replace(' ', '-')}-c{c}"
            title = f"{method} {what}, concurrency {c}"
            out.append(Scenario(key, title, payload, url, method, args.body_size, c,
                                expect_bytes=expected_length(payload, method)))
    return out


def expected_length(payload: str, method: str) -> int:
    """The body length of the embedded target's responses (-1: unknown)."""
    if method == "HEAD" or payload == "url":
        return -1
    if payload.startswith("upload"):
        return len(UPLOAD_REPLY)
    return JSON_SIZE if payload == "json" else parse_size(payload)


def _config(args: argparse.Namespace, target: NginxTarget | None,
            pins: tuple[int | None, int | None]) -> dict[str, Any]:
    return {
        "url": args.url or (target.base if target else ""),
        "embedded_target": target is not None,
        "nginx": target.version if target else "",
        "nginx_workers": 1 if target else 0,
        "tls": bool(target.tls) if target else bool(args.url and args.url.startswith("https")),
        "http2": args.http2,
        "verify": not args.insecure,
        "method": (args.method or ("POST" if args.body_size else "GET")).upper(),
        "duration_s": args.duration,
        "concurrency": args.concurrency,
        "timeout_s": args.timeout,
        "body_size": args.body_size,
        "warmup_per_worker": args.warmup,
        "headers": [f"{k}: {v}" for k, v in args.header],
        "payloads": args.payload if not args.url else [],
        "latency_samples": args.latency_samples,
        "rounds": args.rounds,
        "mode": args.mode,
        "loop": args.loop,
        "nginx_cpu": pins[0] if target else None,
        "client_cpu": pins[1],
        "max_other_pct": args.max_other,
    }


def config_text(cfg: dict[str, Any], mach: dict[str, Any], vers: dict[str, str]) -> str:
    if cfg["embedded_target"]:
        log = ("a one-line access log per request for the protocol check" if cfg["http2"]
               else "access_log off")
        where = (f"embedded {cfg['nginx']} on {cfg['url']} (1 worker, single process, "
                 f"{log}, keep-alive)")
    else:
        where = f"external target {cfg['url']}"
    if cfg["client_cpu"] is not None:
        pin = (f"nginx pinned to CPU {cfg['nginx_cpu']}, clients to CPU {cfg['client_cpu']}"
               if cfg["embedded_target"] else f"clients pinned to CPU {cfg['client_cpu']}")
    else:
        pin = "not pinned"
    proto = "HTTP/2 requested" if cfg["http2"] else "HTTP/1.1"
    tls = ("TLS, " + ("verified" if cfg["verify"] else "not verified")) if cfg["tls"] else "no TLS"
    lines = [
        f"Target: {where}; {pin}.",
        f"Load: {cfg['method']}, {proto}, {tls}; {cfg['duration_s']:g} s per client per round "
        f"after {cfg['warmup_per_worker']} warm-up requests per worker; {cfg['rounds']} "
        f"interleaved rounds, medians shown; timeout {cfg['timeout_s']:g} s; pool size = "
        f"concurrency; async clients on {cfg['loop']}; each run in a fresh process.",
        f"Machine: {mach['cpu_model']}, {mach['cpus']} CPUs, {mach['kernel']}, {mach['python']}.",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in vers.items()) + ".",
    ]
    if cfg["headers"]:
        lines.insert(2, "Headers: " + "; ".join(cfg["headers"]) + ".")
    return "\n".join(lines)


LEGEND = ("Requests, Success: per round (median). Req/s and latencies: median over rounds; "
          "latencies of successful requests, from sending to the whole body read. "
          "Mbps: body bytes received and sent. vs fasthttp: req/s relative to fasthttp's face "
          "of the same kind (sync clients to fasthttp (sync), async to fasthttp (async)). "
          "Errors: failed requests (exceptions, non-2xx) over all rounds. nginx CPU: the "
          "target's CPU, % of one core (near 100%: the target limits the run).")


LEGEND_H2 = (" Server saw (--http2): the protocol nginx logged ($server_protocol) for every "
             "request of the row's runs, warm-up included, and the most connections one run "
             "used; a row whose requests were not all over its protocol is labelled NOT "
             "HTTP/2 and does not count for the targets. The HTTP/1.1 rows are fasthttp with "
             "http2=False on the same TLS target, in the same run.")


def noise_text(results: Results, repeats: int, max_other: float) -> str:
    """How much other processes ran during the measured windows."""
    other = sorted(r.other_cpu_pct for runs in results.values() for r in runs
                   if r.status == "ok" and r.other_cpu_pct >= 0)
    if not other:
        return ""
    text = (f"Machine noise: other processes took a median {statistics.median(other):.0f}% of one "
            f"core during the measured windows (max {other[-1]:.0f}%)")
    if repeats:
        text += f"; {repeats} run(s) repeated because they took more than {max_other:g}%"
    return text + "."


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.duration <= 0 or args.rounds < 1 or args.warmup < 0 or args.timeout <= 0:
        print("fasthttp.bench: --duration, --rounds and --timeout must be > 0, --warmup >= 0",
              file=sys.stderr)
        return 2
    try:
        clients = select(args.clients, args.mode, args.http2)
    except ValueError as e:
        print(f"fasthttp.bench: {e}", file=sys.stderr)
        return 2
    if not clients:
        print("fasthttp.bench: no client left (check --clients and --mode)", file=sys.stderr)
        return 2
    log = sys.stderr
    pins = _cpus(args.no_pin)
    target: NginxTarget | None = None
    try:
        if not args.url:
            sizes = [parse_size(p) for p in args.payload if p != "json"]
            target = NginxTarget(sizes, tls=args.tls, http2=args.http2, cpu=pins[0],
                                 log_protocol=args.http2).start()
        if pins[1] is not None:  # after nginx started, so it does not inherit this
            os.sched_setaffinity(0, {pins[1]})
        verify: bool | str = not args.insecure
        if target and target.tls and not args.insecure:
            verify = target.ca_file
        base = RunSpec(client="", url="", headers=list(args.header), duration=args.duration,
                       warmup=args.warmup, timeout=args.timeout, verify=verify,
                       http2=args.http2, latency_samples=args.latency_samples, loop=args.loop,
                       target_pid=target.pid if target else 0)
        scs = scenarios(args, target)
        cfg = _config(args, target, pins)
        runs = len(scs) * len(clients) * args.rounds
        log.write(f"fasthttp.bench: {len(clients)} clients x {len(scs)} scenario(s) x "
                  f"{args.rounds} round(s) = {runs} runs of {args.duration:g} s "
                  f"(+ warm-up and start-up each)\n")
        started = time.monotonic()
        runner = Runner(base, clients, scs, args.rounds, args.max_other, log,
                        target.take_log if target and target.log_protocol else None)
        results = runner.run()
        elapsed = time.monotonic() - started
    except KeyboardInterrupt:
        log.write("\ninterrupted\n")
        return 130
    except RuntimeError as e:
        log.write(f"fasthttp.bench: {e}\n")
        return 1
    finally:
        if target:
            target.stop()

    rows = report.summaries(clients, scs, results, args.http2)
    mach = machine()
    vers = versions(clients, rows, cfg["nginx"])
    ts = targets.targets(scs, rows, args.loop, args.http2)
    cfg["elapsed_s"] = round(elapsed, 1)
    cfg["repeated_runs"] = runner.repeats
    out = ["", "## Benchmark results", "", config_text(cfg, mach, vers), ""]
    for s in scs:
        out += [report.table(s, rows[s.key]), ""]
    out += [LEGEND + (LEGEND_H2 if args.http2 else ""), "", targets.targets_text(ts, args.http2),
            ""]
    out.append(noise_text(results, runner.repeats, args.max_other))
    out.append(f"Total time {elapsed:.0f} s.")
    print("\n".join(out))

    if args.json:
        report.write_json(args.json, report.document(cfg, mach, vers, scs, rows, ts), log,
                          "fasthttp.bench")
    if args.plot:
        from .plot import plot

        sub = (f"{cfg['nginx'] or cfg['url']}, {args.duration:g} s x {args.rounds} rounds, "
               f"{mach['cpu_model']} ({mach['cpus']} CPUs), {mach['python']}")
        try:
            plot(args.plot, scs, rows, sub)
            log.write(f"fasthttp.bench: wrote {args.plot}\n")
        except RuntimeError as e:
            log.write(f"fasthttp.bench: {e}\n")
            return 1
    return 0
