"""Medians over rounds, the tables (Markdown) and the JSON document (the
targets are in targets.py)."""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from .clients import ClientInfo, http_version
from .config import RunResult
from .runner import Results, Scenario

if TYPE_CHECKING:
    from .targets import Target

MEDIAN_FIELDS = ("requests", "success", "seconds", "rps", "avg_ms", "p50_ms", "p95_ms", "p99_ms",
                 "max_ms", "mbps", "client_cpu_us_per_req", "target_cpu_pct", "other_cpu_pct")


@dataclass
class Summary:
    """One client in one scenario, over the rounds."""

    client: ClientInfo
    status: str  # ok | skipped | failed
    reason: str = ""
    version: str = ""
    protocol: str = ""
    ok_rounds: int = 0
    median: dict[str, float] = field(default_factory=dict)
    rps_min: float = 0.0
    rps_max: float = 0.0
    errors_total: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)
    error_example: str = ""
    notes: list[str] = field(default_factory=list)
    rounds: list[RunResult] = field(default_factory=list)
    expected: str = "HTTP/1.1"  # the protocol the row is meant to measure
    # From the server's log (--http2 runs), over the rounds that ran: requests per
    # protocol ("HTTP/2", "HTTP/1.1") and the most connections one round used.
    server_protocols: dict[str, int] = field(default_factory=dict)
    server_connections: int = 0

    @property
    def rps(self) -> float:
        return self.median.get("rps", 0.0)

    @property
    def protocol_verified(self) -> bool | None:
        """Whether the server saw every request of every round over the expected
        protocol; None when there is no server log."""
        if not self.server_protocols:
            return None
        return set(self.server_protocols) == {self.expected}

    @property
    def label(self) -> str:
        """The table's name for the row: says so when the server saw another protocol."""
        if self.protocol_verified is False:
            return f"{self.client.label} (NOT {self.expected})"
        return self.client.label


def summarize(c: ClientInfo, runs: list[RunResult], expected: str = "HTTP/1.1") -> Summary:
    ok = [r for r in runs if r.status == "ok"]
    bad = [r for r in runs if r.status != "ok"]
    s = Summary(client=c, status="ok" if ok else (bad[0].status if bad else "failed"),
                rounds=runs, expected=expected)
    for r in ok:
        for proto, n in r.server_protocols.items():
            p = http_version(proto)
            s.server_protocols[p] = s.server_protocols.get(p, 0) + n
        s.server_connections = max(s.server_connections, r.server_connections)
    s.version = next((r.version for r in runs if r.version), "")
    s.protocol = next((r.protocol for r in ok if r.protocol), "")
    if not ok:
        s.reason = bad[0].reason if bad else "not run"
        return s
    s.ok_rounds = len(ok)
    for name in MEDIAN_FIELDS:
        s.median[name] = float(statistics.median(getattr(r, name) for r in ok))
    s.rps_min = min(r.rps for r in ok)
    s.rps_max = max(r.rps for r in ok)
    for r in runs:
        s.errors_total += r.errors
        for k, n in r.error_kinds.items():
            s.error_kinds[k] = s.error_kinds.get(k, 0) + n
        s.error_example = s.error_example or r.error_example
    if bad:
        s.notes.append(f"{len(bad)} of {len(runs)} rounds {bad[0].status}: {bad[0].reason}")
    return s


def expected_protocol(c: ClientInfo, http2: bool) -> str:
    return "HTTP/2" if http2 and not c.http1_reference else "HTTP/1.1"


def summaries(clients: list[ClientInfo], scenarios: list[Scenario], results: Results,
              http2: bool = False) -> dict[str, list[Summary]]:
    return {s.key: [summarize(c, results.get((s.key, c.id), []), expected_protocol(c, http2))
                    for c in clients]
            for s in scenarios}


def reference(rows: list[Summary], mode: str) -> Summary | None:
    """The fasthttp face a client of `mode` is compared with, if it was measured
    (never an HTTP/1.1 reference row of an --http2 run)."""
    for r in rows:
        if (r.client.library == "fasthttp" and r.client.mode == mode and r.status == "ok"
                and not r.client.http1_reference):
            return r
    return None


def relative(row: Summary, rows: list[Summary]) -> float | None:
    """The client's median req/s over its fasthttp face's (same mode, same scenario)."""
    ref = reference(rows, row.client.mode)
    if ref is None or row.status != "ok" or ref.rps <= 0:
        return None
    return row.rps / ref.rps


def _k(n: float) -> str:
    if n >= 1e6:
        return f"{n / 1e6:.2f}M"
    if n >= 1e3:
        return f"{n / 1e3:.1f}K"
    return f"{n:.0f}"


def server_saw(r: Summary) -> str:
    """'HTTP/2 (1 conn)', or 'HTTP/2 97.0%, HTTP/1.1 3.0% (5 conns)': the protocols
    the server logged for the row's requests, and the most connections a round used."""
    total = sum(r.server_protocols.values())
    if not total:
        return "-"
    ranked = sorted(r.server_protocols.items(), key=lambda kv: -kv[1])
    parts = [p if n == total else f"{p} {n * 100 / total:.1f}%" for p, n in ranked]
    conns = r.server_connections
    return f"{', '.join(parts)} ({conns} conn{'s' if conns != 1 else ''})"


def table(scenario: Scenario, rows: list[Summary]) -> str:
    """The seed's table plus: vs fasthttp, req/s range over rounds, errors, the
    target's CPU and, when the server logged protocols (--http2), what it saw.
    Notes below it: skips, failures, errors, and responses that came with
    another HTTP version than the row's."""
    head = ["Library", "Requests", "Success", "Req/s", "Avg Lat (ms)", "P95 Lat (ms)",
            "P99 Lat (ms)", "Mbps", "vs fasthttp", "Req/s range", "Errors",
            f"{scenario.target_name} CPU"]
    align = ["---", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:",
             "---:", "---:"]
    logged = any(r.server_protocols for r in rows)
    if logged:
        head.append("Server saw")
        align.append("---")
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(align) + "|"]
    notes: list[str] = []
    for r in rows:
        name = r.label
        if r.status != "ok":
            lines.append(f"| {name} | {r.status} |" + " |" * (len(head) - 2))
            notes.append(f"- {name}: {r.status}: {r.reason}")
            continue
        m = r.median
        rel = relative(r, rows)
        rel_s = f"{rel:.2f}x" if rel is not None else "n/a"
        tcpu = f"{m['target_cpu_pct']:.0f}%" if m["target_cpu_pct"] >= 0 else "-"
        lines.append(
            f"| {name} | {_k(m['requests'])} | {_k(m['success'])} | {m['rps']:,.0f} | "
            f"{m['avg_ms']:.2f} | {m['p95_ms']:.2f} | {m['p99_ms']:.2f} | {m['mbps']:.1f} | "
            f"{rel_s} | {_k(r.rps_min)}-{_k(r.rps_max)} | {r.errors_total} | {tcpu} |"
            + (f" {server_saw(r)} |" if logged else ""))
        if r.errors_total:
            kinds = ", ".join(f"{k} x{n}" for k, n in sorted(r.error_kinds.items()))
            notes.append(f"- {name}: {r.errors_total} errors ({kinds}); first: {r.error_example}")
        for n in r.notes:
            notes.append(f"- {name}: {n}")
        if r.protocol and r.protocol != r.expected:
            notes.append(f"- {name}: the client says its responses came over {r.protocol}, "
                         f"not {r.expected}")
        if r.protocol_verified is False:
            notes.append(f"- {name}: the server saw {server_saw(r)}, not {r.expected} only: "
                         "the row does not count for the targets")
    return "\n".join([f"### {scenario.title}", "", *lines, *([""] if notes else []), *notes])


def summary_json(s: Summary, rows: list[Summary]) -> dict[str, Any]:
    return {
        "library": s.client.library, "label": s.client.label, "mode": s.client.mode,
        "how": s.client.how, "status": s.status, "reason": s.reason, "version": s.version,
        "protocol": s.protocol, "expected_protocol": s.expected,
        "server_protocols": s.server_protocols, "server_connections": s.server_connections,
        "protocol_verified": s.protocol_verified, "ok_rounds": s.ok_rounds, "median": s.median,
        "rps_min": s.rps_min, "rps_max": s.rps_max, "relative_to_fasthttp": relative(s, rows),
        "errors_total": s.errors_total, "error_kinds": s.error_kinds,
        "error_example": s.error_example, "notes": s.notes,
        "rounds": [r.to_dict() for r in s.rounds],
    }


def write_json(path: str, doc: dict[str, Any], log: TextIO, who: str) -> None:
    with open(path, "w") as f:
        json.dump(doc, f, indent=2)
    log.write(f"{who}: wrote {path}\n")


def document(config: dict[str, Any], machine: dict[str, Any], versions: dict[str, str],
             scenarios: list[Scenario], table_rows: dict[str, list[Summary]],
             ts: list[Target]) -> dict[str, Any]:
    """Everything, for --json."""
    return {
        "config": config,
        "machine": machine,
        "versions": versions,
        "scenarios": [
            {"key": s.key, "title": s.title, "payload": s.payload, "url": s.url,
             "method": s.method, "body_size": s.body_size, "concurrency": s.concurrency,
             "clients": {r.client.id: summary_json(r, table_rows[s.key])
                         for r in table_rows[s.key]}}
            for s in scenarios
        ],
        "targets": [
            {"goal": t.goal, "scenario": t.scenario, "fasthttp": t.num, "peer": t.den,
             "ratio_min": t.ratio_min, "ratio": t.ratio, "per_round": t.per_round,
             "verdict": t.verdict, "peer_label": t.peer_label}
            for t in ts
        ],
    }
