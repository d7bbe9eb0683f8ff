"""Medians over rounds, the tables (Markdown), where fasthttp stands against
DESIGN.md's Python targets, and the JSON document."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

from .clients import ClientInfo
from .config import RunResult
from .runner import Results, Scenario

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

    @property
    def rps(self) -> float:
        return self.median.get("rps", 0.0)


def summarize(c: ClientInfo, runs: list[RunResult]) -> Summary:
    ok = [r for r in runs if r.status == "ok"]
    bad = [r for r in runs if r.status != "ok"]
    s = Summary(client=c, status="ok" if ok else (bad[0].status if bad else "failed"),
                rounds=runs)
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


def summaries(clients: list[ClientInfo], scenarios: list[Scenario],
              results: Results) -> dict[str, list[Summary]]:
    return {s.key: [summarize(c, results.get((s.key, c.id), [])) for c in clients]
            for s in scenarios}


def reference(rows: list[Summary], mode: str) -> Summary | None:
    """The fasthttp face a client of `mode` is compared with, if it was measured."""
    for r in rows:
        if r.client.library == "fasthttp" and r.client.mode == mode and r.status == "ok":
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


def table(scenario: Scenario, rows: list[Summary], protocol: str = "HTTP/1.1") -> str:
    """The seed's table plus: vs fasthttp, req/s range over rounds, errors, the
    target's CPU. Notes below it: skips, failures, errors, and responses that
    came with another HTTP version than `protocol`."""
    head = ["Library", "Requests", "Success", "Req/s", "Avg Lat (ms)", "P95 Lat (ms)",
            "P99 Lat (ms)", "Mbps", "vs fasthttp", "Req/s range", "Errors", "nginx CPU"]
    align = ["---", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:",
             "---:", "---:"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(align) + "|"]
    notes: list[str] = []
    for r in rows:
        name = r.client.label
        if r.status != "ok":
            lines.append(f"| {name} | {r.status} | | | | | | | | | | |")
            notes.append(f"- {name}: {r.status}: {r.reason}")
            continue
        m = r.median
        rel = relative(r, rows)
        rel_s = f"{rel:.2f}x" if rel is not None else "n/a"
        tcpu = f"{m['target_cpu_pct']:.0f}%" if m["target_cpu_pct"] >= 0 else "-"
        lines.append(
            f"| {name} | {_k(m['requests'])} | {_k(m['success'])} | {m['rps']:,.0f} | "
            f"{m['avg_ms']:.2f} | {m['p95_ms']:.2f} | {m['p99_ms']:.2f} | {m['mbps']:.1f} | "
            f"{rel_s} | {_k(r.rps_min)}-{_k(r.rps_max)} | {r.errors_total} | {tcpu} |")
        if r.errors_total:
            kinds = ", ".join(f"{k} x{n}" for k, n in sorted(r.error_kinds.items()))
            notes.append(f"- {name}: {r.errors_total} errors ({kinds}); first: {r.error_example}")
        for n in r.notes:
            notes.append(f"- {name}: {n}")
        if r.protocol and r.protocol != protocol:
            notes.append(f"- {name}: responses came over {r.protocol}, not {protocol}")
    return "\n".join([f"### {scenario.title}", "", *lines, *([""] if notes else []), *notes])


@dataclass
class Target:
    """One of DESIGN.md's Python targets, evaluated on this run."""

    goal: str
    scenario: str  # scenario key it needs
    num: str  # client id of fasthttp's face
    den: str  # client id of the peer ("" when the peer is not measurable here)
    ratio_min: float
    ratio: float | None = None
    per_round: list[float] = field(default_factory=list)
    verdict: str = ""  # met | NOT met | not measured: why


TARGETS = (
    ("Python async (asyncio, 64 concurrent): fasthttp >= 3x aiohttp", 64, "fasthttp-async",
     "aiohttp", 3.0),
    ("Python async (asyncio, 64 concurrent): fasthttp >= 2x the seed's pure-Python client", 64,
     "fasthttp-async", "", 2.0),
    ("Python sync sequential (concurrency 1): fasthttp >= 1.1x pycurl", 1, "fasthttp", "pycurl",
     1.1),
    ("Python sync sequential (concurrency 1): fasthttp >= 5x requests", 1, "fasthttp", "requests",
     5.0),
)


def targets(scenarios: list[Scenario], table_rows: dict[str, list[Summary]],
            loop: str) -> list[Target]:
    """DESIGN.md's targets are ratios of req/s on 1 KiB JSON over keep-alive."""
    out = []
    for goal, conc, num, den, want in TARGETS:
        sc = next((s for s in scenarios if s.payload in ("json", "url") and s.method == "GET"
                   and s.body_size == 0 and s.concurrency == conc), None)
        t = Target(goal, sc.key if sc else "", num, den, want)
        out.append(t)
        if not den:
            t.verdict = ("not measured: the seed's original pure-Python client is not part of "
                         "this benchmark (not installed here)")
            continue
        if sc is None:
            t.verdict = f"not measured: run with --concurrency {conc} and the json payload"
            continue
        if num == "fasthttp-async" and loop != "asyncio":
            t.verdict = "not measured: the target is for stock asyncio (run with --loop asyncio)"
            continue
        rows = {r.client.id: r for r in table_rows[sc.key]}
        a, b = rows.get(num), rows.get(den)
        missing = [(cid, r) for cid, r in ((num, a), (den, b)) if r is None or r.status != "ok"]
        if missing:
            why = "; ".join(f"{cid} {r.status + ': ' + r.reason if r else 'not selected'}"
                            for cid, r in missing)
            t.verdict = f"not measured: {why}"
            continue
        assert a is not None and b is not None
        t.ratio = a.rps / b.rps if b.rps > 0 else None
        t.per_round = [x.rps / y.rps for x, y in zip(a.rounds, b.rounds)
                       if x.status == y.status == "ok" and y.rps > 0]
        t.verdict = "met" if t.ratio is not None and t.ratio >= want else "NOT met"
    return out


def targets_text(ts: list[Target]) -> str:
    lines = ["### Where fasthttp stands against DESIGN.md's Python targets", ""]
    for t in ts:
        if t.ratio is not None:
            rounds = ", ".join(f"{x:.2f}" for x in t.per_round)
            lines.append(f"- {t.goal}: **{t.ratio:.2f}x — {t.verdict}** (per round: {rounds})")
        else:
            lines.append(f"- {t.goal}: {t.verdict}")
    return "\n".join(lines)


def summary_json(s: Summary, rows: list[Summary]) -> dict[str, Any]:
    return {
        "library": s.client.library, "label": s.client.label, "mode": s.client.mode,
        "how": s.client.how, "status": s.status, "reason": s.reason, "version": s.version,
        "protocol": s.protocol, "ok_rounds": s.ok_rounds, "median": s.median,
        "rps_min": s.rps_min, "rps_max": s.rps_max, "relative_to_fasthttp": relative(s, rows),
        "errors_total": s.errors_total, "error_kinds": s.error_kinds,
        "error_example": s.error_example, "notes": s.notes,
        "rounds": [r.to_dict() for r in s.rounds],
    }


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
             "verdict": t.verdict}
            for t in ts
        ],
    }
