"""fasthttp's Python benchmark: fasthttp against its peers on an embedded nginx.

Run it as ``python -m fasthttp.bench`` (or ``python benchmark.py`` from a
clone); ``--help`` lists the flags. Every run of a client is a process of its
own (``python -m fasthttp.bench.worker``); rounds are interleaved and the
tables show medians. See README.md, section "Benchmark".
"""

from __future__ import annotations

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """The command line (fasthttp.bench.cli.main)."""
    from .cli import main as cli_main

    return cli_main(argv)
