"""wrk as the C reference of the matrix: on every cell but the streamed
ones, what a C load generator gets from the same nginx, on the same pinned CPU,
for the same time, with the same method, body size and headers
(``Connection: close`` included). It is not a peer (not a Python client, and it
reads nothing it does not need): it says how much any client can get from this
server on this machine. Two readings follow (matrix_report.py): on the
large-body cells (1 MiB at 64 concurrent) issue 14 asks fasthttp for 0.8x of
wrk; on the others, where wrk itself stays below 1.2x the best Python peer, the
1.2x target is above what this nginx and these two CPUs give any client. wrk
checks no body and, over TLS, no certificate, so a run with any non-2xx response
or socket error is reported as failed rather than counted."""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import tempfile
from dataclasses import dataclass, field
from typing import TextIO

from .cells import Cell
from .runner import Scenario


@dataclass
class WrkRef:
    rps: list[float] = field(default_factory=list)  # per round
    note: str = ""
    goal: bool = False  # a large-body cell: issue 14 asks fasthttp for 0.8x of wrk here

    @property
    def median(self) -> float:
        return statistics.median(self.rps) if self.rps else 0.0


def parse(text: str) -> tuple[float, str]:
    """(requests/s, problem) from wrk's output; problem is "" for a clean run."""
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if not m:
        return 0.0, "no Requests/sec in wrk's output: " + text.strip()[-200:]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    sock = re.search(r"Socket errors: (.*)", text)
    if bad:
        return 0.0, f"{bad.group(1)} non-2xx responses"
    if sock:
        return 0.0, f"socket errors: {sock.group(1)}"
    return float(m.group(1)), ""


def large(cell: Cell) -> bool:
    """The cells where issue 14 sets a goal against wrk: 1 MiB GETs at 64 concurrent."""
    return cell.path.endswith("/1m") and cell.concurrency >= 64 and not cell.body_size


def command(wrk: str, cell: Cell, sc: Scenario, secs: int, script_dir: str) -> list[str]:
    """wrk's command line for the cell: one thread, the cell's concurrency, its headers,
    and for an upload a Lua script that makes every request a POST of the same size
    (wrk has no option for a method or a body)."""
    args = [wrk, "-t1", f"-c{cell.concurrency}", f"-d{secs}s"]
    for name, val in sc.headers:
        args += ["-H", f"{name}: {val}"]
    if sc.method != "GET":
        path = os.path.join(script_dir, f"body-{sc.body_size}.lua")
        with open(path, "w") as f:
            f.write(f'wrk.method = "{sc.method}"\n'
                    f'wrk.body = string.rep("x", {sc.body_size})\n'
                    'wrk.headers["Content-Type"] = "application/octet-stream"\n')
        args += ["-s", path]
    return [*args, sc.url]


def _rounds(args: list[str], key: str, rounds: int, secs: int, log: TextIO,
            ref: WrkRef) -> None:
    """Runs one cell's wrk command `rounds` times into ref."""
    for r in range(rounds):
        log.write(f"  round {r + 1}/{rounds}  {key:<12} wrk (C reference)  ... ")
        try:
            p = subprocess.run(args, capture_output=True, text=True, timeout=secs + 60)
            rps, problem = parse(p.stdout + p.stderr)
        except (OSError, subprocess.SubprocessError) as e:
            rps, problem = 0.0, str(e)
        log.write(f"{rps:10.0f} req/s{', ' + problem if problem else ''}\n")
        if problem:
            ref.note = problem
        else:
            ref.rps.append(rps)


def run_all(cells: list[Cell], scs: list[Scenario], rounds: int, duration: float,
            log: TextIO) -> dict[str, WrkRef]:
    """wrk -t1 -c N on each cell but the streamed ones, `rounds` times."""
    wrk = shutil.which("wrk")
    secs = max(1, round(duration))
    out: dict[str, WrkRef] = {}
    with tempfile.TemporaryDirectory(prefix="fh-wrk-") as d:
        for cell, sc in zip(cells, scs):
            if cell.stream:
                continue
            ref = out[sc.key] = WrkRef(goal=large(cell))
            if not wrk:
                ref.note = "wrk not installed (apt-get install wrk)"
                continue
            _rounds(command(wrk, cell, sc, secs, d), sc.key, rounds, secs, log, ref)
    return out
