"""Drives the Autobahn|Testsuite fuzzing server with fasthttp's WebSocket clients.

Run by scripts/autobahn.sh (which starts the server on 127.0.0.1); usable alone:

    python scripts/autobahn.py --url ws://127.0.0.1:9001 --client c --fh build/release/fh
    python scripts/autobahn.py --url ws://127.0.0.1:9001 --client python
    python scripts/autobahn.py --report build/autobahn/reports --agent fasthttp-c

The C client is `fh ws --echo` (one process per case); the Python client is
fasthttp.WebSocket on asyncio. Each case: /runCase?case=N&agent=A, every message
echoed with its type until the server closes. Then /updateReports, and the
per-group counts of OK / NON-STRICT / INFORMATIONAL / FAILED (and UNIMPLEMENTED)
are printed from the server's index.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from collections import Counter, defaultdict

PASS = ("OK", "NON-STRICT", "INFORMATIONAL")


def case_count_c(fh: str, url: str) -> int:
    out = subprocess.run(
        [fh, "ws", "--no-input", f"{url}/getCaseCount"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    return int(out.stdout.strip() or 0)


def run_c(fh: str, url: str, agent: str, n: int) -> None:
    # Without --compressed fh ws offers no extension; the cases of groups 12
    # and 13 need permessage-deflate offered, as the Python client does.
    subprocess.run(
        [fh, "ws", "--echo", "--compressed", "--max-message", str(64 << 20),
         f"{url}/runCase?case={n}&agent={agent}"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        timeout=300, check=False,
    )


def update_c(fh: str, url: str, agent: str) -> None:
    subprocess.run([fh, "ws", "--no-input", f"{url}/updateReports?agent={agent}"],
                   capture_output=True, timeout=300, check=False)


async def _py_echo(url: str) -> None:
    from fasthttp import WebSocket
    from fasthttp.errors import WebSocketError

    try:
        async with WebSocket.connect(url) as ws:
            async for msg in ws:
                if isinstance(msg, str):
                    await ws.send_text(msg)
                else:
                    await ws.send_bytes(msg)
    except WebSocketError:
        pass


async def _py_text(url: str) -> str:
    from fasthttp import WebSocket
    from fasthttp.errors import WebSocketError

    try:
        async with WebSocket.connect(url) as ws:
            return str(await ws.recv())
    except WebSocketError:
        return "0"


def run_python(url: str, agent: str, count: int, first: int) -> None:
    for n in range(first, count + 1):
        asyncio.run(_py_echo(f"{url}/runCase?case={n}&agent={agent}"))
    asyncio.run(_py_echo(f"{url}/updateReports?agent={agent}"))


def report(outdir: str, agent: str) -> int:
    with open(os.path.join(outdir, "index.json")) as f:
        index = json.load(f)
    cases = index.get(agent, {})
    groups: dict[str, Counter[str]] = defaultdict(Counter)
    for case_id, res in cases.items():
        groups[case_id.split(".")[0]][res["behavior"]] += 1
    cols = ["OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED"]
    print(f"\nAutobahn|Testsuite results for {agent} ({len(cases)} cases)")
    print(f"{'group':>6} " + " ".join(f"{c:>13}" for c in cols))
    total: Counter[str] = Counter()
    for g in sorted(groups, key=int):
        print(f"{g:>6} " + " ".join(f"{groups[g][c]:>13}" for c in cols))
        total.update(groups[g])
    print(f"{'all':>6} " + " ".join(f"{total[c]:>13}" for c in cols))
    bad = [k for k, v in cases.items() if v["behavior"] not in PASS]
    if bad:
        print("not passed:", ", ".join(sorted(bad, key=lambda s: [int(x) for x in s.split(".")])))
    return 1 if bad or not cases else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default="ws://127.0.0.1:9001")
    ap.add_argument("--client", choices=["c", "python"])
    ap.add_argument("--fh", default="build/release/fh")
    ap.add_argument("--agent")
    ap.add_argument("--report", help="the server's outdir: print the per-group counts")
    args = ap.parse_args()
    agent = args.agent or (f"fasthttp-{args.client}" if args.client else "fasthttp-c")
    if args.client:
        t0 = time.monotonic()
        if args.client == "c":
            count = case_count_c(args.fh, args.url)
            for n in range(1, count + 1):
                run_c(args.fh, args.url, agent, n)
            update_c(args.fh, args.url, agent)
        else:
            count = int(asyncio.run(_py_text(f"{args.url}/getCaseCount")))
            run_python(args.url, agent, count, 1)
        print(f"{agent}: {count} cases in {time.monotonic() - t0:.0f} s", flush=True)
        if count == 0:
            print("the fuzzing server reported no case", file=sys.stderr)
            return 1
    if args.report:
        return report(args.report, agent)
    return 0


if __name__ == "__main__":
    sys.exit(main())
