"""Where fasthttp stands against its targets, evaluated on one run: every target
is a ratio of median req/s on 1 KiB of JSON over keep-alive, between rows of
the same run (DESIGN.md: never an absolute number).

Without --http2: DESIGN.md's Python targets (HTTP/1.1). With --http2 (issue 12):
fasthttp's asyncio face over HTTP/2 against the fastest Python peer over HTTP/2
and against its own HTTP/1.1 row, and DESIGN.md's "best face >= 1.2x the best
peer" cell for HTTP/2. A row counts as HTTP/2 only if the server saw all its
requests over HTTP/2 (or, without a server log, the client said so)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .report import Summary
from .runner import Scenario


@dataclass
class Target:
    """One target, evaluated on this run."""

    goal: str
    scenario: str  # scenario key it needs
    num: str  # client id of fasthttp's face
    den: str  # client id of the peer ("" when the peer is not measurable here)
    ratio_min: float
    ratio: float | None = None
    per_round: list[float] = field(default_factory=list)
    verdict: str = ""  # met | NOT met | not measured: why
    peer_label: str = ""  # the peer it was compared with, when chosen by the run


HTTP1_TARGETS = (
    ("Python async (asyncio, 64 concurrent): fasthttp >= 3x aiohttp", 64, "fasthttp-async",
     "aiohttp", 3.0),
    ("Python async (asyncio, 64 concurrent): fasthttp >= 2x the seed's pure-Python client "
     "(maxhttp)", 64, "fasthttp-async", "maxhttp-async", 2.0),
    ("Python sync sequential (concurrency 1): fasthttp >= 1.1x pycurl", 1, "fasthttp", "pycurl",
     1.1),
    ("Python sync sequential (concurrency 1): fasthttp >= 5x requests", 1, "fasthttp", "requests",
     5.0),
)

PEER_RATIO = 1.5  # issue 12: asyncio over HTTP/2 >= 1.5x the fastest Python peer over HTTP/2
BEST_RATIO = 1.2  # DESIGN.md: fasthttp's best face >= 1.2x the best peer, in every cell
OWN_H1_AT = 256  # issue 12: asyncio over HTTP/2 >= its own HTTP/1.1 figure at 256 concurrent


def _json_scenario(scenarios: list[Scenario], conc: int) -> Scenario | None:
    return next((s for s in scenarios if s.payload in ("json", "url") and s.method == "GET"
                 and s.body_size == 0 and s.concurrency == conc), None)


def _measure(t: Target, a: Summary | None, b: Summary | None) -> None:
    """Fills the ratio and the verdict of t from rows a (fasthttp) and b (peer)."""
    missing = [(cid, r) for cid, r in ((t.num, a), (t.den, b)) if r is None or r.status != "ok"]
    if missing:
        t.verdict = "not measured: " + "; ".join(
            f"{cid} {r.status + ': ' + r.reason if r else 'not selected'}" for cid, r in missing)
        return
    assert a is not None and b is not None
    t.ratio = a.rps / b.rps if b.rps > 0 else None
    t.per_round = [x.rps / y.rps for x, y in zip(a.rounds, b.rounds)
                   if x.status == y.status == "ok" and y.rps > 0]
    t.verdict = "met" if t.ratio is not None and t.ratio >= t.ratio_min else "NOT met"


def http1_targets(scenarios: list[Scenario], table_rows: dict[str, list[Summary]],
                  loop: str) -> list[Target]:
    out = []
    for goal, conc, num, den, want in HTTP1_TARGETS:
        sc = _json_scenario(scenarios, conc)
        t = Target(goal, sc.key if sc else "", num, den, want)
        out.append(t)
        if sc is None:
            t.verdict = f"not measured: run with --concurrency {conc} and the json payload"
        elif num == "fasthttp-async" and loop != "asyncio":
            t.verdict = "not measured: the target is for stock asyncio (run with --loop asyncio)"
        else:
            rows = {r.client.id: r for r in table_rows[sc.key]}
            _measure(t, rows.get(num), rows.get(den))
    return out


def is_http2(r: Summary) -> bool:
    """Measured, and over HTTP/2 only: by the server's log, else by the client's word."""
    if r.status != "ok":
        return False
    verified = r.protocol_verified
    return verified if verified is not None else r.protocol == "HTTP/2"


def _h2_versus(goal: str, sc: Scenario, rows: list[Summary], num_ids: list[str],
               want: float) -> Target:
    """fasthttp's fastest face among num_ids against the fastest peer over HTTP/2."""
    t = Target(goal, sc.key, num_ids[0], "", want)
    faces = [r for r in rows if r.client.id in num_ids and r.status == "ok"]
    if faces and not any(is_http2(r) for r in faces):
        t.verdict = f"not measured: {faces[0].label} did not use HTTP/2 only"
        return t
    faces = [r for r in faces if is_http2(r)]
    peers = [r for r in rows if r.client.library != "fasthttp" and is_http2(r)]
    a = max(faces, key=lambda r: r.rps, default=None)
    b = max(peers, key=lambda r: r.rps, default=None)
    t.num = a.client.id if a else num_ids[0]
    if b is None:
        t.verdict = "not measured: no Python peer ran over HTTP/2"
        return t
    t.den, t.peer_label = b.client.id, b.label
    _measure(t, a, b)
    return t


def http2_targets(scenarios: list[Scenario], table_rows: dict[str, list[Summary]],
                  loop: str) -> list[Target]:
    out: list[Target] = []
    concs = sorted({s.concurrency for s in scenarios if _json_scenario(scenarios, s.concurrency)})
    for conc in concs:
        sc = _json_scenario(scenarios, conc)
        assert sc is not None
        rows = table_rows[sc.key]
        goal = (f"Python asyncio over HTTP/2 ({conc} concurrent): fasthttp >= {PEER_RATIO}x "
                "the fastest Python peer over HTTP/2")
        t = _h2_versus(goal, sc, rows, ["fasthttp-async"], PEER_RATIO)
        if loop != "asyncio":
            t.ratio, t.verdict = None, "not measured: the target is for stock asyncio"
        out.append(t)
        goal = (f"HTTP/2 ({conc} concurrent): fasthttp's best face >= {BEST_RATIO}x the best "
                "peer (DESIGN.md)")
        out.append(_h2_versus(goal, sc, rows, ["fasthttp", "fasthttp-async"], BEST_RATIO))
    sc = _json_scenario(scenarios, OWN_H1_AT)
    t = Target(f"Python asyncio over HTTP/2 ({OWN_H1_AT} concurrent): fasthttp >= its own "
               "HTTP/1.1 figure", sc.key if sc else "", "fasthttp-async", "fasthttp-async-h1",
               1.0)
    out.append(t)
    if sc is None:
        t.verdict = f"not measured: run with --concurrency {OWN_H1_AT} and the json payload"
    elif loop != "asyncio":
        t.verdict = "not measured: the target is for stock asyncio"
    else:
        by_id = {r.client.id: r for r in table_rows[sc.key]}
        a, b = by_id.get(t.num), by_id.get(t.den)
        if a is not None and a.status == "ok" and not is_http2(a):
            t.verdict = f"not measured: {a.label} did not use HTTP/2 only"
        elif b is not None and b.status == "ok" and b.protocol_verified is False:
            t.verdict = f"not measured: {b.label} did not use HTTP/1.1 only"
        else:
            _measure(t, a, b)
    return out


def targets(scenarios: list[Scenario], table_rows: dict[str, list[Summary]], loop: str,
            http2: bool = False) -> list[Target]:
    return (http2_targets if http2 else http1_targets)(scenarios, table_rows, loop)


def targets_text(ts: list[Target], http2: bool = False) -> str:
    title = ("Where fasthttp stands against the HTTP/2 targets (issue 12, DESIGN.md)" if http2
             else "Where fasthttp stands against DESIGN.md's Python targets")
    lines = [f"### {title}", ""]
    for t in ts:
        peer = f" [{t.num} vs {t.den}]" if t.peer_label else ""
        if t.ratio is not None:
            rounds = ", ".join(f"{x:.2f}" for x in t.per_round)
            lines.append(f"- {t.goal}{peer}: **{t.ratio:.2f}x — {t.verdict}** "
                         f"(per round: {rounds})")
        else:
            lines.append(f"- {t.goal}{peer}: {t.verdict}")
    return "\n".join(lines)
