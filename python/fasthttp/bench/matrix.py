"""The benchmark matrix: python -m fasthttp.bench.matrix [--quick]
(bash scripts/bench.sh runs it).

Every cell of cells.py for every client, on two embedded nginx targets (plain
HTTP and TLS with a throw-away CA the clients verify) and, for the streamed
upload, a body sink (sink.py), rounds interleaved over all cells and clients,
each run a fresh process (runner.py). Printed: the full
table of each cell, then the matrix (one row per cell: fasthttp's best face,
the best peer, the ratio, fasthttp async against aiohttp), the 1 GiB table
(throughput and extra peak RSS per client) and the targets, met or not.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass
from typing import Any, TextIO

from . import cells as cellmod
from . import matrix_report, report, wrkref
from .cells import Cell
from .clients import CLIENTS, ClientInfo, select
from .config import RunSpec
from .report import Summary
from .runner import Results, Runner, Scenario
from .sink import BodySink
from .sysinfo import machine, versions
from .target import NginxTarget


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m fasthttp.bench.matrix",
        description="fasthttp against every peer over the benchmark matrix (cells.py).")
    a = ap.add_argument
    a("--quick", action="store_true", help="the CI smoke: small cells, 4 in flight, 8 MiB "
      "streams, 1 round of 0.3 s (unless given)")
    a("--duration", type=float, help="measured seconds per client per cell and round "
      "(default 2; --quick 0.3)")
    a("--rounds", type=int, help="interleaved rounds, medians shown (default 3; --quick 1)")
    a("--warmup", type=int, default=5, help="warm-up requests per worker (default 5)")
    a("--clients", default=",".join(c.id for c in CLIENTS), metavar="A,B,...",
      help="clients (ids or library names; default: all)")
    a("--cells", default="", metavar="TEXT[,TEXT...]",
      help="only the cells whose key contains one of these (e.g. json,1g)")
    a("--no-wrk", action="store_true", help="do not run wrk (the C reference) on the cells")
    a("--json", metavar="FILE", help="also write everything as JSON")
    a("--report", metavar="FILE.json", help="measure nothing: print (and --plot) the run "
      "saved in FILE.json by --json again")
    a("--plot", metavar="FILE", help="also draw the matrix (.png with matplotlib, or .svg)")
    a("--max-other", type=float, default=25.0, metavar="PCT",
      help="wait for / repeat runs disturbed by other processes above PCT%% of a core "
           "(default 25; 0: neither)")
    a("--no-pin", action="store_true", help="do not pin nginx and the clients to CPUs")
    return ap


def _pins(no_pin: bool) -> tuple[int | None, int | None]:
    if no_pin or not hasattr(os, "sched_getaffinity"):
        return None, None
    cpus = sorted(os.sched_getaffinity(0))
    return (cpus[0], cpus[-1]) if len(cpus) >= 2 else (None, None)


def scenario(cell: Cell, t: NginxTarget, sink: BodySink | None = None) -> Scenario:
    """The cell's scenario on target t; a streamed upload goes to the sink when
    there is one (sink.py says why not to nginx), which checks its length."""
    method = "POST" if cell.body_size or cell.stream == "up" else "GET"
    url, pid, name = t.url(cell.path), t.pid, "nginx"
    if cell.stream == "up" and sink is not None:
        url, pid, name = sink.url(f"{cell.path}?expect={cell.stream_size}"), sink.pid, "sink"
    return Scenario(
        key=cell.key, title=cell.title, payload=cell.what, url=url,
        method=method, body_size=cell.body_size, concurrency=cell.concurrency,
        expect_bytes=cell.expect_bytes,
        headers=(("Connection", "close"),) if cell.close else (),
        stream=cell.stream, stream_size=cell.stream_size, target_pid=pid, target_name=name,
        verify=t.ca_file if t.tls else None, timeout=600.0 if cell.stream else 0.0)


def _cells(args: argparse.Namespace) -> list[Cell]:
    chosen = cellmod.quick() if args.quick else cellmod.full()
    wanted = [w for w in args.cells.split(",") if w]
    return [c for c in chosen if not wanted or any(w in c.key for w in wanted)]


@dataclass
class Measured:
    scenarios: list[Scenario]
    results: Results
    refs: dict[str, wrkref.WrkRef]
    repeats: int
    nginx: str


def measure(args: argparse.Namespace, cells: list[Cell], clients: list[ClientInfo],
            duration: float, rounds: int, log: TextIO) -> Measured:
    """Starts the targets, runs every cell for every client (and wrk), stops them."""
    pins = _pins(args.no_pin)
    sizes = cellmod.payload_sizes(cells)
    plain = NginxTarget(sizes, cpu=pins[0])
    tls = NginxTarget(sizes, tls=True, cpu=pins[0])
    sink = BodySink(cpu=pins[0])
    try:
        plain.start()
        if any(c.tls for c in cells):
            tls.start()
        if any(c.stream == "up" for c in cells):
            sink.start()
        if pins[1] is not None:  # after nginx started, so it does not inherit this
            os.sched_setaffinity(0, {pins[1]})
        scs = [scenario(c, tls if c.tls else plain, sink if sink.proc else None) for c in cells]
        base = RunSpec(client="", url="", duration=duration, warmup=args.warmup, timeout=30.0,
                       latency_samples=50_000)
        log.write(f"fasthttp.bench.matrix: {len(clients)} clients x {len(scs)} cells x "
                  f"{rounds} round(s), {duration:g} s per timed run\n")
        # The 1 GiB download is a sparse file: whoever reads it first after its pages
        # left the cache pays for zero-filling 1 GiB (nginx, at 99 % of its core, in
        # the first client's run of a round). It is read here before every run instead.
        prepare = {sc.key: (lambda t=tls if c.tls else plain, path=c.path: t.warm(path))
                   for sc, c in zip(scs, cells) if c.stream == "down"}
        runner = Runner(base, clients, scs, rounds, args.max_other, log, prepare=prepare)
        results = runner.run()
        refs = ({} if args.no_wrk or args.quick
                else wrkref.run_all(cells, scs, rounds, duration, log))
        return Measured(scs, results, refs, runner.repeats, plain.version)
    finally:
        plain.stop()
        tls.stop()
        sink.stop()


def _report(args: argparse.Namespace, scs: list[Scenario], rows: dict[str, list[Summary]],
            refs: dict[str, wrkref.WrkRef], mach: dict[str, Any], vers: dict[str, str],
            config: dict[str, Any]) -> None:
    m = matrix_report.matrix(scs, rows, refs)
    print(matrix_report.text(scs, rows, m, mach, vers, config))
    if args.json:
        report.write_json(args.json, matrix_report.document(scs, rows, m, refs, mach, vers,
                                                            config),
                          sys.stderr, "fasthttp.bench.matrix")
    if args.plot:
        from .plot import plot_matrix

        plot_matrix(args.plot, m, f"{vers.get('nginx', '')}, {config['duration_s']:g} s x "
                    f"{config['rounds']} rounds, {mach['cpu_model']} ({mach['cpus']} CPUs), "
                    f"{mach['python']}")
        sys.stderr.write(f"fasthttp.bench.matrix: wrote {args.plot}\n")


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.report:
        with open(args.report) as f:
            saved = matrix_report.load(json.load(f))
        args.json = None
        _report(args, saved.scenarios, saved.rows, saved.refs, saved.machine, saved.versions,
                saved.config)
        return 0
    duration = args.duration or (0.3 if args.quick else 2.0)
    rounds = args.rounds or (1 if args.quick else 3)
    try:
        clients = select([c for c in args.clients.split(",") if c], "both")
    except ValueError as e:
        print(f"fasthttp.bench.matrix: {e}", file=sys.stderr)
        return 2
    cells = _cells(args)
    if not cells or not clients:
        print("fasthttp.bench.matrix: no cell or no client selected", file=sys.stderr)
        return 2
    log = sys.stderr
    started = time.monotonic()
    try:
        got = measure(args, cells, clients, duration, rounds, log)
    except (KeyboardInterrupt, RuntimeError) as e:  # nginx missing or failing; ^C
        log.write(f"\nfasthttp.bench.matrix: {e or 'interrupted'}\n")
        return 130 if isinstance(e, KeyboardInterrupt) else 1
    rows = report.summaries(clients, got.scenarios, got.results)
    config = {"duration_s": duration, "rounds": rounds, "quick": args.quick,
              "elapsed_s": round(time.monotonic() - started, 1), "repeats": got.repeats,
              "max_other_pct": args.max_other}
    _report(args, got.scenarios, rows, got.refs, machine(), versions(clients, rows, got.nginx),
            config)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
