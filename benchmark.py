#!/usr/bin/env python3
"""fasthttp against other Python HTTP clients: a thin launcher for
``python -m fasthttp.bench`` (see --help, and README.md, "Benchmark").

Needs the package installed with its dev extras (``pip install -e .[dev]``);
``bash scripts/bench.sh`` does that and runs the default comparison.
"""

from __future__ import annotations

import sys

try:
    from fasthttp.bench.cli import main
except ImportError as e:  # not installed: say how
    sys.exit(f"benchmark.py: cannot import fasthttp.bench ({e}); install the package first: "
             "pip install -e .[dev]  (or run: bash scripts/bench.sh)")

if __name__ == "__main__":
    sys.exit(main())
