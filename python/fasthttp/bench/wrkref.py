"""wrk as the ceiling of the matrix's large-body cells (1 MiB at 64
concurrent): what a C load generator gets from the same nginx, on the same
pinned CPU, for the same time. It is not a peer (not a Python client, and it
reads nothing it does not need): it only says how close fasthttp comes to the
machine's limit. wrk checks no body, so a run with any non-2xx response or
socket error is reported as failed rather than counted."""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
from dataclasses import dataclass, field
from typing import TextIO

from .cells import Cell
from .runner import Scenario


@dataclass
class WrkRef:
    rps: list[float] = field(default_factory=list)  # per round
    note: str = ""

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
    return cell.path.endswith("/1m") and cell.concurrency >= 64 and not cell.body_size


def run_all(cells: list[Cell], scs: list[Scenario], rounds: int, duration: float,
            log: TextIO) -> dict[str, WrkRef]:
    """wrk -t1 -c N on each large-body cell, `rounds` times."""
    wrk = shutil.which("wrk")
    out: dict[str, WrkRef] = {}
    for cell, sc in zip(cells, scs):
        if not large(cell):
            continue
        ref = out[sc.key] = WrkRef()
        if not wrk:
            ref.note = "wrk not installed (apt-get install wrk)"
            continue
        secs = max(1, round(duration))
        for r in range(rounds):
            log.write(f"  round {r + 1}/{rounds}  {sc.key:<12} wrk (C ceiling)  ... ")
            try:
                p = subprocess.run([wrk, "-t1", f"-c{cell.concurrency}", f"-d{secs}s", sc.url],
                                   capture_output=True, text=True, timeout=secs + 60)
                rps, problem = parse(p.stdout + p.stderr)
            except (OSError, subprocess.SubprocessError) as e:
                rps, problem = 0.0, str(e)
            log.write(f"{rps:10.0f} req/s{', ' + problem if problem else ''}\n")
            if problem:
                ref.note = problem
            else:
                ref.rps.append(rps)
    return out
