"""What the `fasthttp` logger costs a request when logging is off.

Counts the instructions of a loop of synchronous GETs against a local nginx
(fasthttp.bench.target) under callgrind, which counts the same whatever else
the machine does, in three set-ups of the same build:

  none      no logger handed to the C core (fasthttp._fasthttp._set_logger(None)):
            the response path does no logging work at all;
  off       the default: the `fasthttp` logger at WARNING (the root's level),
            the C core checks the level cache and writes nothing;
  info      logging.basicConfig(level=INFO) to /dev/null: a line per request.

Each is run for N1 and N2 requests and the difference divided by N2 - N1, so
start-up is left out. Prints instructions per request and "off" minus "none".

    .venv/bin/python scripts/bench-logging.py [N1 N2]
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile

from fasthttp.bench.target import NginxTarget

LOOP = r"""
import logging, sys
import fasthttp
mode, url, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
if mode == "none":
    fasthttp._fasthttp._set_logger(None)
elif mode == "info":
    logging.basicConfig(level=logging.INFO, stream=open("/dev/null", "w"))
with fasthttp.Client() as c:
    for _ in range(n):
        c.get(url)
"""


def instructions(script: str, mode: str, url: str, n: int) -> int:
    out = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
         sys.executable, script, mode, url, str(n)],
        capture_output=True, text=True, check=True)
    m = re.search(r"Collected : ([\d,]+)", out.stderr)
    if not m:
        raise RuntimeError(out.stderr[-2000:])
    return int(m.group(1).replace(",", ""))


def main() -> int:
    n1, n2 = (int(a) for a in sys.argv[1:3]) if len(sys.argv) > 2 else (2000, 6000)
    with NginxTarget([]) as target, tempfile.TemporaryDirectory() as d:
        script = os.path.join(d, "loop.py")
        with open(script, "w") as f:
            f.write(LOOP)
        url = target.url("/json")
        per = {}
        for mode in ("none", "off", "info"):
            a = instructions(script, mode, url, n1)
            b = instructions(script, mode, url, n2)
            per[mode] = (b - a) / (n2 - n1)
            print(f"{mode:5} {per[mode]:10,.0f} instructions per request")
        print(f"logging off costs {per['off'] - per['none']:,.0f} instructions per request "
              f"({(per['off'] - per['none']) / per['none'] * 100:.2f} %); "
              f"at INFO a line costs {per['info'] - per['none']:,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
